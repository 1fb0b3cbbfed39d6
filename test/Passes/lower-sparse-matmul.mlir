// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec{target=cortex-m55}, canonicalize)' | FileCheck %s
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-matmul-to-matvec{target=cortex-m55}, sparse-enc-attach-layouts)' | FileCheck %s --check-prefix=KEEP
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-matmul-to-matvec{target=rv32gcv})' | FileCheck %s --check-prefix=SPLIT
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-matmul-to-matvec{target=rv32imc})' | FileCheck %s --check-prefix=SCALAR

// dCSR layer matmul Y[P, O] += X[P, K] x W[O, K]^T on cortex-m55
// (passes/lower/LowerSparseMatmul.cpp): blocks of 16 pixels, then one block
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
// (marked sparse_enc.batched), both delta widths, and N:M ones with 2- or
// 4-bit fields (1:16 here); a 1:8 layer (3-bit fields) and a GS layer have no
// batched kernel and become matvecs; on rv32gcv all five stay whole (the
// int8 N:M and GS ones rows in lanes, nm-batched-rvv.mlir; the dCSR ones
// the row loops of this file, dcsr-batched-rvv.mlir); rv32imc
// keeps the N:M layers of any field width (the scalar kernel,
// lower-sparse-matmul-rv32imc.mlir) and the dCSR ones (scalar rows,
// dcsrRowsScalar, dcsrBytesRowsScalar) and splits the GS one.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @layers
// KEEP-LABEL: func.func @layers
// KEEP: linalg.matmul indexing_maps = {{.*}} {sparse_enc.batched} ins(%{{.*}}, %{{.*}} : tensor<6x32xi8>, tensor<4x32xi8, #sparse_enc.dcsr<>>)
// KEEP: linalg.matmul indexing_maps = {{.*}} {sparse_enc.batched} ins(%{{.*}}, %{{.*}} : tensor<6x32xi8>, tensor<4x32xi8, #sparse_enc.dcsr<delta_bits = 8>>)
// KEEP: linalg.matvec ins(%{{.*}}, %{{.*}} : tensor<4x32xi8, #sparse_enc.gs<lanes = 4>>, tensor<32xi8>)
// KEEP: linalg.matmul indexing_maps = {{.*}} {sparse_enc.batched} ins(%{{.*}}, %{{.*}} : tensor<6x32xi8>, tensor<4x32xi8, #sparse_enc.nm<n = 1, m = 16>>)
// KEEP-NOT: linalg.matmul
// KEEP: linalg.matvec ins(%{{.*}}, %{{.*}} : tensor<4x32xi8, #sparse_enc.nm<n = 1, m = 8>>, tensor<32xi8>)
// KEEP-NOT: linalg.matmul
// SPLIT-LABEL: func.func @layers
// SPLIT-COUNT-5: linalg.matmul indexing_maps = {{.*}} {sparse_enc.batched} ins(%{{.*}}, %{{.*}} : tensor<6x32xi8>, tensor<4x32xi8>)
// SPLIT-NOT: linalg.matvec
// SCALAR-LABEL: func.func @layers
// SCALAR: linalg.matmul indexing_maps = {{.*}} {sparse_enc.batched} ins(%{{.*}}, %{{.*}} : tensor<6x32xi8>, tensor<4x32xi8>)
// SCALAR: linalg.matmul indexing_maps = {{.*}} {sparse_enc.batched} ins(%{{.*}}, %{{.*}} : tensor<6x32xi8>, tensor<4x32xi8>)
// SCALAR: linalg.matvec
// SCALAR: linalg.matmul indexing_maps = {{.*}} {sparse_enc.batched} ins(%{{.*}}, %{{.*}} : tensor<6x32xi8>, tensor<4x32xi8>)
// SCALAR: linalg.matmul indexing_maps = {{.*}} {sparse_enc.batched} ins(%{{.*}}, %{{.*}} : tensor<6x32xi8>, tensor<4x32xi8>)
// SCALAR-NOT: linalg.matvec
func.func @layers(%x: tensor<6x32xi8>, %y: tensor<6x4xi32>) -> (tensor<6x4xi32>, tensor<6x4xi32>, tensor<6x4xi32>, tensor<6x4xi32>, tensor<6x4xi32>) {
  %w4 = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.layout = #sparse_enc.dcsr<group = 16>} dense<1> : tensor<4x32xi8>
  %w8 = arith.constant {mcusparse.layer = 1 : i64, sparse_enc.layout = #sparse_enc.dcsr<group = 16, delta_bits = 8>} dense<1> : tensor<4x32xi8>
  %wg = arith.constant {mcusparse.layer = 2 : i64, sparse_enc.layout = #sparse_enc.gs<lanes = 4>} dense<1> : tensor<4x32xi8>
  %w16 = arith.constant {mcusparse.layer = 3 : i64, sparse_enc.layout = #sparse_enc.nm<n = 1, m = 16>} dense<[[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]> : tensor<4x32xi8>
  %w18 = arith.constant {mcusparse.layer = 4 : i64, sparse_enc.layout = #sparse_enc.nm<n = 1, m = 8>} dense<[[1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]> : tensor<4x32xi8>
  %a = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w4 : tensor<6x32xi8>, tensor<4x32xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  %b = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w8 : tensor<6x32xi8>, tensor<4x32xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  %c = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %wg : tensor<6x32xi8>, tensor<4x32xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  %d = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w16 : tensor<6x32xi8>, tensor<4x32xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  %g = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w18 : tensor<6x32xi8>, tensor<4x32xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  return %a, %b, %c, %d, %g : tensor<6x4xi32>, tensor<6x4xi32>, tensor<6x4xi32>, tensor<6x4xi32>, tensor<6x4xi32>
}

// -----

// N:M with 4-bit fields (1:16): the byte-lane kernel's row loop over W with
// one accumulator per pixel (18 pixels: a block of 16, then one of 2). A
// step unpacks its 16 offsets once (the 8 offset bytes widened, shifted,
// ORed, masked, the block starts added) and reads the values once; each
// pixel gathers X at its own row of X (base p0 * K + q * K) with those
// offsets. 256 columns: 16 fields per row, one step.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#NM = #sparse_enc.nm<n = 1, m = 16>

// CHECK-LABEL: func.func @nm_matmul
// KEEP-LABEL: func.func @nm_matmul
// CHECK: %[[X1:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<18x256xi8> into tensor<4608xi8>
// CHECK: scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (tensor<36xi32>)
// CHECK: arith.extui %{{.*}} : vector<8xi8> to vector<8xi16>
// CHECK: %[[F:.*]] = vector.bitcast %{{.*}} : vector<8xi16> to vector<16xi8>
// CHECK: arith.addi %[[F]], %{{.*}} : vector<16xi8>
// CHECK-COUNT-16: vector.gather %[[X1]][%{{.*}}] [%{{.*}}], %{{.*}}, %{{.*}} : tensor<4608xi8>
// CHECK-COUNT-16: tensor.insert
// The block of 2 pixels.
// CHECK: arith.extui %{{.*}} : vector<8xi8> to vector<8xi16>
// CHECK-COUNT-2: vector.gather %[[X1]]
// CHECK: tensor.expand_shape
// CHECK-NOT: linalg.matmul
// CHECK-NOT: sparse_enc.
func.func @nm_matmul(%v: tensor<32xi8>, %o: tensor<16xi8>, %x: tensor<18x256xi8>) -> tensor<18x2xi32> {
  %w = sparse_enc.assemble (%v, %o) : (tensor<32xi8>, tensor<16xi8>) -> tensor<2x256xi8, #NM>
  %e = tensor.empty() : tensor<18x2xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<18x2xi32>) -> tensor<18x2xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<18x256xi8>, tensor<2x256xi8, #NM>) outs(%f : tensor<18x2xi32>) -> tensor<18x2xi32>
  return %r : tensor<18x2xi32>
}
