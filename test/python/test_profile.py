"""Per-operator profiles (mcusparse.compiler.profile, `mcusparse profile`): every
executed instruction, modeled cycle and weight byte of a model's run is charged
to one row, the rows name the source operators, and the line tables that make
this possible leave the code unchanged."""
import json
import subprocess

import numpy as np
import pytest

import models  # noqa: F401  (test helpers: models.onnx_builder)
import mcusparse
from mcusparse import compiler
from mcusparse.cli import main as cli
from mcusparse.compiler import profile
from mcusparse.frontend import import_model
from mcusparse.models import bundled
from mcusparse.targets.toolchain import llvm_tool

DIGITS = bundled("digits_sparse90.tflite")


def check_totals(p):
    """The rows add up to the run's own counts."""
    assert p.instructions == p.run.instructions
    assert sum(r.weight_bytes for r in p.rows) == pytest.approx(p.run.weight_bytes_read)
    assert sum(r.core_cycles for r in p.rows) == pytest.approx(p.run.core_cycles, abs=1)


@pytest.fixture(scope="module")
def digits_m55(tmp_path_factory):
    out = tmp_path_factory.mktemp("profile") / "digits"
    mcusparse.compile(DIGITS, target="cortex-m55", format="auto", out_dir=out, progress=False)
    return out


def test_digits_profile_names_every_layer(digits_m55):
    p = profile.profile(digits_m55)
    check_totals(p)
    assert p.attributed > 0.9
    report = compiler.load(digits_m55).report
    rows = {r.index: r for r in p.rows if r.index >= 0}
    for layer in report["layers"]:
        row = rows[layer["operator"]]
        assert row.op == layer["op"] and row.format == layer["format"]
        assert row.instructions > 0
    # The fully connected layers stream their weights; the dequantisation reads none.
    fc = [r for r in p.rows if r.op == "FULLY_CONNECTED"]
    assert all(r.weight_bytes > 0 for r in fc)
    assert rows[7].op == "DEQUANTIZE" and rows[7].weight_bytes == 0
    # Code outside the model function has rows of its own (memset of the
    # accumulators), with the operators that called it.
    assert any(r.label == "memset" for r in p.rows)
    called = [r for r in p.rows if r.index < 0 and r.callers]
    assert any(label in rows_by_label(p) and rows_by_label(p)[label].index >= 0
               for r in called for label in r.callers)


def rows_by_label(p):
    return {r.label: r for r in p.rows}


def test_profile_cli_writes_json_and_plot(digits_m55, tmp_path, capsys):
    assert cli(["profile", str(digits_m55), "--json", str(tmp_path / "p.json"),
                "--plot", str(tmp_path / "p.png")]) == 0
    text = capsys.readouterr().out
    assert "| 4 FULLY_CONNECTED | csr:8 |" in text and "charged to an operator" in text
    data = json.loads((tmp_path / "p.json").read_text())
    assert sum(r["instructions"] for r in data["operators"]) == data["instructions"]
    assert (tmp_path / "p.png").stat().st_size > 10_000


def test_profile_of_a_report_without_operator_lines(digits_m55, tmp_path, capsys):
    """A model compiled before profiles existed: a clear error, not a wrong table."""
    import shutil
    out = tmp_path / "old"
    shutil.copytree(digits_m55, out)
    report = json.loads((out / "report.json").read_text())
    del report["operators"]
    (out / "report.json").write_text(json.dumps(report))
    assert cli(["profile", str(out)]) == 1
    assert "no operator line spans" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["cortex-m55", "rv32imc", "rv32gcv"])
