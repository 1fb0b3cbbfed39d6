// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec{target=cortex-m55}, canonicalize)' | FileCheck %s
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-matmul-to-matvec{target=cortex-m55}, sparse-enc-attach-layouts)' | FileCheck %s --check-prefix=KEEP
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-matmul-to-matvec{target=rv32gcv})' | FileCheck %s --check-prefix=SPLIT

// dCSR layer matmul Y[P, O] += X[P, K] x W[O, K]^T on cortex-m55
// (passes/lower/LowerDCSRMatmul.cpp): blocks of 16 pixels, then one block
// of the rest (18 pixels: 16 and 2); per block the matvec's row loop over W
// with one accumulator per pixel. Byte deltas: a group's deltas, minimum
// and values are read once, then one gather of X per pixel at the group's
// base plus q * K bytes, with the same offsets. 16 accumulators do not fit
// the GPRs, so the 16-pixel block's dot products go without the lane mask
// (masked-off values read zero); the 2-pixel block keeps the masked,
// tail-predicated shape. The fill starts the accumulators; Y is never read.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#DCSR8 = #sparse_enc.dcsr<group = 16, delta_bits = 8>

// CHECK-LABEL: func.func @dcsr_bytes_matmul
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<18x40xi8>
// CHECK: %[[X1:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1]] : tensor<18x40xi8> into tensor<720xi8>
// CHECK: %[[Y1:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<18x3xi32> into tensor<54xi32>
// CHECK: %[[XS:.*]] = llvm.inttoptr %{{.*}} : i32 to !llvm.ptr
// The block of 16: the row loop (3 rows, one per iteration) carries Y and
// the values, deltas and minimum pointers.
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args(%{{.*}} = %[[Y1]], {{.*}}) -> (tensor<54xi32>, !llvm.ptr, !llvm.ptr, !llvm.ptr)
// CHECK: scf.while {{.*}} : (index, !llvm.ptr, !llvm.ptr, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32)
// CHECK: %[[M:.*]] = llvm.intr.get.active.lane.mask
// CHECK: llvm.intr.masked.load %{{.*}}, %[[M]]
// CHECK: llvm.load %{{.*}} : !llvm.ptr -> i8
// CHECK: llvm.intr.masked.load %{{.*}}, %[[M]]
// CHECK: llvm.getelementptr %[[B:[0-9]+]][%{{.*}}] : (!llvm.ptr, vector<16xi32>)
// CHECK: llvm.intr.masked.gather %{{.*}}, %[[M]]
// CHECK-NOT: arith.select
// CHECK: vector.reduction <add>
// CHECK: llvm.getelementptr %[[B]][40] : (!llvm.ptr) -> !llvm.ptr, i8
// CHECK-COUNT-15: llvm.intr.masked.gather
// CHECK: scf.condition
// CHECK-COUNT-16: tensor.insert
// The block of 2 pixels: the dot products under the mask.
// CHECK: scf.while {{.*}} : (index, !llvm.ptr, !llvm.ptr, i32, i32)
// CHECK: llvm.intr.masked.gather
// CHECK: arith.select
// CHECK: vector.reduction <add>
// CHECK: llvm.intr.masked.gather
// CHECK: scf.condition
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [18, 3] : tensor<54xi32> into tensor<18x3xi32>
// CHECK-NOT: linalg.matmul
// CHECK-NOT: linalg.fill
// CHECK-NOT: sparse_enc.
func.func @dcsr_bytes_matmul(%v: tensor<11xi8>, %d: tensor<11xi8>, %mn: tensor<2xi8>, %ro: tensor<3xi16>, %nz: tensor<1xi32>, %x: tensor<18x40xi8>) -> tensor<18x3xi32> {
  %w = sparse_enc.assemble (%v, %d, %mn, %ro, %nz) : (tensor<11xi8>, tensor<11xi8>, tensor<2xi8>, tensor<3xi16>, tensor<1xi32>) -> tensor<3x40xi8, #DCSR8>
  %e = tensor.empty() : tensor<18x3xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<18x3xi32>) -> tensor<18x3xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<18x40xi8>, tensor<3x40xi8, #DCSR8>) outs(%f : tensor<18x3xi32>) -> tensor<18x3xi32>
  return %r : tensor<18x3xi32>
}

// -----

