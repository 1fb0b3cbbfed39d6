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
// Cortex-M55, V = 16, int8 x int8 -> int32: MVE has no lane-wise widening
// multiply-accumulate, and a vector<16xi32> accumulator in row order makes
// LLVM shuffle through the stack (28 instructions per step). Instead the
// step computes `vmullb.s8` / `vmullt.s8` (llvm.arm.mve.vmull: int16
// products of the even / odd byte lanes, exact for int8 x int8) and widens
// each with a bottom/top split of its 16-bit halves (`vmovlb.s16`,
// `vshr.s32 #16`) into four vector<4xi32> accumulators holding rows
// {4i}, {4i+2}, {4i+1}, {4i+3}: 14 instructions per 16 nonzeros. After the
// group one shuffle puts the four back in row order (a 4x4 transpose).
// With 16-bit column indices (more than 256 columns) MVE gathers bytes only
// 8 lanes at a time, so each half of the group is gathered sign-extended to
// int16 and multiplied with `vmullb.s16` / `vmullt.s16` (mveMac16Wide): 15
// instructions per 16 nonzeros, 512x1024 at 90 % 0.79x -> 1.69x of dense.
// With V = 8 one such half is the whole step (mveMac8): 8 instructions per
// 8 nonzeros, 256x256 at 90 % 21,588 -> 7,722 instructions (generic
// vector<8xi32> step before).
//
//===----------------------------------------------------------------------===//

#include "dialect/SparseEncDialect.h"
#include "passes/MVEIntrinsics.h"
#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mcusparse::lower;

/// acc[0..3] + the 16 lane products of v * xv (int8), lanes permuted as
/// described above (MVE vmullb/vmullt + 16-bit half split).
static SmallVector<Value> mveMac16(ImplicitLocOpBuilder &b, ValueRange acc,
                                   Value v, Value xv) {
  auto i16v8 = VectorType::get({8}, b.getI16Type());
  auto i32v4 = VectorType::get({4}, b.getI32Type());
  Value sixteen = arith::ConstantOp::create(
      b, i32v4, DenseElementsAttr::get(i32v4, b.getI32IntegerAttr(16)));
  SmallVector<Value> out;
  for (int top = 0; top < 2; ++top) {
    // int16 products of the even (top = 0) or odd (top = 1) byte lanes.
    Value p = mcusparse::mveVmull(b, b.getLoc(), i16v8, v, xv, top);
    Value p32 = vector::BitCastOp::create(b, i32v4, p);
    Value lo = arith::ShRSIOp::create(
        b, arith::ShLIOp::create(b, p32, sixteen), sixteen);
    Value hi = arith::ShRSIOp::create(b, p32, sixteen);
    out.push_back(arith::AddIOp::create(b, acc[2 * top], lo));
    out.push_back(arith::AddIOp::create(b, acc[2 * top + 1], hi));
  }
  // out = {rows 4i, rows 4i+2, rows 4i+1, rows 4i+3}
  return out;
}

/// acc[0..1] + the int32 products of 8 lanes starting at entry p: values
/// sign-extended to int16 (`vldrb.s16`), activations gathered at the column
/// indices (8-bit or 16-bit) and sign-extended (`vldrb.s16` with 16-bit
/// offsets), `vmullb.s16` / `vmullt.s16` into acc = {lanes 0,2,4,6},
/// {lanes 1,3,5,7}.
static SmallVector<Value> mveMac8(ImplicitLocOpBuilder &b, Emitter &e,
                                  ValueRange acc, Value values, Value colIdx,
                                  Value x, Value p) {
  auto i8v8 = VectorType::get({8}, b.getI8Type());
  auto i16v8 = VectorType::get({8}, b.getI16Type());
  auto i32v4 = VectorType::get({4}, b.getI32Type());
  auto idxV8 = VectorType::get(
      {8}, cast<ShapedType>(colIdx.getType()).getElementType());
  Value v = arith::ExtSIOp::create(b, i16v8, e.read(i8v8, values, {p}));
  Value cols = e.widenIndices(e.read(idxV8, colIdx, {p}));
  Value xv = arith::ExtSIOp::create(
      b, i16v8,
      vector::GatherOp::create(b, i8v8, x, e.index(0), cols, e.allTrue(8),
                               e.zero(i8v8)));
  SmallVector<Value> out;
  for (int top = 0; top < 2; ++top)
    out.push_back(arith::AddIOp::create(
        b, acc[top], mcusparse::mveVmull(b, b.getLoc(), i32v4, v, xv, top)));
  return out;
}

