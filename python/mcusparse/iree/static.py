"""IREE static libraries on the bare-metal targets (cortex-m55, rv32imc, rv32gcv).

The MCU targets have no IREE runtime. iree-compile writes the module's
executables as one static library (`<name>_library_query`, IREE's
executable-library ABI) and we run the host side ourselves:

1. `extract_plan()` reads the module's IR at the end of the `hal` phase
   (`--dump-compilation-phases-to`, compiled with memoization and indirect
   command buffers off, so the public function records its command buffer
   inline). From it come the buffers (function arguments, transient
   allocations and subspans of them), the ops in order (dispatches with their
   export, workgroup count, constants and bindings; buffer fills and copies)
   and the results (`hal.buffer_view.create` of a buffer range).
2. `plan_c()` writes that plan as C: every buffer a statically allocated,
   64-byte aligned array (inputs initialised with their values, chosen inputs
   in `.weights`, transients and results in `.bss`), every op a table entry
   pointing at them. Nothing is allocated at run time.
3. `build_program()` links it with runtime/iree/harness.c, the library object
   and our bare-metal runtime (`mcusparse.targets.toolchain.build`), and
   `run_program()` runs it under QEMU with the counting plugin: the window
   between the benchmark markers covers all ops of the module (every
   workgroup call of every dispatch), nothing else.
"""
from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mcusparse.targets import qemu as _qemu
from mcusparse.targets import toolchain as _tc
from mcusparse.targets.qemu import EmulatorError

from .compile import CompiledModule, IreeError

__all__ = ["Plan", "extract_plan", "plan_c", "build_program", "run_program", "StaticRun",
           "IreePlanError"]

_CACHE_VERSION = "1"
BUFFER_ALIGN = 64          # IREE declares bindings alignment(64)
# The harness and plan are C; clang 22 (ziglang) vectorises the buffer fill (MVE / RVV)
# where GCC 12 emits a scalar loop. Part of the program cache key.
HARNESS_COMPILER = "clang"
HARNESS_OPT = "-O2"


class IreePlanError(IreeError):
    """The module's host side uses something the bare-metal harness cannot replay."""


# ----------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class BufferRef:
    root: str                  # "in<N>" (argument N) or "t<N>" (transient N)
    offset: int


@dataclass(frozen=True)
class Binding:
    buffer: BufferRef
    length: int


@dataclass(frozen=True)
class Dispatch:
    library: str               # executable (static library) name
    export: str                # export function name
    workgroups: Tuple[int, int, int]
    constants: Tuple[int, ...]
    bindings: Tuple[Binding, ...]


@dataclass(frozen=True)
class Fill:
    target: Binding
    pattern: int
    pattern_length: int


@dataclass(frozen=True)
class Copy:
    source: BufferRef
    target: BufferRef
    length: int


@dataclass(frozen=True)
class Output:
    buffer: BufferRef
    length: int
    shape: Tuple[int, ...]
    element_type: str          # MLIR element type: "i32", "i8", "f32", ...


@dataclass
class Plan:
    function: str
    num_inputs: int
    input_min_bytes: Dict[int, int]
    transients: List[int]                      # sizes in bytes
    ops: List[object] = field(default_factory=list)
    outputs: List[Output] = field(default_factory=list)

    @property
    def dispatches(self) -> List[Dispatch]:
        return [op for op in self.ops if isinstance(op, Dispatch)]

    @property
    def libraries(self) -> List[str]:
        seen: List[str] = []
        for d in self.dispatches:
            if d.library not in seen:
                seen.append(d.library)
        return seen


_ELEMENT_DTYPES = {"i8": np.int8, "si8": np.int8, "ui8": np.uint8, "i16": np.int16,
                   "i32": np.int32, "si32": np.int32, "ui32": np.uint32, "i64": np.int64,
                   "f32": np.float32, "f16": np.float16, "f64": np.float64}


def element_dtype(element_type: str) -> np.dtype:
    try:
        return np.dtype(_ELEMENT_DTYPES[element_type])
    except KeyError:
        raise IreePlanError(f"result element type {element_type} is not supported") from None


def _statements(body: str) -> List[str]:
    """Join the body's lines into statements (ops spanning lines, e.g. bindings([...]))."""
    stmts, cur, depth = [], [], 0
    for line in body.splitlines():
        s = line.strip()
        if not s or s.startswith("//"):
            continue
        cur.append(s)
        depth += _depth(s)
        if depth <= 0:
            stmts.append(" ".join(cur))
            cur, depth = [], 0
    if cur:
        stmts.append(" ".join(cur))
    return stmts


