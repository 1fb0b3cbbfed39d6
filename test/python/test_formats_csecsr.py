"""CSE-CSR: round trips, the layout of docs/formats.md, the evaluation order a
kernel uses, compression against CSR, and errors."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcusparse.formats import csecsr, encode

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def quantized(seed, rows, cols, sparsity, levels, dtype=np.int8):
    """Few distinct values (-levels..levels), as low-bit quantisation leaves
    them: the matrices where pairs of entries recur."""
    rng = np.random.default_rng(seed)
    W = rng.integers(-levels, levels + 1, (rows, cols))
    W[rng.random((rows, cols)) < sparsity] = 0
    return W.astype(dtype)


@FAST
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 60), cols=st.integers(1, 300),
       sparsity=st.sampled_from([0.0, 0.3, 0.5, 0.9, 1.0]), levels=st.sampled_from([1, 2, 7, 127]),
       dtype=st.sampled_from([np.int8, np.float32]))
def test_roundtrip_and_matvec(seed, rows, cols, sparsity, levels, dtype):
    W = quantized(seed, rows, cols, sparsity, levels, dtype)
    if dtype == np.float32:
        W = W * np.float32(0.25)
    enc = encode(W, "cse-csr")
    np.testing.assert_array_equal(enc.decode(), W)
    assert enc.decode().dtype == W.dtype
    x = np.random.default_rng(seed + 1).integers(-128, 128, cols).astype(W.dtype)
    y = csecsr.matvec(enc.arrays, W.shape, x)
    if dtype == np.int8:
        np.testing.assert_array_equal(y, W.astype(np.int32) @ x.astype(np.int32))
    else:   # quarters times integers: every partial sum is exact in float32
        np.testing.assert_array_equal(y, W.astype(np.float64) @ x.astype(np.float64))
    # never larger than CSR: a subexpression is made only when it saves bytes
    assert enc.total_bytes <= encode(W, "csr").total_bytes


def test_worked_example():
    """docs/formats.md: rows 0, 1 and 3 hold 2*x0 - x2, row 2 its negation."""
    W = np.array([[2, 0, -1, 5],
                  [2, 0, -1, 0],
                  [-2, 3, 1, 0],
                  [2, 0, -1, 0]], np.int8)
    enc = encode(W, "cse-csr")
    a = enc.arrays
    assert a["sub_operands"].tolist() == [0, 2] and a["sub_values"].tolist() == [2, -1]
    # S = 1: index 4 adds subexpression 0, index 5 subtracts it
    assert a["col_idx"].tolist() == [3, 4, 4, 1, 5, 4]
    assert a["values"].tolist() == [5, 3]
    assert a["row_ptr"].tolist() == [0, 2, 3, 5, 6]
    assert enc.total_bytes == 2 + 12 + 10 + 4 + 2
    np.testing.assert_array_equal(enc.decode(), W)


def test_subexpressions_of_subexpressions():
    """Rows sharing four entries get a two-level adder tree."""
    row = np.array([1, -1, 1, 1, 0, 0], np.int8)
    W = np.tile(row, (6, 1))
    W[:, 4] = np.arange(6) - 3          # one plain entry per row (0 in row 3)
    enc = encode(W, "cse-csr")
    ops = enc.arrays["sub_operands"].reshape(-1, 2)
    cols = W.shape[1]
    assert (ops >= cols).any(), "no subexpression takes another as operand"
    assert np.all(ops < cols + np.arange(len(ops))[:, None])
    np.testing.assert_array_equal(enc.decode(), W)
    x = np.arange(cols, dtype=np.int8)
    np.testing.assert_array_equal(csecsr.matvec(enc.arrays, W.shape, x),
                                  W.astype(np.int32) @ x.astype(np.int32))


def test_without_shared_pairs_it_is_csr():
    W = np.arange(1, 65, dtype=np.int8).reshape(8, 8)      # every value once
    enc, csr = encode(W, "cse-csr"), encode(W, "csr")
    for name in ("values", "col_idx", "row_ptr"):
        np.testing.assert_array_equal(enc.arrays[name], csr.arrays[name])
    assert enc.arrays["sub_operands"].size == 0
    assert enc.total_bytes == csr.total_bytes


def test_all_zero_and_int8_extremes():
    Z = np.zeros((5, 9), np.int8)
    enc = encode(Z, "cse-csr")
    assert enc.total_bytes == 12 and np.all(enc.decode() == 0)
    # -128 has no int8 negation: (-128, 1) and (127, -1) must not be merged
    W = np.array([[-128, 1], [-128, 1], [127, -1], [127, -1]] * 3, np.int8)
    np.testing.assert_array_equal(encode(W, "cse-csr").decode(), W)


def test_compression_on_a_ternary_matrix():
    """Ternary weights, 256x256 at 50 %: over 40 % smaller than CSR, with
    fewer multiplies (the 1000x1000 figure is in `mcusparse bench cse`)."""
    W = quantized(0, 256, 256, 0.5, 1)
    enc, csr = encode(W, "cse-csr"), encode(W, "csr")
    assert enc.total_bytes < 0.6 * csr.total_bytes
    ops = csecsr.operation_counts(enc.arrays)
    assert ops["multiplies"] < 0.5 * np.count_nonzero(W)


def test_search_is_deterministic_and_reports_progress(capsys):
    W = quantized(3, 64, 64, 0.5, 1)
    a = encode(W, "cse-csr").tobytes()
    assert encode(W, "cse-csr").tobytes() == a
    state, stats = csecsr.find_subexpressions(W, progress=True)
    assert stats.subexpressions == len(state.operands) > 0 and stats.rounds >= 2
    assert "cse-csr 64x64: round" in capsys.readouterr().err


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(sub_operands=np.array([4, 2], "<u2")), "itself or a later one"),
    (lambda a: a.update(row_ptr=a["row_ptr"][:-1].copy()), "rows\\+1"),
    (lambda a: a.update(values=a["values"][:-1].copy()), "one coefficient per column"),
    (lambda a: a.update(sub_values=a["sub_values"][:-1].copy()), "two entries per"),
])
def test_corrupt_components_are_named(change, message):
    W = np.array([[2, 0, -1, 5], [2, 0, -1, 0], [-2, 3, 1, 0]], np.int8)
    arrays = dict(encode(W, "cse-csr").arrays)
    change(arrays)
    with pytest.raises(ValueError, match=message):
        csecsr.decode(arrays, W.shape, W.dtype)


def test_errors():
    with pytest.raises(ValueError, match="takes no parameters"):
        encode(np.ones((2, 2), np.int8), "cse-csr:8")
    with pytest.raises(ValueError, match="columns leave no uint16 index"):
        encode(np.zeros((1, 65535), np.int8), "cse-csr")


def test_bench_cse_command(capsys, monkeypatch):
    """`mcusparse bench cse` on one small workload: a checked table row."""
    import json
    from mcusparse import cli
    from mcusparse.bench import cse
    monkeypatch.setattr(cse, "DEFAULT_WORKLOADS", ((64, 64, 0.5, 1), (2048, 64, 0.5, 1)))
    assert cli.main(["bench", "cse", "--quick", "--json", "-q"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["correct"] and rows[0]["shape"] == [64, 64]
    assert rows[0]["cse_csr_bytes"] < rows[0]["csr_bytes"]
    assert cli.main(["bench", "cse", "--quick", "-q"]) == 0
    assert "| 64x64 50% sparse, values -1..1 |" in capsys.readouterr().out


def test_table_is_ordered_by_level():
    """Subexpressions of columns only first, then those reading them, ...:
    a run of one level has no subexpression reading another of the run."""
    W = quantized(7, 128, 128, 0.3, 1)
    ops = encode(W, "cse-csr").arrays["sub_operands"].astype(np.int64).reshape(-1, 2)
    cols = W.shape[1]
    level = np.zeros(len(ops), np.int64)
    for k, pair in enumerate(ops):
        level[k] = 1 + max(level[o - cols] if o >= cols else 0 for o in pair)
    assert level.max() >= 3
    assert np.all(np.diff(level) >= 0)
