"""The README's examples run as written (docs that match the code).

The Python block of "Formats, pruning and the compression report", the shell
block of "Using sparse-opt", then the Python blocks of "Using the Python
package" (which reads the w.mlir the shell block wrote) and of "Kernels on
the emulated microcontrollers", in a scratch directory. The
whole-model blocks name a user's model file and are covered by
test_compiler.py.
"""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
VENV_BIN = Path(sys.executable).parent


def blocks(section, language):
    """The `language` code blocks of README section `section` (a ## title)."""
    text = README.read_text()
    match = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text,
                      re.S | re.M)
    assert match, f"README has no section '## {section}'"
    found = re.findall(rf"^```{language}\n(.*?)^```", match.group(1), re.S | re.M)
    assert found, f"README section '{section}' has no {language} block"
    return found


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A directory with the w.mlir of the sparse-opt example."""
    where = tmp_path_factory.mktemp("readme")
    script = blocks("Using sparse-opt", "sh")[0].replace(".venv/bin/", f"{VENV_BIN}/")
    result = subprocess.run(["bash", "-e", "-c", script], cwd=where, text=True,
                            capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # The help lists our passes, and the packed constant is its storage buffers.
    assert "--sparse-enc-pack-constants" in result.stdout
    assert "sparse_enc.assemble" in result.stdout
    assert (where / "w.mlir").exists()
    return where


def run_python(block, where, monkeypatch):
    monkeypatch.chdir(where)
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)
    return namespace


def test_formats_example(scratch, monkeypatch, capsys):
    ns = run_python(blocks("Formats, pruning and the compression report", "python")[0],
                    scratch, monkeypatch)
    assert (ns["enc"].decode() == ns["W"]).all()
    assert capsys.readouterr().out.strip()


def test_sparse_opt_example(scratch):
    assert "sparse_enc.csr" in (scratch / "w.mlir").read_text()


def test_python_package_example(scratch, monkeypatch, capsys):
    run_python(blocks("Using the Python package", "python")[0], scratch, monkeypatch)
    assert "sparse_enc.assemble" in capsys.readouterr().out


def test_kernels_example(scratch, monkeypatch):
    ns = run_python(blocks("Kernels on the emulated microcontrollers", "python")[0],
                    scratch, monkeypatch)
    W, x, y, stats = ns["W"], ns["x"], ns["y"], ns["stats"]
    assert (y == W.astype(np.int32) @ x.astype(np.int32)).all()
    assert stats.instructions > 0 and stats.weight_bytes_read > 0
    assert stats.modeled_cycles > stats.instructions // 2 and stats.flash_bytes > 0
