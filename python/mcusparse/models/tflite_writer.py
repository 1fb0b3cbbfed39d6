"""Write .tflite flatbuffers with the `tflite` package's generated builder functions.

A minimal writer for the small int8 models this package makes: one subgraph,
static shapes, constant tensors in their own buffers, builtin operators with
their options tables. The output is deterministic (same calls, same bytes).

    w = TFLiteWriter(description="my model")
    x = w.tensor("input", [1, 8, 8, 1], FLOAT32)
    xq = w.tensor("input_int8", [1, 8, 8, 1], INT8, scale=1 / 255, zero_point=-128)
    w.op("QUANTIZE", [x], [xq])
    wt = w.tensor("conv/w", [8, 3, 3, 1], INT8, data=w_int8, scale=scales,
                  zero_point=[0] * 8, quantized_dimension=0)
    ...
    w.op("CONV_2D", [xq, wt, bias], [y], "Conv2DOptions",
         Padding=SAME, StrideW=1, StrideH=1, FusedActivationFunction=RELU)
    raw = w.build(inputs=[x], outputs=[out])

Operator versions (OP_VERSIONS) are the ones TensorFlow's converter writes
for int8 models; the interpreter only checks that it has a kernel registered
for the version.
"""
from __future__ import annotations

import flatbuffers
import numpy as np
import tflite

# TensorType
FLOAT32, INT32, INT8 = 0, 2, 9
# Padding
SAME, VALID = 0, 1
# ActivationFunctionType
NONE, RELU, RELU6 = 0, 1, 3

_NP_OF_TYPE = {FLOAT32: np.dtype("<f4"), INT32: np.dtype("<i4"), INT8: np.dtype("i1")}

# Version of each operator for int8 (full-integer) models, as in the converted
# KWS models of the dCSR paper (FULLY_CONNECTED int8: 4).
OP_VERSIONS = {"QUANTIZE": 1, "DEQUANTIZE": 2, "CONV_2D": 3, "FULLY_CONNECTED": 4,
               "RESHAPE": 1, "SOFTMAX": 2}


