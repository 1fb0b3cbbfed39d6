//===- Pipelines.cpp - named pass pipelines -------------------------------===//
//
// sparse-enc-to-llvm{target=T}: a module whose functions compute
// linalg.matvec over dense or #sparse_enc weights (weights as packed
// constants, encoded constants, or storage buffers passed as arguments and
// joined with sparse_enc.assemble) -> the llvm dialect, ready for
// `mlir-translate --mlir-to-llvmir`. 32-bit index on 32-bit targets,
// bare-pointer calling convention for public functions. The same text is
// mirrored by mcusparse.pipeline (Python).
//
// sparse-enc-model-to-llvm{target=T}: a whole model from the front ends,
// with the chosen layouts as sparse_enc.layout attributes on its weight
// constants -> the llvm dialect (docs/model-passes.md).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace {
struct ToLLVMOptions : public PassPipelineOptions<ToLLVMOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("cortex-m55, rv32imc, rv32gcv or host"),
                             llvm::cl::init("cortex-m55")};
  Option<int64_t> denseRows{
      *this, "dense-rows",
      llvm::cl::desc("rows per activation load (dense); 0: target default"),
      llvm::cl::init(0)};
  Option<int64_t> vectorLength{
      *this, "vector-length",
      llvm::cl::desc("lanes per vector step; 0: target default"),
      llvm::cl::init(0)};
};
struct ModelToLLVMOptions : public PassPipelineOptions<ModelToLLVMOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("cortex-m55, rv32imc, rv32gcv or host"),
                             llvm::cl::init("cortex-m55")};
  Option<int64_t> pexPeakBytes{
      *this, "pex-peak-bytes",
      llvm::cl::desc("partial execution: operator chains whose peak is above "
                     "this many bytes run in channel slices "
                     "(sparse-enc-partial-execution); 0: off"),
      llvm::cl::init(0)};
  Option<int64_t> tilePixels{
      *this, "tile-pixels",
      llvm::cl::desc("layers' int32 results and their requantisation in "
                     "tiles of at most this many pixels "
                     "(sparse-enc-tile-accumulators); 0: whole"),
      llvm::cl::init(0)};
  Option<bool> denseWeightsOnce{
      *this, "dense-weights-once",
      llvm::cl::desc("dense layers read each weight once (cortex-m55, 32 or "
                     "more columns; more instructions, less weight traffic)"),
      llvm::cl::init(false)};
};
} // namespace

/// Per-target kernel shape, measured on 256x256 int8 dense (instructions
/// per MAC): cortex-m55 4 rows x 16 lanes 0.189 (8x16: 0.31, 2x16: 0.22);
/// rv32imc 4 x 4 3.58 (4 x 16: 6.24, 4 x 1: 4.02); rv32gcv 4 x 32 0.33
/// (4 x 16: 0.65, 1 x 64: 0.48).
static void targetDefaults(llvm::StringRef target, int64_t &denseRows,
                           int64_t &vectorLength) {
  int64_t rows = 4, lanes = 16;
  if (target == "rv32imc")
    lanes = 4;
  else if (target == "rv32gcv")
    lanes = 32;
  if (denseRows <= 0)
    denseRows = rows;
  if (vectorLength <= 0)
    vectorLength = lanes;
}

std::string mcusparse::toLLVMPipeline(llvm::StringRef target,
                                      int64_t denseRows,
                                      int64_t vectorLength) {
  targetDefaults(target, denseRows, vectorLength);
  return (llvm::Twine("sparse-enc-set-target{target=") + target +
          "}, sparse-enc-pack-constants, canonicalize, "
          "sparse-enc-lower-matvec{dense-rows=" +
          llvm::Twine(denseRows) + " vector-length=" + llvm::Twine(vectorLength) +
          " target=" + target + "}, canonicalize, cse, "
          "one-shot-bufferize{bufferize-function-boundaries "
          "function-boundary-type-conversion=identity-layout-map}, "
          "canonicalize, sparse-enc-lower-vector-transfers, canonicalize, "
          "lower-affine, convert-scf-to-cf, expand-strided-metadata, "
          "convert-to-llvm{dynamic=true}, reconcile-unrealized-casts, "
          "canonicalize, cse")
      .str();
}

