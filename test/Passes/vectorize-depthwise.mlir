// RUN: sparse-opt %s --split-input-file --sparse-enc-vectorize-depthwise | FileCheck %s

// CHECK: #[[UNROLL:.*]] = #llvm.loop_unroll<disable = true>
// CHECK: #{{.*}} = #llvm.loop_annotation<unroll = #[[UNROLL]]>

// A 3x3 depthwise convolution as the front end writes it (emit.py
// `depthwise`): 8 channels, stride 1, 4x5 outputs, on memrefs after
// bufferization. 8 channels: one block in int16 lanes, the tap's products of
// the even and odd channels by llvm.arm.mve.vmull (vmullb/vmullt.s16)
// into the deinterleaved sums.

// CHECK-LABEL: func.func @dw3x3
// CHECK-SAME: (%[[X:.*]]: memref<1x6x7x8xi8>, %[[W:.*]]: memref<8x1x3x3xi8>, %[[OUT:.*]]: memref<1x4x5x8x1xi32>)
// CHECK: %[[STAGED:.*]] = memref.alloca() : memref<9x8xi16>
// CHECK: %[[ACC:.*]] = memref.collapse_shape %[[OUT]] {{\[}}[0], [1], [2], [3, 4]]
// CHECK: scf.for %[[C:.*]] = %{{.*}} to %{{.*}} step %c8 {
// CHECK:   memref.load %[[W]]
// CHECK:   arith.extsi %{{.*}} : i8 to i16
// CHECK:   vector.from_elements {{.*}} : vector<8xi16>
// CHECK:   vector.store %{{.*}}, %[[STAGED]]
// CHECK:   scf.for %[[N:.*]] =
// CHECK:     scf.for %[[OH:.*]] =
// CHECK:       scf.for %[[OW:.*]] =
// CHECK:         %[[S0:.*]] = vector.load %[[ACC]][%[[N]], %[[OH]], %[[OW]], %[[C]]] : memref<1x4x5x8xi32>, vector<8xi32>
// CHECK:         %[[EVEN:.*]], %[[ODD:.*]] = vector.deinterleave %[[S0]] : vector<8xi32> -> vector<4xi32>
// CHECK:         %[[XV:.*]] = vector.load %[[X]][%[[N]], %{{.*}}, %{{.*}}, %[[C]]] : memref<1x6x7x8xi8>, vector<8xi8>
// CHECK:         %[[XE:.*]] = arith.extsi %[[XV]] : vector<8xi8> to vector<8xi16>
// CHECK:         %[[WV:.*]] = vector.load %[[STAGED]][%{{.*}}, %{{.*}}] : memref<9x8xi16>, vector<8xi16>
// CHECK:         %[[PB:.*]] = llvm.call_intrinsic "llvm.arm.mve.vmull"(%[[XE]], %[[WV]], %{{.*}}, %{{.*}}) : (vector<8xi16>, vector<8xi16>, i32, i32) -> vector<4xi32>
// CHECK:         arith.addi %[[EVEN]], %[[PB]] : vector<4xi32>
// CHECK:         %[[PT:.*]] = llvm.call_intrinsic "llvm.arm.mve.vmull"(%[[XE]], %[[WV]], %{{.*}}, %{{.*}})
// CHECK:         arith.addi %[[ODD]], %[[PT]] : vector<4xi32>
// CHECK-COUNT-16: llvm.call_intrinsic "llvm.arm.mve.vmull"
// CHECK:         %[[SUM:.*]] = vector.interleave %{{.*}}, %{{.*}} : vector<4xi32> -> vector<8xi32>
// CHECK:         vector.store %[[SUM]], %[[ACC]][%[[N]], %[[OH]], %[[OW]], %[[C]]] : memref<1x4x5x8xi32>, vector<8xi32>
// Five output columns: the pixel loop is kept rolled (unrolled pixels need a
// pointer per tap; four or fewer are left to LLVM).
// CHECK-NEXT:    } {loop_annotation = #[[NO_UNROLL:.*]]}
// CHECK-NOT: linalg.generic
func.func @dw3x3(%x: memref<1x6x7x8xi8>, %w: memref<8x1x3x3xi8>, %out: memref<1x4x5x8x1xi32>) {
  linalg.generic {indexing_maps = [
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 * 1 + d5 * 1, d2 * 1 + d6 * 1, d3)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d3, d4, d5, d6)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x6x7x8xi8>, memref<8x1x3x3xi8>) outs(%out : memref<1x4x5x8x1xi32>) {
  ^bb0(%a: i8, %b: i8, %o: i32):
    %ae = arith.extsi %a : i8 to i32
    %be = arith.extsi %b : i8 to i32
    %p = arith.muli %ae, %be : i32
    %s = arith.addi %o, %p : i32
    linalg.yield %s : i32
  }
  return
}

