//===- Packing.h - compile-time encoders of the sparse_enc layouts --------===//
//
// Each layout has one encoder, the C++ twin of its golden Python encoder in
// python/mcusparse/formats/. Both must produce identical bytes: pytest
// compares them on random matrices.
//
//===----------------------------------------------------------------------===//

#ifndef MCUSPARSE_PASSES_PACK_PACKING_H
#define MCUSPARSE_PASSES_PACK_PACKING_H

#include "dialect/SparseEncDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"

#include <cstdint>
#include <vector>

namespace mcusparse::pack {

using EmitErrorFn = llvm::function_ref<mlir::InFlightDiagnostic()>;

/// A constant weight matrix, element bit patterns in row-major order.
class WeightMatrix {
public:
  static WeightMatrix fromAttr(mlir::DenseElementsAttr attr);

  int64_t rows() const { return numRows; }
  int64_t cols() const { return numCols; }
  mlir::Type elementType() const { return type; }
  uint64_t bits(int64_t row, int64_t col) const {
    return elements[row * numCols + col];
  }
  /// Zero as numpy's `W != 0` sees it (so -0.0 is zero too).
  bool isZero(int64_t row, int64_t col) const;

private:
  int64_t numRows = 0, numCols = 0;
  mlir::Type type;
  std::vector<uint64_t> elements;
};

/// One storage buffer: its name in the layout, element type and contents
/// (bit patterns for values, plain integers for metadata).
struct PackedBuffer {
  llvm::StringRef name;
  mlir::Type elementType;
  std::vector<uint64_t> data;

  /// The buffer as a 1-D dense constant.
  mlir::DenseElementsAttr toAttr() const;
};

using PackResult = mlir::FailureOr<llvm::SmallVector<PackedBuffer>>;

PackResult packCSR(const WeightMatrix &weights, sparse_enc::CSRAttr layout,
                   EmitErrorFn emitError);

PackResult packDCSR(const WeightMatrix &weights, sparse_enc::DCSRAttr layout,
                    EmitErrorFn emitError);

PackResult packNM(const WeightMatrix &weights, sparse_enc::NMAttr layout,
                  EmitErrorFn emitError);

PackResult packGS(const WeightMatrix &weights, sparse_enc::GSAttr layout,
                  EmitErrorFn emitError);

/// CSE-CSR takes the buffers its Python search found (`provided`, the
/// constant's sparse_enc.buffers) after checking that they decode to the
/// weights.
PackResult packCSECSR(const WeightMatrix &weights, mlir::RankedTensorType type,
                      mlir::DictionaryAttr provided, EmitErrorFn emitError);

} // namespace mcusparse::pack

#endif // MCUSPARSE_PASSES_PACK_PACKING_H
