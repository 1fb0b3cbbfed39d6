"""`iree-compile` as a subprocess, with per-target flags and a content-addressed cache.

    mod = compile_module(mlir_text, "cortex-m55")
    mod.vmfb           # the VM module (host / aarch64 run it; on MCUs only the plan is used)
    mod.library        # static library object (MCU targets), mod.header its .h
    mod.hal_mlir       # the module's IR at the end of the `hal` phase (the host-side plan)

`iree.compiler` cannot be imported next to the upstream `mlir` Python package
(both ship libraries with the same sonames), so the compiler always runs as a
separate process and IR travels as text. Results are cached under
build/iree/<target>-<hash>/ by (IR text, flags, compiler version).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from mcusparse.targets import toolchain as _tc

SETUP_HINT = "run scripts/setup-iree.sh"
# Bump when what we ask iree-compile for changes meaning (cache key).
_CACHE_VERSION = "1"


class IreeError(RuntimeError):
    """Compiling or running a module through IREE failed (names the target and module)."""

    def __init__(self, message: str, *, target: str = "", module: str = "",
                 output: str = "", command: Sequence[str] = ()):
        super().__init__(message)
        self.target = target
        self.module = module
        self.output = output
        self.command = [str(c) for c in command]


class IreeCompileError(IreeError):
    """iree-compile rejected the module or crashed."""


# ----------------------------------------------------------------------------- targets
_LOCAL = ("--iree-hal-target-device=local", "--iree-hal-local-target-device-backends=llvm-cpu")
# Static-library output: the executables become one object with
# <name>_library_query; the host side is read from the HAL-phase IR (static.py).
_STATIC = ("--iree-llvmcpu-link-embedded=false", "--iree-llvmcpu-link-static")


@dataclass(frozen=True)
class IreeTarget:
    name: str
    kind: str                      # "host" (iree.runtime), "aarch64" (qemu-user), "static"
    flags: Tuple[str, ...]
    description: str


IREE_TARGETS: Dict[str, IreeTarget] = {t.name: t for t in (
    IreeTarget("host", "host", _LOCAL + ("--iree-llvmcpu-target-cpu=host",),
               "x86-64 host, iree.runtime in process (local-sync)"),
    IreeTarget("aarch64", "aarch64", _LOCAL + (
        "--iree-llvmcpu-target-triple=aarch64-linux-gnu", "--iree-llvmcpu-target-cpu=generic",
        "--iree-llvmcpu-target-cpu-features=+neon"),
        "armv8-a + NEON: the aarch64 wheel's iree-run-module under qemu-aarch64"),
    IreeTarget("aarch64-sve", "aarch64", _LOCAL + (
        "--iree-llvmcpu-target-triple=aarch64-linux-gnu", "--iree-llvmcpu-target-cpu=generic",
        "--iree-llvmcpu-target-cpu-features=+neon,+sve",
        "--iree-llvmcpu-enable-scalable-vectorization"),
        "armv8-a + SVE (scalable vectors): iree-run-module under qemu-aarch64 (-cpu max)"),
    IreeTarget("cortex-m55", "static", _LOCAL + _STATIC + (
        "--iree-llvmcpu-target-triple=thumbv8.1m.main-none-eabi",
        "--iree-llvmcpu-target-cpu=cortex-m55", "--iree-llvmcpu-target-cpu-features=+mve.fp",
        "--iree-llvmcpu-target-float-abi=hard"),
        "Cortex-M55 (MVE), static library + bare-metal harness on qemu-system-arm"),
    IreeTarget("rv32imc", "static", _LOCAL + _STATIC + (
        "--iree-llvmcpu-target-triple=riscv32-unknown-elf",
        "--iree-llvmcpu-target-cpu=generic-rv32", "--iree-llvmcpu-target-abi=ilp32",
        "--iree-llvmcpu-target-cpu-features=+m,+c"),
        "RV32IMC ilp32 (soft float), static library + harness on qemu-system-riscv32"),
    IreeTarget("rv32gcv", "static", _LOCAL + _STATIC + (
        "--iree-llvmcpu-target-triple=riscv32-unknown-elf",
        "--iree-llvmcpu-target-cpu=generic-rv32", "--iree-llvmcpu-target-abi=ilp32d",
        "--iree-llvmcpu-target-cpu-features=+m,+a,+f,+d,+c,+v"),
        "RV32GC + V (vlen 128) ilp32d, static library + harness on qemu-system-riscv32"),
)}

# Flags for every compile: one command buffer recorded inline in the public
# function (no memoized/indirect command buffers), so that the dispatch
# sequence and its bindings can be read straight from the HAL-phase IR.
_PLAN_FLAGS = ("--iree-hal-memoization=false", "--iree-hal-indirect-command-buffers=false")


def get_iree_target(target: str) -> IreeTarget:
    try:
        return IREE_TARGETS[target]
    except KeyError:
        raise ValueError(f"unknown IREE target {target!r}; known: {', '.join(IREE_TARGETS)}") \
            from None


# ----------------------------------------------------------------------------- tools
@lru_cache(maxsize=None)
def iree_compile_path() -> str:
    """The native iree-compile of the iree-base-compiler wheel (MCUSPARSE_IREE_COMPILE overrides).

    Found without importing `iree.compiler` (which would clash with `mlir`)."""
    env = os.environ.get("MCUSPARSE_IREE_COMPILE")
    if env:
        return env
    spec = importlib.util.find_spec("iree")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        cand = Path(loc) / "compiler" / "_mlir_libs" / "iree-compile"
        if cand.is_file():
            return str(cand)
    for cand in (Path(sys.executable).parent / "iree-compile", shutil.which("iree-compile")):
        if cand and Path(cand).is_file():
            return str(cand)
    raise IreeError(f"iree-compile not found: install the pinned iree-base-compiler wheel "
                    f"({SETUP_HINT})")


@lru_cache(maxsize=None)
def iree_version() -> str:
    try:
        from importlib.metadata import version
        return version("iree-base-compiler")
    except Exception:
        return "unknown"


@lru_cache(maxsize=None)
def _host_cpu_id() -> str:
    """Host vmfbs use --iree-llvmcpu-target-cpu=host: key the cache by the CPU too."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    keep = [l for l in text.splitlines() if l.startswith(("model name", "flags"))][:2]
    return hashlib.sha256("\n".join(keep).encode()).hexdigest()[:12]


