"""GS: load-balanced gather-scatter over groups of V consecutive rows.

Rows are split into groups of V rows (one vector lane, and one output, per
row; the last group is padded with all-zero lanes). Within group g every lane
holds the same number K[g] of entries, K[g] = the most nonzeros of any of its
rows; shorter lanes are padded with zero values at column 0. A kernel runs
K[g] steps per group: a V-lane gather of activations at col_idx, a V-lane
multiply-accumulate into V independent accumulators.

Components (in flash order):
    values   int8/float32 [sum(K) * V]  group by group, step by step, lane by lane
    col_idx  uint8 if cols <= 256 else uint16 [sum(K) * V]   same order as values
    counts   uint16 [ceil(rows/V)]      K[g]
Within a lane, entries are in ascending column order.
"""
from __future__ import annotations

import numpy as np

LANE_COUNTS = (4, 8, 16)
INDEX_LIMIT = 65535


def index_dtype(cols: int) -> np.dtype:
    """8-bit indices reach columns 0..255; wider rows need 16 bits."""
    return np.dtype("u1") if cols <= 256 else np.dtype("<u2")


def encode(W: np.ndarray, lanes: int) -> dict[str, np.ndarray]:
    rows, cols = W.shape
    if cols > INDEX_LIMIT + 1:
        raise ValueError(f"gs:{lanes}: {cols} columns do not fit uint16 column indices")
    n_groups = -(-rows // lanes)
    padded = np.zeros((n_groups * lanes, cols), dtype=W.dtype)
    padded[:rows] = W
    nonzero = padded != 0
    per_row = nonzero.sum(axis=1)
    steps = per_row.reshape(n_groups, lanes).max(axis=1)

    # Entry k of each row goes to column k of these (rows, max K) tables.
    width = int(steps.max(initial=0))
    row_of, col_of = np.nonzero(nonzero)
    rank = np.arange(row_of.size) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    table_cols = np.zeros((n_groups * lanes, width), dtype=np.int64)
    table_vals = np.zeros((n_groups * lanes, width), dtype=W.dtype)
    table_cols[row_of, rank] = col_of
    table_vals[row_of, rank] = padded[row_of, col_of]

    values, col_idx = [], []
    for g, k in enumerate(steps):
        lanes_slice = slice(g * lanes, (g + 1) * lanes)
        values.append(table_vals[lanes_slice, :k].T.reshape(-1))   # step-major
        col_idx.append(table_cols[lanes_slice, :k].T.reshape(-1))
    return {
        "values": np.concatenate(values).astype(W.dtype.newbyteorder("<")),
        "col_idx": np.concatenate(col_idx).astype(index_dtype(cols)),
        "counts": steps.astype("<u2"),
    }


def decode(arrays, shape, dtype, lanes: int) -> np.ndarray:
    rows, cols = shape
    n_groups = -(-rows // lanes)
    steps = arrays["counts"].astype(np.int64)
    values, col_idx = arrays["values"], arrays["col_idx"].astype(np.int64)
    if steps.size != n_groups:
        raise ValueError(f"gs: counts hold {steps.size} groups, expected {n_groups}")
    if values.size != steps.sum() * lanes or col_idx.size != values.size:
        raise ValueError("gs: values/col_idx length does not match sum(counts) * V")
    if np.any(col_idx >= cols):
        raise ValueError("gs: column index out of range")
    # Row of each entry: group start + lane, repeated for every step.
    group_of = np.repeat(np.arange(n_groups), steps * lanes)
    lane_of = np.arange(values.size) % lanes
    row_of = group_of * lanes + lane_of
    keep = values != 0
    if np.any(row_of[keep] >= rows):
        raise ValueError("gs: nonzero value in a padding lane")
    W = np.zeros(shape, dtype=dtype)
    W[row_of[keep], col_idx[keep]] = values[keep]
    return W
