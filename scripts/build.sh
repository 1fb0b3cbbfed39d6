#!/usr/bin/env bash
# Build the C++ (dialect, passes, sparse-opt, Python extension) and install the
# mcusparse package into .venv in editable mode. Incremental: the CMake tree
# under build/ is reused, so a one-file change rebuilds in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
export MCUSPARSE_MLIR_DIR=$site/mlir/lib/cmake/mlir
export MCUSPARSE_LLVM_DIR=$site/llvm/lib/cmake/llvm
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
export PATH=$PWD/.venv/bin:$PATH
echo "[mcusparse] building C++ and installing the mcusparse package (editable) into .venv"
start=$(date +%s)
if ! .venv/bin/python -m pip install --disable-pip-version-check -q \
    --no-build-isolation -e . > build.log 2>&1; then
  grep -E "error|Error" build.log | head -40 >&2 || true
  echo "[mcusparse] build failed; full log in build.log" >&2
  exit 1
fi
echo "[mcusparse] build done in $(( $(date +%s) - start )) s: .venv/bin/sparse-opt, import mcusparse"
