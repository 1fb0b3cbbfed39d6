// RUN: sparse-opt %s --split-input-file --sparse-enc-partial-execution=peak-bytes=400 --verify-diagnostics | FileCheck %s
// RUN: sparse-opt %s --split-input-file --sparse-enc-partial-execution=peak-bytes=512 | FileCheck %s --check-prefix=WHOLE
// RUN: sparse-opt %s --split-input-file --sparse-enc-partial-execution | FileCheck %s --check-prefix=WHOLE
// RUN: sparse-opt %s --split-input-file --sparse-enc-partial-execution="peak-bytes=400 tile-pixels=2" | FileCheck %s --check-prefix=WHOLE

// An inverted-residual block as the front ends emit it: expand (1x1 conv,
// 16 channels), requantise, pad, depthwise 3x3, requantise, project (1x1
// conv, 2 channels). Its estimated peak is 512 bytes (the padded input and
// the depthwise accumulator, live together); in two slices of 8 channels,
// 288 (the projection's accumulator, live across the slices, and the two
// slice-sized buffers). With peak-bytes=400 the chain runs in two slices:
// each weight cut at compile time (the rows of the expansion, the depthwise
// channels, the bias, the columns of the projection, with their layer tags
// and layouts), the projection accumulating into one result. With 512 (or
// 0, off) it runs whole, and so it does at 400 with tile-pixels=2: the
// int32 results that sparse-enc-tile-accumulators will compute two pixels
// (one row) at a time count as one tile, and the whole chain's peak is
// then 384 bytes.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch4 = affine_map<(d0, d1, d2, d3) -> (d3)>
#dwx = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d5, d2 + d6, d3)>
#dww = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d3, d4, d5, d6)>
#dwo = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4)>

// CHECK-LABEL: func.func @block
// CHECK-SAME: (%[[X:.*]]: tensor<4x3xi8>)
// Nothing of 16 channels is left (the whole chain stood here).
// CHECK-NOT: x16x
// CHECK-NOT: tensor<16x
// CHECK: %[[ACC:.*]] = linalg.fill ins(%{{.*}} : i32) outs(%{{.*}} : tensor<4x2xi32>)
// Slice 0: channels 0..7.
// CHECK: %[[W1A:.*]] = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.layout = #sparse_enc.csr<>} dense<{{\[\[}}0, 1, 2], {{.*}}, [21, 22, 23]]> : tensor<8x3xi8>
// CHECK: %[[EA:.*]] = linalg.matmul {{.*}} ins(%[[X]], %[[W1A]] : tensor<4x3xi8>, tensor<8x3xi8>) outs(%{{.*}} : tensor<4x8xi32>)
// CHECK: tensor.collapse_shape %[[EA]] {{\[\[}}0, 1]] : tensor<4x8xi32> into tensor<32xi32>
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2, 3]] output_shape [1, 2, 2, 8] : tensor<32xi32> into tensor<1x2x2x8xi32>
// CHECK: arith.constant dense<[0, 10, 20, 30, 40, 50, 60, 70]> : tensor<8xi32>
// CHECK: linalg.generic
// CHECK: } -> tensor<1x2x2x8xi8>
// CHECK: tensor.pad %{{.*}} low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: } : tensor<1x2x2x8xi8> to tensor<1x4x4x8xi8>
// CHECK: %[[WDA:.*]] = arith.constant {mcusparse.layer = 1 : i64} dense<{{\[\[}}0, 1, 2, 3, 4, 5, 6, 0, 1], {{.*}}> : tensor<8x9xi8>
// CHECK: tensor.expand_shape %[[WDA]] {{\[\[}}0, 1], [2, 3]] output_shape [8, 1, 3, 3] : tensor<8x9xi8> into tensor<8x1x3x3xi8>
// CHECK: linalg.generic
// CHECK: } -> tensor<1x2x2x8x1xi32>
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2, 3, 4]] : tensor<1x2x2x8x1xi32> into tensor<32xi32>
// CHECK: linalg.generic
// CHECK: } -> tensor<4x8xi8>
// CHECK: %[[W2A:.*]] = arith.constant {mcusparse.layer = 2 : i64, sparse_enc.layout = #sparse_enc.csr<>} dense<{{\[\[}}0, 1, 2, 3, 4, 5, 6, 7], [16, 17, 18, 19, 20, 21, 22, 23]]> : tensor<2x8xi8>
// CHECK: %[[YA:.*]] = linalg.matmul {{.*}} ins(%{{.*}}, %[[W2A]] : tensor<4x8xi8>, tensor<2x8xi8>) outs(%[[ACC]] : tensor<4x2xi32>)
// Slice 1: channels 8..15, accumulated into slice 0's result.
// CHECK: %[[W1B:.*]] = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.layout = #sparse_enc.csr<>} dense<{{\[\[}}24, 25, 26], {{.*}}, [45, 46, 47]]> : tensor<8x3xi8>
// CHECK: linalg.matmul {{.*}} ins(%[[X]], %[[W1B]] : tensor<4x3xi8>, tensor<8x3xi8>)
// CHECK: arith.constant dense<[80, 90, 100, 110, 120, 130, 140, 150]> : tensor<8xi32>
// CHECK: arith.constant {mcusparse.layer = 1 : i64} dense<{{\[\[}}2, 3, 4, 5, 6, 0, 1, 2, 3], {{.*}}, [2, 3, 4, 5, 6, 0, 1, 2, 9]]> : tensor<8x9xi8>
// CHECK: %[[W2B:.*]] = arith.constant {{.*}} dense<{{\[\[}}8, 9, 10, 11, 12, 13, 14, 15], [24, 25, 26, 27, 28, 29, 30, 31]]> : tensor<2x8xi8>
// CHECK: %[[YB:.*]] = linalg.matmul {{.*}} ins(%{{.*}}, %[[W2B]] : tensor<4x8xi8>, tensor<2x8xi8>) outs(%[[YA]] : tensor<4x2xi32>)
// CHECK: return %[[YB]] : tensor<4x2xi32>

