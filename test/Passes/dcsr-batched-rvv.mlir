// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec{target=rv32gcv}, canonicalize)' | FileCheck %s
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-matmul-to-matvec{target=rv32gcv})' | FileCheck %s --check-prefix=KEEP

// rv32gcv dCSR layer matmul (LowerSparseMatmul.cpp, DCSRRows.cpp
// dcsrPixelDots): the cortex-m55 row loops over W, each group decoded once
// for every pixel of a block of 16. Per pixel: a gather of X at the group's
// base plus q * K with the group's offsets, the product exact in i16 lanes
// (`vwmul` at e8) and a widening reduction (`vwredsum`). Each gather after
// the first takes the previous pixel's as its pass-through: its masked-off
// lanes are zero already, and RVV then needs no fresh zero vector per pixel.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#DCSR = #sparse_enc.dcsr<group = 16>

// CHECK-LABEL: func.func @dcsr_4bit_matmul
// CHECK-DAG: %[[ZERO:.*]] = arith.constant dense<0> : vector<16xi8>
// The one loop over the groups of all rows, 3 accumulators (3 pixels).
// CHECK: scf.while {{.*}} -> (tensor<6xi32>, index, index, !llvm.ptr, index, vector<16xi8>, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, vector<16xi8>, i32, i32, i32, i32)
// CHECK: vector.bitcast %{{.*}} : vector<1xi16> to vector<16xi1>
// CHECK: %[[V:.*]] = llvm.intr.masked.load
// CHECK: %[[X0:.*]] = llvm.intr.masked.gather %{{.*}}, %[[M:.*]], %[[ZERO]]
// CHECK: %[[P0:.*]] = arith.muli %{{.*}}, %{{.*}} : vector<16xi16>
// CHECK: %[[W0:.*]] = arith.extsi %[[P0]] : vector<16xi16> to vector<16xi32>
// CHECK: vector.reduction <add>, %[[W0]], %{{.*}} : vector<16xi32> into i32
// CHECK: %[[X1:.*]] = llvm.intr.masked.gather %{{.*}}, %[[M]], %[[X0]]
// CHECK: arith.muli %{{.*}}, %{{.*}} : vector<16xi16>
// CHECK: %[[X2:.*]] = llvm.intr.masked.gather %{{.*}}, %[[M]], %[[X1]]
// CHECK: arith.muli %{{.*}}, %{{.*}} : vector<16xi16>
// CHECK-NOT: llvm.intr.masked.gather
// CHECK-NOT: vector<16xi32> to vector
// CHECK: tensor.expand_shape
// CHECK-NOT: linalg.matmul
// CHECK-NOT: sparse_enc.
func.func @dcsr_4bit_matmul(%v: tensor<11xi8>, %d: tensor<16xi8>, %mn: tensor<2xi8>, %mp: tensor<1xi8>, %mk: tensor<2xi16>, %ro: tensor<2xi16>, %nz: tensor<1xi32>, %x: tensor<3x40xi8>, %y: tensor<3x2xi32>) -> tensor<3x2xi32> {
  %w = sparse_enc.assemble (%v, %d, %mn, %mp, %mk, %ro, %nz) : (tensor<11xi8>, tensor<16xi8>, tensor<2xi8>, tensor<1xi8>, tensor<2xi16>, tensor<2xi16>, tensor<1xi32>) -> tensor<2x40xi8, #DCSR>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<3x40xi8>, tensor<2x40xi8, #DCSR>) outs(%y : tensor<3x2xi32>) -> tensor<3x2xi32>
  return %r : tensor<3x2xi32>
}

// -----

// Byte deltas over 5 pixels: on cortex-m55 up to 9 pixels keep the
// tail-predicated shape (each dot under the lane mask, an arith.select); on
// rv32gcv the values read zero in masked-off lanes, so the dots go without
// it.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#DCSR8 = #sparse_enc.dcsr<group = 16, delta_bits = 8>

// CHECK-LABEL: func.func @dcsr_bytes_matmul
// CHECK: scf.while {{.*}} : (index, !llvm.ptr, !llvm.ptr, i32, i32, i32, i32, i32)
// CHECK: %[[X0:.*]] = llvm.intr.masked.gather
// CHECK-NOT: arith.select
// CHECK: arith.muli %{{.*}}, %{{.*}} : vector<16xi16>
// CHECK: vector.reduction <add>
// CHECK-COUNT-4: llvm.intr.masked.gather %{{.*}}, %{{.*}}, %{{.*}}
// CHECK-NOT: arith.select
// CHECK: scf.condition
// CHECK-NOT: linalg.matmul
// CHECK-NOT: sparse_enc.
func.func @dcsr_bytes_matmul(%v: tensor<11xi8>, %d: tensor<11xi8>, %mn: tensor<2xi8>, %ro: tensor<3xi16>, %nz: tensor<1xi32>, %x: tensor<5x40xi8>) -> tensor<5x3xi32> {
  %w = sparse_enc.assemble (%v, %d, %mn, %ro, %nz) : (tensor<11xi8>, tensor<11xi8>, tensor<2xi8>, tensor<3xi16>, tensor<1xi32>) -> tensor<3x40xi8, #DCSR8>
  %e = tensor.empty() : tensor<5x3xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<5x3xi32>) -> tensor<5x3xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<5x40xi8>, tensor<3x40xi8, #DCSR8>) outs(%f : tensor<5x3xi32>) -> tensor<5x3xi32>
  return %r : tensor<5x3xi32>
}

// -----

// sparse-enc-matmul-to-matvec keeps an int8 dCSR layer in groups of 16 whole
// on rv32gcv (both delta widths); one in groups of 8 (16-bit lanes) becomes
// matvecs.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @layers
// KEEP-LABEL: func.func @layers
// KEEP-COUNT-2: linalg.matmul indexing_maps = {{.*}} {sparse_enc.batched}
// KEEP-NOT: linalg.matmul
// KEEP: linalg.matvec
func.func @layers(%x: tensor<6x32xi8>, %y: tensor<6x4xi32>) -> (tensor<6x4xi32>, tensor<6x4xi32>, tensor<6x4xi32>) {
  %w4 = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.layout = #sparse_enc.dcsr<group = 16>} dense<1> : tensor<4x32xi8>
  %w8 = arith.constant {mcusparse.layer = 1 : i64, sparse_enc.layout = #sparse_enc.dcsr<group = 16, delta_bits = 8>} dense<1> : tensor<4x32xi8>
  %wg8 = arith.constant {mcusparse.layer = 2 : i64, sparse_enc.layout = #sparse_enc.dcsr<group = 8>} dense<1> : tensor<4x32xi8>
  %a = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w4 : tensor<6x32xi8>, tensor<4x32xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  %b = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w8 : tensor<6x32xi8>, tensor<4x32xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  %c = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %wg8 : tensor<6x32xi8>, tensor<4x32xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  return %a, %b, %c : tensor<6x4xi32>, tensor<6x4xi32>, tensor<6x4xi32>
}
