"""Prune the int8 weight layers of a TFLite model and write a new .tflite.

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

The eligible layers are CONV_2D and FULLY_CONNECTED with int8 constant
weights; depthwise convolutions and float layers are left alone (the sparse
kernels take int8 matrices). Magnitudes are those of the dequantised weights
(int8 x the output channel's scale), so that a per-channel quantised layer
is pruned as its float weights would be. Only weight bytes change: the output
file is the input with those bytes replaced, so every other tensor, operator
and quantisation parameter is kept bit for bit.

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
class _Layer:
    index: int
    kind: str
    weight: object                # the flatbuffer Tensor
    name: str
    shape: tuple                  # as stored
    matrix_shape: tuple
    skip: str


def _layers(model, graph, names, wanted, keep_first: bool) -> List[_Layer]:
    """The int8 CONV_2D / FULLY_CONNECTED layers, with why a layer is left alone."""
    codes = [max(int(model.OperatorCodes(i).BuiltinCode()),
                 int(model.OperatorCodes(i).DeprecatedBuiltinCode()))
             for i in range(model.OperatorCodesLength())]
    out = []
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
        skip = ""
        if keep_first and not out:
            skip = "first layer kept dense (--keep-first)"
        elif wanted is not None and name not in wanted and str(i) not in wanted:
            skip = "not selected"
        out.append(_Layer(i, kind, w, name, shape, (shape[0], int(np.prod(shape[1:]))), skip))
    return out


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


def _prune_layer(layer: _Layer, fn, model, raw: bytes, out: bytearray, where: str,
                 done_buffers: set) -> PrunedLayer:
    """Prune one layer's weight bytes in `out` (unless it is to be skipped)."""
    n = int(np.prod(layer.shape))
    buffer = int(layer.weight.Buffer())
    pos = _data_position(model, buffer, raw, n, where)
    W = np.frombuffer(raw, np.int8, n, pos).reshape(layer.matrix_shape)
    before = after = float(np.mean(W == 0))
    skip = layer.skip
    if not skip and buffer in done_buffers:
        skip = "weights shared with an earlier layer (pruned there)"
    if not skip:
        q = layer.weight.Quantization()
        scale = q.ScaleAsNumpy().astype(np.float64) if q is not None and q.ScaleLength() \
            else np.ones(1)
        if scale.size not in (1, W.shape[0]):
            raise PruneError(f"{where}: {scale.size} weight scales for {W.shape[0]} "
                             "output channels")
        try:
            keep = fn(W.astype(np.float64) * scale.reshape(-1, 1)) != 0
        except ValueError as err:                    # e.g. columns no multiple of M
            skip = f"does not fit the pattern: {err}"
    if not skip:
        pruned = np.where(keep, W, 0).astype(np.int8)
        out[pos:pos + n] = pruned.tobytes()
        after = float(np.mean(pruned == 0))
        done_buffers.add(buffer)
    return PrunedLayer(layer.index, layer.name, layer.kind, layer.matrix_shape, before, after,
                       skip)


def prune_model(source: "str | os.PathLike", output: "str | os.PathLike", pattern: str, *,
                layers: Optional[Sequence[str]] = None, keep_first: bool = False,
                progress: bool = True) -> PruneReport:
    """Write `output`: `source` with its eligible weight layers pruned to `pattern`.

    `layers` names the layers to prune (output tensor names or operator
    indices as strings; default: every eligible one); `keep_first` leaves the
    first eligible layer dense. Returns a PruneReport with every eligible
    layer's sparsity before and after, or why it was skipped.
    """
    import tflite
    from mcusparse.frontend.tflite import _op_names, _read

    fn = parse_pattern(pattern)
    src, dst = Path(source), Path(output)
    if src.suffix.lower() == ".onnx":
        raise PruneError(f"{src}: pruning ONNX models is not supported; prune the TFLite "
                         "export, or the weights in your training framework")
    try:
        raw = _read(str(src))
    except OSError as err:
        raise PruneError(f"{src}: {err.strerror or err}") from None
    except FrontendError as err:
        raise PruneError(str(err)) from None
    if dst.exists() and os.path.samefile(src, dst):
        raise PruneError(f"{dst}: the output would overwrite the input model")
    wanted = None if layers is None else {str(x).strip() for x in layers if str(x).strip()}

    out = bytearray(raw)
    report = PruneReport(str(src), str(dst), pattern)
    bar = None
    try:                                             # flatbuffer reads are lazy
        model = tflite.Model.GetRootAs(raw, 0)
        todo = _layers(model, model.Subgraphs(0), _op_names(), wanted, keep_first)
        if wanted is not None:
            missing = sorted(wanted - {t.name for t in todo} - {str(t.index) for t in todo})
            if missing:
                raise PruneError(f"{src}: no prunable (int8 CONV_2D / FULLY_CONNECTED) layer "
                                 f"named {', '.join(missing)}; known: "
                                 f"{', '.join(t.name for t in todo)}")
        if not todo:
            raise PruneError(f"{src}: no int8 CONV_2D or FULLY_CONNECTED layer to prune")
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=len(todo), desc=f"pruning ({pattern})", unit="layer", leave=False)
        done_buffers: set = set()
        for layer in todo:
            where = f"{src}: operator {layer.index} ({layer.kind} {layer.name!r})"
            report.layers.append(_prune_layer(layer, fn, model, raw, out, where, done_buffers))
            if bar is not None:
                bar.update(1)
    except PruneError:
        raise
    except Exception as err:
        raise PruneError(f"{src}: not a readable TFLite model, truncated or corrupt "
                         f"({type(err).__name__}: {err})") from None
    finally:
        if bar is not None:
            bar.close()

    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=dst.name + ".")
    with os.fdopen(fd, "wb") as f:
        f.write(bytes(out))
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
    p = groups.add_parser("prune", help="prune a .tflite model's int8 weight layers",
                          description="Writes OUT: MODEL with its int8 CONV_2D and "
                                      "FULLY_CONNECTED weights pruned to PATTERN (no "
                                      "fine-tuning; only weight bytes change).")
    p.add_argument("model")
    p.add_argument("--pattern", required=True,
                   help="magnitude:S, nm:N:M or gs:V:S (e.g. magnitude:0.9, nm:1:8, gs:16:0.9)")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--layers", help="comma-separated layer names (output tensors) or operator "
                                    "indices to prune; default: every int8 conv / FC layer")
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
