"""Reference interpreters for whole models: LiteRT for TFLite, onnxruntime for ONNX.

LiteRT runs with its reference kernels (OpResolverType.BUILTIN_REF): the
optimised kernels round some int8 requantisations differently, the reference
ones define TFLite's semantics (docs/frontends.md).
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

import numpy as np


class Reference:
    """`ref(*inputs) -> list of outputs` for one model file."""

    def __init__(self, path: "str | Path"):
        self.path = Path(path)
        with open(self.path, "rb") as f:
            head = f.read(8)
        self.kind = "tflite" if head[4:8] == b"TFL3" else "onnx"
        if self.kind == "tflite":
            from ai_edge_litert import interpreter as litert
            self._it = litert.Interpreter(
                str(self.path), experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
            self._it.allocate_tensors()
            self.name = "LiteRT (reference kernels)"
        else:
            import onnxruntime as ort
            so = ort.SessionOptions()
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            so.log_severity_level = 3
            self._sess = ort.InferenceSession(str(self.path), so,
                                              providers=["CPUExecutionProvider"])
            self.name = "onnxruntime"

    def __call__(self, *inputs: np.ndarray) -> List[np.ndarray]:
        if self.kind == "tflite":
            it = self._it
            for d, x in zip(it.get_input_details(), inputs):
                it.set_tensor(d["index"], np.asarray(x).reshape(d["shape"]))
            it.invoke()
            return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]
        feeds = {i.name: np.asarray(x).reshape(i.shape) if all(isinstance(d, int) for d in i.shape)
                 else np.asarray(x) for i, x in zip(self._sess.get_inputs(), inputs)}
        return list(self._sess.run(None, feeds))


def random_inputs(specs: Sequence, seed: int = 0) -> List[np.ndarray]:
    """Inputs that exercise the whole range: uniform int8, or N(0, 1) floats."""
    rng = np.random.default_rng(seed)
    out = []
    for s in specs:
        dt = np.dtype(s.dtype)
        if np.issubdtype(dt, np.integer):
            info = np.iinfo(dt)
            out.append(rng.integers(info.min, info.max + 1, size=s.shape, dtype=dt))
        else:
            out.append(rng.standard_normal(s.shape).astype(dt))
    return out
