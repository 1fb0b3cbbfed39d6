// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec, canonicalize)' | FileCheck %s
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec{target=cortex-m55}, canonicalize)' | FileCheck %s --check-prefix=MVE
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-matmul-to-matvec{target=cortex-m55}, sparse-enc-attach-layouts)' | FileCheck %s --check-prefix=KEEP
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-matmul-to-matvec{target=host})' | FileCheck %s --check-prefix=SPLIT
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-matmul-to-matvec{target=rv32gcv})' | FileCheck %s --check-prefix=GCV
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-matmul-to-matvec{target=rv32imc})' | FileCheck %s --check-prefix=SCALAR
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-model-to-llvm{target=cortex-m55})' | FileCheck %s --check-prefix=LLVM

// Pixel-batched CSR layer matmul Y[P, O] += X[P, K] x W[O, K]^T: blocks of
// 16 pixels (4 vectors of 4 x i32), per row of W the entries of the row,
// each a broadcast weight times 4 gathers of X (viewed 1-D) at constant
// offsets (4u + lane) * K from the scalar base p0 * K + col; the row's
// accumulators start from Y (gathered) and are scattered back (cortex-m55:
// entries read through carried pointers, see below). 21 pixels:
// one full block, then a tail block of 5 pixels (2 vectors, the second
// with one lane).

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#CSR = #sparse_enc.csr<>

