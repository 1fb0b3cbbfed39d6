"""Read the weight tensors of a .tflite model (no TensorFlow needed).

`read_weights(path)` returns one WeightTensor per constant weight operand of
CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED operators (input 1), once per
tensor even when several operators share it. int8 and float32 weights are
read; other element types (float16, int4, ...) are skipped. A file that is
missing raises OSError; one that is not a TFLite flatbuffer, or is truncated
or corrupt, raises ValueError naming the problem. (Every table, vector and
buffer the reader touches must lie inside the file; cutting off only unused
trailing alignment padding leaves a readable model and is not an error.)
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass

import numpy as np

WEIGHT_OPERATORS = {3: "CONV_2D", 4: "DEPTHWISE_CONV_2D", 9: "FULLY_CONNECTED"}
# TFLite TensorType codes we read.
ELEMENT_TYPES = {0: np.dtype("<f4"), 9: np.dtype("i1")}
FILE_IDENTIFIER = b"TFL3"


@dataclass(frozen=True)
class WeightTensor:
    name: str
    operator: str          # CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED
    shape: tuple[int, ...]  # as stored in the model
    data: np.ndarray       # int8 or float32, of `shape`

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def as_matrix(self) -> np.ndarray:
        """2-D (out_channels, everything else).

        CONV_2D filters are [O, H, W, I] and FULLY_CONNECTED [O, I]: output
        channels lead. DEPTHWISE_CONV_2D filters are [1, H, W, C*mult]:
        output channels are last, so they are moved to the front.
        """
        data = self.data
        if self.operator == "DEPTHWISE_CONV_2D":
            data = np.moveaxis(data, -1, 0)
        if data.ndim == 0:
            data = data.reshape(1, 1)
        return np.ascontiguousarray(data.reshape(data.shape[0], -1))


def _builtin_code(opcode) -> int:
    # builtin_code (int32) superseded deprecated_builtin_code (int8, max 127).
    return max(int(opcode.BuiltinCode()), int(opcode.DeprecatedBuiltinCode()))


def _buffer_bytes(model, buffer_index: int, raw: bytes) -> bytes | None:
    if not 0 <= buffer_index < model.BuffersLength():
        raise ValueError(f"buffer index {buffer_index} out of range")
    buffer = model.Buffers(buffer_index)
    offset, size = int(buffer.Offset()), int(buffer.Size())
    if offset > 1:  # data stored after the flatbuffer (models over 2 GB)
        if offset + size > len(raw):
            raise ValueError(f"buffer {buffer_index} extends past the end of the file")
        return raw[offset:offset + size]
    if buffer.DataIsNone() or buffer.DataLength() == 0:
        return None
    return buffer.DataAsNumpy().tobytes()


def _parse(raw: bytes) -> list[WeightTensor]:
    import tflite  # imported here so the formats package works without it

    model = tflite.Model.GetRootAs(raw, 0)
    codes = [_builtin_code(model.OperatorCodes(i)) for i in range(model.OperatorCodesLength())]
    # Touch every buffer once so a truncated tail is caught even when no
    # weight lives there (the flatbuffer builder puts early buffers last).
    for index in range(model.BuffersLength()):
        _buffer_bytes(model, index, raw)
    weights: list[WeightTensor] = []
    seen: set[tuple[int, int]] = set()
    for sg_index in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(sg_index)
        for op_index in range(subgraph.OperatorsLength()):
            op = subgraph.Operators(op_index)
            if not 0 <= op.OpcodeIndex() < len(codes):
                raise ValueError(f"operator {op_index} has opcode index {op.OpcodeIndex()} out of range")
            operator = WEIGHT_OPERATORS.get(codes[op.OpcodeIndex()])
            if operator is None or op.InputsLength() < 2:
                continue
            tensor_index = int(op.Inputs(1))
            if (sg_index, tensor_index) in seen or tensor_index < 0:
                continue
            if tensor_index >= subgraph.TensorsLength():
                raise ValueError(f"operator {op_index} refers to tensor {tensor_index}, "
                                 f"but the subgraph has {subgraph.TensorsLength()}")
            seen.add((sg_index, tensor_index))
            tensor = subgraph.Tensors(tensor_index)
            dtype = ELEMENT_TYPES.get(int(tensor.Type()))
            if dtype is None:
                continue
            data = _buffer_bytes(model, int(tensor.Buffer()), raw)
            if data is None:  # not a constant
                continue
            shape = tuple(int(d) for d in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()
            name = (tensor.Name() or b"").decode("utf-8", errors="replace")
            expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if any(d < 0 for d in shape) or len(data) != expected:
                raise ValueError(f"tensor {name!r}: {len(data)} data bytes do not match "
                                 f"shape {list(shape)} of {dtype}")
            array = np.frombuffer(data, dtype=dtype).astype(dtype.newbyteorder("=")).reshape(shape)
            weights.append(WeightTensor(name, operator, shape, array))
    return weights


def read_weights(path: str | os.PathLike) -> list[WeightTensor]:
    """All int8/float32 weight tensors of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED ops."""
    with open(path, "rb") as f:  # OSError for a missing file
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{os.fspath(path)}: {len(raw)} bytes is too short for a TFLite model")
    if raw[4:8] != FILE_IDENTIFIER:
        raise ValueError(f"{os.fspath(path)}: not a TFLite model (no 'TFL3' flatbuffer identifier)")
    root = struct.unpack_from("<I", raw, 0)[0]
    if root + 4 > len(raw):
        raise ValueError(f"{os.fspath(path)}: truncated or corrupt TFLite file (root table "
                         f"at {root} past the end of {len(raw)} bytes)")
    try:
        return _parse(raw)
    except ValueError as err:
        raise ValueError(f"{os.fspath(path)}: truncated or corrupt TFLite file: {err}") from None
    except (struct.error, IndexError, TypeError, OverflowError, UnicodeDecodeError):
        raise ValueError(f"{os.fspath(path)}: truncated or corrupt TFLite file (a table or "
                         f"vector lies outside the file's {len(raw)} bytes)") from None
