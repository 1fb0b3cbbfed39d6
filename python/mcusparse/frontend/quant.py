"""TFLite fixed-point requantisation, as TFLite's reference kernels do it.

The constants (multiplier, shift) are computed here at import time exactly as
TFLite computes them at `Prepare` time; the run-time arithmetic is emitted as
MLIR by `emit.py` and mirrored here in numpy (`multiply_by_quantized_multiplier`)
so tests can check the two against each other and against LiteRT.

Conventions (TFLite's): `shift` is a left-shift exponent: positive shifts
left before the high multiply, negative divides by a power of two after it,
rounding half away from zero (`RoundingDivideByPOT`).
"""
from __future__ import annotations

import math

import numpy as np

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier: real ~= q * 2**(shift - 31), q in [2^30, 2^31)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    # TfLiteRound: std::round, half away from zero.
    q_fixed = int(math.floor(abs(q) * (1 << 31) + 0.5)) * (1 if q >= 0 else -1)
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    if shift > 30:
        shift, q_fixed = 30, (1 << 31) - 1
    return q_fixed, shift


def quantize_multipliers(reals) -> tuple[np.ndarray, np.ndarray]:
    pairs = [quantize_multiplier(float(r)) for r in np.ravel(reals)]
    return (np.array([p[0] for p in pairs], np.int64),
            np.array([p[1] for p in pairs], np.int64))


def saturating_rounding_doubling_high_mul(a, b):
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    s = ab + nudge
    # C++ division truncates toward zero.
    q = np.where(s >= 0, s // (1 << 31), -((-s) // (1 << 31)))
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    return np.where(overflow, INT32_MAX, q).astype(np.int64)


def rounding_divide_by_pot(x, exponent):
    x = np.asarray(x, np.int64)
    exponent = np.asarray(exponent, np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def wrap_i32(x):
    x = np.asarray(x, np.int64)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


# Rounding of MultiplyByQuantizedMultiplier: "double" is gemmlowp's
# SaturatingRoundingDoublingHighMul followed by RoundingDivideByPOT (TFLite's
# default build); "single" is x * m / 2^(31 - shift) rounded once, half away
# from zero: (x * m - (x * m < 0) + 2^(30 - shift)) >> (31 - shift). Measured
# against ai-edge-litert 2.3.0's reference kernels: CONV_2D, DEPTHWISE_CONV_2D,
# ADD, MUL agree with "double"; FULLY_CONNECTED agrees only with "single" (its
# outputs differ by one with "double", and on negative ties with half-up
# single rounding). The importer picks the mode per operator (ROUNDING_OF).
ROUNDING = "double"
ROUNDING_OF = {"FULLY_CONNECTED": "single"}


def multiply_by_quantized_multiplier(x, multiplier, shift, rounding: str | None = None):
    """TFLite MultiplyByQuantizedMultiplier in the build's rounding mode."""
    if (rounding or ROUNDING) == "single":
        total = 31 - np.asarray(shift, np.int64)
        prod = np.asarray(x, np.int64) * np.asarray(multiplier, np.int64)
        return (prod - (prod < 0) + (np.int64(1) << (total - 1))) >> total
    shift = np.asarray(shift, np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    shifted = wrap_i32(np.asarray(x, np.int64) << left)
    return rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(shifted, multiplier), right)


def single_rounding_fits_i32(multiplier, shift) -> bool:
    """Whether "single" rounding of x * multiplier can run in 32-bit ops
    (emit.py `single_rounding_i32`): every right shift -shift in 1..31 (the
    total shift 31 - shift in 32..62), and no multiplier INT32_MIN (the one
    factor whose product with INT32_MIN leaves 32 bits after the doubling)."""
    m = np.asarray(multiplier, np.int64)
    s = np.asarray(shift, np.int64)
    return bool(np.all((s <= -1) & (s >= -31)) and np.all(m != INT32_MIN))


def tflite_round(x):
    """std::round: half away from zero."""
    x = np.asarray(x)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def activation_range(activation: str, scale: float, zero_point: int,
                     qmin: int = -128, qmax: int = 127) -> tuple[int, int]:
    """CalculateActivationRangeQuantized: fused RELU/RELU6/RELU_N1_TO_1 as clamps."""
    def q(f):
        return zero_point + int(tflite_round(np.float32(f) / np.float32(scale)))
    if activation in ("NONE", None):
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, q(0.0)), qmax
    if activation == "RELU6":
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    if activation == "RELU_N1_TO_1":
        return max(qmin, q(-1.0)), min(qmax, q(1.0))
    raise ValueError(f"unsupported fused activation {activation}")


def add_params(s1: float, s2: float, so: float, left_shift: int = 20):
    """TFLite int8 ADD: per-input multipliers after a left shift of 20."""
    twice_max = 2.0 * float(max(np.float32(s1), np.float32(s2)))
    m1, sh1 = quantize_multiplier(float(s1) / twice_max)
    m2, sh2 = quantize_multiplier(float(s2) / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * float(so)))
    return (m1, sh1), (m2, sh2), (mo, sho)


def softmax_table(input_scale: float, beta: float) -> np.ndarray:
    """TFLite PopulateSoftmaxLookupTable: table[255 - v] = expf(-scale*beta*v)."""
    scale = np.float32(-np.float32(input_scale) * np.float32(beta))
    vals = np.arange(256, dtype=np.float32)
    arg = (scale * vals).astype(np.float32)
    table = np.empty(256, np.float32)
    table[255 - np.arange(256)] = np.exp(arg.astype(np.float64)).astype(np.float32)
    return table