// 4-bit dCSR (the paper's layout): the matvec's one loop over the groups of
// all rows, with 3 accumulators (3 pixels) at the end of its state; each
// group's nibbles, extension masks and minimum are decoded once, then one
// gather per pixel. Y starts from its own values (no fill): a row's sums
// start from Y and go back to it; no final store.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#DCSR = #sparse_enc.dcsr<group = 16>

// CHECK-LABEL: func.func @dcsr_4bit_matmul
// CHECK-SAME: %[[Y:[a-z0-9]+]]: tensor<3x2xi32>
// CHECK: %[[Y1:.*]] = tensor.collapse_shape %[[Y]] {{\[\[}}0, 1]] : tensor<3x2xi32> into tensor<6xi32>
// CHECK: scf.while {{.*}} -> (tensor<6xi32>, index, index, !llvm.ptr, index, vector<16xi8>, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, vector<16xi8>, i32, i32, i32, i32)
// CHECK: tensor.extract %{{.*}} : tensor<6xi32>
// CHECK: vector.bitcast %{{.*}} : vector<1xi16> to vector<16xi1>
// CHECK: llvm.intr.masked.load
// CHECK-COUNT-3: llvm.intr.masked.gather
// CHECK-NOT: llvm.intr.masked.gather
// CHECK: tensor.expand_shape
// CHECK-NOT: sparse_enc.
func.func @dcsr_4bit_matmul(%v: tensor<11xi8>, %d: tensor<16xi8>, %mn: tensor<2xi8>, %mp: tensor<1xi8>, %mk: tensor<2xi16>, %ro: tensor<2xi16>, %nz: tensor<1xi32>, %x: tensor<3x40xi8>, %y: tensor<3x2xi32>) -> tensor<3x2xi32> {
  %w = sparse_enc.assemble (%v, %d, %mn, %mp, %mk, %ro, %nz) : (tensor<11xi8>, tensor<16xi8>, tensor<2xi8>, tensor<1xi8>, tensor<2xi16>, tensor<2xi16>, tensor<1xi32>) -> tensor<2x40xi8, #DCSR>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<3x40xi8>, tensor<2x40xi8, #DCSR>) outs(%y : tensor<3x2xi32>) -> tensor<3x2xi32>
  return %r : tensor<3x2xi32>
}

// -----

// sparse-enc-matmul-to-matvec keeps int8 dCSR layers whole on cortex-m55
// (marked sparse_enc.batched), both delta widths; a GS layer has no batched
// kernel and becomes matvecs; on rv32 targets every layer does.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @layers
// KEEP-LABEL: func.func @layers
// KEEP: linalg.matmul indexing_maps = {{.*}} {sparse_enc.batched} ins(%{{.*}}, %{{.*}} : tensor<6x32xi8>, tensor<4x32xi8, #sparse_enc.dcsr<>>)
// KEEP: linalg.matmul indexing_maps = {{.*}} {sparse_enc.batched} ins(%{{.*}}, %{{.*}} : tensor<6x32xi8>, tensor<4x32xi8, #sparse_enc.dcsr<delta_bits = 8>>)
// KEEP-NOT: linalg.matmul
// KEEP: linalg.matvec ins(%{{.*}}, %{{.*}} : tensor<4x32xi8, #sparse_enc.gs<lanes = 4>>, tensor<32xi8>)
// SPLIT-LABEL: func.func @layers
// SPLIT-NOT: linalg.matmul
// SPLIT-COUNT-3: linalg.matvec
func.func @layers(%x: tensor<6x32xi8>, %y: tensor<6x4xi32>) -> (tensor<6x4xi32>, tensor<6x4xi32>, tensor<6x4xi32>) {
  %w4 = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.layout = #sparse_enc.dcsr<group = 16>} dense<1> : tensor<4x32xi8>
  %w8 = arith.constant {mcusparse.layer = 1 : i64, sparse_enc.layout = #sparse_enc.dcsr<group = 16, delta_bits = 8>} dense<1> : tensor<4x32xi8>
  %wg = arith.constant {mcusparse.layer = 2 : i64, sparse_enc.layout = #sparse_enc.gs<lanes = 4>} dense<1> : tensor<4x32xi8>
  %a = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w4 : tensor<6x32xi8>, tensor<4x32xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  %b = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w8 : tensor<6x32xi8>, tensor<4x32xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  %c = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %wg : tensor<6x32xi8>, tensor<4x32xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  return %a, %b, %c : tensor<6x4xi32>, tensor<6x4xi32>, tensor<6x4xi32>
}
