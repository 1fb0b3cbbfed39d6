//===- LowerSpMM.cpp - batched #sparse_enc.csr layer matmul ---------------===//
//
// Y[P, O] += X[P, K] x W[O, K]^T with W in CSR, the convolution of a layer
// (im2col X). A matvec per pixel pays the row decode (row_ptr, col_idx,
// values, loop set-up, horizontal reduction) once per pixel; here it is paid
// once per block of `lanes * vectors` pixels:
//
//   for each block of B = 4 * U pixels p0 (then one masked tail block):
//     for each row r of W:
//       acc_u = y[p0 + 4u + lane, r]            (U vectors of 4 x i32)
//       for each entry j of row r:
//         c = col_idx[j], w = values[j] (sign-extended, broadcast)
//         acc_u += w * sext(gather X[p0 + 4u + lane, c])
//       y[p0 + 4u + lane, r] = acc_u            (vector.scatter)
//
// X and Y are read through 1-D views (tensor.collapse_shape); the gather
// offsets (4u + lane) * K are constant vectors, the base index p0 * K + c is
// scalar (MVE: vldrb.s32 gather with scalar base + vector offsets, then
// vmla.s32 with the scalar weight: 13 instructions per entry and 16 pixels).
// When Y's init is a linalg.fill of a scalar, the accumulators start from
// that scalar and Y is never read. The tail block (P % 16 pixels) runs the
// same code with constant lane masks and only the vectors it needs.
//
// Generic vector code: cortex-m55 and rv32gcv get it from
// sparse-enc-matmul-to-matvec (rv32gcv for short rows or many pixels, and
// over 16 or more pixels only for rows under 6 entries on average: longer
// rows take the row-resident kernel, lowerCSRMatmulRowResidentRVV). rv32imc
// takes a scalar kernel instead (lowerCSRMatmulScalar): blocks of 16
// pixels, each entry read once per block (csr 256x256 at 90 % over 16
// pixels: 859,918 -> 416,454 instructions).
//
// cortex-m55 with int8 rows of at least kRowEntries entries on average
// takes the row-gather kernel instead (lowerCSRMatmulRowsMVE): per block of
// 4 pixels, each row's entries once, 16 at a time, against the 4 pixels'
// rows of X (one gather and `vmlava` per pixel). Its per-row set-up is
// spread over 4 pixels only, so short rows stay with the kernel above
// (crossover measured in docs/kernels.md). Over many pixels, rows of a few
// steps take the row-resident kernel (lowerCSRMatmulRowResidentMVE): each
// row's entries read once and held in registers while every pixel passes.
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Lowering.h"
#include "passes/LoopAnnotations.h"
#include "passes/MVEIntrinsics.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>

using namespace mlir;
using namespace mcusparse::lower;

namespace {
/// Lanes per vector (i32 accumulators in a 128-bit register).
constexpr int64_t kLanes = 4;
/// Vectors per block: 16 pixels. Measured on DS-CNN S (all layers CSR,
/// cortex-m55, whole-model instructions): U=4/D=2 2,182,147; U=4/D=4
/// 2,452,026 (the inner loop spills: 4 accumulators + 4 offsets + the
/// gathered vector exceed MVE's 8 q registers); U=4/D=1 2,254,345; U=3/D=3
/// 2,205,897; U=2/D=2 2,306,253; U=5/D=1 2,244,285; U=6/D=2 2,259,331.
constexpr int64_t kVectors = 4;
/// Distinct gather offset vectors: vector u uses offsets u % D from a base
/// moved by (u - u % D) * 4 * K (one scalar add per entry instead of a q
/// register).
constexpr int64_t kOffsetVectors = 2;
/// cortex-m55 (lowerCSRMatmulRowsMVE): pixels per pass over W, each with a
/// gather base and a scalar accumulator in GPRs.
constexpr int64_t kRowPixels = 4;
/// Average entries per row from which the row-gather kernel is faster.
constexpr int64_t kRowEntries = 12;
/// cortex-m55 (lowerCSRMatmulRowResidentMVE): pixels per pixel-loop
/// iteration.
constexpr int64_t kResidentPixels = 4;
/// rv32gcv (lowerCSRMatmulRowResidentRVV): entries per step (i32 gather
/// indices, LMUL 4) and pixels per pixel-loop iteration.
constexpr int64_t kResidentLanesRVV = 16;
constexpr int64_t kResidentPixelsRVV = 2;
/// Where it beats the pixel-batched kernel (instructions, 90 % unless
/// noted): 64x64 over 125 pixels 86,251 against 87,861 (6.4 entries per
/// row), at 80 % 101,614 against 161,072, at 95 % (3.2 entries) 86,251
/// against 51,086; 172x172 over 250 pixels 766,140 against 1,159,379;
/// 256x256 over 16 pixels 118,161 against 157,688; 64x64 over 8 pixels
/// 7,581 against 7,105.
constexpr int64_t kResidentMinPixelsRVV = 16;
constexpr int64_t kResidentMinEntriesRVV = 6;
/// rv32imc (lowerCSRMatmulScalar): pixels per pass over W (csr 64x64 at
/// 90 % over 125 pixels: 4: 303,701, 8: 249,904, 12: 235,875, 16: 238,782
/// instructions; 256x256 over 16 pixels: 16 best).
constexpr int64_t kScalarPixels = 16;
} // namespace

