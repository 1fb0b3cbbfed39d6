//===- PartialExecution.cpp - operator chains in channel slices (Pex) -----===//
//
// Liberis and Lane's partial execution: a chain of operators that each keep
// channels apart (expand 1x1 conv -> requantise -> pad -> depthwise ->
// requantise -> project conv) need not hold its intermediates whole. The
// pass finds such chains on tensors, from a layer matmul whose output
// channels feed, one channel to one channel, the reduction of another layer
// matmul, and emits the chain once per slice of those channels: the first
// matmul with its weight rows of the slice, every op between on the slice,
// and the second matmul with its weight columns of the slice, accumulating
// into one result. The arena planner then sees slice-sized intermediates
// that die before the next slice starts. Which chains are cut, and how
// finely, follows a liveness estimate of the arena against the budget.
// Weights are sliced at compile time (each slice its own constant, packed
// for the layer's layout), so the slices are unrolled. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/lower/Lowering.h"
#include "passes/model/ArenaEstimate.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "sparse-enc-partial-execution"

namespace mcusparse {
#define GEN_PASS_DEF_SPARSEENCPARTIALEXECUTION
#include "passes/Passes.h.inc"
} // namespace mcusparse

using namespace mlir;

using mcusparse::bytesOf;
using mcusparse::Liveness;
using mcusparse::tiledBytes;

namespace {

/// The axis that carries the channels: the last one of size other than 1.
/// Reshaped values may have folded outer dimensions into it (size n * C).
std::optional<int64_t> channelAxis(Value v, int64_t channels) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || !type.hasStaticShape())
    return std::nullopt;
  for (int64_t axis = type.getRank() - 1; axis >= 0; --axis) {
    int64_t size = type.getDimSize(axis);
    if (size == 1)
      continue;
    if (size % channels != 0)
      return std::nullopt;
    return axis;
  }
  return std::nullopt;
}

/// v's type with `channels` channels cut to `width`.
RankedTensorType slicedType(Value v, int64_t channels, int64_t width) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape(type.getShape());
  int64_t axis = *channelAxis(v, channels);
  shape[axis] = shape[axis] / channels * width;
  return RankedTensorType::get(shape, type.getElementType());
}

/// Elements [offset, offset + width) along `axis` of a dense constant.
DenseElementsAttr sliceAttr(DenseElementsAttr attr, int64_t axis,
                            int64_t offset, int64_t width) {
  auto type = cast<RankedTensorType>(attr.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[axis] = width;
  auto newType = RankedTensorType::get(shape, type.getElementType());
  if (attr.isSplat())
    return DenseElementsAttr::get(newType, attr.getSplatValue<Attribute>());
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= type.getDimSize(i);
  for (int64_t i = axis + 1; i < type.getRank(); ++i)
    inner *= type.getDimSize(i);
  int64_t size = type.getDimSize(axis);
  unsigned bits = type.getElementTypeBitWidth();
  if (bits % 8 == 0) {
    int64_t elemBytes = bits / 8;
    ArrayRef<char> raw = attr.getRawData();
    std::vector<char> out;
    out.reserve(outer * width * inner * elemBytes);
    for (int64_t o = 0; o < outer; ++o) {
      const char *row = raw.data() + (o * size + offset) * inner * elemBytes;
      out.insert(out.end(), row, row + width * inner * elemBytes);
    }
    return DenseElementsAttr::getFromRawBuffer(newType, out);
  }
  SmallVector<Attribute> values(attr.getValues<Attribute>());
  SmallVector<Attribute> out;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = (o * size + offset) * inner,
                 e = (o * size + offset + width) * inner;
         i < e; ++i)
      out.push_back(values[i]);
  return DenseElementsAttr::get(newType, out);
}

/// A constant operand cut along one axis: an arith.constant, or an
/// expand_shape of one whose group holds that axis and otherwise only 1s.
struct ConstantSlice {
  arith::ConstantOp constant;
  tensor::ExpandShapeOp expand; // or null
  int64_t sourceAxis = 0;
};

