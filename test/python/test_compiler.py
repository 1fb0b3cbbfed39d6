"""Whole models through `mcusparse.compile` / `run` / `compare` and the CLI, on the
emulators, against the reference interpreters (LiteRT reference kernels,
onnxruntime). The bundled digits models keep this fast and independent of
../shared; docs/benchmarks.md has the large models."""
import json
import shutil
import subprocess

import numpy as np
import pytest

import models  # noqa: F401  (test helpers: models.onnx_builder)
import mcusparse
from mcusparse import compiler
from mcusparse.cli import main as cli
from mcusparse.compiler.compare import compare, format_table, sparse_layer_share
from mcusparse.compiler.reference import Reference
from mcusparse.models import bundled

DIGITS = bundled("digits_sparse90.tflite")


@pytest.fixture(scope="module")
def digits():
    with np.load(bundled("digits_test.npz")) as z:
        return z["x"][:3], z["y"][:3]


@pytest.fixture(scope="module")
def reference():
    return Reference(DIGITS)


def check_bit_exact(cm, xs, reference):
    for x in xs:
        res = cm.run(x)
        np.testing.assert_array_equal(res.outputs[0], reference(x)[0])
    return res


@pytest.mark.parametrize("target,fmt", [
    ("cortex-m55", "dense"), ("cortex-m55", "csr"), ("cortex-m55", "dcsr"),
    ("cortex-m55", "gs:16"), ("cortex-m55", "dcsr:16:8"), ("rv32imc", "csr"),
    ("rv32imc", "gs:4"), ("rv32gcv", "dcsr:16:8"),
    ("rv32gcv", "dense"), ("rv32gcv", "gs:8")])
def test_digits_bit_exact_on_every_target(tmp_path, digits, reference, target, fmt):
    cm = mcusparse.compile(DIGITS, target=target, format=fmt, out_dir=tmp_path / "out",
                           progress=False)
    res = check_bit_exact(cm, digits[0], reference)
    assert res.instructions > 0 and res.weight_bytes_read > 0
    assert all(l["format"].startswith(fmt.split(":")[0]) for l in cm.report["layers"])


def test_auto_output_directory_and_report(tmp_path, digits, reference):
    out = tmp_path / "out"
    cm = mcusparse.compile(DIGITS, target="cortex-m55", format="auto", out_dir=out,
                           progress=False)
    for f in ("00-imported.mlir", "01-layouts.mlir", "02-llvm.mlir", "model.ll", "model.o",
              "model.h", "report.json"):
        assert (out / f).is_file(), f
    rep = json.loads((out / "report.json").read_text())
    assert rep == cm.report
    t = rep["totals"]
    assert t["peak_sram_bytes"] == t["arena_bytes"] + t["io_bytes"]
    assert t["flash_bytes"] == t["weights_section_bytes"] + t["text_bytes"] + t["rodata_bytes"]
    assert rep["placement"] == {"weights": "SRAM2 0x21000000",
                                "arena": "DTCM 0x20000000 (.bss)"}
    assert len(rep["layers"]) == 5 and all(l["macs"] > 0 for l in rep["layers"])
    # auto measured every candidate and kept the cheapest
    fc1 = rep["layers"][2]
    assert fc1["format"] == min(fc1["costs"], key=fc1["costs"].get)
    assert "mcusparse_model(" in (out / "model.h").read_text()
    assert "sparse_enc" not in (out / "02-llvm.mlir").read_text()
    check_bit_exact(compiler.load(out), digits[0][:1], reference)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs a host C compiler")
def test_model_header_compiles_in_c89_c99_and_cpp(tmp_path):
    # model.h declares the entry point with restrict buffers (the model is
    # compiled with llvm.noalias on them): `restrict` from C99, `__restrict`
    # in C++ and C89.
    cm = mcusparse.compile(DIGITS, target="cortex-m55", format="dense",
                           out_dir=tmp_path / "out", progress=False)
    header = (tmp_path / "out" / "model.h").read_text()
    assert "*MCUSPARSE_RESTRICT in0" in header and "*MCUSPARSE_RESTRICT out0" in header
    src = tmp_path / "use.c"
    src.write_text('#include "model.h"\nvoid (*entry)(void) = (void (*)(void))mcusparse_model;\n')
    for cmd in (["gcc", "-std=c89", "-pedantic-errors"], ["gcc", "-std=c99", "-pedantic-errors"],
                ["g++", "-x", "c++", "-std=c++11"]):
        if shutil.which(cmd[0]) is None:
            continue
        proc = subprocess.run(cmd + ["-Wall", "-Werror", "-I", str(tmp_path / "out"), "-c",
                                     str(src), "-o", str(tmp_path / "use.o")],
                              capture_output=True, text=True)
        assert proc.returncode == 0, (cmd, proc.stderr)


