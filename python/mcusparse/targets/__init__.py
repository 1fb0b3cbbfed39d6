"""Target descriptions: ISA, compilers and flags, linker script, emulator.

One `Target` per name in `TARGETS`:

==========  ==================================  =====================================
name        ISA / ABI                           emulator
==========  ==================================  =====================================
cortex-m55  thumbv8.1m.main + mve.fp, hard FP   qemu-system-arm -M mps3-an547
rv32imc     rv32imc, ilp32                      qemu-system-riscv32 -M virt -bios none
rv32gcv     rv32imafdc + V (vlen 128), ilp32d   qemu-system-riscv32 -M virt -bios none
host        x86-64 Linux                        native (no instruction counts)
==========  ==================================  =====================================

`toolchain.build()` turns C / assembly / LLVM IR sources plus the bare-metal
runtime (runtime/) into an ELF for a target; `qemu.run()` runs it under QEMU
with the counting plugin. See docs/targets.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Tuple


@dataclass(frozen=True)
class Target:
    """Everything needed to compile, link and run a program for one target."""

    name: str
    description: str
    arch: str                       # "arm", "riscv32", "x86_64"
    bare_metal: bool
    # --- C through GCC (default C compiler) and linking through the GCC driver
    gcc: str                        # compiler driver executable
    gcc_flags: Tuple[str, ...]      # machine flags for compiling C / assembly
    link_flags: Tuple[str, ...]     # machine flags for the link driver (multilib choice)
    # --- clang 22 from the ziglang wheel (C, and LLVM IR for RISC-V)
    clang_flags: Tuple[str, ...]    # -target/-mcpu/-mabi and ABI-compat flags
    # --- LLVM IR route: "llc" = opt+llc from the LLVM 22 wheel, "clang" = zig's clang 22
    ir_route: str
    llvm_triple: str = ""
    llvm_cpu: str = ""
    llvm_attrs: str = ""
    llc_flags: Tuple[str, ...] = ()
    opt_flags: Tuple[str, ...] = ()  # middle-end options of the "llc" route
    # --- runtime and memory map
    runtime_dir: str = ""           # runtime/<dir> relative to the repository
    runtime_sources: Tuple[str, ...] = ()
    linker_script: str = ""
    picolibc_include: str = ""
    weights_region: str = ""        # where the .weights section lives (for reports)
    # --- emulator
    qemu: Tuple[str, ...] = ()      # argv prefix, without -kernel / plugin / semihosting
    thumb: bool = False             # function symbols carry the Thumb bit
    notes: Tuple[str, ...] = field(default_factory=tuple)

    @property
    def counts_instructions(self) -> bool:
        return self.bare_metal


_COMMON_RUNTIME = ("common/crt.c", "common/semihost.c", "common/bench.c", "common/string.c")

CORTEX_M55 = Target(
    name="cortex-m55",
    description="Arm Cortex-M55: Armv8.1-M mainline, MVE (Helium) integer + float, hard-float ABI",
    arch="arm",
    bare_metal=True,
    gcc="arm-none-eabi-gcc",
    gcc_flags=("-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"),
    link_flags=("-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"),
    clang_flags=("-target", "thumb-freestanding-eabihf", "-mcpu=cortex_m55+mve_fp+fp_armv8d16",
                 "-mfloat-abi=hard",
                 # ABI compatibility with the GCC-built picolibc, and no EHABI
                 # unwind tables (they would pull in libgcc's unwinder).
                 "-fshort-enums", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables",
                 "-fno-exceptions"),
    ir_route="llc",
    llvm_triple="thumbv8.1m.main-none-unknown-eabihf",
    llvm_cpu="cortex-m55",
    llvm_attrs="+mve.fp",
    # -align-loops=2: no padding `nop` before a loop, which a row's loop
    # executes on every entry (dCSR and CSR rows run 1-2 iterations).
    llc_flags=("-float-abi=hard", "-relocation-model=static", "-align-loops=2"),
    # Keep loop exit values in the registers the loop already updated (a
    # dCSR row's next group pointer) instead of recomputing them from the
    # trip count: on 14 GPRs the recomputation's operands get spilled.
    opt_flags=("-replexitval=never",),
    runtime_dir="cortex-m55",
    runtime_sources=_COMMON_RUNTIME + ("cortex-m55/startup.c",),
    linker_script="cortex-m55/mps3-an547.ld",
    picolibc_include="/usr/lib/picolibc/arm-none-eabi/include",
    weights_region="SRAM2 0x21000000 (4 MiB)",
    qemu=("qemu-system-arm", "-M", "mps3-an547", "-nographic"),
    thumb=True,
    notes=("picolibc multilib chosen by GCC for these flags: thumb/v8-m.main+dp/hard",),
)

# QEMU 7.2's generic `rv32` CPU has i,m,a,f,d,c,h + zba/zbb/zbc/zbs, Zihintpause
# and sstc enabled; switch off what the target does not have so that a stray
# instruction faults instead of silently running.
_RV32_BASE_OFF = "h=false,zba=false,zbb=false,zbc=false,zbs=false,Zihintpause=false,sstc=false"

RV32IMC = Target(
    name="rv32imc",
    description="RV32IMC scalar core (PULP / Ibex class), soft-float ilp32 ABI",
    arch="riscv32",
    bare_metal=True,
    gcc="riscv64-unknown-elf-gcc",
    gcc_flags=("-march=rv32imc", "-mabi=ilp32", "-mcmodel=medlow"),
    link_flags=("-march=rv32imc", "-mabi=ilp32", "-mcmodel=medlow"),
    clang_flags=("-target", "riscv32-freestanding-none", "-mcpu=rocket_rv32+m+c", "-mabi=ilp32",
                 "-mcmodel=medlow"),
    ir_route="clang",
    llvm_triple="riscv32-unknown-none-elf",
    runtime_dir="riscv",
    runtime_sources=_COMMON_RUNTIME + ("riscv/start.S", "riscv/trap.c"),
    linker_script="riscv/virt.ld",
    picolibc_include="/usr/lib/picolibc/riscv64-unknown-elf/include",
    weights_region="RAM 0x80000000.. (own 64-byte aligned range after .rodata)",
    qemu=("qemu-system-riscv32", "-M", "virt", "-bios", "none", "-nographic",
          "-cpu", "rv32,a=false,f=false,d=false," + _RV32_BASE_OFF),
    notes=("picolibc multilib chosen by GCC: rv32im/ilp32 (there is no rv32imc one; "
           "rv32im code runs on rv32imc)",),
)

RV32GCV = Target(
    name="rv32gcv",
    description="RV32GC + V 1.0 (vlen 128, elen 64), ilp32d ABI",
    arch="riscv32",
    bare_metal=True,
    gcc="riscv64-unknown-elf-gcc",
    # GCC 12 accepts the V extension in -march (it emits no vector code itself);
    # its multilib matcher does not, so the link uses rv32imafdc.
    gcc_flags=("-march=rv32imafdcv", "-mabi=ilp32d", "-mcmodel=medlow"),
    link_flags=("-march=rv32imafdc", "-mabi=ilp32d", "-mcmodel=medlow"),
    clang_flags=("-target", "riscv32-freestanding-none", "-mcpu=generic_rv32+m+a+f+d+c+v",
                 "-mabi=ilp32d", "-mcmodel=medlow"),
    ir_route="clang",
    llvm_triple="riscv32-unknown-none-elf",
    runtime_dir="riscv",
    runtime_sources=_COMMON_RUNTIME + ("riscv/start.S", "riscv/trap.c"),
    linker_script="riscv/virt.ld",
    picolibc_include="/usr/lib/picolibc/riscv64-unknown-elf/include",
    weights_region="RAM 0x80000000.. (own 64-byte aligned range after .rodata)",
    qemu=("qemu-system-riscv32", "-M", "virt", "-bios", "none", "-nographic",
          "-cpu", "rv32," + _RV32_BASE_OFF + ",v=true,vlen=128,elen=64,vext_spec=v1.0"),
    notes=("picolibc multilib chosen by GCC: rv32imafdc/ilp32d",),
)

HOST = Target(
    name="host",
    description="the build machine (x86-64 Linux), run natively; no instruction counts",
    arch="x86_64",
    bare_metal=False,
    gcc="cc",
    gcc_flags=(),
    link_flags=(),
    clang_flags=("-target", "x86_64-linux-gnu"),
    ir_route="llc",
    llvm_triple="x86_64-unknown-linux-gnu",
    llvm_cpu="x86-64",
    llc_flags=("-relocation-model=pic",),
    runtime_sources=("common/bench.c",),
)

TARGETS = {t.name: t for t in (CORTEX_M55, RV32IMC, RV32GCV, HOST)}
MCU_TARGETS = ("cortex-m55", "rv32imc", "rv32gcv")


def get_target(target: "str | Target") -> Target:
    """Look a target up by name (a Target is returned as is)."""
    if isinstance(target, Target):
        return target
    try:
        return TARGETS[target]
    except KeyError:
        raise ValueError(f"unknown target {target!r}; known: {', '.join(TARGETS)}") from None


# build/run live in their own modules; imported on first use (PEP 562) so that
# `python -m mcusparse.targets.qemu` does not import qemu.py twice.
_LAZY = {
    "build": "toolchain", "read_symbols": "toolchain", "ToolchainError": "toolchain",
    "run": "qemu", "RunResult": "qemu", "Block": "qemu", "EmulatorError": "qemu",
    "EmulatorTimeout": "qemu", "GuestFault": "qemu",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(f".{module}", __name__), name)


__all__ = [
    "Target", "TARGETS", "MCU_TARGETS", "get_target",
    "build", "read_symbols", "ToolchainError",
    "run", "RunResult", "Block", "EmulatorError", "EmulatorTimeout", "GuestFault",
]