// CHECK-LABEL: func.func @csr_matmul
// CHECK-SAME: (%[[V:.*]]: tensor<5xi8>, %[[C:.*]]: tensor<5xi16>, %[[P:.*]]: tensor<4xi16>, %[[X:.*]]: tensor<21x8xi8>, %[[Y:.*]]: tensor<21x3xi32>)
// CHECK-DAG: %[[TAIL1:.*]] = arith.constant dense<[true, false, false, false]> : vector<4xi1>
// CHECK-DAG: %[[ALL:.*]] = arith.constant dense<true> : vector<4xi1>
// CHECK-DAG: %[[XO0:.*]] = arith.constant dense<[0, 8, 16, 24]> : vector<4xi32>
// CHECK-DAG: %[[XO1:.*]] = arith.constant dense<[32, 40, 48, 56]> : vector<4xi32>
// CHECK-DAG: %[[YO0:.*]] = arith.constant dense<[0, 3, 6, 9]> : vector<4xi32>
// CHECK-DAG: %[[YO3:.*]] = arith.constant dense<[36, 39, 42, 45]> : vector<4xi32>
// CHECK: %[[X1:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1]] : tensor<21x8xi8> into tensor<168xi8>
// CHECK: %[[Y1:.*]] = tensor.collapse_shape %[[Y]] {{\[\[}}0, 1]] : tensor<21x3xi32> into tensor<63xi32>
// Full block: rows of W, row_ptr[r+1] carried into the next row.
// CHECK: %[[FULL:.*]]:2 = scf.for %[[R:.*]] = %c0 to %c3 step %c1 iter_args(%[[YT:.*]] = %[[Y1]], %{{.*}} = %{{.*}}) -> (tensor<63xi32>, index)
// CHECK: tensor.extract %[[P]]
// CHECK: vector.gather %[[YT]][%[[R]]] [%[[YO0]]], %[[ALL]], %{{.*}} : tensor<63xi32>, vector<4xi32>, vector<4xi1>, vector<4xi32> into vector<4xi32>
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %c1 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>)
// CHECK: %[[COL:.*]] = tensor.extract %[[C]][%[[J]]] : tensor<5xi16>
// CHECK: %[[CI:.*]] = arith.index_castui %[[COL]] : i16 to index
// CHECK: %[[W:.*]] = tensor.extract %[[V]][%[[J]]] : tensor<5xi8>
// CHECK: %[[WE:.*]] = arith.extsi %[[W]] : i8 to i32
// CHECK: %[[WV:.*]] = vector.broadcast %[[WE]] : i32 to vector<4xi32>
// CHECK: %[[XV:.*]] = vector.gather %[[X1]][%[[CI]]] [%[[XO0]]], %[[ALL]], %{{.*}} : tensor<168xi8>, vector<4xi32>, vector<4xi1>, vector<4xi8> into vector<4xi8>
// CHECK: %[[XE:.*]] = arith.extsi %[[XV]] : vector<4xi8> to vector<4xi32>
// CHECK: arith.muli %[[WV]], %[[XE]] : vector<4xi32>
// CHECK: vector.gather %[[X1]][%[[CI]]] [%[[XO1]]]
// Vectors 2 and 3 reuse the two offset vectors from a base 8 pixels on.
// CHECK: %[[CI2:.*]] = arith.addi %[[CI]], %c64 : index
// CHECK: vector.gather %[[X1]][%[[CI2]]] [%[[XO0]]]
// CHECK: vector.gather %[[X1]][%[[CI2]]] [%[[XO1]]]
// CHECK: scf.yield {{.*}} : vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>
// CHECK: vector.scatter %[[YT]][%[[R]]] [%[[YO0]]], %[[ALL]], %{{.*}} : tensor<63xi32>, vector<4xi32>, vector<4xi1>, vector<4xi32> -> tensor<63xi32>
// CHECK: vector.scatter {{.*}} [%[[YO3]]], %[[ALL]]
// Tail block (pixels 16..20): two vectors, the second with one lane.
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args(%{{.*}} = %[[FULL]]#0, %{{.*}} = %{{.*}}) -> (tensor<63xi32>, index)
// CHECK: scf.for {{.*}} -> (vector<4xi32>, vector<4xi32>)
// CHECK: vector.gather {{.*}}, %[[TAIL1]], %{{.*}} : tensor<168xi8>
// CHECK: vector.scatter {{.*}}, %[[TAIL1]], %{{.*}} : tensor<63xi32>
// CHECK: %[[OUT:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [21, 3] : tensor<63xi32> into tensor<21x3xi32>
// CHECK: return %[[OUT]]
// CHECK-NOT: sparse_enc
// CHECK-NOT: linalg.matmul
// cortex-m55: the same kernel, but the entries are read through pointers
// to the column indices and values that the entry loop advances and the
// row loop carries (a row starts where the previous one ended); the entry
// loop exits on j != row_ptr[r+1] (an scf.while), which LLVM keeps as a
// counted `dls`/`le` loop.
// MVE-LABEL: func.func @csr_matmul
// MVE: %[[CP:.*]] = llvm.inttoptr %{{.*}} : i32 to !llvm.ptr
// MVE: %[[VP:.*]] = llvm.inttoptr %{{.*}} : i32 to !llvm.ptr
// MVE: scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %[[CP]], %{{.*}} = %[[VP]]) -> (tensor<63xi32>, index, !llvm.ptr, !llvm.ptr)
// MVE: scf.while (%[[J:[^ ]*]] = %{{.*}}, {{.*}}) : (index, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, !llvm.ptr, !llvm.ptr)
// MVE: %[[MORE:.*]] = arith.cmpi ne, %[[J]], %{{.*}} : index
// MVE: scf.condition(%[[MORE]])
// MVE-NOT: tensor.extract %arg1
// MVE-NOT: tensor.extract %arg0
// MVE: llvm.load %{{.*}} : !llvm.ptr -> i16
// MVE: llvm.load %{{.*}} : !llvm.ptr -> i8
// MVE: llvm.getelementptr %{{.*}}[1] : (!llvm.ptr) -> !llvm.ptr, i16
// MVE: llvm.getelementptr %{{.*}}[1] : (!llvm.ptr) -> !llvm.ptr, i8
// MVE-COUNT-4: vector.gather
// MVE: scf.yield {{.*}} : index, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, !llvm.ptr, !llvm.ptr
// MVE: return
func.func @csr_matmul(%v: tensor<5xi8>, %ci: tensor<5xi16>, %rp: tensor<4xi16>, %x: tensor<21x8xi8>, %y: tensor<21x3xi32>) -> tensor<21x3xi32> {
  %w = sparse_enc.assemble (%v, %ci, %rp) : (tensor<5xi8>, tensor<5xi16>, tensor<4xi16>) -> tensor<3x8xi8, #CSR>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<21x8xi8>, tensor<3x8xi8, #CSR>) outs(%y : tensor<21x3xi32>) -> tensor<21x3xi32>
  return %r : tensor<21x3xi32>
}

// -----

// Y a fresh linalg.fill: the accumulators start from the fill value, Y is
// never read (no gather of it, the fill is gone). 8 pixels: only a tail
// block of 2 full vectors.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#CSR = #sparse_enc.csr<crd_bits = 8>

// CHECK-LABEL: func.func @fill_init
// CHECK: %[[E:.*]] = tensor.empty() : tensor<8x2xi32>
// CHECK-NOT: linalg.fill
// CHECK: %[[Y1:.*]] = tensor.collapse_shape %[[E]]
// CHECK: %[[S:.*]] = vector.broadcast %{{.*}} : i32 to vector<4xi32>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[Y1]], %{{.*}} = %{{.*}}) -> (tensor<16xi32>, index)
// CHECK-NOT: vector.gather %{{.*}} : tensor<16xi32>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[S]], %{{.*}} = %[[S]]) -> (vector<4xi32>, vector<4xi32>)
// CHECK: arith.index_castui %{{.*}} : i8 to index
// CHECK: vector.scatter
// CHECK: vector.scatter
// CHECK-NOT: sparse_enc
func.func @fill_init(%v: tensor<3xi8>, %ci: tensor<3xi8>, %rp: tensor<3xi16>, %x: tensor<8x5xi8>, %b: i32) -> tensor<8x2xi32> {
  %w = sparse_enc.assemble (%v, %ci, %rp) : (tensor<3xi8>, tensor<3xi8>, tensor<3xi16>) -> tensor<2x5xi8, #CSR>
  %e = tensor.empty() : tensor<8x2xi32>
  %y = linalg.fill ins(%b : i32) outs(%e : tensor<8x2xi32>) -> tensor<8x2xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<8x5xi8>, tensor<2x5xi8, #CSR>) outs(%y : tensor<8x2xi32>) -> tensor<8x2xi32>
  return %r : tensor<8x2xi32>
}

// -----

// sparse-enc-matmul-to-matvec keeps a CSR or dense int8 layer whole on
// cortex-m55 (marked sparse_enc.batched) and attach-layouts accepts it;
// rv32imc keeps both too (scalar kernels: lower-sparse-matmul-rv32imc.mlir);
// rv32gcv keeps both (short CSR rows: the generic pixel-batched kernel;
// dense: the kernel that reads each weight once,
// dense-weights-once-rvv.mlir); host splits both into matvecs.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @layers
// KEEP-LABEL: func.func @layers
// KEEP: %[[WS:.*]] = arith.constant {mcusparse.layer = 0 : i64} dense<{{.*}}> : tensor<4x8xi8, #sparse_enc.csr<>>
// KEEP: %[[WD:.*]] = arith.constant {mcusparse.layer = 1 : i64} dense<1> : tensor<4x8xi8>
// KEEP: linalg.matmul indexing_maps = {{.*}} {sparse_enc.batched} ins(%{{.*}}, %[[WS]] : tensor<6x8xi8>, tensor<4x8xi8, #sparse_enc.csr<>>)
// KEEP: linalg.matmul indexing_maps = {{.*}} {sparse_enc.batched} ins(%{{.*}}, %[[WD]] : tensor<6x8xi8>, tensor<4x8xi8>)
// KEEP-NOT: linalg.matvec
// SPLIT-LABEL: func.func @layers
// SPLIT-NOT: linalg.matmul
// SPLIT-NOT: sparse_enc.batched
// SPLIT-COUNT-2: linalg.matvec
// SCALAR-LABEL: func.func @layers
// SCALAR-COUNT-2: linalg.matmul indexing_maps = {{.*}} {sparse_enc.batched} ins(%{{.*}}, %{{.*}} : tensor<6x8xi8>, tensor<4x8xi8>)
// SCALAR-NOT: linalg.matvec
// GCV-LABEL: func.func @layers
// GCV-COUNT-2: linalg.matmul indexing_maps = {{.*}} {sparse_enc.batched} ins(%{{.*}}, %{{.*}} : tensor<6x8xi8>, tensor<4x8xi8>)
// GCV-NOT: linalg.matvec
// LLVM-LABEL: llvm.func @layers
// LLVM-NOT: sparse_enc
// LLVM-NOT: linalg
func.func @layers(%x: tensor<6x8xi8>, %y: tensor<6x4xi32>) -> (tensor<6x4xi32>, tensor<6x4xi32>) {
  %ws = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.layout = #sparse_enc.csr<>}
      dense<[[0, 3, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [-7, 0, 0, 5, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 2, 0]]> : tensor<4x8xi8>
  %wd = arith.constant {mcusparse.layer = 1 : i64} dense<1> : tensor<4x8xi8>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %ws : tensor<6x8xi8>, tensor<4x8xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  %s = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %wd : tensor<6x8xi8>, tensor<4x8xi8>) outs(%y : tensor<6x4xi32>) -> tensor<6x4xi32>
  return %r, %s : tensor<6x4xi32>, tensor<6x4xi32>
}

// -----

// Register-blocked dense layer matmul: blocks of 3 pixels x 2 rows share
// every vector load (5 reads and 6 widening dot products per 16 columns);
// 7 pixels and 5 rows leave a tail pixel and a tail row, 40 columns a
// masked step of 8 (vector-length 16, dense-rows 4: the pass defaults). Y is a fresh fill: the accumulators start from its
// value and Y is never read.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @dense_matmul
// CHECK-SAME: (%[[X:.*]]: tensor<7x40xi8>, %[[W:.*]]: tensor<5x40xi8>)
// CHECK-DAG: %[[TAIL:.*]] = arith.constant dense<[true, true, true, true, true, true, true, true, false, false, false, false, false, false, false, false]> : vector<16xi1>
// CHECK-DAG: %[[Z:.*]] = arith.constant 0 : i32
// CHECK: %[[E:.*]] = tensor.empty() : tensor<7x5xi32>
// CHECK: scf.for %[[P:.*]] = %c0 to %c6 step %c3 iter_args(%{{.*}} = %[[E]])
// CHECK: scf.for %[[O:.*]] = %c0 to %c4 step %c2 iter_args(
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c16 iter_args(%{{.*}} = %[[Z]], %{{.*}} = %[[Z]], %{{.*}} = %[[Z]], %{{.*}} = %[[Z]], %{{.*}} = %[[Z]], %{{.*}} = %[[Z]]) -> (i32, i32, i32, i32, i32, i32)
// CHECK-COUNT-3: vector.transfer_read %[[X]]
// CHECK-COUNT-2: vector.transfer_read %[[W]]
// CHECK-COUNT-6: vector.reduction <add>
// CHECK: scf.yield
// CHECK: vector.transfer_read %[[X]][%[[P]], %c32], %{{.*}}, %[[TAIL]]
// CHECK-COUNT-6: tensor.insert
// The tail row of the 3-pixel blocks (3 accumulators), then the tail pixel
// as a matvec: a block of 4 rows and its tail row (single-trip loops fold).
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c16 iter_args({{.*}}) -> (i32, i32, i32)
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c16 iter_args({{.*}}) -> (i32, i32, i32, i32)
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c16 iter_args({{.*}}) -> (i32)
// CHECK-NOT: linalg.matmul
// CHECK-NOT: linalg.fill
// CHECK-NOT: tensor.extract %
// CHECK: return
// On cortex-m55 each int8 dot product is the vmlava.s8 intrinsic (generic IR
// loses it once LLVM unrolls a short column loop).
// LLVM-LABEL: llvm.func @dense_matmul
// LLVM: llvm.call_intrinsic "llvm.arm.mve.vmldava"({{.*}}) : (i32, i32, i32, i32, vector<16xi8>, vector<16xi8>) -> i32
// LLVM-NOT: vector.reduction
// LLVM-NOT: linalg
func.func @dense_matmul(%x: tensor<7x40xi8>, %w: tensor<5x40xi8>) -> tensor<7x5xi32> {
  %e = tensor.empty() : tensor<7x5xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<7x5xi32>) -> tensor<7x5xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y] {sparse_enc.batched}
      ins(%x, %w : tensor<7x40xi8>, tensor<5x40xi8>) outs(%f : tensor<7x5xi32>) -> tensor<7x5xi32>
  return %r : tensor<7x5xi32>
}

