"""ONNX front end: import, run on the host (upstream MLIR + JIT), compare with onnxruntime.

onnxruntime runs with graph optimisations off, so QDQ graphs are computed node
by node as the importer translates them. QLinear* outputs must be bit-exact.
"""
import numpy as np
import pytest

import models  # noqa: F401  (makes mcusparse.frontend importable from a stale editable install)
from mcusparse import hostrun
from mcusparse.frontend import FrontendError, import_model

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from models.onnx_builder import (_model, float_avgpool, float_cnn, float_layers,  # noqa: E402
                                 float_residual, ort_quantize, qlinear_net,
                                 uint8_qlinear_net)
from onnx import TensorProto, helper  # noqa: E402


def session(path):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def compare(path, scales, exact):
    model = import_model(path)
    run = hostrun.compile(model.mlir)
    sess = session(path)
    rng = np.random.default_rng(3)
    for s in scales:
        x = (rng.standard_normal(model.inputs[0].shape) * s).astype(np.float32)
        want = sess.run(None, {model.inputs[0].name: x})[0]
        got = run(x)[0]
        if exact:
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-6)
    return model


def test_float_cnn(tmp_path):
    p = tmp_path / "f.onnx"
    p.write_bytes(float_cnn(np.random.default_rng(0)))
    model = compare(p, (0.5, 1.0, 3.0), exact=False)
    assert [l.op for l in model.layers] == ["Conv", "DepthwiseConv", "Gemm", "MatMul"]
    assert model.layers[0].matrix_shape == (8, 27)
    assert model.format == "onnx"


def test_qlinear_bit_exact(tmp_path):
    p = tmp_path / "q.onnx"
    p.write_bytes(qlinear_net(np.random.default_rng(1)))
    model = compare(p, (0.3, 1.0, 3.0, 10.0), exact=True)
    assert "tensor<6x18xi8>" in model.mlir and model.layers[1].matrix_shape == (5, 72)


@pytest.mark.parametrize("float_input", [True, False])
def test_uint8_qlinear_bit_exact(tmp_path, float_input):
    """uint8 activations (QuantizeLinear to uint8, QLinearConv, MaxPool,
    QLinearMatMul with uint8 B) computed on int8 carriers, bit-exact; without
    float_input the graph's input and output are uint8 themselves."""
    p = tmp_path / "u8.onnx"
    p.write_bytes(uint8_qlinear_net(np.random.default_rng(1), float_input))
    model = import_model(p)
    run = hostrun.compile(model.mlir)
    sess = session(p)
    rng = np.random.default_rng(3)
    for s in (0.3, 1.0, 3.0, 10.0):
        if float_input:
            x = (rng.standard_normal(model.inputs[0].shape) * s).astype(np.float32)
        else:
            x = rng.integers(0, 256, model.inputs[0].shape).astype(np.uint8)
        want = sess.run(None, {model.inputs[0].name: x})[0]
        got = run(x)[0].view(model.outputs[0].dtype)
        np.testing.assert_array_equal(got, want)
    assert model.inputs[0].dtype == (np.float32 if float_input else np.uint8)
    assert model.outputs[0].dtype == model.inputs[0].dtype
    # The uint8 B (zero point 128) is an int8 weight with zero point 0.
    assert model.layers[1].weight.dtype == np.int8


def test_uint8_arithmetic_wraps_like_numpy(tmp_path):
    u8 = np.uint8
    nodes = [helper.make_node("Add", ["x", "c"], ["s"]),
             helper.make_node("Mul", ["s", "x"], ["y"])]
    c = np.arange(200, 212, dtype=u8).reshape(3, 4)
    raw = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.UINT8, [3, 4])],
                 [helper.make_tensor_value_info("y", TensorProto.UINT8, [3, 4])], {"c": c})
    p = tmp_path / "a.onnx"
    p.write_bytes(raw)
    model = import_model(p)
    x = np.random.default_rng(0).integers(0, 256, (3, 4)).astype(u8)
    got = hostrun.compile(model.mlir)(x)[0].view(u8)
    np.testing.assert_array_equal(got, (x + c) * x)


