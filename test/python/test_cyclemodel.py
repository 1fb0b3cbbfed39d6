"""Modeled cycles (mcusparse.cyclemodel, stats.modeled_cycles): deterministic,
positive, and exactly wait_states x weight transactions apart."""
import shutil

import numpy as np
import pytest

from mcusparse import cyclemodel, kernels, prune
from mcusparse.targets import MCU_TARGETS, get_target
from mcusparse.targets.qemu import plugin_path


@pytest.fixture(scope="module", autouse=True)
def emulators_installed():
    missing = [exe for t in MCU_TARGETS for exe in (get_target(t).gcc, get_target(t).qemu[0])
               if shutil.which(exe) is None]
    if not plugin_path().is_file():
        missing.append(str(plugin_path()))
    if missing:
        pytest.fail(f"missing {', '.join(sorted(set(missing)))}: run scripts/setup-emulators.sh")


def _case(seed=3, rows=24, cols=40):
    rng = np.random.default_rng(seed)
    W = prune.magnitude(rng.integers(-128, 128, (rows, cols), dtype=np.int8), 0.7)
    x = rng.integers(-128, 128, cols, dtype=np.int8)
    return W, x


def test_transactions_round_up():
    assert cyclemodel.weight_transactions(0) == 0
    assert cyclemodel.weight_transactions(1) == 1
    assert cyclemodel.weight_transactions(8) == 1
    assert cyclemodel.weight_transactions(9) == 2
    est = cyclemodel.CycleEstimate(core_cycles=100, weight_transactions=7, model="m")
    assert est.modeled_cycles(0) == 100 and est.modeled_cycles(4) == 128
    with pytest.raises(ValueError):
        est.modeled_cycles(-1)


@pytest.mark.parametrize("target", MCU_TARGETS)
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_modeled_cycles(target, fmt):
    W, x = _case()
    k = kernels.spmv(W, format=fmt, target=target)
    _, s4 = k.run(x)                       # default: 4 wait states
    _, s0 = k.run(x, wait_states=0)
    _, s4b = k.run(x, wait_states=4)
    _, s7 = k.run(x, wait_states=7)
    assert s4.wait_states == 4 and s4.modeled_cycles == s4b.modeled_cycles   # deterministic
    assert s4 == s4b
    assert s0.modeled_cycles == s0.core_cycles > 0
    assert s4.weight_transactions == -(-s4.weight_bytes_read // 8) > 0
    assert s4.modeled_cycles - s0.modeled_cycles == 4 * s4.weight_transactions
    assert s7.modeled_cycles - s0.modeled_cycles == 7 * s4.weight_transactions
    assert s4.modeled_cycles_at(0) == s0.modeled_cycles
    assert s4.cycle_model
    # A core cannot retire faster than its issue width (2 on the M55 model, 1 otherwise).
    assert s0.core_cycles >= s0.instructions // 2


def test_block_cache_is_used(tmp_path, monkeypatch):
    """A second estimate of the same program needs no llvm-mca run."""
    W, x = _case(seed=4)
    k = kernels.spmv(W, format="csr", target="cortex-m55")
    elf = k.build(x)
    from mcusparse.targets import qemu
    res = qemu.run("cortex-m55", elf)
    first = cyclemodel.estimate("cortex-m55", elf, res.blocks, res.weight_bytes_read)

    def boom(*a, **kw):
        raise AssertionError("llvm-mca ran although every block is cached")
    monkeypatch.setattr(cyclemodel, "_run_mca", boom)
    again = cyclemodel.estimate("cortex-m55", elf, res.blocks, res.weight_bytes_read)
    assert again == first


def test_block_cycles_do_not_depend_on_the_other_blocks():
    """Blocks share one llvm-mca run, but each block's cycles are its own: a block
    that QEMU ended inside a VPT block (`vpst` open) must not change how the next
    one parses, and a block that starts inside one (its predicated instructions
    charged UNSCHEDULED_CYCLES) is estimated even alone."""
    model = cyclemodel._model("cortex-m55")
    ends_open = ["vqdmulh.s32 q4, q4, q5", "vbic.i32 q6, #0x80000000", "vpt.i32 eq, q6, zr"]
    plain = ["mov r2, r1", "movs r1, #0x0", "adds r0, #1"]
    starts_inside = ["vldrbt.u8 q1, [r4]", "adds r4, #16"]
    blocks = [ends_open, plain, starts_inside]
    together = cyclemodel._run_mca(model, blocks)
    alone = [cyclemodel._run_mca(model, [b])[0] for b in blocks]
    assert together == alone
    assert together[2] >= cyclemodel.UNSCHEDULED_CYCLES
