//===- LowerDense.cpp - dense int8 matvec, the baseline kernel ------------===//
//
// The dense baseline every sparse kernel is measured against, so it must be
// the best straightforward kernel: `denseRows` rows share each activation
// load; the column loop reads `vectorLength` lanes of x and of every row and
// accumulates with a widening multiply + `vector.reduction <add>` into a
// scalar per row (MVE: one `vldrb` per row and a `vmladava.s8`; RVV: `vle8`,
// `vwmul`, `vredsum`). The column tail (cols % vectorLength) is one masked
// step with a compile-time mask; leftover rows (rows % denseRows) run the
// same code one row at a time. On cortex-m55 W and x are read through
// pointers the loops carry (emitRowsMVE): 256x256 12,304 -> 11,465
// instructions (0.175 per MAC; the hand-written kernel of MEASURE.md: 0.174).
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Lowering.h"
#include "passes/LoopAnnotations.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mcusparse::lower;

/// Rows [r, r + count) of y += W x; returns the new y tensor.
static Value emitRows(ImplicitLocOpBuilder &b, const MatvecOperands &m,
                      const LowerOptions &opts, Value yt, Value r,
                      int64_t count) {
  Emitter e{b, m.accType};
  Value w = m.buffers[0];
  int64_t vl = opts.vectorLength;
  int64_t full = m.cols / vl * vl, tail = m.cols - full;
  Type wElem = m.weightType.getElementType();
  Type xElem = cast<ShapedType>(m.x.getType()).getElementType();
  auto wVec = VectorType::get({vl}, wElem), xVec = VectorType::get({vl}, xElem);

  SmallVector<Value> rowIdx, accs;
  for (int64_t k = 0; k < count; ++k) {
    rowIdx.push_back(k ? arith::AddIOp::create(b, r, e.index(k)).getResult()
                       : r);
    accs.push_back(tensor::ExtractOp::create(b, yt, rowIdx.back()));
  }
  auto step = [&](Value c, ValueRange in, Value mask) {
    SmallVector<Value> out;
    Value xv = e.read(xVec, m.x, {c}, mask);
    for (int64_t k = 0; k < count; ++k) {
      Value wv = e.read(wVec, w, {rowIdx[k], c}, mask);
      out.push_back(e.dot(in[k], wv, xv));
    }
    return out;
  };
  if (full > 0)
    accs = forLoop(b, e.index(0), e.index(full), e.index(vl), accs,
                   [&](Value c, ValueRange in) { return step(c, in, {}); });
  if (tail > 0) {
    Value mask = e.prefixMask(vl, tail);
    accs = step(e.index(full), accs, mask);
  }
  for (int64_t k = 0; k < count; ++k)
    yt = tensor::InsertOp::create(b, accs[k], yt, rowIdx[k]);
  return yt;
}

/// cortex-m55: the same rows with W and x read through pointers the loops
/// carry. The next block's first row starts where the last row's pointer
/// ends, so the outer loop keeps one W pointer instead of a base per row
/// (with four bases and the row indices live across the column loop, 14
/// GPRs did not hold them and they were spilled every block).
static std::pair<Value, Value>
emitRowsMVE(ImplicitLocOpBuilder &b, const MatvecOperands &m,
            const LowerOptions &opts, Value yt, Value r, int64_t count,
            Value wRow, Value xStart) {
  Emitter e{b, m.accType};
  Pointers ptrs{e};
  int64_t vl = opts.vectorLength;
  int64_t full = m.cols / vl * vl, tail = m.cols - full;
  Type wElem = m.weightType.getElementType();
  Type xElem = cast<ShapedType>(m.x.getType()).getElementType();
  auto wVec = VectorType::get({vl}, wElem), xVec = VectorType::get({vl}, xElem);
  Value rowLength = e.index(m.cols), step = e.index(vl);

  SmallVector<Value> rowIdx, state; // state: count sums, count W rows, x
  for (int64_t k = 0; k < count; ++k) {
    rowIdx.push_back(k ? arith::AddIOp::create(b, r, e.index(k)).getResult()
                       : r);
    state.push_back(tensor::ExtractOp::create(b, yt, rowIdx.back()));
  }
  for (int64_t k = 0; k < count; ++k)
    state.push_back(k ? ptrs.advance(state.back(), wElem, rowLength) : wRow);
  state.push_back(xStart);
  auto stepAt = [&](ValueRange in, Value mask, Value by) {
    SmallVector<Value> out(in);
    Value xv = ptrs.read(xVec, in[2 * count], mask);
    for (int64_t k = 0; k < count; ++k) {
      Value wv = ptrs.read(wVec, in[count + k], mask);
      out[k] = e.dot(in[k], wv, xv);
      out[count + k] = ptrs.advance(in[count + k], wElem, by);
    }
    out[2 * count] = ptrs.advance(in[2 * count], xElem, by);
    return out;
  };
  if (full > 0)
    state = forLoop(b, e.index(0), e.index(full), step, state,
                    [&](Value, ValueRange in) { return stepAt(in, {}, step); });
  if (tail > 0)
    state = stepAt(state, e.prefixMask(vl, tail), e.index(tail));
  for (int64_t k = 0; k < count; ++k)
    yt = tensor::InsertOp::create(b, state[k], yt, rowIdx[k]);
  return {yt, state[2 * count - 1]};
}

FailureOr<Value> mcusparse::lower::lowerDense(ImplicitLocOpBuilder &b,
                                              const MatvecOperands &m,
                                              const LowerOptions &opts) {
  Emitter e{b, m.accType};
  int64_t group = std::max<int64_t>(1, opts.denseRows);
  int64_t grouped = m.rows / group * group;
  Value y = m.y;
  if (opts.mve()) {
    Pointers ptrs{e};
    Value xStart = ptrs.to(m.x);
    SmallVector<Value> state{y, ptrs.to(m.buffers[0])};
    auto rows = [&](Value lb, Value ub, int64_t count) {
      state = forLoop(b, lb, ub, e.index(count), state,
                      [&](Value r, ValueRange in) -> SmallVector<Value> {
                        auto [yt, next] = emitRowsMVE(b, m, opts, in[0], r,
                                                      count, in[1], xStart);
                        return {yt, next};
                      });
      // Kept rolled: fully unrolled (a few row blocks, e.g. 12 x 10320),
      // LLVM advanced the later blocks' row pointers inside the earlier
      // column loops (3 more instructions per step).
      if (auto loop = state[0].getDefiningOp<scf::ForOp>())
        mcusparse::disableUnroll(loop);
    };
    if (grouped > 0)
      rows(e.index(0), e.index(grouped), group);
    if (grouped < m.rows)
      rows(e.index(grouped), e.index(m.rows), 1);
    return state[0];
  }
  if (grouped > 0)
    y = forLoop(b, e.index(0), e.index(grouped), e.index(group), {y},
                [&](Value r, ValueRange in) -> SmallVector<Value> {
                  return {emitRows(b, m, opts, in[0], r, group)};
                })[0];
  if (grouped < m.rows)
    y = forLoop(b, e.index(grouped), e.index(m.rows), e.index(1), {y},
                [&](Value r, ValueRange in) -> SmallVector<Value> {
                  return {emitRows(b, m, opts, in[0], r, 1)};
                })[0];
  return y;
}
