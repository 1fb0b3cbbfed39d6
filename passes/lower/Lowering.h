//===- Lowering.h - shared helpers of the matvec lowerings ----------------===//
//
// `sparse-enc-lower-matvec` (passes/LowerMatvec.cpp) finds a `linalg.matvec`,
// collects its operands into a `MatvecOperands` and calls the lowering of the
// weight's layout (one file per layout in this folder). Every lowering builds
// scf/vector/tensor/arith code on tensors and returns the new value of `y`.
//
// The arithmetic is `y[r] += sum_c W[r][c] * x[c]`: integer weights and
// activations are sign-extended to the accumulator type (int8 x int8 -> int32,
// the MAC that MVE's vmladava / RVV's vwmacc implement); float32 works with
// mulf/addf.
//
//===----------------------------------------------------------------------===//

#ifndef MCUSPARSE_PASSES_LOWER_LOWERING_H
#define MCUSPARSE_PASSES_LOWER_LOWERING_H

#include "dialect/SparseEncDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <functional>
#include <utility>

namespace mcusparse::lower {

/// Marks a `vector.bitcast` of 4 bytes to one i32 whose bytes are a 4-byte
/// aligned word of a storage buffer (N:M offsets); the post-bufferization
/// clean-up puts the alignment on the load.
inline constexpr llvm::StringLiteral kAlignedWordAttr =
    "sparse_enc.aligned_word";

/// Marks a layer `linalg.matmul` that sparse-enc-matmul-to-matvec kept whole
/// because its weight has a batched kernel on the target (cortex-m55: CSR
/// pixel-batched, dense register-blocked); sparse-enc-attach-layouts
/// accepts it as a weight user.
inline constexpr llvm::StringLiteral kBatchedMatmulAttr =
    "sparse_enc.batched";

/// True when `maps` are those of X[P, K] x W[O, K]^T -> Y[P, O]:
/// (d0, d2), (d1, d2), (d0, d1).
inline bool isTransposedWeightMatmul(mlir::linalg::MatmulOp op) {
  llvm::SmallVector<mlir::AffineMap> maps = op.getIndexingMapsArray();
  mlir::MLIRContext *ctx = op.getContext();
  mlir::AffineExpr d0, d1, d2;
  mlir::bindDims(ctx, d0, d1, d2);
  auto map = [&](llvm::ArrayRef<mlir::AffineExpr> exprs) {
    return mlir::AffineMap::get(3, 0, exprs, ctx);
  };
  return maps.size() == 3 && maps[0] == map({d0, d2}) &&
         maps[1] == map({d1, d2}) && maps[2] == map({d0, d1});
}

struct LowerOptions {
  /// Lanes of one vector step (16 int8 = one 128-bit MVE/RVV register).
  int64_t vectorLength = 16;
  /// Dense kernel: rows that share one activation load.
  int64_t denseRows = 4;
  /// Dense layer matmul: read W once (rows held in registers) where the
  /// target has such a kernel (LowerDenseMatmul.cpp).
  bool denseWeightsOnce = false;
  /// "cortex-m55", "rv32imc", "rv32gcv", "host" or "" (generic code only).
  std::string target;
  bool mve() const { return target == "cortex-m55"; }
  bool scalarOnly() const { return target == "rv32imc"; }
  bool rvv() const { return target == "rv32gcv"; }
};

struct MatvecOperands {
  mlir::linalg::MatvecOp op;
  mlir::RankedTensorType weightType; // may carry a #sparse_enc encoding
  /// Dense: {W}. Encoded: the storage buffers in StorageLayout order.
  llvm::SmallVector<mlir::Value> buffers;
  mlir::Value x, y;
  int64_t rows, cols;
  mlir::Type accType; // element type of y
};

/// Operands of a layer matmul Y[P, O] += X[P, K] x W[O, K]^T whose weight
/// is encoded (lowered whole, see LowerSpMM.cpp).
struct MatmulOperands {
  mlir::linalg::MatmulOp op;
  mlir::RankedTensorType weightType;
  /// The storage buffers in StorageLayout order.
  llvm::SmallVector<mlir::Value> buffers;
  mlir::Value x, y; // X[P, K], Y[P, O] (the matmul's init)
  int64_t pixels, rows, cols; // P, O, K
  mlir::Type accType;
};

/// Small builders shared by the lowerings.
struct Emitter {
  mlir::ImplicitLocOpBuilder &b;
  mlir::Type accType;

