// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec, canonicalize)' | FileCheck %s

// Dense int8 baseline: 4 rows share one activation load; widening multiply
// and a reduction per row; the column tail (20 = 16 + 4) is one step with a
// constant mask; rows % 4 run one at a time.

// CHECK-LABEL: func.func @dense
// CHECK-DAG: %[[TAIL:.*]] = arith.constant dense<[true, true, true, true, false, {{.*}}]> : vector<16xi1>
// CHECK: %[[X:.*]] = vector.transfer_read %arg1[%c0], %c0_i8 {in_bounds = [true]} : tensor<20xi8>, vector<16xi8>
// CHECK: vector.transfer_read %arg0[%c0, %c0], %c0_i8 {in_bounds = [true]} : tensor<6x20xi8>, vector<16xi8>
// CHECK: arith.extsi {{.*}} : vector<16xi8> to vector<16xi32>
// CHECK: arith.muli {{.*}} : vector<16xi32>
// CHECK: vector.reduction <add>, {{.*}} : vector<16xi32> into i32
// CHECK: vector.transfer_read %arg0[%c3, %c0]
// CHECK: vector.transfer_read %arg1[%c16], %c0_i8, %[[TAIL]] {in_bounds = [true]}
// CHECK: tensor.insert
// CHECK: scf.for %{{.*}} = %c4 to %c6 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (tensor<6xi32>)
// CHECK-NOT: linalg.matvec
func.func @dense(%w: tensor<6x20xi8>, %x: tensor<20xi8>, %y: tensor<6xi32>) -> tensor<6xi32> {
  %r = linalg.matvec ins(%w, %x : tensor<6x20xi8>, tensor<20xi8>) outs(%y : tensor<6xi32>) -> tensor<6xi32>
  return %r : tensor<6xi32>
}

// -----

// CSR (no target: the generic vector form RVV takes): per row, 16 entries
// per step (the vector length), a tail mask of the lanes below the entries
// left, a gather of the activations at the zero-extended column indices,
// products summed in a vector of accumulators. The buffers come from the
// assemble's operands and no sparse_enc op is left.

