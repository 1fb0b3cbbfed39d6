"""CSE-CSR kernels on every target against numpy: shapes that are not
multiples of the vector width, empty rows, rows of references only, an
all-zero matrix, no subexpressions at all, a two-level adder tree, float32,
and 32-bit row pointers."""
import zlib

import numpy as np
import pytest

from mcusparse import kernels
from mcusparse.bench.cse import quantized_matrix
from mcusparse.formats import encode
from mcusparse.targets import MCU_TARGETS

TARGETS = MCU_TARGETS + ("host",)


def run(W, target, rng):
    x = rng.integers(-128, 128, size=W.shape[1], dtype=np.int8)
    k = kernels.spmv(W, "cse-csr", target)
    y, stats = k.run(x)
    np.testing.assert_array_equal(y, W.astype(np.int32) @ x.astype(np.int32),
                                  err_msg=f"cse-csr on {target}, W {W.shape}")
    if target != "host":
        assert stats.instructions > 0 and stats.flash_bytes > k.encoded.total_bytes
    return k


@pytest.mark.parametrize("target", TARGETS)
def test_random_shapes(target):
    rng = np.random.default_rng(zlib.crc32(f"cse {target}".encode()))
    for rows, cols, sparsity, levels in ((21, 37, 0.5, 1), (40, 19, 0.3, 2), (9, 130, 0.8, 1)):
        W = quantized_matrix(rows, cols, sparsity, levels, seed=rows)
        W[3] = 0                                        # an empty row
        k = run(W, target, rng)
        assert k.encoded.arrays["sub_operands"].size > 0
    # every row the same: after the search rows hold references only
    W = np.tile(quantized_matrix(1, 24, 0.3, 1, seed=2), (6, 1))
    k = run(W, target, rng)
    assert k.encoded.arrays["values"].size == 0


@pytest.mark.parametrize("target", TARGETS)
def test_edge_matrices(target):
    rng = np.random.default_rng(3)
    run(np.zeros((5, 17), np.int8), target, rng)                       # no entries
    W = np.arange(1, 49, dtype=np.int8).reshape(6, 8)                  # no subexpression
    assert encode(W, "cse-csr").arrays["sub_operands"].size == 0
    run(W, target, rng)
    row = np.array([1, -1, 1, 1, 0, 0, 2], np.int8)                    # a two-level tree
    W = np.tile(row, (6, 1))
    W[:, 4] = np.arange(6) - 3
    ops = encode(W, "cse-csr").arrays["sub_operands"]
    assert (ops >= W.shape[1]).any()
    run(W, target, rng)
    W = np.array([[-128, 1], [-128, 1], [127, -1], [127, -1]] * 3, np.int8)   # no negation
    run(W, target, rng)


@pytest.mark.parametrize("target", MCU_TARGETS)
def test_float32(target):
    rng = np.random.default_rng(zlib.crc32(f"cse f32 {target}".encode()))
    W = quantized_matrix(21, 37, 0.5, 2, seed=5).astype(np.float32) * np.float32(0.5)
    x = rng.integers(-8, 8, size=37).astype(np.float32)
    y, _ = kernels.spmv(W, "cse-csr", target).run(x)
    # halves times small integers: every partial sum is exact in float32
    np.testing.assert_array_equal(y, W.astype(np.float64) @ x.astype(np.float64))


def test_32_bit_row_pointers(monkeypatch):
    """Over 65,535 entries: row_ptr is uint32. (No subexpressions searched
    for, to keep the test short: the entries are then W's nonzeros.)"""
    from mcusparse.formats import csecsr
    search = csecsr.find_subexpressions
    monkeypatch.setattr(csecsr, "find_subexpressions",
                        lambda W, **options: search(W, candidates=0, **options))
    W = quantized_matrix(70, 1000, 0.05, 127, seed=1)
    k = run(W, "rv32imc", np.random.default_rng(1))
    assert k.encoded.arrays["row_ptr"].dtype == np.dtype("<u4")
    assert "pos_bits = 32" in k.mlir
