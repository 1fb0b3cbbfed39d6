//===- FixedPointToMVE.cpp - TFLite requantisation idioms as MVE ops -------===//
//
// The front ends write TFLite's MultiplyByQuantizedMultiplier in 32-bit arith
// ops (python/mcusparse/frontend/emit.py: `mbqm`, `rdbp`) so that the host
// path needs only upstream passes. After sparse-enc-vectorize-elementwise
// those ops run on vector<4xi32>, where LLVM expands the 64-bit product of
// arith.mulsi_extended lane by lane: about 75 instructions per four
// requantised outputs on cortex-m55. MVE has both halves of the idiom as
// instructions, with TFLite's rounding:
//
//   SaturatingRoundingDoublingHighMul(a, b) = vqrdmulh.s32 a, b
//     floor((a*b + 2^30) / 2^31), saturated: the same value as gemmlowp's
//     (a*b + (a*b >= 0 ? 2^30 : 1 - 2^30)) / 2^31 truncated, for every a, b
//     (for a = b = INT32_MIN both give INT32_MAX, where the 32-bit idiom
//     wraps; TFLite's positive multipliers never reach it);
//   RoundingDivideByPOT(x, e) = vrshl.s32 (x +sat fixup), -e
//     with fixup = ((x & -e) >> 31), -1 for negative x when e > 0: a
//     rounding shift rounds halves up, the fixup makes negative halves round
//     away from zero as TFLite does (CMSIS-NN's MVE requantisation does the
//     same). Where every exponent is known to be at least 1 (a constant, or
//     a load from a constant global whose elements all are), the fixup is
//     x >> 31 alone: one `vand` less per four outputs.
//
// FULLY_CONNECTED's single rounding, x * m / 2^(e + 31) rounded half away
// from zero with e in 1..31, is written in 32-bit ops as well (emit.py
// `single_rounding_i32`: floor(x * m / 2^31), one less for negative exact
// multiples of 2^31, rounded right by e) and has two more idioms:
//
//   floor(x * m / 2^31) = vqdmulh.s32 x, m
//     (the same value for every pair except INT32_MIN * INT32_MIN, so one
//     factor must be a constant or constant table without INT32_MIN);
//   v rounded right by e, half up = vrshl.s32 v, -e
//     ((v >> e) + ((v >> (e - 1)) & 1), for e in 1..31).
//
// This pass finds the four idioms, exactly as emit.py writes them (constants
// folded or not, operands of commutative ops in either order), on
// vector<4xi32> and replaces each by those intrinsics. Anything else is left
// as it is: a missed match costs speed, never a different result.
//
//===----------------------------------------------------------------------===//

#include "passes/ConstantGlobals.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace mcusparse {
#define GEN_PASS_DEF_SPARSEENCFIXEDPOINTTOMVE
#include "passes/Passes.h.inc"
} // namespace mcusparse

using namespace mlir;

