// RUN: sparse-opt %s --split-input-file --sparse-enc-pack-constants --verify-diagnostics | FileCheck %s
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-pack-constants, canonicalize)' --verify-diagnostics | FileCheck %s --check-prefix=FOLD

// CSR: nonzeros in row-major order, 16-bit column indices, rows + 1 row pointers.

#CSR = #sparse_enc.csr<>

// CHECK-LABEL: func.func @csr
// CHECK-DAG: %[[VALUES:.*]] = arith.constant dense<[3, -7, 5]> : tensor<3xi8>
// CHECK-DAG: %[[COLS:.*]] = arith.constant dense<[1, 0, 3]> : tensor<3xi16>
// CHECK-DAG: %[[ROWS:.*]] = arith.constant dense<[0, 1, 1, 3]> : tensor<4xi16>
// CHECK: %[[W:.*]] = sparse_enc.assemble(%[[VALUES]], %[[COLS]], %[[ROWS]]) : (tensor<3xi8>, tensor<3xi16>, tensor<4xi16>) -> tensor<3x4xi8, #sparse_enc.csr<>>
// CHECK-NOT: arith.constant dense<{{.*}}> : tensor<3x4xi8
// CHECK: return %[[W]]
func.func @csr() -> tensor<3x4xi8, #CSR> {
  %w = arith.constant dense<[[0, 3, 0, 0], [0, 0, 0, 0], [-7, 0, 0, 5]]> : tensor<3x4xi8, #CSR>
  return %w : tensor<3x4xi8, #CSR>
}

// -----

// After canonicalization a buffer read folds to the packed constant.

#CSR8 = #sparse_enc.csr<crd_bits = 8>

// FOLD-LABEL: func.func @csr_buffer_folds
// FOLD: %[[COLS:.*]] = arith.constant dense<[2, 1]> : tensor<2xi8>
// FOLD-NOT: sparse_enc.buffer
// FOLD: return %[[COLS]]
func.func @csr_buffer_folds() -> tensor<2xi8> {
  %w = arith.constant dense<[[0.0, 0.0, 1.5], [0.0, -2.0, 0.0]]> : tensor<2x3xf32, #CSR8>
  %cols = sparse_enc.buffer %w["col_idx"] : tensor<2x3xf32, #CSR8> -> tensor<2xi8>
  return %cols : tensor<2xi8>
}

// -----

// Constants without a sparse_enc encoding are left alone.

// CHECK-LABEL: func.func @dense_untouched
// CHECK: arith.constant dense<{{\[}}[1, 0], [0, 2]]> : tensor<2x2xi8>
// CHECK-NOT: sparse_enc.assemble
func.func @dense_untouched() -> tensor<2x2xi8> {
  %w = arith.constant dense<[[1, 0], [0, 2]]> : tensor<2x2xi8>
  return %w : tensor<2x2xi8>
}

// -----

// N:M 1:4 on 2x8: one slot per block of four, 2-bit offsets packed LSB-first
// in 32-bit words, each row starting a new word. An empty block keeps a zero
// at offset 0.

#NM = #sparse_enc.nm<n = 1, m = 4>

// CHECK-LABEL: func.func @nm
// CHECK-DAG: %[[VALUES:.*]] = arith.constant dense<[5, -3, 0, 9]> : tensor<4xi8>
// Row 0: offsets 2, 3 -> word 0b1110 = 14; row 1: offsets 0, 1 -> 0b0100 = 4.
// CHECK-DAG: %[[OFFSETS:.*]] = arith.constant dense<[14, 0, 0, 0, 4, 0, 0, 0]> : tensor<8xi8>
// CHECK: sparse_enc.assemble(%[[VALUES]], %[[OFFSETS]]) : (tensor<4xi8>, tensor<8xi8>) -> tensor<2x8xi8, #sparse_enc.nm<n = 1, m = 4>>
// CHECK-NOT: tensor<2x8xi8, #sparse_enc.nm<n = 1, m = 4>> = arith.constant
func.func @nm() -> tensor<2x8xi8, #NM> {
  %w = arith.constant dense<[[0, 0, 5, 0, 0, 0, 0, -3], [0, 0, 0, 0, 0, 9, 0, 0]]> : tensor<2x8xi8, #NM>
  return %w : tensor<2x8xi8, #NM>
}

// -----

#NM = #sparse_enc.nm<n = 1, m = 4>

func.func @nm_too_many_nonzeros() -> tensor<2x8xi8, #NM> {
  // expected-error @+1 {{does not fit #sparse_enc.nm<n = 1, m = 4>: row 1, block 1 (columns 4..7) has 2 nonzeros}}
  %w = arith.constant dense<[[0, 0, 5, 0, 0, 0, 0, -3], [0, 0, 0, 0, 1, 9, 0, 0]]> : tensor<2x8xi8, #NM>
  return %w : tensor<2x8xi8, #NM>
}

// -----

// GS with 4 lanes on 3x5: one group (the fourth lane is padding), as many
// steps as the longest row (2); short lanes hold zero at column 0. 8-bit
// column indices because the rows have at most 256 columns.

#GS = #sparse_enc.gs<lanes = 4>

// CHECK-LABEL: func.func @gs
// CHECK-DAG: %[[VALUES:.*]] = arith.constant dense<[1, 3, 0, 0, 2, 0, 0, 0]> : tensor<8xi8>
// CHECK-DAG: %[[COLS:.*]] = arith.constant dense<[0, 4, 0, 0, 3, 0, 0, 0]> : tensor<8xi8>
// CHECK-DAG: %[[COUNTS:.*]] = arith.constant dense<2> : tensor<1xi16>
// CHECK: sparse_enc.assemble(%[[VALUES]], %[[COLS]], %[[COUNTS]])
func.func @gs() -> tensor<3x5xi8, #GS> {
  %w = arith.constant dense<[[1, 0, 0, 2, 0], [0, 0, 0, 0, 3], [0, 0, 0, 0, 0]]> : tensor<3x5xi8, #GS>
  return %w : tensor<3x5xi8, #GS>
}

// -----

#CSR = #sparse_enc.csr<>

func.func @not_a_dense_literal() -> tensor<2x2xi8, #CSR> {
  // expected-error @+1 {{an encoded weight constant must be a dense literal of static shape to be packed}}
  %w = arith.constant dense_resource<blob> : tensor<2x2xi8, #CSR>
  return %w : tensor<2x2xi8, #CSR>
}

{-#
  dialect_resources: {
    builtin: {
      blob: "0x0100000001000000"
    }
  }
#-}