def _depth(s: str) -> int:
    d, in_str = 0, False
    for i, ch in enumerate(s):
        if ch == '"' and (i == 0 or s[i - 1] != "\\"):
            in_str = not in_str
        elif not in_str:
            d += {"(": 1, "[": 1, ")": -1, "]": -1}.get(ch, 0)
    return d


def _function_body(text: str, function: Optional[str]) -> Tuple[str, str, str]:
    """(name, signature line, body) of the public function (or the only one)."""
    sigs = list(re.finditer(r"^(\s*)util\.func public @([\w$.-]+)\((.*)$", text, re.M))
    if function is not None:
        sigs = [m for m in sigs if m.group(2) == function]
    if not sigs:
        raise IreePlanError(f"no public function {function or ''} in the hal-phase IR")
    if len(sigs) > 1:
        raise IreePlanError("the module has several public functions "
                            f"({', '.join(m.group(2) for m in sigs)}): name one")
    m = sigs[0]
    indent = m.group(1)
    end = re.compile(r"^" + re.escape(indent) + r"\}\s*$", re.M).search(text, m.end())
    if end is None:
        raise IreePlanError(f"cannot find the end of @{m.group(2)} in the hal-phase IR")
    return m.group(2), m.group(0), text[m.end():end.start()]


_VAL = r"%[\w$.#-]+"