// -----

// 12 channels (a multiple of 4, not of 8): channels 0-7 as a block of 8 in
// int16 lanes, channels 8-11 as a block of 4 in int32 lanes, a multiply and
// an add per tap.

// CHECK-LABEL: func.func @twelve_channels
// CHECK-SAME: (%[[X:.*]]: memref<1x6x7x12xi8>, %[[W:.*]]: memref<12x1x3x3xi8>, %[[OUT:.*]]: memref<1x4x5x12x1xi32>)
// CHECK-DAG: %[[STAGED4:.*]] = memref.alloca() : memref<9x4xi32>
// CHECK-DAG: %[[STAGED8:.*]] = memref.alloca() : memref<9x8xi16>
// CHECK: %[[ACC:.*]] = memref.collapse_shape %[[OUT]]
// CHECK: scf.for %{{.*}} = %c0 to %c8 step %c8 {
// CHECK:   vector.deinterleave
// CHECK-COUNT-18: llvm.call_intrinsic "llvm.arm.mve.vmull"
// CHECK:   vector.interleave
// CHECK: scf.for %[[C:.*]] = %c8 to %c12 step %c4 {
// CHECK:   vector.from_elements {{.*}} : vector<4xi32>
// CHECK:   scf.for %[[N:.*]] =
// CHECK:     scf.for %[[OH:.*]] =
// CHECK:       scf.for %[[OW:.*]] =
// CHECK:         %[[S0:.*]] = vector.load %[[ACC]][%[[N]], %[[OH]], %[[OW]], %[[C]]] : memref<1x4x5x12xi32>, vector<4xi32>
// CHECK:         %[[XV:.*]] = vector.load %[[X]][%[[N]], %{{.*}}, %{{.*}}, %[[C]]] : memref<1x6x7x12xi8>, vector<4xi8>
// CHECK:         %[[XE:.*]] = arith.extsi %[[XV]] : vector<4xi8> to vector<4xi32>
// CHECK:         %[[WV:.*]] = vector.load %[[STAGED4]][%{{.*}}, %{{.*}}] : memref<9x4xi32>, vector<4xi32>
// CHECK:         %[[P:.*]] = arith.muli %[[XE]], %[[WV]] : vector<4xi32>
// CHECK:         arith.addi %[[S0]], %[[P]] : vector<4xi32>
// CHECK-COUNT-8: arith.muli %{{.*}}, %{{.*}} : vector<4xi32>
// CHECK:         vector.store %{{.*}}, %[[ACC]][%[[N]], %[[OH]], %[[OW]], %[[C]]] : memref<1x4x5x12xi32>, vector<4xi32>
// CHECK-NOT: llvm.call_intrinsic
// CHECK-NOT: linalg.generic
func.func @twelve_channels(%x: memref<1x6x7x12xi8>, %w: memref<12x1x3x3xi8>, %out: memref<1x4x5x12x1xi32>) {
  linalg.generic {indexing_maps = [
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 * 1 + d5 * 1, d2 * 1 + d6 * 1, d3)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d3, d4, d5, d6)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x6x7x12xi8>, memref<12x1x3x3xi8>) outs(%out : memref<1x4x5x12x1xi32>) {
  ^bb0(%a: i8, %b: i8, %o: i32):
    %ae = arith.extsi %a : i8 to i32
    %be = arith.extsi %b : i8 to i32
    %p = arith.muli %ae, %be : i32
    %s = arith.addi %o, %p : i32
    linalg.yield %s : i32
  }
  return
}

// -----

// The accumulator filled with a constant right before (the front ends fill
// it with 0): the sums start from that constant, the accumulator is not
// read, and the fill is gone.