/// A [P, n] tensor viewed 1-D.
static Value collapseRows(ImplicitLocOpBuilder &b, Value t) {
  return tensor::CollapseShapeOp::create(
             b, t, SmallVector<ReassociationIndices>{{0, 1}})
      .getResult();
}

/// for (j = lb; j != ub; ++j) carrying `inits` (lb <= ub): an scf.while
/// whose exit is an equality test on j. A loop that reads only through
/// carried pointers, written as scf.for (j < ub), had its exit rewritten
/// by LLVM's IndVarSimplify into a pointer compare, from which LSR made an
/// `inttoptr` compare without a trip count: no `dls`/`le` loop. An
/// equality test on a unit-step counter is left alone.
static SmallVector<Value>
countedLoop(ImplicitLocOpBuilder &b, Value lb, Value ub, ValueRange inits,
            llvm::function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  SmallVector<Value> state{lb};
  state.append(inits.begin(), inits.end());
  SmallVector<Type> types(ValueRange(state).getTypes());
  SmallVector<Location> locs(types.size(), b.getLoc());
  auto loop = scf::WhileOp::create(b, types, state);
  OpBuilder::InsertionGuard guard(b);
  Block *before = b.createBlock(&loop.getBefore(), {}, types, locs);
  scf::ConditionOp::create(
      b,
      arith::CmpIOp::create(b, arith::CmpIPredicate::ne,
                            before->getArgument(0), ub),
      before->getArguments());
  Block *after = b.createBlock(&loop.getAfter(), {}, types, locs);
  Value j = after->getArgument(0);
  SmallVector<Value> next{
      arith::AddIOp::create(b, j, arith::ConstantIndexOp::create(b, 1))};
  llvm::append_range(next, body(j, after->getArguments().drop_front()));
  scf::YieldOp::create(b, next);
  return SmallVector<Value>(loop.getResults().drop_front());
}

/// For every row r of a CSR weight with O rows: yt = body(r, row_ptr[r],
/// row_ptr[r + 1], yt); row_ptr[r + 1] is carried as the next row's begin
/// and read through a pointer the loop advances (as row_ptr[r + 1], its
/// base was rematerialised and the index spilled: DS-CNN M 172x172 over
/// 250 pixels 553,441 -> 531,666 instructions).
static Value forEachRow(
    ImplicitLocOpBuilder &b, Emitter &e, Value rowPtr, int64_t rows, Value yt,
    llvm::function_ref<Value(Value, Value, Value, Value)> body) {
  Value first = e.extractIndex(rowPtr, e.index(0));
  Pointers ptrs{e};
  Type elem = cast<ShapedType>(rowPtr.getType()).getElementType();
  Value next = ptrs.advance(ptrs.to(rowPtr), elem, e.index(1));
  return forLoop(
      b, e.index(0), e.index(rows), e.index(1), {yt, first, next},
      [&](Value r, ValueRange in) -> SmallVector<Value> {
        Value end = arith::IndexCastUIOp::create(b, b.getIndexType(),
                                                 ptrs.load(elem, in[2]));
        return {body(r, in[1], end, in[0]), end,
                ptrs.advance(in[2], elem, e.index(1))};
      })[0];
}

Value mcusparse::lower::forPixelBlocks(
    ImplicitLocOpBuilder &b, Emitter &e, int64_t pixels, int64_t block, Value y,
    llvm::function_ref<Value(Value, Value, int64_t)> emit, bool rolled) {
  int64_t full = pixels / block * block;
  if (full > 0) {
    y = forLoop(b, e.index(0), e.index(full), e.index(block), {y},
                [&](Value p0, ValueRange in) -> SmallVector<Value> {
                  return {emit(in[0], p0, block)};
                })[0];
    if (rolled)
      mcusparse::disableUnroll(y.getDefiningOp<scf::ForOp>());
  }
  if (full < pixels)
    y = emit(y, e.index(full), pixels - full);
  return y;
}

MatmulInit mcusparse::lower::matmulInit(const MatmulOperands &m) {
  if (auto fill = m.y.getDefiningOp<linalg::FillOp>())
    if (fill.hasPureTensorSemantics() &&
        fill.getDpsInputs()[0].getType() == m.accType)
      return {fill.getDpsInits()[0], fill.getDpsInputs()[0]};
  return {m.y, Value()};
}