/// The same for V = 16 with 16-bit column indices (more than 256 columns),
/// where MVE gathers bytes 8 lanes at a time: rows 0-7 and 8-15 of the
/// group are two halves (mveMac8): acc = {rows 0,2,4,6}, {1,3,5,7},
/// {8,10,12,14}, {9,11,13,15}.
static SmallVector<Value> mveMac16Wide(ImplicitLocOpBuilder &b, Emitter &e,
                                       ValueRange acc, Value values,
                                       Value colIdx, Value x, Value p) {
  SmallVector<Value> out =
      mveMac8(b, e, acc.take_front(2), values, colIdx, x, p);
  out.append(mveMac8(b, e, acc.drop_front(2), values, colIdx, x,
                     arith::AddIOp::create(b, p, e.index(8))));
  return out;
}

/// The 16 rows of a group in order from four vector<4xi32> accumulators:
/// lane i of quarter k holds row rowOf(k, i). Two concatenations and one
/// shuffle.
template <typename RowOf>
static Value toRowOrder(ImplicitLocOpBuilder &b, ArrayRef<Value> quarters,
                        RowOf rowOf) {
  static constexpr int64_t both[] = {0, 1, 2, 3, 4, 5, 6, 7};
  Value c01 = vector::ShuffleOp::create(b, quarters[0], quarters[1], both);
  Value c23 = vector::ShuffleOp::create(b, quarters[2], quarters[3], both);
  SmallVector<int64_t> mask(16);
  for (int64_t k = 0; k < 4; ++k)
    for (int64_t i = 0; i < 4; ++i)
      mask[rowOf(k, i)] = 4 * k + i;
  return vector::ShuffleOp::create(b, c01, c23, mask);
}

/// rv32gcv layer matmuls: every group of V rows against the pixels of `px`.
/// Each step's values and column indices are read once, and each pixel q
/// gathers X at px.xBase + q * K + column and multiply-accumulates into its
/// own lane accumulators (a matvec per pixel read every step again for
/// every pixel). A padded last group reads and stores Y under its row mask,
/// as the next pixel's sums follow in Y.
Value mcusparse::lower::gsRowsRVV(ImplicitLocOpBuilder &b, Emitter &e,
                                  ArrayRef<Value> buffers, int64_t rows,
                                  int64_t lanes, const LayerPixels &px) {
  Value values = buffers[0], colIdx = buffers[1], counts = buffers[2];
  int64_t groups = (rows + lanes - 1) / lanes;
  auto vecOf = [&](Value t) {
    return VectorType::get({lanes},
                           cast<ShapedType>(t.getType()).getElementType());
  };
  auto accVec = VectorType::get({lanes}, e.accType);
  auto xVec = vecOf(px.x);
  Value zeroX = e.zero(xVec), all = e.allTrue(lanes);
  // Products in i16 lanes with 8-bit column indices (64x64 over 125 pixels:
  // 34,891 -> 31,413 instructions); with 16-bit ones 4 % more.
  bool i16Products =
      cast<ShapedType>(colIdx.getType()).getElementType().isInteger(8);
  // The rows of a padded last group.
  int64_t last = rows - (groups - 1) * lanes;
  return forLoop(
      b, e.index(0), e.index(groups), e.index(1), {px.y, e.index(0)},
      [&](Value g, ValueRange in) -> SmallVector<Value> {
        Value yt = in[0], off = in[1];
        Value steps = e.extractIndex(counts, g);
        Value end = arith::AddIOp::create(
            b, off, arith::MulIOp::create(b, steps, e.index(lanes)));
        SmallVector<Value> accs = forLoop(
            b, off, end, e.index(lanes),
            SmallVector<Value>(px.pixels, e.zero(accVec)),
            [&](Value p, ValueRange a) -> SmallVector<Value> {
              Value v = e.read(vecOf(values), values, {p});
              Value cols = e.widenIndices(e.read(vecOf(colIdx), colIdx, {p}));
              SmallVector<Value> out;
              for (int64_t q = 0; q < px.pixels; ++q) {
                Value base = q ? arith::AddIOp::create(b, px.xBase,
                                                       e.index(q * px.xStride))
                                     .getResult()
                               : px.xBase;
                Value xv = vector::GatherOp::create(b, xVec, px.x, base, cols,
                                                    all, zeroX);
                out.push_back(e.macLanes(a[q], v, xv, i16Products));
              }
              return out;
            });
        Value row = arith::MulIOp::create(b, g, e.index(lanes));
        Value mask;
        if (last != lanes)
          mask = arith::SelectOp::create(
              b,
              arith::CmpIOp::create(b, arith::CmpIPredicate::eq, g,
                                    e.index(groups - 1)),
              e.prefixMask(lanes, last), all);
        for (int64_t q = 0; q < px.pixels; ++q)
          yt = e.addToLanes(yt, px.yAt(row, q), accs[q], px.fillValue, mask);
        return {yt, end};
      })[0];
}

