//===- VectorizeIm2col.cpp - int8 im2col copies as byte gathers ----------===//
//
// The front ends write a convolution's im2col as a copy generic,
// out[n, oh, ow, kh, kw, c] = x[n, oh*sh + kh*dh, ow*sw + kw*dw, c] (python/
// mcusparse/frontend/emit.py `im2col`). As loops, LLVM copies it byte by
// byte: with one input channel (the first layer of an image or audio
// network) two instructions per byte, 1,150 of the digits model's 18,390.
// The offset of each element from the first element of its trailing block
// of dimensions is a constant, so this pass writes the copy as
//
//   for the leading dimensions:
//     base = the input offset of the block's first element
//     for each chunk of 16 of the block's T elements (unrolled):
//       out[...] = gather(x + base, constant offsets)   (tail chunk masked)
//
// on cortex-m55 a `vldrb.u8` gather with 8-bit offsets and a `vstrb.8`
// per 16 bytes. The block is the longest run of trailing dimensions with
// at most kMaxBlock elements whose offsets fit in 8 bits (digits' first
// layer: a whole output row, 8 pixels x 3 x 3 taps = 72 bytes, offsets up
// to 29), and at least one gather long. Applies to int8 copy generics on
// static, contiguous memrefs whose input map is affine; others are left to
// convert-linalg-to-loops.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mcusparse {
#define GEN_PASS_DEF_SPARSEENCVECTORIZEIM2COL
#include "passes/Passes.h.inc"
} // namespace mcusparse

using namespace mlir;

namespace {

/// Bytes per gather (one MVE q register of int8 lanes).
constexpr int64_t kLanes = 16;
/// Elements per block: at most 8 gathers (and offset vectors) per block.
constexpr int64_t kMaxBlock = 128;
/// 8-bit gather offsets.
constexpr int64_t kMaxOffset = 255;

MemRefType contiguousI8(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
      !type.getElementType().isInteger(8))
    return nullptr;
  return type;
}

/// Row-major strides of `shape`.
SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// The input's linear element offset as constant + sum coef[d] * i_d, when
/// the input map is affine (every result a sum of dims times constants).
struct LinearOffset {
  int64_t constant = 0;
  SmallVector<int64_t> coef;
};

std::optional<LinearOffset> linearInputOffset(AffineMap map,
                                              ArrayRef<int64_t> inShape) {
  for (AffineExpr r : map.getResults())
    if (!r.isPureAffine())
      return std::nullopt;
  SmallVector<int64_t> strides = stridesOf(inShape);
  unsigned dims = map.getNumDims();
  auto offsetAt = [&](ArrayRef<int64_t> point) {
    SmallVector<int64_t> idx = map.compose(point);
    int64_t off = 0;
    for (unsigned r = 0; r < idx.size(); ++r)
      off += idx[r] * strides[r];
    return off;
  };
  LinearOffset lin;
  SmallVector<int64_t> point(dims, 0);
  lin.constant = offsetAt(point);
  for (unsigned d = 0; d < dims; ++d) {
    point[d] = 1;
    lin.coef.push_back(offsetAt(point) - lin.constant);
    point[d] = 0;
  }
  return lin;
}

/// The block a copy is gathered in: the trailing loops it spans, its
/// elements' input offsets from its first element, and the input offset.
struct Block {
  unsigned loops;
  SmallVector<int64_t> offsets;
  LinearOffset input;
};