namespace {

bool isVector4xI32(Type t) {
  auto v = dyn_cast<VectorType>(t);
  return v && v.getRank() == 1 && v.getDimSize(0) == 4 && !v.isScalable() &&
         v.getElementType().isInteger(32);
}

/// `v` is a splat constant; its value.
std::optional<int64_t> splatValue(Value v) {
  APInt value;
  if (matchPattern(v, m_ConstantInt(&value)))
    return value.getSExtValue();
  return std::nullopt;
}

bool isSplat(Value v, int64_t want) {
  std::optional<int64_t> got = splatValue(v);
  return got && *got == want;
}

/// `op` is a binary op of type OpTy whose operands, in some order, satisfy
/// `first` and `second`.
template <typename OpTy, typename F, typename G>
OpTy matchCommuted(Value v, F first, G second) {
  auto op = v.getDefiningOp<OpTy>();
  if (!op)
    return nullptr;
  Value a = op->getOperand(0), b = op->getOperand(1);
  if ((first(a) && second(b)) || (first(b) && second(a)))
    return op;
  return nullptr;
}

/// `v` = zext(cmpi pred, lhs, rhs).
arith::CmpIOp zextOfCompare(Value v, arith::CmpIPredicate pred) {
  auto ext = v.getDefiningOp<arith::ExtUIOp>();
  if (!ext)
    return nullptr;
  auto cmp = ext.getIn().getDefiningOp<arith::CmpIOp>();
  return cmp && cmp.getPredicate() == pred ? cmp : nullptr;
}

Value callIntrinsic(PatternRewriter &rewriter, Location loc, Type type,
                    StringRef name, ValueRange args) {
  return LLVM::CallIntrinsicOp::create(rewriter, loc, type,
                                       rewriter.getStringAttr(name), args)
      .getResult(0);
}

/// Every lane of `v` satisfies `pred`: `v` is a constant, or a vector.load
/// from a constant memref.global (a per-channel table) whose elements all do,
/// or a vector.maskedload from one whose pass-through value does too (the
/// tail of a table whose length is not a multiple of the lanes).
bool everyLane(Value v, llvm::function_ref<bool(int64_t)> pred) {
  if (std::optional<int64_t> c = splatValue(v))
    return pred(*c);
  Value base;
  if (auto load = v.getDefiningOp<vector::LoadOp>())
    base = load.getBase();
  if (auto masked = v.getDefiningOp<vector::MaskedLoadOp>())
    if (everyLane(masked.getPassThru(), pred))
      base = masked.getBase();
  memref::GlobalOp global = base ? mcusparse::constantIntGlobal(base) : nullptr;
  if (!global)
    return false;
  auto table = cast<DenseIntElementsAttr>(*global.getInitialValue());
  return llvm::all_of(table.getValues<APInt>(),
                      [&](const APInt &x) { return pred(x.getSExtValue()); });
}

/// Every lane of `e` is a right shift of 1 to 31 bits.
bool isRightShift(Value e) {
  return everyLane(e, [](int64_t v) { return v >= 1 && v <= 31; });
}

/// No lane of `v` is INT32_MIN.
bool neverMinInt(Value v) {
  return everyLane(
      v, [](int64_t x) { return x != std::numeric_limits<int32_t>::min(); });
}

/// The (hi, lo) operand pairs of `v` = (hi << 1) | (lo >>u 31), in either
/// operand order: the doubling of a 64-bit value's high word, from its words.
SmallVector<std::pair<Value, Value>, 2> doubledHighWord(Value v) {
  SmallVector<std::pair<Value, Value>, 2> pairs;
  auto root = v.getDefiningOp<arith::OrIOp>();
  if (!root)
    return pairs;
  for (int i = 0; i < 2; ++i) {
    auto shl = root->getOperand(i).getDefiningOp<arith::ShLIOp>();
    auto top = root->getOperand(1 - i).getDefiningOp<arith::ShRUIOp>();
    if (shl && top && isSplat(shl.getRhs(), 1) && isSplat(top.getRhs(), 31))
      pairs.emplace_back(shl.getLhs(), top.getLhs());
  }
  return pairs;
}

/// The mulsi_extended whose high word `v` is.
arith::MulSIExtendedOp highWordOf(Value v) {
  auto high = dyn_cast<OpResult>(v);
  auto mul = high ? dyn_cast<arith::MulSIExtendedOp>(high.getOwner()) : nullptr;
  return mul && high.getResultNumber() == 1 ? mul : nullptr;
}

/// emit.py's SaturatingRoundingDoublingHighMul:
///   lo, hi = mulsi_extended a, b;  s = lo + 2^30
///   (hi + zext(s <u lo)) << 1 | s >>u 31
/// The multiplication, when `v` is that.
arith::MulSIExtendedOp matchDoublingHighMul(Value v) {
  for (auto [hi, s] : doubledHighWord(v)) {
    auto add = hi.getDefiningOp<arith::AddIOp>();
    if (!add)
      continue;
    for (int j = 0; j < 2; ++j) {
      arith::MulSIExtendedOp mul = highWordOf(add->getOperand(j));
      if (!mul)
        continue;
      Value low = mul.getLow();
      arith::CmpIOp carry =
          zextOfCompare(add->getOperand(1 - j), arith::CmpIPredicate::ult);
      bool sumOfLow =
          matchCommuted<arith::AddIOp>(
              s, [&](Value x) { return x == low; },
              [](Value x) { return isSplat(x, int64_t(1) << 30); }) != nullptr;
      if (carry && carry.getLhs() == s && carry.getRhs() == low && sumOfLow)
        return mul;
    }
  }
  return nullptr;
}

struct DoublingHighMulToVqrdmulh : OpRewritePattern<arith::OrIOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::OrIOp op,
                                PatternRewriter &rewriter) const override {
    if (!isVector4xI32(op.getType()))
      return failure();
    arith::MulSIExtendedOp mul = matchDoublingHighMul(op.getResult());
    if (!mul)
      return failure();
    rewriter.replaceOp(op, callIntrinsic(rewriter, op.getLoc(), op.getType(),
                                         "llvm.arm.mve.vqrdmulh",
                                         {mul.getLhs(), mul.getRhs()}));
    return success();
  }
};

