//===- PackCSR.cpp - compressed sparse rows --------------------------------===//
//
// values[k], col_idx[k] for the nonzeros in row-major order; row_ptr[r] is the
// index of row r's first nonzero (rows + 1 entries).
//
//===----------------------------------------------------------------------===//

#include "passes/pack/Packing.h"

using namespace mlir;
using namespace mcusparse::pack;

PackResult mcusparse::pack::packCSR(const WeightMatrix &weights,
                                    sparse_enc::CSRAttr layout,
                                    EmitErrorFn emitError) {
  MLIRContext *ctx = layout.getContext();
  PackedBuffer values{"values", weights.elementType(), {}};
  PackedBuffer colIdx{"col_idx", IntegerType::get(ctx, layout.getCrdBits()), {}};
  PackedBuffer rowPtr{"row_ptr", IntegerType::get(ctx, layout.getPosBits()), {}};
  rowPtr.data.push_back(0);
  for (int64_t row = 0; row < weights.rows(); ++row) {
    for (int64_t col = 0; col < weights.cols(); ++col) {
      if (weights.isZero(row, col))
        continue;
      values.data.push_back(weights.bits(row, col));
      colIdx.data.push_back(col);
    }
    rowPtr.data.push_back(values.data.size());
  }
  uint64_t maxPos = layout.getPosBits() >= 64
                        ? UINT64_MAX
                        : (uint64_t(1) << layout.getPosBits()) - 1;
  if (values.data.size() > maxPos)
    return emitError() << "#sparse_enc.csr: " << values.data.size()
                       << " nonzeros do not fit pos_bits = "
                       << layout.getPosBits();
  return SmallVector<PackedBuffer>{values, colIdx, rowPtr};
}