def cache_root() -> Path:
    return _tc.build_root() / "iree"


# ----------------------------------------------------------------------------- compile
@dataclass(frozen=True)
class CompiledModule:
    """The artefacts of one iree-compile run (all in `directory`)."""
    target: str
    name: str                      # module name (for messages)
    directory: Path
    vmfb: Path
    hal_mlir: Path                 # IR after the `hal` phase: host-side ops
    library: Optional[Path]        # static library object (static targets)
    header: Optional[Path]         # its header (declares <name>_library_query)
    flags: Tuple[str, ...]
    key: str

    @property
    def library_names(self) -> List[str]:
        """Names X of the X_library_query functions (from the generated header)."""
        if self.header is None:
            return []
        import re
        return re.findall(r"^(\w+)_library_query\(", self.header.read_text(), re.M)


def _key(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def _object_contents(mlir_text: str) -> List[bytes]:
    """Contents of the object files a module links (hal.executable.object paths): part of
    the cache key, so that a rebuilt kernel at the same path recompiles the module."""
    import re
    out = []
    for path in re.findall(r'#hal\.executable\.object<\{path = "([^"]+)"', mlir_text):
        try:
            out.append(Path(path).read_bytes())
        except OSError:
            out.append(f"missing:{path}".encode())   # iree-compile will report it
    return out


def compile_module(mlir_text: str, target: str, *, name: str = "module",
                   extra_flags: Sequence[str] = (), timeout: float = 300.0) -> CompiledModule:
    """Compile MLIR text (func/linalg/arith/tensor on tensors) for an IREE target.

    Cached by content under build/iree/<target>-<key>/. Raises IreeCompileError with
    iree-compile's diagnostics, naming the target and the module.
    """
    t = get_iree_target(target)
    flags = (*t.flags, *_PLAN_FLAGS, *extra_flags)
    key = _key(_CACHE_VERSION, iree_version(), t.name, flags, mlir_text,
               _host_cpu_id() if t.kind == "host" else "", *_object_contents(mlir_text))
    out = cache_root() / f"{t.name}-{key}"
    static = t.kind == "static"

    def artefacts(d: Path) -> CompiledModule:
        return CompiledModule(
            target=t.name, name=name, directory=d, vmfb=d / "module.vmfb",
            hal_mlir=d / "module.hal.mlir",
            library=d / "library.o" if static else None,
            header=d / "library.h" if static else None, flags=flags, key=key)

    done = artefacts(out)
    if (out / ".done").is_file():
        return done
    cache_root().mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{t.name}-{key}.", dir=cache_root()))
    try:
        src = tmp / "module.mlir"
        src.write_text(mlir_text)
        phases = tmp / "phases"
        cmd = [iree_compile_path(), str(src), *flags, f"--dump-compilation-phases-to={phases}",
               "-o", str(tmp / "module.vmfb")]
        if static:
            # Writes library.o and library.h (declares <name>_library_query).
            cmd.append(f"--iree-llvmcpu-static-library-output-path={tmp / 'library.o'}")
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise IreeCompileError(
                f"{t.name}: iree-compile timed out after {timeout:.0f} s on module {name!r}",
                target=t.name, module=name, output=str(e.output or ""), command=cmd) from None
        diag = _strip_noise(proc.stdout)
        if proc.returncode != 0:
            kept = cache_root() / f"failed-{t.name}-{key}.mlir"   # tmp is removed below
            shutil.copyfile(src, kept)
            diag = diag.replace(str(src), str(kept))
            raise IreeCompileError(
                f"{t.name}: iree-compile failed on module {name!r} (exit {proc.returncode}); "
                f"input kept at {kept}:\n$ {' '.join(cmd)}\n{diag[-4000:]}",
                target=t.name, module=name, output=proc.stdout, command=cmd)
        hal = sorted(phases.glob("*.hal.mlir"))
        if not hal:
            raise IreeCompileError(f"{t.name}: iree-compile wrote no hal-phase IR for {name!r}",
                                   target=t.name, module=name, output=proc.stdout, command=cmd)
        shutil.copyfile(hal[0], tmp / "module.hal.mlir")
        shutil.rmtree(phases, ignore_errors=True)
        if static and not (tmp / "library.o").is_file():
            raise IreeCompileError(f"{t.name}: iree-compile wrote no static library for {name!r}",
                                   target=t.name, module=name, output=proc.stdout, command=cmd)
        (tmp / "compile.log").write_text(" ".join(cmd) + "\n" + proc.stdout)
        (tmp / ".done").write_text(key + "\n")
        if out.exists():
            shutil.rmtree(out, ignore_errors=True)
        try:
            os.rename(tmp, out)
        except OSError:
            if not (out / ".done").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return done


def _strip_noise(text: str) -> str:
    """iree-compile warns for every Arm/RISC-V CPU that it cannot map to features; drop it."""
    lines = text.splitlines()
    out, skip = [], 0
    for line in lines:
        if "Resolution of CPU to CPU-features is not implemented" in line:
            skip = 2 if "warning:" in line else 0     # the quoted IR line and its caret
            continue
        if skip:
            skip -= 1
            continue
        out.append(line)
    return "\n".join(out)
