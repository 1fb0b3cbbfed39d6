// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec{target=rv32imc}, canonicalize)' | FileCheck %s
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec{target=cortex-m55}, canonicalize)' | FileCheck %s --check-prefix=MVE

// CSE-CSR (docs/formats.md's example: S = 1, t0 = 2*x0 - x2): u = x, t, -t
// in a module global of cols + 2S accumulators; the subexpression is
// computed from two loads of u and stored at cols + k and (negated) at
// cols + S + k; per row a while loop over the plain entries (entries left
// and the next index below cols), then the references, one load of u each
// (rv32imc: four per iteration; on cortex-m55 4-lane gathers into lane sums;
// there the subexpressions too are computed 4 at a time).

#CSE = #sparse_enc.cse_csr<>
// CHECK: memref.global "private" @cse_csr_scratch : memref<6xi32> = uninitialized
// CHECK-LABEL: func.func @cse_csr
// CHECK: %[[U:.*]] = memref.get_global @cse_csr_scratch : memref<6xi32>
// CHECK: scf.for
// CHECK: arith.extsi {{.*}} : i8 to i32
// CHECK: memref.store {{.*}}, %[[U]][
// CHECK: memref.load %[[U]]
// CHECK: memref.load %[[U]]
// CHECK: %[[T:.*]] = arith.addi
// CHECK: memref.store %[[T]], %[[U]][%c4]
// CHECK: %[[NEG:.*]] = arith.subi %c0_i32, %[[T]]
// CHECK: memref.store %[[NEG]], %[[U]][%c5]
// CHECK: scf.while
// CHECK: arith.minui %{{.*}}, %c5 : index
// CHECK: arith.cmpi ult, %{{.*}}, %c4 : index
// CHECK: scf.condition
// CHECK: scf.for {{.*}} step %c4
// CHECK-COUNT-4: memref.load %[[U]]
// CHECK-NOT: sparse_enc.
// CHECK-NOT: linalg.matvec
// MVE-LABEL: func.func @cse_csr
// The table 4 subexpressions per step: operand indices gathered at even and
// odd positions, one pass when no operand reaches cols + k, else 4.
// MVE: vector.gather %{{.*}} : tensor<2xi16>, vector<4xi32>, vector<4xi1>, vector<4xi16> into vector<4xi16>
// MVE: vector.reduction <maxui>, %{{.*}} : vector<4xi32> into i32
// MVE: %[[PASSES:.*]] = arith.select %{{.*}}, %c1, %c4 : index
// MVE: scf.for %{{.*}} = %c0 to %[[PASSES]] step %c1
// MVE: vector.maskedstore %{{.*}}[%c4]
// MVE: vector.maskedstore %{{.*}}[%c5]
// MVE: vector.create_mask
// MVE: vector.gather %{{.*}} : memref<6xi32>, vector<4xi32>, vector<4xi1>, vector<4xi32> into vector<4xi32>
// MVE: vector.reduction <add>, %{{.*}} : vector<4xi32> into i32
// MVE-NOT: sparse_enc.
func.func @cse_csr(%v: tensor<2xi8>, %c: tensor<6xi16>, %p: tensor<5xi16>, %o: tensor<2xi16>, %s: tensor<2xi8>, %x: tensor<4xi8>, %y: tensor<4xi32>) -> tensor<4xi32> {
  %w = sparse_enc.assemble (%v, %c, %p, %o, %s) : (tensor<2xi8>, tensor<6xi16>, tensor<5xi16>, tensor<2xi16>, tensor<2xi8>) -> tensor<4x4xi8, #CSE>
  %r = linalg.matvec ins(%w, %x : tensor<4x4xi8, #CSE>, tensor<4xi8>) outs(%y : tensor<4xi32>) -> tensor<4xi32>
  return %r : tensor<4xi32>
}

// -----

// Two kernels in one module get scratch buffers of their own; an all-zero
// matrix (no entries) leaves y as it is.

#CSE = #sparse_enc.cse_csr<>
// CHECK: memref.global "private" @cse_csr_scratch_0 : memref<10xf32>
// CHECK: memref.global "private" @cse_csr_scratch : memref<10xf32>
// CHECK-LABEL: func.func @two_f32
// CHECK-DAG: memref.get_global @cse_csr_scratch :
// CHECK-DAG: memref.get_global @cse_csr_scratch_0 :
// CHECK: arith.subf
// CHECK-LABEL: func.func @all_zero
// CHECK-SAME: %[[Y:[a-z0-9]+]]: tensor<2xi32>) -> tensor<2xi32>
// CHECK-NEXT: return %[[Y]]
func.func @two_f32(%v: tensor<1xf32>, %c: tensor<3xi16>, %p: tensor<3xi16>, %o: tensor<4xi16>, %s: tensor<4xf32>, %x: tensor<6xf32>, %y: tensor<2xf32>) -> tensor<2xf32> {
  %w = sparse_enc.assemble (%v, %c, %p, %o, %s) : (tensor<1xf32>, tensor<3xi16>, tensor<3xi16>, tensor<4xi16>, tensor<4xf32>) -> tensor<2x6xf32, #CSE>
  %r = linalg.matvec ins(%w, %x : tensor<2x6xf32, #CSE>, tensor<6xf32>) outs(%y : tensor<2xf32>) -> tensor<2xf32>
  %r2 = linalg.matvec ins(%w, %x : tensor<2x6xf32, #CSE>, tensor<6xf32>) outs(%r : tensor<2xf32>) -> tensor<2xf32>
  return %r2 : tensor<2xf32>
}
func.func @all_zero(%v: tensor<0xi8>, %c: tensor<0xi16>, %p: tensor<3xi16>, %o: tensor<0xi16>, %s: tensor<0xi8>, %x: tensor<5xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  %w = sparse_enc.assemble (%v, %c, %p, %o, %s) : (tensor<0xi8>, tensor<0xi16>, tensor<3xi16>, tensor<0xi16>, tensor<0xi8>) -> tensor<2x5xi8, #CSE>
  %r = linalg.matvec ins(%w, %x : tensor<2x5xi8, #CSE>, tensor<5xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}
