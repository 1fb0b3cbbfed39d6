"""`mcusparse compile | run | profile | compare`: whole models on the emulated MCUs."""
from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

import numpy as np


def _log(msg: str) -> None:
    print(f"[mcusparse] {msg}", file=sys.stderr, flush=True)


def _compile(args: argparse.Namespace) -> int:
    from mcusparse import compiler
    cm = compiler.compile_model(args.model, args.target, args.format, args.output,
                                wait_states=args.wait_states,
                                pex_peak_bytes=args.pex_peak_bytes,
                                tile_pixels=args.tile_pixels,
                                dense_weights_once=args.dense_weights_once,
                                progress=not args.quiet, log=None if args.quiet else _log)
    t = cm.report["totals"]
    print(f"{cm.report['model']} -> {cm.out_dir}/ for {cm.target}")
    print(f"{'layer':<34}{'op':<18}{'format':<10}{'bytes':>10}{'dense':>10}{'MACs':>12}")
    for l in cm.report["layers"]:
        print(f"{l['name'][:33]:<34}{l['op']:<18}{l['format']:<10}{l['bytes']:>10,}"
              f"{l['dense_bytes']:>10,}{l['macs']:>12,}")
    print(f"flash {t['flash_bytes']:,} B (weights section {t['weights_section_bytes']:,}, "
          f"text {t['text_bytes']:,}, rodata {t['rodata_bytes']:,}); peak SRAM "
          f"{t['peak_sram_bytes']:,} B (arena {t['arena_bytes']:,}, inputs+outputs "
          f"{t['io_bytes']:,}"
          + (f", kernel scratch {t['scratch_bytes']:,}" if t.get("scratch_bytes") else "")
          + ")")
    peak = t.get("arena_peak")
    if peak:
        print("arena peak: " + " + ".join(
            f"{b['type']} ({b['bytes']:,} B)" for b in peak))
    where = cm.report.get("placement", {})
    if where:
        print(f"weights in {where['weights']}, activation arena in {where['arena']}")
    return 0


def _byte_count(text: str) -> int:
    """A byte count such as 32768, 32K or 1M (K = 1024)."""
    scale = {"K": 1024, "M": 1024 * 1024}.get(text[-1:].upper(), 1)
    digits = text[:-1] if scale > 1 else text
    if not digits.isdigit():
        raise argparse.ArgumentTypeError(f"not a byte count: {text!r} (e.g. 32768, 32K, 1M)")
    return int(digits) * scale


