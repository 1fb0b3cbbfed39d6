//===- LowerCSR.cpp - #sparse_enc.csr matvec ------------------------------===//
//
// One row at a time: the row's entries row_ptr[r] .. row_ptr[r+1] are taken
// min(vector-length, 128 / index bits) at a time; the last step of a row is lane-predicated
// (`vector.create_mask` of the entries left). Each step loads the values and
// the column indices, gathers the activations at those columns
// (`vector.gather`, indices zero-extended: they are unsigned) and
// accumulates with a widening multiply + reduction into the row's scalar.
//
// On cortex-m55 the row loop takes the shape of LLVM's tail-predicated loops
// (tailPredicatedRow): the loop becomes `dlstp`/`letp`, and a step of 8
// entries with 16-bit indices is 5 instructions (`vldrh`, `vldrb.s16`
// gather, `vldrb.s16`, `vmlava.s16`, `letp`) instead of 10. The row loop
// reads row_ptr through a pointer it advances (Pointers.cpp): csr 256x256
// 90 % 8,871 -> 8,359 instructions, modeled cycles lower too; and takes two
// rows per iteration (shared loop control): 8,359 -> 7,718, csr:8 6,284 ->
// 5,643 (with llc -align-loops=2).
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mcusparse::lower;

// The row's entries in the shape LLVM's MVE tail predication recognises
// (what its loop vectoriser emits), so the loop becomes `dlstp`/`letp` with
// no `vctp`/`vpst` per step: a do-while loop, k from 0 to n rounded up to
// vl with an exact (`!=`) exit, the lane mask is `llvm.get.active.lane.mask(k, n)` (an LLVM
// intrinsic: `vector.create_mask` of the entries left lowers to
// get.active.lane.mask(0, left), which the pass does not match), and the
// product is selected under the mask before the reduction (MVE tail
// predication accepts only predicated reductions).
SmallVector<Value> mcusparse::lower::csrRowsMVE(
    ImplicitLocOpBuilder &b, Emitter &e, Value values, Value colIdx, Value x,
    ValueRange xBases, int64_t vl, Value begin, Value end, ValueRange accs0,
    Value valuesBegin) {
  auto vecOf = [&](Value t) {
    return VectorType::get({vl}, cast<ShapedType>(t.getType()).getElementType());
  };
  auto maskType = VectorType::get({vl}, b.getI1Type());
  Value zeroX = e.zero(vecOf(x));
  auto i32 = b.getI32Type();
  Value n = arith::SubIOp::create(b, end, begin);
  Value rounded = arith::AndIOp::create(
      b, arith::AddIOp::create(b, n, e.index(vl - 1)), e.index(-vl));
  Value n32 = arith::IndexCastOp::create(b, i32, n);
  auto i8 = b.getI8Type();
  bool int8x8 = vl == 8 && e.accType == i32 &&
                vecOf(values).getElementType() == i8 &&
                vecOf(x).getElementType() == i8;
  auto step = [&](Value k, ValueRange accs) {
    Value mask = LLVM::GetActiveLaneMaskOp::create(
        b, maskType, arith::IndexCastOp::create(b, i32, k), n32);
    Value at = arith::AddIOp::create(b, begin, k);
    Value valuesAt =
        valuesBegin ? Value(arith::AddIOp::create(b, valuesBegin, k)) : at;
    Value v = e.read(vecOf(values), values, {valuesAt}, mask);
    Value cols = e.widenIndices(e.read(vecOf(colIdx), colIdx, {at}, mask));
    SmallVector<Value> out;
    for (auto [acc, base] : llvm::zip(accs, xBases)) {
      Value xv = vector::GatherOp::create(b, cast<VectorType>(zeroX.getType()),
                                          x, base, cols, mask, zeroX);
      if (!int8x8) {
        out.push_back(e.dot(acc, v, xv, mask));
        continue;
      }
      // int8 x int8 in 8 lanes: sign-extend both to 16 bits (a `vldrb.s16`
      // gather and load) and accumulate with a predicated `vmlava.s16`;
      // generic IR widens the gathered bytes with a separate `vmovlb.s8`.
      auto i16x8 = VectorType::get({8}, b.getI16Type());
      out.push_back(e.mveDot(acc, arith::ExtSIOp::create(b, i16x8, v),
                             arith::ExtSIOp::create(b, i16x8, xv), mask));
    }
    return out;
  };
  // do { accs = step(k, accs); k += vl; } while (k != rounded), for n > 0.
  TypeRange accTypes = ValueRange(accs0).getTypes();
  auto nonEmpty = scf::IfOp::create(
      b, accTypes,
      arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, n, e.index(0)),
      /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(nonEmpty.thenBlock());
  Type idx = b.getIndexType();
  SmallVector<Type> types{idx};
  types.append(accTypes.begin(), accTypes.end());
  SmallVector<Value> inits{e.index(0)};
  inits.append(accs0.begin(), accs0.end());
  SmallVector<Location> locs(types.size(), b.getLoc());
  auto loop = scf::WhileOp::create(b, types, inits);
  Block *before = b.createBlock(&loop.getBefore(), {}, types, locs);
  Value k = before->getArgument(0);
  SmallVector<Value> next{arith::AddIOp::create(b, k, e.index(vl))};
  llvm::append_range(next, step(k, before->getArguments().drop_front()));
  scf::ConditionOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::ne, next[0], rounded),
      next);
  Block *after = b.createBlock(&loop.getAfter(), {}, types, locs);
  scf::YieldOp::create(b, after->getArguments());
  b.setInsertionPointAfter(loop);
  scf::YieldOp::create(b, loop.getResults().drop_front());
  b.setInsertionPointToStart(nonEmpty.elseBlock());
  scf::YieldOp::create(b, accs0);
  return SmallVector<Value>(nonEmpty.getResults());
}

