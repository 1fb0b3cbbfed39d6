// RUN: sparse-opt %s --split-input-file --sparse-enc-vectorize-im2col | FileCheck %s
// RUN: sparse-opt %s --split-input-file --sparse-enc-vectorize-im2col | FileCheck %s --check-prefix=GONE

// The digits model's first im2col as the front end writes it (emit.py
// `im2col`): 3x3 taps of one channel from a padded 10x10 input, 8x8
// outputs, on memrefs after bufferization. The block is one output row (8
// pixels x 9 taps = 72 bytes, input offsets 0..29): per row, four full
// 16-byte gathers and a masked tail of 8, from the row's input base
// oh * 10, stored at oh * 72.

// CHECK-LABEL: func.func @one_channel
// CHECK-SAME: (%[[X:.*]]: memref<1x10x10x1xi8>, %[[OUT:.*]]: memref<1x8x8x3x3x1xi8>)
// CHECK-DAG: %[[XF:.*]] = memref.collapse_shape %[[X]] {{\[}}[0, 1, 2, 3]] : memref<1x10x10x1xi8> into memref<100xi8>
// CHECK-DAG: %[[OF:.*]] = memref.collapse_shape %[[OUT]] {{\[}}[0, 1, 2, 3, 4, 5]] : memref<1x8x8x3x3x1xi8> into memref<576xi8>
// CHECK: scf.for %[[N:.*]] =
// CHECK:   scf.for %[[OH:.*]] =
// CHECK:     %[[OFFS:.*]] = arith.constant dense<[0, 1, 2, 10, 11, 12, 20, 21, 22, 1, 2, 3, 11, 12, 13, 21]> : vector<16xi32>
// CHECK:     %[[G:.*]] = vector.gather %[[XF]][%{{.*}}] [%[[OFFS]]], %{{.*}}, %{{.*}} : memref<100xi8>, vector<16xi32>, vector<16xi1>, vector<16xi8> into vector<16xi8>
// CHECK:     vector.store %[[G]], %[[OF]][%{{.*}}] : memref<576xi8>, vector<16xi8>
// CHECK-COUNT-3: vector.store
// CHECK:     %[[TAIL:.*]] = arith.constant dense<[true, true, true, true, true, true, true, true, false, false, false, false, false, false, false, false]> : vector<16xi1>
// CHECK:     %[[GT:.*]] = vector.gather %[[XF]][%{{.*}}] [%{{.*}}], %[[TAIL]], %{{.*}}
// CHECK:     vector.maskedstore %[[OF]][%{{.*}}], %[[TAIL]], %[[GT]] : memref<576xi8>, vector<16xi1>, vector<16xi8>
// GONE-LABEL: func.func @one_channel
// GONE-NOT: linalg.generic
func.func @one_channel(%x: memref<1x10x10x1xi8>, %out: memref<1x8x8x3x3x1xi8>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 + d3, d2 + d4, d5)>,
                                   affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x10x10x1xi8>) outs(%out : memref<1x8x8x3x3x1xi8>) {
  ^bb0(%a: i8, %o: i8):
    linalg.yield %a : i8
  }
  return
}

// -----

// Eight channels, stride 2: the block is one pixel's 3x3x8 = 72 taps
// (offsets up to (2 * 9 + 2) * 8 + 7 = 167); a row of 4 pixels (288) is
// more than a block may hold. The input base moves by 16 per output column
// and 144 per output row.

// CHECK-LABEL: func.func @eight_channels_stride2
// CHECK: scf.for
// CHECK:   scf.for %[[OH:.*]] =
// CHECK:     scf.for %[[OW:.*]] =
// CHECK:       arith.muli %[[OW]], %c16
// CHECK:       arith.constant dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]> : vector<16xi32>
// CHECK-COUNT-4: vector.store
// CHECK:       vector.maskedstore
// GONE-LABEL: func.func @eight_channels_stride2
// GONE-NOT: linalg.generic
// GONE-LABEL: func.func @not_a_copy
func.func @eight_channels_stride2(%x: memref<1x9x9x8xi8>, %out: memref<1x4x4x3x3x8xi8>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 * 2 + d3, d2 * 2 + d4, d5)>,
                                   affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x9x9x8xi8>) outs(%out : memref<1x4x4x3x3x8xi8>) {
  ^bb0(%a: i8, %o: i8):
    linalg.yield %a : i8
  }
  return
}

// -----

// Left alone: a body that is not a plain copy, i32 elements, and taps whose
// offsets do not fit in 8 bits (a 3x3 window of 3 channels over rows of 600
// bytes: the runs that do fit, one tap row of 9 bytes, are shorter than a
// gather).

// CHECK-LABEL: func.func @not_a_copy
// CHECK: linalg.generic
// CHECK-NOT: vector.gather
func.func @not_a_copy(%x: memref<1x10x10x1xi8>, %out: memref<1x8x8x3x3x1xi8>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 + d3, d2 + d4, d5)>,
                                   affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x10x10x1xi8>) outs(%out : memref<1x8x8x3x3x1xi8>) {
  ^bb0(%a: i8, %o: i8):
    %c1 = arith.constant 1 : i8
    %s = arith.addi %a, %c1 : i8
    linalg.yield %s : i8
  }
  return
}

// CHECK-LABEL: func.func @i32_elements
// CHECK: linalg.generic
// CHECK-NOT: vector.gather
func.func @i32_elements(%x: memref<1x10x10x1xi32>, %out: memref<1x8x8x3x3x1xi32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 + d3, d2 + d4, d5)>,
                                   affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x10x10x1xi32>) outs(%out : memref<1x8x8x3x3x1xi32>) {
  ^bb0(%a: i32, %o: i32):
    linalg.yield %a : i32
  }
  return
}

// CHECK-LABEL: func.func @wide_rows
// CHECK: linalg.generic
// CHECK-NOT: vector.gather
func.func @wide_rows(%x: memref<1x10x200x3xi8>, %out: memref<1x8x198x3x3x3xi8>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 + d3, d2 + d4, d5)>,
                                   affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x10x200x3xi8>) outs(%out : memref<1x8x198x3x3x3xi8>) {
  ^bb0(%a: i8, %o: i8):
    linalg.yield %a : i8
  }
  return
}
