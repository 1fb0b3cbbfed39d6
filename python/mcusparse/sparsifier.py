"""The upstream MLIR `--sparsifier` CSR kernel, as a peer to measure against.

    k = mcusparse.kernels.spmv(W, format="sparsifier", target="cortex-m55")
    y, stats = k.run(x)

The same matrix is stored as upstream `sparse_tensor` CSR,

    #sparse_tensor.encoding<{ map = (i, j) -> (i : dense, j : compressed) }>

with `index`-typed positions and coordinates, and the kernel is

    func.func @kernel(%pos: tensor<R+1 x index>, %crd: tensor<NNZ x index>,
                      %values: tensor<NNZ x i8>, %x: tensor<C x i8>, %y: tensor<R x i32>)
      %w = sparse_tensor.assemble (%pos, %crd), %values : ... to tensor<RxCxi8, #CSR>
      %r = linalg.matvec ins(%w, %x) outs(%y)

so the buffers come from the harness exactly like our formats' buffers do
(they live in `.weights`, where the plugin counts their traffic) and the
same harness, counters and cycle model apply.

For N:M matrices the peer is upstream's own N:M level (format
"structured:N:M", shared/MEASURE.md's "structured[n,m] for N:M"):

    #sparse_tensor.encoding<{ map = (i, j) -> (i : dense, j floordiv M : dense,
                                              j mod M : structured[N, M]), crdWidth = 8 }>

assembled from its coordinates (the offset in the block, one byte each: the
narrowest upstream stores) and values, N of each per block of M; a block
with fewer than N nonzeros stores explicit zeros at free offsets.

Lowering: the passes the stock `--sparsifier{enable-runtime-library=false}`
runs (`mlir-opt --sparsifier --dump-pass-pipeline`, LLVM 22) up to
`lower-affine`, on a module carrying `#dlti.dl_spec<index = 32 : i64>`, then
`convert-to-llvm{dynamic=true}` (which honours the DLTI index width; the
stock pipeline's `convert-to-llvm` does not) and `reconcile-unrealized-casts`.
Loops, positions and coordinates are therefore 32-bit (int32 arrays, 4 bytes
per coordinate: that is what upstream CSR with a 32-bit index stores). No
vectorisation options are passed (the sparsifier's default, `vl=0`): the
kernel is scalar MLIR, then the target's usual IR route (opt -O3 + llc on
the M55, zig's clang -O3 on RISC-V) applies, exactly as for our kernels.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Dict, Tuple

import numpy as np

from mcusparse.targets import get_target
from mcusparse.targets import toolchain as _tc

__all__ = ["FORMAT", "LLC_ONLY_FORMAT", "STRUCTURED", "CSR_ENCODING", "PIPELINE",
           "SparsifierEncoded", "StructuredEncoded", "encode", "parse_structured",
           "structured_encoding", "kernel_mlir", "compile_kernel_object"]

FORMAT = "sparsifier"
# The same kernel compiled by llc alone (no opt): the build behind the
# "0.18-0.23x of dense" anchor in shared/MEASURE.md; opt+llc targets only.
LLC_ONLY_FORMAT = "sparsifier:llc"
CSR_ENCODING = "#sparse_tensor.encoding<{ map = (i, j) -> (i : dense, j : compressed) }>"
# "structured:N:M": upstream's structured[N, M] level for N:M matrices.
STRUCTURED = "structured"


def structured_encoding(n: int, m: int) -> str:
    return ("#sparse_tensor.encoding<{ map = (i, j) -> (i : dense, j floordiv "
            f"{m} : dense, j mod {m} : structured[{n}, {m}]), crdWidth = 8 }}>")


def parse_structured(fmt: str) -> Tuple[int, int]:
    """(N, M) of "structured:N:M" (ValueError naming the problem otherwise)."""
    parts = fmt.strip().lower().split(":")
    try:
        n, m = int(parts[1]), int(parts[2])
        if len(parts) != 3 or not 0 < n <= m:
            raise ValueError
    except (IndexError, ValueError):
        raise ValueError(f"format {fmt!r}: expected 'structured:N:M' with 0 < N <= M") from None
    return n, m

# `mlir-opt --sparsifier="enable-runtime-library=false" --dump-pass-pipeline`
# (LLVM 22.1.8) up to lower-affine, then the DLTI-aware conversion.
PIPELINE = ("builtin.module("
            "func.func(linalg-generalize-named-ops),"
            "func.func(linalg-fuse-elementwise-ops),"
            "sparsification-and-bufferization,"
            "sparse-storage-specifier-to-llvm,"
            "func.func(canonicalize),"
            "func.func(convert-linalg-to-loops),"
            "func.func(convert-vector-to-scf),"
            "func.func(expand-realloc),"
            "func.func(convert-scf-to-cf),"
            "expand-strided-metadata,"
            "lower-affine,"
            "func.func(arith-expand),"
            "convert-to-llvm{dynamic=true},"
            "reconcile-unrealized-casts)")

INDEX_BITS = 32


class SparsifierEncoded:
    """Upstream CSR buffers of one matrix (duck-types formats.Encoded where kernels need it)."""

    def __init__(self, W: np.ndarray):
        W = np.asarray(W)
        if W.ndim != 2 or W.dtype != np.int8:
            raise ValueError(f"W must be a 2-D int8 matrix, got {W.dtype} {W.shape}")
        rows, cols = W.shape
        nz_r, nz_c = np.nonzero(W)                    # row-major order
        counts = np.bincount(nz_r, minlength=rows)
        pos = np.zeros(rows + 1, np.int32)
        np.cumsum(counts, out=pos[1:])
        crd = nz_c.astype(np.int32)
        values = W[nz_r, nz_c].astype(np.int8)
        self.nnz = int(values.size)
        if self.nnz == 0:
            # No zero-sized C arrays / tensors; pos[-1] == 0 so nothing is read.
            crd, values = np.zeros(1, np.int32), np.zeros(1, np.int8)
        self.fmt = FORMAT
        self.shape = W.shape
        self.dtype = W.dtype
        self.arrays: Dict[str, np.ndarray] = {"positions": pos, "coordinates": crd,
                                              "values": values}

    @property
    def total_bytes(self) -> int:
        return int(sum(a.nbytes for a in self.arrays.values()))

    def decode(self) -> np.ndarray:
        pos, crd, val = (self.arrays[k] for k in ("positions", "coordinates", "values"))
        W = np.zeros(self.shape, np.int8)
        for r in range(self.shape[0]):
            W[r, crd[pos[r]:pos[r + 1]]] = val[pos[r]:pos[r + 1]]
        return W


class StructuredEncoded:
    """Upstream structured[N, M] buffers of an N:M matrix: per block of M
    columns N (offset, value) pairs in offset order."""

    def __init__(self, W: np.ndarray, n: int, m: int):
        W = np.asarray(W)
        if W.ndim != 2 or W.dtype != np.int8:
            raise ValueError(f"W must be a 2-D int8 matrix, got {W.dtype} {W.shape}")
        rows, cols = W.shape
        if cols % m:
            raise ValueError(f"structured:{n}:{m}: {cols} columns are not a multiple of {m}")
        blocks = W.reshape(rows, cols // m, m)
        counts = np.count_nonzero(blocks, axis=2)
        if counts.max(initial=0) > n:
            r, b = np.argwhere(counts > n)[0]
            raise ValueError(f"structured:{n}:{m}: row {r}, columns {b * m}..{b * m + m - 1} "
                             f"hold {counts[r, b]} nonzeros (at most {n} per block of {m})")
        # The N kept offsets of a block: its nonzeros first, then free
        # offsets (explicit zeros), in offset order.
        order = np.argsort(blocks == 0, axis=2, kind="stable")[:, :, :n]
        offsets = np.sort(order, axis=2)
        values = np.take_along_axis(blocks, offsets, axis=2)
        self.nm = (n, m)
        self.fmt = f"{STRUCTURED}:{n}:{m}"
        self.shape = W.shape
        self.dtype = W.dtype
        self.arrays: Dict[str, np.ndarray] = {
            "coordinates": offsets.reshape(-1).astype(np.uint8),
            "values": values.reshape(-1).astype(np.int8)}

    @property
    def total_bytes(self) -> int:
        return int(sum(a.nbytes for a in self.arrays.values()))

    def decode(self) -> np.ndarray:
        n, m = self.nm
        rows, cols = self.shape
        crd = self.arrays["coordinates"].reshape(rows, cols // m, n).astype(np.intp)
        W = np.zeros((rows, cols // m, m), np.int8)
        np.put_along_axis(W, crd, self.arrays["values"].reshape(rows, cols // m, n), axis=2)
        return W.reshape(rows, cols)


def encode(W: np.ndarray, fmt: str = FORMAT):
    """The peer's buffers: CSR for "sparsifier", structured[N, M] for "structured:N:M"."""
    if fmt.strip().lower().startswith(STRUCTURED):
        return StructuredEncoded(W, *parse_structured(fmt))
    return SparsifierEncoded(W)


