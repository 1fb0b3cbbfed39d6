"""mcusparse.kernels: lowered dense and sparse matvec kernels on the emulators.

Every format x target runs against numpy over random shapes, including
empty rows, an all-zero matrix and column counts that are not multiples of
the vector width; the float32 forms too. Needs what scripts/setup-emulators.sh installs.
"""
import shutil
import zlib

import numpy as np
import pytest

from mcusparse import kernels, prune
from mcusparse.targets import MCU_TARGETS, EmulatorTimeout, get_target
from mcusparse.targets.qemu import plugin_path

FORMATS = ("dense", "csr", "csr:8", "dcsr", "dcsr:16:8", "nm:1:4", "nm:2:4", "nm:2:8", "nm:3:8",
           "nm:1:16", "nm:4:16", "gs:16", "gs:8", "gs:4")


@pytest.fixture(scope="module", autouse=True)
def emulators_installed():
    missing = [exe for t in MCU_TARGETS for exe in (get_target(t).gcc, get_target(t).qemu[0])
               if shutil.which(exe) is None]
    if not plugin_path().is_file():
        missing.append(str(plugin_path()))
    if missing:
        pytest.fail(f"missing {', '.join(sorted(set(missing)))}: run scripts/setup-emulators.sh")


def matrix(rng, rows, cols, fmt, sparsity=0.8, empty_rows=(1, 4)):
    W = rng.integers(-128, 128, size=(rows, cols), dtype=np.int8)
    if fmt.startswith("nm:"):
        _, n, m = fmt.split(":")
        W = prune.nm(W, int(n), int(m))
    elif fmt != "dense":
        W = prune.magnitude(W, sparsity)
    for r in empty_rows:
        if r < rows:
            W[r] = 0
    return W


def shape_for(fmt, base):
    """Columns that fit the format: N:M needs a multiple of M."""
    rows, cols = base
    if fmt.startswith("nm:"):
        m = int(fmt.split(":")[2])
        cols = (cols + m - 1) // m * m
    return rows, cols


def check(W, fmt, target, rng):
    x = rng.integers(-128, 128, size=W.shape[1], dtype=np.int8)
    k = kernels.spmv(W, format=fmt, target=target)
    y, stats = k.run(x)
    ref = W.astype(np.int32) @ x.astype(np.int32)
    assert y.dtype == np.int32
    np.testing.assert_array_equal(y, ref, err_msg=f"{fmt} on {target}, W {W.shape}")
    assert stats.instructions > 0
    assert stats.text_bytes > 0
    assert stats.flash_bytes == stats.text_bytes + k.encoded.total_bytes
    assert 0 < stats.weight_bytes_read or not W.any()
    return stats


