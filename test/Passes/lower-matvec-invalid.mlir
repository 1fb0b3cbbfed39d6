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

// -----

// A dCSR (or N:M) layer matmul has a batched kernel on cortex-m55 and
// rv32gcv only (here the generic target): elsewhere
// sparse-enc-matmul-to-matvec splits it first.
#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#DCSR8 = #sparse_enc.dcsr<group = 16, delta_bits = 8>
func.func @dcsr_matmul_generic(%v: tensor<3xi8>, %d: tensor<3xi8>, %mn: tensor<1xi8>, %ro: tensor<2xi16>, %nz: tensor<1xi32>, %x: tensor<5x40xi8>, %y: tensor<5x2xi32>) -> tensor<5x2xi32> {
  %w = sparse_enc.assemble (%v, %d, %mn, %ro, %nz) : (tensor<3xi8>, tensor<3xi8>, tensor<1xi8>, tensor<2xi16>, tensor<1xi32>) -> tensor<2x40xi8, #DCSR8>
  // expected-error @+1 {{the batched dCSR and N:M kernels need target cortex-m55 (int8 weights and activations, dCSR in groups of 16, N:M with 2- or 4-bit fields), rv32imc (N:M) or rv32gcv (int8 N:M, GS and dCSR), and an i32 accumulator}}
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<5x40xi8>, tensor<2x40xi8, #DCSR8>) outs(%y : tensor<5x2xi32>) -> tensor<5x2xi32>
  return %r : tensor<5x2xi32>
}

// -----

// GS has no batched layer kernel.
#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#GS = #sparse_enc.gs<lanes = 4>
func.func @gs_matmul(%w: tensor<4x8xi8, #GS>, %x: tensor<5x8xi8>, %y: tensor<5x4xi32>) -> tensor<5x4xi32> {
  // expected-error @+1 {{lowering linalg.matmul over #sparse_enc.gs is not implemented for target 'generic' (csr, dcsr with int8 groups of 16 and int8 nm with 2- or 4-bit fields have batched kernels, and on rv32imc nm and dcsr; run sparse-enc-matmul-to-matvec)}}
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<5x8xi8>, tensor<4x8xi8, #GS>) outs(%y : tensor<5x4xi32>) -> tensor<5x4xi32>
  return %r : tensor<5x4xi32>
}