/// cortex-m55, int8: per block of kRowPixels pixels, each row of W once
/// against the block's rows of X (csrRowsMVE, LowerCSR.cpp): a step loads
/// the row's values and column indices once (16 entries with 8-bit indices,
/// 8 with 16-bit ones), then per pixel one gather of X at p * K + column and
/// one predicated `vmlava` into a scalar accumulator; `dlstp`/`letp`.
static Value lowerCSRMatmulRowsMVE(ImplicitLocOpBuilder &b,
                                   const MatmulOperands &m,
                                   const LowerOptions &opts) {
  Emitter e{b, m.accType};
  Value values = m.buffers[0], colIdx = m.buffers[1], rowPtr = m.buffers[2];
  int64_t P = m.pixels, O = m.rows, K = m.cols;
  int64_t idxBits = cast<ShapedType>(colIdx.getType()).getElementTypeBitWidth();
  int64_t vl = std::min<int64_t>(std::max<int64_t>(1, opts.vectorLength),
                                 128 / idxBits);
  auto collapse = [&](Value t) { return collapseRows(b, t); };
  auto [y, fillValue] = matmulInit(m);
  Value x1 = collapse(m.x), y1 = collapse(y);

  // Pixels [p0, p0 + nq), every row of W.
  auto emitBlock = [&](Value yt, Value p0, int64_t nq) -> Value {
    SmallVector<Value> xBases;
    for (int64_t q = 0; q < nq; ++q) {
      Value p = arith::AddIOp::create(b, p0, e.index(q));
      xBases.push_back(arith::MulIOp::create(b, p, e.index(K)));
    }
    Value yBase = arith::MulIOp::create(b, p0, e.index(O));
    return forEachRow(
        b, e, rowPtr, O, yt, [&](Value r, Value begin, Value end, Value yr) {
          // Y positions as at[0] + q * O: the stores then share one
          // address register with immediate offsets (with one base per
          // pixel, LLVM spilled the four bases; DS-CNN M 172x172 over 250
          // pixels: 564,663 -> 553,441 instructions).
          SmallVector<Value> at, accs;
          for (int64_t q = 0; q < nq; ++q) {
            Value from = q ? at[0] : yBase;
            at.push_back(
                arith::AddIOp::create(b, from, q ? e.index(q * O) : r));
            accs.push_back(fillValue ? fillValue
                                     : tensor::ExtractOp::create(b, yr, at[q])
                                           .getResult());
          }
          accs = csrRowsMVE(b, e, values, colIdx, x1, xBases, vl, begin, end,
                            accs);
          for (int64_t q = 0; q < nq; ++q)
            yr = tensor::InsertOp::create(b, accs[q], yr, at[q]);
          return yr;
        });
  };

  y1 = forPixelBlocks(b, e, P, kRowPixels, y1, emitBlock);
  return tensor::ExpandShapeOp::create(
             b, cast<RankedTensorType>(m.y.getType()), y1,
             SmallVector<ReassociationIndices>{{0, 1}})
      .getResult();
}

/// Where the row-resident kernel below runs fewer instructions than the
/// pixel-batched and the row-gather kernels (cortex-m55; measured in
/// docs/kernels.md): from 32 pixels on, rows of 4 to 3 vl entries on
/// average (shorter rows cost the pixel-batched kernel less than one gather
/// and `vmlav` per pixel; from the fourth step on each step adds to Y);
/// from 16 pixels on, rows of 6 to 2.5 vl entries (a pass's set-up is
/// spread over fewer pixels).
static bool prefersRowResident(const MatmulOperands &m, int64_t nnz) {
  int64_t idxBits =
      cast<ShapedType>(m.buffers[1].getType()).getElementTypeBitWidth();
  int64_t vl = 128 / idxBits, O = m.rows;
  if (m.pixels >= 32)
    return nnz >= 4 * O && nnz <= 3 * vl * O;
  if (m.pixels >= 16)
    return nnz >= 6 * O && 2 * nnz <= 5 * vl * O;
  return false;
}

