"""Prune the int8 weight layers of a TFLite or ONNX model and write a new model.

    from mcusparse import prune_model
    report = prune_model.prune_model("dense_s.tflite", "dense_s_nm_1_8.tflite", "nm:1:8",
                                     keep_first=True)
    for layer in report.layers: print(layer.name, layer.sparsity_before, layer.sparsity_after)

    mcusparse prune dense_s.tflite --pattern nm:1:8 --keep-first -o dense_s_nm_1_8.tflite

Patterns (mcusparse.prune on each layer's out x (kh*kw*in) matrix, the one
the compiler packs):

    magnitude:S    the S fraction of smallest weights, per layer
    nm:N:M         N of every M consecutive weights along a row (kh * kw * in
                   must be a multiple of M, else the layer is left as it is)
    gs:V:S         S sparse in load-balanced groups of V rows

The eligible layers are those whose int8 constant weight the compiler packs:
TFLite CONV_2D and FULLY_CONNECTED; ONNX QLinearConv, QLinearMatMul, and
Conv / Gemm / MatMul reading a DequantizeLinear of an int8 initializer (the
QDQ form), with zero points 0 (a uint8 or offset weight is skipped, with the
reason: its zero is not the integer 0). Depthwise and grouped convolutions
and float layers are left alone (the sparse kernels take int8 matrices).
Magnitudes are those of the dequantised weights (int8 x the output channel's
scale), so that a per-channel quantised layer is pruned as its float weights
would be. Only weight values change: a .tflite is written as the input with
those bytes replaced, so every other tensor, operator and quantisation
parameter is kept bit for bit; an ONNX model is re-serialised with the
pruned initializers.

This is post-training pruning without fine-tuning: the pruned model computes
what its weights say (the compiler's output is checked against LiteRT on
it), but its accuracy is not that of the original. Fine-tune with the masks
fixed (as mcusparse.models.digits does) before deploying one.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import numpy as np

from mcusparse import prune
from mcusparse.frontend.model import FrontendError

__all__ = ["prune_model", "parse_pattern", "PruneError", "PrunedLayer", "PruneReport"]

_INT8 = 9
_PRUNABLE = {"CONV_2D", "FULLY_CONNECTED"}


class PruneError(ValueError):
    """A pattern, model or output path that pruning cannot take."""


@dataclass
class PrunedLayer:
    index: int                    # operator index in the subgraph
    name: str                     # output tensor (the compiler's layer name)
    op: str
    matrix_shape: tuple
    sparsity_before: float
    sparsity_after: float
    skipped: str = ""             # why the layer was left as it is


@dataclass
class PruneReport:
    source: str
    output: str
    pattern: str
    layers: List[PrunedLayer] = field(default_factory=list)

    @property
    def pruned(self) -> List[PrunedLayer]:
        return [layer for layer in self.layers if not layer.skipped]


def parse_pattern(pattern: str) -> Callable[[np.ndarray], np.ndarray]:
    """The matrix -> pruned matrix function of a pattern string (see the module doc)."""
    parts = str(pattern).strip().lower().split(":")
    try:
        if parts[0] == "magnitude" and len(parts) == 2:
            s = float(parts[1])
            prune.magnitude(np.zeros((1, 1), np.float32), s)          # validates s
            return lambda W: prune.magnitude(W, s)
        if parts[0] == "nm" and len(parts) == 3:
            n, m = int(parts[1]), int(parts[2])
            prune.nm(np.zeros((1, m), np.float32), n, m)              # validates n, m
            return lambda W: prune.nm(W, n, m)
        if parts[0] == "gs" and len(parts) == 3:
            v, s = int(parts[1]), float(parts[2])
            prune.gs(np.zeros((v, 1), np.float32), v, s)              # validates v, s
            return lambda W: prune.gs(W, v, s)
    except ValueError as err:
        raise PruneError(f"pattern {pattern!r}: {err}") from None
    raise PruneError(f"unknown pruning pattern {pattern!r}; use magnitude:S, nm:N:M or gs:V:S "
                     "(e.g. magnitude:0.9, nm:1:8, gs:16:0.9)")


@dataclass
class _Slot:
    """One eligible weight, seen as the compiler packs it."""
    index: int                    # operator / node index
    kind: str
    name: str
    matrix: np.ndarray            # int8, out x (kh*kw*in)
    scales: np.ndarray            # one per row, or one for all
    key: object                   # the stored tensor (weights shared by two layers)
    store: Callable[[np.ndarray], None]   # writes a pruned matrix back
    skip: str = ""


def _select(slots: List[_Slot], wanted, keep_first: bool, src) -> None:
    """Mark the slots --layers / --keep-first leave alone; unknown names are errors."""
    if wanted is not None:
        known = {t.name for t in slots} | {str(t.index) for t in slots}
        missing = sorted(wanted - known)
        if missing:
            raise PruneError(f"{src}: no prunable int8 weight layer named "
                             f"{', '.join(missing)}; known: {', '.join(t.name for t in slots)}")
    for k, slot in enumerate(slots):
        if slot.skip:
            continue
        if keep_first and k == 0:
            slot.skip = "first layer kept dense (--keep-first)"
        elif wanted is not None and slot.name not in wanted and str(slot.index) not in wanted:
            slot.skip = "not selected"


def _prune_slot(slot: _Slot, fn, done: set) -> PrunedLayer:
    W = slot.matrix
    before = after = float(np.mean(W == 0)) if W.size else 0.0
    skip = slot.skip
    if not skip and id(slot.key) in done:
        skip = "weights shared with an earlier layer (pruned there)"
    if not skip:
        scales = slot.scales.astype(np.float64).reshape(-1)
        if scales.size not in (1, W.shape[0]):
            skip = f"{scales.size} weight scales for {W.shape[0]} output channels"
    if not skip:
        try:
            keep = fn(W.astype(np.float64) * scales.reshape(-1, 1)) != 0
        except ValueError as err:                    # e.g. columns no multiple of M
            skip = f"does not fit the pattern: {err}"
    if not skip:
        pruned = np.where(keep, W, 0).astype(np.int8)
        slot.store(pruned)
        after = float(np.mean(pruned == 0))
        done.add(id(slot.key))
    return PrunedLayer(slot.index, slot.name, slot.kind, tuple(W.shape), before, after, skip)


# ----------------------------------------------------------------------------- TFLite
def _tflite_slots(raw: bytes, out: bytearray, src) -> List[_Slot]:
    import tflite
    from mcusparse.frontend.tflite import _op_names
    model = tflite.Model.GetRootAs(raw, 0)
    graph = model.Subgraphs(0)
    names = _op_names()
    codes = [max(int(model.OperatorCodes(i).BuiltinCode()),
                 int(model.OperatorCodes(i).DeprecatedBuiltinCode()))
             for i in range(model.OperatorCodesLength())]
    slots = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        kind = names.get(codes[op.OpcodeIndex()], "?")
        if kind not in _PRUNABLE or op.InputsLength() < 2:
            continue
        w = graph.Tensors(op.Inputs(1))
        shape = tuple(int(d) for d in w.ShapeAsNumpy()) if w.ShapeLength() else ()
        if int(w.Type()) != _INT8 or len(shape) < 2 or int(w.Buffer()) == 0:
            continue
        name = (graph.Tensors(op.Outputs(0)).Name() or b"").decode("utf-8", "replace")
        n = int(np.prod(shape))
        pos = _data_position(model, int(w.Buffer()), raw, n,
                             f"{src}: operator {i} ({kind} {name!r})")
        q = w.Quantization()
        scales = q.ScaleAsNumpy() if q is not None and q.ScaleLength() else np.ones(1)

        def store(pruned, pos=pos, n=n):
            out[pos:pos + n] = pruned.tobytes()
        slots.append(_Slot(i, kind, name, np.frombuffer(raw, np.int8, n, pos)
                           .reshape(shape[0], -1), np.asarray(scales), int(w.Buffer()), store))
    return slots


def _data_position(model, buffer_index: int, raw: bytes, nbytes: int, where: str) -> int:
    """Where buffer `buffer_index`'s bytes start in the file."""
    buf = model.Buffers(buffer_index)
    offset = int(buf.Offset())
    if offset > 1:                                   # stored after the flatbuffer
        pos = offset
    elif not buf.DataIsNone() and buf.DataLength() >= nbytes:
        pos = buf._tab.Vector(buf._tab.Offset(4))
    else:
        raise PruneError(f"{where}: the weight buffer holds no data")
    if pos + nbytes > len(raw):
        raise PruneError(f"{where}: the weight buffer extends past the end of the file")
    return pos


