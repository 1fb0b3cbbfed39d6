// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec{target=rv32gcv vector-length=32}, canonicalize)' | FileCheck %s
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec{target=rv32gcv vector-length=32}, canonicalize, one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map}, canonicalize, sparse-enc-lower-vector-transfers, canonicalize, lower-affine, convert-scf-to-cf, expand-strided-metadata, convert-to-llvm{dynamic=true}, reconcile-unrealized-casts)' | FileCheck %s --check-prefix=LLVM

// rv32gcv row-resident CSR layer matmul (LowerSpMM.cpp,
// lowerCSRMatmulRowResidentRVV): over 16 or more pixels, rows of 6 or more
// entries on average. Per step of 16 entries of a row, the values
// (sign-extended to i16) and the column indices (widened to i32) are read
// once under the lane mask of the entries left; then each pair of pixels,
// one per iteration of a rolled loop, gathers X (viewed 1-D) at p * K +
// column and (p + 1) * K + column in one 32-lane gather with every lane on
// (padding lanes hold column 0 and value 0), multiplies by the values
// (twice) in i16 and reduces each half into its Y[p, r]; an odd last pixel
// gathers 16 lanes. The first step of a row starts from the fill; its later
// steps (rows of more than 16 entries) add to Y.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#CSR = #sparse_enc.csr<>

// CHECK-LABEL: func.func @row_resident
// CHECK-SAME: (%[[V:.*]]: tensor<24xi8>, %[[CI:.*]]: tensor<24xi16>, %[[RP:.*]]: tensor<3xi16>, %[[XIN:.*]]: tensor<17x40xi8>)
// CHECK-DAG: %[[ALL:.*]] = arith.constant dense<true> : vector<16xi1>
// CHECK-DAG: %[[ALL2:.*]] = arith.constant dense<true> : vector<32xi1>
// CHECK-DAG: %[[K:.*]] = arith.constant dense<40> : vector<16xi32>
// CHECK-DAG: %[[X:.*]] = tensor.collapse_shape %[[XIN]]
// The row loop, then the row's first step.
// CHECK: scf.for %[[R:.*]] = %c0 to %c2 step %c1 iter_args(
// CHECK: %[[M:.*]] = vector.create_mask %{{.*}} : vector<16xi1>
// CHECK: %[[W8:.*]] = vector.transfer_read %[[V]][%{{.*}}], %{{.*}}, %[[M]]
// CHECK: %[[W:.*]] = arith.extsi %[[W8]] : vector<16xi8> to vector<16xi16>
// CHECK: %[[C16:.*]] = vector.transfer_read %[[CI]][%{{.*}}], %{{.*}}, %[[M]]
// CHECK: %[[C:.*]] = arith.extui %[[C16]] : vector<16xi16> to vector<16xi32>
// CHECK: %[[CK:.*]] = arith.addi %[[C]], %[[K]] : vector<16xi32>
// CHECK: %[[C2:.*]] = vector.shuffle %[[C]], %[[CK]] [0, 1, {{.*}}, 30, 31] : vector<16xi32>, vector<16xi32>
// CHECK: %[[W2:.*]] = vector.shuffle %[[W]], %[[W]] [0, 1, {{.*}}, 15, 0, 1, {{.*}}, 15] : vector<16xi16>, vector<16xi16>
// Pixels 0 to 15, a pair per iteration.
// CHECK: scf.for %[[P:.*]] = %c0 to %c16 step %c2 iter_args(
// CHECK-NOT: %[[V]]
// CHECK: %[[XV:.*]] = vector.gather %[[X]][%{{.*}}] [%[[C2]]], %[[ALL2]]
// CHECK: %[[XW:.*]] = arith.extsi %[[XV]] : vector<32xi8> to vector<32xi16>
// CHECK: %[[PR:.*]] = arith.muli %[[W2]], %[[XW]] : vector<32xi16>
// CHECK: %[[LO:.*]] = vector.shuffle %[[PR]], %[[PR]] [0, 1, {{.*}}, 15] :
// CHECK: %[[PW:.*]] = arith.extsi %[[LO]] : vector<16xi16> to vector<16xi32>
// CHECK: vector.reduction <add>, %[[PW]], %c0_i32
// CHECK: vector.shuffle %[[PR]], %[[PR]] [16, 17, {{.*}}, 31] :
// CHECK: vector.reduction <add>
// CHECK-NOT: vector.gather
// CHECK: } {loop_annotation
// The tail pixel 16: 16 lanes.
// CHECK: vector.gather %[[X]][%{{.*}}] [%[[C]]], %[[ALL]]
// A row's later steps add to Y.
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c16 iter_args(
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c2 iter_args(%[[YS:.*]] =
// CHECK: tensor.extract %[[YS]]
// CHECK: tensor.expand_shape
// CHECK-NOT: linalg.matmul
// CHECK-NOT: vector.scatter
// LLVM-LABEL: llvm.func @row_resident
// LLVM: llvm.intr.masked.gather
// LLVM-NOT: sparse_enc
func.func @row_resident(%v: tensor<24xi8>, %ci: tensor<24xi16>, %rp: tensor<3xi16>, %x: tensor<17x40xi8>) -> tensor<17x2xi32> {
  %w = sparse_enc.assemble (%v, %ci, %rp) : (tensor<24xi8>, tensor<24xi16>, tensor<3xi16>) -> tensor<2x40xi8, #CSR>
  %e = tensor.empty() : tensor<17x2xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<17x2xi32>) -> tensor<17x2xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y] {sparse_enc.batched}
      ins(%x, %w : tensor<17x40xi8>, tensor<2x40xi8, #CSR>) outs(%f : tensor<17x2xi32>) -> tensor<17x2xi32>
  return %r : tensor<17x2xi32>
}

// -----

// Rows of fewer than 6 entries on average (here 5), or fewer than 16 pixels,
// keep the pixel-batched kernel (blocks of 16 pixels, scatters into Y).

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#CSR = #sparse_enc.csr<>

// CHECK-LABEL: func.func @short_rows_pixel_batched
// CHECK: vector.scatter
// CHECK-NOT: vector.create_mask %{{.*}} : vector<16xi1>
// CHECK: return
func.func @short_rows_pixel_batched(%v: tensor<10xi8>, %ci: tensor<10xi16>, %rp: tensor<3xi16>, %x: tensor<17x40xi8>) -> tensor<17x2xi32> {
  %w = sparse_enc.assemble (%v, %ci, %rp) : (tensor<10xi8>, tensor<10xi16>, tensor<3xi16>) -> tensor<2x40xi8, #CSR>
  %e = tensor.empty() : tensor<17x2xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<17x2xi32>) -> tensor<17x2xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y] {sparse_enc.batched}
      ins(%x, %w : tensor<17x40xi8>, tensor<2x40xi8, #CSR>) outs(%f : tensor<17x2xi32>) -> tensor<17x2xi32>
  return %r : tensor<17x2xi32>
}
