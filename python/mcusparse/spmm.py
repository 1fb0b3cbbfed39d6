"""Y = W X for int8 W (rows x cols) and X (cols x batch), int32 Y: `mcusparse.kernels.spmm`.

The product is compiled the way `sparse-enc-model-to-llvm` compiles a layer
of a network (X as `batch` pixels of `cols` channels, a zero-filled
accumulator, W the layer's constant weight with its layout): on cortex-m55 a
CSR weight gets the pixel-batched or row-gather kernel, a dCSR one (dcsr,
dcsr:16:8) or an N:M one with 2- or 4-bit fields each group decoded once per
16 columns of X, a dense one the register-blocked kernel; on rv32imc a CSR,
N:M, dCSR (dcsr, dcsr:16:8) or dense weight a scalar batched kernel,
on rv32gcv a CSR weight with short rows (or at least 16 columns of X) the
pixel-batched or row-resident kernel, an int8 N:M or GS weight a
rows-in-lanes kernel over blocks of 4 columns, int8 dCSR the cortex-m55
row loops and a dense one the kernel that reads each weight once; every
other format and target one matvec per column of X. The program runs on
the target's emulator with the counting plugin; stats are those of
`mcusparse.kernels.spmv` (KernelStats).

    k = mcusparse.kernels.spmm(W, format="csr", target="cortex-m55", batch=16)
    Y, stats = k.run(X)              # Y == W @ X in int32
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from mcusparse import formats
from mcusparse.kernels import KernelError, KernelStats

SPMM_TARGETS = ("cortex-m55", "rv32imc", "rv32gcv")


class SpmmKernel:
    def __init__(self, W: np.ndarray, format: str = "csr", target: str = "cortex-m55",
                 batch: int = 16, timeout: float = 120.0):
        from mcusparse import compiler
        from mcusparse.compiler.layer_cost import layer_mlir
        from mcusparse.compiler.layouts import layout_attrs
        W = np.asarray(W)
        if W.ndim != 2 or W.dtype != np.int8:
            raise ValueError(f"spmm: W must be a 2-D int8 matrix, got {W.dtype} {W.shape}")
        if target not in SPMM_TARGETS:
            raise ValueError(f"spmm: unknown target {target!r}; known: {', '.join(SPMM_TARGETS)}")
        if format.split(":")[0] == "sparsifier":
            raise ValueError("spmm: 'sparsifier' (upstream MLIR's CSR kernel) is the SpMV "
                             "peer only: use mcusparse.kernels.spmv")
        if batch < 1:
            raise ValueError(f"spmm: batch must be >= 1, got {batch}")
        packed = None if format == "dense" else formats.encode(W, format)
        enc, buffers = (None, None) if packed is None else layout_attrs(packed)
        self.W, self.format, self.target, self.batch, self.timeout = W, format, target, batch, timeout
        self.weight_bytes = int(W.nbytes if packed is None else packed.total_bytes)
        self._dir = Path(tempfile.mkdtemp(prefix="spmm-"))
        compiler.lower_to_object(layer_mlir(W, batch, enc, buffers), target, self._dir,
                                 f"spmm {W.shape[0]}x{W.shape[1]} {format}", line_tables=False)
        sections = compiler._section_bytes(self._dir / "model.o")
        self.text_bytes = int(sum(v for k, v in sections.items() if k.startswith(".text")))

    def run(self, X: np.ndarray, wait_states: int = 4):
        from mcusparse import cyclemodel
        from mcusparse.compiler import program
        X = np.asarray(X)
        if X.shape != (self.W.shape[1], self.batch) or X.dtype != np.int8:
            raise ValueError(f"spmm: X must be int8 of shape {(self.W.shape[1], self.batch)}, "
                             f"got {X.dtype} {X.shape}")
        out = program.IoSpec("y", (self.batch, self.W.shape[0]), "int32")
        elf = program.build(self.target, self._dir / "model.o", [np.ascontiguousarray(X.T)],
                            [out], self._dir)
        res = program.run(self.target, elf, [out], model=f"spmm {self.format}",
                          timeout=self.timeout)
        if res.instructions <= 0:
            raise KernelError(f"{self.target}: spmm {self.format}: no instruction count")
        stats = KernelStats(
            instructions=res.instructions, weight_bytes_read=res.weight_bytes_read,
            flash_bytes=self.weight_bytes + self.text_bytes, text_bytes=self.text_bytes,
            weight_bytes=self.weight_bytes, target=self.target, format=self.format,
            modeled_cycles=res.modeled_cycles(wait_states), wait_states=wait_states,
            core_cycles=res.core_cycles, weight_transactions=res.weight_transactions,
            cycle_model=cyclemodel.model_name(self.target) if res.core_cycles >= 0 else "")
        return res.outputs[0].T.copy(), stats

    def __del__(self):
        shutil.rmtree(getattr(self, "_dir", ""), ignore_errors=True)


def spmm(W: np.ndarray, format: str = "csr", target: str = "cortex-m55", batch: int = 16,
         **kwargs) -> SpmmKernel:
    """Compile Y = W X (int8 W and X, int32 Y, X with `batch` columns) for `target`."""
    return SpmmKernel(W, format=format, target=target, batch=batch, **kwargs)
