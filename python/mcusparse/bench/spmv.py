"""One SpMV or SpMM benchmark row: a format against our dense kernel, same matrix, same run.

    row = bench_spmv("cortex-m55", "dcsr", rows=256, cols=256, sparsity=0.9, seed=23)
    row["speedup"], row["traffic_bound"], row["modeled_cycles_ws4"], row["correct"]
    row = bench_spmm("cortex-m55", "csr", rows=256, cols=256, sparsity=0.9, batch=16)

SpMM (shared/MEASURE.md: the same matrices times 16 and 64 input columns)
runs `kernels.spmm`, the product compiled the way a network layer is, with
X (cols x batch) drawn like x; the row has the same fields plus `batch`.

The matrix: a seeded random int8 matrix, pruned for the format
(`prune.nm` for "nm:N:M" (the sparsity argument is then ignored: N:M fixes
it), `prune.gs` for "gs:V", `prune.magnitude` for everything else). The
64 x 64 at 80 % case with seed 23 uses the dCSR paper's generator instead:

    np.random.seed(23); W = np.random.randint(-128, 127, (64, 64)).astype(np.int8)
    W[np.random.random((64, 64)) < 0.8] = 0

The dense kernel runs on the same (pruned) matrix and the same x, so both
outputs are checked against numpy and the ratio compares like with like.

Format "iree" is a peer, not a layout: IREE's own code generation for the
same dense layer (`mcusparse.iree.IreeMatvec`, W in `.weights`, the same
plugin and cycle model), shared/MEASURE.md's "IREE's dense code for the
same layer"; SpMV only.
A wrong output is an error row (`correct` false, `error` says why), never
a number to report.
"""
from __future__ import annotations

import hashlib
from typing import Dict, Optional, Tuple

import numpy as np

from mcusparse import kernels, prune

__all__ = ["make_matrix", "make_x", "bench_spmv", "bench_spmm", "run_kernel", "WAIT_STATES",
           "IREE_FORMAT"]

WAIT_STATES = (0, 4)          # modeled cycles are reported at these settings
IREE_FORMAT = "iree"          # the peer: IREE's dense code for the same layer


def _pattern(fmt: str) -> Tuple[str, tuple]:
    f = fmt.strip().lower()
    if f.startswith(("nm:", "structured:")):     # ours, and upstream's N:M peer
        _, n, m = f.split(":")
        return "nm", (int(n), int(m))
    if f.startswith("gs:"):
        return "gs", (int(f.split(":")[1]),)
    return "magnitude", ()


def is_paper_case(rows: int, cols: int, sparsity: float, seed: int) -> bool:
    return (rows, cols, seed) == (64, 64, 23) and abs(sparsity - 0.8) < 1e-9


