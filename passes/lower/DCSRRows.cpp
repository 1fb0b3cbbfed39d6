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

Value DCSRRows::rampTimes(Value ramp, Value slope) const {
  auto i8 = e.b.getI8Type();
  Value slope8 = arith::TruncIOp::create(
      e.b, i8, arith::IndexCastOp::create(e.b, e.b.getI32Type(), slope));
  return arith::MulIOp::create(
      e.b, ramp, vector::BroadcastOp::create(e.b, ramp.getType(), slope8));
}
