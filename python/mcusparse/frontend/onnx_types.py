"""ONNX element types (TensorProto.DataType) as the front end uses them."""
from __future__ import annotations

import numpy as np

UINT8, INT8 = 2, 3
# Graph input types the front end takes (uint8 separately: carried as int8).
ELEM = {1: ("f32", np.float32), 3: ("i8", np.int8), 5: ("i16", np.int16),
        6: ("i32", np.int32), 7: ("i64", np.int64)}
# Cast's target types, as numpy types (constant folding).
NUMPY = {1: np.float32, 2: np.uint8, 3: np.int8, 5: np.int16, 6: np.int32, 7: np.int64,
         9: np.bool_, 11: np.float64}
NAMES = {1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32",
         7: "int64", 9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64",
         16: "bfloat16", 17: "float8e4m3fn", 19: "float8e5m2", 21: "uint4", 22: "int4",
         23: "float4e2m1", 25: "uint2", 26: "int2"}
