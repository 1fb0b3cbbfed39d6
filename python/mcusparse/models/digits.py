"""A small pruned int8 CNN for scikit-learn's digits (8x8 images, 10 classes).

Trained from scratch in numpy (no deep-learning framework), pruned by
magnitude with `mcusparse.prune`, fine-tuned with the pruning masks fixed,
quantised with TFLite's int8 scheme and written as a .tflite flatbuffer:

    float32 input [1, 8, 8, 1] (pixels / 16, in [0, 1])
    QUANTIZE         -> int8 (scale 1/255, zero point -128)
    CONV_2D  conv1   3x3, 1 -> 8, stride 1, SAME, RELU        matrix   8 x 9
    CONV_2D  conv2   3x3, 8 -> 16, stride 2, SAME, RELU       matrix  16 x 72
    RESHAPE          [1, 4, 4, 16] -> [1, 256]
    FULLY_CONNECTED  fc1  256 -> 128, RELU                    matrix 128 x 256
    FULLY_CONNECTED  fc2  128 -> 64, RELU                     matrix  64 x 128
    FULLY_CONNECTED  fc3  64 -> 10                            matrix  10 x 64
    DEQUANTIZE       -> float32 logits [1, 10]

int8 semantics as the TFLite converter writes them: per-channel symmetric
int8 weights (zero point 0, scale max|w|/127 per output channel), int32
biases with scale input_scale * weight_scale and zero point 0, per-tensor
asymmetric int8 activations calibrated on the training set (min/max).

Every weight layer but conv1 (72 weights, the first layer is left dense, as
is usual) is pruned to exactly `sparsity` zeros: magnitude pruning over the
layer's out x (kh*kw*in) matrix, reached gradually during training, then
fine-tuning with the masks fixed. A weight that pruning kept never becomes
zero in int8 (it is rounded away from zero to +-1), so the int8 zero
fraction of each pruned layer is the target, to the rounding of
`prune.magnitude` (round_half_up(sparsity * size) zeros).

    from mcusparse.models import digits
    m = digits.train_digits(sparsity=0.9, seed=0)
    m.tflite            # bytes of the .tflite flatbuffer
    m.float_accuracy, m.int8_accuracy, m.layer_sparsity

    python -m mcusparse.models.digits --out models/

writes models/digits_{dense,sparse80,sparse90,nm1_8}.tflite, models/digits_test.npz
(the held-out test images and labels) and models/README.md. Training is
deterministic for a seed on one machine (numpy's Generator, single-threaded
BLAS); numpy's float32 matmul kernels round differently on other CPUs (AVX2
against AVX-512), so a regenerated model may differ in some weights there,
with the same structure and zeros per layer.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mcusparse import prune

INPUT_SHAPE = (1, 8, 8, 1)
N_TEST = 300
LAYERS = ("conv1", "conv2", "fc1", "fc2", "fc3")
DENSE_LAYERS = ("conv1",)          # never pruned
# (kind, weight shape as stored in TFLite, stride) per layer.
ARCH = {
    "conv1": ("conv", (8, 3, 3, 1), 1),
    "conv2": ("conv", (16, 3, 3, 8), 2),
    "fc1": ("fc", (128, 256), None),
    "fc2": ("fc", (64, 128), None),
    "fc3": ("fc", (10, 64), None),
}
RELU_AFTER = {"conv1", "conv2", "fc1", "fc2"}

# Training schedule (epochs over the 1497 training images, batch 32, Adam).
DENSE_EPOCHS = 40
PRUNE_EPOCHS = 20          # sparsity ramps up (cubic) over these
FINETUNE_EPOCHS = 20
BATCH = 32
LR = 2e-3
LR_FINETUNE = 5e-4
# N:M keeps 1 weight of every block, which takes longer to recover from
# (1:8 int8 accuracy after 20 / 40 / 60 epochs: 96.7 / 97.3 / 97.7 %).
NM_FINETUNE_EPOCHS = 60

MODEL_FILES = {0.0: "digits_dense.tflite", 0.8: "digits_sparse80.tflite",
               0.9: "digits_sparse90.tflite"}
# N:M-pruned models (N of every M consecutive weights along a row), by (N, M).
NM_FILES = {(1, 8): "digits_nm1_8.tflite"}
TEST_FILE = "digits_test.npz"


# --- data -----------------------------------------------------------------------
def load_data(seed: int = 0, n_test: int = N_TEST):
    """(x_train, y_train, x_test, y_test): float32 NHWC images [n, 8, 8, 1] with
    pixel values / 16 (in [0, 1]) and int64 labels; the split is a seeded
    permutation of scikit-learn's 1797 digits, the first n_test are the test set."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.data.astype(np.float32) / np.float32(16.0)).reshape(-1, 8, 8, 1)
    y = d.target.astype(np.int64)
    perm = np.random.default_rng(seed).permutation(len(y))
    test, train = perm[:n_test], perm[n_test:]
    return x[train], y[train], x[test], y[test]


