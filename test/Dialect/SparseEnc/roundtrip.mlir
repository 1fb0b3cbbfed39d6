// RUN: sparse-opt %s --split-input-file | FileCheck %s
// RUN: sparse-opt %s --split-input-file --mlir-print-op-generic | sparse-opt --split-input-file | FileCheck %s

// Every encoding parses with and without its defaults and prints in the
// short form (defaults elided).

// CHECK-LABEL: func.func @csr
// CHECK-SAME: tensor<4x8xi8, #sparse_enc.csr<>>
// CHECK-SAME: tensor<4x8xi8, #sparse_enc.csr<crd_bits = 8>>
// CHECK-SAME: tensor<4x8xf32, #sparse_enc.csr<crd_bits = 32, pos_bits = 32>>
func.func @csr(%a: tensor<4x8xi8, #sparse_enc.csr<crd_bits = 16, pos_bits = 16>>,
               %b: tensor<4x8xi8, #sparse_enc.csr<crd_bits = 8>>,
               %c: tensor<4x8xf32, #sparse_enc.csr<pos_bits = 32, crd_bits = 32>>) {
  return
}

// -----

// CHECK-LABEL: func.func @dcsr
// CHECK-SAME: tensor<64x64xi8, #sparse_enc.dcsr<>>
// CHECK-SAME: tensor<64x64xi16, #sparse_enc.dcsr<group = 8>>
// CHECK-SAME: tensor<64x64xf32, #sparse_enc.dcsr<group = 4>>
// CHECK-SAME: tensor<64x600xi8, #sparse_enc.dcsr<delta_bits = 8>>
func.func @dcsr(%a: tensor<64x64xi8, #sparse_enc.dcsr<group = 16>>,
                %b: tensor<64x64xi16, #sparse_enc.dcsr<group = 8>>,
                %c: tensor<64x64xf32, #sparse_enc.dcsr<group = 4>>,
                %d: tensor<64x600xi8, #sparse_enc.dcsr<group = 16, delta_bits = 8>>) {
  return
}

// -----

// CHECK-LABEL: func.func @nm
// CHECK-SAME: tensor<8x16xi8, #sparse_enc.nm<n = 1, m = 8>>
// CHECK-SAME: tensor<8x16xi8, #sparse_enc.nm<n = 2, m = 4>>
// CHECK-SAME: tensor<8x32xf32, #sparse_enc.nm<n = 3, m = 16>>
func.func @nm(%a: tensor<8x16xi8, #sparse_enc.nm<n = 1, m = 8>>,
              %b: tensor<8x16xi8, #sparse_enc.nm<n = 2, m = 4>>,
              %c: tensor<8x32xf32, #sparse_enc.nm<n = 3, m = 16>>) {
  return
}

// -----

// CHECK-LABEL: func.func @gs
// CHECK-SAME: tensor<32x100xi8, #sparse_enc.gs<>>
// CHECK-SAME: tensor<30x100xi8, #sparse_enc.gs<lanes = 8>>
// CHECK-SAME: tensor<?x?xf32, #sparse_enc.gs<lanes = 4>>
func.func @gs(%a: tensor<32x100xi8, #sparse_enc.gs<lanes = 16>>,
              %b: tensor<30x100xi8, #sparse_enc.gs<lanes = 8>>,
              %c: tensor<?x?xf32, #sparse_enc.gs<lanes = 4>>) {
  return
}

// -----

#CSR = #sparse_enc.csr<>

// CHECK-LABEL: func.func @assemble_and_buffer
// CHECK: %[[W:.*]] = sparse_enc.assemble(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<6xi8>, tensor<6xi16>, tensor<5xi16>) -> tensor<4x8xi8, #sparse_enc.csr<>>
// CHECK: sparse_enc.buffer %[[W]]["col_idx"] : tensor<4x8xi8, #sparse_enc.csr<>> -> tensor<6xi16>
func.func @assemble_and_buffer(%v: tensor<6xi8>, %c: tensor<6xi16>, %r: tensor<5xi16>) -> tensor<6xi16> {
  %w = sparse_enc.assemble (%v, %c, %r) : (tensor<6xi8>, tensor<6xi16>, tensor<5xi16>) -> tensor<4x8xi8, #CSR>
  %crd = sparse_enc.buffer %w["col_idx"] : tensor<4x8xi8, #CSR> -> tensor<6xi16>
  return %crd : tensor<6xi16>
}

// -----

// CHECK-LABEL: func.func @cse_csr
// CHECK-SAME: tensor<4x4xi8, #sparse_enc.cse_csr<>>
// CHECK-SAME: tensor<8x700xf32, #sparse_enc.cse_csr<pos_bits = 32>>
func.func @cse_csr(%a: tensor<4x4xi8, #sparse_enc.cse_csr<pos_bits = 16>>,
                   %b: tensor<8x700xf32, #sparse_enc.cse_csr<pos_bits = 32>>) {
  return
}
