"""`mcusparse bench ...`: SpMV and SpMM benchmarks against our dense kernel (docs/benchmarks.md)."""
from __future__ import annotations

import argparse
import json
import sys


def _csv(text: str):
    return [t.strip() for t in text.split(",") if t.strip()]


def _sizes(text: str):
    out = []
    for t in _csv(text):
        r, _, c = t.lower().partition("x")
        out.append((int(r), int(c)))
    return out


def _nm(text: str):
    out = []
    for t in _csv(text):
        n, _, m = t.partition(":")
        out.append((int(n), int(m)))
    return out


def _row(args: argparse.Namespace) -> int:
    """`bench spmv` and `bench spmm` (the latter has --batch)."""
    from mcusparse.bench import spmv
    options = dict(wait_states=args.wait_states, timeout=args.timeout)
    if getattr(args, "batch", None) is None:
        row = spmv.bench_spmv(args.target, args.format, args.rows, args.cols, args.sparsity,
                              args.seed, **options)
    else:
        row = spmv.bench_spmm(args.target, args.format, args.rows, args.cols, args.sparsity,
                              args.batch, args.seed, **options)
    print(json.dumps(row, indent=None if args.compact else 1) if args.json
          else spmv.format_row(row))
    return 0 if row["correct"] else 2


def _table(args: argparse.Namespace) -> int:
    from mcusparse.bench import table
    workloads = table.standard_workloads(
        sizes=_sizes(args.sizes) if args.sizes is not None else table.SIZES,
        sparsities=[float(s) for s in _csv(args.sparsities)] if args.sparsities is not None
        else table.SPARSITIES,
        nm_patterns=_nm(args.nm) if args.nm is not None else table.NM_PATTERNS,
        paper=not args.no_paper,
        batches=[int(b) for b in _csv(args.batches)] if args.batches is not None
        else table.BATCHES, layers=not args.no_layers)
    rows, meta = table.run_table(targets=_csv(args.targets), formats=_csv(args.formats),
                                 workloads=workloads, out_dir=args.out, jobs=args.jobs,
                                 progress=not args.quiet, plot=not args.no_plot)
    print(f"{meta['kernels']} kernels, {meta['errors']} errors, {meta['duration_s']} s; "
          f"wrote {args.out}/spmv_table.md, spmv_table.json"
          + ("" if args.no_plot else ", spmv_speedup.png"
             + (", spmm_speedup.png" if any(r.get("batch", 1) > 1 for r in rows) else "")))
    for r in rows:
        if r.get("error"):
            print(f"error: {r['target']} {r['format']} {r.get('workload', '')}: "
                  f"{r['error'].splitlines()[0]}", file=sys.stderr)
    return 0 if not meta["errors"] else 2


def _selected(workloads, args: argparse.Namespace):
    """The (model, target) workloads that --models and --targets keep."""
    if args.models:
        workloads = [(m, t) for m, t in workloads if m in _csv(args.models)]
    if args.targets:
        workloads = [(m, t) for m, t in workloads if t in _csv(args.targets)]
    return workloads


def _models(args: argparse.Namespace) -> int:
    from pathlib import Path
    from mcusparse.bench import models
    workloads = _selected(models.WORKLOADS, args)
    models_dir = Path(args.models_dir) if args.models_dir else models.SHARED_MODELS
    rows = models.run_models(workloads, _csv(args.formats), models_dir, args.out,
                             samples=args.samples, wait_states=args.wait_states,
                             progress=not args.quiet, weights_once=args.dense_weights_once,
                             log=None if args.quiet else lambda m: print(m, file=sys.stderr,
                                                                         flush=True))
    models.write_outputs(rows, args.out, args.wait_states, plot=not args.no_plot)
    print(models.write_markdown(rows, args.wait_states))
    errors = [r for r in rows if "error" in r]
    for r in errors:
        print(f"error: {r['name']} {r['target']} {r['format']}: {r['error']}", file=sys.stderr)
    return 2 if errors else 0


