// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-matmul-to-matvec{target=rv32gcv})' | FileCheck %s --check-prefix=KEEP
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-matmul-to-matvec{target=rv32gcv}, sparse-enc-lower-matvec{target=rv32gcv vector-length=32}, canonicalize)' | FileCheck %s
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-model-to-llvm{target=rv32gcv})' | FileCheck %s --check-prefix=LLVM

// rv32gcv: a dense layer over more than one pixel stays a matmul for the
// kernel that holds each row of W in vector registers, sign-extended to
// i16 once, and passes every pixel: per step of 32 columns one load of X,
// its extension, an exact i16 product and a reduction widening to i32.
// Every weight is read once (one matvec per pixel read all of W for every
// pixel, and ran more instructions on every layer shape measured). Rows
// wider than 64 columns run in chunks of two steps, each a pass over the
// pixels; the later passes add to Y.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// KEEP-LABEL: func.func @dense_layer
// KEEP: linalg.matmul {{.*}}{sparse_enc.batched}
// KEEP-NOT: linalg.matvec
// CHECK-LABEL: func.func @dense_layer
// CHECK: scf.for %[[O:.*]] = %c0 to %c5 step %c1 iter_args(
// CHECK: %[[W0:.*]] = vector.transfer_read %{{.*}}[%[[O]], %c0]{{.*}} : tensor<5x64xi8>, vector<32xi8>
// CHECK: %[[W0X:.*]] = arith.extsi %[[W0]] : vector<32xi8> to vector<32xi16>
// CHECK: %[[W1:.*]] = vector.transfer_read %{{.*}}[%[[O]], %c32]
// CHECK: %[[W1X:.*]] = arith.extsi %[[W1]] : vector<32xi8> to vector<32xi16>
// CHECK: scf.for %[[P:.*]] = %c0 to %c6 step %c2 iter_args(
// CHECK-NOT: tensor<5x64xi8>
// CHECK: %[[X0:.*]] = vector.transfer_read %{{.*}}[%[[P]], %c0]
// CHECK: %[[X0X:.*]] = arith.extsi %[[X0]] : vector<32xi8> to vector<32xi16>
// CHECK: %[[PR:.*]] = arith.muli %[[W0X]], %[[X0X]] : vector<32xi16>
// CHECK: %[[PW:.*]] = arith.extsi %[[PR]] : vector<32xi16> to vector<32xi32>
// CHECK: vector.reduction <add>, %[[PW]]
// CHECK: arith.muli %[[W1X]]
// CHECK: } {loop_annotation
// The tail pixel 6.
// CHECK: vector.transfer_read %{{.*}}[%c6, %c0]
// CHECK-NOT: linalg.matmul
// CHECK-NOT: linalg.matvec
// CHECK: return
// LLVM-LABEL: llvm.func @dense_layer
// LLVM-NOT: linalg
func.func @dense_layer(%x: tensor<7x64xi8>) -> tensor<7x5xi32> {
  %w = arith.constant {mcusparse.layer = 0 : i64} dense<3> : tensor<5x64xi8>
  %e = tensor.empty() : tensor<7x5xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<7x5xi32>) -> tensor<7x5xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<7x64xi8>, tensor<5x64xi8>) outs(%f : tensor<7x5xi32>) -> tensor<7x5xi32>
  return %r : tensor<7x5xi32>
}

// -----

// 100 columns: four steps, the last masked to 4, in two chunks of two. The
// first pass starts from the fill value; the second adds to Y.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @wide_rows_in_chunks
// CHECK: scf.for %[[O:.*]] = %c0 to %c3 step %c1 iter_args(
// CHECK-COUNT-2: vector.transfer_read %{{.*}}[%[[O]], %{{.*}}]{{.*}} : tensor<3x100xi8>, vector<32xi8>
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c2 iter_args(%[[Y1:.*]] = %{{.*}})
// CHECK-NOT: tensor.extract
// CHECK: } {loop_annotation
// CHECK: vector.transfer_read %{{.*}}[%[[O]], %c64]
// CHECK: vector.transfer_read %{{.*}}[%[[O]], %c96], %{{.*}}, %{{.*}} {{.*}} : tensor<3x100xi8>, vector<32xi8>
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c2 iter_args(%[[Y2:.*]] = %{{.*}})
// CHECK: tensor.extract %[[Y2]]
// CHECK: } {loop_annotation
// CHECK: return
func.func @wide_rows_in_chunks(%x: tensor<4x100xi8>) -> tensor<4x3xi32> {
  %w = arith.constant {mcusparse.layer = 0 : i64} dense<3> : tensor<3x100xi8>
  %e = tensor.empty() : tensor<4x3xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<4x3xi32>) -> tensor<4x3xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<4x100xi8>, tensor<3x100xi8>) outs(%f : tensor<4x3xi32>) -> tensor<4x3xi32>
  return %r : tensor<4x3xi32>
}

// -----

// One pixel is a matvec (rows share each load of x, LowerDense.cpp).

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// KEEP-LABEL: func.func @one_pixel
// KEEP-NOT: linalg.matmul
// KEEP: linalg.matvec
// CHECK-LABEL: func.func @one_pixel
// CHECK-NOT: vector<32xi16>
// CHECK: return
// LLVM-LABEL: llvm.func @one_pixel
func.func @one_pixel(%x: tensor<1x64xi8>) -> tensor<1x5xi32> {
  %w = arith.constant {mcusparse.layer = 0 : i64} dense<2> : tensor<5x64xi8>
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<1x5xi32>
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<1x5xi32>) -> tensor<1x5xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<1x64xi8>, tensor<5x64xi8>) outs(%f : tensor<1x5xi32>) -> tensor<1x5xi32>
  return %r : tensor<1x5xi32>
}