// CHECK-LABEL: func.func @filled
// CHECK-NOT: linalg.fill
// CHECK: %[[FIVE:.*]] = arith.constant dense<5> : vector<4xi32>
// CHECK: scf.for
// CHECK-NOT: vector.deinterleave
// CHECK: %[[PB:.*]] = llvm.call_intrinsic "llvm.arm.mve.vmull"
// CHECK: arith.addi %[[FIVE]], %[[PB]] : vector<4xi32>
// CHECK: %[[PT:.*]] = llvm.call_intrinsic "llvm.arm.mve.vmull"
// CHECK: arith.addi %[[FIVE]], %[[PT]] : vector<4xi32>
// CHECK: vector.interleave
// CHECK: vector.store
// CHECK-NOT: linalg.fill
// CHECK-NOT: linalg.generic
func.func @filled(%x: memref<1x6x7x8xi8>, %w: memref<8x1x3x3xi8>, %out: memref<1x4x5x8x1xi32>) {
  %c5 = arith.constant 5 : i32
  linalg.fill ins(%c5 : i32) outs(%out : memref<1x4x5x8x1xi32>)
  linalg.generic {indexing_maps = [
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 * 1 + d5 * 1, d2 * 1 + d6 * 1, d3)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d3, d4, d5, d6)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x6x7x8xi8>, memref<8x1x3x3xi8>) outs(%out : memref<1x4x5x8x1xi32>) {
  ^bb0(%a: i8, %b: i8, %o: i32):
    %ae = arith.extsi %a : i8 to i32
    %be = arith.extsi %b : i8 to i32
    %p = arith.muli %ae, %be : i32
    %s = arith.addi %o, %p : i32
    linalg.yield %s : i32
  }
  return
}

// -----

// Stride 2, dilation 2 (rows and columns): the input row of a tap is
// oh * 2 + kh * 2.

// CHECK-LABEL: func.func @strided_dilated
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK: scf.for %[[C:.*]] =
// CHECK: scf.for %[[N:.*]] =
// CHECK: scf.for %[[OH:.*]] =
// CHECK: scf.for %[[OW:.*]] =
// CHECK: %[[ROW0:.*]] = arith.muli %[[OH]], %[[C2]] : index
// CHECK: %[[COL0:.*]] = arith.muli %[[OW]], %[[C2]] : index
// CHECK-NOT: linalg.generic
// CHECK-NOT: loop_annotation
func.func @strided_dilated(%x: memref<1x9x9x4xi8>, %w: memref<4x1x2x2xi8>, %out: memref<1x3x3x4x1xi32>) {
  linalg.generic {indexing_maps = [
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 * 2 + d5 * 2, d2 * 2 + d6 * 2, d3)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d3, d4, d5, d6)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x9x9x4xi8>, memref<4x1x2x2xi8>) outs(%out : memref<1x3x3x4x1xi32>) {
  ^bb0(%a: i8, %b: i8, %o: i32):
    %ae = arith.extsi %a : i8 to i32
    %be = arith.extsi %b : i8 to i32
    %p = arith.muli %be, %ae : i32
    %s = arith.addi %p, %o : i32
    linalg.yield %s : i32
  }
  return
}

// -----

// Left alone: 6 channels (not a multiple of 4), a channel multiplier of 2,
// and f32.

// CHECK-LABEL: func.func @six_channels
// CHECK: linalg.generic
// CHECK-NOT: memref.alloca
func.func @six_channels(%x: memref<1x5x5x6xi8>, %w: memref<6x1x3x3xi8>, %out: memref<1x3x3x6x1xi32>) {
  linalg.generic {indexing_maps = [
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d5, d2 + d6, d3)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d3, d4, d5, d6)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x5x5x6xi8>, memref<6x1x3x3xi8>) outs(%out : memref<1x3x3x6x1xi32>) {
  ^bb0(%a: i8, %b: i8, %o: i32):
    %ae = arith.extsi %a : i8 to i32
    %be = arith.extsi %b : i8 to i32
    %p = arith.muli %ae, %be : i32
    %s = arith.addi %o, %p : i32
    linalg.yield %s : i32
  }
  return
}

