"""Per-layer weight layouts for a whole network: one format for all, or `auto`.

    choices = choose_layouts(imported, "cortex-m55", "auto")
    choices[i].format, choices[i].encoding, choices[i].costs

A layer can take a sparse layout when its 2-D weight constant feeds a matrix
product (convolutions via im2col, fully connected / Gemm / MatMul) and is int8;
depthwise convolutions and float layers stay dense.

`auto` measures: for every candidate format, the layer's own weight matrix is
compiled as one y = W x kernel (mcusparse.kernels, cached), run once on the
target's emulator, checked against numpy, and its modeled cycles (MEASURE.md,
at the given wait states) times the number of output pixels is the layer's
cost. On cortex-m55 a CSR, dCSR, N:M (2- or 4-bit fields) or dense
convolution (more than one output pixel) gets a batched kernel (CSR:
pixel-batched or row-gathered; dCSR and N:M: each group decoded once per 16
pixels; dense: register-blocked), so its cost is
measured on the whole layer as the model pipeline compiles it
(compiler/layer_cost.py, at most 64 pixels, scaled to the layer's). The cheapest correct candidate wins; dense wins where sparsity does not
pay. Candidates: dense, csr, csr:8 (at most 256 columns), dcsr, dcsr:16:8
(byte deltas), gs:V (V = the
target's lanes) and nm:N:M
(m = 8 and 16, N the largest nonzero count of any block) when N <= M / 2;
on rv32imc also cse-csr when the weights take at most 15 distinct nonzero
values (low-bit weights, where pairs of entries recur; on the vector
targets its kernels lose to CSR's, docs/benchmarks.md "CSE-CSR").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from mcusparse import formats
from mcusparse.frontend.model import ImportedModel, LayerInfo

# Layer kinds whose weight constant is consumed by linalg.matmul / linalg.matvec.
MATRIX_OPS = {"CONV_2D", "FULLY_CONNECTED", "Conv", "Gemm", "MatMul", "QLinearConv",
              "QLinearMatMul"}
GS_LANES = {"cortex-m55": 16, "rv32imc": 4, "rv32gcv": 8, "host": 8}
# Targets where a convolution's kernel depends on the format beyond one
# matvec per pixel: on cortex-m55 CSR convolutions are pixel-batched or
# row-gathered, dCSR and N:M ones with 2- or 4-bit fields decode each group
# once per 16 pixels, dense ones are register-blocked; on rv32imc CSR,
# dCSR and N:M ones read each entry once per 16 or 8 pixels and dense ones
# are register-blocked; on rv32gcv CSR ones with short rows or many pixels are
# pixel-batched (the generic vector kernel; sparse-enc-matmul-to-matvec
# decides, and measure_conv_layer measures what it builds), dense ones
# read each weight once (rows held in vector registers), int8 N:M ones
# decode each field once per 4 pixels (rows in lanes), as do GS ones each
# step, and dCSR ones each group once per 16 pixels (the cortex-m55 row
# loops).
BATCHED_FORMATS = {"cortex-m55": ("dense", "csr", "dcsr"), "rv32imc": ("dense", "csr", "dcsr"),
                   "rv32gcv": ("dense", "csr", "gs", "dcsr")}
# rv32gcv convolutions (GS batched over pixels) take 16 lanes: 64x64 over 125
# pixels at 90 % 40,834 instructions against 67,904 with 8.
GS_LANES_BATCHED = {"rv32gcv": 16}
BATCHED_TARGETS = set(BATCHED_FORMATS)


def has_batched_kernel(fmt: str, target: str = "cortex-m55") -> bool:
    """True for the formats whose convolutions get a batched kernel (int8) on
    `target`; the compiler's side of this is hasBatchedSparseKernel
    (passes/lower/Lowering.h), which sparse-enc-matmul-to-matvec asks."""
    spec = formats.parse_format(fmt)
    if spec.name == "nm":
        n, m = spec.params["n"], spec.params["m"]
        return target in ("rv32imc", "rv32gcv") or (target == "cortex-m55" and m in (4, 16)
                                                    and 16 % n == 0)
    return spec.name in BATCHED_FORMATS.get(target, ())


# `auto` takes a layout that stores no fewer bytes than dense only when it
# measures at least this much faster than dense.
NO_FLASH_GAIN_MARGIN = 0.02

# cse-csr is a candidate for `auto` on these targets, for weights with at
# most this many distinct nonzero values.
CSE_TARGETS = {"rv32imc"}
CSE_MAX_LEVELS = 15


@dataclass
class LayerChoice:
    index: int                  # position in ImportedModel.layers (the `mcusparse.layer` tag)
    name: str
    op: str
    format: str                 # canonical format string, "dense" when no layout
    encoding: Optional[str]     # the #sparse_enc attribute, None for dense
    pixels: int                 # matrix-vector products per inference (output pixels)
    weight_bytes: int           # packed bytes (formats.encode total, == the C++ packing)
    dense_bytes: int
    reason: str = ""
    costs: Dict[str, int] = field(default_factory=dict)  # auto: format -> modeled cycles
    # cse-csr: the search's storage buffers, which the packing pass checks and takes
    buffers: Optional[Dict[str, np.ndarray]] = field(default=None, repr=False, compare=False)
    # dense, dense_weights_once: the kernel that reads each weight once measured
    # faster than the register-blocked one (`sparse_enc.weights_once` on the constant)
    weights_once: bool = False


def sparse_capable(layer: LayerInfo) -> bool:
    return layer.op in MATRIX_OPS and layer.weight_dtype == "i8" and layer.weight is not None


def encoding_of(fmt: str, W: np.ndarray) -> Optional[str]:
    """The #sparse_enc attribute text of a format string ("csr", "nm:2:8", ...) for W,
    checked by the dialect against W's shape and element type."""
    from mcusparse.kernels import _encoding
    return _encoding(formats.parse_format(fmt, W.dtype), nnz=int(np.count_nonzero(W)),
                     shape=W.shape, dtype=W.dtype)


