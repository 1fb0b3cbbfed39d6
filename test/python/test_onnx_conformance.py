"""ONNX backend node tests (shipped with the onnx package) through the ONNX front
end and the host JIT (mcusparse.conformance).

Every node test whose graph uses only supported operators runs twice:

- as shipped (`test_node`), where weights, Clip bounds, Reshape shapes, scales and
  zero points are graph inputs;
- with those parameter inputs bound as initializers holding the test's values
  (`test_node_bound`), as they are in a deployed model; only for the operators
  that have parameter inputs (conformance.PARAM_INPUTS).

A test not listed in UNSUPPORTED / BOUND_UNSUPPORTED must pass: every output equal
to onnx's expected output (integers exactly, floats within conformance.RTOL/ATOL).
A listed one must raise FrontendError with the given message: each is something
the front end deliberately does not support (docs/frontends.md, "ONNX
conformance"). There are no expected failures.
"""
import json
import os

import numpy as np
import pytest

import models  # noqa: F401  (makes mcusparse.frontend importable from a stale editable install)
from mcusparse.frontend import FrontendError, import_model

pytest.importorskip("onnx")
from mcusparse import conformance  # noqa: E402

TESTS = conformance.discover()
BY_NAME = {t.name: t for t in TESTS}

_TYPE = "has unsupported type {} (supported: float, uint8, int8, int16, int32, int64)"
_POOL3D = "only 1-D and 2-D {} is supported (input of rank 5)"
_QTYPES = ["e4m3fn", "e5m2", "float4e2m1", "int16", "int2", "int4", "uint16", "uint2", "uint4"]
_QNAMES = {"e4m3fn": "float8e4m3fn", "e5m2": "float8e5m2"}           # ONNX type names
_ZP_DTYPES = {"e4m3fn": "float8_e4m3fn", "e5m2": "float8_e5m2",        # numpy (ml_dtypes)
              "float4e2m1": "float4_e2m1fn"}
_CONST = "{} '{}' must be a constant initializer"
# Quantized element types other than int8 / uint8, as graph inputs.
_QTYPE_INPUTS = {
    **{f"test_dequantizelinear_{t}": "input 'x' " + _TYPE.format(_QNAMES.get(t, t))
       for t in _QTYPES if t != "int16"},
    "test_dequantizelinear_e4m3fn_float16": "input 'x' " + _TYPE.format("float8e4m3fn"),
    "test_dequantizelinear_e4m3fn_zero_point": "input 'x' " + _TYPE.format("float8e4m3fn"),
}

