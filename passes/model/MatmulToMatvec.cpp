//===- MatmulToMatvec.cpp - weight matmuls as one matvec per row ----------===//
//
// A convolution arrives from the front ends as im2col + linalg.matmul
// X[P, K] x W[O, K]^T. Our kernels are matrix-vector products over a packed
// W, so the matmul becomes a loop over the P output pixels, each a
// linalg.matvec(W, X[p, :]) into row p of the result. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "dialect/SparseEncDialect.h"
#include "passes/Passes.h"
#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"

namespace mcusparse {
#define GEN_PASS_DEF_SPARSEENCMATMULTOMATVEC
#include "passes/Passes.h.inc"
} // namespace mcusparse

using namespace mlir;

namespace {

/// True when the matmul reads its second operand transposed: (d1, d2).
bool hasTransposedWeight(linalg::MatmulOp op) {
  return mcusparse::lower::isTransposedWeightMatmul(op);
}

/// rv32gcv: the pixel-batched CSR kernel (16 pixels per entry, 4-lane
/// gathers) beats one 32-lane matvec per pixel unless rows are long and the
/// pixels few (MobileNetV2's 320x960 over 9 pixels, 96 entries per row:
/// 660,802 instructions against 221,969). Measured crossover: rows of fewer
/// than 32 entries on average, or at least 16 pixels.
bool rv32gcvBatchesCSR(arith::ConstantOp weight, int64_t pixels) {
  auto dense = dyn_cast<DenseElementsAttr>(weight.getValue());
  auto type = cast<ShapedType>(weight.getType());
  if (!dense || !type.hasStaticShape() || type.getDimSize(0) == 0 ||
      !isa<IntegerType>(type.getElementType()))
    return false;
  int64_t nnz = 0;
  if (dense.isSplat())
    nnz = dense.getSplatValue<APInt>().isZero() ? 0 : type.getNumElements();
  else
    for (const APInt &v : dense.getValues<APInt>())
      nnz += !v.isZero();
  return pixels >= 16 || nnz < 32 * type.getDimSize(0);
}

/// The layer keeps its matmul for a batched kernel (hasBatchedSparseKernel):
/// on cortex-m55 CSR weights (pixel-batched, passes/lower/LowerSpMM.cpp),
/// int8 dCSR ones in groups of 16 and N:M ones the byte-lane kernels take
/// (passes/lower/LowerSparseMatmul.cpp); on rv32imc CSR and N:M ones
/// (scalar); on rv32gcv CSR ones with short rows or many pixels
/// (rv32gcvBatchesCSR), int8 N:M and GS ones (rows in lanes) and int8 dCSR
/// ones in groups of 16 (the cortex-m55 row loops); and dense
/// ones
/// over more than one pixel
/// (passes/lower/LowerDenseMatmul.cpp: register-blocked on cortex-m55 and
/// rv32imc, rows of W held in registers on rv32gcv; one pixel is the
/// matvec kernel), for integer weights and activations with a
/// wider-or-equal integer accumulator.
///
/// On rv32gcv dense layers over more than one pixel stay whole for the
/// kernel that reads each weight once (LowerDenseMatmul.cpp): fewer
/// instructions than one matvec per pixel on every layer shape measured
/// (DS-CNN M's 172x172 over 250 pixels: 2,263,384 against 2,799,320; the
/// register-blocked kernel ran 4,108,760), and W read once instead of once
/// per pixel.
bool hasBatchedKernel(linalg::MatmulOp op, arith::ConstantOp weight,
                      llvm::StringRef target) {
  Attribute layout = weight->getAttr(mcusparse::kLayoutAttr);
  auto xType = cast<ShapedType>(op.getDpsInputs()[0].getType());
  bool onePixel = xType.hasStaticShape() && xType.getDimSize(0) == 1;
  if (target == "rv32gcv" && layout &&
      !isa<mcusparse::sparse_enc::NMAttr, mcusparse::sparse_enc::GSAttr,
           mcusparse::sparse_enc::DCSRAttr>(layout) &&
      (!isa<mcusparse::sparse_enc::CSRAttr>(layout) ||
       !rv32gcvBatchesCSR(weight, xType.getDimSize(0))))
    return false;
  auto elem = [](Value v) {
    return cast<ShapedType>(v.getType()).getElementType();
  };
  Type x = elem(op.getDpsInputs()[0]), w = elem(op.getDpsInputs()[1]),
       y = elem(op.getDpsInits()[0]);
  if ((target != "cortex-m55" && target != "rv32imc" && target != "rv32gcv") ||
      (layout && !mcusparse::lower::hasBatchedSparseKernel(
                     layout, cast<ShapedType>(weight.getType()).getDimSize(1),
                     w, x, target)) ||
      (!layout && onePixel))
    return false;
  return isa<IntegerType>(x) && isa<IntegerType>(w) && isa<IntegerType>(y) &&
         x.getIntOrFloatBitWidth() <= y.getIntOrFloatBitWidth() &&
         w.getIntOrFloatBitWidth() <= y.getIntOrFloatBitWidth();
}

struct MatmulToMatvecPass
    : public mcusparse::impl::SparseEncMatmulToMatvecBase<MatmulToMatvecPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(mcusparse::checkTargetOption(getOperation(), getArgument(),
                                            target, /*allowGeneric=*/true)))
      return signalPassFailure();
    SmallVector<linalg::MatmulOp> ops;
    getOperation().walk([&](linalg::MatmulOp op) {
      // Only layer weights: constants the front end tagged with their layer.
      Value w = op.getDpsInputs()[1];
      auto cst = w.getDefiningOp<arith::ConstantOp>();
      // linalg.matvec has no cast attribute: only signed matmuls are split.
      if (!cst || !cst->hasAttr(mcusparse::kLayerAttr) ||
          !hasTransposedWeight(op) || !op.hasPureTensorSemantics() ||
          op.getCast() != linalg::TypeFn::cast_signed)
        return;
      if (hasBatchedKernel(op, cst, target)) {
        op->setAttr(mcusparse::lower::kBatchedMatmulAttr,
                    UnitAttr::get(op.getContext()));
        if (cst->hasAttr(mcusparse::kWeightsOnceAttr))
          op->setAttr(mcusparse::kWeightsOnceAttr,
                      UnitAttr::get(op.getContext()));
      } else
        ops.push_back(op);
    });
    for (linalg::MatmulOp op : ops)
      if (failed(rewrite(op)))
        return signalPassFailure();
  }

  LogicalResult rewrite(linalg::MatmulOp op) {
    Value x = op.getDpsInputs()[0], w = op.getDpsInputs()[1];
    Value init = op.getDpsInits()[0];
    auto xType = cast<RankedTensorType>(x.getType());
    auto wType = cast<RankedTensorType>(w.getType());
    auto yType = cast<RankedTensorType>(init.getType());
    if (!xType.hasStaticShape() || !yType.hasStaticShape())
      return op.emitOpError("sparse-enc-matmul-to-matvec needs static shapes");
    int64_t pixels = xType.getDimSize(0), k = xType.getDimSize(1);
    int64_t outs = wType.getDimSize(0);

    OpBuilder b(op);
    Location loc = op.getLoc();
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
    Value cp = arith::ConstantIndexOp::create(b, loc, pixels);
    auto loop = scf::ForOp::create(
        b, loc, c0, cp, c1, ValueRange{init},
        [&](OpBuilder &nb, Location loc, Value p, ValueRange iter) {
          // Row p of a [P, n] tensor: offsets (p, 0), sizes (1, n).
          auto row = [&](int64_t n) {
            return std::make_tuple(
                SmallVector<OpFoldResult>{p, nb.getIndexAttr(0)},
                SmallVector<OpFoldResult>{nb.getIndexAttr(1),
                                          nb.getIndexAttr(n)},
                SmallVector<OpFoldResult>{nb.getIndexAttr(1),
                                          nb.getIndexAttr(1)});
          };
          auto [xOff, xSize, xStride] = row(k);
          Value xRow = tensor::ExtractSliceOp::create(
              nb, loc, RankedTensorType::get({k}, xType.getElementType()), x,
              xOff, xSize, xStride);
          auto [yOff, ySize, yStride] = row(outs);
          Value yRow = tensor::ExtractSliceOp::create(
              nb, loc, RankedTensorType::get({outs}, yType.getElementType()),
              iter[0], yOff, ySize, yStride);
          Value prod =
              linalg::MatvecOp::create(nb, loc, TypeRange{yRow.getType()},
                                       ValueRange{w, xRow}, ValueRange{yRow})
                  .getResult(0);
          Value next = tensor::InsertSliceOp::create(nb, loc, prod, iter[0],
                                                     yOff, ySize, yStride);
          scf::YieldOp::create(nb, loc, next);
        });
    op->getResult(0).replaceAllUsesWith(loop.getResult(0));
    op->erase();
    return success();
  }
};

} // namespace
