"""Golden numpy reference for the sparse formats: round trips, layouts, errors.

The worked examples here are the ones in docs/formats.md; they pin the byte
layout that the C++ packing pass must reproduce.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcusparse.formats import Encoded, encode, parse_format
from mcusparse.formats import dcsr as dcsr_format
from mcusparse.formats.bitpack import (pack_fields, pack_nibble_pairs, unpack_fields,
                                       unpack_nibble_pairs)

ALLOWED_COMPONENT_DTYPES = {np.dtype(t) for t in ("<i1", "<u1", "<i2", "<u2", "<i4", "<u4",
                                                  "<f4")}
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


# --- matrix generators ---------------------------------------------------------

def random_matrix(seed, rows, cols, sparsity, dtype, empty_row_fraction=0.0):
    rng = np.random.default_rng(seed)
    if dtype == np.int8:
        W = rng.integers(-128, 128, (rows, cols)).astype(np.int8)
        W[W == 0] = 1
    else:
        W = rng.standard_normal((rows, cols)).astype(np.float32)
    W[rng.random((rows, cols)) < sparsity] = 0
    W[rng.random(rows) < empty_row_fraction] = 0
    return W


def nm_matrix(seed, rows, blocks, n, m, dtype):
    """Random matrix in which every block of m holds 0..n nonzeros."""
    rng = np.random.default_rng(seed)
    W = random_matrix(seed, rows, blocks * m, 0.0, dtype)
    rank = np.argsort(rng.random((rows, blocks, m)), axis=2).argsort(axis=2)
    keep = rank < rng.integers(0, n + 1, (rows, blocks, 1))
    return np.where(keep.reshape(rows, -1), W, np.zeros((), W.dtype))


matrices = st.builds(
    random_matrix,
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 300),
    cols=st.integers(1, 1100),
    sparsity=st.sampled_from([0.0, 0.3, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0]) | st.floats(0, 1),
    dtype=st.sampled_from([np.int8, np.float32]),
    empty_row_fraction=st.sampled_from([0.0, 0.0, 0.2]),
)


def check_encoded(enc: Encoded, W: np.ndarray):
    """Invariants every encoding must satisfy."""
    decoded = enc.decode()
    assert decoded.dtype == W.dtype and decoded.shape == W.shape
    np.testing.assert_array_equal(decoded, W)
    assert sum(enc.nbytes.values()) == enc.total_bytes
    for name, arr in enc.arrays.items():
        assert arr.ndim == 1, name
        assert arr.dtype in ALLOWED_COMPONENT_DTYPES, (name, arr.dtype)
        assert enc.nbytes[name] == arr.size * arr.dtype.itemsize
        assert name == name.lower() and " " not in name
    assert len(enc.tobytes()) == enc.total_bytes


# --- round trips over random matrices ---------------------------------------------

@FAST
@given(W=matrices)
def test_dense_csr_roundtrip(W):
    for fmt in ("dense", "csr"):
        check_encoded(encode(W, fmt), W)
    if W.shape[1] <= 256 and np.count_nonzero(W) <= 65535:
        enc = encode(W, "csr:8")
        check_encoded(enc, W)
        assert enc.arrays["col_idx"].dtype == np.uint8 and enc.fmt == "csr:8"
        wide = encode(W, "csr")
        assert enc.total_bytes == wide.total_bytes - np.count_nonzero(W)


@FAST
@given(W=matrices, group=st.sampled_from([None, 4, 8, 16]))
def test_dcsr_roundtrip(W, group):
    enc = encode(W, "dcsr") if group is None else encode(W, "dcsr", group=group)
    check_encoded(enc, W)
    G = enc.spec.params["group"]
    assert G == (group or (16 if W.dtype == np.int8 else 4))
    assert enc.arrays["nnz"][0] >= np.count_nonzero(W)
    check_dcsr_layout(enc, W)


@FAST
@given(W=matrices, lanes=st.sampled_from([4, 8, 16]))
def test_gs_roundtrip(W, lanes):
    enc = encode(W, f"gs:{lanes}")
    check_encoded(enc, W)
    rows, cols = W.shape
    groups = -(-rows // lanes)
    padded = np.zeros((groups * lanes, cols), bool)
    padded[:rows] = W != 0
    expected_counts = padded.sum(axis=1).reshape(groups, lanes).max(axis=1)
    np.testing.assert_array_equal(enc.arrays["counts"], expected_counts)
    assert enc.arrays["values"].size == expected_counts.sum() * lanes
    assert enc.arrays["col_idx"].dtype == (np.uint8 if cols <= 256 else np.uint16)
    x = np.random.default_rng(0).standard_normal(cols)
    np.testing.assert_allclose(gs_kernel(enc, x), W.astype(np.float64) @ x, atol=1e-6)


@FAST
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 300),
       m=st.sampled_from([4, 8, 16]), data=st.data(),
       dtype=st.sampled_from([np.int8, np.float32]))
def test_nm_roundtrip(seed, rows, m, data, dtype):
    n = data.draw(st.integers(1, m - 1))
    blocks = data.draw(st.integers(1, 1100 // m))
    W = nm_matrix(seed, rows, blocks, n, m, dtype)
    enc = encode(W, f"nm:{n}:{m}")
    check_encoded(enc, W)
    bits = {4: 2, 8: 3, 16: 4}[m]
    words_per_row = -(-blocks * n // (32 // bits))
    assert enc.arrays["values"].size == rows * blocks * n
    assert enc.arrays["offsets"].size == rows * words_per_row * 4
    # Offsets inside each block are distinct and ascending.
    offsets = unpack_fields(enc.arrays["offsets"], rows, blocks * n, bits).reshape(rows, blocks, n)
    assert np.all(np.diff(offsets.astype(int), axis=2) > 0)


@pytest.mark.parametrize("fmt", ["dense", "csr", "dcsr", "dcsr:8", "dcsr:4", "dcsr:16:8",
                                 "dcsr:4:8", "nm:1:4", "nm:3:8", "nm:15:16", "gs:4", "gs:8",
                                 "gs:16"])
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@pytest.mark.parametrize("shape", [(1, 16), (7, 48), (33, 256), (5, 1088)])
def test_all_zero_matrices(fmt, dtype, shape):
    W = np.zeros(shape, dtype)
    enc = encode(W, fmt)
    check_encoded(enc, W)
    if fmt.startswith("dcsr"):
        assert enc.arrays["nnz"].tolist() == [0]
        assert enc.nbytes["values"] == 0
        assert enc.nbytes.get("delta_nibbles", 0) == enc.nbytes.get("delta_bytes", 0) == 0


@pytest.mark.parametrize("fmt", ["dense", "csr", "csr:8", "dcsr", "dcsr:8", "dcsr:4",
                                 "dcsr:16:8", "gs:4", "gs:16"])
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@pytest.mark.parametrize("shape", [(1, 1), (3, 17), (40, 255), (17, 256), (9, 257), (4, 1100)])
def test_fully_dense_matrices(fmt, dtype, shape):
    W = random_matrix(1, *shape, 0.0, dtype)
    if fmt == "csr:8" and shape[1] > 256:
        with pytest.raises(ValueError, match="do not fit uint8"):
            encode(W, fmt)
        return
    enc = encode(W, fmt)
    check_encoded(enc, W)
    if fmt.startswith("dcsr"):  # a dense row never needs an escape
        assert enc.arrays["nnz"][0] == W.size


@pytest.mark.parametrize("sparsity", [0.5, 0.9, 0.99, 0.999])
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_largest_matrices(sparsity, dtype):
    W = random_matrix(7, 300, 1100, sparsity, dtype, empty_row_fraction=0.1)
    for fmt in ("dense", "csr", "dcsr", "dcsr:16", "gs:8", "gs:16"):
        check_encoded(encode(W, fmt), W)


def test_encode_is_deterministic():
    W = random_matrix(3, 50, 300, 0.9, np.int8)
    for fmt in ("dense", "csr", "dcsr", "gs:8"):
        assert encode(W, fmt).tobytes() == encode(W.copy(), fmt).tobytes()


def test_noncontiguous_and_negative_zero_inputs():
    W = random_matrix(4, 40, 64, 0.8, np.float32)[:, ::2]
    W[0, 0] = -0.0
    for fmt in ("dense", "csr", "dcsr", "nm:15:16", "gs:8"):
        np.testing.assert_array_equal(encode(W, fmt).decode(), W)


# --- dCSR specifics ------------------------------------------------------------

def dcsr_kernel_columns(enc):
    """Column of every stored entry, computed as the M55 kernel does (scalar
    model of docs/formats.md), asserting the 8-bit gather offset invariant."""
    rows, cols = enc.shape
    G = enc.spec.params["group"]
    a = enc.arrays
    nnz = int(a["nnz"][0])
    nibbles, maps, masks = a["delta_nibbles"], a["extension_maps"], a["extension_masks"]
    group_index = mask_index = 0
    out = []
    for r in range(rows):
        n = nnz // rows + int(a["row_offsets"][r])
        s = (cols + n // 2) // n if n else 0
        base = 0
        for j in range(-(-n // G)):
            g = group_index
            even = g % 2 == 0
            pair = nibbles[(g // 2) * G:(g // 2) * G + G]
            delta = (pair >> 4) if even else (pair & 0xF)
            delta = delta.astype(int)
            ext_map = (int(maps[g // 2]) >> 4) if even else (int(maps[g // 2]) & 0xF)
            for p in range(4):
                if ext_map >> p & 1:
                    lane_mask = int(masks[mask_index])
                    mask_index += 1
                    for lane in range(G):
                        if lane_mask >> lane & 1:
                            delta[lane] |= 1 << (4 + p)
            base += int(a["group_minimums"][g]) + (G * s if j else 0)
            active = min(G, n - j * G)
            for lane in range(active):
                offset = s * lane + int(delta[lane])
                assert 0 <= offset < 256, "gather offset must fit 8 bits"
                out.append((r, base + offset))
            group_index += 1
    assert mask_index == masks.size
    return out


def check_dcsr_layout(enc, W):
    G = enc.spec.params["group"]
    a = enc.arrays
    rows = W.shape[0]
    counts = int(a["nnz"][0]) // rows + a["row_offsets"].astype(int)
    groups = int((-(-counts // G)).sum())
    assert a["delta_nibbles"].size == -(-groups // 2) * G
    assert a["group_minimums"].size == groups
    assert a["extension_maps"].size == -(-groups // 2)
    maps = unpack_nibble_pairs(a["extension_maps"], groups, 1)
    assert a["extension_masks"].size == sum(bin(int(v)).count("1") for v in maps.ravel())
    assert a["extension_masks"].dtype == (np.uint16 if G == 16 else np.uint8)
    assert a["row_offsets"].dtype == np.int16 and a["nnz"].dtype == np.int32
    assert np.all(a["group_minimums"] >= -127) and np.all(a["group_minimums"] <= 126)
    if W.size <= 40_000:  # the scalar kernel model is slow
        entries = dcsr_kernel_columns(enc)
        values = a["values"]
        assert len(entries) == values.size
        rebuilt = np.zeros(W.shape, W.dtype)
        for (r, c), v in zip(entries, values):
            if v != 0:
                rebuilt[r, c] = v
        np.testing.assert_array_equal(rebuilt, W)


@FAST
@given(W=matrices, group=st.sampled_from([4, 8, 16]))
def test_dcsr_byte_deltas_roundtrip(W, group):
    """dcsr:G:8 stores each entry's offset from its group's first column as
    a byte (entry by entry, no group padding) and each group's uint8 jump
    from the previous group's first column; the row offsets are those of
    the rows it stores."""
    enc = encode(W, f"dcsr:{group}:8")
    check_encoded(enc, W)
    assert enc.fmt == f"dcsr:{group}:8" and enc.spec.params["delta_bits"] == 8
    a = enc.arrays
    assert list(a) == ["values", "delta_bytes", "group_minimums", "row_offsets", "nnz"]
    assert a["delta_bytes"].dtype == np.uint8 and a["delta_bytes"].size == a["values"].size
    assert a["group_minimums"].dtype == np.uint8
    columns, counts = dcsr_format.decode_columns(a, W.shape, group, delta_bits=8)
    # Within a row the columns ascend, and each group's first delta is 0.
    first = np.cumsum(counts) - counts
    for start, n in zip(first, counts):
        row = columns[start:start + n]
        assert np.all(np.diff(row) > 0)
        assert np.all(a["delta_bytes"][start:start + n:group] == 0)
    # Every stored nonzero is an entry of W at its decoded column.
    rows = np.repeat(np.arange(W.shape[0]), counts)
    kept = a["values"] != 0
    np.testing.assert_array_equal(W[rows[kept], columns[kept]], a["values"][kept])
    assert np.count_nonzero(W) == kept.sum()


@pytest.mark.parametrize("fmt, message", [
    ("dcsr:16:6", "deltas are 4 bits .* or 8 bits, got 6"),
    ("dcsr:16:8:1", "expected dcsr, dcsr:G or dcsr:G:D"),
    ("dcsr:16:x", "D must be an integer"),
])
def test_dcsr_delta_bits_errors(fmt, message):
    with pytest.raises(ValueError, match=message):
        encode(np.eye(4, dtype=np.int8), fmt)


def test_dcsr_delta_bits_spelling():
    assert str(parse_format("dcsr:16:4")) == "dcsr:16"
    assert str(parse_format("dcsr:8:8")) == "dcsr:8:8"


def test_dcsr_micro_benchmark_matches_paper_setup():
    np.random.seed(23)
    W = np.random.randint(-128, 127, (64, 64)).astype(np.int8)
    W[np.random.random((64, 64)) < 0.8] = 0
    enc = encode(W, "dcsr")
    check_encoded(enc, W)
    check_dcsr_layout(enc, W)
    nnz = np.count_nonzero(W)
    index_bits = (enc.total_bytes - enc.nbytes["values"]) * 8 / nnz
    csr_bits = (encode(W, "csr").total_bytes - nnz) * 8 / nnz
    assert 4.0 < index_bits < 10.0
    assert index_bits < csr_bits / 2


@pytest.mark.parametrize("cols", [257, 300, 600, 1100])
def test_dcsr_escape_on_wide_gap(cols):
    W = np.zeros((3, cols), np.int8)
    W[0, [0, cols - 1]] = [5, -7]          # one gap of cols-1 > 255
    W[1, [2, 3, cols // 2, cols - 1]] = 1  # two large gaps
    W[2, cols - 1] = 9                      # lone entry far from column 0
    enc = encode(W, "dcsr")
    check_encoded(enc, W)
    check_dcsr_layout(enc, W)
    assert enc.arrays["nnz"][0] > np.count_nonzero(W), "escape zeros must have been inserted"
    assert np.count_nonzero(enc.arrays["values"]) == np.count_nonzero(W)


@FAST
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 40), cols=st.integers(300, 1100),
       inner=st.integers(0, 2), group=st.sampled_from([4, 8, 16]))
def test_dcsr_escape_property(seed, rows, cols, inner, group):
    """Very sparse wide rows: every row holds at most 4 entries (one group even
    for G=4), the first within columns 0..9 and the last within the final 10, so
    the last lane's gather offset is over 255 unless zeros are inserted."""
    rng = np.random.default_rng(seed)
    W = np.zeros((rows, cols), np.int8)
    for r in range(rows):
        columns = [rng.integers(0, 10), rng.integers(cols - 10, cols)]
        columns += list(rng.integers(10, cols - 10, inner))
        W[r, columns] = rng.integers(1, 128, len(columns))
    enc = encode(W, "dcsr", group=group)
    check_encoded(enc, W)
    check_dcsr_layout(enc, W)
    counts = int(enc.arrays["nnz"][0]) // rows + enc.arrays["row_offsets"].astype(int)
    assert np.all(counts > np.count_nonzero(W, axis=1)), "every row must have escaped"


