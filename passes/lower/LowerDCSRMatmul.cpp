//===- LowerDCSRMatmul.cpp - batched #sparse_enc.dcsr layer matmul --------===//
//
// Y[P, O] += X[P, K] x W[O, K]^T with W in dCSR (4-bit or byte deltas),
// the 1x1 convolution or im2col layer of a network, on cortex-m55:
//
//   for each block of 4 pixels p0 (then one block of the P % 4 left):
//     the matvec's row loop over W (LowerDCSR.cpp, LowerDCSRBytes.cpp),
//     where each group's column offsets, minimum and values are decoded
//     once and each pixel q adds a gather of X[p0 + q, base + offsets]
//     and a `vmlava` into its own scalar accumulator.
//
// One matvec per pixel decoded every group once per pixel: the decode is
// most of a dCSR group's cost (docs/kernels.md), so a block of 4 pixels
// shares it four ways. The pixels' gather bases are one pointer plus
// constants (q * K bytes), the accumulators four GPRs.
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
/// Pixels per pass over W: each needs a scalar accumulator in a GPR.
constexpr int64_t kPixels = 16;
/// The MVE dCSR kernels' group: 16 int8 lanes.
constexpr int64_t kGroup = 16;
} // namespace

static bool isDCSRBatchable(mcusparse::sparse_enc::DCSRAttr dcsr, Type wElem,
                            Type xElem) {
  return dcsr.getGroup() == kGroup && wElem.isInteger(8) && xElem.isInteger(8);
}

FailureOr<Value> mcusparse::lower::lowerDCSRMatmul(ImplicitLocOpBuilder &b,
                                                   const MatmulOperands &m,
                                                   const LowerOptions &opts) {
  auto dcsr = cast<mcusparse::sparse_enc::DCSRAttr>(m.weightType.getEncoding());
  Type xElem = cast<ShapedType>(m.x.getType()).getElementType();
  if (!opts.mve() || !m.accType.isInteger(32) ||
      !isDCSRBatchable(dcsr, m.weightType.getElementType(), xElem))
    return linalg::MatmulOp(m.op).emitOpError(
        "the batched dCSR kernel needs target cortex-m55, int8 weights and "
        "activations in groups of 16 and an i32 accumulator (run "
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
  Value xStart = ptrs.to(x1);
  y1 = forPixelBlocks(
      b, e, P, kPixels, y1, [&](Value yt, Value p0, int64_t nq) -> Value {
        Value xPtr = ptrs.advance(xStart, b.getI8Type(),
                                  arith::MulIOp::create(b, p0, e.index(K)));
        Value yBase = arith::MulIOp::create(b, p0, e.index(O));
        // Y positions yBase + r + q * O: the block's stores share one
        // address register (as in the CSR kernel, LowerSpMM.cpp).
        auto yAt = [&](Value r, int64_t q) -> Value {
          Value at = arith::AddIOp::create(b, yBase, r);
          return q ? arith::AddIOp::create(b, at, e.index(q * O)).getResult()
                   : at;
        };
        DCSRPixels px{xPtr, nq, K, yt, yAt, fillValue};
        if (dcsr.getDeltaBits() == 8)
          return dcsrBytesRowsMVE(b, e, m.buffers, O, K, px,
                                  /*rowsPerIteration=*/1);
        return dcsrRowsMVE(b, e, m.buffers, O, K, px);
      });
  return tensor::ExpandShapeOp::create(
             b, cast<RankedTensorType>(m.y.getType()), y1,
             SmallVector<ReassociationIndices>{{0, 1}})
      .getResult();
}

bool mcusparse::lower::hasBatchedSparseKernel(Attribute encoding, Type wElem,
                                              Type xElem) {
  if (isa<mcusparse::sparse_enc::CSRAttr>(encoding))
    return true;
  auto dcsr = dyn_cast<mcusparse::sparse_enc::DCSRAttr>(encoding);
  return dcsr && isDCSRBatchable(dcsr, wElem, xElem);
}
