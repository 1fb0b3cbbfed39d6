"""CSE-CSR against CSR: flash bytes, multiplies and search time.

`mcusparse bench cse` encodes seeded matrices with few distinct values (the
low-bit quantised weights subexpressions pay off on) and, with `--models`,
the weights of the shared .tflite models, and prints one row per matrix:
CSR bytes, CSE-CSR bytes, how much smaller, subexpressions, multiplies and
adds of one matrix-vector product against CSR's (nnz of each), and the
seconds the search took. Every encoding is decoded and checked against W,
and its matrix-vector product (subexpressions first, as a kernel computes
it) against W @ x. For matrices of at most 256 rows the csr and cse-csr
kernels also run on each of `targets` (instructions in the measured window,
outputs checked against numpy in the same run).
"""
from __future__ import annotations

import time

import numpy as np

from mcusparse.formats import csecsr, encode

# (rows, cols, sparsity, levels): values in -levels..levels, 0 excluded
DEFAULT_WORKLOADS = (
    (256, 256, 0.5, 1), (256, 256, 0.9, 1), (256, 256, 0.5, 3), (256, 256, 0.5, 7),
    (256, 256, 0.9, 127), (1000, 1000, 0.5, 1), (1000, 1000, 0.9, 1),
)


def quantized_matrix(rows: int, cols: int, sparsity: float, levels: int, seed: int = 23):
    """int8 values uniform in -levels..levels without 0, then `sparsity` zeroed."""
    rng = np.random.default_rng(seed)
    W = rng.integers(1, levels + 1, (rows, cols)) * rng.choice([-1, 1], (rows, cols))
    W[rng.random((rows, cols)) < sparsity] = 0
    return W.astype(np.int8)


KERNEL_TARGETS = ("rv32imc", "cortex-m55", "rv32gcv")
KERNEL_ROWS = 256   # larger matrices: bytes and operations only


def kernel_instructions(W: np.ndarray, target: str) -> dict:
    """Instructions of the csr and cse-csr kernels for W on `target`."""
    from mcusparse import kernels
    x = np.random.default_rng(1).integers(-128, 128, W.shape[1]).astype(np.int8)
    ref = W.astype(np.int32) @ x.astype(np.int32)
    out = {}
    for fmt in ("csr", "cse-csr"):
        y, stats = kernels.spmv(W, fmt, target).run(x)
        out[fmt] = stats.instructions
        out["correct"] = out.get("correct", True) and bool(np.array_equal(y, ref))
    out["speedup"] = out["csr"] / out["cse-csr"]
    return out


def measure(name: str, W: np.ndarray, progress: bool = False, targets=()) -> dict:
    start = time.monotonic()
    state, stats = csecsr.find_subexpressions(W, progress=progress)
    arrays = csecsr._arrays(state, W.dtype)
    seconds = time.monotonic() - start
    cse_bytes = sum(int(a.nbytes) for a in arrays.values())
    correct = bool(np.array_equal(csecsr.decode(arrays, W.shape, W.dtype), W))
    targets = targets if W.dtype == np.int8 and W.shape[0] <= KERNEL_ROWS else ()
    if W.dtype == np.int8:
        x = np.random.default_rng(0).integers(-128, 128, W.shape[1]).astype(np.int8)
        correct &= bool(np.array_equal(csecsr.matvec(arrays, W.shape, x),
                                       W.astype(np.int32) @ x.astype(np.int32)))
    nnz = int(np.count_nonzero(W))
    csr_bytes = encode(W, "csr").total_bytes
    ops = csecsr.operation_counts(arrays)
    return {"matrix": name, "shape": list(W.shape), "nnz": nnz, "csr_bytes": csr_bytes,
            "cse_csr_bytes": cse_bytes, "smaller": 1 - cse_bytes / csr_bytes,
            "subexpressions": stats.subexpressions, "rounds": stats.rounds,
            "multiplies": ops["multiplies"], "adds": ops["adds"], "csr_macs": nnz,
            "search_seconds": round(seconds, 2), "correct": correct,
            "kernels": {t: kernel_instructions(W, t) for t in targets}}


def run(workloads=DEFAULT_WORKLOADS, models=(), progress: bool = True,
        targets=KERNEL_TARGETS) -> list[dict]:
    rows = []
    for r, c, s, levels in workloads:
        name = f"{r}x{c} {s:.0%} sparse, values -{levels}..{levels}"
        rows.append(measure(name, quantized_matrix(r, c, s, levels), progress, targets))
    for path in models:
        from mcusparse.tflite_weights import read_weights
        for w in read_weights(path):
            W = w.as_matrix()
            if W.dtype == np.int8 and np.count_nonzero(W):
                rows.append(measure(f"{path.split('/')[-1]}: {w.name[:40]}", W, progress))
    return rows


def all_correct(rows: list[dict]) -> bool:
    return all(r["correct"] and all(k["correct"] for k in r.get("kernels", {}).values())
               for r in rows)


def table(rows: list[dict]) -> str:
    head = ("| matrix | nnz | CSR bytes | CSE-CSR bytes | smaller | subexpressions | "
            "multiplies (CSR) | adds (CSR) | search s | correct |")
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['matrix']} | {r['nnz']:,} | {r['csr_bytes']:,} | "
                     f"{r['cse_csr_bytes']:,} | {r['smaller']:.1%} | {r['subexpressions']:,} | "
                     f"{r['multiplies']:,} ({r['csr_macs']:,}) | {r['adds']:,} ({r['csr_macs']:,}) | "
                     f"{r['search_seconds']} | {'yes' if r['correct'] else 'NO'} |")
    runs = [(r, t, k) for r in rows for t, k in r.get("kernels", {}).items()]
    if runs:
        lines += ["", "| matrix | target | csr instructions | cse-csr instructions | "
                  "csr / cse-csr | correct |", "|---|---|---:|---:|---:|---|"]
        for r, t, k in runs:
            lines.append(f"| {r['matrix']} | {t} | {k['csr']:,} | {k['cse-csr']:,} | "
                         f"{k['speedup']:.2f}x | {'yes' if k['correct'] else 'NO'} |")
    return "\n".join(lines)
