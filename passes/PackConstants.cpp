//===- PackConstants.cpp - encoded constants to packed storage buffers ----===//

#include "dialect/SparseEncOps.h"
#include "dialect/StorageLayout.h"
#include "passes/Passes.h"
#include "passes/pack/Packing.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mcusparse {
#define GEN_PASS_DEF_SPARSEENCPACKCONSTANTS
#include "passes/Passes.h.inc"
} // namespace mcusparse

using namespace mlir;
using namespace mcusparse;
using namespace mcusparse::sparse_enc;

namespace {

pack::PackResult packWeights(const pack::WeightMatrix &weights,
                             RankedTensorType type, DictionaryAttr provided,
                             pack::EmitErrorFn emitError) {
  Attribute layout = type.getEncoding();
  return llvm::TypeSwitch<Attribute, pack::PackResult>(layout)
      .Case([&](CSRAttr csr) { return pack::packCSR(weights, csr, emitError); })
      .Case([&](DCSRAttr dcsr) {
        return pack::packDCSR(weights, dcsr, emitError);
      })
      .Case([&](NMAttr nm) { return pack::packNM(weights, nm, emitError); })
      .Case([&](GSAttr gs) { return pack::packGS(weights, gs, emitError); })
      .Case([&](CSECSRAttr) {
        return pack::packCSECSR(weights, type, provided, emitError);
      })
      .Default([&](Attribute) -> pack::PackResult {
        return emitError() << "packing " << layout
                           << " is not implemented yet";
      });
}

struct PackConstantsPass
    : public mcusparse::impl::SparseEncPackConstantsBase<PackConstantsPass> {
  void runOnOperation() override {
    SmallVector<arith::ConstantOp> constants;
    getOperation().walk([&](arith::ConstantOp op) {
      if (hasSparseEncoding(op.getType()))
        constants.push_back(op);
    });
    for (arith::ConstantOp op : constants)
      if (failed(packConstant(op)))
        return signalPassFailure();
  }

  LogicalResult packConstant(arith::ConstantOp op) {
    auto type = cast<RankedTensorType>(op.getType());
    auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
    if (!dense || !type.hasStaticShape())
      return op.emitOpError("an encoded weight constant must be a dense "
                            "literal of static shape to be packed");
    auto emitError = [&] { return op.emitOpError(); };
    auto provided = op->getAttrOfType<DictionaryAttr>(kBuffersAttr);
    if (provided && !isa<CSECSRAttr>(type.getEncoding()))
      return op.emitOpError("sparse_enc.buffers are taken for "
                            "#sparse_enc.cse_csr only; ")
             << type.getEncoding() << " is packed from the weights";
    pack::PackResult buffers = packWeights(pack::WeightMatrix::fromAttr(dense),
                                           type, provided, emitError);
    if (failed(buffers))
      return failure();

    OpBuilder builder(op);
    SmallVector<Value> operands;
    for (const pack::PackedBuffer &buffer : *buffers)
      operands.push_back(
          arith::ConstantOp::create(builder, op.getLoc(), buffer.toAttr()));
    auto assemble = AssembleOp::create(builder, op.getLoc(), type, operands);
    op.replaceAllUsesWith(assemble.getResult());
    op.erase();
    return success();
  }
};

} // namespace
