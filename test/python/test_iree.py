"""mcusparse.iree: modules compiled by iree-compile, run on every target this machine emulates.

host (iree.runtime in process), aarch64 and aarch64-sve (the aarch64 wheel's iree-run-module
under qemu-aarch64) and cortex-m55 / rv32imc / rv32gcv (IREE static libraries
linked with runtime/iree/harness.c, on QEMU with instruction counts), each
against numpy. Needs scripts/setup-iree.sh (and scripts/setup-emulators.sh for
the MCU targets). Compiles are cached under build/iree/.
"""
import dataclasses
import shutil

import numpy as np
import pytest

from mcusparse import iree
from mcusparse.iree import static
from mcusparse.iree.aarch64 import run_module_path
from mcusparse.targets import MCU_TARGETS, EmulatorError, EmulatorTimeout, get_target
from mcusparse.targets.qemu import plugin_path

IREE_TARGETS = ("host", "aarch64", "aarch64-sve") + MCU_TARGETS


@pytest.fixture(scope="module", autouse=True)
def installed():
    missing = []
    try:
        iree.iree_compile_path()
    except iree.IreeError:
        missing.append("iree-compile")
    if not run_module_path().is_file() or shutil.which("qemu-aarch64") is None:
        missing.append(f"{run_module_path()} / qemu-aarch64 (scripts/setup-iree.sh)")
    missing += [exe for t in MCU_TARGETS for exe in (get_target(t).gcc, get_target(t).qemu[0])
                if shutil.which(exe) is None]
    if not plugin_path().is_file():
        missing.append(str(plugin_path()))
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run scripts/setup-iree.sh and "
                    "scripts/setup-emulators.sh")


def rand_i8(rng, *shape):
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


@pytest.mark.parametrize("target", IREE_TARGETS)
def test_matvec(target):
    """A random int8 matvec (odd shape: rows and cols not multiples of any vector width)."""
    rng = np.random.default_rng(5)
    W, x = rand_i8(rng, 37, 83), rand_i8(rng, 83)
    y, stats = iree.run_matvec(W, x, target)
    assert y.dtype == np.int32 and y.shape == (37,)
    np.testing.assert_array_equal(y, iree.matvec_reference(W, x))
    assert stats.target == target and stats.weight_bytes == W.nbytes
    if target in MCU_TARGETS:
        assert stats.instructions > 37 * 83 // 16
        assert stats.weight_bytes_read == W.nbytes   # every weight byte loaded exactly once
        assert stats.dispatches == 1 and stats.text_bytes > 0
    else:
        assert stats.instructions == -1


@pytest.mark.parametrize("target", IREE_TARGETS)
def test_mlp(target):
    """matvec -> ReLU/requantise -> matvec: two dispatches and a transient on the MCUs."""
    rng = np.random.default_rng(11)
    W1, x, W2 = rand_i8(rng, 64, 96), rand_i8(rng, 96), rand_i8(rng, 24, 64)
    y, stats = iree.run_mlp(W1, x, W2, target, shift=7)
    ref = iree.mlp_reference(W1, x, W2, shift=7)
    assert 0 < np.count_nonzero(iree.requant_relu(W1.astype(np.int32) @ x.astype(np.int32))) < 64
    np.testing.assert_array_equal(y, ref)
    if target in MCU_TARGETS:
        assert stats.dispatches >= 2
        assert stats.weight_bytes_read == W1.nbytes + W2.nbytes


def test_matvec_object_reuses_the_compile():
    """IreeMatvec compiles once per shape; runs with other x give the right y and equal counts."""
    rng = np.random.default_rng(3)
    W = rand_i8(rng, 32, 64)
    mv = iree.IreeMatvec(W, target="cortex-m55")
    counts = set()
    for _ in range(2):
        x = rand_i8(rng, 64)
        y, stats = mv.run(x)
        np.testing.assert_array_equal(y, iree.matvec_reference(W, x))
        counts.add(stats.instructions)
    assert len(counts) == 1          # dense code: data-independent instruction count
    again = iree.compile_module(iree.matvec_mlir(32, 64), "cortex-m55", name=mv.name)
    assert again.directory == mv.module.compiled.directory


