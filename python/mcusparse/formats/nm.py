"""N:M structured sparsity with sub-byte offsets.

Along each row, every block of M consecutive weights holds at most N nonzeros.
Each block stores exactly N slots (value + position inside the block); a block
with k < N nonzeros fills its remaining slots with zero values at the lowest
positions not holding a nonzero, so a block's N positions are distinct and
ascending.

Components (in flash order):
    values   int8/float32 [rows * cols/M * N]  slot values, row-major, block by block
    offsets  uint8 [rows * words_per_row * 4]  the slot positions, log2(M) bits each,
             packed LSB-first into little-endian uint32 words of floor(32/bits)
             fields (16 for M=4, 10 for M=8, 8 for M=16); each row starts a new word
"""
from __future__ import annotations

import numpy as np

from mcusparse.formats.bitpack import pack_fields, unpack_fields

BLOCK_SIZES = (4, 8, 16)
OFFSET_BITS = {4: 2, 8: 3, 16: 4}


def check_fits(W: np.ndarray, n: int, m: int) -> None:
    """Raise ValueError naming the first row/block that breaks the N:M pattern."""
    rows, cols = W.shape
    if cols % m:
        raise ValueError(f"nm:{n}:{m} needs the column count to be a multiple of M={m}, "
                         f"got {cols} columns")
    counts = (W.reshape(rows, cols // m, m) != 0).sum(axis=2)
    bad = np.argwhere(counts > n)
    if bad.size:
        r, b = bad[0]
        raise ValueError(
            f"nm:{n}:{m}: row {r}, block {b} (columns {b * m}..{b * m + m - 1}) has "
            f"{counts[r, b]} nonzeros, more than N={n} ({len(bad)} block(s) violate the pattern)")


def select_slots(W: np.ndarray, n: int, m: int) -> np.ndarray:
    """Boolean (rows, blocks, m): the N positions stored for every block."""
    rows, cols = W.shape
    nonzero = W.reshape(rows, cols // m, m) != 0
    missing = n - nonzero.sum(axis=2, keepdims=True)
    zero_rank = np.cumsum(~nonzero, axis=2)  # 1-based rank among the block's zeros
    return nonzero | (~nonzero & (zero_rank <= missing))


def encode(W: np.ndarray, n: int, m: int) -> dict[str, np.ndarray]:
    check_fits(W, n, m)
    rows, cols = W.shape
    slots = select_slots(W, n, m).reshape(rows, -1)  # (rows, cols) in block order
    positions = np.nonzero(slots)[1] % m              # row-major, ascending in block
    return {
        "values": W[slots].astype(W.dtype.newbyteorder("<")),
        "offsets": pack_fields(positions.reshape(rows, -1), OFFSET_BITS[m]),
    }


def decode(arrays, shape, dtype, n: int, m: int) -> np.ndarray:
    rows, cols = shape
    slots_per_row = cols // m * n
    values = arrays["values"]
    if values.size != rows * slots_per_row:
        raise ValueError(f"nm: values hold {values.size} entries, expected {rows * slots_per_row}")
    offsets = unpack_fields(arrays["offsets"], rows, slots_per_row, OFFSET_BITS[m])
    block = np.arange(slots_per_row) // n
    columns = (block * m + offsets).reshape(-1)
    row_of = np.repeat(np.arange(rows), slots_per_row)
    keep = values != 0
    W = np.zeros(shape, dtype=dtype)
    W[row_of[keep], columns[keep]] = values[keep]
    return W