@pytest.mark.parametrize("case, message", [
    ("relu", r"node 0 .*\(Relu\): uint8 input 'x' is not supported"),
    ("mixed_add", r"operands of different types \(uint8 and int8\)"),
    ("zero_point_type", r"input 'x' is uint8 but its zero point 'z' is int8"),
    ("wide_weight", r"weight less its zero point does not fit int8"),
])
def test_uint8_errors_name_the_problem(tmp_path, case, message):
    u8, f = np.uint8, np.float32
    x = helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 2, 4, 4])
    yu = helper.make_tensor_value_info("y", TensorProto.UINT8, [1, 2, 4, 4])
    yf = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 4, 4])
    if case == "relu":
        nodes, inits, out = [helper.make_node("Relu", ["x"], ["y"])], {}, yu
    elif case == "mixed_add":
        nodes = [helper.make_node("Add", ["x", "c"], ["y"])]
        inits, out = {"c": np.ones((1, 2, 4, 4), np.int8)}, yu
    elif case == "zero_point_type":
        nodes = [helper.make_node("DequantizeLinear", ["x", "s", "z"], ["y"])]
        inits, out = {"s": np.array(0.1, f), "z": np.array(3, np.int8)}, yf
    else:
        nodes = [helper.make_node("QLinearConv", ["x", "s", "z", "w", "s", "wz", "s", "z"],
                                  ["y"], pads=[1, 1, 1, 1])]
        inits = {"s": np.array(0.1, f), "z": np.array(3, u8),
                 "w": np.full((2, 2, 3, 3), 250, u8), "wz": np.array(10, u8)}
        out = yu
    p = tmp_path / f"{case}.onnx"
    p.write_bytes(_model(nodes, [x], [out], inits))
    with pytest.raises(FrontendError, match=message):
        import_model(p)


def test_qdq_bit_exact(tmp_path):
    f = np.float32
    w = np.random.default_rng(2).integers(-127, 128, (4, 6)).astype(np.int8)
    inits = {"s": np.array(0.1, f), "z": np.array(2, np.int8), "w": w,
             "ws": np.array(0.02, f), "wz": np.array(0, np.int8),
             "os": np.array(0.2, f), "oz": np.array(-3, np.int8)}
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"]),
             helper.make_node("DequantizeLinear", ["w", "ws", "wz"], ["wd"]),
             helper.make_node("MatMul", ["xd", "wd"], ["y0"]),
             helper.make_node("Relu", ["y0"], ["y1"]),
             helper.make_node("QuantizeLinear", ["y1", "os", "oz"], ["yq"]),
             helper.make_node("DequantizeLinear", ["yq", "os", "oz"], ["y"])]
    raw = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 6])], inits)
    p = tmp_path / "qdq.onnx"
    p.write_bytes(raw)
    compare(p, (0.5, 2.0, 8.0), exact=True)


def bit_exact_against_onnxruntime(path, model, inputs):
    """Equal to onnxruntime with graph optimisations off and on."""
    run = hostrun.compile(model.mlir)
    fused = ort.SessionOptions()
    fused.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    references = [session(path), ort.InferenceSession(str(path), fused,
                                                      providers=["CPUExecutionProvider"])]
    for x in inputs:
        got = run(x)[0]
        for ref in references:
            np.testing.assert_array_equal(got, ref.run(None, {"x": x})[0])


