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
  return llvm::TypeSwitch<Attribute, SmallVector<StorageBuffer>>(
             type.getEncoding())
      .Case([&](CSRAttr csr) -> SmallVector<StorageBuffer> {
        return {{"values", values},
                {"col_idx", IntegerType::get(ctx, csr.getCrdBits())},
                {"row_ptr", IntegerType::get(ctx, csr.getPosBits())}};
      })
      .Case([&](DCSRAttr dcsr) -> SmallVector<StorageBuffer> {
        if (dcsr.getDeltaBits() == 8)
          return {{"values", values},       {"delta_bytes", i8},
                  {"group_minimums", i8},   {"row_offsets", i16},
                  {"nnz", i32}};
        // One extension mask bit per lane: 16 lanes need 16 bits.
        Type mask = dcsr.getGroup() == 16 ? i16 : i8;
        return {{"values", values},         {"delta_nibbles", i8},
                {"group_minimums", i8},     {"extension_maps", i8},
                {"extension_masks", mask},  {"row_offsets", i16},
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
      .Case([&](CSECSRAttr cse) -> SmallVector<StorageBuffer> {
        return {{"values", values},
                {"col_idx", i16},
                {"row_ptr", IntegerType::get(ctx, cse.getPosBits())},
                {"sub_operands", i16},
                {"sub_values", values}};
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
      .Case([](CSECSRAttr) { return "cse_csr"; })
      .Default([](Attribute) { return ""; });
}
