//===- LowerDenseMatmul.cpp - dense layer matmul kernels ------------------===//
//
// Y[P, O] += X[P, K] x W[O, K]^T with a dense W, the convolution of a layer
// (im2col X). One matvec per pixel (LowerDense.cpp) reads all of W again for
// every pixel; here a block of R rows of W and Q pixels shares every vector
// load:
//
//   for each block of Q pixels p0, for each block of R rows o0:
//     acc[q][r] = Y[p0 + q, o0 + r]          (or the fill value)
//     for each step of vl columns c:
//       x_q = X[p0 + q, c : c + vl], w_r = W[o0 + r, c : c + vl]
//       acc[q][r] += sum(sext(w_r) * sext(x_q))
//     Y[p0 + q, o0 + r] = acc[q][r]
//
// per step R + Q vector loads and R * Q widening dot products (MVE: vldrb
// and vmlava.s8; the accumulators are scalar registers). On MVE with int8
// the dot product is the `llvm.arm.mve.vmldava` intrinsic: generic IR
// (reduce(mul(sext, sext))) shares each sext between the dot products of a
// block, and once LLVM unrolls a short column loop (K = 40: DS-CNN's first
// layer) it no longer matches vmlava.s8 but widens to 4 x i32 through the
// stack (0.9 instructions per MAC instead of 0.2). The column tail
// (K % vl) is one masked step with a compile-time mask; the last P % Q
// pixels are one smaller block (a single pixel with R = denseRows, like the
// matvec kernel), leftover rows R = 1. When Y's init is a
// linalg.fill of a scalar, the accumulators start from that scalar and Y is
// never read.
//
// cortex-m55 and rv32imc (sparse-enc-matmul-to-matvec marks the matmul);
// the block shape is measured (docs/kernels.md). The kernel that reads each
// weight once (below) is the dense layer kernel of rv32gcv, and on
// cortex-m55 the one taken with dense-weights-once.
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mcusparse::lower;

namespace {
/// Rows of W and pixels of X per block: R * Q scalar accumulators and
/// R + Q read pointers must fit the 14 usable GPRs of the M55.
constexpr int64_t kRows = 2;
constexpr int64_t kPixels = 3;
/// rv32imc: R * Q accumulators and R + Q loaded bytes in 27 GPRs; one
/// column per step (unrolled, the loads of later columns spilled).
constexpr int64_t kScalarRows = 3;
constexpr int64_t kScalarPixels = 4;
/// cortex-m55 weights-once kernel: a row of W (or a chunk of a wider row) in
/// at most 6 of the 8 q registers (the others: a row of X and a spare).
/// Rows of one masked step (under 32 columns) stay register-blocked: with
/// digits' first convolution (9 columns) the model ran 1,217 more
/// instructions and read no fewer weight bytes.
constexpr int64_t kResidentCols = 96;
constexpr int64_t kResidentMinCols = 32;
/// rv32gcv: chunks of two steps of 32 lanes, held as i16 (8 of the 32
/// vector registers). Measured instructions, 172x172 over 250 pixels
/// (6 steps): 2,263,384 in chunks of two steps, 2,716,432 of three and
/// 3,471,854 of six (spilled); 256x256 over 16 pixels 290,853 / 263,454 /
/// 405,788 (eight steps), 96x576 over 36 pixels 530,276 / 523,642.
constexpr int64_t kResidentColsRVV = 64;
/// Pixels per iteration of its pixel loop (one loop end for two stores).
constexpr int64_t kResidentPixels = 2;
} // namespace

/// Where the weights-once kernel serves a layer of `cols` columns over
/// `pixels` pixels.
static bool weightsOnceApplies(llvm::StringRef target, int64_t cols,
                               int64_t pixels) {
  if (target == "rv32gcv")
    return pixels > 1;
  return target == "cortex-m55" && cols >= kResidentMinCols && pixels > 1;
}

