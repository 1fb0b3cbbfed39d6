//===- LowerMatvec.cpp - linalg.matvec to scf/vector per weight layout ----===//
//
// Collects the operands of each linalg.matvec, reads the storage buffers of
// an encoded weight through sparse_enc.buffer (folded into the operands of
// its sparse_enc.assemble) and calls the layout's lowering in
// passes/lower/. See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "dialect/SparseEncOps.h"
#include "dialect/StorageLayout.h"
#include "passes/Passes.h"
#include "passes/lower/Lowering.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mcusparse {
#define GEN_PASS_DEF_SPARSEENCLOWERMATVEC
#include "passes/Passes.h.inc"
} // namespace mcusparse

using namespace mlir;
using namespace mcusparse;
using namespace mcusparse::sparse_enc;
using namespace mcusparse::lower;

namespace {

struct LowerMatvecPass
    : public mcusparse::impl::SparseEncLowerMatvecBase<LowerMatvecPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::MatvecOp> ops;
    SmallVector<linalg::MatmulOp> matmuls;
    getOperation().walk([&](Operation *op) {
      if (auto matvec = dyn_cast<linalg::MatvecOp>(op))
        ops.push_back(matvec);
      // Layer matmuls over an encoded weight or marked batched (kept whole
      // by sparse-enc-matmul-to-matvec); other matmuls are not ours.
      if (auto matmul = dyn_cast<linalg::MatmulOp>(op))
        if (matmul.getNumDpsInputs() == 2)
          if (auto wt = dyn_cast<RankedTensorType>(
                  matmul.getDpsInputs()[1].getType()))
            if ((wt.getEncoding() && hasSparseEncoding(wt)) ||
                (!wt.getEncoding() && matmul->hasAttr(kBatchedMatmulAttr)))
              matmuls.push_back(matmul);
    });
    LowerOptions opts;
    opts.vectorLength = vectorLength;
    opts.denseRows = denseRows;
    opts.denseWeightsOnce = denseWeightsOnce;
    opts.target = target;
    if (failed(checkTargetOption(getOperation(), getArgument(), target,
                                 /*allowGeneric=*/true)))
      return signalPassFailure();
    if (opts.vectorLength < 1 || opts.denseRows < 1) {
      getOperation().emitError("vector-length and dense-rows must be >= 1");
      return signalPassFailure();
    }
    for (linalg::MatvecOp op : ops)
      if (failed(lower(op, opts)))
        return signalPassFailure();
    for (linalg::MatmulOp op : matmuls)
      if (failed(lowerMatmul(op, opts)))
        return signalPassFailure();
  }

  /// Integer weights and activations with a wider-or-equal integer
  /// accumulator, or one float type throughout.
  static LogicalResult checkElementTypes(Operation *op, Type wElem, Type xElem,
                                         Type acc) {
    bool ints = isa<IntegerType>(wElem) && isa<IntegerType>(xElem) &&
                isa<IntegerType>(acc) &&
                wElem.getIntOrFloatBitWidth() <= acc.getIntOrFloatBitWidth() &&
                xElem.getIntOrFloatBitWidth() <= acc.getIntOrFloatBitWidth();
    bool floats = isa<FloatType>(wElem) && wElem == xElem && wElem == acc;
    if (ints || floats)
      return success();
    return op->emitOpError("sparse-enc-lower-matvec supports integer weights "
                           "and activations with a wider-or-equal integer "
                           "accumulator (int8 x int8 -> int32), or one "
                           "float type; got ")
           << wElem << " x " << xElem << " -> " << acc;
  }

  /// The storage buffers of encoded weight `w` (from sparse_enc.assemble).
  LogicalResult collectBuffers(ImplicitLocOpBuilder &b, Operation *op, Value w,
                               SmallVectorImpl<Value> &buffers,
                               AssembleOp &assemble) {
    auto type = cast<RankedTensorType>(w.getType());
    assemble = w.getDefiningOp<AssembleOp>();
    if (!assemble)
      return op->emitOpError("the encoded weight must come from "
                             "sparse_enc.assemble (run "
                             "sparse-enc-pack-constants on constants)");
    for (auto [buffer, operand] :
         llvm::zip(getStorageBuffers(type), assemble.getBuffers()))
      buffers.push_back(b.createOrFold<BufferOp>(
          operand.getType(), w, b.getStringAttr(buffer.name)));
    return success();
  }

  LogicalResult lowerMatmul(linalg::MatmulOp op, const LowerOptions &opts) {
    if (!op.hasPureTensorSemantics() || !isTransposedWeightMatmul(op))
      return op.emitOpError("sparse-enc-lower-matvec lowers a matmul over an "
                            "encoded weight only as X[P,K] x W[O,K]^T on "
                            "tensors (indexing maps (d0, d2), (d1, d2), "
                            "(d0, d1))");
    MatmulOperands m;
    m.op = op;
    m.x = op.getDpsInputs()[0];
    Value w = op.getDpsInputs()[1];
    m.y = op.getDpsInits()[0];
    m.weightType = cast<RankedTensorType>(w.getType());
    auto xType = dyn_cast<RankedTensorType>(m.x.getType());
    auto yType = dyn_cast<RankedTensorType>(m.y.getType());
    if (!xType || !yType || !m.weightType.hasStaticShape() ||
        !xType.hasStaticShape() || !yType.hasStaticShape())
      return op.emitOpError("sparse-enc-lower-matvec needs static shapes");
    m.pixels = xType.getDimSize(0);
    m.rows = m.weightType.getDimSize(0);
    m.cols = m.weightType.getDimSize(1);
    m.accType = yType.getElementType();
    if (failed(checkElementTypes(op, m.weightType.getElementType(),
                                 xType.getElementType(), m.accType)))
      return failure();
    Attribute encoding = m.weightType.getEncoding();
    if (encoding &&
        !hasBatchedSparseKernel(encoding, m.cols, m.weightType.getElementType(),
                                xType.getElementType(), opts.target))
      return op.emitOpError("lowering linalg.matmul over #sparse_enc.")
             << getFormatName(encoding) << " is not implemented for target '"
             << (opts.target.empty() ? "generic" : opts.target)
             << "' (csr, dcsr with int8 groups of 16 and int8 nm with 2- or "
                "4-bit fields have batched kernels, and on rv32imc nm and "
                "dcsr; run sparse-enc-matmul-to-matvec)";
    ImplicitLocOpBuilder b(op.getLoc(), op);
    AssembleOp assemble;
    if (!encoding)
      m.buffers.push_back(w);
    else if (failed(collectBuffers(b, op, w, m.buffers, assemble)))
      return failure();
    // A layer the compiler measured faster reading each weight once.
    LowerOptions denseOpts = opts;
    if (op->hasAttr(mcusparse::kWeightsOnceAttr))
      denseOpts.denseWeightsOnce = true;
    FailureOr<Value> result =
        !encoding                ? lowerDenseMatmul(b, m, denseOpts)
        : isa<CSRAttr>(encoding) ? lowerCSRMatmul(b, m, opts)
                                 : lowerSparseMatmul(b, m, opts);
    if (failed(result))
      return failure();
    op->getResult(0).replaceAllUsesWith(*result);
    op->erase();
    if (assemble && assemble->use_empty())
      assemble->erase();
    return success();
  }

  LogicalResult lower(linalg::MatvecOp op, const LowerOptions &opts) {
    if (!op.hasPureTensorSemantics())
      return op.emitOpError("sparse-enc-lower-matvec expects tensor operands");
    MatvecOperands m;
    m.op = op;
    Value w = op.getDpsInputs()[0];
    m.x = op.getDpsInputs()[1];
    m.y = op.getDpsInits()[0];
    m.weightType = cast<RankedTensorType>(w.getType());
    auto xType = cast<RankedTensorType>(m.x.getType());
    auto yType = cast<RankedTensorType>(m.y.getType());
    if (!m.weightType.hasStaticShape() || !xType.hasStaticShape() ||
        !yType.hasStaticShape())
      return op.emitOpError("sparse-enc-lower-matvec needs static shapes");
    m.rows = m.weightType.getDimSize(0);
    m.cols = m.weightType.getDimSize(1);
    m.accType = yType.getElementType();
    if (failed(checkElementTypes(op, m.weightType.getElementType(),
                                 xType.getElementType(), m.accType)))
      return failure();

    ImplicitLocOpBuilder b(op.getLoc(), op);
    Attribute encoding = m.weightType.getEncoding();
    AssembleOp assemble;
    if (!encoding) {
      m.buffers.push_back(w);
    } else {
      if (!hasSparseEncoding(m.weightType))
        return op.emitOpError("unsupported weight encoding ") << encoding;
      if (failed(collectBuffers(b, op, w, m.buffers, assemble)))
        return failure();
    }

    FailureOr<Value> result =
        !encoding
            ? lowerDense(b, m, opts)
            : llvm::TypeSwitch<Attribute, FailureOr<Value>>(encoding)
                  .Case([&](CSRAttr) { return lowerCSR(b, m, opts); })
                  .Case([&](DCSRAttr dcsr) {
                    return dcsr.getDeltaBits() == 8 ? lowerDCSRBytes(b, m, opts)
                                                    : lowerDCSR(b, m, opts);
                  })
                  .Case([&](NMAttr) { return lowerNM(b, m, opts); })
                  .Case([&](GSAttr) { return lowerGS(b, m, opts); })
                  .Case([&](CSECSRAttr) { return lowerCSECSR(b, m, opts); })
                  .Default([&](Attribute) -> FailureOr<Value> {
                    return op.emitOpError(
                               "lowering linalg.matvec over #sparse_enc.")
                           << getFormatName(encoding)
                           << " is not implemented yet";
                  });
    if (failed(result))
      return failure();
    // rv32imc dense and N:M: the in-order SiFive E31 scheduling model
    // (tuning only, the ISA stays rv32imc). With LLVM's generic RISC-V
    // scheduling every load of an unrolled N:M row is hoisted and the row
    // spills (nm:1:8 256x256: 67,631 instructions, 57,764 with E31); dense
    // gets 0.1 % faster. Per kernel, because the same model makes the GS and
    // CSR kernels 1-3 % slower. convert-to-llvm keeps `tune_cpu` on the
    // llvm.func ("tune-cpu" in LLVM IR).
    if (opts.scalarOnly() && (!encoding || isa<NMAttr>(encoding)))
      if (auto func = op->getParentOfType<func::FuncOp>())
        if (!func->hasAttr("tune_cpu"))
          func->setAttr("tune_cpu", b.getStringAttr("sifive-e31"));
    op->getResult(0).replaceAllUsesWith(*result);
    op->erase();
    if (assemble && assemble->use_empty())
      assemble->erase();
    return success();
  }
};

} // namespace
