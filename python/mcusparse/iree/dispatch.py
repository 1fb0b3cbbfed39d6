"""Custom dispatches: IREE modules in which a layer calls one of our kernels.

The kernel is an LLVM bitcode file (from our pipeline: MLIR -> llvm dialect ->
mlir-translate -> llvm-as, or any hand-written IR) whose function takes bare
pointers to its buffers (packed weights..., x, y) and returns y, as
`mcusparse.kernels` lowers them. The IREE input module wraps it in a
`stream.executable` with

* an export with a fixed workgroup count of 1 (the kernel does the whole layer;
  MCUs have one core),
* y passed as a zero-filled, tied (read-write) operand: our kernels accumulate into
  y (`linalg.matvec` outs semantics), so it must start at zero,
* an inner function that subspans each binding as a static memref and calls the
  kernel, declared `func.func private @k(...) attributes {hal.import.static,
  llvm.bareptr = true}`,
* the bitcode attached with `hal.executable.objects`, keyed by a generic
  executable target for the format IREE emits on that target
  (`static` for the MCU static libraries, `embedded-elf-x86_64` /
  `embedded-elf-arm_64` for host / aarch64).

IREE LTO-links the bitcode into the dispatch (the kernel is inlined) and
compiles it with its own LLVM for the target, so one bitcode file serves every
target with the same index width. Kernel symbols must have hidden visibility
and must not allocate. IREE's LLVM pipeline leaves loop vectorisation off by
default; modules with custom dispatches are compiled with
`--iree-llvmcpu-loop-vectorization` (it changes nothing in IREE's own
code generation, which emits vector code itself; verified on the dense matvec).

Other layers of the module (`linalg` on tensors) are left to IREE's code
generation.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Sequence, Tuple

import numpy as np

from .compile import get_iree_target

__all__ = ["KernelObject", "OBJECT_FLAGS", "bitcode_from_ll", "kernel_object_from_ll", "run_spmv",
           "object_target_key", "custom_layer_executable",
           "custom_matvec_mlir", "custom_mlp_mlir", "mlir_element_type"]

# Extra iree-compile flags for modules with custom dispatches.
# --iree-opt-const-expr-hoisting=false: otherwise the zero-filled y becomes a global set up
# at module load (the static harness replays the function, not initialisers); without it
# the zeros are a fill in the function itself.
OBJECT_FLAGS = ("--iree-llvmcpu-loop-vectorization", "--iree-opt-const-expr-hoisting=false")

_OBJECT_FORMATS = {"static": "static", "host": "embedded-elf-x86_64",
                   "aarch64": "embedded-elf-arm_64"}

_ELEM = {np.dtype(np.int8): "i8", np.dtype(np.uint8): "i8", np.dtype(np.int16): "i16",
         np.dtype(np.uint16): "i16", np.dtype(np.int32): "i32", np.dtype(np.uint32): "i32",
         np.dtype(np.float32): "f32"}


def mlir_element_type(dtype) -> str:
    try:
        return _ELEM[np.dtype(dtype)]
    except KeyError:
        raise ValueError(f"no MLIR element type for {np.dtype(dtype)}") from None


@dataclass(frozen=True)
class KernelObject:
    """A kernel function in an LLVM bitcode file.

    symbol:  the function (hidden visibility), `T *symbol(bufs..., x, y)` with bare pointers,
             returning y when `returns_result` (as mcusparse.kernels lowers them).
    bitcode: the .bc file, built for the target's index width (32-bit on the MCUs).
    """
    symbol: str
    bitcode: Path
    returns_result: bool = True


def bitcode_from_ll(ll_text: str) -> Path:
    """Assemble LLVM IR text (e.g. mlir-translate output) into a bitcode file, cached by content
    under build/iree/objects/ (a stable path keeps the module's compile cache warm)."""
    import hashlib
    import subprocess
    from mcusparse.targets import toolchain as _tc
    from .compile import IreeError
    key = hashlib.sha256(ll_text.encode()).hexdigest()[:16]
    out = _tc.build_root() / "iree" / "objects" / f"{key}.bc"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.with_suffix(".ll")
    src.write_text(ll_text)
    tmp = out.with_suffix(f".tmp{os.getpid()}.bc")
    proc = subprocess.run([_tc.llvm_tool("llvm-as"), str(src), "-o", str(tmp)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise IreeError(f"llvm-as failed on kernel IR {src}:\n{proc.stdout[-3000:]}")
    os.replace(tmp, out)
    return out


def object_target_key(target: str) -> str:
    """The generic `#hal.executable.target` under which objects are attached for a target."""
    t = get_iree_target(target)
    fmt = _OBJECT_FORMATS["static" if t.kind == "static" else t.kind]
    return f'#hal.executable.target<"llvm-cpu", "{fmt}">'


def _tensor(shape: Sequence[int], elem: str) -> str:
    return f"tensor<{'x'.join(str(d) for d in shape)}x{elem}>" if shape else f"tensor<{elem}>"


def _memref(shape: Sequence[int], elem: str) -> str:
    return f"memref<{'x'.join(str(d) for d in shape)}x{elem}>" if shape else f"memref<{elem}>"


def custom_layer_executable(executable: str, export: str, kernel: KernelObject, target: str,
                            args: Sequence[Tuple[Tuple[int, ...], str]],
                            result: Tuple[Tuple[int, ...], str]) -> str:
    """A stream.executable whose export `export` calls `kernel(args..., result)` once.

    args/result: (shape, MLIR element type) of each binding, in the kernel's argument order.
    """
    bindings = [*args, result]
    memrefs = [_memref(s, e) for s, e in bindings]
    ret = f" -> {memrefs[-1]}" if kernel.returns_result else ""
    params = ", ".join(f"%b{i}: !stream.binding" for i in range(len(bindings)))
    subspans = "\n".join(
        f"      %m{i} = stream.binding.subspan %b{i}[%c0] : !stream.binding -> {m}"
        for i, m in enumerate(memrefs))
    call_args = ", ".join(f"%m{i}" for i in range(len(bindings)))
    call = (f"      {'%r = ' if kernel.returns_result else ''}func.call @{kernel.symbol}"
            f"({call_args}) : ({', '.join(memrefs)}){ret}")
    path = str(Path(kernel.bitcode).resolve()).replace("\\", "\\\\").replace('"', '\\"')
    return f"""\
stream.executable private @{executable} attributes {{
  hal.executable.objects = #hal.executable.objects<{{
    {object_target_key(target)} = [#hal.executable.object<{{path = "{path}"}}>]
  }}>
}} {{
  stream.executable.export public @{export} workgroups() -> (index, index, index) {{
    %c1 = arith.constant 1 : index
    stream.return %c1, %c1, %c1 : index, index, index
  }}
  builtin.module {{
    func.func private @{kernel.symbol}({', '.join(memrefs)}){ret}
        attributes {{hal.import.static, llvm.bareptr = true}}
    func.func @{export}({params}) {{
      %c0 = arith.constant 0 : index
{subspans}
{call}
      return
    }}
  }}
}}
"""


def custom_matvec_mlir(rows: int, cols: int, buffers: Sequence[np.ndarray], kernel: KernelObject,
                       target: str, name: str = "spmv") -> str:
    """@name(bufs..., x: cols x i8) -> rows x i32, the layer computed by `kernel` in a custom
    dispatch. `buffers` are the layer's packed arrays (shapes and dtypes matter, not values)."""
    args = [(tuple(np.shape(b)), mlir_element_type(np.asarray(b).dtype)) for b in buffers]
    args.append(((cols,), "i8"))
    exe = custom_layer_executable("mcs_kernels", "layer0", kernel, target, args, ((rows,), "i32"))
    tensors = [_tensor(s, e) for s, e in args]
    params = ", ".join(f"%a{i}: {t}" for i, t in enumerate(tensors))
    operands = ", ".join(f"%a{i}" for i in range(len(tensors)))
    out = _tensor((rows,), "i32")
    return f"""\
{exe}
func.func @{name}({params}) -> {out} {{
{_zeros("%z", rows)}
  %y = flow.dispatch @mcs_kernels::@layer0({operands}, %z) : ({', '.join(tensors)}, {out}) -> %z
  return %y : {out}
}}
"""


def _zeros(value: str, n: int) -> str:
    """A zero-filled i32 tensor: our kernels accumulate into y (linalg.matvec outs semantics),
    so the dispatch gets y as a tied (read-write) operand holding zeros."""
    t = _tensor((n,), "i32")
    return (f"  {value}_c0 = arith.constant 0 : i32\n"
            f"  {value}_e = tensor.empty() : {t}\n"
            f"  {value} = linalg.fill ins({value}_c0 : i32) outs({value}_e : {t}) -> {t}")


def custom_mlp_mlir(hidden: int, cols: int, rows: int, buffers: Sequence[np.ndarray],
                    kernel: KernelObject, target: str, shift: int = 7, name: str = "mlp") -> str:
    """Two layers: h = layer 1 by `kernel` (custom dispatch, e.g. a sparse matvec over the
    packed `buffers`), a = clamp(h >> shift, 0, 127) as i8, y = W2 a (dense, IREE codegen).
    Arguments: (bufs..., x, W2)."""
    args = [(tuple(np.shape(b)), mlir_element_type(np.asarray(b).dtype)) for b in buffers]
    args.append(((cols,), "i8"))
    exe = custom_layer_executable("mcs_kernels", "layer0", kernel, target, args,
                                  ((hidden,), "i32"))
    tensors = [_tensor(s, e) for s, e in args]
    n = len(tensors)
    params = ", ".join(f"%a{i}: {t}" for i, t in enumerate(tensors))
    operands = ", ".join(f"%a{i}" for i in range(n))
    return f"""\
{exe}
#id = affine_map<(i) -> (i)>
func.func @{name}({params}, %w2: tensor<{rows}x{hidden}xi8>) -> tensor<{rows}xi32> {{
  %c0 = arith.constant 0 : i32
  %cs = arith.constant {shift} : i32
  %c127 = arith.constant 127 : i32
{_zeros("%z", hidden)}
  %h = flow.dispatch @mcs_kernels::@layer0({operands}, %z) : ({', '.join(tensors)}, tensor<{hidden}xi32>) -> %z
  %ea = tensor.empty() : tensor<{hidden}xi8>
  %a = linalg.generic {{indexing_maps = [#id, #id], iterator_types = ["parallel"]}}
      ins(%h : tensor<{hidden}xi32>) outs(%ea : tensor<{hidden}xi8>) {{
  ^bb0(%v: i32, %o: i8):
    %s = arith.shrsi %v, %cs : i32
    %r = arith.maxsi %s, %c0 : i32
    %q = arith.minsi %r, %c127 : i32
    %t = arith.trunci %q : i32 to i8
    linalg.yield %t : i8
  }} -> tensor<{hidden}xi8>
  %e2 = tensor.empty() : tensor<{rows}xi32>
  %z2 = linalg.fill ins(%c0 : i32) outs(%e2 : tensor<{rows}xi32>) -> tensor<{rows}xi32>
  %y = linalg.matvec ins(%w2, %a : tensor<{rows}x{hidden}xi8>, tensor<{hidden}xi8>)
                     outs(%z2 : tensor<{rows}xi32>) -> tensor<{rows}xi32>
  return %y : tensor<{rows}xi32>
}}
"""


# ----------------------------------------------------------------------------- our kernels
def kernel_object_from_ll(ll_text: str, symbol: str = "kernel") -> KernelObject:
    """A KernelObject from the LLVM IR of one of our lowered kernels (mlir-translate output).

    The kernel function gets hidden visibility (IREE links objects into the dispatch and
    requires it); the IR is assembled to bitcode (cached by content)."""
    import re
    pat = re.compile(r"^define (?!hidden )((?:[\w.]+ )*?)(\S+) @" + re.escape(symbol) + r"\(",
                     re.M)
    ll_text, n = pat.subn(lambda m: f"define hidden {m.group(1)}{m.group(2)} @{symbol}(",
                          ll_text, count=1)
    if n == 0 and not re.search(r"^define hidden .*@" + re.escape(symbol) + r"\(", ll_text, re.M):
        raise ValueError(f"kernel IR defines no function @{symbol}")
    return KernelObject(symbol, bitcode_from_ll(ll_text))


def run_spmv(kernel_ll: str, buffers: Sequence[np.ndarray], x: np.ndarray, rows: int,
             target: str, *, symbol: str = "kernel", name: str = "spmv", format: str = "custom",
             timeout: float = 60.0):
    """y = W x computed by one of our kernels as a custom dispatch of an IREE module on `target`.

    kernel_ll: the kernel's LLVM IR (`T *kernel(bufs..., x, y)`, bare pointers, returns y),
               lowered for the target's index width: the MCU target's own lowering for
               cortex-m55 / rv32imc / rv32gcv, the host lowering (64-bit) for host and aarch64.
    buffers:   the packed weight arrays in kernel argument order (go to .weights on MCUs).
    format:    recorded in the stats (e.g. "csr").
    Returns (y as int32[rows], IreeStats) like mcusparse.iree.run_matvec.
    """
    from . import IreeModule
    x = np.ascontiguousarray(x)
    bufs = [np.ascontiguousarray(b) for b in buffers]
    kernel = kernel_object_from_ll(kernel_ll, symbol)
    text = custom_matvec_mlir(rows, x.shape[0], bufs, kernel, target, name="spmv")
    mod = IreeModule(text, "spmv", target, name=name, weights=tuple(range(len(bufs))),
                     timeout=timeout, extra_flags=OBJECT_FLAGS)
    outs, stats = mod.run(*bufs, x)
    import dataclasses
    return outs[0].astype(np.int32).reshape(rows), dataclasses.replace(stats, format=format)


def main(argv=None) -> int:
    """Print the IREE input module of a custom-dispatch layer (used by the lit tests)."""
    import argparse
    p = argparse.ArgumentParser(prog="python -m mcusparse.iree.dispatch", description=main.__doc__)
    p.add_argument("--target", default="cortex-m55")
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--cols", type=int, required=True)
    p.add_argument("--buffer", action="append", default=[], metavar="N:TYPE",
                   help="a packed buffer of N elements of TYPE (i8, i16, i32), in kernel order")
    p.add_argument("--symbol", default="kernel")
    p.add_argument("--object", default="kernel.bc", help="bitcode path written into the IR")
    p.add_argument("--mlp", metavar="ROWS2", type=int,
                   help="emit the two-layer module: the custom layer, ReLU, then a dense "
                        "ROWS2 x ROWS matvec")
    a = p.parse_args(argv)
    np_types = {"i8": np.int8, "i16": np.int16, "i32": np.int32}
    bufs = []
    for spec in a.buffer:
        n, _, ty = spec.partition(":")
        bufs.append(np.zeros(int(n), np_types[ty]))
    k = KernelObject(a.symbol, Path(a.object))
    if a.mlp:
        print(custom_mlp_mlir(a.rows, a.cols, a.mlp, bufs, k, a.target), end="")
    else:
        print(custom_matvec_mlir(a.rows, a.cols, bufs, k, a.target), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