def test_dcsr_escape_worked_example():
    """docs/formats.md: a 1x300 row with nonzeros at columns 0 and 299."""
    W = np.zeros((1, 300), np.int8)
    W[0, [0, 299]] = [1, 2]
    _, columns, deltas, min_codes = dcsr_format.encode_row(W[0], 16)
    assert columns.tolist() == [0, 18, 27, 37, 55, 64, 74, 92, 101, 111, 130, 149,
                                167, 186, 205, 224, 242, 261, 280, 299]
    assert dcsr_format.slope(300, columns.size) == 15
    assert min_codes.tolist() == [-24, 26]
    a = encode(W, "dcsr").arrays
    assert a["values"].tolist() == [1] + [0] * 18 + [2]
    assert a["delta_nibbles"].tolist() == [128, 180, 88, 12, 48, 208, 128, 176,
                                           80, 0, 64, 128, 176, 240, 48, 112]
    assert a["group_minimums"].tolist() == [-24, 26]
    assert a["extension_maps"].tolist() == [16]
    assert a["extension_masks"].tolist() == [49183]
    assert a["row_offsets"].tolist() == [0] and a["nnz"].tolist() == [20]


def test_dcsr_worked_example_group4():
    """docs/formats.md: 2x40 int8, G=4, with one extension bit."""
    W = np.zeros((2, 40), np.int8)
    W[0, [1, 3, 4, 9, 13, 22]] = [1, 2, 3, 4, 5, 6]
    W[1, [0, 1, 2, 31, 39]] = [7, 8, 9, 10, 11]
    a = encode(W, "dcsr:4").arrays
    assert list(a) == ["values", "delta_nibbles", "group_minimums", "extension_maps",
                       "extension_masks", "row_offsets", "nnz"]
    assert a["values"].tolist() == list(range(1, 12))
    assert a["delta_nibbles"].tolist() == [208, 130, 32, 0, 224, 112, 0, 80]
    assert a["group_minimums"].tolist() == [-12, -3, -14, 21]
    assert a["extension_maps"].tolist() == [0, 16]
    assert a["extension_masks"].tolist() == [8]
    assert a["extension_masks"].dtype == np.uint8
    assert a["row_offsets"].tolist() == [1, 0]
    assert a["nnz"].tolist() == [11]


