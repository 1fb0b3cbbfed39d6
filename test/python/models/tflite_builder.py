"""Build small .tflite models in tests (mcusparse.models.tflite_writer underneath).

    b = TFLiteBuilder()
    x = b.tensor("x", [1, 8, 8, 3], INT8, scale=0.05, zp=-3)
    w = b.tensor("w", [4, 3, 3, 3], INT8, data=..., scale=[...], zp=[0] * 4)
    y = b.tensor("y", [1, 4, 4, 4], INT8, scale=0.1, zp=2)
    b.op("CONV_2D", [x, w, bias], [y], "Conv2DOptions",
         Padding=SAME, StrideW=2, StrideH=2, FusedActivationFunction=RELU6)
    raw = b.build(inputs=[x], outputs=[y])
"""
from __future__ import annotations

import numpy as np

from mcusparse.models.tflite_writer import (FLOAT32, INT8, INT32, NONE, RELU, RELU6,  # noqa: F401
                                            SAME, VALID, TFLiteWriter)


class TFLiteBuilder(TFLiteWriter):
    """The package's TFLiteWriter with the tests' short keyword names."""

    def tensor(self, name, shape, type_code, data=None, scale=None, zp=None, qdim=0) -> int:
        return super().tensor(name, shape, type_code, data=data, scale=scale, zero_point=zp,
                              quantized_dimension=qdim)


def rand_i8(rng, shape, sparsity=0.0):
    w = rng.integers(-127, 128, shape).astype(np.int8)
    if sparsity:
        w[rng.random(shape) < sparsity] = 0
    return w


