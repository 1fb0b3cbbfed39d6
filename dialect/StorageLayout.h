//===- StorageLayout.h - storage buffers of each sparse_enc layout --------===//
//
// One place says which flat buffers hold a layout, in which order and with
// which element type. The Python golden encoders (mcusparse.formats) use the
// same names; docs/formats.md gives the byte layout of each buffer.
//
//===----------------------------------------------------------------------===//

#ifndef MCUSPARSE_DIALECT_STORAGELAYOUT_H
#define MCUSPARSE_DIALECT_STORAGELAYOUT_H

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

namespace mcusparse::sparse_enc {

struct StorageBuffer {
  llvm::StringRef name;
  mlir::Type elementType;
};

/// True if `type` is a ranked tensor with a sparse_enc encoding.
bool hasSparseEncoding(mlir::Type type);

/// The storage buffers of an encoded tensor type, in `sparse_enc.assemble`
/// operand order. Empty if the type carries no sparse_enc encoding.
llvm::SmallVector<StorageBuffer> getStorageBuffers(mlir::RankedTensorType type);

/// Column index type of #sparse_enc.gs: 8 bits reach 256 columns, wider
/// (or dynamic) rows take 16 bits.
mlir::IntegerType getGSIndexType(mlir::MLIRContext *ctx, int64_t cols);

/// The short format name used on the command line and in Python ("csr",
/// "dcsr", "nm", "gs").
llvm::StringRef getFormatName(mlir::Attribute encoding);

} // namespace mcusparse::sparse_enc

#endif // MCUSPARSE_DIALECT_STORAGELAYOUT_H
