"""Small ONNX models built with onnx.helper for the front-end tests."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _model(nodes, inputs, outputs, inits, opset=13, contrib=False):
    """contrib: the graph uses onnxruntime's com.microsoft operators."""
    graph = helper.make_graph(nodes, "g", inputs, outputs,
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    opsets = [helper.make_opsetid("", opset)] + \
        ([helper.make_opsetid("com.microsoft", 1)] if contrib else [])
    m = helper.make_model(graph, opset_imports=opsets)
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m.SerializeToString()


def float_cnn(rng) -> bytes:
    """Conv(s2, pads) -> Relu -> MaxPool -> depthwise Conv -> Clip -> AveragePool
    -> GlobalAveragePool -> Flatten -> Gemm -> Add -> Mul -> MatMul -> Reshape -> Softmax."""
    f = np.float32
    inits = {
        "w1": rng.standard_normal((8, 3, 3, 3)).astype(f) * f(0.3),
        "b1": rng.standard_normal(8).astype(f),
        "w2": rng.standard_normal((8, 1, 3, 3)).astype(f) * f(0.3),
        "lo": np.array(0.0, f), "hi": np.array(6.0, f),
        "w3": rng.standard_normal((16, 8)).astype(f), "b3": rng.standard_normal(16).astype(f),
        "c": rng.standard_normal(16).astype(f), "m": rng.standard_normal(16).astype(f),
        "w4": rng.standard_normal((16, 10)).astype(f), "shape": np.array([1, 10], np.int64),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[1, 1],
                         pads=[0, 0, 1, 1]),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], group=8, pads=[1, 1, 1, 1]),
        helper.make_node("Clip", ["c2", "lo", "hi"], ["k2"]),
        helper.make_node("AveragePool", ["k2"], ["a2"], kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1]),
        helper.make_node("GlobalAveragePool", ["a2"], ["g"]),
        helper.make_node("Flatten", ["g"], ["fl"]),
        helper.make_node("Gemm", ["fl", "w3", "b3"], ["gm"], transB=1),
        helper.make_node("Add", ["gm", "c"], ["ad"]),
        helper.make_node("Mul", ["ad", "m"], ["mu"]),
        helper.make_node("MatMul", ["mu", "w4"], ["mm"]),
        helper.make_node("Reshape", ["mm", "shape"], ["rs"]),
        helper.make_node("Softmax", ["rs"], ["y"], axis=-1),
    ]
    return _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 11, 9])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)


def qlinear_net(rng) -> bytes:
    """QuantizeLinear -> QLinearConv (per-channel) -> QLinearMatMul -> DequantizeLinear."""
    i8 = np.int8
    inits = {
        "xs": np.array(0.05, np.float32), "xz": np.array(3, i8),
        "w": rng.integers(-127, 128, (6, 2, 3, 3)).astype(i8),
        "ws": rng.uniform(0.002, 0.02, 6).astype(np.float32), "wz": np.zeros(6, i8),
        "ys": np.array(0.08, np.float32), "yz": np.array(-7, i8),
        "bias": rng.integers(-500, 500, 6).astype(np.int32),
        "shape": np.array([1, 6 * 4 * 3], np.int64),
        "b": rng.integers(-127, 128, (72, 5)).astype(i8),
        "bs": np.array(0.01, np.float32), "bz": np.array(0, i8),
        "zs": np.array(0.3, np.float32), "zz": np.array(1, i8),
    }
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        helper.make_node("QLinearConv", ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz", "bias"],
                         ["yq"], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Reshape", ["yq", "shape"], ["fq"]),
        helper.make_node("QLinearMatMul", ["fq", "ys", "yz", "b", "bs", "bz", "zs", "zz"],
                         ["zq"]),
        helper.make_node("DequantizeLinear", ["zq", "zs", "zz"], ["y"]),
    ]
    return _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 5])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])], inits)