/// cortex-m55, int8, short rows: each row's entries stay in registers while
/// every pixel passes (the row-resident kernel). Per step of vl entries
/// (16 with 8-bit indices, 8 with 16-bit ones; short rows have one) the
/// values and column indices are read once, masked, so that lanes past the
/// row read value 0 at column 0, and kResidentPixels pixels at a time each
/// take one gather of X at p * K + column and one `vmlav` into a scalar
/// that is stored to Y[p, r]. Pixel p0 + u gathers from x + (p0 + u - d) * K
/// with the column indices plus d * K (d = u % D; D index vectors, as many
/// as keep d * K + K - 1 within the index width), so the pixel loop moves
/// few gather bases. A row of more than one step starts with a pass of two
/// (both steps in registers, one sum per pixel); its later steps add to Y.
static Value lowerCSRMatmulRowResidentMVE(ImplicitLocOpBuilder &b,
                                          const MatmulOperands &m) {
  Emitter e{b, m.accType};
  Pointers ptrs{e};
  Value values = m.buffers[0], colIdx = m.buffers[1], rowPtr = m.buffers[2];
  int64_t P = m.pixels, O = m.rows, K = m.cols;
  int64_t idxBits = cast<ShapedType>(colIdx.getType()).getElementTypeBitWidth();
  int64_t vl = 128 / idxBits;
  int64_t D =
      std::clamp<int64_t>((int64_t{1} << idxBits) / K, 1, kResidentPixels);
  auto i8 = b.getI8Type(), i32 = b.getI32Type();
  auto vecOf = [&](Value t) {
    return VectorType::get({vl},
                           cast<ShapedType>(t.getType()).getElementType());
  };
  auto i16x8 = VectorType::get({8}, b.getI16Type());
  auto maskType = VectorType::get({vl}, b.getI1Type());
  auto [y, fillValue] = matmulInit(m);
  Value y1 = collapseRows(b, y);
  Value xPtr = ptrs.to(collapseRows(b, m.x));

  // x[base + offsets[l]]: `vldrb.u8` (16 lanes, 8-bit offsets) or
  // `vldrb.s16` (8 lanes, 16-bit offsets) as the MVE intrinsic. Generic
  // gathers that shared one offset vector between pixels (K > 128 with
  // 8-bit indices) had the pixels' bases folded into 32-bit lane addresses
  // and were scalarised (172x172 over 50 pixels: 482,439 instructions
  // against 77,818).
  Type gathered = vl == 8 ? Type(i16x8) : Type(vecOf(m.x));
  auto gather = [&](Value base, Value offsets) {
    return mcusparse::mveGatherBytes(b, b.getLoc(), gathered, base, offsets);
  };

  // Entries [k, k + n * vl) of row r (n = `steps` vectors, the last
  // masked at `end`) against every pixel; `first`: the row's first pass
  // (its sums start from the fill, or from Y). A pass of two steps keeps
  // both in registers and adds both to one sum per pixel, with at most two
  // offset vectors per step (8 q registers).
  auto pass = [&](Value yt, Value r, Value k, Value end, bool first,
                  int64_t steps) {
    int64_t dn = steps == 1 ? D : std::min<int64_t>(D, 2);
    SmallVector<Value> vs;
    SmallVector<SmallVector<Value>> offsets(steps);
    for (int64_t s = 0; s < steps; ++s) {
      Value at = s ? arith::AddIOp::create(b, k, e.index(s * vl)) : k;
      // get.active.lane.mask(0, n) is one `vctp`; outside a
      // tail-predicated loop, (k, end) became lane-by-lane compares.
      Value mask = LLVM::GetActiveLaneMaskOp::create(
          b, maskType, arith::ConstantIntOp::create(b, i32, 0),
          arith::IndexCastOp::create(b, i32,
                                     arith::SubIOp::create(b, end, at)));
      Value v = e.read(vecOf(values), values, {at}, mask);
      vs.push_back(vl == 8 ? arith::ExtSIOp::create(b, i16x8, v) : v);
      Value cols = e.read(vecOf(colIdx), colIdx, {at}, mask);
      offsets[s].push_back(cols);
      for (int64_t d = 1; d < dn; ++d)
        offsets[s].push_back(arith::AddIOp::create(
            b, cols,
            e.laneConstants(cast<VectorType>(cols.getType()),
                            [&](int64_t) { return d * K; })));
    }
    auto pixels = [&](Value yb, Value p0, int64_t nq) {
      for (int64_t u = 0; u < nq; ++u) {
        int64_t d = u % dn;
        Value p = arith::AddIOp::create(b, p0, e.index(u));
        Value from = d ? arith::AddIOp::create(b, p0, e.index(u - d)) : p;
        Value base =
            ptrs.advance(xPtr, i8, arith::MulIOp::create(b, from, e.index(K)));
        Value at = arith::AddIOp::create(
            b, arith::MulIOp::create(b, p, e.index(O)), r);
        Value acc = first && fillValue
                        ? fillValue
                        : tensor::ExtractOp::create(b, yb, at).getResult();
        for (int64_t s = 0; s < steps; ++s)
          acc = e.mveDot(acc, vs[s], gather(base, offsets[s][d]));
        yb = tensor::InsertOp::create(b, acc, yb, at);
      }
      return yb;
    };
    return forPixelBlocks(b, e, P, kResidentPixels, yt, pixels,
                          /*rolled=*/true);
  };

  // A row of up to vl entries is one pass (an empty row's: all values 0,
  // sums the fill); a longer one starts with a pass of two steps, and its
  // later steps, one pass each, add to Y.
  y1 = forEachRow(
      b, e, rowPtr, O, y1, [&](Value r, Value begin, Value end, Value yr) {
        Value n = arith::SubIOp::create(b, end, begin);
        Value longRow =
            arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, n, e.index(vl));
        auto ifOp = scf::IfOp::create(b, TypeRange{yr.getType()}, longRow,
                                      /*withElseRegion=*/true);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        Value two = pass(yr, r, begin, end, /*first=*/true, 2);
        two = forLoop(b, arith::AddIOp::create(b, begin, e.index(2 * vl)), end,
                      e.index(vl), {two},
                      [&](Value k, ValueRange in) -> SmallVector<Value> {
                        return {pass(in[0], r, k, end, /*first=*/false, 1)};
                      })[0];
        scf::YieldOp::create(b, two);
        b.setInsertionPointToStart(ifOp.elseBlock());
        scf::YieldOp::create(b, pass(yr, r, begin, end, /*first=*/true, 1));
        return ifOp.getResult(0);
      });
  return tensor::ExpandShapeOp::create(
             b, cast<RankedTensorType>(m.y.getType()), y1,
             SmallVector<ReassociationIndices>{{0, 1}})
      .getResult();
}

