//===- LowerCSECSR.cpp - #sparse_enc.cse_csr matvec -----------------------===//
//
// CSR with common subexpressions (docs/formats.md, "cse-csr"):
//
//   u = x (widened), then t, then -t          (4 * (cols + 2S) bytes, .bss)
//   t[k] = sub_values[2k] * u[p] + sub_values[2k+1] * u[q]   k = 0 .. S-1
//
// Indices into u are then exactly the format's: an operand or a row's
// reference is one load u[index], whether it names a column, adds t[k]
// (cols + k) or subtracts it (cols + S + k). The subexpressions are scalar
// code on every target (each may use the ones before it). Per row, the
// plain entries come first: while loops take four at a time while the
// fourth is still a column (indices ascend), then one at a time, the values
// cursor advancing over them only (rv32imc). Vector targets find the
// row's first reference by binary search and take the plain entries as
// CSR's vector kernels do (cortex-m55: its tail-predicated row). Then one
// add per reference: four per iteration on rv32imc; on vector targets a
// gather of vl references per step into lane sums (MVE: 4 x i32, a
// `vldrw.u32` gather with the u16 indices scaled), reduced once per row.
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>

using namespace mlir;
using namespace mcusparse::lower;

FailureOr<Value> mcusparse::lower::lowerCSECSR(ImplicitLocOpBuilder &b,
                                               const MatvecOperands &m,
                                               const LowerOptions &opts) {
  Emitter e{b, m.accType};
  Value values = m.buffers[0], colIdx = m.buffers[1], rowPtr = m.buffers[2],
        subOperands = m.buffers[3], subValues = m.buffers[4];
  auto length = [](Value t) {
    return cast<RankedTensorType>(t.getType()).getDimSize(0);
  };
  const int64_t subexpressions = length(subOperands) / 2;
  const int64_t entries = length(colIdx);
  if (entries == 0) // an all-zero matrix: y is unchanged
    return m.y;

  Type acc = m.accType;
  bool isFloat = isa<FloatType>(acc);
  Value cols = e.index(m.cols);
  auto below = [&](Value a, Value c) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, a, c);
  };
  auto widen = [&](Value v) -> Value {
    if (v.getType() == acc)
      return v;
    return isFloat ? Value(arith::ExtFOp::create(b, acc, v))
                   : Value(arith::ExtSIOp::create(b, acc, v));
  };
  auto subtract = [&](Value a, Value c) -> Value {
    return isFloat ? Value(arith::SubFOp::create(b, a, c))
                   : Value(arith::SubIOp::create(b, a, c));
  };

  // u = x, t, -t in one buffer of accumulators, so that both a
  // subexpression's operand and a row's reference (cols + k adds t[k],
  // cols + S + k subtracts it) are one load u[index]. The buffer is a
  // module global (.bss), not the stack: its 4 * (cols + 2S) bytes show in
  // the linked image and a too-large one fails at link time.
  const int64_t scratch = m.cols + 2 * subexpressions;
  auto uType = MemRefType::get({scratch}, acc);
  auto module = m.op->getParentOfType<ModuleOp>();
  if (!module)
    return m.op->emitOpError(
        "a #sparse_enc.cse_csr matvec must sit in a module "
        "(its scratch buffer is a module global)");
  OpBuilder detached(b.getContext());
  auto global = memref::GlobalOp::create(
      detached, b.getLoc(), "cse_csr_scratch", b.getStringAttr("private"),
      uType, b.getUnitAttr(), /*constant=*/false, /*alignment=*/nullptr);
  SymbolTable(module).insert(global,
                             module.getBody()->begin()); // renamed when taken
  Value u = memref::GetGlobalOp::create(b, uType, global.getSymName());
  forLoop(b, e.index(0), cols, e.index(1), {},
          [&](Value c, ValueRange) -> SmallVector<Value> {
            memref::StoreOp::create(
                b, widen(tensor::ExtractOp::create(b, m.x, c)), u, c);
            return {};
          });
  // The subexpressions, in order (operands always refer to earlier ones).
  auto subexpression = [&](Value k) {
    Value at = arith::MulIOp::create(b, k, e.index(2));
    Value term = e.zero(acc);
    for (int64_t i = 0; i < 2; ++i) {
      Value j = arith::AddIOp::create(b, at, e.index(i));
      Value o = e.extractIndex(subOperands, j);
      term = e.mulAdd(term, tensor::ExtractOp::create(b, subValues, j),
                      memref::LoadOp::create(b, u, o));
    }
    Value slot = arith::AddIOp::create(b, k, cols);
    memref::StoreOp::create(b, term, u, slot);
    Value negated = arith::AddIOp::create(b, slot, e.index(subexpressions));
    memref::StoreOp::create(b, subtract(e.zero(acc), term), u,
                            ValueRange{negated});
  };
  const int64_t vl =
      opts.mve() ? 4 : std::clamp<int64_t>(opts.vectorLength, 1, 16);
  const bool vector = !opts.scalarOnly() && vl > 1;
  if (!vector) {
    forLoop(b, e.index(0), e.index(subexpressions), e.index(1), {},
            [&](Value k, ValueRange) -> SmallVector<Value> {
              subexpression(k);
              return {};
            });
  } else {
    // vl subexpressions per step. The encoder orders them by level, so the
    // subexpressions of a step rarely read each other: only when all
    // operands are below cols + k does a step take one pass.
    auto i32 = b.getI32Type();
    auto laneOffsets = [&](int64_t first) {
      return e.laneConstants(VectorType::get({vl}, i32),
                             [&](int64_t l) { return 2 * l + first; });
    };
    Value even = laneOffsets(0), odd = laneOffsets(1);
    auto operandType = VectorType::get({vl}, b.getI16Type());
    auto coefficientType = VectorType::get(
        {vl}, cast<ShapedType>(subValues.getType()).getElementType());
    auto laneType = VectorType::get({vl}, acc);
    auto maskType = VectorType::get({vl}, b.getI1Type());
    forLoop(
        b, e.index(0), e.index(subexpressions), e.index(vl), {},
        [&](Value k, ValueRange) -> SmallVector<Value> {
          Value mask = vector::CreateMaskOp::create(
              b, maskType,
              ValueRange{arith::SubIOp::create(b, e.index(subexpressions), k)});
          Value at = arith::MulIOp::create(b, k, e.index(2));
          auto gather = [&](VectorType type, Value source, Value base,
                            Value offsets) {
            return vector::GatherOp::create(b, type, source, base, offsets,
                                            mask, e.zero(type));
          };
          Value p = e.widenIndices(gather(operandType, subOperands, at, even));
          Value q = e.widenIndices(gather(operandType, subOperands, at, odd));
          Value largest = vector::ReductionOp::create(
              b, vector::CombiningKind::MAXUI, arith::MaxUIOp::create(b, p, q));
          Value limit = arith::IndexCastOp::create(
              b, i32, arith::AddIOp::create(b, k, cols));
          Value independent = arith::CmpIOp::create(
              b, arith::CmpIPredicate::ult, largest, limit);
          // A step whose subexpressions read each other (across a level
          // boundary) runs vl times: each pass makes at least one more lane
          // right, in dependency order.
          Value passes =
              arith::SelectOp::create(b, independent, e.index(1), e.index(vl));
          Value c0 = e.index(0);
          Value a = gather(coefficientType, subValues, at, even);
          Value c = gather(coefficientType, subValues, at, odd);
          Value slot = arith::AddIOp::create(b, k, cols);
          Value negatedSlot =
              arith::AddIOp::create(b, slot, e.index(subexpressions));
          forLoop(b, c0, passes, e.index(1), {},
                  [&](Value, ValueRange) -> SmallVector<Value> {
                    Value term =
                        e.macLanes(e.macLanes(e.zero(laneType), a,
                                              gather(laneType, u, c0, p)),
                                   c, gather(laneType, u, c0, q));
                    vector::MaskedStoreOp::create(b, u, ValueRange{slot}, mask,
                                                  term);
                    vector::MaskedStoreOp::create(
                        b, u, ValueRange{negatedSlot}, mask,
                        subtract(e.zero(laneType), term));
                    return {};
                  });
          return {};
        });
  }

  // Rows: plain entries (CSR), then the references to t.
  Value lastEntry = e.index(entries - 1);
  auto idx = b.getIndexType();
  // Plain entries, `step` per iteration while the row has `step` more and
  // the last of them is a column: indices ascend, so then all of them are.
  auto plainEntries = [&](int64_t step, Value begin, Value end, Value cursor,
                          Value acc0) {
    SmallVector<Type> types{idx, idx, acc};
    SmallVector<Value> inits{begin, cursor, acc0};
    auto loop = scf::WhileOp::create(b, TypeRange(types), inits);
    OpBuilder::InsertionGuard guard(b);
    SmallVector<Location> locs(types.size(), b.getLoc());
    Block *before = b.createBlock(&loop.getBefore(), {}, types, locs);
    Value last =
        arith::AddIOp::create(b, before->getArgument(0), e.index(step - 1));
    // The clamped load stays inside col_idx past the last entry.
    Value column =
        e.extractIndex(colIdx, arith::MinUIOp::create(b, last, lastEntry));
    Value more =
        arith::AndIOp::create(b, below(last, end), below(column, cols));
    scf::ConditionOp::create(b, more, before->getArguments());
    Block *after = b.createBlock(&loop.getAfter(), {}, types, locs);
    Value j = after->getArgument(0), at = after->getArgument(1);
    Value sum = after->getArgument(2);
    for (int64_t i = 0; i < step; ++i) {
      Value ji = arith::AddIOp::create(b, j, e.index(i));
      Value ati = arith::AddIOp::create(b, at, e.index(i));
      sum = e.mulAdd(
          sum, tensor::ExtractOp::create(b, values, ati),
          tensor::ExtractOp::create(b, m.x, e.extractIndex(colIdx, ji)));
    }
    scf::YieldOp::create(
        b, ValueRange{arith::AddIOp::create(b, j, e.index(step)),
                      arith::AddIOp::create(b, at, e.index(step)), sum});
    return SmallVector<Value>(loop.getResults());
  };
  // References: acc + sum of u[col_idx[j]] over [begin, end).
  const int64_t unroll = 4;
  auto scalarReferences = [&](Value begin, Value end, Value acc0) {
    return unrolledSum(b, e, begin, end, unroll, acc0, [&](Value sum, Value j) {
      return e.add(sum,
                   memref::LoadOp::create(b, u, e.extractIndex(colIdx, j)));
    });
  };
  // Vector targets: vl references gathered at once into lane sums (the last
  // step under a lane mask), one reduction per row.
  auto vectorReferences = [&](Value begin, Value end, Value acc0) {
    auto laneType = VectorType::get({vl}, acc);
    auto indexType = VectorType::get({vl}, b.getI16Type());
    auto maskType = VectorType::get({vl}, b.getI1Type());
    Value lanes = forLoop(
        b, begin, end, e.index(vl), {e.zero(laneType)},
        [&](Value j, ValueRange a) -> SmallVector<Value> {
          Value mask = vector::CreateMaskOp::create(
              b, maskType, ValueRange{arith::SubIOp::create(b, end, j)});
          Value at =
              e.widenIndices(e.readUndefTail(indexType, colIdx, {j}, mask));
          Value terms = vector::GatherOp::create(b, laneType, u, e.index(0), at,
                                                 mask, e.poison(laneType));
          return {arith::SelectOp::create(b, mask, e.add(a[0], terms), a[0])};
        })[0];
    return Value(vector::ReductionOp::create(b, vector::CombiningKind::ADD,
                                             lanes, acc0));
  };
  auto references = [&](Value begin, Value end, Value acc0) {
    return opts.scalarOnly() || vl == 1 ? scalarReferences(begin, end, acc0)
                                        : vectorReferences(begin, end, acc0);
  };
  // Vector targets: the row's first reference by binary search (indices
  // ascend and references are the ones from cols), then the plain entries
  // as CSR's vector kernels take them.
  auto search = [&](Value begin, Value end) -> Value {
    SmallVector<Type> types{idx, idx};
    auto loop =
        scf::WhileOp::create(b, TypeRange(types), ValueRange{begin, end});
    OpBuilder::InsertionGuard guard(b);
    SmallVector<Location> locs(2, b.getLoc());
    Block *before = b.createBlock(&loop.getBefore(), {}, types, locs);
    scf::ConditionOp::create(
        b, below(before->getArgument(0), before->getArgument(1)),
        before->getArguments());
    Block *after = b.createBlock(&loop.getAfter(), {}, types, locs);
    Value lo = after->getArgument(0), hi = after->getArgument(1);
    Value mid = arith::AddIOp::create(
        b, lo,
        arith::ShRUIOp::create(b, arith::SubIOp::create(b, hi, lo),
                               e.index(1)));
    Value isColumn = below(e.extractIndex(colIdx, mid), cols);
    scf::YieldOp::create(
        b, ValueRange{
               arith::SelectOp::create(
                   b, isColumn, arith::AddIOp::create(b, mid, e.index(1)), lo),
               arith::SelectOp::create(b, isColumn, hi, mid)});
    return loop.getResult(0);
  };
  // Most rows of a matrix with few subexpressions have no reference: one
  // look at the row's last entry spares them the search.
  auto firstReference = [&](Value begin, Value end) -> Value {
    Value last = arith::MinUIOp::create(
        b, arith::SubIOp::create(b, end, e.index(1)), lastEntry);
    Value hasReference = arith::AndIOp::create(
        b, below(begin, end),
        arith::CmpIOp::create(b, arith::CmpIPredicate::uge,
                              e.extractIndex(colIdx, last), cols));
    auto ifOp = scf::IfOp::create(b, TypeRange{idx}, hasReference,
                                  /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    scf::YieldOp::create(b, search(begin, end));
    b.setInsertionPointToStart(ifOp.elseBlock());
    scf::YieldOp::create(b, end);
    return ifOp.getResult(0);
  };
  Value first = e.extractIndex(rowPtr, e.index(0));
  return forLoop(
      b, e.index(0), e.index(m.rows), e.index(1), {m.y, first, e.index(0)},
      [&](Value r, ValueRange in) -> SmallVector<Value> {
        Value yt = in[0], begin = in[1], cursor = in[2];
        Value end =
            e.extractIndex(rowPtr, arith::AddIOp::create(b, r, e.index(1)));
        Value acc0 = tensor::ExtractOp::create(b, yt, r);
        if (opts.scalarOnly() || vl == 1) {
          SmallVector<Value> plain = plainEntries(4, begin, end, cursor, acc0);
          plain = plainEntries(1, plain[0], end, plain[1], plain[2]);
          Value sum = references(plain[0], end, plain[2]);
          return {tensor::InsertOp::create(b, sum, yt, r), end, plain[1]};
        }
        Value split = firstReference(begin, end);
        // MVE: 8 lanes, one q register of the 16-bit column indices.
        Value sum = opts.mve()
                        ? csrRowsMVE(b, e, values, colIdx, m.x, {e.index(0)}, 8,
                                     begin, split, {acc0}, cursor)[0]
                        : csrRowLanes(b, e, values, colIdx, m.x, vl, begin,
                                      split, acc0, cursor);
        sum = references(split, end, sum);
        Value next = arith::AddIOp::create(
            b, cursor, arith::SubIOp::create(b, split, begin));
        return {tensor::InsertOp::create(b, sum, yt, r), end, next};
      })[0];
}
