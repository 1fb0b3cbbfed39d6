// RUN: sparse-opt %s --split-input-file --sparse-enc-attach-layouts --verify-diagnostics


// The layout's verifier runs on the weight's shape: N:M needs a multiple of
// m columns.

func.func @nm_columns(%x: tensor<12xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  // expected-error @+1 {{innermost size 12 is not a multiple of m = 8}}
  %w = arith.constant {sparse_enc.layout = #sparse_enc.nm<n = 1, m = 8>} dense<1> : tensor<2x12xi8>
  %r = linalg.matvec ins(%w, %x : tensor<2x12xi8>, tensor<12xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// -----

// 8-bit CSR column indices reach 256 columns.

func.func @csr_crd_bits(%x: tensor<300xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  // expected-error @+1 {{crd_bits = 8 cannot index 300 columns}}
  %w = arith.constant {sparse_enc.layout = #sparse_enc.csr<crd_bits = 8>} dense<1> : tensor<2x300xi8>
  %r = linalg.matvec ins(%w, %x : tensor<2x300xi8>, tensor<300xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// -----

// A layout on a vector (rank 1) is rejected by the layout too.

func.func @rank1(%w: tensor<16x2xi8>, %y: tensor<16xi32>) -> tensor<16xi32> {
  // expected-error @+1 {{#sparse_enc.csr expects a rank-2 tensor (rows x columns), got rank 1}}
  %v = arith.constant {sparse_enc.layout = #sparse_enc.csr<>} dense<1> : tensor<2xi8>
  %r = linalg.matvec ins(%w, %v : tensor<16x2xi8>, tensor<2xi8>) outs(%y : tensor<16xi32>) -> tensor<16xi32>
  return %r : tensor<16xi32>
}
