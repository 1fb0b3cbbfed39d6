"""Float activations and per-channel normalisation of the ONNX front end.

Each is one elementwise linalg.generic on f32 (the targets' requantisation
and vectorisation passes treat it like any other elementwise step). Exp,
Sigmoid and Tanh call libm's expf / tanhf on the MCU targets (picolibc).
BatchNormalization (inference form, constant statistics) folds into one
multiply-add per channel: x * (scale / sqrt(var + eps)) + (B - mean * that).
"""
from __future__ import annotations

import numpy as np

# Unary float operators: MLIR math / arith op on the operand.
_UNARY = {"Exp": "math.exp", "Sqrt": "math.sqrt", "Abs": "math.absf", "Neg": "arith.negf",
          "Tanh": "math.tanh"}


class ElementwiseOps:
    """Mixed into the ONNX importer (onnx._Importer)."""

    def _unary(self):
        x = self._float_only(self.value(self.node.input[0]))
        op = _UNARY[self.node.op_type]
        return self._f(lambda b, a: b.op(f"{op} {a[0]} : f32"), x)

    op_Exp = op_Sqrt = op_Abs = op_Neg = op_Tanh = _unary

    def op_Sigmoid(self):
        x = self._float_only(self.value(self.node.input[0]))

        def sigmoid(b, a):
            e = b.op(f"math.exp {b.op(f'arith.negf {a[0]} : f32')} : f32")
            d = b.op(f"arith.addf {b.const(1.0, 'f32')}, {e} : f32")
            return b.op(f"arith.divf {b.const(1.0, 'f32')}, {d} : f32")
        return self._f(sigmoid, x)

    def _hard_sigmoid(self, b, v, alpha, beta):
        """max(0, min(1, alpha * v + beta))."""
        t = b.op(f"arith.mulf {v}, {b.const(alpha, 'f32')} : f32")
        t = b.op(f"arith.addf {t}, {b.const(beta, 'f32')} : f32")
        return b.clamp(t, 0.0, 1.0, "f32")

    def op_HardSigmoid(self):
        x = self._float_only(self.value(self.node.input[0]))
        alpha, beta = float(self.attr("alpha", 0.2)), float(self.attr("beta", 0.5))
        return self._f(lambda b, a: self._hard_sigmoid(b, a[0], alpha, beta), x)

    def op_HardSwish(self):
        x = self._float_only(self.value(self.node.input[0]))
        return self._f(lambda b, a: b.op(
            f"arith.mulf {a[0]}, {self._hard_sigmoid(b, a[0], 1.0 / 6.0, 0.5)} : f32"), x)

    def op_LeakyRelu(self):
        x = self._float_only(self.value(self.node.input[0]))
        alpha = float(self.attr("alpha", 0.01))

        def leaky(b, a):
            neg = b.op(f"arith.cmpf olt, {a[0]}, {b.const(0.0, 'f32')} : f32")
            scaled = b.op(f"arith.mulf {a[0]}, {b.const(alpha, 'f32')} : f32")
            return b.op(f"arith.select {neg}, {scaled}, {a[0]} : f32")
        return self._f(leaky, x)

    def op_PRelu(self):
        x = self._float_only(self.value(self.node.input[0]))
        slope = self._float_only(self.value(self.node.input[1]), "slope")
        try:
            if np.broadcast_shapes(x.shape, slope.shape) != x.shape:
                raise ValueError
        except ValueError:
            self.fail(f"slope of shape {list(slope.shape)} does not broadcast to "
                      f"{list(x.shape)}")

        def prelu(b, a):
            neg = b.op(f"arith.cmpf olt, {a[0]}, {b.const(0.0, 'f32')} : f32")
            scaled = b.op(f"arith.mulf {a[0]}, {a[1]} : f32")
            return b.op(f"arith.select {neg}, {scaled}, {a[0]} : f32")
        return self._f(prelu, x, slope, shape=x.shape)

    def op_BatchNormalization(self):
        if len(self.node.output) > 1 and any(self.node.output[1:]):
            self.fail("training mode (running mean / var outputs) is not supported")
        x = self._float_only(self.value(self.node.input[0]))
        if len(x.shape) < 2:
            self.fail(f"input of rank {len(x.shape)} has no channel axis")
        scale, bias, mean, var = (np.asarray(self.const(n, "BatchNormalization parameter"),
                                             np.float32) for n in self.node.input[1:5])
        c = x.shape[1]
        if any(p.shape != (c,) for p in (scale, bias, mean, var)):
            self.fail(f"scale, B, mean and var must have {c} values (the channels)")
        eps = np.float32(self.attr("epsilon", 1e-5))
        mul = (scale / np.sqrt(var + eps)).astype(np.float32)
        add = (bias - mean * mul).astype(np.float32)
        per_channel = (c,) + (1,) * (len(x.shape) - 2)
        mv = self.em.constant(mul.reshape(per_channel))
        av = self.em.constant(add.reshape(per_channel))
        return self._f(lambda b, a: b.op(
            f"arith.addf {b.op(f'arith.mulf {a[0]}, {a[1]} : f32')}, {a[2]} : f32"),
            x, mv, av, shape=x.shape)