def uint8_qlinear_net(rng, float_input=True) -> bytes:
    """The U8S8 pattern of onnxruntime's quantizer and the ONNX model zoo:
    uint8 activations, int8 weights with zero point 0. [QuantizeLinear to
    uint8 ->] QLinearConv (per-channel) -> MaxPool -> Reshape -> QLinearMatMul
    (uint8 B, zero point 128) [-> DequantizeLinear]. Without `float_input`
    the graph takes and returns uint8."""
    u8, i8, f = np.uint8, np.int8, np.float32
    inits = {
        "xs": np.array(0.05, f), "xz": np.array(131, u8),
        "w": rng.integers(-127, 128, (6, 2, 3, 3)).astype(i8),
        "ws": rng.uniform(0.002, 0.02, 6).astype(f), "wz": np.zeros(6, i8),
        "ys": np.array(0.08, f), "yz": np.array(120, u8),
        "bias": rng.integers(-500, 500, 6).astype(np.int32),
        "shape": np.array([1, 6 * 2 * 3], np.int64),
        "b": rng.integers(0, 256, (36, 5)).astype(u8),
        "bs": np.array(0.01, f), "bz": np.array(128, u8),
        "zs": np.array(0.3, f), "zz": np.array(100, u8),
    }
    nodes = [
        helper.make_node("QLinearConv", ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz", "bias"],
                         ["yq"], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("MaxPool", ["yq"], ["pq"], kernel_shape=[2, 2], strides=[2, 1],
                         pads=[0, 0, 0, 1]),
        helper.make_node("Reshape", ["pq", "shape"], ["fq"]),
        helper.make_node("QLinearMatMul", ["fq", "ys", "yz", "b", "bs", "bz", "zs", "zz"],
                         ["zq"]),
    ]
    if float_input:
        nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"])] + nodes + \
            [helper.make_node("DequantizeLinear", ["zq", "zs", "zz"], ["y"])]
        io = (TensorProto.FLOAT, "x", "y")
    else:
        io = (TensorProto.UINT8, "xq", "zq")
    return _model(nodes, [helper.make_tensor_value_info(io[1], io[0], [1, 2, 8, 5])],
                  [helper.make_tensor_value_info(io[2], io[0], [1, 5])], inits)


def _float_params(rng, **shapes):
    """name=(shape, scale): float32 normal values times scale."""
    return {k: rng.standard_normal(shape).astype(np.float32) * np.float32(scale)
            for k, (shape, scale) in shapes.items()}


def float_layers(rng) -> bytes:
    """Conv (s2) -> Relu -> MaxPool -> depthwise Conv -> Flatten -> Gemm -> Relu
    -> MatMul: the layers onnxruntime's QDQ quantizer wraps in Q / DQ nodes."""
    inits = _float_params(rng, w1=((8, 3, 3, 3), 0.3), b1=(8, 1), w2=((8, 1, 3, 3), 0.3),
                          b2=(8, 1), w3=((16, 48), 0.2), b3=(16, 1), w4=((16, 10), 0.3))
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], group=8, pads=[1, 1, 1, 1]),
             helper.make_node("Flatten", ["c2"], ["fl"]),
             helper.make_node("Gemm", ["fl", "w3", "b3"], ["gm"], transB=1),
             helper.make_node("Relu", ["gm"], ["gr"]),
             helper.make_node("MatMul", ["gr", "w4"], ["y"])]
    return _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 11, 9])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)


def float_residual(rng) -> bytes:
    """Conv -> Relu -> 1x1 Conv, Add (residual) and Mul of the two branches,
    GlobalAveragePool -> Flatten -> Gemm: quantized in the QOperator format it
    has QLinearAdd, QLinearMul, QLinearGlobalAveragePool and QGemm."""
    inits = _float_params(rng, w1=((8, 3, 3, 3), 0.3), b1=(8, 1), w2=((8, 8, 1, 1), 0.3),
                          b2=(8, 1), w3=((10, 8), 0.3), b3=(10, 1))
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"]),
             helper.make_node("Add", ["r1", "c2"], ["a"]),
             helper.make_node("Mul", ["a", "c2"], ["m"]),
             helper.make_node("GlobalAveragePool", ["m"], ["g"]),
             helper.make_node("Flatten", ["g"], ["fl"]),
             helper.make_node("Gemm", ["fl", "w3", "b3"], ["y"], transB=1)]
    return _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 7, 6])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)


def pruned_mlp(rng, sparsity=0.9) -> bytes:
    """Gemm 64 -> 128 (magnitude-pruned to `sparsity`) -> Relu -> Gemm 128 -> 10."""
    params = _float_params(rng, w1=((128, 64), 1), b1=(128, 1), w2=((10, 128), 1), b2=(10, 1))
    w1 = params["w1"]
    w1[np.abs(w1) < np.quantile(np.abs(w1), sparsity)] = 0
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], transB=1)]
    return _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], params)


