"""dCSR: Delta-Compressed Storage Row (Trommer, Waschneck, Kumar, ICCAD 2021).

Follows the layout of the paper's reference encoder and Cortex-M55 kernel;
docs/formats.md has the byte-level description and the decoder algorithm.

Per row, the stored entries (nonzeros plus any escape zeros, columns
ascending) are cut into groups of G lanes. With the integer slope
s = (cols + n // 2) // n (n = stored entries of the row), entry l of a group
sits at column

    col = base[g] + s * l + delta[l],      0 <= s * l + delta[l] < 256

where base[g] is the group minimum of (col - s * l). The kernel gathers
activations at `base + 8-bit offset`; the encoder only emits deltas that
keep every active lane's offset below 256 (otherwise it escapes, see below).

Components (in flash order):
    values           int8/float32 [nnz]  stored entries, row by row (no group padding)
    delta_nibbles    uint8  [ceil(groups/2)*G]  low 4 delta bits, nibble pairs
    group_minimums   int8   [groups]     base[0] of a row absolute, later
                                         base[g] - base[g-1] - G*s
    extension_maps   uint8  [ceil(groups/2)]    4-bit map per group: bit p set if
                                         delta bit 4+p is used; nibble pairs
    extension_masks  uint16 (G=16) / uint8 (G=8, 4) [one per set map bit]
                                         lane l -> bit l: lanes whose delta has bit 4+p
    row_offsets      int16  [rows]       stored entries of the row minus nnz // rows
    nnz              int32  [1]          stored entries of the whole matrix

With delta_bits = 8 ("dcsr:G:8") a whole byte holds each entry's offset from
its group's first column, so the kernel needs no slope or ramp:

    col = base[g] + delta[l],     base[g] = base[g-1] + jump[g]  (base[-1] = 0)

    values, delta_bytes uint8 [nnz] (col - base[g], row by row like the
    values: no group padding), group_minimums uint8 [groups] (jump[g]: the
    row's first group its first column, later groups the distance from the
    previous group's first column), row_offsets, nnz.
A row escapes (the same explicit zero in its largest gap) while an offset
or a jump does not fit a byte.
"""
from __future__ import annotations

import numpy as np

from mcusparse.formats.bitpack import pack_nibble_pairs, unpack_nibble_pairs

GROUP_SIZES = (4, 8, 16)
DELTA_BITS = (4, 8)
OFFSET_LIMIT = 256         # gather offsets are 8-bit
EXTENSION_BITS = 4         # delta bits 4..7 go through extension masks
# The reference encoder accepts group minimum codes strictly inside int8.
MIN_CODE_LOW, MIN_CODE_HIGH = -127, 126


def default_group(dtype: np.dtype) -> int:
    """16 int8 lanes fill a 128-bit MVE vector; float32 fills it with 4."""
    return 4 if np.dtype(dtype) == np.float32 else 16


def mask_dtype(group: int) -> np.dtype:
    return np.dtype("<u2") if group == 16 else np.dtype("u1")


