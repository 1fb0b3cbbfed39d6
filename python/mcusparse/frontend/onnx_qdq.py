"""QDQ fusion: DequantizeLinear -> Conv / Gemm / MatMul -> QuantizeLinear as
one int8 layer.

onnxruntime's quantizer writes a quantized layer (QuantFormat.QDQ, its
default) as a float Conv, Gemm or MatMul whose input, weight and bias come
from DequantizeLinear nodes and whose output goes to a QuantizeLinear;
onnxruntime runs that group as QLinearConv / QLinearMatMul (graph
optimisations on, its default). Imported node by node the layer would be a
float layer with float32 weights: four times the flash and no int8 kernel.
Fused, it is computed exactly as QLinearConv is (int32 accumulator, float32
scale xs * ws / ys, round half to even, saturate), on the int8 weights.

A group is fused when
- the input is DequantizeLinear of an activation (int8 or uint8, per-tensor
  scale and zero point),
- the weight is DequantizeLinear of an int8 / uint8 constant (per tensor or
  per output channel) whose values less the zero point fit int8,
- the bias, if any, is DequantizeLinear of an int32 constant with zero point
  0 and scale xs * ws (what the quantizer writes),
- the layer's output feeds only a QuantizeLinear (per tensor), possibly
  through a Relu that feeds only it (a Relu before quantization is the lower
  bound zp_y: quantization is monotone),
- Gemm has alpha = beta = 1 and transA = 0; MatMul's B is 2-D.
Anything else stays node by node (float), as before.
"""
from __future__ import annotations

import numpy as np

from mcusparse.frontend.onnx_quant import fits_int8, less_zero_point

FUSABLE = ("Conv", "Gemm", "MatMul")


