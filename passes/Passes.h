//===- Passes.h - sparse_enc passes ----------------------------------------===//

#ifndef MCUSPARSE_PASSES_PASSES_H
#define MCUSPARSE_PASSES_PASSES_H

#include "dialect/SparseEncDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mcusparse {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Registers the named pipelines (sparse-enc-to-llvm).
void registerSparseEncPipelines();

/// The pass list of sparse-enc-to-llvm{target=...} (inside builtin.module()).
/// denseRows / vectorLength <= 0 take the target's defaults.
std::string toLLVMPipeline(llvm::StringRef target, int64_t denseRows = 0,
                           int64_t vectorLength = 0);

} // namespace mcusparse

#endif // MCUSPARSE_PASSES_PASSES_H
