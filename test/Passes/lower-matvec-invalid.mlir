// RUN: sparse-opt %s --split-input-file --sparse-enc-lower-matvec --verify-diagnostics

func.func @not_assembled(%w: tensor<3x8xi8, #sparse_enc.csr<>>, %x: tensor<8xi8>, %y: tensor<3xi32>) -> tensor<3xi32> {
  // expected-error @+1 {{the encoded weight must come from sparse_enc.assemble}}
  %r = linalg.matvec ins(%w, %x : tensor<3x8xi8, #sparse_enc.csr<>>, tensor<8xi8>) outs(%y : tensor<3xi32>) -> tensor<3xi32>
  return %r : tensor<3xi32>
}

// -----

func.func @mixed_types(%w: tensor<3x8xi8>, %x: tensor<8xf32>, %y: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{supports integer weights and activations}}
  %r = linalg.matvec ins(%w, %x : tensor<3x8xi8>, tensor<8xf32>) outs(%y : tensor<3xf32>) -> tensor<3xf32>
  return %r : tensor<3xf32>
}

// -----

func.func @dynamic(%w: tensor<?x8xi8>, %x: tensor<8xi8>, %y: tensor<?xi32>) -> tensor<?xi32> {
  // expected-error @+1 {{needs static shapes}}
  %r = linalg.matvec ins(%w, %x : tensor<?x8xi8>, tensor<8xi8>) outs(%y : tensor<?xi32>) -> tensor<?xi32>
  return %r : tensor<?xi32>
}
