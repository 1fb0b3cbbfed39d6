"""The upstream --sparsifier peers (CSR, and structured[N, M] for N:M): correct
against numpy, 32-bit loops, clear errors."""
import shutil

import numpy as np
import pytest

from mcusparse import kernels, prune, sparsifier
from mcusparse.targets import MCU_TARGETS, get_target
from mcusparse.targets.qemu import plugin_path


@pytest.fixture(scope="module", autouse=True)
def emulators_installed():
    missing = [exe for t in MCU_TARGETS for exe in (get_target(t).gcc, get_target(t).qemu[0])
               if shutil.which(exe) is None]
    if not plugin_path().is_file():
        missing.append(str(plugin_path()))
    if missing:
        pytest.fail(f"missing {', '.join(sorted(set(missing)))}: run scripts/setup-emulators.sh")


def _matrix(seed, rows, cols, sparsity=0.8):
    rng = np.random.default_rng(seed)
    W = prune.magnitude(rng.integers(-128, 128, (rows, cols), dtype=np.int8), sparsity)
    W[min(2, rows - 1)] = 0                  # an empty row
    return W, rng.integers(-128, 128, cols, dtype=np.int8)


def test_encode_roundtrip():
    W, _ = _matrix(1, 13, 29)
    enc = sparsifier.encode(W)
    assert enc.arrays["positions"].dtype == np.int32
    assert enc.arrays["coordinates"].dtype == np.int32
    assert enc.nnz == np.count_nonzero(W)
    np.testing.assert_array_equal(enc.decode(), W)
    assert enc.total_bytes == 4 * (13 + 1) + 5 * enc.nnz


def test_module_is_upstream_csr_with_32_bit_index():
    W, _ = _matrix(2, 8, 16)
    enc = sparsifier.encode(W)
    text = sparsifier.kernel_mlir(8, 16, enc.arrays)
    assert "#sparse_tensor.encoding<{ map = (i, j) -> (i : dense, j : compressed) }>" in text
    assert "sparse_tensor.assemble" in text and "index = 32 : i64" in text
    from mcusparse import pipeline
    lowered = str(pipeline.run(text, sparsifier.PIPELINE))
    assert "sparse_tensor." not in lowered
    assert "i64" not in lowered.replace("index = 32 : i64", "")      # 32-bit loops
    assert "malloc" not in lowered


@pytest.mark.parametrize("target", MCU_TARGETS)
def test_correct_on_target(target):
    for seed, (rows, cols) in ((5, (21, 37)), (6, (16, 64))):
        W, x = _matrix(seed, rows, cols)
        k = kernels.spmv(W, format="sparsifier", target=target)
        y, st = k.run(x)
        np.testing.assert_array_equal(y, W.astype(np.int32) @ x.astype(np.int32))
        assert st.format == "sparsifier"
        assert st.instructions > 0 and st.weight_bytes_read > 0
        assert st.flash_bytes == st.text_bytes + k.encoded.total_bytes
        assert st.modeled_cycles > 0


def test_llc_only_build():
    """"sparsifier:llc": the same kernel through llc alone (MEASURE.md's anchor
    build), on the opt+llc route only; correct, and slower than opt+llc."""
    W, x = _matrix(7, 32, 64)
    ref = W.astype(np.int32) @ x.astype(np.int32)
    y, st = kernels.spmv(W, format="sparsifier:llc", target="cortex-m55").run(x)
    np.testing.assert_array_equal(y, ref)
    assert st.format == "sparsifier:llc"
    _, opt = kernels.spmv(W, format="sparsifier", target="cortex-m55").run(x)
    assert st.instructions > opt.instructions
    with pytest.raises(ValueError, match="llc-only build needs the opt.llc route"):
        kernels.spmv(W, format="sparsifier:llc", target="rv32imc")


def test_all_zero_matrix():
    W = np.zeros((5, 9), np.int8)
    x = np.arange(9, dtype=np.int8)
    y, _ = kernels.spmv(W, format="sparsifier", target="cortex-m55").run(x)
    np.testing.assert_array_equal(y, np.zeros(5, np.int32))


def _nm_matrix(seed, rows, cols, n, m):
    rng = np.random.default_rng(seed)
    W = prune.nm(rng.integers(-128, 128, (rows, cols), dtype=np.int8), n, m)
    W[0, :m] = 0                             # a block with fewer than N nonzeros
    W[min(2, rows - 1)] = 0                  # an empty row
    return W, rng.integers(-128, 128, cols, dtype=np.int8)


def test_structured_encode_roundtrip():
    W, _ = _nm_matrix(3, 6, 32, 2, 8)
    enc = sparsifier.encode(W, "structured:2:8")
    crd, val = enc.arrays["coordinates"], enc.arrays["values"]
    assert crd.dtype == np.uint8 and val.dtype == np.int8
    assert crd.size == val.size == 6 * 32 // 8 * 2          # N per block, padded
    assert (np.diff(crd.reshape(-1, 2), axis=1) > 0).all()   # offset order, distinct
    np.testing.assert_array_equal(enc.decode(), W)
    text = sparsifier.kernel_mlir(6, 32, enc.arrays, "structured:2:8")
    assert "j mod 8 : structured[2, 8]" in text and "crdWidth = 8" in text


@pytest.mark.parametrize("target", MCU_TARGETS)
def test_structured_correct_on_target(target):
    for seed, (n, m), (rows, cols) in ((8, (2, 4), (9, 24)), (9, (1, 8), (7, 64)),
                                       (10, (3, 8), (5, 40)), (11, (1, 16), (4, 48))):
        W, x = _nm_matrix(seed, rows, cols, n, m)
        k = kernels.spmv(W, format=f"structured:{n}:{m}", target=target)
        y, st = k.run(x)
        np.testing.assert_array_equal(y, W.astype(np.int32) @ x.astype(np.int32))
        assert st.format == f"structured:{n}:{m}"
        assert st.weight_bytes_read > 0 and st.flash_bytes == st.text_bytes + k.encoded.total_bytes


def test_structured_errors():
    with pytest.raises(ValueError, match=r"row 0, columns 0..3 hold 4 nonzeros \(at most 1 per block of 4\)"):
        kernels.spmv(np.ones((2, 8), np.int8), format="structured:1:4", target="cortex-m55")
    with pytest.raises(ValueError, match="6 columns are not a multiple of 4"):
        kernels.spmv(np.zeros((2, 6), np.int8), format="structured:1:4", target="cortex-m55")
    with pytest.raises(ValueError, match="expected 'structured:N:M'"):
        kernels.spmv(np.zeros((2, 8), np.int8), format="structured:4:2", target="cortex-m55")