# As shipped: test name -> the FrontendError's message (a substring).
UNSUPPORTED = {
    # element types other than float32, uint8, int8, int16, int32, int64
    **{f"test_{op}_{t}": "input 'x' " + _TYPE.format(t) for op in ("add", "sub", "mul", "div")
       for t in ("uint16", "uint32", "uint64")},
    **{f"test_identity_{k}": f"is not a tensor ({k}ional_type" if k == "opt" else
       f"is not a tensor ({k}_type" for k in ("opt", "sequence")},
    **_QTYPE_INPUTS,
    **{f"test_quantizelinear_{t}": "input 'y_zero_point' " + _TYPE.format(_QNAMES.get(t, t))
       for t in _QTYPES if t != "int16"},
    **{f"test_qlinearmatmul_{d}_{u}int8_float16": "input 'a_scale' " + _TYPE.format("float16")
       for d in ("2D", "3D") for u in ("", "u")},
    "test_quantizelinear_blocked_symmetric": "int16 outputs are not supported (int8 or uint8)",
    # parameters fed as graph inputs, where the front end needs constants
    "test_qlinearconv": _CONST.format("zero point", "x_zero_point"),
    **{f"test_dequantizelinear{s}": _CONST.format("zero point", "x_zero_point")
       for s in ("", "_axis", "_blocked", "_int16")},
    **{f"test_quantizelinear{s}": _CONST.format("scale", "y_scale")
       for s in ("", "_axis", "_blocked_asymmetric", "_int16")},
    **{f"test_qlinearmatmul_{d}_{u}int8_float32": _CONST.format("zero point", "a_zero_point")
       for d in ("2D", "3D") for u in ("", "u")},
    **{f"test_reshape_{s}": "shape 'shape' must be a constant initializer"
       for s in ("extended_dims", "negative_dim", "negative_extended_dims", "one_dim",
                 "reduced_dims", "reordered_all_dims", "reordered_last_dims",
                 "zero_and_negative_dim", "zero_dim")},
    "test_reshape_allowzero_reordered": "input 'data' is empty",
    **{f"test_{t}": "axes 'axes' must be a constant initializer"
       for t in ("squeeze", "squeeze_negative_axes",
                 *(f"unsqueeze_{s}" for s in ("axis_0", "axis_1", "axis_2", "negative_axes",
                                             "three_axes", "two_axes", "unsorted_axes")))},
    **{f"test_batchnorm_{s}": "BatchNormalization parameter 's' must be a constant initializer"
       for s in ("epsilon", "example")},
    **{f"test_constant_pad{s}": "pads 'pads' must be a constant initializer"
       for s in ("", "_axes", "_negative_axes")},
    **{f"test_reduce_mean_{s}": "axes 'axes' must be a constant initializer"
       for s in ("do_not_keepdims_example", "do_not_keepdims_random", "keepdims_example",
                 "keepdims_random", "negative_axes_keepdims_example",
                 "negative_axes_keepdims_random")},
    **{f"test_reduce_mean_default_axes_keepdims_{s}": "input 'axes' is empty"
       for s in ("example", "random")},
    # training-mode BatchNormalization, Pad modes other than constant
    **{f"test_batchnorm_{s}_training_mode": "training mode (running mean / var outputs) is "
       "not supported" for s in ("epsilon", "example")},
    **{f"test_{m}_pad": f"mode '{m}' is not supported (constant only)"
       for m in ("edge", "reflect", "wrap")},
    **{f"test_slice{s}": "Slice parameter 'starts' must be a constant initializer"
       for s in ("", "_default_axes", "_default_steps", "_end_out_of_bounds", "_neg",
                 "_neg_steps", "_negative_axes", "_start_out_of_bounds")},
    # 3-D pooling, MaxPool's Indices output
    **{f"test_averagepool_3d_{s}": _POOL3D.format("AveragePool")
       for s in ("default", "dilations_small",
                 *(f"dilations_large_count_include_pad_is_{c}_ceil_mode_is_{m}"
                   for c in (0, 1) for m in (True, False)))},
    **{f"test_maxpool_3d_{s}": _POOL3D.format("MaxPool")
       for s in ("default", "dilations", "dilations_use_ref_impl",
                 "dilations_use_ref_impl_large")},
    **{f"test_maxpool_with_argmax_2d_precomputed_{s}": "the Indices output is not supported"
       for s in ("pads", "strides")},
}

