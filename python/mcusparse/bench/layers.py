"""Layers of the real models as benchmark workloads (shared/MEASURE.md).

    ws = layer_workloads()                  # Workload(..., pattern="layer", source=...)
    W = layer_matrix(ws[0].source)          # the layer's int8 weight, out x in

MEASURE.md's standard workloads include "layers from the real models in
models/: KWS DS-CNN pointwise convolutions and its fully connected layer;
MobileNetV2 1x1 convolutions". From the pruned models of ../shared/models
(DS-CNN S and M at 90 %, MobileNetV2 on CIFAR-10 at 90 %) this takes every
1x1 convolution and fully connected layer whose weight is at least half
zeros, once per distinct (weight shape, output pixels) in a model: the
repeated DS-CNN blocks and MobileNetV2 stages would only repeat a row. A
1x1 convolution over P output pixels is W (out x in) times P columns (an
SpMM with batch P, compiled like the model compiles it); a fully connected
layer is an SpMV. The weights are the model's own, activations random.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import List, Sequence

import numpy as np

from mcusparse.bench.models import SHARED_MODELS

__all__ = ["LAYER_MODELS", "layer_workloads", "layer_matrix"]

LAYER_MODELS = ("sparse_s_90", "sparse_m_90", "mobilenetv2_cifar10_sparse90")
MIN_SPARSITY = 0.5


@lru_cache(maxsize=None)
def _layers(path: str):
    from mcusparse.frontend import import_model
    return import_model(path).layers


def _is_pointwise_or_fc(layer) -> bool:
    if layer.op == "FULLY_CONNECTED":
        return True
    # TFLite CONV_2D weights are (out, kh, kw, in).
    return layer.op == "CONV_2D" and tuple(layer.weight_shape[1:3]) == (1, 1)


def layer_workloads(models_dir: "str | Path" = SHARED_MODELS, seed: int = 23,
                    names: Sequence[str] = LAYER_MODELS) -> list:
    """The layer workloads of the models `names` found in models_dir ([] when none is)."""
    from mcusparse.bench.table import Workload
    out: List[Workload] = []
    for name in names:
        path = Path(models_dir) / f"{name}.tflite"
        if not path.is_file():
            continue
        seen = set()
        for layer in _layers(str(path)):
            if not _is_pointwise_or_fc(layer) or layer.sparsity < MIN_SPARSITY:
                continue
            rows, cols = layer.matrix_shape
            pixels = max(1, layer.macs // (rows * cols))
            if (rows, cols, pixels) in seen:
                continue
            seen.add((rows, cols, pixels))
            out.append(Workload(rows, cols, round(float(layer.sparsity), 4), "layer", seed,
                                pixels, source=f"{path}#{layer.index}"))
    return out


def layer_matrix(source: str) -> np.ndarray:
    """The int8 weight (out x in) of `source` = "<model.tflite>#<layer index>"."""
    path, _, index = source.rpartition("#")
    for layer in _layers(path):
        if layer.index == int(index):
            return np.ascontiguousarray(layer.weight, dtype=np.int8)
    raise ValueError(f"{path}: no weight layer with index {index}")
