"""The batched CSR and dCSR layer kernels (passes/lower/LowerSpMM.cpp,
LowerSparseMatmul.cpp) on whole models.

On cortex-m55 a convolution whose weight is CSR stays a `linalg.matmul`
(sparse-enc-matmul-to-matvec marks it `sparse_enc.batched`) and
sparse-enc-lower-matvec lowers it in blocks of 16 pixels. These tests run such
models on the emulator and compare them bit for bit with LiteRT: the bundled
digits model, and small convolutions with pixel counts that are not a
multiple of 16 (masked tail block), a tail-only layer, and weights with empty
rows (output channels pruned away).
"""
import numpy as np
import pytest

import models  # noqa: F401  (test helpers: models.tflite_builder)
import mcusparse
from mcusparse import pipeline
from mcusparse.compiler.reference import Reference, random_inputs
from mcusparse.models import bundled

KEEP = ("builtin.module(sparse-enc-set-target{target=cortex-m55}, "
        "sparse-enc-matmul-to-matvec{target=cortex-m55})")


def batched_layers(out_dir) -> int:
    """How many layer matmuls the cortex-m55 pipeline keeps for the batched kernel."""
    text = (out_dir / "01-layouts.mlir").read_text()
    return str(pipeline.run(text, KEEP)).count("sparse_enc.batched")


def check_bit_exact(cm, ref, seeds):
    for seed in seeds:
        xs = random_inputs(cm.inputs, seed)
        got, want = cm.run(*xs).outputs, ref(*xs)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


def test_digits_csr_bit_exact(tmp_path):
    path = bundled("digits_sparse90.tflite")
    cm = mcusparse.compile(path, target="cortex-m55", format="csr", out_dir=tmp_path / "out",
                           progress=False)
    # conv1 (8x9) and conv2 (16x72, 16 pixels) are convolutions; fc layers are matvecs.
    assert batched_layers(tmp_path / "out") == 2
    check_bit_exact(cm, Reference(path), seeds=range(3))
    with np.load(bundled("digits_test.npz")) as z:
        x = z["x"][:2]
    ref = Reference(path)
    for xi in x:
        np.testing.assert_array_equal(cm.run(xi).outputs[0], ref(xi)[0])


def conv_model(hw, cin, cout, k, stride, padding, empty_rows, density, seed) -> bytes:
    """One int8 CONV_2D (per-channel weights, int32 bias, RELU6) as .tflite."""
    from models.tflite_builder import INT8, INT32, RELU6, SAME, TFLiteBuilder
    rng = np.random.default_rng(seed)
    w = rng.integers(-127, 128, (cout, k, k, cin)).astype(np.int8)
    w[rng.random(w.shape) > density] = 0
    w[list(empty_rows)] = 0
    wscale = rng.uniform(0.002, 0.02, cout).astype(np.float32)
    xscale, yscale = 0.05, 0.1
    h, wd = hw
    if padding == SAME:
        oh, ow = -(-h // stride), -(-wd // stride)
    else:
        oh, ow = (h - k) // stride + 1, (wd - k) // stride + 1
    b = TFLiteBuilder()
    x = b.tensor("x", [1, h, wd, cin], INT8, scale=xscale, zp=-3)
    wt = b.tensor("w", [cout, k, k, cin], INT8, data=w, scale=wscale, zp=[0] * cout)
    bias = b.tensor("b", [cout], INT32,
                    data=rng.integers(-2000, 2000, cout).astype(np.int32),
                    scale=wscale * xscale, zp=[0] * cout)
    y = b.tensor("y", [1, oh, ow, cout], INT8, scale=yscale, zp=2)
    b.op("CONV_2D", [x, wt, bias], [y], "Conv2DOptions", Padding=padding,
         StrideW=stride, StrideH=stride, FusedActivationFunction=RELU6)
    return b.build(inputs=[x], outputs=[y]), oh * ow


# (input h x w, in channels, out channels, kernel, stride, padding, empty rows, density)
SHAPES = {
    # 35 pixels: two blocks of 16 and a tail of 3; first and a middle row empty.
    "p35_3x3": ((7, 5), 3, 6, 3, 1, 0, (0, 4), 0.3),
    # 9 pixels: a tail block only (3 vectors, the last with one lane).
    "p9_1x1": ((3, 3), 4, 5, 1, 1, 1, (1, 4), 0.5),
    # 32 pixels: whole blocks only; 90 % sparse, last row empty.
    "p32_1x1": ((8, 4), 16, 8, 1, 1, 1, (7,), 0.1),
    # 20 pixels (stride 2, SAME): one block and a tail of one vector.
    "p20_s2": ((8, 10), 8, 12, 3, 2, 0, (2, 3, 11), 0.15),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_odd_shapes_bit_exact(tmp_path, name):
    raw, pixels = conv_model(*SHAPES[name], seed=sum(map(ord, name)))
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(raw)
    cm = mcusparse.compile(path, target="cortex-m55", format="csr", out_dir=tmp_path / "out",
                           progress=False)
    assert batched_layers(tmp_path / "out") == 1, "the conv did not take the batched kernel"
    check_bit_exact(cm, Reference(path), seeds=range(2))


@pytest.mark.parametrize("fmt", ["dcsr", "dcsr:16:8"])
@pytest.mark.parametrize("name", ["p35_3x3", "p20_s2"])
def test_dcsr_layers_batched_bit_exact(tmp_path, name, fmt):
    """dCSR convolutions stay whole on cortex-m55 (blocks of 16 pixels)."""
    raw, _ = conv_model(*SHAPES[name], seed=sum(map(ord, name)))
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(raw)
    cm = mcusparse.compile(path, target="cortex-m55", format=fmt, out_dir=tmp_path / "out",
                           progress=False)
    assert batched_layers(tmp_path / "out") == 1, "the conv did not take the batched kernel"
    check_bit_exact(cm, Reference(path), seeds=range(2))


def test_rv32_targets_layer_kernels(tmp_path):
    """rv32imc (the scalar batched kernel) and rv32gcv (the generic vector
    one) keep a CSR layer whole; both stay bit-exact."""
    raw, _ = conv_model(*SHAPES["p35_3x3"], seed=1)
    path = tmp_path / "m.tflite"
    path.write_bytes(raw)
    text = None
    for target in ("rv32imc", "rv32gcv"):
        cm = mcusparse.compile(path, target=target, format="csr",
                               out_dir=tmp_path / target, progress=False)
        text = (tmp_path / target / "01-layouts.mlir").read_text()
        split = str(pipeline.run(
            text, f"builtin.module(sparse-enc-matmul-to-matvec{{target={target}}})"))
        assert "sparse_enc.batched" in split and "linalg.matvec" not in split
        check_bit_exact(cm, Reference(path), seeds=range(1))
