//===- TileAccumulators.cpp - int32 layer results in pixel tiles ----------===//
//
// A convolution's int32 result lives whole only to be requantised to int8
// right after: for MobileNetV2's block 1 expansion that is 884,736 bytes
// for a 221,184-byte int8 activation. The pass computes such a layer and
// the elementwise op that consumes it a tile of pixels at a time (upstream
// tile-and-fuse over the TilingInterface), so the int32 buffer is one tile:
// the requantisation is rewritten on the layer's own shape (the front end
// reaches it through reshapes), tiled along the pixels of a matmul or the
// output rows of a depthwise convolution, and the layer with its zero fill
// fused into the loop. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/model/Accumulators.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/TilingInterfaceImpl.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

#include <numeric>

namespace mcusparse {
#define GEN_PASS_DEF_SPARSEENCTILEACCUMULATORS
#include "passes/Passes.h.inc"
} // namespace mcusparse

using namespace mlir;

using mcusparse::Accumulator;
using mcusparse::accumulatorTile;
using mcusparse::findAccumulator;

namespace {

/// The consumer rewritten on the layer's [P, O] result, its result
/// reshaped back to the original type. Returns the new generic.
linalg::GenericOp onLayerShape(RewriterBase &rewriter, const Accumulator &acc) {
  linalg::GenericOp old = acc.consumer;
  Value layerResult = acc.layer->getResult(0);
  auto layerType = cast<RankedTensorType>(layerResult.getType());
  Value chainValue =
      acc.reshapes.empty() ? layerResult : acc.reshapes.back()->getResult(0);
  MLIRContext *ctx = rewriter.getContext();
  Location loc = old.getLoc();
  rewriter.setInsertionPoint(old);

  auto outType = RankedTensorType::get(
      layerType.getShape(),
      cast<RankedTensorType>(old->getResult(0).getType()).getElementType());
  Value init = tensor::EmptyOp::create(rewriter, loc, outType.getShape(),
                                       outType.getElementType());
  unsigned rank = layerType.getRank();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap perChannel =
      AffineMap::get(rank, 0, getAffineDimExpr(acc.channelAxis, ctx));
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  for (Value in : old.getDpsInputs()) {
    bool isAccumulator = in == chainValue;
    inputs.push_back(isAccumulator ? layerResult : in);
    maps.push_back(isAccumulator ? identity : perChannel);
  }
  maps.push_back(identity);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{outType}, inputs, ValueRange{init}, maps,
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel));
  IRMapping mapping;
  old.getRegion().cloneInto(&generic.getRegion(), mapping);

  // Back to the consumer's type, the way the front ends reshape.
  auto oldType = cast<RankedTensorType>(old->getResult(0).getType());
  ReassociationIndices allDims(rank);
  std::iota(allDims.begin(), allDims.end(), 0);
  Value flat = tensor::CollapseShapeOp::create(
      rewriter, loc, generic->getResult(0),
      SmallVector<ReassociationIndices>{allDims});
  Value back = flat;
  if (oldType.getRank() > 1) {
    ReassociationIndices all(oldType.getRank());
    std::iota(all.begin(), all.end(), 0);
    back = tensor::ExpandShapeOp::create(
        rewriter, loc, oldType, flat, SmallVector<ReassociationIndices>{all});
  }
  Operation *oldInit = old.getDpsInits()[0].getDefiningOp();
  rewriter.replaceOp(old, back);
  if (oldInit->use_empty())
    rewriter.eraseOp(oldInit);
  return generic;
}

/// What tile-and-fuse leaves in the loop that later passes must not see:
/// slices nothing reads, slices of a tensor.empty (a fresh tile-sized empty
/// instead, or bufferization would allocate the whole accumulator), and
/// whole-tensor slices of the weight (pack-constants wants the constant).
void cleanUp(RewriterBase &rewriter, Operation *loop) {
  SmallVector<tensor::ExtractSliceOp> slices;
  loop->walk([&](tensor::ExtractSliceOp s) { slices.push_back(s); });
  for (tensor::ExtractSliceOp slice : llvm::reverse(slices)) {
    RankedTensorType type = slice.getResultType();
    if (slice->use_empty()) {
      rewriter.eraseOp(slice);
    } else if (slice.getSource().getDefiningOp<tensor::EmptyOp>()) {
      rewriter.setInsertionPoint(slice);
      rewriter.replaceOpWithNewOp<tensor::EmptyOp>(slice, type.getShape(),
                                                   type.getElementType());
    } else if (slice.getSourceType() == type &&
               llvm::all_of(slice.getMixedOffsets(), isZeroInteger) &&
               llvm::all_of(slice.getMixedStrides(), isOneInteger)) {
      rewriter.replaceOp(slice, slice.getSource());
    }
  }
}

