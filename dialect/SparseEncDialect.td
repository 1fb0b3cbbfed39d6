//===- SparseEncDialect.td - the sparse_enc dialect -------*- tablegen -*-===//
//
// sparse_enc attaches microcontroller-oriented sparse storage layouts to
// weight tensors (tensor encodings) and provides the few ops that connect an
// encoded tensor with the flat buffers that hold its packed layout.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSE_ENC_DIALECT
#define SPARSE_ENC_DIALECT

include "mlir/IR/OpBase.td"

def SparseEnc_Dialect : Dialect {
  let name = "sparse_enc";
  let cppNamespace = "::mcusparse::sparse_enc";
  let summary = "Sparse weight layouts for microcontrollers";
  let description = [{
    Tensor encodings for pruned weight matrices (CSR, dCSR, N:M, load-balanced
    gather-scatter) and ops that materialise an encoded constant from its
    packed storage buffers and read those buffers back. Each encoding knows
    the names and element types of its storage buffers (see
    docs/formats.md); the packing pass produces them, the lowering passes
    consume them.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 0;
}

#endif // SPARSE_ENC_DIALECT