std::optional<ConstantSlice> constantSlice(Value v, int64_t axis) {
  ConstantSlice s;
  s.sourceAxis = axis;
  if ((s.expand = v.getDefiningOp<tensor::ExpandShapeOp>())) {
    auto resultShape = s.expand.getResultType().getShape();
    for (auto [group, axes] :
         llvm::enumerate(s.expand.getReassociationIndices())) {
      if (!llvm::is_contained(axes, axis))
        continue;
      for (int64_t other : axes)
        if (other != axis && resultShape[other] != 1)
          return std::nullopt;
      s.sourceAxis = group;
    }
    v = s.expand.getSrc();
  }
  s.constant = v.getDefiningOp<arith::ConstantOp>();
  if (!s.constant || !isa<DenseElementsAttr>(s.constant.getValue()) ||
      s.constant->hasAttr(mcusparse::kBuffersAttr))
    return std::nullopt;
  return s;
}

Value emitConstantSlice(OpBuilder &b, ConstantSlice s, int64_t offset,
                        int64_t width) {
  auto attr = sliceAttr(cast<DenseElementsAttr>(s.constant.getValue()),
                        s.sourceAxis, offset, width);
  // The constant keeps its attributes: layer tag, chosen layout.
  auto cst = cast<arith::ConstantOp>(b.clone(*s.constant));
  cst.setValueAttr(attr);
  cst.getResult().setType(attr.getType());
  if (!s.expand)
    return cst;
  SmallVector<int64_t> shape(s.expand.getResultType().getShape());
  for (auto [group, axes] : llvm::enumerate(s.expand.getReassociationIndices()))
    if (static_cast<int64_t>(group) == s.sourceAxis)
      for (int64_t axis : axes)
        if (shape[axis] != 1)
          shape[axis] = width;
  return tensor::ExpandShapeOp::create(
      b, s.expand.getLoc(),
      RankedTensorType::get(shape, attr.getType().getElementType()), cst,
      s.expand.getReassociationIndices());
}

/// A layer matmul X[P, K] x W[O, K]^T whose weight is a tagged constant
/// that may be cut (no precomputed buffers).
arith::ConstantOp layerWeight(linalg::MatmulOp op) {
  if (!op.hasPureTensorSemantics() ||
      !mcusparse::lower::isTransposedWeightMatmul(op))
    return {};
  auto cst = op.getDpsInputs()[1].getDefiningOp<arith::ConstantOp>();
  if (!cst || !cst->hasAttr(mcusparse::kLayerAttr) ||
      cst->hasAttr(mcusparse::kBuffersAttr) ||
      !isa<DenseElementsAttr>(cst.getValue()))
    return {};
  return cst;
}

/// How an op between the two matmuls is cut: for a generic, the axis of
/// each operand that is sliced (-1: used whole).
struct ChainOp {
  Operation *op;
  unsigned chainOperand = 0;
  SmallVector<int64_t> operandAxes;
};

struct Chain {
  linalg::MatmulOp producer, consumer;
  SmallVector<ChainOp> ops;
  int64_t channels = 0;
  /// The values the chain holds in buffers of their own, in order: the
  /// producer's result and each op's but the reshapes' (views after
  /// bufferization).
  SmallVector<Value> values;
};