# ----------------------------------------------------------------------------- ONNX
def _onnx_slots(model) -> List[_Slot]:
    """Weights as the ONNX front end reads them: conv [O, I, kh, kw] packed as
    O x (kh*kw*I), MatMul's B [K, N] as its transpose, Gemm's as transB says."""
    from onnx import numpy_helper
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    producer = {o: node for node in graph.node for o in node.output}
    slots = []
    for i, node in enumerate(graph.node):
        attrs = {a.name: a for a in node.attribute}
        if node.op_type in ("QLinearConv", "QLinearMatMul") and len(node.input) > 5:
            w, scale, zp = node.input[3], node.input[4], node.input[5]
            layout = "conv" if node.op_type == "QLinearConv" else "matmul"
        elif node.op_type in ("Conv", "Gemm", "MatMul") and len(node.input) > 1 \
                and node.input[1] in producer \
                and producer[node.input[1]].op_type == "DequantizeLinear":
            dq = producer[node.input[1]]
            w, scale = dq.input[0], dq.input[1]
            zp = dq.input[2] if len(dq.input) > 2 else ""
            layout = {"Conv": "conv", "MatMul": "matmul"}.get(node.op_type, "gemm")
            if layout == "gemm" and attrs.get("transB") is not None and attrs["transB"].i:
                layout = "rows"
        else:
            continue
        if w not in inits or scale not in inits:
            continue                                 # computed at run time
        name = node.name or node.output[0]
        stored = numpy_helper.to_array(inits[w])
        scales = numpy_helper.to_array(inits[scale])
        skip = ""
        if stored.dtype != np.int8:
            skip = f"{stored.dtype} weights (the sparse kernels take int8)"
        elif zp and zp in inits and np.any(numpy_helper.to_array(inits[zp]) != 0):
            skip = "weights with a nonzero zero point"
        elif layout == "conv" and (stored.ndim != 4 or
                                   (attrs.get("group") is not None and attrs["group"].i != 1)):
            skip = "grouped or depthwise convolution"
        elif layout != "conv" and stored.ndim != 2:
            skip = f"{stored.ndim}-D weight"
        to_matrix, from_matrix = _onnx_layout(layout, stored.shape)
        matrix = to_matrix(stored) if not skip else stored.reshape(stored.shape[0], -1)

        def store(pruned, t=inits[w], back=from_matrix):
            t.CopyFrom(numpy_helper.from_array(back(pruned), t.name))
        slots.append(_Slot(i, node.op_type, name, matrix, scales, w, store, skip))
    return slots