// -----

// cortex-m55, a CSR layer with at least 12 entries per row on average (here
// 13): the row-gather kernel. Blocks of 4 pixels (9 pixels: two blocks, then
// a block of 1); per row of W one tail-predicated loop over its entries
// loads values and 8-bit column indices once and gathers X for each pixel
// of the block at p * K + column. The fill value starts the accumulators;
// Y is neither read nor scattered. (With fewer entries per row the same
// matmul takes the pixel-batched kernel above.)

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#CSR8 = #sparse_enc.csr<crd_bits = 8>

// MVE-LABEL: func.func @csr_matmul_rows
// MVE-SAME: (%[[V:.*]]: tensor<26xi8>, %[[CI:.*]]: tensor<26xi8>, %[[RP:.*]]: tensor<3xi16>, %[[X:.*]]: tensor<9x40xi8>)
// MVE: %[[X1:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1]] : tensor<9x40xi8> into tensor<360xi8>
// MVE: scf.for %[[P0:.*]] = %c0 to %c8 step %c4 iter_args(
// MVE: %[[B0:.*]] = arith.muli %[[P0]], %c40 : index
// MVE: %[[Y0:.*]] = arith.muli %[[P0]], %c2 : index
// row_ptr[r + 1] read through a pointer the row loop advances.
// MVE: scf.for %[[R:.*]] = %c0 to %c2 step %c1 iter_args({{.*}}) -> (tensor<18xi32>, index, !llvm.ptr)
// MVE: llvm.load %{{.*}} : !llvm.ptr -> i16
// The block's four Y positions: one per row plus constants (one address
// register and immediate offsets for the stores).
// MVE: %[[AT0:.*]] = arith.addi %[[Y0]], %[[R]] : index
// MVE: arith.addi %[[AT0]], %c2 : index
// MVE: arith.addi %[[AT0]], %c4 : index
// MVE: arith.addi %[[AT0]], %c6 : index
// MVE: scf.while ({{.*}}) : (index, i32, i32, i32, i32) -> (index, i32, i32, i32, i32)
// MVE: %[[M:.*]] = llvm.intr.get.active.lane.mask
// MVE: vector.transfer_read %[[V]][%{{.*}}], %{{.*}}, %[[M]]
// MVE: vector.transfer_read %[[CI]][%{{.*}}], %{{.*}}, %[[M]]
// MVE: vector.gather %[[X1]][%[[B0]]] [%{{.*}}], %[[M]]
// MVE-COUNT-3: vector.gather %[[X1]]
// MVE: scf.condition
// The last pixel: one accumulator.
// MVE: scf.while ({{.*}}) : (index, i32) -> (index, i32)
// MVE: tensor.expand_shape
// MVE-NOT: vector.scatter
// MVE-NOT: linalg.matmul
func.func @csr_matmul_rows(%v: tensor<26xi8>, %ci: tensor<26xi8>, %rp: tensor<3xi16>, %x: tensor<9x40xi8>) -> tensor<9x2xi32> {
  %w = sparse_enc.assemble (%v, %ci, %rp) : (tensor<26xi8>, tensor<26xi8>, tensor<3xi16>) -> tensor<2x40xi8, #CSR8>
  %e = tensor.empty() : tensor<9x2xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<9x2xi32>) -> tensor<9x2xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<9x40xi8>, tensor<2x40xi8, #CSR8>) outs(%f : tensor<9x2xi32>) -> tensor<9x2xi32>
  return %r : tensor<9x2xi32>
}

