"""CSE-CSR against CSR: flash bytes, multiplies and search time.

`mcusparse bench cse` encodes seeded matrices with few distinct values (the
low-bit quantised weights subexpressions pay off on) and, with `--models`,
the weights of the shared .tflite models, and prints one row per matrix:
CSR bytes, CSE-CSR bytes, how much smaller, subexpressions, multiplies and
adds of one matrix-vector product against CSR's (nnz of each), and the
seconds the search took. Every encoding is decoded and checked against W,
and its matrix-vector product (subexpressions first, as a kernel computes
it) against W @ x.
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


def measure(name: str, W: np.ndarray, progress: bool = False) -> dict:
    start = time.monotonic()
    state, stats = csecsr.find_subexpressions(W, progress=progress)
    arrays = csecsr._arrays(state, W.dtype)
    seconds = time.monotonic() - start
    cse_bytes = sum(int(a.nbytes) for a in arrays.values())
    correct = bool(np.array_equal(csecsr.decode(arrays, W.shape, W.dtype), W))
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
            "search_seconds": round(seconds, 2), "correct": correct}


def run(workloads=DEFAULT_WORKLOADS, models=(), progress: bool = True) -> list[dict]:
    rows = []
    for r, c, s, levels in workloads:
        name = f"{r}x{c} {s:.0%} sparse, values -{levels}..{levels}"
        rows.append(measure(name, quantized_matrix(r, c, s, levels), progress))
    for path in models:
        from mcusparse.tflite_weights import read_weights
        for w in read_weights(path):
            W = w.as_matrix()
            if W.dtype == np.int8 and np.count_nonzero(W):
                rows.append(measure(f"{path.split('/')[-1]}: {w.name[:40]}", W, progress))
    return rows


def table(rows: list[dict]) -> str:
    head = ("| matrix | nnz | CSR bytes | CSE-CSR bytes | smaller | subexpressions | "
            "multiplies (CSR) | adds (CSR) | search s | correct |")
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['matrix']} | {r['nnz']:,} | {r['csr_bytes']:,} | "
                     f"{r['cse_csr_bytes']:,} | {r['smaller']:.1%} | {r['subexpressions']:,} | "
                     f"{r['multiplies']:,} ({r['csr_macs']:,}) | {r['adds']:,} ({r['csr_macs']:,}) | "
                     f"{r['search_seconds']} | {'yes' if r['correct'] else 'NO'} |")
    return "\n".join(lines)