/// The generic keeps channels apart: the chain operand's channel axis is a
/// parallel loop d, the result's channel axis is d, and no other operand
/// mixes d into an index. Records the axis each operand is cut along.
std::optional<ChainOp> channelwiseGeneric(linalg::GenericOp op, Value in,
                                          int64_t channels) {
  if (op.getNumResults() != 1 || op.getNumDpsInits() != 1 ||
      !op.hasPureTensorSemantics() ||
      !op.getBody()->getOps<linalg::IndexOp>().empty())
    return std::nullopt;
  OpOperand *chainOperand = nullptr;
  for (OpOperand &operand : op->getOpOperands())
    if (operand.get() == in)
      chainOperand = &operand;
  if (!chainOperand || op.isDpsInit(chainOperand))
    return std::nullopt;
  auto inAxis = channelAxis(in, channels);
  if (!inAxis || cast<ShapedType>(in.getType()).getDimSize(*inAxis) != channels)
    return std::nullopt;
  auto dim = dyn_cast<AffineDimExpr>(
      op.getMatchingIndexingMap(chainOperand).getResult(*inAxis));
  if (!dim || op.getIteratorTypesArray()[dim.getPosition()] !=
                  utils::IteratorType::parallel)
    return std::nullopt;
  ChainOp chainOp{op, chainOperand->getOperandNumber(), {}};
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    int64_t axis = -1;
    for (auto [i, expr] : llvm::enumerate(map.getResults())) {
      if (expr == dim)
        axis = i;
      else if (expr.isFunctionOfDim(dim.getPosition()))
        return std::nullopt;
    }
    if (axis >= 0 &&
        cast<ShapedType>(operand.get().getType()).getDimSize(axis) != channels)
      return std::nullopt;
    if (&operand != chainOperand && axis >= 0) {
      bool isInit = op.isDpsInit(&operand);
      Operation *def = operand.get().getDefiningOp();
      bool fresh = isa_and_nonnull<tensor::EmptyOp>(def) ||
                   (isa_and_nonnull<linalg::FillOp>(def) &&
                    cast<linalg::FillOp>(def)
                        .getDpsInits()[0]
                        .getDefiningOp<tensor::EmptyOp>());
      if (isInit ? !fresh : !constantSlice(operand.get(), axis))
        return std::nullopt;
    }
    chainOp.operandAxes.push_back(axis);
  }
  // The result's channels: axis of dim, nothing but 1s after it.
  Value result = op->getResult(0);
  auto outAxis = channelAxis(result, channels);
  AffineMap outMap = op.getIndexingMapMatchingResult(cast<OpResult>(result));
  if (!outAxis || outMap.getResult(*outAxis) != dim)
    return std::nullopt;
  return chainOp;
}

/// The chain that starts at `producer`'s output channels, if there is one.
std::optional<Chain> findChain(linalg::MatmulOp producer) {
  arith::ConstantOp weight = layerWeight(producer);
  if (!weight)
    return std::nullopt;
  auto fill = producer.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  if (!fill || !fill.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>())
    return std::nullopt;
  Chain chain;
  chain.producer = producer;
  chain.channels = cast<ShapedType>(weight.getType()).getDimSize(0);
  Value v = producer->getResult(0);
  if (!channelAxis(v, chain.channels))
    return std::nullopt;
  while (true) {
    if (!isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(v.getDefiningOp()))
      chain.values.push_back(v);
    if (!v.hasOneUse())
      return std::nullopt;
    Operation *user = *v.getUsers().begin();
    if (auto consumer = dyn_cast<linalg::MatmulOp>(user)) {
      if (!layerWeight(consumer) || consumer.getDpsInputs()[0] != v ||
          cast<ShapedType>(v.getType()).getRank() != 2 ||
          cast<ShapedType>(v.getType()).getDimSize(1) != chain.channels)
        return std::nullopt;
      chain.consumer = consumer;
      return chain;
    }
    if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(user)) {
      chain.ops.push_back({user, 0, {}});
    } else if (auto pad = dyn_cast<tensor::PadOp>(user)) {
      auto axis = channelAxis(v, chain.channels);
      if (!axis || !pad.getConstantPaddingValue() ||
          pad.getStaticLow()[*axis] != 0 || pad.getStaticHigh()[*axis] != 0 ||
          ShapedType::isDynamicShape(pad.getStaticLow()) ||
          ShapedType::isDynamicShape(pad.getStaticHigh()))
        return std::nullopt;
      chain.ops.push_back({user, 0, {}});
    } else if (auto generic = dyn_cast<linalg::GenericOp>(user)) {
      auto chainOp = channelwiseGeneric(generic, v, chain.channels);
      if (!chainOp)
        return std::nullopt;
      chain.ops.push_back(*chainOp);
    } else {
      return std::nullopt;
    }
    v = user->getResult(0);
    if (!channelAxis(v, chain.channels))
      return std::nullopt;
  }
}

