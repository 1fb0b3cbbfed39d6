// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec{target=rv32imc}, canonicalize)' | FileCheck %s

// N:M layer matmul on rv32imc (passes/lower/LowerSparseMatmul.cpp,
// nmRowsScalar in LowerNM.cpp): blocks of 8 pixels (10 pixels: 8, then 2).
// Per row, a loop over the full offset words carries one scalar accumulator
// per pixel; each field's 3-bit offset is unpacked (shift, and 7) and its
// value read once, then each pixel reads its own X byte (X collapsed to 1-D,
// pixel q at q * 256) and multiply-adds. No vector gathers: scalar code.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#NM = #sparse_enc.nm<n = 1, m = 8>

// CHECK-LABEL: func.func @nm_matmul_scalar
// CHECK: %[[X1:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<10x256xi8> into tensor<2560xi8>
// The block of 8 pixels: 3 full words of 10 fields in a loop.
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args({{.*}}) -> (i32, i32, i32, i32, i32, i32, i32, i32)
// CHECK: vector.bitcast %{{.*}} {sparse_enc.aligned_word} : vector<4xi8> to vector<1xi32>
// CHECK: arith.andi %{{.*}}, %c7_i32 : i32
// CHECK: tensor.extract %arg0[%{{.*}}] : tensor<64xi8>
// CHECK-COUNT-8: tensor.extract %[[X1]][%{{.*}}] : tensor<2560xi8>
// CHECK: arith.shrui %{{.*}}, %c3_i32 : i32
// CHECK-COUNT-8: tensor.insert
// The block of 2 pixels.
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args({{.*}}) -> (i32, i32)
// CHECK: tensor.expand_shape
// CHECK-NOT: vector.gather
// CHECK-NOT: linalg.matmul
// CHECK-NOT: sparse_enc.assemble
func.func @nm_matmul_scalar(%v: tensor<64xi8>, %o: tensor<32xi8>, %x: tensor<10x256xi8>) -> tensor<10x2xi32> {
  %w = sparse_enc.assemble (%v, %o) : (tensor<64xi8>, tensor<32xi8>) -> tensor<2x256xi8, #NM>
  %e = tensor.empty() : tensor<10x2xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<10x2xi32>) -> tensor<10x2xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<10x256xi8>, tensor<2x256xi8, #NM>) outs(%f : tensor<10x2xi32>) -> tensor<10x2xi32>
  return %r : tensor<10x2xi32>
}

// -----

// Dense layer matmul on rv32imc (passes/lower/LowerDenseMatmul.cpp): blocks
// of 4 pixels x 3 rows of W, one column per step: 4 + 3 byte reads and 12
// scalar multiply-adds (no vector ops). 6 pixels: a block of 4, then 2; 7
// rows: blocks of 3, then one row at a time.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @dense_matmul_scalar
// CHECK: scf.for %{{.*}} = %c0 to %c6 step %c3
// CHECK: scf.for %{{.*}} = %c0 to %c40 step %c1 iter_args({{.*}}) -> (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32)
// CHECK-COUNT-7: tensor.extract
// CHECK-COUNT-12: arith.muli
// CHECK-NOT: vector.
// CHECK: return
func.func @dense_matmul_scalar(%x: tensor<6x40xi8>, %w: tensor<7x40xi8>, %y: tensor<6x7xi32>) -> tensor<6x7xi32> {
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y] {sparse_enc.batched}
      ins(%x, %w : tensor<6x40xi8>, tensor<7x40xi8>) outs(%y : tensor<6x7xi32>) -> tensor<6x7xi32>
  return %r : tensor<6x7xi32>
}

// -----

// CSR layer matmul on rv32imc (passes/lower/LowerSpMM.cpp,
// lowerCSRMatmulScalar): blocks of 16 pixels (18: 16, then 2); per row an
// entry loop carries one scalar accumulator per pixel; each entry's value
// and column index are read once, then each pixel reads its X byte at its
// own row of X (base p0 * K + q * K + column).

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#CSR = #sparse_enc.csr<crd_bits = 8>

// CHECK-LABEL: func.func @csr_matmul_scalar
// CHECK: %[[X1:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<18x40xi8> into tensor<720xi8>
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1 iter_args({{.*}}) -> (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32)
// CHECK: tensor.extract %arg0[%{{.*}}] : tensor<5xi8>
// CHECK: tensor.extract %arg1[%{{.*}}] : tensor<5xi8>
// CHECK-COUNT-16: tensor.extract %[[X1]][%{{.*}}] : tensor<720xi8>
// The block of 2 pixels.
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1 iter_args({{.*}}) -> (i32, i32)
// CHECK: tensor.expand_shape
// CHECK-NOT: vector.
// CHECK-NOT: linalg.matmul
func.func @csr_matmul_scalar(%v: tensor<5xi8>, %c: tensor<5xi8>, %rp: tensor<4xi16>, %x: tensor<18x40xi8>) -> tensor<18x3xi32> {
  %w = sparse_enc.assemble (%v, %c, %rp) : (tensor<5xi8>, tensor<5xi8>, tensor<4xi16>) -> tensor<3x40xi8, #CSR>
  %e = tensor.empty() : tensor<18x3xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<18x3xi32>) -> tensor<18x3xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<18x40xi8>, tensor<3x40xi8, #CSR>) outs(%f : tensor<18x3xi32>) -> tensor<18x3xi32>
  return %r : tensor<18x3xi32>
}