class TFLiteWriter:
    def __init__(self, description: str = ""):
        self.description = description
        self.tensors = []   # (name, shape, type, data bytes | None, quant | None)
        self.ops = []       # (builtin code, version, inputs, outputs, options name, fields)

    def tensor(self, name: str, shape, type_code: int, data=None, scale=None,
               zero_point=None, quantized_dimension: int = 0) -> int:
        """Adds a tensor and returns its index. `data` makes it a constant (stored
        little-endian as `type_code`); `scale` (scalar or per-channel) makes it
        quantized, with `zero_point` (default 0) along `quantized_dimension`."""
        shape = [int(d) for d in shape]
        quant = None
        if scale is not None:
            scale = np.atleast_1d(np.asarray(scale, np.float32))
            zp = np.zeros(scale.size, np.int64) if zero_point is None else \
                np.atleast_1d(np.asarray(zero_point, np.int64))
            if zp.size != scale.size:
                raise ValueError(f"tensor {name}: {scale.size} scales, {zp.size} zero points")
            quant = (scale, zp, int(quantized_dimension))
        raw = None
        if data is not None:
            arr = np.asarray(data)
            if arr.size != int(np.prod(shape)):
                raise ValueError(f"tensor {name}: data has {arr.size} elements, "
                                 f"shape {shape} needs {int(np.prod(shape))}")
            raw = np.ascontiguousarray(arr, _NP_OF_TYPE[type_code]).tobytes()
        self.tensors.append((name, shape, int(type_code), raw, quant))
        return len(self.tensors) - 1

    def op(self, name: str, inputs, outputs, options: str | None = None, **fields) -> None:
        """Adds builtin operator `name` (a tflite.BuiltinOperator name) with an
        options table `options` (e.g. "Conv2DOptions") set from `fields`."""
        code = getattr(tflite.BuiltinOperator, name)
        self.ops.append((code, OP_VERSIONS.get(name, 1), [int(i) for i in inputs],
                         [int(o) for o in outputs], options, fields))

    def build(self, inputs, outputs) -> bytes:
        b = flatbuffers.Builder(1024)

        def table_vector(start, offsets):
            start(b, len(offsets))
            for off in reversed(offsets):
                b.PrependUOffsetTRelative(off)
            return b.EndVector()

        # Buffer 0 is the empty sentinel; every constant tensor gets its own buffer.
        tflite.BufferStart(b)
        buffers = [tflite.BufferEnd(b)]
        buffer_of = []
        for _, _, _, raw, _ in self.tensors:
            if raw is None:
                buffer_of.append(0)
                continue
            # 16-byte alignment of the payload, as the converter does.
            b.StartVector(1, len(raw), 16)
            b.head = b.head - len(raw)
            b.Bytes[b.head:b.head + len(raw)] = raw
            payload = b.EndVector()
            tflite.BufferStart(b)
            tflite.BufferAddData(b, payload)
            buffers.append(tflite.BufferEnd(b))
            buffer_of.append(len(buffers) - 1)

        tensor_tables = []
        for (name, shape, tcode, _, quant), buf in zip(self.tensors, buffer_of):
            name_off = b.CreateString(name)
            shape_off = b.CreateNumpyVector(np.asarray(shape, np.int32))
            q_off = None
            if quant is not None:
                scale, zp, qdim = quant
                s_off = b.CreateNumpyVector(scale.astype(np.float32))
                z_off = b.CreateNumpyVector(zp.astype(np.int64))
                tflite.QuantizationParametersStart(b)
                tflite.QuantizationParametersAddScale(b, s_off)
                tflite.QuantizationParametersAddZeroPoint(b, z_off)
                tflite.QuantizationParametersAddQuantizedDimension(b, qdim)
                q_off = tflite.QuantizationParametersEnd(b)
            tflite.TensorStart(b)
            tflite.TensorAddShape(b, shape_off)
            tflite.TensorAddType(b, tcode)
            tflite.TensorAddBuffer(b, buf)
            tflite.TensorAddName(b, name_off)
            if q_off is not None:
                tflite.TensorAddQuantization(b, q_off)
            tensor_tables.append(tflite.TensorEnd(b))

        # Operator codes in order of first use.
        codes = []
        for code, version, *_ in self.ops:
            if (code, version) not in codes:
                codes.append((code, version))
        op_tables = []
        for code, version, ins, outs, opt_name, fields in self.ops:
            opt_off = None
            if opt_name:
                getattr(tflite, opt_name + "Start")(b)
                for field, value in fields.items():
                    getattr(tflite, f"{opt_name}Add{field}")(b, value)
                opt_off = getattr(tflite, opt_name + "End")(b)
            in_off = b.CreateNumpyVector(np.asarray(ins, np.int32))
            out_off = b.CreateNumpyVector(np.asarray(outs, np.int32))
            tflite.OperatorStart(b)
            tflite.OperatorAddOpcodeIndex(b, codes.index((code, version)))
            tflite.OperatorAddInputs(b, in_off)
            tflite.OperatorAddOutputs(b, out_off)
            if opt_off is not None:
                tflite.OperatorAddBuiltinOptionsType(b, getattr(tflite.BuiltinOptions, opt_name))
                tflite.OperatorAddBuiltinOptions(b, opt_off)
            op_tables.append(tflite.OperatorEnd(b))

        tensors_vec = table_vector(tflite.SubGraphStartTensorsVector, tensor_tables)
        ops_vec = table_vector(tflite.SubGraphStartOperatorsVector, op_tables)
        in_vec = b.CreateNumpyVector(np.asarray(inputs, np.int32))
        out_vec = b.CreateNumpyVector(np.asarray(outputs, np.int32))
        sg_name = b.CreateString("main")
        tflite.SubGraphStart(b)
        tflite.SubGraphAddTensors(b, tensors_vec)
        tflite.SubGraphAddOperators(b, ops_vec)
        tflite.SubGraphAddInputs(b, in_vec)
        tflite.SubGraphAddOutputs(b, out_vec)
        tflite.SubGraphAddName(b, sg_name)
        subgraph = tflite.SubGraphEnd(b)

        code_tables = []
        for code, version in codes:
            tflite.OperatorCodeStart(b)
            tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
            tflite.OperatorCodeAddBuiltinCode(b, code)
            tflite.OperatorCodeAddVersion(b, version)
            code_tables.append(tflite.OperatorCodeEnd(b))
        codes_vec = table_vector(tflite.ModelStartOperatorCodesVector, code_tables)
        subgraphs_vec = table_vector(tflite.ModelStartSubgraphsVector, [subgraph])
        buffers_vec = table_vector(tflite.ModelStartBuffersVector, buffers)
        desc = b.CreateString(self.description) if self.description else None
        tflite.ModelStart(b)
        tflite.ModelAddVersion(b, 3)
        tflite.ModelAddOperatorCodes(b, codes_vec)
        tflite.ModelAddSubgraphs(b, subgraphs_vec)
        tflite.ModelAddBuffers(b, buffers_vec)
        if desc is not None:
            tflite.ModelAddDescription(b, desc)
        b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
        return bytes(b.Output())
