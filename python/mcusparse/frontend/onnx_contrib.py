"""onnxruntime's quantized contrib operators (domain com.microsoft), which its
quantizer writes in the QOperator format next to QLinearConv / QLinearMatMul.

- QGemm: as QLinearMatMul, plus an int32 bias C (scale a_scale * b_scale) and
  transB; without y_scale the output is float: (acc + C) * a_scale * b_scale.
- QLinearAdd, QLinearMul: the operator's formula in float32, as onnxruntime's
  plain C++ kernel computes it: a = sa * (A - za), b = sb * (B - zb), then
  round_half_even((a + b) / sc) + zc (Mul: a * b / sc), saturated.
  onnxruntime's vector kernels (x86, NEON) use a fixed-point form when the
  scale ratios allow, which can differ from this by 1 in the last bit.
- QLinearGlobalAveragePool (NCHW): the int32 sum over H x W, less zx * H * W,
  times xs / (ys * H * W), rounded half to even, + zy, saturated.
- QLinearAveragePool (NCHW): dequantized, averaged in float like AveragePool,
  quantized (round half to even).
Tensors are int8 or uint8 (carried flipped, see onnx.py); alpha of QGemm
must be 1, transA 0.
"""
from __future__ import annotations

import numpy as np


class ContribOps:
    """Mixed into the ONNX importer (onnx._Importer)."""

    def _q_scalar(self, scale_i, zp_i, unsigned):
        """(scale, carrier zero point, uint8) of the per-tensor parameters at
        inputs scale_i / zp_i; `unsigned`: the tensor's type where the zero
        point is absent (and must match where it is not)."""
        inputs = self.node.input
        zp_name = inputs[zp_i] if len(inputs) > zp_i and inputs[zp_i] else None
        scale, zp, zp_unsigned = self.qparams(inputs[scale_i], zp_name, uint8=unsigned)
        if zp_name and zp_unsigned != unsigned:
            self.fail(f"zero point '{zp_name}' is {'uint8' if zp_unsigned else 'int8'}, the "
                      f"tensor {'uint8' if unsigned else 'int8'}")
        if scale.size != 1:
            self.fail("scales and zero points must be per tensor")
        return np.float32(scale.ravel()[0]), int(zp.ravel()[0]), unsigned

    def _output_type(self, zp_i, default):
        """uint8-ness of the output: its zero point's type, else `default`;
        marks the output."""
        inputs = self.node.input
        unsigned = default
        if len(inputs) > zp_i and inputs[zp_i]:
            unsigned = np.asarray(self.const(inputs[zp_i], "zero point")).dtype == np.uint8
        if unsigned:
            self.uint8.add(self.node.output[0])
        return unsigned

    def op_QGemm(self):
        i = self.node.input
        if self.attr("transA", 0) or float(self.attr("alpha", 1.0)) != 1.0:
            self.fail("only transA = 0 and alpha = 1 are supported")
        a = self.value(i[0])
        if a.elem != "i8" or len(a.shape) != 2:
            self.fail(f"A must be a 2-D int8 or uint8 tensor (is {a.elem}{list(a.shape)})")
        xs, xz, _ = self._q_scalar(1, 2, self.is_uint8(i[0]))
        trans_b = bool(self.attr("transB", 0))
        b, ws = self.qlinear_weight(i[3], i[4], i[5], "B", axis=0 if trans_b else 1)
        if b.ndim != 2:
            self.fail(f"B must be a 2-D constant (is {list(b.shape)})")
        w2d = np.ascontiguousarray(b if trans_b else b.T)
        channels = w2d.shape[0]
        bias = None
        if len(i) > 6 and i[6]:
            c = np.asarray(self.const(i[6], "C"))
            if c.dtype != np.int32 or c.size not in (1, channels):
                self.fail(f"C must be an int32 constant of {channels} (or 1) values "
                          f"(is {c.dtype}{list(c.shape)})")
            bias = np.broadcast_to(c.ravel(), (channels,))
        acc = self._matrix(a, w2d, "QGemm")
        wsum = w2d.astype(np.int64).sum(1)
        if len(i) > 7 and i[7]:
            ys, yz, _ = self._q_scalar(7, 8, self._output_type(8, self.is_uint8(i[0])))
            return self._qlinear_out(acc, wsum, xs, xz, ws.ravel(), ys, yz, bias, channels)
        # Float output: (acc + C - zx * sum(w)) * xs * ws.
        b32 = (np.zeros(channels, np.int64) if bias is None else bias.astype(np.int64)) \
            - xz * wsum
        scale = (xs * np.broadcast_to(ws.astype(np.float32), (channels,))).astype(np.float32)
        bv = self.em.constant(b32.astype(np.int32), "i32")
        sv = self.em.constant(scale, "f32")

        def dequantize(bd, v):
            s = bd.op(f"arith.addi {v[0]}, {v[1]} : i32")
            return bd.op(f"arith.mulf {bd.to_f32(s)}, {v[2]} : f32")
        return self.em.map([acc, bv, sv], acc.shape, "f32", dequantize)

    def _qlinear_binary(self, combine):
        """QLinearAdd / QLinearMul: C = round_half_even(combine(a, b) / sc) + zc."""
        i = self.node.input
        a, b = self.value(i[0]), self.value(i[3])
        if a.elem != "i8" or b.elem != "i8":
            self.fail("A and B must be int8 or uint8")
        unsigned = self.is_uint8(i[0])
        if self.is_uint8(i[3]) != unsigned:
            self.fail("A and B have different types (uint8 and int8)")
        sa, za, _ = self._q_scalar(1, 2, unsigned)
        sb, zb, _ = self._q_scalar(4, 5, unsigned)
        sc, zc, _ = self._q_scalar(6, 7, self._output_type(7, unsigned))
        try:
            shape = np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            self.fail(f"shapes {list(a.shape)} and {list(b.shape)} do not broadcast")

        def body(bd, v):
            f = combine(bd, bd.dequantize(v[0], za, sa), bd.dequantize(v[1], zb, sb))
            return bd.quantize(bd.op(f"arith.divf {f}, {bd.const(sc, 'f32')} : f32"), zc)
        return self.em.map([a, b], shape, "i8", body)

    def op_QLinearAdd(self):
        return self._qlinear_binary(lambda bd, x, y: bd.op(f"arith.addf {x}, {y} : f32"))

    def op_QLinearMul(self):
        return self._qlinear_binary(lambda bd, x, y: bd.op(f"arith.mulf {x}, {y} : f32"))

    def op_QLinearAveragePool(self):
        """As onnxruntime: dequantize, average in float (AveragePool's windows,
        pads and count_include_pad), quantize (round half to even)."""
        i = self.node.input
        if self.attr("channels_last", 0):
            self.fail("channels_last = 1 is not supported (NCHW only)")
        x = self.value(i[0])
        unsigned = self.is_uint8(i[0])
        xs, xz, _ = self._q_scalar(1, 2, unsigned)
        ys, yz, _ = self._q_scalar(3, 4, self._output_type(4, unsigned))

        y = self._pool("avg", self.em.map([x], x.shape, "f32",
                                          lambda b, a: b.dequantize(a[0], xz, xs)))
        return self.em.map([y], y.shape, "i8", lambda b, a: b.quantize(
            b.op(f"arith.divf {a[0]}, {b.const(ys, 'f32')} : f32"), yz))

    def op_QLinearGlobalAveragePool(self):
        i = self.node.input
        if self.attr("channels_last", 0):
            self.fail("channels_last = 1 is not supported (NCHW only)")
        x = self.value(i[0])
        if x.elem != "i8" or len(x.shape) < 3:
            self.fail(f"X must be an int8 or uint8 tensor with spatial axes "
                      f"(is {x.elem}{list(x.shape)})")
        unsigned = self.is_uint8(i[0])
        xs, xz, _ = self._q_scalar(1, 2, unsigned)
        ys, yz, _ = self._q_scalar(3, 4, self._output_type(4, unsigned))
        n, c = x.shape[:2]
        size = int(np.prod(x.shape[2:]))
        acc = self.em.reduce(x, list(range(2, len(x.shape))), "sum", "i32", False)
        scale = np.float32(xs / (ys * np.float32(size)))
        y = self.em.requant_float(acc, np.full(c, -xz * size), np.array([scale], np.float32),
                                  yz, -128, 127)
        return self.em.reshape(y, (n, c) + (1,) * (len(x.shape) - 2))
