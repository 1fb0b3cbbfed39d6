//===- LowerGS.cpp - #sparse_enc.gs<lanes> matvec -------------------------===//
//
// Rows in groups of V = lanes; lane l of group g is row g*V + l, and every
// lane of a group has the same number K[g] = counts[g] of entries, stored
// step by step. Step k of group g loads V values and V column indices,
// gathers V activations and multiply-accumulates lane by lane into a
// vector<V x acc> (one accumulator per output row): no horizontal reduction
// and no per-lane branch in the loop. After the group the accumulator is
// added to y[g*V .. g*V+V) with one vector read-modify-write (out-of-bounds
// lanes of a padded last group are masked off). `off`, the start of the
// group's entries, is carried by the group loop (a running sum of K*V).
//
//===----------------------------------------------------------------------===//

#include "dialect/SparseEncDialect.h"
#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mcusparse::lower;

FailureOr<Value> mcusparse::lower::lowerGS(ImplicitLocOpBuilder &b,
                                           const MatvecOperands &m,
                                           const LowerOptions &) {
  auto gs = cast<mcusparse::sparse_enc::GSAttr>(m.weightType.getEncoding());
  Emitter e{b, m.accType};
  Value values = m.buffers[0], colIdx = m.buffers[1], counts = m.buffers[2];
  int64_t lanes = gs.getLanes();
  int64_t groups = (m.rows + lanes - 1) / lanes;
  auto vecOf = [&](Value t) {
    return VectorType::get({lanes},
                           cast<ShapedType>(t.getType()).getElementType());
  };
  auto accVec = VectorType::get({lanes}, m.accType);
  auto xVec = vecOf(m.x);
  Value zeroX = e.zero(xVec), zeroAcc = e.zero(accVec);
  Value all = e.allTrue(lanes);
  bool exact = m.rows % lanes == 0;

  SmallVector<Value> res = forLoop(
      b, e.index(0), e.index(groups), e.index(1), {m.y, e.index(0)},
      [&](Value g, ValueRange in) -> SmallVector<Value> {
        Value yt = in[0], off = in[1];
        Value steps = e.extractIndex(counts, g);
        Value end = arith::AddIOp::create(
            b, off, arith::MulIOp::create(b, steps, e.index(lanes)));
        Value acc = forLoop(
            b, off, end, e.index(lanes), {zeroAcc},
            [&](Value p, ValueRange a) -> SmallVector<Value> {
              Value v = e.read(vecOf(values), values, {p});
              Value cols = e.widenIndices(e.read(vecOf(colIdx), colIdx, {p}));
              Value xv = vector::GatherOp::create(b, xVec, m.x, e.index(0),
                                                  cols, all, zeroX);
              return {e.macLanes(a[0], v, xv)};
            })[0];
        Value row = arith::MulIOp::create(b, g, e.index(lanes));
        Value old = e.read(accVec, yt, {row}, {}, exact);
        Value sum = e.add(old, acc);
        AffineMap map = AffineMap::getMinorIdentityMap(1, 1, b.getContext());
        Value ynew = vector::TransferWriteOp::create(
                         b, sum, yt, ValueRange{row}, map,
                         std::optional<ArrayRef<bool>>(ArrayRef<bool>{exact}))
                         .getResult();
        return {ynew, end};
      });
  return res[0];
}
