"""The standard SpMV and SpMM workloads of shared/MEASURE.md on every target and format.

    rows, meta = run_table(targets=["cortex-m55", "rv32imc"], out_dir="build/bench")

writes <out_dir>/spmv_table.md (markdown), spmv_table.json (every row with
every field of bench.spmv.bench_spmv / bench_spmm, plus run metadata),
spmv_speedup.png (SpMV speedup over dense vs sparsity, per format and
target) and spmm_speedup.png (the same for SpMM).

Workloads (int8 weights and activations, int32 accumulation, seed 23):

* 64 x 64 at 80 % (the dCSR paper's micro-benchmark and generator);
* 256 x 256 and 512 x 1024 at 50, 70, 80, 90, 95 % unstructured sparsity
  (magnitude pruning; gs:V uses prune.gs, the load-balanced variant, at the
  same sparsity);
* 256 x 256 and 512 x 1024 pruned to N:M 2:4, 1:4, 1:8 and 1:16, stored in
  their N:M format and, for comparison, in CSR, dCSR, the sparsifier's CSR
  and upstream's structured[N, M] through the sparsifier ("structured":
  the N:M peer of shared/MEASURE.md);
* on every SpMV workload with a magnitude-pruned or a model's matrix, IREE's
  own code for the same dense layer ("iree", the third peer of MEASURE.md);
* SpMM: the unstructured matrices times 16 and 64 input columns
  (`kernels.spmm`, compiled like a network layer). The sparsifier peer is
  an SpMV kernel and is not run there;
* the 1x1 convolutions and fully connected layers of the pruned DS-CNN S/M
  and MobileNetV2 (bench/layers.py), with their own weights, when
  ../shared/models has them (not plotted: table only).

Every row is checked against numpy (format and dense kernel); a wrong
result or a failure is an error row, shown as such.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from mcusparse.bench import spmv as _spmv
from mcusparse.targets import get_target

__all__ = ["Workload", "standard_workloads", "plan", "run_table", "write_markdown",
           "write_plot", "DEFAULT_TARGETS", "DEFAULT_FORMATS"]

DEFAULT_TARGETS = ("cortex-m55", "rv32imc", "rv32gcv")
# "nm" stands for the workload's own N:M pattern and "structured" for the same
# pattern as upstream's structured[N, M] (both on N:M workloads only).
# "sparsifier:llc" (the peer built by llc alone, MEASURE.md's anchor) runs on
# the opt+llc targets only. "iree" (IREE's dense code for the layer) runs on
# the SpMV workloads with magnitude-pruned or model matrices.
DEFAULT_FORMATS = ("dense", "csr", "csr:8", "dcsr", "dcsr:16:8", "nm", "gs:16", "sparsifier",
                   "sparsifier:llc", "structured", "iree")
SIZES = ((256, 256), (512, 1024))
SPARSITIES = (0.5, 0.7, 0.8, 0.9, 0.95)
NM_PATTERNS = ((2, 4), (1, 4), (1, 8), (1, 16))
BATCHES = (16, 64)            # SpMM input columns
SEED = 23


@dataclass(frozen=True)
class Workload:
    rows: int
    cols: int
    sparsity: float
    pattern: str            # "magnitude", "nm:N:M" or "layer" (a model's weight)
    seed: int = SEED
    batch: int = 1          # input columns: 1 is SpMV, more is SpMM
    source: str = ""        # "layer": "<model.tflite>#<layer index>"

    @property
    def label(self) -> str:
        times = f" x{self.batch} cols" if self.batch > 1 else ""
        if self.pattern == "layer":           # a 1x1 convolution's columns are its pixels
            model, _, index = Path(self.source).name.rpartition("#")
            pixels = f" x{self.batch} px" if self.batch > 1 else ""
            return (f"{model.removesuffix('.tflite')} layer {index} "
                    f"{self.rows}x{self.cols}{pixels}")
        what = f"{self.sparsity:.0%}" if self.pattern == "magnitude" else self.pattern[3:]
        return f"{self.rows}x{self.cols} {what}{times}"


def standard_workloads(sizes: Sequence[Tuple[int, int]] = SIZES,
                       sparsities: Sequence[float] = SPARSITIES,
                       nm_patterns: Sequence[Tuple[int, int]] = NM_PATTERNS,
                       paper: bool = True, seed: int = SEED,
                       batches: Sequence[int] = BATCHES, layers: bool = True) -> List[Workload]:
    out = [Workload(64, 64, 0.8, "magnitude", 23)] if paper else []
    for r, c in sizes:
        out += [Workload(r, c, s, "magnitude", seed) for s in sparsities]
        out += [Workload(r, c, 1 - n / m, f"nm:{n}:{m}", seed) for n, m in nm_patterns]
    for b in batches:
        for r, c in sizes:
            out += [Workload(r, c, s, "magnitude", seed, b) for s in sparsities]
    if layers:
        from mcusparse.bench.layers import layer_workloads
        out += layer_workloads(seed=seed)
    return out


def _formats_for(w: Workload, formats: Sequence[str]) -> List[Tuple[str, Optional[str]]]:
    """(format, pruning pattern) pairs to run on a workload."""
    out = []
    for f in formats:
        f = f.strip().lower()
        if f == "csr:8" and w.cols > 256:
            continue                        # 8-bit column indices reach 256 columns
        if w.batch > 1 and f.startswith(("sparsifier", "structured", "iree")):
            continue                        # the peers are SpMV kernels
        if f == "iree" and w.pattern not in ("magnitude", "layer"):
            continue                        # dense code: the magnitude rows have the shape
        if w.pattern in ("magnitude", "layer"):
            if f in ("nm", "structured") or f.startswith(("nm:", "structured:")):
                continue                    # N:M would re-prune the matrix
            out.append((f, None if w.pattern == "magnitude" else "layer"))
        else:
            if f == "nm":
                out.append((w.pattern, w.pattern))
            elif f == "structured":
                out.append(("structured" + w.pattern[2:], w.pattern))
            elif f.startswith("structured:"):
                if f[len("structured"):] == w.pattern[2:]:
                    out.append((f, w.pattern))
            elif f.startswith("nm:"):
                if f == w.pattern:
                    out.append((f, f))
            elif f.startswith("gs:"):
                continue                    # prune.gs would re-prune the N:M matrix
            else:
                out.append((f, w.pattern))  # the N:M matrix in another format
    return out


def plan(targets: Sequence[str], formats: Sequence[str],
         workloads: Sequence[Workload]) -> List[Tuple[str, Workload, List[Tuple[str, Optional[str]]]]]:
    """Units of work: one (target, workload) with its formats (they share the dense run)."""
    units = []
    for t in targets:
        llc_route = get_target(t).ir_route == "llc"
        for w in workloads:
            fs = [(f, p) for f, p in _formats_for(w, formats)
                  if f != "sparsifier:llc" or llc_route]
            if fs:
                units.append((t, w, fs))
    return units


def _run_unit(unit) -> List[dict]:
    target, w, fmts = unit
    W = None
    if w.source:
        from mcusparse.bench.layers import layer_matrix
        W = layer_matrix(w.source)
    rows = []
    for fmt, pattern in fmts:
        if w.batch > 1:
            row = _spmv.bench_spmm(target, fmt, w.rows, w.cols, w.sparsity, w.batch, w.seed,
                                   pattern=pattern, W=W)
        else:
            row = _spmv.bench_spmv(target, fmt, w.rows, w.cols, w.sparsity, w.seed,
                                   pattern=pattern, W=W)
        row["workload"] = w.label
        rows.append(row)
    return rows


class _Progress:
    """tqdm when installed, else a one-line counter on stderr."""

    def __init__(self, total: int, enabled: bool = True):
        self.total, self.n, self.enabled = total, 0, enabled
        self.bar = None
        self.t0 = time.time()
        if enabled:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, unit="kernel", file=sys.stderr, dynamic_ncols=True)
            except ImportError:
                pass

    def update(self, n: int, desc: str) -> None:
        self.n += n
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(desc, refresh=False)
            self.bar.update(n)
        else:
            print(f"\r[{self.n}/{self.total}] {time.time() - self.t0:6.0f} s  {desc:50.50}",
                  end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            print(file=sys.stderr)


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parent).stdout.strip()
    except OSError:
        return ""


def run_table(targets: Sequence[str] = DEFAULT_TARGETS,
              formats: Sequence[str] = DEFAULT_FORMATS,
              workloads: Optional[Sequence[Workload]] = None,
              out_dir: "str | Path" = "build/bench", jobs: int = 1,
              progress: bool = True, plot: bool = True) -> Tuple[List[dict], dict]:
    """Run every (target, workload, format), write the three files, return (rows, meta)."""
    workloads = list(workloads if workloads is not None else standard_workloads())
    units = plan(targets, formats, workloads)
    total = sum(len(u[2]) for u in units)
    bar = _Progress(total, progress)
    t0 = time.time()
    # The tree as the run starts: edits made while it runs do not mark it.
    commit, dirty = _git("rev-parse", "HEAD"), bool(_git("status", "--porcelain"))
    results: Dict[int, List[dict]] = {}
    if jobs <= 1:
        for i, u in enumerate(units):
            results[i] = _run_unit(u)
            bar.update(len(u[2]), f"{u[0]} {u[1].label}")
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futs = {pool.submit(_run_unit, u): i for i, u in enumerate(units)}
            for fut in as_completed(futs):
                i = futs[fut]
                u = units[i]
                try:
                    results[i] = fut.result()
                except Exception as err:     # noqa: BLE001  (a crashed worker)
                    results[i] = [dict(target=u[0], format=f, workload=u[1].label,
                                       rows=u[1].rows, cols=u[1].cols, sparsity=u[1].sparsity,
                                       batch=u[1].batch,
                                       pattern=p or "", correct=False,
                                       error=f"{type(err).__name__}: {err}") for f, p in u[2]]
                bar.update(len(u[2]), f"{u[0]} {u[1].label}")
    bar.close()
    rows = [r for i in sorted(results) for r in results[i]]
    from mcusparse import cyclemodel
    models = {}
    for t in targets:
        try:
            models[t] = cyclemodel.model_name(t)
        except Exception as err:            # noqa: BLE001
            models[t] = f"unavailable: {err}"
    meta = dict(
        date=_dt.datetime.now().isoformat(timespec="seconds"),
        commit=commit, dirty=dirty,
        host=platform.node(), cpus=os.cpu_count(), jobs=jobs,
        duration_s=round(time.time() - t0, 1), targets=list(targets), formats=list(formats),
        workloads=[asdict(w) for w in workloads], wait_states=list(_spmv.WAIT_STATES),
        cycle_models=models, errors=sum(1 for r in rows if r.get("error")), kernels=len(rows))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "spmv_table.json").write_text(json.dumps(dict(meta=meta, rows=rows), indent=1) + "\n")
    (out / "spmv_table.md").write_text(write_markdown(rows, meta))
    if plot:
        generated = [r for r in rows if r.get("pattern") != "layer"]
        write_plot([r for r in generated if r.get("batch", 1) == 1], out / "spmv_speedup.png")
        spmm = [r for r in generated if r.get("batch", 1) > 1]
        if spmm:
            write_plot(spmm, out / "spmm_speedup.png", "SpMM")
    return rows, meta


# ----------------------------------------------------------------------------- markdown
def _n(v) -> str:
    return "-" if v is None else f"{v:,}"


def _x(v) -> str:
    return "-" if v is None else f"{v:.2f}x"


_FMT_ORDER = {"dense": 0, "csr": 1, "dcsr": 2, "gs": 4, "nm": 3, "sparsifier": 5, "structured": 6,
              "iree": 7}


def _sort_key(r: dict):
    return (r.get("pattern") == "layer", r.get("batch", 1), r.get("rows", 0), r.get("cols", 0), r.get("pattern") != "magnitude"
            and not str(r.get("pattern", "")).startswith("gs"),
            r.get("sparsity", 0), _FMT_ORDER.get(str(r.get("format")).split(":")[0], 9),
            str(r.get("format")))


def write_markdown(rows: Sequence[dict], meta: dict) -> str:
    lines = [
        "# SpMV and SpMM benchmark (mcusparse bench table)",
        "",
        f"Run {meta.get('date')} at commit `{str(meta.get('commit'))[:12]}`"
        f"{' (uncommitted changes)' if meta.get('dirty') else ''}, "
        f"{meta.get('duration_s')} s, {meta.get('kernels')} kernels, "
        f"{meta.get('errors')} errors. Method: shared/MEASURE.md; "
        "int8 x int8 -> int32, seed 23; every output checked against numpy. "
        "Workloads `... xN cols` are SpMM with N input columns.",
        "",
        "Columns: `instr` executed instructions between the markers; `x dense` dense "
        "instructions / these (same matrix, same run); `w bytes` bytes loaded from the weight "
        "section; `bound` dense / these weight bytes (the memory-traffic bound on speedup); "
        "`of bound` speedup / bound; `model 0ws` / `model 4ws` modeled cycles (llvm-mca core "
        "cycles + wait states x 8-byte weight transactions; an estimate) and their ratio to "
        "dense; `flash` packed weights + metadata + kernel .text.",
        "",
        "Cycle models: " + "; ".join(f"{t}: {m}" for t, m in meta.get("cycle_models", {}).items()),
        "",
    ]
    for target in meta.get("targets", sorted({r["target"] for r in rows})):
        trs = sorted((r for r in rows if r["target"] == target), key=_sort_key)
        if not trs:
            continue
        lines += [f"## {target}", "",
                  "| workload | format | nnz | instr | x dense | w bytes | bound | of bound "
                  "| model 0ws | x | model 4ws | x | flash (dense) | ok |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in trs:
            fmt = r["format"]
            if str(r.get("pattern", "")).startswith("gs:") and r.get("pattern") != fmt:
                fmt += f" ({r['pattern']})"
            if r.get("error"):
                lines.append(f"| {r.get('workload', '')} | {fmt} | {_n(r.get('nnz'))} | "
                             f"**ERROR** | | | | | | | | | | {r['error'][:160].splitlines()[0]} |")
                continue
            lines.append(
                f"| {r['workload']} | {fmt} | {_n(r['nnz'])} | {_n(r['instructions'])} | "
                f"{_x(r['speedup'])} | {_n(r['weight_bytes_read'])} | {_x(r['traffic_bound'])} | "
                f"{'-' if r.get('bound_fraction') is None else format(r['bound_fraction'], '.0%')} | "
                f"{_n(r['modeled_cycles_ws0'])} | {_x(r['modeled_speedup_ws0'])} | "
                f"{_n(r['modeled_cycles_ws4'])} | {_x(r['modeled_speedup_ws4'])} | "
                f"{_n(r['flash_bytes'])} ({_n(r['dense_flash_bytes'])}) | yes |")
        lines.append("")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- plot
def write_plot(rows: Sequence[dict], path: "str | Path", kind: str = "SpMV") -> Path:
    """Speedup (instructions) vs sparsity, one panel per target, one colour per format
    (SpMM: one marker per number of input columns)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if not r.get("error") and r.get("speedup")]
    targets = [t for t in dict.fromkeys(r["target"] for r in rows)]
    fig, axes = plt.subplots(1, max(1, len(targets)), figsize=(5.2 * max(1, len(targets)), 4.4),
                             squeeze=False, sharey=True)
    colours = {}
    palette = plt.get_cmap("tab10").colors
    styles = {(256, 256): ("-", "o"), (512, 1024): ("--", "s"), (64, 64): ("", "*")}
    for ax, target in zip(axes[0], targets):
        series: Dict[Tuple[str, Tuple[int, int], int], List[Tuple[float, float]]] = {}
        for r in ok:
            if r["target"] != target or r["format"] == "dense":
                continue
            fmt = r["format"]
            pat = str(r.get("pattern", ""))
            if pat.startswith("nm:") and not fmt.startswith("nm:"):
                continue                       # CSR etc. of N:M matrices: table only
            name = "nm:N:M" if fmt.startswith("nm:") else fmt
            series.setdefault((name, (r["rows"], r["cols"]), r.get("batch", 1)), []).append(
                (r["actual_sparsity"], r["speedup"]))
        for (name, shape, batch), pts in sorted(series.items()):
            pts.sort()
            if name not in colours:
                colours[name] = palette[len(colours) % len(palette)]
            ls, mk = styles.get(shape, (":", "^"))
            mk = {1: mk, 16: "o", 64: "D"}.get(batch, "^")
            times = f" x{batch} cols" if batch > 1 else ""
            ax.plot([p[0] * 100 for p in pts], [p[1] for p in pts], linestyle=ls or "none",
                    marker=mk, color=colours[name],
                    label=f"{name} {shape[0]}x{shape[1]}{times}",
                    markersize=9 if mk == "*" else 5)
        ax.axhline(1.0, color="grey", linewidth=0.8)
        ax.set_yscale("log")
        from matplotlib.ticker import FuncFormatter
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.yaxis.set_minor_formatter(FuncFormatter(
            lambda v, _: f"{v:g}" if f"{v:g}"[0] in "235" else ""))
        ax.set_title(target if kind == "SpMV" else f"{target}, {kind}")
        ax.set_xlabel("sparsity (%)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("speedup over dense (instructions)")
    handles, labels = [], []
    for ax in axes[0]:
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in labels:
                handles.append(h)
                labels.append(l)
    fig.legend(handles, labels, loc="lower center", ncol=min(6, max(1, len(labels))),
               fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.04 + 0.035 * ((len(labels) + 5) // 6), 1, 1))
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
