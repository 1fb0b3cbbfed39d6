#!/usr/bin/env bash
# Create .venv and install the pinned Python toolchain (idempotent).
# The stamp file records the hash of requirements.txt, so a changed pin reinstalls.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
stamp=$venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "[mcusparse] .venv is up to date with requirements.txt"
  exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "[mcusparse] creating virtual environment $venv"
  python3 -m venv "$venv"
fi
echo "[mcusparse] installing pinned wheels into $venv (MLIR/LLVM 22 are ~1.7 GB; first time takes a minute)"
"$venv/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip
"$venv/bin/python" -m pip install --disable-pip-version-check -q -r requirements.txt
echo "$want" > "$stamp"
echo "[mcusparse] .venv ready"
