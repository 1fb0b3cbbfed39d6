"""Front ends: TFLite and ONNX models -> MLIR on tensors.

    from mcusparse.frontend import import_model
    m = import_model("kws.tflite")      # or "net.onnx"
    m.mlir        # module text: one func.func @main, weights as arith.constant
    m.inputs      # [TensorSpec(name, shape, dtype, scale, zero_point)]
    m.layers      # per CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (Conv, Gemm, ...) layer
    m.save("out/model.mlir")           # written atomically

`import_model` dispatches on the file's contents (TFLite flatbuffers carry
"TFL3" at byte 4; anything else is parsed as an ONNX protobuf) and on its
suffix. Every problem with the model (unsupported operator, dynamic shape,
truncated or corrupt file) raises `FrontendError` (a ValueError) naming the
operator or the problem; a missing file raises OSError.
"""
from __future__ import annotations

import os

from mcusparse.frontend.model import FrontendError, ImportedModel, LayerInfo, TensorSpec


def import_model(path: str | os.PathLike) -> ImportedModel:
    """Imports a .tflite or .onnx file (see the module docstring)."""
    path = os.fspath(path)
    with open(path, "rb") as f:  # OSError for a missing or unreadable file
        head = f.read(8)
    if len(head) >= 8 and head[4:8] == b"TFL3":
        from mcusparse.frontend import tflite as _tflite
        return _tflite.import_tflite(path)
    if path.lower().endswith(".tflite"):
        raise FrontendError(f"{path}: not a TFLite flatbuffer (no 'TFL3' identifier)")
    if not path.lower().endswith(".mlir"):
        from mcusparse.frontend import onnx as _onnx
        if path.lower().endswith(".onnx"):
            return _onnx.import_onnx(path)
        # Any other suffix: ONNX protobufs carry no magic number, so try it.
        try:
            return _onnx.import_onnx(path)
        except _onnx.NotONNXError:
            raise FrontendError(f"{path}: neither a TFLite flatbuffer (no 'TFL3' identifier) "
                                f"nor a valid ONNX model (expected a .tflite or .onnx model)") \
                from None
    raise FrontendError(f"{path}: unknown model format (expected .tflite or .onnx)")


__all__ = ["FrontendError", "ImportedModel", "LayerInfo", "TensorSpec", "import_model"]
