//===- SparseEncAttrs.td - sparse_enc tensor encodings ----*- tablegen -*-===//

#ifndef SPARSE_ENC_ATTRS
#define SPARSE_ENC_ATTRS

include "dialect/SparseEncDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/TensorEncoding.td"

class SparseEnc_Encoding<string name, string attrMnemonic>
    : AttrDef<SparseEnc_Dialect, name, [VerifiableTensorEncoding]> {
  let mnemonic = attrMnemonic;
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Checks that a tensor of this shape and element type can be stored in
    /// this layout (VerifiableTensorEncoding).
    ::llvm::LogicalResult verifyEncoding(
        ::llvm::ArrayRef<int64_t> shape, ::mlir::Type elementType,
        ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError) const;
  }];
}

def SparseEnc_CSRAttr : SparseEnc_Encoding<"CSR", "csr"> {
  let summary = "compressed sparse rows with fixed-width indices";
  let description = [{
    Row pointers (`pos_bits` wide) and column indices (`crd_bits` wide) next
    to the nonzero values: the baseline of the dCSR paper.

    ```mlir
    tensor<64x64xi8, #sparse_enc.csr<crd_bits = 16, pos_bits = 16>>
    ```
  }];
  let parameters = (ins
    DefaultValuedParameter<"int64_t", "16", "column index width in bits">:$crd_bits,
    DefaultValuedParameter<"int64_t", "16", "row pointer width in bits">:$pos_bits
  );
}

def SparseEnc_DCSRAttr : SparseEnc_Encoding<"DCSR", "dcsr"> {
  let summary = "delta-compressed storage rows (Trommer et al., ICCAD 2021)";
  let description = [{
    Column indices of each row are regenerated in the vector unit from a
    ramp, a delta-coded group minimum and 4-bit deltas (plus predicated
    extension bits). `group` is the number of SIMD lanes: 16 for 8-bit, 8 for
    16-bit and 4 for 32-bit elements. `delta_bits = 8` stores each entry's
    offset from its group's first column as a whole byte instead, and each
    group's first column as a uint8 jump from the previous group's (no
    slope, ramp, nibbles, maps or extension masks): about half a byte more
    per entry, and the stored bytes are the gather offsets.

    ```mlir
    tensor<256x256xi8, #sparse_enc.dcsr<group = 16>>
    tensor<256x1024xi8, #sparse_enc.dcsr<group = 16, delta_bits = 8>>
    ```
  }];
  let parameters = (ins
    DefaultValuedParameter<"int64_t", "16", "SIMD lanes per group">:$group,
    DefaultValuedParameter<"int64_t", "4",
                           "stored delta bits: 4 (nibbles + extension masks) "
                           "or 8 (bytes)">:$delta_bits
  );
}

def SparseEnc_NMAttr : SparseEnc_Encoding<"NM", "nm"> {
  let summary = "N:M structured sparsity with sub-byte offsets";
  let description = [{
    Every block of `m` consecutive weights along the innermost dimension holds
    at most `n` nonzeros; each kept weight stores its offset in the block in
    log2(m) bits.

    ```mlir
    tensor<64x256xi8, #sparse_enc.nm<n = 1, m = 8>>
    ```
  }];
  let parameters = (ins
    // Both always spelled out: `nm<n = 1>` would hide the block length.
    "int64_t":$n,
    "int64_t":$m
  );
}

def SparseEnc_GSAttr : SparseEnc_Encoding<"GS", "gs"> {
  let summary = "load-balanced gather-scatter pattern";
  let description = [{
    Rows are processed `lanes` at a time; every lane of a group holds the same
    number of entries, so one vector step gathers `lanes` activations and
    accumulates into `lanes` outputs without a horizontal reduction.

    ```mlir
    tensor<256x256xi8, #sparse_enc.gs<lanes = 16>>
    ```
  }];
  let parameters = (ins
    DefaultValuedParameter<"int64_t", "16", "vector lanes (outputs) per group">:$lanes
  );
}

def SparseEnc_CSECSRAttr : SparseEnc_Encoding<"CSECSR", "cse_csr"> {
  let summary = "CSR extended with common subexpressions (Bilgili, Yurdakul 2023)";
  let description = [{
    CSR whose rows may also refer to subexpressions `a*u[p] + b*u[q]` of a
    shared table (operands: columns of x or earlier subexpressions), each
    computed once per product: pairs of entries that recur in several rows
    are stored once. Column and subexpression indices are 16 bits; row
    pointers `pos_bits` wide. The buffers come from
    `mcusparse.formats.encode(W, "cse-csr")` (docs/formats.md).

    ```mlir
    tensor<256x256xi8, #sparse_enc.cse_csr<pos_bits = 16>>
    ```
  }];
  let parameters = (ins
    DefaultValuedParameter<"int64_t", "16", "row pointer width in bits">:$pos_bits
  );
}

#endif // SPARSE_ENC_ATTRS