def kernel_mlir(rows: int, cols: int, buffers: Dict[str, np.ndarray],
                fmt: str = FORMAT) -> str:
    """The kernel module: the upstream encoding assembled from the harness's buffers."""
    if fmt.strip().lower().startswith(STRUCTURED):
        encoding = structured_encoding(*parse_structured(fmt))
        levels = {"coordinates": "i8"}
    else:
        encoding = CSR_ENCODING
        levels = {"positions": "index", "coordinates": "index"}
    types = {name: f"tensor<{buffers[name].size}x{elem}>" for name, elem in levels.items()}
    val_t = f"tensor<{buffers['values'].size}xi8>"
    x_t, y_t = f"tensor<{cols}xi8>", f"tensor<{rows}xi32>"
    w_t = f"tensor<{rows}x{cols}xi8, #ENC>"
    args = "".join(f"%{name}: {t}, " for name, t in types.items())
    level_args = ", ".join(f"%{name}" for name in types)
    level_types = ", ".join(types.values())
    return (f"#ENC = {encoding}\n"
            f"module attributes {{dlti.dl_spec = #dlti.dl_spec<index = {INDEX_BITS} : i64>}} {{\n"
            f"func.func @kernel({args}%values: {val_t},\n"
            f"                  %x: {x_t}, %y: {y_t}) -> {y_t} attributes {{llvm.bareptr}} {{\n"
            f"  %w = sparse_tensor.assemble ({level_args}), %values : "
            f"({level_types}), {val_t} to {w_t}\n"
            f"  %r = linalg.matvec ins(%w, %x : {w_t}, {x_t}) outs(%y : {y_t}) -> {y_t}\n"
            f"  return %r : {y_t}\n"
            "}\n}\n")


