"""mcusparse.prune_model / `mcusparse prune`: pruned .tflite files that the
compiler runs bit-exact against LiteRT, and clear errors for what it cannot take."""
import hashlib

import numpy as np
import pytest

import models  # noqa: F401  (test helpers: models.onnx_builder)
import mcusparse
from models.onnx_builder import float_cnn, ort_quantize, qlinear_net, uint8_qlinear_net
from mcusparse.cli import main as cli
from mcusparse.compiler.reference import Reference, random_inputs
from mcusparse.frontend.tflite import import_tflite
from mcusparse.models import bundled
from mcusparse.prune_model import PruneError, prune_model

DENSE = bundled("digits_dense.tflite")


def weights(path):
    return {layer.name: layer.weight for layer in import_tflite(str(path)).layers}


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def compile_bit_exact(path, tmp_path, target="cortex-m55"):
    """The model compiled with auto layouts; its outputs equal the reference's."""
    cm = mcusparse.compile(path, target=target, format="auto", out_dir=tmp_path / "c",
                           progress=False)
    ref = Reference(str(path))
    for seed in range(2):
        xs = random_inputs(cm.inputs, seed)
        for got, want in zip(cm.run(*xs).outputs, ref(*xs)):
            np.testing.assert_array_equal(got, want)
    return cm


def test_nm_pattern_and_only_weight_bytes_change(tmp_path):
    before = sha(DENSE)
    out = tmp_path / "nm.tflite"
    report = prune_model(DENSE, out, "nm:1:8", keep_first=True, progress=False)
    assert sha(DENSE) == before, "the input model changed"
    old, new = weights(DENSE), weights(out)
    assert list(old) == list(new)
    first, *rest = list(old)
    np.testing.assert_array_equal(new[first], old[first])           # --keep-first
    assert [layer.skipped for layer in report.layers][0].startswith("first layer")
    for name in rest:
        W = new[name]
        blocks = (W.reshape(W.shape[0], -1, 8) != 0).sum(-1)
        assert blocks.max() <= 1, name                               # 1 of every 8
        kept = W != 0
        np.testing.assert_array_equal(W[kept], old[name][kept])      # survivors unchanged
    raw_old, raw_new = open(DENSE, "rb").read(), open(out, "rb").read()
    assert len(raw_old) == len(raw_new)
    changed = sum(a != b for a, b in zip(raw_old, raw_new))
    zeroed = sum(int(((old[n] != 0) & (new[n] == 0)).sum()) for n in rest)
    assert changed == zeroed                                         # weight bytes only


@pytest.mark.parametrize("pattern,check", [
    ("magnitude:0.9", lambda W: np.mean(W == 0) > 0.8999),     # to rounding
    ("gs:16:0.75", lambda W: np.mean(W == 0) >= 0.7),
])
def test_other_patterns(tmp_path, pattern, check):
    out = tmp_path / "p.tflite"
    report = prune_model(DENSE, out, pattern, progress=False)
    new = weights(out)
    assert report.pruned and all(check(new[layer.name]) for layer in report.pruned)


def test_pruned_model_compiles_bit_exact_on_rv32(tmp_path):
    """auto takes an N:M layout where it pays, and the result equals LiteRT's."""
    out = tmp_path / "nm.tflite"
    prune_model(DENSE, out, "nm:1:8", keep_first=True, progress=False)
    cm = compile_bit_exact(out, tmp_path, target="rv32imc")
    assert any(layer["format"].startswith("nm:") for layer in cm.report["layers"])


def test_layers_selection_and_skips(tmp_path):
    names = list(weights(DENSE))
    report = prune_model(DENSE, tmp_path / "a.tflite", "nm:1:16", layers=[names[-1]],
                         progress=False)
    done = {layer.name: layer.skipped for layer in report.layers}
    assert done[names[-1]] == "" and all(done[n] == "not selected" for n in names[:-1])
    # conv1's 9 columns are no multiple of 16: left as it is, with the reason.
    report = prune_model(DENSE, tmp_path / "b.tflite", "nm:1:16", progress=False)
    assert "multiple of m=16" in report.layers[0].skipped


@pytest.mark.parametrize("pattern,message", [
    ("nm:9:8", "pattern 'nm:9:8'"),
    ("magnitude:1.5", "pattern 'magnitude:1.5'"),
    ("csr:0.9", "unknown pruning pattern"),
])
def test_bad_patterns(tmp_path, pattern, message):
    with pytest.raises(PruneError, match=message):
        prune_model(DENSE, tmp_path / "x.tflite", pattern, progress=False)