/// rv32gcv, int8: the row-resident kernel in generic vector code. Per step
/// of kResidentLanesRVV entries of a row, the values (sign-extended to i16)
/// and column indices (widened to i32) are read once, masked, so that lanes
/// past the row hold value 0 at column 0; then every pair of pixels p,
/// p + 1 gathers X at p * K + column and (p + 1) * K + column in one
/// 32-lane `vluxei32` (unmasked: every lane's address is in X), multiplies
/// in i16 (exact for int8) and reduces each half into its Y[p, r] (widening
/// to i32); a last odd pixel gathers 16 lanes. The first step starts from
/// the fill (or Y); later steps add to Y. One gather per pixel instead of
/// per pair: 64x64 over 125 pixels at 90 % 86,251 -> 79,145 instructions,
/// 172x172 over 250 pixels 766,140 -> 691,310.
static Value lowerCSRMatmulRowResidentRVV(ImplicitLocOpBuilder &b,
                                          const MatmulOperands &m) {
  Emitter e{b, m.accType};
  Value values = m.buffers[0], colIdx = m.buffers[1], rowPtr = m.buffers[2];
  int64_t P = m.pixels, O = m.rows, K = m.cols;
  const int64_t vl = kResidentLanesRVV;
  auto elemOf = [](Value t) {
    return cast<ShapedType>(t.getType()).getElementType();
  };
  auto i16Vec = VectorType::get({vl}, b.getI16Type());
  auto i32Vec = VectorType::get({vl}, b.getI32Type());
  auto xVec = VectorType::get({vl}, elemOf(m.x));
  auto maskType = VectorType::get({vl}, b.getI1Type());
  auto [y, fillValue] = matmulInit(m);
  Value y1 = collapseRows(b, y), x1 = collapseRows(b, m.x);
  Value all = e.allTrue(vl), zeroX = e.zero(xVec);

  auto pass = [&](Value yt, Value r, Value k, Value end, bool first) {
    Value mask = vector::CreateMaskOp::create(
        b, maskType, ValueRange{arith::SubIOp::create(b, end, k)});
    Value w = arith::ExtSIOp::create(
        b, i16Vec,
        e.read(VectorType::get({vl}, elemOf(values)), values, {k}, mask));
    Value cols = e.widenIndices(
        e.read(VectorType::get({vl}, elemOf(colIdx)), colIdx, {k}, mask));
    // Two pixels per gather: lanes vl.. hold the second pixel's columns
    // (+ K) and a second copy of the values.
    SmallVector<int64_t> concat, twice, lo, hi;
    for (int64_t l = 0; l < 2 * vl; ++l) {
      concat.push_back(l);
      twice.push_back(l % vl);
      (l < vl ? lo : hi).push_back(l);
    }
    Value cols2 = vector::ShuffleOp::create(
        b, cols,
        arith::AddIOp::create(
            b, cols, e.laneConstants(i32Vec, [&](int64_t) { return K; })),
        concat);
    Value w2 = vector::ShuffleOp::create(b, w, w, twice);
    Value all2 = e.allTrue(2 * vl);
    auto x2Vec = VectorType::get({2 * vl}, elemOf(m.x));
    auto i16Vec2 = VectorType::get({2 * vl}, b.getI16Type());
    // Y[p, r] = (the fill, or Y[p, r]) + the sum of the i16 products.
    auto addToY = [&](Value yb, Value p, Value prod) -> Value {
      Value at =
          arith::AddIOp::create(b, arith::MulIOp::create(b, p, e.index(O)), r);
      Value acc = first && fillValue
                      ? fillValue
                      : tensor::ExtractOp::create(b, yb, at).getResult();
      acc = vector::ReductionOp::create(b, vector::CombiningKind::ADD,
                                        arith::ExtSIOp::create(b, i32Vec, prod),
                                        acc);
      return tensor::InsertOp::create(b, acc, yb, at);
    };
    auto pixels = [&](Value yb, Value p0, int64_t nq) {
      if (nq == 2) {
        Value xv = vector::GatherOp::create(
            b, x2Vec, x1, ValueRange{arith::MulIOp::create(b, p0, e.index(K))},
            cols2, all2, e.zero(x2Vec));
        Value prod = arith::MulIOp::create(
            b, w2, arith::ExtSIOp::create(b, i16Vec2, xv));
        for (int64_t u = 0; u < 2; ++u) {
          Value p = u ? arith::AddIOp::create(b, p0, e.index(u)) : p0;
          yb = addToY(yb, p,
                      vector::ShuffleOp::create(b, prod, prod, u ? hi : lo));
        }
        return yb;
      }
      for (int64_t u = 0; u < nq; ++u) {
        Value p = u ? arith::AddIOp::create(b, p0, e.index(u)) : p0;
        Value xv = vector::GatherOp::create(
            b, xVec, x1, ValueRange{arith::MulIOp::create(b, p, e.index(K))},
            cols, all, zeroX);
        yb = addToY(
            yb, p,
            arith::MulIOp::create(b, w, arith::ExtSIOp::create(b, i16Vec, xv)));
      }
      return yb;
    };
    return forPixelBlocks(b, e, P, kResidentPixelsRVV, yt, pixels,
                          /*rolled=*/true);
  };

  y1 = forEachRow(
      b, e, rowPtr, O, y1, [&](Value r, Value begin, Value end, Value yr) {
        Value firstPass = pass(yr, r, begin, end, /*first=*/true);
        return forLoop(b, arith::AddIOp::create(b, begin, e.index(vl)), end,
                       e.index(vl), {firstPass},
                       [&](Value k, ValueRange in) -> SmallVector<Value> {
                         return {pass(in[0], r, k, end, /*first=*/false)};
                       })[0];
      });
  return tensor::ExpandShapeOp::create(
             b, cast<RankedTensorType>(m.y.getType()), y1,
             SmallVector<ReassociationIndices>{{0, 1}})
      .getResult();
}