# With parameter inputs bound: what changes (Reshape, uint8 QuantizeLinear and
# DequantizeLinear pass; the others get as far as their next limitation).
BOUND_UNSUPPORTED = {
    **{k: v for k, v in UNSUPPORTED.items()
       if not k.startswith(("test_reshape_", "test_quantizelinear", "test_qlinear",
                            "test_dequantizelinear", "test_squeeze", "test_unsqueeze",
                            "test_slice", "test_batchnorm_epsilon", "test_batchnorm_example",
                            "test_constant_pad", "test_reduce_mean"))},
    **{f"test_batchnorm_{s}_training_mode": "training mode (running mean / var outputs) is "
       "not supported" for s in ("epsilon", "example")},
    "test_slice_neg_steps": "Slice with a negative step of a computed tensor is not supported",
    **_QTYPE_INPUTS,
    "test_reshape_allowzero_reordered": "input 'data' is empty",
    **{f"test_{q}{s}": f"per-axis or blocked {Q} of an activation is not supported"
       for q, Q in (("quantizelinear", "QuantizeLinear"), ("dequantizelinear", "DequantizeLinear"))
       for s in ("_axis", "_blocked_asymmetric" if q == "quantizelinear" else "_blocked")},
    **{f"test_quantizelinear_{t}": f"{_ZP_DTYPES.get(t, t)} zero point 'y_zero_point' is "
       "not supported (int8 or uint8)" for t in _QTYPES},
    "test_quantizelinear_blocked_symmetric": "int16 outputs are not supported (int8 or uint8)",
    "test_dequantizelinear_int16": "int16 zero point 'x_zero_point' is not supported (int8 or uint8)",
    # weights whose zero point is not 0 (int8) or 128 (uint8), and float16 scales
    "test_qlinearconv": "weight less its zero point does not fit int8",
    **{f"test_qlinearmatmul_{d}_{u}int8_float16":
       "float16 scale 'a_scale' is not supported (float32 only)"
       for d in ("2D", "3D") for u in ("", "u")},
    **{f"test_qlinearmatmul_{d}_{u}int8_float32": "B less its zero point does not fit int8"
       for d in ("2D", "3D") for u in ("", "u")},
}

BOUND_TESTS = [t for t in TESTS if t.op in conformance.PARAM_INPUTS]


def _ids(tests):
    return [t.name for t in tests]


def test_discovery():
    assert len(TESTS) >= 150, len(TESTS)
    assert {t.op for t in TESTS} >= set(conformance._supported()) - {"Constant"}
    # the lists name real tests (a rename in a newer onnx shows up here)
    assert set(UNSUPPORTED) <= set(BY_NAME), set(UNSUPPORTED) - set(BY_NAME)
    assert set(BOUND_UNSUPPORTED) <= set(BY_NAME), set(BOUND_UNSUPPORTED) - set(BY_NAME)


@pytest.mark.parametrize("test", TESTS, ids=_ids(TESTS))
def test_node(test):
    expected = UNSUPPORTED.get(test.name)
    if expected is not None:
        with pytest.raises(FrontendError) as e:
            import_model(os.path.join(test.path, "model.onnx"))
        assert expected in str(e.value)
        return
    r = conformance.run_test(test)
    assert r.status == "pass", r.detail


@pytest.mark.parametrize("test", BOUND_TESTS, ids=_ids(BOUND_TESTS))
def test_node_bound(test, tmp_path):
    expected = BOUND_UNSUPPORTED.get(test.name)
    if expected is not None:
        path, _ = conformance.bind_parameters(test, str(tmp_path))
        with pytest.raises(FrontendError) as e:
            import_model(path)
        assert expected in str(e.value)
        return
    r = conformance.run_test(test, bind_params=True)
    assert r.status == "pass", r.detail


def test_compare():
    f = np.array([1.0, np.nan, 3.0], np.float32)
    assert conformance.compare(f, f.copy()) == ""
    assert conformance.compare(f + np.float32(1e-6), f) == ""
    assert "1/3 elements differ" in conformance.compare(f * np.float32([1, 1, 1.001]), f)
    assert "shape" in conformance.compare(f[:2], f)
    assert "dtype" in conformance.compare(f.astype(np.float64), f)
    i = np.array([1, 2], np.int8)
    assert "1/2 elements differ" in conformance.compare(i + np.int8([0, 1]), i)


def test_main_table_and_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert conformance.main(["onnx", "-k", "gemm", "--no-progress", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split() == ["op", "pass", "fail", "unsupported", "error",
                                            "total"]
    assert any(line.split()[:2] == ["Gemm", "11"] for line in text.splitlines())
    data = json.loads(out.read_text())
    assert data["counts"] == {"pass": 11} and len(data["results"]) == 11
    assert {r["status"] for r in data["results"]} == {"pass"}
