#!/usr/bin/env bash
# Install what the MCU targets need and build the instruction-counting QEMU plugin.
#
#   scripts/setup-emulators.sh          idempotent; a second run only checks and exits
#
# 1. Debian packages: QEMU 7.2 system emulators (arm, riscv32/64), qemu-user,
#    the arm-none-eabi and riscv64-unknown-elf GCC cross compilers, picolibc for
#    both, and the host pieces the plugin build needs (gcc, glib, pkg-config).
# 2. qemu-plugin.h: Debian's QEMU ships plugin support but not the header. It is
#    taken from Debian's `qemu` source package (same version as the installed
#    emulator) with `apt-get source --download-only`, under a private apt
#    configuration in a temporary directory whose deb-src entries are derived
#    from this machine's own /etc/apt/sources.list.d/*.sources. /etc/apt and the
#    system's package lists are not touched; no mirror address is written
#    anywhere. Only include/qemu/qemu-plugin.h is extracted, into
#    build/qemu-plugin/include/ (GPL: never committed; /build/ is git-ignored).
# 3. build/qemu-plugin/libmcusparse_count.so from runtime/qemu-plugin/count.c.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
say() { echo "[mcusparse] $*"; }
t_start=$(date +%s.%N)

PACKAGES=(
  qemu-system-arm            # qemu-system-arm: mps3-an547 (Cortex-M55 + MVE)
  qemu-system-misc           # qemu-system-riscv32 / qemu-system-riscv64
  qemu-user                  # qemu-aarch64 / qemu-x86_64 user mode (IREE runs, later)
  gcc-arm-none-eabi          # C compiler + binutils + linker driver for Cortex-M
  picolibc-arm-none-eabi
  gcc-riscv64-unknown-elf    # C compiler + binutils + linker driver for rv32/rv64
  picolibc-riscv64-unknown-elf
  gcc libc6-dev pkg-config libglib2.0-dev   # building the TCG plugin
  xz-utils                   # unpacking the header from the source tarball
  llvm-19                    # llvm-mca with RISC-V scheduling models (sifive-x280: RVV) for modeled cycles
)

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    say "error: not root and no sudo: cannot install Debian packages"; exit 1; fi
fi
export DEBIAN_FRONTEND=noninteractive
# Wait for the dpkg/apt locks (another apt run on the machine) instead of failing.
APT_LOCK=(-o DPkg::Lock::Timeout=600)

plugin_dir=$root/build/qemu-plugin
header=$plugin_dir/include/qemu-plugin.h
plugin_src=$root/runtime/qemu-plugin/count.c
plugin_so=$plugin_dir/libmcusparse_count.so

# ---------------------------------------------------------------- 1. packages
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  say "Debian packages present (${#PACKAGES[@]} checked)"
else
  say "installing Debian packages: ${missing[*]}"
  t0=$(date +%s)
  # Update the package lists only when apt does not know a package (fresh
  # machine) or when the install fails on a stale list.
  need_update=0
  for p in "${missing[@]}"; do
    cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
    if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then need_update=1; break; fi
  done
  if [ $need_update = 1 ]; then
    say "apt-get update (package lists do not know ${p})"
    $SUDO apt-get "${APT_LOCK[@]}" update -q >/dev/null
  fi
  if ! $SUDO apt-get "${APT_LOCK[@]}" install -y -q --no-install-recommends "${missing[@]}" >/tmp/mcusparse-apt.log 2>&1; then
    say "install failed; refreshing package lists and retrying"
    $SUDO apt-get "${APT_LOCK[@]}" update -q >/dev/null
    $SUDO apt-get "${APT_LOCK[@]}" install -y -q --no-install-recommends "${missing[@]}" >/tmp/mcusparse-apt.log 2>&1 || {
      tail -20 /tmp/mcusparse-apt.log; say "error: apt-get install failed"; exit 1; }
  fi
  say "packages installed in $(( $(date +%s) - t0 )) s"
fi