/// rv32imc: blocks of kScalarPixels pixels; per row, each entry's column
/// index and value are read once and each pixel adds a byte load of X, a
/// multiply and an add into its own scalar accumulator (a matvec per pixel
/// reads the entry again for every pixel).
static Value lowerCSRMatmulScalar(ImplicitLocOpBuilder &b,
                                  const MatmulOperands &m) {
  Emitter e{b, m.accType};
  Value values = m.buffers[0], colIdx = m.buffers[1], rowPtr = m.buffers[2];
  int64_t P = m.pixels, O = m.rows, K = m.cols;
  auto [y, fillValue] = matmulInit(m);
  Value x1 = collapseRows(b, m.x), y1 = collapseRows(b, y);
  y1 = forPixelBlocks(
      b, e, P, kScalarPixels, y1, [&](Value yt, Value p0, int64_t nq) -> Value {
        Value xBase = arith::MulIOp::create(b, p0, e.index(K));
        Value yBase = arith::MulIOp::create(b, p0, e.index(O));
        Value first = e.extractIndex(rowPtr, e.index(0));
        return forLoop(
            b, e.index(0), e.index(O), e.index(1), {yt, first},
            [&](Value r, ValueRange row) -> SmallVector<Value> {
              Value yr = row[0], begin = row[1];
              Value end = e.extractIndex(
                  rowPtr, arith::AddIOp::create(b, r, e.index(1)));
              SmallVector<Value> at, accs;
              for (int64_t q = 0; q < nq; ++q) {
                at.push_back(arith::AddIOp::create(
                    b, arith::AddIOp::create(b, yBase, r), e.index(q * O)));
                accs.push_back(
                    fillValue
                        ? fillValue
                        : tensor::ExtractOp::create(b, yr, at[q]).getResult());
              }
              accs = forLoop(b, begin, end, e.index(1), accs,
                             [&](Value j, ValueRange a) -> SmallVector<Value> {
                               Value w =
                                   tensor::ExtractOp::create(b, values, j);
                               Value xAt = arith::AddIOp::create(
                                   b, xBase, e.extractIndex(colIdx, j));
                               SmallVector<Value> out;
                               for (int64_t q = 0; q < nq; ++q) {
                                 Value xv = tensor::ExtractOp::create(
                                     b, x1,
                                     ValueRange{arith::AddIOp::create(
                                         b, xAt, e.index(q * K))});
                                 out.push_back(e.mulAdd(a[q], w, xv));
                               }
                               return out;
                             });
              for (int64_t q = 0; q < nq; ++q)
                yr = tensor::InsertOp::create(b, accs[q], yr, at[q]);
              return {yr, end};
            })[0];
      });
  return tensor::ExpandShapeOp::create(
             b, cast<RankedTensorType>(m.y.getType()), y1,
             SmallVector<ReassociationIndices>{{0, 1}})
      .getResult();
}

