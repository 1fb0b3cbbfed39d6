"""Constant folding at import: shape arithmetic on constants.

Exporters write shape computations into the graph: PyTorch's `x.view(n, -1)`
becomes Shape -> Gather -> Unsqueeze -> Concat -> Reshape. With static
shapes all of it is known at import, so a node whose inputs are all
constants (and every Shape, whose input's shape is static) is computed here
with numpy, and its output becomes a constant: a weight reshaped or
transposed by the graph is then a weight constant the compiler can give a
sparse layout, and no shape arithmetic reaches the microcontroller.
Integer semantics follow ONNX: Div truncates toward zero, Cast from float to
integer truncates.
"""
from __future__ import annotations

import numpy as np

from mcusparse.frontend import onnx_types as types

FOLDABLE = {"Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Slice", "Reshape",
            "Flatten", "Transpose", "Identity", "Add", "Sub", "Mul", "Div"}


class ConstantFolding:
    """Mixed into the ONNX importer (onnx._Importer)."""

    def fold(self) -> bool:
        """Folds the current node when it can (see the module docstring)."""
        node, op = self.node, self.node.op_type
        if op not in FOLDABLE or node.domain not in ("", "ai.onnx"):
            return False
        names = [n for n in node.input if n]
        if op == "Shape":
            shape = self._static_shape(node.input[0])
            if shape is None:
                return False
            r = len(shape)
            start, end = int(self.attr("start", 0)), self.attr("end")
            end = r if end is None else int(end)
            result = np.array(shape[max(start + r if start < 0 else start, 0):
                                    max(end + r if end < 0 else end, 0)], np.int64)
        elif names and all(n in self.consts for n in names):
            result = self._fold_const(op, [np.asarray(self.consts[n]) for n in names])
        else:
            return False
        self.consts[node.output[0]] = np.asarray(result)
        return True

    def _static_shape(self, name):
        if name in self.consts:
            return list(np.shape(self.consts[name]))
        if name in self.values:
            return list(self.values[name].shape)
        return None

    def _fold_const(self, op, a):
        if op == "Identity":
            return a[0]
        if op in ("Add", "Sub", "Mul", "Div"):
            if a[0].dtype != a[1].dtype:
                self.fail(f"operands of different types ({a[0].dtype}, {a[1].dtype})")
            if op == "Div" and a[0].dtype.kind in "iu":
                if np.any(a[1] == 0):
                    self.fail("integer division by zero")
                return np.trunc(np.true_divide(a[0], a[1])).astype(a[0].dtype)
            with np.errstate(all="ignore"):
                fn = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply,
                      "Div": np.divide}[op]
                return fn(a[0], a[1]).astype(a[0].dtype)
        if op == "Gather":
            axis = int(self.attr("axis", 0))
            if not -a[0].ndim <= axis < a[0].ndim:
                self.fail(f"axis {axis} out of range for rank {a[0].ndim}")
            if np.any(a[1] >= a[0].shape[axis]) or np.any(a[1] < -a[0].shape[axis]):
                self.fail(f"indices out of range for dimension {a[0].shape[axis]}")
            return np.take(a[0], a[1].astype(np.int64), axis=axis)
        if op == "Concat":
            axis = int(self.attr("axis", 0))
            try:
                return np.concatenate(a, axis=axis)
            except (ValueError, IndexError) as e:
                self.fail(f"inputs do not concatenate on axis {axis}: {e}")
        if op == "Cast":
            to = int(self.attr("to", 0))
            if to not in types.NUMPY:
                self.fail(f"Cast to type {to} is not supported")
            return a[0].astype(types.NUMPY[to])
        if op in ("Unsqueeze", "Squeeze"):
            axes = self._axes() if len(a) < 2 else [int(v) for v in np.ravel(a[1])]
            x = a[0]
            if op == "Squeeze":
                axes = [i for i, d in enumerate(x.shape) if d == 1] if axes is None else axes
                return np.squeeze(x, axis=tuple(axes)) if axes else x
            if axes is None:
                self.fail("axes are missing")
            r = x.ndim + len(axes)
            return np.reshape(x, _fill(x.shape, {v % r for v in axes}, r))
        if op == "Reshape":
            shape = [int(d) for d in a[1]]
            zero_copies = not self.attr("allowzero", 0)
            shape = [a[0].shape[i] if d == 0 and zero_copies else d for i, d in enumerate(shape)]
            try:
                return np.reshape(a[0], shape)
            except ValueError:
                self.fail(f"cannot reshape {list(a[0].shape)} to {shape}")
        if op == "Flatten":
            r, axis = a[0].ndim, int(self.attr("axis", 1))
            if not -r <= axis <= r:
                self.fail(f"axis {axis} out of range for rank {r}")
            axis = axis + r if axis < 0 else axis
            return np.reshape(a[0], (int(np.prod(a[0].shape[:axis])),
                                     int(np.prod(a[0].shape[axis:]))))
        if op == "Transpose":
            perm = self.attr("perm")
            return np.transpose(a[0], None if perm is None else [int(p) for p in perm])
        if op == "Slice":
            return a[0][self._slices(a)]
        raise AssertionError(op)

    def _slices(self, a):
        """Python slices of Slice's starts / ends / axes / steps (inputs 1-4,
        or attributes before opset 10)."""
        x = a[0]
        if len(a) > 1:
            starts, ends = [int(v) for v in a[1]], [int(v) for v in a[2]]
            axes = [int(v) for v in a[3]] if len(a) > 3 else list(range(len(starts)))
            steps = [int(v) for v in a[4]] if len(a) > 4 else [1] * len(starts)
        else:
            starts, ends = list(self.attr("starts", [])), list(self.attr("ends", []))
            axes = list(self.attr("axes", range(len(starts))))
            steps = [1] * len(starts)
        index = [slice(None)] * x.ndim
        for s, e, ax, st in zip(starts, ends, axes, steps):
            if st == 0:
                self.fail("a Slice step of 0")
            index[int(ax) % x.ndim] = slice(s, e, st)
        return tuple(index)


def _fill(shape, new_axes, rank):
    """The input's dimensions in order, with 1 at the new axes."""
    dims = iter(shape)
    return [1 if i in new_axes else next(dims) for i in range(rank)]