FailureOr<Value> mcusparse::lower::lowerGS(ImplicitLocOpBuilder &b,
                                           const MatvecOperands &m,
                                           const LowerOptions &opts) {
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
  auto isInt = [&](Type t, unsigned w) {
    return t.isSignlessInteger(w);
  };
  bool mveInt8 = opts.mve() &&
                 isInt(cast<ShapedType>(values.getType()).getElementType(), 8) &&
                 isInt(xVec.getElementType(), 8) && isInt(m.accType, 32);
  bool mve16 = mveInt8 && lanes == 16, mve8 = mveInt8 && lanes == 8;
  bool wideIdx = isInt(cast<ShapedType>(colIdx.getType()).getElementType(), 16);
  // rv32gcv: products in i16 lanes with 8-bit column indices (256x256 90 %:
  // 5,202 -> 4,793 instructions; 16-bit ones: 4 % more).
  bool i16Products = opts.rvv() && !wideIdx;
  auto i32v4 = VectorType::get({4}, b.getI32Type());

  SmallVector<Value> res = forLoop(
      b, e.index(0), e.index(groups), e.index(1), {m.y, e.index(0)},
      [&](Value g, ValueRange in) -> SmallVector<Value> {
        Value yt = in[0], off = in[1];
        Value steps = e.extractIndex(counts, g);
        Value end = arith::AddIOp::create(
            b, off, arith::MulIOp::create(b, steps, e.index(lanes)));
        auto gatherStep = [&](Value p) {
          Value v = e.read(vecOf(values), values, {p});
          Value idx = e.read(vecOf(colIdx), colIdx, {p});
          if (opts.mve() && lanes == 16 &&
              isInt(cast<ShapedType>(colIdx.getType()).getElementType(), 16) &&
              isInt(xVec.getElementType(), 8)) {
            // MVE has no 16-lane byte gather with 16-bit offsets (LLVM's
            // <16 x i8> gather lowering got these wrong past 256 columns):
            // two 8-lane halves (vldrb.u16 with 16-bit offsets), joined.
            auto half = VectorType::get({8}, xVec.getElementType());
            Value all8 = e.allTrue(8), zero8 = e.zero(half);
            SmallVector<Value> parts;
            for (int64_t h = 0; h < 2; ++h) {
              SmallVector<int64_t> lanesOfHalf;
              for (int64_t i = 0; i < 8; ++i)
                lanesOfHalf.push_back(8 * h + i);
              Value cols = e.widenIndices(
                  vector::ShuffleOp::create(b, idx, idx, lanesOfHalf));
              parts.push_back(vector::GatherOp::create(b, half, m.x, e.index(0),
                                                       cols, all8, zero8));
            }
            SmallVector<int64_t> join;
            for (int64_t i = 0; i < 16; ++i)
              join.push_back(i);
            Value xv = vector::ShuffleOp::create(b, parts[0], parts[1], join);
            return std::make_pair(v, xv);
          }
          Value cols = e.widenIndices(idx);
          Value xv = vector::GatherOp::create(b, xVec, m.x, e.index(0), cols,
                                              all, zeroX);
          return std::make_pair(v, xv);
        };
        Value acc;
        if (mve16) {
          Value z = e.zero(i32v4);
          SmallVector<Value> parts = forLoop(
              b, off, end, e.index(lanes), {z, z, z, z},
              [&](Value p, ValueRange a) -> SmallVector<Value> {
                if (wideIdx)
                  return mveMac16Wide(b, e, a, values, colIdx, m.x, p);
                auto [v, xv] = gatherStep(p);
                return mveMac16(b, a, v, xv);
              });
          acc = wideIdx
                    // [rows 0,2,4,6 | 1,3,5,7 | 8,10,12,14 | 9,11,13,15]
                    ? toRowOrder(b, {parts[0], parts[1], parts[2], parts[3]},
                                 [](int64_t k, int64_t i) {
                                   return (k < 2 ? 0 : 8) + 2 * i + k % 2;
                                 })
                    // [rows 4i | rows 4i+1 | rows 4i+2 | rows 4i+3]
                    : toRowOrder(b, {parts[0], parts[2], parts[1], parts[3]},
                                 [](int64_t k, int64_t i) { return 4 * i + k; });
        } else if (mve8) {
          Value z = e.zero(i32v4);
          SmallVector<Value> parts = forLoop(
              b, off, end, e.index(lanes), {z, z},
              [&](Value p, ValueRange a) -> SmallVector<Value> {
                return mveMac8(b, e, a, values, colIdx, m.x, p);
              });
          // [rows 0,2,4,6 | rows 1,3,5,7] -> rows 0..7
          acc = vector::ShuffleOp::create(b, parts[0], parts[1],
                                          ArrayRef<int64_t>{0, 4, 1, 5, 2, 6, 3, 7});
        } else {
          acc = forLoop(b, off, end, e.index(lanes), {zeroAcc},
                        [&](Value p, ValueRange a) -> SmallVector<Value> {
                          auto [v, xv] = gatherStep(p);
                          return {e.macLanes(a[0], v, xv, i16Products)};
                        })[0];
        }
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
