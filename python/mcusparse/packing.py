"""Packing weights with the compiler (the C++ sparse-enc-pack-constants pass).

The golden encoders in mcusparse.formats say what the bytes must be; this
module asks the compiler for the same weights, so tests and the demo can
check that both agree byte for byte.
"""
from __future__ import annotations

import numpy as np
from mlir import ir

from mcusparse import encodings, pipeline


def weight_module(W: np.ndarray, fmt: str) -> str:
    """MLIR text of a function returning W as a constant stored in `fmt`."""
    t = encodings.tensor_type(W, fmt)
    return (f"func.func @weights() -> {t} {{\n"
            f"  %w = arith.constant {encodings.dense_literal(W)} : {t}\n"
            f"  return %w : {t}\n}}\n")


def _to_numpy(attr: ir.DenseElementsAttr) -> np.ndarray:
    tensor = ir.RankedTensorType(attr.type)
    element = tensor.element_type
    if isinstance(element, ir.F32Type):
        dtype = np.float32
    else:
        dtype = {8: np.int8, 16: np.int16, 32: np.int32}[ir.IntegerType(element).width]
    if attr.is_splat:  # stored once; numpy would see a single element
        return np.full(tensor.shape[0], attr.get_splat_value().value, dtype)
    return np.array(attr, copy=True).astype(dtype, copy=False).reshape(-1)


def pack_with_compiler(W: np.ndarray, fmt: str) -> dict[str, np.ndarray]:
    """Storage buffers of W in `fmt` as the compiler packs them, by name.

    Raises pipeline.PipelineError with the compiler's diagnostic when W does
    not fit the layout.
    """
    module = pipeline.run(weight_module(W, fmt), "builtin.module(sparse-enc-pack-constants)")
    with module.context:
        for op in module.body.operations[0].regions[0].blocks[0].operations:
            if op.operation.name != "sparse_enc.assemble":
                continue
            names = _buffer_names(op)
            return {name: _to_numpy(operand.owner.attributes["value"])
                    for name, operand in zip(names, op.operands)}
    raise pipeline.PipelineError(f"the compiler produced no sparse_enc.assemble for {fmt}")


def _buffer_names(assemble_op) -> list[str]:
    """Names of the assemble operands, from the dialect's own layout table."""
    from mcusparse import _mcusparse_ext
    return list(_mcusparse_ext.storage_buffer_names(assemble_op.results[0].type))
