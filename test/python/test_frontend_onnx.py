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
from models.onnx_builder import _model, float_cnn, qlinear_net  # noqa: E402
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


def test_unsupported_operator_named(tmp_path):
    raw = _model([helper.make_node("Tanh", ["x"], ["y"], name="act0")],
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], {})
    p = tmp_path / "t.onnx"
    p.write_bytes(raw)
    with pytest.raises(FrontendError, match=r"node 0 'act0' \(Tanh\) is not supported"):
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
