"""`mcusparse bench spmv|spmm --json` and `mcusparse bench table` on a tiny set."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from mcusparse.bench import spmv, table
from mcusparse.targets import MCU_TARGETS, get_target
from mcusparse.targets.qemu import plugin_path

REQUIRED = ("instructions", "dense_instructions", "speedup", "weight_bytes_read",
            "dense_weight_bytes_read", "modeled_cycles", "modeled_cycles_ws0",
            "modeled_cycles_ws4", "flash_bytes", "dense_flash_bytes", "correct", "traffic_bound")


@pytest.fixture(scope="module", autouse=True)
def emulators_installed():
    missing = [exe for t in MCU_TARGETS for exe in (get_target(t).gcc, get_target(t).qemu[0])
               if shutil.which(exe) is None]
    if not plugin_path().is_file():
        missing.append(str(plugin_path()))
    if missing:
        pytest.fail(f"missing {', '.join(sorted(set(missing)))}: run scripts/setup-emulators.sh")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "mcusparse.cli", *args],
                          capture_output=True, text=True, timeout=300)


def test_paper_generator():
    W = spmv.make_matrix("csr", 64, 64, 0.8, 23)
    np.random.seed(23)
    ref = np.random.randint(-128, 127, (64, 64)).astype(np.int8)
    ref[np.random.random((64, 64)) < 0.8] = 0
    np.testing.assert_array_equal(W, ref)       # already >= 80 % zeros: pruning keeps it
    assert spmv.make_matrix("nm:1:4", 32, 32, 0.9, 1).reshape(-1, 4).astype(bool).sum(1).max() <= 1


def test_bench_spmv_json():
    proc = _cli("bench", "spmv", "--target", "cortex-m55", "--format", "csr", "--rows", "32",
                "--cols", "48", "--sparsity", "0.9", "--seed", "7", "--json")
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)
    for key in REQUIRED:
        assert key in row, key
    assert row["correct"] is True and row["error"] is None
    assert row["speedup"] == pytest.approx(row["dense_instructions"] / row["instructions"],
                                           rel=1e-3)
    assert row["traffic_bound"] == pytest.approx(
        row["dense_weight_bytes_read"] / row["weight_bytes_read"], rel=1e-3)
    assert row["modeled_cycles"] == row["modeled_cycles_ws4"]
    assert row["modeled_cycles_ws4"] - row["modeled_cycles_ws0"] == 4 * row["weight_transactions"]


def test_bench_spmm_json():
    proc = _cli("bench", "spmm", "--target", "rv32imc", "--format", "dcsr:16:8", "--rows", "24",
                "--cols", "40", "--batch", "3", "--sparsity", "0.8", "--seed", "5", "--json")
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)
    for key in REQUIRED:
        assert key in row, key
    assert row["batch"] == 3 and row["correct"] is True and row["error"] is None
    assert row["speedup"] == pytest.approx(row["dense_instructions"] / row["instructions"],
                                           rel=1e-3)
    assert row["instructions_per_mac"] == pytest.approx(row["instructions"] / (24 * 40 * 3),
                                                        abs=1e-4)


def test_spmm_wrong_result_is_an_error_row(monkeypatch):
    real = spmv.kernels.spmm

    class Broken:
        def __init__(self, k):
            self.k = k

        def run(self, X, wait_states=4):
            Y, st = self.k.run(X, wait_states=wait_states)
            Y[0, 1] += 1
            return Y, st

    monkeypatch.setattr(spmv.kernels, "spmm",
                        lambda W, format, target, **kw: Broken(real(W, format, target, **kw))
                        if format == "csr" else real(W, format, target, **kw))
    row = spmv.bench_spmm("cortex-m55", "csr", 8, 16, 0.5, batch=2, seed=99)
    assert row["correct"] is False and "1 of 16 outputs" in row["error"]


def test_bench_spmv_readable_line():
    proc = _cli("bench", "spmv", "--target", "rv32imc", "--format", "nm:1:8", "--rows", "16",
                "--cols", "32")
    assert proc.returncode == 0, proc.stderr
    assert "rv32imc nm:1:8 16x32" in proc.stdout and "correct" in proc.stdout


def test_wrong_result_is_an_error_row(monkeypatch):
    real = spmv.kernels.spmv

    class Broken:
        def __init__(self, k):
            self.k = k

        def run(self, x, wait_states=4):
            y, st = self.k.run(x, wait_states=wait_states)
            return y + 1, st

    monkeypatch.setattr(spmv.kernels, "spmv",
                        lambda W, format, target, **kw: Broken(real(W, format, target, **kw))
                        if format == "csr" else real(W, format, target, **kw))
    row = spmv.bench_spmv("cortex-m55", "csr", 8, 16, 0.5, seed=99)
    assert row["correct"] is False and "wrong result" in row["error"]


def test_bench_table_tiny(tmp_path):
    out = tmp_path / "bench"
    proc = _cli("bench", "table", "--targets", "cortex-m55", "--formats",
                "dense,csr,nm,sparsifier,structured,iree", "--sizes", "16x32", "--sparsities", "0.9", "--nm",
                "1:8", "--batches", "4", "--no-paper", "--no-layers", "--out", str(out),
                "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    md, js = out / "spmv_table.md", out / "spmv_table.json"
    pngs = out / "spmv_speedup.png", out / "spmm_speedup.png"
    assert md.is_file() and js.is_file()
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(js.read_text())
    fmts = sorted((r["workload"], r["format"]) for r in data["rows"])
    # The peers are SpMV kernels: not run on the SpMM workload; upstream's
    # structured[N, M] only on the N:M workload, IREE's dense code only on
    # the magnitude-pruned one.
    assert fmts == [("16x32 1:8", "csr"), ("16x32 1:8", "dense"), ("16x32 1:8", "nm:1:8"),
                    ("16x32 1:8", "sparsifier"), ("16x32 1:8", "structured:1:8"),
                    ("16x32 90%", "csr"), ("16x32 90%", "dense"), ("16x32 90%", "iree"),
                    ("16x32 90%", "sparsifier"), ("16x32 90% x4 cols", "csr"),
                    ("16x32 90% x4 cols", "dense")]
    assert all(r["correct"] for r in data["rows"]) and data["meta"]["errors"] == 0
    assert [r["batch"] for r in data["rows"] if "cols" in r["workload"]] == [4, 4]
    assert "| 16x32 1:8 | nm:1:8 |" in md.read_text()
    assert "| 16x32 90% x4 cols | csr |" in md.read_text()


def test_plan_formats():
    ws = table.standard_workloads(sizes=[(256, 256)], sparsities=[0.9], nm_patterns=[(1, 8)],
                                  batches=[16], layers=False)
    units = table.plan(["rv32imc"], list(table.DEFAULT_FORMATS), ws)
    got = {u[1].label: [f for f, _ in u[2]] for u in units}
    assert got["64x64 80%"] == ["dense", "csr", "csr:8", "dcsr", "dcsr:16:8", "gs:16",
                                "sparsifier", "iree"]
    assert got["256x256 1:8"] == ["dense", "csr", "csr:8", "dcsr", "dcsr:16:8", "nm:1:8",
                                  "sparsifier", "structured:1:8"]
    assert got["256x256 90% x16 cols"] == ["dense", "csr", "csr:8", "dcsr", "dcsr:16:8", "gs:16"]
    # 8-bit column indices reach 256 columns only.
    wide = table.standard_workloads(sizes=[(512, 1024)], sparsities=[0.9], nm_patterns=[],
                                    paper=False, batches=[], layers=False)
    units = table.plan(["rv32imc"], list(table.DEFAULT_FORMATS), wide)
    assert [f for f, _ in units[0][2]] == ["dense", "csr", "dcsr", "dcsr:16:8", "gs:16",
                                           "sparsifier", "iree"]
    # The llc-only sparsifier build exists for the opt+llc targets (the M55).
    units = table.plan(["cortex-m55"], list(table.DEFAULT_FORMATS), wide)
    assert [f for f, _ in units[0][2]][-3:] == ["sparsifier", "sparsifier:llc", "iree"]


def test_layer_workloads_use_the_model_weights():
    from mcusparse.bench import layers
    from mcusparse.models import bundled
    ws = layers.layer_workloads(bundled("digits_sparse90.tflite").parent,
                                names=["digits_sparse90"])
    assert [(w.rows, w.cols, w.batch) for w in ws] == [(128, 256, 1), (64, 128, 1), (10, 64, 1)]
    assert all(w.pattern == "layer" and w.sparsity >= 0.5 for w in ws)
    small = ws[-1]
    W = layers.layer_matrix(small.source)
    assert W.shape == (10, 64) and W.dtype == np.int8
    assert small.label == f"digits_sparse90 layer {small.source.rpartition('#')[2]} 10x64"
    # A layer runs with its own weight (not a generated matrix) and no N:M re-pruning.
    fmts = table._formats_for(small, ["dense", "csr", "nm", "sparsifier", "structured"])
    assert fmts == [("dense", "layer"), ("csr", "layer"), ("sparsifier", "layer")]
    assert table._formats_for(small, ["iree"]) == [("iree", "layer")]
    rows = table._run_unit(("rv32imc", small, fmts))
    assert [r["correct"] for r in rows] == [True, True, True]
    assert {r["nnz"] for r in rows} == {int(np.count_nonzero(W))}
    assert all(r["pattern"] == "layer" for r in rows)


@pytest.mark.parametrize("rows,cols,sparsity,seed,words", [
    (0, 8, 0.5, 1, "at least 1, got 0x8"), (8, 8, 1.5, 1, "sparsity must be a number in [0, 1]"),
    (8, 8, 0.5, -1, "seed must be a non-negative integer, got -1")])
def test_bad_workload_is_an_error_row(rows, cols, sparsity, seed, words):
    row = spmv.bench_spmv("cortex-m55", "csr", rows, cols, sparsity, seed=seed)
    assert row["correct"] is False and words in row["error"]


def _model_row(name, share):
    col = {"flash_bytes": 100, "peak_sram_bytes": 50, "instructions": 1000,
           "weight_bytes_read": 400, "modeled_cycles_0": 1200, "modeled_cycles_4": 2000,
           "max_abs_diff": 0.0, "differing_elements": 0, "output_elements": 10,
           "layer_formats": ["dense", "csr:8"]}
    return {"name": name, "target": "cortex-m55", "format": "auto", "dense": col,
            "sparse": dict(col, instructions=800), "speedup_instructions": 1.25,
            "speedup_modeled": 1.0, "flash_ratio": 1.0, "sparse_layers": share}


def test_models_table_writers(tmp_path):
    """`bench models` output from rows: the sparse-layer column, an error row, the plot."""
    from mcusparse.bench import models
    share = {"layers": 1, "dense_cycles": 1000, "sparse_cycles": 400,
             "share_of_dense_model": 0.5, "layer_speedup": 2.5, "bound_if_free": 2.0}
    rows = [_model_row("a", share), _model_row("b", None),
            {"name": "c", "model": "c.tflite", "target": "rv32imc", "format": "auto",
             "error": "FrontendError: broken"}]
    md = models.write_markdown(rows)
    lines = md.splitlines()
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert "| 50%, 2.50x, 2.00x |" in lines[2] and "| - |" in lines[3]
    assert "error: FrontendError: broken" in lines[4]
    # With --dense-weights-once: one more column (rows without it show "-").
    once = {"dense": {"instructions": 1100, "modeled_cycles_4": 900},
            "sparse": {"instructions": 850, "modeled_cycles_4": 600}, "speedup_modeled": 1.5}
    md = models.write_markdown([dict(rows[0], weights_once=once)] + rows[1:])
    lines = md.splitlines()
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert "| 900 / 600, 1.50x |" in lines[2] and "| 1.00x | - |" in lines[3]
    models.write_outputs(rows, tmp_path)
    assert (tmp_path / "models_speedup.png").stat().st_size > 0
    assert json.loads((tmp_path / "models_table.json").read_text())[0]["name"] == "a"
