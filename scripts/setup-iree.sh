#!/usr/bin/env bash
# Set up the IREE execution paths (docs/iree.md).
#
#   scripts/setup-iree.sh          idempotent; a second run only checks and exits
#
# 1. The pinned IREE wheels in .venv (iree-base-compiler, iree-base-runtime; the
#    versions come from requirements.txt). Normally `make venv` has installed them.
# 2. Debian packages for the aarch64 path: qemu-user (qemu-aarch64) and the
#    arm64 cross C/C++ runtime (libc6-arm64-cross, libstdc++6-arm64-cross), whose
#    loader and libraries live under /usr/aarch64-linux-gnu (qemu-aarch64 -L).
# 3. The aarch64 build of the same iree-base-runtime wheel (pip download, no
#    install) into build/iree-aarch64/, and its native `iree-run-module` unpacked
#    to build/iree-aarch64/bin/iree-run-module. The wheel is ~15 MB; the tool 1.8 MB.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
say() { echo "[mcusparse] $*"; }
PY=${PYTHON:-$root/.venv/bin/python}
if [ ! -x "$PY" ]; then
  say "error: $PY not found: run scripts/bootstrap-venv.sh (make venv) first"; exit 1
fi

pin() {  # the version pinned in requirements.txt for a package
  sed -n "s/^$1==\([^ ]*\).*/\1/p" requirements.txt | head -1
}
IREE_VERSION=$(pin iree-base-runtime)
IREE_COMPILER_VERSION=$(pin iree-base-compiler)
if [ -z "$IREE_VERSION" ] || [ -z "$IREE_COMPILER_VERSION" ]; then
  say "error: requirements.txt pins no iree-base-runtime / iree-base-compiler version"; exit 1
fi

# ---------------------------------------------------------------- 1. wheels in .venv
have=$("$PY" - <<'EOF' 2>/dev/null || true
from importlib.metadata import version
print(version("iree-base-compiler"), version("iree-base-runtime"))
EOF
)
if [ "$have" = "$IREE_COMPILER_VERSION $IREE_VERSION" ]; then
  say "IREE wheels present in .venv (compiler $IREE_COMPILER_VERSION, runtime $IREE_VERSION)"
else
  say "installing iree-base-compiler==$IREE_COMPILER_VERSION iree-base-runtime==$IREE_VERSION into .venv"
  "$PY" -m pip install --disable-pip-version-check -q \
    "iree-base-compiler==$IREE_COMPILER_VERSION" "iree-base-runtime==$IREE_VERSION"
fi

# ---------------------------------------------------------------- 2. Debian packages
PACKAGES=(qemu-user libc6-arm64-cross libstdc++6-arm64-cross)
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  say "Debian packages present (${PACKAGES[*]})"
else
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then SUDO="sudo"; else
      say "error: not root and no sudo: cannot install ${missing[*]}"; exit 1; fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  APT_LOCK=(-o DPkg::Lock::Timeout=600)
  say "installing Debian packages: ${missing[*]}"
  need_update=0
  for p in "${missing[@]}"; do
    cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
    if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then need_update=1; break; fi
  done
  if [ $need_update = 1 ]; then
    say "apt-get update (the package lists do not know $p)"
    $SUDO apt-get "${APT_LOCK[@]}" update -q >/dev/null
  fi
  if ! $SUDO apt-get "${APT_LOCK[@]}" install -y -q --no-install-recommends "${missing[@]}" \
       >/tmp/mcusparse-apt-iree.log 2>&1; then
    say "install failed; refreshing package lists and retrying"
    $SUDO apt-get "${APT_LOCK[@]}" update -q >/dev/null
    $SUDO apt-get "${APT_LOCK[@]}" install -y -q --no-install-recommends "${missing[@]}" \
      >/tmp/mcusparse-apt-iree.log 2>&1 || {
      tail -20 /tmp/mcusparse-apt-iree.log; say "error: apt-get install failed"; exit 1; }
  fi
fi

# ---------------------------------------------------------------- 3. aarch64 iree-run-module
dest=$root/build/iree-aarch64
tool=$dest/bin/iree-run-module
stamp=$dest/.version
if [ -x "$tool" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$IREE_VERSION" ]; then
  say "aarch64 iree-run-module $IREE_VERSION present ($tool)"
else
  mkdir -p "$dest/wheel" "$dest/bin"
  # The wheel is tagged manylinux_2_27_aarch64.manylinux_2_28_aarch64; asking for
  # manylinux_2_28_aarch64 (and CPython 3.11, any is fine: the tools are not Python) finds it.
  say "downloading the aarch64 iree-base-runtime==$IREE_VERSION wheel into $dest/wheel"
  rm -f "$dest"/wheel/iree_base_runtime-*.whl
  "$PY" -m pip download --disable-pip-version-check -q --no-deps --only-binary=:all: \
    --platform manylinux_2_28_aarch64 --python-version 3.11 \
    "iree-base-runtime==$IREE_VERSION" -d "$dest/wheel"
  whl=$(ls "$dest"/wheel/iree_base_runtime-"$IREE_VERSION"-*aarch64*.whl | head -1)
  say "unpacking iree/_runtime_libs/iree-run-module from $(basename "$whl")"
  "$PY" - "$whl" "$tool" <<'EOF'
import os, shutil, sys, zipfile
whl, tool = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z, z.open("iree/_runtime_libs/iree-run-module") as src, \
        open(tool + ".tmp", "wb") as dst:
    shutil.copyfileobj(src, dst)
os.chmod(tool + ".tmp", 0o755)
os.replace(tool + ".tmp", tool)
EOF
  echo "$IREE_VERSION" > "$stamp"
fi

# Smoke check: the tool starts under qemu-aarch64 with the cross libraries.
if ! qemu-aarch64 -L /usr/aarch64-linux-gnu "$tool" --help >/dev/null 2>&1; then
  say "error: $tool does not start under qemu-aarch64 -L /usr/aarch64-linux-gnu"; exit 1
fi
say "IREE ready: iree-compile $(ls "$(dirname "$PY")"/iree-compile), aarch64 runner $tool"