def small_cnn(rng, activation=RELU6) -> bytes:
    """float in -> QUANTIZE -> CONV(3x3,s2,SAME,per-channel,RELU6) -> DEPTHWISE(3x3,SAME,x2)
    -> MAX_POOL -> CONV 1x1 -> ADD(residual) -> MUL(const) -> PAD -> AVERAGE_POOL(SAME, s2)
    -> MEAN -> RESHAPE -> FULLY_CONNECTED -> SOFTMAX -> DEQUANTIZE -> float out."""
    b = TFLiteBuilder()
    x = b.tensor("input", [1, 12, 10, 3], FLOAT32)
    xq = b.tensor("xq", [1, 12, 10, 3], INT8, scale=0.04, zp=-5)
    b.op("QUANTIZE", [x], [xq])
    w1 = b.tensor("conv1/w", [8, 3, 3, 3], INT8, data=rand_i8(rng, (8, 3, 3, 3), 0.5),
                  scale=rng.uniform(0.002, 0.02, 8), zp=[0] * 8)
    b1 = b.tensor("conv1/b", [8], INT32, data=rng.integers(-2000, 2000, 8).astype(np.int32),
                  scale=0.04 * 0.01, zp=0)
    y1 = b.tensor("conv1", [1, 6, 5, 8], INT8, scale=6 / 255, zp=-128)
    b.op("CONV_2D", [xq, w1, b1], [y1], "Conv2DOptions", Padding=SAME, StrideW=2, StrideH=2,
         FusedActivationFunction=activation)
    w2 = b.tensor("dw/w", [1, 3, 3, 16], INT8, data=rand_i8(rng, (1, 3, 3, 16)),
                  scale=rng.uniform(0.002, 0.02, 16), zp=[0] * 16, qdim=3)
    b2 = b.tensor("dw/b", [16], INT32, data=rng.integers(-500, 500, 16).astype(np.int32))
    y2 = b.tensor("dw", [1, 6, 5, 16], INT8, scale=0.05, zp=3)
    b.op("DEPTHWISE_CONV_2D", [y1, w2, b2], [y2], "DepthwiseConv2DOptions", Padding=SAME,
         StrideW=1, StrideH=1, DepthMultiplier=2, FusedActivationFunction=RELU)
    y3 = b.tensor("maxpool", [1, 3, 3, 16], INT8, scale=0.05, zp=3)
    b.op("MAX_POOL_2D", [y2], [y3], "Pool2DOptions", Padding=SAME, StrideW=2, StrideH=2,
         FilterWidth=2, FilterHeight=2)
    w4 = b.tensor("pw/w", [16, 1, 1, 16], INT8, data=rand_i8(rng, (16, 1, 1, 16), 0.8),
                  scale=rng.uniform(0.002, 0.02, 16), zp=[0] * 16)
    y4 = b.tensor("pw", [1, 3, 3, 16], INT8, scale=0.07, zp=-10)
    b4 = b.tensor("pw/b", [16], INT32, data=np.zeros(16, np.int32))
    b.op("CONV_2D", [y3, w4, b4], [y4], "Conv2DOptions", Padding=VALID, StrideW=1, StrideH=1)
    y5 = b.tensor("add", [1, 3, 3, 16], INT8, scale=0.09, zp=1)
    b.op("ADD", [y4, y3], [y5], "AddOptions", FusedActivationFunction=NONE)
    c6 = b.tensor("mul/c", [16], INT8, data=rand_i8(rng, (16,)), scale=0.01, zp=4)
    y6 = b.tensor("mul", [1, 3, 3, 16], INT8, scale=0.02, zp=-2)
    b.op("MUL", [y5, c6], [y6], "MulOptions", FusedActivationFunction=NONE)
    p7 = b.tensor("pad/p", [4, 2], INT32, data=np.array([[0, 0], [1, 0], [0, 1], [0, 0]],
                                                        np.int32))
    y7 = b.tensor("pad", [1, 4, 4, 16], INT8, scale=0.02, zp=-2)
    b.op("PAD", [y6, p7], [y7])
    y8 = b.tensor("avgpool", [1, 2, 2, 16], INT8, scale=0.02, zp=-2)
    b.op("AVERAGE_POOL_2D", [y7], [y8], "Pool2DOptions", Padding=SAME, StrideW=2, StrideH=2,
         FilterWidth=3, FilterHeight=3)
    ax = b.tensor("mean/axes", [2], INT32, data=np.array([1, 2], np.int32))
    y9 = b.tensor("mean", [1, 1, 1, 16], INT8, scale=0.015, zp=0)
    b.op("MEAN", [y8, ax], [y9], "ReducerOptions", KeepDims=True)
    sh = b.tensor("reshape/s", [2], INT32, data=np.array([1, 16], np.int32))
    y10 = b.tensor("flat", [1, 16], INT8, scale=0.015, zp=0)
    b.op("RESHAPE", [y9, sh], [y10])
    w11 = b.tensor("fc/w", [10, 16], INT8, data=rand_i8(rng, (10, 16), 0.5), scale=0.01, zp=0)
    b11 = b.tensor("fc/b", [10], INT32, data=rng.integers(-300, 300, 10).astype(np.int32))
    y11 = b.tensor("fc", [1, 10], INT8, scale=0.03, zp=5)
    b.op("FULLY_CONNECTED", [y10, w11, b11], [y11], "FullyConnectedOptions",
         FusedActivationFunction=NONE)
    y12 = b.tensor("softmax", [1, 10], INT8, scale=1 / 256, zp=-128)
    b.op("SOFTMAX", [y11], [y12], "SoftmaxOptions", Beta=1.0)
    out = b.tensor("output", [1, 10], FLOAT32)
    b.op("DEQUANTIZE", [y12], [out])
    return b.build([x], [out])