#CSR = #sparse_enc.csr<>
// CHECK-LABEL: func.func @csr
// CHECK-SAME: (%[[V:.*]]: tensor<5xi8>, %[[C:.*]]: tensor<5xi16>, %[[P:.*]]: tensor<4xi16>, %[[X:.*]]: tensor<8xi8>, %[[Y:.*]]: tensor<3xi32>)
// row_ptr[r+1] is carried into the next row as its begin, and so are the
// lane sums and their total: they are never reset (3 rows: the loop over
// the rows left after the blocks of 4).
// CHECK: %[[FIRST:.*]] = tensor.extract %[[P]][%c0] : tensor<4xi16>
// CHECK: %[[B0:.*]] = arith.index_castui %[[FIRST]] : i16 to index
// CHECK: scf.for %[[R:.*]] = %c0 to %c3 step %c1 iter_args(%[[YT:.*]] = %[[Y]], %[[B:.*]] = %[[B0]], %[[L:.*]] = %{{.*}}, %[[T:.*]] = %c0_i32) -> (tensor<3xi32>, index, vector<16xi32>, i32)
// CHECK: %[[R1:.*]] = arith.addi %[[R]], %c1 : index
// CHECK: tensor.extract %[[P]][%[[R1]]] : tensor<4xi16>
// CHECK: %[[OLD:.*]] = tensor.extract %[[YT]][%[[R]]] : tensor<3xi32>
// CHECK: %[[LANES:.*]] = scf.for %[[J:.*]] = %[[B]] to %{{.*}} step %c16 iter_args(%[[ACC:.*]] = %[[L]]) -> (vector<16xi32>)
// The lanes below the entries left, compared unsigned in i8: no row holds
// more than the 5 stored entries.
// CHECK: %[[LEFT:.*]] = arith.index_castui %{{.*}} : index to i8
// CHECK: %[[LB:.*]] = vector.broadcast %[[LEFT]] : i8 to vector<16xi8>
// CHECK: %[[M:.*]] = arith.cmpi ugt, %[[LB]], %{{.*}} : vector<16xi8>
// CHECK: %[[VV:.*]] = vector.transfer_read %[[V]][%[[J]]], %{{.*}}, %[[M]] {in_bounds = [true]} : tensor<5xi8>, vector<16xi8>
// CHECK: %[[CV:.*]] = vector.transfer_read %[[C]][%[[J]]], %{{.*}}, %[[M]] {in_bounds = [true]} : tensor<5xi16>, vector<16xi16>
// CHECK: %[[CI:.*]] = arith.extui %[[CV]] : vector<16xi16> to vector<16xi32>
// CHECK: vector.gather %[[X]][%c0] [%[[CI]]], %[[M]], %{{.*}} : tensor<8xi8>, vector<16xi32>, vector<16xi1>, vector<16xi8> into vector<16xi8>
// The products accumulate lane by lane; the last step keeps masked-off lanes.
// CHECK: %[[SUM:.*]] = arith.addi %[[ACC]], %{{.*}} : vector<16xi32>
// CHECK: arith.select %[[M]], %[[SUM]], %[[ACC]] : vector<16xi1>, vector<16xi32>
// CHECK-NOT: vector.reduction
// CHECK: scf.yield
// One reduction per row: y[r] + the growth of the total.
// CHECK: %[[TOTAL:.*]] = vector.reduction <add>, %[[LANES]] : vector<16xi32> into i32
// CHECK: %[[ROW:.*]] = arith.subi %[[TOTAL]], %[[T]] : i32
// CHECK: %[[NEW:.*]] = arith.addi %[[OLD]], %[[ROW]] : i32
// CHECK: tensor.insert %[[NEW]] into %[[YT]][%[[R]]]
// CHECK: scf.yield %{{.*}}, %{{.*}}, %[[LANES]], %[[TOTAL]]
// CHECK-NOT: vector.create_mask
// CHECK-NOT: sparse_enc
func.func @csr(%v: tensor<5xi8>, %ci: tensor<5xi16>, %rp: tensor<4xi16>, %x: tensor<8xi8>, %y: tensor<3xi32>) -> tensor<3xi32> {
  %w = sparse_enc.assemble (%v, %ci, %rp) : (tensor<5xi8>, tensor<5xi16>, tensor<4xi16>) -> tensor<3x8xi8, #CSR>
  %r = linalg.matvec ins(%w, %x : tensor<3x8xi8, #CSR>, tensor<8xi8>) outs(%y : tensor<3xi32>) -> tensor<3xi32>
  return %r : tensor<3xi32>
}

// -----

// CSR with 8-bit indices: the same loop over 8-bit column indices.

#CSR8 = #sparse_enc.csr<crd_bits = 8>
// CHECK-LABEL: func.func @csr8
// CHECK: arith.cmpi ugt, %{{.*}}, %{{.*}} : vector<16xi8>
// CHECK: arith.extui %{{.*}} : vector<16xi8> to vector<16xi32>
// CHECK: vector.gather
// CHECK-NOT: sparse_enc
func.func @csr8(%v: tensor<5xi8>, %ci: tensor<5xi8>, %rp: tensor<4xi16>, %x: tensor<8xi8>, %y: tensor<3xi32>) -> tensor<3xi32> {
  %w = sparse_enc.assemble (%v, %ci, %rp) : (tensor<5xi8>, tensor<5xi8>, tensor<4xi16>) -> tensor<3x8xi8, #CSR8>
  %r = linalg.matvec ins(%w, %x : tensor<3x8xi8, #CSR8>, tensor<8xi8>) outs(%y : tensor<3xi32>) -> tensor<3xi32>
  return %r : tensor<3xi32>
}

// -----

// N:M 1:8 (3-bit offsets, 10 per word): the word is broadcast, shifted by
// [0, 3, 6, ...] and masked with 7; block bases are a constant vector; a
// 16-column row has 2 fields, so its only word is partial and masked.

#NM = #sparse_enc.nm<n = 1, m = 8>
// CHECK-LABEL: func.func @nm
// CHECK-DAG: %[[BASE:.*]] = arith.constant dense<[0, 8, 16, 24, 32, 40, 48, 56, 64, 72]> : vector<10xi32>
// CHECK-DAG: %[[MASK:.*]] = arith.constant dense<[true, true, false, false, false, false, false, false, false, false]> : vector<10xi1>
// CHECK-DAG: %[[SHIFTS:.*]] = arith.constant dense<[0, 3, 6, 9, 12, 15, 18, 21, 24, 27]> : vector<10xi32>
// CHECK-DAG: %[[SEVEN:.*]] = arith.constant dense<7> : vector<10xi32>
// CHECK: scf.for
// CHECK: %[[BYTES:.*]] = vector.transfer_read %arg1[%{{.*}}], %c0_i8 {in_bounds = [true]} : tensor<12xi8>, vector<4xi8>
// CHECK: %[[W:.*]] = vector.bitcast %[[BYTES]] {sparse_enc.aligned_word} : vector<4xi8> to vector<1xi32>
// CHECK: %[[WORD:.*]] = vector.extract %[[W]][0]
// CHECK: %[[B:.*]] = vector.broadcast %[[WORD]] : i32 to vector<10xi32>
// CHECK: %[[S:.*]] = arith.shrui %[[B]], %[[SHIFTS]] : vector<10xi32>
// CHECK: %[[O:.*]] = arith.andi %[[S]], %[[SEVEN]] : vector<10xi32>
// CHECK: %[[COLS:.*]] = arith.addi %[[O]], %[[BASE]] : vector<10xi32>
// CHECK: vector.transfer_read %arg0[%{{.*}}], %c0_i8, %[[MASK]]
// CHECK: vector.gather %arg2[%c0] [%[[COLS]]], %[[MASK]]
// CHECK: vector.reduction <add>
// CHECK-NOT: sparse_enc
func.func @nm(%v: tensor<6xi8>, %o: tensor<12xi8>, %x: tensor<16xi8>, %y: tensor<3xi32>) -> tensor<3xi32> {
  %w = sparse_enc.assemble (%v, %o) : (tensor<6xi8>, tensor<12xi8>) -> tensor<3x16xi8, #NM>
  %r = linalg.matvec ins(%w, %x : tensor<3x16xi8, #NM>, tensor<16xi8>) outs(%y : tensor<3xi32>) -> tensor<3xi32>
  return %r : tensor<3xi32>
}

// -----

// N:M 2:4 with 32 columns: 16 fields = one full word per row, in an scf.for
// over the words (n divides the 16 fields per word).

#NM24 = #sparse_enc.nm<n = 2, m = 4>
// CHECK-LABEL: func.func @nm_2_4
// CHECK-DAG: arith.constant dense<[0, 0, 4, 4, 8, 8, 12, 12, 16, 16, 20, 20, 24, 24, 28, 28]> : vector<16xi32>
// CHECK-DAG: arith.constant dense<[0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]> : vector<16xi32>
// CHECK-DAG: arith.constant dense<3> : vector<16xi32>
// CHECK: vector.gather {{.*}} : tensor<32xi8>, vector<16xi32>, vector<16xi1>, vector<16xi8> into vector<16xi8>
// CHECK-NOT: sparse_enc
func.func @nm_2_4(%v: tensor<32xi8>, %o: tensor<8xi8>, %x: tensor<32xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  %w = sparse_enc.assemble (%v, %o) : (tensor<32xi8>, tensor<8xi8>) -> tensor<2x32xi8, #NM24>
  %r = linalg.matvec ins(%w, %x : tensor<2x32xi8, #NM24>, tensor<32xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// -----

// N:M 3:8 with 160 columns: 60 fields in 6 words per row. 3 does not divide
// the 10 fields per word, so the loop steps by 3 words (30 fields, 10
// blocks, 80 columns): each word of a step has its own constant block
// bases, and the step's gathers start at x + 80k. Not unrolled over the row.

#NM38 = #sparse_enc.nm<n = 3, m = 8>
// CHECK-LABEL: func.func @nm_3_8
// CHECK-DAG: %[[B2:.*]] = arith.constant dense<[48, 56, 56, 56, 64, 64, 64, 72, 72, 72]> : vector<10xi32>
// CHECK-DAG: %[[B1:.*]] = arith.constant dense<[24, 24, 32, 32, 32, 40, 40, 40, 48, 48]> : vector<10xi32>
// CHECK-DAG: %[[B0:.*]] = arith.constant dense<[0, 0, 0, 8, 8, 8, 16, 16, 16, 24]> : vector<10xi32>
// CHECK: scf.for %[[K:.*]] = %c0 to %c2 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (i32)
// CHECK: %[[XK:.*]] = arith.muli %[[K]], %c80 : index
// CHECK: %[[C0:.*]] = arith.addi %{{.*}}, %[[B0]] : vector<10xi32>
// CHECK: vector.gather %arg2[%[[XK]]] [%[[C0]]]
// CHECK: %[[C1:.*]] = arith.addi %{{.*}}, %[[B1]] : vector<10xi32>
// CHECK: vector.gather %arg2[%[[XK]]] [%[[C1]]]
// CHECK: %[[C2:.*]] = arith.addi %{{.*}}, %[[B2]] : vector<10xi32>
// CHECK: vector.gather %arg2[%[[XK]]] [%[[C2]]]
// CHECK-NOT: vector.gather
// CHECK: scf.yield
// CHECK-NOT: vector.gather
// CHECK-NOT: sparse_enc
func.func @nm_3_8(%v: tensor<120xi8>, %o: tensor<48xi8>, %x: tensor<160xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  %w = sparse_enc.assemble (%v, %o) : (tensor<120xi8>, tensor<48xi8>) -> tensor<2x160xi8, #NM38>
  %r = linalg.matvec ins(%w, %x : tensor<2x160xi8, #NM38>, tensor<160xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// -----

// GS: per group of 4 rows, every step gathers 4 activations and accumulates
// lane-wise into a vector<4xi32> (no reduction); one masked read-modify-write
// of y per group (3 rows: the padded lane is out of bounds).

#GS = #sparse_enc.gs<lanes = 4>
// CHECK-LABEL: func.func @gs
// CHECK: %[[K:.*]] = tensor.extract %arg2[%c0] : tensor<1xi16>
// CHECK: %[[ACC:.*]] = scf.for %{{.*}} iter_args(%[[A:.*]] = %{{.*}}) -> (vector<4xi32>)
// CHECK: vector.transfer_read %arg0
// CHECK: vector.transfer_read %arg1
// CHECK: vector.gather %arg3
// CHECK: %[[P:.*]] = arith.muli %{{.*}}, %{{.*}} : vector<4xi32>
// CHECK: arith.addi %[[A]], %[[P]] : vector<4xi32>
// CHECK-NOT: vector.reduction
// CHECK: %[[OLD:.*]] = vector.transfer_read %arg4[%c0], %c0_i32 : tensor<3xi32>, vector<4xi32>
// CHECK: %[[SUM:.*]] = arith.addi %[[OLD]], %[[ACC]] : vector<4xi32>
// CHECK: vector.transfer_write %[[SUM]], %arg4[%c0] : vector<4xi32>, tensor<3xi32>
// CHECK-NOT: sparse_enc
func.func @gs(%v: tensor<8xi8>, %c: tensor<8xi8>, %n: tensor<1xi16>, %x: tensor<8xi8>, %y: tensor<3xi32>) -> tensor<3xi32> {
  %w = sparse_enc.assemble (%v, %c, %n) : (tensor<8xi8>, tensor<8xi8>, tensor<1xi16>) -> tensor<3x8xi8, #GS>
  %r = linalg.matvec ins(%w, %x : tensor<3x8xi8, #GS>, tensor<8xi8>) outs(%y : tensor<3xi32>) -> tensor<3xi32>
  return %r : tensor<3xi32>
}

// -----

// dCSR (G = 16): column offsets are decoded in vector registers. An even
// group reads its pair's nibble block and map byte once and keeps the lower
// nibbles for the odd group (carried, also across rows); the group's
// extension masks are bitcast to lane predicates and ORed in under them
// (bits 6 and 7 tested only when the map has one), the ramp s*lane is added
// in 8-bit lanes; then one gather at x[base] with those offsets, a
// create_mask for the row's last group, products summed in lane
// accumulators (no target: the RVV form; MVE reduces every group with
// vmlava), one reduction per row.

#DCSR = #sparse_enc.dcsr<group = 16>
// CHECK-LABEL: func.func @dcsr
// The average entries per row is the static length of the values over the
// rows (11 / 2), not a load of nnz.
// CHECK-NOT: tensor.extract %arg6
// CHECK-DAG: %[[AVG:.*]] = arith.constant 5 : index
// CHECK-DAG: %[[RAMP:.*]] = arith.constant dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]> : vector<16xi8>
// CHECK: scf.for {{.*}} -> (tensor<2xi32>, index, index, index, vector<16xi8>, i32)
// CHECK: %[[N:.*]] = arith.addi %{{.*}}, %[[AVG]]
// CHECK: arith.maxui %[[N]]
// CHECK: %[[RS:.*]] = arith.muli %{{.*}}, %[[RAMP]] : vector<16xi8>
// CHECK: scf.for {{.*}} -> (vector<16xi32>, index, index, index, vector<16xi8>, i32)
// CHECK: %[[PAIR:.*]]:4 = scf.if %{{.*}} -> (vector<16xi8>, vector<16xi8>, i32, i32)
// CHECK: %[[BLOCK:.*]] = vector.transfer_read %arg1[%{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<16xi8>, vector<16xi8>
// CHECK: tensor.extract %arg3
// CHECK: arith.shrui %[[BLOCK]], %{{.*}} : vector<16xi8>
// CHECK: arith.andi %[[BLOCK]], %{{.*}} : vector<16xi8>
// CHECK: } else {
// CHECK: scf.yield %{{.*}}, %{{.*}}, %{{.*}}, %c0_i32 : vector<16xi8>, vector<16xi8>, i32, i32
// CHECK: scf.if %{{.*}} -> (vector<16xi8>, index)
// CHECK: %[[WORD:.*]] = tensor.extract %arg4[%{{.*}}] : tensor<2xi16>
// CHECK: %[[W1:.*]] = vector.broadcast %[[WORD]] : i16 to vector<1xi16>
// CHECK: %[[PRED:.*]] = vector.bitcast %[[W1]] : vector<1xi16> to vector<16xi1>
// CHECK: arith.select %[[PRED]], %{{.*}}, %{{.*}} : vector<16xi1>, vector<16xi8>
// CHECK: scf.if
// CHECK: arith.cmpi uge, %[[PAIR]]#2
// CHECK: scf.if
// CHECK-COUNT-2: scf.if
// CHECK: %[[OFF8:.*]] = arith.addi %[[RS]], %{{.*}} : vector<16xi8>
// CHECK: %[[OFF:.*]] = arith.extui %[[OFF8]] : vector<16xi8> to vector<16xi32>
// CHECK: %[[M:.*]] = vector.create_mask %{{.*}} : vector<16xi1>
// CHECK: vector.transfer_read %arg0[%{{.*}}], %{{.*}}, %[[M]]
// CHECK: vector.gather %arg7[%[[BASE:.*]]] [%[[OFF]]], %[[M]]
// CHECK: arith.select %[[M]], %{{.*}}, %{{.*}} : vector<16xi1>, vector<16xi32>
// CHECK-NOT: vector.reduction
// CHECK: scf.yield
// CHECK: vector.reduction <add>, %{{.*}}, %{{.*}} : vector<16xi32> into i32
// CHECK-NOT: sparse_enc
func.func @dcsr(%v: tensor<11xi8>, %d: tensor<16xi8>, %mn: tensor<2xi8>, %mp: tensor<1xi8>, %mk: tensor<2xi16>, %ro: tensor<2xi16>, %nz: tensor<1xi32>, %x: tensor<40xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  %w = sparse_enc.assemble (%v, %d, %mn, %mp, %mk, %ro, %nz) : (tensor<11xi8>, tensor<16xi8>, tensor<2xi8>, tensor<1xi8>, tensor<2xi16>, tensor<2xi16>, tensor<1xi32>) -> tensor<2x40xi8, #DCSR>
  %r = linalg.matvec ins(%w, %x : tensor<2x40xi8, #DCSR>, tensor<40xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// -----

// dCSR without any extension mask (empty buffer): no mask code at all (the
// only scf.if is the even group's pair load).

#DCSR16 = #sparse_enc.dcsr<group = 16>
// CHECK-LABEL: func.func @dcsr_no_masks
// CHECK: scf.if %{{.*}} -> (vector<16xi8>, vector<16xi8>
// CHECK-NOT: scf.if
// CHECK: vector.gather
// CHECK-NOT: sparse_enc
func.func @dcsr_no_masks(%v: tensor<2xi8>, %d: tensor<16xi8>, %mn: tensor<1xi8>, %mp: tensor<1xi8>, %mk: tensor<0xi16>, %ro: tensor<1xi16>, %nz: tensor<1xi32>, %x: tensor<8xi8>, %y: tensor<1xi32>) -> tensor<1xi32> {
  %w = sparse_enc.assemble (%v, %d, %mn, %mp, %mk, %ro, %nz) : (tensor<2xi8>, tensor<16xi8>, tensor<1xi8>, tensor<1xi8>, tensor<0xi16>, tensor<1xi16>, tensor<1xi32>) -> tensor<1x8xi8, #DCSR16>
  %r = linalg.matvec ins(%w, %x : tensor<1x8xi8, #DCSR16>, tensor<8xi8>) outs(%y : tensor<1xi32>) -> tensor<1xi32>
  return %r : tensor<1xi32>
}

// -----

// float32 works with the same structure (mulf + reduction).

// CHECK-LABEL: func.func @dense_f32
// CHECK: arith.mulf {{.*}} : vector<16xf32>
// CHECK: vector.reduction <add>, {{.*}} : vector<16xf32> into f32
func.func @dense_f32(%w: tensor<4x8xf32>, %x: tensor<8xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %r = linalg.matvec ins(%w, %x : tensor<4x8xf32>, tensor<8xf32>) outs(%y : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
