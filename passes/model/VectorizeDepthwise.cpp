//===- VectorizeDepthwise.cpp - int8 depthwise convolution as vector MACs ===//
//
// The front ends write a depthwise convolution as a linalg.generic over
// (n, oh, ow, c, m, kh, kw) with x[n, oh*sh + kh*dh, ow*sw + kw*dw, c],
// w[c, m, kh, kw] and acc[n, oh, ow, c, m] (python/mcusparse/frontend/
// emit.py `depthwise`). As loops, LLVM vectorises it over channels with a
// gather for the weights (stride KH*KW) and the accumulator stored back
// after every tap: about 65 instructions per four outputs of a 3x3 kernel
// on cortex-m55, 40 % of DS-CNN S. This pass writes it (int8 x int8 -> i32,
// channel multiplier 1, channels a multiple of 4) as
//
//   for each block of 8 channels (the last 4 as a block of 4 when 8 does
//   not divide the channels):
//     stage the block's KH*KW weight vectors, sign-extended to i16 (i32),
//     in a stack buffer (scalar loads, once per block)
//     for n, oh, ow:  acc = init[n, oh, ow, c:c+8]
//                     acc += sext(x[n, oh*sh + kh*dh, ow*sw + kw*dw, c:c+8])
//                            * staged[kh*KW + kw]      (every tap, unrolled)
//                     init[n, oh, ow, c:c+8] = acc
//
// With 8 channels the sums are split into even and odd channels
// (`vector.deinterleave`, `vld20/vld21.32` on MVE) and each tap is one
// `vldrb.s16` of the inputs and `vmullb.s16` / `vmullt.s16`
// (llvm.arm.mve.vmull: int8 x int8 products are exact in int16 lanes, the
// products int32) plus two `vadd.i32`: 59 instructions per eight outputs of
// DS-CNN S's 3x3 kernels. With 4 channels a tap is `vldrb.s32` + `vmul.i32`
// + `vadd.i32` (MVE has no vector-by-vector integer multiply-accumulate):
// 34-38 per four outputs. The weights are read once per channel block
// instead of at every pixel. When a `linalg.fill` of a constant writes the
// accumulator right before (the front ends fill it with 0), the sums start
// from that constant and the fill goes (DS-CNN S: 968,482 -> 935,546
// instructions, a memset and a load per pixel less). The 8-channel form
// uses an MVE intrinsic: the pass is in the cortex-m55 pipeline only.
// Layers of 96 or more channels with constant weights swap the loops (a
// channel-block loop inside each pixel, weights re-laid out at compile time;
// emitChannelInner): MobileNetV2 90 % 16,845,831 -> 16,316,573 (dense).
// Other depthwise forms are left to convert-linalg-to-loops.
//
//===----------------------------------------------------------------------===//

#include "passes/ConstantGlobals.h"
#include "passes/MVEIntrinsics.h"
#include "passes/Passes.h"
#include "passes/LoopAnnotations.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"

namespace mcusparse {
#define GEN_PASS_DEF_SPARSEENCVECTORIZEDEPTHWISE
#include "passes/Passes.h.inc"
} // namespace mcusparse

using namespace mlir;