// WHOLE-LABEL: func.func @block
// WHOLE: linalg.matmul {{.*}} tensor<16x3xi8>
// WHOLE: linalg.generic
// WHOLE: } -> tensor<1x2x2x16x1xi32>
// WHOLE: linalg.matmul {{.*}} tensor<2x16xi8>
// WHOLE-NOT: linalg.matmul
// WHOLE: return %{{.*}} : tensor<4x2xi32>
func.func @block(%x: tensor<4x3xi8>) -> tensor<4x2xi32> {
  %zero = arith.constant 0 : i32
  %w1 = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.layout = #sparse_enc.csr<>} dense<[[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11], [12, 13, 14], [15, 16, 17], [18, 19, 20], [21, 22, 23], [24, 25, 26], [27, 28, 29], [30, 31, 32], [33, 34, 35], [36, 37, 38], [39, 40, 41], [42, 43, 44], [45, 46, 47]]> : tensor<16x3xi8>
  %e0 = tensor.empty() : tensor<4x16xi32>
  %f0 = linalg.fill ins(%zero : i32) outs(%e0 : tensor<4x16xi32>) -> tensor<4x16xi32>
  %expand = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w1 : tensor<4x3xi8>, tensor<16x3xi8>) outs(%f0 : tensor<4x16xi32>) -> tensor<4x16xi32>
  %flat = tensor.collapse_shape %expand [[0, 1]] : tensor<4x16xi32> into tensor<64xi32>
  %img = tensor.expand_shape %flat [[0, 1, 2, 3]] output_shape [1, 2, 2, 16] : tensor<64xi32> into tensor<1x2x2x16xi32>
  %bias = arith.constant dense<[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150]> : tensor<16xi32>
  %e1 = tensor.empty() : tensor<1x2x2x16xi8>
  %q = linalg.generic {indexing_maps = [#id4, #ch4, #id4],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%img, %bias : tensor<1x2x2x16xi32>, tensor<16xi32>) outs(%e1 : tensor<1x2x2x16xi8>) {
  ^bb0(%a: i32, %b: i32, %o: i8):
    %s = arith.addi %a, %b : i32
    %t = arith.trunci %s : i32 to i8
    linalg.yield %t : i8
  } -> tensor<1x2x2x16xi8>
  %pad_value = arith.constant 0 : i8
  %padded = tensor.pad %q low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %pad_value : i8
  } : tensor<1x2x2x16xi8> to tensor<1x4x4x16xi8>
  %wd = arith.constant {mcusparse.layer = 1 : i64} dense<[[0, 1, 2, 3, 4, 5, 6, 0, 1], [2, 3, 4, 5, 6, 0, 1, 2, 3], [4, 5, 6, 0, 1, 2, 3, 4, 5], [6, 0, 1, 2, 3, 4, 5, 6, 0], [1, 2, 3, 4, 5, 6, 0, 1, 2], [3, 4, 5, 6, 0, 1, 2, 3, 4], [5, 6, 0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 4, 5, 6, 0, 1], [2, 3, 4, 5, 6, 0, 1, 2, 3], [4, 5, 6, 0, 1, 2, 3, 4, 5], [6, 0, 1, 2, 3, 4, 5, 6, 0], [1, 2, 3, 4, 5, 6, 0, 1, 2], [3, 4, 5, 6, 0, 1, 2, 3, 4], [5, 6, 0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 4, 5, 6, 0, 1], [2, 3, 4, 5, 6, 0, 1, 2, 9]]> : tensor<16x9xi8>
  %wd4 = tensor.expand_shape %wd [[0, 1], [2, 3]] output_shape [16, 1, 3, 3] : tensor<16x9xi8> into tensor<16x1x3x3xi8>
  %e2 = tensor.empty() : tensor<1x2x2x16x1xi32>
  %f2 = linalg.fill ins(%zero : i32) outs(%e2 : tensor<1x2x2x16x1xi32>) -> tensor<1x2x2x16x1xi32>
  %dw = linalg.generic {indexing_maps = [#dwx, #dww, #dwo],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%padded, %wd4 : tensor<1x4x4x16xi8>, tensor<16x1x3x3xi8>) outs(%f2 : tensor<1x2x2x16x1xi32>) {
  ^bb0(%a: i8, %b: i8, %o: i32):
    %a32 = arith.extsi %a : i8 to i32
    %b32 = arith.extsi %b : i8 to i32
    %m = arith.muli %a32, %b32 : i32
    %s = arith.addi %o, %m : i32
    linalg.yield %s : i32
  } -> tensor<1x2x2x16x1xi32>
  %dflat = tensor.collapse_shape %dw [[0, 1, 2, 3, 4]] : tensor<1x2x2x16x1xi32> into tensor<64xi32>
  %rows = tensor.expand_shape %dflat [[0, 1]] output_shape [4, 16] : tensor<64xi32> into tensor<4x16xi32>
  %e3 = tensor.empty() : tensor<4x16xi8>
  %q2 = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%rows : tensor<4x16xi32>) outs(%e3 : tensor<4x16xi8>) {
  ^bb0(%a: i32, %o: i8):
    %t = arith.trunci %a : i32 to i8
    linalg.yield %t : i8
  } -> tensor<4x16xi8>
  %w2 = arith.constant {mcusparse.layer = 2 : i64, sparse_enc.layout = #sparse_enc.csr<>} dense<[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31]]> : tensor<2x16xi8>
  %e4 = tensor.empty() : tensor<4x2xi32>
  %f4 = linalg.fill ins(%zero : i32) outs(%e4 : tensor<4x2xi32>) -> tensor<4x2xi32>
  %project = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%q2, %w2 : tensor<4x16xi8>, tensor<2x16xi8>) outs(%f4 : tensor<4x2xi32>) -> tensor<4x2xi32>
  return %project : tensor<4x2xi32>
}

