// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec{target=cortex-m55 dense-weights-once}, canonicalize)' | FileCheck %s
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-model-to-llvm{target=cortex-m55 dense-weights-once})' | FileCheck %s --check-prefix=LLVM
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-matmul-to-matvec{target=cortex-m55})' | FileCheck %s --check-prefix=KEEP
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-matmul-to-matvec{target=cortex-m55}, sparse-enc-lower-matvec{target=cortex-m55}, canonicalize)' | FileCheck %s --check-prefix=LAYER

// dense-weights-once, cortex-m55: each row of W is read once into vector
// registers (here 40 columns: two steps of 16 and a masked step of 8) and every
// pixel passes it, two pixels per iteration of a rolled loop, then the
// tail pixel. The fill value starts each sum; Y is never read. The
// register-blocked kernel (test/Passes/lower-matmul.mlir, @dense_matmul)
// reads W again for every block of 3 pixels.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @weights_once
// CHECK-SAME: (%[[X:.*]]: tensor<7x40xi8>, %[[W:.*]]: tensor<5x40xi8>)
// CHECK-DAG: %[[TAIL:.*]] = arith.constant dense<[true, true, true, true, true, true, true, true, false, false, false, false, false, false, false, false]> : vector<16xi1>
// CHECK-DAG: %[[Z:.*]] = arith.constant 0 : i32
// CHECK: scf.for %[[O:.*]] = %c0 to %c5 step %c1 iter_args(
// CHECK: %[[W0:.*]] = vector.transfer_read %[[W]][%[[O]], %c0]
// CHECK: %[[W1:.*]] = vector.transfer_read %[[W]][%[[O]], %c16]
// CHECK: %[[W2:.*]] = vector.transfer_read %[[W]][%[[O]], %c32], %{{.*}}, %[[TAIL]]
// CHECK: scf.for %[[P:.*]] = %c0 to %c6 step %c2 iter_args(
// CHECK-NOT: vector.transfer_read %[[W]]
// CHECK: vector.transfer_read %[[X]][%[[P]], %c0]
// CHECK: llvm.call_intrinsic "llvm.arm.mve.vmldava"(%{{.*}}, %{{.*}}, %{{.*}}, %[[Z]], %[[W0]], %{{.*}})
// CHECK: vector.transfer_read %[[X]][%[[P]], %c16]
// CHECK: llvm.call_intrinsic "llvm.arm.mve.vmldava"({{.*}}%[[W1]]
// CHECK: vector.transfer_read %[[X]][%[[P]], %c32], %{{.*}}, %[[TAIL]]
// CHECK: llvm.call_intrinsic "llvm.arm.mve.vmldava"({{.*}}%[[W2]]
// CHECK: tensor.insert %{{.*}}[%[[P]], %[[O]]]
// CHECK: tensor.insert
// CHECK: scf.yield
// CHECK: } {loop_annotation = #{{.*}}}
// The tail pixel 6.
// CHECK: vector.transfer_read %[[X]][%c6, %c0]
// CHECK: tensor.insert %{{.*}}[%c6, %[[O]]]
// CHECK-NOT: linalg.matmul
// CHECK-NOT: tensor.extract %
// CHECK: return
// LLVM-LABEL: llvm.func @weights_once
// LLVM: llvm.call_intrinsic "llvm.arm.mve.vmldava"
// LLVM-NOT: linalg
func.func @weights_once(%x: tensor<7x40xi8>, %w: tensor<5x40xi8>) -> tensor<7x5xi32> {
  %e = tensor.empty() : tensor<7x5xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<7x5xi32>) -> tensor<7x5xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y] {sparse_enc.batched}
      ins(%x, %w : tensor<7x40xi8>, tensor<5x40xi8>) outs(%f : tensor<7x5xi32>) -> tensor<7x5xi32>
  return %r : tensor<7x5xi32>
}

// -----

// More than 96 columns: chunks of at most six steps, each a pass over the
// pixels (200 columns: 13 steps as 5 + 4 + 4, the last masked to 8). The
// first pass starts from the fill value; the later ones add to Y.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @wide_rows_in_chunks
// CHECK-SAME: (%[[X:.*]]: tensor<4x200xi8>, %[[W:.*]]: tensor<3x200xi8>)
// CHECK: scf.for %[[O:.*]] = %c0 to %c3 step %c1 iter_args(
// CHECK-COUNT-5: vector.transfer_read %[[W]]
// CHECK: scf.for %[[P:.*]] = %c0 to %c4 step %c2 iter_args(%[[Y1:.*]] = %{{.*}})
// CHECK-NOT: tensor.extract
// CHECK: } {loop_annotation
// CHECK: vector.transfer_read %[[W]][%[[O]], %c80]
// CHECK-COUNT-3: vector.transfer_read %[[W]]
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c2 iter_args(%[[Y2:.*]] = %{{.*}})
// CHECK: tensor.extract %[[Y2]]
// CHECK: } {loop_annotation
// CHECK: vector.transfer_read %[[W]][%[[O]], %c144]
// CHECK: vector.transfer_read %[[W]][%[[O]], %c192], %{{.*}}, %{{.*}}
// CHECK: scf.for
// CHECK: tensor.extract
// CHECK: return
func.func @wide_rows_in_chunks(%x: tensor<4x200xi8>, %w: tensor<3x200xi8>) -> tensor<4x3xi32> {
  %e = tensor.empty() : tensor<4x3xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<4x3xi32>) -> tensor<4x3xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y] {sparse_enc.batched}
      ins(%x, %w : tensor<4x200xi8>, tensor<3x200xi8>) outs(%f : tensor<4x3xi32>) -> tensor<4x3xi32>
  return %r : tensor<4x3xi32>
}

