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
  let summary = "Lower linalg.matvec over dense or #sparse_enc weights (and CSR layer matmuls) to scf/vector code";
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
      those offsets under a `create_mask` of the group's active lanes (on
      cortex-m55 one loop runs the groups of all rows and sets up the next
      row when one is used up);
    - `#sparse_enc.gs<lanes>`: per group of `lanes` rows, every step gathers
      `lanes` activations and accumulates lane-wise into `lanes` outputs (no
      horizontal reduction); one vector update of y per group.

    The pass also lowers a layer `linalg.matmul` Y[P, O] += X[P, K] x W[O, K]^T
    (indexing maps (d0, d2), (d1, d2), (d0, d1)) whose weight W is
    `#sparse_enc.csr` (kept whole by `sparse-enc-matmul-to-matvec` on
    cortex-m55) with a pixel-batched kernel (passes/lower/LowerSpMM.cpp) that
    decodes each row once per 16 output pixels instead of once per pixel:
    per block of 16 pixels (4 vectors of 4 x i32; a tail block with constant
    lane masks for P % 16) and per row r, the 4 accumulators start from
    Y[p, r] (a `vector.gather`, or a broadcast of the value when Y is a
    `linalg.fill`), every entry (c, w) of the row adds w times
    `vector.gather` of X (viewed 1-D by `tensor.collapse_shape`) at
    (p0 + 4u + lane) * K + c, and the accumulators go back with
    `vector.scatter` on the tensor (MVE: `vldrb.s32` gathers and `vmla.s32`
    by the scalar weight, 13 instructions per entry and 16 pixels). A DS-CNN S
    1x1 layer (64x64, 90 % sparse, 125 pixels): 65,627 instructions against
    389,594 for dense matvecs per pixel and 67,266 for the register-blocked
    dense kernel (docs/benchmarks.md). On cortex-m55, int8 rows of
    at least 12 entries on average take a row-gather kernel instead: per
    block of 4 pixels and row of W, a tail-predicated loop loads the row's
    values and column indices once per step and gathers X for each pixel
    (`vldrb` gather with 8- or 16-bit offsets, predicated `vmlava`). A layer matmul over a
    dense weight marked `sparse_enc.batched` (cortex-m55, more than one
    pixel) gets a register-blocked kernel (passes/lower/LowerDenseMatmul.cpp):
    blocks of 3 pixels x 2 rows share every vector load, per 16 columns 5
    loads and 6 widening dot products into scalar accumulators (MVE:
    `vldrb` + `vmlava.s8`), the last 1-2 pixels one smaller block. Other
    dense matmuls are left alone; over another layout they are an error.

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
    Option<"denseWeightsOnce", "dense-weights-once", "bool", "false",
           "cortex-m55 dense layer matmuls with 32 or more columns: each row "
           "of W (in chunks of 96 columns) held in registers while every "
           "pixel passes (W read once, more instructions) instead of "
           "register-blocked">,
    Option<"target", "target", "std::string", "\"\"",
           "target-specific kernel shapes: cortex-m55 (MVE intrinsics via "
           "llvm.call_intrinsic), rv32imc (scalar N:M), rv32gcv, host; empty: "
           "generic; any other name is an error">
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect", "mlir::vector::VectorDialect",
    "mlir::LLVM::LLVMDialect", "mlir::ub::UBDialect",
    "mlir::memref::MemRefDialect", "mlir::bufferization::BufferizationDialect"
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

//===----------------------------------------------------------------------===//
// Whole models (passes/model/)
//===----------------------------------------------------------------------===//