// -----

// The projection's int32 accumulator is as large as the expansion's result
// (16 channels in, 16 out): in slices it would stay live beside the slices
// (an estimated 416 bytes against 320 whole), so the chain runs whole
// although its peak is above peak-bytes.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>

// CHECK-LABEL: func.func @accumulator_as_large
// CHECK: linalg.matmul {{.*}} tensor<16x3xi8>
// CHECK: linalg.generic
// CHECK: linalg.matmul {{.*}} tensor<16x16xi8>
// CHECK-NOT: linalg.matmul
func.func @accumulator_as_large(%x: tensor<4x3xi8>) -> tensor<4x16xi32> {
  %zero = arith.constant 0 : i32
  %w1 = arith.constant {mcusparse.layer = 0 : i64} dense<1> : tensor<16x3xi8>
  %e0 = tensor.empty() : tensor<4x16xi32>
  %f0 = linalg.fill ins(%zero : i32) outs(%e0 : tensor<4x16xi32>) -> tensor<4x16xi32>
  %expand = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w1 : tensor<4x3xi8>, tensor<16x3xi8>) outs(%f0 : tensor<4x16xi32>) -> tensor<4x16xi32>
  %e1 = tensor.empty() : tensor<4x16xi8>
  %q = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%expand : tensor<4x16xi32>) outs(%e1 : tensor<4x16xi8>) {
  ^bb0(%a: i32, %o: i8):
    %t = arith.trunci %a : i32 to i8
    linalg.yield %t : i8
  } -> tensor<4x16xi8>
  %w2 = arith.constant {mcusparse.layer = 1 : i64} dense<2> : tensor<16x16xi8>
  %e2 = tensor.empty() : tensor<4x16xi32>
  %f2 = linalg.fill ins(%zero : i32) outs(%e2 : tensor<4x16xi32>) -> tensor<4x16xi32>
  %project = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%q, %w2 : tensor<4x16xi8>, tensor<16x16xi8>) outs(%f2 : tensor<4x16xi32>) -> tensor<4x16xi32>
  return %project : tensor<4x16xi32>
}

