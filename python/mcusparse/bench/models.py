"""`mcusparse bench models`: whole pruned networks, dense against sparse (docs/benchmarks.md).

For each (model, target, format) of the workload list, `mcusparse.compiler.compare`
compiles the model twice (every layer on our dense kernels, and `format`, by
default `auto`), runs both on the target's emulator and LiteRT's reference
kernels on the same random inputs, and records flash, peak SRAM, instructions,
weight bytes read, modeled cycles at 0 and N wait states, the ratios and the
output agreement. Writes models_table.md, models_table.json and
models_speedup.png into the output directory.

The standard workloads are the dCSR paper's models in ../shared/models (DS-CNN
S and M keyword spotting on all three targets, MobileNetV2 on CIFAR-10 on
cortex-m55), the bundled digits networks (90 % by magnitude, and 1:8 N:M,
both fine-tuned), and the dense DS-CNN S pruned to N:M patterns by
`mcusparse.prune_model` (NM_PRUNED).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import List, Sequence, Tuple

from mcusparse.models import bundled

SHARED_MODELS = Path(os.environ.get("MCUSPARSE_SHARED_MODELS",
                                    Path(__file__).resolve().parents[3].parent / "shared" / "models"))

KWS = ["dense_s", "sparse_s_80", "sparse_s_90", "dense_m", "sparse_m_90"]
MOBILENET = ["mobilenetv2_cifar10_dense100", "mobilenetv2_cifar10_sparse90"]
# N:M patterns, the N:M paper's RISC-V case: the dense DS-CNN S pruned by
# `mcusparse prune --keep-first` ("model@pattern"; no fine-tuning, so these
# rows measure speed and size, not accuracy). DS-CNN M's 172 channels are no
# multiple of 8: only its fully connected layer would take the pattern.
NM_PRUNED = ["dense_s@nm:1:8", "dense_s@nm:1:16"]
WORKLOADS: List[Tuple[str, str]] = (
    [(m, "cortex-m55") for m in KWS + MOBILENET] + [(m, "rv32imc") for m in KWS]
    + [(m, "rv32gcv") for m in KWS]
    + [(d, t) for d in ("digits_sparse90", "digits_nm1_8")
       for t in ("cortex-m55", "rv32imc", "rv32gcv")]
    + [(m, t) for m in NM_PRUNED for t in ("rv32imc", "rv32gcv", "cortex-m55")])


def model_path(name: str, models_dir: Path = SHARED_MODELS) -> Path:
    """The .tflite of a workload; "model@pattern" is written once into build/pruned/."""
    if "@" in name:
        from mcusparse.prune_model import prune_model
        from mcusparse.targets import toolchain as _tc
        base, pattern = name.split("@", 1)
        src = model_path(base, models_dir)
        dst = _tc.build_root() / "pruned" / f"{_slug(name)}.tflite"
        if not dst.is_file() or dst.stat().st_mtime < src.stat().st_mtime:
            prune_model(src, dst, pattern, keep_first=True, progress=False)
        return dst
    if name.startswith("digits"):
        return bundled(f"{name}.tflite")
    return Path(models_dir) / f"{name}.tflite"


def _slug(name: str) -> str:
    return name.replace("@", "-").replace(":", "_")


def run_models(workloads: Sequence[Tuple[str, str]] = WORKLOADS, formats: Sequence[str] = ("auto",),
               models_dir: Path = SHARED_MODELS, out_dir: "str | Path" = "build/bench",
               samples: int = 3, wait_states: int = 4, progress: bool = True, log=None,
               weights_once: bool = False) -> List[dict]:
    """Dense against `formats` per workload (compiler.compare); weights_once adds
    the modeled cycles of both builds with dense layers reading each weight once
    (cortex-m55 rows)."""
    from mcusparse.compiler.compare import compare
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    todo = [(m, t, f) for m, t in workloads for f in formats]
    for i, (name, target, fmt) in enumerate(todo):
        path = model_path(name, models_dir)
        if log:
            log(f"[{i + 1}/{len(todo)}] {name} on {target}, dense vs {fmt}")
        t0 = time.time()
        try:
            r = compare(path, target, fmt, samples=samples, wait_states=wait_states,
                        out_root=out / "models" / f"{_slug(name)}-{target}", progress=progress,
                        weights_once=weights_once and target == "cortex-m55")
            r["name"], r["seconds"] = name, round(time.time() - t0, 1)
        except Exception as err:          # one failing model must not hide the others
            r = {"name": name, "model": path.name, "target": target, "format": fmt,
                 "error": f"{type(err).__name__}: {err}"}
        rows.append(r)
        (out / "models_table.json").write_text(json.dumps(rows, indent=1) + "\n")
    return rows


def _n(v) -> str:
    return f"{int(v):,}"


def _once_cell(r: dict, ws: int) -> str:
    o = r.get("weights_once")
    if not o:
        return "- | "
    return (f"{_n(o['dense'][f'modeled_cycles_{ws}'])} / {_n(o['sparse'][f'modeled_cycles_{ws}'])}"
            f", {o['speedup_modeled']:.2f}x | ")


def write_markdown(rows: Sequence[dict], wait_states: int = 4) -> str:
    ws = wait_states
    once = any("weights_once" in r for r in rows)
    head = ("| model | target | format | flash dense / sparse (B) | peak SRAM (B) | instructions "
            "dense / sparse | speedup (instr.) | weight bytes read dense / sparse | modeled cycles "
            f"0 ws dense / sparse | modeled {ws} ws dense / sparse | speedup ({ws} ws) | "
            + (f"modeled {ws} ws, dense layers reading weights once: dense / sparse, speedup | "
               if once else "")
            + f"sparse layers: share of dense, their speedup, bound ({ws} ws) | "
            "max diff vs LiteRT (dense, sparse) | differing elements | layer formats |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|" + ("---|" if once else "")
            + "---|---|---|---|\n")
    lines = []
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['name']} | {r['target']} | {r['format']} | error: "
                         f"{r['error'].splitlines()[0][:120]} " + "|" * (12 + once))
            continue
        d, s = r["dense"], r["sparse"]
        used = {}
        for f in s["layer_formats"]:
            used[f] = used.get(f, 0) + 1
        share = r.get("sparse_layers")
        amdahl = "-"
        if share:
            bound = share["bound_if_free"]
            amdahl = (f"{share['share_of_dense_model']:.0%}, {share['layer_speedup']:.2f}x, "
                      + (f"{bound:.2f}x" if bound else "none"))
        lines.append(
            f"| {r['name']} | {r['target']} | {r['format']} | {_n(d['flash_bytes'])} / "
            f"{_n(s['flash_bytes'])} | {_n(s['peak_sram_bytes'])} | {_n(d['instructions'])} / "
            f"{_n(s['instructions'])} | {r['speedup_instructions']:.2f}x | "
            f"{_n(d['weight_bytes_read'])} / {_n(s['weight_bytes_read'])} | "
            f"{_n(d['modeled_cycles_0'])} / {_n(s['modeled_cycles_0'])} | "
            f"{_n(d[f'modeled_cycles_{ws}'])} / {_n(s[f'modeled_cycles_{ws}'])} | "
            f"{r['speedup_modeled']:.2f}x | " + (_once_cell(r, ws) if once else "")
            + f"{amdahl} | {d['max_abs_diff']:g}, {s['max_abs_diff']:g} | "
            f"{d['differing_elements']}, {s['differing_elements']} of {s['output_elements']} | "
            + ", ".join(f"{k} x{v}" for k, v in used.items()) + " |")
    return head + "\n".join(lines) + "\n"


def write_plot(rows: Sequence[dict], path: "str | Path", wait_states: int = 4) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ok = [r for r in rows if "error" not in r]
    labels = [f"{r['name']}\n{r['target']}" for r in ok]
    series = [("instructions", [r["speedup_instructions"] for r in ok]),
              (f"modeled cycles, {wait_states} wait states", [r["speedup_modeled"] for r in ok]),
              ("flash", [r["flash_ratio"] for r in ok]),
              ("weight bytes read", [r["dense"]["weight_bytes_read"] /
                                     max(1, r["sparse"]["weight_bytes_read"]) for r in ok])]
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(ok)), 4.8))
    width = 0.8 / len(series)
    for i, (name, vals) in enumerate(series):
        ax.bar([x + (i - 1.5) * width for x in range(len(ok))], vals, width, label=name)
    # The whole-model bound if the sparse layers cost nothing (Amdahl), at
    # the modeled-cycles bar: how much of the model pruning can reach.
    bounds = [(x, (r.get("sparse_layers") or {}).get("bound_if_free")) for x, r in enumerate(ok)]
    bounds = [(x, b) for x, b in bounds if b]
    if bounds:
        ax.scatter([x - 0.5 * width for x, _ in bounds], [b for _, b in bounds], marker="_",
                   s=300, color="black", zorder=3,
                   label=f"bound with the sparse layers free ({wait_states} wait states)")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(ok)))
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("dense / sparse (higher is better)")
    ax.set_title("Whole models: our dense build vs per-layer auto formats")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def write_outputs(rows: Sequence[dict], out_dir: "str | Path", wait_states: int = 4,
                  plot: bool = True) -> None:
    out = Path(out_dir)
    (out / "models_table.md").write_text(write_markdown(rows, wait_states))
    (out / "models_table.json").write_text(json.dumps(list(rows), indent=1) + "\n")
    if plot:
        write_plot(rows, out / "models_speedup.png", wait_states)