// CHECK-LABEL: func.func @multiplier_two
// CHECK: linalg.generic
func.func @multiplier_two(%x: memref<1x5x5x4xi8>, %w: memref<4x2x3x3xi8>, %out: memref<1x3x3x4x2xi32>) {
  linalg.generic {indexing_maps = [
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d5, d2 + d6, d3)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d3, d4, d5, d6)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x5x5x4xi8>, memref<4x2x3x3xi8>) outs(%out : memref<1x3x3x4x2xi32>) {
  ^bb0(%a: i8, %b: i8, %o: i32):
    %ae = arith.extsi %a : i8 to i32
    %be = arith.extsi %b : i8 to i32
    %p = arith.muli %ae, %be : i32
    %s = arith.addi %o, %p : i32
    linalg.yield %s : i32
  }
  return
}

// CHECK-LABEL: func.func @float
// CHECK: linalg.generic
func.func @float(%x: memref<1x5x5x4xf32>, %w: memref<4x1x3x3xf32>, %out: memref<1x3x3x4x1xf32>) {
  linalg.generic {indexing_maps = [
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d5, d2 + d6, d3)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d3, d4, d5, d6)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x5x5x4xf32>, memref<4x1x3x3xf32>) outs(%out : memref<1x3x3x4x1xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// 96 channels with constant weights (a global, as sparse-enc-outline-weights
// leaves them): each pixel runs a loop over 12 blocks of 8 channels, every
// tap's input read moving 8 bytes per block. The weights are copied at
// compile time to a global laid out [block][tap][8 channels] (weight
// (c, t) = c + 16 t here, so block 0 starts 00..07, 10..17), the original
// global goes, and the layer first copies the new one to the stack.

// CHECK: memref.global "private" constant @mcusparse_weights_0_by_channel_block : memref<12x9x8xi8> = dense<"0x000102030405060710111213141516172021222324252627
// CHECK-NOT: memref.global "private" constant @mcusparse_weights_0 :
// CHECK-LABEL: func.func @wide
// CHECK: %[[BLOCKS:.*]] = memref.get_global @mcusparse_weights_0_by_channel_block
// CHECK: %[[STAGE:.*]] = memref.alloca() : memref<864xi8>
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %[[BLOCKS]] {{\[}}[0, 1, 2]] : memref<12x9x8xi8> into memref<864xi8>
// CHECK: scf.for %[[I:.*]] = %c0 to %c864 step %c16 {
// CHECK:   %[[CHUNK:.*]] = vector.load %[[FLAT]][%[[I]]] : memref<864xi8>, vector<16xi8>
// CHECK:   vector.store %[[CHUNK]], %[[STAGE]][%[[I]]]
// CHECK: scf.for %[[N:.*]] =
// CHECK:   scf.for %[[OH:.*]] =
// CHECK:     scf.for %[[OW:.*]] =
// CHECK:       scf.for %[[CB:.*]] = %{{.*}} to %c12 step %c1 {
// CHECK:         %[[C:.*]] = arith.muli %[[CB]], %c8
// CHECK:         vector.load %{{.*}}[%[[N]], %{{.*}}, %{{.*}}, %[[C]]] : memref<1x6x7x96xi8>, vector<8xi8>
// CHECK:         %[[W0:.*]] = arith.muli %[[CB]], %c72
// CHECK:         vector.load %[[STAGE]][%{{.*}}] : memref<864xi8>, vector<8xi8>
// CHECK-COUNT-18: llvm.call_intrinsic "llvm.arm.mve.vmull"
// CHECK:         vector.store %{{.*}}, %{{.*}}[%[[N]], %[[OH]], %[[OW]], %[[C]]] : memref<1x4x5x96xi32>, vector<8xi32>
// CHECK-NEXT:  }
// CHECK-NEXT:  } {loop_annotation = #{{.*}}}
// CHECK-NOT: linalg.generic
memref.global "private" constant @mcusparse_weights_0 : memref<96x9xi8> = dense<"0x0010203040506070800111213141516171810212223242526272820313233343536373830414243444546474840515253545556575850616263646566676860717273747576777870818283848586878880919293949596979890A1A2A3A4A5A6A7A8A0B1B2B3B4B5B6B7B8B0C1C2C3C4C5C6C7C8C0D1D2D3D4D5D6D7D8D0E1E2E3E4E5E6E7E8E0F1F2F3F4F5F6F7F8F1020304050607080901121314151617181911222324252627282921323334353637383931424344454647484941525354555657585951626364656667686961727374757677787971828384858687888981929394959697989991A2A3A4A5A6A7A8A9A1B2B3B4B5B6B7B8B9B1C2C3C4C5C6C7C8C9C1D2D3D4D5D6D7D8D9D1E2E3E4E5E6E7E8E9E1F2F3F4F5F6F7F8F9F2030405060708090A02131415161718191A12232425262728292A22333435363738393A32434445464748494A42535455565758595A52636465666768696A62737475767778797A72838485868788898A82939495969798999A92A3A4A5A6A7A8A9AAA2B3B4B5B6B7B8B9BAB2C3C4C5C6C7C8C9CAC2D3D4D5D6D7D8D9DAD2E3E4E5E6E7E8E9EAE2F3F4F5F6F7F8F9FAF30405060708090A0B031415161718191A1B132425262728292A2B233435363738393A3B334445464748494A4B435455565758595A5B536465666768696A6B637475767778797A7B738485868788898A8B839495969798999A9B93A4A5A6A7A8A9AAABA3B4B5B6B7B8B9BABBB3C4C5C6C7C8C9CACBC3D4D5D6D7D8D9DADBD3E4E5E6E7E8E9EAEBE3F4F5F6F7F8F9FAFBF405060708090A0B0C0415161718191A1B1C1425262728292A2B2C2435363738393A3B3C3445464748494A4B4C4455565758595A5B5C5465666768696A6B6C6475767778797A7B7C7485868788898A8B8C8495969798999A9B9C94A5A6A7A8A9AAABACA4B5B6B7B8B9BABBBCB4C5C6C7C8C9CACBCCC4D5D6D7D8D9DADBDCD4E5E6E7E8E9EAEBECE4F5F6F7F8F9FAFBFCF5060708090A0B0C0D05161718191A1B1C1D15262728292A2B2C2D25363738393A3B3C3D35464748494A4B4C4D45565758595A5B5C5D55666768696A6B6C6D65767778797A7B7C7D75868788898A8B8C8D85969798999A9B9C9D95A6A7A8A9AAABACADA5B6B7B8B9BABBBCBDB5C6C7C8C9CACBCCCDC5D6D7D8D9DADBDCDDD5E6E7E8E9EAEBECEDE5F6F7F8F9FAFBFCFDF"> {alignment = 16 : i64}
func.func @wide(%x: memref<1x6x7x96xi8>, %out: memref<1x4x5x96x1xi32>) {
  %g = memref.get_global @mcusparse_weights_0 : memref<96x9xi8>
  %w = memref.expand_shape %g [[0, 1], [2, 3]] output_shape [96, 1, 3, 3] : memref<96x9xi8> into memref<96x1x3x3xi8>
  linalg.generic {indexing_maps = [
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 * 1 + d5 * 1, d2 * 1 + d6 * 1, d3)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d3, d4, d5, d6)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x6x7x96xi8>, memref<96x1x3x3xi8>) outs(%out : memref<1x4x5x96x1xi32>) {
  ^bb0(%a: i8, %b: i8, %o: i32):
    %ae = arith.extsi %a : i8 to i32
    %be = arith.extsi %b : i8 to i32
    %p = arith.muli %ae, %be : i32
    %s = arith.addi %o, %p : i32
    linalg.yield %s : i32
  }
  return
}