def SparseEncTileAccumulators
    : Pass<"sparse-enc-tile-accumulators", "mlir::ModuleOp"> {
  let summary = "A layer's int32 result and its requantisation in tiles of pixels";
  let description = [{
    The front ends compute a convolution as a `linalg.matmul` into an int32
    `[P, O]` accumulator (zero-filled) and requantise it with an
    elementwise `linalg.generic` reached through reshapes; the accumulator
    is live whole between the two, four times the int8 activation it
    becomes. This pass rewrites each such requantisation on the
    matmul's `[P, O]` shape and tiles it along the pixels with upstream
    tile-and-fuse (`scf::tileConsumerAndFuseProducersUsingSCF`), fusing the
    matmul and its zero fill into the loop: one `scf.for` whose body
    multiplies a tile of X's rows, requantises the tile and inserts it into
    the int8 result. The int32 buffer is then one tile. X and the weights
    stay whole; the layer's layout is unchanged.

    The consumer must read the accumulator and write its result with
    identity maps (every pixel in order), read everything else per channel
    only (bias, multipliers, shifts), not read its own position, and start
    from a `tensor.empty`. A tile has the most pixels up to `pixels` that
    divide P, so every tile has the same static shape; `pixels=0` (the
    default) turns the pass off.

    Before:
    ```mlir
    %acc = linalg.matmul ins(%x, %w : tensor<2304x16xi8>, tensor<96x16xi8>)
        outs(%zero : tensor<2304x96xi32>) -> tensor<2304x96xi32>
    %nhwc = tensor.expand_shape (tensor.collapse_shape %acc) ... to tensor<1x48x48x96xi32>
    %q = linalg.generic {requantise} ins(%nhwc, %bias, ...) outs(%e : tensor<1x48x48x96xi8>)
    ```
    After (`pixels=48`):
    ```mlir
    %r = scf.for %p = %c0 to %c2304 step %c48 iter_args(%out = %e2) -> (tensor<2304x96xi8>) {
      %xs = tensor.extract_slice %x[%p, 0] [48, 16] [1, 1]
      %z = linalg.fill ins(%c0_i32 : i32) outs(...) -> tensor<48x96xi32>
      %t = linalg.matmul ins(%xs, %w : tensor<48x16xi8>, tensor<96x16xi8>) outs(%z ...)
      %q = linalg.generic {requantise} ins(%t, %bias, ...) -> tensor<48x96xi8>
      %n = tensor.insert_slice %q into %out[%p, 0] [48, 96] [1, 1]
      scf.yield %n
    }
    %nhwc = tensor.expand_shape (tensor.collapse_shape %r) ... to tensor<1x48x48x96xi8>
    ```
  }];
  let options = [
    Option<"pixels", "pixels", "int64_t", "0",
           "most pixels of a tile; 0: off">
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect", "mlir::linalg::LinalgDialect"
  ];
}

