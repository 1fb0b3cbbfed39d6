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

// dCSR, group 16 (the default, printed as dcsr<>), on 2x40 (no escapes).
// Row 0: columns 1, 3, 4, 9, 13, 22; n = 6, slope s = (40 + 3) / 6 = 7,
// a = col - 7*lane = [1, -4, -10, -12, -15, -13], base -15,
// deltas [16, 11, 5, 3, 0, 2].
// Row 1: columns 0, 1, 2, 31, 39; n = 5, s = 8, a = [0, -7, -14, 7, 7],
// base -14, deltas [14, 7, 0, 21, 21]. Nibble bytes pair row 0's group
// (upper) with row 1's (lower): 0x0E, 0xB7, 0x50, 0x35, 0x05, 0x20, 0, ...
// Delta bit 4 is set in lane 0 of group 0 (mask 1) and lanes 3, 4 of group 1
// (mask 24), so both maps are 1: byte 0x11. nnz 11, average 11 / 2 = 5.

#DCSR = #sparse_enc.dcsr<group = 16>

// CHECK-LABEL: func.func @dcsr
// CHECK-DAG: %[[VALUES:.*]] = arith.constant dense<[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]> : tensor<11xi8>
// CHECK-DAG: %[[NIBBLES:.*]] = arith.constant dense<[14, -73, 80, 53, 5, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]> : tensor<16xi8>
// CHECK-DAG: %[[MINIMUMS:.*]] = arith.constant dense<[-15, -14]> : tensor<2xi8>
// CHECK-DAG: %[[MAPS:.*]] = arith.constant dense<17> : tensor<1xi8>
// CHECK-DAG: %[[MASKS:.*]] = arith.constant dense<[1, 24]> : tensor<2xi16>
// CHECK-DAG: %[[OFFSETS:.*]] = arith.constant dense<[1, 0]> : tensor<2xi16>
// CHECK-DAG: %[[NNZ:.*]] = arith.constant dense<11> : tensor<1xi32>
// CHECK: sparse_enc.assemble(%[[VALUES]], %[[NIBBLES]], %[[MINIMUMS]], %[[MAPS]], %[[MASKS]], %[[OFFSETS]], %[[NNZ]]) : (tensor<11xi8>, tensor<16xi8>, tensor<2xi8>, tensor<1xi8>, tensor<2xi16>, tensor<2xi16>, tensor<1xi32>) -> tensor<2x40xi8, #sparse_enc.dcsr<>>
func.func @dcsr() -> tensor<2x40xi8, #DCSR> {
  %w = arith.constant dense<[[0, 1, 0, 2, 3, 0, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                             [7, 8, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 11]]> : tensor<2x40xi8, #DCSR>
  return %w : tensor<2x40xi8, #DCSR>
}

// -----

// dCSR with byte deltas (delta_bits = 8), the same matrix: each entry's
// offset from its group's first column, entry by entry (no slope, group
// padding, nibbles, maps or masks); the "minimums" are the uint8 jumps to
// each group's first column (here the rows' first columns, 1 and 0); row
// offsets and nnz as above.

#DCSR8 = #sparse_enc.dcsr<group = 16, delta_bits = 8>

// CHECK-LABEL: func.func @dcsr_bytes
// CHECK-DAG: %[[VALUES:.*]] = arith.constant dense<[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]> : tensor<11xi8>
// CHECK-DAG: %[[DELTAS:.*]] = arith.constant dense<[0, 2, 3, 8, 12, 21, 0, 1, 2, 31, 39]> : tensor<11xi8>
// CHECK-DAG: %[[MINIMUMS:.*]] = arith.constant dense<[1, 0]> : tensor<2xi8>
// CHECK-DAG: %[[OFFSETS:.*]] = arith.constant dense<[1, 0]> : tensor<2xi16>
// CHECK-DAG: %[[NNZ:.*]] = arith.constant dense<11> : tensor<1xi32>
// CHECK: sparse_enc.assemble(%[[VALUES]], %[[DELTAS]], %[[MINIMUMS]], %[[OFFSETS]], %[[NNZ]]) : (tensor<11xi8>, tensor<11xi8>, tensor<2xi8>, tensor<2xi16>, tensor<1xi32>) -> tensor<2x40xi8, #sparse_enc.dcsr<delta_bits = 8>>
// CHECK-NOT: arith.constant {{.*}} : tensor<2x40xi8
func.func @dcsr_bytes() -> tensor<2x40xi8, #DCSR8> {
  %w = arith.constant dense<[[0, 1, 0, 2, 3, 0, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                             [7, 8, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 11]]> : tensor<2x40xi8, #DCSR8>
  return %w : tensor<2x40xi8, #DCSR8>
}

