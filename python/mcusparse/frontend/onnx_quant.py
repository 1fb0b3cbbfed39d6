"""Quantized ONNX operators: QuantizeLinear, DequantizeLinear, QLinearConv,
QLinearMatMul, and the uint8 carrier.

A uint8 tensor is carried as int8 with its top bit flipped (u - 128), and so
are its zero points: q - zp does not change, so the int8 kernels compute
uint8 layers unchanged (see onnx.py). QLinearConv / QLinearMatMul requantise
as onnxruntime does: the int32 accumulator times a float32 scale
xs * ws / ys, rounded half to even, saturated.
"""
from __future__ import annotations

import numpy as np

from mcusparse.frontend import onnx_types as types
from mcusparse.frontend.emit import Value


def less_zero_point(w, zp, axis):
    """w - zp in int16, the zero point per tensor or per slice along `axis`;
    None when its shape is neither."""
    zp = np.asarray(zp)
    if zp.size > 1:
        if zp.ndim != 1 or zp.size != w.shape[axis]:
            return None
        zp = zp.reshape([-1 if a == axis else 1 for a in range(w.ndim)])
    else:
        zp = zp.reshape(())
    return w.astype(np.int16) - zp.astype(np.int16)


def fits_int8(d) -> bool:
    return d.size == 0 or (d.min() >= -128 and d.max() <= 127)


