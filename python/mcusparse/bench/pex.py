"""The memory planner's options against none: peak SRAM, code, instructions.

For each model and target, `run` compiles the model once per Pex budget (`pex_peak_bytes`;
0 runs every chain whole) and accumulator tile (`tile_pixels`; 0: whole), runs every build
on the same random inputs next to the reference interpreter, and reports the activation
arena, peak SRAM, .text, instructions and modeled cycles, each against the build with
neither. `table` prints the markdown table; `write_plot` draws peak SRAM per build.

    mcusparse bench pex [--models NAME,...] [--budgets 0,384K,1] [--tile-pixels 0,48]
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np

from mcusparse.bench.models import SHARED_MODELS, model_path

# MobileNetV2 is the Pex paper's model family; the KWS models' chains keep an int32
# accumulator as large as the expansion, so partial execution leaves them whole.
DEFAULT_WORKLOADS: List[Tuple[str, str]] = [
    ("mobilenetv2_cifar10_sparse90", "cortex-m55"),
    ("mobilenetv2_cifar10_dense100", "cortex-m55"),
    ("sparse_m_90", "cortex-m55"), ("sparse_s_90", "cortex-m55"),
    ("digits_sparse90", "rv32imc")]
# 1: every chain as low as it goes (the budget never goes below the lowest chain peak).
DEFAULT_BUDGETS = [0, 384 * 1024, 256 * 1024, 1]
DEFAULT_TILES = [0, 48]


def _kib(n: int) -> str:
    return "off" if n == 0 else "lowest" if n == 1 else f"{n // 1024}K"


def _label(r: dict) -> str:
    tile = f", tiles of {r['tile_pixels']}" if r.get("tile_pixels") else ""
    return f"Pex {_kib(r['budget'])}{tile}"


def run(workloads: Sequence[Tuple[str, str]] = DEFAULT_WORKLOADS,
        budgets: Sequence[int] = DEFAULT_BUDGETS, tiles: Sequence[int] = DEFAULT_TILES,
        fmt: str = "dense",
        models_dir: Path = SHARED_MODELS, out_dir: "str | Path" = "build/bench/pex",
        samples: int = 2, wait_states: int = 4, log=None) -> List[dict]:
    from mcusparse import compiler
    from mcusparse.compiler.reference import Reference, random_inputs
    # The build with neither is the baseline; every tile runs without Pex too.
    budgets = [0] + [b for b in budgets if b != 0]
    configs = [(0, 0)] + [(b, t) for t in tiles for b in budgets if (b, t) != (0, 0)]
    rows: List[dict] = []
    todo = [(m, t, c) for m, t in workloads for c in configs]
    for i, (name, target, (budget, tile)) in enumerate(todo):
        path = model_path(name, models_dir)
        row = {"model": name, "target": target, "format": fmt, "budget": budget,
               "tile_pixels": tile}
        if log:
            log(f"[{i + 1}/{len(todo)}] {name} on {target}, {fmt}, {_label(row)}")
        t0 = time.time()
        try:
            cm = compiler.compile_model(path, target, fmt,
                                        Path(out_dir) / f"{name}-{target}-{budget}-{tile}",
                                        wait_states=wait_states, pex_peak_bytes=budget,
                                        tile_pixels=tile, progress=False)
            ref = Reference(path)
            differing = 0
            for seed in range(samples):
                xs = random_inputs(cm.inputs, seed=seed)
                res = cm.run(*xs)
                if seed == 0:
                    first = res
                differing += sum(int(np.sum(np.asarray(a) != np.asarray(b)))
                                 for a, b in zip(res.outputs, ref(*xs)))
            totals = cm.report["totals"]
            row.update(arena_bytes=totals["arena_bytes"], peak_sram_bytes=totals["peak_sram_bytes"],
                       text_bytes=totals["text_bytes"], flash_bytes=totals["flash_bytes"],
                       instructions=first.instructions,
                       modeled_cycles=first.modeled_cycles(wait_states),
                       differing_outputs=differing, samples=samples)
        except Exception as err:          # one failing build must not hide the others
            row["error"] = f"{type(err).__name__}: {err}"
        row["seconds"] = round(time.time() - t0, 1)
        rows.append(row)
    _add_ratios(rows)
    return rows


def _add_ratios(rows: List[dict]) -> None:
    """Each row against the build with neither (no Pex, no tiles) of its model and target."""
    base = {(r["model"], r["target"]): r for r in rows
            if r["budget"] == 0 and r["tile_pixels"] == 0 and "error" not in r}
    for r in rows:
        b = base.get((r["model"], r["target"]))
        if b is None or "error" in r:
            continue
        r["peak_sram_reduction"] = round(b["peak_sram_bytes"] / r["peak_sram_bytes"], 2)
        r["arena_reduction"] = round(b["arena_bytes"] / max(1, r["arena_bytes"]), 2)
        r["text_growth"] = round(r["text_bytes"] / b["text_bytes"], 2)
        r["instructions_ratio"] = round(r["instructions"] / b["instructions"], 3)
        r["modeled_cycles_ratio"] = round(r["modeled_cycles"] / b["modeled_cycles"], 3)


def all_correct(rows: Sequence[dict]) -> bool:
    return all("error" not in r and r["differing_outputs"] == 0 for r in rows)


def table(rows: Sequence[dict], wait_states: int = 4) -> str:
    head = ("| model | target | format | Pex budget | tile pixels | arena (B) | peak SRAM (B) "
            "| peak SRAM reduction | .text (B) | .text growth | instructions | vs neither "
            f"| modeled cycles {wait_states} ws | vs neither | differing outputs |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['target']} | {r['format']} | {_kib(r['budget'])} "
                         f"| {r['tile_pixels'] or 'whole'} "
                         f"| error: {r['error'].splitlines()[0]} |" + " |" * 9)
            continue
        lines.append(
            f"| {r['model']} | {r['target']} | {r['format']} | {_kib(r['budget'])} "
            f"| {r['tile_pixels'] or 'whole'} "
            f"| {r['arena_bytes']:,} | {r['peak_sram_bytes']:,} | {r['peak_sram_reduction']:.2f}x "
            f"| {r['text_bytes']:,} | {r['text_growth']:.2f}x | {r['instructions']:,} "
            f"| {r['instructions_ratio']:.3f} | {r['modeled_cycles']:,} "
            f"| {r['modeled_cycles_ratio']:.3f} | {r['differing_outputs']} of "
            f"{r['samples']} runs |")
    return head + "\n".join(lines)


def write_plot(rows: Sequence[dict], path: "str | Path") -> None:
    """Peak SRAM and .text per build, one line per model and target."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ok = [r for r in rows if "error" not in r]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key in dict.fromkeys((r["model"], r["target"]) for r in ok):
        rs = [r for r in ok if (r["model"], r["target"]) == key]
        labels = [_label(r).replace("Pex ", "").replace(", tiles of ", "\n+tiles ")
                  for r in rs]
        name = f"{key[0]} ({key[1]})"
        ax1.plot(labels, [r["peak_sram_bytes"] / 1024 for r in rs], marker="o", label=name)
        ax2.plot(labels, [r["text_bytes"] / 1024 for r in rs], marker="o", label=name)
    ax1.set_ylabel("peak SRAM (KiB)")
    ax1.set_yscale("log")
    ax2.set_ylabel(".text (KiB)")
    for ax in (ax1, ax2):
        ax.set_xlabel("Pex budget (pex-peak-bytes), + accumulator tiles (tile-pixels)")
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(alpha=0.3)
    ax1.set_title("peak SRAM: arena + inputs + outputs")
    ax2.set_title("code: Pex slices are unrolled")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
