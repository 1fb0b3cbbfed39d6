//===- LowerSparseMatmul.cpp - batched dCSR and N:M layer matmuls ---------===//
//
// Y[P, O] += X[P, K] x W[O, K]^T with W in dCSR (4-bit or byte deltas) or
// N:M with 2- or 4-bit fields (m = 4, 16; the byte-lane kernel), the 1x1
// convolution or im2col layer of a network, on cortex-m55 (and N:M with any
// field width on rv32imc, below):
//
//   for each block of 16 pixels p0 (then one block of the P % 16 left):
//     the matvec's row loop over W (LowerDCSR.cpp, LowerDCSRBytes.cpp,
//     LowerNM.cpp), where each group's (or step's) column offsets and values
//     are decoded once and each pixel q adds a gather of X[p0 + q, offsets]
//     and a `vmlava` into its own scalar accumulator.
//
// One matvec per pixel decoded every group once per pixel: the decode is
// most of a dCSR group's cost (docs/kernels.md), and the sub-byte offsets'
// unpacking of an N:M step, so a block shares it 16 ways. Sixteen
// accumulators spill some GPRs, which still beats blocks of 4 and 8
// (docs/kernels.md, "the batched dCSR and N:M kernels").
//
// rv32imc: blocks of 8 pixels run the scalar N:M row loop (LowerNM.cpp,
// nmRowsScalar): each field's offset is unpacked and its value loaded once,
// and each pixel adds a byte load, a multiply and an add (nm:1:8 256x256
// over 16 pixels: 939,290 -> 522,352 instructions); dCSR in blocks of 16
// pixels likewise, each entry decoded once (LowerDCSRBytes.cpp,
// dcsrBytesRowsScalar; LowerDCSR.cpp, dcsrRowsScalar: 256x256 at 90 % over
// 16 pixels dcsr:16:8 1,221,244 -> 408,340, dcsr 2,496,289 -> 487,027).
//
// rv32gcv: blocks of 4 pixels run the rows-in-lanes N:M kernel (LowerNM.cpp,
// nmRowsRVV, 16 rows per group): each field's offsets and values are
// gathered once per block, each pixel adds a gather of X and a widening
// multiply-accumulate into its own lane accumulators (nm:1:8 64x64 over 125
// pixels: 56,449 -> 29,936 instructions as matvecs -> batched; 16 rows x 6
// pixels 47,581, 8 x 8 94,924, 32 x 2 62,603, 16 x 8 62,016: spills), and
// GS groups likewise (LowerGS.cpp gsRowsRVV: each step's values and column
// indices read once per block; gs:16 on that layer at 90 % 77,187 ->
// 40,834). dCSR layers run the cortex-m55 row loops in blocks of 16
// pixels, with the products in i16 lanes (`vwmul`, `vwredsum`; DCSRRows.cpp
// dcsrPixelDots): 64x64 over 125 pixels at 90 % 599,842 -> 112,589
// instructions as matvecs -> batched (blocks of 4 pixels: 210,446, 8:
// 159,792, 20: 161,529, spilled).
//
//===----------------------------------------------------------------------===//

#include "dialect/SparseEncDialect.h"
#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mcusparse::lower;

namespace {
/// Pixels per pass over W.
constexpr int64_t kPixels = 16;
/// Pixels per pass over W on rv32imc (N:M 256x256 over 16 pixels, 8: 0.50
/// instructions per dense MAC, 4: 0.55, 16: 0.57).
constexpr int64_t kScalarPixels = 8;
/// Pixels per pass over W on rv32imc for dCSR, as for CSR (256x256 at 90 %
/// over 16 pixels, 8 / 16: dcsr:16:8 449,333 / 408,340 instructions, dcsr
/// 616,854 / 487,027; 64x64 at 80 %: 58,259 / 51,316 and 76,370 / 60,511).
constexpr int64_t kScalarDCSRPixels = 16;
/// Pixels per pass over W on rv32gcv (N:M rows in 16 lanes: 4 pixels' i32
/// accumulators take 16 of the 32 vector registers).
constexpr int64_t kRVVPixels = 4;
/// The MVE dCSR kernels' group: 16 int8 lanes.
constexpr int64_t kGroup = 16;
} // namespace

static bool isDCSRBatchable(mcusparse::sparse_enc::DCSRAttr dcsr, Type wElem,
                            Type xElem) {
  return dcsr.getGroup() == kGroup && wElem.isInteger(8) && xElem.isInteger(8);
}

