// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec{target=rv32gcv vector-length=32}, canonicalize)' | FileCheck %s
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec{target=rv32gcv vector-length=32}, canonicalize, one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map}, canonicalize, sparse-enc-lower-vector-transfers, canonicalize, lower-affine, convert-scf-to-cf, expand-strided-metadata, convert-to-llvm{dynamic=true}, reconcile-unrealized-casts)' | FileCheck %s --check-prefix=LLVM

// rv32gcv N:M (and GS, last case) layer matmul (LowerSparseMatmul.cpp,
// LowerNM.cpp nmRowsRVV):
// 16 rows in parallel lanes, blocks of 4 pixels. Per group of rows, each
// offset word is gathered once (4 byte gathers at row * 4 + j, assembled)
// and each field's offsets (shift, and) and values (a gather at field +
// row * fields) are decoded once; then each pixel of the block gathers X
// at its own base (p * K + the field's block) and multiply-accumulates
// into its own lane accumulators. A matvec per pixel decoded every field
// again for every pixel. 20 rows = a group of 16 and a group of 4 whose
// lanes past row 19 are masked: their Y stores are masked too, as the next
// pixel's sums follow in Y. Here every loop has one iteration, so
// canonicalize leaves straight-line code.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#NM = #sparse_enc.nm<n = 1, m = 8>

// CHECK-LABEL: func.func @nm_rows_in_lanes
// CHECK-SAME: (%[[V:.*]]: tensor<80xi8>, %[[O:.*]]: tensor<80xi8>, %[[XIN:.*]]: tensor<6x32xi8>)
// CHECK-DAG: %[[ALL:.*]] = arith.constant dense<true> : vector<16xi1>
// CHECK-DAG: %[[FOUR:.*]] = arith.constant dense<[true, true, true, true, false, {{.*}}]> : vector<16xi1>
// CHECK-DAG: %[[X:.*]] = tensor.collapse_shape %[[XIN]]
// Rows 0-15, pixels 0-3: the word, then field 0 decoded once, four pixels.
// CHECK-COUNT-4: vector.gather %[[O]][%{{.*}}] [%{{.*}}], %[[ALL]]
// CHECK: %[[F0:.*]] = arith.andi
// CHECK: vector.gather %[[V]][%c0] [%{{.*}}], %[[ALL]]
// CHECK: vector.gather %[[X]][%c0] [%[[F0]]], %[[ALL]]
// CHECK: vector.gather %[[X]][%c32] [%[[F0]]], %[[ALL]]
// CHECK: vector.gather %[[X]][%c64] [%[[F0]]], %[[ALL]]
// CHECK: vector.gather %[[X]][%c96] [%[[F0]]], %[[ALL]]
// Field 1: block 8.
// CHECK: arith.shrui
// CHECK: vector.gather %[[V]][%c1]
// CHECK: vector.gather %[[X]][%c8]
// The sums start from the fill (no read of Y), one store per pixel.
// CHECK-NOT: vector.transfer_read
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%c0] {in_bounds = [true]}
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%c20] {in_bounds = [true]}
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%c40] {in_bounds = [true]}
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%c60] {in_bounds = [true]}
// Rows 16-19: every gather and store under the row mask.
// CHECK: vector.gather %[[O]][%c0] [%{{.*}}], %[[FOUR]]
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%c16], %[[FOUR]] {in_bounds = [true]}
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%c36], %[[FOUR]] {in_bounds = [true]}
// The last two pixels: a block of 2.
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%c80] {in_bounds = [true]}
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%c100] {in_bounds = [true]}
// CHECK-NOT: linalg.matmul
// LLVM-LABEL: llvm.func @nm_rows_in_lanes
// LLVM: llvm.intr.masked.gather
// LLVM-NOT: sparse_enc
func.func @nm_rows_in_lanes(%v: tensor<80xi8>, %o: tensor<80xi8>, %x: tensor<6x32xi8>) -> tensor<6x20xi32> {
  %w = sparse_enc.assemble (%v, %o) : (tensor<80xi8>, tensor<80xi8>) -> tensor<20x32xi8, #NM>
  %e = tensor.empty() : tensor<6x20xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<6x20xi32>) -> tensor<6x20xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y] {sparse_enc.batched}
      ins(%x, %w : tensor<6x32xi8>, tensor<20x32xi8, #NM>) outs(%f : tensor<6x20xi32>) -> tensor<6x20xi32>
  return %r : tensor<6x20xi32>
}