@pytest.mark.parametrize("target", MCU_TARGETS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_random_shapes(fmt, target):
    rng = np.random.default_rng(zlib.crc32(f"{fmt} {target}".encode()))
    # 37 columns: not a multiple of 16 (dense tail, CSR tail, GS index range);
    # N:M rounds up to its block. 21 rows: not a multiple of 4, 16 or GS lanes.
    for base in ((21, 37), (8, 72)):
        W = matrix(rng, *shape_for(fmt, base), fmt)
        check(W, fmt, target, rng)


@pytest.mark.parametrize("target", MCU_TARGETS)
@pytest.mark.parametrize("fmt", ("dense", "csr", "csr:8", "dcsr", "dcsr:16:8", "nm:1:8", "gs:16"))
def test_all_zero_matrix(fmt, target):
    rng = np.random.default_rng(5)
    W = np.zeros(shape_for(fmt, (9, 24)), dtype=np.int8)
    check(W, fmt, target, rng)


@pytest.mark.parametrize("target", MCU_TARGETS)
@pytest.mark.parametrize("fmt", ("dcsr", "dcsr:16:8"))
def test_dcsr_escape_path(fmt, target):
    """Rows whose gather offsets would reach 256 get escape zeros (docs/formats.md)."""
    rng = np.random.default_rng(11)
    W = np.zeros((3, 300), dtype=np.int8)
    W[0, 0], W[0, 299] = 1, 2                       # the documented 18-escape row
    W[2, [5, 150, 290]] = [-128, 127, 3]            # a second row with escapes
    from mcusparse.formats import encode
    assert encode(W, fmt).arrays["values"].size > np.count_nonzero(W)
    check(W, fmt, target, rng)
    W = prune.magnitude(rng.integers(-128, 128, size=(5, 600), dtype=np.int8), 0.97)
    check(W, fmt, target, rng)


@pytest.mark.parametrize("target", MCU_TARGETS)
def test_dcsr_extension_maps(target):
    """Groups with every common extension map and rarer ones: the cortex-m55
    matvec takes maps 3, 1 and 0 by one compare each and tests the bits of
    any other map (LowerDCSR.cpp, extendCommonFirst)."""
    from mcusparse.formats import dcsr
    rng = np.random.default_rng(7)
    W = np.zeros((24, 256), dtype=np.int8)
    for r in range(W.shape[0]):
        # Runs of close columns broken by wide gaps: deltas far off the ramp.
        n = int(rng.integers(16, 96))
        gaps = np.where(rng.random(n) < 0.12, rng.integers(20, 120, n), rng.integers(1, 4, n))
        columns = np.cumsum(gaps)
        columns = columns[columns < W.shape[1]]
        W[r, columns] = rng.integers(1, 127, size=columns.size)
    maps = dcsr.encode(W)["extension_maps"]
    seen = set((maps & 15).tolist()) | set((maps >> 4).tolist())
    assert {0, 1, 3} <= seen and {4, 5, 7, 14, 15} <= seen, sorted(seen)
    check(W, "dcsr", target, rng)


@pytest.mark.parametrize("target", MCU_TARGETS)
@pytest.mark.parametrize("fmt,shape", [
    # rv32imc N:M: rows of > 8 words loop over steps of words (one word
    # when n divides the fields per word; 3 for nm:3:8 and nm:3:4, 7 for
    # nm:7:16), otherwise unrolled; 4 / 2 rows per iteration plus leftovers.
    ("nm:1:4", (7, 600)), ("nm:3:8", (5, 512)), ("nm:1:16", (6, 96)), ("nm:1:8", (3, 256)),
    ("nm:7:16", (5, 1040)), ("nm:3:4", (3, 400)),
    # cortex-m55 N:M with 2-/4-bit fields: 16 fields per step, rows of one
    # partial step (24 fields), of several steps plus a partial one (100).
    ("nm:1:16", (5, 384)), ("nm:1:4", (4, 400)), ("nm:2:16", (3, 800)),
    # cortex-m55 N:M with 3-bit fields: one partial step (5 fields, 2 bytes),
    # 2 steps plus a partial one (34 fields: 13 bytes), 16 steps (256
    # fields, 104 bytes staged in 7 chunks), n = 2 and 4; 257 fields keep
    # the row-parallel kernel.
    ("nm:1:8", (4, 40)), ("nm:1:8", (5, 272)), ("nm:2:8", (3, 1024)),
    ("nm:4:8", (3, 96)), ("nm:1:8", (2, 2056)),
    # cortex-m55 gs:16 (vmullb/vmullt, transposed accumulators) with 16-bit
    # column indices (cols > 256); padded groups: test_random_shapes.
    ("gs:16", (32, 300)), ("gs:16", (16, 64)), ("gs:16", (37, 300)), ("gs:16", (64, 576)),
    # cortex-m55 gs:8 (vmullb/vmullt.s16, even and odd rows): 8-bit and
    # 16-bit column indices, a padded last group.
    ("gs:8", (16, 256)), ("gs:8", (13, 300)), ("gs:8", (24, 1000)),
    # dCSR nibble blocks carried from even to odd groups across rows; byte
    # deltas in rows of several groups (M55: tail-predicated rows, six per
    # row-loop iteration, then one leftover row or a loop over the rest).
    ("dcsr", (33, 200)), ("dcsr:16:8", (6, 1024)), ("dcsr:16:8", (13, 300)),
    ("dcsr:16:8", (17, 256)),
    # cortex-m55 CSR rows are tail-predicated loops: rows of many steps
    # (130 entries = 8 x 16 + 2, 16 x 8 + 2) and the 256-column limit of
    # 8-bit indices (column 255 is gathered).
    ("csr:8", (9, 256)), ("csr", (9, 256))])
def test_target_specific_shapes(fmt, shape, target):
    rng = np.random.default_rng(zlib.crc32(f"{fmt} {shape} {target}".encode()))
    W = matrix(rng, *shape, fmt, sparsity=0.9)
    if fmt.startswith("csr"):
        W = matrix(rng, *shape, fmt, sparsity=0.5)
        W[0, :130] = 0
        W[0, 126:] = rng.integers(1, 128, size=130, dtype=np.int8)
    check(W, fmt, target, rng)


@pytest.mark.parametrize("target", MCU_TARGETS)
@pytest.mark.parametrize("fmt", ("dcsr", "dcsr:16:8", "csr"))
def test_lane_totals_wrap(fmt, target):
    """rv32gcv never resets the lane accumulators of these matvecs: a row's
    sum is the growth of their total, which here passes 2^31 (600 rows of
    300 entries at (-128)^2). Rows of more than 255 entries take the i16
    lane mask; row 7 is empty."""
    W = np.full((600, 300), -128, dtype=np.int8)
    W[7] = 0
    x = np.full(300, -128, dtype=np.int8)
    y, _ = kernels.spmv(W, format=fmt, target=target).run(x)
    np.testing.assert_array_equal(y, W.astype(np.int32) @ x.astype(np.int32))


@pytest.mark.parametrize("target", MCU_TARGETS)
@pytest.mark.parametrize("fmt", ("dcsr", "dcsr:16:8", "csr:8"))
def test_rows_of_256_entries(fmt, target):
    """256 columns: a full row's entries left (256) do not fit i8, but
    left - 1 does, which the rv32gcv 4-bit group mask compares; rows of 1,
    15, 16, 17 and 255 entries, an empty one and full ones."""
    rng = np.random.default_rng(256)
    W = np.zeros((12, 256), dtype=np.int8)
    for row, n in enumerate((256, 1, 15, 16, 17, 255, 0, 256, 32, 33, 256, 2)):
        W[row, rng.choice(256, n, replace=False)] = rng.choice([-1, 1], n) * rng.integers(1, 128, n)
    x = rng.integers(-128, 128, 256).astype(np.int8)
    y, _ = kernels.spmv(W, format=fmt, target=target).run(x)
    np.testing.assert_array_equal(y, W.astype(np.int32) @ x.astype(np.int32))


# float32 weights and activations: the f32 forms (dCSR G = 4, GS and N:M
# over f32 lanes); the products are summed in the kernel's order, so y is
# compared with a float64 reference within float32 rounding.
F32_FORMATS = ("dense", "csr", "csr:8", "dcsr", "dcsr:4:8", "nm:1:4", "nm:2:8", "gs:4", "gs:16")


@pytest.mark.parametrize("target", MCU_TARGETS)
@pytest.mark.parametrize("fmt", F32_FORMATS)
def test_float32(fmt, target):
    rng = np.random.default_rng(zlib.crc32(f"f32 {fmt} {target}".encode()))
    rows, cols = shape_for(fmt, (21, 37))
    W = rng.standard_normal((rows, cols)).astype(np.float32)
    if fmt.startswith("nm:"):
        _, n, m = fmt.split(":")
        W = prune.nm(W, int(n), int(m))
    elif fmt != "dense":
        W = prune.magnitude(W, 0.8)
    W[1] = 0
    x = rng.standard_normal(cols).astype(np.float32)
    k = kernels.spmv(W, format=fmt, target=target)
    y, stats = k.run(x)
    assert y.dtype == np.float32 and stats.instructions > 0
    ref = W.astype(np.float64) @ x.astype(np.float64)
    bound = 1e-5 * (np.abs(W).astype(np.float64) @ np.abs(x).astype(np.float64)) + 1e-30
    assert np.all(np.abs(y - ref) <= bound), f"{fmt} on {target}: {y} vs {ref}"
    assert y[1] == 0


def test_float32_errors():
    W = np.eye(16, dtype=np.float32)
    k = kernels.spmv(W, "csr", "cortex-m55")
    with pytest.raises(ValueError, match="float32 like W"):
        k.run(np.ones(16, dtype=np.int8))
    with pytest.raises(ValueError, match="int8 only"):
        kernels.spmv(W, "sparsifier", "cortex-m55")
    with pytest.raises(ValueError, match="int8 or float32"):
        kernels.spmv(W.astype(np.float64), "csr", "cortex-m55")


@pytest.mark.parametrize("target", MCU_TARGETS)
def test_csr_with_32_bit_row_pointers(target):
    """More than 65,535 entries: row_ptr is uint32 (the M55 row loop reads it
    through a pointer, found by the 512x1024 50 % benchmark)."""
    rng = np.random.default_rng(zlib.crc32(f"csr32 {target}".encode()))
    W = matrix(rng, 80, 1000, "csr", sparsity=0.15)
    assert np.count_nonzero(W) > 65535
    check(W, "csr", target, rng)


def test_weight_traffic_and_cache():
    rng = np.random.default_rng(7)
    W = matrix(rng, 64, 64, "csr", sparsity=0.9)
    x = rng.integers(-128, 128, size=64, dtype=np.int8)
    dense = kernels.spmv(W, "dense", "cortex-m55")
    _, sd = dense.run(x)
    assert sd.weight_bytes_read == W.size          # every weight byte read once
    csr = kernels.spmv(W, "csr", "cortex-m55")
    _, sc = csr.run(x)
    assert sc.weight_bytes_read < sd.weight_bytes_read / 2
    again = kernels.spmv(W, "csr", "cortex-m55")  # cached by content: same object
    assert again.object == csr.object
    assert again.build(x) == csr.build(x)


def _build_and_run(seed: int):
    rng = np.random.default_rng(seed)
    W = matrix(rng, 48, 40, "csr", sparsity=0.8)
    x = rng.integers(-128, 128, size=40, dtype=np.int8)
    y, _ = kernels.spmv(W, "csr", "rv32gcv").run(x)
    return bool(np.array_equal(y, W.astype(np.int32) @ x.astype(np.int32)))


def test_parallel_builds_of_one_kernel():
    """Benchmark jobs may build the same kernel and program at once (a
    `bench table --jobs 2` run failed renaming a shared kernel.tmp.o): each
    builds in its own directory and the first to finish publishes it."""
    import concurrent.futures
    import multiprocessing
    import time
    seed = time.time_ns() % 2**32           # a kernel no earlier run cached
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(4, mp_context=ctx) as pool:
        assert all(pool.map(_build_and_run, [seed] * 4))


def test_unsupported_format_is_a_clear_error():
    W = np.eye(16, dtype=np.int8)
    with pytest.raises(ValueError, match="format"):
        kernels.spmv(W, "coo", "cortex-m55")


@pytest.mark.parametrize("dtype, fmt, group", [
    (np.int8, "dcsr:8", "use group = 16"), (np.int8, "dcsr:4:8", "use group = 16"),
    (np.float32, "dcsr:16", "use group = 4")])
def test_dcsr_group_that_does_not_fill_a_vector_is_refused_before_lowering(dtype, fmt, group):
    """The golden encoders take any group; a kernel's group fills one 128-bit
    vector. The dialect's verifier says so before a pipeline runs."""
    W = np.eye(16, 40).astype(dtype)
    with pytest.raises(ValueError, match=rf"on tensor<16x40x.*>: group .* {group}"):
        kernels.spmv(W, fmt, "rv32gcv")
    if dtype == np.int8:
        with pytest.raises(ValueError, match=group):
            kernels.spmm(W, format=fmt, target="cortex-m55", batch=3)


def test_timeout_names_target_and_kernel():
    W = np.eye(16, dtype=np.int8)
    k = kernels.spmv(W, "csr", "rv32imc", timeout=0.01)
    with pytest.raises(EmulatorTimeout, match=r"rv32imc: spmv-csr-16x16"):
        k.run(np.ones(16, dtype=np.int8))
