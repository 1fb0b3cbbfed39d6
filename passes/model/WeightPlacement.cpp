//===- WeightPlacement.cpp - layer weights as globals in .weights ---------===//
//
// sparse-enc-outline-weights (on tensors, before bufferization) turns every
// layer weight constant and every packed storage buffer into a named,
// 16-byte aligned `memref.global` read through `bufferization.to_tensor
// restrict`; sparse-enc-place-weights (on the llvm dialect) puts exactly those
// globals in the `.weights` section, the flash region whose loads the
// measurement plugin counts. Biases and requantisation tables stay in
// .rodata. A large activation arena goes to a section of its own too.
// See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "dialect/SparseEncOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

namespace mcusparse {
#define GEN_PASS_DEF_SPARSEENCOUTLINEWEIGHTS
#define GEN_PASS_DEF_SPARSEENCPLACEWEIGHTS
#include "passes/Passes.h.inc"
} // namespace mcusparse

using namespace mlir;

namespace {

bool isWeight(arith::ConstantOp op) {
  auto type = dyn_cast<RankedTensorType>(op.getType());
  if (!type || type.getEncoding() || !type.hasStaticShape() ||
      !isa<DenseElementsAttr>(op.getValue()))
    return false;
  if (op->hasAttr(mcusparse::kLayerAttr))
    return true;
  return llvm::any_of(op->getUsers(), [](Operation *user) {
    return isa<mcusparse::sparse_enc::AssembleOp>(user);
  });
}

struct OutlineWeightsPass
    : public mcusparse::impl::SparseEncOutlineWeightsBase<OutlineWeightsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<arith::ConstantOp> weights;
    module.walk([&](arith::ConstantOp op) {
      if (isWeight(op))
        weights.push_back(op);
    });
    OpBuilder moduleBuilder = OpBuilder::atBlockBegin(module.getBody());
    for (auto [index, op] : llvm::enumerate(weights)) {
      auto type = cast<RankedTensorType>(op.getType());
      auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
      auto global = memref::GlobalOp::create(
          moduleBuilder, op.getLoc(),
          (mcusparse::kWeightPrefix + llvm::Twine(index)).str(),
          moduleBuilder.getStringAttr("private"), memrefType,
          cast<DenseElementsAttr>(op.getValue()), /*constant=*/true,
          moduleBuilder.getI64IntegerAttr(16));
      symbols.insert(global); // renames on a clash
      OpBuilder b(op);
      Value buffer = memref::GetGlobalOp::create(b, op.getLoc(), memrefType,
                                                 global.getSymName());
      auto tensor = bufferization::ToTensorOp::create(
          b, op.getLoc(), type, buffer, /*restrict=*/true, /*writable=*/false);
      op.replaceAllUsesWith(tensor.getResult());
      op.erase();
    }
  }
};

struct PlaceWeightsPass
    : public mcusparse::impl::SparseEncPlaceWeightsBase<PlaceWeightsPass> {
  using Base::Base;
  void runOnOperation() override {
    getOperation().walk([&](LLVM::GlobalOp global) {
      if (global.getSymName().starts_with(mcusparse::kWeightPrefix))
        global.setSectionAttr(StringAttr::get(&getContext(), section));
      // An arena larger than the tightly coupled data memory goes to the
      // board's larger SRAM.
      if (global.getSymName().starts_with(mcusparse::kArenaName) &&
          !arenaSection.empty() && arenaBytes(global) > arenaFastBytes)
        global.setSectionAttr(StringAttr::get(&getContext(), arenaSection));
    });
  }

  static int64_t arenaBytes(LLVM::GlobalOp global) {
    auto array = dyn_cast<LLVM::LLVMArrayType>(global.getGlobalType());
    return array ? static_cast<int64_t>(array.getNumElements()) : 0;
  }
};

} // namespace
