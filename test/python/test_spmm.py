"""mcusparse.kernels.spmm: Y = W X on the emulators, against numpy."""
import numpy as np
import pytest

from mcusparse import formats, kernels, prune


@pytest.mark.parametrize("target,fmt,shape,batch", [
    ("cortex-m55", "csr", (64, 72), 16),       # pixel-batched kernel, full blocks
    ("cortex-m55", "csr", (37, 50), 21),       # masked tail block, odd shapes
    # >= 12 entries per row: the row-gather kernel (4-pixel blocks + tail)
    ("cortex-m55", "csr:8", (40, 200), 7),
    ("cortex-m55", "csr", (30, 300), 6),
    # register-blocked dense: 3-pixel x 2-row blocks, then tail pixels, tail
    # rows and a masked column step; exact blocks; a single pixel and row.
    ("cortex-m55", "dense", (16, 40), 5),
    ("cortex-m55", "dense", (17, 50), 7),
    ("cortex-m55", "dense", (8, 64), 6),
    ("cortex-m55", "dense", (1, 300), 1),
    ("cortex-m55", "gs:16", (32, 300), 3),     # one matvec per column
    ("rv32imc", "csr", (20, 33), 7),
    # rv32gcv: dense reading each weight once (a single column: a matvec);
    # CSR with short rows or >= 16 pixels pixel-batched (masked tail block)
    # or row-resident (6+ entries per row, 16+ pixels), long rows over few
    # pixels matvecs
    ("rv32gcv", "dense", (8, 24), 4),
    ("rv32gcv", "dense", (8, 24), 1),
    ("rv32gcv", "csr", (37, 50), 21),
    ("rv32gcv", "csr:8", (20, 200), 16),
    ("rv32gcv", "csr", (20, 300), 5),
])
def test_spmm_matches_numpy(target, fmt, shape, batch):
    rng = np.random.default_rng(batch)
    W = prune.magnitude(rng.integers(-128, 128, shape).astype(np.int8), 0.85)
    if shape[0] > 1:
        W[1] = 0                               # an empty row
    X = rng.integers(-128, 128, (shape[1], batch)).astype(np.int8)
    Y, stats = kernels.spmm(W, format=fmt, target=target, batch=batch).run(X)
    np.testing.assert_array_equal(Y, W.astype(np.int32) @ X.astype(np.int32))
    assert stats.instructions > 0
    # LLVM may unroll a small dense layer completely and fold its weights into
    # immediates (no weight loads left); a sparse kernel always reads them.
    assert stats.weight_bytes_read > 0 or fmt == "dense"


@pytest.mark.parametrize("fmt,shape,sparsity", [
    ("csr:8", (24, 64), 0.85),     # pixel-batched (about 10 entries per row)
    ("csr", (24, 64), 0.7),        # row-gather (about 19 entries per row)
    ("csr:8", (8, 40), 1.0),       # no entries at all
])
def test_spmm_carried_pointers_across_empty_rows(fmt, shape, sparsity):
    # cortex-m55: both CSR layer kernels carry their read positions from row
    # to row; leading, consecutive and trailing empty rows must not shift them.
    rng = np.random.default_rng(11)
    W = prune.magnitude(rng.integers(-128, 128, shape).astype(np.int8), sparsity)
    W[[0, 1, 5, 6, shape[0] - 1]] = 0
    X = rng.integers(-128, 128, (shape[1], 19)).astype(np.int8)
    Y, _ = kernels.spmm(W, format=fmt, target="cortex-m55", batch=19).run(X)
    np.testing.assert_array_equal(Y, W.astype(np.int32) @ X.astype(np.int32))


