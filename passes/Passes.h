//===- Passes.h - sparse_enc passes ----------------------------------------===//

#ifndef MCUSPARSE_PASSES_PASSES_H
#define MCUSPARSE_PASSES_PASSES_H

#include "dialect/SparseEncDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mcusparse {

/// The front ends tag each layer's weight constant with its layer index.
inline constexpr llvm::StringLiteral kLayerAttr = "mcusparse.layer";
/// The layout chosen for a layer (a #sparse_enc attribute) on its constant.
inline constexpr llvm::StringLiteral kLayoutAttr = "sparse_enc.layout";
/// On a dense layer's weight constant: lower its layer matmul with the
/// kernel that reads each weight once (cortex-m55, LowerDenseMatmul.cpp);
/// sparse-enc-matmul-to-matvec moves it onto the matmul it keeps whole.
inline constexpr llvm::StringLiteral kWeightsOnceAttr = "sparse_enc.weights_once";
/// Precomputed storage buffers for a layout the passes cannot search for
/// themselves (CSE-CSR): a dictionary of buffer name -> 1-D dense constant.
inline constexpr llvm::StringLiteral kBuffersAttr = "sparse_enc.buffers";
/// Module attribute: bytes of the planned activation arena.
inline constexpr llvm::StringLiteral kArenaBytesAttr = "mcusparse.arena_bytes";
/// Module attribute: the buffers live together at the arena's peak, as
/// "<memref type> <bytes>" strings, largest first.
inline constexpr llvm::StringLiteral kArenaPeakAttr = "mcusparse.arena_peak";
/// Name of the arena global, and prefix of the weight globals.
inline constexpr llvm::StringLiteral kArenaName = "mcusparse_arena";
inline constexpr llvm::StringLiteral kWeightPrefix = "mcusparse_weights_";

/// Checks a pass's `target=` option: one of the targets the passes know, or
/// (where the pass has generic code) empty. Otherwise an error at the
/// module's location that names the pass, the value and the known targets.
inline mlir::LogicalResult checkTargetOption(mlir::ModuleOp module,
                                             llvm::StringRef pass,
                                             llvm::StringRef target,
                                             bool allowGeneric) {
  if (target == "cortex-m55" || target == "rv32imc" || target == "rv32gcv" ||
      target == "host" || (allowGeneric && target.empty()))
    return mlir::success();
  return mlir::emitError(module.getLoc())
         << pass << ": unknown target '" << target
         << "' (cortex-m55, rv32imc, rv32gcv, host"
         << (allowGeneric ? ", or none for generic code)" : ")");
}

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

/// The pass list of sparse-enc-model-to-llvm{target=... pex-peak-bytes=...}
/// (pexPeakBytes 0: no partial execution).
std::string modelToLLVMPipeline(llvm::StringRef target,
                                int64_t pexPeakBytes = 0,
                                int64_t tilePixels = 0,
                                bool denseWeightsOnce = false);

} // namespace mcusparse

#endif // MCUSPARSE_PASSES_PASSES_H