// -----

// Y not a fill: each pixel's sums add to Y, read under the row mask in the
// last group.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#NM = #sparse_enc.nm<n = 1, m = 8>

// CHECK-LABEL: func.func @accumulates_into_y
// CHECK: vector.transfer_read %{{.*}}[%c0]
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%c0] {in_bounds = [true]}
// CHECK: vector.transfer_read %{{.*}}[%c16], %{{.*}}, %{{.*}} {in_bounds = [true]}
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%c16], %{{.*}} {in_bounds = [true]}
// CHECK: return
func.func @accumulates_into_y(%v: tensor<80xi8>, %o: tensor<80xi8>, %x: tensor<2x32xi8>, %y: tensor<2x20xi32>) -> tensor<2x20xi32> {
  %w = sparse_enc.assemble (%v, %o) : (tensor<80xi8>, tensor<80xi8>) -> tensor<20x32xi8, #NM>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y] {sparse_enc.batched}
      ins(%x, %w : tensor<2x32xi8>, tensor<20x32xi8, #NM>) outs(%y : tensor<2x20xi32>) -> tensor<2x20xi32>
  return %r : tensor<2x20xi32>
}

// -----

// GS on rv32gcv (LowerGS.cpp gsRowsRVV), the same blocks of 4 pixels: each
// step's values and column indices are read once, then each pixel gathers X
// at its own base and multiply-accumulates into its own lanes; 6 rows in
// groups of 4: the padded last group's Y stores go under its row mask.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#GS = #sparse_enc.gs<lanes = 4>

// CHECK-LABEL: func.func @gs_steps_once
// CHECK-SAME: (%[[V:.*]]: tensor<16xi8>, %[[C:.*]]: tensor<16xi8>, %[[K:.*]]: tensor<2xi16>, %[[XIN:.*]]: tensor<5x32xi8>)
// CHECK: scf.for %[[G:.*]] = %c0 to %c2 step %c1 iter_args(
// CHECK: scf.for %[[P:.*]] = %{{.*}} to %{{.*}} step %c4 iter_args(
// CHECK: vector.transfer_read %[[V]][%[[P]]]
// CHECK: vector.transfer_read %[[C]][%[[P]]]
// CHECK-COUNT-4: vector.gather %{{.*}}[%{{.*}}] [%{{.*}}], %{{.*}}, %{{.*}} : tensor<160xi8>
// CHECK-NOT: vector.transfer_read %[[V]]
// CHECK: scf.yield
// CHECK: %[[M:.*]] = arith.select %{{.*}}, %{{.*}}, %{{.*}} : vector<4xi1>
// CHECK-COUNT-4: vector.transfer_write %{{.*}}, %{{.*}}[%{{.*}}], %[[M]] {in_bounds = [true]}
// CHECK-NOT: linalg.matmul
func.func @gs_steps_once(%v: tensor<16xi8>, %c: tensor<16xi8>, %k: tensor<2xi16>, %x: tensor<5x32xi8>) -> tensor<5x6xi32> {
  %w = sparse_enc.assemble (%v, %c, %k) : (tensor<16xi8>, tensor<16xi8>, tensor<2xi16>) -> tensor<6x32xi8, #GS>
  %e = tensor.empty() : tensor<5x6xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<5x6xi32>) -> tensor<5x6xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y] {sparse_enc.batched}
      ins(%x, %w : tensor<5x32xi8>, tensor<6x32xi8, #GS>) outs(%f : tensor<5x6xi32>) -> tensor<5x6xi32>
  return %r : tensor<5x6xi32>
}