/// cortex-m55 (int8, dense-weights-once) and rv32gcv: each row of W is
/// loaded once into vector registers and every pixel passes it, per pixel
/// ceil(K / vl) loads of X and dot products (MVE: `vmlava`; RVV: `vwmul`
/// and a reduction) and one store of Y. Every weight is read once (the
/// register-blocked kernel reads it once per block of kPixels pixels), for
/// more instructions per MAC: a layer's choice between the two depends on
/// the weight memory's wait states. A row wider than kResidentCols runs in
/// chunks of at most kResidentCols columns, each a pass over the pixels;
/// the later passes add to the sums in Y (one more load per pixel).
static Value lowerDenseMatmulWeightsOnce(ImplicitLocOpBuilder &b,
                                         const MatmulOperands &m, int64_t vl,
                                         bool mveInt8) {
  Emitter e{b, m.accType};
  Value w = m.buffers[0];
  int64_t P = m.pixels, O = m.rows, K = m.cols;
  auto wVec = VectorType::get({vl}, m.weightType.getElementType());
  auto xVec =
      VectorType::get({vl}, cast<ShapedType>(m.x.getType()).getElementType());
  auto [y, fillValue] = matmulInit(m);
  // RVV, int8: the row is held sign-extended to i16 (LLVM hoists that
  // extension out of the pixel loop anyway; to i32 the row took 8 registers
  // per step and spilled), each product is exact in i16 (`vmul` e16), and
  // the reduction widens to i32 (`vwredsum`; Emitter::dotI16, whose
  // extension of the held row to i16 is then a no-op).
  bool i16Products = !mveInt8 && wVec.getElementType().isInteger(8) &&
                     xVec.getElementType().isInteger(8) &&
                     m.accType.isInteger(32);
  auto i16Vec = VectorType::get({vl}, b.getI16Type());
  // Chunks of columns, each a list of steps [c, c + vl), the last step of
  // the row under a compile-time mask; equal chunks where the row is split.
  int64_t stepsTotal = (K + vl - 1) / vl;
  int64_t perChunk =
      std::max<int64_t>(1, (mveInt8 ? kResidentCols : kResidentColsRVV) / vl);
  int64_t chunks = (stepsTotal + perChunk - 1) / perChunk;
  SmallVector<SmallVector<std::pair<int64_t, Value>>> chunkSteps(chunks);
  for (int64_t s = 0; s < stepsTotal; ++s) {
    int64_t c = s * vl;
    chunkSteps[s * chunks / stepsTotal].push_back(
        {c, K - c < vl ? e.prefixMask(vl, K - c) : Value()});
  }
  return forLoop(
      b, e.index(0), e.index(O), e.index(1), {y},
      [&](Value o, ValueRange rowIn) -> SmallVector<Value> {
        Value yt = rowIn[0];
        for (auto [chunk, steps] : llvm::enumerate(chunkSteps)) {
          SmallVector<Value> ws;
          for (auto [c, mask] : steps) {
            Value wv = e.read(wVec, w, {o, e.index(c)}, mask);
            ws.push_back(i16Products ? arith::ExtSIOp::create(b, i16Vec, wv)
                                     : wv);
          }
          bool fromFill = chunk == 0 && fillValue;
          // Pixels [p0, p0 + nq) against the chunk.
          auto emitPixels = [&](Value yp, Value p0, int64_t nq) -> Value {
            for (int64_t q = 0; q < nq; ++q) {
              Value p = q ? arith::AddIOp::create(b, p0, e.index(q)) : p0;
              Value acc =
                  fromFill
                      ? fillValue
                      : tensor::ExtractOp::create(b, yp, ValueRange{p, o})
                            .getResult();
              for (auto [j, step] : llvm::enumerate(steps)) {
                Value xv =
                    e.read(xVec, m.x, {p, e.index(step.first)}, step.second);
                acc = mveInt8       ? e.mveDot(acc, ws[j], xv)
                      : i16Products ? e.dotI16(acc, ws[j], xv)
                                    : e.dot(acc, ws[j], xv);
              }
              yp = tensor::InsertOp::create(b, acc, yp, ValueRange{p, o});
            }
            return yp;
          };
          yt = forPixelBlocks(b, e, P, kResidentPixels, yt, emitPixels,
                              /*rolled=*/true);
        }
        return {yt};
      })[0];
}