def test_compare_table(tmp_path, digits):
    xs, ys = digits
    r = compare(DIGITS, "cortex-m55", "csr", inputs=[[x] for x in xs], labels=ys,
                out_root=tmp_path, progress=False)
    for col in ("dense", "sparse"):
        assert r[col]["differing_elements"] == 0 and r[col]["max_abs_diff"] == 0
        assert r[col]["top1_agreement"] == "3/3"
    assert r["sparse"]["weight_bytes_read"] < r["dense"]["weight_bytes_read"]
    assert r["sparse"]["flash_bytes"] < r["dense"]["flash_bytes"]
    assert r["sparse_layers"] is None          # explicit format: layers not measured
    assert "differing output elements" in format_table(r)


def test_sparse_layer_share():
    """The Amdahl summary of `compare`: only layers `auto` measured and made sparse count."""
    layers = [{"format": "dense", "costs": {"dense": 500, "csr": 900}},
              {"format": "csr:8", "costs": {"dense": 300, "csr:8": 100}},
              {"format": "dcsr:16:8", "costs": {"dense": 200, "dcsr:16:8": 100}},
              {"format": "dense"},                        # depthwise: not measured
              {"format": "csr"}]                          # explicit format: no costs
    s = sparse_layer_share({"layers": layers}, 1000)
    assert s["layers"] == 2 and s["dense_cycles"] == 500 and s["sparse_cycles"] == 200
    assert s["share_of_dense_model"] == 0.5 and s["layer_speedup"] == 2.5
    assert s["bound_if_free"] == 2.0
    assert sparse_layer_share({"layers": layers[:1] + layers[3:]}, 1000) is None
    assert sparse_layer_share({"layers": layers}, 400)["bound_if_free"] is None


def test_cli_compile_and_run(tmp_path, digits, capsys):
    out = tmp_path / "out"
    assert cli(["compile", str(DIGITS), "--target", "cortex-m55", "--format", "csr",
                "-o", str(out), "-q"]) == 0
    assert "peak SRAM" in capsys.readouterr().out
    np.save(tmp_path / "x.npy", digits[0][0])
    assert cli(["run", str(out), "--input", str(tmp_path / "x.npy"),
                "--save", str(tmp_path / "y.npz")]) == 0
    text = capsys.readouterr().out
    assert "instructions" in text and "weight bytes read" in text
    with np.load(tmp_path / "y.npz") as z:
        np.testing.assert_array_equal(z["arr_0"], Reference(DIGITS)(digits[0][0])[0])


@pytest.mark.parametrize("target", ["cortex-m55", "rv32imc", "rv32gcv"])
def test_onnx_qlinear_model_on_the_emulators(tmp_path, target):
    from models.onnx_builder import qlinear_net
    path = tmp_path / "q.onnx"
    path.write_bytes(qlinear_net(np.random.default_rng(0)))
    cm = mcusparse.compile(path, target=target, format="csr", out_dir=tmp_path / "out",
                           progress=False)
    ref = Reference(path)
    x = np.random.default_rng(1).standard_normal(cm.inputs[0].shape).astype(np.float32)
    np.testing.assert_array_equal(cm.run(x).outputs[0], ref(x)[0])


@pytest.mark.parametrize("target", ["cortex-m55", "rv32imc", "rv32gcv"])
def test_onnx_uint8_model_on_the_emulators(tmp_path, target):
    """uint8 in, uint8 out (int8 carriers inside), per-layer auto formats; the
    float requantisation's round-half-to-even without libm on RISC-V."""
    from models.onnx_builder import uint8_qlinear_net
    path = tmp_path / "u8.onnx"
    path.write_bytes(uint8_qlinear_net(np.random.default_rng(0), float_input=False))
    cm = mcusparse.compile(path, target=target, format="auto", out_dir=tmp_path / "out",
                           progress=False)
    assert cm.inputs[0].dtype == "uint8" and cm.outputs[0].dtype == "uint8"
    ref = Reference(path)
    rng = np.random.default_rng(1)
    for _ in range(2):
        x = rng.integers(0, 256, cm.inputs[0].shape).astype(np.uint8)
        np.testing.assert_array_equal(cm.run(x).outputs[0], ref(x)[0])


