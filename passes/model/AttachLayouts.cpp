//===- AttachLayouts.cpp - chosen layouts into weight tensor types --------===//
//
// The layout chosen for a layer travels as a `sparse_enc.layout` attribute on
// its weight constant; this pass moves it into the constant's tensor type as
// the encoding, where sparse-enc-pack-constants and the matvec lowering look
// for it. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "dialect/StorageLayout.h"
#include "passes/Passes.h"
#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mcusparse {
#define GEN_PASS_DEF_SPARSEENCATTACHLAYOUTS
#include "passes/Passes.h.inc"
} // namespace mcusparse

using namespace mlir;

namespace {

struct AttachLayoutsPass
    : public mcusparse::impl::SparseEncAttachLayoutsBase<AttachLayoutsPass> {
  void runOnOperation() override {
    SmallVector<arith::ConstantOp> constants;
    getOperation().walk([&](arith::ConstantOp op) {
      if (op->hasAttr(mcusparse::kLayoutAttr))
        constants.push_back(op);
    });
    for (arith::ConstantOp op : constants)
      if (failed(attach(op)))
        return signalPassFailure();
  }

  LogicalResult attach(arith::ConstantOp op) {
    Attribute layout = op->getAttr(mcusparse::kLayoutAttr);
    auto type = dyn_cast<RankedTensorType>(op.getType());
    auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
    if (!type || !dense || type.getEncoding())
      return op.emitOpError("a sparse_enc.layout must sit on a dense tensor "
                            "literal without an encoding");
    // Verify against the shape before building the encoded type: the type
    // uniquer asserts on an encoding that does not fit.
    auto verifiable = dyn_cast<VerifiableTensorEncoding>(layout);
    if (!verifiable ||
        layout.getDialect().getNamespace() !=
            mcusparse::sparse_enc::SparseEncDialect::getDialectNamespace())
      return op.emitOpError("sparse_enc.layout must be a #sparse_enc layout, got ")
             << layout;
    if (failed(verifiable.verifyEncoding(type.getShape(), type.getElementType(),
                                         [&] { return op.emitOpError(); })))
      return failure();
    if (!mcusparse::sparse_enc::hasSparseEncoding(RankedTensorType::get(
            type.getShape(), type.getElementType(), layout)))
      return op.emitOpError("sparse_enc.layout must be a #sparse_enc layout, got ")
             << layout;
    for (OpOperand &use : op->getUses()) {
      auto matvec = dyn_cast<linalg::MatvecOp>(use.getOwner());
      // A layer matmul that sparse-enc-matmul-to-matvec kept for its
      // pixel-batched kernel, the weight read transposed.
      auto matmul = dyn_cast<linalg::MatmulOp>(use.getOwner());
      if (matmul && matmul->hasAttr(mcusparse::lower::kBatchedMatmulAttr) &&
          use.getOperandNumber() == 1 &&
          mcusparse::lower::isTransposedWeightMatmul(matmul))
        continue;
      if (!matvec || use.getOperandNumber() != 0)
        return op.emitOpError("a weight with a sparse layout must be the "
                              "matrix of linalg.matvec (run "
                              "sparse-enc-matmul-to-matvec first); it is "
                              "used by ")
               << use.getOwner()->getName();
    }
    auto encoded = RankedTensorType::get(type.getShape(),
                                         type.getElementType(), layout);
    OpBuilder b(op);
    auto replacement = arith::ConstantOp::create(
        b, op.getLoc(), encoded,
        DenseElementsAttr::getFromRawBuffer(encoded, dense.getRawData()));
    if (Attribute layer = op->getAttr(mcusparse::kLayerAttr))
      replacement->setAttr(mcusparse::kLayerAttr, layer);
    if (Attribute buffers = op->getAttr(mcusparse::kBuffersAttr))
      replacement->setAttr(mcusparse::kBuffersAttr, buffers);
    op.replaceAllUsesWith(replacement.getResult());
    op.erase();
    return success();
  }
};

} // namespace
