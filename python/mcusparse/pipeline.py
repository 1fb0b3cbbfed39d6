"""Named pass pipelines, built and run from Python.

A pipeline is a textual MLIR pass pipeline with a name; later stages (the
lowering to each target) register theirs here. `run` parses the input in a
fresh context (with sparse_enc loaded), runs the passes and returns the
module; a failing pass raises `PipelineError` carrying MLIR's diagnostics.
"""
from __future__ import annotations

from mlir import ir
from mlir.passmanager import PassManager

import mcusparse  # noqa: F401  (registers the dialect and passes)

PIPELINES: dict[str, str] = {
    # Encoded constant weights -> packed storage buffers, folded.
    "pack": "builtin.module(sparse-enc-pack-constants, canonicalize)",
}


# Kernels -> llvm dialect, one per target: sparse-enc-to-llvm (passes/Pipelines.cpp)
# runs set-target (index width, bare pointers), pack, lower-matvec,
# one-shot-bufferize, vector-transfer lowering and convert-to-llvm{dynamic=true}.
TO_LLVM_TARGETS = ("cortex-m55", "rv32imc", "rv32gcv", "host")


def to_llvm_pipeline(target: str) -> str:
    """The pipeline text that lowers kernels to the llvm dialect for `target`."""
    return f"builtin.module(sparse-enc-to-llvm{{target={target}}})"


for _t in TO_LLVM_TARGETS:
    PIPELINES[f"to-llvm:{_t}"] = to_llvm_pipeline(_t)

# Whole models -> llvm dialect: sparse-enc-model-to-llvm (passes/Pipelines.cpp,
# docs/model-passes.md): matmul-to-matvec, attach-layouts, pack, outline-weights,
# lower-matvec, bufferize, plan-arena, convert-to-llvm, place-weights.
for _t in TO_LLVM_TARGETS:
    PIPELINES[f"model-to-llvm:{_t}"] = f"builtin.module(sparse-enc-model-to-llvm{{target={_t}}})"


class PipelineError(RuntimeError):
    """A pipeline failed to parse its input or one of its passes failed."""


def register(name: str, pipeline: str) -> None:
    """Adds (or replaces) a named pipeline."""
    PIPELINES[name] = pipeline


def resolve(name_or_pipeline: str) -> str:
    """The pipeline text for a registered name, or the text itself."""
    if name_or_pipeline in PIPELINES:
        return PIPELINES[name_or_pipeline]
    if name_or_pipeline.startswith("builtin.module("):
        return name_or_pipeline
    known = ", ".join(sorted(PIPELINES))
    raise PipelineError(
        f"unknown pipeline '{name_or_pipeline}' (known: {known}; or pass "
        "'builtin.module(...)' text)")


def run(module: str | ir.Module, pipeline: str,
        context: ir.Context | None = None) -> ir.Module:
    """Runs a named or textual pipeline on MLIR text or a parsed module.

    Text is parsed into `context` (a new one by default); a parsed module is
    transformed in place and returned.
    """
    text = resolve(pipeline)
    context = context or (module.context if isinstance(module, ir.Module)
                          else ir.Context())
    with context:
        try:
            if not isinstance(module, ir.Module):
                module = ir.Module.parse(module)
            PassManager.parse(text).run(module.operation)
        except ir.MLIRError as err:
            raise PipelineError(f"pipeline '{pipeline}' failed: {err}") from None
    return module
