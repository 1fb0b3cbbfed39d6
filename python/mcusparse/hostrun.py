"""Run imported MLIR (tensors, linalg, arith) on the host through the JIT.

This is the test path for the front ends: it uses only upstream MLIR passes
(no sparse_enc lowering, no MCU target), so a front-end bug and a back-end bug
cannot hide each other.

    mod = mcusparse.frontend.import_model("m.tflite")
    outs = mcusparse.hostrun.run(mod.mlir, [x])        # list of numpy arrays

`compile(text)` returns a `HostModule` that can be called many times; the
module's `@main` must take and return statically shaped tensors. Results are
turned into out-parameters (`buffer-results-to-out-params`), so the caller
allocates the output arrays and nothing is leaked across the call boundary.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np
from mlir import ir
from mlir.execution_engine import ExecutionEngine
from mlir.passmanager import PassManager
from mlir.runtime import get_ranked_memref_descriptor

import mcusparse  # noqa: F401  (a context with our dialect registered)

# Upstream-only lowering of tensor-level linalg to the llvm dialect.
HOST_PIPELINE = ",".join([
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map}",
    "buffer-results-to-out-params{modify-public-functions hoist-static-allocs}",
    "canonicalize",
    "func.func(buffer-deallocation-pipeline)",
    "func.func(convert-linalg-to-loops)",
    "expand-strided-metadata",
    "lower-affine",
    "convert-scf-to-cf",
    "convert-to-llvm",
    "reconcile-unrealized-casts",
])

_NP_OF_MLIR = {"i8": np.int8, "ui8": np.uint8, "i16": np.int16, "i32": np.int32,
               "i64": np.int64, "f32": np.float32, "f64": np.float64, "i1": np.bool_}


def _runtime_libs() -> list[str]:
    """libmlir_c_runner_utils (memrefCopy for strided copies), from the mlir package."""
    import os
    import mlir.ir
    base = os.path.dirname(os.path.dirname(os.path.abspath(mlir.ir.__file__)))
    lib = os.path.join(base, "mlir", "lib", "libmlir_c_runner_utils.so")
    return [lib] if os.path.exists(lib) else []


class HostRunError(RuntimeError):
    """The module did not lower or does not have a callable @main."""


@dataclass
class TensorSig:
    shape: tuple[int, ...]
    dtype: np.dtype


def _signature(module: ir.Module, name: str) -> tuple[list[TensorSig], list[TensorSig]]:
    for op in module.body.operations:
        if op.operation.name == "func.func" and \
                ir.StringAttr(op.attributes["sym_name"]).value == name:
            ftype = ir.FunctionType(ir.TypeAttr(op.attributes["function_type"]).value)

            def sig(t):
                rt = ir.RankedTensorType(t)
                elem = str(rt.element_type)
                if elem not in _NP_OF_MLIR:
                    raise HostRunError(f"unsupported element type {elem}")
                return TensorSig(tuple(rt.shape), np.dtype(_NP_OF_MLIR[elem]))
            return [sig(t) for t in ftype.inputs], [sig(t) for t in ftype.results]
    raise HostRunError(f"no func.func @{name} in the module")


class HostModule:
    """A JIT-compiled module; call it with numpy arrays."""

    def __init__(self, text: str, entry: str = "main", opt_level: int = 2):
        self.context = ir.Context()
        with self.context:
            try:
                module = ir.Module.parse(text)
            except ir.MLIRError as e:
                raise HostRunError(f"cannot parse module: {e}") from None
            self.inputs, self.outputs = _signature(module, entry)
            for op in module.body.operations:
                if op.operation.name == "func.func" and \
                        ir.StringAttr(op.attributes["sym_name"]).value == entry:
                    op.attributes["llvm.emit_c_interface"] = ir.UnitAttr.get()
            try:
                PassManager.parse(f"builtin.module({HOST_PIPELINE})").run(module.operation)
            except ir.MLIRError as e:
                raise HostRunError(f"host lowering failed: {e}") from None
            self.engine = ExecutionEngine(module, opt_level=opt_level,
                                          shared_libs=_runtime_libs())
            self.module = module
        self.entry = entry

    def __call__(self, *arrays: np.ndarray) -> list[np.ndarray]:
        if len(arrays) != len(self.inputs):
            raise ValueError(f"@{self.entry} takes {len(self.inputs)} inputs, got {len(arrays)}")
        keep = []
        args = []
        for i, (a, sig) in enumerate(zip(arrays, self.inputs)):
            # np.require, not ascontiguousarray: that makes 0-d arrays 1-d
            a = np.require(np.asarray(a).astype(sig.dtype, copy=False), requirements="C")
            if tuple(a.shape) != sig.shape:
                raise ValueError(f"input {i}: shape {a.shape}, expected {sig.shape}")
            keep.append(a)
        outs = [np.zeros(s.shape, s.dtype) for s in self.outputs]
        for a in keep + outs:
            desc = get_ranked_memref_descriptor(a)
            keep.append(desc)
            args.append(ctypes.pointer(ctypes.pointer(desc)))
        self.engine.invoke(self.entry, *args)
        return outs


def compile(text: str, entry: str = "main", opt_level: int = 2) -> HostModule:
    return HostModule(text, entry, opt_level)


def run(text: str, inputs, entry: str = "main") -> list[np.ndarray]:
    """Compiles `text` and calls `@entry` once with `inputs` (a list of arrays)."""
    return HostModule(text, entry)(*inputs)
