"""`mcusparse compare`: a model compiled dense and sparse, both run on the emulator
next to the reference interpreter on the same inputs, side by side.

The dense build uses our dense kernels for every layer (the best dense code we
generate); the sparse build uses `format` (default `auto`). Instructions,
weight bytes read and modeled cycles are those of the first input; output
agreement (max |difference|, elements that differ, top-1) covers all inputs.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from mcusparse import compiler
from mcusparse.compiler.reference import Reference, random_inputs


def _flatten_argmax(a: np.ndarray) -> int:
    return int(np.argmax(np.asarray(a).reshape(-1)))


def sparse_layer_share(report: dict, dense_model_cycles: int) -> Optional[dict]:
    """How much of the dense model the layers `auto` made sparse weigh (Amdahl).

    Uses the per-layer modeled cycles `auto` measured (layouts.py: each layer's
    matmul alone, dense and in the chosen format), against the dense model's
    modeled cycles at the same wait states. `bound_if_free` is the whole-model
    speedup if those layers cost nothing. None when no layer was made sparse
    by `auto` (explicit formats are not measured per layer)."""
    chosen = [l for l in report["layers"]
              if l["format"] != "dense" and "dense" in l.get("costs", {})
              and l["format"] in l["costs"]]
    if not chosen or dense_model_cycles <= 0:
        return None
    dense = sum(l["costs"]["dense"] for l in chosen)
    sparse = sum(l["costs"][l["format"]] for l in chosen)
    share = dense / dense_model_cycles
    return {"layers": len(chosen), "dense_cycles": dense, "sparse_cycles": sparse,
            "share_of_dense_model": share, "layer_speedup": dense / max(1, sparse),
            "bound_if_free": 1 / (1 - share) if share < 1 else None}


def compare(model_path, target: str = "cortex-m55", format: str = "auto", *,
            inputs: Optional[Sequence[Sequence[np.ndarray]]] = None, samples: int = 1,
            labels: Optional[Sequence[int]] = None, wait_states: int = 4,
            out_root: "str | Path | None" = None, progress: bool = True, log=None,
            weights_once: bool = False) -> dict:
    """Compile dense and `format`, run both and the reference; returns the table as a dict.

    inputs: a list of samples, each a list of arrays (one per model input); by
            default `samples` random inputs. labels: optional true classes of the
            samples (adds accuracy rows).
    weights_once: (cortex-m55) also compile both with dense_weights_once=True and
            compare their modeled cycles on the first input: the ratio at
            `wait_states` against the dense kernel that reads each weight once
            (the main columns' dense kernel has the fewest instructions)."""
    say = log or (lambda m: None)
    if weights_once and target != "cortex-m55":
        raise ValueError(f"weights_once: a choice between two dense kernels on cortex-m55 "
                         f"only, not {target} (rv32gcv's dense layers always read each "
                         f"weight once; rv32imc has no such kernel)")
    model_path = Path(model_path)
    root = Path(out_root) if out_root else Path("build") / "compare" / f"{model_path.stem}-{target}"
    builds = {}
    for name, fmt in (("dense", "dense"), ("sparse", format)):
        say(f"compiling {model_path.name} for {target}: {fmt}")
        builds[name] = compiler.compile_model(model_path, target, fmt,
                                              root / fmt.replace(":", "_"),
                                              wait_states=wait_states, progress=progress, log=say)
    specs = builds["dense"].inputs
    if inputs is None:
        inputs = [random_inputs(specs, seed=i) for i in range(samples)]
    ref = Reference(model_path)
    ref_outs = [ref(*x) for x in inputs]

    cols = {}
    for name, cm in builds.items():
        runs = []
        it = inputs
        if progress:
            from tqdm import tqdm
            it = tqdm(inputs, desc=f"running {name} on {target}", unit="input", leave=False)
        for x in it:
            runs.append(cm.run(*x))
        first = runs[0]
        diffs = [np.abs(r.outputs[0].astype(np.float64) - o[0].astype(np.float64).reshape(
            r.outputs[0].shape)) for r, o in zip(runs, ref_outs)]
        top1 = sum(_flatten_argmax(r.outputs[0]) == _flatten_argmax(o[0])
                   for r, o in zip(runs, ref_outs))
        col = {
            "format": cm.report["format"],
            "layer_formats": [l["format"] for l in cm.report["layers"]],
            "flash_bytes": cm.report["totals"]["flash_bytes"],
            "peak_sram_bytes": cm.report["totals"]["peak_sram_bytes"],
            "instructions": first.instructions,
            "weight_bytes_read": first.weight_bytes_read,
            "modeled_cycles_0": first.modeled_cycles(0),
            f"modeled_cycles_{wait_states}": first.modeled_cycles(wait_states),
            "max_abs_diff": float(max(d.max() for d in diffs)),
            "differing_elements": int(sum(int((d != 0).sum()) for d in diffs)),
            "output_elements": int(sum(d.size for d in diffs)),
            "top1_agreement": f"{top1}/{len(runs)}",
        }
        if labels is not None:
            col["accuracy"] = float(np.mean([_flatten_argmax(r.outputs[0]) == int(l)
                                             for r, l in zip(runs, labels)]))
        cols[name] = col
    if labels is not None:
        cols["reference_accuracy"] = float(np.mean([_flatten_argmax(o[0]) == int(l)
                                                    for o, l in zip(ref_outs, labels)]))
    d, s = cols["dense"], cols["sparse"]
    once = None
    if weights_once:
        once = {}
        for name, fmt in (("dense", "dense"), ("sparse", format)):
            say(f"compiling {model_path.name} for {target}: {fmt}, dense weights read once")
            cm = compiler.compile_model(model_path, target, fmt,
                                        root / (fmt.replace(":", "_") + "-weights-once"),
                                        wait_states=wait_states, dense_weights_once=True,
                                        progress=progress, log=say)
            run = cm.run(*inputs[0])
            once[name] = {"instructions": run.instructions,
                          f"modeled_cycles_{wait_states}": run.modeled_cycles(wait_states)}
        once["speedup_modeled"] = (once["dense"][f"modeled_cycles_{wait_states}"] /
                                   max(1, once["sparse"][f"modeled_cycles_{wait_states}"]))
    return {
        "model": model_path.name, "target": target, "format": format,
        "wait_states": wait_states, "samples": len(inputs), "reference": ref.name,
        "builds": {name: str(cm.out_dir) for name, cm in builds.items()},
        "dense": d, "sparse": s,
        "speedup_instructions": d["instructions"] / max(1, s["instructions"]),
        "speedup_modeled": d[f"modeled_cycles_{wait_states}"] /
        max(1, s[f"modeled_cycles_{wait_states}"]),
        "flash_ratio": d["flash_bytes"] / max(1, s["flash_bytes"]),
        "sparse_layers": sparse_layer_share(builds["sparse"].report,
                                            d[f"modeled_cycles_{wait_states}"]),
        **({"reference_accuracy": cols["reference_accuracy"]} if labels is not None else {}),
        **({"weights_once": once} if once else {}),
    }


def format_table(r: dict) -> str:
    ws = r["wait_states"]
    d, s = r["dense"], r["sparse"]
    rows: List[tuple] = [
        ("flash bytes", d["flash_bytes"], s["flash_bytes"], d["flash_bytes"] / max(1, s["flash_bytes"])),
        ("peak SRAM bytes", d["peak_sram_bytes"], s["peak_sram_bytes"],
         d["peak_sram_bytes"] / max(1, s["peak_sram_bytes"])),
        ("instructions", d["instructions"], s["instructions"], r["speedup_instructions"]),
        ("weight bytes read", d["weight_bytes_read"], s["weight_bytes_read"],
         d["weight_bytes_read"] / max(1, s["weight_bytes_read"])),
        ("modeled cycles, 0 wait states", d["modeled_cycles_0"], s["modeled_cycles_0"],
         d["modeled_cycles_0"] / max(1, s["modeled_cycles_0"])),
        (f"modeled cycles, {ws} wait states", d[f"modeled_cycles_{ws}"], s[f"modeled_cycles_{ws}"],
         r["speedup_modeled"]),
        (f"max |output - {r['reference'].split(' ')[0]}|", d["max_abs_diff"], s["max_abs_diff"], None),
        ("differing output elements", f"{d['differing_elements']}/{d['output_elements']}",
         f"{s['differing_elements']}/{s['output_elements']}", None),
        ("top-1 agreement with reference", d["top1_agreement"], s["top1_agreement"], None),
    ]
    if "accuracy" in d:
        rows.append(("accuracy (labels)", f"{d['accuracy']:.1%}", f"{s['accuracy']:.1%}", None))
        rows.append(("reference accuracy", f"{r['reference_accuracy']:.1%}", "", None))
    once = r.get("weights_once")
    if once:
        # Both builds again with the dense kernel that reads each weight once,
        # under the row it qualifies.
        at = next(i for i, row in enumerate(rows) if row[0].startswith(f"modeled cycles, {ws} "))
        rows.insert(at + 1, ("  ... dense layers reading weights once",
                             once["dense"][f"modeled_cycles_{ws}"],
                             once["sparse"][f"modeled_cycles_{ws}"], once["speedup_modeled"]))

    def fmt(v):
        if isinstance(v, float) and not v.is_integer():
            return f"{v:.3g}"
        if isinstance(v, (int, float)):
            return f"{int(v):,}"
        return str(v)

    head = (f"{r['model']} on {r['target']} ({r['samples']} input(s); reference: "
            f"{r['reference']})\n")
    w0 = max(len(x[0]) for x in rows) + 2
    lines = [f"{'':<{w0}}{'dense (ours)':>16}{'sparse (' + r['format'] + ')':>20}{'dense/sparse':>14}"]
    for name, a, b, ratio in rows:
        lines.append(f"{name:<{w0}}{fmt(a):>16}{fmt(b):>20}"
                     f"{(f'{ratio:.2f}x' if ratio is not None else ''):>14}")
    formats_used = {}
    for f in s["layer_formats"]:
        formats_used[f] = formats_used.get(f, 0) + 1
    lines.append("sparse layer formats: " + ", ".join(f"{k} x{v}" for k, v in formats_used.items()))
    share = r.get("sparse_layers")
    if share:
        bound = share["bound_if_free"]
        lines.append(
            f"the {share['layers']} sparse layer(s), measured alone: "
            f"{share['share_of_dense_model']:.0%} of the dense model's modeled cycles at {ws} "
            f"wait states, {share['layer_speedup']:.2f}x faster sparse; the model's bound with "
            f"them free: " + (f"{bound:.2f}x" if bound else "none"))
    return head + "\n".join(lines)
