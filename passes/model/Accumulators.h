//===- Accumulators.h - int32 layer results that can be tiled -------------===//
//
// Shared by sparse-enc-tile-accumulators, which tiles them, and
// sparse-enc-partial-execution, whose arena estimate counts a tiled one as
// one tile.
//
//===----------------------------------------------------------------------===//

#ifndef MCUSPARSE_PASSES_MODEL_ACCUMULATORS_H
#define MCUSPARSE_PASSES_MODEL_ACCUMULATORS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mcusparse {

/// A layer's int32 result, from a zero fill, that through reshapes keeping
/// the channels innermost is read only by an elementwise generic reading
/// everything else per channel. The layer is a matmul X[P, K] x W[O, K]^T
/// (result [P, O], channels on axis 1) or a depthwise convolution generic
/// (result [N, H, W, C, 1], channels on axis 3).
struct Accumulator {
  mlir::linalg::LinalgOp layer;
  int64_t channelAxis = 0;
  llvm::SmallVector<mlir::Operation *> reshapes;
  mlir::linalg::GenericOp consumer;
};

std::optional<Accumulator> findAccumulator(mlir::linalg::LinalgOp layer);

/// The axis of the layer's result that is tiled (matmul: pixels, axis 0;
/// depthwise: rows, axis 1) and the tile along it: the most that divides
/// the axis with at most `pixels` pixels per tile (every tile has the same
/// static shape).
std::pair<unsigned, int64_t> accumulatorTile(const Accumulator &acc,
                                             int64_t pixels);

} // namespace mcusparse

#endif // MCUSPARSE_PASSES_MODEL_ACCUMULATORS_H