def base_matrix(rows: int, cols: int, sparsity: float, seed: int) -> np.ndarray:
    """The unpruned matrix (for the paper's case: already 80 % zeros)."""
    if rows < 1 or cols < 1:
        raise ValueError(f"rows and cols must be at least 1, got {rows}x{cols}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    if is_paper_case(rows, cols, sparsity, seed):
        state = np.random.get_state()
        try:
            np.random.seed(23)
            W = np.random.randint(-128, 127, (64, 64)).astype(np.int8)
            W[np.random.random((64, 64)) < 0.8] = 0
        finally:
            np.random.set_state(state)
        return W
    rng = np.random.default_rng(seed)
    return rng.integers(-128, 128, size=(rows, cols), dtype=np.int8)


def make_matrix(fmt: str, rows: int, cols: int, sparsity: float, seed: int,
                pattern: Optional[str] = None) -> np.ndarray:
    """The benchmark matrix for `fmt` (pruned as the module doc says).

    pattern overrides the pruning: "nm:N:M" stores an N:M-pruned matrix in
    any format (the table's N:M workloads), "magnitude" / "gs:V" likewise.
    """
    W = base_matrix(rows, cols, sparsity, seed)
    kind, args = _pattern(pattern or fmt)
    if kind == "nm":
        return prune.nm(W, *args)
    if kind == "gs":
        return prune.gs(W, args[0], sparsity)
    return prune.magnitude(W, sparsity)


def make_x(cols: int, seed: int, batch: Optional[int] = None) -> np.ndarray:
    """x (cols,), or X (cols, batch) for SpMM."""
    size = cols if batch is None else (cols, batch)
    return np.random.default_rng(seed + 1).integers(-128, 128, size=size, dtype=np.int8)


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


_DENSE_CACHE: Dict[Tuple[str, str], dict] = {}


def run_kernel(W: np.ndarray, x: np.ndarray, fmt: str, target: str,
               timeout: float = 120.0) -> dict:
    """Compile and run one kernel (SpMM when x is 2-D); its counts, and whether y equals numpy."""
    if fmt.strip().lower() == IREE_FORMAT:
        return _run_iree(W, x, target, timeout)
    if x.ndim == 2:
        k = kernels.spmm(W, format=fmt, target=target, batch=x.shape[1], timeout=timeout)
    else:
        k = kernels.spmv(W, format=fmt, target=target, timeout=timeout)
    y, st = k.run(x, wait_states=WAIT_STATES[-1])
    return _counts(W, x, y, st, st.core_cycles, st.weight_transactions, st.cycle_model)


def _counts(W: np.ndarray, x: np.ndarray, y: np.ndarray, st, core_cycles: int,
            weight_transactions: int, cycle_model: str) -> dict:
    """A run's counts (from its stats `st` and cycle estimate), and whether y equals numpy."""
    bad = int(np.count_nonzero(y != W.astype(np.int32) @ x.astype(np.int32)))
    out = dict(instructions=st.instructions, weight_bytes_read=st.weight_bytes_read,
               flash_bytes=st.flash_bytes, text_bytes=st.text_bytes,
               weight_bytes=st.weight_bytes, core_cycles=core_cycles,
               weight_transactions=weight_transactions, cycle_model=cycle_model,
               correct=bad == 0, wrong_outputs=bad)
    for ws in WAIT_STATES:
        out[f"modeled_cycles_ws{ws}"] = core_cycles + ws * weight_transactions
    return out


def _run_iree(W: np.ndarray, x: np.ndarray, target: str, timeout: float) -> dict:
    """The IREE peer: W x by IREE's code generation (dense), counted like ours."""
    from mcusparse import cyclemodel, iree
    if x.ndim != 1:
        raise ValueError("format 'iree' (IREE's dense code, a peer) is an SpMV kernel")
    y, st = iree.IreeMatvec(W, target, timeout=timeout).run(x)
    est = cyclemodel.estimate(target, st.elf, st.blocks, st.weight_bytes_read)
    return _counts(W, x, y, st, est.core_cycles, est.weight_transactions, est.model)


def _dense(W: np.ndarray, x: np.ndarray, target: str, timeout: float) -> dict:
    key = (target, _digest(W, x))
    if key not in _DENSE_CACHE:
        _DENSE_CACHE[key] = run_kernel(W, x, "dense", target, timeout)
    return _DENSE_CACHE[key]


def _ratio(a, b) -> Optional[float]:
    return round(a / b, 4) if a and b else None


def bench_spmv(target: str, fmt: str, rows: int, cols: int, sparsity: float, seed: int = 23,
               *, pattern: Optional[str] = None, wait_states: int = 4,
               timeout: float = 120.0, W: Optional[np.ndarray] = None) -> dict:
    """One SpMV row (a dict, JSON-ready). Errors become rows with `error` set."""
    return _bench(target, fmt, rows, cols, sparsity, seed, None, pattern, wait_states,
                  timeout, W)


def bench_spmm(target: str, fmt: str, rows: int, cols: int, sparsity: float, batch: int = 16,
               seed: int = 23, *, pattern: Optional[str] = None, wait_states: int = 4,
               timeout: float = 120.0, W: Optional[np.ndarray] = None) -> dict:
    """One SpMM row: W (rows x cols) times X (cols x batch); the SpMV row's fields + `batch`."""
    return _bench(target, fmt, rows, cols, sparsity, seed, batch, pattern, wait_states,
                  timeout, W)


def _bench(target: str, fmt: str, rows: int, cols: int, sparsity: float, seed: int,
           batch: Optional[int], pattern: Optional[str], wait_states: int, timeout: float,
           W: Optional[np.ndarray]) -> dict:
    row = dict(target=target, format=fmt, rows=rows, cols=cols, sparsity=sparsity, seed=seed,
               pattern=pattern or _default_pattern(fmt), paper_generator=is_paper_case(
                   rows, cols, sparsity, seed), correct=False, error=None)
    if batch is not None:
        row["batch"] = batch
    try:
        if W is None:
            W = make_matrix(fmt, rows, cols, sparsity, seed, pattern)
        x = make_x(cols, seed, batch)
        row["nnz"] = int(np.count_nonzero(W))
        row["actual_sparsity"] = round(1.0 - row["nnz"] / W.size, 4)
        dense = _dense(W, x, target, timeout)
        res = dense if fmt == "dense" else run_kernel(W, x, fmt, target, timeout)
    except Exception as err:                       # noqa: BLE001  (reported as a row)
        row["error"] = f"{type(err).__name__}: {err}".strip()[:2000]
        return row
    row.update(res)
    row.update(
        dense_instructions=dense["instructions"],
        dense_weight_bytes_read=dense["weight_bytes_read"],
        dense_flash_bytes=dense["flash_bytes"],
        dense_correct=dense["correct"],
        speedup=_ratio(dense["instructions"], res["instructions"]),
        traffic_bound=_ratio(dense["weight_bytes_read"], res["weight_bytes_read"]),
        flash_ratio=_ratio(dense["flash_bytes"], res["flash_bytes"]),
        instructions_per_mac=round(res["instructions"] / (rows * cols * (batch or 1)), 4),
        modeled_cycles=res["core_cycles"] + wait_states * res["weight_transactions"],
        wait_states=wait_states,
        dense_modeled_cycles=dense["core_cycles"] + wait_states * dense["weight_transactions"])
    for ws in WAIT_STATES:
        row[f"dense_modeled_cycles_ws{ws}"] = dense[f"modeled_cycles_ws{ws}"]
        row[f"modeled_speedup_ws{ws}"] = _ratio(dense[f"modeled_cycles_ws{ws}"],
                                                 res[f"modeled_cycles_ws{ws}"])
    # How close the instruction speedup comes to the memory-traffic bound.
    row["bound_fraction"] = _ratio(row["speedup"], row["traffic_bound"])
    row["correct"] = bool(res["correct"] and dense["correct"])
    if not row["correct"]:
        which = [n for n, r in (("format", res), ("dense", dense)) if not r["correct"]]
        row["error"] = (f"wrong result ({' and '.join(which)} kernel): "
                        f"{res['wrong_outputs'] or dense['wrong_outputs']} of "
                        f"{rows * (batch or 1)} outputs "
                        "differ from numpy")
    return row


def _default_pattern(fmt: str) -> str:
    kind, args = _pattern(fmt)
    return {"nm": lambda: f"nm:{args[0]}:{args[1]}", "gs": lambda: f"gs:{args[0]}",
            "magnitude": lambda: "magnitude"}[kind]()


def format_row(row: dict) -> str:
    """One readable line."""
    times = f" times {row['batch']} columns" if row.get("batch") else ""
    head = (f"{row['target']} {row['format']} {row['rows']}x{row['cols']}{times} "
            f"@{row.get('actual_sparsity', row['sparsity']):.1%} ({row['pattern']})")
    if row.get("error"):
        return f"{head}: ERROR {row['error']}"

    def x(v):
        return "-" if v is None else f"{v:.2f}x"
    return (f"{head}: {row['instructions']:,} instructions vs dense {row['dense_instructions']:,}"
            f" = {x(row['speedup'])}; weight bytes {row['weight_bytes_read']:,} vs "
            f"{row['dense_weight_bytes_read']:,} (traffic bound {x(row['traffic_bound'])}); "
            f"model {row['modeled_cycles_ws0']:,} / {row['modeled_cycles_ws4']:,} cycles at 0 / 4 "
            f"wait states ({x(row['modeled_speedup_ws0'])} / {x(row['modeled_speedup_ws4'])}); "
            f"flash {row['flash_bytes']:,} vs {row['dense_flash_bytes']:,} B; correct")
