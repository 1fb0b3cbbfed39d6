// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-to-llvm{target=cortex-m55})' | FileCheck %s
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-to-llvm{target=host})' | FileCheck %s --check-prefix=HOST
// RUN: sparse-opt %s --split-input-file --pass-pipeline='builtin.module(sparse-enc-to-llvm{target=cortex-m55})' | FileCheck %s --check-prefix=GEP
// RUN: sparse-opt %s --pass-pipeline='builtin.module(sparse-enc-to-llvm{target=cortex-m55})' \
// RUN:   | mlir-translate --mlir-to-llvmir \
// RUN:   | opt -O3 -force-attribute=nounwind -mtriple=thumbv8.1m.main-none-unknown-eabihf -mcpu=cortex-m55 -mattr=+mve.fp \
// RUN:   | llc -O3 -mtriple=thumbv8.1m.main-none-unknown-eabihf -mcpu=cortex-m55 -mattr=+mve.fp -float-abi=hard \
// RUN:   | FileCheck %s --check-prefix=MVE

// The whole pipeline: set-target (32-bit index, bare pointers), lowering,
// bufferization, llvm dialect. Arguments are plain pointers, index
// arithmetic is 32-bit, and no sparse_enc/vector/memref op is left.

#CSR = #sparse_enc.csr<>

// CHECK: module attributes {dlti.dl_spec = #dlti.dl_spec<index = 32 : i64>}
// CHECK-LABEL: llvm.func @csr(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr) -> !llvm.ptr attributes {llvm.bareptr}
// CHECK-NOT: {{(!llvm.ptr, i64)|to i64}}
// CHECK: llvm.intr.get.active.lane.mask
// CHECK-NOT: {{(!llvm.ptr, i64)|to i64}}
// CHECK: llvm.intr.masked.load
// CHECK: llvm.getelementptr {{.*}} : (!llvm.ptr, i32)
// CHECK: llvm.intr.masked.gather
// CHECK: llvm.call_intrinsic "llvm.arm.mve.vmldava.predicated"
// CHECK-NOT: {{(!llvm.ptr, i64)|to i64}}
// CHECK: llvm.return
// CHECK-NOT: sparse_enc
// CHECK-NOT: = vector.
// CHECK-NOT: = memref.

// HOST: module attributes {dlti.dl_spec = #dlti.dl_spec<index = 64 : i64>}