static Value tailPredicatedRow(ImplicitLocOpBuilder &b, Emitter &e,
                               const MatvecOperands &m, int64_t vl,
                               Value begin, Value end, Value acc0) {
  return csrRowsMVE(b, e, m.buffers[0], m.buffers[1], m.x, {e.index(0)}, vl,
                    begin, end, {acc0})[0];
}

// rv32imc has no vector unit: vector steps would be scalarised lane by lane
// (every lane predicated), so a row is a plain scalar loop over its entries,
// four per iteration (the loop's pointer updates and branch shared: 6.75
// instructions per entry instead of 9), then the row's last n % 4.
static Value scalarRow(ImplicitLocOpBuilder &b, Emitter &e,
                       const MatvecOperands &m, Value begin, Value end,
                       Value acc0) {
  constexpr int64_t unroll = 4;
  Value values = m.buffers[0], colIdx = m.buffers[1];
  auto mac = [&](Value acc, Value j) {
    Value w = tensor::ExtractOp::create(b, values, j);
    Value xv = tensor::ExtractOp::create(b, m.x, e.extractIndex(colIdx, j));
    return e.mulAdd(acc, w, xv);
  };
  return unrolledSum(b, e, begin, end, unroll, acc0, mac);
}

// Other vector targets (RVV): the products accumulate lane by lane in a
// vector of accumulators and the row ends with one reduction, instead of
// one `vredsum` per step. The last step reads and gathers under the lane
// mask with undefined masked-off lanes and keeps those accumulators
// (a select RVV folds into a masked `vwmacc`). lanes0 + the lane sums of
// the entries [begin, end).
static Value csrLaneSums(ImplicitLocOpBuilder &b, Emitter &e, Value values,
                         Value colIdx, Value x, int64_t vl, Value begin,
                         Value end, Value lanes0, Value valuesBegin,
                         bool i16Products) {
  auto vecOf = [&](Value t) {
    return VectorType::get({vl}, cast<ShapedType>(t.getType()).getElementType());
  };
  // No row holds more entries than the buffer of values.
  int64_t maxRowLength = cast<ShapedType>(values.getType()).getDimSize(0);
  return forLoop(
      b, begin, end, e.index(vl), {lanes0},
      [&](Value j, ValueRange a) -> SmallVector<Value> {
        // rv32gcv csr:8 256x256 90 %: 8,808 -> 8,555 instructions against
        // vector.create_mask.
        Value mask =
            e.lanesBelow(vl, arith::SubIOp::create(b, end, j), maxRowLength);
        Value at = valuesBegin ? Value(arith::AddIOp::create(
                                     b, valuesBegin,
                                     arith::SubIOp::create(b, j, begin)))
                               : j;
        Value v = e.readUndefTail(vecOf(values), values, {at}, mask);
        Value cols =
            e.widenIndices(e.readUndefTail(vecOf(colIdx), colIdx, {j}, mask));
        Value xv = vector::GatherOp::create(b, vecOf(x), x, e.index(0), cols,
                                            mask, e.poison(vecOf(x)));
        return {e.macLanesMasked(a[0], v, xv, mask, i16Products)};
      })[0];
}

Value mcusparse::lower::csrRowLanes(ImplicitLocOpBuilder &b, Emitter &e,
                                    Value values, Value colIdx, Value x,
                                    int64_t vl, Value begin, Value end,
                                    Value acc0, Value valuesBegin,
                                    bool i16Products) {
  Value lanes = csrLaneSums(b, e, values, colIdx, x, vl, begin, end,
                            e.zero(VectorType::get({vl}, e.accType)),
                            valuesBegin, i16Products);
  return vector::ReductionOp::create(b, vector::CombiningKind::ADD, lanes, acc0);
}