def extract_plan(hal_text: str, function: Optional[str] = None) -> Plan:
    """The host-side plan of a module's public function, from its hal-phase IR."""
    libnames = {}
    for m in re.finditer(r"hal\.executable private @([\w$.-]+) \{\s*hal\.executable\.binary "
                         r"public @[\w$.-]+ <format = \"static\", data = dense<\[([\d, ]+)\]>",
                         hal_text):
        raw = bytes(int(b) for b in m.group(2).split(","))
        libnames[m.group(1)] = raw.split(b"\0")[0].decode()
    name, sig, body = _function_body(hal_text, function)
    num_inputs = len(re.findall(r"%arg(\d+): !hal\.buffer_view", sig.split("->")[0]))

    consts: Dict[str, int] = {}
    etypes: Dict[str, str] = {}
    buffers: Dict[str, BufferRef] = {}
    funcs: Dict[str, Tuple[str, str]] = {}
    views: Dict[str, Output] = {}
    input_min: Dict[int, int] = {}
    transients: List[int] = []
    plan = Plan(function=name, num_inputs=num_inputs, input_min_bytes=input_min,
                transients=transients)

    def val(v: str, what: str) -> int:
        v = v.strip().split(" ")[0]
        if v not in consts:
            raise IreePlanError(f"@{name}: {what} {v} is not a constant (dynamic shapes and "
                                "computed sizes are not supported by the static harness)")
        return consts[v]

    def buf(v: str, what: str) -> BufferRef:
        if v not in buffers:
            raise IreePlanError(f"@{name}: {what} {v} is not a function argument or transient "
                                "allocation (constant buffers, i.e. weights as module "
                                "constants, are not supported: pass weights as arguments)")
        return buffers[v]

    def at(ref: BufferRef, off: int) -> BufferRef:
        return BufferRef(ref.root, ref.offset + off)

    benign = ("hal.buffer_view.assert", "hal.buffer.assert", "hal.fence.", "hal.device.allocator",
              "hal.command_buffer.create", "hal.command_buffer.execution_barrier",
              "hal.command_buffer.finalize", "hal.device.queue.execute<",
              "hal.device.queue.dealloca", "hal.device.queue.barrier", "util.status.check_ok",
              "util.null", "hal.encoding_type", "util.optimization_barrier", "hal.buffer_usage",
              "hal.memory_type", "hal.device.queue.flush")
    for st in _statements(body):
        lhs, _, rhs = st.partition(" = ") if re.match(r"^%[\w$.#:-]+(, %[\w$.#-]+)* = ", st) \
            else ("", "", st)
        lhs = lhs.strip()
        op = rhs.split("<")[0].split(" ")[0].split("(")[0]
        if op == "arith.constant":
            m = re.match(r"arith\.constant (-?\d+|true|false) : (\w+)", rhs)
            if m and m.group(1) not in ("true", "false"):
                consts[lhs] = int(m.group(1))
            continue
        if op == "hal.element_type":
            etypes[lhs] = re.match(r"hal\.element_type<(\w+)>", rhs).group(1)
            continue
        if op == "util.global.load":
            if re.search(r": !hal\.(device|executable)\b", rhs):
                continue
            raise IreePlanError(f"@{name}: reads global {rhs.split('@')[1].split(' ')[0]} "
                                "(module constants/state are not supported by the static "
                                "harness: pass weights as function arguments)")
        if op == "hal.buffer_view.buffer":
            m = re.match(r"hal\.buffer_view\.buffer<%arg(\d+) ", rhs)
            if not m:
                raise IreePlanError(f"@{name}: unexpected buffer view source: {st}")
            buffers[lhs] = BufferRef(f"in{m.group(1)}", 0)
            continue
        if op == "hal.device.queue.alloca" or op == "hal.allocator.allocate":
            m = re.search(r": !hal\.buffer\{(" + _VAL + r")\}", rhs)
            if not m:
                raise IreePlanError(f"@{name}: cannot read the size of {st}")
            buffers[lhs] = BufferRef(f"t{len(transients)}", 0)
            transients.append(val(m.group(1), "allocation size"))
            continue
        if op == "hal.buffer.subspan":
            m = re.match(r"hal\.buffer\.subspan<(" + _VAL + r") : !hal\.buffer>\[(" + _VAL +
                         r"), (" + _VAL + r")\]", rhs)
            if not m:
                raise IreePlanError(f"@{name}: cannot parse {st}")
            buffers[lhs] = at(buf(m.group(1), "subspan of"), val(m.group(2), "subspan offset"))
            continue
        if op in ("hal.executable.lookup.function", "hal.executable.export.ordinal"):
            m = re.search(r"(?:function|target)\(@([\w$.-]+)::@[\w$.-]+::@([\w$.-]+)\)", rhs)
            if not m:
                raise IreePlanError(f"@{name}: cannot parse {st}")
            funcs[lhs] = (m.group(1), m.group(2))
            continue
        if op == "hal.command_buffer.dispatch":
            m = re.search(r"\]?\[(" + _VAL + r")\] workgroups\(\[([^\]]*)\]\)", rhs)
            if not m or m.group(1) not in funcs:
                raise IreePlanError(f"@{name}: cannot parse dispatch: {st[:300]}")
            exe, export = funcs[m.group(1)]
            if exe not in libnames:
                raise IreePlanError(f"@{name}: dispatch of {export} targets executable @{exe}, "
                                    "which has no static library in this module")
            wg = tuple(val(v, "workgroup count") for v in m.group(2).split(","))
            cm = re.search(r"constants\(\[([^\]]*)\]\)", rhs)
            constants = tuple(val(v, "dispatch constant") & 0xFFFFFFFF
                              for v in (cm.group(1).split(",") if cm and cm.group(1).strip()
                                        else []))
            bm = re.search(r"bindings\(\[(.*)\]\)", rhs)
            bindings = []
            for b in re.finditer(r"\((" + _VAL + r") : ([^)]*)\)\[(" + _VAL + r"), (" + _VAL +
                                 r")\]", bm.group(1) if bm else ""):
                if "!hal.buffer" not in b.group(2):
                    raise IreePlanError(f"@{name}: indirect binding {b.group(1)} (compile with "
                                        "--iree-hal-indirect-command-buffers=false)")
                ref = at(buf(b.group(1), "binding"), val(b.group(3), "binding offset"))
                bindings.append(Binding(ref, val(b.group(4), "binding length")))
            plan.ops.append(Dispatch(libnames[exe], export, (wg + (1, 1, 1))[:3], constants,
                                     tuple(bindings)))
            continue
        if op in ("hal.command_buffer.fill_buffer", "hal.device.queue.fill"):
            m = re.search(r"target\((" + _VAL + r") : !hal\.buffer\)\[(" + _VAL + r"), (" + _VAL +
                          r")\] pattern\((" + _VAL + r") : i(\d+)\)", rhs)
            if not m:
                raise IreePlanError(f"@{name}: cannot parse fill: {st[:300]}")
            ref = at(buf(m.group(1), "fill target"), val(m.group(2), "fill offset"))
            plen = int(m.group(5)) // 8
            plan.ops.append(Fill(Binding(ref, val(m.group(3), "fill length")),
                                 val(m.group(4), "fill pattern") & ((1 << (8 * plen)) - 1), plen))
            continue
        if op in ("hal.command_buffer.copy_buffer", "hal.device.queue.copy"):
            m = re.search(r"source\((" + _VAL + r") : !hal\.buffer\)\[(" + _VAL + r")\] target\((" +
                          _VAL + r") : !hal\.buffer\)\[(" + _VAL + r")\] length\((" + _VAL + r")\)",
                          rhs)
            if not m:
                raise IreePlanError(f"@{name}: cannot parse copy: {st[:300]}")
            plan.ops.append(Copy(at(buf(m.group(1), "copy source"), val(m.group(2), "offset")),
                                 at(buf(m.group(3), "copy target"), val(m.group(4), "offset")),
                                 val(m.group(5), "copy length")))
            continue
        if op == "hal.buffer_view.create":
            m = re.match(r"hal\.buffer_view\.create buffer\((" + _VAL + r") : !hal\.buffer\)\[(" +
                         _VAL + r"), (" + _VAL + r")\] shape\(\[([^\]]*)\]\) type\((" + _VAL +
                         r")\)", rhs)
            if not m:
                raise IreePlanError(f"@{name}: cannot parse result view: {st[:300]}")
            shape = tuple(val(v, "result dimension") for v in m.group(4).split(",")
                          if v.strip())
            et = etypes.get(m.group(5))
            if et is None:
                raise IreePlanError(f"@{name}: unknown element type {m.group(5)}")
            views[lhs] = Output(at(buf(m.group(1), "result buffer"), val(m.group(2), "offset")),
                                val(m.group(3), "result length"), shape, et)
            continue
        if op == "util.return":
            for v in re.findall(_VAL, rhs.split(":")[0]):
                if v not in views:
                    raise IreePlanError(f"@{name}: returns {v}, which is not a buffer view "
                                        "created from a device buffer")
                plan.outputs.append(views[v])
            continue
        if rhs.startswith(benign):
            m = re.match(r"hal\.buffer\.assert<(" + _VAL + r") .*minimum_length\((" + _VAL + r")\)",
                         rhs)
            if m and m.group(1) in buffers and buffers[m.group(1)].root.startswith("in"):
                input_min[int(buffers[m.group(1)].root[2:])] = val(m.group(2), "input length")
            continue
        raise IreePlanError(f"@{name}: the static harness cannot replay `{op}`: {st[:300]}")
    if not plan.dispatches:
        raise IreePlanError(f"@{name}: no dispatches found in the hal-phase IR")
    return plan