def test_dcsr_byte_deltas_worked_example():
    """docs/formats.md, "Byte deltas": the same 2x40 matrix as dcsr:4:8."""
    W = np.zeros((2, 40), np.int8)
    W[0, [1, 3, 4, 9, 13, 22]] = [1, 2, 3, 4, 5, 6]
    W[1, [0, 1, 2, 31, 39]] = [7, 8, 9, 10, 11]
    a = encode(W, "dcsr:4:8").arrays
    assert a["values"].tolist() == list(range(1, 12))
    assert a["delta_bytes"].tolist() == [0, 2, 3, 8, 0, 9, 0, 1, 2, 31, 0]
    assert a["group_minimums"].tolist() == [1, 12, 0, 39]
    assert a["row_offsets"].tolist() == [1, 0] and a["nnz"].tolist() == [11]


@pytest.mark.parametrize("cols, escapes", [(255, False), (256, False), (257, True),
                                          (600, True)])
def test_dcsr_byte_deltas_escape_on_wide_offset(cols, escapes):
    """An offset of 256 columns or more takes escape zeros."""
    W = np.zeros((1, cols), np.int8)
    W[0, [0, cols - 1]] = [3, 4]
    enc = encode(W, "dcsr:16:8")
    check_encoded(enc, W)
    assert (enc.arrays["values"].size > 2) == escapes


