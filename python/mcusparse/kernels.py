"""Compile and run one sparse (or dense) matrix-vector kernel on a target.

    k = mcusparse.kernels.spmv(W, format="csr", target="cortex-m55")
    y, stats = k.run(x)          # y == W.astype(int32) @ x.astype(int32)
    stats.instructions, stats.weight_bytes_read, stats.flash_bytes, stats.text_bytes
    stats.modeled_cycles         # k.run(x, wait_states=4): mcusparse.cyclemodel ("model")

W and x are int8 (y int32), or float32 (y float32, the products summed in
the kernel's order: compare with a tolerance).

format="sparsifier" compiles the same matrix with upstream MLIR's
--sparsifier as CSR instead (mcusparse.sparsifier), as a peer, through the
same opt+llc / clang route as ours; "sparsifier:llc" compiles it with llc
alone (cortex-m55), the build behind shared/MEASURE.md's anchor;
"structured:N:M" compiles an N:M matrix as upstream's structured[N, M]
level through the same --sparsifier route (the N:M peer).

runtime="iree" runs the same lowered kernel as a custom dispatch of an IREE
module instead of calling it from our harness (mcusparse.iree.dispatch): on
the MCU targets through IREE's static-library output and our bare-metal
executable-library harness, on "host" and "aarch64" through IREE's runtimes
(docs/iree.md). Results and stats have the same meaning.

What happens:

1. `formats.encode(W, format)` packs the weights (the golden encoder; the
   C++ packing pass produces the same bytes).
2. A kernel module is written in MLIR: `func.func @kernel` takes the storage
   buffers, x and y as arguments, joins the buffers with `sparse_enc.assemble`
   and computes `linalg.matvec` (y += W x). Weights are arguments rather than
   constants so that the kernel only depends on the buffer sizes, and the
   bytes live in the `.weights` section of the harness, where the counting
   plugin measures their traffic.
3. The named pipeline `to-llvm:<target>` (`sparse-enc-to-llvm{target=...}` in
   C++) lowers it to the llvm dialect (32-bit index on the MCU targets,
   bare-pointer arguments), `mlir-translate` makes LLVM IR and the targets
   layer compiles it (opt -O3 + llc for the M55, zig's clang 22 for RISC-V).
4. The harness `runtime/common/spmv_main.c` is linked with a generated data
   file (the packed arrays in `.weights`, x, y) and calls
   `kernel(buffers..., x, y)` between the benchmark markers, then prints y.

Everything derived from inputs is cached by content hash under
build/kernels/: the kernel object (by MLIR text and target), and each
program (kernel + weights + x).
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np

from mcusparse import formats
from mcusparse.targets import MCU_TARGETS, get_target
from mcusparse.targets import qemu as _qemu
from mcusparse.targets import toolchain as _tc

__all__ = ["spmv", "SpmvKernel", "KernelStats", "KernelError"]

# Bump when the generated code or the harness changes meaning.
_CACHE_VERSION = "1"


class KernelError(RuntimeError):
    """Compiling a kernel failed, or its program printed no usable result."""


@dataclass(frozen=True)
class KernelStats:
    instructions: int            # executed between the benchmark markers
    weight_bytes_read: int       # bytes loaded from the .weights section
    flash_bytes: int             # packed weights + metadata + kernel .text
    text_bytes: int              # kernel .text (the lowered function)
    weight_bytes: int            # packed weights + metadata
    target: str
    format: str
    # Modeled cycles (mcusparse.cyclemodel, "model" in tables): llvm-mca core
    # cycles per executed block + wait_states x 8-byte weight transactions.
    modeled_cycles: int = -1     # at `wait_states`
    wait_states: int = 4
    core_cycles: int = -1        # modeled_cycles at 0 wait states
    weight_transactions: int = 0  # ceil(weight_bytes_read / 8)
    cycle_model: str = ""        # which scheduling model

    def modeled_cycles_at(self, wait_states: int) -> int:
        """Modeled cycles for another wait-state setting (no re-run needed)."""
        return self.core_cycles + int(wait_states) * self.weight_transactions


_MLIR_TYPES = {np.dtype(np.int8): "i8", np.dtype(np.uint8): "i8",
               np.dtype(np.int16): "i16", np.dtype(np.uint16): "i16",
               np.dtype(np.int32): "i32", np.dtype(np.uint32): "i32",
               np.dtype(np.float32): "f32"}
_C_TYPES = {np.dtype(np.int8): "int8_t", np.dtype(np.uint8): "uint8_t",
            np.dtype(np.int16): "int16_t", np.dtype(np.uint16): "uint16_t",
            np.dtype(np.int32): "int32_t", np.dtype(np.uint32): "uint32_t",
            np.dtype(np.float32): "float"}


def _encoding(spec: formats.FormatSpec, nnz: int = 0, shape: Optional[tuple] = None,
              dtype=None) -> Optional[str]:
    """The #sparse_enc attribute of a format; with `shape` and `dtype`, checked
    by the dialect against the weight tensor (ValueError if it does not fit)."""
    from mcusparse.encodings import check_weight_type, encoding_attr
    try:
        enc = encoding_attr(spec, nnz=nnz)
    except ValueError:
        raise KernelError(f"format {spec}: no lowering yet (supported: dense, csr[:8], "
                          "dcsr[:G[:8]], nm:N:M, gs:V, cse-csr)") from None
    if enc is not None and shape is not None:
        check_weight_type(enc, shape, dtype)
    return enc


def kernel_mlir(rows: int, cols: int, fmt: str, buffers: Dict[str, np.ndarray]) -> str:
    """The MLIR module of the kernel: storage buffers, x and y as arguments
    (int8 W and x with int32 y, or float32 throughout, after the values)."""
    spec = formats.parse_format(fmt)
    from mcusparse.encodings import pointer_count
    is_float = buffers["values"].dtype == np.float32
    enc = _encoding(spec, nnz=pointer_count(spec, buffers), shape=(rows, cols),
                    dtype=buffers["values"].dtype)
    elem, acc = ("f32", "f32") if is_float else ("i8", "i32")
    x_t, y_t = f"tensor<{cols}x{elem}>", f"tensor<{rows}x{acc}>"
    w_t = f"tensor<{rows}x{cols}x{elem}" + (f", {enc}>" if enc else ">")
    if enc is None:
        args = [f"%values: {w_t}"]
        body = ""
        w = "%values"
    else:
        btypes = [f"tensor<{a.size}x{_MLIR_TYPES[a.dtype]}>" for a in buffers.values()]
        names = [f"%{n}" for n in buffers]
        args = [f"{n}: {t}" for n, t in zip(names, btypes)]
        body = (f"  %w = sparse_enc.assemble ({', '.join(names)}) : "
                f"({', '.join(btypes)}) -> {w_t}\n")
        w = "%w"
    args += [f"%x: {x_t}", f"%y: {y_t}"]
    return (f"func.func @kernel({', '.join(args)}) -> {y_t} {{\n{body}"
            f"  %r = linalg.matvec ins({w}, %x : {w_t}, {x_t}) outs(%y : {y_t}) -> {y_t}\n"
            f"  return %r : {y_t}\n}}\n")


def _hash(*parts) -> str:
    h = hashlib.sha256(_CACHE_VERSION.encode())
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def _c_array(name: str, a: np.ndarray, weights: bool) -> str:
    ctype = _C_TYPES[a.dtype]
    vals = a.reshape(-1)
    if vals.size == 0:              # C has no empty arrays; the kernel never reads it
        vals = np.zeros(1, a.dtype)
    body = ",".join(str(v) for v in vals.tolist())
    prefix = "MCUSPARSE_WEIGHTS const " if weights else ""
    return f"{prefix}{ctype} {name}[{vals.size}] = {{{body}}};\n"


def _mlir_translate() -> str:
    import importlib.util
    spec = importlib.util.find_spec("mlir")
    for loc in spec.submodule_search_locations or []:
        cand = Path(loc) / "bin" / "mlir-translate"
        if cand.is_file():
            return str(cand)
    raise KernelError("mlir-translate not found in the mlir wheel")


def _compiler_id() -> str:
    """Identifies the C++ passes in use (the extension's file), so that a
    rebuilt compiler does not reuse kernels from the previous one."""
    from mcusparse import _mcusparse_ext
    st = Path(_mcusparse_ext.__file__).stat()
    return f"{st.st_size}-{st.st_mtime_ns}"


def compile_kernel_object(mlir_text: str, target: str) -> Tuple[Path, str]:
    """Lower the kernel module for `target` and compile it to an object (cached)."""
    from mcusparse import pipeline

    t = get_target(target)
    key = _hash("kernel", mlir_text, t.name, pipeline.to_llvm_pipeline(t.name),
                _compiler_id(), _tc.ir_commands(t, Path("k.ll"), Path("k.o"), tmpdir=Path(".")))
    out = _tc.build_root() / "kernels" / f"kernel-{t.name}-{key}"
    obj = out / "kernel.o"
    if obj.is_file():
        return obj, key
    # Built in a private directory that then becomes `out` in one rename:
    # parallel benchmark jobs may build the same kernel at the same time.
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{out.name}.", dir=out.parent))
    try:
        (work / "kernel.mlir").write_text(mlir_text)
        try:
            module = pipeline.run(mlir_text, f"to-llvm:{t.name}")
        except pipeline.PipelineError as err:
            raise KernelError(f"{t.name}: lowering the kernel failed: {err}") from None
        (work / "kernel.llvm.mlir").write_text(str(module))
        proc = subprocess.run([_mlir_translate(), "--mlir-to-llvmir",
                               str(work / "kernel.llvm.mlir"), "-o", str(work / "kernel.ll")],
                              capture_output=True, text=True)
        if proc.returncode:
            raise KernelError(f"{t.name}: mlir-translate failed:\n{proc.stderr}")
        for cmd in _tc.ir_commands(t, work / "kernel.ll", work / "kernel.o", tmpdir=work):
            _tc._run(cmd, f"{t.name}: compiling the kernel's LLVM IR")
        _publish(work, out, obj)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return obj, key


def _publish(work: Path, out: Path, done: Path) -> None:
    """Rename the finished build directory `work` to `out`, unless another
    build got there first (`done` exists); a leftover `out` without `done`
    (an interrupted build) is replaced."""
    try:
        work.rename(out)
    except OSError:
        if done.is_file():
            return
        shutil.rmtree(out, ignore_errors=True)
        work.rename(out)


class SpmvKernel:
    """A compiled y = W x for one matrix, format and target."""

    def __init__(self, W: np.ndarray, format: str = "csr", target: str = "cortex-m55",
                 *, runtime: str = "direct", timeout: float = 60.0):
        W = np.asarray(W)
        if W.ndim != 2 or W.dtype not in (np.int8, np.float32):
            raise ValueError(f"W must be a 2-D int8 or float32 matrix, got {W.dtype} {W.shape}")
        self.W = W
        self.is_float = W.dtype == np.float32
        self.rows, self.cols = W.shape
        self.timeout = timeout
        self.runtime = str(runtime).strip().lower()
        if self.runtime not in ("direct", "iree"):
            raise ValueError(f"runtime must be 'direct' or 'iree', got {runtime!r}")
        peer = format.strip().lower() if isinstance(format, str) else ""
        from mcusparse import sparsifier as _sp
        is_peer = peer in (_sp.FORMAT, _sp.LLC_ONLY_FORMAT) or peer.startswith(_sp.STRUCTURED)
        if self.is_float and (is_peer or self.runtime == "iree"):
            raise ValueError("float32 kernels run with runtime='direct' and our formats "
                             "(the sparsifier peer and the IREE dispatch are int8 only)")
        if self.runtime == "iree":
            from mcusparse.iree import get_iree_target
            self.target = get_iree_target(target).name
            if is_peer:
                raise ValueError(f"format {peer!r} (an upstream peer) runs only with "
                                 "runtime='direct'")
        else:
            self.target = get_target(target).name
        # IREE's host and aarch64 targets take the 64-bit host lowering; its
        # MCU targets the target's own (32-bit index).
        lowering = self.target if self.target in MCU_TARGETS else "host"
        if is_peer:
            # The upstream --sparsifier peers (mcusparse.sparsifier).
            self.encoded = _sp.encode(W, peer)
            self.format = peer
            self.buffers = dict(self.encoded.arrays)
            self.mlir = _sp.kernel_mlir(self.rows, self.cols, self.buffers, peer)
            try:
                self.object, self.kernel_key = _sp.compile_kernel_object(
                    self.mlir, lowering, middle_end=peer != _sp.LLC_ONLY_FORMAT)
            except _tc.ToolchainError as err:
                raise ValueError(f"format {peer!r}: {err}") from None
        else:
            self.encoded = formats.encode(W, format)
            self.format = self.encoded.fmt
            self.buffers = dict(self.encoded.arrays)
            self.mlir = kernel_mlir(self.rows, self.cols, self.format, self.buffers)
            self.object, self.kernel_key = compile_kernel_object(self.mlir, lowering)
        self.name = f"spmv-{self.format.replace(':', '_')}-{self.rows}x{self.cols}"

    # --------------------------------------------------------------- program
    def _data_c(self, x: np.ndarray) -> str:
        lines = ["#include <stdint.h>\n", '#include "bench.h"\n']
        for n, a in self.buffers.items():
            lines.append(_c_array(f"w_{n}", a, weights=True))
        lines.append(_c_array("mcusparse_x", x, weights=False))
        lines.append(f"{self._c_types[1]} mcusparse_y[{self.rows}];\n")
        return "".join(lines)

    @property
    def _c_types(self) -> Tuple[str, str]:
        """C element types of x and y."""
        return ("float", "float") if self.is_float else ("int8_t", "int32_t")

    def _config_h(self) -> str:
        names = [f"w_{n}" for n in self.buffers]
        decls = "".join(f"extern const {_C_TYPES[a.dtype]} w_{n}[];\n"
                        for n, a in self.buffers.items())
        x_t, y_t = self._c_types
        params = ", ".join(["const void *"] * len(names) + [f"const {x_t} *", f"{y_t} *"])
        return ("#include <stdint.h>\n"
                f"#define MCUSPARSE_ROWS {self.rows}\n{decls}"
                + ("#define MCUSPARSE_Y_FLOAT 1\n" if self.is_float else "")
                + f"extern {x_t} mcusparse_x[];\nextern {y_t} mcusparse_y[];\n"
                "/* The lowered kernel returns y (the bufferized result). */\n"
                f"{y_t} *kernel({params});\n"
                f"#define MCUSPARSE_CALL() kernel({', '.join(names)}, mcusparse_x, mcusparse_y)\n")

    def build(self, x: np.ndarray) -> Path:
        """The ELF running this kernel on `x` (cached by content)."""
        data, config = self._data_c(x), self._config_h()
        harness = _tc.runtime_root() / "common" / "spmv_main.c"
        key = _hash("program", self.target, self.kernel_key, data, config,
                    harness.read_bytes())
        out = _tc.build_root() / "kernels" / f"prog-{self.target}-{key}"
        elf = out / f"{self.name}.elf"
        if elf.is_file():
            return elf
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"{out.name}.", dir=out.parent))
        try:
            (work / "spmv_data.c").write_text(data)
            (work / "spmv_config.h").write_text(config)
            _tc.build(self.target, [harness, work / "spmv_data.c", self.object],
                      work / elf.name, include_dirs=[work], opt="-O2")
            _publish(work, out, elf)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return elf

    def text_bytes(self, elf: Path) -> int:
        sym = _tc.read_symbols(elf).get("kernel")
        return sym.size if sym else 0

    # ------------------------------------------------------------------- run
    def run(self, x: np.ndarray, wait_states: int = 4) -> Tuple[np.ndarray, KernelStats]:
        x = np.asarray(x)
        if x.shape != (self.cols,):
            raise ValueError(f"x must have shape ({self.cols},), got {x.shape}")
        if x.dtype != self.W.dtype:
            raise ValueError(f"x must be {self.W.dtype} like W, got {x.dtype}")
        if self.runtime == "iree":
            return self._run_iree(x, wait_states)
        elf = self.build(x)
        res = _qemu.run(self.target, elf, timeout=self.timeout,
                        program=f"{self.name} ({self.format} kernel)")
        y = _parse_y(res.stdout_text, self.rows, self.target, self.name, self.is_float)
        text = self.text_bytes(elf)
        weights = int(self.encoded.total_bytes)
        model = {}
        if res.instructions is not None:
            from mcusparse import cyclemodel
            est = cyclemodel.estimate(self.target, elf, res.blocks, res.weight_bytes_read)
            model = dict(modeled_cycles=est.modeled_cycles(wait_states),
                         wait_states=int(wait_states), core_cycles=est.core_cycles,
                         weight_transactions=est.weight_transactions, cycle_model=est.model)
        stats = KernelStats(
            instructions=int(res.instructions) if res.instructions is not None else -1,
            weight_bytes_read=int(res.weight_bytes_read or 0),
            flash_bytes=weights + text, text_bytes=text, weight_bytes=weights,
            target=self.target, format=self.format, **model)
        return y, stats


    def kernel_ll(self) -> str:
        """The lowered kernel's LLVM IR (what IREE links as a custom dispatch)."""
        return (self.object.parent / "kernel.ll").read_text()

    def _run_iree(self, x: np.ndarray, wait_states: int) -> Tuple[np.ndarray, KernelStats]:
        """The same kernel as a custom dispatch of an IREE module (mcusparse.iree.dispatch)."""
        from mcusparse.iree import dispatch
        y, st = dispatch.run_spmv(self.kernel_ll(), list(self.buffers.values()), x, self.rows, self.target,
                                  name=f"iree-{self.name}", format=self.format,
                                  timeout=self.timeout)
        weights = int(self.encoded.total_bytes)
        text = max(st.text_bytes, 0)
        model = {}
        if st.elf is not None and st.instructions >= 0:
            from mcusparse import cyclemodel
            est = cyclemodel.estimate(self.target, st.elf, list(st.blocks),
                                      st.weight_bytes_read)
            model = dict(modeled_cycles=est.modeled_cycles(wait_states),
                         wait_states=int(wait_states), core_cycles=est.core_cycles,
                         weight_transactions=est.weight_transactions, cycle_model=est.model)
        stats = KernelStats(instructions=int(st.instructions),
                            weight_bytes_read=int(max(st.weight_bytes_read, 0)),
                            flash_bytes=weights + text, text_bytes=text, weight_bytes=weights,
                            target=self.target, format=self.format, **model)
        return y, stats


def _parse_y(text: str, rows: int, target: str, name: str,
             is_float: bool = False) -> np.ndarray:
    for line in text.splitlines():
        if line.startswith("y:"):
            vals = line[2:].split()
            if len(vals) != rows:
                break
            if is_float:    # the harness prints float32 bit patterns
                return np.array([int(v) for v in vals], dtype=np.uint32).view(np.float32)
            return np.array([int(v) for v in vals], dtype=np.int32)
    raise KernelError(f"{target}: {name}: the program printed no result of {rows} values; "
                      f"output:\n{text[-2000:]}")


def spmv(W: np.ndarray, format: str = "csr", target: str = "cortex-m55",
         **kwargs) -> SpmvKernel:
    """Compile y = W x (int8 W and x, int32 y; or float32) in `format` for `target`.

    Keyword arguments: runtime ("direct" or "iree"), timeout (seconds per run)."""
    return SpmvKernel(W, format=format, target=target, **kwargs)


def spmm(W: np.ndarray, format: str = "csr", target: str = "cortex-m55", batch: int = 16,
         **kwargs):
    """Compile Y = W X (int8, int32 Y, X of shape (cols, batch)); see mcusparse.spmm."""
    from mcusparse.spmm import spmm as _spmm
    return _spmm(W, format=format, target=target, batch=batch, **kwargs)