def _check_bounds(plan: Plan, sizes: Dict[str, int]) -> None:
    """Every range an op or result touches lies inside its buffer."""
    def check(ref: BufferRef, length: int, what: str) -> None:
        if ref.offset < 0 or ref.offset + length > sizes[ref.root]:
            raise IreePlanError(f"@{plan.function}: {what} [{ref.offset}, {ref.offset + length}) "
                                f"exceeds buffer {ref.root} of {sizes[ref.root]} bytes")
    for k, op in enumerate(plan.ops):
        if isinstance(op, Dispatch):
            for j, b in enumerate(op.bindings):
                check(b.buffer, b.length, f"op {k} ({op.export}) binding {j}")
        elif isinstance(op, Fill):
            check(op.target.buffer, op.target.length, f"op {k} (fill)")
        elif isinstance(op, Copy):
            check(op.source, op.length, f"op {k} (copy source)")
            check(op.target, op.length, f"op {k} (copy target)")
    for i, o in enumerate(plan.outputs):
        check(o.buffer, o.length, f"result {i}")


# ----------------------------------------------------------------------------- C
def _c_bytes(data: bytes, per_line: int = 24) -> str:
    if not data:
        return "0"
    rows = []
    for i in range(0, len(data), per_line):
        rows.append("  " + ",".join(f"0x{b:02x}" for b in data[i:i + per_line]))
    return ",\n".join(rows)