/// `type` with `axis` cut to `width`.
RankedTensorType withAxis(Type type, int64_t axis, int64_t width) {
  auto ranked = cast<RankedTensorType>(type);
  SmallVector<int64_t> shape(ranked.getShape());
  shape[axis] = width;
  return RankedTensorType::get(shape, ranked.getElementType());
}

/// A fresh init of `type`: tensor.empty, filled like the original.
Value freshInit(OpBuilder &b, Value original, RankedTensorType type) {
  Location loc = original.getLoc();
  Value empty =
      tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  if (auto fill = original.getDefiningOp<linalg::FillOp>())
    return linalg::FillOp::create(b, loc, fill.getDpsInputs()[0], empty)
        .getResult(0);
  return empty;
}

/// Emits the chain for channels [offset, offset + width), accumulating its
/// consumer matmul into `acc`; returns the new accumulator.
Value emitSlice(OpBuilder &b, const Chain &chain, int64_t offset, int64_t width,
                Value acc) {
  int64_t channels = chain.channels;
  linalg::MatmulOp producer = chain.producer;
  Value w1 = emitConstantSlice(b, *constantSlice(producer.getDpsInputs()[1], 0),
                               offset, width);
  auto producerType = slicedType(producer->getResult(0), channels, width);
  Value v =
      clone(b, producer, TypeRange{producerType},
            ValueRange{producer.getDpsInputs()[0], w1,
                       freshInit(b, producer.getDpsInits()[0], producerType)})
          ->getResult(0);

  for (const ChainOp &step : chain.ops) {
    Operation *op = step.op;
    RankedTensorType type = slicedType(op->getResult(0), channels, width);
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op)) {
      v = tensor::CollapseShapeOp::create(b, op->getLoc(), type, v,
                                          collapse.getReassociationIndices());
    } else if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op)) {
      v = tensor::ExpandShapeOp::create(b, op->getLoc(), type, v,
                                        expand.getReassociationIndices());
    } else if (isa<tensor::PadOp>(op)) {
      IRMapping map;
      map.map(op->getOperand(0), v);
      Operation *pad = b.clone(*op, map);
      pad->getResult(0).setType(type);
      v = pad->getResult(0);
    } else {
      auto generic = cast<linalg::GenericOp>(op);
      SmallVector<Value> operands;
      for (auto [operand, axis] :
           llvm::zip(generic->getOpOperands(), step.operandAxes)) {
        Value value = operand.get();
        if (operand.getOperandNumber() == step.chainOperand)
          operands.push_back(v);
        else if (axis < 0)
          operands.push_back(value);
        else if (generic.isDpsInit(&operand))
          operands.push_back(
              freshInit(b, value, withAxis(value.getType(), axis, width)));
        else
          operands.push_back(
              emitConstantSlice(b, *constantSlice(value, axis), offset, width));
      }
      v = clone(b, op, TypeRange{type}, operands)->getResult(0);
    }
  }

  linalg::MatmulOp consumer = chain.consumer;
  Value w2 = emitConstantSlice(b, *constantSlice(consumer.getDpsInputs()[1], 1),
                               offset, width);
  return clone(b, consumer, TypeRange{acc.getType()}, ValueRange{v, w2, acc})
      ->getResult(0);
}

/// Erases `op` and then every op that only fed it, as far as nothing else
/// reads them.
void eraseWithDeadOperands(Operation *op) {
  SmallVector<Operation *> worklist = {op};
  while (!worklist.empty()) {
    Operation *dead = worklist.pop_back_val();
    llvm::SetVector<Operation *> defs;
    for (Value operand : dead->getOperands())
      if (Operation *def = operand.getDefiningOp())
        defs.insert(def);
    dead->erase();
    for (Operation *def : defs)
      if (def->use_empty() && isMemoryEffectFree(def))
        worklist.push_back(def);
  }
}

