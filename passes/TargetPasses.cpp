//===- TargetPasses.cpp - target set-up and vector clean-up before LLVM ---===//

#include "passes/Passes.h"
#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/DLTI/DLTI.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mcusparse {
#define GEN_PASS_DEF_SPARSEENCLOWERVECTORTRANSFERS
#define GEN_PASS_DEF_SPARSEENCSETTARGET
#define GEN_PASS_DEF_SPARSEENCFENCEINTTOFLOAT
#include "passes/Passes.h.inc"
} // namespace mcusparse

using namespace mlir;

namespace {

/// vector.create_mask %n : vector<Lxi1> -> llvm.intr.get.active.lane.mask
/// (0, n) in 32 bits: MVE selects `vctp` for it (and LLVM's tail predication
/// recognises it), RVV a vmsltu of vid; the step-compare expansion in 32-bit
/// lanes costs a dozen MVE instructions per mask.
struct CreateMaskToActiveLaneMask : OpRewritePattern<vector::CreateMaskOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::CreateMaskOp op,
                                PatternRewriter &rewriter) const override {
    VectorType type = op.getVectorType();
    if (type.getRank() != 1 || type.isScalable())
      return failure();
    Location loc = op.getLoc();
    auto i32 = rewriter.getI32Type();
    Value n = arith::IndexCastOp::create(rewriter, loc, i32, op.getOperand(0));
    // create_mask clamps negative counts to 0; get.active.lane.mask compares
    // unsigned, so clamp first.
    Value zero = arith::ConstantIntOp::create(rewriter, loc, i32, 0);
    n = arith::MaxSIOp::create(rewriter, loc, n, zero);
    rewriter.replaceOpWithNewOp<LLVM::GetActiveLaneMaskOp>(op, type, zero, n);
    return success();
  }
};

/// vector.bitcast {sparse_enc.aligned_word} (vector.load : vector<4xi8>)
/// -> the load gets alignment 4 (the lowering knows the word is aligned).
struct AlignWordLoads : OpRewritePattern<vector::BitCastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::BitCastOp op,
                                PatternRewriter &rewriter) const override {
    if (!op->hasAttr(mcusparse::lower::kAlignedWordAttr))
      return failure();
    auto load = op.getSource().getDefiningOp<vector::LoadOp>();
    if (!load)
      return failure();
    rewriter.modifyOpInPlace(load, [&] {
      load.setAlignmentAttr(rewriter.getI64IntegerAttr(4));
    });
    rewriter.modifyOpInPlace(
        op, [&] { op->removeAttr(mcusparse::lower::kAlignedWordAttr); });
    return success();
  }
};

struct LowerVectorTransfersPass
    : public mcusparse::impl::SparseEncLowerVectorTransfersBase<
          LowerVectorTransfersPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    vector::populateVectorTransferLoweringPatterns(patterns,
                                                   /*maxTransferRank=*/1);
    patterns.add<CreateMaskToActiveLaneMask>(&getContext(), /*benefit=*/2);
    patterns.add<AlignWordLoads>(&getContext());
    // vector.constant_mask (a folded create_mask) as a constant vector.
    vector::populateVectorMaskOpLoweringPatterns(patterns);
    vector::populateVectorMaskMaterializationPatterns(
        patterns, /*force32BitVectorIndices=*/true);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

struct SetTargetPass
    : public mcusparse::impl::SparseEncSetTargetBase<SetTargetPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(mcusparse::checkTargetOption(module, getArgument(), target,
                                            /*allowGeneric=*/false)))
      return signalPassFailure();
    unsigned indexBits = target == "host" ? 64 : 32;
    MLIRContext *ctx = &getContext();
    auto entry = DataLayoutEntryAttr::get(
        IndexType::get(ctx), IntegerAttr::get(IntegerType::get(ctx, 64),
                                              indexBits));
    module->setAttr(DLTIDialect::kDataLayoutAttrName,
                    DataLayoutSpecAttr::get(ctx, {entry}));
    for (auto func : module.getOps<func::FuncOp>())
      if (func.isPublic())
        func->setAttr("llvm.bareptr", UnitAttr::get(ctx));
  }
};

struct FenceIntToFloatPass
    : public mcusparse::impl::SparseEncFenceIntToFloatBase<FenceIntToFloatPass> {
  void runOnOperation() override {
    SmallVector<Operation *> casts;
    getOperation().walk([&](Operation *op) {
      if (isa<LLVM::SIToFPOp, LLVM::UIToFPOp>(op))
        casts.push_back(op);
    });
    for (Operation *cast : casts) {
      OpBuilder b(cast->getContext());
      b.setInsertionPointAfter(cast);
      Value result = cast->getResult(0);
      auto fence = LLVM::CallIntrinsicOp::create(
          b, cast->getLoc(), result.getType(),
          b.getStringAttr("llvm.arithmetic.fence"), ValueRange{result});
      result.replaceAllUsesExcept(fence.getResult(0), fence);
    }
  }
};

} // namespace
