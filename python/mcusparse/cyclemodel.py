"""Modeled cycles ("model" in every table): llvm-mca per executed block + weight wait states.

    est = cyclemodel.estimate("cortex-m55", elf, run_result.blocks, run_result.weight_bytes_read)
    est.core_cycles                 # sum over blocks of execs x llvm-mca cycles per iteration
    est.weight_transactions         # ceil(weight_bytes_read / 8)
    est.modeled_cycles(4)           # core_cycles + 4 x weight_transactions

This is shared/MEASURE.md item 3. It is an estimate, not a measurement:

* Core cycles. The counting plugin lists every translation block executed in
  the measured window (start, end, instruction count, executions). Each
  block's instructions are disassembled from the ELF (`llvm-objdump`), put
  into an llvm-mca code region, and llvm-mca simulates 100 back-to-back
  iterations of it; cycles per execution = total cycles / 100 (so a loop
  body is charged its steady-state cost, including its own loop-carried
  dependencies, and a straight-line block is charged as if warm). Branch
  targets are rewritten to labels inside the region (llvm-mca only needs
  something that assembles); calls are charged a latency of 1 (the callee's
  blocks are counted on their own). Instructions llvm-mca has no scheduling
  data for (M55: `le`/`letp`) are charged 1 cycle each. Blocks are weighted
  by their execution counts and the sum is rounded once, at the end.
  Results are cached per block (by the model and the block's instruction
  text) under build/cyclemodel/.
* Weight wait states. One bus transaction per 8 bytes loaded from the
  `.weights` section (the Cortex-M55's 64-bit AXI master), counted as
  ceil(weight_bytes_read / 8). The plugin counts bytes, not bus beats: a
  16-lane byte gather shows up as 16 bytes and is charged 2 transactions,
  although real hardware issues one access per lane (up to 16). Scattered
  accesses therefore cost more on a board than this says, and so do
  unaligned contiguous loads that straddle an 8-byte boundary. Each
  transaction costs `wait_states` cycles on top of the core cycles.
* llvm-mca's Cortex-M55 model charges a gather (`vldrb.u8 q0, [r0, q1]`)
  like a contiguous `vldrb`; real gathers issue one access per lane. Sparse
  kernels that gather are therefore estimated optimistically.

Models per target:

==========  ==================================================================
cortex-m55  llvm-mca 22 (LLVM wheel) `-mtriple=thumbv8.1m.main-none-eabi
            -mcpu=cortex-m55 -mattr=+mve.fp -skip-unsupported-instructions=any
            -arm-implicit-it=always`; IT instructions are dropped from each
            block and re-created by the assembler, and an instruction that
            does not parse on its own (VPT-predicated, in a block that QEMU
            started inside its VPT block) costs UNSCHEDULED_CYCLES; so does
            a VPT block that QEMU's block ends inside (its `vpt`/`vpst` and
            the predicated instructions before the block's end), which
            would otherwise stay open in the assembler and change how the
            next region parses (blocks are estimated in batches, and each
            block's cycles must not depend on its batch)
rv32imc     the LLVM 22 wheel has no RISC-V back end. Debian's LLVM 19
            (package `llvm-19`, installed by scripts/setup-emulators.sh; any
            llvm-mca-NN with RISC-V on PATH works) does:
            `-mtriple=riscv32 -mcpu=rocket-rv32` (in-order single-issue, the
            closest scheduling model to a PULP/Ibex-class core).
rv32gcv     the same llvm-mca with the SiFive 7 scalar model
            (`-mcpu=sifive-e76`; `sifive-7-rv32` in LLVM 14) for the scalar
            instructions. No LLVM has RVV scheduling data for an RV32 core
            (sifive-x280 is RV64-only), so every vector instruction is taken
            out of the region and charged a fixed RVV_CYCLES (2: vlen 128
            over a 64-bit datapath; `vset*` 1).
fallback    no RISC-V llvm-mca at all: 1 cycle per instruction, 2 per load,
            3 per multiply, RVV_CYCLES per vector instruction.
==========  ==================================================================
`CycleEstimate.model` names the model used, so numbers from different
models are never mixed silently.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from mcusparse.targets import get_target
from mcusparse.targets import toolchain as _tc

__all__ = ["CycleEstimate", "estimate", "core_cycles", "weight_transactions",
           "BUS_BYTES", "DEFAULT_WAIT_STATES", "RVV_CYCLES", "CycleModelError"]

BUS_BYTES = 8                # one bus transaction per 8 bytes (64-bit AXI)
DEFAULT_WAIT_STATES = 4
ITERATIONS = 100
RVV_CYCLES = 2               # per vector instruction where no RVV model exists
UNSCHEDULED_CYCLES = 1       # per instruction llvm-mca skips (no scheduling data)


class CycleModelError(RuntimeError):
    """Disassembly or llvm-mca failed."""


@dataclass(frozen=True)
class CycleEstimate:
    core_cycles: int             # llvm-mca core cycles, weighted by block executions
    weight_transactions: int     # ceil(weight_bytes_read / BUS_BYTES)
    model: str                   # which scheduling model produced core_cycles

    def modeled_cycles(self, wait_states: int = DEFAULT_WAIT_STATES) -> int:
        if wait_states < 0:
            raise ValueError(f"wait_states must be >= 0, got {wait_states}")
        return self.core_cycles + int(wait_states) * self.weight_transactions


def weight_transactions(weight_bytes_read: Optional[int], bus_bytes: int = BUS_BYTES) -> int:
    return -(-int(weight_bytes_read or 0) // bus_bytes)


# ----------------------------------------------------------------------------- tools
@dataclass(frozen=True)
class _Model:
    name: str                       # for reports
    objdump: Tuple[str, ...]        # disassembler command prefix (the ELF is appended)
    mca: Optional[Tuple[str, ...]]  # llvm-mca command prefix (None: fallback table)
    arch: str                       # "arm" / "riscv32"
    strip_vector: bool              # take RVV instructions out, charge RVV_CYCLES


def _llvm_version(exe: str) -> int:
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    except OSError:
        return 0
    m = re.search(r"LLVM version (\d+)", out)
    return int(m.group(1)) if m else 0


def _riscv_llvm() -> Optional[Tuple[str, str, int]]:
    """(llvm-mca, llvm-objdump, version) of an LLVM with a RISC-V back end, if any."""
    env = os.environ.get("MCUSPARSE_RISCV_LLVM_SUFFIX")        # e.g. "-14"
    suffixes = [env] if env is not None else [f"-{v}" for v in range(30, 13, -1)]
    for suf in suffixes:
        mca, objd = shutil.which(f"llvm-mca{suf}"), shutil.which(f"llvm-objdump{suf}")
        if mca and objd:
            out = subprocess.run([mca, "--version"], capture_output=True, text=True).stdout
            if "riscv32" in out:
                return mca, objd, _llvm_version(mca)
    return None


@lru_cache(maxsize=None)
def _model(target: str) -> _Model:
    t = get_target(target)
    common = ("-all-views=false", "-summary-view", f"-iterations={ITERATIONS}")
    if t.name == "cortex-m55":
        mca = _tc.llvm_tool("llvm-mca")
        return _Model(
            name=f"llvm-mca {_llvm_version(mca)} cortex-m55",
            objdump=(_tc.llvm_tool("llvm-objdump"), "-d", "--mattr=+mve.fp",
                     "--no-show-raw-insn"),
            mca=(mca, "-mtriple=thumbv8.1m.main-none-eabi", "-mcpu=cortex-m55",
                 # `any`: also skip what does not parse alone, such as a
                 # VPT-predicated instruction in a QEMU block that starts
                 # inside its VPT block (charged UNSCHEDULED_CYCLES).
                 "-mattr=+mve.fp", "-skip-unsupported-instructions=any",
                 # IT instructions are dropped from the blocks (a QEMU block may
                 # start inside an IT block); the assembler re-creates them.
                 "-arm-implicit-it=always", "-call-latency=1", *common),
            arch="arm", strip_vector=False)
    if t.arch == "riscv32":
        vector = t.name == "rv32gcv"
        attrs = "+m,+c" + (",+a,+f,+d,+v" if vector else "")
        found = _riscv_llvm()
        if found is None:
            return _Model(name="fallback table (no RISC-V llvm-mca)",
                          objdump=("riscv64-unknown-elf-objdump", "-d", "-M", "no-aliases"),
                          mca=None, arch="riscv32", strip_vector=True)
        mca, objd, ver = found
        objdump = (objd, "-d", f"--mattr={attrs}", "-M", "no-aliases", "--no-show-raw-insn")
        # The SiFive 7 scalar model: "sifive-7-rv32" up to LLVM 14, the
        # E76 (same model) after. No LLVM has RVV scheduling data for an RV32
        # core (sifive-x280 is RV64-only), so vector instructions get a fixed cost.
        cpu = ("sifive-7-rv32" if ver <= 14 else "sifive-e76") if vector else "rocket-rv32"
        return _Model(name=f"llvm-mca {ver} {cpu}" + (f" + {RVV_CYCLES} cycles per RVV "
                                                     "instruction" if vector else ""),
                      objdump=objdump,
                      mca=(mca, "-mtriple=riscv32", f"-mcpu={cpu}", f"-mattr={attrs}", *common),
                      arch="riscv32", strip_vector=vector)
    raise CycleModelError(f"{t.name}: no cycle model (only cortex-m55, rv32imc, rv32gcv)")


def model_name(target: str) -> str:
    return _model(get_target(target).name).name


# ----------------------------------------------------------------------------- disassembly
_INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S.*?)\s*$")


def _disassemble(model: _Model, elf: Path, lo: int, hi: int) -> Dict[int, str]:
    cmd = [*model.objdump, f"--start-address={lo:#x}", f"--stop-address={hi:#x}", str(elf)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise CycleModelError(f"disassembling {elf} failed:\n$ {' '.join(cmd)}\n{proc.stderr}")
    insns: Dict[int, str] = {}
    for line in proc.stdout.splitlines():
        m = _INSN.match(line)
        if not m:
            continue
        text = m.group(2)
        if model.objdump[0].endswith("riscv64-unknown-elf-objdump"):
            parts = text.split("\t")          # GNU: "<hex bytes>\t<mnemonic>\t<operands>"
            text = " ".join(parts[1:]) if len(parts) > 1 else text
        text = re.sub(r"\s*<[^>]*>", "", text)          # symbolic target comment
        if model.arch == "arm":
            text = re.sub(r"\s+@.*$", "", text)         # "@ imm = #0x4e", "@ 0x1fc"
        insns[int(m.group(1), 16)] = text.strip()
    return insns


def _block_text(insns: Dict[int, str], addrs: List[int], start: int, end: int,
                n: int, where: str) -> List[str]:
    # A translation block is n consecutive instructions from `start` (the
    # plugin's `end` can be off by a few bytes when QEMU ends a block before
    # an instruction that would cross a page).
    lo = bisect.bisect_left(addrs, start)
    body = [insns[a] for a in addrs[lo:lo + n]]
    if len(body) != n or (lo < len(addrs) and addrs[lo] != start) or \
            (n and addrs[lo + n - 1] >= end + 4):
        raise CycleModelError(f"{where}: block {start:#x}..{end:#x} has {n} instructions "
                              f"but {len(body)} were disassembled: {body}")
    return body


# ----------------------------------------------------------------------------- llvm-mca
_ARM_FORWARD = ("wls", "wlstp", "cbz", "cbnz")
_RV_CALLS = {"c.jal": "c.j", "c.jalr": "c.jr"}


def _is_vector(insn: str) -> bool:
    return insn.split()[0].startswith("v")


def _rewrite(model: _Model, insn: str, n: int) -> str:
    """Branch targets -> the region's labels; RISC-V calls -> jumps (llvm-mca 14
    charges calls 100 cycles and has no -call-latency)."""
    mnem = insn.split()[0]
    if model.arch == "riscv32":
        if mnem in _RV_CALLS:
            insn = insn.replace(mnem, _RV_CALLS[mnem], 1)
        elif mnem in ("jal", "jalr") and re.match(r"^jalr?\s+ra\s*,", insn):
            insn = re.sub(r"^(jalr?)\s+ra\s*,", r"\1 zero,", insn)
    if model.arch == "riscv32" and not mnem.startswith(("b", "j", "c.b", "c.j")):
        return insn
    label = f"Le{n}" if model.arch == "arm" and mnem.startswith(_ARM_FORWARD) else f"Ls{n}"
    return re.sub(r"(?<![#\w])0x[0-9a-f]+$", label, insn)


def _fallback_cycles(body: Sequence[str]) -> float:
    cyc = 0.0
    for insn in body:
        mnem = insn.split()[0]
        if mnem.startswith("v"):
            cyc += 1 if mnem.startswith("vset") else RVV_CYCLES
        elif re.match(r"^(c\.)?(lb|lh|lw|lbu|lhu|lwsp|flw|fld)\b", mnem):
            cyc += 2
        elif mnem.startswith("mul"):
            cyc += 3
        else:
            cyc += 1
    return cyc


_VPT = re.compile(r"^vp(?:s)?t([te]*)\b")


def _without_open_vpt(body: List[str]) -> List[str]:
    """`body` without a VPT block that it leaves open (QEMU ended the block
    inside it). Regions share one assembler, whose VPT state would carry
    into the next region and change how that region parses; the dropped
    instructions are charged UNSCHEDULED_CYCLES each, like the predicated
    ones at the start of the block that continues it."""
    open_at, left = None, 0
    for i, insn in enumerate(body):
        m = _VPT.match(insn)
        if m:
            open_at, left = i, 1 + len(m.group(1))
        elif left:
            left -= 1
    return body[:open_at] if left else body


def _run_mca(model: _Model, regions: List[List[str]]) -> List[float]:
    """Cycles per iteration of each region (all regions in one llvm-mca run;
    each region's result does not depend on the others)."""
    src = [".syntax unified", ".thumb"] if model.arch == "arm" else []
    extra = [0.0] * len(regions)
    counts = [0] * len(regions)
    for i, body in enumerate(regions):
        if model.strip_vector:
            vec = [b for b in body if _is_vector(b)]
            extra[i] += sum(1 if v.startswith("vset") else RVV_CYCLES for v in vec)
            body = [b for b in body if not _is_vector(b)]
        if model.arch == "arm":
            body = [b for b in body if not re.match(r"^it[te]{0,3}\s", b)]
        counts[i] = len(body)
        if model.arch == "arm":
            body = _without_open_vpt(body)
        src += [f"# LLVM-MCA-BEGIN r{i}", f"Ls{i}:"]
        src += [_rewrite(model, b, i) for b in body]
        src += [f"Le{i}:", f"# LLVM-MCA-END r{i}"]
    if not any(counts):
        return extra
    # One instruction that always parses: a file whose only region starts
    # inside a VPT block would otherwise have none, which llvm-mca rejects.
    src += ["# LLVM-MCA-BEGIN sentinel", "nop", "# LLVM-MCA-END sentinel"]
    with tempfile.NamedTemporaryFile("w", suffix=".s", delete=False) as f:
        f.write("\n".join(src) + "\n")
        path = f.name
    try:
        proc = subprocess.run([*model.mca, path], capture_output=True, text=True)
    finally:
        os.unlink(path)
    if proc.returncode:
        raise CycleModelError(f"llvm-mca failed ({model.name}):\n{proc.stderr[-3000:]}\n"
                              f"input:\n" + "\n".join(src[:200]))
    seen: Dict[int, Tuple[int, int]] = {}
    cur = None
    for line in proc.stdout.splitlines():
        m = re.match(r"^\[\d+\] Code Region - (\S+)", line)
        if m:
            cur = int(m.group(1)[1:]) if re.fullmatch(r"r\d+", m.group(1)) else None
            continue
        m = re.match(r"^(Instructions|Total Cycles):\s+(\d+)", line)
        if m and cur is not None:
            ins, cyc = seen.get(cur, (0, 0))
            seen[cur] = (int(m.group(2)), cyc) if m.group(1) == "Instructions" else (ins, int(m.group(2)))
    out = []
    for i in range(len(regions)):
        ins, cyc = seen.get(i, (0, 0))            # a region llvm-mca skipped entirely
        skipped = max(counts[i] - ins // ITERATIONS, 0)   # implicit ITs add some
        out.append(extra[i] + cyc / ITERATIONS + UNSCHEDULED_CYCLES * skipped)
    return out


# ----------------------------------------------------------------------------- cache
_CACHE: Dict[str, Dict[str, float]] = {}


def _cache_path(model: _Model) -> Path:
    h = hashlib.sha256(repr((model.name, model.mca, ITERATIONS, RVV_CYCLES,
                             UNSCHEDULED_CYCLES, "v2")).encode()).hexdigest()[:16]
    return _tc.build_root() / "cyclemodel" / f"blocks-{h}.json"


def _load_cache(model: _Model) -> Dict[str, float]:
    path = _cache_path(model)
    if str(path) not in _CACHE:
        try:
            _CACHE[str(path)] = json.loads(path.read_text())
        except (OSError, ValueError):
            _CACHE[str(path)] = {}
    return _CACHE[str(path)]


def _save_cache(model: _Model, new: Dict[str, float]) -> None:
    path = _cache_path(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        merged = json.loads(path.read_text())       # other processes' entries
    except (OSError, ValueError):
        merged = {}
    merged.update(_load_cache(model))
    merged.update(new)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "w") as f:
        json.dump(merged, f)
    os.replace(tmp, path)
    _CACHE[str(path)] = merged


def _key(body: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(body).encode()).hexdigest()[:24]


# ----------------------------------------------------------------------------- API
def core_cycles(target: str, elf: "str | Path", blocks: Sequence) -> Tuple[int, str]:
    """(core cycles of the measured window, model name) from the plugin's blocks."""
    cycles, name = block_cycles(target, elf, blocks)
    return int(round(math.fsum(cycles))), name


def block_cycles(target: str, elf: "str | Path", blocks: Sequence) -> Tuple[List[float], str]:
    """(core cycles of each block over all its executions, model name)."""
    model = _model(get_target(target).name)
    ran = [b for b in blocks if b.execs]
    if not ran:
        return [0.0] * len(blocks), model.name
    elf = Path(elf)
    insns = _disassemble(model, elf, min(b.start for b in ran),
                         max(b.end for b in ran) + 8)
    addrs = sorted(insns)
    bodies = [_block_text(insns, addrs, b.start, b.end, b.insns, f"{target}: {elf.name}")
              for b in ran]
    cache = _load_cache(model)
    keys = [_key(body) for body in bodies]
    todo = {}
    for k, body in zip(keys, bodies):
        if k not in cache and k not in todo:
            todo[k] = body
    if todo:
        if model.mca is None:
            cycles = [_fallback_cycles(b) for b in todo.values()]
        else:
            cycles = _run_mca(model, list(todo.values()))
        new = dict(zip(todo, cycles))
        cache.update(new)
        _save_cache(model, new)
    per_block = iter([cache[k] * b.execs for k, b in zip(keys, ran)])
    return [next(per_block) if b.execs else 0.0 for b in blocks], model.name


def estimate(target: str, elf: "str | Path", blocks: Sequence,
             weight_bytes_read: Optional[int]) -> CycleEstimate:
    core, name = core_cycles(target, elf, blocks)
    return CycleEstimate(core_cycles=core,
                         weight_transactions=weight_transactions(weight_bytes_read),
                         model=name)
