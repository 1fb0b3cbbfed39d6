//===- StorageLayout.cpp - storage buffers of each sparse_enc layout ------===//

#include "dialect/StorageLayout.h"
#include "dialect/SparseEncDialect.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mcusparse::sparse_enc;

bool mcusparse::sparse_enc::hasSparseEncoding(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.getEncoding() &&
         isa<SparseEncDialect>(tensor.getEncoding().getDialect());
}

SmallVector<StorageBuffer>
mcusparse::sparse_enc::getStorageBuffers(RankedTensorType type) {
  MLIRContext *ctx = type.getContext();
  Type values = type.getElementType();
  auto i8 = IntegerType::get(ctx, 8);
  auto i16 = IntegerType::get(ctx, 16);
  auto i32 = IntegerType::get(ctx, 32);
  (void)i32;
  return llvm::TypeSwitch<Attribute, SmallVector<StorageBuffer>>(
             type.getEncoding())
      .Case([&](CSRAttr csr) -> SmallVector<StorageBuffer> {
        return {{"values", values},
                {"col_idx", IntegerType::get(ctx, csr.getCrdBits())},
                {"row_ptr", IntegerType::get(ctx, csr.getPosBits())}};
      })
      .Case([&](DCSRAttr) -> SmallVector<StorageBuffer> {
        return {{"values", values},  {"minimums", i8},
                {"nibbles", i8},     {"ext_map", i8},
                {"ext_masks", i16},  {"row_offsets", i16},
                {"nnz", i32}};
      })
      .Case([&](NMAttr) -> SmallVector<StorageBuffer> {
        return {{"values", values}, {"offsets", i8}};
      })
      .Case([&](GSAttr) -> SmallVector<StorageBuffer> {
        return {{"values", values},
                {"col_idx", getGSIndexType(ctx, type.getDimSize(1))},
                {"counts", i16}};
      })
      .Default([](Attribute) { return SmallVector<StorageBuffer>(); });
}

IntegerType mcusparse::sparse_enc::getGSIndexType(MLIRContext *ctx,
                                                  int64_t cols) {
  bool narrow = !ShapedType::isDynamic(cols) && cols <= 256;
  return IntegerType::get(ctx, narrow ? 8 : 16);
}

StringRef mcusparse::sparse_enc::getFormatName(Attribute encoding) {
  return llvm::TypeSwitch<Attribute, StringRef>(encoding)
      .Case([](CSRAttr) { return "csr"; })
      .Case([](DCSRAttr) { return "dcsr"; })
      .Case([](NMAttr) { return "nm"; })
      .Case([](GSAttr) { return "gs"; })
      .Default([](Attribute) { return ""; });
}