// MVE-LABEL: csr:
// MVE: dlstp.16 lr
// MVE: Inner Loop Header
// MVE-NEXT: vldrh.u16 [[IDX:q[0-9]]]
// MVE-NEXT: vldrb.s16 q{{[0-9]}}, [r{{[0-9]+}}, [[IDX]]]
// MVE-NEXT: vldrb.s16
// MVE-NEXT: vmlava.s16
// MVE-NEXT: letp lr
// MVE-NOT: vctp
func.func @csr(%v: tensor<600xi8>, %ci: tensor<600xi16>, %rp: tensor<65xi16>, %x: tensor<256xi8>, %y: tensor<64xi32>) -> tensor<64xi32> {
  %w = sparse_enc.assemble (%v, %ci, %rp) : (tensor<600xi8>, tensor<600xi16>, tensor<65xi16>) -> tensor<64x256xi8, #CSR>
  %r = linalg.matvec ins(%w, %x : tensor<64x256xi8, #CSR>, tensor<256xi8>) outs(%y : tensor<64xi32>) -> tensor<64xi32>
  return %r : tensor<64xi32>
}

// MVE-LABEL: dense:
// MVE: vldrb.u8
// MVE: vmlava.s8
// MVE: vmlava.s8
// MVE: vmlava.s8
// MVE: vmlava.s8
func.func @dense(%w: tensor<64x256xi8>, %x: tensor<256xi8>, %y: tensor<64xi32>) -> tensor<64xi32> {
  %r = linalg.matvec ins(%w, %x : tensor<64x256xi8>, tensor<256xi8>) outs(%y : tensor<64xi32>) -> tensor<64xi32>
  return %r : tensor<64xi32>
}

// The dCSR gather starts at x + base with base possibly negative: on the
// M55 x + base is a raw pointer (passes/lower/Pointers.cpp), carried from x
// and moved by each group's signed code and G*s, whose getelementptrs must
// not be inbounds.

#DCSR = #sparse_enc.dcsr<group = 16>
// CHECK-LABEL: llvm.func @dcsr
// CHECK: %[[PTRS:.*]] = llvm.getelementptr %[[XB:.*]][%{{.*}}] : (!llvm.ptr, vector<16xi32>) -> vector<16x!llvm.ptr>, i8
// CHECK-NEXT: llvm.intr.masked.gather %[[PTRS]]
// GEP-LABEL: llvm.func @dcsr
// GEP: %[[XI:.*]] = llvm.ptrtoint %arg7 : !llvm.ptr to i32
// GEP: %[[X:.*]] = llvm.inttoptr %[[XI]] : i32 to !llvm.ptr
// GEP: llvm.getelementptr %{{.*}}[%{{.*}}] : (!llvm.ptr, i32) -> !llvm.ptr, i8
// GEP: llvm.getelementptr %{{.*}}[%{{.*}}] : (!llvm.ptr, vector<16xi32>)

// MVE-LABEL: dcsr:
// MVE-DAG: vshr.u8 q{{[0-9]}}, q{{[0-9]}}, #4
// MVE-DAG: vctp.8
// MVE-DAG: vldrbt.u8 q{{[0-9]}}, [{{r[0-9]+|lr}}, q{{[0-9]}}]
// MVE-DAG: vmlava.s8
// Map 3: both lane masks in one post-incremented 32-bit load.
// MVE-DAG: ldr [[BOTH:r[0-9]+]], [r{{[0-9]+}}], #4
// MVE-DAG: lsrs r{{[0-9]+}}, [[BOTH]], #16
// MVE: vmsr p0, r{{[0-9]+}}
// MVE-NEXT: vpst
// MVE-NEXT: vorrt
func.func @dcsr(%v: tensor<11xi8>, %d: tensor<16xi8>, %mn: tensor<2xi8>, %mp: tensor<1xi8>, %mk: tensor<2xi16>, %ro: tensor<2xi16>, %nz: tensor<1xi32>, %x: tensor<40xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  %w = sparse_enc.assemble (%v, %d, %mn, %mp, %mk, %ro, %nz) : (tensor<11xi8>, tensor<16xi8>, tensor<2xi8>, tensor<1xi8>, tensor<2xi16>, tensor<2xi16>, tensor<1xi32>) -> tensor<2x40xi8, #DCSR>
  %r = linalg.matvec ins(%w, %x : tensor<2x40xi8, #DCSR>, tensor<40xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// dCSR with byte deltas on cortex-m55: each row's groups are a
// tail-predicated loop (dlstp/letp, no vctp); the loaded deltas are the
// gather offsets (no vector add), the group's jump is one zero-extending
// byte load added to the gather base, then an 8-bit-offset gather and
// vmlava per group.

#DCSR8 = #sparse_enc.dcsr<group = 16, delta_bits = 8>
// CHECK-LABEL: llvm.func @dcsr_bytes
// CHECK-NOT: sparse_enc
// MVE-LABEL: dcsr_bytes:
// MVE: dlstp.8
// MVE: vldrb.u8 q{{[0-9]}}, [r{{[0-9]+}}], #16
// MVE-NEXT: ldrb r{{[0-9]+}}, [r{{[0-9]+}}], #1
// MVE-NEXT: add
// MVE-NEXT: vldrb.u8 q{{[0-9]}}, [r{{[0-9]+}}, q{{[0-9]}}]
// MVE-NEXT: vldrb.u8 q{{[0-9]}}, [r{{[0-9]+}}], #16
// MVE-NEXT: vmlava.s8
// MVE-NEXT: letp
// MVE-NOT: vadd.i8
func.func @dcsr_bytes(%v: tensor<11xi8>, %d: tensor<11xi8>, %mn: tensor<2xi8>, %ro: tensor<2xi16>, %nz: tensor<1xi32>, %x: tensor<40xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  %w = sparse_enc.assemble (%v, %d, %mn, %ro, %nz) : (tensor<11xi8>, tensor<11xi8>, tensor<2xi8>, tensor<2xi16>, tensor<1xi32>) -> tensor<2x40xi8, #DCSR8>
  %r = linalg.matvec ins(%w, %x : tensor<2x40xi8, #DCSR8>, tensor<40xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// N:M with 3-bit fields on cortex-m55: 16 fields per step in byte lanes.
// The offset bytes holding each field's bits are gathered twice with
// constant 8-bit offsets (the byte a field starts in, and the next one for
// a field that straddles two bytes), shifted per lane by constant vectors
// (vshl.u8 by a q register), ORed and masked with 7; the block starts are
// ORed in; one gather of x with 8-bit offsets, a contiguous value load and
// vmlava per step (256 columns at 1:8: 2 steps per row). The generic
// kernel (host) loads each offset word with 4-byte alignment (one `lw` on
// RISC-V).

#NM8 = #sparse_enc.nm<n = 1, m = 8>
// CHECK-LABEL: llvm.func @nm
// CHECK-COUNT-6: llvm.intr.masked.gather
// CHECK-NOT: llvm.intr.masked.gather
// CHECK-NOT: sparse_enc
// MVE-LABEL: nm:
// MVE: vldrb.u8 q{{[0-9]}}, [r{{[0-9]+}}, q{{[0-9]}}]
// MVE: vshl.u8 q{{[0-9]}}, q{{[0-9]}}, q{{[0-9]}}
// MVE: vorr
// MVE: vand
// MVE: vldrb.u8 q{{[0-9]}}, [r{{[0-9]+}}, q{{[0-9]}}]
// MVE: vmlava.s8
// MVE: vmlava.s8
// MVE-NOT: vmlava
// MVE: le lr
// HOST-LABEL: llvm.func @nm
// HOST: llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr -> vector<4xi8>
func.func @nm(%v: tensor<64xi8>, %o: tensor<32xi8>, %x: tensor<256xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  %w = sparse_enc.assemble (%v, %o) : (tensor<64xi8>, tensor<32xi8>) -> tensor<2x256xi8, #NM8>
  %r = linalg.matvec ins(%w, %x : tensor<2x256xi8, #NM8>, tensor<256xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// N:M with 4-bit fields on cortex-m55: 16 fields per step in byte lanes.
// The 8 offset bytes are loaded widened to 16 bits (vldrb.u16), spread with
// one shift and an or, masked; the block starts are ORed in; one gather of
// x with 8-bit offsets, a contiguous value load and vmlava per step.

#NM16 = #sparse_enc.nm<n = 1, m = 16>
// CHECK-LABEL: llvm.func @nm_nibbles
// CHECK-NOT: sparse_enc
// MVE-LABEL: nm_nibbles:
// MVE: vldrb.u16 q{{[0-9]}}, [r{{[0-9]+}}]
// MVE: vshl.i16 q{{[0-9]}}, q{{[0-9]}}, #4
// MVE: vorr
// MVE: vand
// MVE: vldrb.u8 q{{[0-9]}}, [r{{[0-9]+}}, q{{[0-9]}}]
// MVE: vmlava.s8
func.func @nm_nibbles(%v: tensor<32xi8>, %o: tensor<16xi8>, %x: tensor<256xi8>, %y: tensor<2xi32>) -> tensor<2xi32> {
  %w = sparse_enc.assemble (%v, %o) : (tensor<32xi8>, tensor<16xi8>) -> tensor<2x256xi8, #NM16>
  %r = linalg.matvec ins(%w, %x : tensor<2x256xi8, #NM16>, tensor<256xi8>) outs(%y : tensor<2xi32>) -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// -----

// Encoded constants are packed first (sparse-enc-pack-constants).

// CHECK-LABEL: llvm.func @packed_constant
// CHECK-NOT: sparse_enc
// CHECK: llvm.return
func.func @packed_constant(%x: tensor<4xi8>, %y: tensor<3xi32>) -> tensor<3xi32> {
  %w = arith.constant dense<[[0, 3, 0, 0], [0, 0, 0, 0], [-7, 0, 0, 5]]> : tensor<3x4xi8, #sparse_enc.csr<>>
  %r = linalg.matvec ins(%w, %x : tensor<3x4xi8, #sparse_enc.csr<>>, tensor<4xi8>) outs(%y : tensor<3xi32>) -> tensor<3xi32>
  return %r : tensor<3xi32>
}

// -----

// GS with 16 lanes on Cortex-M55: the step multiplies the even and odd byte
// lanes with vmullb.s8 / vmullt.s8 (llvm.arm.mve.vmull) and widens the int16
// products into four int32 accumulators (vmovlb.s16, vshr.s32 #16): 14
// instructions per 16 nonzeros, no stack traffic in the loop.

#GS16 = #sparse_enc.gs<lanes = 16>
// CHECK-LABEL: llvm.func @gs16
// CHECK: llvm.call_intrinsic "llvm.arm.mve.vmull"
// CHECK-NOT: sparse_enc
// MVE-LABEL: gs16:
// MVE: vldrb.u8 [[IDX:q[0-9]]], [r{{[0-9]+}}], #16
// MVE-NEXT: vldrb.u8 [[XV:q[0-9]]], [r{{[0-9]+}}, [[IDX]]]
// MVE-NEXT: vldrb.u8 [[WV:q[0-9]]], [r{{[0-9]+}}], #16
// MVE-NEXT: vmullb.s8
// MVE-NEXT: vmullt.s8
// MVE-NEXT: vmovlb.s16
// MVE-NEXT: vshr.s32
// MVE-NEXT: vmovlb.s16
// MVE-NEXT: vshr.s32
// MVE-NEXT: vadd.i32
// MVE-NEXT: vadd.i32
// MVE-NEXT: vadd.i32
// MVE-NEXT: vadd.i32
// MVE-NEXT: le lr
func.func @gs16(%v: tensor<512xi8>, %c: tensor<512xi8>, %n: tensor<2xi16>, %x: tensor<256xi8>, %y: tensor<32xi32>) -> tensor<32xi32> {
  %w = sparse_enc.assemble (%v, %c, %n) : (tensor<512xi8>, tensor<512xi8>, tensor<2xi16>) -> tensor<32x256xi8, #GS16>
  %r = linalg.matvec ins(%w, %x : tensor<32x256xi8, #GS16>, tensor<256xi8>) outs(%y : tensor<32xi32>) -> tensor<32xi32>
  return %r : tensor<32xi32>
}

// -----

// GS with 8 lanes on Cortex-M55: 8 column indices widened to 16-bit lanes,
// an 8-lane gather sign-extended to int16, vmullb.s16 / vmullt.s16 straight
// into two int32 accumulators: 8 instructions per 8 nonzeros.

#GS8 = #sparse_enc.gs<lanes = 8>
// CHECK-LABEL: llvm.func @gs8
// CHECK: llvm.call_intrinsic "llvm.arm.mve.vmull"
// CHECK-NOT: sparse_enc
// MVE-LABEL: gs8:
// MVE: vldrb.u16 [[IDX:q[0-9]]], [r{{[0-9]+}}], #8
// MVE-NEXT: vldrb.s16 [[XV:q[0-9]]], [r{{[0-9]+}}, [[IDX]]]
// MVE-NEXT: vldrb.s16 [[WV:q[0-9]]], [r{{[0-9]+}}], #8
// MVE-NEXT: vmullb.s16
// MVE-NEXT: vmullt.s16
// MVE-NEXT: vadd.i32
// MVE-NEXT: vadd.i32
// MVE-NEXT: le lr
func.func @gs8(%v: tensor<256xi8>, %c: tensor<256xi8>, %n: tensor<3xi16>, %x: tensor<256xi8>, %y: tensor<20xi32>) -> tensor<20xi32> {
  %w = sparse_enc.assemble (%v, %c, %n) : (tensor<256xi8>, tensor<256xi8>, tensor<3xi16>) -> tensor<20x256xi8, #GS8>
  %r = linalg.matvec ins(%w, %x : tensor<20x256xi8, #GS8>, tensor<256xi8>) outs(%y : tensor<20xi32>) -> tensor<20xi32>
  return %r : tensor<20xi32>
}

// -----

// dCSR with float32 weights (G = 4) on Cortex-M55: not the int8 pointer
// kernels (16 x int8 lanes) but the generic vector code, with f32 products.

#DCSRF = #sparse_enc.dcsr<group = 4>
#DCSRF8 = #sparse_enc.dcsr<group = 4, delta_bits = 8>
// CHECK-LABEL: llvm.func @dcsr_f32
// CHECK-NOT: llvm.inttoptr
// CHECK: llvm.intr.masked.gather
// CHECK: llvm.fmul %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK-LABEL: llvm.func @dcsr_bytes_f32
// CHECK-NOT: llvm.inttoptr
// CHECK: llvm.intr.masked.gather
// CHECK: llvm.fmul %{{.*}}, %{{.*}} : vector<4xf32>
func.func @dcsr_f32(%x: tensor<20xf32>, %y: tensor<3xf32>) -> tensor<3xf32> {
  %w = arith.constant dense<[[0.0, 1.5, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [3.0, 0.0, 0.0, 4.0, 0.0, 0.0, 5.0, 0.0, 0.0, 6.0, 0.0, 7.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<3x20xf32, #DCSRF>
  %r = linalg.matvec ins(%w, %x : tensor<3x20xf32, #DCSRF>, tensor<20xf32>) outs(%y : tensor<3xf32>) -> tensor<3xf32>
  return %r : tensor<3xf32>
}
func.func @dcsr_bytes_f32(%x: tensor<20xf32>, %y: tensor<3xf32>) -> tensor<3xf32> {
  %w = arith.constant dense<[[0.0, 1.5, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [3.0, 0.0, 0.0, 4.0, 0.0, 0.0, 5.0, 0.0, 0.0, 6.0, 0.0, 7.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<3x20xf32, #DCSRF8>
  %r = linalg.matvec ins(%w, %x : tensor<3x20xf32, #DCSRF8>, tensor<20xf32>) outs(%y : tensor<3xf32>) -> tensor<3xf32>
  return %r : tensor<3xf32>
}
