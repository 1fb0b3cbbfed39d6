"""TFLite front end: import, run on the host (upstream MLIR + JIT), compare with LiteRT.

The reference is LiteRT's interpreter with its reference kernels
(OpResolverType.BUILTIN_REF): int8 outputs must be bit-exact, for the final
output and for every intermediate tensor.
"""
import os
from pathlib import Path

import numpy as np
import pytest
import tflite

import models  # noqa: F401  (makes mcusparse.frontend importable from a stale editable install)
from models.tflite_builder import FLOAT32, INT8, INT32, RELU, RELU6, SAME, TFLiteBuilder, \
    small_cnn, sub_concat_net
from mcusparse import hostrun
from mcusparse.frontend import FrontendError, import_model, quant
from mcusparse.frontend.tflite import import_tflite

litert = pytest.importorskip("ai_edge_litert.interpreter")
SHARED = Path(os.environ.get("MCUSPARSE_SHARED_MODELS", "/work/shared/models"))


from models.litert import reference  # noqa: E402


def op_outputs(raw):
    g = tflite.Model.GetRootAs(raw, 0).Subgraphs(0)
    return g, [int(g.Operators(i).Outputs(0)) for i in range(g.OperatorsLength())]


def check_all_tensors(path, inputs, layers=True):
    """Imports with every operator's output exposed and compares each with LiteRT."""
    raw = Path(path).read_bytes()
    g, outs = op_outputs(raw)
    model = import_tflite(path, outs if layers else ())
    run = hostrun.compile(model.mlir)
    it = reference(path, preserve=True)
    order = [int(o) for o in g.OutputsAsNumpy()]
    order += [o for o in outs if o not in order] if layers else []
    for x in inputs:
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        got = run(x)
        for i in order:
            want = it.get_tensor(i)
            mine = got[order.index(i)]
            diff = np.abs(mine.astype(np.float64) - want.astype(np.float64))
            assert diff.max() == 0, (f"tensor {g.Tensors(i).Name().decode()}: "
                                     f"{np.count_nonzero(diff)} of {diff.size} differ, "
                                     f"max {diff.max()}")
    return model


@pytest.fixture(scope="module")
def cnn_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("tfl") / "cnn.tflite"
    path.write_bytes(small_cnn(np.random.default_rng(1)))
    return path


def test_small_cnn_bit_exact_every_layer(cnn_path):
    rng = np.random.default_rng(2)
    inputs = [(rng.standard_normal((1, 12, 10, 3)) * s).astype(np.float32)
              for s in (0.5, 2.0, 2.0, 8.0, 30.0)]
    model = check_all_tensors(cnn_path, inputs)
    assert [l.op for l in model.layers] == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D",
                                           "FULLY_CONNECTED"]


def test_layer_metadata_and_ir(cnn_path):
    model = import_model(cnn_path)
    assert model.format == "tflite"
    assert model.inputs[0].shape == (1, 12, 10, 3) and model.inputs[0].dtype == np.float32
    conv, dw, pw, fc = model.layers
    assert conv.matrix_shape == (8, 27) and conv.macs == 6 * 5 * 8 * 27
    assert dw.matrix_shape == (16, 9) and dw.weight_bytes == 144
    assert fc.matrix_shape == (10, 16)
    assert 0.3 < conv.sparsity < 0.8 and pw.sparsity > 0.5
    np.testing.assert_array_equal(conv.weight, conv.weight.reshape(8, 27))
    # The weights are 2-D constants used by matmul / matvec (for #sparse_enc).
    assert "tensor<8x27xi8>" in model.mlir and "linalg.matmul" in model.mlir
    assert "linalg.matvec" in model.mlir and "tensor<10x16xi8>" in model.mlir
    assert model.mlir.count("func.func @main") == 1


@pytest.mark.parametrize("stride,padding,act,dil", [(1, SAME, RELU6, 1), (2, SAME, RELU, 1),
                                                    (2, 1, 0, 1), (1, SAME, 0, 2)])
