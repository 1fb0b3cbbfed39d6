"""ONNX (.onnx protobuf) -> MLIR on tensors.

Float models and int8 / uint8 QDQ / QOperator models with static shapes:
Gemm, MatMul, Conv, Relu, Clip, Add, Sub, Mul, Div, the float activations and
BatchNormalization of onnx_elementwise.py, ReduceMean, Pad, MaxPool,
AveragePool, GlobalAveragePool, Flatten, Reshape, Squeeze, Unsqueeze,
Transpose, Concat, Identity, Shape, Slice, Softmax, QuantizeLinear,
DequantizeLinear, QLinearConv, QLinearMatMul, and onnxruntime's QGemm,
QLinearAdd, QLinearMul, QLinearGlobalAveragePool, QLinearAveragePool
(onnx_contrib.py). Tensors keep ONNX's NCHW layout at the graph level;
convolutions and pools transpose to NHWC around the kernel so that they
share the TFLite path's im2col + matmul (2-D weight constants, out x
kh*kw*in). 1-D convolutions and pools are taken as 2-D with H = 1. Shape
arithmetic on constants folds at import (onnx_fold.py; Gather and Cast only
there).

Float Conv / Gemm / MatMul weights may also be computed at run time (a graph
input or another node's output): Conv then transposes the weight in the IR,
Gemm / MatMul use a linalg.generic product (numpy.matmul broadcasting); such
layers have no weight constant and no LayerInfo. Add, Sub, Mul (wrapping,
like numpy), Div (truncating toward zero), Relu and Clip also work on int8 /
int16 / int32 / int64 tensors.

QDQ models: DequantizeLinear -> Conv / Gemm / MatMul -> QuantizeLinear groups
become int8 layers (onnx_qdq.py, as onnxruntime fuses them); the rest is
imported node by node (DequantizeLinear -> float op -> QuantizeLinear),
which is what onnxruntime computes with graph optimisations off. QLinearConv / QLinearMatMul requantise as onnxruntime does: the int32
accumulator times a float32 scale, rounded half to even, saturated.

Quantized tensors are int8 or uint8 (onnxruntime's quantizer and the ONNX
model zoo use uint8 activations). A uint8 tensor is carried as int8 with 128
subtracted (its top bit flipped), and so are its zero points: q - zp does
not change, so the int8 kernels compute uint8 layers unchanged. uint8 graph
inputs and outputs are flipped on the way in and out. uint8 tensors may feed
the quantized operators, MaxPool (order is kept), Add, Sub, Mul and Div
(on the unflipped bits: wrapping, Div unsigned) and the shape operators
(UINT8_OPS); anything else is a FrontendError.
"""
from __future__ import annotations

import os

import numpy as np

from mcusparse.frontend import onnx_types as types
from mcusparse.frontend.emit import Emitter, Value, amap, identity
from mcusparse.frontend.model import FrontendError, ImportedModel, LayerInfo, TensorSpec
from mcusparse.frontend.onnx_contrib import ContribOps
from mcusparse.frontend.onnx_elementwise import ElementwiseOps
from mcusparse.frontend.onnx_fold import ConstantFolding
from mcusparse.frontend.onnx_qdq import FUSABLE, QDQFusion
from mcusparse.frontend.onnx_quant import QuantizedOps

# Operators that take uint8 tensors (carried flipped, see above).
UINT8_OPS = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul",
             "MaxPool", "Pad", "Add", "Sub", "Mul", "Div", "Reshape", "Flatten", "Squeeze",
             "Unsqueeze", "Transpose", "Concat", "Identity", "QGemm", "QLinearAdd",
             "QLinearMul", "QLinearGlobalAveragePool", "QLinearAveragePool"}
SUPPORTED = ["Gemm", "MatMul", "Conv", "Relu", "Clip", "Add", "Sub", "Mul", "Div",
             "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "LeakyRelu", "PRelu", "Exp",
             "Sqrt", "Abs", "Neg", "BatchNormalization", "ReduceMean", "Pad", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten",
             "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Identity",
             "Shape", "Slice", "Softmax", "QuantizeLinear", "DequantizeLinear", "QLinearConv",
             "QLinearMatMul"]
# onnxruntime's contrib operators (domain com.microsoft) that its quantizer
# writes in the QOperator format.
CONTRIB = ["QGemm", "QLinearAdd", "QLinearMul", "QLinearGlobalAveragePool",
           "QLinearAveragePool"]


class NotONNXError(FrontendError):
    """The file does not parse as an ONNX model (or holds an empty graph)."""


def _load(path: str):
    import onnx
    from google.protobuf.message import DecodeError
    with open(path, "rb") as f:
        raw = f.read()
    try:
        model = onnx.load_model_from_string(raw)
    except (DecodeError, ValueError, RuntimeError) as e:
        raise NotONNXError(f"{path}: not a valid ONNX model (truncated or corrupt: {e})") \
            from None
    if not model.graph.node and not model.graph.output:
        raise NotONNXError(f"{path}: not a valid ONNX model (empty graph)")
    return model


