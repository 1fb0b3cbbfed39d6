"""int32 layer results in pixel tiles (sparse-enc-tile-accumulators, `--tile-pixels`):
outputs equal to the reference interpreter's on every target, with a smaller arena."""
from __future__ import annotations

import numpy as np
import pytest

import mcusparse
from mcusparse.compiler.reference import Reference
from models.tflite_builder import inverted_residual


@pytest.mark.parametrize("target,fmt,stride", [
    ("cortex-m55", "dense", 1), ("cortex-m55", "csr", 2), ("cortex-m55", "dcsr:16:8", 1),
    ("rv32imc", "dense", 2), ("rv32imc", "gs:4", 1), ("rv32gcv", "csr:8", 1)])
def test_block_in_tiles(tmp_path, target, fmt, stride):
    """100 pixels in tiles of 20 (1x1 convolutions) and of 2 rows (the depthwise
    convolution), alone and with partial execution."""
    rng = np.random.default_rng(stride * 17 + len(fmt))
    path = tmp_path / "block.tflite"
    path.write_bytes(inverted_residual(rng, stride=stride))
    builds = {}
    for name, pex, tile in [("whole", 0, 0), ("tiled", 0, 24), ("both", 1, 24)]:
        builds[name] = mcusparse.compile(path, target=target, format=fmt,
                                         out_dir=tmp_path / name, pex_peak_bytes=pex,
                                         tile_pixels=tile, progress=False)
    arena = {k: cm.report["totals"]["arena_bytes"] for k, cm in builds.items()}
    assert arena["tiled"] < arena["whole"] and arena["both"] < arena["whole"]
    assert builds["tiled"].report["tile_pixels"] == 24
    ref = Reference(path)
    x = rng.integers(-128, 128, (1, 10, 10, 8)).astype(np.int8)
    want = ref(x)[0]
    for cm in builds.values():
        np.testing.assert_array_equal(cm.run(x).outputs[0], want)


def test_negative_tile_is_an_error(tmp_path):
    path = tmp_path / "block.tflite"
    path.write_bytes(inverted_residual(np.random.default_rng(5)))
    with pytest.raises(ValueError, match="tile_pixels"):
        mcusparse.compile(path, tile_pixels=-4, out_dir=tmp_path / "o", progress=False)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("target", ["cortex-m55", "rv32imc"])
def test_onnx_model_in_tiles(tmp_path, target):
    """The ONNX front end's QLinearConv requantisation (float scales) in tiles of 4
    pixels: a smaller arena, outputs equal to onnxruntime's."""
    from models.onnx_builder import qlinear_net
    path = tmp_path / "q.onnx"
    path.write_bytes(qlinear_net(np.random.default_rng(0)))
    whole = mcusparse.compile(path, target=target, format="csr", out_dir=tmp_path / "whole",
                              progress=False)
    tiled = mcusparse.compile(path, target=target, format="csr", out_dir=tmp_path / "tiled",
                              tile_pixels=4, progress=False)
    assert tiled.report["totals"]["arena_bytes"] < whole.report["totals"]["arena_bytes"]
    x = np.random.default_rng(1).standard_normal(tiled.inputs[0].shape).astype(np.float32)
    np.testing.assert_array_equal(tiled.run(x).outputs[0], Reference(path)(x)[0])
