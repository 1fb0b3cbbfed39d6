//===- Emitter.cpp - shared builders of the matvec lowerings --------------===//

#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mcusparse::lower;

Value Emitter::index(int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}

Value Emitter::zero(Type type) {
  return arith::ConstantOp::create(b, type, b.getZeroAttr(type));
}

Value Emitter::read(VectorType type, Value source, ValueRange indices,
                    Value mask, bool inBounds) {
  auto shaped = cast<ShapedType>(source.getType());
  AffineMap map =
      AffineMap::getMinorIdentityMap(shaped.getRank(), 1, b.getContext());
  Value pad = zero(shaped.getElementType());
  return vector::TransferReadOp::create(b, type, source, indices, map, pad,
                                        mask, b.getBoolArrayAttr({inBounds}));
}

Value Emitter::poison(Type type) {
  return ub::PoisonOp::create(b, type);
}

Value Emitter::readUndefTail(VectorType type, Value source, ValueRange indices,
                             Value mask) {
  auto shaped = cast<ShapedType>(source.getType());
  AffineMap map =
      AffineMap::getMinorIdentityMap(shaped.getRank(), 1, b.getContext());
  return vector::TransferReadOp::create(b, type, source, indices, map,
                                        poison(shaped.getElementType()), mask,
                                        b.getBoolArrayAttr({true}));
}

Value Emitter::widenIndices(Value vec) {
  auto type = cast<VectorType>(vec.getType());
  auto i32 = b.getI32Type();
  if (type.getElementType() == i32)
    return vec;
  return arith::ExtUIOp::create(b, type.clone(i32), vec);
}

Value Emitter::laneConstants(VectorType type,
                             llvm::function_ref<int64_t(int64_t)> valueOfLane) {
  auto elem = cast<IntegerType>(type.getElementType());
  SmallVector<APInt> lanes;
  for (int64_t l = 0; l < type.getNumElements(); ++l)
    lanes.push_back(APInt(elem.getWidth(), static_cast<uint64_t>(valueOfLane(l)),
                          /*isSigned=*/false, /*implicitTrunc=*/true));
  return arith::ConstantOp::create(b, type, DenseElementsAttr::get(type, lanes));
}

Value Emitter::lanesBelow(int64_t lanes, Value left, int64_t maxLeft,
                          bool narrowByOne) {
  auto bitsFor = [](int64_t v) -> unsigned {
    return ShapedType::isDynamic(v) ? 32
           : v < (1 << 8)           ? 8
           : v < (1 << 16)          ? 16
                                    : 32;
  };
  bool minusOne = narrowByOne && !ShapedType::isDynamic(maxLeft) &&
                  bitsFor(maxLeft - 1) < bitsFor(maxLeft);
  unsigned bits = bitsFor(minusOne ? maxLeft - 1 : maxLeft);
  auto type = VectorType::get({lanes}, b.getIntegerType(bits));
  Value count = arith::IndexCastUIOp::create(
      b, type.getElementType(),
      minusOne ? arith::SubIOp::create(b, left, index(1)).getResult() : left);
  return arith::CmpIOp::create(
      b, minusOne ? arith::CmpIPredicate::ule : arith::CmpIPredicate::ult,
      laneConstants(type, [](int64_t l) { return l; }),
      vector::BroadcastOp::create(b, type, count));
}

Value Emitter::allTrue(int64_t lanes) {
  auto type = VectorType::get({lanes}, b.getI1Type());
  return arith::ConstantOp::create(
      b, type, DenseElementsAttr::get(type, b.getBoolAttr(true)));
}

Value Emitter::prefixMask(int64_t lanes, int64_t count) {
  auto type = VectorType::get({lanes}, b.getI1Type());
  SmallVector<bool> bits(lanes, false);
  for (int64_t l = 0; l < count && l < lanes; ++l)
    bits[l] = true;
  return arith::ConstantOp::create(b, type,
                                   DenseElementsAttr::get(type, ArrayRef(bits)));
}

/// v (a scalar or a vector) with its elements widened to accElem.
static Value extendTo(ImplicitLocOpBuilder &b, Value v, Type accElem) {
  Type type = v.getType();
  if (getElementTypeOrSelf(type) == accElem)
    return v;
  Type wide = accElem;
  if (auto vec = dyn_cast<VectorType>(type))
    wide = vec.clone(accElem);
  if (isa<FloatType>(accElem))
    return arith::ExtFOp::create(b, wide, v);
  return arith::ExtSIOp::create(b, wide, v);
}

