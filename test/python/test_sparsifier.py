"""The upstream --sparsifier CSR peer: correct against numpy, 32-bit loops."""
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