namespace {

constexpr int64_t kLanes = 4;
/// From this many channels on, channel blocks run innermost
/// (emitChannelInner).
constexpr int64_t kChannelInnerFrom = 96;
/// Their weights are staged on the stack (32 KiB on mps3-an547): at most
/// this many bytes (MobileNetV2's widest layer: 960 x 9 = 8,640).
constexpr int64_t kStageLimit = 16384;

/// The coefficients of d0..d(n-1) in an affine sum `e` of dims times
/// constants (its constant part must be 0).
std::optional<SmallVector<int64_t>> linearCoefficients(AffineExpr e,
                                                       unsigned numDims) {
  SmallVector<int64_t> coeffs(numDims, 0);
  std::function<bool(AffineExpr, int64_t)> walk = [&](AffineExpr x,
                                                      int64_t scale) {
    if (auto d = dyn_cast<AffineDimExpr>(x)) {
      coeffs[d.getPosition()] += scale;
      return true;
    }
    if (auto c = dyn_cast<AffineConstantExpr>(x))
      return c.getValue() == 0;
    auto bin = dyn_cast<AffineBinaryOpExpr>(x);
    if (!bin)
      return false;
    if (bin.getKind() == AffineExprKind::Add)
      return walk(bin.getLHS(), scale) && walk(bin.getRHS(), scale);
    if (bin.getKind() == AffineExprKind::Mul) {
      if (auto c = dyn_cast<AffineConstantExpr>(bin.getRHS()))
        return walk(bin.getLHS(), scale * c.getValue());
      if (auto c = dyn_cast<AffineConstantExpr>(bin.getLHS()))
        return walk(bin.getRHS(), scale * c.getValue());
    }
    return false;
  };
  if (!walk(e, 1))
    return std::nullopt;
  return coeffs;
}

bool isDim(AffineExpr e, unsigned d) {
  auto dim = dyn_cast<AffineDimExpr>(e);
  return dim && dim.getPosition() == d;
}

bool isStaticUnitStride(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.hasStaticShape() && type.isLastDimUnitStride();
}

/// The body is acc + sext(x) * sext(w) on i8 -> i32.
bool isInt8MulAdd(linalg::GenericOp op) {
  Block *body = op.getBody();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddIOp>();
  if (!add || body->getOperations().size() != 5)
    return false;
  Value acc = body->getArgument(2);
  Value product = add.getLhs() == acc ? add.getRhs() : add.getLhs();
  if (add.getLhs() != acc && add.getRhs() != acc)
    return false;
  auto mul = product.getDefiningOp<arith::MulIOp>();
  if (!mul)
    return false;
  auto extOf = [&](Value v) -> Value {
    auto ext = v.getDefiningOp<arith::ExtSIOp>();
    return ext && ext.getIn().getType().isInteger(8) ? ext.getIn() : Value();
  };
  Value a = extOf(mul.getLhs()), b = extOf(mul.getRhs());
  Value x = body->getArgument(0), w = body->getArgument(1);
  return (a == x && b == w) || (a == w && b == x);
}

struct Depthwise {
  int64_t n, oh, ow, channels, kh, kw;
  int64_t strideH, strideW, dilationH, dilationW;
};

std::optional<Depthwise> matchDepthwise(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() != 7 ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return std::nullopt;
  auto iters = op.getIteratorTypesArray();
  for (unsigned d = 0; d < 7; ++d)
    if ((d < 5) != (iters[d] == utils::IteratorType::parallel))
      return std::nullopt;
  Value x = op.getDpsInputs()[0], w = op.getDpsInputs()[1],
        out = op.getDpsInits()[0];
  if (!isStaticUnitStride(x) || !isStaticUnitStride(out) ||
      !cast<MemRefType>(w.getType()).hasStaticShape() ||
      !getElementTypeOrSelf(x.getType()).isInteger(8) ||
      !getElementTypeOrSelf(w.getType()).isInteger(8) ||
      !getElementTypeOrSelf(out.getType()).isInteger(32) || !isInt8MulAdd(op))
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap xMap = maps[0], wMap = maps[1], oMap = maps[2];
  if (xMap.getNumResults() != 4 || wMap.getNumResults() != 4 ||
      oMap.getNumResults() != 5 || !isDim(xMap.getResult(0), 0) ||
      !isDim(xMap.getResult(3), 3))
    return std::nullopt;
  for (unsigned r = 0; r < 4; ++r)
    if (!isDim(wMap.getResult(r), 3 + r))
      return std::nullopt;
  for (unsigned r = 0; r < 5; ++r)
    if (!isDim(oMap.getResult(r), r))
      return std::nullopt;
  auto rows = linearCoefficients(xMap.getResult(1), 7);
  auto cols = linearCoefficients(xMap.getResult(2), 7);
  if (!rows || !cols)
    return std::nullopt;
  for (unsigned d = 0; d < 7; ++d)
    if (((*rows)[d] != 0 && d != 1 && d != 5) ||
        ((*cols)[d] != 0 && d != 2 && d != 6))
      return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ranges[4] != 1 || ranges[3] % kLanes != 0)
    return std::nullopt;
  return Depthwise{ranges[0], ranges[1], ranges[2], ranges[3],
                   ranges[5], ranges[6], (*rows)[1], (*cols)[2],
                   (*rows)[5], (*cols)[6]};
}