@pytest.mark.parametrize("target", ["cortex-m55", "rv32imc", "rv32gcv"])
def test_ort_qoperator_model_on_the_emulators(tmp_path, target):
    """onnxruntime's QOperator format (QLinearConv, QLinearAdd, QLinearMul,
    QLinearGlobalAveragePool, QGemm), uint8 activations: bit-exact."""
    from models.onnx_builder import float_residual, ort_quantize
    path = ort_quantize(float_residual(np.random.default_rng(0)), tmp_path, unsigned=True,
                        qoperator=True)
    cm = mcusparse.compile(path, target=target, format="auto", out_dir=tmp_path / "out",
                           progress=False)
    ref = Reference(path)
    rng = np.random.default_rng(1)
    for _ in range(2):
        x = (rng.standard_normal(cm.inputs[0].shape) * 3).astype(np.float32)
        np.testing.assert_array_equal(cm.run(x).outputs[0], ref(x)[0])


def test_pruned_model_quantized_by_onnxruntime_gets_a_sparse_layer(tmp_path):
    """Prune in float, quantize with onnxruntime (QDQ), compile with auto: the
    pruned layer is an int8 sparse layer (float32 before QDQ fusion)."""
    from models.onnx_builder import ort_quantize, pruned_mlp
    path = ort_quantize(pruned_mlp(np.random.default_rng(0)), tmp_path, unsigned=True)
    cm = mcusparse.compile(path, target="cortex-m55", format="auto", out_dir=tmp_path / "out",
                           progress=False)
    first = cm.report["layers"][0]
    assert first["dense_bytes"] == 128 * 64 and first["sparsity"] > 0.89
    assert first["format"] != "dense" and first["bytes"] < first["dense_bytes"] / 3
    x = np.random.default_rng(1).standard_normal((1, 64)).astype(np.float32)
    np.testing.assert_array_equal(cm.run(x).outputs[0], Reference(path)(x)[0])


@pytest.mark.parametrize("target", ["cortex-m55", "rv32imc", "rv32gcv"])
def test_onnx_float_branches_on_the_emulators(tmp_path, target):
    """BatchNormalization, PRelu, HardSwish, Pad, Sigmoid, Tanh (libm expf /
    tanhf), Concat, Sub, Div, Transpose, Unsqueeze, Squeeze, Identity on the
    MCU targets, against onnxruntime."""
    from models.onnx_builder import float_branches
    path = tmp_path / "branches.onnx"
    path.write_bytes(float_branches(np.random.default_rng(0)))
    cm = mcusparse.compile(path, target=target, format="dense", out_dir=tmp_path / "out",
                           progress=False)
    x = np.random.default_rng(1).standard_normal(cm.inputs[0].shape).astype(np.float32)
    np.testing.assert_allclose(cm.run(x).outputs[0], Reference(path)(x)[0], rtol=1e-5,
                               atol=1e-6)


def test_ort_qdq_model_int8_on_cortex_m55(tmp_path):
    """An onnxruntime-quantized QDQ model (uint8 activations) compiles to int8
    layers (weights 1 byte each, not float32) and runs bit-exact."""
    from models.onnx_builder import float_layers, ort_quantize
    path = ort_quantize(float_layers(np.random.default_rng(0)), tmp_path, unsigned=True)
    cm = mcusparse.compile(path, target="cortex-m55", format="auto", out_dir=tmp_path / "out",
                           progress=False)
    layers = cm.report["layers"]
    assert sum(l["dense_bytes"] for l in layers) == 8 * 27 + 8 * 9 + 16 * 48 + 10 * 16
    ref = Reference(path)
    rng = np.random.default_rng(1)
    for _ in range(2):
        x = rng.standard_normal(cm.inputs[0].shape).astype(np.float32)
        np.testing.assert_array_equal(cm.run(x).outputs[0], ref(x)[0])


@pytest.mark.parametrize("target", ["cortex-m55", "rv32imc", "rv32gcv"])
def test_tflite_sub_concat_transpose_on_the_emulators(tmp_path, target):
    from models.tflite_builder import RELU, sub_concat_net
    path = tmp_path / "sub.tflite"
    path.write_bytes(sub_concat_net(np.random.default_rng(0), RELU))
    cm = mcusparse.compile(path, target=target, format="dense", out_dir=tmp_path / "out",
                           progress=False)
    ref = Reference(path)
    rng = np.random.default_rng(1)
    for _ in range(2):
        x = rng.integers(-128, 128, cm.inputs[0].shape).astype(np.int8)
        np.testing.assert_array_equal(cm.run(x).outputs[0], ref(x)[0])


