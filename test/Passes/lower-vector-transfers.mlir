// RUN: sparse-opt %s --split-input-file --sparse-enc-lower-vector-transfers | FileCheck %s

// After bufferization: 1-D vector transfers on memrefs become plain or masked
// loads and stores, and a 1-D create_mask becomes
// llvm.intr.get.active.lane.mask(0, n) on i32 (MVE `vctp`), with n clamped
// at 0 first (create_mask treats a negative count as 0, the intrinsic
// compares unsigned). No index-typed mask arithmetic is left, so
// convert-to-llvm can keep the module's 32-bit index.

// CHECK-LABEL: func.func @masked_read
// CHECK-SAME: (%[[M:.*]]: memref<64xi8>, %[[I:.*]]: index, %[[N:.*]]: index)
// CHECK: %[[N32:.*]] = arith.index_cast %[[N]] : index to i32
// CHECK: %[[CLAMPED:.*]] = arith.maxsi %[[N32]], %[[ZERO:.*]] : i32
// CHECK: %[[MASK:.*]] = llvm.intr.get.active.lane.mask %[[ZERO]], %[[CLAMPED]] : i32, i32 to vector<16xi1>
// CHECK: vector.maskedload %[[M]][%[[I]]], %[[MASK]], %{{.*}} : memref<64xi8>, vector<16xi1>, vector<16xi8> into vector<16xi8>
// CHECK-NOT: vector.create_mask
// CHECK-NOT: vector.transfer_read
func.func @masked_read(%m: memref<64xi8>, %i: index, %n: index) -> vector<16xi8> {
  %pad = arith.constant 0 : i8
  %mask = vector.create_mask %n : vector<16xi1>
  %v = vector.transfer_read %m[%i], %pad, %mask {in_bounds = [true]} : memref<64xi8>, vector<16xi8>
  return %v : vector<16xi8>
}

// -----

// CHECK-LABEL: func.func @writes
// CHECK: vector.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<64xi32>, vector<4xi32>
// CHECK: llvm.intr.get.active.lane.mask
// CHECK: vector.maskedstore %{{.*}}[%{{.*}}], %{{.*}}, %{{.*}} : memref<64xi32>, vector<4xi1>, vector<4xi32>
// CHECK-NOT: vector.transfer_write
func.func @writes(%m: memref<64xi32>, %i: index, %n: index, %v: vector<4xi32>) {
  vector.transfer_write %v, %m[%i] {in_bounds = [true]} : vector<4xi32>, memref<64xi32>
  %mask = vector.create_mask %n : vector<4xi1>
  vector.transfer_write %v, %m[%i], %mask {in_bounds = [true]} : vector<4xi32>, memref<64xi32>
  return
}

// -----

// A word the lowering marked aligned (sparse_enc.aligned_word on the bitcast
// of its 4-byte load) is loaded with alignment 4: one `lw` on RISC-V instead
// of four byte loads. The marker is removed.

// CHECK-LABEL: func.func @aligned_word
// CHECK: %[[W:.*]] = vector.load %{{.*}} {alignment = 4 : i64} : memref<64xi8>, vector<4xi8>
// CHECK: vector.bitcast %[[W]] : vector<4xi8> to vector<1xi32>
// CHECK-NOT: sparse_enc.aligned_word
func.func @aligned_word(%m: memref<64xi8>, %i: index) -> vector<1xi32> {
  %w = vector.load %m[%i] : memref<64xi8>, vector<4xi8>
  %b = vector.bitcast %w {sparse_enc.aligned_word} : vector<4xi8> to vector<1xi32>
  return %b : vector<1xi32>
}

// -----

// A create_mask with a constant count (folded to constant_mask) becomes a
// constant vector.

// CHECK-LABEL: func.func @constant_mask
// CHECK: arith.constant dense<[true, true, true, false, false, false, false, false]> : vector<8xi1>
// CHECK-NOT: vector.constant_mask
func.func @constant_mask() -> vector<8xi1> {
  %m = vector.constant_mask [3] : vector<8xi1>
  return %m : vector<8xi1>
}
