// RUN: sparse-opt %s --split-input-file --sparse-enc-outline-weights | FileCheck %s

// A dense layer weight (tagged mcusparse.layer) becomes a private, constant,
// 16-byte aligned memref.global @mcusparse_weights_<n>, read through
// memref.get_global + bufferization.to_tensor restrict. The bias (untagged,
// not a storage buffer) stays an arith.constant for bufferization.

// CHECK: memref.global "private" constant @mcusparse_weights_0 : memref<2x3xi8> = dense<{{\[}}[1, 2, 3], [4, 5, 6]]> {alignment = 16 : i64}
// CHECK-NOT: memref.global
// CHECK-LABEL: func.func @dense_layer
// CHECK: %[[G:.*]] = memref.get_global @mcusparse_weights_0 : memref<2x3xi8>
// CHECK: %[[W:.*]] = bufferization.to_tensor %[[G]] restrict : memref<2x3xi8> to tensor<2x3xi8>
// CHECK: %[[B:.*]] = arith.constant dense<[7, 8]> : tensor<2xi32>
// CHECK-NOT: mcusparse.layer
// CHECK: linalg.matvec ins(%[[W]], %{{.*}} : tensor<2x3xi8>, tensor<3xi8>) outs(%[[B]] : tensor<2xi32>)
func.func @dense_layer(%x: tensor<3xi8>) -> tensor<2xi32> {
  %w = arith.constant {mcusparse.layer = 0 : i64} dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi8>
  %b = arith.constant dense<[7, 8]> : tensor<2xi32>
  %r = linalg.matvec ins(%w, %x : tensor<2x3xi8>, tensor<3xi8>) outs(%b : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// -----

// Packed storage buffers (the operands of sparse_enc.assemble, as
// sparse-enc-pack-constants leaves them) become one global each, numbered in
// program order; the assemble then joins the to_tensor results.

// CHECK-DAG: memref.global "private" constant @mcusparse_weights_0 : memref<2xi8> = dense<[3, 5]> {alignment = 16 : i64}
// CHECK-DAG: memref.global "private" constant @mcusparse_weights_1 : memref<2xi16> = dense<[1, 3]> {alignment = 16 : i64}
// CHECK-DAG: memref.global "private" constant @mcusparse_weights_2 : memref<3xi16> = dense<[0, 1, 2]> {alignment = 16 : i64}
// CHECK-LABEL: func.func @packed_csr
// CHECK: %[[G0:.*]] = memref.get_global @mcusparse_weights_0 : memref<2xi8>
// CHECK: %[[V:.*]] = bufferization.to_tensor %[[G0]] restrict : memref<2xi8> to tensor<2xi8>
// CHECK: %[[G1:.*]] = memref.get_global @mcusparse_weights_1 : memref<2xi16>
// CHECK: %[[C:.*]] = bufferization.to_tensor %[[G1]] restrict : memref<2xi16> to tensor<2xi16>
// CHECK: %[[G2:.*]] = memref.get_global @mcusparse_weights_2 : memref<3xi16>
// CHECK: %[[P:.*]] = bufferization.to_tensor %[[G2]] restrict : memref<3xi16> to tensor<3xi16>
// CHECK: sparse_enc.assemble(%[[V]], %[[C]], %[[P]])
// CHECK-NOT: arith.constant
// CHECK: return
func.func @packed_csr(%x: tensor<4xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  %v = arith.constant dense<[3, 5]> : tensor<2xi8>
  %c = arith.constant dense<[1, 3]> : tensor<2xi16>
  %p = arith.constant dense<[0, 1, 2]> : tensor<3xi16>
  %w = sparse_enc.assemble (%v, %c, %p) : (tensor<2xi8>, tensor<2xi16>, tensor<3xi16>) -> tensor<2x4xi8, #sparse_enc.csr<>>
  %r = linalg.matvec ins(%w, %x : tensor<2x4xi8, #sparse_enc.csr<>>, tensor<4xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// -----

// Numbering runs over the whole module; a name already taken is renamed
// rather than reused. Constants that are neither tagged nor storage buffers
// (a bias, a requantisation table, a scalar) are left alone, and so is a
// still-encoded constant (it has not been packed).

// CHECK-DAG: memref.global "private" constant @mcusparse_weights_0 : memref<2xi8> = dense<9>
// CHECK-DAG: memref.global "private" constant @mcusparse_weights_0_0 : memref<2x2xi8> = dense<1> {alignment = 16 : i64}
// CHECK-DAG: memref.global "private" constant @mcusparse_weights_1 : memref<4xf32> = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> {alignment = 16 : i64}
// CHECK-NOT: memref.global
// CHECK-LABEL: func.func @first
// CHECK: memref.get_global @mcusparse_weights_0_0 : memref<2x2xi8>
// CHECK: arith.constant dense<[10, 20]> : tensor<2xi32>
// CHECK: arith.constant 3 : i32
// CHECK: memref.get_global @mcusparse_weights_0 : memref<2xi8>
// CHECK-LABEL: func.func @second
// CHECK: memref.get_global @mcusparse_weights_1 : memref<4xf32>
// CHECK: arith.constant {mcusparse.layer = 2 : i64} dense<{{.*}}> : tensor<2x4xi8, #sparse_enc.csr<>>
memref.global "private" constant @mcusparse_weights_0 : memref<2xi8> = dense<9>
func.func @first() -> (tensor<2x2xi8>, tensor<2xi32>, i32, memref<2xi8>) {
  %w = arith.constant {mcusparse.layer = 0 : i64} dense<1> : tensor<2x2xi8>
  %b = arith.constant dense<[10, 20]> : tensor<2xi32>
  %s = arith.constant 3 : i32
  %g = memref.get_global @mcusparse_weights_0 : memref<2xi8>
  return %w, %b, %s, %g : tensor<2x2xi8>, tensor<2xi32>, i32, memref<2xi8>
}
func.func @second() -> (tensor<4xf32>, tensor<2x4xi8, #sparse_enc.csr<>>) {
  %w = arith.constant {mcusparse.layer = 1 : i64} dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %e = arith.constant {mcusparse.layer = 2 : i64} dense<[[0, 1, 0, 0], [0, 0, 0, 2]]> : tensor<2x4xi8, #sparse_enc.csr<>>
  return %w, %e : tensor<4xf32>, tensor<2x4xi8, #sparse_enc.csr<>>
}