def _c_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def plan_c(plan: Plan, inputs: Sequence[np.ndarray], *, module: str,
           weights: Sequence[int] = ()) -> str:
    """C source defining the plan's buffers, ops and outputs (see runtime/iree/harness.h)."""
    if len(inputs) != plan.num_inputs:
        raise IreePlanError(f"@{plan.function} takes {plan.num_inputs} inputs, "
                            f"got {len(inputs)}")
    lines = ["/* Generated by mcusparse.iree.static: the host side of an IREE module. */",
             "#include <stddef.h>", "#include <stdint.h>", '#include "harness.h"', ""]
    for lib in plan.libraries:
        lines.append(f"const mcs_iree_library_header_t **{lib}_library_query("
                     "uint32_t max_version, const mcs_iree_environment_t *environment);")
    lines.append(f"const char mcs_iree_module_name[] = {_c_string(module)};")
    lines.append("const mcs_iree_library_ref_t mcs_iree_libraries[] = {")
    lines += [f"  {{{_c_string(lib)}, {lib}_library_query}}," for lib in plan.libraries]
    lines += ["};", f"const uint32_t mcs_iree_library_count = {len(plan.libraries)};", ""]
    for i, a in enumerate(inputs):
        data = np.ascontiguousarray(a).tobytes()
        need = plan.input_min_bytes.get(i, 0)
        if len(data) < need:
            raise IreePlanError(f"@{plan.function}: input {i} has {len(data)} bytes, the module "
                                f"needs {need}")
        if i in weights:
            lines.append(f"__attribute__((section(\".weights\"), aligned({BUFFER_ALIGN}))) "
                         f"const uint8_t mcs_in{i}[{max(len(data), 1)}] = {{\n{_c_bytes(data)}\n}};")
        else:
            lines.append(f"__attribute__((aligned({BUFFER_ALIGN}))) "
                         f"uint8_t mcs_in{i}[{max(len(data), 1)}] = {{\n{_c_bytes(data)}\n}};")
    for i, size in enumerate(plan.transients):
        lines.append(f"__attribute__((aligned({BUFFER_ALIGN}))) uint8_t mcs_t{i}[{max(size, 1)}];")
    lines.append("")
    _check_bounds(plan, {**{f"in{i}": np.asarray(a).nbytes for i, a in enumerate(inputs)},
                         **{f"t{i}": n for i, n in enumerate(plan.transients)}})

    def ptr(ref: BufferRef) -> str:
        return f"(uint8_t *)(mcs_{ref.root} + {ref.offset})"

    libindex = {lib: i for i, lib in enumerate(plan.libraries)}
    entries = []
    for k, op in enumerate(plan.ops):
        if isinstance(op, Dispatch):
            binds = ", ".join(f"(void *){ptr(b.buffer)}" for b in op.bindings) or "0"
            lens = ", ".join(str(b.length) for b in op.bindings) or "0"
            lines.append(f"static void *const op{k}_bindings[] = {{{binds}}};")
            lines.append(f"static const size_t op{k}_lengths[] = {{{lens}}};")
            consts = "NULL"
            if op.constants:
                lines.append(f"static const uint32_t op{k}_constants[] = "
                             f"{{{', '.join(f'{c}u' for c in op.constants)}}};")
                consts = f"op{k}_constants"
            wx, wy, wz = op.workgroups
            entries.append(
                f"  {{.kind = MCS_IREE_OP_DISPATCH, .library = {libindex[op.library]}, "
                f".export_name = {_c_string(op.export)}, .workgroup_count = {{{wx}, {wy}, {wz}}}, "
                f".constant_count = {len(op.constants)}, .constants = {consts}, "
                f".binding_count = {len(op.bindings)}, .binding_ptrs = op{k}_bindings, "
                f".binding_lengths = op{k}_lengths}},")
        elif isinstance(op, Fill):
            entries.append(f"  {{.kind = MCS_IREE_OP_FILL, .target = {ptr(op.target.buffer)}, "
                           f".length = {op.target.length}, .pattern = {op.pattern}u, "
                           f".pattern_length = {op.pattern_length}}},")
        elif isinstance(op, Copy):
            entries.append(f"  {{.kind = MCS_IREE_OP_COPY, .target = {ptr(op.target)}, "
                           f".source = {ptr(op.source)}, .length = {op.length}}},")
    lines += ["", "const mcs_iree_op_t mcs_iree_ops[] = {", *entries, "};",
              f"const uint32_t mcs_iree_op_count = {len(plan.ops)};", "",
              "const mcs_iree_output_t mcs_iree_outputs[] = {"]
    lines += [f"  {{{ptr(o.buffer)}, {o.length}}}," for o in plan.outputs] or ["  {NULL, 0},"]
    lines += ["};", f"const uint32_t mcs_iree_output_count = {len(plan.outputs)};", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- build + run
def harness_dir() -> Path:
    return _tc.runtime_root() / "iree"


def build_program(mod: CompiledModule, plan: Plan, inputs: Sequence[np.ndarray], *,
                  weights: Sequence[int] = ()) -> Path:
    """Link harness + plan + static library + runtime into an ELF (cached by content)."""
    src = plan_c(plan, inputs, module=mod.name, weights=weights)
    hdir = harness_dir()
    h = hashlib.sha256()
    for part in (_CACHE_VERSION, HARNESS_COMPILER, HARNESS_OPT, mod.target, mod.key, src,
                 mod.library.read_bytes(),
                 *(p.read_bytes() for p in sorted(hdir.glob("*.[ch]")))):
        h.update(part if isinstance(part, bytes) else part.encode())
        h.update(b"\0")
    key = h.hexdigest()[:16]
    out = mod.directory / f"prog-{key}"
    elf = out / f"{_safe(mod.name)}.elf"
    if elf.is_file():
        return elf
    out.mkdir(parents=True, exist_ok=True)
    (out / "plan.c").write_text(src)
    tmp = out / "tmp" / elf.name
    tmp.parent.mkdir(exist_ok=True)
    try:
        _tc.build(mod.target, [hdir / "harness.c", out / "plan.c", mod.library], tmp,
                  include_dirs=[hdir], opt=HARNESS_OPT, compiler=HARNESS_COMPILER)
    except _tc.ToolchainError as e:
        raise IreeError(f"{mod.target}: building the IREE harness for module {mod.name!r} "
                        f"failed:\n{e}", target=mod.target, module=mod.name) from None
    shutil.move(str(tmp), str(elf))
    for extra in tmp.parent.glob(tmp.name + "*"):
        shutil.move(str(extra), str(out / extra.name))
    return elf


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]", "_", name) or "module"