// -----

// dCSR escapes on 2x256. Row 0 (columns 130, 255): s = 128, base
// min(130, 255 - 128) = 127 is one past the largest minimum code (126), so
// a zero goes into the largest gap (0..130) at 130 - 65 = 65. Then n = 3,
// s = 85, a = [65, 45, 85], base 45, deltas [20, 0, 40]: bit 4 in lane 0,
// bit 5 in lane 2 (masks 1, 4, map 3). Row 1 (one entry, column 200):
// s = 256 and base 200, too large; a single entry gets its zero at
// 200 / 2 = 100 before it. Then s = 128, a = [100, 72], deltas [28, 0]
// (mask 1, map 1). Nibbles: 0x4C, 0x00, 0x80; maps 0x31. (The literal has
// 32 columns per line.)

#DCSR = #sparse_enc.dcsr<group = 16>

// CHECK-LABEL: func.func @dcsr_escapes
// CHECK-DAG: %[[VALUES:.*]] = arith.constant dense<[0, 3, 4, 0, -5]> : tensor<5xi8>
// CHECK-DAG: %[[NIBBLES:.*]] = arith.constant dense<[76, 0, -128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]> : tensor<16xi8>
// CHECK-DAG: %[[MINIMUMS:.*]] = arith.constant dense<[45, 72]> : tensor<2xi8>
// CHECK-DAG: %[[MAPS:.*]] = arith.constant dense<49> : tensor<1xi8>
// CHECK-DAG: %[[MASKS:.*]] = arith.constant dense<[1, 4, 1]> : tensor<3xi16>
// CHECK-DAG: %[[OFFSETS:.*]] = arith.constant dense<[1, 0]> : tensor<2xi16>
// CHECK-DAG: %[[NNZ:.*]] = arith.constant dense<5> : tensor<1xi32>
// CHECK: sparse_enc.assemble(%[[VALUES]], %[[NIBBLES]], %[[MINIMUMS]], %[[MAPS]], %[[MASKS]], %[[OFFSETS]], %[[NNZ]])
func.func @dcsr_escapes() -> tensor<2x256xi8, #DCSR> {
  %w = arith.constant dense<[[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, -5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]> : tensor<2x256xi8, #DCSR>
  return %w : tensor<2x256xi8, #DCSR>
}

// -----

// CSE-CSR's subexpression search runs in Python: the pass takes the buffers
// it found from the constant's sparse_enc.buffers (docs/formats.md's
// example: t0 = 2*x0 - x2 added by rows 0, 1, 3 and subtracted by row 2)
// after decoding them and comparing with the weights.

#CSE = #sparse_enc.cse_csr<>