struct VectorizeDepthwisePass
    : public mcusparse::impl::SparseEncVectorizeDepthwiseBase<
          VectorizeDepthwisePass> {
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, Depthwise>> found;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<Depthwise> d = matchDepthwise(op))
        found.push_back({op, *d});
    });
    // One stack buffer per function holds the weights of the channel-inner
    // layer that runs (the largest decides its size). The pass object may
    // run again on another module: nothing carries over.
    stageBytes.clear();
    stages.clear();
    for (auto &[op, d] : found)
      if (mcusparse::constantIntGlobal(op.getDpsInputs()[1]) && channelInner(d)) {
        int64_t &bytes = stageBytes[op->getParentOfType<func::FuncOp>()];
        bytes = std::max(bytes, stagedBytes(d));
      }
    for (auto &[op, d] : found)
      rewrite(op, d);
  }

  static bool channelInner(const Depthwise &d) {
    return d.channels - d.channels % 8 >= kChannelInnerFrom &&
           stagedBytes(d) <= kStageLimit;
  }
  /// The [block][tap][8] weights, the last block of 4 channels padded.
  static int64_t stagedBytes(const Depthwise &d) {
    return (d.channels + 7) / 8 * 8 * d.kh * d.kw;
  }
  llvm::DenseMap<Operation *, int64_t> stageBytes;
  llvm::DenseMap<Operation *, Value> stages;

  /// A loop 0..size step 1, the builder moved into its body.
  template <typename IndexFn>
  static scf::ForOp enterLoop(OpBuilder &b, Location loc, IndexFn &index,
                              int64_t size) {
    auto loop = scf::ForOp::create(b, loc, index(0), index(size), index(1));
    b.setInsertionPointToStart(loop.getBody());
    return loop;
  }

  /// The sums of `lanes` channels at acc[at]: the constant the accumulator
  /// was just filled with, or its contents. 8 lanes: the sums of the even
  /// and of the odd channels (`vld20/21`).
  template <typename EntryFn>
  static SmallVector<Value> startSums(OpBuilder &b, Location loc,
                                      EntryFn &entry, std::optional<APInt> fill,
                                      int64_t lanes, Value acc, ValueRange at) {
    auto i32 = b.getI32Type();
    if (fill) {
      auto type = VectorType::get({lanes == 8 ? 4 : lanes}, i32);
      OpBuilder top = entry();
      Value start = arith::ConstantOp::create(
          top, loc, type, DenseElementsAttr::get(type, *fill));
      return SmallVector<Value>(lanes == 8 ? 2 : 1, start);
    }
    Value sum = vector::LoadOp::create(
        b, loc, VectorType::get({lanes}, i32), acc, at);
    if (lanes != 8)
      return {sum};
    auto split = vector::DeinterleaveOp::create(b, loc, sum);
    return {split.getRes1(), split.getRes2()};
  }

  /// Tap t's `lanes` inputs at pixel (n, oh, ow), channel c, sign-extended
  /// to `elem`.
  template <typename IndexFn>
  static Value tapInputs(OpBuilder &b, Location loc, IndexFn &index,
                         const Depthwise &d, Value x, Value n, Value oh,
                         Value ow, Value c, int64_t t, int64_t lanes,
                         Type elem) {
    auto scaled = [&](Value v, int64_t k) {
      return arith::MulIOp::create(b, loc, v, index(k)).getResult();
    };
    Value row = arith::AddIOp::create(b, loc, scaled(oh, d.strideH),
                                      index((t / d.kw) * d.dilationH));
    Value col = arith::AddIOp::create(b, loc, scaled(ow, d.strideW),
                                      index((t % d.kw) * d.dilationW));
    Value v = vector::LoadOp::create(b, loc,
                                     VectorType::get({lanes}, b.getI8Type()), x,
                                     ValueRange{n, row, col, c});
    return arith::ExtSIOp::create(b, loc, VectorType::get({lanes}, elem), v);
  }

  /// 8 lanes: the even and odd channels' int32 products of int16 inputs and
  /// weights (`vmullb.s16` / `vmullt.s16`) added to their sums.
  static void addProducts8(OpBuilder &b, Location loc, SmallVector<Value> &sums,
                           Value xv, Value wv) {
    auto quads = VectorType::get({4}, b.getI32Type());
    for (int top = 0; top < 2; ++top)
      sums[top] = arith::AddIOp::create(
          b, loc, sums[top], mcusparse::mveVmull(b, loc, quads, xv, wv, top));
  }

  /// The sums back to acc[at] (8 lanes: even and odd channels interleaved).
  static void storeSums(OpBuilder &b, Location loc, ArrayRef<Value> sums,
                        Value acc, ValueRange at) {
    Value sum = sums.size() == 2
                    ? vector::InterleaveOp::create(b, loc, sums[0], sums[1])
                          .getResult()
                    : sums[0];
    vector::StoreOp::create(b, loc, sum, acc, at);
  }

  /// Channels [from, to) in blocks of `lanes` (8: int16 lanes, one
  /// `vldrb.s16` per tap's inputs and `vmullb.s16` / `vmullt.s16`
  /// (llvm.arm.mve.vmull) for the int32 products of its even and odd
  /// channels, exact for int8 x int8; 4: int32 lanes, multiply and add).
  template <typename EntryFn, typename IndexFn>
  void emitBlocks(OpBuilder &b, EntryFn &entry, IndexFn &index,
                  linalg::GenericOp op, const Depthwise &d, Value acc,
                  std::optional<APInt> fill, int64_t lanes, int64_t from,
                  int64_t to, Value stage = {}) {
    Location loc = op.getLoc();
    Value x = op.getDpsInputs()[0], w = op.getDpsInputs()[1];
    MLIRContext *ctx = op.getContext();
    auto i32 = IntegerType::get(ctx, 32);
    Type stagedElem = lanes == 8 ? Type(IntegerType::get(ctx, 16)) : Type(i32);
    auto stagedVec = VectorType::get({lanes}, stagedElem);
    int64_t taps = d.kh * d.kw;
    OpBuilder atTop = entry();
    Value staged = memref::AllocaOp::create(
        atTop, loc, MemRefType::get({taps, lanes}, stagedElem));
    Value c0 = index(0);

    auto block = scf::ForOp::create(b, loc, index(from), index(to),
                                    index(lanes));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(block.getBody());
    Value c = block.getInductionVar();
    for (int64_t t = 0; t < taps; ++t) {
      SmallVector<Value> lanesOfTap;
      for (int64_t l = 0; l < lanes; ++l) {
        Value ch = arith::AddIOp::create(b, loc, c, index(l));
        // From the channel-inner form's staged [block][tap][8] weights (the
        // last block, of 4 channels), or from the weights themselves.
        Value v = stage ? memref::LoadOp::create(
                              b, loc, stage,
                              ValueRange{index((from / 8) * taps * 8 + t * 8 + l)})
                        : memref::LoadOp::create(
                              b, loc, w,
                              ValueRange{ch, c0, index(t / d.kw), index(t % d.kw)});
        lanesOfTap.push_back(arith::ExtSIOp::create(b, loc, stagedElem, v));
      }
      vector::StoreOp::create(
          b, loc, vector::FromElementsOp::create(b, loc, stagedVec, lanesOfTap),
          staged, ValueRange{index(t), c0});
    }

    Value n = enterLoop(b, loc, index, d.n).getInductionVar(),
          oh = enterLoop(b, loc, index, d.oh).getInductionVar();
    // Rows of more than 4 pixels stay rolled: a pixel already has KH*KW taps
    // in straight-line code, and LLVM's full unroll needs a pointer per tap
    // and pixel (MVE load offsets reach 127 bytes), which it spills. Measured
    // on the models: DS-CNN S's 5-pixel and MobileNetV2's 8-pixel rows lose
    // by the unroll, MobileNetV2's 4-pixel rows gain.
    scf::ForOp pixels = enterLoop(b, loc, index, d.ow);
    if (d.ow > 4)
      mcusparse::disableUnroll(pixels);
    Value ow = pixels.getInductionVar();
    SmallVector<Value> at{n, oh, ow, c};
    SmallVector<Value> sums = startSums(b, loc, entry, fill, lanes, acc, at);
    for (int64_t t = 0; t < taps; ++t) {
      Value xv = tapInputs(b, loc, index, d, x, n, oh, ow, c, t, lanes,
                           stagedElem);
      Value wv = vector::LoadOp::create(b, loc, stagedVec, staged,
                                        ValueRange{index(t), c0});
      if (lanes == 8)
        addProducts8(b, loc, sums, xv, wv);
      else
        sums[0] = arith::AddIOp::create(b, loc, sums[0],
                                        arith::MulIOp::create(b, loc, xv, wv));
    }
    storeSums(b, loc, sums, acc, at);
  }

  /// Wide layers (at least kChannelInnerFrom channels in blocks of 8, the
  /// weights at most kStageLimit bytes):
  /// for each pixel, a loop over blocks of 8 channels. Each tap's inputs
  /// then move 8 bytes per step, a post-increment, where the pixel loop
  /// moves them by stride x channels (more than an MVE load's 127-byte
  /// offset: one add per tap and pixel, and spilled pointers). The weights
  /// come from `blocks` (flat bytes on the stack), a copy of the constant
  /// weights laid out [channel block][tap][8 channels]: one pointer, the
  /// taps at immediate offsets.
  template <typename EntryFn, typename IndexFn>
  void emitChannelInner(OpBuilder &b, EntryFn &entry, IndexFn &index,
                        linalg::GenericOp op, const Depthwise &d, Value acc,
                        std::optional<APInt> fill, Value blocks) {
    Location loc = op.getLoc();
    Value x = op.getDpsInputs()[0];
    auto halves = VectorType::get({8}, b.getI16Type());
    int64_t taps = d.kh * d.kw;
    OpBuilder::InsertionGuard guard(b);
    Value n = enterLoop(b, loc, index, d.n).getInductionVar(),
          oh = enterLoop(b, loc, index, d.oh).getInductionVar();
    // Pixels stay rolled: each holds a loop already.
    scf::ForOp pixels = enterLoop(b, loc, index, d.ow);
    mcusparse::disableUnroll(pixels);
    Value ow = pixels.getInductionVar();
    Value cb = enterLoop(b, loc, index, d.channels / 8).getInductionVar();
    Value c = arith::MulIOp::create(b, loc, cb, index(8));
    SmallVector<Value> at{n, oh, ow, c};
    SmallVector<Value> sums = startSums(b, loc, entry, fill, 8, acc, at);
    for (int64_t t = 0; t < taps; ++t) {
      Value xv = tapInputs(b, loc, index, d, x, n, oh, ow, c, t, 8,
                           b.getI16Type());
      Value wAt = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, cb, index(taps * 8)),
          index(t * 8));
      Value wv = arith::ExtSIOp::create(
          b, loc, halves,
          vector::LoadOp::create(b, loc, VectorType::get({8}, b.getI8Type()),
                                 blocks, ValueRange{wAt}));
      addProducts8(b, loc, sums, xv, wv);
    }
    storeSums(b, loc, sums, acc, at);
  }

  /// The constant weights [C, 1, KH, KW] as a new constant global
  /// [C/8, KH*KW, 8] (same name prefix, so it lands in .weights too).
  memref::GlobalOp channelBlocks(memref::GlobalOp weights, const Depthwise &d) {
    int64_t taps = d.kh * d.kw, blockCount = (d.channels + 7) / 8;
    auto values = cast<DenseIntElementsAttr>(*weights.getInitialValue());
    SmallVector<APInt> flat(values.getValues<APInt>());
    SmallVector<APInt> permuted;
    permuted.reserve(flat.size());
    for (int64_t cb = 0; cb < blockCount; ++cb)
      for (int64_t t = 0; t < taps; ++t)
        for (int64_t l = 0; l < 8; ++l)
          permuted.push_back(cb * 8 + l < d.channels
                                 ? flat[(cb * 8 + l) * taps + t]
                                 : APInt(8, 0));
    auto type = MemRefType::get({blockCount, taps, 8},
                                IntegerType::get(weights.getContext(), 8));
    OpBuilder b(weights);
    b.setInsertionPointAfter(weights);
    auto global = memref::GlobalOp::create(
        b, weights.getLoc(),
        (weights.getSymName() + "_by_channel_block").str(),
        b.getStringAttr("private"), type,
        DenseElementsAttr::get(
            RankedTensorType::get(type.getShape(), type.getElementType()),
            permuted),
        /*constant=*/true, weights.getAlignmentAttr());
    SymbolTable(weights->getParentOfType<ModuleOp>()).insert(global);
    return global;
  }

  void rewrite(linalg::GenericOp op, const Depthwise &d) {
    Location loc = op.getLoc();
    Value out = op.getDpsInits()[0];
    // The front ends fill the accumulator with 0 right before: the sums
    // start from that constant instead, and the fill (a memset of the whole
    // output, which the loops overwrite) goes.
    std::optional<APInt> fill;
    auto fillOp = dyn_cast_or_null<linalg::FillOp>(op->getPrevNode());
    APInt value;
    if (fillOp && fillOp.getOutputs().size() == 1 &&
        fillOp.getOutputs()[0] == out &&
        matchPattern(fillOp.getInputs()[0], m_ConstantInt(&value)))
      fill = value;
    // Index constants and the staged-weight buffers go to the top of the
    // entry block (an alloca inside a loop would grow the stack every
    // iteration; constants there dominate the loops wherever `op` is).
    // Each is created at the very top, ahead of everything created before.
    Block *top = &op->getParentOfType<func::FuncOp>().getBody().front();
    auto entry = [top] { return OpBuilder::atBlockBegin(top); };
    llvm::DenseMap<int64_t, Value> indexConstants;
    auto index = [&](int64_t v) {
      Value &c = indexConstants[v];
      if (!c) {
        OpBuilder at = entry();
        c = arith::ConstantIndexOp::create(at, loc, v);
      }
      return c;
    };
    OpBuilder b(op);
    // acc[n, oh, ow, c, 1] as [n, oh, ow, c]: channels contiguous.
    Value acc = memref::CollapseShapeOp::create(
        b, loc, out, SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4}});
    // Blocks of 8 channels in int16 lanes as far as they go, the last 4
    // channels (when 8 does not divide them) as a block of 4 in int32.
    memref::GlobalOp weights = mcusparse::constantIntGlobal(op.getDpsInputs()[1]);
    if (weights && channelInner(d)) {
      memref::GlobalOp blocks = channelBlocks(weights, d);
      OpBuilder at = entry();
      Value blocksBuffer = memref::GetGlobalOp::create(
          at, loc, blocks.getType(), blocks.getSymName());
      // Copied from flash to the stack once per layer: the loops read every
      // weight once per pixel, and on a board the flash has wait states
      // (MobileNetV2 read from flash: 29.5 M modeled cycles at 4 wait
      // states against 28.9 M for the staged pixel-inner form).
      Operation *func = op->getParentOfType<func::FuncOp>();
      Value &stage = stages[func];
      auto bytes = IntegerType::get(op.getContext(), 8);
      if (!stage)
        stage = memref::AllocaOp::create(
            at, loc, MemRefType::get({stageBytes[func]}, bytes));
      int64_t size = stagedBytes(d), step = size % 16 ? 8 : 16;
      Value flatBlocks = memref::CollapseShapeOp::create(
          b, loc, blocksBuffer, SmallVector<ReassociationIndices>{{0, 1, 2}});
      auto copy = scf::ForOp::create(b, loc, index(0), index(size), index(step));
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(copy.getBody());
        auto chunk = VectorType::get({step}, bytes);
        Value i = copy.getInductionVar();
        vector::StoreOp::create(
            b, loc, vector::LoadOp::create(b, loc, chunk, flatBlocks, ValueRange{i}),
            stage, ValueRange{i});
      }
      emitChannelInner(b, entry, index, op, d, acc, fill, stage);
      // Channels past the last block of 8 (DS-CNN M's 172) as a block of 4.
      if (int64_t wide = d.channels - d.channels % 8; wide < d.channels)
        emitBlocks(b, entry, index, op, d, acc, fill, kLanes, wide, d.channels,
                   stage);
      Value w = op.getDpsInputs()[1];
      if (fill)
        fillOp.erase();
      op.erase();
      // The original weights go when nothing else reads them (the reshapes
      // and get_global that led to them first), so flash holds one copy.
      while (Operation *def = w.getDefiningOp()) {
        if (!def->use_empty() || def->getNumOperands() > 1)
          break;
        w = def->getNumOperands() ? def->getOperand(0) : Value();
        def->erase();
        if (!w)
          break;
      }
      if (SymbolTable::symbolKnownUseEmpty(weights,
                                           weights->getParentOfType<ModuleOp>()))
        weights.erase();
      return;
    }
    int64_t wide = d.channels - d.channels % 8;
    if (wide > 0)
      emitBlocks(b, entry, index, op, d, acc, fill, 8, 0, wide);
    if (wide < d.channels)
      emitBlocks(b, entry, index, op, d, acc, fill, kLanes, wide, d.channels);
    if (fill)
      fillOp.erase();
    op.erase();
  }
};

} // namespace