def _load_input(path: str):
    try:
        if path.endswith(".npz"):
            with np.load(path) as z:
                return [z[k] for k in z.files]
        return [np.load(path)]
    except FileNotFoundError:
        raise ValueError(f"--input {path}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"--input {path}: not a readable .npy / .npz file ({err})") from None


def _is_build_file(path: Path, out_dir: Path) -> bool:
    """One of the files `mcusparse compile` wrote into out_dir."""
    if path == out_dir:
        return True
    if out_dir not in path.parents:
        return False
    rel = path.relative_to(out_dir)
    return (rel.parts[0] == "programs" or rel.name == "report.json"
            or rel.name.startswith("model.") or rel.suffix == ".mlir")


def _check_output(option: str, path: str, args: argparse.Namespace) -> None:
    """An output file must not be one of the command's inputs: the model or
    --input file, or a file of a compiled model (OUT, --against)."""
    target = Path(path).resolve()
    files = [Path(f).resolve() for f in (getattr(args, "input", None),
                                         getattr(args, "model", None)) if f]
    dirs = [Path(d).resolve() for d in (getattr(args, "out_dir", None),
                                        getattr(args, "against", None)) if d]
    if target in files or any(_is_build_file(target, d) for d in dirs):
        raise ValueError(f"{option} {path}: that is an input of this command; "
                         "not overwriting it")


def _check_save(path: str, args: argparse.Namespace) -> None:
    """--save writes arr_0, arr_1, ... (np.savez, which adds .npz): an existing
    file is replaced only if it holds just such arrays (an earlier --save)."""
    final = Path(path if path.endswith(".npz") else path + ".npz")
    if args.input and final.resolve() == Path(args.input).resolve():
        raise ValueError(f"--save {final}: that is the --input file; not overwriting it")
    if not final.exists():
        return
    try:
        with np.load(final) as z:
            names = list(z.files)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        names = None
    if names is None or names != [f"arr_{i}" for i in range(len(names))]:
        raise ValueError(f"--save {final}: exists and is not an earlier --save output "
                         f"(arrays {names}); not overwriting it")


def _model_inputs(args: argparse.Namespace, cm) -> list:
    """--input's arrays, or random ones for the compiled model's inputs (--seed)."""
    if args.input:
        return _load_input(args.input)
    from mcusparse.compiler.reference import random_inputs
    return random_inputs(cm.inputs, seed=args.seed)


def _run(args: argparse.Namespace) -> int:
    from mcusparse import compiler
    cm = compiler.load(args.out_dir)
    if args.save:
        _check_save(args.save, args)
    inputs = _model_inputs(args, cm)
    res = cm.run(*inputs, timeout=args.timeout)
    np.set_printoptions(threshold=64, linewidth=100)
    for spec, out in zip(cm.outputs, res.outputs):
        print(f"output {spec.name} {out.dtype}{list(out.shape)}:\n{out}")
    print(f"instructions {res.instructions:,}; weight bytes read {res.weight_bytes_read:,}; "
          f"modeled cycles {res.modeled_cycles(0):,} (0 wait states), "
          f"{res.modeled_cycles(args.wait_states):,} ({args.wait_states} wait states)")
    if args.save:
        np.savez(args.save, *res.outputs)
    return 0


def _profile(args: argparse.Namespace) -> int:
    from mcusparse import compiler
    from mcusparse.compiler import profile
    for option in ("json", "plot"):
        if getattr(args, option):
            _check_output(f"--{option}", getattr(args, option), args)
    inputs = _model_inputs(args, compiler.load(args.out_dir))
    p = profile.profile(args.out_dir, *inputs, wait_states=args.wait_states,
                        timeout=args.timeout)
    other = None
    if args.against:
        other = profile.profile(args.against, *inputs, wait_states=args.wait_states,
                                timeout=args.timeout)
        names = (Path(args.against).name, Path(args.out_dir).name)
        print(profile.format_comparison(other, p, names))
    else:
        print(profile.format_table(p))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(p.to_json() if other is None else
                      {"builds": [other.to_json(), p.to_json()]}, f, indent=1)
    if args.plot:
        if other is None:
            profile.plot(p, args.plot)
        else:
            profile.plot_comparison(other, p, args.plot, names)
        print(f"wrote {args.plot}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from mcusparse.compiler import compare
    if args.json:
        _check_output("--json", args.json, args)
    r = compare.compare(args.model, args.target, args.format, samples=args.samples,
                        wait_states=args.wait_states, progress=not args.quiet,
                        log=None if args.quiet else _log,
                        weights_once=args.dense_weights_once)
    print(compare.format_table(r))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=1)
    return 0


def _add_run_arguments(p: argparse.ArgumentParser) -> None:
    """What `run` and `profile` share: the compiled model and how to run it."""
    p.add_argument("out_dir", metavar="OUT")
    p.add_argument("--input", help=".npy (one input) or .npz (one array per input); "
                                   "default: random")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--wait-states", type=int, default=4)
    p.add_argument("--timeout", type=float, default=300.0)


def register(groups) -> None:
    from mcusparse.compiler import MODEL_TARGETS
    p = groups.add_parser("compile", help="compile a .tflite / .onnx model for an MCU target",
                          description="Writes the MLIR after each stage, model.o, model.h "
                                      "and report.json into OUT/.")
    p.add_argument("model")
    p.add_argument("--target", default="cortex-m55", choices=MODEL_TARGETS)
    p.add_argument("--format", default="auto",
                   help="auto (per layer, measured) or one of dense, csr, csr:8, dcsr, dcsr:16:8, nm:N:M, gs:V")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--wait-states", type=int, default=4,
                   help="weight-memory wait states for the auto choice's modeled cycles")
    p.add_argument("--pex-peak-bytes", type=_byte_count, default=0, metavar="BYTES",
                   help="partial execution: operator chains (expand -> depthwise -> "
                        "project) whose peak is above BYTES (e.g. 262144 or 256K) run in "
                        "channel slices; 1: the lowest arena; default 0: off")
    p.add_argument("--tile-pixels", type=int, default=0, metavar="N",
                   help="compute each convolution's int32 result and its requantisation "
                        "in tiles of at most N pixels (e.g. 48), so the int32 buffer is one "
                        "tile; default 0: whole")
    p.add_argument("--dense-weights-once", action="store_true",
                   help="cortex-m55: each dense convolution of 32 or more columns takes the "
                        "kernel that reads every weight once (rows held in registers while "
                        "the pixels pass; more instructions, far less weight traffic) where "
                        "it measures fewer modeled cycles at --wait-states")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=_compile)

    p = groups.add_parser("run", help="run a compiled model on its target's emulator")
    _add_run_arguments(p)
    p.add_argument("--save", metavar="FILE.npz", help="write the outputs")
    p.set_defaults(func=_run)

    p = groups.add_parser("profile", help="run a compiled model once and show where its "
                                          "instructions, cycles and weight bytes go, per "
                                          "source operator")
    _add_run_arguments(p)
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--plot", metavar="FILE.png", help="bar chart of the modeled cycles")
    p.add_argument("--against", metavar="OTHER_OUT",
                   help="another build of the same model (e.g. the dense one): both "
                        "profiles side by side, per operator")
    p.set_defaults(func=_profile)

    p = groups.add_parser("compare", help="dense vs sparse vs the reference interpreter")
    p.add_argument("model")
    p.add_argument("--target", default="cortex-m55", choices=MODEL_TARGETS)
    p.add_argument("--format", default="auto")
    p.add_argument("--samples", type=int, default=1, help="random inputs to compare on")
    p.add_argument("--wait-states", type=int, default=4)
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--dense-weights-once", action="store_true",
                   help="cortex-m55: also compare both builds compiled with "
                        "--dense-weights-once (modeled cycles against the dense kernel that "
                        "reads each weight once)")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=_compare)