def test_plan_of_the_mlp():
    """The host side read from the hal-phase IR: dispatch order, bindings, transients, result."""
    mod = iree.IreeModule(iree.mlp_mlir(64, 96, 24), "mlp", "rv32gcv", weights=(0, 2))
    plan = mod.plan
    assert plan.num_inputs == 3 and len(plan.outputs) == 1
    assert plan.outputs[0].shape == (24,) and plan.outputs[0].element_type == "i32"
    first, last = plan.dispatches[0], plan.dispatches[-1]
    assert first.bindings[0].buffer.root == "in0" and first.bindings[0].length == 64 * 96
    assert last.bindings[-1].buffer == plan.outputs[0].buffer
    assert plan.libraries == mod.compiled.library_names
    assert all(np.prod(d.workgroups) >= 1 for d in plan.dispatches)
    src = static.plan_c(plan, [np.zeros((64, 96), np.int8), np.zeros(96, np.int8),
                               np.zeros((24, 64), np.int8)], module="mlp", weights=(0, 2))
    assert src.count('section(".weights")') == 2 and "_library_query(" in src


def test_compile_error_names_target_and_module():
    bad = "func.func @f(%a: tensor<4xi8>) -> tensor<4xi32> {\n  return %a : tensor<4xi8>\n}\n"
    with pytest.raises(iree.IreeCompileError) as info:
        iree.compile_module(bad, "cortex-m55", name="broken-module")
    msg = str(info.value)
    assert "cortex-m55" in msg and "broken-module" in msg and "iree-compile failed" in msg
    assert info.value.target == "cortex-m55" and info.value.module == "broken-module"


def constant_matvec_mlir(W):
    n, m = W.shape
    vals = ", ".join("[" + ", ".join(str(int(v)) for v in row) + "]" for row in W)
    return (f"func.func @k(%x: tensor<{m}xi8>) -> tensor<{n}xi32> {{\n"
            f"  %w = arith.constant dense<[{vals}]> : tensor<{n}x{m}xi8>\n"
            f"  %c0 = arith.constant 0 : i32\n  %e = tensor.empty() : tensor<{n}xi32>\n"
            f"  %z = linalg.fill ins(%c0 : i32) outs(%e : tensor<{n}xi32>) -> tensor<{n}xi32>\n"
            f"  %y = linalg.matvec ins(%w, %x : tensor<{n}x{m}xi8>, tensor<{m}xi8>) "
            f"outs(%z : tensor<{n}xi32>) -> tensor<{n}xi32>\n  return %y : tensor<{n}xi32>\n}}\n")


def test_constant_weights():
    """Small constants are inlined into the dispatch and run everywhere; large ones become
    module globals, which the runtimes handle and the static harness refuses clearly."""
    rng = np.random.default_rng(2)
    small, x4 = rand_i8(rng, 4, 4), rand_i8(rng, 4)
    y, _ = iree.run_module(constant_matvec_mlir(small), "k", [x4], "cortex-m55")
    np.testing.assert_array_equal(y[0], iree.matvec_reference(small, x4))
    big, x64 = rand_i8(rng, 64, 64), rand_i8(rng, 64)
    y, _ = iree.run_module(constant_matvec_mlir(big), "k", [x64], "host")
    np.testing.assert_array_equal(y[0], iree.matvec_reference(big, x64))
    with pytest.raises(static.IreePlanError, match="pass weights as function arguments"):
        iree.IreeModule(constant_matvec_mlir(big), "k", "cortex-m55")


def test_harness_error_is_reported(tmp_path):
    """An export the library does not have: the harness exits with a message naming it."""
    mod = iree.IreeModule(iree.matvec_mlir(8, 16), "matvec", "rv32imc", name="bad-export")
    d = mod.plan.dispatches[0]
    plan = dataclasses.replace(mod.plan, ops=[dataclasses.replace(d, export="no_such_export")])
    inputs = [np.zeros((8, 16), np.int8), np.zeros(16, np.int8)]
    elf = static.build_program(mod.compiled, plan, inputs)
    with pytest.raises(EmulatorError) as info:
        static.run_program(mod.compiled, plan, elf)
    msg = str(info.value)
    assert info.value.exit_code == 11
    assert "rv32imc" in msg and "bad-export" in msg and "export not found: no_such_export" in msg


def test_timeout_names_target_and_module():
    rng = np.random.default_rng(0)
    mod = iree.IreeModule(iree.matvec_mlir(256, 256), "matvec", "rv32imc", name="slow-module",
                          weights=(0,), timeout=0.001)
    with pytest.raises(EmulatorTimeout) as info:
        mod.run(rand_i8(rng, 256, 256), rand_i8(rng, 256))
    assert "rv32imc" in str(info.value) and "slow-module" in str(info.value)