std::string mcusparse::modelToLLVMPipeline(llvm::StringRef target,
                                           int64_t pexPeakBytes,
                                           int64_t tilePixels,
                                           bool denseWeightsOnce) {
  int64_t denseRows = 0, vectorLength = 0;
  targetDefaults(target, denseRows, vectorLength);
  // mps3-an547: DTCM 512 KiB holds .data, .bss and the 32 KiB stack; a larger
  // arena goes to the 2 MiB SRAM (runtime/cortex-m55/mps3-an547.ld).
  std::string arenaPlacement =
      target == "cortex-m55"
          ? "{arena-section=.sram_bss arena-fast-bytes=393216}"
          : "";
  // Elementwise steps (requantisation) as vector loops where the target
  // has integer vectors: on cortex-m55 4 x 32-bit with TFLite's fixed-point
  // rounding as MVE vqrdmulh / vqdmulh / vrshl; on rv32gcv 8 x 32-bit (LMUL
  // 2; digits model dense: scalar 46,822 instructions, 4 lanes 49,372, 8
  // 45,165, 16 45,687, 32 49,067).
  std::string vectorizeElementwise;
  if (target == "cortex-m55")
    vectorizeElementwise = "sparse-enc-vectorize-depthwise, "
                           "sparse-enc-vectorize-im2col, "
                           "sparse-enc-vectorize-elementwise{lanes=4}, "
                           "sparse-enc-fixed-point-to-mve, ";
  else if (target == "rv32gcv")
    vectorizeElementwise = "sparse-enc-vectorize-elementwise{lanes=8}, ";
  // Partial execution first: it cuts the layer matmuls that the next pass
  // turns into matvec loops.
  std::string partialExecution =
      pexPeakBytes != 0 ? "sparse-enc-partial-execution{peak-bytes=" +
                              std::to_string(pexPeakBytes) + " tile-pixels=" +
                              std::to_string(tilePixels) + "}, "
                        : "";
  // Then int32 results in pixel tiles (inside Pex's slices too).
  std::string tileAccumulators =
      tilePixels != 0 ? "sparse-enc-tile-accumulators{pixels=" +
                           std::to_string(tilePixels) + "}, "
                     : "";
  return (llvm::Twine("sparse-enc-set-target{target=") + target + "}, " +
          partialExecution + tileAccumulators +
          "sparse-enc-matmul-to-matvec{target=" + target +
          "}, sparse-enc-attach-layouts, "
          "sparse-enc-pack-constants, sparse-enc-outline-weights, canonicalize, "
          "sparse-enc-lower-matvec{dense-rows=" +
          llvm::Twine(denseRows) + " vector-length=" + llvm::Twine(vectorLength) +
          (denseWeightsOnce ? " dense-weights-once" : "") +
          " target=" + target + "}, canonicalize, "
          // No cse before bufferization: it merges the zero-filled
          // accumulators of different layers, which then cost a copy each.
          "one-shot-bufferize{bufferize-function-boundaries "
          "function-boundary-type-conversion=identity-layout-map}, "
          // canonicalize first: a result that the kernels wrote through a
          // reshaped view is a reshape of a reshape of its alloc until
          // folded, and hoist-static-allocs only replaces an alloc that is
          // returned itself (else the result is copied to the caller's
          // buffer: a 32 KB memcpy in a 64x64 layer over 125 pixels).
          "canonicalize, "
          "buffer-results-to-out-params{modify-public-functions "
          "hoist-static-allocs}, cse, canonicalize, sparse-enc-plan-arena, "
          "sparse-enc-lower-strided-copies, " + vectorizeElementwise +
          "func.func(convert-linalg-to-loops), canonicalize, "
          "sparse-enc-lower-vector-transfers, canonicalize, "
          // arith-expand: maximumf / minimumf as compare + select, not
          // calls of C23 fmaximumf / fminimumf on soft-float targets.
          "arith-expand, expand-strided-metadata, lower-affine, "
          "convert-scf-to-cf, "
          "convert-to-llvm{dynamic=true}, reconcile-unrealized-casts, "
          "sparse-enc-place-weights" + arenaPlacement +
          (target == "cortex-m55" ? ", sparse-enc-fence-int-to-float" : "") +
          ", canonicalize, cse")
      .str();
}

void mcusparse::registerSparseEncPipelines() {
  PassPipelineRegistration<ModelToLLVMOptions>(
      "sparse-enc-model-to-llvm",
      "Lower a whole model (front-end MLIR with sparse_enc.layout on its "
      "weights) to the llvm dialect for a target: convolutions as matvec "
      "loops, weights packed into .weights, activations in a static arena",
      [](OpPassManager &pm, const ModelToLLVMOptions &opts) {
        std::string text =
            modelToLLVMPipeline(opts.target, opts.pexPeakBytes,
                                opts.tilePixels, opts.denseWeightsOnce);
        if (failed(parsePassPipeline(text, pm, llvm::errs())))
          llvm::report_fatal_error("sparse-enc-model-to-llvm: bad pipeline text");
      });
  PassPipelineRegistration<ToLLVMOptions>(
      "sparse-enc-to-llvm",
      "Lower matvec kernels over dense or #sparse_enc weights to the llvm "
      "dialect for a target (32-bit index on 32-bit targets, bare pointers)",
      [](OpPassManager &pm, const ToLLVMOptions &opts) {
        std::string text = toLLVMPipeline(opts.target, opts.denseRows,
                                          opts.vectorLength);
        if (failed(parsePassPipeline(text, pm, llvm::errs())))
          llvm::report_fatal_error("sparse-enc-to-llvm: bad pipeline text");
      });
}
