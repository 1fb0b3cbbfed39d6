"""Pruning: make a weight tensor fit a sparsity pattern, chosen by magnitude.

Every function returns a new array of the input's dtype and shape and never
modifies its input. Ties between equal magnitudes are broken by position:
the entry with the lower (row-major) index is kept. Rounding of "a fraction
of a count" is half-up: round_half_up(x) = floor(x + 0.5).

    magnitude(W, sparsity)   unstructured: zero the round_half_up(sparsity * W.size)
                             smallest magnitudes (existing zeros are among them)
    nm(W, n, m)              keep the n largest magnitudes of every block of m
                             consecutive entries along the last axis
    gs(W, lanes, sparsity)   load-balanced: rows in groups of `lanes`; every row
                             of group g keeps its k[g] largest magnitudes, with
                             k[g] = round_half_up(mean over the group's rows of
                             the row's nonzeros after magnitude(W, sparsity))
    channels(W, keep)        structured: keep the `keep` rows (axis 0; an int
                             count or a float fraction) with the largest L1 norm
"""
from __future__ import annotations

import numbers

import numpy as np


def round_half_up(x: float) -> int:
    return int(np.floor(x + 0.5))


def _check_array(W, min_ndim: int = 1) -> np.ndarray:
    if not isinstance(W, np.ndarray):
        raise ValueError(f"W must be a numpy array, got {type(W).__name__}")
    if not (np.issubdtype(W.dtype, np.floating) or np.issubdtype(W.dtype, np.signedinteger)):
        raise ValueError(f"W must have a float or signed integer dtype (int8, float32), got {W.dtype}")
    if W.ndim < min_ndim:
        raise ValueError(f"W must have at least {min_ndim} dimension(s), got shape {W.shape}")
    return W


def _check_fraction(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def _check_count(value, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be in {bound}, got {value}")
    return int(value)


def magnitudes(W: np.ndarray) -> np.ndarray:
    """|W| in a type wide enough for int8's -128."""
    if np.issubdtype(W.dtype, np.integer):
        return np.abs(W.astype(np.int64))
    return np.abs(W.astype(np.float64))


def _keep_largest(W: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Keep the keep[r] largest magnitudes of every row r of a 2-D array."""
    order = np.argsort(-magnitudes(W), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(W.shape[1])[None, :].repeat(W.shape[0], 0), axis=1)
    return np.where(rank < np.asarray(keep).reshape(-1, 1), W, np.zeros((), W.dtype))


def magnitude(W: np.ndarray, sparsity: float) -> np.ndarray:
    """Unstructured pruning to at least round_half_up(sparsity * size) zeros.

    The result has exactly that many zeros unless W already had more.
    """
    W = _check_array(W)
    sparsity = _check_fraction(sparsity, "sparsity")
    n_zero = round_half_up(sparsity * W.size)
    flat = W.reshape(-1)
    order = np.argsort(magnitudes(flat), kind="stable")
    out = flat.copy()
    out[order[:n_zero]] = 0
    return out.reshape(W.shape)


def nm(W: np.ndarray, n: int, m: int) -> np.ndarray:
    """Keep the n largest magnitudes in every block of m along the last axis."""
    W = _check_array(W)
    m = _check_count(m, "m", 1)
    n = _check_count(n, "n", 0, m)
    if W.shape[-1] % m:
        raise ValueError(f"the last dimension ({W.shape[-1]}) must be a multiple of m={m}")
    blocks = W.reshape(-1, m)
    return _keep_largest(blocks, np.full(blocks.shape[0], n)).reshape(W.shape)


def gs_row_counts(W: np.ndarray, lanes: int, sparsity: float) -> np.ndarray:
    """k per row (equal within a group of `lanes` rows) that gs() keeps."""
    W = _check_array(W, 2)
    lanes = _check_count(lanes, "lanes", 1)
    sparsity = _check_fraction(sparsity, "sparsity")
    W2 = W.reshape(W.shape[0], -1)
    kept = (magnitude(W2, sparsity) != 0).sum(axis=1)
    counts = np.empty(W2.shape[0], dtype=np.int64)
    for start in range(0, W2.shape[0], lanes):
        group = slice(start, start + lanes)
        counts[group] = round_half_up(kept[group].mean())
    return counts


def gs(W: np.ndarray, lanes: int, sparsity: float) -> np.ndarray:
    """Load-balanced pruning for the gs:V format (V = lanes).

    Rows (axis 0; other axes flattened) form groups of `lanes`; the group's
    budget k comes from unstructured magnitude pruning at `sparsity`, so
    groups with larger weights keep more, and every row of a group keeps the
    same k largest magnitudes (fewer only if it had fewer nonzeros).
    """
    counts = gs_row_counts(W, lanes, sparsity)
    W2 = W.reshape(W.shape[0], -1)
    return _keep_largest(W2, counts).reshape(W.shape)


def channels(W: np.ndarray, keep) -> np.ndarray:
    """Keep the rows (output channels, axis 0) with the largest L1 norm.

    `keep` is a row count (int) or a fraction of the rows (float in [0, 1],
    rounded half-up).
    """
    W = _check_array(W)
    rows = W.shape[0]
    if isinstance(keep, (float, np.floating)):
        count = round_half_up(_check_fraction(keep, "keep") * rows)
    else:
        count = _check_count(keep, "keep", 0, rows)
    norms = magnitudes(W.reshape(rows, -1)).sum(axis=1)
    kept_rows = np.argsort(-norms, kind="stable")[:count]
    out = np.zeros_like(W)
    out[kept_rows] = W[kept_rows]
    return out