class QDQFusion:
    """Mixed into the ONNX importer (onnx._Importer)."""

    def index_graph(self):
        """Producer and consumers of every tensor name; the graph outputs."""
        self.producer = {}
        self.consumers: dict[str, list] = {}
        for node in self.g.node:
            for name in node.output:
                self.producer[name] = node
            for name in node.input:
                if name:
                    self.consumers.setdefault(name, []).append(node)
        self.graph_outputs = {vi.name for vi in self.g.output}
        self.fused_nodes: set[int] = set()   # id() of the nodes a fusion consumed

    # --- pattern helpers ---------------------------------------------------------
    def _dq(self, name, const_input):
        """The DequantizeLinear node producing `name`, if its input is (not) a
        constant as asked."""
        node = self.producer.get(name)
        if node is None or node.op_type != "DequantizeLinear" or \
                node.domain not in ("", "ai.onnx"):
            return None
        return node if (node.input[0] in self.consts) == const_input else None

    def _param(self, node, i):
        """Input i of a Q / DQ node as a constant array (None if absent or not constant)."""
        if len(node.input) <= i or not node.input[i]:
            return None
        name = node.input[i]
        return np.asarray(self.consts[name]) if name in self.consts else None

    def _only_consumer(self, name):
        users = self.consumers.get(name, [])
        if name in self.graph_outputs or len(users) != 1:
            return None
        return users[0]

    def _per_tensor(self, node):
        """(scale, carrier zero point, uint8) of a per-tensor Q / DQ node with
        constant parameters, or None."""
        scale = self._param(node, 1)
        if scale is None or scale.dtype != np.float32 or scale.size != 1 or \
                any(a.name == "block_size" and a.i for a in node.attribute):
            return None
        zp = self._param(node, 2)
        if zp is None:
            if len(node.input) > 2 and node.input[2]:
                return None                      # a zero point computed at run time
            if node.op_type == "QuantizeLinear":  # no zero point: uint8 unless said
                out = next((a.i for a in node.attribute if a.name == "output_dtype"), 0)
                if out not in (0, 2, 3):
                    return None
                unsigned = out != 3
            else:                                # the input's type
                unsigned = self.is_uint8(node.input[0])
            zp = np.zeros((), np.uint8 if unsigned else np.int8)
        if zp.dtype not in (np.int8, np.uint8) or zp.size != 1:
            return None
        unsigned = zp.dtype == np.uint8
        return np.float32(scale.ravel()[0]), int(zp.ravel()[0]) - (128 if unsigned else 0), \
            unsigned

    def _weight(self, dq, axis):
        """The int8 weight (less its zero point) and float32 scale(s) of a
        weight DequantizeLinear, or None."""
        w = np.asarray(self.consts[dq.input[0]])
        scale, zp = self._param(dq, 1), self._param(dq, 2)
        if w.dtype not in (np.int8, np.uint8) or scale is None or scale.dtype != np.float32:
            return None
        if zp is None:
            zp = np.zeros(scale.shape, w.dtype)
        if zp.dtype != w.dtype or zp.size != scale.size:
            return None
        if scale.size > 1:
            dq_axis = next((a.i for a in dq.attribute if a.name == "axis"), 1)
            if scale.ndim != 1 or dq_axis % w.ndim != axis or scale.size != w.shape[axis]:
                return None
        d = less_zero_point(w, zp.reshape(scale.shape), axis)
        if d is None or not fits_int8(d):
            return None
        return d.astype(np.int8), scale.astype(np.float32).ravel()

    def _bias(self, dq, xs, ws, channels):
        """The int32 bias of a bias DequantizeLinear with scale xs * ws, or None."""
        b = np.asarray(self.consts[dq.input[0]])
        scale, zp = self._param(dq, 1), self._param(dq, 2)
        if b.dtype != np.int32 or b.shape != (channels,) or scale is None:
            return None
        if zp is not None and np.any(zp != 0):
            return None
        want = (xs * np.broadcast_to(ws, (channels,))).astype(np.float32)
        if not np.array_equal(np.broadcast_to(scale.astype(np.float32), (channels,)), want):
            return None
        return b

    # --- the fusion ----------------------------------------------------------------
    def fuse_qdq(self) -> bool:
        """Fuses the group around the current Conv / Gemm / MatMul node when it
        matches (see the module docstring); False leaves the node to the float path."""
        node = self.node
        op = node.op_type
        if op == "Gemm" and (self.attr("transA", 0) or float(self.attr("alpha", 1.0)) != 1.0
                             or float(self.attr("beta", 1.0)) != 1.0):
            return False
        dqx = self._dq(node.input[0], const_input=False)
        dqw = self._dq(node.input[1], const_input=True) if len(node.input) > 1 else None
        if dqx is None or dqw is None or dqx.input[0] not in self.values:
            return False
        xq = self._per_tensor(dqx)
        if xq is None or self.is_uint8(dqx.input[0]) != xq[2]:
            return False
        xs, xz, _ = xq
        # The output: QuantizeLinear, possibly behind one Relu.
        relu = None
        user = self._only_consumer(node.output[0])
        if user is not None and user.op_type == "Relu":
            relu, user = user, self._only_consumer(user.output[0])
        if user is None or user.op_type != "QuantizeLinear" or \
                user.domain not in ("", "ai.onnx"):
            return False
        yq = self._per_tensor(user)
        if yq is None:
            return False
        ys, yz, y_uint8 = yq
        wconst = np.asarray(self.consts[dqw.input[0]])
        if op == "Conv":
            axis = 0
        elif op == "Gemm":
            axis = 0 if self.attr("transB", 0) else 1
        else:
            if wconst.ndim != 2:
                return False
            axis = 1
        weight = self._weight(dqw, axis)
        if weight is None:
            return False
        w, ws = weight
        channels = w.shape[axis]
        bias = None
        if op in ("Conv", "Gemm") and len(node.input) > 2 and node.input[2]:
            dqb = self._dq(node.input[2], const_input=True)
            bias = None if dqb is None else self._bias(dqb, xs, ws, channels)
            if bias is None:
                return False
        x = self.values[dqx.input[0]]
        qmin = max(-128, yz) if relu is not None else -128
        if op == "Conv":
            if len(w.shape) != len(x.shape):
                return False
            x, one_d = self.to_2d(x)
            if one_d:
                w = w[:, :, None, :]
            acc, w2d = self._conv(x, w, xz, one_d)
            y = self._qlinear_out(acc, w2d.astype(np.int64).sum(1), xs, xz, ws, ys, yz,
                                  bias, channels, qmin)
            y = self.nhwc_to_nchw(y)
            if one_d:
                y = self.em.reshape(y, (y.shape[0], y.shape[1], y.shape[3]))
        else:
            if op == "Gemm" and len(x.shape) != 2:
                return False
            w2d = np.ascontiguousarray(w if axis == 0 else w.T)
            acc = self._matrix(x, w2d, op)
            y = self._qlinear_out(acc, w2d.astype(np.int64).sum(1), xs, xz, ws, ys, yz,
                                  bias, channels, qmin)
            y = self.em.reshape(y, x.shape[:-1] + (channels,))
        out = user.output[0]
        self.values[out] = y
        if y_uint8:
            self.uint8.add(out)
        self.fused_nodes.update(id(n) for n in (user, relu) if n is not None)
        return True