def _kernel_arguments(parser: argparse.ArgumentParser, formats_help: str) -> None:
    """The options `bench spmv` and `bench spmm` share."""
    parser.add_argument("--target", default="cortex-m55")
    parser.add_argument("--format", default="csr", help=formats_help)
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--cols", type=int, default=256)
    parser.add_argument("--sparsity", type=float, default=0.9,
                        help="fraction of zeros (ignored by nm:N:M, which fixes it)")
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--wait-states", type=int, default=4,
                        help="for `modeled_cycles` (0 and 4 are always reported too)")
    parser.add_argument("--timeout", type=float, default=120.0, help="emulator time limit (s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--compact", action="store_true", help="JSON on one line")


def _cse(args: argparse.Namespace) -> int:
    import json
    from mcusparse.bench import cse
    workloads = [w for w in cse.DEFAULT_WORKLOADS if not args.quick or w[0] <= 256]
    targets = [t for t in args.targets.split(",") if t]
    rows = cse.run(workloads, args.models, progress=not args.quiet, targets=targets)
    print(json.dumps(rows, indent=1) if args.json else cse.table(rows))
    return 0 if cse.all_correct(rows) else 2


def _pex(args: argparse.Namespace) -> int:
    from pathlib import Path
    from mcusparse.bench import pex
    from mcusparse.compiler.cli import _byte_count
    workloads = _selected(pex.DEFAULT_WORKLOADS, args)
    budgets = [_byte_count(b) for b in _csv(args.budgets)]
    tiles = [int(t) for t in _csv(args.tile_pixels)]
    out = Path(args.out)
    rows = pex.run(workloads, budgets, tiles, args.format,
                   Path(args.models_dir) if args.models_dir else pex.SHARED_MODELS, out,
                   samples=args.samples, wait_states=args.wait_states,
                   log=None if args.quiet else lambda m: print(m, file=sys.stderr, flush=True))
    out.mkdir(parents=True, exist_ok=True)
    (out / "pex.json").write_text(json.dumps(rows, indent=1) + "\n")
    md = pex.table(rows, args.wait_states)
    (out / "pex.md").write_text(md + "\n")
    if not args.no_plot:
        pex.write_plot(rows, out / "pex_sram.png")
    print(json.dumps(rows, indent=1) if args.json else md)
    print(f"wrote {out}/pex.json, pex.md" + ("" if args.no_plot else ", pex_sram.png"),
          file=sys.stderr)
    for r in rows:
        if "error" in r:
            print(f"error: {r['model']} {r['target']} budget {r['budget']}: {r['error']}",
                  file=sys.stderr)
    return 0 if pex.all_correct(rows) else 2