def sub_concat_net(rng, act=NONE) -> bytes:
    """int8 in -> SUB (a broadcast constant of another scale, fused `act`) ->
    1x1 MAX_POOL -> CONCATENATION of both -> TRANSPOSE -> SQUEEZE -> int8 out."""
    b = TFLiteBuilder()
    x = b.tensor("x", [1, 4, 3, 5], INT8, scale=0.04, zp=-3)
    c = b.tensor("c", [1, 1, 1, 5], INT8, data=rng.integers(-128, 128, (1, 1, 1, 5))
                 .astype(np.int8), scale=0.09, zp=6)
    d = b.tensor("d", [1, 4, 3, 5], INT8, scale=0.07, zp=2)
    b.op("SUB", [x, c], [d], "SubOptions", FusedActivationFunction=act)
    e = b.tensor("e", [1, 4, 3, 5], INT8, scale=0.07, zp=2)
    b.op("MAX_POOL_2D", [d], [e], "Pool2DOptions", Padding=SAME, StrideW=1, StrideH=1,
         FilterWidth=1, FilterHeight=1)
    j = b.tensor("j", [1, 4, 3, 10], INT8, scale=0.07, zp=2)
    b.op("CONCATENATION", [d, e], [j], "ConcatenationOptions", Axis=-1)
    perm = b.tensor("perm", [4], INT32, data=np.array([0, 3, 1, 2], np.int32))
    t = b.tensor("t", [1, 10, 4, 3], INT8, scale=0.07, zp=2)
    b.op("TRANSPOSE", [j, perm], [t], "TransposeOptions")
    y = b.tensor("y", [10, 4, 3], INT8, scale=0.07, zp=2)
    b.op("SQUEEZE", [t], [y], "SqueezeOptions")   # every axis of size 1
    return b.build([x], [y])


def inverted_residual(rng, hw=10, channels=8, expand=6, stride=1, sparsity=0.8) -> bytes:
    """MobileNetV2's block, int8: CONV 1x1 expand (RELU6) -> DEPTHWISE 3x3 (SAME, RELU6)
    -> CONV 1x1 project -> ADD(residual, stride 1 only). The chain partial execution
    cuts along the channels * expand hidden channels; the 1x1 weights pruned."""
    b = TFLiteBuilder()
    hidden, out_hw = channels * expand, -(-hw // stride)
    x = b.tensor("x", [1, hw, hw, channels], INT8, scale=0.05, zp=-3)

    def conv(name, inp, cin, cout, act, shape_hw):
        w = b.tensor(f"{name}/w", [cout, 1, 1, cin], INT8,
                     data=rand_i8(rng, (cout, 1, 1, cin), sparsity),
                     scale=rng.uniform(0.002, 0.02, cout), zp=[0] * cout)
        bias = b.tensor(f"{name}/b", [cout], INT32,
                        data=rng.integers(-800, 800, cout).astype(np.int32))
        y = b.tensor(name, [1, shape_hw, shape_hw, cout], INT8, scale=6 / 255 if act else 0.1,
                     zp=-128 if act else 2)
        b.op("CONV_2D", [inp, w, bias], [y], "Conv2DOptions", Padding=VALID, StrideW=1,
             StrideH=1, FusedActivationFunction=act)
        return y

    e = conv("expand", x, channels, hidden, RELU6, hw)
    wd = b.tensor("dw/w", [1, 3, 3, hidden], INT8, data=rand_i8(rng, (1, 3, 3, hidden)),
                  scale=rng.uniform(0.002, 0.02, hidden), zp=[0] * hidden, qdim=3)
    bd = b.tensor("dw/b", [hidden], INT32, data=rng.integers(-500, 500, hidden).astype(np.int32))
    d = b.tensor("dw", [1, out_hw, out_hw, hidden], INT8, scale=6 / 255, zp=-128)
    b.op("DEPTHWISE_CONV_2D", [e, wd, bd], [d], "DepthwiseConv2DOptions", Padding=SAME,
         StrideW=stride, StrideH=stride, DepthMultiplier=1, FusedActivationFunction=RELU6)
    p = conv("project", d, hidden, channels, NONE, out_hw)
    if stride != 1:
        return b.build([x], [p])
    y = b.tensor("add", [1, hw, hw, channels], INT8, scale=0.12, zp=1)
    b.op("ADD", [p, x], [y], "AddOptions", FusedActivationFunction=NONE)
    return b.build([x], [y])