@dataclass
class StaticRun:
    outputs: List[np.ndarray]
    instructions: int
    weight_bytes_read: int
    dispatch_text_bytes: int        # .text of the dispatch functions in the ELF
    elf: Path
    result: _qemu.RunResult


def parse_outputs(text: str, plan: Plan, *, target: str, module: str) -> List[np.ndarray]:
    sections, done = _qemu.hex_sections(text, "mcs-iree-output", "mcs-iree-done")
    if not done:
        raise IreeError(f"{target}: module {module!r}: the harness printed no complete result; "
                        f"output:\n{text[-2000:]}", target=target, module=module, output=text)
    outs = []
    for i, o in enumerate(plan.outputs):
        fields, data = sections.get(i, ([], b""))
        if len(data) != o.length or fields[:1] != [str(o.length)]:
            raise IreeError(f"{target}: module {module!r}: result {i} has {len(data)} bytes, "
                            f"expected {o.length}", target=target, module=module, output=text)
        dt = element_dtype(o.element_type)
        n = int(np.prod(o.shape)) if o.shape else 1
        outs.append(np.frombuffer(data, dtype=dt, count=n).reshape(o.shape).copy())
    return outs


def run_program(mod: CompiledModule, plan: Plan, elf: Path, *, timeout: float = 60.0) -> StaticRun:
    try:
        res = _qemu.run(mod.target, elf, timeout=timeout,
                        program=f"{elf.name} (IREE module {mod.name!r})")
    except EmulatorError as e:
        errs = [l for l in e.output.splitlines() if l.startswith("mcs-iree-error")]
        detail = f"\n{errs[0]}" if errs else ""
        raise type(e)(f"{e}{detail}", target=e.target, program=e.program,
                      exit_code=e.exit_code, output=e.output, qemu_stderr=e.qemu_stderr,
                      command=e.command) from None
    outs = parse_outputs(res.stdout_text, plan, target=mod.target, module=mod.name)
    syms = _tc.read_symbols(elf)
    text = sum(syms[d.export].size for d in {d.export: d for d in plan.dispatches}.values()
               if d.export in syms)
    return StaticRun(outputs=outs, instructions=int(res.instructions or 0),
                     weight_bytes_read=int(res.weight_bytes_read or 0),
                     dispatch_text_bytes=text, elf=elf, result=res)