@pytest.mark.parametrize("unsigned, per_channel", [(False, True), (True, True), (True, False)])
def test_ort_qdq_layers_fused_to_int8(tmp_path, unsigned, per_channel):
    """onnxruntime's quantize_static (QDQ format): every Conv / Gemm / MatMul
    between DequantizeLinear and QuantizeLinear becomes an int8 layer, and the
    model is bit-exact against onnxruntime with graph optimisations on (its
    QLinearConv path) and off (node by node, in float)."""
    path = ort_quantize(float_layers(np.random.default_rng(0)), tmp_path, unsigned, per_channel)
    model = import_model(path)
    assert [(l.op, l.weight_dtype) for l in model.layers] == [
        ("Conv", "i8"), ("DepthwiseConv", "i8"), ("Gemm", "i8"), ("MatMul", "i8")]
    assert "tensor<8x27xi8>" in model.mlir and "tensor<8x27xf32>" not in model.mlir
    rng = np.random.default_rng(7)
    bit_exact_against_onnxruntime(path, model, [
        (rng.standard_normal(model.inputs[0].shape) * s).astype(np.float32)
        for s in (0.3, 1.0, 3.0, 10.0)])


@pytest.mark.parametrize("unsigned", [False, True])
@pytest.mark.parametrize("qoperator", [False, True])
def test_ort_quantized_residual_net(tmp_path, unsigned, qoperator):
    """A residual net quantized by onnxruntime: in the QOperator format its
    contrib operators (QLinearAdd, QLinearMul, QLinearGlobalAveragePool, QGemm),
    in the QDQ format its fused layers and float Add / Mul / pool; bit-exact."""
    path = ort_quantize(float_residual(np.random.default_rng(0)), tmp_path, unsigned,
                        qoperator=qoperator)
    model = import_model(path)
    assert [l.weight_dtype for l in model.layers] == ["i8"] * 3
    rng = np.random.default_rng(7)
    bit_exact_against_onnxruntime(path, model, [
        (rng.standard_normal(model.inputs[0].shape) * s).astype(np.float32)
        for s in (0.3, 1.0, 3.0, 10.0)])


@pytest.mark.parametrize("unsigned", [False, True])
@pytest.mark.parametrize("count_include_pad", [0, 1])
def test_ort_qlinear_average_pool(tmp_path, unsigned, count_include_pad):
    path = ort_quantize(float_avgpool(np.random.default_rng(0), count_include_pad), tmp_path,
                        unsigned, qoperator=True)
    model = import_model(path)
    rng = np.random.default_rng(7)
    bit_exact_against_onnxruntime(path, model, [
        (rng.standard_normal(model.inputs[0].shape) * s).astype(np.float32)
        for s in (0.3, 1.0, 3.0, 10.0)])


def test_unsupported_contrib_operator_named(tmp_path):
    raw = _model([helper.make_node("QLinearSoftmax", ["x", "s", "z", "s", "z"], ["y"],
                                   domain="com.microsoft")],
                 [helper.make_tensor_value_info("x", TensorProto.INT8, [1, 4])],
                 [helper.make_tensor_value_info("y", TensorProto.INT8, [1, 4])],
                 {"s": np.array(0.1, np.float32), "z": np.array(0, np.int8)}, contrib=True)
    p = tmp_path / "qs.onnx"
    p.write_bytes(raw)
    with pytest.raises(FrontendError, match=r"\(QLinearSoftmax\) is not supported .*"
                                            r"com.microsoft: QGemm"):
        import_model(p)