static Value multiply(ImplicitLocOpBuilder &b, Value w, Value x, Type acc) {
  Value w2 = extendTo(b, w, acc), x2 = extendTo(b, x, acc);
  if (isa<FloatType>(acc))
    return arith::MulFOp::create(b, w2, x2);
  return arith::MulIOp::create(b, w2, x2);
}

Value Emitter::dot(Value acc, Value w, Value x) {
  Value prod = multiply(b, w, x, accType);
  return vector::ReductionOp::create(b, vector::CombiningKind::ADD, prod, acc);
}

Value Emitter::dot(Value acc, Value w, Value x, Value mask) {
  Value prod = multiply(b, w, x, accType);
  prod = arith::SelectOp::create(b, mask, prod, zero(prod.getType()));
  return vector::ReductionOp::create(b, vector::CombiningKind::ADD, prod, acc);
}

/// w * x lane by lane multiplied in i16 lanes (exact for int8) and widened
/// to `acc` lanes.
static Value productsViaI16(ImplicitLocOpBuilder &b, Value w, Value x,
                            Type acc) {
  Value prod = multiply(b, w, x, b.getI16Type());
  return arith::ExtSIOp::create(b, cast<VectorType>(w.getType()).clone(acc),
                                prod);
}

Value Emitter::dotI16(Value acc, Value w, Value x, Value mask) {
  Value products = productsViaI16(b, w, x, accType);
  if (mask)
    products =
        arith::SelectOp::create(b, mask, products, zero(products.getType()));
  return vector::ReductionOp::create(b, vector::CombiningKind::ADD, products,
                                     acc);
}

Value Emitter::mveDot(Value acc, Value w, Value x, Value mask) {
  // (unsigned, subtract, exchange) = 0.
  Value zero = LLVM::ConstantOp::create(b, b.getI32Type(), b.getI32IntegerAttr(0));
  SmallVector<Value> args{zero, zero, zero, acc, w, x};
  if (mask)
    args.push_back(mask);
  return LLVM::CallIntrinsicOp::create(
             b, accType,
             b.getStringAttr(mask ? "llvm.arm.mve.vmldava.predicated"
                                  : "llvm.arm.mve.vmldava"),
             args)
      .getResult(0);
}

Value Emitter::mulAdd(Value acc, Value w, Value x) {
  return add(acc, multiply(b, w, x, accType));
}

Value Emitter::macLanes(Value acc, Value w, Value x, bool i16Products) {
  auto wType = dyn_cast<VectorType>(w.getType());
  if (i16Products && wType && wType.getElementType().isInteger(8) &&
      getElementTypeOrSelf(x.getType()).isInteger(8) && accType.isInteger(32))
    return add(acc, productsViaI16(b, w, x, accType));
  return add(acc, multiply(b, w, x, accType));
}

Value Emitter::macLanesMasked(Value acc, Value w, Value x, Value mask,
                              bool i16Products) {
  return arith::SelectOp::create(b, mask, macLanes(acc, w, x, i16Products),
                                 acc);
}

std::pair<Value, Value> Emitter::rowSumOfTotals(Value acc0, Value lanes,
                                                Value total) {
  Value newTotal =
      vector::ReductionOp::create(b, vector::CombiningKind::ADD, lanes);
  Value sum =
      arith::AddIOp::create(b, acc0, arith::SubIOp::create(b, newTotal, total));
  return {sum, newTotal};
}

Value Emitter::add(Value a, Value c) {
  if (isa<FloatType>(getElementTypeOrSelf(a.getType())))
    return arith::AddFOp::create(b, a, c);
  return arith::AddIOp::create(b, a, c);
}

Value Emitter::addToLanes(Value y, Value at, Value acc, Value fill,
                          Value mask) {
  auto type = cast<VectorType>(acc.getType());
  Value old = fill ? vector::BroadcastOp::create(b, type, fill).getResult()
                   : read(type, y, {at}, mask);
  auto write = vector::TransferWriteOp::create(
      b, add(old, acc), y, ValueRange{at},
      AffineMap::getMinorIdentityMap(1, 1, b.getContext()),
      std::optional<ArrayRef<bool>>(ArrayRef<bool>{true}));
  if (mask)
    write.getMaskMutable().assign(mask);
  return write.getResult();
}

Value Emitter::extractIndex(Value tensor, Value at) {
  Value v = tensor::ExtractOp::create(b, tensor, at);
  return arith::IndexCastUIOp::create(b, b.getIndexType(), v);
}