def _pixels(layer: LayerInfo) -> int:
    rows, cols = layer.matrix_shape
    return max(1, int(layer.macs) // max(1, rows * cols))


def candidates(W: np.ndarray, target: str, pixels: int = 1) -> List[str]:
    lanes = GS_LANES.get(target, 8)
    if pixels > 1:
        lanes = GS_LANES_BATCHED.get(target, lanes)
    # rv32imc: no 4-bit dCSR. Its scalar decode is slower than dcsr:16:8 and
    # csr:8 on every benchmark layer, and on small unpruned layers it can
    # measure faster than dense alone while the model runs slower
    # (digits_nm1_8's 8x9 first convolution: 6.6 % below dense alone, the
    # model 1.5 % slower at 4 wait states).
    out = ["dense", "csr", "dcsr", "dcsr:16:8", f"gs:{lanes}"]
    if target == "rv32imc":
        out.remove("dcsr")
    rows, cols = W.shape
    if cols <= 256:
        out.insert(2, "csr:8")
    for m in (8, 16):
        if cols % m:
            continue
        n = int((W.reshape(rows, cols // m, m) != 0).sum(-1).max())
        if 1 <= n <= m // 2:
            out.append(f"nm:{n}:{m}")
    if target in CSE_TARGETS and np.unique(W[W != 0]).size <= CSE_MAX_LEVELS:
        out.append("cse-csr")
    return out


def _measure(W: np.ndarray, fmt: str, target: str, wait_states: int, seed: int = 0) -> int:
    """Modeled cycles of one y = W x on the emulator, or -1 if the kernel is not correct."""
    from mcusparse import kernels
    x = np.random.default_rng(seed).integers(-128, 128, W.shape[1], dtype=np.int8)
    y, st = kernels.spmv(W, format=fmt, target=target).run(x, wait_states=wait_states)
    if not np.array_equal(y, W.astype(np.int32) @ x.astype(np.int32)):
        return -1
    if st.modeled_cycles >= 0:
        return int(st.modeled_cycles)
    return int(st.instructions)


def choose_layouts(model: ImportedModel, target: str, fmt: str = "auto", *,
                   wait_states: int = 4, progress: bool = True,
                   dense_weights_once: bool = False) -> List[LayerChoice]:
    """One LayerChoice per layer of `model` (see the module docstring)."""
    fmt = fmt.strip().lower()
    if fmt != "auto":
        formats.parse_format(fmt)   # a misspelt format is no layer's misfit: ValueError here
    todo = list(enumerate(model.layers))
    bar = None
    if progress and fmt == "auto":
        from tqdm import tqdm
        bar = tqdm(total=len(todo), desc=f"choosing layouts ({target})", unit="layer",
                   leave=False)
    choices = []
    try:
        for pos, layer in todo:
            choices.append(_choose_one(pos, layer, target, fmt, wait_states,
                                       dense_weights_once))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return choices


def layout_attrs(packed: formats.Encoded) -> Tuple[str, Optional[Dict[str, np.ndarray]]]:
    """The #sparse_enc attribute of packed weights, and the buffers the packing
    pass takes instead of packing itself (CSE-CSR: its subexpressions come
    from the Python search), or None."""
    from mcusparse.encodings import pointer_count
    from mcusparse.kernels import _encoding
    enc = _encoding(packed.spec, nnz=pointer_count(packed.spec, packed.arrays),
                    shape=packed.shape, dtype=packed.dtype)
    return enc, dict(packed.arrays) if packed.spec.name == "cse-csr" else None


def _choice(pos: int, layer: LayerInfo, f: str, reason: str,
            costs: Optional[Dict[str, int]] = None, weights_once: bool = False) -> LayerChoice:
    W = layer.weight
    dense_bytes = int(layer.weight_bytes)
    buffers = None
    if f == "dense" or W is None:
        packed = dense_bytes
        enc = None
        f = "dense"
    else:
        enc_obj = formats.encode(W, f)
        packed = int(enc_obj.total_bytes)
        f = enc_obj.fmt
        enc, buffers = layout_attrs(enc_obj)
    return LayerChoice(pos, layer.name, layer.op, f, enc, _pixels(layer), packed, dense_bytes,
                       reason, dict(costs or {}), buffers, weights_once and f == "dense")


def _choose_one(pos: int, layer: LayerInfo, target: str, fmt: str,
                wait_states: int, dense_weights_once: bool = False) -> LayerChoice:
    where = f"layer {pos} ({layer.op} {layer.name!r}, {layer.matrix_shape[0]}x" \
            f"{layer.matrix_shape[1]})"
    if not sparse_capable(layer):
        why = ("depthwise: dense" if "DEPTHWISE" in layer.op.upper()
               else "float weights: dense" if layer.weight_dtype != "i8" else "dense")
        return _choice(pos, layer, "dense", why)
    W = layer.weight
    px = _pixels(layer)
    batched = target in BATCHED_TARGETS and px > 1
    # Which dense kernel: with dense_weights_once, the one that measures
    # fewer modeled cycles at `wait_states` on this layer.
    once = dense_weights_once and batched and target == "cortex-m55"

    def dense_cost() -> Tuple[int, bool]:
        from mcusparse.compiler.layer_cost import measure_conv_layer
        blocked = measure_conv_layer(W, px, "dense", target, wait_states)
        if not once:
            return blocked, False
        read_once = measure_conv_layer(W, px, "dense", target, wait_states,
                                       dense_weights_once=True)
        if read_once >= 0 and (blocked < 0 or read_once < blocked):
            return read_once, True
        return blocked, False
    if fmt != "auto":
        try:
            if fmt == "dense" and once:
                cost, faster = dense_cost()
                return _choice(pos, layer, "dense", "explicit" + (
                    f", weights read once: faster at {wait_states} wait states" if faster
                    else ""), {"dense": cost}, faster)
            return _choice(pos, layer, fmt, "explicit")
        except ValueError as err:
            raise ValueError(f"{where}: format {fmt!r} does not fit: {err}") from None
    costs: Dict[str, int] = {}
    no_smaller = set()                     # layouts that store no fewer bytes than dense
    dense_once = False
    for f in candidates(W, target, px):
        try:
            packed = None if f == "dense" else formats.encode(W, f)  # ValueError: no fit
            if packed is not None and packed.total_bytes >= layer.weight_bytes:
                no_smaller.add(f)
            if batched and f == "dense" and has_batched_kernel(f, target):
                cost, dense_once = dense_cost()
            elif batched and has_batched_kernel(f, target):
                from mcusparse.compiler.layer_cost import measure_conv_layer
                cost = measure_conv_layer(W, px, f, target, wait_states)
            else:
                cycles = _measure(W, f, target, wait_states)
                cost = cycles * px if cycles >= 0 else -1
        except ValueError:
            continue                       # the matrix does not fit the format
        if cost >= 0:
            costs[f] = cost
    if not costs:
        return _choice(pos, layer, "dense", "no candidate measured correct")
    # A layout that saves no flash must be clearly faster than dense: a
    # layer's cost measured alone moves by 1-2 % inside the model (digits on
    # rv32imc: 4-bit dCSR on its unpruned 8x9 first layer measured 1 % below
    # dense alone, and the model ran 1.6 % slower with it).
    if "dense" in costs:
        limit = costs["dense"] * (1 - NO_FLASH_GAIN_MARGIN)
        costs_ok = {f: c for f, c in costs.items() if f not in no_smaller or c <= limit}
    else:
        costs_ok = costs
    best = min(costs_ok, key=lambda f: (costs_ok[f], f != "dense"))
    fastest = min(costs, key=lambda f: (costs[f], f != "dense"))
    reason = f"auto: lowest modeled cycles at {wait_states} wait states"
    if fastest != best:
        reason = (f"auto: dense ({fastest} measured under "
                  f"{NO_FLASH_GAIN_MARGIN:.0%} faster and stores no fewer bytes)")
    if best == "dense" and dense_once:
        reason += ", dense reading weights once"
    return _choice(pos, layer, best, reason, costs, dense_once)