def test_conv_variants(tmp_path, stride, padding, act, dil):
    rng = np.random.default_rng(stride * 10 + padding + act + dil)
    b = TFLiteBuilder()
    h, w = 9, 8
    x = b.tensor("x", [1, h, w, 4], INT8, scale=0.03, zp=7)
    wt = b.tensor("w", [6, 3, 3, 4], INT8, data=rng.integers(-127, 128, (6, 3, 3, 4))
                  .astype(np.int8), scale=rng.uniform(0.001, 0.01, 6), zp=[0] * 6)
    bias = b.tensor("b", [6], INT32, data=rng.integers(-900, 900, 6).astype(np.int32))
    if padding == SAME:
        oh, ow = -(-h // stride), -(-w // stride)
    else:
        oh, ow = (h - 2 * dil - 1) // stride + 1, (w - 2 * dil - 1) // stride + 1
    y = b.tensor("y", [1, oh, ow, 6], INT8, scale=0.05, zp=-20)
    b.op("CONV_2D", [x, wt, bias], [y], "Conv2DOptions", Padding=padding, StrideW=stride,
         StrideH=stride, FusedActivationFunction=act, DilationWFactor=dil,
         DilationHFactor=dil)
    path = tmp_path / "conv.tflite"
    path.write_bytes(b.build([x], [y]))
    inputs = [rng.integers(-128, 128, (1, h, w, 4)).astype(np.int8) for _ in range(4)]
    check_all_tensors(path, inputs, layers=False)


@pytest.mark.parametrize("act", [0, RELU])
def test_sub_concat_squeeze_transpose_bit_exact(tmp_path, act):
    """int8 SUB (two inputs of other scales, broadcast, fused activation),
    CONCATENATION (TFLite requires equal quantization: a copy), SQUEEZE,
    TRANSPOSE: every tensor equal to LiteRT's reference kernels."""
    rng = np.random.default_rng(5 + act)
    path = tmp_path / "sub.tflite"
    path.write_bytes(sub_concat_net(rng, act))
    inputs = [rng.integers(-128, 128, (1, 4, 3, 5)).astype(np.int8) for _ in range(4)]
    check_all_tensors(path, inputs)


def test_requant_math_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.integers(-(1 << 20), 1 << 20, 1000)
    m, s = quant.quantize_multiplier(0.0123)
    a = quant.multiply_by_quantized_multiplier(x, m, s, "double")
    b = quant.multiply_by_quantized_multiplier(x, m, s, "single")
    exact = x * 0.0123
    assert np.abs(a - exact).max() <= 1 and np.abs(b - exact).max() <= 1
    assert quant.quantize_multiplier(0.5) == (1 << 30, 0)
    assert quant.quantize_multiplier(0.0) == (0, 0)
    # "single" rounds ties half away from zero, as LiteRT's FULLY_CONNECTED
    # (x / 4: m = 2^30, shift = -1).
    ties = quant.multiply_by_quantized_multiplier(np.array([-14, -10, -2, 2, 10, 14]),
                                                  1 << 30, -1, "single")
    assert list(ties) == [-4, -3, -1, 1, 3, 4]
    assert quant.single_rounding_fits_i32([1 << 30, 1 << 30], [-1, -31])
    assert not quant.single_rounding_fits_i32(1 << 30, 0)
    assert not quant.single_rounding_fits_i32(-(1 << 31), -3)


# --- errors ---------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(OSError):
        import_model(tmp_path / "nope.tflite")


def test_not_a_model(tmp_path):
    p = tmp_path / "junk.tflite"
    p.write_bytes(b"hello world, not a flatbuffer")
    with pytest.raises(FrontendError, match="not a TFLite flatbuffer"):
        import_model(p)


def test_truncated(tmp_path, cnn_path):
    raw = cnn_path.read_bytes()
    for cut in (16, len(raw) // 3, len(raw) // 2):
        p = tmp_path / f"cut{cut}.tflite"
        p.write_bytes(raw[:cut])
        with pytest.raises(FrontendError):
            import_model(p)


def test_unsupported_operator_named(tmp_path):
    b = TFLiteBuilder()
    x = b.tensor("x", [1, 4], FLOAT32)
    y = b.tensor("y", [1, 4], FLOAT32)
    b.op("TANH", [x], [y])
    p = tmp_path / "tanh.tflite"
    p.write_bytes(b.build([x], [y]))
    with pytest.raises(FrontendError, match=r"operator 0 \(TANH\) is not supported"):
        import_model(p)


def test_dynamic_shape(tmp_path):
    b = TFLiteBuilder()
    x = b.tensor("x", [1, -1], FLOAT32)
    y = b.tensor("y", [1, -1], FLOAT32)
    b.op("RELU", [x], [y])
    p = tmp_path / "dyn.tflite"
    p.write_bytes(b.build([x], [y]))
    with pytest.raises(FrontendError, match="dynamic shape"):
        import_model(p)


def test_save_is_atomic(tmp_path, cnn_path):
    model = import_model(cnn_path)
    out = tmp_path / "m.mlir"
    model.save(out)
    assert out.read_text() == model.mlir
    assert [p.name for p in tmp_path.iterdir()] == ["m.mlir"]


# --- the real models in ../shared (skipped when absent) -----------------------------

REAL = ["sparse_s_80", "dense_s", "dense_m", "mobilenetv2_cifar10_sparse90"]


@pytest.mark.parametrize("name", REAL)
def test_real_model_bit_exact(name):
    path = SHARED / f"{name}.tflite"
    if not path.exists():
        pytest.skip(f"{path} not present")
    rng = np.random.default_rng(0)
    model = import_model(path)
    run = hostrun.compile(model.mlir)
    it = reference(path)
    shape = model.inputs[0].shape
    for scale in (1.0, 5.0, 20.0):
        x = (rng.standard_normal(shape) * scale).astype(np.float32)
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        want = it.get_tensor(it.get_output_details()[0]["index"])
        got = run(x)[0]
        np.testing.assert_array_equal(got, want)
    assert model.layers and all(l.weight_bytes > 0 for l in model.layers)
