// RUN: sparse-opt %s --split-input-file --sparse-enc-vectorize-elementwise=lanes=4 | FileCheck %s

// Requantisation-like step: accumulator + per-channel bias, narrowed to i8.
// The vector loop over channels goes outside the loop over rows (pixels):
// the bias load does not depend on the row, so LLVM hoists it.

// CHECK-LABEL: func.func @per_channel
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %[[C4:.*]] {
// CHECK:   scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:     %[[A:.*]] = vector.load %{{.*}}[%[[I]], %[[J]]] : memref<5x8xi32>, vector<4xi32>
// CHECK:     %[[B:.*]] = vector.load %{{.*}}[%[[J]]] : memref<8xi32>, vector<4xi32>
// CHECK:     %[[S:.*]] = arith.addi %[[A]], %[[B]] : vector<4xi32>
// CHECK:     %[[T:.*]] = arith.trunci %[[S]] : vector<4xi32> to vector<4xi8>
// CHECK:     vector.store %[[T]], %{{.*}}[%[[I]], %[[J]]] : memref<5x8xi8>, vector<4xi8>
// CHECK-NOT: linalg.generic
// CHECK-NOT: } {loop_annotation
func.func @per_channel(%acc: memref<5x8xi32>, %bias: memref<8xi32>, %out: memref<5x8xi8>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>,
                                   affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%acc, %bias : memref<5x8xi32>, memref<8xi32>) outs(%out : memref<5x8xi8>) {
  ^bb0(%a: i32, %b: i32, %o: i8):
    %s = arith.addi %a, %b : i32
    %t = arith.trunci %s : i32 to i8
    linalg.yield %t : i8
  }
  return
}

// -----

// 160 channels: pixels 640 bytes of accumulators apart, further than MVE's
// post-increment reaches, so the pixel loop is not unrolled (every unrolled
// pixel would need a pointer of its own).

// CHECK-LABEL: func.func @wide_channels
// CHECK: scf.for %{{.*}} = %{{.*}} to %c160 step %c4 {
// CHECK:   scf.for %{{.*}} = %{{.*}} to %c3 step %c1 {
// CHECK:     vector.store
// CHECK:   } {loop_annotation = #{{.*}}}
func.func @wide_channels(%acc: memref<3x160xi32>, %bias: memref<160xi32>, %out: memref<3x160xi8>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>,
                                   affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%acc, %bias : memref<3x160xi32>, memref<160xi32>) outs(%out : memref<3x160xi8>) {
  ^bb0(%a: i32, %b: i32, %o: i8):
    %s = arith.addi %a, %b : i32
    %t = arith.trunci %s : i32 to i8
    linalg.yield %t : i8
  }
  return
}

// -----

// A tail (10 is not a multiple of 4) is masked; an operand that does not
// depend on the innermost dimension is loaded once and broadcast; body
// constants become splats; a multi-result op (mulsi_extended) is cloned.

// CHECK-LABEL: func.func @tail_and_broadcast
// No per-channel operand: the vector loop stays innermost.
// CHECK: scf.for %{{.*}} = %{{.*}} to %c3 step %c1 {
// CHECK:   scf.for %{{.*}} = %{{.*}} to %c10 step %c4 {
// CHECK: %[[M:.*]] = vector.create_mask %{{.*}} : vector<4xi1>
// CHECK: vector.maskedload %{{.*}}[%{{.*}}], %[[M]], %{{.*}} : memref<3x10xi32>, vector<4xi1>, vector<4xi32> into vector<4xi32>
// CHECK: %[[R:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<3xi32>
// CHECK: vector.broadcast %[[R]] : i32 to vector<4xi32>
// CHECK: arith.mulsi_extended %{{.*}}, %{{.*}} : vector<4xi32>
// CHECK: arith.constant dense<1073741824> : vector<4xi32>
// CHECK: vector.maskedstore %{{.*}}[%{{.*}}], %[[M]], %{{.*}} : memref<3x10xi32>, vector<4xi1>, vector<4xi32>
// CHECK-NOT: linalg.generic
func.func @tail_and_broadcast(%x: memref<3x10xi32>, %row: memref<3xi32>, %out: memref<3x10xi32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                                   affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x, %row : memref<3x10xi32>, memref<3xi32>) outs(%out : memref<3x10xi32>) {
  ^bb0(%a: i32, %r: i32, %o: i32):
    %lo, %hi = arith.mulsi_extended %a, %r : i32
    %c = arith.constant 1073741824 : i32
    %s = arith.addi %hi, %c : i32
    linalg.yield %s : i32
  }
  return
}

// -----

// Left alone: a reduction, an i64 body, and an input that walks the innermost
// dimension transposed.

// CHECK-LABEL: func.func @not_elementwise
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: vector.
func.func @not_elementwise(%x: memref<4x8xi32>, %y: memref<4xi32>, %z: memref<4x8xi64>,
                           %t: memref<8x4xi32>, %w: memref<4x8xi32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x8xi32>) outs(%y : memref<4xi32>) {
  ^bb0(%a: i32, %o: i32):
    %s = arith.addi %a, %o : i32
    linalg.yield %s : i32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x8xi32>) outs(%z : memref<4x8xi64>) {
  ^bb0(%a: i32, %o: i64):
    %e = arith.extsi %a : i32 to i64
    linalg.yield %e : i64
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%t : memref<8x4xi32>) outs(%w : memref<4x8xi32>) {
  ^bb0(%a: i32, %o: i32):
    linalg.yield %a : i32
  }
  return
}
