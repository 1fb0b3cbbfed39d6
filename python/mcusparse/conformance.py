"""ONNX backend node-test conformance of the ONNX front end (host target).

The onnx package defines one node test per operator example
(`onnx/backend/test/case/node/*.py`): a one-node model plus input and expected
output tensors. Every test whose graph uses only operators the front end
supports (`mcusparse.frontend.onnx.SUPPORTED`, plus `Constant`) is imported with
`mcusparse.frontend.import_model`, run on the host with `mcusparse.hostrun`
(upstream MLIR passes + JIT) and compared with the expected outputs:

- integer (and bool) outputs: exactly;
- float outputs: `|got - want| <= ATOL + RTOL * |want|` element by element
  (RTOL = ATOL = 1e-5; NaN must match NaN), after an exact shape and dtype check.
  TOLERANCE lists the tests whose expected values are rounded by hand (one).

Each test ends as

- ``pass``: every output matches;
- ``fail``: a wrong result (wrong values, shape or dtype) -- a front-end bug;
- ``unsupported``: the importer raised `FrontendError` naming something it
  deliberately does not support (a dtype, 3-D pooling, a parameter fed as a
  graph input where the front end needs a constant);
- ``error``: anything else -- a crash in the importer (reported by the importer
  as "cannot import (IndexError: ...)"), a module that does not lower or run.

The node tests feed every tensor as a graph input, weights and Reshape shapes
included. `bind_params=True` (`--bind-params`) first makes the parameter inputs
of each node (PARAM_INPUTS: weights, bias, Clip bounds, Reshape's shape, scales,
zero points) initializers holding the test's values, as in a deployed model.

Test data: the node tests' directories (`<name>/model.onnx`,
`<name>/test_data_set_*/{input,output}_*.pb`) are read from
`onnx/backend/test/data/node` when the installed onnx has them (source
checkouts; recent wheels do not ship them), else generated once from the test
case definitions that every wheel ships (`onnx.backend.test.case.node`, a few
seconds) into `build/onnx-node-tests/onnx-<version>-<hash of the supported
operators>/`. `--data-dir DIR` (or MCUSPARSE_ONNX_NODE_DATA) points at another
node-test directory.

    python -m mcusparse.conformance [onnx] [-k SUBSTRING] [--bind-params] [-v]
                                    [--json FILE] [--no-progress]

The exit status is 1 when a test fails or errors (unsupported is not a failure).
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

RTOL = 1e-5
ATOL = 1e-5
# Tests whose expected outputs are not exact results: (rtol, atol, why).
TOLERANCE = {
    "test_averagepool_2d_ceil_last_window_starts_on_pad":
        (1e-3, 1e-4, "onnx's expected output is written out with 4 decimals (0.1511 for "
                     "1.3595 / 9 = 0.151056)"),
}
STATUSES = ("pass", "fail", "unsupported", "error")
# Inputs that are parameters (weights, bias, bounds, shape, scales, zero points)
# rather than data, by operator: input positions. In a deployed model they are
# initializers; the node tests feed them as graph inputs. With bind_params=True
# they are turned into initializers (the test's values) before importing.
PARAM_INPUTS = {
    "Conv": (1, 2), "Gemm": (1, 2), "MatMul": (1,), "Clip": (1, 2), "Reshape": (1,),
    "Squeeze": (1,), "Unsqueeze": (1,), "Slice": (1, 2, 3, 4), "PRelu": (1,),
    "BatchNormalization": (1, 2, 3, 4), "ReduceMean": (1,), "Pad": (1, 2, 3),
    "QuantizeLinear": (1, 2), "DequantizeLinear": (1, 2),
    "QLinearConv": (1, 2, 3, 4, 5, 6, 7, 8), "QLinearMatMul": (1, 2, 3, 4, 5, 6, 7),
}


@dataclass
class Result:
    name: str                   # the node test (test_conv_with_strides_padding)
    op: str                     # the operator it tests (Conv)
    status: str                 # pass / fail / unsupported / error
    detail: str = ""            # why it is not a pass (the error message, the mismatch)
    seconds: float = 0.0        # import + compile + run
    bound: tuple[str, ...] = ()  # inputs bound as initializers (bind_params)


@dataclass(frozen=True)
class NodeTest:
    name: str
    op: str
    path: str                   # the test's directory (model.onnx, test_data_set_*)


# ----------------------------------------------------------------------------- discovery
def _supported() -> set[str]:
    from mcusparse.frontend.onnx import SUPPORTED
    return set(SUPPORTED) | {"Constant"}


def _op_of(model) -> str | None:
    """The operator a node test tests, or None when its graph uses an unsupported one."""
    ops = [n.op_type for n in model.graph.node]
    if not ops or not set(ops) <= _supported():
        return None
    main = [o for o in ops if o != "Constant"]
    return main[0] if main else "Constant"


def _shipped_dir() -> str | None:
    import onnx
    d = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")
    return d if os.path.isdir(d) else None


def _cache_root() -> str:
    import onnx
    try:
        from mcusparse.targets.toolchain import build_root
        base = str(build_root())
    except Exception:  # not in a repository checkout: any writable place
        base = os.path.join(tempfile.gettempdir(), "mcusparse")
    # the directory holds the tests of the operators supported when it was written
    ops = hashlib.sha1(",".join(sorted(_supported())).encode()).hexdigest()[:8]
    return os.path.join(base, "onnx-node-tests", f"onnx-{onnx.__version__}-{ops}")


def _write_case(case, out_dir: str) -> None:
    from onnx import TensorProto, numpy_helper
    os.makedirs(out_dir)
    with open(os.path.join(out_dir, "model.onnx"), "wb") as f:
        f.write(case.model.SerializeToString())
    g = case.model.graph
    for i, (inputs, outputs) in enumerate(case.data_sets):
        ds = os.path.join(out_dir, f"test_data_set_{i}")
        os.makedirs(ds)
        for kind, values, infos in (("input", inputs, g.input), ("output", outputs, g.output)):
            for j, v in enumerate(values):
                t = v if isinstance(v, TensorProto) else numpy_helper.from_array(
                    np.asarray(v), infos[j].name)
                with open(os.path.join(ds, f"{kind}_{j}.pb"), "wb") as f:
                    f.write(t.SerializeToString())


def generate(out_dir: str | None = None) -> str:
    """Writes the node tests that use only supported operators (model.onnx +
    test_data_set_*) from onnx's test case definitions; returns the directory.
    Written to a temporary directory and renamed into place, so concurrent
    callers never see half a directory."""
    out_dir = out_dir or _cache_root()
    stamp = os.path.join(out_dir, ".complete")
    if os.path.exists(stamp):
        return out_dir
    import warnings
    from onnx.backend.test.case import node as node_cases
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = node_cases.collect_testcases()
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=".node-tests-")
    try:
        for case in cases:
            if case.kind == "node" and case.model is not None and case.data_sets and \
                    _op_of(case.model) is not None:
                _write_case(case, os.path.join(tmp, case.name))
        open(os.path.join(tmp, ".complete"), "w").close()
        try:
            os.replace(tmp, out_dir)      # fails if another process got there first
        except OSError:
            if not os.path.exists(stamp):
                shutil.rmtree(out_dir, ignore_errors=True)
                os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def data_dir() -> str:
    """The node-test directory: MCUSPARSE_ONNX_NODE_DATA, the onnx package's own
    data/node, or the generated cache."""
    return os.environ.get("MCUSPARSE_ONNX_NODE_DATA") or _shipped_dir() or generate()


def discover(filter: str | None = None, directory: str | None = None) -> list[NodeTest]:
    """The node tests whose graph uses only supported operators, sorted by name;
    `filter` keeps those whose name contains it or whose operator is it
    (case-insensitive)."""
    import onnx
    directory = directory or data_dir()
    tests = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        model_path = os.path.join(path, "model.onnx")
        if not os.path.isfile(model_path):
            continue
        op = _op_of(onnx.load(model_path, load_external_data=False))
        if op is None:
            continue
        if filter and filter.lower() not in name.lower() and filter.lower() != op.lower():
            continue
        tests.append(NodeTest(name, op, path))
    return tests


# ----------------------------------------------------------------------------- running
def _read_pb(path: str):
    from onnx import TensorProto, numpy_helper
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def _data_sets(path: str):
    def key(p):
        return int(p.rsplit("_", 1)[1].split(".")[0])
    for ds in sorted(glob.glob(os.path.join(path, "test_data_set_*")), key=key):
        ins = [_read_pb(p) for p in sorted(glob.glob(os.path.join(ds, "input_*.pb")), key=key)]
        outs = [_read_pb(p)[1] for p in sorted(glob.glob(os.path.join(ds, "output_*.pb")),
                                               key=key)]
        yield os.path.basename(ds), ins, outs


def compare(got: np.ndarray, want: np.ndarray, rtol: float = RTOL, atol: float = ATOL) -> str:
    """'' when `got` matches `want` (module docstring), else what differs."""
    if got.shape != want.shape:
        return f"shape {got.shape}, expected {want.shape}"
    if got.dtype != want.dtype:
        return f"dtype {got.dtype}, expected {want.dtype}"
    if want.dtype.kind in "iub":
        bad = got != want
    else:
        g, w = got.astype(np.float64), want.astype(np.float64)
        with np.errstate(invalid="ignore"):
            bad = ~((np.abs(g - w) <= atol + rtol * np.abs(w)) | (g == w) |
                    (np.isnan(g) & np.isnan(w)))
    if not np.any(bad):
        return ""
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    err = np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))[bad])
    return (f"{int(np.count_nonzero(bad))}/{want.size} elements differ, max |diff| "
            f"{err:.3g}; first at {idx}: got {got[idx]!r}, expected {want[idx]!r}")


def _is_crash(message: str) -> bool:
    # import_onnx turns an internal IndexError/KeyError/... into
    # FrontendError("<path>: cannot import (<type>: ...)"): that is a bug, not a choice.
    return ": cannot import (" in message or "not a valid ONNX model" in message


def _feeds(path: str, graph_inputs: list[str]):
    """Per data set: (name, {input name: array}, [expected outputs])."""
    for ds, ins, outs in _data_sets(path):
        feeds = {}
        for j, (name, a) in enumerate(ins):
            feeds[name or graph_inputs[j]] = a
        yield ds, feeds, outs


def bind_parameters(test: NodeTest, out_dir: str, model=None) -> tuple[str, tuple[str, ...]]:
    """Writes the test's model (or `model`, its ModelProto, modified in place) to
    out_dir/model.onnx with its parameter inputs (PARAM_INPUTS) made initializers
    holding the test's values; returns the model's path and the bound names (the
    original path and () when there is nothing to bind). An input whose value
    differs between data sets stays an input."""
    import onnx
    from onnx import numpy_helper
    if model is None:
        model = onnx.load(os.path.join(test.path, "model.onnx"))
    names = [vi.name for vi in model.graph.input]
    sets = list(_feeds(test.path, names))
    params = []
    for node in model.graph.node:
        for i in PARAM_INPUTS.get(node.op_type, ()):
            if i < len(node.input) and node.input[i] in names and node.input[i] not in params:
                params.append(node.input[i])
    params = [p for p in params if all(p in f for _, f, _ in sets) and
              all(np.array_equal(f[p], sets[0][1][p]) for _, f, _ in sets)]
    if not params:
        return os.path.join(test.path, "model.onnx"), ()
    keep = [vi for vi in model.graph.input if vi.name not in params]
    del model.graph.input[:]
    model.graph.input.extend(keep)
    model.graph.initializer.extend(numpy_helper.from_array(sets[0][1][p], p) for p in params)
    path = os.path.join(out_dir, "model.onnx")
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return path, tuple(params)


def run_test(test: NodeTest, bind_params: bool = False) -> Result:
    """Imports, runs and checks one node test; `bind_params`: see PARAM_INPUTS."""
    import onnx
    t0 = time.perf_counter()
    model = onnx.load(os.path.join(test.path, "model.onnx"))
    graph_inputs = [vi.name for vi in model.graph.input]
    with tempfile.TemporaryDirectory(prefix="mcusparse-conformance-") as tmp:
        path, bound = bind_parameters(test, tmp, model) if bind_params else \
            (os.path.join(test.path, "model.onnx"), ())
        status, detail = _run(test, path, graph_inputs)
        detail = detail.replace(os.path.dirname(path) + os.sep, "")
    return Result(test.name, test.op, status, detail, round(time.perf_counter() - t0, 3),
                  bound)


def _run(test: NodeTest, path: str, graph_inputs: list[str]) -> tuple[str, str]:
    from mcusparse import hostrun
    from mcusparse.frontend import FrontendError, import_model
    try:
        model = import_model(path)
    except FrontendError as e:
        return ("error" if _is_crash(str(e)) else "unsupported"), str(e)
    except Exception as e:  # noqa: BLE001 -- anything else is a crash
        return "error", f"import: {type(e).__name__}: {e}"
    try:
        module = hostrun.compile(model.mlir)
    except Exception as e:  # noqa: BLE001
        return "error", f"host compile: {type(e).__name__}: {e}"
    rtol, atol, _ = TOLERANCE.get(test.name, (RTOL, ATOL, ""))
    problems = []
    for ds, feeds, outs in _feeds(test.path, graph_inputs):
        try:
            args = []
            for spec in model.inputs:
                a = feeds[spec.name]
                if a.dtype != spec.dtype or tuple(a.shape) != tuple(spec.shape):
                    raise ValueError(f"input '{spec.name}' is {a.dtype}{list(a.shape)}, the "
                                     f"imported model takes {spec.dtype}{list(spec.shape)}")
                args.append(a)
            # The JIT returns the MLIR element type's numpy type: int8 for a
            # uint8 output (the same bytes).
            got = [np.asarray(g).view(spec.dtype) for g, spec in
                   zip(module(*args), model.outputs)]
        except Exception as e:  # noqa: BLE001
            return "error", f"{ds}: run: {type(e).__name__}: {e}"
        if len(got) != len(outs):
            problems.append(f"{ds}: {len(got)} outputs, expected {len(outs)}")
            continue
        for j, (g, w) in enumerate(zip(got, outs)):
            diff = compare(np.asarray(g), np.asarray(w), rtol, atol)
            if diff:
                problems.append(f"{ds} output {j}: {diff}")
    return ("fail", "; ".join(problems)) if problems else ("pass", "")


def run_conformance(filter: str | None = None, progress: bool = True,
                    directory: str | None = None, bind_params: bool = False) -> list[Result]:
    """Runs every supported node test (`filter`: see `discover`); one Result each.
    `bind_params`: parameter inputs become initializers first (PARAM_INPUTS)."""
    tests = discover(filter, directory)
    results = []
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(tests, desc="onnx node tests", unit="test", file=sys.stderr,
                   dynamic_ncols=True)
    counts: Counter = Counter()
    for test in bar if bar is not None else tests:
        if bar is not None:
            bar.set_postfix_str(test.name, refresh=False)
        r = run_test(test, bind_params)
        counts[r.status] += 1
        results.append(r)
        if bar is not None:
            bar.set_postfix({s: counts[s] for s in STATUSES}, refresh=False)
    if bar is not None:
        bar.close()
    return results


# ----------------------------------------------------------------------------- report
def table(results: list[Result]) -> str:
    per_op: dict[str, Counter] = {}
    for r in results:
        per_op.setdefault(r.op, Counter())[r.status] += 1
    rows = [("op",) + STATUSES + ("total",)]
    total: Counter = Counter()
    for op in sorted(per_op):
        c = per_op[op]
        total.update(c)
        rows.append((op,) + tuple(str(c[s]) for s in STATUSES) + (str(sum(c.values())),))
    rows.append(("total",) + tuple(str(total[s]) for s in STATUSES) + (str(len(results)),))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def line(r):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths)))
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(rows[0]), sep] + [line(r) for r in rows[1:-1]] + [sep,
                                                                            line(rows[-1])])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", nargs="?", default="onnx", choices=["onnx"],
                        help="the conformance suite (onnx: the onnx package's backend node "
                             "tests)")
    parser.add_argument("-k", "--filter", default=None,
                        help="only tests whose name contains this (or whose op is this)")
    parser.add_argument("--json", metavar="FILE", default=None,
                        help="write every test's result (name, op, status, detail, seconds)")
    parser.add_argument("--data-dir", default=None,
                        help="a directory of ONNX node tests (default: the onnx package's, "
                             "or generated from its test cases)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="list every test that is not a pass, with the reason")
    parser.add_argument("--bind-params", action="store_true",
                        help="make parameter inputs (weights, bias, Clip bounds, Reshape "
                             "shape, scales, zero points) initializers holding the test's "
                             "values, as in a deployed model, before importing")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_cli(args: argparse.Namespace) -> int:
    results = run_conformance(args.filter, progress=not args.no_progress,
                              directory=args.data_dir, bind_params=args.bind_params)
    if not results:
        print("no node tests matched", file=sys.stderr)
        return 1
    print(table(results))
    bad = [r for r in results if r.status != "pass"]
    if bad and args.verbose:
        print()
        for r in bad:
            print(f"{r.status:11s} {r.name}: {r.detail}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rtol": RTOL, "atol": ATOL, "bind_params": args.bind_params,
                       "counts": dict(Counter(r.status for r in results)),
                       "results": [asdict(r) for r in results]}, f, indent=1)
    # fail / error are bugs; unsupported is a documented limitation.
    return 1 if any(r.status in ("fail", "error") for r in results) else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="mcusparse conformance",
        description="Run the ONNX backend node tests of the supported operators through "
                    "the front end and the host JIT; print pass / fail / unsupported / "
                    "error per operator.")
    add_arguments(parser)
    return run_cli(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
