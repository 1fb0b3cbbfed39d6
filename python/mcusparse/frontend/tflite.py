"""TFLite (.tflite flatbuffer) -> MLIR on tensors with TFLite's int8 semantics.

Supported operators: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED,
AVERAGE_POOL_2D, MAX_POOL_2D, ADD, MUL, RESHAPE, PAD, PADV2, SOFTMAX,
REDUCE_MAX, MEAN, QUANTIZE, DEQUANTIZE, RELU, RELU6 -- int8 (per-tensor or
per-channel weights) and float32. See docs/frontends.md for the exact
arithmetic of each.
"""
from __future__ import annotations

import os

import numpy as np

from mcusparse.frontend.model import FrontendError, ImportedModel, LayerInfo, TensorSpec
from mcusparse.frontend import quant
from mcusparse.frontend.emit import Emitter, Value

_TYPES = {0: ("f32", np.float32), 2: ("i32", np.int32), 4: ("i64", np.int64),
          9: ("i8", np.int8), 7: ("i16", np.int16)}
_TYPE_NAMES = {0: "FLOAT32", 1: "FLOAT16", 2: "INT32", 3: "UINT8", 4: "INT64", 5: "STRING",
               6: "BOOL", 7: "INT16", 9: "INT8", 10: "FLOAT64", 17: "INT4"}
_ACT = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}