# ------------------------------------------------------------ 2. plugin header
fetch_header() {
  local qemu_src_ver codename tmp opts f
  qemu_src_ver=$(dpkg-query -W -f='${source:Version}' qemu-system-arm)
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  tmp=$(mktemp -d /tmp/mcusparse-aptsrc.XXXXXX)
  trap 'rm -rf "$tmp"; trap - RETURN' RETURN
  mkdir -p "$tmp/sources.list.d" "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/src"
  # Derive deb-src entries from the machine's own deb822 sources: keep the
  # stanzas for this Debian release, turn "Types: deb" into "Types: deb-src".
  local n=0
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    awk -v cn="$codename" 'BEGIN { RS=""; ORS="\n\n" }
      { keep = 0; out = "";
        nl = split($0, L, "\n");
        for (i = 1; i <= nl; i++) {
          line = L[i];
          if (line ~ /^Types:/) line = "Types: deb-src";
          if (line ~ /^Suites:/ && (cn == "" || line ~ cn)) keep = 1;
          if (line ~ /^Enabled:[ \t]*no/) { keep = 0; break }
          out = out line "\n";
        }
        if (keep) print out }' "$f" > "$tmp/sources.list.d/$(basename "$f")"
    [ -s "$tmp/sources.list.d/$(basename "$f")" ] && n=$((n + 1))
  done
  # One-line style /etc/apt/sources.list, if the machine uses it.
  if [ -f /etc/apt/sources.list ]; then
    grep -E "^deb[[:space:]]" /etc/apt/sources.list | grep -E "[[:space:]]${codename}" \
      | sed -E 's/^deb[[:space:]]/deb-src /' > "$tmp/sources.list" || true
    [ -s "$tmp/sources.list" ] && n=$((n + 1))
  fi
  touch "$tmp/sources.list"
  if [ $n = 0 ]; then
    say "error: no Debian apt sources found in /etc/apt to derive deb-src entries from"; return 1
  fi
  opts=(-o "Dir::Etc::SourceList=$tmp/sources.list"
        -o "Dir::Etc::SourceParts=$tmp/sources.list.d"
        -o "Dir::State::Lists=$tmp/lists"
        -o "Dir::Cache=$tmp/cache"
        -o "Dir::Cache::Archives=$tmp/cache/archives"
        -o "APT::Sandbox::User=root"
        -q)
  say "fetching qemu-plugin.h from Debian source package qemu=$qemu_src_ver (private apt config in $tmp)"
  $SUDO apt-get "${opts[@]}" update >/dev/null
  (cd "$tmp/src" && { $SUDO apt-get "${opts[@]}" source --download-only "qemu=$qemu_src_ver" >/dev/null 2>&1 \
      || { say "source qemu=$qemu_src_ver not found; taking the newest qemu source of $codename";
           $SUDO apt-get "${opts[@]}" source --download-only qemu >/dev/null; }; })
  local orig
  orig=$(ls "$tmp"/src/qemu_*.orig.tar.* 2>/dev/null | head -1)
  [ -n "$orig" ] || { say "error: no qemu orig tarball downloaded"; return 1; }
  mkdir -p "$plugin_dir/include"
  tar -xf "$orig" --wildcards --no-anchored -O '*/include/qemu/qemu-plugin.h' > "$header.tmp"
  grep -q QEMU_PLUGIN_VERSION "$header.tmp" || { say "error: extracted header looks wrong"; return 1; }
  mv "$header.tmp" "$header"
  echo "$(basename "$orig") (source version $qemu_src_ver)" > "$plugin_dir/include/SOURCE"
  say "header: $header ($(grep -m1 -E 'define QEMU_PLUGIN_VERSION' "$header"))"
}

if [ -f "$header" ]; then
  say "qemu-plugin.h present"
else
  t0=$(date +%s)
  fetch_header
  say "header fetched in $(( $(date +%s) - t0 )) s"
fi

# ------------------------------------------------------------ 3. plugin build
if [ -f "$plugin_so" ] && [ "$plugin_so" -nt "$plugin_src" ] && [ "$plugin_so" -nt "$header" ]; then
  say "plugin up to date: ${plugin_so#"$root"/}"
else
  say "building ${plugin_so#"$root"/}"
  # shellcheck disable=SC2046
  gcc -O2 -g -Wall -Wextra -Werror -std=gnu11 -shared -fPIC \
    -I"$plugin_dir/include" $(pkg-config --cflags glib-2.0) \
    -o "$plugin_so.tmp" "$plugin_src" $(pkg-config --libs glib-2.0)
  mv "$plugin_so.tmp" "$plugin_so"
fi

say "emulators ready ($(qemu-system-arm --version | head -1)); setup took $(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
