"""Sub-byte packing helpers shared by the sparse formats.

Two packings are used, both little-endian and branch-free to unpack:

* nibble pairs (dCSR): groups of G nibbles are stored two groups per G bytes;
  byte i of a pair holds lane i of the even group in its upper nibble and lane
  i of the odd group in its lower nibble. An odd group count leaves the lower
  nibbles of the last G bytes at zero.
* word fields (N:M offsets): fields of `bits` bits are packed LSB-first into
  little-endian uint32 words, floor(32 / bits) fields per word, never crossing
  a word. Field j of a word occupies bits [j*bits, (j+1)*bits). Every row
  starts a new word; unused fields and bits are zero.
"""
from __future__ import annotations

import numpy as np


def pack_nibble_pairs(nibbles: np.ndarray) -> np.ndarray:
    """Pack an (n_groups, G) array of values 0..15 into ceil(n/2)*G bytes."""
    nibbles = np.asarray(nibbles, dtype=np.uint8)
    n_groups, lanes = nibbles.shape
    if np.any(nibbles > 0xF):
        raise ValueError("nibble value out of range 0..15")
    # Pad to an even number of groups so even/odd pairs line up.
    padded = np.zeros((n_groups + (n_groups % 2), lanes), dtype=np.uint8)
    padded[:n_groups] = nibbles
    packed = (padded[0::2] << 4) | padded[1::2]
    return packed.reshape(-1)


def unpack_nibble_pairs(packed: np.ndarray, n_groups: int, lanes: int) -> np.ndarray:
    """Inverse of pack_nibble_pairs: returns (n_groups, lanes) uint8."""
    packed = np.asarray(packed, dtype=np.uint8)
    n_pairs = (n_groups + 1) // 2
    if packed.size != n_pairs * lanes:
        raise ValueError(
            f"nibble array holds {packed.size} bytes, expected {n_pairs * lanes} "
            f"for {n_groups} groups of {lanes}")
    pairs = packed.reshape(n_pairs, lanes)
    out = np.empty((2 * n_pairs, lanes), dtype=np.uint8)
    out[0::2] = pairs >> 4
    out[1::2] = pairs & 0xF
    return out[:n_groups]


def fields_per_word(bits: int) -> int:
    """How many `bits`-wide fields one uint32 word holds."""
    return 32 // bits


def words_per_row(n_fields: int, bits: int) -> int:
    per_word = fields_per_word(bits)
    return (n_fields + per_word - 1) // per_word


def pack_fields(fields: np.ndarray, bits: int) -> np.ndarray:
    """Pack a (rows, n_fields) array of `bits`-wide values into bytes.

    Returns uint8 bytes of the little-endian uint32 words, rows * words_per_row
    words in row order.
    """
    fields = np.asarray(fields, dtype=np.uint32)
    rows, n_fields = fields.shape
    if np.any(fields >> bits):
        raise ValueError(f"field value does not fit in {bits} bits")
    per_word = fields_per_word(bits)
    n_words = words_per_row(n_fields, bits)
    padded = np.zeros((rows, n_words * per_word), dtype=np.uint32)
    padded[:, :n_fields] = fields
    shifts = (np.arange(per_word, dtype=np.uint32) * bits)
    words = np.bitwise_or.reduce(padded.reshape(rows, n_words, per_word) << shifts, axis=2)
    return words.astype("<u4").reshape(-1).view(np.uint8)


def unpack_fields(packed: np.ndarray, rows: int, n_fields: int, bits: int) -> np.ndarray:
    """Inverse of pack_fields: returns (rows, n_fields) uint8."""
    packed = np.ascontiguousarray(packed, dtype=np.uint8)
    per_word = fields_per_word(bits)
    n_words = words_per_row(n_fields, bits)
    if packed.size != rows * n_words * 4:
        raise ValueError(
            f"packed field array holds {packed.size} bytes, expected {rows * n_words * 4}")
    words = packed.view("<u4").astype(np.uint32).reshape(rows, n_words, 1)
    shifts = np.arange(per_word, dtype=np.uint32) * bits
    fields = (words >> shifts) & np.uint32((1 << bits) - 1)
    return fields.reshape(rows, n_words * per_word)[:, :n_fields].astype(np.uint8)