def float_branches(rng) -> bytes:
    """Conv, BatchNormalization, PRelu, HardSwish, Pad, MaxPool, then Sigmoid
    and Tanh branches joined by Concat, Sub / Div by constants, Transpose,
    Unsqueeze / Squeeze (axes as constants), Identity."""
    p = _float_params(rng, w=((4, 2, 3, 3), 0.5), c=((1, 8, 1, 1), 1), bn_s=(4, 1),
                      bn_b=(4, 1), bn_m=(4, 1), slope=((4, 1, 1), 0.1))
    p["bn_v"] = np.abs(p["bn_m"]) + np.float32(0.5)
    p["d"] = np.full((1, 8, 1, 1), 1.5, np.float32)
    p["axes"] = np.array([0], np.int64)
    p["pads"] = np.array([0, 0, 1, 0, 0, 0, 0, 1], np.int64)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c0"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c0", "bn_s", "bn_b", "bn_m", "bn_v"],
                              ["bn"]),
             helper.make_node("PRelu", ["bn", "slope"], ["pr"]),
             helper.make_node("HardSwish", ["pr"], ["hs"]),
             helper.make_node("Pad", ["hs", "pads"], ["pd"]),
             helper.make_node("MaxPool", ["pd"], ["c1"], kernel_shape=[2, 2]),
             helper.make_node("Sigmoid", ["c1"], ["s"]),
             helper.make_node("Tanh", ["c1"], ["t"]),
             helper.make_node("Concat", ["s", "t"], ["j"], axis=1),
             helper.make_node("Sub", ["j", "c"], ["u"]),
             helper.make_node("Div", ["u", "d"], ["v"]),
             helper.make_node("Transpose", ["v"], ["tr"], perm=[0, 2, 3, 1]),
             helper.make_node("Unsqueeze", ["tr", "axes"], ["un"]),
             helper.make_node("Squeeze", ["un", "axes"], ["sq"]),
             helper.make_node("Identity", ["sq"], ["y"])]
    return _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 4])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5, 4, 8])], p,
                  opset=14)   # HardSwish


def float_avgpool(rng, count_include_pad=0) -> bytes:
    """Conv -> AveragePool (3x3, s2, padded) -> GlobalAveragePool -> Gemm:
    quantized in the QOperator format it has QLinearAveragePool."""
    p = _float_params(rng, w1=((8, 3, 3, 3), 0.3), b1=(8, 1), w2=((10, 8), 0.3), b2=(10, 1))
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("AveragePool", ["c1"], ["a"], kernel_shape=[3, 3],
                              strides=[2, 2], pads=[1, 1, 1, 1],
                              count_include_pad=count_include_pad),
             helper.make_node("GlobalAveragePool", ["a"], ["g"]),
             helper.make_node("Flatten", ["g"], ["fl"]),
             helper.make_node("Gemm", ["fl", "w2", "b2"], ["y"], transB=1)]
    return _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 7, 6])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], p)


def ort_quantize(float_model: bytes, directory, unsigned: bool, per_channel: bool = True,
                 qoperator: bool = False) -> str:
    """The float model quantized by onnxruntime's quantize_static (int8
    weights; uint8 or int8 activations), in its default QDQ format or the
    QOperator one, calibrated on 8 random inputs. Returns the path."""
    import logging
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)
    logging.getLogger().setLevel(logging.ERROR)   # the "consider pre-processing" hint
    src, dst = f"{directory}/float.onnx", f"{directory}/quantized.onnx"
    with open(src, "wb") as fh:
        fh.write(float_model)
    shape = [d.dim_value for d in onnx.load_from_string(float_model).graph.input[0].type
             .tensor_type.shape.dim]

    class Calibration(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter([{"x": np.random.default_rng(i).standard_normal(shape)
                                .astype(np.float32)} for i in range(8)])

        def get_next(self):
            return next(self.feeds, None)
    quantize_static(src, dst, Calibration(),
                    quant_format=QuantFormat.QOperator if qoperator else QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8 if unsigned else QuantType.QInt8,
                    weight_type=QuantType.QInt8, per_channel=per_channel)
    return dst