/// `lo` is the low word of a * b: `mul`'s low result, or an arith.muli of
/// the same operands.
bool isLowWordOf(Value lo, arith::MulSIExtendedOp mul) {
  if (lo == mul.getLow())
    return true;
  auto muli = lo.getDefiningOp<arith::MulIOp>();
  Value a = mul.getLhs(), b = mul.getRhs();
  return muli && ((muli.getLhs() == a && muli.getRhs() == b) ||
                  (muli.getLhs() == b && muli.getRhs() == a));
}

/// emit.py's single_rounding_i32 product, floor(a * b / 2^31):
///   hi = mulsi_extended(a, b)#1;  lo = a * b (low word);
///   (hi << 1) | (lo >>u 31)
/// That is vqdmulh's value except where a = b = INT32_MIN (vqdmulh
/// saturates, the ops wrap), so one factor must provably not be INT32_MIN.
struct DoublingMulHighToVqdmulh : OpRewritePattern<arith::OrIOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::OrIOp op,
                                PatternRewriter &rewriter) const override {
    if (!isVector4xI32(op.getType()))
      return failure();
    for (auto [hi, lo] : doubledHighWord(op.getResult())) {
      arith::MulSIExtendedOp mul = highWordOf(hi);
      if (!mul || !isLowWordOf(lo, mul))
        continue;
      if (!neverMinInt(mul.getLhs()) && !neverMinInt(mul.getRhs()))
        continue;
      rewriter.replaceOp(op, callIntrinsic(rewriter, op.getLoc(), op.getType(),
                                           "llvm.arm.mve.vqdmulh",
                                           {mul.getLhs(), mul.getRhs()}));
      return success();
    }
    return failure();
  }
};

/// 0 - e.
Value negate(PatternRewriter &rewriter, Location loc, Value e) {
  Type type = e.getType();
  Value zero = arith::ConstantOp::create(rewriter, loc, type,
                                         rewriter.getZeroAttr(type));
  return arith::SubIOp::create(rewriter, loc, zero, e);
}

/// vshl.vector(x, shift = -e, saturate = 0, round = 1, unsigned = 0): x
/// shifted right by e with rounding (half up), computed without overflow.
Value roundingShiftRight(PatternRewriter &rewriter, Location loc, Value x,
                         Value shift) {
  Type type = x.getType();
  auto i32 = rewriter.getI32Type();
  auto flag = [&](int64_t v) {
    return LLVM::ConstantOp::create(rewriter, loc, i32,
                                    rewriter.getI32IntegerAttr(v));
  };
  return callIntrinsic(rewriter, loc, type, "llvm.arm.mve.vshl.vector",
                       {x, shift, flag(0), flag(1), flag(0)});
}

/// emit.py's single_rounding_i32 shift, x rounded right by e (half up):
///   (x >> e) + ((x >> (e - 1)) & 1)
/// with e - 1 as `subi e, 1`, a constant, or (e = 1) x itself.
struct RoundHalfUpShiftToVrshl : OpRewritePattern<arith::AddIOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::AddIOp op,
                                PatternRewriter &rewriter) const override {
    if (!isVector4xI32(op.getType()))
      return failure();
    for (int i = 0; i < 2; ++i) {
      auto shr = op->getOperand(i).getDefiningOp<arith::ShRSIOp>();
      auto bit = op->getOperand(1 - i).getDefiningOp<arith::AndIOp>();
      if (!shr || !bit || !isRightShift(shr.getRhs()))
        continue;
      Value x = shr.getLhs(), e = shr.getRhs();
      for (int j = 0; j < 2; ++j)
        if (isSplat(bit->getOperand(1 - j), 1) &&
            isShiftByOneLess(bit->getOperand(j), x, e)) {
          Location loc = op.getLoc();
          rewriter.replaceOp(op, roundingShiftRight(rewriter, loc, x,
                                                    negate(rewriter, loc, e)));
          return success();
        }
    }
    return failure();
  }

