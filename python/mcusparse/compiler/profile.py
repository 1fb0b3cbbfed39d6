"""Per-operator profile of a compiled model: where its instructions, modeled
cycles and weight bytes go.

    from mcusparse.compiler import profile
    p = profile.profile("out/", x)          # runs the model once on the emulator
    print(profile.format_table(p))
    profile.plot(p, "profile.png")
    q = profile.profile("dense_out/", x)    # another build of the same model
    print(profile.format_comparison(q, p))  # per operator, side by side
    profile.plot_comparison(q, p, "both.png")

How an executed instruction finds its operator: the front end records the
lines of the module text each source operator emitted (report.json
"operators"), the MLIR locations keep those lines through the lowering, and
model.o's DWARF line table maps every instruction address back to one
(compiler/__init__.py). The plugin's per-block execution counts then give
each instruction's count. Modeled core cycles and weight bytes are counted per
block (cyclemodel, the plugin), so a block shared by two operators splits them
by its instructions. Instructions the line table puts on no operator's lines
(the entry's set-up, code LLVM merged from several operators) are one
"(shared)" row; code outside the model function (memset, memcpy) has a row
per function, with the rows whose instructions called it and how often.
"""
from __future__ import annotations

import bisect
import re
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np

from mcusparse.compiler.program import ProgramRun

SHARED = "(shared)"
_LINE = re.compile(r"^; (.*):(\d+)(?::\d+)?$")
_INSN = re.compile(r"^\s*([0-9a-f]+):\s")
_TARGET = re.compile(r"<([^>+]+)>")      # a branch or call to a symbol's start


class ProfileError(RuntimeError):
    """The model cannot be profiled (the message says why)."""


@dataclass
class OperatorCost:
    label: str                  # "3 CONV_2D", "(shared)" or a library function
    op: str                     # CONV_2D, ... ("" for the other rows)
    index: int                  # source operator index (-1 for the other rows)
    format: str                 # the layer's weight format ("" if none)
    instructions: int = 0
    core_cycles: float = 0.0
    weight_bytes: float = 0.0
    # For a function outside the model: calls (and tail calls) into it, by
    # the row of the calling instruction.
    callers: Dict[str, int] = field(default_factory=dict)

    def modeled_cycles(self, wait_states: int) -> float:
        """Core cycles + wait states x this row's share of 8-byte weight transactions."""
        return self.core_cycles + wait_states * self.weight_bytes / 8


@dataclass
class Profile:
    model: str
    target: str
    wait_states: int
    run: ProgramRun
    rows: List[OperatorCost] = field(default_factory=list)

    @property
    def instructions(self) -> int:
        return sum(r.instructions for r in self.rows)

    @property
    def attributed(self) -> float:
        """Fraction of the instructions charged to a source operator."""
        total = self.instructions
        return sum(r.instructions for r in self.rows if r.index >= 0) / total if total else 0.0

    def to_json(self) -> dict:
        return {"model": self.model, "target": self.target, "wait_states": self.wait_states,
                "instructions": self.run.instructions,
                "weight_bytes_read": self.run.weight_bytes_read,
                "core_cycles": self.run.core_cycles,
                "operators": [{"label": r.label, "op": r.op, "index": r.index,
                               "format": r.format, "instructions": r.instructions,
                               "core_cycles": round(r.core_cycles, 1),
                               "weight_bytes": round(r.weight_bytes, 1),
                               "modeled_cycles": round(r.modeled_cycles(self.wait_states), 1),
                               **({"callers": r.callers} if r.callers else {})}
                              for r in self.rows]}


