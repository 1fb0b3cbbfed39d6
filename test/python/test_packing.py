"""The compiler's packing (sparse-enc-pack-constants) against the golden encoders.

For every format, `pack_with_compiler(W, fmt)` must return what
`mcusparse.formats.encode(W, fmt).arrays` holds: the same buffer names in the
same order and byte-identical contents.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcusparse import encodings, packing, prune
from mcusparse.formats import encode
from mcusparse.formats import dcsr as dcsr_format
from mcusparse.packing import pack_with_compiler
from mcusparse.pipeline import PipelineError

# Each example compiles one module (~10 ms); keep the whole file in seconds.
FAST = settings(max_examples=50, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def assert_packs_like_reference(W: np.ndarray, fmt: str):
    expected = encode(W, fmt).arrays
    packed = pack_with_compiler(W, fmt)
    assert list(packed) == list(expected)
    for name, want in expected.items():
        got = packed[name]
        assert got.dtype.itemsize == want.dtype.itemsize, name
        assert got.tobytes() == want.tobytes(), (
            f"{fmt} buffer {name} differs for a {W.shape} {W.dtype} matrix:\n"
            f"compiler  {got.tolist()}\nreference {want.tolist()}")


# --- matrix generators ---------------------------------------------------------

def nonzero_values(rng, shape, dtype):
    """Random values that are never zero."""
    if dtype == np.int8:
        magnitude = rng.integers(1, 128, shape)
        return (magnitude * rng.choice([-1, 1], shape)).astype(np.int8)
    values = rng.standard_normal(shape).astype(np.float32)
    values[values == 0] = 1.0
    return values


def random_matrix(seed, rows, cols, dtype, kind="random", sparsity=0.5,
                  empty_row_fraction=0.0):
    """kind: 'random' (given sparsity and empty rows), 'zero' or 'dense'."""
    rng = np.random.default_rng(seed)
    W = nonzero_values(rng, (rows, cols), dtype)
    if kind == "zero":
        return np.zeros_like(W)
    if kind == "dense":
        return W
    W[rng.random((rows, cols)) < sparsity] = 0
    W[rng.random(rows) < empty_row_fraction] = 0
    return W


def far_gap_matrix(seed, rows, cols, dtype):
    """Rows whose nonzeros leave gaps over 255 columns (dCSR escapes)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((rows, cols), bool)
    for r in range(rows):
        kind = rng.integers(4)
        if kind == 0:  # a few scattered entries
            mask[r, rng.integers(0, cols, rng.integers(1, 6))] = True
        elif kind == 1:  # one dense run, empty elsewhere
            start = rng.integers(0, cols)
            mask[r, start:start + rng.integers(1, 120)] = True
        elif kind == 2:  # dense runs at both ends, a wide gap between
            k = rng.integers(1, 40)
            mask[r, :k] = mask[r, -k:] = True
        else:  # a single entry, possibly far right
            mask[r, rng.integers(0, cols)] = True
    return np.where(mask, nonzero_values(rng, (rows, cols), dtype), np.zeros((), dtype))


seeds = st.integers(0, 2**32 - 1)
dtypes = st.sampled_from([np.int8, np.float32])
kinds = st.sampled_from(["random", "random", "random", "zero", "dense"])
sparsities = st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0]) | st.floats(0, 1)
empty_rows = st.sampled_from([0.0, 0.0, 0.3])


@st.composite
def matrices(draw, cols=st.integers(1, 600)):
    return random_matrix(draw(seeds), draw(st.integers(1, 64)), draw(cols),
                         draw(dtypes), draw(kinds), draw(sparsities), draw(empty_rows))