def slope(row_len: int, n: int) -> int:
    """Integer slope the kernel recomputes: round-half-up of row_len / n."""
    return (row_len + n // 2) // n if n else 0


def _try_encode_row(columns: np.ndarray, row_len: int, group: int):
    """Deltas (groups, G) and minimum codes for a row, or None when it needs an escape."""
    n = columns.size
    s = slope(row_len, n)
    n_groups = -(-n // group)
    lane = np.arange(n) % group
    adjusted = np.empty(n_groups * group, dtype=np.int64)
    adjusted[:n] = columns - s * lane
    # Padding lanes copy the last group's minimum so their delta is 0.
    adjusted[n:] = adjusted[(n_groups - 1) * group:n].min()
    groups = adjusted.reshape(n_groups, group)
    minimums = groups.min(axis=1)
    deltas = groups - minimums[:, None]
    # Only active lanes gather; padding lanes are predicated off.
    if (deltas.reshape(-1)[:n] + s * lane).max() >= OFFSET_LIMIT:
        return None
    min_codes = minimums.copy()
    min_codes[1:] = minimums[1:] - minimums[:-1] - group * s
    if min_codes.min() < MIN_CODE_LOW or min_codes.max() > MIN_CODE_HIGH:
        return None
    return deltas, min_codes


def _try_encode_row_bytes(columns: np.ndarray, group: int):
    """Byte deltas (groups, G) and jumps for a row, or None when it needs an escape."""
    n = columns.size
    n_groups = -(-n // group)
    firsts = columns[::group]
    deltas = np.zeros(n_groups * group, dtype=np.int64)
    deltas[:n] = columns - np.repeat(firsts, group)[:n]
    jumps = np.diff(firsts, prepend=0)
    if deltas.max() >= OFFSET_LIMIT or jumps.max() >= OFFSET_LIMIT:
        return None
    return deltas.reshape(n_groups, group), jumps


def insert_escape_zero(columns: np.ndarray, values: np.ndarray, row_len: int):
    """Insert an explicit zero in the middle of the row's largest gap.

    Gaps are measured from column 0 to the first entry, between consecutive
    entries, and from the last entry to row_len; the first largest gap wins.
    The zero goes at (right end) - ceil(gap / 2). A single-entry row gets its
    zero at entries[0] // 2, before the entry (as in the reference encoder).
    """
    if columns.size == 1:
        position, column = 0, columns[0] // 2
    else:
        bounds = np.concatenate(([0], columns, [row_len]))
        gaps = np.diff(bounds)
        position = int(np.argmax(gaps))
        column = bounds[position + 1] - (gaps[position] + 1) // 2
    return (np.insert(columns, position, column),
            np.insert(values, position, np.zeros((), dtype=values.dtype)))


def encode_row(row: np.ndarray, group: int, delta_bits: int = 4):
    """Encode one row: (stored values, stored columns, deltas, min codes or
    jumps)."""
    columns = np.flatnonzero(row).astype(np.int64)
    values = row[columns]
    row_len = row.size
    if columns.size == 0:
        return values, columns, np.zeros((0, group), np.int64), np.zeros(0, np.int64)
    # Every escape adds a distinct column (or the row is already dense), so
    # this bound is never reached by a correct encoder.
    for _ in range(2 * row_len + 16):
        encoded = (_try_encode_row_bytes(columns, group) if delta_bits == 8
                   else _try_encode_row(columns, row_len, group))
        if encoded is not None:
            return (values, columns) + encoded
        columns, values = insert_escape_zero(columns, values, row_len)
    raise RuntimeError("dcsr: escape loop did not converge (encoder bug)")


def encode(W: np.ndarray, group: int = 16, delta_bits: int = 4) -> dict[str, np.ndarray]:
    rows, cols = W.shape
    row_values, row_deltas, row_min_codes, row_counts = [], [], [], []
    for row in W:
        values, columns, deltas, min_codes = encode_row(row, group, delta_bits)
        row_values.append(values)
        row_deltas.append(deltas)
        row_min_codes.append(min_codes)
        row_counts.append(values.size)

    counts = np.asarray(row_counts, dtype=np.int64)
    total = int(counts.sum())
    row_offsets = counts - total // rows
    if row_offsets.min() < -32768 or row_offsets.max() > 32767:
        raise ValueError("dcsr: a row's entry count is too far from the average "
                         "to fit an int16 row offset")
    if total > np.iinfo(np.int32).max:
        raise ValueError("dcsr: too many entries for an int32 nonzero count")
    tail = {
        "row_offsets": row_offsets.astype("<i2"),
        "nnz": np.array([total], dtype="<i4"),
    }
    values = np.concatenate(row_values).astype(W.dtype.newbyteorder("<"))
    if delta_bits == 8:
        # The active lanes of each row's groups, in entry order.
        delta_bytes = [d.reshape(-1)[:n] for d, n in zip(row_deltas, row_counts)]
        return {"values": values,
                "delta_bytes": np.concatenate(delta_bytes).astype(np.uint8),
                "group_minimums": np.concatenate(row_min_codes).astype(np.uint8),
                **tail}
    minimums = np.concatenate(row_min_codes).astype(np.int8)

    deltas = np.concatenate(row_deltas).astype(np.uint8)  # (groups, G), each < 256
    lane = np.arange(group)
    position = np.arange(EXTENSION_BITS)
    # bit p of the delta-bit-(4+p) lane mask, per group: (groups, 4)
    ext_bits = (deltas[:, :, None].astype(np.int64) >> (4 + position)) & 1
    lane_masks = (ext_bits << lane[None, :, None]).sum(axis=1)
    used = lane_masks != 0
    maps = (used << position).sum(axis=1)

    return {
        "values": values,
        "delta_nibbles": pack_nibble_pairs(deltas & 0xF),
        "group_minimums": minimums,
        "extension_maps": pack_nibble_pairs(maps[:, None]),
        "extension_masks": lane_masks[used].astype(mask_dtype(group)),
        **tail,
    }


def row_entry_counts(arrays, rows: int) -> np.ndarray:
    """Stored entries per row, as the kernel derives them."""
    total = int(arrays["nnz"][0])
    counts = total // rows + arrays["row_offsets"].astype(np.int64)
    if counts.size != rows or counts.min(initial=0) < 0 or counts.sum() != total:
        raise ValueError("dcsr: row_offsets and nnz are inconsistent")
    return counts


def _byte_deltas(arrays, counts, group: int) -> np.ndarray:
    """delta_bytes (entries, row by row) as (groups, G), padding lanes 0."""
    stored = arrays["delta_bytes"].astype(np.int64)
    if stored.size != counts.sum():
        raise ValueError("dcsr: delta_bytes length does not match nnz")
    rows = []
    for first, n in zip(np.cumsum(counts) - counts, counts):
        padded = np.zeros(-(-int(n) // group) * group, np.int64)
        padded[:n] = stored[first:first + n]
        rows.append(padded)
    return np.concatenate(rows).reshape(-1, group) if rows else np.zeros((0, group), np.int64)


def decode_columns(arrays, shape, group: int, delta_bits: int = 4):
    """Column of every stored entry, plus the per-row counts (the kernel's index math)."""
    rows, cols = shape
    counts = row_entry_counts(arrays, rows)
    groups_per_row = -(-counts // group)
    n_groups = int(groups_per_row.sum())
    lane = np.arange(group)
    if delta_bits == 8:
        deltas = _byte_deltas(arrays, counts, group)
    else:
        deltas = _nibble_deltas(arrays, n_groups, group)

    min_codes = arrays["group_minimums"].astype(np.int64)
    if min_codes.size != n_groups:
        raise ValueError("dcsr: group_minimums count does not match the row counts")

    columns = []
    first_group = 0
    for n, n_row_groups in zip(counts, groups_per_row):
        g = slice(first_group, first_group + n_row_groups)
        first_group += n_row_groups
        if delta_bits == 8:
            bases = np.cumsum(min_codes[g])
            columns.append((bases[:, None] + deltas[g]).reshape(-1)[:n])
            continue
        s = slope(cols, int(n))
        # base[j] = min[0] + sum_{i=1..j} (min[i] + G*s)
        bases = np.cumsum(min_codes[g]) + group * s * np.arange(n_row_groups)
        row_columns = (bases[:, None] + s * lane + deltas[g]).reshape(-1)[:n]
        columns.append(row_columns)
    return np.concatenate(columns) if columns else np.zeros(0, np.int64), counts


def _nibble_deltas(arrays, n_groups: int, group: int) -> np.ndarray:
    """Low nibbles plus the extension bits 4..7 of every group's deltas."""
    deltas = unpack_nibble_pairs(arrays["delta_nibbles"], n_groups, group).astype(np.int64)
    maps = unpack_nibble_pairs(arrays["extension_maps"], n_groups, 1)[:, 0].astype(np.int64)
    position = np.arange(EXTENSION_BITS)
    used = ((maps[:, None] >> position) & 1).astype(bool)
    masks = arrays["extension_masks"].astype(np.int64)
    if masks.size != used.sum():
        raise ValueError("dcsr: extension_masks count does not match extension_maps")
    lane_masks = np.zeros(used.shape, dtype=np.int64)
    lane_masks[used] = masks  # group-major, bit position ascending
    lane = np.arange(group)
    return deltas | (((lane_masks[:, None, :] >> lane[None, :, None]) & 1)
                     << (4 + position)).sum(axis=2)


def decode(arrays, shape, dtype, group: int = 16, delta_bits: int = 4) -> np.ndarray:
    rows, cols = shape
    columns, counts = decode_columns(arrays, shape, group, delta_bits)
    values = arrays["values"]
    if values.size != columns.size:
        raise ValueError("dcsr: values length does not match nnz")
    if columns.size and (columns.min() < 0 or columns.max() >= cols):
        raise ValueError("dcsr: decoded column out of range")
    row_of = np.repeat(np.arange(rows), counts)
    W = np.zeros(shape, dtype=dtype)
    keep = values != 0  # escape zeros may share a column with a real entry
    W[row_of[keep], columns[keep]] = values[keep]
    return W
