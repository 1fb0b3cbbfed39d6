"""The bundled digits models (models/digits_*.tflite, made by mcusparse.models.digits).

They load in LiteRT and in the front end, each weight layer has the zero
fraction models/README.md states, LiteRT's reference kernels classify the
bundled test set well, the front end's host run is bit-exact with LiteRT, and
the generator reproduces the files (the weights byte for byte only on CPUs
whose float32 matmul rounds alike).
"""
import re
from pathlib import Path

import numpy as np
import pytest
import tflite

from mcusparse import hostrun, prune
from mcusparse.frontend import import_model
from mcusparse.frontend.tflite import import_tflite
from mcusparse.models import bundled, digits

litert = pytest.importorskip("ai_edge_litert.interpreter")

MODELS = Path(__file__).resolve().parents[2] / "models"
FILES = {0.0: "digits_dense.tflite", 0.8: "digits_sparse80.tflite",
         0.9: "digits_sparse90.tflite"}
NM_FILE = "digits_nm1_8.tflite"          # 1 of every 8 weights along a row
MIN_ACCURACY = 0.95
# out x (kh*kw*in) weight matrix of each layer, in graph order.
MATRICES = {"conv1": (8, 9), "conv2": (16, 72), "fc1": (128, 256), "fc2": (64, 128),
            "fc3": (10, 64)}


@pytest.fixture(scope="module")
def test_set():
    with np.load(MODELS / "digits_test.npz") as z:
        return z["x"], z["y"]


from models.litert import reference  # noqa: E402


def expected_zeros(layer, sparsity):
    rows, cols = MATRICES[layer]
    if layer in digits.DENSE_LAYERS or sparsity == 0:
        return None
    return prune.round_half_up(sparsity * rows * cols)


def test_files_present_and_small():
    for name in list(FILES.values()) + [NM_FILE, "digits_test.npz", "README.md"]:
        path = MODELS / name
        assert path.is_file(), f"{path} missing: run python -m mcusparse.models.digits --out models/"
        assert path.stat().st_size < 100_000, f"{name}: {path.stat().st_size} bytes"
    assert bundled("digits_sparse90.tflite").is_file()
    assert bundled().name == "digits_sparse90.tflite"


def test_test_set_shape(test_set):
    x, y = test_set
    assert x.dtype == np.float32 and x.shape[1:] == (1, 8, 8, 1) and 100 <= len(x) <= 300
    assert y.shape == (len(x),) and set(np.unique(y)) == set(range(10))
    assert x.min() >= 0 and x.max() <= 1


@pytest.mark.parametrize("sparsity", sorted(FILES))
def test_structure_and_sparsity(sparsity):
    path = MODELS / FILES[sparsity]
    model = import_model(path)
    assert model.inputs[0].shape == (1, 8, 8, 1) and model.inputs[0].dtype == np.float32
    assert model.outputs[0].shape == (1, 10) and model.outputs[0].dtype == np.float32
    assert [l.op for l in model.layers] == ["CONV_2D", "CONV_2D", "FULLY_CONNECTED",
                                           "FULLY_CONNECTED", "FULLY_CONNECTED"]
    assert [l.matrix_shape for l in model.layers] == list(MATRICES.values())
    raw = path.read_bytes()
    m = tflite.Model.GetRootAs(raw, 0)
    ops = {m.OperatorCodes(i).BuiltinCode() for i in range(m.OperatorCodesLength())}
    B = tflite.BuiltinOperator
    assert ops == {B.QUANTIZE, B.CONV_2D, B.RESHAPE, B.FULLY_CONNECTED, B.DEQUANTIZE}
    # per-channel symmetric int8 weights
    g = m.Subgraphs(0)
    for i in range(g.TensorsLength()):
        t = g.Tensors(i)
        if t.Name().decode().endswith("/weights"):
            q = t.Quantization()
            assert t.Type() == tflite.TensorType.INT8
            assert q.ScaleLength() == t.Shape(0) and not q.ZeroPointAsNumpy().any()
    zeros = digits.int8_layer_sparsity(raw)
    assert list(zeros) == list(MATRICES)
    for layer, info in zip(MATRICES, model.layers):
        n = int(np.count_nonzero(info.weight == 0))
        assert n / info.weight.size == pytest.approx(zeros[layer])
        want = expected_zeros(layer, sparsity)
        if want is None:
            assert n / info.weight.size <= 0.02, f"{layer}: {n} zeros in a dense layer"
        else:
            assert n == want, f"{layer}: {n} zeros, expected {want}"


