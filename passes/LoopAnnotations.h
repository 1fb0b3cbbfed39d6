//===- LoopAnnotations.h - LLVM loop metadata on scf.for -------*- C++ -*-===//
//
// Loop hints for LLVM's unroller, set on an scf.for before it is lowered:
// under the inherent attribute name `loop_annotation` the annotation
// survives convert-scf-to-cf and reaches LLVM IR as `llvm.loop` metadata
// (shared by the kernel lowerings and the model passes).
//
//===----------------------------------------------------------------------===//

#ifndef MCUSPARSE_PASSES_LOOPANNOTATIONS_H
#define MCUSPARSE_PASSES_LOOPANNOTATIONS_H

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mcusparse {

/// Marks `loop` `#llvm.loop_annotation<unroll = <disable = true>>`
/// (llvm.loop.unroll.disable). The pass must load the LLVM dialect.
inline void disableUnroll(mlir::scf::ForOp loop) {
  mlir::MLIRContext *ctx = loop.getContext();
  auto unroll = mlir::LLVM::LoopUnrollAttr::get(
      ctx, mlir::BoolAttr::get(ctx, true), {}, {}, {}, {}, {}, {});
  loop->setAttr("loop_annotation",
                mlir::LLVM::LoopAnnotationAttr::get(
                    ctx, {}, {}, {}, unroll, {}, {}, {}, {}, {}, {}, {}, {},
                    {}, {}, {}));
}

} // namespace mcusparse

#endif // MCUSPARSE_PASSES_LOOPANNOTATIONS_H
