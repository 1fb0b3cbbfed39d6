"""ONNX (.onnx protobuf) -> MLIR on tensors.

Float models and int8 QDQ / QOperator models with static shapes: Gemm,
MatMul, Conv, Relu, Clip, Add, Mul, MaxPool, AveragePool, GlobalAveragePool,
Flatten, Reshape, Softmax, QuantizeLinear, DequantizeLinear, QLinearConv,
QLinearMatMul. Tensors keep ONNX's NCHW layout at the graph level; convolutions
and pools transpose to NHWC around the kernel so that they share the TFLite
path's im2col + matmul (2-D weight constants, out x kh*kw*in).

QDQ models are imported node by node (DequantizeLinear -> float op ->
QuantizeLinear), which is what onnxruntime computes with graph optimisations
off. QLinearConv / QLinearMatMul requantise as onnxruntime does: the int32
accumulator times a float32 scale, rounded half to even, saturated.
Quantized tensors must be int8 (uint8 is reported as unsupported).
"""
from __future__ import annotations

import os

import numpy as np

from mcusparse.frontend.emit import Emitter, Value
from mcusparse.frontend.model import FrontendError, ImportedModel, LayerInfo, TensorSpec

_ELEM = {1: ("f32", np.float32), 3: ("i8", np.int8), 6: ("i32", np.int32),
         7: ("i64", np.int64)}
_NAMES = {1: "float", 2: "uint8", 3: "int8", 6: "int32", 7: "int64", 10: "float16",
          11: "double"}
SUPPORTED = ["Gemm", "MatMul", "Conv", "Relu", "Clip", "Add", "Mul", "MaxPool",
             "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Softmax",
             "QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul"]


def _load(path: str):
    import onnx
    from google.protobuf.message import DecodeError
    with open(path, "rb") as f:
        raw = f.read()
    try:
        model = onnx.load_model_from_string(raw)
    except (DecodeError, ValueError, RuntimeError) as e:
        raise FrontendError(f"{path}: not a valid ONNX model (truncated or corrupt: {e})") \
            from None
    if not model.graph.node and not model.graph.output:
        raise FrontendError(f"{path}: not a valid ONNX model (empty graph)")
    return model


