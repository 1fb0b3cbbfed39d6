// RUN: sparse-opt %s --split-input-file --sparse-enc-lower-matvec=target=rv32imc --verify-diagnostics

// rv32imc has batched layer kernels for dense, CSR, N:M and dCSR weights
// only: a GS layer matmul must be split by sparse-enc-matmul-to-matvec
// first.
#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#GS = #sparse_enc.gs<lanes = 4>
func.func @gs_matmul_rv32imc(%w: tensor<4x8xi8, #GS>, %x: tensor<5x8xi8>, %y: tensor<5x4xi32>) -> tensor<5x4xi32> {
  // expected-error @+1 {{lowering linalg.matmul over #sparse_enc.gs is not implemented for target 'rv32imc' (csr, dcsr with int8 groups of 16 and int8 nm with 2- or 4-bit fields have batched kernels, and on rv32imc nm and dcsr; run sparse-enc-matmul-to-matvec)}}
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<5x8xi8>, tensor<4x8xi8, #GS>) outs(%y : tensor<5x4xi32>) -> tensor<5x4xi32>
  return %r : tensor<5x4xi32>
}

// -----

// An N:M layer matmul with float weights has no scalar batched kernel.
#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#NM = #sparse_enc.nm<n = 1, m = 4>
func.func @nm_float_matmul_rv32imc(%v: tensor<2xf32>, %o: tensor<4xi8>, %x: tensor<3x8xf32>, %y: tensor<3x1xf32>) -> tensor<3x1xf32> {
  %w = sparse_enc.assemble (%v, %o) : (tensor<2xf32>, tensor<4xi8>) -> tensor<1x8xf32, #NM>
  // expected-error @+1 {{lowering linalg.matmul over #sparse_enc.nm is not implemented for target 'rv32imc'}}
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<3x8xf32>, tensor<1x8xf32, #NM>) outs(%y : tensor<3x1xf32>) -> tensor<3x1xf32>
  return %r : tensor<3x1xf32>
}