@pytest.mark.parametrize("target,fmt,shape,batch,sparsity", [
    ("cortex-m55", "csr:8", (64, 64), 125, 0.9),   # DS-CNN S's 1x1 layer: one step per row, 1 tail pixel
    ("cortex-m55", "csr:8", (40, 100), 34, 0.75),  # K = 100: two offset vectors; rows of 1-3 steps
    ("cortex-m55", "csr:8", (33, 128), 32, 0.85),  # K = 128: offsets up to 255
    ("cortex-m55", "csr:8", (30, 200), 42, 0.93),  # K = 200: one offset vector, a base per pixel
    ("cortex-m55", "csr:8", (24, 256), 19, 0.95),  # 16-31 pixels: rows of 6-40 entries
    ("cortex-m55", "csr", (24, 300), 35, 0.96),    # 16-bit indices: steps of 8, 3 tail pixels
    ("cortex-m55", "csr", (20, 72), 41, 0.8),      # 16-bit indices, about 14 entries per row
    # rv32gcv: steps of 16 entries, pairs of pixels per gather
    ("rv32gcv", "csr:8", (64, 64), 125, 0.9),      # one step per row, 1 tail pixel
    ("rv32gcv", "csr", (40, 100), 34, 0.75),       # rows of 1-3 steps of 16
    ("rv32gcv", "csr:8", (30, 200), 16, 0.9),      # exactly 16 pixels, no tail
    ("rv32gcv", "csr", (24, 300), 35, 0.9),        # 16-bit indices, 3 tail pixels
])
def test_spmm_csr_row_resident(target, fmt, shape, batch, sparsity):
    # cortex-m55 with >= 32 pixels and 4 to 3 vl entries per row (16-31
    # pixels: 6 to 2.5 vl), rv32gcv with >= 16 pixels and >= 6 entries per
    # row: each row's entries stay in registers while every pixel passes
    # (LowerSpMM.cpp lowerCSRMatmulRowResidentMVE / RVV). Empty rows, a row
    # of many steps (its later steps add to Y) and lanes past the row's end
    # must not count.
    rng = np.random.default_rng(batch)
    W = prune.magnitude(rng.integers(-128, 128, shape).astype(np.int8), sparsity)
    W[[0, 3]] = 0
    W[2, : min(shape[1], 40)] = rng.integers(1, 128, min(shape[1], 40))
    X = rng.integers(-128, 128, (shape[1], batch)).astype(np.int8)
    Y, stats = kernels.spmm(W, format=fmt, target=target, batch=batch).run(X)
    np.testing.assert_array_equal(Y, W.astype(np.int32) @ X.astype(np.int32))
    assert stats.weight_bytes_read > 0
    if target == "rv32gcv":
        # Each entry (value and column index) and row pointer read once.
        values = int(np.count_nonzero(W))
        assert stats.weight_bytes_read <= values * (2 if fmt == "csr:8" else 3) + 2 * (shape[0] + 1)


