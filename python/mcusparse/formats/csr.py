"""CSR, the dCSR paper's baseline: values, uint16 column indices, uint16 row pointers.

Components (in flash order):
    values   int8/float32 [nnz]     nonzeros row by row, columns ascending
    col_idx  uint16       [nnz]     column of each value (uint8 for "csr:8",
                                    which takes at most 256 columns)
    row_ptr  uint16       [rows+1]  row r's entries are [row_ptr[r], row_ptr[r+1])
                                    (uint32 when nnz > 65535: pos_bits = 32)
"""
from __future__ import annotations

import numpy as np

INDEX_LIMIT = 65535  # largest value a uint16 index or pointer holds
CRD_BITS = (8, 16)   # column index widths


def pos_bits(nnz: int) -> int:
    """Row pointer width: 16 bits (the paper's CSR) while nnz fits, else 32."""
    return 16 if nnz <= INDEX_LIMIT else 32


def encode(W: np.ndarray, crd_bits: int = 16) -> dict[str, np.ndarray]:
    rows, cols = W.shape
    nonzero = W != 0
    nnz = int(nonzero.sum())
    if crd_bits == 8 and cols > 256:
        raise ValueError(f"csr:8: {cols} columns do not fit uint8 column indices (at most 256 "
                         "columns); use csr")
    if cols > INDEX_LIMIT:
        raise ValueError(f"csr: {cols} columns do not fit uint16 column indices (max {INDEX_LIMIT})")
    row_of, col_of = np.nonzero(nonzero)  # row-major order, columns ascending
    row_ptr = np.zeros(rows + 1, dtype="<u2" if pos_bits(nnz) == 16 else "<u4")
    np.cumsum(nonzero.sum(axis=1), out=row_ptr[1:])
    return {
        "values": W[row_of, col_of].astype(W.dtype.newbyteorder("<")),
        "col_idx": col_of.astype("u1" if crd_bits == 8 else "<u2"),
        "row_ptr": row_ptr,
    }


def decode(arrays, shape, dtype, crd_bits: int = 16) -> np.ndarray:
    rows, cols = shape
    values, col_idx, row_ptr = arrays["values"], arrays["col_idx"], arrays["row_ptr"]
    if row_ptr.size != rows + 1 or row_ptr[0] != 0 or np.any(np.diff(row_ptr.astype(np.int64)) < 0):
        raise ValueError("csr: row_ptr must have rows+1 non-decreasing entries starting at 0")
    if values.size != row_ptr[-1] or col_idx.size != row_ptr[-1]:
        raise ValueError("csr: values/col_idx length does not match row_ptr[-1]")
    if np.any(col_idx >= cols):
        raise ValueError("csr: column index out of range")
    W = np.zeros(shape, dtype=dtype)
    row_of = np.repeat(np.arange(rows), np.diff(row_ptr.astype(np.int64)))
    W[row_of, col_idx.astype(np.int64)] = values
    return W