def SparseEncPartialExecution
    : Pass<"sparse-enc-partial-execution", "mlir::ModuleOp"> {
  let summary = "Run operator chains in slices of their channels (Pex) to cut peak SRAM";
  let description = [{
    Partial execution (Liberis and Lane, "Pex", arXiv 2211.17246). A chain
    starts at a layer matmul `X[P, K] x W1[C, K]^T` (zero-filled init) and
    ends at a layer matmul `Y[P', C] x W2[O, C]^T`; in between, each op has
    one use and keeps channels apart:
    `tensor.collapse_shape` / `expand_shape` that keep the channels
    innermost, `tensor.pad` with no padding on the channel axis, and
    `linalg.generic` ops (requantisation, depthwise convolution) whose
    channel axis is a parallel loop that no other index mixes with, whose
    other per-channel operands are constants (or an `expand_shape` of one)
    and whose init is fresh. Such a chain is emitted once per slice of the
    C channels: the producer with the rows of W1 of the slice, each op on
    the slice, and the consumer with the columns of W2 of the slice,
    accumulating into the consumer's init (the first slice) or the previous
    slice's result. Every intermediate is then a slice, live only while its
    slice runs; `sparse-enc-plan-arena` reuses its bytes.

    Which chains, and how finely: the pass estimates what the arena planner
    will see, one buffer per tensor value (not constants, arguments or
    reshapes, which are views) live from the op that creates it to its last
    reader. A chain's peak whole is the most bytes live over its ops; in
    slices, what was live before it began, plus the consumer's accumulator
    (live across the slices), plus the largest two consecutive slice-sized
    intermediates. A chain whose peak fits the budget runs whole (no code
    grows); another runs in the widest slices that fit, or else in those
    with the lowest peak. The budget is `peak-bytes`, raised to what stays
    anyway: the bytes live where no chain runs, the lowest peak slicing
    gets any chain to, and the peak of a chain that slicing does not help
    (unless it shares a matmul with one that slicing helps). Slicing that
    saves less than an eighth of a chain's peak is not done. Slices are
    whole groups of 8 channels (4 or 1 where C is not a multiple of 8) for
    the vector loops downstream. `peak-bytes=0` (the default) turns the
    pass off; `peak-bytes=1` asks for the lowest arena. With `tile-pixels`,
    the estimate counts the int32 results that
    `sparse-enc-tile-accumulators{pixels}` will tile as one tile.

    Weights are cut at compile time into constants that keep their layer
    tag and `sparse_enc.layout`, so each slice is packed on its own and the
    slices are unrolled: code grows with the slice count. Weights with
    precomputed `sparse_enc.buffers` (CSE-CSR) are not cut.

    Before (C = 96):
    ```mlir
    %e = linalg.matmul ins(%x, %w1 : tensor<2304x16xi8>, tensor<96x16xi8>) ...
    %q = linalg.generic ... ins(%e, %bias ...) -> tensor<2304x96xi8>
    %y = linalg.matmul ins(%q, %w2 : tensor<2304x96xi8>, tensor<24x96xi8>)
        outs(%acc : tensor<2304x24xi32>)
    ```
    After (3 slices of 32 channels):
    ```mlir
    %e0 = linalg.matmul ins(%x, %w1_0 : ..., tensor<32x16xi8>) ...
    %q0 = linalg.generic ... ins(%e0, %bias_0 ...) -> tensor<2304x32xi8>
    %y0 = linalg.matmul ins(%q0, %w2_0 : ..., tensor<24x32xi8>) outs(%acc ...)
    ... (channels 32..63 into %y1, 64..95 into %y2)
    ```
  }];
  let options = [
    Option<"peakBytes", "peak-bytes", "int64_t", "0",
           "chains whose estimated peak is above this many bytes run in "
           "channel slices; 0: off, 1: the lowest arena">,
    Option<"tilePixels", "tile-pixels", "int64_t", "0",
           "the pixels option of the sparse-enc-tile-accumulators that runs "
           "next (its tiled int32 results count as one tile); 0: none">
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::tensor::TensorDialect",
    "mlir::linalg::LinalgDialect"
  ];
}