FailureOr<Value> mcusparse::lower::lowerCSRMatmul(ImplicitLocOpBuilder &b,
                                                  const MatmulOperands &m,
                                                  const LowerOptions &opts) {
  // Rows of at least kRowEntries entries on average (nnz is the length of
  // the values buffer) take the row-gather kernel; shorter rows pay its
  // per-row set-up for 4 pixels only, and the pixel-batched kernel below
  // spreads it over 16 (measured crossover: 10-13 entries per row,
  // docs/kernels.md).
  if (opts.scalarOnly())
    return lowerCSRMatmulScalar(b, m);
  auto isI8 = [](Type t) { return t.isInteger(8); };
  int64_t nnz = cast<ShapedType>(m.buffers[0].getType()).getDimSize(0);
  bool mveInt8 = opts.mve() && isI8(m.weightType.getElementType()) &&
                 isI8(cast<ShapedType>(m.x.getType()).getElementType()) &&
                 m.accType.isInteger(32);
  if (mveInt8 && prefersRowResident(m, nnz))
    return lowerCSRMatmulRowResidentMVE(b, m);
  bool rvvInt8 = opts.rvv() && isI8(m.weightType.getElementType()) &&
                 isI8(cast<ShapedType>(m.x.getType()).getElementType()) &&
                 m.accType.isInteger(32);
  if (rvvInt8 && m.pixels >= kResidentMinPixelsRVV &&
      nnz >= kResidentMinEntriesRVV * m.rows)
    return lowerCSRMatmulRowResidentRVV(b, m);
  if (mveInt8 && nnz >= kRowEntries * m.rows)
    return lowerCSRMatmulRowsMVE(b, m, opts);
  Emitter e{b, m.accType};
  Value values = m.buffers[0], colIdx = m.buffers[1], rowPtr = m.buffers[2];
  int64_t U = kVectors, D = kOffsetVectors;
  int64_t block = U * kLanes;
  int64_t P = m.pixels, O = m.rows, K = m.cols;

  Type xElem = cast<ShapedType>(m.x.getType()).getElementType();
  Type wElem = m.weightType.getElementType();
  auto i32 = b.getI32Type();
  auto accVec = VectorType::get({kLanes}, m.accType);
  auto xVec = VectorType::get({kLanes}, xElem);
  auto offVec = VectorType::get({kLanes}, i32);

  auto constOffsets = [&](int64_t first, int64_t stride) {
    SmallVector<int32_t> v;
    for (int64_t l = 0; l < kLanes; ++l)
      v.push_back(static_cast<int32_t>((first + l) * stride));
    return arith::ConstantOp::create(
               b, offVec, DenseElementsAttr::get(offVec, ArrayRef(v)))
        .getResult();
  };
  auto collapse = [&](Value t) { return collapseRows(b, t); };

  auto [y, fillValue] = matmulInit(m);
  Value x1 = collapse(m.x), y1 = collapse(y);
  SmallVector<Value> xOff, yOff;
  for (int64_t u = 0; u < D; ++u)
    xOff.push_back(constOffsets(u * kLanes, K));
  for (int64_t u = 0; u < U; ++u)
    yOff.push_back(constOffsets(u * kLanes, O));
  Value zeroAcc = e.zero(accVec), zeroX = e.zero(xVec);
  Value splatFill =
      fillValue ? vector::BroadcastOp::create(b, accVec, fillValue).getResult()
                : Value();

  // cortex-m55: the entries are read through pointers that the entry loop
  // advances and the row loop carries (a row starts where the previous one
  // ended), so no row recomputes the buffers' addresses from row_ptr
  // (DS-CNN S's 64x64 over 125 pixels at 90 %: 65,627 -> 61,037
  // instructions); the entry loop is a countedLoop so that it stays a
  // `dls`/`le` loop.
  Pointers ptrs{e};
  Type colElem = cast<ShapedType>(colIdx.getType()).getElementType();
  bool carried = opts.mve();
  Value colStart = carried ? ptrs.to(colIdx) : Value();
  Value valStart = carried ? ptrs.to(values) : Value();

  // One block of pixels from p0: `masks[u]` the active lanes of vector u.
  auto emitBlock = [&](Value yt, Value p0, ArrayRef<Value> masks) -> Value {
    int64_t nu = masks.size();
    Value xBase = arith::MulIOp::create(b, p0, e.index(K));
    Value yBase = arith::MulIOp::create(b, p0, e.index(O));
    // Entry j's column index and value (and the pointers after it).
    auto entry = [&](Value j, Value &cp, Value &vp) -> std::pair<Value, Value> {
      if (!carried)
        return {e.extractIndex(colIdx, j),
                tensor::ExtractOp::create(b, values, j)};
      Value c = arith::IndexCastUIOp::create(b, b.getIndexType(),
                                             ptrs.load(colElem, cp));
      Value w = ptrs.load(wElem, vp);
      cp = ptrs.advance(cp, colElem, e.index(1));
      vp = ptrs.advance(vp, wElem, e.index(1));
      return {c, w};
    };
    Value first = e.extractIndex(rowPtr, e.index(0));
    SmallVector<Value> rowInits{yt, first};
    if (carried)
      rowInits.append({colStart, valStart});
    return forLoop(
        b, e.index(0), e.index(O), e.index(1), rowInits,
        [&](Value r, ValueRange row) -> SmallVector<Value> {
          Value yr = row[0], begin = row[1];
          Value end =
              e.extractIndex(rowPtr, arith::AddIOp::create(b, r, e.index(1)));
          Value yAt = arith::AddIOp::create(b, yBase, r);
          SmallVector<Value> accs;
          for (int64_t u = 0; u < nu; ++u)
            accs.push_back(splatFill ? splatFill
                                     : vector::GatherOp::create(
                                           b, accVec, yr, yAt, yOff[u],
                                           masks[u], zeroAcc)
                                           .getResult());
          if (carried)
            accs.append({row[2], row[3]});
          auto entryLoop =
              [&](ValueRange inits,
                  llvm::function_ref<SmallVector<Value>(Value, ValueRange)>
                      fn) -> SmallVector<Value> {
            if (carried)
              return countedLoop(b, begin, end, inits, fn);
            return forLoop(b, begin, end, e.index(1), inits, fn);
          };
          accs = entryLoop(
              accs, [&](Value j, ValueRange a) -> SmallVector<Value> {
                Value cp = carried ? a[nu] : Value();
                Value vp = carried ? a[nu + 1] : Value();
                auto [c, w] = entry(j, cp, vp);
                if (wElem != m.accType)
                  w = isa<FloatType>(m.accType)
                          ? arith::ExtFOp::create(b, m.accType, w).getResult()
                          : arith::ExtSIOp::create(b, m.accType, w)
                                .getResult();
                Value wv = vector::BroadcastOp::create(b, accVec, w);
                Value xAt = arith::AddIOp::create(b, xBase, c);
                SmallVector<Value> out;
                Value at = xAt;
                for (int64_t u = 0; u < nu; ++u) {
                  if (u > 0 && u % D == 0)
                    at = arith::AddIOp::create(b, xAt,
                                               e.index(u * kLanes * K));
                  Value xv = vector::GatherOp::create(
                      b, xVec, x1, at, xOff[u % D], masks[u], zeroX);
                  out.push_back(e.macLanes(a[u], wv, xv));
                }
                if (carried)
                  out.append({cp, vp});
                return out;
              });
          for (int64_t u = 0; u < nu; ++u)
            yr = vector::ScatterOp::create(b, yr.getType(), yr, yAt, yOff[u],
                                           masks[u], accs[u])
                     ->getResult(0);
          SmallVector<Value> next{yr, end};
          if (carried)
            next.append({accs[nu], accs[nu + 1]});
          return next;
        })[0];
  };

  int64_t full = P / block * block, tail = P - full;
  if (full > 0) {
    SmallVector<Value> masks(U, e.allTrue(kLanes));
    y1 = forLoop(b, e.index(0), e.index(full), e.index(block), {y1},
                 [&](Value p0, ValueRange in) -> SmallVector<Value> {
                   return {emitBlock(in[0], p0, masks)};
                 })[0];
  }
  if (tail > 0) {
    SmallVector<Value> masks;
    for (int64_t u = 0; u * kLanes < tail; ++u)
      masks.push_back(e.prefixMask(kLanes, tail - u * kLanes));
    y1 = emitBlock(y1, e.index(full), masks);
  }
  return tensor::ExpandShapeOp::create(
             b, cast<RankedTensorType>(m.y.getType()), y1,
             SmallVector<ReassociationIndices>{{0, 1}})
      .getResult();
}
