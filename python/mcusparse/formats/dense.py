"""Dense baseline: the weights row-major, one component `values`."""
from __future__ import annotations

import numpy as np


def encode(W: np.ndarray) -> dict[str, np.ndarray]:
    return {"values": W.reshape(-1).astype(W.dtype.newbyteorder("<"))}


def decode(arrays, shape, dtype) -> np.ndarray:
    values = arrays["values"]
    if values.size != shape[0] * shape[1]:
        raise ValueError(f"dense values hold {values.size} entries, expected {shape[0] * shape[1]}")
    return values.astype(dtype).reshape(shape)