class _Importer:
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
        for init in self.g.initializer:
            self.consts[init.name] = numpy_helper.to_array(init)

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
            if a.dtype == np.uint8:
                self.fail("uint8 tensors are not supported (int8 only)")
            if a.dtype == np.float64:
                a = a.astype(np.float32)
            v = self.em.constant(a)
            self.values[name] = v
            return v
        self.fail(f"input '{name}' is not computed before use")

    def run(self) -> ImportedModel:
        init_names = set(self.consts)
        inputs = []
        for vi in self.g.input:
            if vi.name in init_names:
                continue
            tt = vi.type.tensor_type
            if tt.elem_type not in _ELEM:
                raise FrontendError(f"{self.path}: input '{vi.name}' has unsupported type "
                                    f"{_NAMES.get(tt.elem_type, tt.elem_type)}")
            dims = []
            for d in tt.shape.dim:
                if not d.HasField("dim_value") or d.dim_value <= 0:
                    raise FrontendError(f"{self.path}: input '{vi.name}' has a dynamic "
                                        f"shape ({d.dim_param or '?'}); only static shapes "
                                        "are supported")
                dims.append(d.dim_value)
            elem, dt = _ELEM[tt.elem_type]
            self.values[vi.name] = self.em.arg(dims, elem)
            inputs.append(TensorSpec(vi.name, tuple(dims), np.dtype(dt)))
        for self.idx, self.node in enumerate(self.g.node):
            op = self.node.op_type
            if self.node.domain not in ("", "ai.onnx", "com.microsoft") or \
                    op not in SUPPORTED and op != "Constant":
                raise FrontendError(f"{self.path}: node {self.idx} '{self.node.name}' "
                                    f"({op}) is not supported (supported: "
                                    f"{', '.join(SUPPORTED)})")
            if op == "Constant":
                self.consts[self.node.output[0]] = self.nh.to_array(self.attr("value"))
                continue
            out = getattr(self, "op_" + op)()
            self.values[self.node.output[0]] = out
        results, outputs = [], []
        for vi in self.g.output:
            v = self.value(vi.name)
            results.append(v)
            outputs.append(TensorSpec(vi.name, v.shape,
                                      np.dtype({"f32": np.float32, "i8": np.int8,
                                                "i32": np.int32, "i64": np.int64}[v.elem])))
        return ImportedModel(self.em.module(results), inputs, outputs, self.layers,
                             self.path, "onnx")

    # --- helpers ---------------------------------------------------------------
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

    def conv_geometry(self, x_shape, w_shape):
        n, c, h, w = x_shape
        o, ci, kh, kw = w_shape
        group = self.attr("group", 1)
        strides = list(self.attr("strides", [1, 1]))
        dil = list(self.attr("dilations", [1, 1]))
        pads = list(self.attr("pads", [0, 0, 0, 0]))
        auto = self.attr("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            pads = []
            for size, k, s, d in ((h, kh, strides[0], dil[0]), (w, kw, strides[1], dil[1])):
                out = -(-size // s)
                total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
                lo = total // 2 if auto == "SAME_UPPER" else total - total // 2
                pads.append((lo, total - lo))
            pads = [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]
        elif auto == "VALID":
            pads = [0, 0, 0, 0]
        oh = (h + pads[0] + pads[2] - (kh - 1) * dil[0] - 1) // strides[0] + 1
        ow = (w + pads[1] + pads[3] - (kw - 1) * dil[1] - 1) // strides[1] + 1
        return group, strides, dil, pads, oh, ow

    def _conv(self, x, w, qx=None):
        """x NCHW value, w [O, C/g, KH, KW] array -> NHWC accumulator, geometry."""
        n, c, h, wd = x.shape
        o, ci, kh, kw = w.shape
        group, strides, dil, pads, oh, ow = self.conv_geometry(x.shape, w.shape)
        xh = self.nchw_to_nhwc(x)
        pad_val = 0.0 if x.elem == "f32" else (qx if qx is not None else 0)
        xp = self.em.pad(xh, [(0, 0), (pads[0], pads[2]), (pads[1], pads[3]), (0, 0)], pad_val)
        elem = "f32" if x.elem == "f32" else "i32"
        if group == 1:
            w2d = np.ascontiguousarray(w.transpose(0, 2, 3, 1).reshape(o, kh * kw * ci))
            self.layer("Conv", w, w2d, n * oh * ow * o * kh * kw * ci)
            acc = self.em.conv2d(xp, self.em.constant(w2d, layer=len(self.layers) - 1), kh, kw, (oh, ow), strides, dil, elem)
        elif group == c and ci == 1:
            w2d = np.ascontiguousarray(w.reshape(o, kh * kw))
            self.layer("DepthwiseConv", w, w2d, n * oh * ow * o * kh * kw)
            acc = self.em.depthwise(xp, self.em.constant(w2d, layer=len(self.layers) - 1), kh, kw, o // c, (oh, ow),
                                    strides, dil, elem)
        else:
            self.fail(f"grouped convolution with group={group} is not supported")
        return acc, w2d

    def _matrix(self, a, w2d, kind):
        """a [.., K] value, w2d [O, K] -> [rows, O] accumulator."""
        k = a.shape[-1]
        rows = int(np.prod(a.shape[:-1]))
        self.layer(kind, w2d, w2d, rows * w2d.shape[0] * k)
        x = self.em.reshape(a, (rows, k))
        return self.em.dense(x, self.em.constant(w2d, layer=len(self.layers) - 1), "f32" if a.elem == "f32" else "i32")

    def _f(self, fn, *vals, shape=None):
        shape = shape or np.broadcast_shapes(*[v.shape for v in vals])
        return self.em.map(list(vals), shape, "f32", fn)

    # --- float operators ------------------------------------------------------
    def op_Conv(self):
        x = self.value(self.node.input[0])
        w = self.const(self.node.input[1], "weight").astype(np.float32)
        acc, _ = self._conv(x, w)
        if len(self.node.input) > 2 and self.node.input[2]:
            b = self.value(self.node.input[2])
            acc = self._f(lambda bd, a: bd.op(f"arith.addf {a[0]}, {a[1]} : f32"), acc, b,
                          shape=acc.shape)
        return self.nhwc_to_nchw(acc)

    def op_Gemm(self):
        a = self.value(self.node.input[0])
        b = self.const(self.node.input[1], "B").astype(np.float32)
        if self.attr("transA", 0):
            a = self.em.transpose(a, (1, 0))
        w2d = b if self.attr("transB", 0) else np.ascontiguousarray(b.T)
        alpha, beta = float(self.attr("alpha", 1.0)), float(self.attr("beta", 1.0))
        if alpha != 1.0:
            w2d = (w2d * np.float32(alpha)).astype(np.float32)
        y = self._matrix(a, np.ascontiguousarray(w2d), "Gemm")
        if len(self.node.input) > 2 and self.node.input[2]:
            c = self.const(self.node.input[2], "C").astype(np.float32) * np.float32(beta)
            cv = self.em.constant(c.astype(np.float32))
            y = self._f(lambda bd, v: bd.op(f"arith.addf {v[0]}, {v[1]} : f32"), y, cv,
                        shape=y.shape)
        return y

    def op_MatMul(self):
        a = self.value(self.node.input[0])
        b = self.const(self.node.input[1], "B (non-constant MatMul operands are not "
                                           "supported)")
        if b.ndim != 2:
            self.fail("only a 2-D constant B is supported")
        y = self._matrix(a, np.ascontiguousarray(b.T.astype(np.float32)), "MatMul")
        return self.em.reshape(y, a.shape[:-1] + (b.shape[1],))

    def op_Relu(self):
        return self._f(lambda b, a: b.op(f"arith.maximumf {a[0]}, {b.const(0.0, 'f32')} : f32"),
                       self.value(self.node.input[0]))

    def op_Clip(self):
        x = self.value(self.node.input[0])
        lo, hi = self.attr("min"), self.attr("max")
        if len(self.node.input) > 1 and self.node.input[1]:
            lo = float(self.const(self.node.input[1], "min"))
        if len(self.node.input) > 2 and self.node.input[2]:
            hi = float(self.const(self.node.input[2], "max"))

        def fn(b, a):
            v = a[0]
            if lo is not None:
                v = b.op(f"arith.maximumf {v}, {b.const(lo, 'f32')} : f32")
            if hi is not None:
                v = b.op(f"arith.minimumf {v}, {b.const(hi, 'f32')} : f32")
            return v
        return self._f(fn, x)

    def op_Add(self):
        a, b = self.value(self.node.input[0]), self.value(self.node.input[1])
        return self._f(lambda bd, v: bd.op(f"arith.addf {v[0]}, {v[1]} : f32"), a, b)

    def op_Mul(self):
        a, b = self.value(self.node.input[0]), self.value(self.node.input[1])
        return self._f(lambda bd, v: bd.op(f"arith.mulf {v[0]}, {v[1]} : f32"), a, b)

    def _pool(self, kind):
        x = self.value(self.node.input[0])
        if x.elem != "f32" or len(x.shape) != 4:
            self.fail("only 4-D float pooling is supported")
        if self.attr("ceil_mode", 0):
            self.fail("ceil_mode=1 is not supported")
        kh, kw = self.attr("kernel_shape")
        fake_w = (1, 1, kh, kw)
        _, strides, dil, pads, oh, ow = self.conv_geometry(x.shape, fake_w)
        if dil != [1, 1]:
            self.fail("dilated pooling is not supported")
        n, c, h, w = x.shape
        xh = self.nchw_to_nhwc(x)
        fill = np.float32(-np.inf) if kind == "max" else 0.0
        xp = self.em.pad(xh, [(0, 0), (pads[0], pads[2]), (pads[1], pads[3]), (0, 0)], fill)
        y = self.em.pool(xp, kh, kw, (oh, ow), strides, "max" if kind == "max" else "sum",
                         "f32")
        if kind == "avg":
            from mcusparse.frontend.emit import amap, identity
            counts = np.full((oh, ow), kh * kw, np.float32)
            if not self.attr("count_include_pad", 0):
                for i in range(oh):
                    y0 = i * strides[0] - pads[0]
                    ny = min(y0 + kh, h) - max(y0, 0)
                    for j in range(ow):
                        x0 = j * strides[1] - pads[1]
                        counts[i, j] = ny * (min(x0 + kw, w) - max(x0, 0))
            cnt = self.em.constant(counts)
            y = self.em.generic([(y, identity(4)), (cnt, amap(4, ["d1", "d2"]))], y.shape,
                                "f32", identity(4), ["parallel"] * 4,
                                lambda b, a, _o: b.op(f"arith.divf {a[0]}, {a[1]} : f32"))
        return self.nhwc_to_nchw(y)

    def op_MaxPool(self):
        if len(self.node.output) > 1 and self.node.output[1]:
            self.fail("the Indices output is not supported")
        return self._pool("max")

    def op_AveragePool(self):
        return self._pool("avg")

    def op_GlobalAveragePool(self):
        x = self.value(self.node.input[0])
        n, c = x.shape[:2]
        count = int(np.prod(x.shape[2:]))
        s = self.em.reduce(x, list(range(2, len(x.shape))), "sum", "f32", True)
        return self._f(lambda b, a: b.op(f"arith.divf {a[0]}, {b.const(float(count), 'f32')} "
                                         ": f32"), s)

    def op_Flatten(self):
        x = self.value(self.node.input[0])
        axis = self.attr("axis", 1) % max(len(x.shape), 1)
        return self.em.reshape(x, (int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:]))))

    def op_Reshape(self):
        x = self.value(self.node.input[0])
        shape = [int(d) for d in self.const(self.node.input[1], "shape")]
        shape = [x.shape[i] if d == 0 and not self.attr("allowzero", 0) else d
                 for i, d in enumerate(shape)]
        if -1 in shape:
            known = int(np.prod([d for d in shape if d != -1]))
            shape[shape.index(-1)] = int(np.prod(x.shape)) // known
        return self.em.reshape(x, shape)

    def op_Softmax(self):
        from mcusparse.frontend.emit import amap, identity
        x = self.value(self.node.input[0])
        r = len(x.shape)
        axis = self.attr("axis", -1) % r
        if axis != r - 1:
            self.fail("Softmax over a non-last axis is not supported")
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

    # --- quantized operators ---------------------------------------------------
    def qparams(self, scale_name, zp_name=None):
        scale = np.asarray(self.const(scale_name, "scale"), np.float32)
        zp = np.zeros(scale.shape, np.int8)
        if zp_name:
            zp = np.asarray(self.const(zp_name, "zero point"))
            if zp.dtype != np.int8:
                self.fail(f"{_NAMES.get(3 if zp.dtype == np.int8 else 2, zp.dtype)} "
                          f"zero point ({zp.dtype}) is not supported (int8 only)")
        return scale, zp.astype(np.int64)

    def op_QuantizeLinear(self):
        x = self.value(self.node.input[0])
        scale, zp = self.qparams(self.node.input[1],
                                 self.node.input[2] if len(self.node.input) > 2 else None)
        if len(self.node.input) <= 2:
            self.fail("a zero point input is needed to pick the output type (int8)")
        if scale.size != 1:
            self.fail("per-axis QuantizeLinear is not supported")
        s, z = np.float32(scale.ravel()[0]), int(zp.ravel()[0])

        def fn(b, a):
            v = b.op(f"arith.divf {a[0]}, {b.const(s, 'f32')} : f32")
            v = b.op(f"math.roundeven {v} : f32")
            v = b.op(f"arith.addf {v}, {b.const(float(z), 'f32')} : f32")
            v = b.clamp(v, -128.0, 127.0, "f32")
            return b.op(f"arith.fptosi {v} : f32 to i8")
        return self.em.map([x], x.shape, "i8", fn)

    def op_DequantizeLinear(self):
        name = self.node.input[0]
        scale, zp = self.qparams(self.node.input[1],
                                 self.node.input[2] if len(self.node.input) > 2 else None)
        if name in self.consts and scale.size > 1:  # per-axis constant weights: fold
            axis = self.attr("axis", 1)
            q = self.consts[name].astype(np.float32)
            shp = [1] * q.ndim
            shp[axis] = -1
            w = (q - zp.reshape(shp)).astype(np.float32) * scale.reshape(shp)
            return self.em.constant(w.astype(np.float32))
        if name in self.consts:
            q = self.consts[name].astype(np.float32)
            w = (q - np.float32(zp.ravel()[0])) * np.float32(scale.ravel()[0])
            self.consts[self.node.output[0]] = w.astype(np.float32)
            return self.em.constant(w.astype(np.float32))
        x = self.value(name)
        if scale.size != 1:
            self.fail("per-axis DequantizeLinear of an activation is not supported")
        s, z = np.float32(scale.ravel()[0]), int(zp.ravel()[0])

        def fn(b, a):
            v = b.op(f"arith.extsi {a[0]} : i8 to i32")
            v = b.op(f"arith.subi {v}, {b.const(z, 'i32')} : i32")
            f = b.op(f"arith.sitofp {v} : i32 to f32")
            return b.op(f"arith.mulf {f}, {b.const(s, 'f32')} : f32")
        return self.em.map([x], x.shape, "f32", fn)

    def _qlinear_out(self, acc, wsum, xs, xz, ws, ys, yz, bias, channels):
        b = np.zeros(channels, np.int64) if bias is None else bias.astype(np.int64)
        b = b - int(xz) * wsum
        scale = (np.float32(xs) * np.broadcast_to(ws.astype(np.float32), (channels,))
                 / np.float32(ys)).astype(np.float32)
        return self.em.requant_float(acc, b, scale if scale.size > 1 and np.any(
            scale != scale[0]) else scale[:1], int(yz), -128, 127)

    def op_QLinearConv(self):
        i = self.node.input
        x = self.value(i[0])
        xs, xz = self.qparams(i[1], i[2])
        w = self.const(i[3], "weight")
        ws, wz = self.qparams(i[4], i[5])
        ys, yz = self.qparams(i[6], i[7])
        if np.any(wz != 0):
            self.fail("weights with a non-zero zero point are not supported")
        bias = self.const(i[8], "bias") if len(i) > 8 and i[8] else None
        acc, w2d = self._conv(x, w.astype(np.int8), int(xz.ravel()[0]))
        y = self._qlinear_out(acc, w2d.astype(np.int64).sum(1), xs.ravel()[0],
                              xz.ravel()[0], ws.ravel(), ys.ravel()[0], yz.ravel()[0], bias,
                              w.shape[0])
        return self.nhwc_to_nchw(y)

    def op_QLinearMatMul(self):
        i = self.node.input
        a = self.value(i[0])
        xs, xz = self.qparams(i[1], i[2])
        bmat = self.const(i[3], "B")
        ws, wz = self.qparams(i[4], i[5])
        ys, yz = self.qparams(i[6], i[7])
        if np.any(wz != 0):
            self.fail("B with a non-zero zero point is not supported")
        w2d = np.ascontiguousarray(bmat.T.astype(np.int8))
        acc = self._matrix(a, w2d, "QLinearMatMul")
        y = self._qlinear_out(acc, w2d.astype(np.int64).sum(1), xs.ravel()[0], xz.ravel()[0],
                              ws.ravel(), ys.ravel()[0], yz.ravel()[0], None, w2d.shape[0])
        return self.em.reshape(y, a.shape[:-1] + (w2d.shape[0],))


def import_onnx(path: str | os.PathLike) -> ImportedModel:
    path = os.fspath(path)
    model = _load(path)
    try:
        return _Importer(path, model).run()
    except FrontendError:
        raise
    except (IndexError, KeyError, TypeError, ValueError, AttributeError) as e:
        raise FrontendError(f"{path}: cannot import ({type(e).__name__}: {e})") from None