// -----

// 100 channels: 12 blocks of 8 inside each pixel, then channels 96-99 as a
// block of 4 (int32 lanes) whose weights come from the staged copy's last,
// padded block (bytes 864 + 8t + l of 13 x 9 x 8).

// CHECK-LABEL: func.func @wide_and_four
// CHECK: %[[STAGE:.*]] = memref.alloca() : memref<936xi8>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c936 step %{{.*}} {
// CHECK: scf.for %[[CB:.*]] = %{{.*}} to %c12 step %c1 {
// CHECK: scf.for %{{.*}} = %c96 to %c100 step %c4 {
// CHECK:   memref.load %[[STAGE]][%c864] : memref<936xi8>
// CHECK:   memref.load %[[STAGE]][%c865] : memref<936xi8>
// CHECK-NOT: memref.get_global @mcusparse_weights_1 :
memref.global "private" constant @mcusparse_weights_1 : memref<100x9xi8> = dense<3> {alignment = 16 : i64}
func.func @wide_and_four(%x: memref<1x6x7x100xi8>, %out: memref<1x4x5x100x1xi32>) {
  %g = memref.get_global @mcusparse_weights_1 : memref<100x9xi8>
  %w = memref.expand_shape %g [[0, 1], [2, 3]] output_shape [100, 1, 3, 3] : memref<100x9xi8> into memref<100x1x3x3xi8>
  linalg.generic {indexing_maps = [
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 * 1 + d5 * 1, d2 * 1 + d6 * 1, d3)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d3, d4, d5, d6)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x6x7x100xi8>, memref<100x1x3x3xi8>) outs(%out : memref<1x4x5x100x1xi32>) {
  ^bb0(%a: i8, %b: i8, %o: i32):
    %ae = arith.extsi %a : i8 to i32
    %be = arith.extsi %b : i8 to i32
    %p = arith.muli %ae, %be : i32
    %s = arith.addi %o, %p : i32
    linalg.yield %s : i32
  }
  return
}