@st.composite
def nm_cases(draw):
    """(W pruned to N:M, n, m): blocks may hold fewer than N nonzeros."""
    m = draw(st.sampled_from([4, 8, 16]))
    n = draw(st.integers(1, m - 1))
    blocks = draw(st.integers(1, 600 // m))
    W = random_matrix(draw(seeds), draw(st.integers(1, 64)), blocks * m, draw(dtypes),
                      draw(kinds), draw(sparsities), draw(empty_rows))
    return prune.nm(W, n, m), n, m


# --- byte-identical output, per format -----------------------------------------

@FAST
@given(W=matrices())
def test_csr_matches_reference(W):
    assert_packs_like_reference(W, "csr")


@FAST
@given(W=matrices())
def test_dcsr_matches_reference(W):
    # The default group: 16 lanes for int8, 4 for float32.
    assert_packs_like_reference(W, "dcsr")


@FAST
@given(seed=seeds, rows=st.integers(1, 16), cols=st.integers(256, 1500), dtype=dtypes)
def test_dcsr_escapes_match_reference(seed, rows, cols, dtype):
    assert_packs_like_reference(far_gap_matrix(seed, rows, cols, dtype), "dcsr")


def byte_delta_format(W):
    """dcsr:G:8 with the group that fills 128 bits (16 int8, 4 float32)."""
    return "dcsr:4:8" if W.dtype == np.float32 else "dcsr:16:8"


@FAST
@given(W=matrices())
def test_dcsr_byte_deltas_match_reference(W):
    assert_packs_like_reference(W, byte_delta_format(W))


@FAST
@given(seed=seeds, rows=st.integers(1, 16), cols=st.integers(256, 1500), dtype=dtypes)
def test_dcsr_byte_delta_escapes_match_reference(seed, rows, cols, dtype):
    W = far_gap_matrix(seed, rows, cols, dtype)
    assert_packs_like_reference(W, byte_delta_format(W))


@FAST
@given(case=nm_cases())
def test_nm_matches_reference(case):
    W, n, m = case
    assert_packs_like_reference(W, f"nm:{n}:{m}")


@FAST
@given(W=matrices(cols=st.integers(1, 256) | st.integers(257, 600)),
       lanes=st.sampled_from([4, 8, 16]))
def test_gs_matches_reference(W, lanes):
    # Up to 256 columns the indices are 8-bit, beyond that 16-bit.
    assert_packs_like_reference(W, f"gs:{lanes}")


# --- hand-picked matrices ------------------------------------------------------

def single_row(cols, columns, dtype=np.int8):
    W = np.zeros((1, cols), dtype)
    W[0, columns] = np.arange(1, len(columns) + 1)
    return W


@pytest.mark.parametrize("W", [
    single_row(300, [299]),                     # one entry: zero at column // 2
    single_row(256, [130, 255]),                # first minimum code 127 > 126
    single_row(300, [0, 299]),                  # one group spans >= 256 columns
    single_row(4096, list(range(100))),         # dense run, then 3996 empty columns
    single_row(1000, [0, 1, 2, 997, 998, 999], np.float32),
], ids=["single", "code-127", "offset", "dense-run", "float32-ends"])
def test_dcsr_escape_rows(W):
    stored = int(encode(W, "dcsr").arrays["nnz"][0])
    assert stored > np.count_nonzero(W), "the row should need escape zeros"
    assert_packs_like_reference(W, "dcsr")


@pytest.mark.parametrize("fmt", ["csr", "dcsr", "gs:4", "gs:8", "gs:16"])
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@pytest.mark.parametrize("shape", [(1, 1), (64, 1), (1, 600), (17, 257)])
@pytest.mark.parametrize("kind", ["zero", "dense"])
def test_all_zero_and_dense(fmt, dtype, shape, kind):
    assert_packs_like_reference(random_matrix(0, *shape, dtype, kind), fmt)


@pytest.mark.parametrize("fmt", ["csr", "dcsr", "gs:16"])
def test_wide_sparse_rows(fmt):
    W = random_matrix(1, 8, 5000, np.int8, sparsity=0.99, empty_row_fraction=0.25)
    assert_packs_like_reference(W, fmt)


def test_csr_wide_row_pointers():
    # More than 65535 nonzeros: pos_bits = 32 in the encoding, uint32 row_ptr.
    assert_packs_like_reference(random_matrix(4, 300, 300, np.int8, "dense"), "csr")
    assert_packs_like_reference(random_matrix(4, 300, 256, np.int8, "dense"), "csr:8")


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@pytest.mark.parametrize("shape", [(1, 1), (5, 100), (17, 256)])
def test_csr8(dtype, shape):
    for kind in ("random", "zero", "dense"):
        assert_packs_like_reference(random_matrix(3, *shape, dtype, kind), "csr:8")


@pytest.mark.parametrize("fmt", ["csr", "csr:8", "dcsr", "gs:4", "nm:2:4"])
def test_float32_signed_zero_and_infinities(fmt):
    # numpy treats -0.0 as zero, so the compiler must drop it too.
    W = np.array([[-0.0, 1.5, 0.0, -np.inf], [np.inf, -0.0, -0.0, 0.0]], np.float32)
    assert_packs_like_reference(W, fmt)


# --- dCSR for the element types only the compiler takes ------------------------

@pytest.mark.parametrize("dtype, element, group", [(np.int16, "i16", 8),
                                                   (np.int32, "i32", 4)])
def test_dcsr_wide_integers_match_reference_encoder(monkeypatch, dtype, element, group):
    """formats.encode only takes int8/float32, but dcsr.encode is dtype-agnostic."""
    rng = np.random.default_rng(7)
    W = far_gap_matrix(7, 6, 700, np.int8).astype(dtype) * 300
    W[1] = rng.integers(-30000, 30000, 700)  # a fully dense row
    tensor = f"tensor<6x700x{element}, #sparse_enc.dcsr<group = {group}>>"
    module = (f"func.func @weights() -> {tensor} {{\n"
              f"  %w = arith.constant {encodings.dense_literal(W)} : {tensor}\n"
              f"  return %w : {tensor}\n}}\n")
    # weight_module only spells int8/float32 types; hand it this one instead.
    monkeypatch.setattr(packing, "weight_module", lambda W, fmt: module)
    packed = pack_with_compiler(W, "dcsr")
    expected = dcsr_format.encode(W, group=group)
    assert list(packed) == list(expected)
    for name, want in expected.items():
        assert packed[name].tobytes() == want.tobytes(), name


# --- errors --------------------------------------------------------------------

@FAST
@given(case=nm_cases(), data=st.data())
def test_nm_violation_names_row_and_block(case, data):
    W, n, m = case
    rows, cols = W.shape
    r = data.draw(st.integers(0, rows - 1), label="row")
    b = data.draw(st.integers(0, cols // m - 1), label="block")
    # Only block (r, b) breaks the pattern: exactly n + 1 nonzeros.
    block = np.zeros(m, W.dtype)
    block[:n + 1] = nonzero_values(np.random.default_rng(r), n + 1, W.dtype)
    W[r, b * m:(b + 1) * m] = block
    message = (rf"row {r}, block {b} \(columns {b * m}\.\.{b * m + m - 1}\) "
               rf"has {n + 1} nonzeros")
    with pytest.raises(ValueError, match=message):
        encode(W, f"nm:{n}:{m}")
    with pytest.raises(PipelineError, match=message):
        pack_with_compiler(W, f"nm:{n}:{m}")


def test_dcsr_row_offset_out_of_int16_range_names_the_row():
    # 65600 and 0 entries: the average 32800 is 32800 away from both rows.
    W = np.zeros((2, 65600), np.int8)
    W[0] = 1
    with pytest.raises(ValueError, match="int16 row offset"):
        encode(W, "dcsr")
    with pytest.raises(PipelineError, match="row 0 stores 65600 entries"):
        pack_with_compiler(W, "dcsr")