@pytest.mark.parametrize("target", ["cortex-m55", "rv32imc"])
def test_requantisation_ties_bit_exact(tmp_path, target):
    """A 1x1 convolution whose per-channel multipliers (1/2, 1/4, 3/8, 1/8, 3/4, 1/16)
    put every odd accumulator on a rounding tie of SaturatingRoundingDoublingHighMul and
    of RoundingDivideByPOT, over every int8 input: cortex-m55 runs them as vqrdmulh /
    vrshl (sparse-enc-fixed-point-to-mve), rv32imc as the front end's 32-bit arith."""
    from models.tflite_builder import INT8, INT32, TFLiteBuilder
    scales = [0.5, 0.25, 0.375, 0.125, 0.75, 0.0625]
    b = TFLiteBuilder()
    x = b.tensor("x", [1, 16, 16, 1], INT8, scale=1.0, zp=0)
    w = b.tensor("w", [6, 1, 1, 1], INT8, data=np.ones((6, 1, 1, 1), np.int8),
                 scale=scales, zp=[0] * 6)
    bias = b.tensor("b", [6], INT32, data=np.array([0, 1, -1, 3, 0, -5], np.int32))
    y = b.tensor("y", [1, 16, 16, 6], INT8, scale=1.0, zp=0)
    b.op("CONV_2D", [x, w, bias], [y], "Conv2DOptions", Padding=1, StrideW=1, StrideH=1)
    path = tmp_path / "ties.tflite"
    path.write_bytes(b.build([x], [y]))
    cm = mcusparse.compile(path, target=target, format="dense", out_dir=tmp_path / "out",
                           progress=False)
    xs = np.arange(-128, 128, dtype=np.int8).reshape(1, 16, 16, 1)
    got, want = cm.run(xs).outputs[0], Reference(path)(xs)[0]
    np.testing.assert_array_equal(got, want)
    assert np.unique(want[..., 0]).size > 100  # the outputs do span the range


@pytest.mark.parametrize("target", ["cortex-m55", "rv32imc"])
@pytest.mark.parametrize("scale,i32_ops", [
    (0.25, True), (0.375 / 64, True), (0.75, False),
    ([0.25, 0.125, 0.375, 1 / 6, 0.0625, 0.3, 0.4375, 0.01, 0.25, 0.125], True)])
def test_fully_connected_single_rounding_bit_exact(tmp_path, target, scale, i32_ops):
    """FULLY_CONNECTED requantises with single rounding: acc * m / 2^s rounded once,
    half away from zero. Scales below 1/2 (s >= 32) run in 32-bit ops (cortex-m55:
    vqdmulh / vrshl), others in i64; the scales put many accumulators on rounding ties
    (acc * 1/4, acc * 3/512); the last case is per channel (tables of multipliers and
    shifts). 10 outputs: two full vectors of 4 and a masked tail on cortex-m55."""
    from models.tflite_builder import INT8, INT32, TFLiteBuilder
    rng = np.random.default_rng(int(np.ravel(scale)[0] * 4096))
    b = TFLiteBuilder()
    x = b.tensor("x", [1, 12], INT8, scale=1.0, zp=0)
    zp = [0] * 10 if isinstance(scale, list) else 0
    w = b.tensor("w", [10, 12], INT8, data=rng.integers(-1, 2, (10, 12)).astype(np.int8),
                 scale=scale, zp=zp)
    bias = b.tensor("b", [10], INT32, data=rng.integers(-9, 10, 10).astype(np.int32),
                    scale=scale, zp=zp)
    y = b.tensor("y", [1, 10], INT8, scale=1.0, zp=3)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], "FullyConnectedOptions",
         FusedActivationFunction=0)
    path = tmp_path / "fc.tflite"
    path.write_bytes(b.build([x], [y]))
    cm = mcusparse.compile(path, target=target, format="dense", out_dir=tmp_path / "out",
                           progress=False)
    imported = (tmp_path / "out" / "00-imported.mlir").read_text()
    assert ("i32 to i64" not in imported) == i32_ops  # the i64 product
    xs = [rng.integers(-128, 128, (1, 12)).astype(np.int8) for _ in range(6)]
    check_bit_exact(cm, xs, Reference(path))


