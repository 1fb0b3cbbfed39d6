"""Measured cost of one convolution layer as the compiled model runs it.

A convolution is a matmul X[P, K] x W[O, K]^T. On cortex-m55 CSR, dCSR, N:M
and dense weights get batched kernels (several pixels per pass over the
weight), on rv32imc CSR, N:M and dense ones, the others one matvec per pixel, and per-call overheads differ by format, so
`spmv cost x P` misjudges them. This module compiles that one matmul exactly as
`sparse-enc-model-to-llvm` compiles it inside a model (zero-filled
accumulator, weight tagged as layer 0 with its layout), runs it on the
emulator on random int8 activations, checks the result against numpy and
returns its modeled cycles. Results are cached by content (the layer, the
compiler build and the target's IR commands) under build/layer-costs/.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Optional

import numpy as np

MAX_PIXELS = 64
_MAPS = ("affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, "
         "affine_map<(d0, d1, d2) -> (d0, d1)>")


def layer_mlir(W: np.ndarray, pixels: int, encoding: Optional[str],
               buffers: Optional[dict] = None) -> str:
    """One conv layer as the front ends emit it (im2col already done). `buffers`:
    the packed arrays the packing pass takes instead of packing itself (cse-csr)."""
    from mcusparse.compiler import _buffers_attr
    o, k = W.shape
    attrs = "mcusparse.layer = 0 : i64" + (f", sparse_enc.layout = {encoding}" if encoding else "")
    if buffers is not None:
        attrs += f", {_buffers_attr(buffers)}"
    hexw = np.ascontiguousarray(W, np.int8).tobytes().hex().upper()
    x_t, w_t, y_t = f"tensor<{pixels}x{k}xi8>", f"tensor<{o}x{k}xi8>", f"tensor<{pixels}x{o}xi32>"
    return (f"func.func @mcusparse_model(%x: {x_t}) -> {y_t} {{\n"
            f"  %w = arith.constant {{{attrs}}} dense<\"0x{hexw}\"> : {w_t}\n"
            f"  %e = tensor.empty() : {y_t}\n"
            f"  %z = arith.constant 0 : i32\n"
            f"  %f = linalg.fill ins(%z : i32) outs(%e : {y_t}) -> {y_t}\n"
            f"  %y = linalg.matmul indexing_maps = [{_MAPS}] ins(%x, %w : {x_t}, {w_t}) "
            f"outs(%f : {y_t}) -> {y_t}\n"
            f"  return %y : {y_t}\n}}\n")


def _compiler(target: str) -> str:
    """What the cost depends on besides the layer: the C++ passes in use and
    the target's IR commands (a rebuilt compiler or new flags re-measure)."""
    from mcusparse import kernels
    from mcusparse.targets import get_target
    from mcusparse.targets import toolchain as _tc
    cmds = _tc.ir_commands(get_target(target), Path("k.ll"), Path("k.o"), tmpdir=Path("."))
    return f"{kernels._compiler_id()} {cmds}"


def _cache_file() -> Path:
    from mcusparse.targets import toolchain as _tc
    return _tc.build_root() / "layer-costs" / "costs.json"


def measure_conv_layer(W: np.ndarray, pixels: int, fmt: str, target: str,
                       wait_states: int = 4, seed: int = 0,
                       dense_weights_once: bool = False) -> int:
    """Modeled cycles of the layer at `wait_states`, or -1 if its output is wrong.
    dense_weights_once: a dense layer built as compile_model(dense_weights_once=True)
    builds it."""
    from mcusparse import compiler
    from mcusparse.compiler import program
    from mcusparse.compiler.layouts import encoding_of

    # At most MAX_PIXELS (a multiple of the kernel's 16-pixel block), scaled:
    # the cost is linear in the pixel blocks, and a large layer's output
    # would not fit the harness's memory.
    scale = 1.0
    if pixels > MAX_PIXELS:
        scale, pixels = pixels / MAX_PIXELS, MAX_PIXELS
    encoding = None if fmt == "dense" else encoding_of(fmt, W)
    once = dense_weights_once and fmt == "dense"
    text = layer_mlir(W, pixels, encoding)
    key = hashlib.sha256(f"{target} {wait_states} {seed} v1{' once' if once else ''} "
                         f"{_compiler(target)}\n{text}".encode()).hexdigest()[:20]
    cache = _cache_file()
    try:
        known = json.loads(cache.read_text())
    except (OSError, ValueError):
        known = {}
    if key in known:
        return int(known[key] * scale) if known[key] >= 0 else -1

    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (pixels, W.shape[1]), dtype=np.int8)
    work = Path(tempfile.mkdtemp(prefix="layer-cost-"))
    try:
        compiler.lower_to_object(text, target, work, f"layer {W.shape[0]}x{W.shape[1]} {fmt}",
                                 line_tables=False, dense_weights_once=once)
        out = program.IoSpec("y", (pixels, W.shape[0]), "int32")
        elf = program.build(target, work / "model.o", [x], [out], work)
        res = program.run(target, elf, [out], model=f"layer {fmt}")
        want = x.astype(np.int32) @ W.astype(np.int32).T
        if not np.array_equal(res.outputs[0], want):
            cost = -1
        elif res.core_cycles >= 0:
            cost = res.modeled_cycles(wait_states)
        else:                                   # no cycle model for the target
            cost = res.instructions
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    try:
        known = json.loads(cache.read_text())      # entries of other processes
    except (OSError, ValueError):
        known = {}
    known[key] = int(cost)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(known))
    tmp.replace(cache)
    return int(cost * scale) if cost >= 0 else -1