// -----

// cortex-m55, at least 32 pixels and 4 to 48 entries per row on average:
// the row-resident kernel. A row of up to 16 entries is one pass: its
// values and column indices are read once under get.active.lane.mask(0, n)
// (one `vctp`), the indices plus K, 2K and 3K make four offset vectors
// (K = 40), and the pixel loop (kept rolled: llvm.loop.unroll.disable)
// takes 4 pixels per iteration, each one `vldrb.u8` gather (the MVE
// intrinsic) from x + p0 * K and one `vmlav` whose sum is stored to Y (the
// fill is the start: Y is not read). Pixels 32 and 33 are the tail. A
// longer row starts with a pass of two steps (both gathers and `vmlava`s
// into one sum per pixel, two offset vectors per step), and its later
// steps, one pass each from begin + 32, add to Y.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#CSR8 = #sparse_enc.csr<crd_bits = 8>

// MVE: #[[NOUNROLL:.*]] = #llvm.loop_unroll<disable = true>
// MVE: #[[ROLLED:.*]] = #llvm.loop_annotation<unroll = #[[NOUNROLL]]>
// MVE-LABEL: func.func @csr_matmul_row_resident
// MVE-SAME: (%[[V:.*]]: tensor<10xi8>, %[[CI:.*]]: tensor<10xi8>, %[[RP:.*]]: tensor<3xi16>, %[[X:.*]]: tensor<34x40xi8>)
// MVE-DAG: %[[K1:.*]] = arith.constant dense<40> : vector<16xi8>
// MVE-DAG: %[[K2:.*]] = arith.constant dense<80> : vector<16xi8>
// MVE-DAG: %[[K3:.*]] = arith.constant dense<120> : vector<16xi8>
// MVE: %[[X1:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1]] : tensor<34x40xi8> into tensor<1360xi8>
// MVE: %[[XP:.*]] = llvm.inttoptr
// MVE: scf.for %[[R:.*]] = %c0 to %c2 step %c1 iter_args(%{{.*}} = %{{.*}}, %[[BEGIN:.*]] = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<68xi32>, index, !llvm.ptr)
// MVE: %[[END:.*]] = arith.index_castui %{{.*}} : i16 to index
// MVE: %[[N:.*]] = arith.subi %[[END]], %[[BEGIN]] : index
// MVE: %[[LONG:.*]] = arith.cmpi ugt, %[[N]], %c16 : index
// MVE: scf.if %[[LONG]] -> (tensor<68xi32>) {
// A pass of two steps: two masks, two value and index reads, one extra
// offset vector each (+K), two gathers and two `vmlava`s per pixel.
// MVE: %[[VA:.*]] = vector.transfer_read %[[V]][%[[BEGIN]]]
// MVE: %[[CA:.*]] = vector.transfer_read %[[CI]][%[[BEGIN]]]
// MVE: %[[K16:.*]] = arith.addi %[[BEGIN]], %c16 : index
// MVE: llvm.intr.get.active.lane.mask
// MVE: %[[VB:.*]] = vector.transfer_read %[[V]][%[[K16]]]
// MVE: %[[CB:.*]] = vector.transfer_read %[[CI]][%[[K16]]]
// MVE: scf.for %{{.*}} = %c0 to %c32 step %c4
// MVE: %[[GA:.*]] = llvm.call_intrinsic "llvm.arm.mve.vldr.gather.offset"(%[[PB:.*]], %[[CA]],
// MVE: %[[SA:.*]] = llvm.call_intrinsic "llvm.arm.mve.vmldava"(%{{.*}}, %{{.*}}, %{{.*}}, %c0_i32, %[[VA]], %[[GA]])
// MVE: %[[GB:.*]] = llvm.call_intrinsic "llvm.arm.mve.vldr.gather.offset"(%[[PB]], %[[CB]],
// MVE: llvm.call_intrinsic "llvm.arm.mve.vmldava"(%{{.*}}, %{{.*}}, %{{.*}}, %[[SA]], %[[VB]], %[[GB]])
// MVE: } {loop_annotation = #[[ROLLED]]}
// MVE: %[[K32:.*]] = arith.addi %[[BEGIN]], %c32 : index
// MVE: scf.for %{{.*}} = %[[K32]] to %[[END]] step %c16
// MVE: scf.for %{{.*}} = %c0 to %c32 step %c4
// MVE: %[[Y0:.*]] = tensor.extract
// MVE: llvm.call_intrinsic "llvm.arm.mve.vmldava"(%{{.*}}, %{{.*}}, %{{.*}}, %[[Y0]],
// MVE: } else {
// One pass of one step.
// MVE: %[[M:.*]] = llvm.intr.get.active.lane.mask %c0_i32, %{{.*}} : i32, i32 to vector<16xi1>
// MVE: %[[VV:.*]] = vector.transfer_read %[[V]][%[[BEGIN]]], %{{.*}}, %[[M]]
// MVE: %[[CV:.*]] = vector.transfer_read %[[CI]][%[[BEGIN]]], %{{.*}}, %[[M]]
// MVE: %[[O1:.*]] = arith.addi %[[CV]], %[[K1]] : vector<16xi8>
// MVE: arith.addi %[[CV]], %[[K2]] : vector<16xi8>
// MVE: arith.addi %[[CV]], %[[K3]] : vector<16xi8>
// MVE: scf.for %[[P0:.*]] = %c0 to %c32 step %c4 iter_args(%{{.*}} = %{{.*}}) -> (tensor<68xi32>)
// MVE: %[[B:.*]] = arith.muli %[[P0]], %c40 : index
// MVE: %[[B32:.*]] = arith.index_cast %[[B]] : index to i32
// MVE: %[[BP:.*]] = llvm.getelementptr %[[XP]][%[[B32]]]
// MVE: %[[G0:.*]] = llvm.call_intrinsic "llvm.arm.mve.vldr.gather.offset"(%[[BP]], %[[CV]], %{{.*}}, %{{.*}}, %{{.*}}) : (!llvm.ptr, vector<16xi8>, i32, i32, i32) -> vector<16xi8>
// MVE: %[[S0:.*]] = llvm.call_intrinsic "llvm.arm.mve.vmldava"(%{{.*}}, %{{.*}}, %{{.*}}, %c0_i32, %[[VV]], %[[G0]])
// MVE: tensor.insert %[[S0]]
// MVE: llvm.call_intrinsic "llvm.arm.mve.vldr.gather.offset"(%{{.*}}, %[[O1]],
// MVE-COUNT-2: llvm.call_intrinsic "llvm.arm.mve.vldr.gather.offset"
// MVE: scf.yield
// MVE-NEXT: } {loop_annotation = #[[ROLLED]]}
// Tail pixels 32 and 33.
// MVE-COUNT-2: llvm.getelementptr %[[XP]][1280]
// MVE: tensor.expand_shape
// MVE-NOT: vector.gather
// MVE-NOT: vector.scatter
// MVE-NOT: scf.while
// MVE-NOT: linalg.matmul
func.func @csr_matmul_row_resident(%v: tensor<10xi8>, %ci: tensor<10xi8>, %rp: tensor<3xi16>, %x: tensor<34x40xi8>) -> tensor<34x2xi32> {
  %w = sparse_enc.assemble (%v, %ci, %rp) : (tensor<10xi8>, tensor<10xi8>, tensor<3xi16>) -> tensor<2x40xi8, #CSR8>
  %e = tensor.empty() : tensor<34x2xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<34x2xi32>) -> tensor<34x2xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<34x40xi8>, tensor<2x40xi8, #CSR8>) outs(%f : tensor<34x2xi32>) -> tensor<34x2xi32>
  return %r : tensor<34x2xi32>
}