class QuantizedOps:
    """Mixed into the ONNX importer (onnx._Importer)."""

    def is_uint8(self, name) -> bool:
        """A uint8 tensor: a value carried flipped, or a uint8 constant."""
        return name in self.uint8 or (name in self.consts and
                                      np.asarray(self.consts[name]).dtype == np.uint8)

    def flip(self, v: Value) -> Value:
        """uint8 bits <-> the int8 carrier (u - 128): the top bit flipped."""
        return self.em.map([v], v.shape, "i8", lambda b, a: b.op(
            f"arith.xori {a[0]}, {b.const(-128, 'i8')} : i8"))

    def qparams(self, scale_name, zp_name=None, uint8=False, int32=False):
        """Scale and zero point, the zero point in the int8 carrier's terms
        (a uint8 one less 128). Without a zero point: 0 of the quantized type,
        uint8 if `uint8`. Also returns whether the quantized type is uint8.
        `int32`: an int32 zero point is allowed too (a quantized bias)."""
        scale = np.asarray(self.const(scale_name, "scale"))
        if scale.dtype != np.float32:
            self.fail(f"{scale.dtype} scale '{scale_name}' is not supported (float32 only)")
        zp = np.zeros(scale.shape, np.uint8 if uint8 else np.int8)
        if zp_name:
            zp = np.asarray(self.const(zp_name, "zero point"))
            if zp.dtype not in (np.int8, np.uint8) + ((np.int32,) if int32 else ()):
                self.fail(f"{zp.dtype} zero point '{zp_name}' is not supported "
                          "(int8 or uint8)")
            if zp.shape != scale.shape:
                if zp.size != 1 or scale.size != 1:   # [] and [1] are both per tensor
                    self.fail(f"zero point shape {list(zp.shape)} differs from the scale's "
                              f"{list(scale.shape)}")
                zp = zp.reshape(scale.shape)
        unsigned = zp.dtype == np.uint8
        return scale, zp.astype(np.int64) - (128 if unsigned else 0), unsigned

    def quantized_input(self, name, zp_name, what):
        """The uint8-ness of quantized input `name`, checked against its zero
        point's type (ONNX requires them equal)."""
        unsigned = self.is_uint8(name)
        if zp_name:
            zp = self.const(zp_name, "zero point")
            if (np.asarray(zp).dtype == np.uint8) != unsigned:
                self.fail(f"{what} '{name}' is {'uint8' if unsigned else 'int8'} but its zero "
                          f"point '{zp_name}' is {np.asarray(zp).dtype}")
        return unsigned

    def per_axis(self, scale, zp, ndim, dim_size):
        """Scale / zero point of a per-axis (De)QuantizeLinear, shaped to broadcast
        over a tensor of rank `ndim` along the node's axis."""
        if self.attr("block_size", 0):
            self.fail("blocked quantization (block_size) is not supported")
        axis = int(self.attr("axis", 1))
        if not -ndim <= axis < ndim or scale.ndim != 1 or scale.size != dim_size(axis):
            self.fail(f"per-axis scale of shape {list(scale.shape)} does not match axis {axis}")
        shp = [1] * ndim
        shp[axis] = -1
        return scale.reshape(shp), zp.reshape(shp)

    def op_QuantizeLinear(self):
        name = self.node.input[0]
        zp_name = self.node.input[2] if len(self.node.input) > 2 else None
        out_type = self.attr("output_dtype", 0)    # 0: the zero point's, else uint8
        if out_type not in (0, types.UINT8, types.INT8):
            self.fail(f"{types.NAMES.get(out_type, out_type)} outputs are not supported "
                      "(int8 or uint8)")
        scale, zp, unsigned = self.qparams(self.node.input[1], zp_name,
                                           uint8=out_type != types.INT8)
        if zp_name and out_type and unsigned != (out_type == types.UINT8):
            self.fail("output_dtype differs from the zero point's type")
        if name in self.consts:  # e.g. float weights of a QDQ graph: fold
            q = np.asarray(self.consts[name], np.float32)
            if scale.size > 1:
                scale, zp = self.per_axis(scale, zp, q.ndim, lambda a: q.shape[a])
            y = np.clip(np.rint(q / scale.astype(np.float32)) + zp, -128, 127)
            self.consts[self.node.output[0]] = (y + 128).astype(np.uint8) if unsigned \
                else y.astype(np.int8)
            return self.value(self.node.output[0])
        x = self._float_only(self.value(name))
        if scale.size != 1 or self.attr("block_size", 0):
            self.fail("per-axis or blocked QuantizeLinear of an activation is not supported")
        s, z = np.float32(scale.ravel()[0]), int(zp.ravel()[0])

        def fn(b, a):
            return b.quantize(b.op(f"arith.divf {a[0]}, {b.const(s, 'f32')} : f32"), z)
        if unsigned:
            self.uint8.add(self.node.output[0])
        return self.em.map([x], x.shape, "i8", fn)

    def op_DequantizeLinear(self):
        name = self.node.input[0]
        zp_name = self.node.input[2] if len(self.node.input) > 2 else None
        unsigned = self.quantized_input(name, zp_name, "input")
        bias = name in self.consts and np.asarray(self.consts[name]).dtype == np.int32
        scale, zp, _ = self.qparams(self.node.input[1], zp_name, uint8=unsigned, int32=bias)
        if name in self.consts:  # constant weights (per tensor or per axis): fold
            q = self.consts[name]
            if q.dtype not in (np.int8, np.uint8, np.int32):
                self.fail(f"{q.dtype} quantized constants are not supported "
                          "(int8, uint8, int32)")
            if unsigned:  # zp is in the carrier's terms
                q = q.astype(np.int64) - 128
            if scale.size > 1:
                scale, zp = self.per_axis(scale, zp, q.ndim, lambda a: q.shape[a])
            w = (q.astype(np.float32) - zp.astype(np.float32)) * scale.astype(np.float32)
            self.consts[self.node.output[0]] = w.astype(np.float32)
            return self.em.constant(w.astype(np.float32))
        x = self.value(name)
        if x.elem != "i8":
            self.fail(f"DequantizeLinear of a {x.elem} activation is not supported (int8 only)")
        if scale.size != 1 or self.attr("block_size", 0):
            self.fail("per-axis or blocked DequantizeLinear of an activation is not supported")
        s, z = np.float32(scale.ravel()[0]), int(zp.ravel()[0])

        return self.em.map([x], x.shape, "f32", lambda b, a: b.dequantize(a[0], z, s))

    def _qlinear_out(self, acc, wsum, xs, xz, ws, ys, yz, bias, channels, qmin=-128):
        b = np.zeros(channels, np.int64) if bias is None else bias.astype(np.int64)
        b = b - int(xz) * wsum
        scale = (np.float32(xs) * np.broadcast_to(ws.astype(np.float32), (channels,))
                 / np.float32(ys)).astype(np.float32)
        return self.em.requant_float(acc, b, scale if scale.size > 1 and np.any(
            scale != scale[0]) else scale[:1], int(yz), qmin, 127)

    def qlinear_weight(self, name, scale_name, zp_name, what, axis):
        """A QLinear* weight less its zero point (per tensor, or per slice along
        `axis`), as int8 with a zero point of 0, and its scale. The kernels
        take int8 weights, so the differences must fit int8 (always so for
        int8 weights with zero point 0 and uint8 ones with 128)."""
        w = np.asarray(self.const(name, what))
        if w.dtype not in (np.int8, np.uint8):
            self.fail(f"{w.dtype} {what} is not supported (int8 or uint8)")
        unsigned = self.quantized_input(name, zp_name, what)
        scale, wz, _ = self.qparams(scale_name, zp_name, uint8=unsigned)
        # The carrier zero point against the carrier weights: the raw difference.
        d = less_zero_point(w.astype(np.int16) - (128 if unsigned else 0), wz, axis)
        if d is None:
            self.fail(f"{what} zero point of shape {list(wz.shape)} does not match "
                      f"axis {axis} of {list(w.shape)}")
        if not fits_int8(d):
            self.fail(f"{what} less its zero point does not fit int8 (range "
                      f"[{d.min()}, {d.max()}]); the kernels take int8 weights")
        return d.astype(np.int8), scale

    def qlinear_output(self, y_zp_name):
        """Marks the output uint8 when its zero point is."""
        if np.asarray(self.const(y_zp_name, "zero point")).dtype == np.uint8:
            self.uint8.add(self.node.output[0])

    def op_QLinearConv(self):
        i = self.node.input
        x = self.value(i[0])
        if x.elem != "i8":
            self.fail(f"input of type {x.elem} is not supported (int8 or uint8)")
        xs, xz, _ = self.qparams(i[1], i[2], self.quantized_input(i[0], i[2], "input"))
        w, ws = self.qlinear_weight(i[3], i[4], i[5], "weight", axis=0)
        ys, yz, _ = self.qparams(i[6], i[7])
        if xs.size != 1 or ys.size != 1 or ws.size not in (1, w.shape[0]):
            self.fail("scales must be per tensor (weights: per tensor or per output channel)")
        bias = self.const(i[8], "bias") if len(i) > 8 and i[8] else None
        if len(w.shape) != len(x.shape):
            self.fail(f"weight of rank {len(w.shape)} for an input of rank {len(x.shape)}")
        x, one_d = self.to_2d(x)
        if one_d:
            w = w[:, :, None, :]
        acc, w2d = self._conv(x, w, int(xz.ravel()[0]), one_d)
        y = self._qlinear_out(acc, w2d.astype(np.int64).sum(1), xs.ravel()[0],
                              xz.ravel()[0], ws.ravel(), ys.ravel()[0], yz.ravel()[0], bias,
                              w.shape[0])
        y = self.nhwc_to_nchw(y)
        self.qlinear_output(i[7])
        return self.em.reshape(y, (y.shape[0], y.shape[1], y.shape[3])) if one_d else y

    def op_QLinearMatMul(self):
        i = self.node.input
        a = self.value(i[0])
        if a.elem != "i8":
            self.fail(f"A of type {a.elem} is not supported (int8 or uint8)")
        xs, xz, _ = self.qparams(i[1], i[2], self.quantized_input(i[0], i[2], "A"))
        bmat, ws = self.qlinear_weight(i[3], i[4], i[5], "B", axis=1)
        ys, yz, _ = self.qparams(i[6], i[7])
        if bmat.ndim != 2:
            self.fail(f"B must be a 2-D constant (is {bmat.dtype}{list(bmat.shape)})")
        if xs.size != 1 or ys.size != 1 or ws.size not in (1, bmat.shape[1]):
            self.fail("scales must be per tensor (B: per tensor or per column)")
        w2d = np.ascontiguousarray(bmat.T.astype(np.int8))
        acc = self._matrix(a, w2d, "QLinearMatMul")
        y = self._qlinear_out(acc, w2d.astype(np.int64).sum(1), xs.ravel()[0], xz.ravel()[0],
                              ws.ravel(), ys.ravel()[0], yz.ravel()[0], None, w2d.shape[0])
        self.qlinear_output(i[7])
        return self.em.reshape(y, a.shape[:-1] + (w2d.shape[0],))