def test_aarch64_runtime_error_is_clear():
    mod = iree.IreeModule(iree.matvec_mlir(8, 16), "matvec", "aarch64", name="a64-module")
    with pytest.raises(iree.IreeError) as info:
        mod.run(np.zeros((8, 17), np.int8), np.zeros(16, np.int8))   # wrong shape
    msg = str(info.value)
    assert "aarch64" in msg and "a64-module" in msg and "iree-run-module" in msg


# ----------------------------------------------------------------------------- custom dispatches
# A CSR kernel in LLVM IR with the calling convention of mcusparse.kernels (bare pointers to
# the packed buffers, x and y; returns y; hidden; no allocation). i32 indices, so one bitcode
# serves the 32- and 64-bit targets alike.
CSR_LL = """\
define hidden ptr @mcs_csr_mv(ptr noalias %rowptr, ptr noalias %col, ptr noalias %val,
                              ptr noalias %x, ptr noalias %y) nounwind {
entry:
  br label %row
row:
  %r = phi i32 [ 0, %entry ], [ %r1, %rowend ]
  %pr = getelementptr inbounds i32, ptr %rowptr, i32 %r
  %lo = load i32, ptr %pr
  %r1 = add nuw nsw i32 %r, 1
  %pr1 = getelementptr inbounds i32, ptr %rowptr, i32 %r1
  %hi = load i32, ptr %pr1
  %ne = icmp slt i32 %lo, %hi
  br i1 %ne, label %nz, label %rowend
nz:
  %k = phi i32 [ %lo, %row ], [ %k1, %nz ]
  %s = phi i32 [ 0, %row ], [ %s1, %nz ]
  %pc = getelementptr inbounds i32, ptr %col, i32 %k
  %c = load i32, ptr %pc
  %pv = getelementptr inbounds i8, ptr %val, i32 %k
  %v = load i8, ptr %pv
  %px = getelementptr inbounds i8, ptr %x, i32 %c
  %xv = load i8, ptr %px
  %ev = sext i8 %v to i32
  %ex = sext i8 %xv to i32
  %m = mul nsw i32 %ev, %ex
  %s1 = add nsw i32 %s, %m
  %k1 = add nsw i32 %k, 1
  %d = icmp eq i32 %k1, %hi
  br i1 %d, label %rowend, label %nz
rowend:
  %acc = phi i32 [ 0, %row ], [ %s1, %nz ]
  %py = getelementptr inbounds i32, ptr %y, i32 %r
  store i32 %acc, ptr %py
  %done = icmp eq i32 %r1, ROWS
  br i1 %done, label %exit, label %row
exit:
  ret ptr %y
}
"""


def csr(W):
    rows = [np.nonzero(r)[0] for r in W]
    rowptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int32)
    col = np.concatenate(rows).astype(np.int32)
    return [rowptr, col, W[W != 0].astype(np.int8)]


def csr_kernel(tmp_path_factory, rows):
    from mcusparse.iree.dispatch import KernelObject, bitcode_from_ll
    return KernelObject("mcs_csr_mv", bitcode_from_ll(CSR_LL.replace("ROWS", str(rows))))


def sparse_matrix(rng, rows, cols, density=0.2):
    W = rand_i8(rng, rows, cols)
    W[rng.random((rows, cols)) > density] = 0
    W[3] = 0                                   # an empty row
    return W


def test_custom_dispatch_ir(tmp_path_factory):
    from mcusparse.iree import dispatch
    k = csr_kernel(tmp_path_factory, 8)
    W = sparse_matrix(np.random.default_rng(0), 8, 16)
    text = dispatch.custom_matvec_mlir(8, 16, csr(W), k, "cortex-m55")
    assert 'hal.executable.objects = #hal.executable.objects<{\n    ' \
           '#hal.executable.target<"llvm-cpu", "static"> = [#hal.executable.object<{path = "' in text
    assert "attributes {hal.import.static, llvm.bareptr = true}" in text
    # y is a zero-filled tied operand: our kernels accumulate into it
    assert "flow.dispatch @mcs_kernels::@layer0(%a0, %a1, %a2, %a3, %z)" in text
    assert "-> %z\n" in text
    assert '"embedded-elf-x86_64"' in dispatch.custom_matvec_mlir(8, 16, csr(W), k, "host")


