// RUN: sparse-opt %s --split-input-file --sparse-enc-tile-accumulators=pixels=4 --verify-diagnostics | FileCheck %s
// RUN: sparse-opt %s --split-input-file --sparse-enc-tile-accumulators | FileCheck %s --check-prefix=OFF

// A 1x1 convolution as the front ends emit it: the int32 matmul result,
// reshaped to NHWC, requantised per channel. With pixels=4 the 8 pixels go
// in two tiles: the zero fill and the matmul on a tile of X's rows, the
// requantisation on [4, 16] right after, the int8 tile inserted into the
// result. No [8, 16] int32 tensor is left. With pixels=0 (the default)
// nothing changes.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch4 = affine_map<(d0, d1, d2, d3) -> (d3)>

// CHECK-LABEL: func.func @conv_requantise
// CHECK-SAME: (%[[X:.*]]: tensor<8x3xi8>)
// CHECK-DAG: %[[W:.*]] = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.layout = #sparse_enc.csr<>} dense<1> : tensor<16x3xi8>
// CHECK-DAG: %[[BIAS:.*]] = arith.constant dense<5> : tensor<16xi32>
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK: %[[R:.*]] = scf.for %[[P:.*]] = %{{.*}} to %[[C8]] step %[[C4]] iter_args(%[[OUT:.*]] = %{{.*}}) -> (tensor<8x16xi8>) {
// CHECK: %[[XS:.*]] = tensor.extract_slice %[[X]][%[[P]], 0] [4, 3] [1, 1] : tensor<8x3xi8> to tensor<4x3xi8>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x16xi32>
// CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : i32) outs(%[[E]] : tensor<4x16xi32>)
// CHECK: %[[T:.*]] = linalg.matmul {{.*}} ins(%[[XS]], %[[W]] : tensor<4x3xi8>, tensor<16x3xi8>) outs(%[[Z]] : tensor<4x16xi32>)
// CHECK: %[[OS:.*]] = tensor.extract_slice %[[OUT]][%[[P]], 0] [4, 16] [1, 1]
// CHECK: %[[Q:.*]] = linalg.generic {{.*}} ins(%[[T]], %[[BIAS]] : tensor<4x16xi32>, tensor<16xi32>) outs(%[[OS]] : tensor<4x16xi8>)
// CHECK: tensor.insert_slice %[[Q]] into %[[OUT]][%[[P]], 0] [4, 16] [1, 1]
// CHECK: tensor.collapse_shape %[[R]] {{\[\[}}0, 1]] : tensor<8x16xi8> into tensor<128xi8>
// CHECK: tensor.expand_shape %{{.*}} output_shape [1, 2, 4, 16] : tensor<128xi8> into tensor<1x2x4x16xi8>
// CHECK-NOT: tensor<8x16xi32>
// CHECK-NOT: tensor<1x2x4x16xi32>

// OFF-LABEL: func.func @conv_requantise
// OFF-NOT: scf.for
// OFF: linalg.matmul {{.*}} outs(%{{.*}} : tensor<8x16xi32>)
func.func @conv_requantise(%x: tensor<8x3xi8>) -> tensor<1x2x4x16xi8> {
  %zero = arith.constant 0 : i32
  %w = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.layout = #sparse_enc.csr<>} dense<1> : tensor<16x3xi8>
  %e0 = tensor.empty() : tensor<8x16xi32>
  %f0 = linalg.fill ins(%zero : i32) outs(%e0 : tensor<8x16xi32>) -> tensor<8x16xi32>
  %acc = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<8x3xi8>, tensor<16x3xi8>) outs(%f0 : tensor<8x16xi32>) -> tensor<8x16xi32>
  %flat = tensor.collapse_shape %acc [[0, 1]] : tensor<8x16xi32> into tensor<128xi32>
  %img = tensor.expand_shape %flat [[0, 1, 2, 3]] output_shape [1, 2, 4, 16] : tensor<128xi32> into tensor<1x2x4x16xi32>
  %bias = arith.constant dense<5> : tensor<16xi32>
  %e1 = tensor.empty() : tensor<1x2x4x16xi8>
  %q = linalg.generic {indexing_maps = [#id4, #ch4, #id4],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%img, %bias : tensor<1x2x4x16xi32>, tensor<16xi32>) outs(%e1 : tensor<1x2x4x16xi8>) {
  ^bb0(%a: i32, %b: i32, %o: i8):
    %s = arith.addi %a, %b : i32
    %t = arith.trunci %s : i32 to i8
    linalg.yield %t : i8
  } -> tensor<1x2x4x16xi8>
  return %q : tensor<1x2x4x16xi8>
}

// -----

// A depthwise convolution (3x3 over a padded 6x4 input, 4x2 output pixels)
// requantised: tiles of whole output rows, at most 4 pixels (two rows of
// two). Each tile reads its rows of the padded input (rows 2p .. 2p + 3)
// through the convolution's index maps; the requantisation of a tile runs
// on [1, 2, 2, 8] with the channels innermost (for the vector loops).

#dwx = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d5, d2 + d6, d3)>
#dww = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d3, d4, d5, d6)>
#dwo = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch4 = affine_map<(d0, d1, d2, d3) -> (d3)>

// CHECK-LABEL: func.func @depthwise_requantise
// CHECK-SAME: (%[[IN:.*]]: tensor<1x6x4x8xi8>)
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[OUT:.*]] = %{{.*}}) -> (tensor<1x4x2x8x1xi8>) {
// CHECK: tensor.extract_slice %[[IN]][0, %[[R]], 0, 0] [1, 4, 4, 8] [1, 1, 1, 1] : tensor<1x6x4x8xi8> to tensor<1x4x4x8xi8>
// CHECK: tensor.empty() : tensor<1x2x2x8x1xi32>
// CHECK: linalg.fill
// CHECK: %[[D:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK: } -> tensor<1x2x2x8x1xi32>
// CHECK: %[[D4:.*]] = tensor.collapse_shape %[[D]] {{\[\[}}0], [1], [2], [3, 4]] : tensor<1x2x2x8x1xi32> into tensor<1x2x2x8xi32>
// CHECK: linalg.generic {{.*}} ins(%[[D4]], %{{.*}} : tensor<1x2x2x8xi32>, tensor<8xi32>)
// CHECK: } -> tensor<1x2x2x8xi8>
// CHECK: tensor.insert_slice
// CHECK-NOT: tensor<1x4x2x8x1xi32>
func.func @depthwise_requantise(%in: tensor<1x6x4x8xi8>) -> tensor<1x4x2x8xi8> {
  %zero = arith.constant 0 : i32
  %wd = arith.constant {mcusparse.layer = 1 : i64} dense<2> : tensor<8x9xi8>
  %wd4 = tensor.expand_shape %wd [[0, 1], [2, 3]] output_shape [8, 1, 3, 3] : tensor<8x9xi8> into tensor<8x1x3x3xi8>
  %e = tensor.empty() : tensor<1x4x2x8x1xi32>
  %f = linalg.fill ins(%zero : i32) outs(%e : tensor<1x4x2x8x1xi32>) -> tensor<1x4x2x8x1xi32>
  %dw = linalg.generic {indexing_maps = [#dwx, #dww, #dwo],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%in, %wd4 : tensor<1x6x4x8xi8>, tensor<8x1x3x3xi8>) outs(%f : tensor<1x4x2x8x1xi32>) {
  ^bb0(%a: i8, %b: i8, %o: i32):
    %a32 = arith.extsi %a : i8 to i32
    %b32 = arith.extsi %b : i8 to i32
    %m = arith.muli %a32, %b32 : i32
    %s = arith.addi %o, %m : i32
    linalg.yield %s : i32
  } -> tensor<1x4x2x8x1xi32>
  %flat = tensor.collapse_shape %dw [[0, 1, 2, 3, 4]] : tensor<1x4x2x8x1xi32> into tensor<64xi32>
  %img = tensor.expand_shape %flat [[0, 1, 2, 3]] output_shape [1, 4, 2, 8] : tensor<64xi32> into tensor<1x4x2x8xi32>
  %bias = arith.constant dense<3> : tensor<8xi32>
  %e1 = tensor.empty() : tensor<1x4x2x8xi8>
  %q = linalg.generic {indexing_maps = [#id4, #ch4, #id4],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%img, %bias : tensor<1x4x2x8xi32>, tensor<8xi32>) outs(%e1 : tensor<1x4x2x8xi8>) {
  ^bb0(%a: i32, %b: i32, %o: i8):
    %s = arith.addi %a, %b : i32
    %t = arith.trunci %s : i32 to i8
    linalg.yield %t : i8
  } -> tensor<1x4x2x8xi8>
  return %q : tensor<1x4x2x8xi8>
}

// -----

// Left whole: the result is read by more than the requantisation (it must
// exist whole), and a consumer that reduces over the pixels.

#X = affine_map<(d0, d1, d2) -> (d0, d2)>
#WT = affine_map<(d0, d1, d2) -> (d1, d2)>
#Y = affine_map<(d0, d1, d2) -> (d0, d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>

// CHECK-LABEL: func.func @read_twice
// CHECK-NOT: scf.for
// CHECK: linalg.matmul {{.*}} outs(%{{.*}} : tensor<8x16xi32>)
func.func @read_twice(%x: tensor<8x3xi8>) -> (tensor<8x16xi8>, tensor<8x16xi32>) {
  %zero = arith.constant 0 : i32
  %w = arith.constant {mcusparse.layer = 0 : i64} dense<1> : tensor<16x3xi8>
  %e0 = tensor.empty() : tensor<8x16xi32>
  %f0 = linalg.fill ins(%zero : i32) outs(%e0 : tensor<8x16xi32>) -> tensor<8x16xi32>
  %acc = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<8x3xi8>, tensor<16x3xi8>) outs(%f0 : tensor<8x16xi32>) -> tensor<8x16xi32>
  %e1 = tensor.empty() : tensor<8x16xi8>
  %q = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%acc : tensor<8x16xi32>) outs(%e1 : tensor<8x16xi8>) {
  ^bb0(%a: i32, %o: i8):
    %t = arith.trunci %a : i32 to i8
    linalg.yield %t : i8
  } -> tensor<8x16xi8>
  return %q, %acc : tensor<8x16xi8>, tensor<8x16xi32>
}

// CHECK-LABEL: func.func @pixel_sum
// CHECK-NOT: scf.for
// CHECK: linalg.matmul {{.*}} outs(%{{.*}} : tensor<8x16xi32>)
func.func @pixel_sum(%x: tensor<8x3xi8>) -> tensor<16xi32> {
  %zero = arith.constant 0 : i32
  %w = arith.constant {mcusparse.layer = 0 : i64} dense<1> : tensor<16x3xi8>
  %e0 = tensor.empty() : tensor<8x16xi32>
  %f0 = linalg.fill ins(%zero : i32) outs(%e0 : tensor<8x16xi32>) -> tensor<8x16xi32>
  %acc = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<8x3xi8>, tensor<16x3xi8>) outs(%f0 : tensor<8x16xi32>) -> tensor<8x16xi32>
  %e1 = tensor.empty() : tensor<16xi32>
  %f1 = linalg.fill ins(%zero : i32) outs(%e1 : tensor<16xi32>) -> tensor<16xi32>
  %s = linalg.generic {indexing_maps = [#id2, #col], iterator_types = ["reduction", "parallel"]}
      ins(%acc : tensor<8x16xi32>) outs(%f1 : tensor<16xi32>) {
  ^bb0(%a: i32, %o: i32):
    %t = arith.addi %a, %o : i32
    linalg.yield %t : i32
  } -> tensor<16xi32>
  return %s : tensor<16xi32>
}