FailureOr<Value> mcusparse::lower::lowerDenseMatmul(ImplicitLocOpBuilder &b,
                                                    const MatmulOperands &m,
                                                    const LowerOptions &opts) {
  Emitter e{b, m.accType};
  Value w = m.buffers[0];
  int64_t P = m.pixels, O = m.rows, K = m.cols;
  int64_t vl = opts.vectorLength;
  int64_t full = K / vl * vl, tail = K - full;
  Type wElem = m.weightType.getElementType();
  Type xElem = cast<ShapedType>(m.x.getType()).getElementType();
  auto wVec = VectorType::get({vl}, wElem), xVec = VectorType::get({vl}, xElem);
  bool mveInt8 = opts.mve() && wElem.isInteger(8) && xElem.isInteger(8) &&
                 m.accType.isInteger(32) && vl == 16;
  auto dot = [&](Value acc, Value wv, Value xv) -> Value {
    return mveInt8 ? e.mveDot(acc, wv, xv) : e.dot(acc, wv, xv);
  };

  // rv32gcv: always (fewer instructions than the register-blocked kernel
  // too); cortex-m55: when asked (more instructions, less weight traffic).
  bool weightsOnce = opts.rvv() || (mveInt8 && opts.denseWeightsOnce);
  if (weightsOnce && weightsOnceApplies(opts.target, K, P))
    return lowerDenseMatmulWeightsOnce(b, m, vl, mveInt8);

  auto [y, fillValue] = matmulInit(m);

  // Pixels [p0, p0 + nq) x rows [o0, o0 + nr) of Y.
  auto emitBlock = [&](Value yt, Value p0, Value o0, int64_t nq,
                       int64_t nr) -> Value {
    auto plus = [&](Value v, int64_t k) {
      return k ? arith::AddIOp::create(b, v, e.index(k)).getResult() : v;
    };
    SmallVector<Value> pix, rows, accs;
    for (int64_t q = 0; q < nq; ++q)
      pix.push_back(plus(p0, q));
    for (int64_t r = 0; r < nr; ++r)
      rows.push_back(plus(o0, r));
    for (int64_t q = 0; q < nq; ++q)
      for (int64_t r = 0; r < nr; ++r)
        accs.push_back(fillValue ? fillValue
                                 : tensor::ExtractOp::create(
                                       b, yt, ValueRange{pix[q], rows[r]})
                                       .getResult());
    auto step = [&](Value c, ValueRange in, Value mask) {
      SmallVector<Value> xs, ws, out;
      for (int64_t q = 0; q < nq; ++q)
        xs.push_back(e.read(xVec, m.x, {pix[q], c}, mask));
      for (int64_t r = 0; r < nr; ++r)
        ws.push_back(e.read(wVec, w, {rows[r], c}, mask));
      for (int64_t q = 0; q < nq; ++q)
        for (int64_t r = 0; r < nr; ++r)
          out.push_back(dot(in[q * nr + r], ws[r], xs[q]));
      return out;
    };
    // Scalar targets: column c, one byte load per row and per pixel.
    auto scalarColumn = [&](Value c, ValueRange in) {
      SmallVector<Value> xs, ws, out;
      for (int64_t q = 0; q < nq; ++q)
        xs.push_back(tensor::ExtractOp::create(b, m.x, ValueRange{pix[q], c}));
      for (int64_t r = 0; r < nr; ++r)
        ws.push_back(tensor::ExtractOp::create(b, w, ValueRange{rows[r], c}));
      for (int64_t q = 0; q < nq; ++q)
        for (int64_t r = 0; r < nr; ++r)
          out.push_back(e.mulAdd(in[q * nr + r], ws[r], xs[q]));
      return out;
    };
    if (opts.scalarOnly()) {
      accs =
          forLoop(b, e.index(0), e.index(K), e.index(1), accs,
                  [&](Value c, ValueRange in) { return scalarColumn(c, in); });
    } else {
      if (full > 0)
        accs = forLoop(b, e.index(0), e.index(full), e.index(vl), accs,
                       [&](Value c, ValueRange in) { return step(c, in, {}); });
      if (tail > 0)
        accs = step(e.index(full), accs, e.prefixMask(vl, tail));
    }
    for (int64_t q = 0; q < nq; ++q)
      for (int64_t r = 0; r < nr; ++r)
        yt = tensor::InsertOp::create(b, accs[q * nr + r], yt,
                                      ValueRange{pix[q], rows[r]});
    return yt;
  };

  // All rows of Y for pixels [p0, p0 + nq): blocks of R rows, then the
  // rest. A single pixel is a matvec: R = denseRows, as in LowerDense.cpp.
  auto emitPixels = [&](Value yt, Value p0, int64_t nq) -> Value {
    int64_t R = nq == 1             ? std::max<int64_t>(1, opts.denseRows)
                : opts.scalarOnly() ? kScalarRows
                                    : kRows;
    int64_t grouped = O / R * R;
    if (grouped > 0)
      yt = forLoop(b, e.index(0), e.index(grouped), e.index(R), {yt},
                   [&](Value o0, ValueRange in) -> SmallVector<Value> {
                     return {emitBlock(in[0], p0, o0, nq, R)};
                   })[0];
    if (grouped < O)
      yt = forLoop(b, e.index(grouped), e.index(O), e.index(1), {yt},
                   [&](Value o0, ValueRange in) -> SmallVector<Value> {
                     return {emitBlock(in[0], p0, o0, nq, 1)};
                   })[0];
    return yt;
  };

  // The last 1 or 2 pixels are one block.
  return forPixelBlocks(b, e, P, opts.scalarOnly() ? kScalarPixels : kPixels, y,
                        emitPixels);
}