// CHECK-LABEL: func.func @cse_csr
// CHECK-DAG: %[[VALUES:.*]] = arith.constant dense<[5, 3]> : tensor<2xi8>
// CHECK-DAG: %[[COLS:.*]] = arith.constant dense<[3, 4, 4, 1, 5, 4]> : tensor<6xi16>
// CHECK-DAG: %[[ROWS:.*]] = arith.constant dense<[0, 2, 3, 5, 6]> : tensor<5xi16>
// CHECK-DAG: %[[OPS:.*]] = arith.constant dense<[0, 2]> : tensor<2xi16>
// CHECK-DAG: %[[COEF:.*]] = arith.constant dense<[2, -1]> : tensor<2xi8>
// CHECK: sparse_enc.assemble(%[[VALUES]], %[[COLS]], %[[ROWS]], %[[OPS]], %[[COEF]])
// CHECK-NOT: sparse_enc.buffers
func.func @cse_csr() -> tensor<4x4xi8, #CSE> {
  %w = arith.constant {sparse_enc.buffers = {
      values = dense<[5, 3]> : tensor<2xi8>,
      col_idx = dense<[3, 4, 4, 1, 5, 4]> : tensor<6xi16>,
      row_ptr = dense<[0, 2, 3, 5, 6]> : tensor<5xi16>,
      sub_operands = dense<[0, 2]> : tensor<2xi16>,
      sub_values = dense<[2, -1]> : tensor<2xi8>}}
    dense<[[2, 0, -1, 5], [2, 0, -1, 0], [-2, 3, 1, 0], [2, 0, -1, 0]]> : tensor<4x4xi8, #CSE>
  return %w : tensor<4x4xi8, #CSE>
}

// -----

#CSE = #sparse_enc.cse_csr<>

func.func @cse_csr_wrong_buffers() -> tensor<4x4xi8, #CSE> {
  // expected-error @+1 {{sparse_enc.buffers do not decode to this weight: row 2, column 0 is -2 in the constant and 2 from the buffers}}
  %w = arith.constant {sparse_enc.buffers = {
      values = dense<[5, 3]> : tensor<2xi8>,
      col_idx = dense<[3, 4, 4, 1, 4, 4]> : tensor<6xi16>,
      row_ptr = dense<[0, 2, 3, 5, 6]> : tensor<5xi16>,
      sub_operands = dense<[0, 2]> : tensor<2xi16>,
      sub_values = dense<[2, -1]> : tensor<2xi8>}}
    dense<[[2, 0, -1, 5], [2, 0, -1, 0], [-2, 3, 1, 0], [2, 0, -1, 0]]> : tensor<4x4xi8, #CSE>
  return %w : tensor<4x4xi8, #CSE>
}

// -----

#CSE = #sparse_enc.cse_csr<>

func.func @cse_csr_buffer_type() -> tensor<2x2xi8, #CSE> {
  // expected-error @+1 {{sparse_enc.buffers 'col_idx' must be a 1-D tensor of 'i16', got 'tensor<2xi32>'}}
  %w = arith.constant {sparse_enc.buffers = {
      values = dense<[1, 2]> : tensor<2xi8>, col_idx = dense<[0, 1]> : tensor<2xi32>,
      row_ptr = dense<[0, 2, 2]> : tensor<3xi16>, sub_operands = dense<> : tensor<0xi16>,
      sub_values = dense<> : tensor<0xi8>}}
    dense<[[1, 2], [0, 0]]> : tensor<2x2xi8, #CSE>
  return %w : tensor<2x2xi8, #CSE>
}

// -----

#CSE = #sparse_enc.cse_csr<>

func.func @cse_csr_without_buffers() -> tensor<2x2xi8, #CSE> {
  // expected-error @+1 {{cannot pack #sparse_enc.cse_csr without its buffers: the subexpressions come from mcusparse.formats.encode(W, "cse-csr"); pass them as a sparse_enc.buffers dictionary on the constant, or build the tensor with sparse_enc.assemble}}
  %w = arith.constant dense<[[1, 2], [1, 2]]> : tensor<2x2xi8, #CSE>
  return %w : tensor<2x2xi8, #CSE>
}

// -----

#CSR = #sparse_enc.csr<>

func.func @buffers_for_csr() -> tensor<2x2xi8, #CSR> {
  // expected-error @+1 {{sparse_enc.buffers are taken for #sparse_enc.cse_csr only; #sparse_enc.csr<> is packed from the weights}}
  %w = arith.constant {sparse_enc.buffers = {}} dense<[[1, 2], [1, 2]]> : tensor<2x2xi8, #CSR>
  return %w : tensor<2x2xi8, #CSR>
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