  mlir::Value index(int64_t v);
  mlir::Value zero(mlir::Type type);
  /// 1-D read of `type` at `indices` (innermost dimension), optionally masked;
  /// masked-off lanes read zero.
  mlir::Value read(mlir::VectorType type, mlir::Value source,
                   mlir::ValueRange indices, mlir::Value mask = {},
                   bool inBounds = true);
  /// The same read where masked-off lanes are undefined (`ub.poison`
  /// padding): RVV then loads under the mask without first copying a zero
  /// vector into the destination. The caller must not use those lanes.
  mlir::Value readUndefTail(mlir::VectorType type, mlir::Value source,
                            mlir::ValueRange indices, mlir::Value mask);
  /// A `ub.poison` value of `type` (e.g. a gather's pass-through).
  mlir::Value poison(mlir::Type type);
  /// Unsigned storage indices (u8/u16 buffers) widened to i32 lanes.
  mlir::Value widenIndices(mlir::Value vec);
  /// A constant integer vector of `type` whose lane l is valueOfLane(l)
  /// (truncated to the element width).
  mlir::Value laneConstants(mlir::VectorType type,
                            llvm::function_ref<int64_t(int64_t)> valueOfLane);
  /// The lanes below `left` (an index, 0 < left <= maxLeft) as an unsigned
  /// compare of the lane numbers in the narrowest integer that holds
  /// maxLeft (i32 if maxLeft is ShapedType::kDynamic). `vector.create_mask`
  /// compares i32 lanes against left clamped at 0: on RVV a sign test, an e32
  /// vsetvli and a wider compare.
  /// `narrowByOne`: compare lane <= left - 1 instead when that takes a
  /// narrower integer (maxLeft = 256: i8), for loops whose other vector
  /// instructions run at e8 (one vsetvli fewer on RVV; elsewhere the
  /// subtraction can cost an instruction and a copy).
  mlir::Value lanesBelow(int64_t lanes, mlir::Value left, int64_t maxLeft,
                         bool narrowByOne = false);
  /// An all-true mask of `lanes` lanes.
  mlir::Value allTrue(int64_t lanes);
  /// A constant mask of `lanes` lanes whose first `count` are set (an
  /// arith.constant: it lowers without convert-vector-to-llvm).
  mlir::Value prefixMask(int64_t lanes, int64_t count);
  /// acc + sum(w * x) over the lanes: extsi + muli + vector.reduction <add>
  /// (vmladava on MVE, vwmacc + vredsum on RVV).
  mlir::Value dot(mlir::Value acc, mlir::Value w, mlir::Value x);
  /// The same with the product selected under `mask` before the reduction
  /// (a predicated `vmlava` on MVE).
  mlir::Value dot(mlir::Value acc, mlir::Value w, mlir::Value x,
                  mlir::Value mask);
  /// acc + sum(w * x) for int8 w and x and an i32 acc, the products exact
  /// in i16 lanes: on RVV `vwmul` at e8 and one widening reduction
  /// (`vwredsum`), no extension to i32 lanes.
  /// With a mask, only its lanes are summed (w and x may be undefined in
  /// the others).
  mlir::Value dotI16(mlir::Value acc, mlir::Value w, mlir::Value x,
                     mlir::Value mask = {});
  /// MVE: acc + sum(sext(w) * sext(x)) as `llvm.arm.mve.vmldava` (with a
  /// mask: the `.predicated` form), i.e. `vmlava.s8` / `vmlava.s16`. Generic
  /// IR loses that instruction when LLVM shares a sext between products.
  mlir::Value mveDot(mlir::Value acc, mlir::Value w, mlir::Value x,
                     mlir::Value mask = {});
  /// Scalar acc + w * x, w and x widened to accType (sign-extended).
  mlir::Value mulAdd(mlir::Value acc, mlir::Value w, mlir::Value x);
  /// acc + w * x lane by lane, acc a vector of accType. `i16Products`:
  /// int8 w and x multiplied in i16 lanes (exact) and widened once into i32
  /// accumulators (RVV: `vwmul` at e8 and `vwadd.wv` instead of two `vsext`
  /// and a `vwmacc`); other element types ignore it.
  mlir::Value macLanes(mlir::Value acc, mlir::Value w, mlir::Value x,
                       bool i16Products = false);
  /// select(mask, macLanes(acc, w, x), acc): lanes off the mask keep their
  /// accumulator, so w and x may be undefined there (RVV: a masked vwmacc).
  mlir::Value macLanesMasked(mlir::Value acc, mlir::Value w, mlir::Value x,
                             mlir::Value mask, bool i16Products = false);
  /// Lane sums that are never reset, read for one row: returns {acc0 +
  /// (the total of `lanes` - `total`), the new total}. Exact for integer
  /// sums in wrapping arithmetic (not for floats, which would round
  /// differently); it saves zeroing the lanes for every row.
  std::pair<mlir::Value, mlir::Value>
  rowSumOfTotals(mlir::Value acc0, mlir::Value lanes, mlir::Value total);
  /// Scalar a + b in accType.
  mlir::Value add(mlir::Value a, mlir::Value c);
  /// y[at .. at + lanes) = (`fill` broadcast, or y's own lanes) + `acc`,
  /// only in the lanes of `mask` when it is given (lanes past a layer's last
  /// row: the next pixel's sums follow in y). Returns the new y.
  mlir::Value addToLanes(mlir::Value y, mlir::Value at, mlir::Value acc,
                         mlir::Value fill, mlir::Value mask);
  /// The buffer element as an index (zero-extended: storage indices are
  /// unsigned).
  mlir::Value extractIndex(mlir::Value tensor, mlir::Value at);
};

/// True when the int8 dCSR kernels apply: groups of 16 int8 lanes of
/// weights and activations (on MVE vldrb gathers with 8-bit offsets and
/// vmlava.s8; on RVV vluxei8 and products in i16 lanes). Other element
/// types and group sizes take the generic vector code.
inline bool isInt8DCSRKernel(const MatvecOperands &m, int64_t lanes) {
  auto isI8 = [](mlir::Value v) {
    return mlir::cast<mlir::ShapedType>(v.getType()).getElementType().isInteger(8);
  };
  return lanes == 16 && isI8(m.buffers[0]) && isI8(m.x);
}

/// Raw pointers into read-only storage buffers (Pointers.cpp), for kernels
/// whose loops carry their read positions. Offsets are GEPs without
/// inbounds: a gather base may point before its buffer while every lane it
/// reads is inside.
struct Pointers {
  Emitter &e;
  /// `!llvm.ptr`.
  mlir::Type type() const;
  /// The address of `tensor`'s first element (a read-only buffer).
  mlir::Value to(mlir::Value tensor);
  /// ptr + count elements of `elem` (count: index or i32).
  mlir::Value advance(mlir::Value ptr, mlir::Type elem, mlir::Value count);
  /// ptr + bytes as integer arithmetic, not a GEP: LLVM's CodeGenPrepare
  /// rebases GEP steps of different sizes from one position on a shared
  /// step, which breaks post-increment loads on Arm.
  mlir::Value advanceBytes(mlir::Value ptr, int64_t bytes);
  /// The scalar of type `elem` at ptr.
  mlir::Value load(mlir::Type elem, mlir::Value ptr);
  /// A vector at ptr; with a mask, masked-off lanes read zero (undefined
  /// with `undefTail`: RVV then loads under the mask without first copying
  /// a zero vector into the destination).
  mlir::Value read(mlir::VectorType type, mlir::Value ptr,
                   mlir::Value mask = {}, bool undefTail = false);
  /// Lanes ptr[offsets[l]] (i32 offsets) under `mask`; masked-off lanes
  /// zero, or those of `passThrough` when it is given.
  mlir::Value gather(mlir::VectorType type, mlir::Value ptr,
                     mlir::Value offsets, mlir::Value mask,
                     mlir::Value passThrough = {});
};

/// The vectors of one dCSR group of G lanes: 8-bit offsets, lane mask,
/// values and activations, and the ramp 0..G-1 in 8-bit lanes.
struct DCSRGroupTypes {
  DCSRGroupTypes(Emitter &e, const MatvecOperands &m, int64_t lanes);
  DCSRGroupTypes(Emitter &e, mlir::Type valueElem, mlir::Type xElem,
                 int64_t lanes);
  mlir::VectorType bytes, mask, values, x;
  mlir::Value ramp;
};

/// Row geometry shared by the dCSR lowerings (docs/formats.md): row r
/// stores n = nnz/rows + row_offsets[r] entries in ceil(n/G) groups, with
/// the slope s = (cols + n/2) / n.
class DCSRRows {
public:
  /// `values` holds exactly nnz entries (the format's invariant, which the
  /// decoder checks): with a static length the average is a constant.
  DCSRRows(Emitter &e, mlir::Value values, mlir::Value nnzBuf,
           mlir::Value rowOffsets, int64_t rows, int64_t cols, int64_t group);
  mlir::Value entries(mlir::Value r) const;
  /// `divisor` is n, or n clamped to 1 where the row may be empty (its
  /// slope is then unused).
  mlir::Value slope(mlir::Value n, mlir::Value divisor) const;
  mlir::Value groups(mlir::Value n) const;
  /// ramp * s in 8-bit lanes (the group's column offsets without deltas).
  mlir::Value rampTimes(mlir::Value ramp, mlir::Value slope) const;

private:
  Emitter &e;
  mlir::Value rowOffsets, average;
  int64_t cols, group;
};

/// scf.for from `lb` to `ub` by `step` carrying `inits`; `body(iv, args)`
/// returns the values to yield. Returns the loop results.
template <typename BodyFn>
llvm::SmallVector<mlir::Value> forLoop(mlir::ImplicitLocOpBuilder &b,
                                       mlir::Value lb, mlir::Value ub,
                                       mlir::Value step, mlir::ValueRange inits,
                                       BodyFn body) {
  auto loop = mlir::scf::ForOp::create(b, lb, ub, step, inits);
  mlir::OpBuilder::InsertionGuard guard(b);
  mlir::Block *block = loop.getBody();
  if (!block->empty() &&
      block->back().hasTrait<mlir::OpTrait::IsTerminator>()) {
    b.setInsertionPoint(&block->back());
    body(loop.getInductionVar(), loop.getRegionIterArgs());
  } else {
    b.setInsertionPointToEnd(block);
    llvm::SmallVector<mlir::Value> yields =
        body(loop.getInductionVar(), loop.getRegionIterArgs());
    mlir::scf::YieldOp::create(b, yields);
  }
  return llvm::SmallVector<mlir::Value>(loop.getResults());
}

/// `rowStep(r, state)` for the rows r in [0, rows), threading the state
/// from `inits`: `perIteration` rows per iteration of one loop (shared loop
/// control and addressing), then the rows left over (one directly, more in
/// a loop of one per iteration: at most one more copy of the row code).
/// Returns the final state.
template <typename RowFn>
llvm::SmallVector<mlir::Value>
forRowBlocks(mlir::ImplicitLocOpBuilder &b, Emitter &e, int64_t rows,
             int64_t perIteration, mlir::ValueRange inits, RowFn rowStep) {
  int64_t grouped = rows / perIteration * perIteration;
  llvm::SmallVector<mlir::Value> out = forLoop(
      b, e.index(0), e.index(grouped), e.index(perIteration), inits,
      [&](mlir::Value r,
          mlir::ValueRange in) -> llvm::SmallVector<mlir::Value> {
        llvm::SmallVector<mlir::Value> state(in);
        for (int64_t i = 0; i < perIteration; ++i)
          state = rowStep(
              i ? mlir::arith::AddIOp::create(b, r, e.index(i)).getResult() : r,
              mlir::ValueRange(state));
        return state;
      });
  if (rows - grouped > 1)
    out = forLoop(b, e.index(grouped), e.index(rows), e.index(1), out, rowStep);
  else if (rows > grouped)
    out = rowStep(e.index(grouped), mlir::ValueRange(out));
  return out;
}

/// acc0 plus term(acc, j) accumulated over j in [begin, end): `unroll`
/// terms per iteration (shared pointer updates and branch), then the last
/// (end - begin) % unroll one at a time. `add(acc, j)` returns the new acc.
template <typename AddFn>
mlir::Value unrolledSum(mlir::ImplicitLocOpBuilder &b, Emitter &e,
                        mlir::Value begin, mlir::Value end, int64_t unroll,
                        mlir::Value acc0, AddFn add) {
  mlir::Value n = mlir::arith::SubIOp::create(b, end, begin);
  mlir::Value mainEnd = mlir::arith::AddIOp::create(
      b, begin, mlir::arith::AndIOp::create(b, n, e.index(-unroll)));
  mlir::Value acc =
      forLoop(b, begin, mainEnd, e.index(unroll), {acc0},
              [&](mlir::Value j, mlir::ValueRange a)
                  -> llvm::SmallVector<mlir::Value> {
                mlir::Value sum = a[0];
                for (int64_t u = 0; u < unroll; ++u)
                  sum = add(sum, mlir::arith::AddIOp::create(b, j, e.index(u)));
                return {sum};
              })[0];
  return forLoop(b, mainEnd, end, e.index(1), {acc},
                 [&](mlir::Value j, mlir::ValueRange a)
                     -> llvm::SmallVector<mlir::Value> {
                   return {add(a[0], j)};
                 })[0];
}

mlir::FailureOr<mlir::Value> lowerDense(mlir::ImplicitLocOpBuilder &b,
                                        const MatvecOperands &m,
                                        const LowerOptions &opts);
mlir::FailureOr<mlir::Value> lowerCSR(mlir::ImplicitLocOpBuilder &b,
                                      const MatvecOperands &m,
                                      const LowerOptions &opts);
mlir::FailureOr<mlir::Value> lowerCSECSR(mlir::ImplicitLocOpBuilder &b,
                                         const MatvecOperands &m,
                                         const LowerOptions &opts);
mlir::FailureOr<mlir::Value> lowerNM(mlir::ImplicitLocOpBuilder &b,
                                     const MatvecOperands &m,
                                     const LowerOptions &opts);
mlir::FailureOr<mlir::Value> lowerDCSR(mlir::ImplicitLocOpBuilder &b,
                                       const MatvecOperands &m,
                                       const LowerOptions &opts);
/// dCSR with byte deltas (delta_bits = 8, LowerDCSRBytes.cpp).
mlir::FailureOr<mlir::Value> lowerDCSRBytes(mlir::ImplicitLocOpBuilder &b,
                                            const MatvecOperands &m,
                                            const LowerOptions &opts);
mlir::FailureOr<mlir::Value> lowerGS(mlir::ImplicitLocOpBuilder &b,
                                     const MatvecOperands &m,
                                     const LowerOptions &opts);

/// MVE: the entries [begin, end) of one CSR row against several activation
/// vectors, x[xBases[q] + column] (LowerCSR.cpp, "tail-predicated rows"):
/// one load of the row's values and column indices per step, one gather and
/// one predicated `vmlava` per vector. Returns accs0[q] + the row's sums.
/// With `valuesBegin`, values are read from there instead of from `begin`
/// (CSE-CSR: its values skip the row's references).
llvm::SmallVector<mlir::Value>
csrRowsMVE(mlir::ImplicitLocOpBuilder &b, Emitter &e, mlir::Value values,
           mlir::Value colIdx, mlir::Value x, mlir::ValueRange xBases,
           int64_t vl, mlir::Value begin, mlir::Value end,
           mlir::ValueRange accs0, mlir::Value valuesBegin = {});

/// Other vector targets (RVV): acc0 + the entries [begin, end) of one CSR
/// row, products in lane sums (the last step under a lane mask, masked-off
/// lanes undefined) reduced once (LowerCSR.cpp). `valuesBegin` as above;
/// `i16Products` as for Emitter::macLanes.
mlir::Value csrRowLanes(mlir::ImplicitLocOpBuilder &b, Emitter &e,
                        mlir::Value values, mlir::Value colIdx, mlir::Value x,
                        int64_t vl, mlir::Value begin, mlir::Value end,
                        mlir::Value acc0, mlir::Value valuesBegin = {},
                        bool i16Products = false);

/// Y's init as the matmul kernels start from it: for a fresh `linalg.fill`
/// of a scalar of the accumulator type, the fill's destination and that
/// scalar (accumulators start from it; Y is never read), otherwise Y and a
/// null value (LowerSpMM.cpp).
struct MatmulInit {
  mlir::Value y, fillValue;
};
MatmulInit matmulInit(const MatmulOperands &m);

/// y through blocks of `block` pixels from 0, then one block of the
/// P % block pixels left: emit(y, first pixel, pixels in the block)
/// (LowerSpMM.cpp). `rolled`: LLVM must not unroll the block loop (a short
/// constant trip count was unrolled completely and each block's addresses
/// hoisted and spilled).
mlir::Value forPixelBlocks(
    mlir::ImplicitLocOpBuilder &b, Emitter &e, int64_t pixels, int64_t block,
    mlir::Value y,
    llvm::function_ref<mlir::Value(mlir::Value, mlir::Value, int64_t)> emit,
    bool rolled = false);

/// Pixel-batched CSR matmul (LowerSpMM.cpp).
mlir::FailureOr<mlir::Value> lowerCSRMatmul(mlir::ImplicitLocOpBuilder &b,
                                            const MatmulOperands &m,
                                            const LowerOptions &opts);
/// True when a layer matmul over `encoding` has a batched kernel on
/// `target`: CSR (LowerSpMM.cpp; any target), dCSR with int8 groups of 16
/// or N:M with 2- or 4-bit fields (LowerSparseMatmul.cpp); on rv32imc CSR
/// and N:M with any fields (scalar kernels); on rv32gcv CSR, and int8 N:M,
/// GS and dCSR in groups of 16; given the weight's columns and the weight
/// and activation element types.
bool hasBatchedSparseKernel(mlir::Attribute encoding, int64_t cols,
                            mlir::Type wElem, mlir::Type xElem,
                            llvm::StringRef target);
/// dCSR, N:M or GS layer matmul (LowerSparseMatmul.cpp).
mlir::FailureOr<mlir::Value> lowerSparseMatmul(mlir::ImplicitLocOpBuilder &b,
                                               const MatmulOperands &m,
                                               const LowerOptions &opts);

/// What the batched row loops multiply W by: `pixels` int8 activation
/// vectors `xStride` elements apart (the matvec: one). The vector dCSR
/// kernels read them through `xPtr` (pixel 0's first byte), the N:M kernels
/// and the scalar dCSR rows as X (`x`, 1-D) from index `xBase` (null: 0).
/// Accumulator q of row r is y[yAt(r, q)], started from `fillValue` when
/// there is one (else read from y).
struct LayerPixels {
  mlir::Value xPtr;
  int64_t pixels, xStride;
  mlir::Value y;
  // Owned (not a function_ref): the matvec callers pass a temporary lambda.
  std::function<mlir::Value(mlir::Value, int64_t)> yAt;
  mlir::Value fillValue;
  mlir::Value x, xBase;

