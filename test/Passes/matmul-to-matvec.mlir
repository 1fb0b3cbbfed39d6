// RUN: sparse-opt %s --split-input-file --sparse-enc-matmul-to-matvec --verify-diagnostics | FileCheck %s

// A convolution as the front ends emit it: im2col X[P, K] times the layer
// weight W[O, K] read transposed. It becomes a loop over the P rows of X,
// each a linalg.matvec of W with row p of X into row p of the result.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @conv
// CHECK-SAME: (%[[X:.*]]: tensor<6x8xi8>, %[[Y:.*]]: tensor<6x4xi32>)
// CHECK-DAG: %[[W:.*]] = arith.constant {mcusparse.layer = 3 : i64} dense<1> : tensor<4x8xi8>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C6:.*]] = arith.constant 6 : index
// CHECK: %[[R:.*]] = scf.for %[[P:.*]] = %[[C0]] to %[[C6]] step %[[C1]] iter_args(%[[ACC:.*]] = %[[Y]]) -> (tensor<6x4xi32>) {
// CHECK-NEXT: %[[XP:.*]] = tensor.extract_slice %[[X]][%[[P]], 0] [1, 8] [1, 1] : tensor<6x8xi8> to tensor<8xi8>
// CHECK-NEXT: %[[YP:.*]] = tensor.extract_slice %[[ACC]][%[[P]], 0] [1, 4] [1, 1] : tensor<6x4xi32> to tensor<4xi32>
// CHECK-NEXT: %[[V:.*]] = linalg.matvec ins(%[[W]], %[[XP]] : tensor<4x8xi8>, tensor<8xi8>) outs(%[[YP]] : tensor<4xi32>) -> tensor<4xi32>
// CHECK-NEXT: %[[N:.*]] = tensor.insert_slice %[[V]] into %[[ACC]][%[[P]], 0] [1, 4] [1, 1] : tensor<4xi32> into tensor<6x4xi32>
// CHECK-NEXT: scf.yield %[[N]] : tensor<6x4xi32>
// CHECK-NEXT: }
// CHECK-NOT: linalg.matmul
// CHECK: return %[[R]] : tensor<6x4xi32>
func.func @conv(%x: tensor<6x8xi8>, %y: tensor<6x4xi32>) -> tensor<6x4xi32> {
  %w = arith.constant {mcusparse.layer = 3 : i64} dense<1> : tensor<4x8xi8>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<6x8xi8>, tensor<4x8xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  return %r : tensor<6x4xi32>
}

// -----

// The chosen layout still sits on the constant as an attribute (attach-layouts
// runs next); a float layer is rewritten the same way.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @float_with_layout
// CHECK: %[[W:.*]] = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.layout = #sparse_enc.csr<>} dense<{{.*}}> : tensor<2x3xf32>
// CHECK: scf.for
// CHECK: linalg.matvec ins(%[[W]], %{{.*}} : tensor<2x3xf32>, tensor<3xf32>) outs(%{{.*}} : tensor<2xf32>) -> tensor<2xf32>
// CHECK-NOT: linalg.matmul
func.func @float_with_layout(%x: tensor<5x3xf32>, %y: tensor<5x2xf32>) -> tensor<5x2xf32> {
  %w = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.layout = #sparse_enc.csr<>}
      dense<[[0.0, 1.5, 0.0], [-2.0, 0.0, 0.0]]> : tensor<2x3xf32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<5x3xf32>, tensor<2x3xf32>) outs(%y : tensor<5x2xf32>) -> tensor<5x2xf32>
  return %r : tensor<5x2xf32>
}

// -----

// A matmul whose weight is not a tagged layer constant is left alone: an
// untagged constant, or a function argument.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @untagged
// CHECK-NOT: scf.for
// CHECK-NOT: linalg.matvec
// CHECK: linalg.matmul indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}] ins(%{{.*}}, %{{.*}} : tensor<6x8xi8>, tensor<4x8xi8>)
// CHECK: linalg.matmul indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}] ins(%{{.*}}, %{{.*}} : tensor<6x8xi8>, tensor<4x8xi8>)
func.func @untagged(%x: tensor<6x8xi8>, %warg: tensor<4x8xi8>, %y: tensor<6x4xi32>) -> (tensor<6x4xi32>, tensor<6x4xi32>) {
  %w = arith.constant dense<1> : tensor<4x8xi8>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<6x8xi8>, tensor<4x8xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  %s = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %warg : tensor<6x8xi8>, tensor<4x8xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  return %r, %s : tensor<6x4xi32>, tensor<6x4xi32>
}

// -----

// A tagged weight read in its natural [K, O] order (the default maps) is not
// the X W^T pattern and is left alone.

// CHECK-LABEL: func.func @not_transposed
// CHECK-NOT: scf.for
// CHECK-NOT: linalg.matvec
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<6x8xi8>, tensor<8x4xi8>) outs(%{{.*}} : tensor<6x4xi32>)
func.func @not_transposed(%x: tensor<6x8xi8>, %y: tensor<6x4xi32>) -> tensor<6x4xi32> {
  %w = arith.constant {mcusparse.layer = 1 : i64} dense<1> : tensor<8x4xi8>
  %r = linalg.matmul ins(%x, %w : tensor<6x8xi8>, tensor<8x4xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  return %r : tensor<6x4xi32>
}

// -----

// Nor is a tagged constant used as X (the left operand).

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @tagged_lhs
// CHECK-NOT: linalg.matvec
// CHECK: linalg.matmul
func.func @tagged_lhs(%w: tensor<4x8xi8>, %y: tensor<6x4xi32>) -> tensor<6x4xi32> {
  %x = arith.constant {mcusparse.layer = 2 : i64} dense<1> : tensor<6x8xi8>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<6x8xi8>, tensor<4x8xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  return %r : tensor<6x4xi32>
}

// -----

// The loop bounds must be constants.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

func.func @dynamic(%x: tensor<?x8xi8>, %y: tensor<?x4xi32>) -> tensor<?x4xi32> {
  %w = arith.constant {mcusparse.layer = 0 : i64} dense<1> : tensor<4x8xi8>
  // expected-error @+1 {{sparse-enc-matmul-to-matvec needs static shapes}}
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<?x8xi8>, tensor<4x8xi8>) outs(%y : tensor<?x4xi32>) -> tensor<?x4xi32>
  return %r : tensor<?x4xi32>
}
