"""Bare-metal targets end to end: build, run under QEMU, check output and counts.

Needs what scripts/setup-emulators.sh installs (QEMU, cross GCCs, picolibc, the
counting plugin); fails with that hint when something is missing.
"""
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from mcusparse.targets import (MCU_TARGETS, EmulatorError, EmulatorTimeout, GuestFault,
                               build, get_target, read_symbols, run)
from mcusparse.targets.qemu import plugin_path

N = 256  # weights in the dot product: a multiple of every vector length used here


@pytest.fixture(scope="module", autouse=True)
def emulators_installed():
    missing = [exe for t in MCU_TARGETS for exe in (get_target(t).gcc, get_target(t).qemu[0])
               if shutil.which(exe) is None]
    if not plugin_path().is_file():
        missing.append(str(plugin_path()))
    if missing:
        pytest.fail(f"missing {', '.join(sorted(set(missing)))}: run scripts/setup-emulators.sh")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(23)
    w = rng.integers(-128, 128, size=N, dtype=np.int8)
    x = rng.integers(-128, 128, size=N, dtype=np.int8)
    return w, x


def c_array(a):
    return ", ".join(str(int(v)) for v in a)


DOT_C = """\
#include <stdint.h>
#include <stdio.h>
#include "bench.h"

#define N {n}
MCUSPARSE_WEIGHTS const int8_t weights[N] = {{ {w} }};
int8_t act[N] = {{ {x} }};

__attribute__((noinline)) int32_t dot(const int8_t *a, const int8_t *b, int n)
{{
    int32_t s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}}

int main(void)
{{
    mcusparse_bench_begin();
    int32_t r = dot(weights, act, N);
    mcusparse_bench_end();
    printf("dot=%ld\\n", (long)r);
    printf("weights=%p\\n", (const void *)weights);
    return 0;
}}
"""

# Same kernel as LLVM IR without `nounwind`, as MLIR emits it.
DOT_LL = """\
define i32 @dot_ir(ptr %a, ptr %b, i32 %n) {
entry:
  %c = icmp sgt i32 %n, 0
  br i1 %c, label %loop, label %exit
loop:
  %i = phi i32 [ 0, %entry ], [ %i1, %loop ]
  %s = phi i32 [ 0, %entry ], [ %s1, %loop ]
  %pa = getelementptr inbounds i8, ptr %a, i32 %i
  %pb = getelementptr inbounds i8, ptr %b, i32 %i
  %va = load i8, ptr %pa
  %vb = load i8, ptr %pb
  %ea = sext i8 %va to i32
  %eb = sext i8 %vb to i32
  %m = mul nsw i32 %ea, %eb
  %s1 = add nsw i32 %s, %m
  %i1 = add nuw nsw i32 %i, 1
  %d = icmp eq i32 %i1, %n
  br i1 %d, label %exit, label %loop
exit:
  %r = phi i32 [ 0, %entry ], [ %s1, %loop ]
  ret i32 %r
}
"""

DOT_IR_MAIN_C = """\
#include <stdint.h>
#include <stdio.h>
#include "bench.h"

#define N {n}
int32_t dot_ir(const int8_t *a, const int8_t *b, int32_t n);
MCUSPARSE_WEIGHTS const int8_t weights[N] = {{ {w} }};
int8_t act[N] = {{ {x} }};

int main(void)
{{
    mcusparse_bench_begin();
    int32_t r = dot_ir(weights, act, N);
    mcusparse_bench_end();
    printf("dot=%ld\\n", (long)r);
    return 0;
}}
"""

TWO_WINDOWS_C = """\
#include <stdint.h>
#include <stdio.h>
#include "bench.h"
MCUSPARSE_WEIGHTS const int8_t weights[64] = { 1, 2, 3 };
__attribute__((noinline)) int32_t sum(const int8_t *a, int n)
{
    int32_t s = 0;
    for (int i = 0; i < n; i++)
        s += a[i];
    return s;
}
int main(void)
{
    int32_t r = 0;
    mcusparse_bench_begin();
    mcusparse_bench_end();          /* empty window: the markers' own overhead */
    mcusparse_bench_begin();
    r += sum(weights, 64);
    mcusparse_bench_end();
    printf("sum=%ld\\n", (long)r);
    return 0;
}
"""

BAD_READ_C = """\
#include <stdint.h>
#include <stdio.h>
int main(void)
{
    printf("reading\\n");
    volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)0xF0000000u; /* unmapped */
    printf("%lx\\n", (unsigned long)*p);
    return 0;
}
"""