def _onnx_layout(layout: str, shape):
    """(stored -> matrix, matrix -> stored) for an ONNX weight layout."""
    if layout == "conv":
        o, c, kh, kw = (tuple(shape) + (1, 1, 1, 1))[:4]
        return (lambda a: a.transpose(0, 2, 3, 1).reshape(o, -1),
                lambda m: m.reshape(o, kh, kw, c).transpose(0, 3, 1, 2).copy())
    if layout == "rows":                             # Gemm with transB: [N, K]
        return (lambda a: a, lambda m: m)
    return (lambda a: a.T, lambda m: m.T.copy())     # MatMul / Gemm B: [K, N]


# ----------------------------------------------------------------------------- driver
def prune_model(source: "str | os.PathLike", output: "str | os.PathLike", pattern: str, *,
                layers: Optional[Sequence[str]] = None, keep_first: bool = False,
                progress: bool = True) -> PruneReport:
    """Write `output`: `source` (.tflite or .onnx) with its eligible weight layers
    pruned to `pattern`.

    `layers` names the layers to prune (the compiler's layer names, or
    operator / node indices as strings; default: every eligible one);
    `keep_first` leaves the first eligible layer dense. Returns a PruneReport
    with every eligible layer's zeros before and after, or why it was skipped.
    """
    fn = parse_pattern(pattern)
    src, dst = Path(source), Path(output)
    if not src.is_file():
        raise PruneError(f"{src}: No such file")
    if dst.exists() and os.path.samefile(src, dst):
        raise PruneError(f"{dst}: the output would overwrite the input model")
    is_onnx = src.suffix.lower() == ".onnx"
    if is_onnx != (dst.suffix.lower() == ".onnx"):
        raise PruneError(f"{dst}: the output must be a {src.suffix} model like the input")
    wanted = None if layers is None else {str(x).strip() for x in layers if str(x).strip()}
    report = PruneReport(str(src), str(dst), pattern)
    bar = None
    try:                                             # flatbuffer / protobuf reads
        if is_onnx:
            import onnx
            model = onnx.load(str(src))
            slots = _onnx_slots(model)
        else:
            from mcusparse.frontend.tflite import _read
            raw = _read(str(src))
            out = bytearray(raw)
            slots = _tflite_slots(raw, out, src)
        if not slots:
            raise PruneError(f"{src}: no int8 weight layer to prune")
        _select(slots, wanted, keep_first, src)
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=len(slots), desc=f"pruning ({pattern})", unit="layer", leave=False)
        done: set = set()
        for slot in slots:
            report.layers.append(_prune_slot(slot, fn, done))
            if bar is not None:
                bar.update(1)
        data = model.SerializeToString() if is_onnx else bytes(out)
    except PruneError:
        raise
    except FrontendError as err:
        raise PruneError(str(err)) from None
    except Exception as err:
        raise PruneError(f"{src}: not a readable {'ONNX' if is_onnx else 'TFLite'} model, "
                         f"truncated or corrupt ({type(err).__name__}: {err})") from None
    finally:
        if bar is not None:
            bar.close()

    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=dst.name + ".")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, dst)
    return report