@pytest.mark.parametrize("target", IREE_TARGETS)
def test_custom_dispatch_sparse_matvec(target, tmp_path_factory):
    """Our kernel (bitcode) as a custom dispatch, linked by IREE into the module."""
    from mcusparse.iree import dispatch
    rng = np.random.default_rng(21)
    rows, cols = 40, 72
    W, x = sparse_matrix(rng, rows, cols), rand_i8(rng, cols)
    bufs = csr(W)
    k = csr_kernel(tmp_path_factory, rows)
    text = dispatch.custom_matvec_mlir(rows, cols, bufs, k, target)
    outs, stats = iree.run_module(text, "spmv", [*bufs, x], target, weights=(0, 1, 2),
                                  extra_flags=dispatch.OBJECT_FLAGS, name="csr-custom")
    np.testing.assert_array_equal(outs[0], iree.matvec_reference(W, x))
    if target in MCU_TARGETS:
        assert stats.dispatches == 1 and stats.workgroups == 1
        assert stats.weight_bytes_read == sum(b.nbytes for b in bufs)


@pytest.mark.parametrize("target", IREE_TARGETS)
def test_custom_sparse_then_dense_mlp(target, tmp_path_factory):
    """The issue's two-layer example: sparse matvec (our kernel) -> ReLU -> dense matvec (IREE)."""
    from mcusparse.iree import dispatch
    rng = np.random.default_rng(8)
    hidden, cols, rows = 48, 80, 20
    W1, x, W2 = sparse_matrix(rng, hidden, cols), rand_i8(rng, cols), rand_i8(rng, rows, hidden)
    bufs = csr(W1)
    k = csr_kernel(tmp_path_factory, hidden)
    text = dispatch.custom_mlp_mlir(hidden, cols, rows, bufs, k, target, shift=6)
    outs, stats = iree.run_module(text, "mlp", [*bufs, x, W2], target, weights=(0, 1, 2, 4),
                                  extra_flags=dispatch.OBJECT_FLAGS, name="csr-mlp")
    np.testing.assert_array_equal(outs[0], iree.mlp_reference(W1, x, W2, shift=6))
    if target in MCU_TARGETS:
        # the custom layer, then IREE's own: requantise and dense matvec
        assert stats.dispatches >= 2
        assert stats.weight_bytes_read == sum(b.nbytes for b in bufs) + W2.nbytes


# ------------------------------------------------------------------ our compiler's kernels
@pytest.mark.parametrize("target", IREE_TARGETS)
@pytest.mark.parametrize("fmt", ["dense", "csr", "dcsr", "nm:2:8", "gs:8"])
def test_spmv_runtime_iree(target, fmt):
    """mcusparse.kernels.spmv(..., runtime="iree"): our lowered kernel as a custom dispatch,
    with the same result (and, on the MCU targets, the same kinds of stats) as the direct path."""
    from mcusparse import kernels, prune
    rng = np.random.default_rng(5)
    W = rand_i8(rng, 24, 80)
    W = prune.nm(W, 2, 8) if fmt.startswith("nm") else prune.magnitude(W, 0.8)
    W[4] = 0                                             # an empty row
    x = rand_i8(rng, 80)
    y, stats = kernels.spmv(W, format=fmt, target=target, runtime="iree").run(x)
    np.testing.assert_array_equal(y, W.astype(np.int32) @ x.astype(np.int32))
    assert stats.format == kernels.spmv(W, format=fmt, target="host").format
    if target in MCU_TARGETS:
        assert stats.instructions > 0 and stats.modeled_cycles > stats.core_cycles > 0
        assert stats.weight_bytes_read > 0 and stats.text_bytes > 0


def test_spmv_runtime_iree_rejects_the_sparsifier_peer():
    from mcusparse import kernels
    with pytest.raises(ValueError, match="sparsifier.*direct"):
        kernels.spmv(np.eye(8, dtype=np.int8), format="sparsifier", target="host",
                     runtime="iree")
    with pytest.raises(ValueError, match="runtime must be"):
        kernels.spmv(np.eye(8, dtype=np.int8), format="csr", target="host", runtime="tvm")


@pytest.mark.parametrize("target", IREE_TARGETS)
def test_sparse_mlp_with_our_kernel(target):
    """The two-layer example with layer 1 compiled by our pipeline (dCSR) and layer 2 by IREE."""
    rng = np.random.default_rng(9)
    hidden, cols, rows = 48, 96, 10
    from mcusparse import prune
    W1 = prune.magnitude(rand_i8(rng, hidden, cols), 0.85)
    x, W2 = rand_i8(rng, cols), rand_i8(rng, rows, hidden)
    y, stats = iree.run_sparse_mlp(W1, x, W2, target, format="dcsr", shift=6)
    np.testing.assert_array_equal(y, iree.mlp_reference(W1, x, W2, shift=6))
    if target in MCU_TARGETS:
        assert stats.dispatches >= 2 and stats.instructions > 0
