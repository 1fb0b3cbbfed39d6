// RUN: sparse-opt %s --split-input-file --sparse-enc-lower-strided-copies | FileCheck %s
// RUN: sparse-opt %s --split-input-file --sparse-enc-lower-strided-copies --convert-linalg-to-loops | FileCheck %s --check-prefix=LOOPS

// A copy into the interior of a padded activation: the target is a strided
// subview, which convert-to-llvm would lower to a call of memrefCopy (not in
// a bare-metal image). It becomes a linalg.copy, and loops after
// convert-linalg-to-loops.

// CHECK-LABEL: func.func @into_padded
// CHECK-SAME: (%[[A:.*]]: memref<1x4x4x2xi8>, %[[P:.*]]: memref<1x6x6x2xi8>)
// CHECK: %[[S:.*]] = memref.subview %[[P]]
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%[[A]] : memref<1x4x4x2xi8>) outs(%[[S]] : memref<1x4x4x2xi8, strided<[72, 12, 2, 1], offset: 14>>)
// CHECK-NOT: memref.copy
// LOOPS-LABEL: func.func @into_padded
// LOOPS-COUNT-4: scf.for
// LOOPS: memref.load
// LOOPS: memref.store
// LOOPS-NOT: memref.copy
// LOOPS-NOT: linalg.copy
func.func @into_padded(%a: memref<1x4x4x2xi8>, %padded: memref<1x6x6x2xi8>) {
  %s = memref.subview %padded[0, 1, 1, 0] [1, 4, 4, 2] [1, 1, 1, 1]
      : memref<1x6x6x2xi8> to memref<1x4x4x2xi8, strided<[72, 12, 2, 1], offset: 14>>
  memref.copy %a, %s : memref<1x4x4x2xi8> to memref<1x4x4x2xi8, strided<[72, 12, 2, 1], offset: 14>>
  return
}

// -----

// Out of a strided view (a dynamic offset counts too).

// CHECK-LABEL: func.func @from_strided
// LOOPS-LABEL: func.func @from_strided
// CHECK: linalg.copy ins(%{{.*}} : memref<4xi32, strided<[1], offset: ?>>) outs(%{{.*}} : memref<4xi32>)
// CHECK-NOT: memref.copy
func.func @from_strided(%m: memref<16xi32>, %i: index, %out: memref<4xi32>) {
  %s = memref.subview %m[%i] [4] [1] : memref<16xi32> to memref<4xi32, strided<[1], offset: ?>>
  memref.copy %s, %out : memref<4xi32, strided<[1], offset: ?>> to memref<4xi32>
  return
}

// -----

// A copy between identity-layout buffers stays a memref.copy (it becomes
// llvm.memcpy).

// CHECK-LABEL: func.func @contiguous
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<4x8xi8> to memref<4x8xi8>
// CHECK-NOT: linalg.copy
// LOOPS-LABEL: func.func @contiguous
// LOOPS: memref.copy
func.func @contiguous(%a: memref<4x8xi8>, %b: memref<4x8xi8>) {
  memref.copy %a, %b : memref<4x8xi8> to memref<4x8xi8>
  return
}