private:
  /// x >> (e - 1).
  static bool isShiftByOneLess(Value v, Value x, Value e) {
    std::optional<int64_t> ce = splatValue(e);
    if (v == x)
      return ce && *ce == 1;
    auto shr = v.getDefiningOp<arith::ShRSIOp>();
    if (!shr || shr.getLhs() != x)
      return false;
    if (ce)
      return isSplat(shr.getRhs(), *ce - 1);
    auto sub = shr.getRhs().getDefiningOp<arith::SubIOp>();
    return sub && sub.getLhs() == e && isSplat(sub.getRhs(), 1);
  }
};

/// emit.py's RoundingDivideByPOT(x, e):
///   mask = (1 << e) - 1;  thr = (mask >> 1) + zext(x < 0)
///   (x >> e) + zext((x & mask) > thr)
/// with mask and thr constants when e is.
struct DivideByPOTToVrshl : OpRewritePattern<arith::AddIOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::AddIOp op,
                                PatternRewriter &rewriter) const override {
    if (!isVector4xI32(op.getType()))
      return failure();
    for (int i = 0; i < 2; ++i) {
      auto shr = op->getOperand(i).getDefiningOp<arith::ShRSIOp>();
      if (!shr)
        continue;
      Value x = shr.getLhs(), e = shr.getRhs();
      arith::CmpIOp above =
          zextOfCompare(op->getOperand(1 - i), arith::CmpIPredicate::sgt);
      if (!above || !isRemainder(above.getLhs(), x, e) ||
          !isThreshold(above.getRhs(), x, e))
        continue;
      Location loc = op.getLoc();
      Type type = op.getType();
      Value shift = negate(rewriter, loc, e);
      // x & -e has x's sign bit where e > 0 (and none where e = 0).
      Value sign =
          isRightShift(e)
              ? x
              : arith::AndIOp::create(rewriter, loc, x, shift).getResult();
      Value fixup = arith::ShRSIOp::create(
          rewriter, loc, sign,
          arith::ConstantOp::create(
              rewriter, loc, type,
              DenseElementsAttr::get(
                  cast<ShapedType>(type),
                  rewriter.getI32IntegerAttr(31).getValue())));
      Value fixed = LLVM::SAddSat::create(rewriter, loc, x, fixup);
      rewriter.replaceOp(op, roundingShiftRight(rewriter, loc, fixed, shift));
      return success();
    }
    return failure();
  }

private:
  /// (1 << e) - 1, as ops or as a constant.
  static bool isMask(Value v, Value e) {
    if (std::optional<int64_t> ce = splatValue(e))
      return *ce >= 0 && *ce < 32 && isSplat(v, (int64_t(1) << *ce) - 1);
    auto sub = v.getDefiningOp<arith::SubIOp>();
    if (!sub || !isSplat(sub.getRhs(), 1))
      return false;
    auto shl = sub.getLhs().getDefiningOp<arith::ShLIOp>();
    return shl && isSplat(shl.getLhs(), 1) && shl.getRhs() == e;
  }
  /// x & mask.
  static bool isRemainder(Value v, Value x, Value e) {
    return matchCommuted<arith::AndIOp>(
               v, [&](Value a) { return a == x; },
               [&](Value m) { return isMask(m, e); }) != nullptr;
  }
  /// (mask >> 1) + zext(x < 0).
  static bool isThreshold(Value v, Value x, Value e) {
    auto isHalf = [&](Value h) {
      if (std::optional<int64_t> ce = splatValue(e))
        return *ce >= 0 && *ce < 32 &&
               isSplat(h, ((int64_t(1) << *ce) - 1) >> 1);
      auto shr = h.getDefiningOp<arith::ShRSIOp>();
      return shr && isSplat(shr.getRhs(), 1) && isMask(shr.getLhs(), e);
    };
    auto isNegative = [&](Value n) {
      arith::CmpIOp cmp = zextOfCompare(n, arith::CmpIPredicate::slt);
      return cmp && cmp.getLhs() == x && isSplat(cmp.getRhs(), 0);
    };
    return matchCommuted<arith::AddIOp>(v, isHalf, isNegative) != nullptr;
  }
};

struct FixedPointToMVEPass
    : public mcusparse::impl::SparseEncFixedPointToMVEBase<
          FixedPointToMVEPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DoublingHighMulToVqrdmulh, DivideByPOTToVrshl,
                 DoublingMulHighToVqdmulh, RoundHalfUpShiftToVrshl>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
