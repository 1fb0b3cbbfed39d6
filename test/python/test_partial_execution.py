"""Partial execution (sparse-enc-partial-execution, `--pex-peak-bytes`): operator
chains run in channel slices on the emulators, outputs equal to the reference
interpreter's, with a smaller activation arena than the whole chains."""
from __future__ import annotations

import numpy as np
import pytest

import mcusparse
from mcusparse.compiler.reference import Reference
from models.tflite_builder import inverted_residual

from test_frontend_tflite import SHARED


def compile_both(tmp_path, path, target, fmt, budget):
    whole = mcusparse.compile(path, target=target, format=fmt, out_dir=tmp_path / "whole",
                              progress=False)
    sliced = mcusparse.compile(path, target=target, format=fmt, out_dir=tmp_path / "pex",
                               pex_peak_bytes=budget, progress=False)
    return whole, sliced


@pytest.mark.parametrize("target,fmt,stride", [
    ("cortex-m55", "dense", 1), ("cortex-m55", "csr", 1), ("cortex-m55", "dcsr:16:8", 2),
    # kernels that read X through a raw pointer (row-resident CSR, batched
    # dCSR): the arena must keep X live while they run
    ("cortex-m55", "csr:8", 1), ("cortex-m55", "dcsr:16:8", 1),
    ("cortex-m55", "gs:16", 1), ("rv32imc", "dense", 1), ("rv32imc", "csr:8", 2),
    ("rv32gcv", "dense", 2), ("rv32gcv", "gs:8", 1)])
def test_inverted_residual_in_slices(tmp_path, target, fmt, stride):
    """48 hidden channels in slices of 8 (budget 1: as low as the chain goes); every
    slice's weights packed in the layer's format."""
    rng = np.random.default_rng(stride * 31 + len(fmt))
    path = tmp_path / "block.tflite"
    path.write_bytes(inverted_residual(rng, stride=stride))
    whole, sliced = compile_both(tmp_path, path, target, fmt, budget=1)
    assert sliced.report["pex_peak_bytes"] == 1
    assert sliced.report["totals"]["arena_bytes"] < whole.report["totals"]["arena_bytes"] / 2
    assert (tmp_path / "pex" / "01-layouts.mlir").read_text() == \
        (tmp_path / "whole" / "01-layouts.mlir").read_text()
    ref = Reference(path)
    for _ in range(2):
        x = rng.integers(-128, 128, (1, 10, 10, 8)).astype(np.int8)
        want = ref(x)[0]
        np.testing.assert_array_equal(sliced.run(x).outputs[0], want)
        np.testing.assert_array_equal(whole.run(x).outputs[0], want)


def test_budget_that_fits_changes_nothing(tmp_path):
    """A chain whose estimated peak fits the budget runs whole: same arena, same code."""
    path = tmp_path / "block.tflite"
    path.write_bytes(inverted_residual(np.random.default_rng(3)))
    whole, sliced = compile_both(tmp_path, path, "cortex-m55", "dense", budget=1 << 20)
    assert sliced.report["totals"] == whole.report["totals"]


def test_mobilenetv2_arena_a_third(tmp_path):
    """The Pex paper's model family: MobileNetV2 (96x96, CIFAR-10) on cortex-m55 at a
    256 KiB budget: the arena from 1,105,920 to at most a third, outputs bit-exact."""
    path = SHARED / "mobilenetv2_cifar10_sparse90.tflite"
    if not path.exists():
        pytest.skip(f"{path} not present")
    whole, sliced = compile_both(tmp_path, path, "cortex-m55", "dense", budget=256 * 1024)
    assert sliced.report["totals"]["arena_bytes"] * 3 <= whole.report["totals"]["arena_bytes"]
    x = np.random.default_rng(0).standard_normal((1, 96, 96, 3)).astype(np.float32)
    want = Reference(path)(x)[0]
    np.testing.assert_array_equal(sliced.run(x).outputs[0], want)
    np.testing.assert_array_equal(whole.run(x).outputs[0], want)


def test_mobilenetv2_raw_pointer_kernels_in_slices(tmp_path):
    """Every layer CSR at the lowest budget: the row-resident CSR kernels read X
    through a raw pointer (passes/lower/Pointers.cpp), and the arena planner
    once ended X's live range where the pointer was taken, so a later buffer
    of a slice was placed over it (10 of 10 outputs wrong)."""
    path = SHARED / "mobilenetv2_cifar10_sparse90.tflite"
    if not path.exists():
        pytest.skip(f"{path} not present")
    sliced = mcusparse.compile(path, target="cortex-m55", format="csr",
                               out_dir=tmp_path / "pex", pex_peak_bytes=1, progress=False)
    x = np.random.default_rng(0).standard_normal((1, 96, 96, 3)).astype(np.float32)
    np.testing.assert_array_equal(sliced.run(x).outputs[0], Reference(path)(x)[0])


def test_cli_budget(tmp_path, capsys):
    from mcusparse.cli import main
    path = tmp_path / "block.tflite"
    path.write_bytes(inverted_residual(np.random.default_rng(4)))
    assert main(["compile", str(path), "--format", "dense", "--pex-peak-bytes", "2K",
                 "-q", "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "peak SRAM" in out and "arena peak: memref<" in out
    report = mcusparse.compiler.load(tmp_path / "out").report
    assert report["pex_peak_bytes"] == 2048
    peak = report["totals"]["arena_peak"]   # the buffers live together at the peak
    assert peak and sum(b["bytes"] for b in peak) <= report["totals"]["arena_bytes"]
    with pytest.raises(SystemExit) as exit_:
        main(["compile", str(path), "--pex-peak-bytes", "lots", "-o", str(tmp_path / "o2")])
    assert exit_.value.code == 2
    assert "not a byte count: 'lots'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="pex_peak_bytes"):
        mcusparse.compile(path, pex_peak_bytes=-1, out_dir=tmp_path / "o3", progress=False)
    assert not (tmp_path / "o2").exists() and not (tmp_path / "o3").exists()


def test_bench_pex_table_json_and_plot(tmp_path, capsys):
    """`mcusparse bench pex` on the bundled digits model (no chain: every budget gives
    the whole-chain build; its convolution's int32 result in tiles of 16 pixels saves
    arena): rows checked against the reference, table, JSON, plot."""
    import json
    from mcusparse.cli import main
    out = tmp_path / "pex"
    assert main(["bench", "pex", "--models", "digits_sparse90", "--budgets", "256K,1",
                 "--tile-pixels", "0,16", "--samples", "1", "-q", "--out", str(out)]) == 0
    rows = json.loads((out / "pex.json").read_text())
    assert [(r["budget"], r["tile_pixels"]) for r in rows] == [
        (0, 0), (256 * 1024, 0), (1, 0), (0, 16), (256 * 1024, 16), (1, 16)]
    assert all(r["differing_outputs"] == 0 for r in rows)
    assert [r["peak_sram_reduction"] > 1.0 for r in rows] == [False] * 3 + [True] * 3
    table = capsys.readouterr().out
    assert "| digits_sparse90 | rv32imc | dense | off | whole | 2," in table
    assert "| lowest | 16 |" in table
    assert (out / "pex_sram.png").stat().st_size > 10_000