def SparseEncMatmulToMatvec
    : Pass<"sparse-enc-matmul-to-matvec", "mlir::ModuleOp"> {
  let summary = "Layer matmuls X[P,K] x W[O,K]^T as one linalg.matvec per row of X";
  let description = [{
    The front ends lower a convolution to im2col + `linalg.matmul` with the
    weight read transposed (`(d1, d2)`); our kernels are matrix-vector
    products over a packed weight. Every such matmul whose weight is a
    constant tagged `mcusparse.layer` becomes an `scf.for` over the P rows of
    X (the output pixels), each a `linalg.matvec` of the weight with row p of
    X into row p of the result (`tensor.extract_slice` / `insert_slice`,
    in place after bufferization). Other matmuls are left alone.

    With `target=cortex-m55`, a layer with integer weights and activations
    and a wider-or-equal integer accumulator whose chosen layout (the
    `sparse_enc.layout` attribute still on the weight) is `#sparse_enc.csr`,
    or which has no layout (dense) and more than one pixel, stays a
    `linalg.matmul`, marked `sparse_enc.batched`: `sparse-enc-lower-matvec`
    lowers it with the pixel-batched CSR kernel (the row decode paid once
    per 16 pixels), the batched dCSR and N:M kernels or the register-blocked
    dense kernel (each weight load shared by 3 pixels). With
    `target=rv32imc` dense, CSR, dCSR and N:M layers stay whole too, for
    scalar batched kernels, and with `target=rv32gcv` CSR layers whose rows have
    fewer than 32 entries or that have at least 16 pixels, int8 N:M and GS
    layers (rows in lanes, each field or step read once per 4 pixels), and
    dense layers
    over more than one pixel (each row of W held in vector registers while
    the pixels pass: every weight read once). Other targets (and no
    target) split every layer matmul as above.

    Before:
    ```mlir
    %w = arith.constant {mcusparse.layer = 0 : i64} dense<...> : tensor<64x40xi8>
    %r = linalg.matmul indexing_maps = [(d0, d2), (d1, d2), (d0, d1)]
        ins(%x, %w : tensor<125x40xi8>, tensor<64x40xi8>) outs(%y : tensor<125x64xi32>)
    ```
    After:
    ```mlir
    %r = scf.for %p = %c0 to %c125 step %c1 iter_args(%acc = %y) -> (tensor<125x64xi32>) {
      %xp = tensor.extract_slice %x[%p, 0] [1, 40] [1, 1] : tensor<125x40xi8> to tensor<40xi8>
      %yp = tensor.extract_slice %acc[%p, 0] [1, 64] [1, 1] : tensor<125x64xi32> to tensor<64xi32>
      %v = linalg.matvec ins(%w, %xp : tensor<64x40xi8>, tensor<40xi8>) outs(%yp : tensor<64xi32>) -> tensor<64xi32>
      %n = tensor.insert_slice %v into %acc[%p, 0] [1, 64] [1, 1] : tensor<64xi32> into tensor<125x64xi32>
      scf.yield %n : tensor<125x64xi32>
    }
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", "\"\"",
           "cortex-m55, rv32imc, rv32gcv: keep the layers that have a "
           "batched kernel as linalg.matmul (marked sparse_enc.batched); "
           "host or empty: every layer matmul becomes matvecs; any other "
           "name is an error">
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect", "mlir::linalg::LinalgDialect"
  ];
}

def SparseEncAttachLayouts
    : Pass<"sparse-enc-attach-layouts", "mlir::ModuleOp"> {
  let summary = "Move each weight constant's sparse_enc.layout into its tensor type";
  let description = [{
    Python chooses a layout per layer (`mcusparse.compiler.layouts`) and
    writes it as a `sparse_enc.layout` attribute on the layer's weight
    constant. This pass makes it the constant's tensor encoding, so that
    `sparse-enc-pack-constants` packs it and `sparse-enc-lower-matvec`
    lowers its matvecs for that layout. The layout's verifier runs on the
    weight's shape (e.g. an N:M layout needs a multiple of M columns), and
    every user must be the matrix operand of a `linalg.matvec`, or the
    transposed weight of a `linalg.matmul` that `sparse-enc-matmul-to-matvec`
    kept for the pixel-batched kernel (marked `sparse_enc.batched`): other
    ops have no sparse lowering.

    Before: `%w = arith.constant {mcusparse.layer = 2 : i64, sparse_enc.layout = #sparse_enc.csr<>} dense<...> : tensor<64x576xi8>`
    After: `%w = arith.constant {mcusparse.layer = 2 : i64} dense<...> : tensor<64x576xi8, #sparse_enc.csr<>>`
  }];
  let dependentDialects = ["mlir::arith::ArithDialect"];
}

def SparseEncOutlineWeights
    : Pass<"sparse-enc-outline-weights", "mlir::ModuleOp"> {
  let summary = "Layer weights and packed buffers as named, aligned memref.globals";
  let description = [{
    Every constant tagged `mcusparse.layer` (dense weights) and every operand
    of `sparse_enc.assemble` (packed storage buffers) becomes a private
    constant `memref.global @mcusparse_weights_<n>` (16-byte aligned, for
    vector loads) read through `memref.get_global` +
    `bufferization.to_tensor restrict`. `sparse-enc-place-weights` later
    finds them by name and puts them in the weights region; biases and
    requantisation constants are left to bufferization (`.rodata`).

    Before: `%v = arith.constant dense<[3, 5]> : tensor<2xi8>` (an operand of sparse_enc.assemble)
    After:
    ```mlir
    memref.global "private" constant @mcusparse_weights_0 : memref<2xi8> = dense<[3, 5]> {alignment = 16 : i64}
    %m = memref.get_global @mcusparse_weights_0 : memref<2xi8>
    %v = bufferization.to_tensor %m restrict : memref<2xi8> to tensor<2xi8>
    ```
  }];
  let dependentDialects = [
    "mlir::memref::MemRefDialect", "mlir::bufferization::BufferizationDialect"
  ];
}

def SparseEncPlaceWeights : Pass<"sparse-enc-place-weights", "mlir::ModuleOp"> {
  let summary = "Put the weight globals (mcusparse_weights_*) in the weights section";
  let description = [{
    On the llvm dialect: sets `section` on every `llvm.mlir.global` named
    `mcusparse_weights_*` (see sparse-enc-outline-weights). The linker
    scripts in runtime/ place `.weights` in its own flash range (SRAM2 at
    0x21000000 on mps3-an547), where the measurement plugin counts the bytes
    loaded. With `arena-section`, an `@mcusparse_arena` of more than
    `arena-fast-bytes` bytes goes to that section (cortex-m55: `.sram_bss`,
    the 2 MiB SRAM, when the arena does not fit the 512 KiB DTCM next to the
    stack).

    Before: `llvm.mlir.global private constant @mcusparse_weights_0(dense<...>) {addr_space = 0 : i32, alignment = 16 : i64}`
    After: `llvm.mlir.global private constant @mcusparse_weights_0(dense<...>) {addr_space = 0 : i32, alignment = 16 : i64, section = ".weights"}`
  }];
  let options = [
    Option<"section", "section", "std::string", "\".weights\"",
           "section for the weight globals">,
    Option<"arenaSection", "arena-section", "std::string", "\"\"",
           "section for an activation arena larger than arena-fast-bytes "
           "(empty: leave it in .bss)">,
    Option<"arenaFastBytes", "arena-fast-bytes", "int64_t", "0",
           "largest arena kept in .bss (the fast data memory)">
  ];
}

def SparseEncPlanArena : Pass<"sparse-enc-plan-arena", "mlir::ModuleOp"> {
  let summary = "Place every memref.alloc in one static arena planned by live range";
  let description = [{
    After bufferization (and `buffer-results-to-out-params`), replaces every
    `memref.alloc` of a function by a `memref.view` at a fixed offset of one
    uninitialised global, `@mcusparse_arena`, and erases the deallocs. Two
    buffers share bytes only when their live ranges do not overlap: a range
    runs from the alloc to the last use of the buffer or of any value derived
    from it (views, casts, loop results), measured in the function's
    top-level ops. Buffers are placed largest first at the lowest free
    16-byte aligned offset, then improved by a local search over the order
    until the arena meets the most bytes live at once. The arena size (the
    activations' peak SRAM) is set as `mcusparse.arena_bytes` on the module,
    and the buffers live together at the peak as `mcusparse.arena_peak`.
    The buffer arguments of a public function (the model's inputs and
    outputs, which overlap neither each other nor the arena) get
    `llvm.noalias`.

    Needs static shapes and one block per function; a buffer allocated in a
    loop and carried to the next iteration, or returned, is an error.

    Before:
    ```mlir
    %a = memref.alloc() : memref<125x64xi32>
    %b = memref.alloc() : memref<125x64xi8>
    ```
    After:
    ```mlir
    memref.global "private" @mcusparse_arena : memref<40000xi8> = uninitialized {alignment = 16 : i64}
    %arena = memref.get_global @mcusparse_arena : memref<40000xi8>
    %a = memref.view %arena[%c0][] : memref<40000xi8> to memref<125x64xi32>
    %b = memref.view %arena[%c32000][] : memref<40000xi8> to memref<125x64xi8>
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::memref::MemRefDialect"];
}

def SparseEncLowerStridedCopies
    : Pass<"sparse-enc-lower-strided-copies", "mlir::ModuleOp"> {
  let summary = "memref.copy between non-contiguous buffers as linalg.copy";
  let description = [{
    `convert-to-llvm` lowers a copy between two identity-layout memrefs to
    `llvm.memcpy`, and every other copy to a call of `memrefCopy` from MLIR's
    C runner library, which a bare-metal image does not link. This pass
    rewrites those copies (for example into the interior of a padded
    activation) as `linalg.copy`, for `convert-linalg-to-loops`.

    Before: `memref.copy %a, %s : memref<1x25x5x64xi8> to memref<1x25x5x64xi8, strided<[12096, 448, 64, 1], offset: 512>>`
    After: `linalg.copy ins(%a : memref<1x25x5x64xi8>) outs(%s : memref<1x25x5x64xi8, strided<[12096, 448, 64, 1], offset: 512>>)`
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def SparseEncVectorizeDepthwise
    : Pass<"sparse-enc-vectorize-depthwise", "mlir::ModuleOp"> {
  let summary = "int8 depthwise convolution generics as 8- or 4-channel vector MAC loops";
  let description = [{
    The front ends write a depthwise convolution as a `linalg.generic` over
    (n, oh, ow, c, m, kh, kw) reading x[n, oh*sh + kh*dh, ow*sw + kw*dw, c]
    and w[c, m, kh, kw] into acc[n, oh, ow, c, m]. As loops, LLVM vectorises
    it over channels with a gather for the weights and stores the
    accumulator after every tap (about 65 instructions per four outputs of
    a 3x3 kernel on cortex-m55). For int8 x int8 -> i32 bodies
    (acc + sext(x) * sext(w)) on static memrefs with channel multiplier 1 and
    a multiple of 4 channels, this pass writes instead: per block of 8
    channels (the last 4 as a block of 4 when 8 does not divide them), the
    block's KH*KW weight
    vectors sign-extended into a stack buffer (`memref.alloca` in the entry
    block), then for every output pixel one `vector.load` of the
    accumulator, per tap (unrolled) a `vector.load` of the input bytes
    (sign-extended) and of the staged weights and a multiply-add, and one
    `vector.store`. With 8 channels the lanes are int16 and the sums are
    split into even and odd channels (`vector.deinterleave` /
    `vector.interleave`, MVE `vld2`/`vst2`); the products are
    `llvm.arm.mve.vmull` (`vmullb.s16` / `vmullt.s16`, int32 results), so
    the pass is for cortex-m55 only. With 4 channels: `vldrb.s32`,
    `vmul.i32` and `vadd.i32` per tap. When a `linalg.fill` of a constant
    writes the accumulator right before, the sums start from that constant
    and the fill is erased. A pixel loop of more than 4 pixels
    carries `llvm.loop.unroll.disable` (unrolled, it needs a pointer per
    tap and pixel, which LLVM spills). Other generics are left unchanged.
    On memrefs, before `convert-linalg-to-loops`.

    After (3x3, 64 channels, one output pixel shown):
    ```mlir
    scf.for %c = %c0 to %c64 step %c8 {
      ... vector.store %w_tap_t, %staged[%t, %c0] : memref<9x8xi16>, vector<8xi16>
      scf.for %n ... scf.for %oh ... scf.for %ow ... {
        %acc = vector.load %out[%n, %oh, %ow, %c] : memref<1x25x5x64xi32>, vector<8xi32>
        %even, %odd = vector.deinterleave %acc : vector<8xi32> -> vector<4xi32>
        %x = vector.load %in[%n, %row, %col, %c] : memref<1x27x7x64xi8>, vector<8xi8>
        %xe = arith.extsi %x : vector<8xi8> to vector<8xi16>
        %w = vector.load %staged[%t, %c0] : memref<9x8xi16>, vector<8xi16>
        %pb = llvm.call_intrinsic "llvm.arm.mve.vmull"(%xe, %w, %c0_i32, %c0_i32) : (vector<8xi16>, vector<8xi16>, i32, i32) -> vector<4xi32>
        %e = arith.addi %even, %pb : vector<4xi32>
        %pt = llvm.call_intrinsic "llvm.arm.mve.vmull"(%xe, %w, %c0_i32, %c1_i32) : (vector<8xi16>, vector<8xi16>, i32, i32) -> vector<4xi32>
        %o = arith.addi %odd, %pt : vector<4xi32>
        ...
        %s = vector.interleave %e8, %o8 : vector<4xi32> -> vector<8xi32>
        vector.store %s, %out[%n, %oh, %ow, %c] : memref<1x25x5x64xi32>, vector<8xi32>
    ```
  }];
  let dependentDialects = ["mlir::vector::VectorDialect", "mlir::scf::SCFDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::LLVM::LLVMDialect"];
}

def SparseEncFixedPointToMVE
    : Pass<"sparse-enc-fixed-point-to-mve", "mlir::ModuleOp"> {
  let summary = "TFLite requantisation idioms on vector<4xi32> as MVE vqrdmulh / vqdmulh / vrshl";
  let description = [{
    The front ends write TFLite's MultiplyByQuantizedMultiplier in 32-bit
    arith ops (so that the host path needs only upstream passes); on
    vector<4xi32>, after `sparse-enc-vectorize-elementwise`, LLVM expands
    its 64-bit product lane by lane (about 75 instructions per four outputs
    on cortex-m55). This pass finds the two idioms as the front end writes
    them and replaces them by MVE instructions with the same rounding:
    SaturatingRoundingDoublingHighMul by `vqrdmulh.s32` (equal for every
    input; for a = b = INT32_MIN it saturates as TFLite does where the
    32-bit idiom wraps), RoundingDivideByPOT by a saturating add of
    `(x & -e) >> 31` (-1 for negative x) and a rounding shift `vrshl.s32`
    by -e (halves away from zero, as TFLite). FULLY_CONNECTED's single
    rounding, written in 32-bit ops where its right shift e is 1..31, has
    two more: floor(a * b / 2^31), `(hi << 1) | (lo >>u 31)`, by
    `vqdmulh.s32` when one factor is a constant (table) without INT32_MIN,
    and rounding right by e half up, `(v >> e) + ((v >> (e - 1)) & 1)`, by
    `vrshl.s32`. Other code is left unchanged.
    For cortex-m55, after `sparse-enc-vectorize-elementwise`.

    Before (SaturatingRoundingDoublingHighMul):
    ```mlir
    %lo, %hi = arith.mulsi_extended %a, %b : vector<4xi32>
    %s = arith.addi %lo, %c2p30 : vector<4xi32>
    %c = arith.cmpi ult, %s, %lo : vector<4xi32>
    %ci = arith.extui %c : vector<4xi1> to vector<4xi32>
    %h = arith.addi %hi, %ci : vector<4xi32>
    %d = arith.shli %h, %c1 : vector<4xi32>
    %t = arith.shrui %s, %c31 : vector<4xi32>
    %r = arith.ori %d, %t : vector<4xi32>
    ```
    After:
    ```mlir
    %r = llvm.call_intrinsic "llvm.arm.mve.vqrdmulh"(%a, %b) : (vector<4xi32>, vector<4xi32>) -> vector<4xi32>
    ```
    RoundingDivideByPOT(x, e) becomes
    ```mlir
    %n = arith.subi %zero, %e : vector<4xi32>
    %a = arith.andi %x, %n : vector<4xi32>
    %f = arith.shrsi %a, %c31 : vector<4xi32>
    %y = llvm.intr.sadd.sat(%x, %f) : (vector<4xi32>, vector<4xi32>) -> vector<4xi32>
    %r = llvm.call_intrinsic "llvm.arm.mve.vshl.vector"(%y, %n, %c0, %c1, %c0) : (...) -> vector<4xi32>
    ```
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def SparseEncFenceIntToFloat
    : Pass<"sparse-enc-fence-int-to-float", "mlir::ModuleOp"> {
  let summary = "Fence every llvm.sitofp / uitofp result (works around an llc crash)";
  let description = [{
    LLVM 22's ARM back end folds a vector int-to-float conversion followed by a
    multiply by 2^-n into a fixed-point MVE `vcvt` and, in large functions,
    emits its immediate as a register, which aborts llc (found on
    MobileNetV2's softmax output, scale 1/256). `llvm.arithmetic.fence` after
    each conversion keeps that fold away and costs no instruction. Run on the
    llvm dialect, for cortex-m55.

    Before: `%f = llvm.sitofp %x : vector<4xi32> to vector<4xf32>`
    After:
    ```mlir
    %f = llvm.sitofp %x : vector<4xi32> to vector<4xf32>
    %g = llvm.call_intrinsic "llvm.arithmetic.fence"(%f) : (vector<4xf32>) -> vector<4xf32>
    ```
  }];
}

def SparseEncVectorizeIm2col
    : Pass<"sparse-enc-vectorize-im2col", "mlir::ModuleOp"> {
  let summary = "int8 im2col copy generics as byte gathers with constant offsets";
  let description = [{
    The front ends write a convolution's im2col as a copy `linalg.generic`,
    out[n, oh, ow, kh, kw, c] = x[n, oh*sh + kh*dh, ow*sw + kw*dw, c]; as
    loops LLVM copies it byte by byte (two instructions per byte with one
    input channel). For all-parallel int8 copies between static contiguous
    memrefs with an identity output map and an affine input map, this pass
    takes the longest run of trailing dimensions (a block of at most 128
    elements, at least 16) whose input offsets from the block's first element
    fit in 8 bits, and writes the copy as loops over the leading dimensions
    around, per 16 elements of the block, one `vector.gather` from the
    block's input base with constant offsets and one `vector.store` (a
    masked one for the tail): on cortex-m55 `vldrb.u8` gathers and
    `vstrb.8`. Other generics are left unchanged. On memrefs, before
    `convert-linalg-to-loops`.

    After (digits' first layer: 3x3 taps of one channel, a block of one
    output row, 72 bytes):
    ```mlir
    scf.for %oh = %c0 to %c8 step %c1 {
      %in = arith.addi %c0, %oh * 10
      %out = arith.addi %c0, %oh * 72
      %v0 = vector.gather %x[%in] [%offsets0], %all, %zero
          : memref<100xi8>, vector<16xi32>, vector<16xi1>, vector<16xi8> into vector<16xi8>
      vector.store %v0, %cols[%out] : memref<576xi8>, vector<16xi8>
      ...
      vector.maskedstore %cols[%out + 64], %mask8, %v4
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

def SparseEncVectorizeElementwise
    : Pass<"sparse-enc-vectorize-elementwise", "mlir::ModuleOp"> {
  let summary = "Elementwise linalg.generic on memrefs as loops around a vector loop";
  let description = [{
    A network's requantisation, activation and (de)quantisation steps are
    parallel `linalg.generic` ops whose bodies are 32-bit integer or f32
    arithmetic. As scalar loops they cost more than the matrix kernels they
    follow (~25 instructions per requantised element on cortex-m55, two
    thirds of a DS-CNN), and LLVM's loop vectoriser declines them. This pass
    rewrites each generic that is all-parallel, on memrefs, with static
    shapes, an identity output map, inputs that either walk the innermost
    dimension contiguously or do not depend on it, and a body of arith / math
    ops on types of at most 32 bits, as `scf.for` loops over the outer
    dimensions around a loop over the innermost one in steps of `lanes`:
    `vector.load` (or `vector.maskedload` under a `vector.create_mask` tail
    mask) of the walking inputs, `memref.load` + `vector.broadcast` of the
    others, every body op cloned on `vector<lanes x T>`, and a
    `vector.store` / `vector.maskedstore` of the result. When an input is
    indexed by the innermost dimension alone (per-channel values such as a
    requantisation's bias, multipliers and shifts), the vector loop goes
    outside the others instead, so that those loads do not depend on the
    inner loops and LLVM hoists them; the pixel loops then carry
    `llvm.loop.unroll.disable` when pixels are more than 508 bytes of i32
    apart (127 channels: MVE's post-increment range). Other generics (reductions, im2col
    gathers, i64 bodies) are left to `convert-linalg-to-loops`.

    Before:
    ```mlir
    linalg.generic {indexing_maps = [(d0, d1) -> (d0, d1), (d0, d1) -> (d1), (d0, d1) -> (d0, d1)],
                    iterator_types = ["parallel", "parallel"]}
        ins(%acc, %bias : memref<125x64xi32>, memref<64xi32>) outs(%out : memref<125x64xi8>) {
    ^bb0(%a: i32, %b: i32, %o: i8):
      %s = arith.addi %a, %b : i32
      %t = arith.trunci %s : i32 to i8
      linalg.yield %t : i8
    }
    ```
    After (lanes = 4; %bias is per channel, so the channel loop is outside):
    ```mlir
    scf.for %j = %c0 to %c64 step %c4 {
      scf.for %i = %c0 to %c125 step %c1 {
        %a = vector.load %acc[%i, %j] : memref<125x64xi32>, vector<4xi32>
        %b = vector.load %bias[%j] : memref<64xi32>, vector<4xi32>
        %s = arith.addi %a, %b : vector<4xi32>
        %t = arith.trunci %s : vector<4xi32> to vector<4xi8>
        vector.store %t, %out[%i, %j] : memref<125x64xi8>, vector<4xi8>
      }
    }
    ```
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", "4",
           "elements per vector step (4: one 128-bit register of i32)">
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
    "mlir::scf::SCFDialect", "mlir::vector::VectorDialect",
    "mlir::LLVM::LLVMDialect"
  ];
}

#endif // MCUSPARSE_PASSES