// -----

// Not chains: an intermediate read twice (it must exist whole), an op that
// reads its own position (linalg.index: slices would shift it), and a
// weight with precomputed CSE-CSR buffers (they describe the whole matrix).
// Each would slice (whole peak 320 bytes) if it were a chain.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>

// CHECK-LABEL: func.func @read_twice
// CHECK: linalg.matmul {{.*}} tensor<16x3xi8>
// CHECK: linalg.matmul {{.*}} tensor<2x16xi8>
// CHECK-NOT: linalg.matmul
func.func @read_twice(%x: tensor<4x3xi8>) -> (tensor<4x2xi32>, tensor<4x16xi8>) {
  %zero = arith.constant 0 : i32
  %w1 = arith.constant {mcusparse.layer = 0 : i64} dense<1> : tensor<16x3xi8>
  %e0 = tensor.empty() : tensor<4x16xi32>
  %f0 = linalg.fill ins(%zero : i32) outs(%e0 : tensor<4x16xi32>) -> tensor<4x16xi32>
  %expand = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w1 : tensor<4x3xi8>, tensor<16x3xi8>) outs(%f0 : tensor<4x16xi32>) -> tensor<4x16xi32>
  %e1 = tensor.empty() : tensor<4x16xi8>
  %q = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%expand : tensor<4x16xi32>) outs(%e1 : tensor<4x16xi8>) {
  ^bb0(%a: i32, %o: i8):
    %t = arith.trunci %a : i32 to i8
    linalg.yield %t : i8
  } -> tensor<4x16xi8>
  %w2 = arith.constant {mcusparse.layer = 1 : i64} dense<2> : tensor<2x16xi8>
  %e2 = tensor.empty() : tensor<4x2xi32>
  %f2 = linalg.fill ins(%zero : i32) outs(%e2 : tensor<4x2xi32>) -> tensor<4x2xi32>
  %project = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%q, %w2 : tensor<4x16xi8>, tensor<2x16xi8>) outs(%f2 : tensor<4x2xi32>) -> tensor<4x2xi32>
  return %project, %q : tensor<4x2xi32>, tensor<4x16xi8>
}

// CHECK-LABEL: func.func @reads_its_position
// CHECK: linalg.matmul {{.*}} tensor<16x3xi8>
// CHECK: linalg.index
// CHECK: linalg.matmul {{.*}} tensor<2x16xi8>
// CHECK-NOT: linalg.matmul
func.func @reads_its_position(%x: tensor<4x3xi8>) -> tensor<4x2xi32> {
  %zero = arith.constant 0 : i32
  %w1 = arith.constant {mcusparse.layer = 0 : i64} dense<1> : tensor<16x3xi8>
  %e0 = tensor.empty() : tensor<4x16xi32>
  %f0 = linalg.fill ins(%zero : i32) outs(%e0 : tensor<4x16xi32>) -> tensor<4x16xi32>
  %expand = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w1 : tensor<4x3xi8>, tensor<16x3xi8>) outs(%f0 : tensor<4x16xi32>) -> tensor<4x16xi32>
  %e1 = tensor.empty() : tensor<4x16xi8>
  %q = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%expand : tensor<4x16xi32>) outs(%e1 : tensor<4x16xi8>) {
  ^bb0(%a: i32, %o: i8):
    %c = linalg.index 1 : index
    %ci = arith.index_cast %c : index to i32
    %s = arith.addi %a, %ci : i32
    %t = arith.trunci %s : i32 to i8
    linalg.yield %t : i8
  } -> tensor<4x16xi8>
  %w2 = arith.constant {mcusparse.layer = 1 : i64} dense<2> : tensor<2x16xi8>
  %e2 = tensor.empty() : tensor<4x2xi32>
  %f2 = linalg.fill ins(%zero : i32) outs(%e2 : tensor<4x2xi32>) -> tensor<4x2xi32>
  %project = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%q, %w2 : tensor<4x16xi8>, tensor<2x16xi8>) outs(%f2 : tensor<4x2xi32>) -> tensor<4x2xi32>
  return %project : tensor<4x2xi32>
}

