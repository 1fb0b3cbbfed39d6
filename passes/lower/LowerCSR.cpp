//===- LowerCSR.cpp - #sparse_enc.csr matvec ------------------------------===//
//
// One row at a time: the row's entries row_ptr[r] .. row_ptr[r+1] are taken
// min(vector-length, 128 / index bits) at a time; the last step of a row is lane-predicated
// (`vector.create_mask` of the entries left). Each step loads the values and
// the column indices, gathers the activations at those columns
// (`vector.gather`, indices zero-extended: they are unsigned) and
// accumulates with a widening multiply + reduction into the row's scalar.
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mcusparse::lower;

FailureOr<Value> mcusparse::lower::lowerCSR(ImplicitLocOpBuilder &b,
                                            const MatvecOperands &m,
                                            const LowerOptions &opts) {
  Emitter e{b, m.accType};
  Value values = m.buffers[0], colIdx = m.buffers[1], rowPtr = m.buffers[2];
  // One 128-bit register of column indices per step: 16 lanes for 8-bit
  // indices, 8 for 16-bit (MVE: vldrh.u16 + an 8-lane vldrb.u16 gather with
  // 16-bit offsets under one vctp16 predicate; 16 lanes of 16-bit indices
  // would split every predicate over two registers).
  int64_t idxBits = cast<ShapedType>(colIdx.getType()).getElementTypeBitWidth();
  int64_t vl = std::max<int64_t>(1, std::min<int64_t>(opts.vectorLength,
                                                      128 / idxBits));
  auto vecOf = [&](Value t) {
    return VectorType::get({vl}, cast<ShapedType>(t.getType()).getElementType());
  };
  auto maskType = VectorType::get({vl}, b.getI1Type());
  Value zeroX = e.zero(vecOf(m.x));

  // row_ptr[r+1] is carried into the next row as its begin: one load per row.
  Value first = e.extractIndex(rowPtr, e.index(0));
  return forLoop(
      b, e.index(0), e.index(m.rows), e.index(1), {m.y, first},
      [&](Value r, ValueRange in) -> SmallVector<Value> {
        Value yt = in[0], begin = in[1];
        Value end =
            e.extractIndex(rowPtr, arith::AddIOp::create(b, r, e.index(1)));
        Value acc0 = tensor::ExtractOp::create(b, yt, r);
        Value acc = forLoop(
            b, begin, end, e.index(vl), {acc0},
            [&](Value j, ValueRange a) -> SmallVector<Value> {
              Value left = arith::SubIOp::create(b, end, j);
              Value mask = vector::CreateMaskOp::create(b, maskType, left);
              Value v = e.read(vecOf(values), values, {j}, mask);
              Value cols =
                  e.widenIndices(e.read(vecOf(colIdx), colIdx, {j}, mask));
              Value xv = vector::GatherOp::create(
                  b, cast<VectorType>(zeroX.getType()), m.x, e.index(0), cols,
                  mask, zeroX);
              return {e.dot(a[0], v, xv)};
            })[0];
        return {tensor::InsertOp::create(b, acc, yt, r), end};
      })[0];
}
