// RUN: sparse-opt %s --split-input-file --sparse-enc-lower-matvec=target=rv32imc --verify-diagnostics

// rv32imc has batched layer kernels for dense, CSR, N:M and byte-delta dCSR
// weights only: a 4-bit dCSR layer matmul must be split by
// sparse-enc-matmul-to-matvec first.
#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#DCSR = #sparse_enc.dcsr<group = 16>
func.func @dcsr_matmul_rv32imc(%v: tensor<11xi8>, %d: tensor<16xi8>, %mn: tensor<2xi8>, %mp: tensor<1xi8>, %mk: tensor<2xi16>, %ro: tensor<2xi16>, %nz: tensor<1xi32>, %x: tensor<5x40xi8>, %y: tensor<5x2xi32>) -> tensor<5x2xi32> {
  %w = sparse_enc.assemble (%v, %d, %mn, %mp, %mk, %ro, %nz) : (tensor<11xi8>, tensor<16xi8>, tensor<2xi8>, tensor<1xi8>, tensor<2xi16>, tensor<2xi16>, tensor<1xi32>) -> tensor<2x40xi8, #DCSR>
  // expected-error @+1 {{lowering linalg.matmul over #sparse_enc.dcsr is not implemented for target 'rv32imc' (csr, dcsr with int8 groups of 16 and int8 nm with 2- or 4-bit fields have batched kernels, and on rv32imc nm and dcsr with byte deltas; run sparse-enc-matmul-to-matvec)}}
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<5x40xi8>, tensor<2x40xi8, #DCSR>) outs(%y : tensor<5x2xi32>) -> tensor<5x2xi32>
  return %r : tensor<5x2xi32>
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
