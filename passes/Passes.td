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


def SparseEncLowerMatvec : Pass<"sparse-enc-lower-matvec", "mlir::ModuleOp"> {
  let summary = "Lower linalg.matvec over dense or #sparse_enc weights to scf/vector code";
  let description = [{
    Rewrites `linalg.matvec ins(%W, %x) outs(%y)` (y += W x; int8 x int8 with
    an int32 accumulator, or float32) into `scf.for` loops over the weight's
    storage buffers with explicit vector steps, so that the loop and vector
    structure that reaches LLVM is the one we chose, not whatever LLVM's
    vectoriser finds:

    - no encoding (dense, the baseline): `dense-rows` rows share each
      activation load; each step reads `vector-length` int8 of x and of every
      row and accumulates `vector.reduction <add>` of the widened product
      (MVE `vmladava.s8`, RVV `vwmul` + `vredsum`); the column tail is one
      step with a constant mask;
    - `#sparse_enc.csr`: per row, vector steps over the row's entries with a
      `vector.create_mask` tail, a load of values and column indices and a
      `vector.gather` of the activations;
    - `#sparse_enc.nm<n, m>`: one step per packed 32-bit offset word: the word
      is broadcast, shifted by a constant vector and masked, which unpacks its
      16/10/8 offsets in registers without branches; block bases are
      constant vectors; activations are gathered;
    - `#sparse_enc.dcsr<group>`: per group of G entries the column offsets
      are decoded in vector registers: nibble vector shifted by 4 or 0, each
      extension mask bitcast to a lane predicate (`vector.bitcast
      vector<1xi16> to vector<16xi1>`, MVE `vmsr p0`) that ORs in its bit,
      plus the ramp s*lane in 8-bit lanes; then one gather at x[base] with
      those offsets under a `create_mask` of the group's active lanes;
    - `#sparse_enc.gs<lanes>`: per group of `lanes` rows, every step gathers
      `lanes` activations and accumulates lane-wise into `lanes` outputs (no
      horizontal reduction); one vector update of y per group.

    The storage buffers are read through `sparse_enc.buffer`, which folds to
    the operands of the `sparse_enc.assemble` that built the weight (from
    `sparse-enc-pack-constants`, or from function arguments); the assemble
    is erased when the matvec was its last user, so no `sparse_enc` op is
    left. A weight that is not a `sparse_enc.assemble` result is an error.

    The pass works on tensors (`scf.for` with `iter_args`, `tensor.insert`,
    `vector.transfer_read`/`vector.gather` on tensors) and leaves memory to
    `one-shot-bufferize`: the kernels then compose with the rest of a model
    in tensor form, and y is updated in place when bufferization proves it
    can be (it always can for a function argument). Static shapes are
    required: tails, masks and N:M block bases are compile-time constants.

    Before:
    ```mlir
    %w = sparse_enc.assemble (%values, %col_idx, %row_ptr)
        : (tensor<?xi8>, tensor<?xi16>, tensor<65xi16>) -> tensor<64x256xi8, #sparse_enc.csr<>>
    %r = linalg.matvec ins(%w, %x : tensor<64x256xi8, #sparse_enc.csr<>>, tensor<256xi8>)
                       outs(%y : tensor<64xi32>) -> tensor<64xi32>
    ```
    After (CSR, vector-length = 16):
    ```mlir
    %r = scf.for %i = %c0 to %c64 step %c1 iter_args(%yt = %y) -> (tensor<64xi32>) {
      %b = tensor.extract %row_ptr[%i] ... %e = tensor.extract %row_ptr[%i1] ...
      %acc = scf.for %j = %lo to %hi step %c16 iter_args(%a = %y_i) -> (i32) {
        %m = vector.create_mask %left : vector<16xi1>
        %v = vector.transfer_read %values[%j], %c0_i8, %m {in_bounds = [true]} ...
        %c = vector.transfer_read %col_idx[%j], %c0_i16, %m {in_bounds = [true]} ...
        %xv = vector.gather %x[%c0] [%c32], %m, %zero ...
        %p = arith.muli (extsi %v), (extsi %xv) : vector<16xi32>
        %s = vector.reduction <add>, %p, %a : vector<16xi32> into i32
        scf.yield %s : i32
      }
      %yn = tensor.insert %acc into %yt[%i] : tensor<64xi32>
      scf.yield %yn : tensor<64xi32>
    }
    ```
  }];
  let options = [
    Option<"vectorLength", "vector-length", "int64_t", "16",
           "lanes per vector step (dense, csr): 16 int8 = one 128-bit register">,
    Option<"denseRows", "dense-rows", "int64_t", "4",
           "rows that share one activation load in the dense kernel">,
    Option<"target", "target", "std::string", "\"\"",
           "target-specific kernel shapes: cortex-m55 (MVE intrinsics via "
           "llvm.call_intrinsic), rv32imc (scalar N:M), rv32gcv; empty: generic">
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect", "mlir::vector::VectorDialect",
    "mlir::LLVM::LLVMDialect"
  ];
}

def SparseEncLowerVectorTransfers
    : Pass<"sparse-enc-lower-vector-transfers", "mlir::ModuleOp"> {
  let summary = "Lower masked vector transfers and masks with 32-bit lane indices";
  let description = [{
    After bufferization, turns `vector.transfer_read`/`transfer_write` on
    memrefs into `vector.load`/`vector.maskedload`/`store`/`maskedstore`,
    and 1-D `vector.create_mask %n` into `llvm.intr.get.active.lane.mask(0, n)`
    on i32 (MVE `vctp8`; the generic step-vector compare costs a dozen MVE
    instructions per mask); other masks become a step-vector compare in
    32-bit lanes. `convert-vector-to-llvm` does the same but converts
    `index` to i64 regardless of the module's data layout; doing these
    rewrites here lets `convert-to-llvm{dynamic=true}` finish with the
    32-bit index of `#dlti.dl_spec<index = 32 : i64>`.

    Before: `%v = vector.transfer_read %m[%i], %pad, %mask {in_bounds = [true]} : memref<64xi8>, vector<16xi8>`
    After: `%v = vector.maskedload %m[%i], %mask, %pass : memref<64xi8>, vector<16xi1>, vector<16xi8> into vector<16xi8>`
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
    "mlir::vector::VectorDialect", "mlir::LLVM::LLVMDialect"
  ];
}

def SparseEncSetTarget : Pass<"sparse-enc-set-target", "mlir::ModuleOp"> {
  let summary = "Attach a target's index width and calling convention to a module";
  let description = [{
    Sets `dlti.dl_spec = #dlti.dl_spec<index = 32 : i64>` on the module for
    32-bit targets (cortex-m55, rv32imc, rv32gcv; 64 for host) so that
    `convert-to-llvm{dynamic=true}` emits 32-bit loop counters and address
    arithmetic, and marks every public function `llvm.bareptr`, so that a
    `memref<64xi8>` argument becomes a plain `ptr` and C can call
    `kernel(const int8_t *values, ..., const int8_t *x, int32_t *y)`.

    Before: `module { func.func @kernel(...) }`
    After: `module attributes {dlti.dl_spec = #dlti.dl_spec<index = 32 : i64>} { func.func @kernel(...) attributes {llvm.bareptr} }`
  }];
  let options = [
    Option<"target", "target", "std::string", "\"cortex-m55\"",
           "cortex-m55, rv32imc, rv32gcv or host">
  ];
  let dependentDialects = ["mlir::DLTIDialect"];
}

#endif // MCUSPARSE_PASSES