# --- numpy network ----------------------------------------------------------------
def _same_pads(size, k, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return out, (total // 2, total - total // 2)


def _im2col(x, kh, kw, stride):
    """x [n, h, w, c] -> columns [n, oh, ow, kh*kw*c] with TFLite SAME padding;
    column order (kh, kw, c) matches a TFLite filter [oc, kh, kw, ic] flattened."""
    n, h, w, c = x.shape
    oh, ph = _same_pads(h, kh, stride)
    ow, pw = _same_pads(w, kw, stride)
    xp = np.pad(x, [(0, 0), ph, pw, (0, 0)])
    cols = np.empty((n, oh, ow, kh, kw, c), x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, i, j, :] = xp[:, i:i + stride * oh:stride, j:j + stride * ow:stride, :]
    return cols.reshape(n, oh, ow, kh * kw * c), (ph, pw, xp.shape)


def _col2im(dcols, kh, kw, stride, pads, padded_shape, c):
    """Adjoint of _im2col: column gradients -> input gradient [n, h, w, c]."""
    n, oh, ow, _ = dcols.shape
    ph, pw = pads
    dxp = np.zeros(padded_shape, dcols.dtype)
    d = dcols.reshape(n, oh, ow, kh, kw, c)
    for i in range(kh):
        for j in range(kw):
            dxp[:, i:i + stride * oh:stride, j:j + stride * ow:stride, :] += d[:, :, :, i, j, :]
    h, w = padded_shape[1] - sum(ph), padded_shape[2] - sum(pw)
    return dxp[:, ph[0]:ph[0] + h, pw[0]:pw[0] + w, :]


def _init_params(rng):
    params = {}
    for name in LAYERS:
        _, shape, _ = ARCH[name]
        fan_in = int(np.prod(shape[1:]))
        w = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        params[name] = [w.astype(np.float32), np.zeros(shape[0], np.float32)]
    return params


def forward(params, x, keep=False):
    """Float forward pass; returns logits (and the per-layer caches / outputs)."""
    caches, outs = {}, {}
    h = x
    for name in LAYERS:
        kind, shape, stride = ARCH[name]
        w, b = params[name]
        w2 = w.reshape(shape[0], -1)
        if kind == "conv":
            cols, pads = _im2col(h, shape[1], shape[2], stride)
            z = cols @ w2.T + b
            caches[name] = (cols, pads, h.shape)
        else:
            if h.ndim > 2:
                h = h.reshape(h.shape[0], -1)
            z = h @ w2.T + b
            caches[name] = (h,)
        h = np.maximum(z, 0) if name in RELU_AFTER else z
        outs[name] = h
    return (h, caches, outs) if keep else h


def _backward(params, caches, outs, dlogits):
    grads = {}
    d = dlogits
    for name in reversed(LAYERS):
        kind, shape, stride = ARCH[name]
        w, _ = params[name]
        w2 = w.reshape(shape[0], -1)
        if name in RELU_AFTER:
            d = d * (outs[name] > 0)
        if kind == "conv":
            cols, (ph, pw, pshape), in_shape = caches[name]
            d2 = d.reshape(-1, shape[0])
            grads[name] = [(d2.T @ cols.reshape(-1, cols.shape[-1])).reshape(shape),
                           d2.sum(0)]
            if name != LAYERS[0]:
                dcols = (d2 @ w2).reshape(cols.shape)
                d = _col2im(dcols, shape[1], shape[2], stride, (ph, pw), pshape, in_shape[-1])
        else:
            (h,) = caches[name]
            grads[name] = [(d.T @ h).reshape(shape), d.sum(0)]
            d = d @ w2
            prev = LAYERS[LAYERS.index(name) - 1]
            if outs[prev].ndim > 2:
                d = d.reshape(outs[prev].shape)
    return grads


def accuracy(params, x, y) -> float:
    return float((forward(params, x).argmax(1) == y).mean())


class _Adam:
    def __init__(self, params, lr):
        self.lr, self.t = lr, 0
        self.m = {k: [np.zeros_like(p) for p in v] for k, v in params.items()}
        self.v = {k: [np.zeros_like(p) for p in v] for k, v in params.items()}

    def step(self, params, grads, b1=0.9, b2=0.999, eps=1e-8):
        self.t += 1
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for k in params:
            for i, (p, g) in enumerate(zip(params[k], grads[k])):
                m = self.m[k][i] = b1 * self.m[k][i] + (1 - b1) * g
                v = self.v[k][i] = b2 * self.v[k][i] + (1 - b2) * g * g
                p -= (self.lr * (m / c1) / (np.sqrt(v / c2) + eps)).astype(p.dtype)


def _epoch(params, opt, x, y, rng, masks=None):
    order = rng.permutation(len(y))
    for start in range(0, len(y), BATCH):
        idx = order[start:start + BATCH]
        logits, caches, outs = forward(params, x[idx], keep=True)
        z = logits - logits.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        p[np.arange(len(idx)), y[idx]] -= 1
        grads = _backward(params, caches, outs, (p / len(idx)).astype(np.float32))
        opt.step(params, grads)
        if masks:
            for name, mask in masks.items():
                params[name][0] *= mask


def _prune_masks(params, sparsity):
    return {name: (prune.magnitude(params[name][0].reshape(ARCH[name][1][0], -1), sparsity)
                   != 0).reshape(ARCH[name][1]).astype(np.float32)
            for name in LAYERS if name not in DENSE_LAYERS}


def _nm_masks(params, n, m):
    return {name: (prune.nm(params[name][0].reshape(ARCH[name][1][0], -1), n, m)
                   != 0).reshape(ARCH[name][1]).astype(np.float32)
            for name in LAYERS if name not in DENSE_LAYERS}


def _copy(params):
    return {k: [p.copy() for p in v] for k, v in params.items()}


@contextlib.contextmanager
def _single_thread_blas():
    """One BLAS thread: the same sums in the same order whatever the core count."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@functools.lru_cache(maxsize=4)
def _dense(seed: int):
    x, y, _, _ = load_data(seed)
    rng = np.random.default_rng(seed)
    params = _init_params(rng)
    opt = _Adam(params, LR)
    with _single_thread_blas():
        for _ in range(DENSE_EPOCHS):
            _epoch(params, opt, x, y, rng)
    return params, rng.bit_generator.state


def _prune_and_finetune(seed: int, masks_at, target: float, finetune_epochs: int):
    """The dense model pruned with masks_at(params, s): s ramps up to `target`
    (cubic) over PRUNE_EPOCHS, then `finetune_epochs` with the final masks fixed."""
    dense, state = _dense(seed)
    params = _copy(dense)
    x, y, _, _ = load_data(seed)
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    opt = _Adam(params, LR_FINETUNE)
    with _single_thread_blas():
        for e in range(PRUNE_EPOCHS):
            s = target * (1 - (1 - (e + 1) / PRUNE_EPOCHS) ** 3)
            masks = masks_at(params, s)
            for name, mask in masks.items():
                params[name][0] *= mask
            _epoch(params, opt, x, y, rng, masks)
        masks = masks_at(params, target)
        for name, mask in masks.items():
            params[name][0] *= mask
        for _ in range(finetune_epochs):
            _epoch(params, opt, x, y, rng, masks)
    return params, masks


def _sparse(seed: int, sparsity: float):
    if sparsity == 0:
        return _copy(_dense(seed)[0]), {}
    return _prune_and_finetune(seed, _prune_masks, sparsity, FINETUNE_EPOCHS)


def _nm(seed: int, n: int, m: int):
    """The dense model pruned to N:M: the kept count per block of M steps down
    from M to N with the ramp (rounded up to whole weights per block), then
    NM_FINETUNE_EPOCHS with the N:M masks fixed."""
    def masks_at(params, s):
        return _nm_masks(params, max(n, int(np.ceil(m * (1 - s) - 1e-9))), m)
    return _prune_and_finetune(seed, masks_at, 1 - n / m, NM_FINETUNE_EPOCHS)


# --- int8 quantisation and export -------------------------------------------------
def _act_qparams(lo: float, hi: float):
    """Per-tensor asymmetric int8 (scale, zero point) for a float range."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    zp = int(np.clip(np.round(-128 - lo / scale), -128, 127))
    return np.float32(scale), zp


def _weight_q(w, out_axis=0):
    """Per-channel symmetric int8; kept (nonzero) weights stay nonzero. The scale
    is at least 1e-6 (as the TFLite converter does), also for an all-zero channel."""
    oc = w.shape[out_axis]
    w2 = w.reshape(oc, -1).astype(np.float64)
    amax = np.abs(w2).max(1)
    scale = np.maximum(amax / 127.0, 1e-6).astype(np.float32)
    q = np.clip(np.round(w2 / scale.astype(np.float64)[:, None]), -127, 127)
    q = np.where((q == 0) & (w2 != 0), np.sign(w2), q)
    return q.astype(np.int8).reshape(w.shape), scale


def to_tflite(params, calib_x, description="mcusparse digits") -> bytes:
    """Quantises `params` to int8 (activation ranges from `calib_x`) and returns
    the .tflite flatbuffer."""
    from mcusparse.models.tflite_writer import (FLOAT32, INT8, INT32, NONE, RELU, SAME,
                                                TFLiteWriter)
    with _single_thread_blas():
        _, _, outs = forward(params, calib_x, keep=True)
    wr = TFLiteWriter(description)
    x = wr.tensor("input", INPUT_SHAPE, FLOAT32)
    in_s, in_z = _act_qparams(0.0, 1.0)
    h = wr.tensor("input_int8", INPUT_SHAPE, INT8, scale=in_s, zero_point=in_z)
    wr.op("QUANTIZE", [x], [h])
    h_s, h_z = in_s, in_z
    shape = INPUT_SHAPE
    for name in LAYERS:
        kind, wshape, stride = ARCH[name]
        w, b = params[name]
        wq, ws = _weight_q(w)
        bs = (np.float64(h_s) * ws.astype(np.float64)).astype(np.float32)
        bq = np.clip(np.round(b.astype(np.float64) / bs.astype(np.float64)),
                     -2**31 + 1, 2**31 - 1).astype(np.int32)
        o = outs[name]
        o_s, o_z = _act_qparams(o.min(), o.max())
        act = RELU if name in RELU_AFTER else NONE
        wt = wr.tensor(f"{name}/weights", wshape, INT8, data=wq, scale=ws,
                       zero_point=np.zeros(len(ws), np.int64), quantized_dimension=0)
        bt = wr.tensor(f"{name}/bias", [wshape[0]], INT32, data=bq, scale=bs,
                       zero_point=np.zeros(len(bs), np.int64), quantized_dimension=0)
        if kind == "conv":
            shape = (1,) + o.shape[1:]
            y = wr.tensor(name, shape, INT8, scale=o_s, zero_point=o_z)
            wr.op("CONV_2D", [h, wt, bt], [y], "Conv2DOptions", Padding=SAME,
                  StrideW=stride, StrideH=stride, DilationWFactor=1, DilationHFactor=1,
                  FusedActivationFunction=act)
        else:
            if len(shape) > 2:
                flat = (1, int(np.prod(shape)))
                st = wr.tensor(f"{name}/flatten/shape", [2], INT32,
                               data=np.array(flat, np.int32))
                r = wr.tensor(f"{name}/flatten", flat, INT8, scale=h_s, zero_point=h_z)
                wr.op("RESHAPE", [h, st], [r])
                h, shape = r, flat
            shape = (1, wshape[0])
            y = wr.tensor(name, shape, INT8, scale=o_s, zero_point=o_z)
            wr.op("FULLY_CONNECTED", [h, wt, bt], [y], "FullyConnectedOptions",
                  FusedActivationFunction=act, KeepNumDims=False)
        h, h_s, h_z = y, o_s, o_z
    out = wr.tensor("logits", shape, FLOAT32)
    wr.op("DEQUANTIZE", [h], [out])
    return wr.build(inputs=[x], outputs=[out])


def litert_interpreter(model, reference: bool = True):
    """A LiteRT interpreter (reference kernels by default) for a path or bytes."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    kind = OpResolverType.BUILTIN_REF if reference else OpResolverType.AUTO
    if isinstance(model, (bytes, bytearray)):
        it = Interpreter(model_content=bytes(model), experimental_op_resolver_type=kind)
    else:
        it = Interpreter(model_path=os.fspath(model), experimental_op_resolver_type=kind)
    it.allocate_tensors()
    return it


def litert_logits(model, x) -> np.ndarray:
    """Float logits [n, 10] of the int8 model for images x [n, 8, 8, 1] (or
    [n, 1, 8, 8, 1]) with LiteRT's reference kernels."""
    it = litert_interpreter(model)
    i_idx = it.get_input_details()[0]["index"]
    o_idx = it.get_output_details()[0]["index"]
    out = []
    for img in np.asarray(x, np.float32).reshape((-1,) + INPUT_SHAPE):
        it.set_tensor(i_idx, img)
        it.invoke()
        out.append(it.get_tensor(o_idx).reshape(-1).copy())
    return np.stack(out)


def int8_layer_sparsity(model) -> dict[str, float]:
    """Zero fraction of each weight tensor ("<layer>/weights") of a .tflite file or bytes."""
    import tflite
    raw = bytes(model) if isinstance(model, (bytes, bytearray)) else Path(model).read_bytes()
    m = tflite.Model.GetRootAs(raw, 0)
    g = m.Subgraphs(0)
    result = {}
    for i in range(g.TensorsLength()):
        t = g.Tensors(i)
        name = t.Name().decode()
        if name.endswith("/weights"):
            data = m.Buffers(t.Buffer()).DataAsNumpy().view(np.int8)
            result[name[:-len("/weights")]] = float(np.count_nonzero(data == 0) / data.size)
    return result


@dataclass
class DigitsModel:
    sparsity: float
    seed: int
    params: dict = field(repr=False)
    tflite: bytes = field(repr=False)
    float_accuracy: float
    int8_accuracy: float | None
    layer_sparsity: dict
    pattern: str = ""          # "nm:N:M" for an N:M model, "" for magnitude pruning

    def save(self, path) -> None:
        Path(path).write_bytes(self.tflite)


def train_digits(sparsity: float = 0.9, seed: int = 0, out=None,
                 evaluate: bool = True) -> DigitsModel:
    """Trains (numpy), prunes to `sparsity` (0 = dense), fine-tunes, quantises to
    int8 and returns the model; writes the .tflite to `out` if given. The int8
    accuracy (on the held-out test set, LiteRT reference kernels) is computed
    when `evaluate` is true and ai-edge-litert is installed."""
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity!r}")
    params, _ = _sparse(seed, float(sparsity))
    return _finish(params, float(sparsity), seed, f"sparsity {sparsity:g}", "", out,
                   evaluate)


def train_digits_nm(n: int = 1, m: int = 8, seed: int = 0, out=None,
                    evaluate: bool = True) -> DigitsModel:
    """As train_digits, pruned to N:M (every layer but conv1) instead of by
    magnitude: each block of M consecutive weights along a row of the
    out x (kh*kw*in) matrix keeps its N largest."""
    prune.nm(np.zeros((1, m), np.float32), n, m)             # validates n, m
    for name in LAYERS:
        if name not in DENSE_LAYERS and int(np.prod(ARCH[name][1][1:])) % m:
            raise ValueError(f"{name}: {int(np.prod(ARCH[name][1][1:]))} columns are not "
                             f"a multiple of m={m}")
    params, _ = _nm(seed, n, m)
    return _finish(params, 1 - n / m, seed, f"N:M {n}:{m}", f"nm:{n}:{m}", out, evaluate)


def _finish(params, sparsity: float, seed: int, what: str, pattern: str, out,
            evaluate: bool) -> DigitsModel:
    """Quantise, export and evaluate trained parameters."""
    x_train, _, x_test, y_test = load_data(seed)
    raw = to_tflite(params, x_train, description=f"mcusparse digits CNN, "
                    f"{what}, seed {seed}")
    with _single_thread_blas():
        acc = accuracy(params, x_test, y_test)
    int8_acc = None
    if evaluate:
        try:
            int8_acc = float((litert_logits(raw, x_test).argmax(1) == y_test).mean())
        except ImportError:
            pass
    model = DigitsModel(float(sparsity), seed, params, raw, acc, int8_acc,
                        int8_layer_sparsity(raw), pattern)
    if out is not None:
        model.save(out)
    return model


# --- generator --------------------------------------------------------------------
def _zip_bytes(members: dict[str, bytes]) -> bytes:
    """A zip (npz) with fixed timestamps, so the same arrays give the same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data, compresslevel=9)
    return buf.getvalue()


def make_test_set_npz(seed: int = 0) -> bytes:
    """digits_test.npz: x float32 [n, 1, 8, 8, 1] (x[i] is one model input), y int64 [n]."""
    _, _, x, y = load_data(seed)
    members = {}
    for key, arr in (("x", x.reshape((-1,) + INPUT_SHAPE)), ("y", y)):
        b = io.BytesIO()
        np.lib.format.write_array(b, np.ascontiguousarray(arr), allow_pickle=False)
        members[key + ".npy"] = b.getvalue()
    return _zip_bytes(members)


def _readme(models: dict[float, DigitsModel], seed: int, sizes: dict[str, int],
            nm_models: dict | None = None) -> str:
    def pct(v):
        return "n/a" if v is None else f"{100 * v:.1f} %"
    lines = [
        "# Bundled models: digits CNN (dense and pruned, int8 TFLite)",
        "",
        "Generated by this project, not downloaded: a small CNN trained in numpy on",
        "scikit-learn's digits data set (1797 8x8 grey images of the digits 0-9,",
        "shipped inside the scikit-learn wheel), pruned by magnitude with",
        "`mcusparse.prune`, fine-tuned, and quantised to int8 with TFLite's scheme.",
        "They are the project's default and test models; nothing here depends on",
        "files outside the repository.",
        "",
        "Regenerate (the same seed gives the same bytes on the same kind of CPU; "
        "elsewhere numpy's float32 matmul may round differently and some weights "
        "differ, with the same structure and zeros per layer):",
        "",
        "```sh",
        f".venv/bin/python -m mcusparse.models.digits --out models/ --seed {seed}",
        "```",
        "",
        "Source: `python/mcusparse/models/digits.py` (training, pruning, quantisation)",
        "and `python/mcusparse/models/tflite_writer.py` (flatbuffer writer).",
        "",
        "## Network",
        "",
        "| # | operator | layer | shape | weight matrix (out x in) |",
        "|---|---|---|---|---|",
        "| 0 | QUANTIZE | input | float32 [1,8,8,1] -> int8 (scale 1/255, zp -128) | |",
        "| 1 | CONV_2D 3x3, stride 1, SAME, RELU | conv1 | [1,8,8,1] -> [1,8,8,8] | 8 x 9 |",
        "| 2 | CONV_2D 3x3, stride 2, SAME, RELU | conv2 | [1,8,8,8] -> [1,4,4,16] | 16 x 72 |",
        "| 3 | RESHAPE | fc1/flatten | [1,4,4,16] -> [1,256] | |",
        "| 4 | FULLY_CONNECTED, RELU | fc1 | [1,256] -> [1,128] | 128 x 256 |",
        "| 5 | FULLY_CONNECTED, RELU | fc2 | [1,128] -> [1,64] | 64 x 128 |",
        "| 6 | FULLY_CONNECTED | fc3 | [1,64] -> [1,10] | 10 x 64 |",
        "| 7 | DEQUANTIZE | logits | int8 -> float32 [1,10] | |",
        "",
        "Input: pixel values / 16 (float32 in [0, 1]), NHWC. Output: float logits",
        "(argmax = predicted digit; no SOFTMAX). Weights: per-channel symmetric int8",
        "(zero point 0); biases int32 with scale input_scale * weight_scale;",
        "activations per-tensor asymmetric int8 calibrated on the training set.",
        "Weight tensors are named `<layer>/weights`.",
        "",
        "## Files",
        "",
        "| file | bytes | float accuracy | int8 accuracy (LiteRT reference kernels) |"
        + "".join(f" {n} zeros |" for n in LAYERS),
        "|---|---|---|---|" + "---|" * len(LAYERS),
    ]
    rows = [(MODEL_FILES[s], m) for s, m in sorted(models.items())]
    rows += [(NM_FILES[k], m) for k, m in sorted((nm_models or {}).items())]
    for f, m in rows:
        lines.append(f"| {f} | {sizes[f]} | {pct(m.float_accuracy)} | {pct(m.int8_accuracy)} |"
                     + "".join(f" {100 * m.layer_sparsity[n]:.2f} % |" for n in LAYERS))
    _, _, _, y = load_data(seed)
    lines += [
        f"| {TEST_FILE} | {sizes[TEST_FILE]} | | |" + " |" * len(LAYERS),
        "",
        f"Accuracies are on the {len(y)} held-out test images in `{TEST_FILE}`",
        "(seeded split; the other 1497 images are the training set). The zero",
        "columns are the int8 zero fraction of each layer's weights; conv1 (72",
        "weights) is never pruned. Pruning is gradual (cubic ramp over "
        f"{PRUNE_EPOCHS} epochs",
        f"after {DENSE_EPOCHS} dense epochs) followed by {FINETUNE_EPOCHS} epochs of "
        "fine-tuning with fixed masks;",
        "a weight kept by pruning stays nonzero in int8.",
        "The N:M model (`digits_nm1_8.tflite`: 1 of every 8 consecutive weights",
        "along each row of a layer's out x (kh*kw*in) matrix) is pruned the same",
        "way from the same dense model, its kept count per block stepping down",
        f"with the ramp to N, then fine-tuned for {NM_FINETUNE_EPOCHS} epochs with the "
        "N:M masks fixed.",
        "",
        f"`{TEST_FILE}`: `x` float32 [{len(y)}, 1, 8, 8, 1] (`x[i]` is one model input),",
        f"`y` int64 [{len(y)}] labels.",
        "",
    ]
    return "\n".join(lines)


def generate(out_dir, seed: int = 0, sparsities=(0.0, 0.8, 0.9), nm=((1, 8),),
             log=print) -> dict:
    """Writes the bundled models, the test set and README.md into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    models, sizes = {}, {}
    for s in sparsities:
        if s not in MODEL_FILES:
            raise ValueError(f"no file name for sparsity {s} (have {sorted(MODEL_FILES)})")
        m = train_digits(sparsity=s, seed=seed)
        models[s] = m
        name = MODEL_FILES[s]
        (out_dir / name).write_bytes(m.tflite)
        sizes[name] = len(m.tflite)
        log(f"{name}: {len(m.tflite)} bytes, float accuracy {m.float_accuracy:.4f}, "
            f"int8 accuracy {m.int8_accuracy}, zeros "
            + ", ".join(f"{k} {v:.3f}" for k, v in m.layer_sparsity.items()))
    nm_models = {}
    for n, m in nm:
        if (n, m) not in NM_FILES:
            raise ValueError(f"no file name for N:M {n}:{m} (have {sorted(NM_FILES)})")
        model = train_digits_nm(n, m, seed=seed)
        nm_models[(n, m)] = model
        name = NM_FILES[(n, m)]
        (out_dir / name).write_bytes(model.tflite)
        sizes[name] = len(model.tflite)
        log(f"{name}: {len(model.tflite)} bytes, float accuracy {model.float_accuracy:.4f}, "
            f"int8 accuracy {model.int8_accuracy}")
    npz = make_test_set_npz(seed)
    (out_dir / TEST_FILE).write_bytes(npz)
    sizes[TEST_FILE] = len(npz)
    log(f"{TEST_FILE}: {len(npz)} bytes")
    (out_dir / "README.md").write_text(_readme(models, seed, sizes, nm_models))
    log(f"README.md written in {out_dir}")
    return models


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mcusparse.models.digits",
                                 description="Train, prune, quantise and write the bundled "
                                             "digits models (.tflite), test set and README.")
    ap.add_argument("--out", default="models", help="output directory (default: models)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sparsity", type=float, action="append",
                    help="sparsities to write (0, 0.8, 0.9; repeatable; default all)")
    ap.add_argument("--nm", action="append", metavar="N:M",
                    help="N:M models to write (1:8; repeatable; default all)")
    args = ap.parse_args(argv)
    try:
        nm = tuple(tuple(int(v) for v in p.split(":")) for p in args.nm) if args.nm \
            else tuple(NM_FILES)
    except ValueError:
        ap.error(f"--nm takes N:M, e.g. 1:8; got {args.nm}")
    generate(args.out, args.seed, tuple(args.sparsity) if args.sparsity else (0.0, 0.8, 0.9),
             nm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
