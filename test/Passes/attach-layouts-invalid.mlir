// RUN: sparse-opt %s --split-input-file --sparse-enc-attach-layouts --verify-diagnostics

// The attribute must be a #sparse_enc layout.

func.func @not_a_layout(%x: tensor<16xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  // expected-error @+1 {{sparse_enc.layout must be a #sparse_enc layout, got 3 : i64}}
  %w = arith.constant {sparse_enc.layout = 3 : i64} dense<1> : tensor<2x16xi8>
  %r = linalg.matvec ins(%w, %x : tensor<2x16xi8>, tensor<16xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// -----

// An upstream tensor encoding is not one of ours.

func.func @sparse_tensor_encoding(%x: tensor<16xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  // expected-error @+1 {{sparse_enc.layout must be a #sparse_enc layout, got #sparse_tensor.encoding}}
  %w = arith.constant {sparse_enc.layout = #sparse_tensor.encoding<{map = (d0, d1) -> (d0 : dense, d1 : compressed)}>} dense<1> : tensor<2x16xi8>
  %r = linalg.matvec ins(%w, %x : tensor<2x16xi8>, tensor<16xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// -----

// Every user must be the matrix operand of a linalg.matvec: a matmul (the
// pass ran before sparse-enc-matmul-to-matvec) ...

func.func @used_by_matmul(%x: tensor<6x16xi8>, %y: tensor<6x2xi32>) -> tensor<6x2xi32> {
  // expected-error @+1 {{a weight with a sparse layout must be the matrix of linalg.matvec (run sparse-enc-matmul-to-matvec first); it is used by linalg.matmul}}
  %w = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.layout = #sparse_enc.csr<>} dense<1> : tensor<2x16xi8>
  %r = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%x, %w : tensor<6x16xi8>, tensor<2x16xi8>) outs(%y : tensor<6x2xi32>) -> tensor<6x2xi32>
  return %r : tensor<6x2xi32>
}

// -----

// ... or any other op.

func.func @returned() -> tensor<2x16xi8> {
  // expected-error @+1 {{it is used by func.return}}
  %w = arith.constant {sparse_enc.layout = #sparse_enc.csr<>} dense<1> : tensor<2x16xi8>
  return %w : tensor<2x16xi8>
}

// -----

// The attribute sits on a dense tensor literal without an encoding.

func.func @scalar() -> i32 {
  // expected-error @+1 {{a sparse_enc.layout must sit on a dense tensor literal without an encoding}}
  %w = arith.constant {sparse_enc.layout = #sparse_enc.csr<>} 1 : i32
  return %w : i32
}

// -----

func.func @already_encoded() -> tensor<2x16xi8, #sparse_enc.csr<>> {
  // expected-error @+1 {{a sparse_enc.layout must sit on a dense tensor literal without an encoding}}
  %w = arith.constant {sparse_enc.layout = #sparse_enc.csr<>} dense<1> : tensor<2x16xi8, #sparse_enc.csr<>>
  return %w : tensor<2x16xi8, #sparse_enc.csr<>>
}