def compile_kernel_object(mlir_text: str, target: str,
                          middle_end: bool = True) -> Tuple[Path, str]:
    """Lower with the sparsifier's passes and compile for `target` (cached by
    content). `middle_end=False` (format "sparsifier:llc") compiles the LLVM
    IR with llc alone, as the anchor in shared/MEASURE.md was built."""
    from mcusparse import kernels, pipeline

    t = get_target(target)
    key = kernels._hash("sparsifier-kernel", mlir_text, t.name, PIPELINE,
                        _tc.ir_commands(t, Path("k.ll"), Path("k.o"), tmpdir=Path("."),
                                        middle_end=middle_end))
    out = _tc.build_root() / "kernels" / f"sparsifier-{t.name}-{key}"
    obj = out / "kernel.o"
    if obj.is_file():
        return obj, key
    out.mkdir(parents=True, exist_ok=True)
    (out / "kernel.mlir").write_text(mlir_text)
    try:
        module = pipeline.run(mlir_text, PIPELINE)
    except pipeline.PipelineError as err:
        raise kernels.KernelError(f"{t.name}: the sparsifier failed: {err}") from None
    text = str(module)
    if "sparse_tensor." in text or "llvm.call @malloc" in text:
        raise kernels.KernelError(f"{t.name}: the sparsifier left sparse_tensor ops or "
                                  "allocations in the kernel (see "
                                  f"{out / 'kernel.llvm.mlir'})")
    (out / "kernel.llvm.mlir").write_text(text)
    proc = subprocess.run([kernels._mlir_translate(), "--mlir-to-llvmir",
                           str(out / "kernel.llvm.mlir"), "-o", str(out / "kernel.ll")],
                          capture_output=True, text=True)
    if proc.returncode:
        raise kernels.KernelError(f"{t.name}: mlir-translate failed:\n{proc.stderr}")
    tmp_obj = out / f"kernel.tmp{id(out)}.o"
    for cmd in _tc.ir_commands(t, out / "kernel.ll", tmp_obj, tmpdir=out,
                               middle_end=middle_end):
        _tc._run(cmd, f"{t.name}: compiling the sparsifier kernel's LLVM IR")
    tmp_obj.rename(obj)
    return obj, key