// -----

// The same layer with K = 200 (8-bit indices): one offset vector (d * K +
// K - 1 > 255 for d = 1), so each of the 4 pixels gathers with the row's
// indices from its own base (p0 + u) * K.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#CSR8 = #sparse_enc.csr<crd_bits = 8>

// MVE-LABEL: func.func @csr_matmul_row_resident_wide
// MVE: %[[CV:.*]] = vector.transfer_read %arg1
// MVE-NOT: arith.addi %[[CV]]
// MVE: scf.for %[[P0:.*]] = %c0 to %c32 step %c4
// MVE: arith.muli %[[P0]], %c200 : index
// MVE: llvm.call_intrinsic "llvm.arm.mve.vldr.gather.offset"(%{{.*}}, %[[CV]],
// MVE: %[[P1:.*]] = arith.addi %[[P0]], %c1 : index
// MVE: arith.muli %[[P1]], %c200 : index
// MVE: llvm.call_intrinsic "llvm.arm.mve.vldr.gather.offset"(%{{.*}}, %[[CV]],
// MVE: %[[P3:.*]] = arith.addi %[[P0]], %c3 : index
// MVE: arith.muli %[[P3]], %c200 : index
// MVE: llvm.call_intrinsic "llvm.arm.mve.vldr.gather.offset"(%{{.*}}, %[[CV]],
// MVE: return
func.func @csr_matmul_row_resident_wide(%v: tensor<10xi8>, %ci: tensor<10xi8>, %rp: tensor<3xi16>, %x: tensor<34x200xi8>) -> tensor<34x2xi32> {
  %w = sparse_enc.assemble (%v, %ci, %rp) : (tensor<10xi8>, tensor<10xi8>, tensor<3xi16>) -> tensor<2x200xi8, #CSR8>
  %e = tensor.empty() : tensor<34x2xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<34x2xi32>) -> tensor<34x2xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<34x200xi8>, tensor<2x200xi8, #CSR8>) outs(%f : tensor<34x2xi32>) -> tensor<34x2xi32>
  return %r : tensor<34x2xi32>
}

