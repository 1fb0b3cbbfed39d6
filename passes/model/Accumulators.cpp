//===- Accumulators.cpp - int32 layer results that can be tiled -----------===//

#include "passes/model/Accumulators.h"

#include "passes/Passes.h"
#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using mcusparse::Accumulator;

namespace {

/// The weight is a constant the front end tagged with its layer, or an
/// expand_shape of one.
bool isLayerWeight(Value v) {
  if (auto expand = v.getDefiningOp<tensor::ExpandShapeOp>())
    v = expand.getSrc();
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  return cst && cst->hasAttr(mcusparse::kLayerAttr);
}

/// The channel axis of a layer's result, if it is a layer this pass tiles.
std::optional<int64_t> layerChannelAxis(linalg::LinalgOp layer) {
  if (!layer.hasPureTensorSemantics() || layer->getNumResults() != 1 ||
      !layer.getDpsInits()[0].getDefiningOp<linalg::FillOp>())
    return std::nullopt;
  auto type = cast<RankedTensorType>(layer->getResult(0).getType());
  if (!type.hasStaticShape())
    return std::nullopt;
  if (auto matmul = dyn_cast<linalg::MatmulOp>(layer.getOperation()))
    return mcusparse::lower::isTransposedWeightMatmul(matmul) &&
                   isLayerWeight(matmul.getDpsInputs()[1])
               ? std::optional<int64_t>(1)
               : std::nullopt;
  // A depthwise convolution: [N, H, W, C, 1] from a tagged weight.
  if (!isa<linalg::GenericOp>(layer.getOperation()) || type.getRank() != 5 ||
      type.getDimSize(4) != 1 ||
      !llvm::any_of(layer.getDpsInputs(), isLayerWeight))
    return std::nullopt;
  return 3;
}

} // namespace

std::optional<Accumulator> mcusparse::findAccumulator(linalg::LinalgOp layer) {
  std::optional<int64_t> axis = layerChannelAxis(layer);
  if (!axis)
    return std::nullopt;
  int64_t channels =
      cast<RankedTensorType>(layer->getResult(0).getType()).getDimSize(*axis);
  Accumulator acc{layer, *axis, {}, {}};
  Value v = layer->getResult(0);
  while (v.hasOneUse()) {
    Operation *user = *v.getUsers().begin();
    if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(user)) {
      acc.reshapes.push_back(user);
      v = user->getResult(0);
      continue;
    }
    auto generic = dyn_cast<linalg::GenericOp>(user);
    if (!generic || generic.getNumDpsInits() != 1 ||
        generic.getNumParallelLoops() != generic.getNumLoops() ||
        !generic.hasPureTensorSemantics() ||
        !generic.getBody()->getOps<linalg::IndexOp>().empty())
      return std::nullopt;
    auto shape = cast<RankedTensorType>(v.getType()).getShape();
    if (shape.empty() || shape.back() != channels)
      return std::nullopt;
    unsigned rank = generic.getNumLoops();
    AffineExpr channel = getAffineDimExpr(rank - 1, generic.getContext());
    for (OpOperand &operand : generic->getOpOperands()) {
      AffineMap map = generic.getMatchingIndexingMap(&operand);
      bool isAccumulator = operand.get() == v;
      if (isAccumulator || generic.isDpsInit(&operand)) {
        // The accumulator and the result: every pixel, in order.
        if (!map.isIdentity())
          return std::nullopt;
        if (generic.isDpsInit(&operand) &&
            !operand.get().getDefiningOp<tensor::EmptyOp>())
          return std::nullopt;
        continue;
      }
      // Anything else per channel (bias, multipliers, shifts).
      if (map.getNumResults() != 1 || map.getResult(0) != channel)
        return std::nullopt;
    }
    acc.consumer = generic;
    return acc;
  }
  return std::nullopt;
}

/// Pixels per tile: the largest divisor of `pixels` not above `limit` (so
/// every tile has the same static shape).
static int64_t tilePixels(int64_t pixels, int64_t limit) {
  for (int64_t t = std::min(pixels, limit); t > 1; --t)
    if (pixels % t == 0)
      return t;
  return 1;
}

std::pair<unsigned, int64_t> mcusparse::accumulatorTile(const Accumulator &acc,
                                                        int64_t pixels) {
  auto shape =
      cast<RankedTensorType>(acc.layer->getResult(0).getType()).getShape();
  unsigned tiled = acc.channelAxis == 1 ? 0 : 1;
  int64_t rowPixels = acc.channelAxis == 1 ? 1 : shape[2];
  return {tiled,
          tilePixels(shape[tiled], std::max<int64_t>(1, pixels / rowPixels))};
}