FailureOr<Value> mcusparse::lower::lowerCSR(ImplicitLocOpBuilder &b,
                                            const MatvecOperands &m,
                                            const LowerOptions &opts) {
  Emitter e{b, m.accType};
  Value colIdx = m.buffers[1], rowPtr = m.buffers[2];
  // MVE: one 128-bit register of column indices per step, 16 lanes for
  // 8-bit indices, 8 for 16-bit (vldrh.u16 + an 8-lane vldrb.u16 gather with
  // 16-bit offsets under one predicate; 16 lanes of 16-bit indices would
  // split every predicate over two registers). RVV groups registers, so a
  // step takes the target's vector length (rv32gcv: 32 lanes, measured at
  // 90 % 256x256: 9,675 instructions against 13,455 for 16 and 19,680 for 8).
  int64_t vl = std::max<int64_t>(1, opts.vectorLength);
  if (opts.mve()) {
    int64_t idxBits =
        cast<ShapedType>(colIdx.getType()).getElementTypeBitWidth();
    vl = std::min<int64_t>(vl, 128 / idxBits);
  }

  // row_ptr[r+1] is carried into the next row as its begin: one load per row.
  Value first = e.extractIndex(rowPtr, e.index(0));
  if (opts.mve()) {
    // MVE: row_ptr read through a pointer the row loop advances (ldrh with
    // post-increment), so the row index only addresses y; two rows per
    // iteration share the loop control.
    Pointers ptrs{e};
    auto ptrElem = cast<ShapedType>(rowPtr.getType()).getElementType();
    Value rp0 = ptrs.advance(ptrs.to(rowPtr), ptrElem, e.index(1));
    auto rowStep = [&](Value r, ValueRange in) -> SmallVector<Value> {
          Value yt = in[0], begin = in[1], rp = in[2];
          // Row pointers are unsigned: u16, or u32 past 65,535 entries.
          Value word = ptrs.load(ptrElem, rp);
          if (ptrElem.getIntOrFloatBitWidth() < 32)
            word = arith::ExtUIOp::create(b, b.getI32Type(), word);
          Value end = arith::IndexCastUIOp::create(b, b.getIndexType(), word);
          Value acc0 = tensor::ExtractOp::create(b, yt, r);
          Value acc = tailPredicatedRow(b, e, m, vl, begin, end, acc0);
          return {tensor::InsertOp::create(b, acc, yt, r), end,
                  ptrs.advance(rp, ptrElem, e.index(1))};
    };
    SmallVector<Value> out = forLoop(
        b, e.index(0), e.index(m.rows / 2 * 2), e.index(2), {m.y, first, rp0},
        [&](Value r, ValueRange in) -> SmallVector<Value> {
          return rowStep(arith::AddIOp::create(b, r, e.index(1)), rowStep(r, in));
        });
    if (m.rows % 2)
      out = rowStep(e.index(m.rows - 1), out);
    return out[0];
  }
  if (opts.scalarOnly())
    return forLoop(
        b, e.index(0), e.index(m.rows), e.index(1), {m.y, first},
        [&](Value r, ValueRange in) -> SmallVector<Value> {
          Value yt = in[0], begin = in[1];
          Value end =
              e.extractIndex(rowPtr, arith::AddIOp::create(b, r, e.index(1)));
          Value acc0 = tensor::ExtractOp::create(b, yt, r);
          return {tensor::InsertOp::create(
                      b, scalarRow(b, e, m, begin, end, acc0), yt, r),
                  end};
        })[0];
  // Vector targets: integer lane sums (csrLaneSums) are never reset, so a
  // row's sum is the growth of their total since the row before (exact in
  // wrapping i32 arithmetic; no zeroing per row). Float sums start from 0
  // in every row (a running total would round differently). Four rows per
  // iteration share the loop control and y's addressing. rv32gcv 256x256
  // 90 %: csr 9,067 -> 7,532 and csr:8 8,555 -> 7,020 instructions (rows
  // per iteration 2: 8,171, 4: 7,595, 8: 7,307 with 704 bytes more code,
  // before the running total); products in i16 lanes (`vwmul` at e8,
  // `vwadd.wv`; 9,600 -> 9,320 before).
  bool runningTotal = isa<IntegerType>(e.accType);
  auto laneType = VectorType::get({vl}, e.accType);
  auto laneRow = [&](Value r, ValueRange in) -> SmallVector<Value> {
    Value yt = in[0], begin = in[1];
    Value end = e.extractIndex(rowPtr, arith::AddIOp::create(b, r, e.index(1)));
    Value acc0 = tensor::ExtractOp::create(b, yt, r);
    if (!runningTotal)
      return {tensor::InsertOp::create(b,
                                       csrRowLanes(b, e, m.buffers[0], colIdx,
                                                   m.x, vl, begin, end, acc0),
                                       yt, r),
              end};
    Value lanes = in[2], total = in[3];
    Value newLanes =
        csrLaneSums(b, e, m.buffers[0], colIdx, m.x, vl, begin, end, lanes,
                    /*valuesBegin=*/{}, /*i16Products=*/opts.rvv());
    auto [sum, newTotal] = e.rowSumOfTotals(acc0, newLanes, total);
    return {tensor::InsertOp::create(b, sum, yt, r), end, newLanes, newTotal};
  };
  SmallVector<Value> inits{m.y, first};
  if (runningTotal)
    inits.append({e.zero(laneType), e.zero(e.accType)});
  return forRowBlocks(b, e, m.rows, /*perIteration=*/4, inits, laneRow)[0];
}