/// The positions a chain occupies: from its first op, or the fresh init
/// or constant one of them reads if that comes earlier, to its consumer.
std::pair<int64_t, int64_t> span(const Chain &chain, const Liveness &live) {
  SmallVector<Operation *> ops = {chain.producer};
  for (const ChainOp &op : chain.ops)
    ops.push_back(op.op);
  int64_t first = live.positionOf(chain.producer);
  for (Operation *op : ops)
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        if (isa<tensor::EmptyOp, linalg::FillOp, arith::ConstantOp,
                tensor::ExpandShapeOp>(def) &&
            def->getBlock() == chain.producer->getBlock())
          first = std::min(first, live.positionOf(def));
  return {first, live.positionOf(chain.consumer)};
}

/// The chain's estimated peak when run in slices of `width` channels
/// (`channels`: whole). Whole, the most bytes live over its span. Sliced,
/// what was live before the chain began (its input X among it) at its
/// most, plus the consumer's accumulator, live across all the slices, plus
/// the largest pair of consecutive slice-sized intermediates.
int64_t chainPeak(const Chain &chain, const Liveness &live, int64_t width,
                  int64_t tilePixels) {
  auto [first, last] = span(chain, live);
  int64_t peak = 0;
  for (int64_t t = first; t <= last; ++t)
    peak = std::max(peak, width < chain.channels ? live.bytesLiveAt(t, first)
                                                 : live.bytesLiveAt(t));
  if (width >= chain.channels)
    return peak;
  auto sliced = [&](Value v) {
    return tiledBytes(v, tilePixels) / chain.channels * width;
  };
  int64_t inner = sliced(chain.values.front());
  for (auto [a, b] : llvm::zip(chain.values, llvm::drop_begin(chain.values)))
    inner = std::max(inner, sliced(a) + sliced(b));
  linalg::MatmulOp consumer = chain.consumer;
  Value init = consumer.getDpsInits()[0];
  int64_t acc = live.createdBefore(init, first) ? 0 : bytesOf(init);
  return peak + acc + inner;
}

/// Slicing that saves less than an eighth of a chain's peak is not worth
/// the code it costs (each slice is a copy of the chain's kernels).
bool worthSlicing(int64_t wholePeak, int64_t slicedPeak) {
  return slicedPeak * 8 <= wholePeak * 7;
}

/// The slice widths to consider, widest first: whole groups of 8 channels
/// (4, or 1, where the channel count is not a multiple of 8) for the vector
/// loops downstream, one per slice count.
SmallVector<int64_t> sliceWidths(const Chain &chain) {
  int64_t channels = chain.channels;
  int64_t granule = channels % 8 == 0 ? 8 : channels % 4 == 0 ? 4 : 1;
  SmallVector<int64_t> widths;
  for (int64_t slices = 2; slices <= channels / granule; ++slices) {
    int64_t width = llvm::alignTo(llvm::divideCeil(channels, slices), granule);
    if (width < channels && (widths.empty() || width < widths.back()))
      widths.push_back(width);
  }
  return widths;
}

/// Channels per slice (`channels`: run the chain whole). A chain whose
/// estimated peak fits the budget runs whole; otherwise the widest slices
/// that fit, or, if none does, those with the lowest peak.
int64_t sliceWidth(const Chain &chain, const Liveness &live, int64_t budget,
                   int64_t tilePixels) {
  int64_t whole = chainPeak(chain, live, chain.channels, tilePixels);
  int64_t best = chain.channels, bestPeak = whole;
  if (whole <= budget)
    return best;
  for (int64_t width : sliceWidths(chain)) {
    int64_t peak = chainPeak(chain, live, width, tilePixels);
    if (peak <= budget && worthSlicing(whole, peak))
      return width;
    if (peak < bestPeak)
      best = width, bestPeak = peak;
  }
  return worthSlicing(whole, bestPeak) ? best : chain.channels;
}

