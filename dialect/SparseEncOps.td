//===- SparseEncOps.td - sparse_enc operations ------------*- tablegen -*-===//

#ifndef SPARSE_ENC_OPS
#define SPARSE_ENC_OPS

include "dialect/SparseEncAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class SparseEnc_Op<string mnemonic, list<Trait> traits = []>
    : Op<SparseEnc_Dialect, mnemonic, traits>;

def SparseEnc_AssembleOp : SparseEnc_Op<"assemble", [Pure]> {
  let summary = "materialise an encoded tensor from its storage buffers";
  let description = [{
    Builds a tensor whose type carries a `#sparse_enc` encoding from the 1-D
    storage buffers of that layout, in the order the layout defines (for
    `#sparse_enc.csr`: values, col_idx, row_ptr). The packing pass produces
    it from encoded constants.

    ```mlir
    %w = sparse_enc.assemble (%values, %col_idx, %row_ptr)
        : (tensor<6xi8>, tensor<6xi16>, tensor<5xi16>) -> tensor<4x8xi8, #CSR>
    ```
  }];
  let arguments = (ins Variadic<1DTensorOf<[AnyType]>>:$buffers);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    `(` $buffers `)` attr-dict `:` functional-type($buffers, $result)
  }];
  let hasVerifier = 1;
}

def SparseEnc_BufferOp : SparseEnc_Op<"buffer", [Pure]> {
  let summary = "one storage buffer of an encoded tensor";
  let description = [{
    Returns the named storage buffer of a tensor with a `#sparse_enc`
    encoding. Lowering passes read packed weights through it; it folds away
    when the tensor comes from `sparse_enc.assemble`.

    ```mlir
    %vals = sparse_enc.buffer %w["values"] : tensor<4x8xi8, #CSR> -> tensor<6xi8>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$tensor, StrAttr:$name);
  let results = (outs 1DTensorOf<[AnyType]>:$result);
  let assemblyFormat = [{
    $tensor `[` $name `]` attr-dict `:` type($tensor) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // SPARSE_ENC_OPS
