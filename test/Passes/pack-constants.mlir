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