def test_dcsr_group_option_forms_agree():
    W = random_matrix(5, 20, 100, 0.7, np.int8)
    assert encode(W, "dcsr:8").tobytes() == encode(W, "dcsr", group=8).tobytes()
    assert encode(W, "dcsr").fmt == "dcsr:16"
    assert encode(W.astype(np.float32), "dcsr").fmt == "dcsr:4"


def test_dcsr_matches_reference_escape_free_rows():
    """Where no escape is needed, stored entries are exactly the nonzeros."""
    W = random_matrix(6, 64, 128, 0.75, np.int8)
    enc = encode(W, "dcsr")
    assert enc.arrays["nnz"][0] == np.count_nonzero(W)
    np.testing.assert_array_equal(enc.arrays["values"], W[W != 0])


# --- N:M, GS, CSR, dense worked examples -------------------------------------------

EXAMPLE = np.array([[0, 3, 0, -1, 0, 0, 7, 0],
                    [5, 0, 0, 0, 0, 2, 0, 0],
                    [0, 0, 0, 0, 0, 0, 0, 0]], np.int8)


def test_dense_and_csr_worked_example():
    assert encode(EXAMPLE, "dense").arrays["values"].tolist() == EXAMPLE.ravel().tolist()
    a = encode(EXAMPLE, "csr").arrays
    assert list(a) == ["values", "col_idx", "row_ptr"]
    assert a["values"].tolist() == [3, -1, 7, 5, 2]
    assert a["col_idx"].tolist() == [1, 3, 6, 0, 5] and a["col_idx"].dtype == np.uint16
    assert a["row_ptr"].tolist() == [0, 3, 5, 5] and a["row_ptr"].dtype == np.uint16


