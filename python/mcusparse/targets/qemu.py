"""Run a program on its target's emulator with the instruction-counting plugin.

    result = run("cortex-m55", elf)
    result.exit_code, result.stdout_text        # main's return value, semihosting output
    result.instructions                          # executed between the benchmark markers
    result.weight_bytes_read                     # bytes loaded from the .weights range
    result.blocks                                # per translation block counts in the window

Bare-metal targets run under QEMU system emulation with semihosting; the guest's
console output goes to a private chardev file (so QEMU's own messages stay apart)
and main's return value becomes QEMU's exit code. The plugin
(build/qemu-plugin/libmcusparse_count.so, built by scripts/setup-emulators.sh) gets
the marker and weight addresses from the ELF symbol table. `host` programs run
natively, without counts.

A timeout, a guest fault (the start-up code's fault handlers print a line starting
with FAULT_TAG and exit with code 125) or a non-zero exit raise `EmulatorError`
(subclasses `EmulatorTimeout`, `GuestFault`) naming the target and the program.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from . import Target, get_target
from .toolchain import SETUP_HINT, Symbol, build_root, read_symbols

BEGIN_MARKER = "mcusparse_bench_begin"
END_MARKER = "mcusparse_bench_end"
WEIGHTS_START = "__weights_start"
WEIGHTS_END = "__weights_end"
FAULT_TAG = "*** mcusparse: guest fault: "   # runtime/common/semihost.h MCUSPARSE_FAULT_TAG
FAULT_EXIT_CODE = 125                          # runtime/common/semihost.h MCUSPARSE_EXIT_FAULT
PLUGIN_NAME = "libmcusparse_count.so"


class EmulatorError(RuntimeError):
    """A program did not run to a clean exit on its target."""

    def __init__(self, message: str, *, target: str, program: str,
                 exit_code: Optional[int] = None, output: str = "", qemu_stderr: str = "",
                 command: Sequence[str] = ()):
        super().__init__(message)
        self.target = target
        self.program = program
        self.exit_code = exit_code
        self.output = output
        self.qemu_stderr = qemu_stderr
        self.command = list(command)


class EmulatorTimeout(EmulatorError):
    """The program did not finish within the time limit; the emulator was killed."""


class GuestFault(EmulatorError):
    """The program faulted (HardFault/BusFault/..., RISC-V trap) or was killed by a signal."""


@dataclass(frozen=True)
class Block:
    """A translation block executed inside the measured window."""
    start: int      # address of its first instruction
    end: int        # one past its last instruction's bytes
    insns: int      # instructions in the block
    execs: int      # executions inside the window
    weight_bytes: int = 0   # loaded from the weights range by its instructions, inside


@dataclass
class RunResult:
    target: str
    program: str
    exit_code: int
    stdout_text: str                        # the program's console (semihosting) output
    instructions: Optional[int]             # None: no complete begin..end window
    weight_bytes_read: Optional[int]        # None: no weights range
    blocks: List[Block] = field(default_factory=list)
    stats: Dict[str, Union[int, str]] = field(default_factory=dict)  # all plugin results
    weights_range: Optional[Tuple[int, int]] = None
    command: List[str] = field(default_factory=list)

    @property
    def window_complete(self) -> bool:
        return self.instructions is not None


def plugin_path() -> Path:
    """The counting plugin; MCUSPARSE_QEMU_PLUGIN overrides the default location."""
    env = os.environ.get("MCUSPARSE_QEMU_PLUGIN")
    return Path(env) if env else build_root() / "qemu-plugin" / PLUGIN_NAME


def _marker_address(target: Target, syms: Dict[str, Symbol], name: str) -> Optional[int]:
    sym = syms.get(name)
    if sym is None:
        return None
    return sym.address & ~1 if target.thumb else sym.address


def _function_at(syms: Dict[str, Symbol], pc: int) -> Optional[str]:
    best = None
    for name, s in syms.items():
        if s.kind in "Tt" and s.size:
            lo = s.address & ~1
            if lo <= pc < lo + s.size:
                best = name
    return best


# Cortex-M Configurable Fault Status Register bits, for readable fault messages.
_CFSR_BITS = {
    0: "IACCVIOL instruction access violation", 1: "DACCVIOL data access violation",
    3: "MUNSTKERR", 4: "MSTKERR", 5: "MLSPERR",
    8: "IBUSERR instruction bus error", 9: "PRECISERR data bus error (address in BFAR)",
    10: "IMPRECISERR imprecise data bus error", 11: "UNSTKERR", 12: "STKERR",
    13: "LSPERR", 16: "UNDEFINSTR undefined instruction", 17: "INVSTATE invalid state",
    18: "INVPC invalid EXC_RETURN", 19: "NOCP coprocessor (FPU/MVE) disabled",
    20: "STKOF stack overflow (MSPLIM)", 24: "UNALIGNED unaligned access",
    25: "DIVBYZERO division by zero",
}


def _explain_cfsr(line: str) -> str:
    for tok in line.split():
        if tok.startswith("CFSR="):
            cfsr = int(tok[5:], 16)
            names = [name for bit, name in _CFSR_BITS.items() if cfsr >> bit & 1]
            return f" [{'; '.join(names)}]" if names else ""
    return ""


def _parse_stats(text: str) -> Dict[str, Union[int, str]]:
    stats: Dict[str, Union[int, str]] = {}
    for line in text.splitlines():
        key, sep, val = line.partition("=")
        if not sep:
            continue
        try:
            stats[key] = int(val, 0)
        except ValueError:
            stats[key] = val
    return stats


def _parse_blocks(text: str) -> List[Block]:
    blocks = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        start, end, insns, execs, weight_bytes = line.split(",")
        blocks.append(Block(int(start, 16), int(end, 16), int(insns), int(execs),
                            int(weight_bytes)))
    return blocks


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def qemu_command(target: "str | Target", elf: "str | Path", *, console: "str | Path",
                 plugin_args: Optional[Sequence[str]] = None,
                 qemu_args: Sequence[str] = ()) -> List[str]:
    """The QEMU command line for a bare-metal program (console: semihosting output file)."""
    target = get_target(target)
    cmd = [*target.qemu,
           "-chardev", f"file,id=mcusparse_console,path={console}",
           "-semihosting-config", "enable=on,target=native,chardev=mcusparse_console",
           *qemu_args, "-kernel", str(elf)]
    if plugin_args is not None:
        cmd += ["-plugin", ",".join([str(plugin_path()), *plugin_args])]
    return cmd


def run(target: "str | Target", elf: "str | Path", *, timeout: float = 60.0,
        weights_range: "str | Tuple[int, int] | None" = "auto",
        markers: Optional[Tuple[str, str]] = (BEGIN_MARKER, END_MARKER),
        windows: str = "first", check: bool = True, program: Optional[str] = None,
        qemu_args: Sequence[str] = ()) -> RunResult:
    """Run `elf` on `target` and return its output and counts.

    weights_range: "auto" takes [__weights_start, __weights_end) from the ELF (when the
                   section is not empty); a (lo, hi) tuple; or None.
    markers:       begin/end marker symbols; None counts nothing.
    windows:       "first" counts the first begin..end window, "all" adds up all.
    check:         raise EmulatorError on a non-zero exit code (timeouts and faults
                   always raise).
    """
    target = get_target(target)
    elf = Path(elf).resolve()
    program = program or elf.name
    if not elf.is_file():
        raise EmulatorError(f"{target.name}: program {elf} does not exist",
                            target=target.name, program=program)
    if not target.bare_metal:
        return _run_native(target, elf, timeout=timeout, check=check, program=program)

    syms = read_symbols(elf)
    plugin_args: List[str] = [f"windows={windows}"]
    if markers is not None:
        begin = _marker_address(target, syms, markers[0])
        end = _marker_address(target, syms, markers[1])
        if begin is not None and end is not None:
            if begin == end:
                raise EmulatorError(f"{target.name}: {program}: markers {markers} share one "
                                    "address (identical code folding?)",
                                    target=target.name, program=program)
            plugin_args += [f"begin={begin:#x}", f"end={end:#x}"]
    wr: Optional[Tuple[int, int]] = None
    if weights_range == "auto":
        lo, hi = syms.get(WEIGHTS_START), syms.get(WEIGHTS_END)
        if lo is not None and hi is not None and hi.address > lo.address:
            wr = (lo.address, hi.address)
    elif weights_range is not None:
        wr = (int(weights_range[0]), int(weights_range[1]))
    if wr is not None:
        plugin_args += [f"wlo={wr[0]:#x}", f"whi={wr[1]:#x}"]

    plugin = plugin_path()
    if not plugin.is_file():
        raise EmulatorError(f"{target.name}: counting plugin {plugin} is missing: {SETUP_HINT}",
                            target=target.name, program=program)

    with tempfile.TemporaryDirectory(prefix="mcusparse-run-") as tmp:
        tmpd = Path(tmp)
        console, out, blk = tmpd / "console.txt", tmpd / "counts.txt", tmpd / "blocks.csv"
        plugin_args += [f"out={out}", f"blocks={blk}"]
        cmd = qemu_command(target, elf, console=console, plugin_args=plugin_args,
                           qemu_args=qemu_args)
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=timeout)
        except FileNotFoundError:
            raise EmulatorError(f"{target.name}: {target.qemu[0]} not found: {SETUP_HINT}",
                                target=target.name, program=program, command=cmd) from None
        except subprocess.TimeoutExpired as exc:
            text = console.read_text(errors="replace") if console.exists() else ""
            raise EmulatorTimeout(
                f"{target.name}: {program} did not finish within {timeout:g} s "
                f"(emulator killed). Output so far:\n{_tail(text)}",
                target=target.name, program=program, output=text,
                qemu_stderr=(exc.stderr or b"").decode(errors="replace"), command=cmd) from None
        text = console.read_text(errors="replace") if console.exists() else ""
        qemu_err = (proc.stderr + proc.stdout).decode(errors="replace")
        stats = _parse_stats(out.read_text()) if out.exists() else {}
        blocks = _parse_blocks(blk.read_text()) if blk.exists() else []

    rc = proc.returncode
    if FAULT_TAG in text:
        line = text[text.index(FAULT_TAG):].splitlines()[0]
        where = ""
        for tok in line.split():
            if tok.startswith(("pc=", "mepc=")):
                fn = _function_at(syms, int(tok.split("=")[1], 16))
                where = f" in {fn}()" if fn else ""
        raise GuestFault(f"{target.name}: {program} faulted{where}: "
                         f"{line[len(FAULT_TAG):]}{_explain_cfsr(line)} (exit code {rc})",
                         target=target.name, program=program, exit_code=rc, output=text,
                         qemu_stderr=qemu_err, command=cmd)
    if rc < 0:
        # e.g. "qemu: fatal: Lockup: can't escalate 3 to HardFault" (a fault while the
        # fault handler itself could not run): QEMU dumps the registers and aborts.
        fatal = [ln for ln in qemu_err.splitlines() if "fatal:" in ln]
        detail = qemu_err[qemu_err.index(fatal[0]):] if fatal else qemu_err
        raise GuestFault(f"{target.name}: {program}: emulator stopped by signal {-rc}: "
                         f"{chr(10).join(detail.splitlines()[:6]) if fatal else _tail(detail)}",
                         target=target.name, program=program, exit_code=rc, output=text,
                         qemu_stderr=qemu_err, command=cmd)
    if not stats:
        raise EmulatorError(f"{target.name}: {program}: no results from the counting plugin "
                            f"(exit code {rc}); QEMU said:\n{_tail(qemu_err)}",
                            target=target.name, program=program, exit_code=rc, output=text,
                            qemu_stderr=qemu_err, command=cmd)
    if rc != 0 and check:
        raise EmulatorError(f"{target.name}: {program} exited with code {rc}. Output:\n"
                            f"{_tail(text)}" + (f"\nQEMU: {_tail(qemu_err)}" if qemu_err.strip()
                                                else ""),
                            target=target.name, program=program, exit_code=rc, output=text,
                            qemu_stderr=qemu_err, command=cmd)
    complete = int(stats.get("windows_closed", 0)) >= 1
    return RunResult(
        target=target.name, program=program, exit_code=rc, stdout_text=text,
        instructions=int(stats["instructions"]) if complete else None,
        weight_bytes_read=int(stats.get("weight_bytes_read", 0)) if wr is not None else None,
        blocks=blocks, stats=stats, weights_range=wr, command=cmd)


def _run_native(target: Target, elf: Path, *, timeout: float, check: bool,
                program: str) -> RunResult:
    cmd = [str(elf)]
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        text = (exc.stdout or b"").decode(errors="replace")
        raise EmulatorTimeout(f"{target.name}: {program} did not finish within {timeout:g} s "
                              f"(killed). Output so far:\n{_tail(text)}", target=target.name,
                              program=program, output=text, command=cmd) from None
    text = proc.stdout.decode(errors="replace")
    if proc.returncode < 0:
        raise GuestFault(f"{target.name}: {program} killed by signal {-proc.returncode}. "
                         f"Output:\n{_tail(text)}", target=target.name, program=program,
                         exit_code=proc.returncode, output=text, command=cmd)
    if proc.returncode != 0 and check:
        raise EmulatorError(f"{target.name}: {program} exited with code {proc.returncode}. "
                            f"Output:\n{_tail(text)}", target=target.name, program=program,
                            exit_code=proc.returncode, output=text, command=cmd)
    return RunResult(target=target.name, program=program, exit_code=proc.returncode,
                     stdout_text=text, instructions=None, weight_bytes_read=None, command=cmd)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """python -m mcusparse.targets.qemu TARGET ELF: run and print output and counts."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m mcusparse.targets.qemu",
                                     description=main.__doc__)
    parser.add_argument("target")
    parser.add_argument("elf")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--windows", choices=("first", "all"), default="first")
    parser.add_argument("--blocks", action="store_true", help="print the per-block counts")
    parser.add_argument("--show-command", action="store_true", help="print the QEMU command")
    args = parser.parse_args(argv)
    try:
        res = run(args.target, args.elf, timeout=args.timeout, windows=args.windows,
                  check=False)
    except EmulatorError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    sys.stdout.write(res.stdout_text)
    if args.show_command:
        print("command:", " ".join(res.command))
    for key, val in res.stats.items():
        hexa = key in ("begin", "end", "weights_lo", "weights_hi") and isinstance(val, int)
        print(f"{key}={val:#x}" if hexa else f"{key}={val}")
    if args.blocks:
        for b in res.blocks:
            print(f"block {b.start:#x}..{b.end:#x} insns={b.insns} execs={b.execs}")
    return res.exit_code


if __name__ == "__main__":
    raise SystemExit(main())


def hex_sections(text: str, begin: str, done: str):
    """Binary results a harness printed as hex: a line `<begin> <index> [fields...]`
    opens section <index>, hex lines follow, a line starting with `done` ends
    the output. Returns ({index: (fields after the index, bytes)}, whether
    `done` was seen)."""
    sections: Dict[int, Tuple[List[str], bytearray]] = {}
    cur, finished = None, False
    for line in text.splitlines():
        if line.startswith(begin + " "):
            head = line.split()[1:]
            cur = int(head[0])
            sections[cur] = (head[1:], bytearray())
        elif line.startswith(done):
            finished, cur = True, None
        elif cur is not None and re.fullmatch(r"[0-9a-f]+", line.strip()):
            sections[cur][1].extend(bytes.fromhex(line.strip()))
    return {i: (f, bytes(b)) for i, (f, b) in sections.items()}, finished
