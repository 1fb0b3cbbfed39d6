// RUN: sparse-opt %s --split-input-file --verify-diagnostics

// Encoding parameters.

// expected-error @+1 {{crd_bits must be 8, 16 or 32, got 12}}
func.func @csr_crd_bits(%a: tensor<4x8xi8, #sparse_enc.csr<crd_bits = 12>>)

// -----

// expected-error @+1 {{pos_bits must be 16 or 32, got 8}}
func.func @csr_pos_bits(%a: tensor<4x8xi8, #sparse_enc.csr<pos_bits = 8>>)

// -----

// expected-error @+1 {{group must be 4, 8 or 16 (SIMD lanes for 32-, 16- or 8-bit elements), got 32}}
func.func @dcsr_group(%a: tensor<4x8xi8, #sparse_enc.dcsr<group = 32>>)

// -----

// expected-error @+1 {{delta_bits must be 4 (nibbles and extension masks) or 8 (bytes), got 6}}
func.func @dcsr_delta_bits(%a: tensor<4x8xi8, #sparse_enc.dcsr<group = 16, delta_bits = 6>>)

// -----

// expected-error @+1 {{m must be 4, 8 or 16, got 6}}
func.func @nm_m(%a: tensor<4x12xi8, #sparse_enc.nm<n = 1, m = 6>>)

// -----

// expected-error @+1 {{n must satisfy 1 <= n < m (m = 8), got 0}}
func.func @nm_n_zero(%a: tensor<4x16xi8, #sparse_enc.nm<n = 0, m = 8>>)

// -----

// expected-error @+1 {{n must satisfy 1 <= n < m (m = 4), got 4}}
func.func @nm_n_equals_m(%a: tensor<4x16xi8, #sparse_enc.nm<n = 4, m = 4>>)

// -----

// expected-error @+1 {{lanes must be 4, 8 or 16, got 2}}
func.func @gs_lanes(%a: tensor<4x8xi8, #sparse_enc.gs<lanes = 2>>)

// -----

// expected-error @+1 {{duplicate or unknown struct parameter name: k}}
func.func @nm_unknown_key(%a: tensor<4x8xi8, #sparse_enc.nm<n = 1, k = 8>>)

// -----

// expected-error @+1 {{expected ','}}
func.func @nm_missing_m(%a: tensor<4x8xi8, #sparse_enc.nm<n = 1>>)

// -----

// expected-error @+1 {{n must satisfy 1 <= n < m (m = 8), got -1}}
func.func @nm_negative(%a: tensor<4x8xi8, #sparse_enc.nm<n = -1, m = 8>>)

// -----

// Shapes and element types that do not fit a layout.

// expected-error @+1 {{innermost size 20 is not a multiple of m = 8}}
func.func @nm_cols(%a: tensor<4x20xi8, #sparse_enc.nm<n = 1, m = 8>>)

// -----

// expected-error @+1 {{#sparse_enc.gs expects a rank-2 tensor (rows x columns), got rank 3}}
func.func @gs_rank(%a: tensor<2x4x8xi8, #sparse_enc.gs<lanes = 4>>)

// -----

// expected-error @+1 {{#sparse_enc.csr expects a rank-2 tensor (rows x columns), got rank 1}}
func.func @csr_rank(%a: tensor<8xi8, #sparse_enc.csr<>>)

// -----

// expected-error @+1 {{#sparse_enc.nm expects i8, i16, i32 or f32 elements, got 'f16'}}
func.func @nm_element(%a: tensor<4x8xf16, #sparse_enc.nm<n = 1, m = 4>>)

// -----

// expected-error @+1 {{group = 16 does not fit 'f32' elements: a group fills one 128-bit vector, so use group = 4}}
func.func @dcsr_group_width(%a: tensor<4x8xf32, #sparse_enc.dcsr<group = 16>>)

// -----

// expected-error @+1 {{crd_bits = 8 cannot index 300 columns}}
func.func @csr_narrow_crd(%a: tensor<4x300xi8, #sparse_enc.csr<crd_bits = 8>>)

// -----

// Ops.

func.func @assemble_no_encoding(%v: tensor<6xi8>, %c: tensor<6xi16>, %r: tensor<5xi16>) {
  // expected-error @+1 {{'sparse_enc.assemble' op result type must carry a #sparse_enc encoding, got 'tensor<4x8xi8>'}}
  %w = sparse_enc.assemble (%v, %c, %r) : (tensor<6xi8>, tensor<6xi16>, tensor<5xi16>) -> tensor<4x8xi8>
  return
}

// -----

func.func @assemble_buffer_count(%v: tensor<6xi8>, %c: tensor<6xi16>) {
  // expected-error @+1 {{'sparse_enc.assemble' op #sparse_enc.csr expects 3 storage buffers, got 2}}
  %w = sparse_enc.assemble (%v, %c) : (tensor<6xi8>, tensor<6xi16>) -> tensor<4x8xi8, #sparse_enc.csr<>>
  return
}

// -----

func.func @assemble_buffer_type(%v: tensor<6xi8>, %c: tensor<6xi8>, %r: tensor<5xi16>) {
  // expected-error @+1 {{'sparse_enc.assemble' op buffer #1 ('col_idx') must have element type 'i16', got 'i8'}}
  %w = sparse_enc.assemble (%v, %c, %r) : (tensor<6xi8>, tensor<6xi8>, tensor<5xi16>) -> tensor<4x8xi8, #sparse_enc.csr<>>
  return
}

// -----

func.func @assemble_buffer_rank(%v: tensor<2x3xi8>, %c: tensor<6xi16>, %r: tensor<5xi16>) {
  // expected-error @+1 {{'sparse_enc.assemble' op operand #0 must be variadic of 1D tensor of any type values, but got 'tensor<2x3xi8>'}}
  %w = sparse_enc.assemble (%v, %c, %r) : (tensor<2x3xi8>, tensor<6xi16>, tensor<5xi16>) -> tensor<4x8xi8, #sparse_enc.csr<>>
  return
}

// -----

func.func @buffer_unknown_name(%w: tensor<4x8xi8, #sparse_enc.nm<n = 1, m = 4>>) {
  // expected-error @+1 {{'sparse_enc.buffer' op #sparse_enc.nm has no buffer 'col_idx'; its buffers are: 'values' 'offsets'}}
  %b = sparse_enc.buffer %w["col_idx"] : tensor<4x8xi8, #sparse_enc.nm<n = 1, m = 4>> -> tensor<8xi16>
  return
}

// -----

func.func @buffer_element_type(%w: tensor<4x8xi8, #sparse_enc.csr<>>) {
  // expected-error @+1 {{'sparse_enc.buffer' op buffer 'values' has element type 'i8', got 'i32'}}
  %b = sparse_enc.buffer %w["values"] : tensor<4x8xi8, #sparse_enc.csr<>> -> tensor<8xi32>
  return
}

// -----

func.func @buffer_no_encoding(%w: tensor<4x8xi8>) {
  // expected-error @+1 {{'sparse_enc.buffer' op operand type must carry a #sparse_enc encoding, got 'tensor<4x8xi8>'}}
  %b = sparse_enc.buffer %w["values"] : tensor<4x8xi8> -> tensor<8xi8>
  return
}

// -----

// expected-error @+1 {{pos_bits must be 16 or 32, got 8}}
func.func @cse_csr_pos_bits(%a: tensor<4x8xi8, #sparse_enc.cse_csr<pos_bits = 8>>) {
  return
}

// -----

// expected-error @+1 {{#sparse_enc.cse_csr indexes columns and subexpressions with 16 bits: at most 65534 columns, got 65535}}
func.func @cse_csr_columns(%a: tensor<2x65535xi8, #sparse_enc.cse_csr<>>) {
  return
}

// -----

// expected-error @+1 {{#sparse_enc.cse_csr expects a rank-2 tensor (rows x columns), got rank 1}}
func.func @cse_csr_rank(%a: tensor<8xi8, #sparse_enc.cse_csr<>>) {
  return
}

// -----

func.func @cse_csr_buffers(%v: tensor<2xi8>, %c: tensor<6xi16>, %p: tensor<5xi16>) {
  // expected-error @+1 {{'sparse_enc.assemble' op #sparse_enc.cse_csr expects 5 storage buffers, got 3}}
  %w = sparse_enc.assemble (%v, %c, %p) : (tensor<2xi8>, tensor<6xi16>, tensor<5xi16>) -> tensor<4x4xi8, #sparse_enc.cse_csr<>>
  return
}
