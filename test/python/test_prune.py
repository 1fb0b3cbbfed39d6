"""mcusparse.prune: exact patterns, exact sparsity rules, inputs left untouched."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcusparse import prune
from mcusparse.formats import encode

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_weights(seed, shape, dtype, zero_fraction=0.0):
    rng = np.random.default_rng(seed)
    if dtype == np.int8:
        W = rng.integers(-128, 128, shape).astype(np.int8)
    else:
        W = rng.standard_normal(shape).astype(np.float32)
    W[rng.random(shape) < zero_fraction] = 0
    return W


def magnitude_of(W):
    return np.abs(W.astype(np.float64))


dtypes = st.sampled_from([np.int8, np.float32])
seeds = st.integers(0, 2**32 - 1)


def pruned_entries_are_smallest(W, P, axis_groups):
    """Within each group (rows of a 2-D view), every kept |w| >= every pruned |w|."""
    Wg, Pg = W.reshape(axis_groups, -1), P.reshape(axis_groups, -1)
    mag = magnitude_of(Wg)
    for w_row, p_row, m_row in zip(Wg, Pg, mag):
        kept = m_row[p_row != 0]
        dropped = m_row[(p_row == 0) & (w_row != 0)]
        if kept.size and dropped.size:
            assert kept.min() >= dropped.max()


@FAST
@given(seed=seeds, rows=st.integers(1, 60), cols=st.integers(1, 80), dtype=dtypes,
       sparsity=st.floats(0, 1), zero_fraction=st.sampled_from([0.0, 0.5]))
def test_magnitude(seed, rows, cols, dtype, sparsity, zero_fraction):
    W = random_weights(seed, (rows, cols), dtype, zero_fraction)
    before = W.copy()
    P = prune.magnitude(W, sparsity)
    np.testing.assert_array_equal(W, before)
    assert P.dtype == W.dtype and P.shape == W.shape
    target = int(np.floor(sparsity * W.size + 0.5))
    assert np.count_nonzero(P == 0) == max(target, np.count_nonzero(W == 0))
    assert np.all((P == W) | (P == 0))
    pruned_entries_are_smallest(W, P, 1)


def test_magnitude_int8_minimum_is_largest():
    W = np.array([[-128, 127, 1, -1]], np.int8)
    np.testing.assert_array_equal(prune.magnitude(W, 0.75), [[-128, 0, 0, 0]])


def test_magnitude_ties_keep_lower_index():
    W = np.array([1, 1, 1, 1], np.float32)
    np.testing.assert_array_equal(prune.magnitude(W, 0.5), [0, 0, 1, 1])


@FAST
@given(seed=seeds, rows=st.integers(1, 40), m=st.sampled_from([4, 8, 16]), data=st.data(),
       dtype=dtypes, zero_fraction=st.sampled_from([0.0, 0.6]))
def test_nm(seed, rows, m, data, dtype, zero_fraction):
    n = data.draw(st.integers(1, m - 1))
    blocks = data.draw(st.integers(1, 20))
    W = random_weights(seed, (rows, blocks * m), dtype, zero_fraction)
    before = W.copy()
    P = prune.nm(W, n, m)
    np.testing.assert_array_equal(W, before)
    block_nnz = (P.reshape(rows, blocks, m) != 0).sum(axis=2)
    original_nnz = (W.reshape(rows, blocks, m) != 0).sum(axis=2)
    np.testing.assert_array_equal(block_nnz, np.minimum(original_nnz, n))
    assert np.all((P == W) | (P == 0))
    pruned_entries_are_smallest(W, P, rows * blocks)
    np.testing.assert_array_equal(encode(P, f"nm:{n}:{m}").decode(), P)


def test_nm_higher_rank_uses_last_axis():
    W = random_weights(1, (3, 2, 8), np.float32)
    P = prune.nm(W, 2, 4)
    assert P.shape == W.shape
    assert np.all((P.reshape(-1, 4) != 0).sum(axis=1) == 2)


@FAST
@given(seed=seeds, rows=st.integers(1, 70), cols=st.integers(1, 90), dtype=dtypes,
       lanes=st.sampled_from([1, 4, 8, 16]), sparsity=st.floats(0, 1))
def test_gs(seed, rows, cols, dtype, lanes, sparsity):
    W = random_weights(seed, (rows, cols), dtype)
    W[W == 0] = 1  # no zeros: every row can reach its group's count
    before = W.copy()
    P = prune.gs(W, lanes, sparsity)
    np.testing.assert_array_equal(W, before)
    counts = prune.gs_row_counts(W, lanes, sparsity)
    row_nnz = (P != 0).sum(axis=1)
    np.testing.assert_array_equal(row_nnz, counts)
    for start in range(0, rows, lanes):  # one count per group of `lanes` rows
        assert len(set(counts[start:start + lanes])) == 1
    assert np.all((P == W) | (P == 0))
    pruned_entries_are_smallest(W, P, rows)
    # Sparsity: each group's count rounds its mean, so at most half a row per row off.
    target_kept = W.size - int(np.floor(sparsity * W.size + 0.5))
    assert abs(int(row_nnz.sum()) - target_kept) <= rows / 2
    # The pruned matrix is exactly load-balanced for gs:V with V = lanes.
    if lanes in (4, 8, 16):
        enc = encode(P, f"gs:{lanes}")
        padding = enc.arrays["values"].size - np.count_nonzero(P)
        assert padding == (-(-rows // lanes) * lanes - rows) * int(counts[-1])


def test_gs_short_rows_keep_what_they_have():
    W = np.ones((4, 10), np.float32)
    W[0, 2:] = 0  # row 0 has only 2 nonzeros
    P = prune.gs(W, 4, 0.5)
    counts = prune.gs_row_counts(W, 4, 0.5)
    assert (P[0] != 0).sum() == 2
    assert np.all((P[1:] != 0).sum(axis=1) == counts[1:])


def test_gs_budget_follows_magnitude():
    W = np.ones((8, 10), np.float32)
    W[:4] *= 10  # the first group holds all the large weights
    counts = prune.gs_row_counts(W, 4, 0.5)
    assert counts[0] == 10 and counts[4] == 0


@FAST
@given(seed=seeds, shape=st.sampled_from([(7,), (12, 5), (6, 3, 3, 2)]), dtype=dtypes,
       keep=st.integers(0, 12) | st.floats(0, 1))
def test_channels(seed, shape, dtype, keep):
    W = random_weights(seed, shape, dtype)
    rows = shape[0]
    if isinstance(keep, int) and keep > rows:
        with pytest.raises(ValueError):
            prune.channels(W, keep)
        return
    before = W.copy()
    P = prune.channels(W, keep)
    np.testing.assert_array_equal(W, before)
    count = keep if isinstance(keep, int) else int(np.floor(keep * rows + 0.5))
    assert P.shape == W.shape and P.dtype == W.dtype
    flat_W, flat_P = W.reshape(rows, -1), P.reshape(rows, -1)
    norms = magnitude_of(flat_W).sum(axis=1)
    kept_rows = np.argsort(-norms, kind="stable")[:count]
    for r in range(rows):
        if r in kept_rows:
            np.testing.assert_array_equal(flat_P[r], flat_W[r])
        else:
            assert not np.any(flat_P[r])


@pytest.mark.parametrize("call, message", [
    (lambda W: prune.magnitude(W, -0.1), "sparsity"),
    (lambda W: prune.magnitude(W, 1.5), "sparsity"),
    (lambda W: prune.magnitude(W, "0.5"), "sparsity"),
    (lambda W: prune.magnitude(W, True), "sparsity"),
    (lambda W: prune.magnitude(W, float("nan")), "sparsity"),
    (lambda W: prune.magnitude(W.tolist(), 0.5), "numpy array"),
    (lambda W: prune.magnitude(W.astype(np.uint8), 0.5), "dtype"),
    (lambda W: prune.nm(W, 5, 4), "n must be in"),
    (lambda W: prune.nm(W, -1, 4), "n must be in"),
    (lambda W: prune.nm(W, 1, 0), "m must be"),
    (lambda W: prune.nm(W, 2.0, 4), "integer"),
    (lambda W: prune.nm(W, 1, 5), "multiple of m=5"),
    (lambda W: prune.gs(W, 0, 0.5), "lanes"),
    (lambda W: prune.gs(W, 4, 2.0), "sparsity"),
    (lambda W: prune.gs(W[0], 4, 0.5), "dimension"),
    (lambda W: prune.channels(W, 9), "keep"),
    (lambda W: prune.channels(W, -1), "keep"),
    (lambda W: prune.channels(W, 1.5), "keep"),
    (lambda W: prune.channels(W, "all"), "keep"),
])
def test_bad_arguments(call, message):
    W = random_weights(0, (8, 16), np.float32)
    with pytest.raises(ValueError, match=message):
        call(W)