struct PartialExecutionPass
    : public mcusparse::impl::SparseEncPartialExecutionBase<
          PartialExecutionPass> {
  using Base::Base;

  void runOnOperation() override {
    if (peakBytes < 0 || tilePixels < 0) {
      emitError(getOperation().getLoc())
          << "sparse-enc-partial-execution: peak-bytes and tile-pixels must "
             "be 0 (off) or positive, got "
          << peakBytes.getValue() << " and " << tilePixels.getValue();
      return signalPassFailure();
    }
    if (peakBytes == 0)
      return;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() && func.getBody().hasOneBlock())
        runOnFunction(func);
  }

  void runOnFunction(func::FuncOp func) {
    SmallVector<linalg::MatmulOp> matmuls;
    func.walk([&](linalg::MatmulOp op) { matmuls.push_back(op); });
    SmallVector<Chain> chains;
    for (linalg::MatmulOp producer : matmuls)
      if (std::optional<Chain> chain = findChain(producer))
        chains.push_back(*chain);
    if (chains.empty())
      return;

    // No chain needs to go below a peak that stays anyway: the bytes live
    // where no chain runs, the lowest peak slicing gets some chain to, and
    // the peak of a chain that slicing does not help, unless it shares a
    // matmul with one that slicing does help (whose slices then remove its
    // peak). Cutting finer would grow code and not the arena.
    Liveness live(func, tilePixels);
    llvm::BitVector inChain(live.size());
    for (const Chain &chain : chains) {
      auto [first, last] = span(chain, live);
      inChain.set(first, last + 1);
    }
    int64_t budget = peakBytes;
    for (int64_t t = 0; t < live.size(); ++t)
      if (!inChain.test(t))
        budget = std::max(budget, live.bytesLiveAt(t));
    SmallVector<int64_t> whole, lowest;
    DenseSet<Operation *> helped; // the matmuls of chains slicing helps
    for (const Chain &chain : chains) {
      whole.push_back(chainPeak(chain, live, chain.channels, tilePixels));
      lowest.push_back(whole.back());
      for (int64_t width : sliceWidths(chain))
        lowest.back() =
            std::min(lowest.back(), chainPeak(chain, live, width, tilePixels));
      LLVM_DEBUG(llvm::dbgs()
                 << "chain of " << chain.channels << " channels at "
                 << chain.producer->getLoc() << ": peak whole " << whole.back()
                 << ", lowest " << lowest.back() << "\n");
      if (worthSlicing(whole.back(), lowest.back())) {
        helped.insert(chain.producer);
        helped.insert(chain.consumer);
      }
    }
    for (auto [chain, w, l] : llvm::zip(chains, whole, lowest))
      if (worthSlicing(w, l))
        budget = std::max(budget, l);
      else if (!helped.contains(chain.producer) &&
               !helped.contains(chain.consumer))
        budget = std::max(budget, w);
    LLVM_DEBUG(llvm::dbgs() << "budget " << budget << "\n");

    // Decide every chain on the unchanged function, then rewrite.
    SmallVector<std::pair<Chain, int64_t>> plan;
    DenseSet<Operation *> claimed;
    for (const Chain &chain : chains) {
      int64_t width = sliceWidth(chain, live, budget, tilePixels);
      if (width >= chain.channels || claimed.contains(chain.producer))
        continue;
      claimed.insert(chain.consumer);
      plan.push_back({chain, width});
      LLVM_DEBUG(llvm::dbgs()
                 << "slices of " << width << " channels for "
                 << chain.producer->getLoc() << ", peak "
                 << chainPeak(chain, live, width, tilePixels) << "\n");
    }
    for (auto &[chain, width] : plan) {
      OpBuilder b(chain.consumer);
      Value acc = chain.consumer.getDpsInits()[0];
      for (int64_t offset = 0; offset < chain.channels; offset += width)
        acc = emitSlice(b, chain, offset,
                        std::min(width, chain.channels - offset), acc);
      chain.consumer->getResult(0).replaceAllUsesWith(acc);
      // Consumer first: it reads the chain, which reads the producer.
      eraseWithDeadOperands(chain.consumer);
    }
  }
};

} // namespace