struct VectorizeIm2colPass
    : public mcusparse::impl::SparseEncVectorizeIm2colBase<
          VectorizeIm2colPass> {
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, Block>> copies;
    getOperation().walk([&](linalg::GenericOp op) {
      if (!isCopy(op))
        return;
      if (std::optional<Block> block = chooseBlock(op))
        copies.emplace_back(op, std::move(*block));
    });
    for (auto &[op, block] : copies)
      rewrite(op, block);
  }

  /// An all-parallel int8 copy between static contiguous memrefs, identity
  /// output map.
  static bool isCopy(linalg::GenericOp op) {
    if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 1 ||
        op.getNumDpsInits() != 1 ||
        op.getNumParallelLoops() != op.getNumLoops() || op.getNumLoops() < 2)
      return false;
    auto yield = cast<linalg::YieldOp>(op.getBody()->getTerminator());
    if (op.getBody()->getOperations().size() != 1 ||
        yield.getValues().size() != 1 ||
        yield.getValues()[0] != op.getBody()->getArgument(0))
      return false;
    OpOperand *in = op.getDpsInputOperand(0);
    OpOperand *out = op.getDpsInitOperand(0);
    if (!contiguousI8(in->get()) || !contiguousI8(out->get()) ||
        !op.getMatchingIndexingMap(out).isIdentity())
      return false;
    return true;
  }

  /// The block of the most trailing loops with at most kMaxBlock elements
  /// and non-negative offsets of at most kMaxOffset from its first element,
  /// when the input map is affine; none when that block is shorter than
  /// one gather (MobileNetV2's first layer,
  /// 9-byte blocks of 3 taps x 3 channels: 16,294,587 -> 16,437,994
  /// instructions; the loops copy such runs with a few loads).
  static std::optional<Block> chooseBlock(linalg::GenericOp op) {
    OpOperand *in = op.getDpsInputOperand(0);
    auto inType = cast<MemRefType>(in->get().getType());
    std::optional<LinearOffset> lin =
        linearInputOffset(op.getMatchingIndexingMap(in), inType.getShape());
    if (!lin)
      return std::nullopt;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    unsigned n = ranges.size();
    std::optional<Block> best;
    for (unsigned k = 1; k < n; ++k) {
      int64_t elems = 1;
      for (unsigned d = n - k; d < n; ++d)
        elems *= ranges[d];
      if (elems > kMaxBlock)
        break;
      // Offsets of the block's elements in row-major order.
      SmallVector<int64_t> offsets{0};
      bool fits = true;
      for (unsigned d = n - k; d < n && fits; ++d) {
        if (lin->coef[d] < 0)
          fits = false;
        SmallVector<int64_t> next;
        for (int64_t o : offsets)
          for (int64_t i = 0; i < ranges[d]; ++i)
            next.push_back(o + i * lin->coef[d]);
        offsets = std::move(next);
      }
      if (!fits || *llvm::max_element(offsets) > kMaxOffset)
        break;
      if (elems >= kLanes)
        best = Block{k, offsets, *lin};
    }
    return best;
  }

  static void rewrite(linalg::GenericOp op, const Block &block) {
    const SmallVector<int64_t> &offsets = block.offsets;
    const LinearOffset &lin = block.input;
    Location loc = op.getLoc();
    OpBuilder b(op);
    Value in = op.getDpsInputOperand(0)->get();
    Value out = op.getDpsInitOperand(0)->get();
    auto inType = cast<MemRefType>(in.getType());
    auto outType = cast<MemRefType>(out.getType());
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<int64_t> outStrides = stridesOf(outType.getShape());
    unsigned lead = ranges.size() - block.loops;
    int64_t elems = int64_t(offsets.size());

    auto flat = [&](Value v, MemRefType type) {
      SmallVector<ReassociationIndices> all(1);
      for (unsigned d = 0; d < type.getRank(); ++d)
        all[0].push_back(d);
      return memref::CollapseShapeOp::create(b, loc, v, all).getResult();
    };
    Value inFlat = flat(in, inType), outFlat = flat(out, outType);
    auto cst = [&](int64_t v) {
      return arith::ConstantIndexOp::create(b, loc, v).getResult();
    };

    // Loops over the leading dimensions; inBase / outBase accumulate.
    Value inBase = cst(lin.constant), outBase = cst(0);
    for (unsigned d = 0; d < lead; ++d) {
      auto loop = scf::ForOp::create(b, loc, cst(0), cst(ranges[d]), cst(1));
      b.setInsertionPointToStart(loop.getBody());
      Value iv = loop.getInductionVar();
      inBase = arith::AddIOp::create(
          b, loc, inBase, arith::MulIOp::create(b, loc, iv, cst(lin.coef[d])));
      outBase = arith::AddIOp::create(
          b, loc, outBase,
          arith::MulIOp::create(b, loc, iv, cst(outStrides[d])));
    }

    Type i8 = b.getI8Type();
    auto bytes = VectorType::get({kLanes}, i8);
    auto maskType = VectorType::get({kLanes}, b.getI1Type());
    auto offsetType = VectorType::get({kLanes}, b.getI32Type());
    Value zeros = arith::ConstantOp::create(
        b, loc, bytes, DenseElementsAttr::get(bytes, b.getI8IntegerAttr(0)));
    for (int64_t at = 0; at < elems; at += kLanes) {
      int64_t live = std::min(kLanes, elems - at);
      SmallVector<int32_t> chunk(kLanes, 0);
      SmallVector<bool> lanes(kLanes, false);
      for (int64_t l = 0; l < live; ++l) {
        chunk[l] = int32_t(offsets[at + l]);
        lanes[l] = true;
      }
      Value offs = arith::ConstantOp::create(
          b, loc, offsetType,
          DenseElementsAttr::get(offsetType, ArrayRef<int32_t>(chunk)));
      Value mask = arith::ConstantOp::create(
          b, loc, maskType,
          DenseElementsAttr::get(maskType, ArrayRef<bool>(lanes)));
      Value v = vector::GatherOp::create(b, loc, bytes, inFlat,
                                         ValueRange{inBase}, offs, mask, zeros);
      Value to = arith::AddIOp::create(b, loc, outBase, cst(at));
      if (live == kLanes)
        vector::StoreOp::create(b, loc, v, outFlat, ValueRange{to});
      else
        vector::MaskedStoreOp::create(b, loc, outFlat, ValueRange{to}, mask, v);
    }
    op.erase();
  }
};

} // namespace