def format_report(report: PruneReport) -> str:
    """The per-layer table `mcusparse prune` prints."""
    lines = [f"{report.source} -> {report.output} ({report.pattern})",
             f"{'layer':32} {'op':16} {'matrix':>10} {'zeros before':>13} {'after':>7}  note"]
    for layer in report.layers:
        shape = "x".join(str(d) for d in layer.matrix_shape)
        lines.append(f"{layer.name[:32]:32} {layer.op:16} {shape:>10} "
                     f"{layer.sparsity_before:>12.1%} {layer.sparsity_after:>7.1%}  {layer.skipped}")
    lines.append(f"{len(report.pruned)} of {len(report.layers)} layers pruned; "
                 "no fine-tuning: the accuracy is not the original model's")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- CLI
def register(groups) -> None:
    p = groups.add_parser("prune", help="prune a .tflite / .onnx model's int8 weight layers",
                          description="Writes OUT: MODEL with the int8 weights of its "
                                      "convolutions and matrix products pruned to PATTERN "
                                      "(no fine-tuning; only weight values change).")
    p.add_argument("model")
    p.add_argument("--pattern", required=True,
                   help="magnitude:S, nm:N:M or gs:V:S (e.g. magnitude:0.9, nm:1:8, gs:16:0.9)")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--layers", help="comma-separated layer names (as `mcusparse compile` "
                                    "prints them) or operator indices to prune; default: "
                                    "every int8 weight layer")
    p.add_argument("--keep-first", action="store_true",
                   help="leave the first weight layer dense")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=_prune_cmd)


def _prune_cmd(args) -> int:
    layers = args.layers.split(",") if args.layers else None
    report = prune_model(args.model, args.output, args.pattern, layers=layers,
                         keep_first=args.keep_first, progress=not args.quiet)
    print(format_report(report))
    return 0