class _Importer(QuantizedOps, QDQFusion, ContribOps, ConstantFolding, ElementwiseOps):
    def __init__(self, path, model):
        import onnx
        from onnx import numpy_helper
        self.onnx, self.nh = onnx, numpy_helper
        self.path = path
        self.g = model.graph
        self.em = Emitter()
        self.values: dict[str, Value] = {}
        self.consts: dict[str, np.ndarray] = {}
        self.layers: list[LayerInfo] = []
        # Names of the values that hold uint8 data as int8 (u - 128).
        self.uint8: set[str] = set()
        for init in self.g.initializer:
            self.consts[init.name] = numpy_helper.to_array(init)
        self.index_graph()
        # The default-domain opset (operator semantics changed across versions,
        # e.g. Softmax's axis in 13).
        self.opset = next((o.version for o in model.opset_import
                           if o.domain in ("", "ai.onnx")), 13)

    def fail(self, msg):
        raise FrontendError(f"{self.path}: node {self.idx} '{self.node.name}' "
                            f"({self.node.op_type}): {msg}")

    def attr(self, name, default=None):
        for a in self.node.attribute:
            if a.name == name:
                return self.onnx.helper.get_attribute_value(a)
        return default

    def const(self, name, what="input"):
        if name not in self.consts:
            self.fail(f"{what} '{name}' must be a constant initializer")
        return self.consts[name]

    def value(self, name) -> Value:
        if name in self.values:
            return self.values[name]
        if name in self.consts:
            a = self.consts[name]
            if a.dtype == np.uint8:   # the int8 carrier of uint8 data
                a = (a.astype(np.int16) - 128).astype(np.int8)
                self.uint8.add(name)
            if a.dtype == np.float64:
                a = a.astype(np.float32)
            if a.dtype not in (np.float32, np.int8, np.int16, np.int32, np.int64):
                self.fail(f"{a.dtype} constant '{name}' is not supported")
            v = self.em.constant(a)
            self.values[name] = v
            return v
        self.fail(f"input '{name}' is not computed before use")

    def run(self) -> ImportedModel:
        init_names = set(self.consts)
        inputs = []
        self.em.begin_operator(-1, "(inputs)", "")
        for vi in self.g.input:
            if vi.name in init_names:
                continue
            if not vi.type.HasField("tensor_type"):
                raise FrontendError(f"{self.path}: input '{vi.name}' is not a tensor "
                                    f"({vi.type.WhichOneof('value') or 'no type'}; "
                                    "sequences, maps and optionals are not supported)")
            tt = vi.type.tensor_type
            if tt.elem_type not in types.ELEM and tt.elem_type != types.UINT8:
                name = types.NAMES.get(tt.elem_type, tt.elem_type)
                raise FrontendError(f"{self.path}: input '{vi.name}' has unsupported type "
                                    f"{name} (supported: float, uint8, int8, int16, int32, "
                                    "int64)")
            dims = []
            for d in tt.shape.dim:
                if not d.HasField("dim_value") or d.dim_value < 0:
                    raise FrontendError(f"{self.path}: input '{vi.name}' has a dynamic "
                                        f"shape ({d.dim_param or '?'}); only static shapes "
                                        "are supported")
                if d.dim_value == 0:
                    raise FrontendError(f"{self.path}: input '{vi.name}' is empty (a "
                                        "dimension of size 0); not supported")
                dims.append(d.dim_value)
            if tt.elem_type == types.UINT8:
                self.values[vi.name] = self.flip(self.em.arg(dims, "i8"))
                self.uint8.add(vi.name)
                inputs.append(TensorSpec(vi.name, tuple(dims), np.dtype(np.uint8)))
                continue
            elem, dt = types.ELEM[tt.elem_type]
            self.values[vi.name] = self.em.arg(dims, elem)
            inputs.append(TensorSpec(vi.name, tuple(dims), np.dtype(dt)))
        for self.idx, self.node in enumerate(self.g.node):
            op = self.node.op_type
            if self.fold():   # also Gather and Cast, which run only on constants
                continue
            known = CONTRIB if self.node.domain == "com.microsoft" else SUPPORTED + ["Constant"]
            if self.node.domain not in ("", "ai.onnx", "com.microsoft") or op not in known:
                raise FrontendError(f"{self.path}: node {self.idx} '{self.node.name}' "
                                    f"({op}) is not supported (supported: "
                                    f"{', '.join(SUPPORTED)}; com.microsoft: "
                                    f"{', '.join(CONTRIB)}; on constants only: Gather, "
                                    "Cast)")
            if op == "Constant":
                self.consts[self.node.output[0]] = self.constant_node()
                continue
            self.em.begin_operator(self.idx, op, self.node.name)
            if id(self.node) in self.fused_nodes or op in FUSABLE and self.fuse_qdq():
                continue
            if op not in UINT8_OPS:
                for name in self.node.input:
                    if name and self.is_uint8(name):
                        self.fail(f"uint8 input '{name}' is not supported (uint8 tensors "
                                  f"may feed {', '.join(sorted(UINT8_OPS))})")
            out = getattr(self, "op_" + op)()
            self.values[self.node.output[0]] = out
            if op in ("MaxPool", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose",
                      "Concat") and self.is_uint8(self.node.input[0]):
                self.uint8.add(self.node.output[0])
        self.em.begin_operator(-1, "(outputs)", "")
        results, outputs = [], []
        for vi in self.g.output:
            v = self.value(vi.name)
            if self.is_uint8(vi.name):
                results.append(self.flip(v))
                outputs.append(TensorSpec(vi.name, v.shape, np.dtype(np.uint8)))
                continue
            results.append(v)
            outputs.append(TensorSpec(vi.name, v.shape,
                                      np.dtype({"f32": np.float32, "i8": np.int8,
                                                "i16": np.int16, "i32": np.int32,
                                                "i64": np.int64}[v.elem])))
        text = self.em.module(results)
        return ImportedModel(text, inputs, outputs, self.layers, self.path, "onnx",
                             self.em.operators)

    # --- helpers ---------------------------------------------------------------
    def constant_node(self) -> np.ndarray:
        for a in self.node.attribute:
            v = self.onnx.helper.get_attribute_value(a)
            if a.name == "value":
                return self.nh.to_array(v)
            if a.name in ("value_float", "value_floats"):
                return np.asarray(v, np.float32)
            if a.name in ("value_int", "value_ints"):
                return np.asarray(v, np.int64)
        self.fail("only value, value_float(s) and value_int(s) constants are supported")

    def nchw_to_nhwc(self, v):
        return self.em.transpose(v, (0, 2, 3, 1))

    def nhwc_to_nchw(self, v):
        return self.em.transpose(v, (0, 3, 1, 2))

    def layer(self, kind, w, matrix, macs):
        nz = np.count_nonzero(matrix)
        self.layers.append(LayerInfo(self.idx, self.node.name or self.node.output[0], kind,
                                     tuple(w.shape), tuple(matrix.shape), int(macs),
                                     int(matrix.nbytes),
                                     float(1 - nz / matrix.size) if matrix.size else 0.0,
                                     "i8" if matrix.dtype == np.int8 else "f32", matrix))

    def geometry(self, hw, kernel, one_d=False, ceil_mode=False):
        """ONNX conv / pool window geometry on two spatial axes (a 1-D op is taken
        as H = 1). Returns strides, dilations, pads [top, left, bottom, right],
        the output size (oh, ow) and the extra end padding (eh, ew) that
        ceil_mode windows reach beyond the padded input."""
        nsp = 1 if one_d else 2
        strides = [int(v) for v in self.attr("strides", [1] * nsp)]
        dil = [int(v) for v in self.attr("dilations", [1] * nsp)]
        pads = [int(v) for v in self.attr("pads", [0] * 2 * nsp)]
        if len(strides) != nsp or len(dil) != nsp or len(pads) != 2 * nsp:
            self.fail(f"strides / dilations / pads do not have {nsp} spatial axes")
        if one_d:
            strides, dil, pads = [1] + strides, [1] + dil, [0, pads[0], 0, pads[1]]
        auto = self.attr("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            if ceil_mode:
                self.fail("ceil_mode=1 with auto_pad is not supported")
            total = []
            for size, k, s, d in zip(hw, kernel, strides, dil):
                out = -(-size // s)
                total.append(max((out - 1) * s + (k - 1) * d + 1 - size, 0))
            lo = [t // 2 if auto == "SAME_UPPER" else t - t // 2 for t in total]
            pads = [lo[0], lo[1], total[0] - lo[0], total[1] - lo[1]]
        elif auto == "VALID":
            pads = [0, 0, 0, 0]
        elif auto != "NOTSET":
            self.fail(f"auto_pad={auto} is not supported")
        if any(p < 0 for p in pads) or any(s < 1 for s in strides) or any(d < 1 for d in dil):
            self.fail(f"pads {pads}, strides {strides}, dilations {dil} out of range")
        out, extra = [], []
        for i, (size, k, s, d) in enumerate(zip(hw, kernel, strides, dil)):
            eff = (k - 1) * d + 1
            span = size + pads[i] + pads[i + 2] - eff
            if span < 0:
                self.fail(f"the window ({eff}) is larger than the padded input "
                          f"({size + pads[i] + pads[i + 2]})")
            o = span // s + 1
            if ceil_mode:
                o = -(-span // s) + 1
                if (o - 1) * s >= size + pads[i]:   # the last window would start in the padding
                    o -= 1
            out.append(o)
            extra.append(max((o - 1) * s + eff - (size + pads[i] + pads[i + 2]), 0))
        return strides, dil, pads, tuple(out), tuple(extra)

    def to_2d(self, x):
        """NCL -> NC1L for 1-D conv / pool; NCHW unchanged; other ranks fail."""
        if len(x.shape) == 3:
            return self.em.reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2])), True
        if len(x.shape) != 4:
            self.fail(f"only 1-D and 2-D {self.node.op_type} is supported "
                      f"(input of rank {len(x.shape)})")
        return x, False

    def _conv(self, x, w, qx=None, one_d=False):
        """x NCHW value, w [O, C/g, KH, KW] array (or a float Value: a weight
        computed at run time) -> NHWC accumulator, 2-D weight matrix."""
        n, c, h, wd = x.shape
        o, ci, kh, kw = w.shape
        group = int(self.attr("group", 1))
        strides, dil, pads, (oh, ow), _ = self.geometry((h, wd), (kh, kw), one_d)
        if c != ci * group or o % group:
            self.fail(f"input channels {c}, weight {list(w.shape)} and group={group} "
                      "do not match")
        xh = self.nchw_to_nhwc(x)
        pad_val = 0.0 if x.elem == "f32" else (qx if qx is not None else 0)
        xp = self.em.pad(xh, [(0, 0), (pads[0], pads[2]), (pads[1], pads[3]), (0, 0)], pad_val)
        elem = "f32" if x.elem == "f32" else "i32"
        dynamic = isinstance(w, Value)
        if group == 1:
            if dynamic:  # [O, C, KH, KW] -> [O, KH, KW, C] -> [O, KH*KW*C] in the IR
                w2d = self.em.reshape(self.em.transpose(w, (0, 2, 3, 1)), (o, kh * kw * ci))
                wv = w2d
            else:
                w2d = np.ascontiguousarray(w.transpose(0, 2, 3, 1).reshape(o, kh * kw * ci))
                self.layer("Conv", w, w2d, n * oh * ow * o * kh * kw * ci)
                wv = self.em.constant(w2d, layer=len(self.layers) - 1)
            acc = self.em.conv2d(xp, wv, kh, kw, (oh, ow), strides, dil, elem)
        elif group == c and ci == 1:
            if dynamic:
                w2d = wv = self.em.reshape(w, (o, kh * kw))
            else:
                w2d = np.ascontiguousarray(w.reshape(o, kh * kw))
                self.layer("DepthwiseConv", w, w2d, n * oh * ow * o * kh * kw)
                wv = self.em.constant(w2d, layer=len(self.layers) - 1)
            acc = self.em.depthwise(xp, wv, kh, kw, o // c, (oh, ow), strides, dil, elem)
        else:
            self.fail(f"grouped convolution with group={group} is not supported")
        return acc, w2d

    def _matrix(self, a, w2d, kind):
        """a [.., K] value, w2d [O, K] -> [rows, O] accumulator."""
        k = a.shape[-1]
        if w2d.shape[1] != k:
            self.fail(f"inner dimensions do not match: {list(a.shape)} x {list(w2d.shape)} (transposed)")
        rows = int(np.prod(a.shape[:-1]))
        self.layer(kind, w2d, w2d, rows * w2d.shape[0] * k)
        x = self.em.reshape(a, (rows, k))
        return self.em.dense(x, self.em.constant(w2d, layer=len(self.layers) - 1), "f32" if a.elem == "f32" else "i32")

    def _matmul(self, a, b):
        """numpy.matmul of two values (1-D operands promoted, batch dimensions
        broadcast): a linalg.generic, for operands that are not a 2-D constant B."""
        if a.elem != b.elem or a.elem not in ("f32", "i32", "i64"):
            self.fail(f"MatMul of {a.elem} x {b.elem} values is not supported (float, "
                      "int32 or int64 of one type)")
        if not a.shape or not b.shape:
            self.fail("MatMul of a scalar is not valid")
        a1, b1 = len(a.shape) == 1, len(b.shape) == 1
        if a1:
            a = self.em.reshape(a, (1, a.shape[0]))
        if b1:
            b = self.em.reshape(b, (b.shape[0], 1))
        (m, k), (k2, n) = a.shape[-2:], b.shape[-2:]
        if k != k2:
            self.fail(f"inner dimensions do not match: {list(a.shape)} x {list(b.shape)}")
        try:
            batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
        except ValueError:
            self.fail(f"batch dimensions do not broadcast: {list(a.shape)} x {list(b.shape)}")
        nb = len(batch)
        loops = nb + 3  # batch..., m, n, k

        def operand_map(shape, last2):
            off = nb - (len(shape) - 2)
            res = ["0" if d == 1 and batch[i + off] != 1 else f"d{i + off}"
                   for i, d in enumerate(shape[:-2])]
            return amap(loops, res + last2)
        maps = [(a, operand_map(a.shape, [f"d{nb}", f"d{nb + 2}"])),
                (b, operand_map(b.shape, [f"d{nb + 2}", f"d{nb + 1}"]))]
        out_shape = batch + (m, n)
        init = self.em.filled(out_shape, a.elem, 0)
        f = a.elem == "f32"

        def body(bd, v, o):
            p = bd.op(f"arith.{'mulf' if f else 'muli'} {v[0]}, {v[1]} : {a.elem}")
            return bd.op(f"arith.{'addf' if f else 'addi'} {o}, {p} : {a.elem}")
        y = self.em.generic(maps, out_shape, a.elem,
                            amap(loops, [f"d{i}" for i in range(nb + 2)]),
                            ["parallel"] * (nb + 2) + ["reduction"], body, init=init)
        return self.em.reshape(y, batch + (() if a1 else (m,)) + (() if b1 else (n,)))

    def _f(self, fn, *vals, shape=None):
        shape = shape or np.broadcast_shapes(*[v.shape for v in vals])
        return self.em.map(list(vals), shape, "f32", fn)

    def _binary(self, fop, iop):
        a, b = self.value(self.node.input[0]), self.value(self.node.input[1])
        if a.elem != b.elem:
            self.fail(f"operands of different types ({a.elem}, {b.elem})")
        try:
            shape = np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            self.fail(f"shapes {list(a.shape)} and {list(b.shape)} do not broadcast")
        op = fop if a.elem == "f32" else iop  # integer ops wrap around, as numpy's do
        u8 = [self.is_uint8(n) for n in self.node.input[:2]]
        if u8[0] != u8[1]:
            self.fail("operands of different types (uint8 and int8)")
        if not u8[0]:
            return self.em.map([a, b], shape, a.elem,
                               lambda bd, v: bd.op(f"arith.{op} {v[0]}, {v[1]} : {a.elem}"))
        self.uint8.add(self.node.output[0])
        op = "divui" if op == "divsi" else op

        def wrapped(bd, v):   # on the uint8 bits (the same bits wrap alike), flipped back
            flip = bd.const(-128, "i8")
            raw = [bd.op(f"arith.xori {x}, {flip} : i8") for x in v]
            return bd.op(f"arith.xori {bd.op(f'arith.{op} {raw[0]}, {raw[1]} : i8')}, "
                         f"{flip} : i8")
        return self.em.map([a, b], shape, "i8", wrapped)

    def _float_only(self, v, what="input"):
        if v.elem != "f32":
            self.fail(f"{self.node.op_type} of a {v.elem} {what} is not supported (float only)")
        return v

    # --- float operators ------------------------------------------------------
    def op_Conv(self):
        x = self._float_only(self.value(self.node.input[0]))
        wname = self.node.input[1]
        if wname in self.consts:
            w = self.consts[wname].astype(np.float32)
        else:  # a weight computed at run time (float): no constant, no sparse layout
            w = self._float_only(self.value(wname), "weight")
        if len(w.shape) != len(x.shape):
            self.fail(f"weight of rank {len(w.shape)} for an input of rank {len(x.shape)}")
        x, one_d = self.to_2d(x)
        if one_d:
            w = self.em.reshape(w, (w.shape[0], w.shape[1], 1, w.shape[2])) \
                if isinstance(w, Value) else w[:, :, None, :]
        acc, _ = self._conv(x, w, one_d=one_d)
        if len(self.node.input) > 2 and self.node.input[2]:
            b = self.value(self.node.input[2])
            if b.shape != (acc.shape[-1],):
                self.fail(f"bias of shape {list(b.shape)} for {acc.shape[-1]} output channels")
            acc = self._f(lambda bd, a: bd.op(f"arith.addf {a[0]}, {a[1]} : f32"), acc, b,
                          shape=acc.shape)
        y = self.nhwc_to_nchw(acc)
        return self.em.reshape(y, (y.shape[0], y.shape[1], y.shape[3])) if one_d else y

    def op_Gemm(self):
        a = self._float_only(self.value(self.node.input[0]))
        if len(a.shape) != 2:
            self.fail(f"A must be 2-D (is {list(a.shape)})")
        if self.attr("transA", 0):
            a = self.em.transpose(a, (1, 0))
        alpha, beta = float(self.attr("alpha", 1.0)), float(self.attr("beta", 1.0))
        bname = self.node.input[1]
        if bname in self.consts and self.consts[bname].ndim == 2:
            b = self.consts[bname].astype(np.float32)
            w2d = b if self.attr("transB", 0) else np.ascontiguousarray(b.T)
            if alpha != 1.0:
                w2d = (w2d * np.float32(alpha)).astype(np.float32)
            y = self._matrix(a, np.ascontiguousarray(w2d), "Gemm")
        else:  # B computed at run time: alpha * A @ B
            b = self._float_only(self.value(bname), "B")
            if len(b.shape) != 2:
                self.fail(f"B must be 2-D (is {list(b.shape)})")
            if self.attr("transB", 0):
                b = self.em.transpose(b, (1, 0))
            y = self._matmul(a, b)
            if alpha != 1.0:
                y = self._f(lambda bd, v: bd.op(f"arith.mulf {v[0]}, "
                                                f"{bd.const(alpha, 'f32')} : f32"), y)
        if len(self.node.input) > 2 and self.node.input[2]:
            cname = self.node.input[2]
            if cname in self.consts:
                c = self.consts[cname].astype(np.float32) * np.float32(beta)
                cv, cbeta = self.em.constant(c.astype(np.float32)), 1.0
            else:
                cv, cbeta = self._float_only(self.value(cname), "C"), beta
            try:
                np.broadcast_shapes(cv.shape, y.shape)
            except ValueError:
                self.fail(f"C of shape {list(cv.shape)} does not broadcast to {list(y.shape)}")

            def add(bd, v):
                c = v[1] if cbeta == 1.0 else \
                    bd.op(f"arith.mulf {v[1]}, {bd.const(cbeta, 'f32')} : f32")
                return bd.op(f"arith.addf {v[0]}, {c} : f32")
            y = self._f(add, y, cv, shape=y.shape)
        return y

    def op_MatMul(self):
        a = self.value(self.node.input[0])
        bname = self.node.input[1]
        if bname in self.consts and self.consts[bname].ndim == 2 and a.elem == "f32":
            b = self.consts[bname]
            y = self._matrix(a, np.ascontiguousarray(b.T.astype(np.float32)), "MatMul")
            return self.em.reshape(y, a.shape[:-1] + (b.shape[1],))
        # B computed at run time (or not a matrix): a plain product, no weight layer
        return self._matmul(a, self.value(bname))

    def op_Relu(self):
        x = self.value(self.node.input[0])
        if x.elem == "f32":
            return self._f(lambda b, a: b.op(f"arith.maximumf {a[0]}, {b.const(0.0, 'f32')} "
                                             ": f32"), x)
        return self.em.map([x], x.shape, x.elem, lambda b, a: b.op(
            f"arith.maxsi {a[0]}, {b.const(0, x.elem)} : {x.elem}"))

    def op_Clip(self):
        x = self.value(self.node.input[0])
        f = x.elem == "f32"
        bounds = []  # (op, constant or None, Value or None)
        if self.opset < 11:
            for name, op in (("min", "max"), ("max", "min")):
                if self.attr(name) is not None:
                    bounds.append((op, float(self.attr(name)), None))
        for i, op in ((1, "max"), (2, "min")):
            if len(self.node.input) > i and self.node.input[i]:
                name = self.node.input[i]
                if name in self.consts:
                    v = np.asarray(self.consts[name])
                    if v.size != 1:
                        self.fail(f"{'min' if i == 1 else 'max'} must be a scalar")
                    bounds.append((op, v.ravel()[0], None))
                else:
                    v = self.value(name)
                    if v.elem != x.elem or int(np.prod(v.shape)) != 1:
                        self.fail(f"{'min' if i == 1 else 'max'} must be a {x.elem} scalar")
                    bounds.append((op, None, self.em.reshape(v, ())))
        ins = [x] + [v for _, _, v in bounds if v is not None]

        def fn(b, a):
            v, j = a[0], 1
            for op, c, val in bounds:
                if val is None:
                    bound = b.const(float(c) if f else int(c), x.elem)
                else:
                    bound, j = a[j], j + 1
                v = b.op(f"arith.{op + 'imumf' if f else op + 'si'} {v}, {bound} : {x.elem}")
            return v
        return self.em.map(ins, x.shape, x.elem, fn)

    def op_Add(self):
        return self._binary("addf", "addi")

    def op_Sub(self):
        return self._binary("subf", "subi")

    def op_Mul(self):
        return self._binary("mulf", "muli")

    def op_Div(self):
        # Integer division truncates toward zero, as ONNX (and C) define it.
        return self._binary("divf", "divsi")

    def op_Identity(self):
        if self.is_uint8(self.node.input[0]):
            self.uint8.add(self.node.output[0])
        return self.value(self.node.input[0])

    def op_Transpose(self):
        x = self.value(self.node.input[0])
        r = len(x.shape)
        perm = [int(p) for p in self.attr("perm", list(range(r))[::-1])]
        if sorted(perm) != list(range(r)):
            self.fail(f"perm {perm} is not a permutation of {r} axes")
        return self.em.transpose(x, perm)

    def _axes(self, default=None):
        """The axes of Squeeze / Unsqueeze: the attribute (opset < 13) or input 1."""
        if len(self.node.input) > 1 and self.node.input[1]:
            return [int(a) for a in np.ravel(self.const(self.node.input[1], "axes"))]
        axes = self.attr("axes")
        return default if axes is None else [int(a) for a in axes]

    def op_Squeeze(self):
        x = self.value(self.node.input[0])
        r = len(x.shape)
        axes = self._axes([i for i, d in enumerate(x.shape) if d == 1])
        if any(not -r <= a < r for a in axes):
            self.fail(f"axes {axes} out of range for rank {r}")
        axes = {a % r for a in axes}
        if any(x.shape[a] != 1 for a in axes):
            self.fail(f"cannot squeeze axes {sorted(axes)} of shape {list(x.shape)}")
        return self.em.reshape(x, [d for i, d in enumerate(x.shape) if i not in axes])

    def op_Unsqueeze(self):
        x = self.value(self.node.input[0])
        axes = self._axes()
        if axes is None:
            self.fail("axes are missing")
        r = len(x.shape) + len(axes)
        axes = sorted(a % r for a in axes) if all(-r <= a < r for a in axes) else None
        if axes is None or len(set(axes)) != len(axes):
            self.fail(f"invalid axes for an output of rank {r}")
        dims = iter(x.shape)
        return self.em.reshape(x, [1 if i in axes else next(dims) for i in range(r)])

    def op_Shape(self):   # fold() computes every Shape (static shapes)
        self.fail(f"input '{self.node.input[0]}' is not computed before use")

    def op_Slice(self):
        x = self.value(self.node.input[0])
        params = [self.const(n, "Slice parameter") for n in self.node.input[1:] if n]
        index = self._slices([np.zeros(x.shape, np.int8)] + [np.asarray(p) for p in params])
        offsets, sizes, strides = [], [], []
        for dim, sl in zip(x.shape, index):
            start, stop, step = sl.indices(dim)
            if step < 0:
                self.fail("Slice with a negative step of a computed tensor is not supported")
            size = max(0, -(-(stop - start) // step))
            offsets.append(start if size else 0)   # an empty slice may start anywhere
            sizes.append(size)
            strides.append(step)
        if tuple(sizes) == x.shape:
            return x
        return self.em.extract_slice(x, offsets, sizes, strides)

    def op_Concat(self):
        names = [n for n in self.node.input if n]
        if len({self.is_uint8(n) for n in names}) > 1:
            self.fail("inputs of different types (uint8 and int8)")
        vals = [self.value(n) for n in names]
        r = len(vals[0].shape)
        axis = int(self.attr("axis", 0))
        if not -r <= axis < r:
            self.fail(f"axis {axis} out of range for rank {r}")
        axis %= r
        for v in vals[1:]:
            if v.elem != vals[0].elem or len(v.shape) != r or any(
                    a != b for i, (a, b) in enumerate(zip(v.shape, vals[0].shape)) if i != axis):
                self.fail(f"inputs {[list(v.shape) for v in vals]} of types "
                          f"{[v.elem for v in vals]} do not concatenate on axis {axis}")
        if len(vals) == 1:
            return vals[0]
        return self.em.concat(vals, axis)

    def _pool(self, kind, x=None):
        """MaxPool / AveragePool of input 0 (or of `x`)."""
        x = self.value(self.node.input[0]) if x is None else x
        if x.elem != "f32" and not (kind == "max" and x.elem == "i8"):
            self.fail(f"{self.node.op_type} of {x.elem} is not supported")
        x, one_d = self.to_2d(x)
        ceil = bool(self.attr("ceil_mode", 0))
        kernel = [int(k) for k in self.attr("kernel_shape")]
        if len(kernel) != (1 if one_d else 2):
            self.fail(f"kernel_shape {kernel} does not match the input")
        kh, kw = ([1] + kernel) if one_d else kernel
        n, c, h, w = x.shape
        strides, dil, pads, (oh, ow), extra = self.geometry((h, w), (kh, kw), one_d, ceil)
        f = x.elem == "f32"
        low = np.float32(-np.inf) if f else -128
        xp = self.em.pad(self.nchw_to_nhwc(x), [(0, 0), (pads[0], pads[2] + extra[0]),
                                                (pads[1], pads[3] + extra[1]), (0, 0)],
                         low if kind == "max" else 0.0)
        init = self.em.filled((n, oh, ow, c), x.elem, low if kind == "max" else 0.0)
        x_map = amap(6, ["d0", f"d1 * {strides[0]} + d4 * {dil[0]}",
                         f"d2 * {strides[1]} + d5 * {dil[1]}", "d3"])
        window = self.em.empty((kh, kw), "i8")  # gives the window loops their bounds
        op = ("addf" if kind == "sum" or kind == "avg" else "maximumf") if f else "maxsi"
        y = self.em.generic([(xp, x_map), (window, amap(6, ["d4", "d5"]))], (n, oh, ow, c),
                            x.elem, amap(6, ["d0", "d1", "d2", "d3"]),
                            ["parallel"] * 4 + ["reduction"] * 2,
                            lambda b, a, o: b.op(f"arith.{op} {o}, {a[0]} : {x.elem}"),
                            init=init)
        if kind == "avg":
            # divisor per output position: the window's elements inside the input
            # (count_include_pad=0) or inside the padded input (=1), never the
            # ceil_mode overhang
            inc = bool(self.attr("count_include_pad", 0))

            def axis_counts(o, s, d, k, lo, size, hi):
                a, z = (-lo, size + hi) if inc else (0, size)
                return np.array([sum(1 for t in range(k) if a <= i * s - lo + t * d < z)
                                 for i in range(o)], np.float32)
            counts = np.outer(axis_counts(oh, strides[0], dil[0], kh, pads[0], h, pads[2]),
                              axis_counts(ow, strides[1], dil[1], kw, pads[1], w, pads[3]))
            cnt = self.em.constant(counts.astype(np.float32))
            y = self.em.generic([(y, identity(4)), (cnt, amap(4, ["d1", "d2"]))], y.shape,
                                "f32", identity(4), ["parallel"] * 4,
                                lambda b, a, _o: b.op(f"arith.divf {a[0]}, {a[1]} : f32"))
        y = self.nhwc_to_nchw(y)
        return self.em.reshape(y, (n, c, ow)) if one_d else y

    def op_MaxPool(self):
        if len(self.node.output) > 1 and self.node.output[1]:
            self.fail("the Indices output is not supported")
        return self._pool("max")

    def op_AveragePool(self):
        return self._pool("avg")

    def op_ReduceMean(self):
        x = self._float_only(self.value(self.node.input[0]))
        r = len(x.shape)
        if len(self.node.input) > 1 and self.node.input[1]:
            axes = [int(a) for a in np.ravel(self.const(self.node.input[1], "axes"))]
        else:
            axes = self.attr("axes")
            axes = None if axes is None else [int(a) for a in axes]
        if not axes:
            if self.attr("noop_with_empty_axes", 0):
                return x
            axes = list(range(r))
        if any(not -r <= a < r for a in axes):
            self.fail(f"axes {axes} out of range for rank {r}")
        axes = sorted({a % r for a in axes})
        count = float(np.prod([x.shape[a] for a in axes]))
        keep = bool(self.attr("keepdims", 1))
        s = self.em.reduce(x, axes, "sum", "f32", keep)
        return self._f(lambda b, a: b.op(f"arith.divf {a[0]}, {b.const(count, 'f32')} : f32"),
                       s)

    def op_Pad(self):
        x = self.value(self.node.input[0])
        mode = self.attr("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode != "constant":
            self.fail(f"mode '{mode}' is not supported (constant only)")
        r = len(x.shape)
        inputs = self.node.input
        if len(inputs) > 1 and inputs[1]:
            pads = [int(p) for p in np.ravel(self.const(inputs[1], "pads"))]
        else:
            pads = [int(p) for p in self.attr("pads", [])]
        value = 0
        if len(inputs) > 2 and inputs[2]:
            value = np.ravel(self.const(inputs[2], "constant_value"))[0]
        elif self.attr("value") is not None:
            value = float(self.attr("value"))
        axes = list(range(r))
        if len(inputs) > 3 and inputs[3]:
            axes = [int(a) % r for a in np.ravel(self.const(inputs[3], "axes"))]
        if len(pads) != 2 * len(axes):
            self.fail(f"{len(pads)} pads for {len(axes)} axes")
        if any(p < 0 for p in pads):
            self.fail("negative pads (cropping) are not supported")
        widths = [(0, 0)] * r
        for i, a in enumerate(axes):
            widths[a] = (pads[i], pads[i + len(axes)])
        if self.is_uint8(inputs[0]):
            value = int(value) - 128
            self.uint8.add(self.node.output[0])
        return self.em.pad(x, widths, float(value) if x.elem == "f32" else int(value))

    def op_GlobalAveragePool(self):
        x = self._float_only(self.value(self.node.input[0]))
        if len(x.shape) < 3:
            self.fail(f"input of rank {len(x.shape)} has no spatial axes")
        count = int(np.prod(x.shape[2:]))
        s = self.em.reduce(x, list(range(2, len(x.shape))), "sum", "f32", True)
        return self._f(lambda b, a: b.op(f"arith.divf {a[0]}, {b.const(float(count), 'f32')} "
                                         ": f32"), s)

    def op_Flatten(self):
        x = self.value(self.node.input[0])
        r = len(x.shape)
        axis = int(self.attr("axis", 1))
        if not -r <= axis <= r:
            self.fail(f"axis {axis} out of range for rank {r}")
        axis = axis + r if axis < 0 else axis
        return self.em.reshape(x, (int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:]))))

    def op_Reshape(self):
        x = self.value(self.node.input[0])
        shape = [int(d) for d in self.const(self.node.input[1], "shape")]
        allowzero = self.attr("allowzero", 0)
        shape = [x.shape[i] if d == 0 and not allowzero else d for i, d in enumerate(shape)]
        if shape.count(-1) > 1 or any(d < -1 for d in shape):
            self.fail(f"invalid shape {shape}")
        if -1 in shape:
            known = int(np.prod([d for d in shape if d != -1]))
            shape[shape.index(-1)] = int(np.prod(x.shape)) // known if known else 0
        if int(np.prod(shape)) != int(np.prod(x.shape)):
            self.fail(f"cannot reshape {list(x.shape)} to {shape}")
        return self.em.reshape(x, shape)

    def _softmax_last(self, x):
        r = len(x.shape)
        mx = self.em.reduce(x, [r - 1], "max", "f32", False)
        rows = amap(r, [f"d{i}" for i in range(r - 1)])

        def expf(b, a, _o):
            d = b.op(f"arith.subf {a[0]}, {a[1]} : f32")
            return b.op(f"math.exp {d} : f32")
        e = self.em.generic([(x, identity(r)), (mx, rows)], x.shape, "f32", identity(r),
                            ["parallel"] * r, expf)
        s = self.em.reduce(e, [r - 1], "sum", "f32", False)
        return self.em.generic([(e, identity(r)), (s, rows)], x.shape, "f32", identity(r),
                               ["parallel"] * r,
                               lambda b, a, _o: b.op(f"arith.divf {a[0]}, {a[1]} : f32"))

    def op_Softmax(self):
        x = self._float_only(self.value(self.node.input[0]))
        r = len(x.shape)
        if r == 0:
            self.fail("Softmax of a scalar")
        axis = int(self.attr("axis", -1 if self.opset >= 13 else 1))
        if not -r <= axis < r:
            self.fail(f"axis {axis} out of range for rank {r}")
        axis %= r
        if self.opset < 13:  # the input is coerced to 2-D [prod(:axis), prod(axis:)]
            flat = (int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:])))
            return self.em.reshape(self._softmax_last(self.em.reshape(x, flat)), x.shape)
        if axis == r - 1:
            return self._softmax_last(x)
        perm = [i for i in range(r) if i != axis] + [axis]
        y = self._softmax_last(self.em.transpose(x, perm))
        return self.em.transpose(y, [perm.index(i) for i in range(r)])


def import_onnx(path: str | os.PathLike) -> ImportedModel:
    path = os.fspath(path)
    model = _load(path)
    try:
        return _Importer(path, model).run()
    except FrontendError:
        raise
    except (IndexError, KeyError, TypeError, ValueError, AttributeError) as e:
        raise FrontendError(f"{path}: cannot import ({type(e).__name__}: {e})") from None