// -----

// Two wide layers in one function share one stack buffer, the size of the
// larger one's weights (104 x 9 = 936 bytes); each copies its own weights
// into it before its loops.

// CHECK-LABEL: func.func @two_wide
// CHECK: %[[STAGE:.*]] = memref.alloca() : memref<936xi8>
// CHECK-NOT: memref.alloca
// CHECK: scf.for %{{.*}} = %{{.*}} to %c864 step %{{.*}} {
// CHECK:   vector.store %{{.*}}, %[[STAGE]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %c936 step %{{.*}} {
// CHECK:   vector.store %{{.*}}, %[[STAGE]]
memref.global "private" constant @mcusparse_weights_2 : memref<96x9xi8> = dense<1> {alignment = 16 : i64}
memref.global "private" constant @mcusparse_weights_3 : memref<104x9xi8> = dense<2> {alignment = 16 : i64}
func.func @two_wide(%x96: memref<1x6x7x96xi8>, %out96: memref<1x4x5x96x1xi32>, %x104: memref<1x6x7x104xi8>, %out104: memref<1x4x5x104x1xi32>) {
  %g96 = memref.get_global @mcusparse_weights_2 : memref<96x9xi8>
  %w96 = memref.expand_shape %g96 [[0, 1], [2, 3]] output_shape [96, 1, 3, 3] : memref<96x9xi8> into memref<96x1x3x3xi8>
  linalg.generic {indexing_maps = [
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 * 1 + d5 * 1, d2 * 1 + d6 * 1, d3)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d3, d4, d5, d6)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x96, %w96 : memref<1x6x7x96xi8>, memref<96x1x3x3xi8>) outs(%out96 : memref<1x4x5x96x1xi32>) {
  ^bb0(%a: i8, %b: i8, %o: i32):
    %ae = arith.extsi %a : i8 to i32
    %be = arith.extsi %b : i8 to i32
    %p = arith.muli %ae, %be : i32
    %s = arith.addi %o, %p : i32
    linalg.yield %s : i32
  }
  %g104 = memref.get_global @mcusparse_weights_3 : memref<104x9xi8>
  %w104 = memref.expand_shape %g104 [[0, 1], [2, 3]] output_shape [104, 1, 3, 3] : memref<104x9xi8> into memref<104x1x3x3xi8>
  linalg.generic {indexing_maps = [
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 * 1 + d5 * 1, d2 * 1 + d6 * 1, d3)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d3, d4, d5, d6)>,
      affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x104, %w104 : memref<1x6x7x104xi8>, memref<104x1x3x3xi8>) outs(%out104 : memref<1x4x5x104x1xi32>) {
  ^bb0(%a: i8, %b: i8, %o: i32):
    %ae = arith.extsi %a : i8 to i32
    %be = arith.extsi %b : i8 to i32
    %p = arith.muli %ae, %be : i32
    %s = arith.addi %o, %p : i32
    linalg.yield %s : i32
  }
  return
}
