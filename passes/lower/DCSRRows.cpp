//===- DCSRRows.cpp - row geometry of the dCSR lowerings ------------------===//

#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mcusparse::lower;

static Type elementOf(Value v) {
  return cast<ShapedType>(v.getType()).getElementType();
}

DCSRGroupTypes::DCSRGroupTypes(Emitter &e, const MatvecOperands &m,
                               int64_t lanes)
    : DCSRGroupTypes(e, elementOf(m.buffers[0]), elementOf(m.x), lanes) {}

DCSRGroupTypes::DCSRGroupTypes(Emitter &e, Type valueElem, Type xElem,
                               int64_t lanes) {
  bytes = VectorType::get({lanes}, e.b.getI8Type());
  mask = VectorType::get({lanes}, e.b.getI1Type());
  values = VectorType::get({lanes}, valueElem);
  x = VectorType::get({lanes}, xElem);
  ramp = e.laneConstants(bytes, [](int64_t l) { return l; });
}

DCSRRows::DCSRRows(Emitter &e, Value values, Value nnzBuf, Value rowOffsets,
                   int64_t rows, int64_t cols, int64_t group)
    : e(e), rowOffsets(rowOffsets), cols(cols), group(group) {
  // nnz / rows, the integer division of the encoder. A constant frees the
  // register it would take in every row (cortex-m55 dcsr 256x256 90 %:
  // 3 instructions per row, a reload from the stack among them).
  auto valuesType = cast<ShapedType>(values.getType());
  if (valuesType.hasStaticShape()) {
    average = e.index(valuesType.getDimSize(0) / rows);
    return;
  }
  Value nnz = arith::IndexCastOp::create(
      e.b, e.b.getIndexType(),
      tensor::ExtractOp::create(e.b, nnzBuf, e.index(0)));
  average = arith::DivSIOp::create(e.b, nnz, e.index(rows));
}

Value DCSRRows::entries(Value r) const {
  Value offset = arith::IndexCastOp::create(
      e.b, e.b.getIndexType(), tensor::ExtractOp::create(e.b, rowOffsets, r));
  return arith::AddIOp::create(e.b, average, offset);
}

Value DCSRRows::slope(Value n, Value divisor) const {
  Value half = arith::DivUIOp::create(e.b, n, e.index(2));
  return arith::DivUIOp::create(
      e.b, arith::AddIOp::create(e.b, e.index(cols), half), divisor);
}

Value DCSRRows::groups(Value n) const {
  return arith::DivUIOp::create(
      e.b, arith::AddIOp::create(e.b, n, e.index(group - 1)), e.index(group));
}

SmallVector<Value> LayerPixels::startSums(ImplicitLocOpBuilder &b, Value yt,
                                          Value r) const {
  SmallVector<Value> sums;
  for (int64_t q = 0; q < pixels; ++q)
    sums.push_back(
        fillValue ? fillValue
                  : tensor::ExtractOp::create(b, yt, yAt(r, q)).getResult());
  return sums;
}

LayerPixels LayerPixels::matvec(const MatvecOperands &m, Value xPtr) {
  return LayerPixels{xPtr,
                     /*pixels=*/1,
                     /*xStride=*/0,
                     m.y,
                     [](Value r, int64_t) { return r; },
                     /*fillValue=*/Value(),
                     m.x,
                     /*xBase=*/Value()};
}

Value LayerPixels::xIndex(ImplicitLocOpBuilder &b, Emitter &e, int64_t q,
                          Value col) const {
  Value at = col;
  if (xBase)
    at = arith::AddIOp::create(b, xBase, at);
  if (q)
    at = arith::AddIOp::create(b, at, e.index(q * xStride));
  return at;
}

SmallVector<Value>
mcusparse::lower::dcsrPixelDots(Emitter &e, Pointers &ptrs,
                                const LayerPixels &px, VectorType xType,
                                Value base, Value offsets, Value mask, Value v,
                                ValueRange accs, bool rvv, bool dotUnderMask) {
  // rv32gcv: each gather's masked-off lanes come from the previous pixel's
  // gather, zero like the first one's, so RVV gathers into that dead
  // register instead of a fresh copy of a zero vector (a `vmv1r` per pixel);
  // each product is exact in i16 (`vwmul` at e8, then `vwredsum`). 64x64
  // over 125 pixels at 90 %: 138,372 -> 122,510 (i16) -> 112,589
  // instructions. On MVE a gather's pass-through other than zero costs a
  // `vpsel`, and `vmlava.s8` multiplies int8 lanes directly.
  // rv32gcv with one pixel: the reduction sums only the mask's lanes, so
  // the gather's and the values' masked-off lanes may be undefined (LLVM
  // multiplies under the mask into one zeroed register instead of copying
  // zeros into both loads; 256x256 90 % dcsr 27,120 -> 26,588
  // instructions). Over several pixels the masked products cost more than
  // the copies (SpMM x16 +9 %).
  bool onePixel = dcsrDotsSumMaskOnly(px, rvv);
  SmallVector<Value> out;
  Value previous;
  for (int64_t q = 0; q < px.pixels; ++q) {
    Value from =
        q ? ptrs.advance(base, e.b.getI8Type(), e.index(q * px.xStride)) : base;
    Value passThrough = !rvv       ? Value()
                        : previous ? previous
                        : onePixel ? e.poison(xType)
                                   : Value();
    Value xv = ptrs.gather(xType, from, offsets, mask, passThrough);
    previous = xv;
    out.push_back(rvv ? e.dotI16(accs[q], v, xv, onePixel ? mask : Value())
                  : dotUnderMask ? e.dot(accs[q], v, xv, mask)
                                 : e.dot(accs[q], v, xv));
  }
  return out;
}

Value DCSRRows::rampTimes(Value ramp, Value slope) const {
  auto i8 = e.b.getI8Type();
  Value slope8 = arith::TruncIOp::create(
      e.b, i8, arith::IndexCastOp::create(e.b, e.b.getI32Type(), slope));
  return arith::MulIOp::create(
      e.b, ramp, vector::BroadcastOp::create(e.b, ramp.getType(), slope8));
}