// -----

// dCSR with byte deltas, layer matmul on rv32imc (LowerDCSRBytes.cpp,
// dcsrBytesRowsScalar): blocks of 16 pixels (18 pixels: 16, then 2). Per
// row, a loop over its groups carries one scalar accumulator per pixel and
// the group's base (+ its jump byte); per entry the column (base + delta
// byte) and the value are read once, then each pixel reads its own X byte
// (X collapsed to 1-D, pixel q at q * 40) and multiply-adds.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#DCSR8 = #sparse_enc.dcsr<group = 16, delta_bits = 8>

// CHECK-LABEL: func.func @dcsr_bytes_matmul_scalar
// CHECK: %[[X1:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<18x40xi8> into tensor<720xi8>
// CHECK: scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args({{.*}})
// CHECK: scf.for {{.*}} -> (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, index)
// CHECK: tensor.extract %arg2[%{{.*}}] : tensor<1xi8>
// CHECK: scf.for {{.*}} -> (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32)
// CHECK: tensor.extract %arg1[%{{.*}}] : tensor<3xi8>
// CHECK: tensor.extract %arg0[%{{.*}}] : tensor<3xi8>
// CHECK-COUNT-16: tensor.extract %[[X1]][%{{.*}}] : tensor<720xi8>
// CHECK-COUNT-16: tensor.insert
// The block of 2 pixels.
// CHECK: scf.for {{.*}} -> (i32, i32, index)
// CHECK: tensor.expand_shape
// CHECK-NOT: vector.
// CHECK-NOT: linalg.matmul
// CHECK-NOT: sparse_enc.assemble
func.func @dcsr_bytes_matmul_scalar(%v: tensor<3xi8>, %d: tensor<3xi8>, %j: tensor<1xi8>, %ro: tensor<2xi16>, %nz: tensor<1xi32>, %x: tensor<18x40xi8>) -> tensor<18x2xi32> {
  %w = sparse_enc.assemble (%v, %d, %j, %ro, %nz) : (tensor<3xi8>, tensor<3xi8>, tensor<1xi8>, tensor<2xi16>, tensor<1xi32>) -> tensor<2x40xi8, #DCSR8>
  %e = tensor.empty() : tensor<18x2xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<18x2xi32>) -> tensor<18x2xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<18x40xi8>, tensor<2x40xi8, #DCSR8>) outs(%f : tensor<18x2xi32>) -> tensor<18x2xi32>
  return %r : tensor<18x2xi32>
}

// -----

// 4-bit dCSR layer matmul on rv32imc (LowerDCSR.cpp, dcsrRowsScalar):
// blocks of 16 pixels (18 pixels: 16, then 2). The group loop carries one
// scalar accumulator per pixel, the group, the next extension mask and the
// base; it reads the group's map nibble and minimum and spreads its
// extension masks once, and the lane loop (a copy with bits 6/7 and one
// without) decodes each entry's column once, then each pixel reads its own
// X byte (pixel q at q * 40) and multiply-adds.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#DCSR = #sparse_enc.dcsr<group = 16>

// CHECK-LABEL: func.func @dcsr_matmul_scalar
// CHECK: %[[X1:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<18x40xi8> into tensor<720xi8>
// CHECK: scf.for {{.*}} -> (tensor<36xi32>, index, index, index)
// CHECK: scf.for {{.*}} -> (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, index, index, index)
// CHECK: tensor.extract %arg3[%{{.*}}] : tensor<1xi8>
// CHECK: tensor.extract %arg2[%{{.*}}] : tensor<2xi8>
// CHECK: tensor.extract %arg4[%{{.*}}] : tensor<2xi16>
// CHECK: scf.if {{.*}} -> (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32)
// CHECK: scf.for {{.*}} -> (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, index, i32, i32)
// CHECK: tensor.extract %arg1[%{{.*}}] : tensor<16xi8>
// CHECK: tensor.extract %arg0[%{{.*}}] : tensor<11xi8>
// CHECK-COUNT-16: tensor.extract %[[X1]][%{{.*}}] : tensor<720xi8>
// CHECK: } else {
// CHECK-COUNT-16: tensor.insert
// The block of 2 pixels.
// CHECK: scf.for {{.*}} -> (i32, i32, index, index, index)
// CHECK: tensor.expand_shape
// CHECK-NOT: vector.
// CHECK-NOT: linalg.matmul
// CHECK-NOT: sparse_enc.assemble
func.func @dcsr_matmul_scalar(%v: tensor<11xi8>, %d: tensor<16xi8>, %mn: tensor<2xi8>, %mp: tensor<1xi8>, %mk: tensor<2xi16>, %ro: tensor<2xi16>, %nz: tensor<1xi32>, %x: tensor<18x40xi8>) -> tensor<18x2xi32> {
  %w = sparse_enc.assemble (%v, %d, %mn, %mp, %mk, %ro, %nz) : (tensor<11xi8>, tensor<16xi8>, tensor<2xi8>, tensor<1xi8>, tensor<2xi16>, tensor<2xi16>, tensor<1xi32>) -> tensor<2x40xi8, #DCSR>
  %e = tensor.empty() : tensor<18x2xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<18x2xi32>) -> tensor<18x2xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<18x40xi8>, tensor<2x40xi8, #DCSR>) outs(%f : tensor<18x2xi32>) -> tensor<18x2xi32>
  return %r : tensor<18x2xi32>
}
