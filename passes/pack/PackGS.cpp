//===- PackGS.cpp - load-balanced gather-scatter groups -------------------===//
//
// Rows form groups of `lanes` (the last one padded with empty lanes). Group g
// runs counts[g] = the most nonzeros of any of its rows steps; step k holds
// entry k of every lane (ascending columns within a lane), and lanes that ran
// out hold a zero value at column 0. `values` and `col_idx` are stored group
// by group, step by step, lane by lane (docs/formats.md).
//
//===----------------------------------------------------------------------===//

#include "dialect/StorageLayout.h"
#include "passes/pack/Packing.h"

using namespace mlir;
using namespace mcusparse::pack;

PackResult mcusparse::pack::packGS(const WeightMatrix &weights,
                                   sparse_enc::GSAttr layout,
                                   EmitErrorFn emitError) {
  MLIRContext *ctx = layout.getContext();
  const int64_t lanes = layout.getLanes();
  const int64_t groups = (weights.rows() + lanes - 1) / lanes;
  if (weights.cols() > 65536)
    return emitError() << "#sparse_enc.gs: " << weights.cols()
                       << " columns do not fit 16-bit column indices";

  PackedBuffer values{"values", weights.elementType(), {}};
  PackedBuffer colIdx{"col_idx",
                      sparse_enc::getGSIndexType(ctx, weights.cols()), {}};
  PackedBuffer counts{"counts", IntegerType::get(ctx, 16), {}};
  for (int64_t group = 0; group < groups; ++group) {
    // Columns of each lane's nonzeros, ascending.
    std::vector<std::vector<int64_t>> laneCols(lanes);
    size_t steps = 0;
    for (int64_t lane = 0; lane < lanes; ++lane) {
      int64_t row = group * lanes + lane;
      if (row >= weights.rows())
        break;
      for (int64_t col = 0; col < weights.cols(); ++col)
        if (!weights.isZero(row, col))
          laneCols[lane].push_back(col);
      steps = std::max(steps, laneCols[lane].size());
    }
    counts.data.push_back(steps);
    for (size_t step = 0; step < steps; ++step) {
      for (int64_t lane = 0; lane < lanes; ++lane) {
        bool padding = step >= laneCols[lane].size();
        int64_t col = padding ? 0 : laneCols[lane][step];
        values.data.push_back(
            padding ? 0 : weights.bits(group * lanes + lane, col));
        colIdx.data.push_back(col);
      }
    }
  }
  return SmallVector<PackedBuffer>{values, colIdx, counts};
}