def register(subparsers) -> None:
    """Add the `bench` command group to the top-level parser's sub-parsers."""
    group = subparsers.add_parser("bench", help="SpMV and SpMM benchmarks: instructions, weight "
                                  "traffic, modeled cycles, flash, against dense")
    commands = group.add_subparsers(dest="bench_command", required=True)

    sp = commands.add_parser("spmv", help="one matrix, one format, one target (and its dense "
                             "baseline)")
    _kernel_arguments(sp, "dense, csr, csr:8, dcsr, dcsr:16:8, nm:N:M, gs:V, sparsifier, "
                          "sparsifier:llc (the peer built by llc alone; cortex-m55), "
                          "structured:N:M (upstream's N:M peer) or iree (IREE's dense code)")
    sp.set_defaults(func=_row)

    mm = commands.add_parser("spmm", help="W times X with --batch columns: one matrix, one "
                             "format, one target (and its dense baseline)")
    _kernel_arguments(mm, "dense, csr, csr:8, dcsr, dcsr:16:8, nm:N:M or gs:V")
    mm.add_argument("--batch", type=int, default=16, help="input columns of X")
    mm.set_defaults(func=_row)

    from mcusparse.bench import table as _t
    tb = commands.add_parser("table", help="the standard workloads of MEASURE.md: markdown, "
                             "JSON and a PNG plot")
    tb.add_argument("--targets", default=",".join(_t.DEFAULT_TARGETS))
    tb.add_argument("--formats", default=",".join(_t.DEFAULT_FORMATS),
                    help="comma-separated; 'nm' = each N:M workload's own pattern, "
                    "'structured' = the same as upstream structured[N, M], 'iree' = IREE's "
                    "dense code")
    tb.add_argument("--sizes", default=None, help="e.g. 256x256,512x1024 (default both)")
    tb.add_argument("--sparsities", default=None, help="e.g. 0.9,0.95 (default 0.5..0.95)")
    tb.add_argument("--nm", default=None, help="N:M patterns, e.g. 1:8,1:16 ('' for none)")
    tb.add_argument("--no-paper", action="store_true", help="skip the 64x64 @ 80 %% case")
    tb.add_argument("--batches", default=None,
                    help="SpMM input columns, e.g. 16,64 (the default; '' for no SpMM)")
    tb.add_argument("--no-layers", action="store_true",
                    help="skip the layers of the shared models (bench/layers.py)")
    tb.add_argument("--out", default="build/bench", help="output directory")
    tb.add_argument("--jobs", type=int, default=1, help="worker processes")
    tb.add_argument("--quiet", action="store_true", help="no progress bar")
    tb.add_argument("--no-plot", action="store_true")
    tb.set_defaults(func=_table)

    cs = commands.add_parser("cse", help="CSE-CSR against CSR: bytes, multiplies and search "
                             "time on low-bit matrices (and model weights)")
    cs.add_argument("--models", nargs="*", default=[], help=".tflite files whose int8 "
                    "weights to add")
    cs.add_argument("--quick", action="store_true", help="only the 256x256 matrices")
    cs.add_argument("--targets", default="rv32imc,cortex-m55,rv32gcv",
                    help="run the csr and cse-csr kernels of matrices up to 256 rows on "
                    "these targets ('' for none)")
    cs.add_argument("--json", action="store_true", help="print the rows as JSON")
    cs.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    cs.set_defaults(func=_cse)

    px = commands.add_parser("pex", help="the memory planner: peak SRAM, code and "
                             "instructions of whole models per Pex budget and accumulator "
                             "tile, against neither")
    px.add_argument("--models", help="comma-separated model names (default: MobileNetV2 "
                    "dense and 90 %%, DS-CNN M and S 90 %%, digits)")
    px.add_argument("--targets", help="comma-separated targets (default: all workloads)")
    px.add_argument("--budgets", default="0,384K,256K,1",
                    help="pex-peak-bytes values (0: whole chains; 1: as low as the "
                         "chains go)")
    px.add_argument("--tile-pixels", default="0,48",
                    help="tile-pixels values (0: whole int32 results); every budget runs "
                         "with every tile, and the build with neither is the baseline")
    px.add_argument("--format", default="dense", help="the layers' format (default dense)")
    px.add_argument("--models-dir", default=None,
                    help="the dCSR paper's .tflite models (default: ../shared/models, or "
                         "$MCUSPARSE_SHARED_MODELS)")
    px.add_argument("--samples", type=int, default=2, help="random inputs per build")
    px.add_argument("--wait-states", type=int, default=4)
    px.add_argument("--out", default="build/bench/pex")
    px.add_argument("--json", action="store_true", help="print the rows as JSON")
    px.add_argument("--no-plot", action="store_true")
    px.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    px.set_defaults(func=_pex)

    mp = commands.add_parser("models", help="whole pruned models, dense vs sparse, on the "
                             "emulators (against LiteRT)")
    mp.add_argument("--models", help="comma-separated model names (default: all workloads)")
    mp.add_argument("--targets", help="comma-separated targets (default: all workloads)")
    mp.add_argument("--formats", default="auto")
    mp.add_argument("--models-dir", default=None,
                    help="the dCSR paper's .tflite models (default: ../shared/models, or "
                         "$MCUSPARSE_SHARED_MODELS)")
    mp.add_argument("--samples", type=int, default=3, help="random inputs per model")
    mp.add_argument("--wait-states", type=int, default=4)
    mp.add_argument("--out", default="build/bench")
    mp.add_argument("--no-plot", action="store_true")
    mp.add_argument("--dense-weights-once", action="store_true",
                    help="cortex-m55: also the modeled cycles of both builds with dense layers "
                         "reading each weight once (a column of the table)")
    mp.add_argument("-q", "--quiet", action="store_true")
    mp.set_defaults(func=_models)