@pytest.mark.parametrize("target", ["cortex-m55", "rv32gcv"])
@pytest.mark.parametrize("fmt", ["dcsr", "dcsr:16:8"])
@pytest.mark.parametrize("shape,batch,sparsity", [
    ((40, 200), 7, 0.9),      # one block of 7 pixels (byte deltas: tail-predicated)
    ((33, 72), 21, 0.85),     # a block of 16 pixels, then a block of 5
    ((24, 64), 19, 1.0),      # no entries at all
    ((8, 1000), 3, 0.99),     # long gaps: explicit zeros (the escape path)
])
def test_spmm_dcsr_batched(target, fmt, shape, batch, sparsity):
    # cortex-m55 and rv32gcv keep a dCSR layer whole
    # (passes/lower/LowerSparseMatmul.cpp): each group is decoded once per
    # block of 16 pixels, so the weights are read once per block.
    rng = np.random.default_rng(shape[0] + batch)
    W = prune.magnitude(rng.integers(-128, 128, shape).astype(np.int8), sparsity)
    W[[1, shape[0] - 1]] = 0                   # empty rows, one of them the last
    X = rng.integers(-128, 128, (shape[1], batch)).astype(np.int8)
    Y, stats = kernels.spmm(W, format=fmt, target=target, batch=batch).run(X)
    np.testing.assert_array_equal(Y, W.astype(np.int32) @ X.astype(np.int32))
    blocks = -(-batch // 16)
    packed = formats.encode(W, fmt)
    stored = packed.total_bytes
    if fmt == "dcsr":
        # The scalar 4-bit rows read a pair's nibble bytes and map byte for
        # each of its two groups (LowerDCSR.cpp, dcsrRowsScalar).
        stored += packed.arrays["delta_nibbles"].nbytes + packed.arrays["extension_maps"].nbytes
    assert stats.weight_bytes_read <= blocks * stored


def check_nm_batched(target, pattern, shape, batch, seed, block):
    """An N:M layer with empty rows equals numpy, and its weights are read at
    most once per block of `block` pixels."""
    n, m = pattern
    rng = np.random.default_rng(seed)
    W = prune.nm(rng.integers(-128, 128, shape).astype(np.int8), n, m)
    W[[0, shape[0] - 1]] = 0                   # empty rows
    X = rng.integers(-128, 128, (shape[1], batch)).astype(np.int8)
    fmt = f"nm:{n}:{m}"
    Y, stats = kernels.spmm(W, format=fmt, target=target, batch=batch).run(X)
    np.testing.assert_array_equal(Y, W.astype(np.int32) @ X.astype(np.int32))
    blocks = -(-batch // block)
    assert stats.weight_bytes_read <= blocks * formats.encode(W, fmt).total_bytes


@pytest.mark.parametrize("pattern,shape,batch", [
    ((1, 16), (40, 64), 21),      # a block of 16 pixels, then a block of 5
    ((2, 4), (24, 40), 7),        # 2-bit fields, one block
    ((1, 4), (9, 48), 16),        # exactly one block
])
def test_spmm_nm_batched(pattern, shape, batch):
    # cortex-m55 keeps an N:M layer with 2- or 4-bit fields whole
    # (LowerSparseMatmul.cpp): each step's offsets are unpacked once per
    # block of 16 pixels.
    check_nm_batched("cortex-m55", pattern, shape, batch, seed=batch, block=16)


@pytest.mark.parametrize("pattern,shape,batch", [
    ((1, 8), (24, 256), 21),      # 3-bit fields, word loop: blocks of 8, 8, 5
    ((1, 16), (9, 48), 8),        # exactly one block, one partial word per row
    ((2, 4), (10, 40), 3),        # 2-bit fields, one block of 3
    ((3, 8), (7, 64), 9),         # n = 3: fields not a multiple of a word
    ((7, 16), (5, 368), 9),       # 2 steps of 7 words (8 blocks), 6 words, 1 field
])
def test_spmm_nm_batched_rv32imc(pattern, shape, batch):
    # rv32imc keeps an N:M layer whole (LowerSparseMatmul.cpp, nmRowsScalar):
    # each field is decoded once per block of 8 pixels.
    check_nm_batched("rv32imc", pattern, shape, batch, seed=batch + pattern[0], block=8)


@pytest.mark.parametrize("pattern,shape,batch", [
    ((1, 8), (20, 256), 6),       # 3-bit fields, word loop; rows 16 + 4 (masked); blocks 4 + 2
    ((1, 16), (40, 64), 21),      # 4-bit fields: three row groups, pixel blocks 4 x 5 + 1
    ((2, 4), (16, 40), 4),        # 2-bit fields, one row group, one block
    ((3, 8), (7, 64), 9),         # n = 3: fields not a multiple of a word; one masked group
    ((3, 8), (18, 376), 5),       # 4 steps of 3 words (10 blocks), 2 words, 1 field
])
def test_spmm_nm_batched_rv32gcv(pattern, shape, batch):
    # rv32gcv keeps an int8 N:M layer whole (LowerSparseMatmul.cpp,
    # nmRowsRVV): 16 rows in lanes, each field decoded once per block of 4
    # pixels; the last row group's Y stores are masked.
    check_nm_batched("rv32gcv", pattern, shape, batch, seed=batch + pattern[1], block=4)


@pytest.mark.parametrize("fmt,shape,batch", [
    ("gs:16", (64, 64), 125),     # DS-CNN S's 1x1 shape: blocks of 4 pixels, 1 tail pixel
    ("gs:16", (20, 40), 7),       # a padded last group (rows 16-19), blocks 4 + 3
    ("gs:8", (13, 300), 4),       # 16-bit column indices, padded group, one block
])
def test_spmm_gs_batched_rv32gcv(fmt, shape, batch):
    # rv32gcv keeps a GS layer whole (LowerGS.cpp gsRowsRVV): each step's
    # values and column indices read once per block of 4 pixels; a padded
    # last group's Y stores masked (the next pixel's sums follow in Y).
    rng = np.random.default_rng(batch)
    W = prune.magnitude(rng.integers(-128, 128, shape).astype(np.int8), 0.85)
    W[[0, shape[0] - 1]] = 0                   # empty rows
    X = rng.integers(-128, 128, (shape[1], batch)).astype(np.int8)
    Y, stats = kernels.spmm(W, format=fmt, target="rv32gcv", batch=batch).run(X)
    np.testing.assert_array_equal(Y, W.astype(np.int32) @ X.astype(np.int32))
    blocks = -(-batch // 4)
    assert stats.weight_bytes_read <= blocks * formats.encode(W, fmt).total_bytes


@pytest.mark.parametrize("fmt,shape,batch,sparsity", [
    ("csr", (20, 300), 37, 0.9),     # blocks of 16, 16, then 5; 16-bit columns
    ("csr:8", (12, 64), 16, 0.8),    # exactly one block
    ("csr:8", (8, 40), 9, 1.0),      # no entries at all
    # byte-delta dCSR: rows of several groups, jumps past 256 columns
    ("dcsr:16:8", (20, 700), 37, 0.5),
    ("dcsr:16:8", (12, 64), 16, 0.8),
    ("dcsr:16:8", (8, 40), 9, 1.0),
    # 4-bit dCSR: extension bits, escapes past 256 columns, odd groups
    ("dcsr", (20, 700), 37, 0.5),
    ("dcsr", (12, 64), 16, 0.8),
    ("dcsr", (8, 40), 9, 1.0),
])
def test_spmm_csr_batched_rv32imc(fmt, shape, batch, sparsity):
    # rv32imc keeps a CSR or dCSR layer whole (LowerSpMM.cpp,
    # lowerCSRMatmulScalar; LowerDCSRBytes.cpp, dcsrBytesRowsScalar;
    # LowerDCSR.cpp, dcsrRowsScalar): each entry is read (and decoded) once
    # per block of 16 pixels.
    rng = np.random.default_rng(batch)
    W = prune.magnitude(rng.integers(-128, 128, shape).astype(np.int8), sparsity)
    W[[0, 3, shape[0] - 1]] = 0                # empty rows, the last one too
    X = rng.integers(-128, 128, (shape[1], batch)).astype(np.int8)
    Y, stats = kernels.spmm(W, format=fmt, target="rv32imc", batch=batch).run(X)
    np.testing.assert_array_equal(Y, W.astype(np.int32) @ X.astype(np.int32))
    blocks = -(-batch // 16)
    packed = formats.encode(W, fmt)
    stored = packed.total_bytes
    if fmt == "dcsr":
        # The scalar 4-bit rows read a pair's nibble bytes and map byte for
        # each of its two groups (LowerDCSR.cpp, dcsrRowsScalar).
        stored += packed.arrays["delta_nibbles"].nbytes + packed.arrays["extension_maps"].nbytes
    assert stats.weight_bytes_read <= blocks * stored


@pytest.mark.parametrize("shape,batch", [
    ((7, 40), 6),       # 4-pixel x 3-row blocks, then 2 pixels and a last row
    ((12, 33), 8),      # exact blocks, an odd column count
    ((1, 100), 1),      # one pixel: the matvec kernel
])
def test_spmm_dense_blocked_rv32imc(shape, batch):
    # rv32imc keeps a dense layer whole (LowerDenseMatmul.cpp): scalar
    # register blocks, one column per step.
    rng = np.random.default_rng(shape[0])
    W = rng.integers(-128, 128, shape).astype(np.int8)
    X = rng.integers(-128, 128, (shape[1], batch)).astype(np.int8)
    Y, _ = kernels.spmm(W, format="dense", target="rv32imc", batch=batch).run(X)
    np.testing.assert_array_equal(Y, W.astype(np.int32) @ X.astype(np.int32))


@pytest.mark.parametrize("target", ["cortex-m55", "rv32imc", "rv32gcv"])
def test_spmm_cse_csr(target):
    # CSE-CSR's subexpressions come from the Python search: the packing pass
    # takes its buffers, as for a model's layer (one matvec per column of X).
    rng = np.random.default_rng(5)
    W = rng.integers(-3, 4, (20, 70)).astype(np.int8)
    W[rng.random(W.shape) < 0.7] = 0
    W[3] = 0
    X = rng.integers(-128, 128, (70, 3)).astype(np.int8)
    Y, stats = kernels.spmm(W, format="cse-csr", target=target, batch=3).run(X)
    np.testing.assert_array_equal(Y, W.astype(np.int32) @ X.astype(np.int32))
    assert stats.weight_bytes == formats.encode(W, "cse-csr").total_bytes


def test_spmm_errors():
    W = np.zeros((4, 8), np.int8)
    with pytest.raises(ValueError, match="int8"):
        kernels.spmm(W.astype(np.float32))
    with pytest.raises(ValueError, match="target"):
        kernels.spmm(W, target="z80")
    with pytest.raises(ValueError, match="sparsifier.*kernels.spmv"):
        kernels.spmm(W, format="sparsifier")
    k = kernels.spmm(W, format="dense", batch=2)
    with pytest.raises(ValueError, match="shape"):
        k.run(np.zeros((8, 3), np.int8))


@pytest.mark.parametrize("target,shape,pixels", [
    ("cortex-m55", (64, 64), 125),  # DS-CNN S's 1x1 layer: 4 full steps, odd pixels
    ("cortex-m55", (5, 40), 7),     # a masked step of 8, a tail pixel
    ("cortex-m55", (3, 96), 2),     # six steps: the widest row held in registers
    ("cortex-m55", (17, 33), 9),    # a masked step of 1
    ("cortex-m55", (8, 100), 10),   # wider than 96: two chunks of 4 steps, Y added to
    ("cortex-m55", (40, 200), 5),   # three chunks (5 + 4 + 4 steps), the last masked
    ("cortex-m55", (6, 20), 8),     # narrower than 32: register-blocked
    # rv32gcv, where it is the dense layer kernel: steps of 32 lanes, chunks
    # of two steps.
    ("rv32gcv", (64, 64), 125),     # one chunk of two full steps
    ("rv32gcv", (5, 40), 7),        # a masked step of 8, a tail pixel
    ("rv32gcv", (17, 33), 9),       # a masked step of 1
    ("rv32gcv", (40, 200), 5),      # four chunks (2 + 2 + 2 + 1 steps), the last masked
    ("rv32gcv", (6, 20), 8),        # narrower than 32: one masked step
])
def test_dense_weights_once_layer_matches_numpy(tmp_path, target, shape, pixels):
    """The dense kernel that reads each weight once (cortex-m55:
    compile_model(dense_weights_once=True); rv32gcv: always): Y = X W^T, and W
    is read once where the kernel applies."""
    from mcusparse import compiler
    from mcusparse.compiler import program
    from mcusparse.compiler.layer_cost import layer_mlir
    rng = np.random.default_rng(pixels)
    W = rng.integers(-128, 128, shape).astype(np.int8)
    X = rng.integers(-128, 128, (pixels, shape[1])).astype(np.int8)
    compiler.lower_to_object(layer_mlir(W, pixels, None), target, tmp_path, "layer",
                             line_tables=False, dense_weights_once=target == "cortex-m55")
    out = program.IoSpec("y", (pixels, shape[0]), "int32")
    elf = program.build(target, tmp_path / "model.o", [X], [out], tmp_path)
    res = program.run(target, elf, [out], model="layer")
    np.testing.assert_array_equal(res.outputs[0], X.astype(np.int32) @ W.astype(np.int32).T)
    if (shape[1] >= 32 or target == "rv32gcv") and W.nbytes > 1024:
        assert res.weight_bytes_read == W.nbytes
