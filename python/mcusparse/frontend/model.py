"""Shared front-end types: FrontendError, TensorSpec, LayerInfo, ImportedModel."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field

import numpy as np


class FrontendError(ValueError):
    """The model cannot be imported: the message names the operator or the problem."""


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float | None = None       # set for quantized tensors
    zero_point: int | None = None


@dataclass(frozen=True)
class LayerInfo:
    """One weight layer (conv, depthwise, fully connected) of the imported graph."""
    index: int                  # operator / node index in the source model
    name: str                   # output tensor (TFLite) or node name (ONNX)
    op: str                     # CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ...
    weight_shape: tuple[int, ...]   # as stored in the model
    matrix_shape: tuple[int, int]   # the 2-D weight constant in the IR: out x (kh*kw*in)
    macs: int
    weight_bytes: int
    sparsity: float             # fraction of zero weights
    weight_dtype: str = "i8"
    weight: np.ndarray | None = field(default=None, repr=False, compare=False)  # 2-D view


@dataclass(frozen=True)
class OperatorSpan:
    """The lines of the imported module's text that one source operator emitted.

    Locations survive the lowering into the object's line table, so executed
    instructions can be charged to the operator they came from
    (mcusparse.compiler.profile)."""
    index: int                  # operator / node index in the source model
    op: str                     # CONV_2D, DEPTHWISE_CONV_2D, Conv, ...
    name: str                   # output tensor (TFLite) or node name (ONNX)
    first_line: int             # 1-based, inclusive
    last_line: int

    def to_json(self) -> dict:
        return {"index": self.index, "op": self.op, "name": self.name,
                "first_line": self.first_line, "last_line": self.last_line}


@dataclass
class ImportedModel:
    mlir: str
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    layers: list[LayerInfo]
    source: str = ""
    format: str = ""            # "tflite" or "onnx"
    operators: list[OperatorSpan] = field(default_factory=list)

    @property
    def total_macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def weight_bytes(self) -> int:
        return sum(layer.weight_bytes for layer in self.layers)

    def save(self, path: str | os.PathLike) -> None:
        """Writes the MLIR text atomically (no half-written file on failure)."""
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".import-", suffix=".mlir")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(self.mlir)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def report(self) -> list[dict]:
        return [{"index": l.index, "name": l.name, "op": l.op,
                 "weight_shape": list(l.weight_shape), "matrix_shape": list(l.matrix_shape),
                 "macs": l.macs, "weight_bytes": l.weight_bytes,
                 "sparsity": round(l.sparsity, 4)} for l in self.layers]