def test_bad_inputs(tmp_path):
    copy = tmp_path / "in.tflite"
    copy.write_bytes(open(DENSE, "rb").read())
    with pytest.raises(PruneError, match="overwrite the input"):
        prune_model(copy, copy, "nm:1:8", progress=False)
    with pytest.raises(PruneError, match="no prunable .* named nope"):
        prune_model(DENSE, tmp_path / "o.tflite", "nm:1:8", layers=["nope"], progress=False)
    with pytest.raises(PruneError, match="must be a .tflite model like the input"):
        prune_model(DENSE, tmp_path / "o.onnx", "nm:1:8", progress=False)
    (tmp_path / "junk.tflite").write_bytes(b"not a model at all")
    with pytest.raises(PruneError, match="TFL3"):
        prune_model(tmp_path / "junk.tflite", tmp_path / "o.tflite", "nm:1:8", progress=False)
    truncated = tmp_path / "cut.tflite"
    truncated.write_bytes(open(DENSE, "rb").read()[:600])
    with pytest.raises(PruneError, match="cut.tflite"):
        prune_model(truncated, tmp_path / "o.tflite", "nm:1:8", progress=False)
    with pytest.raises(PruneError, match="No such file"):
        prune_model(tmp_path / "missing.tflite", tmp_path / "o.tflite", "nm:1:8",
                    progress=False)
    (tmp_path / "cut.onnx").write_bytes(qlinear_net(np.random.default_rng(0))[:300])
    with pytest.raises(PruneError, match="not a readable ONNX model"):
        prune_model(tmp_path / "cut.onnx", tmp_path / "o.onnx", "nm:1:8", progress=False)
    assert not (tmp_path / "o.tflite").exists() and not (tmp_path / "o.onnx").exists()


def onnx_weights(path):
    from onnx import numpy_helper
    import onnx
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}


def test_onnx_qoperator(tmp_path):
    """QLinearConv [O, I, kh, kw] is pruned as the O x (kh*kw*I) matrix the
    compiler packs, QLinearMatMul's B [K, N] as its transpose."""
    src, out = tmp_path / "q.onnx", tmp_path / "q_pruned.onnx"
    src.write_bytes(qlinear_net(np.random.default_rng(0)))
    report = prune_model(src, out, "nm:1:2", progress=False)
    assert [layer.op for layer in report.pruned] == ["QLinearConv", "QLinearMatMul"]
    old, new = onnx_weights(src), onnx_weights(out)
    conv = new["w"].transpose(0, 2, 3, 1).reshape(6, -1)
    assert ((conv.reshape(6, -1, 2) != 0).sum(-1) <= 1).all()
    assert ((new["b"].T.reshape(5, -1, 2) != 0).sum(-1) <= 1).all()
    for k in old:
        if k not in ("w", "b"):
            np.testing.assert_array_equal(new[k], old[k])
    compile_bit_exact(out, tmp_path)


def test_onnx_qdq_and_skips(tmp_path):
    """onnxruntime's QDQ output (DequantizeLinear of int8 -> Conv / Gemm) is
    pruned; uint8 weights are skipped with the reason."""
    path = ort_quantize(float_cnn(np.random.default_rng(0)), tmp_path, unsigned=False)
    report = prune_model(path, tmp_path / "qdq.onnx", "magnitude:0.8", progress=False)
    assert len(report.pruned) >= 2 and all(l.sparsity_after >= 0.79 for l in report.pruned)
    compile_bit_exact(tmp_path / "qdq.onnx", tmp_path, target="rv32imc")
    u8 = tmp_path / "u8.onnx"
    u8.write_bytes(uint8_qlinear_net(np.random.default_rng(0)))
    report = prune_model(u8, tmp_path / "u8_pruned.onnx", "magnitude:0.5", progress=False)
    skipped = {l.op: l.skipped for l in report.layers}
    assert skipped["QLinearConv"] == "" and "uint8 weights" in skipped["QLinearMatMul"]


def test_cli(tmp_path, capsys):
    out = tmp_path / "cli.tflite"
    assert cli(["prune", str(DENSE), "--pattern", "nm:2:8", "--keep-first", "-q",
                "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "4 of 5 layers pruned" in text and "first layer kept dense" in text
    assert cli(["prune", str(DENSE), "--pattern", "bogus", "-o", str(out)]) == 1
    assert "unknown pruning pattern" in capsys.readouterr().err
