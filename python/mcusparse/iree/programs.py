"""IREE input modules (MLIR text on tensors) for the dense layers, with numpy references.

Weights are function arguments, not constants: the compiled module then only
depends on the shapes (one compile serves every matrix), and on the MCU
targets the weight bytes sit in the `.weights` section where the counting
plugin measures their traffic.
"""
from __future__ import annotations

import numpy as np

__all__ = ["matvec_mlir", "mlp_mlir", "matvec_reference", "mlp_reference", "requant_relu"]


def matvec_mlir(rows: int, cols: int, name: str = "matvec") -> str:
    """y[rows] (i32) = W[rows, cols] (i8) x[cols] (i8), as linalg.matvec."""
    return f"""\
func.func @{name}(%w: tensor<{rows}x{cols}xi8>, %x: tensor<{cols}xi8>) -> tensor<{rows}xi32> {{
  %c0 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<{rows}xi32>
  %z = linalg.fill ins(%c0 : i32) outs(%e : tensor<{rows}xi32>) -> tensor<{rows}xi32>
  %y = linalg.matvec ins(%w, %x : tensor<{rows}x{cols}xi8>, tensor<{cols}xi8>)
                     outs(%z : tensor<{rows}xi32>) -> tensor<{rows}xi32>
  return %y : tensor<{rows}xi32>
}}
"""


def mlp_mlir(hidden: int, cols: int, rows: int, shift: int = 7, name: str = "mlp") -> str:
    """Two layers: h = W1 x (i32); a = clamp(h >> shift, 0, 127) as i8 (ReLU + requantisation);
    y = W2 a (i32). W1: hidden x cols, W2: rows x hidden, all weights and x int8."""
    return f"""\
#id = affine_map<(i) -> (i)>
func.func @{name}(%w1: tensor<{hidden}x{cols}xi8>, %x: tensor<{cols}xi8>,
                  %w2: tensor<{rows}x{hidden}xi8>) -> tensor<{rows}xi32> {{
  %c0 = arith.constant 0 : i32
  %cs = arith.constant {shift} : i32
  %c127 = arith.constant 127 : i32
  %e1 = tensor.empty() : tensor<{hidden}xi32>
  %z1 = linalg.fill ins(%c0 : i32) outs(%e1 : tensor<{hidden}xi32>) -> tensor<{hidden}xi32>
  %h = linalg.matvec ins(%w1, %x : tensor<{hidden}x{cols}xi8>, tensor<{cols}xi8>)
                     outs(%z1 : tensor<{hidden}xi32>) -> tensor<{hidden}xi32>
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


def matvec_reference(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    return W.astype(np.int32) @ x.astype(np.int32)


def requant_relu(h: np.ndarray, shift: int = 7) -> np.ndarray:
    return np.clip(h >> shift, 0, 127).astype(np.int8)


def mlp_reference(W1: np.ndarray, x: np.ndarray, W2: np.ndarray, shift: int = 7) -> np.ndarray:
    return matvec_reference(W2, requant_relu(matvec_reference(W1, x), shift))
