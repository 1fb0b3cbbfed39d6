"""IREE execution paths: compile with iree-compile, run on host, aarch64 and the MCU targets.

    from mcusparse import iree
    y, stats = iree.run_matvec(W, x, "cortex-m55")        # dense int8 matvec through IREE
    stats.instructions, stats.weight_bytes_read            # MCU targets (QEMU + plugin)

    mv = iree.IreeMatvec(W, target="rv32gcv")              # compile once, run many x
    y, stats = mv.run(x)

    outs, stats = iree.run_module(mlir_text, "fn", [a, b], "aarch64")

Targets (`IREE_TARGETS`):

* ``host``: iree.runtime in process (x86-64, --iree-llvmcpu-target-cpu=host);
* ``aarch64``, ``aarch64-sve``: the aarch64 wheel's iree-run-module under qemu-aarch64
  (NEON; NEON + SVE with scalable vectorisation);
* ``cortex-m55``, ``rv32imc``, ``rv32gcv``: IREE static-library output linked with
  our bare-metal harness (runtime/iree/) on QEMU, instructions counted between
  the benchmark markers around the dispatches.

See docs/iree.md. `iree-compile` always runs as a subprocess (see compile.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .compile import (IREE_TARGETS, CompiledModule, IreeCompileError, IreeError, IreeTarget,
                      compile_module, get_iree_target, iree_compile_path)
from .programs import (matvec_mlir, matvec_reference, mlp_mlir, mlp_reference, requant_relu)

__all__ = [
    "IREE_TARGETS", "IreeTarget", "IreeError", "IreeCompileError", "CompiledModule",
    "compile_module", "get_iree_target", "iree_compile_path",
    "IreeStats", "IreeModule", "IreeMatvec", "run_module", "run_matvec", "run_mlp",
    "run_sparse_mlp",
    "matvec_mlir", "mlp_mlir", "matvec_reference", "mlp_reference", "requant_relu",
]


@dataclass(frozen=True)
class IreeStats:
    """What a run through IREE measured. Counts are -1 where the target has none."""
    target: str
    runtime: str                  # "iree.runtime", "iree-run-module (qemu-aarch64)", "static"
    instructions: int = -1        # MCU targets: executed between the benchmark markers
    weight_bytes_read: int = -1   # MCU targets: bytes loaded from .weights
    text_bytes: int = -1          # MCU targets: .text of the dispatch functions
    weight_bytes: int = 0         # bytes of the inputs marked as weights
    dispatches: int = -1          # dispatch ops the module runs (MCU targets: from the plan)
    workgroups: int = -1          # workgroup calls in total (MCU targets)
    format: str = "dense"
    # MCU targets: the program run and its executed blocks (for mcusparse.cyclemodel).
    elf: Optional[Path] = field(default=None, repr=False, compare=False)
    blocks: tuple = field(default=(), repr=False, compare=False)

    @property
    def flash_bytes(self) -> int:
        return self.weight_bytes + max(self.text_bytes, 0)


class IreeModule:
    """One MLIR module compiled for one IREE target; `run(*inputs)` runs its function."""

    def __init__(self, mlir_text: str, function: str, target: str, *, name: Optional[str] = None,
                 weights: Sequence[int] = (), num_outputs: int = 1, timeout: float = 60.0,
                 extra_flags: Sequence[str] = ()):
        self.target = get_iree_target(target).name
        self.kind = get_iree_target(target).kind
        self.function = function
        self.name = name or function
        self.weights = tuple(weights)
        self.num_outputs = num_outputs
        self.timeout = timeout
        self.mlir = mlir_text
        self.compiled = compile_module(mlir_text, self.target, name=self.name,
                                       extra_flags=extra_flags)
        self.plan = None
        if self.kind == "static":
            from . import static
            self.plan = static.extract_plan(self.compiled.hal_mlir.read_text(), function)
            if len(self.plan.outputs) != num_outputs:
                raise IreeError(f"{self.target}: module {self.name!r} returns "
                                f"{len(self.plan.outputs)} results, expected {num_outputs}",
                                target=self.target, module=self.name)

    def run(self, *inputs: np.ndarray) -> Tuple[List[np.ndarray], IreeStats]:
        inputs = [np.ascontiguousarray(a) for a in inputs]
        wbytes = sum(inputs[i].nbytes for i in self.weights if i < len(inputs))
        if self.kind == "host":
            from .host import run_host
            outs = run_host(self.compiled, self.function, inputs)
            return outs, IreeStats(self.target, "iree.runtime", weight_bytes=wbytes)
        if self.kind == "aarch64":
            from .aarch64 import run_aarch64
            outs = run_aarch64(self.compiled, self.function, inputs,
                               num_outputs=self.num_outputs, timeout=self.timeout)
            return outs, IreeStats(self.target, "iree-run-module (qemu-aarch64)",
                                   weight_bytes=wbytes)
        from . import static
        elf = static.build_program(self.compiled, self.plan, inputs, weights=self.weights)
        res = static.run_program(self.compiled, self.plan, elf, timeout=self.timeout)
        wgs = sum(int(np.prod(d.workgroups)) for d in self.plan.dispatches)
        return res.outputs, IreeStats(
            self.target, "static", instructions=res.instructions,
            weight_bytes_read=res.weight_bytes_read, text_bytes=res.dispatch_text_bytes,
            weight_bytes=wbytes, dispatches=len(self.plan.dispatches), workgroups=wgs,
            elf=elf, blocks=tuple(res.result.blocks))


def run_module(mlir_text: str, function: str, inputs: Sequence[np.ndarray], target: str, *,
               weights: Sequence[int] = (), num_outputs: int = 1, name: Optional[str] = None,
               timeout: float = 60.0,
               extra_flags: Sequence[str] = ()) -> Tuple[List[np.ndarray], IreeStats]:
    """Compile (cached) and run one function of an MLIR module on a target.

    weights: indices of the inputs that are weights (placed in .weights on the MCU targets,
    where the plugin counts their traffic)."""
    mod = IreeModule(mlir_text, function, target, name=name, weights=weights,
                     num_outputs=num_outputs, timeout=timeout, extra_flags=extra_flags)
    return mod.run(*inputs)


class IreeMatvec:
    """y = W x (int8 W and x, int32 y) through IREE's own code generation.

    The same shape as `mcusparse.kernels.SpmvKernel`: `run(x) -> (y, stats)`.
    W is an argument of the module (in `.weights` on the MCU targets), so the
    compiled module depends only on the shape."""

    def __init__(self, W: np.ndarray, target: str = "cortex-m55", *, timeout: float = 60.0):
        W = np.asarray(W)
        if W.ndim != 2 or W.dtype != np.int8:
            raise ValueError(f"W must be a 2-D int8 matrix, got {W.dtype} {W.shape}")
        self.W = np.ascontiguousarray(W)
        self.rows, self.cols = W.shape
        self.target = get_iree_target(target).name
        self.format = "dense"
        self.name = f"iree-matvec-{self.rows}x{self.cols}"
        self.module = IreeModule(matvec_mlir(self.rows, self.cols), "matvec", self.target,
                                 name=self.name, weights=(0,), timeout=timeout)

    def run(self, x: np.ndarray) -> Tuple[np.ndarray, IreeStats]:
        x = np.asarray(x)
        if x.shape != (self.cols,) or x.dtype != np.int8:
            raise ValueError(f"x must be int8 with shape ({self.cols},), got {x.dtype} {x.shape}")
        outs, stats = self.module.run(self.W, x)
        return outs[0].astype(np.int32).reshape(self.rows), stats


def run_matvec(W: np.ndarray, x: np.ndarray, target: str, *,
               timeout: float = 60.0) -> Tuple[np.ndarray, IreeStats]:
    """y = W x through IREE on `target`; returns (y, stats)."""
    return IreeMatvec(W, target, timeout=timeout).run(x)


def run_mlp(W1: np.ndarray, x: np.ndarray, W2: np.ndarray, target: str, *, shift: int = 7,
            timeout: float = 60.0) -> Tuple[np.ndarray, IreeStats]:
    """y = W2 requant_relu(W1 x) (see programs.mlp_mlir) through IREE on `target`."""
    W1, W2, x = (np.ascontiguousarray(a) for a in (W1, W2, x))
    hidden, cols = W1.shape
    rows, hidden2 = W2.shape
    if hidden2 != hidden or x.shape != (cols,):
        raise ValueError(f"shapes do not chain: W1 {W1.shape}, x {x.shape}, W2 {W2.shape}")
    mod = IreeModule(mlp_mlir(hidden, cols, rows, shift), "mlp", target,
                     name=f"iree-mlp-{hidden}x{cols}-{rows}", weights=(0, 2), timeout=timeout)
    outs, stats = mod.run(W1, x, W2)
    return outs[0], stats


def run_sparse_mlp(W1: np.ndarray, x: np.ndarray, W2: np.ndarray, target: str, *,
                   format: str = "dcsr", shift: int = 7,
                   timeout: float = 60.0) -> Tuple[np.ndarray, IreeStats]:
    """The two-layer example: y = W2 requant_relu(W1 x) where layer 1 is our sparse kernel
    for W1 in `format` (a custom dispatch) and layer 2 is left to IREE's code generation."""
    from mcusparse.kernels import SpmvKernel
    from . import dispatch
    W1, W2, x = (np.ascontiguousarray(a) for a in (W1, W2, x))
    hidden, cols = W1.shape
    rows, hidden2 = W2.shape
    if hidden2 != hidden or x.shape != (cols,):
        raise ValueError(f"shapes do not chain: W1 {W1.shape}, x {x.shape}, W2 {W2.shape}")
    layer1 = SpmvKernel(W1, format=format, target=target, runtime="iree", timeout=timeout)
    bufs = [np.ascontiguousarray(b) for b in layer1.buffers.values()]
    text = dispatch.custom_mlp_mlir(hidden, cols, rows, bufs,
                                    dispatch.kernel_object_from_ll(layer1.kernel_ll()),
                                    layer1.target, shift=shift)
    n = len(bufs)
    mod = IreeModule(text, "mlp", target, name=f"iree-sparse-mlp-{layer1.format}",
                     weights=tuple(range(n)) + (n + 1,), timeout=timeout,
                     extra_flags=dispatch.OBJECT_FLAGS)
    outs, stats = mod.run(*bufs, x, W2)
    return outs[0], stats
