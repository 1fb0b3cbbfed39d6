// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec{target=rv32imc}, canonicalize)' | FileCheck %s --check-prefix=RV32IMC
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec{target=cortex-m55}, canonicalize)' | FileCheck %s --check-prefix=M55
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-lower-matvec{target=rv32gcv}, canonicalize)' | FileCheck %s --check-prefix=RVV

// Target-specific kernel shapes of sparse-enc-lower-matvec{target=...}.

// rv32imc N:M: scalar code, no vectors except the 4-byte word load; fields
// peeled with a shift and an and (the first field: only the and; the top
// field of a full word: only the shift); block bases are constants added to
// the column; rows of <= 2 words run 4 per iteration; the function asks for
// the in-order SiFive E31 scheduling model.

#NM = #sparse_enc.nm<n = 1, m = 16>
// RV32IMC-LABEL: func.func @nm
// RV32IMC-SAME: tune_cpu = "sifive-e31"
// RV32IMC: scf.for %{{.*}} = %c0 to %c8 step %c4
// RV32IMC: vector.bitcast %{{.*}} {sparse_enc.aligned_word} : vector<4xi8> to vector<1xi32>
// RV32IMC: arith.andi %{{.*}}, %c15_i32 : i32
// RV32IMC: arith.shrui %{{.*}}, %c4_i32 : i32
// RV32IMC: arith.shrui %{{.*}}, %c28_i32 : i32
// RV32IMC-NOT: vector.gather
// RV32IMC-NOT: vector.reduction
// RV32IMC: arith.muli %{{.*}}, %{{.*}} : i32
// cortex-m55 N:M with 4-bit fields: 16 fields per step; the offset bytes
// read widened to i16, spread (shift by 4, or), masked with 0x0F0F and
// reinterpreted as 16 bytes; the block starts added; one gather of x, one
// reduction per step.
// M55-LABEL: func.func @nm
// M55-NOT: tune_cpu
// M55: vector.transfer_read %arg1[%{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<64xi8>, vector<8xi8>
// M55: arith.extui %{{.*}} : vector<8xi8> to vector<8xi16>
// M55: arith.shli
// M55: arith.ori
// M55: %[[F:.*]] = vector.bitcast %{{.*}} : vector<8xi16> to vector<16xi8>
// M55: arith.addi %[[F]], %{{.*}} : vector<16xi8>
// M55: vector.gather %arg2[%{{.*}}] [%{{.*}}], %{{.*}}, %{{.*}} : tensor<256xi8>, vector<16xi32>, vector<16xi1>, vector<16xi8> into vector<16xi8>
// M55: vector.reduction <add>
// rv32gcv N:M: 32 rows in parallel lanes (8 rows here: one masked group);
// each word gathered as 4 bytes per row, fields unpacked lane-wise, values
// and activations gathered, accumulated lane by lane: no reduction.
// RVV-LABEL: func.func @nm
// RVV-COUNT-4: vector.gather %{{.*}} : tensor<64xi8>, vector<32xi32>, vector<32xi1>, vector<32xi8> into vector<32xi8>
// RVV: arith.shrui %{{.*}} : vector<32xi32>
// RVV: arith.andi %{{.*}} : vector<32xi32>
// RVV: vector.gather %{{.*}} : tensor<256xi8>, vector<32xi32>, vector<32xi1>, vector<32xi8> into vector<32xi8>
// RVV: vector.gather %{{.*}} : tensor<128xi8>, vector<32xi32>, vector<32xi1>, vector<32xi8> into vector<32xi8>
// RVV-NOT: vector.reduction
// RVV: vector.transfer_write
func.func @nm(%v: tensor<128xi8>, %o: tensor<64xi8>, %x: tensor<256xi8>, %y: tensor<8xi32>) -> tensor<8xi32> {
  %w = sparse_enc.assemble (%v, %o) : (tensor<128xi8>, tensor<64xi8>) -> tensor<8x256xi8, #NM>
  %r = linalg.matvec ins(%w, %x : tensor<8x256xi8, #NM>, tensor<256xi8>) outs(%y : tensor<8xi32>) -> tensor<8xi32>
  return %r : tensor<8xi32>
}

// -----

// cortex-m55 dense (the baseline): four rows share each 16-byte read of x;
// W and x are read through pointers the loops carry, and the next block of
// rows starts where the last row's pointer ends (one W pointer in the row
// loop, no per-row base or index live across the column loop; the row loops
// are kept rolled); the column tail is one masked read. Other targets index
// the tensors.
// M55: #[[UNROLL:.*]] = #llvm.loop_unroll<disable = true>
// M55: #[[ROLLED:.*]] = #llvm.loop_annotation<unroll = #[[UNROLL]]>
// M55-LABEL: func.func @dense
// M55: bufferization.to_buffer %arg0 read_only
// M55: %[[W:.*]] = llvm.inttoptr %{{.*}} : i32 to !llvm.ptr
// M55: scf.for %{{.*}} = %c0 to %c8 step %c4 iter_args(%{{.*}} = %arg2, %[[ROW:.*]] = %[[W]])
// M55: %[[R1:.*]] = llvm.getelementptr %[[ROW]][40] : (!llvm.ptr) -> !llvm.ptr, i8
// M55: scf.for %{{.*}} = %c0 to %c32 step %c16 iter_args({{.*}}) -> (i32, i32, i32, i32, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr)
// M55-COUNT-5: llvm.load %{{.*}} : !llvm.ptr -> vector<16xi8>
// M55-NOT: vector.transfer_read
// M55: llvm.intr.masked.load
// M55: } {loop_annotation = #[[ROLLED]]}
// M55: scf.for %{{.*}} = %c8 to %c10 step %c1
// M55-NOT: vector.transfer_read
// M55: return
// RV32IMC-LABEL: func.func @dense
// RV32IMC-NOT: llvm.load
// RV32IMC: return
func.func @dense(%w: tensor<10x40xi8>, %x: tensor<40xi8>, %y: tensor<10xi32>) -> tensor<10xi32> {
  %r = linalg.matvec ins(%w, %x : tensor<10x40xi8>, tensor<40xi8>) outs(%y : tensor<10xi32>) -> tensor<10xi32>
  return %r : tensor<10xi32>
}

// -----

// GS with 16 lanes on cortex-m55: vmullb/vmullt through llvm.call_intrinsic,
// four vector<4xi32> accumulators, one transposing shuffle per group.

#GS16 = #sparse_enc.gs<lanes = 16>
// M55-LABEL: func.func @gs16
// M55: scf.for {{.*}} -> (vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>)
// M55: llvm.call_intrinsic "llvm.arm.mve.vmull"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xi8>, vector<16xi8>, i32, i32) -> vector<8xi16>
// M55: vector.bitcast %{{.*}} : vector<8xi16> to vector<4xi32>
// M55: llvm.call_intrinsic "llvm.arm.mve.vmull"
// M55: vector.shuffle %{{.*}}, %{{.*}} [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15] : vector<8xi32>, vector<8xi32>
// M55-NOT: sparse_enc
// RV32IMC-LABEL: func.func @gs16
// RV32IMC-NOT: llvm.call_intrinsic
// RV32IMC: arith.muli %{{.*}}, %{{.*}} : vector<16xi32>
func.func @gs16(%v: tensor<512xi8>, %c: tensor<512xi8>, %n: tensor<2xi16>, %x: tensor<256xi8>, %y: tensor<32xi32>) -> tensor<32xi32> {
  %w = sparse_enc.assemble (%v, %c, %n) : (tensor<512xi8>, tensor<512xi8>, tensor<2xi16>) -> tensor<32x256xi8, #GS16>
  %r = linalg.matvec ins(%w, %x : tensor<32x256xi8, #GS16>, tensor<256xi8>) outs(%y : tensor<32xi32>) -> tensor<32xi32>
  return %r : tensor<32xi32>
}

// -----

// GS with 8 lanes on cortex-m55: values and gathered activations
// sign-extended to int16, vmullb/vmullt.s16 into two vector<4xi32>
// accumulators (even and odd rows), interleaved once per group.

#GS8 = #sparse_enc.gs<lanes = 8>
// M55-LABEL: func.func @gs8
// M55: scf.for {{.*}} -> (vector<4xi32>, vector<4xi32>)
// M55: vector.gather %{{.*}} : tensor<256xi8>, vector<8xi32>, vector<8xi1>, vector<8xi8> into vector<8xi8>
// M55: arith.extsi %{{.*}} : vector<8xi8> to vector<8xi16>
// M55-COUNT-2: llvm.call_intrinsic "llvm.arm.mve.vmull"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (vector<8xi16>, vector<8xi16>, i32, i32) -> vector<4xi32>
// M55: vector.interleave %{{.*}}, %{{.*}} : vector<4xi32> -> vector<8xi32>
// M55-NOT: sparse_enc
// RV32IMC-LABEL: func.func @gs8
// RV32IMC-NOT: llvm.call_intrinsic
func.func @gs8(%v: tensor<256xi8>, %c: tensor<256xi8>, %n: tensor<3xi16>, %x: tensor<256xi8>, %y: tensor<20xi32>) -> tensor<20xi32> {
  %w = sparse_enc.assemble (%v, %c, %n) : (tensor<256xi8>, tensor<256xi8>, tensor<3xi16>) -> tensor<20x256xi8, #GS8>
  %r = linalg.matvec ins(%w, %x : tensor<20x256xi8, #GS8>, tensor<256xi8>) outs(%y : tensor<20xi32>) -> tensor<20xi32>
  return %r : tensor<20xi32>
}

// -----

// GS with 16 lanes and 16-bit column indices (more than 256 columns) on
// cortex-m55: each half of the group (rows 0-7, 8-15) gathers 8 activations
// sign-extended to int16, and vmullb/vmullt.s16 give the int32 products of
// its even and odd lanes; one shuffle per group restores row order.

#GS16W = #sparse_enc.gs<lanes = 16>
// M55-LABEL: func.func @gs16_wide
// M55: scf.for {{.*}} -> (vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>)
// M55: vector.gather %{{.*}} : tensor<300xi8>, vector<8xi32>, vector<8xi1>, vector<8xi8> into vector<8xi8>
// M55: arith.extsi %{{.*}} : vector<8xi8> to vector<8xi16>
// M55-COUNT-2: llvm.call_intrinsic "llvm.arm.mve.vmull"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (vector<8xi16>, vector<8xi16>, i32, i32) -> vector<4xi32>
// M55: vector.gather %{{.*}} : tensor<300xi8>, vector<8xi32>, vector<8xi1>, vector<8xi8> into vector<8xi8>
// M55: vector.shuffle %{{.*}}, %{{.*}} [0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15] : vector<8xi32>, vector<8xi32>
// M55-NOT: sparse_enc
func.func @gs16_wide(%v: tensor<512xi8>, %c: tensor<512xi16>, %n: tensor<2xi16>, %x: tensor<300xi8>, %y: tensor<32xi32>) -> tensor<32xi32> {
  %w = sparse_enc.assemble (%v, %c, %n) : (tensor<512xi8>, tensor<512xi16>, tensor<2xi16>) -> tensor<32x300xi8, #GS16W>
  %r = linalg.matvec ins(%w, %x : tensor<32x300xi8, #GS16W>, tensor<300xi8>) outs(%y : tensor<32xi32>) -> tensor<32xi32>
  return %r : tensor<32xi32>
}

// -----

// cortex-m55 CSR: each row is a do-while loop over n rounded up to the
// vector length with an exact exit and llvm.get.active.lane.mask(k, n) (the
// shape LLVM's MVE tail predication turns into dlstp/letp; row_ptr read
// through a pointer the row loop advances, two rows per iteration); int8 x int8 in
// 8 lanes accumulates with a predicated vmlava.s16 on sign-extended lanes.
// rv32imc: scalar, four entries per iteration, then the row's last n % 4.
// rv32gcv: vector-length entries per step (register groups: the pass's
// default 16 here, the rv32gcv pipeline's 32), the lanes below the entries
// left as an unsigned i16 compare (600 stored entries; create_mask compared
// i32 lanes against a count clamped at 0), products summed in lane
// accumulators that are never reset, one reduction per row (the growth of
// their total), four rows per iteration.

#CSR = #sparse_enc.csr<>
// M55-LABEL: func.func @csr
// M55: scf.for %{{.*}} = %c0 to %c64 step %c2 {{.*}} -> (tensor<{{.*}}xi32>, index, !llvm.ptr)
// M55: llvm.load %{{.*}} : !llvm.ptr -> i16
// M55: arith.andi %{{.*}}, %c-8 : index
// M55: scf.if
// M55: scf.while
// M55: %[[M:.*]] = llvm.intr.get.active.lane.mask %{{.*}}, %{{.*}} : i32, i32 to vector<8xi1>
// M55: vector.gather %{{.*}}[%{{.*}}] [%{{.*}}], %[[M]]
// M55: llvm.call_intrinsic "llvm.arm.mve.vmldava.predicated"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[M]]) : (i32, i32, i32, i32, vector<8xi16>, vector<8xi16>, vector<8xi1>) -> i32
// M55: scf.condition
// M55-NOT: vector.create_mask
// M55-NOT: sparse_enc
// RV32IMC-LABEL: func.func @csr
// RV32IMC: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c4
// RV32IMC-COUNT-4: arith.muli %{{.*}}, %{{.*}} : i32
// RV32IMC: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1
// RV32IMC: arith.muli %{{.*}}, %{{.*}} : i32
// RV32IMC-NOT: vector.
// RVV-LABEL: func.func @csr
// RVV: scf.for %{{.*}} = %c0 to %c64 step %c4 iter_args({{.*}}) -> (tensor<64xi32>, index, vector<16xi32>, i32)
// RVV: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c16 iter_args(%{{.*}} = %{{.*}}) -> (vector<16xi32>)
// RVV: %[[LEFT:.*]] = arith.index_castui %{{.*}} : index to i16
// RVV: %[[B:.*]] = vector.broadcast %[[LEFT]] : i16 to vector<16xi16>
// RVV: arith.cmpi ugt, %[[B]], %{{.*}} : vector<16xi16>
// RVV: vector.gather
// RVV: arith.muli %{{.*}}, %{{.*}} : vector<16xi16>
// RVV: arith.extsi %{{.*}} : vector<16xi16> to vector<16xi32>
// RVV: arith.select %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi1>, vector<16xi32>
// RVV-NOT: vector.reduction
// RVV: scf.yield
// RVV: %[[TOTAL:.*]] = vector.reduction <add>, %{{.*}} : vector<16xi32> into i32
// RVV: arith.subi %[[TOTAL]], %{{.*}} : i32
// RVV-COUNT-3: vector.reduction <add>
// RVV-NOT: vector.reduction
// RVV-NOT: scf.while
// RVV-NOT: vector.create_mask
func.func @csr(%v: tensor<600xi8>, %ci: tensor<600xi16>, %rp: tensor<65xi16>, %x: tensor<256xi8>, %y: tensor<64xi32>) -> tensor<64xi32> {
  %w = sparse_enc.assemble (%v, %ci, %rp) : (tensor<600xi8>, tensor<600xi16>, tensor<65xi16>) -> tensor<64x256xi8, #CSR>
  %r = linalg.matvec ins(%w, %x : tensor<64x256xi8, #CSR>, tensor<256xi8>) outs(%y : tensor<64xi32>) -> tensor<64xi32>
  return %r : tensor<64xi32>
}

// -----

// dCSR with byte deltas. cortex-m55: the row loop, six rows per
// iteration and the rest one per iteration (5 rows: only the latter),
// carries pointers (Pointers.cpp) to the row's values, deltas and group
// jumps; for a non-empty row, a do-while over the row's entries with
// llvm.get.active.lane.mask(k, n) (dlstp/letp after LLVM), the deltas read
// under the mask and used as the gather offsets as they are (no slope or
// ramp), the group's uint8 jump zero-extended and added to the gather base
// pointer (x for the row's first group), a masked gather and a predicated
// reduction per group. rv32imc: scalar entries, column = base + delta.
// rv32gcv: four rows per iteration (here 4 + 1, the loop folded away),
// pointers carried like on cortex-m55; a do-while over the row's groups
// counting the entries left, the lanes below them as an unsigned compare in
// i8 (a row has at most 40 entries), masked loads and gather with
// undefined masked-off lanes, i16 products added to lane accumulators under
// the mask; the accumulators are never reset, so a row's sum is their new
// total less the total after the previous row.

#DCSR8 = #sparse_enc.dcsr<group = 16, delta_bits = 8>
// M55-LABEL: func.func @dcsr_bytes
// M55: %[[X:.*]] = llvm.inttoptr %{{.*}} : i32 to !llvm.ptr
// M55: scf.for %{{.*}} = %c0 to %c5 step %c1 iter_args({{.*}}) -> (tensor<5xi32>, !llvm.ptr, !llvm.ptr, !llvm.ptr)
// M55: scf.if
// M55: scf.while (%{{.*}} = %c0, %{{.*}} = %[[X]],
// M55: %[[M:.*]] = llvm.intr.get.active.lane.mask %{{.*}}, %{{.*}} : i32, i32 to vector<16xi1>
// M55: %[[D:.*]] = llvm.intr.masked.load %{{.*}}, %[[M]], %{{.*}} {alignment = 1 : i32} : (!llvm.ptr, vector<16xi1>, vector<16xi8>) -> vector<16xi8>
// M55: %[[OFF:.*]] = arith.extui %[[D]] : vector<16xi8> to vector<16xi32>
// M55: %[[J:.*]] = llvm.load %{{.*}} : !llvm.ptr -> i8
// M55: arith.index_castui %[[J]] : i8 to index
// M55: %[[BASE:.*]] = llvm.getelementptr
// M55: llvm.intr.masked.load %{{.*}}, %[[M]]
// M55: llvm.getelementptr %[[BASE]][%[[OFF]]]
// M55: llvm.intr.masked.gather %{{.*}}, %[[M]]
// M55: vector.reduction <add>
// M55: scf.condition
// M55-NOT: arith.muli %{{.*}} : vector<16xi8>
// M55-NOT: arith.divui
// M55-NOT: vector.create_mask
// M55-NOT: sparse_enc
// RV32IMC-LABEL: func.func @dcsr_bytes
// RV32IMC: scf.for
// RV32IMC: tensor.extract %arg2[%{{.*}}] : tensor<2xi8>
// RV32IMC: scf.for
// RV32IMC: tensor.extract %arg1[%{{.*}}] : tensor<11xi8>
// RV32IMC: arith.muli %{{.*}}, %{{.*}} : i32
// RV32IMC-NOT: vector.
// RVV-LABEL: func.func @dcsr_bytes
// RVV: %[[X:.*]] = llvm.inttoptr %{{.*}} : i32 to !llvm.ptr
// RVV: %[[ROW:.*]]:4 = scf.if %{{.*}} -> (tensor<5xi32>, !llvm.ptr, vector<16xi32>, i32)
// RVV: scf.while (%[[LEFT:.*]] = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %[[X]], %[[ACC:.*]] = %{{.*}}) : (index, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, vector<16xi32>)
// RVV: %[[L8:.*]] = arith.index_castui %[[LEFT]] : index to i8
// RVV: %[[LB:.*]] = vector.broadcast %[[L8]] : i8 to vector<16xi8>
// RVV: %[[M:.*]] = arith.cmpi ugt, %[[LB]], %{{.*}} : vector<16xi8>
// RVV: llvm.intr.masked.load %{{.*}}, %[[M]], %{{.*}} {alignment = 1 : i32} : (!llvm.ptr, vector<16xi1>, vector<16xi8>) -> vector<16xi8>
// RVV: llvm.load %{{.*}} : !llvm.ptr -> i8
// RVV: llvm.intr.masked.gather %{{.*}}, %[[M]]
// RVV: arith.muli %{{.*}}, %{{.*}} : vector<16xi16>
// RVV: %[[SUM:.*]] = arith.addi %[[ACC]], %{{.*}} : vector<16xi32>
// RVV: arith.select %[[M]], %[[SUM]], %[[ACC]] : vector<16xi1>, vector<16xi32>
// RVV-NOT: vector.reduction
// RVV: scf.condition
// RVV: vector.reduction <add>, %{{.*}} : vector<16xi32> into i32
// RVV: scf.while ({{.*}}%{{.*}} = %[[ROW]]#2) :
// RVV: %[[TOTAL:.*]] = vector.reduction <add>, %{{.*}} : vector<16xi32> into i32
// RVV: arith.subi %[[TOTAL]], %[[ROW]]#3 : i32
// RVV-NOT: vector.create_mask
// RVV-NOT: sparse_enc
func.func @dcsr_bytes(%v: tensor<11xi8>, %d: tensor<11xi8>, %mn: tensor<2xi8>, %ro: tensor<5xi16>, %nz: tensor<1xi32>, %x: tensor<40xi8>, %y: tensor<5xi32>) -> tensor<5xi32> {
  %w = sparse_enc.assemble (%v, %d, %mn, %ro, %nz) : (tensor<11xi8>, tensor<11xi8>, tensor<2xi8>, tensor<5xi16>, tensor<1xi32>) -> tensor<5x40xi8, #DCSR8>
  %r = linalg.matvec ins(%w, %x : tensor<5x40xi8, #DCSR8>, tensor<40xi8>) outs(%y : tensor<5xi32>) -> tensor<5xi32>
  return %r : tensor<5xi32>
}

// -----

// dCSR (4-bit) on rv32imc: scalar code. Per group the nibble byte is read
// at (g/2)*G + lane and shifted by 4 (even group) or 0 (odd); the extension
// masks of map bits 4/5 (6/7) are interleaved into one i32 (Morton spread:
// lane l at bits 2l, 2l+1), shifted right by two per lane; two copies of the
// lane loop, with and without bits 6/7.
// cortex-m55: one loop over the groups of all rows (an outer loop only
// steps over empty rows); it carries y, the next row, the entries left, the
// sum, the gather base, G*s, ramp*s and pointers (values, minimums, nibble
// pair, map byte, extension masks). The entries left are carried as they
// were before the last group: the next group has that less 16, and the row
// is used up unless it was more than 16 (`arith.cmpi ugt` with the same 16
// as the subtraction, so that on Arm the subtraction sets the flags for the
// branch). Then the next row is set up before the next group: its sum
// stored, the values pointer stepped back by the padding. An even group
// loads its pair's 16 nibble bytes and map byte and advances both
// pointers. The commonest maps are tested first, each with one compare
// (`llvm.intr.expect.with.probability` keeps the order): 3 reads both
// 16-bit lane masks as one i32, 1 reads one, 0 none (these steps of the
// mask pointer are integer adds, see LowerDCSR.cpp); any other map tests
// each bit, and each set bit loads a 16-bit lane mask (the predicate, by
// bitcast) and advances the mask pointer. The carried gather base is the
// next group's base before its code: a group adds its code, gathers from
// there and adds G*s for the next one (a row starts from x itself).
// rv32gcv takes the same loop for int8 (from x - G*s, adding code + G*s
// before each gather); it multiplies in i16 lanes and adds the products of
// the mask's lanes to i32 lane sums that are never reset: one reduction per
// row (their total, at the row's end), none per group.

#DCSR = #sparse_enc.dcsr<group = 16>
// M55-LABEL: func.func @dcsr_4bit
// M55: scf.while {{.*}} -> (tensor<2xi32>, index, index, !llvm.ptr, index, vector<16xi8>, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, vector<16xi8>, i32, i32)
// M55: scf.while
// M55: %[[LEFT:.*]] = arith.subi %[[BEFORE:.*]], %c16 : index
// M55: %[[MORE:.*]] = arith.cmpi ugt, %[[BEFORE]], %c16 : index
// M55: scf.if %[[MORE]] -> (tensor<2xi32>, index, index, !llvm.ptr, index, vector<16xi8>, !llvm.ptr, i32, i1)
// M55: scf.yield %{{.*}}, %{{.*}}, %[[LEFT]],
// M55: } else {
// M55: tensor.insert
// M55: scf.condition
// M55-NOT: scf.for
// M55: llvm.load %{{.*}} : !llvm.ptr -> vector<16xi8>
// M55: llvm.getelementptr %{{.*}}[16] : (!llvm.ptr) -> !llvm.ptr, i8
// M55: %[[IS3:.*]] = arith.cmpi eq, %[[MAP:.*]], %c3_i32 : i32
// M55: llvm.intr.expect.with.probability %[[IS3]], %true, 4.500000e-01 : i1
// M55: %[[BOTH:.*]] = llvm.load %{{.*}} : !llvm.ptr -> i32
// M55: arith.shrui %[[BOTH]], %c16_i32 : i32
// M55: vector.bitcast %{{.*}} : vector<1xi16> to vector<16xi1>
// M55: %[[AT:.*]] = llvm.ptrtoint %{{.*}} : !llvm.ptr to i32
// M55: arith.addi %[[AT]], %c4_i32 : i32
// M55: arith.cmpi eq, %[[MAP]], %c1_i32 : i32
// M55: llvm.load %{{.*}} : !llvm.ptr -> i16
// M55: arith.addi %{{.*}}, %c2_i32 : i32
// M55: arith.cmpi eq, %[[MAP]], %c0_i32 : i32
// M55: vector.bitcast %{{.*}} : vector<1xi16> to vector<16xi1>
// M55: %[[BASE:.*]] = llvm.getelementptr %{{.*}}[%{{.*}}] : (!llvm.ptr, i32) -> !llvm.ptr, i8
// M55: llvm.intr.get.active.lane.mask
// M55: llvm.intr.masked.load
// M55: %[[LANES:.*]] = llvm.getelementptr %[[BASE]][%{{.*}}] : (!llvm.ptr, vector<16xi32>)
// M55: llvm.intr.masked.gather %[[LANES]]
// M55: vector.reduction <add>
// M55: llvm.getelementptr %[[BASE]][%{{.*}}] : (!llvm.ptr, i32) -> !llvm.ptr, i8
// M55-NOT: sparse_enc
// RVV-LABEL: func.func @dcsr_4bit
// RVV: scf.while {{.*}} -> (tensor<2xi32>, index, index, !llvm.ptr, index, vector<16xi8>, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, vector<16xi8>, i32, i32, vector<16xi32>)
// RVV: vector.reduction <add>, %{{.*}} : vector<16xi32> into i32
// RVV: vector.bitcast %{{.*}} : vector<1xi16> to vector<16xi1>
// RVV: %[[MASK:.*]] = arith.cmpi ugt, %{{.*}}, %{{.*}} : vector<16xi8>
// RVV: llvm.intr.masked.gather %{{.*}}, %[[MASK]]
// RVV: arith.muli %{{.*}}, %{{.*}} : vector<16xi16>
// RVV: %[[SUMS:.*]] = arith.addi %[[LANES:.*]], %{{.*}} : vector<16xi32>
// RVV: arith.select %[[MASK]], %[[SUMS]], %[[LANES]] : vector<16xi1>, vector<16xi32>
// RVV-NOT: vector.reduction
// RVV: scf.yield
// RVV-NOT: scf.for
// RVV-NOT: sparse_enc
// RV32IMC-LABEL: func.func @dcsr_4bit
// RV32IMC: scf.for
// RV32IMC: scf.for
// RV32IMC: tensor.extract %arg3[%{{.*}}] : tensor<1xi8>
// RV32IMC: tensor.extract %arg4[%{{.*}}] : tensor<2xi16>
// RV32IMC: arith.shli %{{.*}}, %c8_i32 : i32
// RV32IMC: arith.andi %{{.*}}, %c16711935_i32 : i32
// RV32IMC: scf.if
// RV32IMC: scf.for {{.*}} -> (i32, index, i32, i32)
// RV32IMC: tensor.extract %arg1[%{{.*}}] : tensor<16xi8>
// RV32IMC: arith.muli %{{.*}}, %{{.*}} : i32
// RV32IMC: scf.for {{.*}} -> (i32, index, i32, i32)
// RV32IMC-NOT: vector.
func.func @dcsr_4bit(%v: tensor<11xi8>, %d: tensor<16xi8>, %mn: tensor<2xi8>, %mp: tensor<1xi8>, %mk: tensor<2xi16>, %ro: tensor<2xi16>, %nz: tensor<1xi32>, %x: tensor<40xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  %w = sparse_enc.assemble (%v, %d, %mn, %mp, %mk, %ro, %nz) : (tensor<11xi8>, tensor<16xi8>, tensor<2xi8>, tensor<1xi8>, tensor<2xi16>, tensor<2xi16>, tensor<1xi32>) -> tensor<2x40xi8, #DCSR>
  %r = linalg.matvec ins(%w, %x : tensor<2x40xi8, #DCSR>, tensor<40xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// -----

// rv32gcv, 256 columns: a row may hold 256 entries, so the entries left do
// not fit i8, but left - 1 does: the group's mask is lane <= left - 1 in i8
// lanes, like the group's other vector operations (no e16 compare).

#DCSR = #sparse_enc.dcsr<group = 16>
// RVV-LABEL: func.func @dcsr_4bit_256_columns
// RVV: arith.extui %{{.*}} : vector<16xi8> to vector<16xi32>
// RVV: %[[LAST:.*]] = arith.subi %{{.*}}, %c1 : index
// RVV: %[[LAST8:.*]] = arith.index_castui %[[LAST]] : index to i8
// RVV: %[[SPLAT:.*]] = vector.broadcast %[[LAST8]] : i8 to vector<16xi8>
// RVV: %[[MASK:.*]] = arith.cmpi uge, %[[SPLAT]], %{{.*}} : vector<16xi8>
// RVV-NOT: arith.cmpi {{.*}} : vector<16xi16>
// RVV: llvm.intr.masked.gather %{{.*}}, %[[MASK]]
// RVV: arith.muli %{{.*}}, %{{.*}} : vector<16xi16>
func.func @dcsr_4bit_256_columns(%v: tensor<11xi8>, %d: tensor<16xi8>, %mn: tensor<2xi8>, %mp: tensor<1xi8>, %mk: tensor<2xi16>, %ro: tensor<2xi16>, %nz: tensor<1xi32>, %x: tensor<256xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  %w = sparse_enc.assemble (%v, %d, %mn, %mp, %mk, %ro, %nz) : (tensor<11xi8>, tensor<16xi8>, tensor<2xi8>, tensor<1xi8>, tensor<2xi16>, tensor<2xi16>, tensor<1xi32>) -> tensor<2x256xi8, #DCSR>
  %r = linalg.matvec ins(%w, %x : tensor<2x256xi8, #DCSR>, tensor<256xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}