def test_nm_worked_examples():
    a = encode(EXAMPLE, "nm:2:4").arrays
    assert list(a) == ["values", "offsets"]
    assert a["values"].tolist() == [3, -1, 0, 7, 5, 0, 0, 2, 0, 0, 0, 0]
    assert a["offsets"].tolist() == [141, 0, 0, 0, 68, 0, 0, 0, 68, 0, 0, 0]
    W = np.zeros((2, 16), np.int8)
    W[0, [3, 9]] = [4, -6]
    W[1, [7, 15]] = [1, 1]
    a = encode(W, "nm:1:8").arrays
    assert a["values"].tolist() == [4, -6, 1, 1]
    assert a["offsets"].tolist() == [11, 0, 0, 0, 63, 0, 0, 0]
    assert encode(W, "nm:2:16").arrays["offsets"].tolist() == [147, 0, 0, 0, 247, 0, 0, 0]


def test_nm_three_bit_fields_fill_ten_per_word():
    # 3:8 over 32 columns of one row: 12 fields -> 2 words, fields 10, 11 in word 1.
    W = np.zeros((1, 32), np.int8)
    W[0, [1, 2, 7, 8 + 0, 8 + 5, 8 + 6, 16 + 3, 24 + 1, 24 + 4, 24 + 7]] = 1
    a = encode(W, "nm:3:8").arrays
    fields = [1, 2, 7, 0, 5, 6, 0, 1, 3, 1, 4, 7]  # block 2 pads with positions 0, 1
    words = np.frombuffer(a["offsets"].tobytes(), "<u4").tolist()
    assert words == [sum(f << (3 * i) for i, f in enumerate(fields[:10])),
                     fields[10] | fields[11] << 3]