FOREVER_C = """\
int main(void)
{
    for (;;)
        __asm__ volatile("" ::: "memory");
}
"""

EXIT7_C = """\
#include <stdio.h>
int main(void)
{
    printf("returning 7\\n");
    return 7;
}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("emulators")


@pytest.fixture(scope="module")
def dot_source(work, data):
    w, x = data
    return write(work / "dot.c", DOT_C.format(n=N, w=c_array(w), x=c_array(x)))


def expected_dot(data):
    w, x = data
    return int(np.dot(w.astype(np.int32), x.astype(np.int32)))


def check_blocks(result):
    """Block counts account for every instruction in the window."""
    assert result.blocks, "no blocks recorded in the window"
    assert sum(b.insns * b.execs for b in result.blocks) == result.instructions
    assert all(b.end > b.start and b.insns > 0 and b.execs > 0 for b in result.blocks)
    # Every weight byte read is charged to the block whose instruction loaded it.
    assert sum(b.weight_bytes for b in result.blocks) == (result.weight_bytes_read or 0)


@pytest.mark.parametrize("target", MCU_TARGETS)
def test_dot_product_scalar(target, work, dot_source, data):
    """gcc -O1 byte loop: right result, exact weight traffic, repeatable counts."""
    elf = build(target, [dot_source], work / target / "dot_O1.elf", opt="-O1")
    first = run(target, elf, timeout=30)
    second = run(target, elf, timeout=30)

    assert f"dot={expected_dot(data)}\n" in first.stdout_text
    assert first.exit_code == 0
    assert first.instructions > 0
    assert first.weight_bytes_read == N        # each weight byte is loaded exactly once
    assert first.stats["weight_loads"] == N    # ... by N byte loads
    lo, hi = first.weights_range
    assert hi - lo >= N
    syms = read_symbols(elf)
    assert lo <= syms["weights"].address < hi
    check_blocks(first)

    assert second.instructions == first.instructions
    assert second.weight_bytes_read == first.weight_bytes_read
    assert second.stats == first.stats
    assert second.blocks == first.blocks


def test_weights_placement(work, dot_source):
    """The .weights section is where docs/targets.md says."""
    elf = build("cortex-m55", [dot_source], work / "cortex-m55" / "dot_place.elf", opt="-O1")
    syms = read_symbols(elf)
    assert syms["__weights_start"].address == 0x21000000              # SRAM2
    assert 0x20000000 <= syms["act"].address < 0x20080000             # DTCM
    assert syms["main"].address < 0x80000                             # ITCM
    for target in ("rv32imc", "rv32gcv"):
        elf = build(target, [dot_source], work / target / "dot_place.elf", opt="-O1")
        syms = read_symbols(elf)
        assert syms["_start"].address == 0x80000000
        assert syms["__weights_start"].address % 64 == 0
        assert syms["__weights_end"].address <= syms["act"].address


@pytest.mark.parametrize("target", MCU_TARGETS)
def test_dot_product_clang(target, work, dot_source, data):
    """clang 22 (ziglang) -O2: MVE / RVV vector code where the target has it."""
    elf = build(target, [dot_source], work / target / "dot_clang.elf", opt="-O2",
                compiler="clang")
    res = run(target, elf, timeout=30)
    assert f"dot={expected_dot(data)}\n" in res.stdout_text
    # vector loads are counted element by element and add up to the array size
    assert res.weight_bytes_read == N
    check_blocks(res)
    if target in ("cortex-m55", "rv32gcv"):
        scalar = run(target, build(target, [dot_source], work / target / "dot_O1.elf",
                                   opt="-O1"))
        assert res.instructions * 3 < scalar.instructions, "expected vectorised code"


@pytest.mark.parametrize("target", MCU_TARGETS)
def test_llvm_ir_kernel(target, work, data):
    """A .ll kernel (no nounwind, as MLIR emits it) compiles, links and runs."""
    w, x = data
    ll = write(work / "dot_ir.ll", DOT_LL)
    main = write(work / "dot_ir_main.c", DOT_IR_MAIN_C.format(n=N, w=c_array(w), x=c_array(x)))
    elf = build(target, [ll, main], work / target / "dot_ir.elf", opt="-O1")
    res = run(target, elf, timeout=30)
    assert f"dot={expected_dot(data)}\n" in res.stdout_text
    assert res.weight_bytes_read == N
    assert res.instructions > 0
    check_blocks(res)


@pytest.mark.parametrize("target", MCU_TARGETS)
def test_windows_first_and_all(target, work):
    src = write(work / "two_windows.c", TWO_WINDOWS_C)
    elf = build(target, [src], work / target / "two_windows.elf", opt="-O1")
    first = run(target, elf, timeout=30)             # the empty window only
    both = run(target, elf, timeout=30, windows="all")
    assert "sum=6\n" in first.stdout_text
    assert 1 <= first.instructions <= 4              # marker overhead: a few instructions
    assert first.weight_bytes_read == 0
    assert both.stats["windows_closed"] == 2
    assert both.weight_bytes_read == 64
    assert both.instructions > first.instructions + 64


@pytest.mark.parametrize("target", MCU_TARGETS)
def test_fault_raises_clear_error(target, work):
    elf = build(target, [write(work / "bad_read.c", BAD_READ_C)], work / target / "bad_read.elf")
    with pytest.raises(GuestFault) as info:
        run(target, elf, timeout=30)
    msg = str(info.value)
    assert target in msg and "bad_read.elf" in msg and "faulted in main()" in msg
    assert ("BusFault" in msg and "BFAR=0xf0000000" in msg) if target == "cortex-m55" \
        else ("load access fault" in msg and "mtval=0xf0000000" in msg)
    assert info.value.exit_code == 125
    assert "reading" in info.value.output


@pytest.mark.parametrize("target", MCU_TARGETS)
def test_timeout_raises_clear_error(target, work):
    elf = build(target, [write(work / "forever.c", FOREVER_C)], work / target / "forever.elf")
    t0 = time.monotonic()
    with pytest.raises(EmulatorTimeout) as info:
        run(target, elf, timeout=1.0)
    assert time.monotonic() - t0 < 10
    assert target in str(info.value) and "forever.elf" in str(info.value)
    assert isinstance(info.value, RuntimeError)


@pytest.mark.parametrize("target", MCU_TARGETS)
def test_nonzero_exit(target, work):
    elf = build(target, [write(work / "exit7.c", EXIT7_C)], work / target / "exit7.elf")
    with pytest.raises(EmulatorError) as info:
        run(target, elf, timeout=30)
    assert info.value.exit_code == 7
    assert target in str(info.value) and "exit7.elf" in str(info.value)
    res = run(target, elf, timeout=30, check=False)
    assert res.exit_code == 7 and "returning 7" in res.stdout_text
    assert res.instructions is None                  # no markers, no window


def test_rv32imc_core_has_no_vector_unit(work, dot_source):
    """rv32gcv code must not run on the rv32imc emulator: the CPU model is strict."""
    elf = build("rv32gcv", [dot_source], work / "rv32gcv" / "dot_clang.elf", opt="-O2",
                compiler="clang")
    with pytest.raises(GuestFault, match="illegal instruction"):
        run("rv32imc", elf, timeout=30)


def test_host(work, dot_source, data):
    elf = build("host", [dot_source], work / "host" / "dot.elf", opt="-O1")
    res = run("host", elf, timeout=30)
    assert f"dot={expected_dot(data)}\n" in res.stdout_text
    assert res.instructions is None and res.weight_bytes_read is None


def test_zig_cache_race_is_retried(monkeypatch):
    """`zig cc` runs that fail on zig's shared-cache race are run again; other
    failures are reported at once with the tool's output."""
    import subprocess
    from mcusparse.targets import toolchain as tc

    calls = []

    def fake(outputs):
        def run(cmd, **kwargs):
            calls.append(cmd)
            rc, out = outputs[min(len(calls), len(outputs)) - 1]
            return subprocess.CompletedProcess(cmd, rc, stdout=out)
        return run

    zig = ["python", "-m", "ziglang", "cc", "-c", "plan.c"]
    race = "plan.c:1:1: error: failed to parse 'tmp/cd36f9b975819c3-plan.o.d': none"
    monkeypatch.setattr(tc.subprocess, "run", fake([(1, race), (0, "")]))
    tc._run(zig, "compiling plan.c")
    assert len(calls) == 2

    calls.clear()
    monkeypatch.setattr(tc.subprocess, "run", fake([(1, race)]))
    with pytest.raises(tc.ToolchainError, match="failed to parse"):
        tc._run(zig, "compiling plan.c")
    assert len(calls) == 1 + tc.ZIG_RETRIES

    calls.clear()
    monkeypatch.setattr(tc.subprocess, "run", fake([(1, "plan.c:3:1: error: unknown type name 'foo'")]))
    with pytest.raises(tc.ToolchainError, match="(?s)compiling plan.c failed .*unknown type name"):
        tc._run(zig, "compiling plan.c")
    assert len(calls) == 1