FailureOr<Value> mcusparse::lower::lowerSparseMatmul(ImplicitLocOpBuilder &b,
                                                     const MatmulOperands &m,
                                                     const LowerOptions &opts) {
  Attribute encoding = m.weightType.getEncoding();
  Type xElem = cast<ShapedType>(m.x.getType()).getElementType();
  bool rvv = opts.rvv();
  if ((!opts.mve() && !opts.scalarOnly() && !rvv) || !m.accType.isInteger(32) ||
      !hasBatchedSparseKernel(encoding, m.cols, m.weightType.getElementType(),
                              xElem, opts.target))
    return linalg::MatmulOp(m.op).emitOpError(
        "the batched dCSR and N:M kernels need target cortex-m55 (int8 "
        "weights and activations, dCSR in groups of 16, N:M with 2- or 4-bit "
        "fields), rv32imc (N:M) or rv32gcv (int8 N:M, GS and dCSR), and an "
        "i32 accumulator "
        "(run "
        "sparse-enc-matmul-to-matvec otherwise)");
  Emitter e{b, m.accType};
  int64_t P = m.pixels, O = m.rows, K = m.cols;
  auto [y, fillValue] = matmulInit(m);
  auto collapse = [&](Value t) -> Value {
    return tensor::CollapseShapeOp::create(
        b, t, SmallVector<ReassociationIndices>{{0, 1}});
  };
  Value x1 = collapse(m.x), y1 = collapse(y);
  Pointers ptrs{e};
  auto dcsr = dyn_cast<mcusparse::sparse_enc::DCSRAttr>(encoding);
  auto nm = dyn_cast<mcusparse::sparse_enc::NMAttr>(encoding);
  bool scalar = opts.scalarOnly();
  Value xStart = dcsr && !scalar ? ptrs.to(x1) : Value();
  int64_t block = scalar         ? (dcsr ? kScalarDCSRPixels : kScalarPixels)
                  : rvv && !dcsr ? kRVVPixels
                                 : kPixels;
  y1 = forPixelBlocks(
      b, e, P, block, y1, [&](Value yt, Value p0, int64_t nq) -> Value {
        Value xBase = arith::MulIOp::create(b, p0, e.index(K));
        Value yBase = arith::MulIOp::create(b, p0, e.index(O));
        // Y positions yBase + r + q * O: the block's stores share one
        // address register (as in the CSR kernel, LowerSpMM.cpp).
        auto yAt = [&](Value r, int64_t q) -> Value {
          Value at = arith::AddIOp::create(b, yBase, r);
          return q ? arith::AddIOp::create(b, at, e.index(q * O)).getResult()
                   : at;
        };
        LayerPixels px{Value(), nq, K, yt, yAt, fillValue, x1, xBase};
        if (scalar && dcsr)
          return dcsr.getDeltaBits() == 8
                     ? dcsrBytesRowsScalar(b, e, m.buffers, O, K,
                                           dcsr.getGroup(), px)
                     : dcsrRowsScalar(b, e, m.buffers, O, K, dcsr.getGroup(),
                                      px);
        if (scalar)
          return nmRowsScalar(b, e, m.buffers, O, K, nm.getN(), nm.getM(), px);
        if (rvv && nm)
          return nmRowsRVV(b, e, m.buffers, O, K, nm, px);
        if (rvv && !dcsr)
          return gsRowsRVV(
              b, e, m.buffers, O,
              cast<mcusparse::sparse_enc::GSAttr>(encoding).getLanes(), px);
        if (!dcsr)
          return nmRowsMVE(b, e, m.buffers, O, K, nm, px);
        px.xPtr = ptrs.advance(xStart, b.getI8Type(), xBase);
        if (dcsr.getDeltaBits() == 8)
          return dcsrBytesRowsMVE(b, e, m.buffers, O, K, px,
                                  /*rowsPerIteration=*/1, rvv);
        return dcsrRowsMVE(b, e, m.buffers, O, K, px, rvv);
      });
  return tensor::ExpandShapeOp::create(
             b, cast<RankedTensorType>(m.y.getType()), y1,
             SmallVector<ReassociationIndices>{{0, 1}})
      .getResult();
}

bool mcusparse::lower::hasBatchedSparseKernel(Attribute encoding, int64_t cols,
                                              Type wElem, Type xElem,
                                              llvm::StringRef target) {
  auto nm = dyn_cast<mcusparse::sparse_enc::NMAttr>(encoding);
  auto dcsr = dyn_cast<mcusparse::sparse_enc::DCSRAttr>(encoding);
  // rv32imc: N:M, CSR and dCSR, each field or entry decoded once per block
  // of pixels (scalar code has no lanes to fill, so any field width).
  if (target == "rv32imc")
    return (nm || dcsr || isa<mcusparse::sparse_enc::CSRAttr>(encoding)) &&
           isa<IntegerType>(wElem) && isa<IntegerType>(xElem);
  // rv32gcv: CSR, int8 N:M in row-parallel lanes (nmRowsRVV) and GS
  // (gsRowsRVV), and int8 dCSR in groups of 16 (the cortex-m55 row loops).
  if (target == "rv32gcv")
    return isa<mcusparse::sparse_enc::CSRAttr>(encoding) ||
           ((nm || isa<mcusparse::sparse_enc::GSAttr>(encoding)) &&
            wElem.isInteger(8) && xElem.isInteger(8)) ||
           (dcsr && isDCSRBatchable(dcsr, wElem, xElem));
  if (isa<mcusparse::sparse_enc::CSRAttr>(encoding))
    return true;
  // N:M with 2- or 4-bit fields. Not the 3-bit kernel: it stages each row's
  // offset bytes on the stack and unrolls its steps, which spill with 16
  // accumulators (nm:1:8 256x256 over 16 pixels: 308,138 instructions,
  // against 177,482 as 16 matvecs).
  if (nm)
    return nm.getM() != 8 && hasNMFieldKernel(nm, cols, wElem, xElem);
  return dcsr && isDCSRBatchable(dcsr, wElem, xElem);
}