def _objdump_lines(target: str, elf: Path, lo: int,
                   hi: int) -> Tuple[List[int], List[Tuple[str, int]], List[str]]:
    """Instruction addresses in [lo, hi) in order, each one's (file, line), and the
    symbol each one branches to the start of ("" if none)."""
    from mcusparse.cyclemodel import _riscv_llvm
    from mcusparse.targets import get_target
    from mcusparse.targets.toolchain import llvm_tool
    t = get_target(target)
    if t.name == "cortex-m55":
        objdump, attrs = llvm_tool("llvm-objdump"), "+mve.fp"
    else:
        # The wheel's LLVM has no RISC-V back end; the one set-up installs does.
        found = _riscv_llvm()
        if found is None:
            raise ProfileError(f"{t.name}: no llvm-objdump with RISC-V (set-up installs "
                               "llvm-19)")
        objdump, attrs = found[1], "+m,+c" + (",+a,+f,+d,+v" if t.name == "rv32gcv" else "")
    cmd = [objdump, "-d", "-l", "--no-show-raw-insn", f"--mattr={attrs}",
           f"--start-address={lo:#x}", f"--stop-address={hi:#x}", str(elf)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise ProfileError(f"disassembling {elf} failed:\n{proc.stderr[-2000:]}")
    addrs, where, targets = [], [], []
    current = ("", 0)
    for line in proc.stdout.splitlines():
        m = _LINE.match(line)
        if m:
            current = (m.group(1), int(m.group(2)))
            continue
        if line.endswith(">:"):          # a new symbol: its lines start over
            current = ("", 0)
            continue
        m = _INSN.match(line)
        if m:
            addrs.append(int(m.group(1), 16))
            where.append(current)
            t = _TARGET.search(line)
            targets.append(t.group(1) if t else "")
    return addrs, where, targets


def _functions(elf: Path) -> Dict[str, int]:
    """Function name -> start address (Thumb bit cleared)."""
    from mcusparse.targets.toolchain import read_symbols
    return {name: s.address & ~1 for name, s in read_symbols(elf).items() if s.kind in "Tt"}


def attribute(report: dict, target: str, elf: Path, blocks: Sequence,
              block_cycles: Sequence[float], entry: str = "mcusparse_model") -> List[OperatorCost]:
    """Rows of the profile from the plugin's blocks (see the module doc)."""
    spans = report.get("operators") or []
    if not spans:
        raise ProfileError(f"{report.get('model', 'model')}: its report.json has no operator "
                           "line spans (compiled before profiles existed): compile it again")
    firsts = [s["first_line"] for s in spans]
    formats = {l["operator"]: l["format"] + (" (weights once)" if l.get("weights_once") else "")
               for l in report.get("layers", [])}
    rows: Dict[str, OperatorCost] = {}

    def row_for(key: str, **kw) -> OperatorCost:
        if key not in rows:
            rows[key] = OperatorCost(label=key, **kw)
        return rows[key]

    ran = [(b, c) for b, c in zip(blocks, block_cycles) if b.execs]
    if not ran:
        return []
    addrs, where, targets = _objdump_lines(target, elf, min(b.start for b, _ in ran),
                                           max(b.end for b, _ in ran) + 8)
    symbols = _functions(elf)
    starts = sorted((a, name) for name, a in symbols.items())
    sym_addrs, sym_names = [a for a, _ in starts], [n for _, n in starts]

    def function_at(address: int) -> str:
        # Aliases (bzero, __aeabi_memclr8) share an address: one name for all.
        s = bisect.bisect_right(sym_addrs, address) - 1
        return sym_names[s] if s >= 0 else "?"
    calls: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for b, cycles in ran:
        at = bisect.bisect_left(addrs, b.start)
        insns = list(range(at, min(at + b.insns, len(addrs))))
        if len(insns) != b.insns or addrs[at] != b.start:
            raise ProfileError(f"{target}: block {b.start:#x} does not start an instruction "
                               "of the disassembly")
        share = defaultdict(int)
        for i in insns:
            file, line = where[i]
            func = function_at(addrs[i])
            k = bisect.bisect_right(firsts, line) - 1 if func == entry else -1
            if func != entry:
                row = row_for(func, op="", index=-1, format="")
            elif k >= 0 and line <= spans[k]["last_line"]:
                sp = spans[k]
                label = f"{sp['index']} {sp['op']}" if sp["index"] >= 0 else sp["op"]
                row = row_for(label, op=sp["op"], index=sp["index"],
                              format=formats.get(sp["index"], ""))
            else:
                row = row_for(SHARED, op="", index=-1, format="")
            share[row.label] += 1
            if targets[i] in symbols:
                callee = function_at(symbols[targets[i]])
                if callee != func:
                    calls[callee][row.label] += b.execs
        for label, n in share.items():
            r = rows[label]
            r.instructions += n * b.execs
            r.core_cycles += cycles * n / b.insns
            r.weight_bytes += b.weight_bytes * n / b.insns
    for callee, by in calls.items():
        if callee in rows and callee != entry:
            rows[callee].callers = dict(sorted(by.items(), key=lambda kv: -kv[1]))
    ops = sorted((r for r in rows.values() if r.index >= 0), key=lambda r: r.index)
    rest = sorted((r for r in rows.values() if r.index < 0), key=lambda r: -r.instructions)
    return ops + rest


def profile(out_dir: Union[str, Path], *inputs: np.ndarray, wait_states: int = 4,
            timeout: float = 300.0) -> Profile:
    """Run the compiled model in out_dir once and charge its costs to its operators."""
    from mcusparse import compiler, cyclemodel
    cm = compiler.load(out_dir)
    if not inputs:
        from mcusparse.compiler.reference import random_inputs
        inputs = tuple(random_inputs(cm.inputs, seed=0))
    res = cm.run(*inputs, timeout=timeout)
    if not res.blocks:
        raise ProfileError(f"{cm.target}: the run of {out_dir} counted no blocks")
    cycles, _ = cyclemodel.block_cycles(cm.target, res.elf, res.blocks)
    rows = attribute(cm.report, cm.target, res.elf, res.blocks, cycles)
    return Profile(model=cm.report.get("model", str(out_dir)), target=cm.target,
                   wait_states=wait_states, run=res, rows=rows)


def format_table(p: Profile) -> str:
    """A markdown table, one row per operator, then the shared code and library calls."""
    total_i = max(p.instructions, 1)
    total_m = max(sum(r.modeled_cycles(p.wait_states) for r in p.rows), 1e-9)
    ws = p.wait_states
    out = [f"{p.model} on {p.target}: {p.run.instructions:,} instructions, "
           f"{p.run.modeled_cycles(ws):,} modeled cycles at {ws} wait states; "
           f"{p.attributed:.1%} of the instructions charged to an operator",
           "",
           f"| operator | format | instructions | share | modeled cycles ({ws} ws) | share "
           "| weight bytes | called from |",
           "|---|---|---:|---:|---:|---:|---:|---|"]
    for r in p.rows:
        m = r.modeled_cycles(ws)
        callers = ", ".join(f"{k} ({n:,}x)" for k, n in r.callers.items()) or "-"
        out.append(f"| {r.label} | {r.format or '-'} | {r.instructions:,} | "
                   f"{r.instructions / total_i:.1%} | {m:,.0f} | {m / total_m:.1%} | "
                   f"{r.weight_bytes:,.0f} | {callers} |")
    return "\n".join(out)


def plot(p: Profile, path: Union[str, Path]) -> None:
    """Horizontal bars: each row's modeled cycles, core and weight wait states stacked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = list(reversed(p.rows))
    labels = [r.label + (f" [{r.format}]" if r.format else "") for r in rows]
    core = [r.core_cycles for r in rows]
    wait = [p.wait_states * r.weight_bytes / 8 for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(rows) + 1.2))
    ax.barh(labels, core, label="core cycles (llvm-mca)")
    ax.barh(labels, wait, left=core, label=f"weight wait states ({p.wait_states} ws)")
    ax.set_xlabel("modeled cycles")
    ax.set_title(f"{p.model} on {p.target}: modeled cycles per operator")
    ax.legend(loc="lower right", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _paired(a: Profile, b: Profile) -> List[Tuple[str, OperatorCost, OperatorCost]]:
    """The rows of two builds of one model, matched by label (operators in
    source order, then the other rows); a row missing in one build is zero."""
    by_a = {r.label: r for r in a.rows}
    by_b = {r.label: r for r in b.rows}
    labels = [r.label for r in a.rows] + [r.label for r in b.rows if r.label not in by_a]
    ops = sorted((l for l in labels if (by_a.get(l) or by_b.get(l)).index >= 0),
                 key=lambda l: (by_a.get(l) or by_b.get(l)).index)
    rest = [l for l in labels if (by_a.get(l) or by_b.get(l)).index < 0]

    def row(l, r, like):
        return r or OperatorCost(label=l, op=like.op, index=like.index, format="")
    return [(l, row(l, by_a.get(l), by_b.get(l)), row(l, by_b.get(l), by_a.get(l)))
            for l in ops + rest]


def format_comparison(a: Profile, b: Profile, names: Tuple[str, str] = ("a", "b")) -> str:
    """Two builds of one model side by side (a over b: a's cost / b's)."""
    if a.model != b.model:
        raise ProfileError(f"profiles of different models: {a.model} and {b.model}")
    ws = b.wait_states
    na, nb = names
    target = a.target if a.target == b.target else f"{a.target} / {b.target}"
    out = [f"{a.model} on {target}, A = {na}, B = {nb}: A {a.run.instructions:,} "
           f"instructions, {a.run.modeled_cycles(ws):,} modeled cycles at {ws} ws; B "
           f"{b.run.instructions:,}, {b.run.modeled_cycles(ws):,}",
           "",
           f"| operator | format A / B | instructions A / B | A / B "
           f"| modeled cycles ({ws} ws) A / B | A / B |",
           "|---|---|---|---:|---|---:|"]

    def ratio(x, y):
        return f"{x / y:.2f}x" if y else "-"
    for label, ra, rb in _paired(a, b):
        ma, mb = ra.modeled_cycles(ws), rb.modeled_cycles(ws)
        out.append(f"| {label} | {ra.format or '-'} / {rb.format or '-'} | "
                   f"{ra.instructions:,} / {rb.instructions:,} | "
                   f"{ratio(ra.instructions, rb.instructions)} | {ma:,.0f} / {mb:,.0f} | "
                   f"{ratio(ma, mb)} |")
    return "\n".join(out)


def plot_comparison(a: Profile, b: Profile, path: Union[str, Path],
                    names: Tuple[str, str] = ("a", "b")) -> None:
    """Paired horizontal bars: each row's modeled cycles in both builds."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    pairs = list(reversed(_paired(a, b)))
    ws = b.wait_states
    ys = np.arange(len(pairs))
    fig, ax = plt.subplots(figsize=(8, 0.38 * len(pairs) + 1.2))
    ax.barh(ys + 0.2, [ra.modeled_cycles(ws) for _, ra, _ in pairs], height=0.4,
            label=names[0])
    ax.barh(ys - 0.2, [rb.modeled_cycles(ws) for _, _, rb in pairs], height=0.4,
            label=names[1])
    ax.set_yticks(ys, [label for label, _, _ in pairs], fontsize=7)
    ax.set_xlabel(f"modeled cycles at {ws} wait states")
    ax.set_title(f"{a.model} on {a.target}: {names[0]} and {names[1]} per operator")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