@pytest.mark.parametrize("cin,k,stride,dil,padding,hw", [
    (1, (3, 3), 1, 1, 1, (8, 8)),     # sparse-enc-vectorize-im2col: a row of 8 pixels, 72 taps
    (8, (3, 3), 2, 1, 1, (9, 9)),     # one pixel's 72 taps per block, stride 2
    (1, (10, 4), 2, 1, 0, (49, 10)),  # DS-CNN's first layer (40 taps, SAME)
    (3, (3, 3), 1, 2, 1, (9, 8)),     # dilation 2, a pixel's 27 taps
    (4, (5, 5), 1, 1, 0, (7, 7)),     # 100 taps: a 16-lane tail of 4
    (40, (3, 3), 1, 1, 1, (5, 5)),    # 360 taps: offsets beyond 8 bits, left to the loops
])
def test_convolution_im2col_bit_exact_on_cortex_m55(tmp_path, cin, k, stride, dil, padding,
                                                    hw):
    """int8 convolutions whose im2col copies become byte gathers on cortex-m55
    (sparse-enc-vectorize-im2col), every output against LiteRT."""
    from models.tflite_builder import INT8, INT32, TFLiteBuilder
    rng = np.random.default_rng(cin * 100 + k[0] * 10 + stride + dil)
    h, w = hw
    cout = 8
    kh, kw = k
    if padding == 0:  # SAME
        oh, ow = -(-h // stride), -(-w // stride)
    else:
        oh, ow = (h - dil * (kh - 1) - 1) // stride + 1, (w - dil * (kw - 1) - 1) // stride + 1
    b = TFLiteBuilder()
    x = b.tensor("x", [1, h, w, cin], INT8, scale=0.05, zp=-3)
    wt = b.tensor("w", [cout, kh, kw, cin], INT8,
                  data=rng.integers(-127, 128, (cout, kh, kw, cin)).astype(np.int8),
                  scale=rng.uniform(0.002, 0.01, cout), zp=[0] * cout)
    bias = b.tensor("b", [cout], INT32, data=rng.integers(-500, 500, cout).astype(np.int32))
    y = b.tensor("y", [1, oh, ow, cout], INT8, scale=0.1, zp=4)
    b.op("CONV_2D", [x, wt, bias], [y], "Conv2DOptions", Padding=padding, StrideW=stride,
         StrideH=stride, DilationWFactor=dil, DilationHFactor=dil)
    path = tmp_path / "conv.tflite"
    path.write_bytes(b.build([x], [y]))
    cm = mcusparse.compile(path, target="cortex-m55", format="dense", out_dir=tmp_path / "out",
                           progress=False)
    xs = [rng.integers(-128, 128, (1, h, w, cin)).astype(np.int8) for _ in range(2)]
    check_bit_exact(cm, xs, Reference(path))


@pytest.mark.parametrize("channels,mult,stride,dil,k", [
    (16, 1, 1, 1, 3),   # sparse-enc-vectorize-depthwise: 2 blocks of 8 channels (int16 lanes)
    (8, 1, 2, 1, 3),    # stride 2
    (4, 1, 1, 2, 2),    # dilation 2, 2x2 taps, a block of 4 channels (int32 lanes)
    (12, 1, 1, 1, 5),   # 25 taps, a block of 8 and one of 4
    (6, 1, 1, 1, 3),    # 6 channels: left to the loops
    (4, 2, 1, 1, 3),    # channel multiplier 2: left to the loops
    (96, 1, 1, 1, 3),   # 96+ channels: a loop over channel blocks per pixel,
    (104, 1, 2, 1, 3),  #   weights re-laid out [block][tap][8]; stride 2
    (96, 1, 1, 2, 3),   #   dilation 2
    (100, 1, 1, 1, 3),  #   and the last 4 channels as a block of 4
])
def test_depthwise_bit_exact_on_cortex_m55(tmp_path, channels, mult, stride, dil, k):
    from models.tflite_builder import INT8, INT32, SAME, TFLiteBuilder
    rng = np.random.default_rng(channels * 7 + stride + dil + k)
    b = TFLiteBuilder()
    h, w, cm = 11, 9, channels * mult
    oh, ow = -(-h // stride), -(-w // stride)
    x = b.tensor("x", [1, h, w, channels], INT8, scale=0.05, zp=-3)
    wt = b.tensor("w", [1, k, k, cm], INT8, data=rng.integers(-127, 128, (1, k, k, cm))
                  .astype(np.int8), scale=rng.uniform(0.002, 0.02, cm), zp=[0] * cm, qdim=3)
    bias = b.tensor("b", [cm], INT32, data=rng.integers(-800, 800, cm).astype(np.int32))
    y = b.tensor("y", [1, oh, ow, cm], INT8, scale=0.1, zp=4)
    b.op("DEPTHWISE_CONV_2D", [x, wt, bias], [y], "DepthwiseConv2DOptions", Padding=SAME,
         StrideW=stride, StrideH=stride, DepthMultiplier=mult, DilationWFactor=dil,
         DilationHFactor=dil)
    path = tmp_path / "dw.tflite"
    path.write_bytes(b.build([x], [y]))
    cm_ = mcusparse.compile(path, target="cortex-m55", format="dense", out_dir=tmp_path / "out",
                            progress=False)
    ref = Reference(path)
    for _ in range(2):
        xs = rng.integers(-128, 128, (1, h, w, channels)).astype(np.int8)
        np.testing.assert_array_equal(cm_.run(xs).outputs[0], ref(xs)[0])


# --- errors: a clear message, exit status 1, nothing written -----------------------------

def test_errors_are_clear_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(DIGITS.read_bytes()[:300])            # truncated
    cases = [
        (["compile", str(bad), "-o", str(out)], "bad.tflite"),
        (["compile", str(tmp_path / "missing.tflite"), "-o", str(out)], "missing.tflite"),
        (["compile", str(DIGITS), "--format", "nm:1:8", "-o", str(out), "-q"], "does not fit"),
        (["compile", str(DIGITS), "--format", "dcsr:8", "-o", str(out), "-q"],
         "does not fit: #sparse_enc.dcsr<group = 8> on tensor<8x9xi8>"),
        (["compile", str(DIGITS), "--format", "bogus", "-o", str(out), "-q"],
         "unknown format 'bogus'"),
        (["run", str(tmp_path)], "no compiled model"),
    ]
    for argv, words in cases:
        assert cli(argv) == 1, argv
        err = capsys.readouterr().err
        assert "error" in err and words in err, (argv, err)
        assert "Traceback" not in err
        assert not out.exists()


def test_run_and_profile_overwrite_none_of_their_inputs(tmp_path, digits, capsys):
    out = tmp_path / "out"
    assert cli(["compile", str(DIGITS), "--target", "cortex-m55", "--format", "csr",
                "-o", str(out), "-q"]) == 0
    x = tmp_path / "x.npz"
    np.savez(x, digits[0][0])
    data = tmp_path / "data.npz"
    np.savez(data, x=digits[0][0], y=np.zeros(3))      # not an output file of --save
    corrupt = tmp_path / "corrupt.npy"
    corrupt.write_bytes(b"\x93NUMPY not really")
    kept = {p: p.read_bytes() for p in (x, data, out / "report.json", out / "model.o")}
    capsys.readouterr()
    cases = [
        (["run", str(out), "--input", str(x), "--save", str(x)], "the --input file"),
        (["run", str(out), "--save", str(data)], "not an earlier --save output"),
        (["run", str(out), "--input", str(corrupt)], "not a readable .npy / .npz file"),
        (["run", str(out), "--input", str(tmp_path / "missing.npy")], "no such file"),
        (["profile", str(out), "--json", str(out / "report.json")], "an input"),
        (["profile", str(out), "--plot", str(out / "model.o")], "an input"),
    ]
    for argv, words in cases:
        assert cli(argv) == 1, argv
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, (argv, err)
    assert all(p.read_bytes() == b for p, b in kept.items())
    # An earlier --save output is replaced; new files may go next to the model.
    y = out / "y.npz"
    for _ in range(2):
        assert cli(["run", str(out), "--input", str(x), "--save", str(y)]) == 0
    assert cli(["profile", str(out), "--input", str(x), "--json", str(out / "p.json")]) == 0
    with np.load(y) as z:
        assert z.files == ["arr_0"]


def test_refuses_to_overwrite_other_directories(tmp_path):
    keep = tmp_path / "notes"
    keep.mkdir()
    (keep / "mine.txt").write_text("do not delete")
    with pytest.raises(compiler.CompileError, match="not overwriting"):
        mcusparse.compile(DIGITS, target="cortex-m55", format="dense", out_dir=keep,
                          progress=False)
    assert (keep / "mine.txt").read_text() == "do not delete"
    assert [p.name for p in keep.iterdir()] == ["mine.txt"]


def test_refuses_to_overwrite_a_file_before_any_work(tmp_path):
    """`-o model.tflite` (the input itself) is refused at once."""
    model = tmp_path / "model.tflite"
    model.write_bytes(DIGITS.read_bytes())
    with pytest.raises(compiler.CompileError, match="is not a directory"):
        mcusparse.compile(model, target="cortex-m55", format="auto", out_dir=model,
                          progress=False, log=lambda msg: pytest.fail(f"work started: {msg}"))
    assert model.read_bytes() == DIGITS.read_bytes()


def test_wrong_input_shape_is_an_error(tmp_path):
    cm = mcusparse.compile(DIGITS, target="cortex-m55", format="dense", out_dir=tmp_path / "o",
                           progress=False)
    with pytest.raises(ValueError, match="shape"):
        cm.run(np.zeros((3, 3), np.float32))


def test_placement_limits():
    assert compiler.placement("cortex-m55", 1000, 500 << 10)["arena"].startswith("SRAM ")
    with pytest.raises(compiler.CompileError, match="weights take"):
        compiler.placement("cortex-m55", 5 << 20, 0)
    with pytest.raises(compiler.CompileError, match="arena needs"):
        compiler.placement("cortex-m55", 0, 3 << 20)


def test_layer_costs_depend_on_the_compiler(monkeypatch):
    """format="auto" caches measured layer costs; a rebuilt compiler or other
    target flags must not reuse them."""
    from mcusparse import kernels
    from mcusparse.compiler import layer_cost
    before = layer_cost._compiler("cortex-m55")
    assert "-align-loops=2" in before and "-replexitval=never" in before
    monkeypatch.setattr(kernels, "_compiler_id", lambda: "another-build")
    assert layer_cost._compiler("cortex-m55") != before


def test_auto_measures_dense_convolutions_as_compiled(monkeypatch):
    """On cortex-m55 a dense convolution runs the register-blocked kernel, so
    `auto` must cost dense (like CSR) on the whole layer, not as matvecs."""
    from mcusparse.compiler import layer_cost, layouts
    from mcusparse.frontend.model import LayerInfo
    rng = np.random.default_rng(2)
    W = rng.integers(-128, 128, (32, 48)).astype(np.int8)
    W[W == 0] = 1                                  # unpruned
    layer = LayerInfo(index=0, name="conv", op="CONV_2D", weight_shape=(32, 1, 1, 48),
                      matrix_shape=(32, 48), macs=32 * 48 * 20, weight_bytes=W.size,
                      sparsity=0.0, weight=W)
    whole = []
    real = layer_cost.measure_conv_layer
    monkeypatch.setattr(layer_cost, "measure_conv_layer",
                        lambda W, px, f, *a, **k: whole.append(f) or real(W, px, f, *a, **k))
    choice = layouts._choose_one(0, layer, "cortex-m55", "auto", 4)
    assert "dense" in whole and "csr" in whole
    assert choice.format == "dense"


def test_auto_needs_a_margin_without_flash_gain(monkeypatch):
    """A layout that stores no fewer bytes than dense (here 4-bit dCSR of an
    unpruned layer) must measure at least NO_FLASH_GAIN_MARGIN faster than
    dense; one that stores fewer bytes wins by any margin."""
    from mcusparse.compiler import layer_cost, layouts
    from mcusparse.frontend.model import LayerInfo

    def layer(W):
        o, k = W.shape
        return LayerInfo(index=0, name="conv", op="CONV_2D", weight_shape=(o, 1, 1, k),
                         matrix_shape=(o, k), macs=o * k * 64, weight_bytes=W.size,
                         sparsity=float((W == 0).mean()), weight=W)
    costs = {"dense": 1000, "dcsr": 990}
    monkeypatch.setattr(layouts, "candidates", lambda W, t, px: list(costs))
    monkeypatch.setattr(layer_cost, "measure_conv_layer",
                        lambda W, px, f, *a, **k: costs[f])
    unpruned = np.random.default_rng(3).integers(1, 128, (8, 9)).astype(np.int8)
    choice = layouts._choose_one(0, layer(unpruned), "rv32imc", "auto", 4)
    assert choice.format == "dense" and "no fewer bytes" in choice.reason
    costs["dcsr"] = 970
    assert layouts._choose_one(0, layer(unpruned), "rv32imc", "auto", 4).format == "dcsr:16"
    pruned = np.zeros((64, 64), np.int8)
    pruned[:, :4] = 1                              # dCSR stores fewer bytes
    costs["dcsr"] = 999
    assert layouts._choose_one(0, layer(pruned), "rv32imc", "auto", 4).format == "dcsr:16"


def test_dense_weights_once_model(tmp_path, digits, reference):
    """--dense-weights-once: per layer, the dense kernel with fewer measured
    modeled cycles. digits' second convolution (16 x 72 weights over 16 pixels)
    then reads its weights once instead of once per 3 pixels; the first (9
    columns) stays register-blocked; bit-exact."""
    builds = {}
    for once in (False, True):
        builds[once] = mcusparse.compile(bundled("digits_dense.tflite"), target="cortex-m55",
                                         format="dense", out_dir=tmp_path / str(once),
                                         dense_weights_once=once, progress=False)
    ref = Reference(bundled("digits_dense.tflite"))
    runs = {}
    for once, cm in builds.items():
        runs[once] = cm.run(digits[0][0])
        np.testing.assert_array_equal(runs[once].outputs[0], ref(digits[0][0])[0])
    assert builds[True].report["dense_weights_once"] is True
    once = {l["name"]: l.get("weights_once", False) for l in builds[True].report["layers"]}
    assert once["conv2"] and not once["conv1"]
    assert "sparse_enc.weights_once" in (tmp_path / "True" / "01-layouts.mlir").read_text()
    conv2_bytes = 16 * 72
    assert runs[False].weight_bytes_read - runs[True].weight_bytes_read >= 4 * conv2_bytes
    assert runs[True].modeled_cycles(4) < runs[False].modeled_cycles(4)
    with pytest.raises(ValueError, match="cortex-m55 only, not rv32imc"):
        mcusparse.compile(bundled("digits_dense.tflite"), target="rv32imc", format="dense",
                          out_dir=tmp_path / "rv", dense_weights_once=True, progress=False)


@pytest.mark.parametrize("target", ["cortex-m55", "rv32imc"])
def test_cse_csr_model_on_the_emulators(tmp_path, digits, target):
    """--format cse-csr: the Python search's buffers ride on each weight
    constant (sparse_enc.buffers), the packing pass checks them against the
    weights and takes them; outputs equal the reference interpreter's."""
    cm = mcusparse.compile(DIGITS, target=target, format="cse-csr", out_dir=tmp_path / "out",
                           progress=False)
    formats = {layer["format"] for layer in cm.report["layers"]}
    assert "cse-csr" in formats
    for x in digits[0][:2]:
        np.testing.assert_array_equal(cm.run(x).outputs[0], Reference(DIGITS)(x)[0])


def test_auto_takes_cse_csr_for_low_bit_weights_on_rv32imc():
    """Ternary weights: on rv32imc `auto` measures cse-csr and takes it
    (fewer instructions and bytes than CSR); full int8 weights do not make
    it a candidate, nor does another target."""
    from mcusparse.bench.cse import quantized_matrix
    from mcusparse.compiler import layouts
    from mcusparse.frontend.model import LayerInfo
    W = quantized_matrix(128, 128, 0.5, 1)
    layer = LayerInfo(index=0, name="fc", op="FULLY_CONNECTED", weight_shape=W.shape,
                      matrix_shape=W.shape, macs=W.size, weight_bytes=W.size,
                      sparsity=0.5, weight=W)
    choice = layouts._choose_one(0, layer, "rv32imc", "auto", 4)
    assert "cse-csr" in choice.costs and choice.format == "cse-csr", choice.costs
    assert choice.buffers is not None and choice.encoding.startswith("#sparse_enc.cse_csr")
    assert "cse-csr" not in layouts.candidates(W, "cortex-m55")
    assert "cse-csr" not in layouts.candidates(quantized_matrix(16, 16, 0.5, 127), "rv32imc")
    # No 4-bit dCSR on rv32imc (layouts.candidates), the byte deltas stay.
    assert "dcsr" not in choice.costs and "dcsr:16:8" in choice.costs


def test_nm_digits_model_takes_nm_layouts_on_rv32(tmp_path, digits):
    """The bundled 1:8 N:M model: auto takes N:M kernels on rv32imc, and the
    outputs equal LiteRT's."""
    path = bundled("digits_nm1_8.tflite")
    cm = mcusparse.compile(path, target="rv32imc", format="auto", out_dir=tmp_path / "nm",
                           progress=False)
    formats = [layer["format"] for layer in cm.report["layers"]]
    assert sum(f.startswith("nm:") for f in formats) >= 3, formats
    ref = Reference(path)
    x, _ = digits
    for xi in x:
        np.testing.assert_array_equal(cm.run(xi).outputs[0], ref(xi)[0])