  /// The matvec's one pixel: x (and `xPtr` for the kernels that read it
  /// through a pointer), row r's sum in y[r], started from y (DCSRRows.cpp).
  static LayerPixels matvec(const MatvecOperands &m, mlir::Value xPtr = {});
  /// Row r's sums as they start, one per pixel: fillValue, or y[yAt(r, q)]
  /// read from `yt` (DCSRRows.cpp).
  llvm::SmallVector<mlir::Value> startSums(mlir::ImplicitLocOpBuilder &b,
                                           mlir::Value yt, mlir::Value r) const;
  /// The index in `x` of pixel q's activation at column `col`: xBase + col
  /// + q * xStride (DCSRRows.cpp).
  mlir::Value xIndex(mlir::ImplicitLocOpBuilder &b, Emitter &e, int64_t q,
                     mlir::Value col) const;
};
/// rv32gcv with one pixel: dcsrPixelDots sums only the mask's lanes, so
/// the caller may read the values with undefined masked-off lanes
/// (DCSRRows.cpp).
inline bool dcsrDotsSumMaskOnly(const LayerPixels &px, bool rvv) {
  return rvv && px.pixels == 1;
}
/// One decoded dCSR group against every pixel of `px` (DCSRRows.cpp): pixel
/// q gathers x at base + q * xStride + offsets under `mask` and adds
/// sum(v * x) to accs[q] (v's masked-off lanes read zero; `dotUnderMask`:
/// the products selected under the mask too, LLVM's tail-predicated shape on
/// MVE). `rvv`: products in i16 lanes, and each gather passes the previous
/// pixel's on (see there).
llvm::SmallVector<mlir::Value>
dcsrPixelDots(Emitter &e, Pointers &ptrs, const LayerPixels &px,
              mlir::VectorType xType, mlir::Value base, mlir::Value offsets,
              mlir::Value mask, mlir::Value v, mlir::ValueRange accs, bool rvv,
              bool dotUnderMask = false);
/// Every row of a 4-bit dCSR W (groups of 16) against `px`; returns y
/// (LowerDCSR.cpp). Each group is decoded once for all pixels. The
/// cortex-m55 kernel, and with `rvv` rv32gcv's layer kernel.
mlir::Value dcsrRowsMVE(mlir::ImplicitLocOpBuilder &b, Emitter &e,
                        llvm::ArrayRef<mlir::Value> buffers, int64_t rows,
                        int64_t cols, const LayerPixels &px, bool rvv = false);
/// The same for byte deltas (LowerDCSRBytes.cpp), `rowsPerIteration` rows
/// sharing one iteration of the row loop.
mlir::Value dcsrBytesRowsMVE(mlir::ImplicitLocOpBuilder &b, Emitter &e,
                             llvm::ArrayRef<mlir::Value> buffers, int64_t rows,
                             int64_t cols, const LayerPixels &px,
                             int64_t rowsPerIteration, bool rvv = false);
/// rv32imc: every row of a 4-bit dCSR W (groups of `group`) against `px`
/// with scalar code, each entry decoded once for all pixels (LowerDCSR.cpp);
/// returns y.
mlir::Value dcsrRowsScalar(mlir::ImplicitLocOpBuilder &b, Emitter &e,
                           llvm::ArrayRef<mlir::Value> buffers, int64_t rows,
                           int64_t cols, int64_t group, const LayerPixels &px);
/// rv32imc: every row of a byte-delta dCSR W (groups of `group`) against
/// `px` with scalar code, each entry read once for all pixels
/// (LowerDCSRBytes.cpp); returns y.
mlir::Value dcsrBytesRowsScalar(mlir::ImplicitLocOpBuilder &b, Emitter &e,
                                llvm::ArrayRef<mlir::Value> buffers,
                                int64_t rows, int64_t cols, int64_t group,
                                const LayerPixels &px);
/// True when the cortex-m55 N:M byte-lane kernels take `nm` (LowerNM.cpp):
/// int8, m = 4 or 16, or m = 8 with at most 256 fields per row; n divides 16.
bool hasNMFieldKernel(mcusparse::sparse_enc::NMAttr nm, int64_t cols,
                      mlir::Type wElem, mlir::Type xElem);
/// rv32gcv: every group of `lanes` rows of a GS W against `px`, each step
/// read once for all pixels (LowerGS.cpp); returns y.
mlir::Value gsRowsRVV(mlir::ImplicitLocOpBuilder &b, Emitter &e,
                      llvm::ArrayRef<mlir::Value> buffers, int64_t rows,
                      int64_t lanes, const LayerPixels &px);
/// rv32gcv, int8: every row of an N:M W against `px`, rows in parallel
/// lanes, each field decoded once for all pixels (LowerNM.cpp); returns y.
mlir::Value nmRowsRVV(mlir::ImplicitLocOpBuilder &b, Emitter &e,
                      llvm::ArrayRef<mlir::Value> buffers, int64_t rows,
                      int64_t cols, mcusparse::sparse_enc::NMAttr nm,
                      const LayerPixels &px);
/// Every row of an N:M W against `px` with those kernels; returns y.
mlir::Value nmRowsMVE(mlir::ImplicitLocOpBuilder &b, Emitter &e,
                      llvm::ArrayRef<mlir::Value> buffers, int64_t rows,
                      int64_t cols, mcusparse::sparse_enc::NMAttr nm,
                      const LayerPixels &px);
/// Every row of an N:M W against `px` on a scalar target (rv32imc): each
/// field's offset and value are decoded once for all pixels (LowerNM.cpp).
mlir::Value nmRowsScalar(mlir::ImplicitLocOpBuilder &b, Emitter &e,
                         llvm::ArrayRef<mlir::Value> buffers, int64_t rows,
                         int64_t cols, int64_t n, int64_t m,
                         const LayerPixels &px);
/// Register-blocked dense matmul (LowerDenseMatmul.cpp).
mlir::FailureOr<mlir::Value> lowerDenseMatmul(mlir::ImplicitLocOpBuilder &b,
                                              const MatmulOperands &m,
                                              const LowerOptions &opts);

} // namespace mcusparse::lower

#endif // MCUSPARSE_PASSES_LOWER_LOWERING_H