/// A depthwise tile's requantisation runs on [N, rows, W, C, 1]; the
/// vector loops of sparse-enc-vectorize-elementwise walk the innermost
/// axis, so the generic is rewritten on [N, rows, W, C] (collapsed views of
/// its accumulator and result tiles) with the channels innermost.
void dropUnitTail(RewriterBase &rewriter, linalg::GenericOp tiled) {
  MLIRContext *ctx = rewriter.getContext();
  Location loc = tiled.getLoc();
  rewriter.setInsertionPoint(tiled);
  SmallVector<ReassociationIndices> dropLast = {{0}, {1}, {2}, {3, 4}};
  AffineMap identity = AffineMap::getMultiDimIdentityMap(4, ctx);
  AffineMap perChannel = AffineMap::get(4, 0, getAffineDimExpr(3, ctx));
  auto collapse = [&](Value v) -> Value {
    return tensor::CollapseShapeOp::create(rewriter, loc, v, dropLast);
  };
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  for (OpOperand *in : tiled.getDpsInputOperands()) {
    bool whole = tiled.getMatchingIndexingMap(in).getNumResults() == 5;
    inputs.push_back(whole ? collapse(in->get()) : in->get());
    maps.push_back(whole ? identity : perChannel);
  }
  maps.push_back(identity);
  Value init = collapse(tiled.getDpsInits()[0]);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel));
  IRMapping mapping;
  tiled.getRegion().cloneInto(&generic.getRegion(), mapping);
  Value back = tensor::ExpandShapeOp::create(rewriter, loc,
                                             tiled->getResult(0).getType(),
                                             generic->getResult(0), dropLast);
  rewriter.replaceOp(tiled, back);
}

struct TileAccumulatorsPass
    : public mcusparse::impl::SparseEncTileAccumulatorsBase<
          TileAccumulatorsPass> {
  using Base::Base;

  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    linalg::registerTilingInterfaceExternalModels(registry);
  }

  void runOnOperation() override {
    if (pixels < 0) {
      emitError(getOperation().getLoc())
          << "sparse-enc-tile-accumulators: pixels must be 0 (off) or "
             "positive, got "
          << pixels.getValue();
      return signalPassFailure();
    }
    if (pixels == 0)
      return;
    SmallVector<Accumulator> found;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (std::optional<Accumulator> acc = findAccumulator(op))
        found.push_back(*acc);
    });
    IRRewriter rewriter(&getContext());
    for (Accumulator &acc : found) {
      // Matmuls in tiles of pixels; depthwise layers [N, H, W, C, 1] in
      // tiles of whole rows (the rows of a tile read their input rows
      // through the convolution's own index maps).
      auto shape =
          cast<RankedTensorType>(acc.layer->getResult(0).getType()).getShape();
      auto [tiled, tile] = accumulatorTile(acc, pixels);
      if (tile >= shape[tiled])
        continue;
      linalg::GenericOp consumer = onLayerShape(rewriter, acc);
      SmallVector<OpFoldResult> sizes(shape.size(), rewriter.getIndexAttr(0));
      sizes[tiled] = rewriter.getIndexAttr(tile);
      scf::SCFTilingOptions tiling;
      tiling.setTileSizes(sizes);
      scf::SCFTileAndFuseOptions options;
      options.setTilingOptions(tiling);
      // Only the layer and its zero fill move into the loop: X stays whole.
      Operation *layer = acc.layer;
      options.setFusionControlFn(
          [layer](tensor::ExtractSliceOp, OpResult producer, bool)
              -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
            if (producer.getOwner() == layer ||
                isa<linalg::FillOp>(producer.getOwner()))
              return scf::SCFTileAndFuseOptions::ControlFnResult{};
            return std::nullopt;
          });
      FailureOr<scf::SCFTileAndFuseResult> result =
          scf::tileConsumerAndFuseProducersUsingSCF(
              rewriter, cast<TilingInterface>(consumer.getOperation()),
              options);
      if (failed(result)) {
        consumer.emitOpError("sparse-enc-tile-accumulators: tiling failed");
        return signalPassFailure();
      }
      for (OpResult r : consumer->getResults())
        rewriter.replaceAllUsesWith(r, result->replacements.lookup(r));
      cleanUp(rewriter, result->loops.front());
      if (shape.size() == 5)
        dropUnitTail(rewriter,
                     cast<linalg::GenericOp>(result->tiledAndFusedOps.front()));
      rewriter.eraseOp(consumer);
      Operation *fill = acc.layer.getDpsInits()[0].getDefiningOp();
      for (Operation *reshape : llvm::reverse(acc.reshapes))
        if (reshape->use_empty())
          rewriter.eraseOp(reshape);
      if (acc.layer->use_empty())
        rewriter.eraseOp(acc.layer);
      if (fill->use_empty()) {
        Operation *empty = fill->getOperand(1).getDefiningOp();
        rewriter.eraseOp(fill);
        if (empty && empty->use_empty())
          rewriter.eraseOp(empty);
      }
    }
  }
};

} // namespace