def test_qdq_group_with_other_users_stays_float(tmp_path):
    """A Conv whose float output is also a graph output is not fused."""
    f, i8 = np.float32, np.int8
    inits = {"s": np.array(0.05, f), "z": np.array(0, i8),
             "w": np.random.default_rng(0).integers(-100, 100, (4, 2, 3, 3)).astype(i8),
             "ws": np.array(0.01, f), "ys": np.array(0.1, f)}
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"]),
             helper.make_node("DequantizeLinear", ["w", "ws"], ["wd"]),
             helper.make_node("Conv", ["xd", "wd"], ["c"]),
             helper.make_node("QuantizeLinear", ["c", "ys", "z"], ["cq"]),
             helper.make_node("DequantizeLinear", ["cq", "ys", "z"], ["y"])]
    raw = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 3, 3]),
                  helper.make_tensor_value_info("c", TensorProto.FLOAT, [1, 4, 3, 3])], inits)
    p = tmp_path / "two_users.onnx"
    p.write_bytes(raw)
    model = import_model(p)
    assert model.layers[0].weight_dtype == "f32"
    run = hostrun.compile(model.mlir)
    x = np.random.default_rng(1).standard_normal((1, 2, 5, 5)).astype(f)
    for got, want in zip(run(x), session(p).run(None, {"x": x})):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_pytorch_shape_arithmetic_folds(tmp_path):
    """`x.view(x.size(0), -1)` as PyTorch exports it (Shape -> Gather ->
    Unsqueeze -> Concat -> Reshape), a weight cast from double and transposed
    by the graph, and a Slice of the result: the shape arithmetic folds at
    import, the Gemm weight is a constant layer, and the model runs."""
    rng = np.random.default_rng(0)
    f = np.float32
    inits = {"w": (rng.standard_normal((8, 4, 3, 3)) * 0.3).astype(f),
             "w2": rng.standard_normal((72, 10)),          # float64, (in, out)
             "zero": np.array([0], np.int64), "minus1": np.array([-1], np.int64),
             "starts": np.array([2], np.int64), "ends": np.array([9], np.int64),
             "axes": np.array([1], np.int64)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Shape", ["c"], ["shape"]),
             helper.make_node("Gather", ["shape", "zero"], ["n"], axis=0),
             helper.make_node("Concat", ["n", "minus1"], ["view"], axis=0),
             helper.make_node("Reshape", ["c", "view"], ["flat"]),
             helper.make_node("Cast", ["w2"], ["w2f"], to=TensorProto.FLOAT),
             helper.make_node("Transpose", ["w2f"], ["w2t"], perm=[1, 0]),
             helper.make_node("Gemm", ["flat", "w2t"], ["g"], transB=1),
             helper.make_node("Slice", ["g", "starts", "ends", "axes"], ["y"])]
    raw = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 3, 3])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 7])], inits)
    p = tmp_path / "view.onnx"
    p.write_bytes(raw)
    model = import_model(p)
    assert [(l.op, l.matrix_shape) for l in model.layers] == [("Conv", (8, 36)),
                                                               ("Gemm", (10, 72))]
    assert "i64>" not in model.mlir     # no shape arithmetic (i64 tensors) left
    run = hostrun.compile(model.mlir)
    x = rng.standard_normal((1, 4, 3, 3)).astype(f)
    np.testing.assert_allclose(run(x)[0], session(p).run(None, {"x": x})[0], rtol=1e-5,
                               atol=1e-5)


def test_unsupported_operator_named(tmp_path):
    raw = _model([helper.make_node("Erf", ["x"], ["y"], name="act0")],
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], {})
    p = tmp_path / "t.onnx"
    p.write_bytes(raw)
    with pytest.raises(FrontendError, match=r"node 0 'act0' \(Erf\) is not supported"):
        import_model(p)


def test_dynamic_shape(tmp_path):
    raw = _model([helper.make_node("Relu", ["x"], ["y"])],
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])], {})
    p = tmp_path / "d.onnx"
    p.write_bytes(raw)
    with pytest.raises(FrontendError, match="dynamic shape"):
        import_model(p)


def test_corrupt_and_missing(tmp_path):
    raw = float_cnn(np.random.default_rng(0))
    p = tmp_path / "c.onnx"
    p.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(FrontendError):
        import_model(p)
    p.write_bytes(b"\xff\xfe garbage \x00\x01")
    with pytest.raises(FrontendError):
        import_model(p)
    with pytest.raises(OSError):
        import_model(tmp_path / "missing.onnx")
    # Neither format, under another suffix: the message names both.
    other = tmp_path / "notes.txt"
    other.write_text("not a model\n")
    with pytest.raises(FrontendError, match="neither a TFLite flatbuffer .* nor a valid ONNX"):
        import_model(other)
