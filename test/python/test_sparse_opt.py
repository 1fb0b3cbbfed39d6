"""sparse-opt as a user meets it: help, round trip, clean errors."""
import subprocess
import sys
from pathlib import Path

import pytest

SPARSE_OPT = str(Path(sys.executable).parent / "sparse-opt")


def run(args, stdin=""):
    return subprocess.run([SPARSE_OPT, *args], input=stdin, text=True,
                          capture_output=True, timeout=60)


def test_help_lists_our_passes():
    result = run(["--help"])
    assert result.returncode == 0
    assert "--sparse-enc-pack-constants" in result.stdout
    # Upstream passes are there too.
    assert "--sparsifier" in result.stdout
    assert "--convert-vector-to-llvm" in result.stdout


def test_round_trip():
    text = "func.func @f(%a: tensor<8x16xi8, #sparse_enc.nm<n = 1, m = 8>>) { return }"
    result = run(["-"], text)
    assert result.returncode == 0, result.stderr
    assert "#sparse_enc.nm<n = 1, m = 8>" in result.stdout


@pytest.mark.parametrize("text, message", [
    ("func.func @f(", "expected"),
    ("func.func @f(%a: tensor<8x12xi8, #sparse_enc.nm<n = 1, m = 8>>) { return }",
     "innermost size 12 is not a multiple of m = 8"),
    ("func.func @f(%a: tensor<8x16xi8, #sparse_enc.bogus<>>) { return }",
     "bogus"),
    ("\x00\xff garbage", "error"),
])
def test_malformed_input_exits_1_without_stack_dump(text, message):
    result = run(["-"], text)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Stack dump" not in result.stderr
    assert "PLEASE submit a bug report" not in result.stderr


def test_missing_file_exits_1():
    result = run(["/nonexistent/input.mlir"])
    assert result.returncode == 1
    assert "cannot open input file" in result.stderr.lower()