def _op_names():
    import tflite
    return {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


class _Tensor:
    def __init__(self, index, name, shape, type_code, scale, zp, qdim, data):
        self.index, self.name, self.shape = index, name, shape
        self.type_code, self.scale, self.zp, self.qdim, self.data = \
            type_code, scale, zp, qdim, data

    @property
    def elem(self):
        return _TYPES[self.type_code][0]

    @property
    def quantized(self):
        return self.scale is not None and self.type_code in (9, 7, 3)

    @property
    def s(self) -> float:
        return float(self.scale[0])

    @property
    def z(self) -> int:
        return int(self.zp[0]) if self.zp is not None and len(self.zp) else 0


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8 or raw[4:8] != b"TFL3":
        raise FrontendError(f"{path}: not a TFLite flatbuffer (no 'TFL3' identifier)")
    return raw


def _options(op, cls):
    import tflite
    table = op.BuiltinOptions()
    if table is None:
        return None
    opts = getattr(tflite, cls)()
    opts.Init(table.Bytes, table.Pos)
    return opts


def _same_pad(in_size, out_size, k, stride, dilation):
    eff = (k - 1) * dilation + 1
    total = max((out_size - 1) * stride + eff - in_size, 0)
    return total // 2, total - total // 2


class _Importer:
    def __init__(self, path: str, raw: bytes, extra_outputs=()):
        import tflite
        self.extra_outputs = list(extra_outputs)
        self.path = path
        self.raw = raw
        self.model = tflite.Model.GetRootAs(raw, 0)
        if self.model.SubgraphsLength() < 1:
            raise FrontendError(f"{path}: model has no subgraph")
        self.g = self.model.Subgraphs(0)
        self.names = _op_names()
        self.codes = []
        for i in range(self.model.OperatorCodesLength()):
            oc = self.model.OperatorCodes(i)
            self.codes.append(max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode())))
        self.tensors = [self._tensor(i) for i in range(self.g.TensorsLength())]
        self.em = Emitter()
        self.values: dict[int, Value] = {}
        self.layers: list[LayerInfo] = []

    def _buffer(self, index: int):
        if index == 0:
            return None
        if not 0 <= index < self.model.BuffersLength():
            raise FrontendError(f"{self.path}: buffer index {index} out of range")
        buf = self.model.Buffers(index)
        offset, size = int(buf.Offset()), int(buf.Size())
        if offset > 1:
            if offset + size > len(self.raw):
                raise FrontendError(f"{self.path}: buffer {index} extends past the end of the file")
            return self.raw[offset:offset + size]
        if buf.DataIsNone() or buf.DataLength() == 0:
            return None
        return buf.DataAsNumpy().tobytes()

    def _tensor(self, i: int) -> _Tensor:
        t = self.g.Tensors(i)
        name = (t.Name() or b"").decode("utf-8", "replace")
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        sig = tuple(int(d) for d in t.ShapeSignatureAsNumpy()) if t.ShapeSignatureLength() else ()
        if any(d < 0 for d in shape) or any(d < 0 for d in sig[1:]):
            raise FrontendError(f"{self.path}: tensor {i} '{name}' has a dynamic shape "
                                f"{list(sig or shape)}; only static shapes are supported "
                                "(a dynamic batch dimension is taken as 1)")
        q = t.Quantization()
        scale = zp = None
        qdim = 0
        if q is not None and q.ScaleLength():
            scale = q.ScaleAsNumpy().astype(np.float32)
            zp = q.ZeroPointAsNumpy().astype(np.int64) if q.ZeroPointLength() else \
                np.zeros(len(scale), np.int64)
            qdim = int(q.QuantizedDimension())
        data = self._buffer(int(t.Buffer()))
        tcode = int(t.Type())
        arr = None
        if data is not None:
            if tcode not in _TYPES:
                arr = data  # checked by the operator that uses it
            else:
                dt = np.dtype(_TYPES[tcode][1]).newbyteorder("<")
                n = int(np.prod(shape)) if shape else 1
                if len(data) < n * dt.itemsize:
                    raise FrontendError(f"{self.path}: tensor {i} '{name}': buffer has "
                                        f"{len(data)} bytes, shape {list(shape)} needs "
                                        f"{n * dt.itemsize}")
                arr = np.frombuffer(data[:n * dt.itemsize], dt).astype(_TYPES[tcode][1]) \
                    .reshape(shape)
        return _Tensor(i, name, shape, tcode, scale, zp, qdim, arr)

    # --- values -------------------------------------------------------------
    def value(self, i: int) -> Value:
        if i in self.values:
            return self.values[i]
        t = self.tensors[i]
        if t.data is None:
            raise FrontendError(f"{self.path}: tensor {i} '{t.name}' is used before it is "
                                "computed and is not a constant")
        if isinstance(t.data, bytes):
            raise FrontendError(f"{self.path}: tensor {i} '{t.name}' has unsupported type "
                                f"{_TYPE_NAMES.get(t.type_code, t.type_code)}")
        v = self.em.constant(t.data, t.elem)
        self.values[i] = v
        return v

    def fail(self, idx, code, msg):
        raise FrontendError(f"{self.path}: operator {idx} ({self.names.get(code, code)}): {msg}")

    # --- main -----------------------------------------------------------------
    def run(self) -> ImportedModel:
        inputs = [int(i) for i in self.g.InputsAsNumpy()] if self.g.InputsLength() else []
        outputs = [int(i) for i in self.g.OutputsAsNumpy()] if self.g.OutputsLength() else []
        if not outputs:
            raise FrontendError(f"{self.path}: subgraph has no outputs")
        self.em.begin_operator(-1, "(inputs)", "")
        for i in inputs:
            t = self.tensors[i]
            if t.type_code not in _TYPES:
                raise FrontendError(f"{self.path}: input '{t.name}' has unsupported type "
                                    f"{_TYPE_NAMES.get(t.type_code, t.type_code)}")
            self.values[i] = self.em.arg(t.shape, t.elem)
        for idx in range(self.g.OperatorsLength()):
            op = self.g.Operators(idx)
            oc = int(op.OpcodeIndex())
            if not 0 <= oc < len(self.codes):
                raise FrontendError(f"{self.path}: operator {idx}: opcode index {oc} out of range")
            code = self.codes[oc]
            name = self.names.get(code, f"builtin code {code}")
            handler = getattr(self, "op_" + name, None) if isinstance(name, str) else None
            if handler is None:
                raise FrontendError(f"{self.path}: operator {idx} ({name}) is not supported "
                                    f"(supported: {', '.join(sorted(SUPPORTED))})")
            ins = [int(i) for i in op.InputsAsNumpy()] if op.InputsLength() else []
            outs = [int(i) for i in op.OutputsAsNumpy()] if op.OutputsLength() else []
            for i in ins + outs:
                if i >= len(self.tensors):
                    self.fail(idx, code, f"tensor index {i} out of range")
            for i in outs:
                t = self.tensors[i]
                if t.type_code not in _TYPES:
                    self.fail(idx, code, f"output type {_TYPE_NAMES.get(t.type_code)} "
                                         "is not supported")
            self.idx, self.code = idx, code
            self.em.begin_operator(idx, name, self.tensors[outs[0]].name if outs else "")
            result = handler(op, ins, outs)
            out_t = self.tensors[outs[0]]
            if result.shape != out_t.shape:
                result = self.em.reshape(result, out_t.shape)
            self.values[outs[0]] = result
        self.em.begin_operator(-1, "(outputs)", "")
        results = []
        outputs = outputs + [i for i in self.extra_outputs if i not in outputs]
        for i in outputs:
            if i not in self.values:
                self.value(i)
            results.append(self.values[i])

        def spec(i):
            t = self.tensors[i]
            return TensorSpec(t.name, t.shape, np.dtype(_TYPES[t.type_code][1]),
                              t.s if t.quantized else None, t.z if t.quantized else None)
        text = self.em.module(results)
        return ImportedModel(text, [spec(i) for i in inputs], [spec(i) for i in outputs],
                             self.layers, self.path, "tflite", self.em.operators)

    # --- helpers --------------------------------------------------------------
    def act_range(self, act_code, out: _Tensor):
        act = _ACT.get(act_code)
        if act is None:
            self.fail(self.idx, self.code, f"fused activation {act_code} is not supported")
        if out.quantized:
            lo, hi = {"i8": (-128, 127), "i16": (-32768, 32767)}[out.elem]
            return quant.activation_range(act, out.s, out.z, lo, hi)
        return {"NONE": (None, None), "RELU": (0.0, None), "RELU6": (0.0, 6.0),
                "RELU_N1_TO_1": (-1.0, 1.0)}[act]

    def float_act(self, v: Value, lo, hi) -> Value:
        if lo is None and hi is None:
            return v

        def fn(b, a):
            x = a[0]
            if lo is not None:
                x = b.op(f"arith.maximumf {x}, {b.const(lo, 'f32')} : f32")
            if hi is not None:
                x = b.op(f"arith.minimumf {x}, {b.const(hi, 'f32')} : f32")
            return x
        return self.em.map([v], v.shape, "f32", fn)

    def float_bias(self, acc: Value, bias_i) -> Value:
        if bias_i < 0:
            return acc
        b = self.value(bias_i)
        return self.em.map([acc, b], acc.shape, "f32",
                           lambda bd, a: bd.op(f"arith.addf {a[0]}, {a[1]} : f32"))

    def weight_layer(self, kind, w: _Tensor, matrix: np.ndarray, macs: int, out_name: str):
        nz = np.count_nonzero(matrix)
        self.layers.append(LayerInfo(
            index=self.idx, name=out_name, op=kind, weight_shape=tuple(w.shape),
            matrix_shape=tuple(matrix.shape), macs=int(macs),
            weight_bytes=int(matrix.size * matrix.dtype.itemsize),
            sparsity=float(1 - nz / matrix.size) if matrix.size else 0.0,
            weight_dtype=w.elem, weight=matrix))

    def conv_quant(self, x: _Tensor, w: _Tensor, bias_i: int, out: _Tensor, act_code,
                   wsum: np.ndarray, channels: int):
        """(bias', multipliers, shifts, qmin, qmax) for a quantized conv/FC."""
        if w.zp is not None and np.any(w.zp != 0):
            self.fail(self.idx, self.code, "weights with a non-zero zero point are not supported")
        bias = np.zeros(channels, np.int64)
        if bias_i >= 0:
            bt = self.tensors[bias_i]
            if bt.data is None or bt.type_code not in (2, 4):
                self.fail(self.idx, self.code, "bias must be a constant int32 tensor")
            bias = bt.data.astype(np.int64).reshape(channels)
        bias = bias - x.z * wsum.astype(np.int64)
        if bias.min() < quant.INT32_MIN or bias.max() > quant.INT32_MAX:
            self.fail(self.idx, self.code, "folded bias overflows int32")
        wscale = w.scale.astype(np.float64)
        if wscale.size == 1:
            wscale = np.repeat(wscale, channels)
        real = float(x.scale[0]) * wscale / float(out.scale[0])
        mult, shift = quant.quantize_multipliers(real)
        qmin, qmax = self.act_range(act_code, out)
        return bias, mult, shift, qmin, qmax

    def check_quant_in(self, x: _Tensor, what="input"):
        if x.elem == "i8" and not x.quantized:
            self.fail(self.idx, self.code, f"int8 {what} without quantization parameters")

    def is_q(self, t: _Tensor) -> bool:
        if t.elem == "f32":
            return False
        if t.elem == "i8" and t.quantized:
            return True
        self.fail(self.idx, self.code, f"tensor '{t.name}' of type "
                                       f"{_TYPE_NAMES.get(t.type_code)} is not supported here")

    # --- operators --------------------------------------------------------------
    def op_CONV_2D(self, op, ins, outs):
        o = _options(op, "Conv2DOptions")
        x_t, w_t, out_t = self.tensors[ins[0]], self.tensors[ins[1]], self.tensors[outs[0]]
        bias_i = ins[2] if len(ins) > 2 else -1
        if w_t.data is None:
            self.fail(self.idx, self.code, "weights must be constant")
        if len(x_t.shape) != 4 or len(w_t.shape) != 4:
            self.fail(self.idx, self.code, "expects 4-D input and filter")
        oc, kh, kw, ic = w_t.shape
        n, h, wd, c = x_t.shape
        if c != ic:
            self.fail(self.idx, self.code, f"grouped convolution (input channels {c}, "
                                           f"filter channels {ic}) is not supported")
        sh, sw = (o.StrideH(), o.StrideW()) if o else (1, 1)
        dh, dw = (o.DilationHFactor() or 1, o.DilationWFactor() or 1) if o else (1, 1)
        _, oh, ow, _ = out_t.shape
        pads = self.pads(o.Padding() if o else 1, h, wd, oh, ow, kh, kw, (sh, sw), (dh, dw))
        w2d = w_t.data.reshape(oc, kh * kw * ic)
        self.weight_layer("CONV_2D", w_t, w2d, n * oh * ow * oc * kh * kw * ic, out_t.name)
        x = self.value(ins[0])
        act = o.FusedActivationFunction() if o else 0
        if self.is_q(x_t):
            bias, mult, shift, qmin, qmax = self.conv_quant(
                x_t, w_t, bias_i, out_t, act, w2d.astype(np.int64).sum(1), oc)
            xp = self.em.pad(x, [(0, 0), pads[0], pads[1], (0, 0)], x_t.z)
            acc = self.em.conv2d(xp, self.em.constant(w2d, "i8", layer=len(self.layers) - 1), kh, kw, (oh, ow), (sh, sw),
                                 (dh, dw), "i32")
            return self.em.requant_tflite(acc, bias, mult, shift, out_t.z, qmin, qmax)
        xp = self.em.pad(x, [(0, 0), pads[0], pads[1], (0, 0)], 0.0)
        acc = self.em.conv2d(xp, self.em.constant(w2d, "f32", layer=len(self.layers) - 1), kh, kw, (oh, ow), (sh, sw),
                             (dh, dw), "f32")
        return self.float_act(self.float_bias(acc, bias_i), *self.act_range(act, out_t))

    def pads(self, padding, h, w, oh, ow, kh, kw, stride, dilation):
        if padding == 0:  # SAME
            return (_same_pad(h, oh, kh, stride[0], dilation[0]),
                    _same_pad(w, ow, kw, stride[1], dilation[1]))
        return (0, 0), (0, 0)

    def op_DEPTHWISE_CONV_2D(self, op, ins, outs):
        o = _options(op, "DepthwiseConv2DOptions")
        x_t, w_t, out_t = self.tensors[ins[0]], self.tensors[ins[1]], self.tensors[outs[0]]
        bias_i = ins[2] if len(ins) > 2 else -1
        if w_t.data is None:
            self.fail(self.idx, self.code, "weights must be constant")
        _, kh, kw, cm = w_t.shape
        n, h, wd, c = x_t.shape
        mult = cm // c
        if mult * c != cm:
            self.fail(self.idx, self.code, f"filter channels {cm} not a multiple of input "
                                           f"channels {c}")
        sh, sw = (o.StrideH(), o.StrideW()) if o else (1, 1)
        dh, dw = (o.DilationHFactor() or 1, o.DilationWFactor() or 1) if o else (1, 1)
        _, oh, ow, _ = out_t.shape
        pads = self.pads(o.Padding() if o else 1, h, wd, oh, ow, kh, kw, (sh, sw), (dh, dw))
        # [1, KH, KW, C*M] -> [C*M, KH*KW]: output channels lead.
        w2d = np.ascontiguousarray(w_t.data.reshape(kh * kw, cm).T)
        self.weight_layer("DEPTHWISE_CONV_2D", w_t, w2d, n * oh * ow * cm * kh * kw, out_t.name)
        x = self.value(ins[0])
        act = o.FusedActivationFunction() if o else 0
        if self.is_q(x_t):
            bias, mlt, shift, qmin, qmax = self.conv_quant(
                x_t, w_t, bias_i, out_t, act, w2d.astype(np.int64).sum(1), cm)
            xp = self.em.pad(x, [(0, 0), pads[0], pads[1], (0, 0)], x_t.z)
            acc = self.em.depthwise(xp, self.em.constant(w2d, "i8", layer=len(self.layers) - 1), kh, kw, mult, (oh, ow),
                                    (sh, sw), (dh, dw), "i32")
            return self.em.requant_tflite(acc, bias, mlt, shift, out_t.z, qmin, qmax)
        xp = self.em.pad(x, [(0, 0), pads[0], pads[1], (0, 0)], 0.0)
        acc = self.em.depthwise(xp, self.em.constant(w2d, "f32", layer=len(self.layers) - 1), kh, kw, mult, (oh, ow),
                                (sh, sw), (dh, dw), "f32")
        return self.float_act(self.float_bias(acc, bias_i), *self.act_range(act, out_t))

    def op_FULLY_CONNECTED(self, op, ins, outs):
        o = _options(op, "FullyConnectedOptions")
        x_t, w_t, out_t = self.tensors[ins[0]], self.tensors[ins[1]], self.tensors[outs[0]]
        bias_i = ins[2] if len(ins) > 2 else -1
        if w_t.data is None:
            self.fail(self.idx, self.code, "weights must be constant")
        if o is not None and o.WeightsFormat() != 0:
            self.fail(self.idx, self.code, "shuffled weights format is not supported")
        oc, k = w_t.shape
        total = int(np.prod(x_t.shape))
        rows = total // k
        x = self.em.reshape(self.value(ins[0]), (rows, k))
        w2d = w_t.data.reshape(oc, k)
        self.weight_layer("FULLY_CONNECTED", w_t, w2d, rows * oc * k, out_t.name)
        act = o.FusedActivationFunction() if o else 0
        if self.is_q(x_t):
            bias, mult, shift, qmin, qmax = self.conv_quant(
                x_t, w_t, bias_i, out_t, act, w2d.astype(np.int64).sum(1), oc)
            acc = self.em.dense(x, self.em.constant(w2d, "i8", layer=len(self.layers) - 1), "i32")
            y = self.em.requant_tflite(acc, bias, mult, shift, out_t.z, qmin, qmax,
                                       rounding=quant.ROUNDING_OF.get("FULLY_CONNECTED",
                                                                      quant.ROUNDING))
        else:
            acc = self.em.dense(x, self.em.constant(w2d, "f32", layer=len(self.layers) - 1), "f32")
            y = self.float_act(self.float_bias(acc, bias_i), *self.act_range(act, out_t))
        return self.em.reshape(y, out_t.shape)

    def _pool(self, op, ins, outs, kind):
        o = _options(op, "Pool2DOptions")
        x_t, out_t = self.tensors[ins[0]], self.tensors[outs[0]]
        n, h, w, c = x_t.shape
        _, oh, ow, _ = out_t.shape
        kh, kw = o.FilterHeight(), o.FilterWidth()
        sh, sw = o.StrideH(), o.StrideW()
        pads = self.pads(o.Padding(), h, w, oh, ow, kh, kw, (sh, sw), (1, 1))
        x = self.value(ins[0])
        q = self.is_q(x_t)
        lo, hi = self.act_range(o.FusedActivationFunction(), out_t)
        if kind == "max":
            fill = -128 if q else np.float32(-np.inf)
            xp = self.em.pad(x, [(0, 0), pads[0], pads[1], (0, 0)], fill)
            y = self.em.pool(xp, kh, kw, (oh, ow), (sh, sw), "max", x.elem)
            if q:
                if x_t.s != out_t.s or x_t.z != out_t.z:
                    self.fail(self.idx, self.code, "input and output quantization differ")
                if (lo, hi) != (-128, 127):
                    y = self.em.map([y], y.shape, "i8",
                                    lambda b, a: b.clamp(a[0], lo, hi, "i8"))
                return y
            return self.float_act(y, lo, hi)
        # average: divide by the number of in-bounds elements of each window.
        counts = np.zeros((oh, ow), np.int64)
        for i in range(oh):
            y0 = i * sh - pads[0][0]
            ny = min(y0 + kh, h) - max(y0, 0)
            for j in range(ow):
                x0 = j * sw - pads[1][0]
                counts[i, j] = ny * (min(x0 + kw, w) - max(x0, 0))
        xp = self.em.pad(x, [(0, 0), pads[0], pads[1], (0, 0)], 0 if q else 0.0)
        s = self.em.pool(xp, kh, kw, (oh, ow), (sh, sw), "sum", "i32" if q else "f32")
        if q:
            if x_t.s != out_t.s or x_t.z != out_t.z:
                self.fail(self.idx, self.code, "input and output quantization differ")
            cnt = self.em.constant(counts.astype(np.int32), "i32")
            from mcusparse.frontend.emit import amap
            n4 = 4

            def body(b, a, _o):
                sm, ct = a
                zero = b.const(0, "i32")
                two = b.const(2, "i32")
                half = b.op(f"arith.divsi {ct}, {two} : i32")
                pos = b.op(f"arith.cmpi sgt, {sm}, {zero} : i32")
                up = b.op(f"arith.addi {sm}, {half} : i32")
                dn = b.op(f"arith.subi {sm}, {half} : i32")
                num = b.op(f"arith.select {pos}, {up}, {dn} : i32")
                r = b.op(f"arith.divsi {num}, {ct} : i32")
                r = b.clamp(r, lo, hi)
                return b.op(f"arith.trunci {r} : i32 to i8")
            from mcusparse.frontend.emit import identity
            return self.em.generic([(s, identity(n4)), (cnt, amap(4, ["d1", "d2"]))],
                                   s.shape, "i8", identity(n4), ["parallel"] * 4, body)
        cnt = self.em.constant(counts.astype(np.float32), "f32")
        from mcusparse.frontend.emit import amap, identity
        y = self.em.generic([(s, identity(4)), (cnt, amap(4, ["d1", "d2"]))], s.shape, "f32",
                            identity(4), ["parallel"] * 4,
                            lambda b, a, _o: b.op(f"arith.divf {a[0]}, {a[1]} : f32"))
        return self.float_act(y, lo, hi)

    def op_AVERAGE_POOL_2D(self, op, ins, outs):
        return self._pool(op, ins, outs, "avg")

    def op_MAX_POOL_2D(self, op, ins, outs):
        return self._pool(op, ins, outs, "max")

    def _binary(self, op, ins, outs, kind):
        o = _options(op, {"add": "AddOptions", "sub": "SubOptions", "mul": "MulOptions"}[kind])
        a_t, b_t, out_t = self.tensors[ins[0]], self.tensors[ins[1]], self.tensors[outs[0]]
        a, b = self.value(ins[0]), self.value(ins[1])
        act = o.FusedActivationFunction() if o else 0
        lo, hi = self.act_range(act, out_t)
        if self.is_q(a_t) and self.is_q(b_t) and self.is_q(out_t):
            if kind in ("add", "sub"):
                # TFLite's reference Add and Sub share their parameters; Sub
                # subtracts the rescaled inputs.
                combine = "arith.addi" if kind == "add" else "arith.subi"
                (m1, s1), (m2, s2), (mo, so) = quant.add_params(a_t.s, b_t.s, out_t.s)

                def fn(bd, v):
                    x1 = bd.op(f"arith.extsi {v[0]} : i8 to i32")
                    x2 = bd.op(f"arith.extsi {v[1]} : i8 to i32")
                    x1 = bd.op(f"arith.subi {x1}, {bd.const(a_t.z, 'i32')} : i32")
                    x2 = bd.op(f"arith.subi {x2}, {bd.const(b_t.z, 'i32')} : i32")
                    sh = bd.const(20, "i32")
                    x1 = bd.op(f"arith.shli {x1}, {sh} : i32")
                    x2 = bd.op(f"arith.shli {x2}, {sh} : i32")
                    x1 = bd.mbqm(x1, m1, s1)
                    x2 = bd.mbqm(x2, m2, s2)
                    r = bd.op(f"{combine} {x1}, {x2} : i32")
                    r = bd.mbqm(r, mo, so)
                    r = bd.op(f"arith.addi {r}, {bd.const(out_t.z, 'i32')} : i32")
                    r = bd.clamp(r, lo, hi)
                    return bd.op(f"arith.trunci {r} : i32 to i8")
            else:
                mo, so = quant.quantize_multiplier(float(a_t.s) * float(b_t.s) / float(out_t.s))

                def fn(bd, v):
                    x1 = bd.op(f"arith.extsi {v[0]} : i8 to i32")
                    x2 = bd.op(f"arith.extsi {v[1]} : i8 to i32")
                    x1 = bd.op(f"arith.subi {x1}, {bd.const(a_t.z, 'i32')} : i32")
                    x2 = bd.op(f"arith.subi {x2}, {bd.const(b_t.z, 'i32')} : i32")
                    p = bd.op(f"arith.muli {x1}, {x2} : i32")
                    r = bd.mbqm(p, mo, so)
                    r = bd.op(f"arith.addi {r}, {bd.const(out_t.z, 'i32')} : i32")
                    r = bd.clamp(r, lo, hi)
                    return bd.op(f"arith.trunci {r} : i32 to i8")
            return self.em.map([a, b], out_t.shape, "i8", fn)
        if a.elem != "f32" or b.elem != "f32":
            self.fail(self.idx, self.code, "mixed quantized and float operands")
        opn = {"add": "arith.addf", "sub": "arith.subf", "mul": "arith.mulf"}[kind]
        y = self.em.map([a, b], out_t.shape, "f32",
                        lambda bd, v: bd.op(f"{opn} {v[0]}, {v[1]} : f32"))
        return self.float_act(y, lo, hi)

    def op_ADD(self, op, ins, outs):
        return self._binary(op, ins, outs, "add")

    def op_SUB(self, op, ins, outs):
        return self._binary(op, ins, outs, "sub")

    def op_MUL(self, op, ins, outs):
        return self._binary(op, ins, outs, "mul")

    def op_CONCATENATION(self, op, ins, outs):
        o = _options(op, "ConcatenationOptions")
        out_t = self.tensors[outs[0]]
        rank = len(out_t.shape)
        axis = (o.Axis() if o else 0) % rank
        act = o.FusedActivationFunction() if o else 0
        if act:
            self.fail(self.idx, self.code, "a fused activation is not supported")
        parts = [self.tensors[i] for i in ins]
        if self.is_q(out_t) and any((t.s, t.z) != (out_t.s, out_t.z) for t in parts):
            # TFLite requires this for int8 (the kernel then only copies).
            self.fail(self.idx, self.code, "inputs quantized differently from the output")
        vals = [self.value(i) for i in ins]
        return vals[0] if len(vals) == 1 else self.em.concat(vals, axis)

    def op_SQUEEZE(self, op, ins, outs):
        return self.em.reshape(self.value(ins[0]), self.tensors[outs[0]].shape)

    def op_TRANSPOSE(self, op, ins, outs):
        p_t = self.tensors[ins[1]]
        if p_t.data is None:
            self.fail(self.idx, self.code, "the permutation must be constant")
        x = self.value(ins[0])
        perm = [int(p) % len(x.shape) for p in np.asarray(p_t.data).ravel()]
        if sorted(perm) != list(range(len(x.shape))):
            self.fail(self.idx, self.code, f"{perm} is not a permutation")
        return self.em.transpose(x, perm)

    def op_RESHAPE(self, op, ins, outs):
        return self.em.reshape(self.value(ins[0]), self.tensors[outs[0]].shape)

    def op_PAD(self, op, ins, outs):
        x_t, out_t = self.tensors[ins[0]], self.tensors[outs[0]]
        p_t = self.tensors[ins[1]]
        if p_t.data is None:
            self.fail(self.idx, self.code, "paddings must be constant")
        pads = [(int(a), int(b)) for a, b in np.asarray(p_t.data).reshape(-1, 2)]
        value = 0.0
        if x_t.elem != "f32":
            value = out_t.z if out_t.quantized else 0
        if len(ins) > 2 and ins[2] >= 0:
            c_t = self.tensors[ins[2]]
            if c_t.data is None:
                self.fail(self.idx, self.code, "constant value must be constant")
            value = np.asarray(c_t.data).ravel()[0]
        return self.em.pad(self.value(ins[0]), pads, value)

    op_PADV2 = op_PAD

    def op_RELU(self, op, ins, outs):
        return self._relu(ins, outs, 0.0, None)

    def op_RELU6(self, op, ins, outs):
        return self._relu(ins, outs, 0.0, 6.0)

    def _relu(self, ins, outs, lo, hi):
        x_t, out_t = self.tensors[ins[0]], self.tensors[outs[0]]
        x = self.value(ins[0])
        if not self.is_q(x_t):
            return self.float_act(x, lo, hi)
        # TFLite quantized ReluX: requantize input -> output, then clamp.
        mult, shift = quant.quantize_multiplier(x_t.s / out_t.s)
        qlo = max(-128, out_t.z + int(quant.tflite_round(np.float32(lo) / np.float32(out_t.s))))
        qhi = 127 if hi is None else min(127, out_t.z + int(
            quant.tflite_round(np.float32(hi) / np.float32(out_t.s))))

        def fn(b, a):
            v = b.op(f"arith.extsi {a[0]} : i8 to i32")
            v = b.op(f"arith.subi {v}, {b.const(x_t.z, 'i32')} : i32")
            v = b.mbqm(v, mult, shift)
            v = b.op(f"arith.addi {v}, {b.const(out_t.z, 'i32')} : i32")
            v = b.clamp(v, qlo, qhi)
            return b.op(f"arith.trunci {v} : i32 to i8")
        return self.em.map([x], x.shape, "i8", fn)

    def op_QUANTIZE(self, op, ins, outs):
        x_t, out_t = self.tensors[ins[0]], self.tensors[outs[0]]
        x = self.value(ins[0])
        if out_t.elem != "i8" or not out_t.quantized:
            self.fail(self.idx, self.code, "only int8 output is supported")
        if x_t.elem == "f32":
            scale, zp = np.float32(out_t.s), out_t.z

            def fn(b, a):
                v = b.op(f"arith.divf {a[0]}, {b.const(scale, 'f32')} : f32")
                v = b.op(f"math.round {v} : f32")
                v = b.clamp(v, -2147483648.0, 2147483520.0, "f32")
                v = b.op(f"arith.fptosi {v} : f32 to i32")
                v = b.op(f"arith.addi {v}, {b.const(zp, 'i32')} : i32")
                v = b.clamp(v, -128, 127)
                return b.op(f"arith.trunci {v} : i32 to i8")
            return self.em.map([x], x.shape, "i8", fn)
        if self.is_q(x_t):  # requantize int8 -> int8
            mult, shift = quant.quantize_multiplier(float(x_t.s) / float(out_t.s))

            def fn(b, a):
                v = b.op(f"arith.extsi {a[0]} : i8 to i32")
                v = b.op(f"arith.subi {v}, {b.const(x_t.z, 'i32')} : i32")
                v = b.mbqm(v, mult, shift)
                v = b.op(f"arith.addi {v}, {b.const(out_t.z, 'i32')} : i32")
                v = b.clamp(v, -128, 127)
                return b.op(f"arith.trunci {v} : i32 to i8")
            return self.em.map([x], x.shape, "i8", fn)

    def op_DEQUANTIZE(self, op, ins, outs):
        x_t = self.tensors[ins[0]]
        x = self.value(ins[0])
        if not self.is_q(x_t):
            self.fail(self.idx, self.code, "input must be quantized int8")
        scale, zp = np.float32(x_t.s), x_t.z

        return self.em.map([x], x.shape, "f32", lambda b, a: b.dequantize(a[0], zp, scale))

    def _axes(self, ins, rank):
        a_t = self.tensors[ins[1]]
        if a_t.data is None:
            self.fail(self.idx, self.code, "axes must be constant")
        return sorted({int(a) % rank for a in np.asarray(a_t.data).ravel()})

    def op_REDUCE_MAX(self, op, ins, outs):
        x_t, out_t = self.tensors[ins[0]], self.tensors[outs[0]]
        o = _options(op, "ReducerOptions")
        axes = self._axes(ins, len(x_t.shape))
        x = self.value(ins[0])
        if self.is_q(x_t) and (x_t.s != out_t.s or x_t.z != out_t.z):
            self.fail(self.idx, self.code, "input and output quantization differ")
        return self.em.reduce(x, axes, "max", x.elem, bool(o and o.KeepDims()))

    def op_MEAN(self, op, ins, outs):
        x_t, out_t = self.tensors[ins[0]], self.tensors[outs[0]]
        o = _options(op, "ReducerOptions")
        axes = self._axes(ins, len(x_t.shape))
        keep = bool(o and o.KeepDims())
        x = self.value(ins[0])
        count = int(np.prod([x_t.shape[a] for a in axes]))
        if not self.is_q(x_t):
            s = self.em.reduce(x, axes, "sum", "f32", keep)
            return self.em.map([s], s.shape, "f32",
                               lambda b, a: b.op(f"arith.divf {a[0]}, "
                                                 f"{b.const(float(count), 'f32')} : f32"))
        # TFLite QuantizedMeanOrSum: 1/count folded into the multiplier.
        mult, shift = quant.quantize_multiplier(float(x_t.s) / float(out_t.s))
        sh = 63 - (64 - int(count).bit_length()) if count > 0 else 0
        sh = min(sh, 32, 31 + shift)
        mult = int((mult << sh) // count)
        shift = shift - sh
        s = self.em.reduce(x, axes, "sum", "i32", keep)
        zin, zout = x_t.z, out_t.z

        def fn(b, a):
            v = b.op(f"arith.subi {a[0]}, {b.const(zin * count, 'i32')} : i32")
            v = b.mbqm(v, mult, shift)
            v = b.op(f"arith.addi {v}, {b.const(zout, 'i32')} : i32")
            v = b.clamp(v, -128, 127)
            return b.op(f"arith.trunci {v} : i32 to i8")
        return self.em.map([s], s.shape, "i8", fn)

    def op_SOFTMAX(self, op, ins, outs):
        x_t, out_t = self.tensors[ins[0]], self.tensors[outs[0]]
        o = _options(op, "SoftmaxOptions")
        beta = float(o.Beta()) if o else 1.0
        x = self.value(ins[0])
        r = len(x.shape)
        from mcusparse.frontend.emit import amap, identity
        outer = list(range(r - 1))
        red = self.em.reduce(x, [r - 1], "max", x.elem, False)
        rows = amap(r, [f"d{i}" for i in outer])
        if not self.is_q(x_t):
            def expf(b, a, _o):
                d = b.op(f"arith.subf {a[0]}, {a[1]} : f32")
                d = b.op(f"arith.mulf {d}, {b.const(beta, 'f32')} : f32")
                return b.op(f"math.exp {d} : f32")
            e = self.em.generic([(x, identity(r)), (red, rows)], x.shape, "f32", identity(r),
                                ["parallel"] * r, expf)
            ssum = self.em.reduce(e, [r - 1], "sum", "f32", False)
            return self.em.generic([(e, identity(r)), (ssum, rows)], x.shape, "f32",
                                   identity(r), ["parallel"] * r,
                                   lambda b, a, _o: b.op(f"arith.divf {a[0]}, {a[1]} : f32"))
        # TFLite optimized int8 softmax: float table of exp, indexed by 255 - max + x.
        table = self.em.constant(quant.softmax_table(x_t.s, beta), "f32")
        oscale = np.float32(out_t.s)
        zp = out_t.z

        def lookup(b, xv, mx):
            xi = b.op(f"arith.extsi {xv} : i8 to i32")
            mi = b.op(f"arith.extsi {mx} : i8 to i32")
            d = b.op(f"arith.subi {xi}, {mi} : i32")
            k = b.op(f"arith.addi {d}, {b.const(255, 'i32')} : i32")
            ki = b.op(f"arith.index_cast {k} : i32 to index")
            return b.op(f"tensor.extract {table.name}[{ki}] : {table.type}")
        sum_init = self.em.filled(red.shape, "f32", 0.0)
        ssum = self.em.generic([(x, identity(r)), (red, rows)], red.shape, "f32", rows,
                               ["parallel"] * (r - 1) + ["reduction"],
                               lambda b, a, o_: b.op(f"arith.addf {o_}, "
                                                     f"{lookup(b, a[0], a[1])} : f32"),
                               init=sum_init)

        def fn(b, a, _o):
            e = lookup(b, a[0], a[1])
            prod = b.op(f"arith.mulf {a[2]}, {b.const(oscale, 'f32')} : f32")
            inv = b.op(f"arith.divf {b.const(1.0, 'f32')}, {prod} : f32")
            p = b.op(f"arith.mulf {e}, {inv} : f32")
            p = b.op(f"math.round {p} : f32")
            v = b.op(f"arith.fptosi {p} : f32 to i32")
            v = b.op(f"arith.addi {v}, {b.const(zp, 'i32')} : i32")
            v = b.clamp(v, -128, 127)
            return b.op(f"arith.trunci {v} : i32 to i8")
        return self.em.generic([(x, identity(r)), (red, rows), (ssum, rows)], x.shape, "i8",
                               identity(r), ["parallel"] * r, fn)


SUPPORTED = [n[3:] for n in vars(_Importer) if n.startswith("op_")]


def import_tflite(path: str | os.PathLike, extra_outputs=()) -> ImportedModel:
    """Imports a .tflite file. `extra_outputs`: indices of intermediate tensors
    to return from @main after the model's outputs (for per-layer checks)."""
    path = os.fspath(path)
    raw = _read(path)
    try:
        return _Importer(path, raw, extra_outputs).run()
    except FrontendError:
        raise
    except (IndexError, ValueError, TypeError, KeyError, AttributeError, OverflowError,
            __import__("struct").error) as e:
        raise FrontendError(f"{path}: truncated or corrupt TFLite file "
                            f"({type(e).__name__}: {e})") from None