def test_onnx_profile_on_every_target(tmp_path, target):
    """ONNX node indices, the input and output conversions, and RISC-V line tables."""
    from models.onnx_builder import uint8_qlinear_net
    path = tmp_path / "u8.onnx"
    path.write_bytes(uint8_qlinear_net(np.random.default_rng(0), float_input=False))
    mcusparse.compile(path, target=target, format="auto", out_dir=tmp_path / "out",
                      progress=False)
    p = profile.profile(tmp_path / "out")
    check_totals(p)
    ops = [r.op for r in p.rows if r.index >= 0]
    assert ops[:2] == ["QLinearConv", "MaxPool"] and "QLinearMatMul" in ops
    assert any(r.label == "(inputs)" for r in p.rows)   # the uint8 input's flip
    if target == "rv32imc":
        # No FPU: the float requantisation calls the soft-float library, from
        # the convolution's and the matmul's rows.
        soft = [r for r in p.rows if r.label.startswith("__") and r.label.endswith("sf3")]
        assert soft and any(k.endswith("QLinearConv") for r in soft for k in r.callers)


def test_operator_spans_cover_the_module_in_order():
    m = import_model(DIGITS)
    lines = m.mlir.splitlines()
    spans = m.operators
    assert [s.index for s in spans] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert spans[0].first_line == 3 and lines[spans[-1].last_line].strip().startswith("return")
    for a, b in zip(spans, spans[1:]):
        assert a.last_line + 1 == b.first_line
    # Each weight layer's tagged constant lies in its operator's lines.
    for layer_no, layer in enumerate(m.layers):
        span = next(s for s in spans if s.index == layer.index)
        tag = f"{{mcusparse.layer = {layer_no} : i64}}"
        at = next(i + 1 for i, line in enumerate(lines) if tag in line)
        assert span.first_line <= at <= span.last_line


@pytest.mark.parametrize("target", ["cortex-m55", "rv32imc"])
def test_line_tables_change_no_code(tmp_path, target):
    """model.o with and without the line table: the same instructions."""
    from mcusparse.compiler import with_layouts
    from mcusparse.compiler.layouts import choose_layouts
    m = import_model(DIGITS)
    text = with_layouts(m.mlir, choose_layouts(m, target, "csr", progress=False))
    listings = []
    for tables in (True, False):
        work = tmp_path / str(tables)
        work.mkdir()
        compiler.lower_to_object(text, target, work, "digits", line_tables=tables)
        objdump = llvm_tool("llvm-objdump") if target == "cortex-m55" else "llvm-objdump-19"
        listing = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(work / "model.o")],
                                 capture_output=True, text=True, check=True).stdout
        listings.append(listing.split("\n", 2)[2])       # without the file name
        has_lines = "debug_line" in subprocess.run(
            [llvm_tool("llvm-readelf"), "-S", str(work / "model.o")],
            capture_output=True, text=True, check=True).stdout
        assert has_lines == tables
    assert listings[0] == listings[1]


def test_profile_against_another_build(digits_m55, tmp_path, capsys):
    """--against: the dense and the sparse build side by side, per operator."""
    dense = tmp_path / "dense"
    mcusparse.compile(DIGITS, target="cortex-m55", format="dense", out_dir=dense,
                      progress=False)
    assert cli(["profile", str(digits_m55), "--against", str(dense),
                "--plot", str(tmp_path / "both.png"), "--json", str(tmp_path / "b.json")]) == 0
    text = capsys.readouterr().out
    assert "A = dense" in text and "| 4 FULLY_CONNECTED | dense / csr:8 |" in text
    builds = json.loads((tmp_path / "b.json").read_text())["builds"]
    fc = [next(r for r in b["operators"] if r["label"] == "4 FULLY_CONNECTED") for b in builds]
    assert [r["format"] for r in fc] == ["dense", "csr:8"]
    assert (tmp_path / "both.png").stat().st_size > 10_000


def test_profiles_of_different_models_do_not_compare(digits_m55, tmp_path):
    from models.onnx_builder import uint8_qlinear_net
    path = tmp_path / "u8.onnx"
    path.write_bytes(uint8_qlinear_net(np.random.default_rng(0), float_input=False))
    mcusparse.compile(path, target="cortex-m55", format="dense", out_dir=tmp_path / "u8",
                      progress=False)
    with pytest.raises(profile.ProfileError, match="different models"):
        profile.format_comparison(profile.profile(tmp_path / "u8"), profile.profile(digits_m55))
