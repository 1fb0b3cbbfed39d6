// RUN: sparse-opt %s --split-input-file --sparse-enc-attach-layouts | FileCheck %s
// RUN: sparse-opt %s --split-input-file --sparse-enc-attach-layouts --sparse-enc-pack-constants | FileCheck %s --check-prefix=PACK

// The layout chosen for a layer travels as a sparse_enc.layout attribute on
// its weight constant; the pass makes it the constant's tensor encoding (and
// so the matvec's operand type), keeps mcusparse.layer and drops the
// attribute. sparse-enc-pack-constants then packs the constant.

// CHECK-LABEL: func.func @nm
// CHECK: %[[W:.*]] = arith.constant {mcusparse.layer = 2 : i64} dense<{{\[}}[0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]]> : tensor<2x16xi8, #sparse_enc.nm<n = 1, m = 8>>
// CHECK-NOT: sparse_enc.layout
// CHECK: linalg.matvec ins(%[[W]], %{{.*}} : tensor<2x16xi8, #sparse_enc.nm<n = 1, m = 8>>, tensor<16xi8>) outs(%{{.*}} : tensor<2xi32>) -> tensor<2xi32>
// PACK-LABEL: func.func @nm
// PACK: sparse_enc.assemble({{.*}}) : ({{.*}}) -> tensor<2x16xi8, #sparse_enc.nm<n = 1, m = 8>>
// PACK-NOT: arith.constant {{.*}}tensor<2x16xi8
func.func @nm(%x: tensor<16xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  %w = arith.constant {mcusparse.layer = 2 : i64, sparse_enc.layout = #sparse_enc.nm<n = 1, m = 8>}
      dense<[[0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]]> : tensor<2x16xi8>
  %r = linalg.matvec ins(%w, %x : tensor<2x16xi8>, tensor<16xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// -----

// A weight shared by several matvecs (a loop body and a second layer use);
// a constant without sparse_enc.layout (the bias) is left alone.

// CHECK-LABEL: func.func @gs_two_uses
// CHECK-DAG: %[[W:.*]] = arith.constant {mcusparse.layer = 1 : i64} dense<{{\[}}[0, 2, 0], [3, 0, 0]]> : tensor<2x3xi8, #sparse_enc.gs<lanes = 4>>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<[1, 2]> : tensor<2xi32>
// CHECK: %[[R:.*]] = linalg.matvec ins(%[[W]], %{{.*}} : tensor<2x3xi8, #sparse_enc.gs<lanes = 4>>, tensor<3xi8>) outs(%[[B]] : tensor<2xi32>)
// CHECK: linalg.matvec ins(%[[W]], %{{.*}} : tensor<2x3xi8, #sparse_enc.gs<lanes = 4>>, tensor<3xi8>) outs(%[[R]] : tensor<2xi32>)
// PACK-LABEL: func.func @gs_two_uses
// PACK-COUNT-1: sparse_enc.assemble
// PACK-NOT: sparse_enc.assemble
func.func @gs_two_uses(%x: tensor<3xi8>) -> tensor<2xi32> {
  %w = arith.constant {mcusparse.layer = 1 : i64, sparse_enc.layout = #sparse_enc.gs<lanes = 4>} dense<[[0, 2, 0], [3, 0, 0]]> : tensor<2x3xi8>
  %b = arith.constant dense<[1, 2]> : tensor<2xi32>
  %r = linalg.matvec ins(%w, %x : tensor<2x3xi8>, tensor<3xi8>) outs(%b : tensor<2xi32>) -> tensor<2xi32>
  %s = linalg.matvec ins(%w, %x : tensor<2x3xi8>, tensor<3xi8>) outs(%r : tensor<2xi32>) -> tensor<2xi32>
  return %s : tensor<2xi32>
}

// -----

// The matvec of a convolution sits in the loop that
// sparse-enc-matmul-to-matvec builds; float weights and splat literals work
// the same way.

// CHECK-LABEL: func.func @in_loop_f32
// CHECK: %[[W:.*]] = arith.constant {mcusparse.layer = 0 : i64} dense<{{\[}}[0.000000e+00, 1.500000e+00, 0.000000e+00], [-2.000000e+00, 0.000000e+00, 0.000000e+00]]> : tensor<2x3xf32, #sparse_enc.csr<>>
// CHECK: scf.for
// CHECK: linalg.matvec ins(%[[W]], %{{.*}} : tensor<2x3xf32, #sparse_enc.csr<>>, tensor<3xf32>)
// PACK-LABEL: func.func @in_loop_f32
// PACK: sparse_enc.assemble({{.*}}) -> tensor<2x3xf32, #sparse_enc.csr<>>
func.func @in_loop_f32(%x: tensor<5x3xf32>, %y: tensor<5x2xf32>) -> tensor<5x2xf32> {
  %w = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.layout = #sparse_enc.csr<>} dense<[[0.0, 1.5, 0.0], [-2.0, 0.0, 0.0]]> : tensor<2x3xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %r = scf.for %p = %c0 to %c5 step %c1 iter_args(%acc = %y) -> (tensor<5x2xf32>) {
    %xp = tensor.extract_slice %x[%p, 0] [1, 3] [1, 1] : tensor<5x3xf32> to tensor<3xf32>
    %yp = tensor.extract_slice %acc[%p, 0] [1, 2] [1, 1] : tensor<5x2xf32> to tensor<2xf32>
    %v = linalg.matvec ins(%w, %xp : tensor<2x3xf32>, tensor<3xf32>) outs(%yp : tensor<2xf32>) -> tensor<2xf32>
    %n = tensor.insert_slice %v into %acc[%p, 0] [1, 2] [1, 1] : tensor<2xf32> into tensor<5x2xf32>
    scf.yield %n : tensor<5x2xf32>
  }
  return %r : tensor<5x2xf32>
}

// -----

// CHECK-LABEL: func.func @splat_dcsr
// CHECK: %[[W:.*]] = arith.constant dense<0> : tensor<4x32xi8, #sparse_enc.dcsr<>>
// CHECK-NOT: sparse_enc.layout
// CHECK: linalg.matvec ins(%[[W]], %{{.*}} : tensor<4x32xi8, #sparse_enc.dcsr<>>, tensor<32xi8>)
func.func @splat_dcsr(%x: tensor<32xi8>, %y: tensor<4xi32>) -> tensor<4xi32> {
  %w = arith.constant {sparse_enc.layout = #sparse_enc.dcsr<group = 16>} dense<0> : tensor<4x32xi8>
  %r = linalg.matvec ins(%w, %x : tensor<4x32xi8>, tensor<32xi8>) outs(%y : tensor<4xi32>) -> tensor<4xi32>
  return %r : tensor<4xi32>
}