def test_gs_worked_example():
    a = encode(EXAMPLE, "gs:4").arrays
    assert list(a) == ["values", "col_idx", "counts"]
    assert a["counts"].tolist() == [3]
    # step 0: first entry of rows 0..3, step 1: second entries, step 2: third.
    assert a["values"].tolist() == [3, 5, 0, 0, -1, 2, 0, 0, 7, 0, 0, 0]
    assert a["col_idx"].tolist() == [1, 0, 0, 0, 3, 5, 0, 0, 6, 0, 0, 0]


def gs_kernel(enc, x):
    """V-lane gather / multiply-accumulate model of the GS kernel."""
    V = enc.spec.params["lanes"]
    rows = enc.shape[0]
    acc = np.zeros(-(-rows // V) * V)
    values = enc.arrays["values"].astype(np.float64)
    col_idx = enc.arrays["col_idx"].astype(np.int64)
    entry = 0
    for g, steps in enumerate(enc.arrays["counts"]):
        for _ in range(int(steps)):
            lanes = slice(entry, entry + V)
            acc[g * V:(g + 1) * V] += values[lanes] * x[col_idx[lanes]]
            entry += V
    return acc[:rows]


def test_bitpack_roundtrips():
    rng = np.random.default_rng(0)
    for bits in (2, 3, 4):
        fields = rng.integers(0, 1 << bits, (5, 23))
        np.testing.assert_array_equal(unpack_fields(pack_fields(fields, bits), 5, 23, bits), fields)
    nibbles = rng.integers(0, 16, (7, 16))
    np.testing.assert_array_equal(unpack_nibble_pairs(pack_nibble_pairs(nibbles), 7, 16), nibbles)
    assert pack_nibble_pairs(np.array([[1, 2], [3, 4], [5, 6]])).tolist() == [0x13, 0x24, 0x50, 0x60]


# --- errors ------------------------------------------------------------------------

@pytest.mark.parametrize("W, fmt, message", [
    (np.zeros((4, 4, 4), np.int8), "dense", "2-D"),
    (np.zeros(4, np.int8), "csr", "2-D"),
    (np.zeros((4, 4), np.int16), "dense", "int8 or float32"),
    (np.zeros((4, 4), np.float64), "dcsr", "int8 or float32"),
    (np.zeros((4, 4), np.uint8), "gs:4", "int8 or float32"),
    ([[1, 2], [3, 4]], "dense", "numpy array"),
    (np.zeros((0, 4), np.int8), "csr", "at least one row"),
    (np.zeros((4, 4), np.int8), "coo", "unknown format"),
    (np.zeros((4, 4), np.int8), "nm:4:4", "1 <= N < M"),
    (np.zeros((4, 4), np.int8), "nm:0:4", "1 <= N < M"),
    (np.zeros((4, 12), np.int8), "nm:2:6", "M must be 4, 8 or 16"),
    (np.zeros((4, 10), np.int8), "nm:2:4", "multiple of M=4"),
    (np.zeros((4, 8), np.int8), "nm:2", "nm:N:M"),
    (np.zeros((4, 8), np.int8), "nm:a:4", "integer"),
    (np.zeros((4, 8), np.int8), "gs:3", "V must be 4, 8 or 16"),
    (np.zeros((4, 8), np.int8), "gs", "gs:V"),
    (np.zeros((4, 8), np.int8), "dcsr:5", "group must be 4, 8 or 16"),
    (np.zeros((4, 8), np.int8), "csr:2", "8 or 16 bits"),
    (np.zeros((4, 8), np.int8), "csr:8:1", "csr:B"),
    (np.zeros((4, 257), np.int8), "csr:8", "257 columns do not fit uint8"),
    (np.zeros((4, 8), np.int8), "dense:8", "no parameters"),
    (np.zeros((1, 70000), np.int8), "csr", "65535"),
    (np.zeros((2, 70000), np.int8), "gs:4", "uint16"),
    (np.zeros((4, 8), np.int8), 42, "string"),
])
def test_encode_errors(W, fmt, message):
    with pytest.raises(ValueError, match=message):
        encode(W, fmt)


def test_csr_row_pointers_widen_past_65535_nonzeros():
    """uint16 row pointers up to 65535 nonzeros (the paper's CSR), uint32 beyond."""
    W = np.ones((257, 255), np.int8)                # 65535 nonzeros
    assert encode(W, "csr").arrays["row_ptr"].dtype == np.dtype("<u2")
    W = np.ones((300, 300), np.int8)                # 90000
    enc = encode(W, "csr")
    assert enc.arrays["row_ptr"].dtype == np.dtype("<u4")
    assert int(enc.arrays["row_ptr"][-1]) == 90000
    check_encoded(enc, W)
    W = np.ones((300, 256), np.int8)                # 76800, 8-bit columns
    check_encoded(encode(W, "csr:8"), W)


def test_nm_violation_names_row_and_block():
    W = np.zeros((3, 16), np.int8)
    W[2, 8:11] = 1
    with pytest.raises(ValueError, match=r"row 2, block 2 \(columns 8\.\.11\) has 3 nonzeros, more than N=2"):
        encode(W, "nm:2:4")


def test_option_errors():
    W = np.zeros((4, 8), np.int8)
    with pytest.raises(ValueError, match="conflicts"):
        encode(W, "dcsr:8", group=16)
    with pytest.raises(ValueError, match="group must be 4, 8 or 16"):
        encode(W, "dcsr", group=32)
    with pytest.raises(ValueError, match="no option"):
        encode(W, "csr", group=8)


def test_parse_format_canonical_strings():
    assert str(parse_format("NM:2:4")) == "nm:2:4"
    assert str(parse_format("dcsr", np.float32)) == "dcsr:4"
    assert str(parse_format("gs:8")) == "gs:8"
    assert parse_format("nm:1:16").params == {"n": 1, "m": 16}