def test_nm_model_structure():
    """Every pruned layer keeps at most 1 of each 8 consecutive weights along a
    row (exactly 87.5 % zeros), conv1 stays dense, and the network is the same."""
    path = MODELS / NM_FILE
    model, dense = import_model(path), import_model(MODELS / FILES[0.0])
    assert [(l.op, l.matrix_shape) for l in model.layers] == \
        [(l.op, l.matrix_shape) for l in dense.layers]
    for info in model.layers:
        W = info.weight
        if info.name in digits.DENSE_LAYERS:
            assert np.count_nonzero(W == 0) / W.size <= 0.02
            continue
        blocks = (W.reshape(W.shape[0], -1, 8) != 0).sum(-1)
        assert (blocks == 1).all(), info.name


def test_readme_states_the_sparsity():
    text = (MODELS / "README.md").read_text()
    for sparsity, name in list(FILES.items()) + [(0.875, NM_FILE)]:
        row = re.search(rf"^\| {re.escape(name)} \|(.*)$", text, re.M)
        assert row, f"README.md has no row for {name}"
        cells = [c.strip() for c in row.group(1).split("|")]
        assert cells[0] == str((MODELS / name).stat().st_size)
        stated = [float(c.rstrip(" %")) / 100 for c in cells[3:3 + len(MATRICES)]]
        actual = digits.int8_layer_sparsity(MODELS / name)
        assert stated == pytest.approx(list(actual.values()), abs=5e-5), name


@pytest.mark.parametrize("name", sorted(FILES.values()) + [NM_FILE])
def test_litert_accuracy(name, test_set):
    x, y = test_set
    logits = digits.litert_logits(MODELS / name, x)
    acc = float((logits.argmax(1) == y).mean())
    assert acc >= MIN_ACCURACY, f"{name}: int8 accuracy {acc:.3f}"


@pytest.mark.parametrize("sparsity", [0.0, 0.9])
def test_host_run_bit_exact(sparsity, test_set):
    path = MODELS / FILES[sparsity]
    x, _ = test_set
    run = hostrun.compile(import_model(path).mlir)
    it = reference(path)
    i_idx, o_idx = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    for xi in x[:60]:
        it.set_tensor(i_idx, xi)
        it.invoke()
        want = it.get_tensor(o_idx)
        got = run(xi)[0]
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()


def test_host_run_bit_exact_every_layer(test_set):
    """Every intermediate int8 tensor of the 90 % model equals LiteRT's."""
    path = MODELS / FILES[0.9]
    g = tflite.Model.GetRootAs(path.read_bytes(), 0).Subgraphs(0)
    outs = [int(g.Operators(i).Outputs(0)) for i in range(g.OperatorsLength())]
    model = import_tflite(path, outs)
    order = [int(o) for o in g.OutputsAsNumpy()]
    order += [o for o in outs if o not in order]
    run = hostrun.compile(model.mlir)
    it = reference(path, preserve=True)
    x, _ = test_set
    for xi in x[:5]:
        it.set_tensor(it.get_input_details()[0]["index"], xi)
        it.invoke()
        got = run(xi)
        for k, i in enumerate(order):
            want = it.get_tensor(i)
            assert np.array_equal(got[k], want), g.Tensors(i).Name().decode()


def test_generator_reproduces_files(tmp_path, test_set):
    """The same seed gives the same test set and README (accuracies aside),
    and models with the same structure, size and zeros per layer that
    classify as well. The weights are byte-identical only where numpy's
    float32 matmul rounds the same way (its BLAS kernels differ between
    CPUs, e.g. AVX2 and AVX-512), so they are not compared here."""
    pytest.importorskip("sklearn")
    digits.generate(tmp_path, seed=0, log=lambda *_: None)
    name = "digits_test.npz"
    assert (tmp_path / name).read_bytes() == (MODELS / name).read_bytes(), name
    accuracies = re.compile(r"(?<![\d.])\d+\.\d %")
    new, old = ((d / "README.md").read_text() for d in (tmp_path, MODELS))
    assert accuracies.sub("x %", new) == accuracies.sub("x %", old), "README.md"
    x, y = test_set
    for name in list(FILES.values()) + [NM_FILE]:
        new, old = (tmp_path / name).read_bytes(), (MODELS / name).read_bytes()
        assert len(new) == len(old), name
        assert digits.int8_layer_sparsity(new) == digits.int8_layer_sparsity(old), name
        a, b = import_model(tmp_path / name), import_model(MODELS / name)
        assert [(l.name, l.op, l.weight_shape) for l in a.layers] == \
            [(l.name, l.op, l.weight_shape) for l in b.layers], name
        acc = float((digits.litert_logits(tmp_path / name, x).argmax(1) == y).mean())
        assert acc >= MIN_ACCURACY, f"regenerated {name}: int8 accuracy {acc:.3f}"
