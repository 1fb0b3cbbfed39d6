//===- Passes.td - sparse_enc passes ----------------------*- tablegen -*-===//

#ifndef MCUSPARSE_PASSES
#define MCUSPARSE_PASSES

include "mlir/Pass/PassBase.td"

def SparseEncPackConstants : Pass<"sparse-enc-pack-constants", "mlir::ModuleOp"> {
  let summary = "Pack encoded constant weights into their storage buffers";
  let description = [{
    Weights arrive as dense constants whose tensor type carries a
    `#sparse_enc` layout. This pass runs the layout's encoder at compile time
    and replaces each such constant by one flat constant per storage buffer,
    joined by `sparse_enc.assemble`; the lowering passes then read the packed
    bytes through `sparse_enc.buffer`. The bytes are identical to the golden
    Python encoder (`mcusparse.formats.encode`).

    Before:
    ```mlir
    %w = arith.constant dense<[[0, 3, 0, 0], [0, 0, 0, 0]]>
        : tensor<2x4xi8, #sparse_enc.csr<>>
    ```
    After:
    ```mlir
    %values = arith.constant dense<3> : tensor<1xi8>
    %col_idx = arith.constant dense<1> : tensor<1xi16>
    %row_ptr = arith.constant dense<[0, 1, 1]> : tensor<3xi16>
    %w = sparse_enc.assemble (%values, %col_idx, %row_ptr)
        : (tensor<1xi8>, tensor<1xi16>, tensor<3xi16>)
          -> tensor<2x4xi8, #sparse_enc.csr<>>
    ```
    A matrix that does not fit its layout (for example an N:M block with too
    many nonzeros) is an error that names the row and block.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect",
    "mcusparse::sparse_enc::SparseEncDialect"
  ];
}

#endif // MCUSPARSE_PASSES