// -----

// Fewer than 6 entries per row over fewer than 32 pixels (here 5 over 20):
// the pixel-batched kernel stays.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#CSR8 = #sparse_enc.csr<crd_bits = 8>

// MVE-LABEL: func.func @csr_matmul_few_pixels
// MVE-NOT: llvm.arm.mve.vldr.gather.offset
// MVE: vector.scatter
// MVE: return
func.func @csr_matmul_few_pixels(%v: tensor<10xi8>, %ci: tensor<10xi8>, %rp: tensor<3xi16>, %x: tensor<20x40xi8>) -> tensor<20x2xi32> {
  %w = sparse_enc.assemble (%v, %ci, %rp) : (tensor<10xi8>, tensor<10xi8>, tensor<3xi16>) -> tensor<2x40xi8, #CSR8>
  %e = tensor.empty() : tensor<20x2xi32>
  %z = arith.constant 0 : i32
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<20x2xi32>) -> tensor<20x2xi32>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<20x40xi8>, tensor<2x40xi8, #CSR8>) outs(%f : tensor<20x2xi32>) -> tensor<20x2xi32>
  return %r : tensor<20x2xi32>
}

// -----

// rv32gcv splits a CSR layer with long rows (64 entries) over few pixels
// (6): one 32-lane matvec per pixel beats the pixel-batched kernel there.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @long_rows
// MVE-LABEL: func.func @long_rows
// GCV-LABEL: func.func @long_rows
// GCV-NOT: sparse_enc.batched
// GCV: linalg.matvec
// GCV-NOT: linalg.matmul
func.func @long_rows(%x: tensor<6x64xi8>, %y: tensor<6x2xi32>) -> tensor<6x2xi32> {
  %w = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.layout = #sparse_enc.csr<>} dense<3> : tensor<2x64xi8>
  %r = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<6x64xi8>, tensor<2x64xi8>) outs(%y : tensor<6x2xi32>) -> tensor<6x2xi32>
  return %r : tensor<6x2xi32>
}