// CHECK-LABEL: func.func @precomputed_buffers
// CHECK: linalg.matmul {{.*}} tensor<16x3xi8>
// CHECK: linalg.matmul {{.*}} tensor<2x16xi8>
// CHECK-NOT: linalg.matmul
func.func @precomputed_buffers(%x: tensor<4x3xi8>) -> tensor<4x2xi32> {
  %zero = arith.constant 0 : i32
  %w1 = arith.constant {mcusparse.layer = 0 : i64} dense<1> : tensor<16x3xi8>
  %e0 = tensor.empty() : tensor<4x16xi32>
  %f0 = linalg.fill ins(%zero : i32) outs(%e0 : tensor<4x16xi32>) -> tensor<4x16xi32>
  %expand = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w1 : tensor<4x3xi8>, tensor<16x3xi8>) outs(%f0 : tensor<4x16xi32>) -> tensor<4x16xi32>
  %e1 = tensor.empty() : tensor<4x16xi8>
  %q = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%expand : tensor<4x16xi32>) outs(%e1 : tensor<4x16xi8>) {
  ^bb0(%a: i32, %o: i8):
    %t = arith.trunci %a : i32 to i8
    linalg.yield %t : i8
  } -> tensor<4x16xi8>
  %w2 = arith.constant {mcusparse.layer = 1 : i64, sparse_enc.layout = #sparse_enc.cse_csr<>,
                        sparse_enc.buffers = {values = dense<2> : tensor<32xi8>}} dense<2> : tensor<2x16xi8>
  %e2 = tensor.empty() : tensor<4x2xi32>
  %f2 = linalg.fill ins(%zero : i32) outs(%e2 : tensor<4x2xi32>) -> tensor<4x2xi32>
  %project = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%q, %w2 : tensor<4x16xi8>, tensor<2x16xi8>) outs(%f2 : tensor<4x2xi32>) -> tensor<4x2xi32>
  return %project : tensor<4x2xi32>
}

// -----

// The chain's estimated peak (896 bytes with the row sums live beside it;
// 640 in slices) is above peak-bytes, but an op before it holds 16 KiB
// whatever the chain does: cutting the chain would grow code and not the
// arena, so it runs whole.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// CHECK-LABEL: func.func @peak_elsewhere
// CHECK: linalg.matmul {{.*}} tensor<16x3xi8>
// CHECK: linalg.matmul {{.*}} tensor<2x16xi8>
// CHECK-NOT: linalg.matmul
func.func @peak_elsewhere(%x: tensor<8x3xi8>, %wide: tensor<64x64xi32>) -> (tensor<64xi32>, tensor<8x2xi32>) {
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<64x64xi32>
  %doubled = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%wide : tensor<64x64xi32>) outs(%e : tensor<64x64xi32>) {
  ^bb0(%a: i32, %o: i32):
    %d = arith.addi %a, %a : i32
    linalg.yield %d : i32
  } -> tensor<64x64xi32>
  %er = tensor.empty() : tensor<64xi32>
  %fr = linalg.fill ins(%zero : i32) outs(%er : tensor<64xi32>) -> tensor<64xi32>
  %sums = linalg.generic {indexing_maps = [#id2, #row], iterator_types = ["parallel", "reduction"]}
      ins(%doubled : tensor<64x64xi32>) outs(%fr : tensor<64xi32>) {
  ^bb0(%a: i32, %o: i32):
    %s = arith.addi %a, %o : i32
    linalg.yield %s : i32
  } -> tensor<64xi32>
  %w1 = arith.constant {mcusparse.layer = 0 : i64} dense<1> : tensor<16x3xi8>
  %e0 = tensor.empty() : tensor<8x16xi32>
  %f0 = linalg.fill ins(%zero : i32) outs(%e0 : tensor<8x16xi32>) -> tensor<8x16xi32>
  %expand = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w1 : tensor<8x3xi8>, tensor<16x3xi8>) outs(%f0 : tensor<8x16xi32>) -> tensor<8x16xi32>
  %e1 = tensor.empty() : tensor<8x16xi8>
  %q = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%expand : tensor<8x16xi32>) outs(%e1 : tensor<8x16xi8>) {
  ^bb0(%a: i32, %o: i8):
    %t = arith.trunci %a : i32 to i8
    linalg.yield %t : i8
  } -> tensor<8x16xi8>
  %w2 = arith.constant {mcusparse.layer = 1 : i64} dense<2> : tensor<2x16xi8>
  %e2 = tensor.empty() : tensor<8x2xi32>
  %f2 = linalg.fill ins(%zero : i32) outs(%e2 : tensor<8x2xi32>) -> tensor<8x2xi32>
  %project = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%q, %w2 : tensor<8x16xi8>, tensor<2x16xi8>) outs(%f2 : tensor<8x2xi32>) -> tensor<8x2xi32>
  return %sums, %project : tensor<64xi32>, tensor<8x2xi32>
}