// -----

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// Fewer than 32 columns (one step, masked) cost more per pixel than the
// weight traffic saves: register-blocked (blocks of 3 pixels), as without
// the option.

// CHECK-LABEL: func.func @narrow_rows_stay_blocked
// CHECK: scf.for %{{.*}} = %c0 to %c6 step %c3 iter_args(
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c2 iter_args(
// CHECK: return
func.func @narrow_rows_stay_blocked(%x: tensor<7x9xi8>, %w: tensor<5x9xi8>) -> tensor<7x5xi32> {
  %e = tensor.empty() : tensor<7x5xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<7x5xi32>) -> tensor<7x5xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y] {sparse_enc.batched}
      ins(%x, %w : tensor<7x9xi8>, tensor<5x9xi8>) outs(%f : tensor<7x5xi32>) -> tensor<7x5xi32>
  return %r : tensor<7x5xi32>
}

// -----

// Y not a fill: each sum starts from Y[p, o].

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @accumulates_into_y
// CHECK-SAME: (%[[X:.*]]: tensor<4x32xi8>, %[[W:.*]]: tensor<3x32xi8>, %[[Y:.*]]: tensor<4x3xi32>)
// CHECK: scf.for %[[O:.*]] = %c0 to %c3 step %c1 iter_args(%[[YT:.*]] = %[[Y]])
// CHECK: scf.for %[[P:.*]] = %c0 to %c4 step %c2 iter_args(%[[YP:.*]] = %[[YT]])
// CHECK: tensor.extract %[[YP]][%[[P]], %[[O]]]
// CHECK: return
func.func @accumulates_into_y(%x: tensor<4x32xi8>, %w: tensor<3x32xi8>, %y: tensor<4x3xi32>) -> tensor<4x3xi32> {
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y] {sparse_enc.batched}
      ins(%x, %w : tensor<4x32xi8>, tensor<3x32xi8>) outs(%y : tensor<4x3xi32>) -> tensor<4x3xi32>
  return %r : tensor<4x3xi32>
}

// -----

// Per layer, without the pass option: the compiler puts
// `sparse_enc.weights_once` on a dense layer's weight constant where that
// kernel measured faster (compile_model(dense_weights_once=True));
// sparse-enc-matmul-to-matvec moves it onto the matmul it keeps whole, and
// the lowering takes the weights-once kernel for that matmul only.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// KEEP-LABEL: func.func @per_layer
// KEEP: linalg.matmul {{.*}}{sparse_enc.batched, sparse_enc.weights_once}
// KEEP: linalg.matmul {{.*}}{sparse_enc.batched}
// LAYER-LABEL: func.func @per_layer
// The marked layer: rows outside, pixels inside, 2 per iteration.
// LAYER: scf.for %{{.*}} = %c0 to %c5 step %c1 iter_args(
// LAYER: scf.for %{{.*}} = %c0 to %c6 step %c2 iter_args(
// The other: register-blocked, blocks of 3 pixels outside.
// LAYER: scf.for %{{.*}} = %c0 to %c6 step %c3 iter_args(
// LAYER-NOT: linalg.matmul
// LAYER: return
func.func @per_layer(%x: tensor<7x40xi8>) -> (tensor<7x5xi32>, tensor<7x5xi32>) {
  %w0 = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.weights_once} dense<3> : tensor<5x40xi8>
  %w1 = arith.constant {mcusparse.layer = 1 : i64} dense<2> : tensor<5x40xi8>
  %e = tensor.empty() : tensor<7x5xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<7x5xi32>) -> tensor<7x5xi32>
  %r0 = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w0 : tensor<7x40xi8>, tensor<5x40xi8>) outs(%f : tensor<7x5xi32>) -> tensor<7x5xi32>
  %r1 = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w1 : tensor<7x40xi8>, tensor<5x40xi8>) outs(%f : tensor<7x5xi32>) -> tensor<7x5xi32>
  return %r0, %r1 : tensor<7x5xi32>, tensor<7x5xi32>
}
