// RUN: sparse-opt %s --split-input-file --sparse-enc-fixed-point-to-mve | FileCheck %s
// RUN: sparse-opt %s --split-input-file --sparse-enc-fixed-point-to-mve | FileCheck %s --check-prefix=GONE
// RUN: sparse-opt %s --sparse-enc-fixed-point-to-mve --convert-to-llvm \
// RUN:   | mlir-translate --mlir-to-llvmir \
// RUN:   | llc -O3 -mtriple=thumbv8.1m.main-none-unknown-eabihf -mcpu=cortex-m55 -mattr=+mve.fp -float-abi=hard \
// RUN:   | FileCheck %s --check-prefix=MVE

// Per-channel requantisation as the front end writes it (emit.py `mbqm`):
// SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT by a vector
// of exponents.

// CHECK-LABEL: func.func @per_channel
// CHECK-SAME: (%[[X:.*]]: vector<4xi32>, %[[M:.*]]: vector<4xi32>, %[[E:.*]]: vector<4xi32>)
// CHECK: %[[H:.*]] = llvm.call_intrinsic "llvm.arm.mve.vqrdmulh"(%[[X]], %[[M]])
// CHECK: %[[N:.*]] = arith.subi %{{.*}}, %[[E]] : vector<4xi32>
// CHECK: %[[A:.*]] = arith.andi %[[H]], %[[N]]
// CHECK: %[[F:.*]] = arith.shrsi %[[A]], %{{.*}}
// CHECK: %[[S:.*]] = llvm.intr.sadd.sat(%[[H]], %[[F]])
// CHECK: %[[R:.*]] = llvm.call_intrinsic "llvm.arm.mve.vshl.vector"(%[[S]], %[[N]], %{{.*}}, %{{.*}}, %{{.*}})
// CHECK: return %[[R]]
// GONE-LABEL: func.func @per_channel
// GONE-NOT: arith.mulsi_extended
// GONE-NOT: arith.cmpi
// MVE-LABEL: per_channel:
// MVE: vqrdmulh.s32
// MVE: vqadd.s32
// MVE: vrshl.s32
func.func @per_channel(%x: vector<4xi32>, %m: vector<4xi32>, %e: vector<4xi32>) -> vector<4xi32> {
  %c1 = arith.constant dense<1> : vector<4xi32>
  %c31 = arith.constant dense<31> : vector<4xi32>
  %c2p30 = arith.constant dense<1073741824> : vector<4xi32>
  %zero = arith.constant dense<0> : vector<4xi32>
  %lo, %hi = arith.mulsi_extended %x, %m : vector<4xi32>
  %s = arith.addi %lo, %c2p30 : vector<4xi32>
  %carry = arith.cmpi ult, %s, %lo : vector<4xi32>
  %carryi = arith.extui %carry : vector<4xi1> to vector<4xi32>
  %h = arith.addi %hi, %carryi : vector<4xi32>
  %h2 = arith.shli %h, %c1 : vector<4xi32>
  %top = arith.shrui %s, %c31 : vector<4xi32>
  %srdhm = arith.ori %h2, %top : vector<4xi32>
  %p = arith.shli %c1, %e : vector<4xi32>
  %mask = arith.subi %p, %c1 : vector<4xi32>
  %rem = arith.andi %srdhm, %mask : vector<4xi32>
  %neg = arith.cmpi slt, %srdhm, %zero : vector<4xi32>
  %negi = arith.extui %neg : vector<4xi1> to vector<4xi32>
  %half = arith.shrsi %mask, %c1 : vector<4xi32>
  %thr = arith.addi %half, %negi : vector<4xi32>
  %sh = arith.shrsi %srdhm, %e : vector<4xi32>
  %gt = arith.cmpi sgt, %rem, %thr : vector<4xi32>
  %gti = arith.extui %gt : vector<4xi1> to vector<4xi32>
  %r = arith.addi %sh, %gti : vector<4xi32>
  return %r : vector<4xi32>
}

// -----

// Per-tensor: canonicalisation has folded the exponent's mask (7 for e = 3)
// and half mask (3) into constants, and put constants on the right.

// CHECK-LABEL: func.func @per_tensor
// CHECK: llvm.call_intrinsic "llvm.arm.mve.vqrdmulh"
// CHECK-NOT: arith.andi
// CHECK: llvm.intr.sadd.sat
// CHECK: llvm.call_intrinsic "llvm.arm.mve.vshl.vector"
// GONE-LABEL: func.func @per_tensor
// GONE-NOT: arith.mulsi_extended
// GONE-NOT: arith.cmpi
// GONE-LABEL: func.func @not_the_idiom
func.func @per_tensor(%x: vector<4xi32>) -> vector<4xi32> {
  %m = arith.constant dense<1518500250> : vector<4xi32>
  %c1 = arith.constant dense<1> : vector<4xi32>
  %c3 = arith.constant dense<3> : vector<4xi32>
  %c7 = arith.constant dense<7> : vector<4xi32>
  %c31 = arith.constant dense<31> : vector<4xi32>
  %c2p30 = arith.constant dense<1073741824> : vector<4xi32>
  %zero = arith.constant dense<0> : vector<4xi32>
  %lo, %hi = arith.mulsi_extended %x, %m : vector<4xi32>
  %s = arith.addi %lo, %c2p30 : vector<4xi32>
  %carry = arith.cmpi ult, %s, %lo : vector<4xi32>
  %carryi = arith.extui %carry : vector<4xi1> to vector<4xi32>
  %h = arith.addi %carryi, %hi : vector<4xi32>
  %h2 = arith.shli %h, %c1 : vector<4xi32>
  %top = arith.shrui %s, %c31 : vector<4xi32>
  %srdhm = arith.ori %top, %h2 : vector<4xi32>
  %rem = arith.andi %srdhm, %c7 : vector<4xi32>
  %neg = arith.cmpi slt, %srdhm, %zero : vector<4xi32>
  %negi = arith.extui %neg : vector<4xi1> to vector<4xi32>
  %thr = arith.addi %negi, %c3 : vector<4xi32>
  %sh = arith.shrsi %srdhm, %c3 : vector<4xi32>
  %gt = arith.cmpi sgt, %rem, %thr : vector<4xi32>
  %gti = arith.extui %gt : vector<4xi1> to vector<4xi32>
  %r = arith.addi %gti, %sh : vector<4xi32>
  return %r : vector<4xi32>
}

// -----

// Exponents from a constant per-channel table: all at least 1, so the
// rounding fixup is the sign of x alone (no `vand` with -e).

// CHECK-LABEL: func.func @table_exponents
// CHECK: llvm.call_intrinsic "llvm.arm.mve.vqrdmulh"
// CHECK-NOT: arith.andi
// CHECK: llvm.intr.sadd.sat
memref.global "private" constant @table_exponents_exponents : memref<4xi32> = dense<[7, 9, 1, 31]>
func.func @table_exponents(%x: vector<4xi32>, %m: vector<4xi32>, %i: index) -> vector<4xi32> {
  %table = memref.get_global @table_exponents_exponents : memref<4xi32>
  %e = vector.load %table[%i] : memref<4xi32>, vector<4xi32>
  %c1 = arith.constant dense<1> : vector<4xi32>
  %c31 = arith.constant dense<31> : vector<4xi32>
  %c2p30 = arith.constant dense<1073741824> : vector<4xi32>
  %zero = arith.constant dense<0> : vector<4xi32>
  %lo, %hi = arith.mulsi_extended %x, %m : vector<4xi32>
  %s = arith.addi %lo, %c2p30 : vector<4xi32>
  %carry = arith.cmpi ult, %s, %lo : vector<4xi32>
  %carryi = arith.extui %carry : vector<4xi1> to vector<4xi32>
  %h = arith.addi %hi, %carryi : vector<4xi32>
  %h2 = arith.shli %h, %c1 : vector<4xi32>
  %top = arith.shrui %s, %c31 : vector<4xi32>
  %srdhm = arith.ori %h2, %top : vector<4xi32>
  %p = arith.shli %c1, %e : vector<4xi32>
  %mask = arith.subi %p, %c1 : vector<4xi32>
  %rem = arith.andi %srdhm, %mask : vector<4xi32>
  %neg = arith.cmpi slt, %srdhm, %zero : vector<4xi32>
  %negi = arith.extui %neg : vector<4xi1> to vector<4xi32>
  %half = arith.shrsi %mask, %c1 : vector<4xi32>
  %thr = arith.addi %half, %negi : vector<4xi32>
  %sh = arith.shrsi %srdhm, %e : vector<4xi32>
  %gt = arith.cmpi sgt, %rem, %thr : vector<4xi32>
  %gti = arith.extui %gt : vector<4xi1> to vector<4xi32>
  %r = arith.addi %sh, %gti : vector<4xi32>
  return %r : vector<4xi32>
}

// -----

// A zero exponent in the table (no shift for that channel): the fixup
// keeps its `and` with -e, which is 0 in that lane.

// CHECK-LABEL: func.func @table_with_zero
// CHECK: llvm.call_intrinsic "llvm.arm.mve.vqrdmulh"
// CHECK: arith.andi
// CHECK: llvm.intr.sadd.sat
memref.global "private" constant @table_with_zero_exponents : memref<4xi32> = dense<[7, 0, 3, 5]>
func.func @table_with_zero(%x: vector<4xi32>, %m: vector<4xi32>, %i: index) -> vector<4xi32> {
  %table = memref.get_global @table_with_zero_exponents : memref<4xi32>
  %e = vector.load %table[%i] : memref<4xi32>, vector<4xi32>
  %c1 = arith.constant dense<1> : vector<4xi32>
  %c31 = arith.constant dense<31> : vector<4xi32>
  %c2p30 = arith.constant dense<1073741824> : vector<4xi32>
  %zero = arith.constant dense<0> : vector<4xi32>
  %lo, %hi = arith.mulsi_extended %x, %m : vector<4xi32>
  %s = arith.addi %lo, %c2p30 : vector<4xi32>
  %carry = arith.cmpi ult, %s, %lo : vector<4xi32>
  %carryi = arith.extui %carry : vector<4xi1> to vector<4xi32>
  %h = arith.addi %hi, %carryi : vector<4xi32>
  %h2 = arith.shli %h, %c1 : vector<4xi32>
  %top = arith.shrui %s, %c31 : vector<4xi32>
  %srdhm = arith.ori %h2, %top : vector<4xi32>
  %p = arith.shli %c1, %e : vector<4xi32>
  %mask = arith.subi %p, %c1 : vector<4xi32>
  %rem = arith.andi %srdhm, %mask : vector<4xi32>
  %neg = arith.cmpi slt, %srdhm, %zero : vector<4xi32>
  %negi = arith.extui %neg : vector<4xi1> to vector<4xi32>
  %half = arith.shrsi %mask, %c1 : vector<4xi32>
  %thr = arith.addi %half, %negi : vector<4xi32>
  %sh = arith.shrsi %srdhm, %e : vector<4xi32>
  %gt = arith.cmpi sgt, %rem, %thr : vector<4xi32>
  %gti = arith.extui %gt : vector<4xi1> to vector<4xi32>
  %r = arith.addi %sh, %gti : vector<4xi32>
  return %r : vector<4xi32>
}

// -----

// Not the idioms: a rounding constant of 2^29, a mask that does not belong
// to the exponent, and scalar i32 (the scalar path keeps its arith ops).

// CHECK-LABEL: func.func @not_the_idiom
// CHECK: arith.mulsi_extended
// CHECK: arith.cmpi sgt
// CHECK-NOT: llvm.call_intrinsic
func.func @not_the_idiom(%x: vector<4xi32>, %m: vector<4xi32>) -> vector<4xi32> {
  %c1 = arith.constant dense<1> : vector<4xi32>
  %c3 = arith.constant dense<3> : vector<4xi32>
  %c15 = arith.constant dense<15> : vector<4xi32>
  %c31 = arith.constant dense<31> : vector<4xi32>
  %c2p29 = arith.constant dense<536870912> : vector<4xi32>
  %zero = arith.constant dense<0> : vector<4xi32>
  %lo, %hi = arith.mulsi_extended %x, %m : vector<4xi32>
  %s = arith.addi %lo, %c2p29 : vector<4xi32>
  %carry = arith.cmpi ult, %s, %lo : vector<4xi32>
  %carryi = arith.extui %carry : vector<4xi1> to vector<4xi32>
  %h = arith.addi %hi, %carryi : vector<4xi32>
  %h2 = arith.shli %h, %c1 : vector<4xi32>
  %top = arith.shrui %s, %c31 : vector<4xi32>
  %v = arith.ori %h2, %top : vector<4xi32>
  %rem = arith.andi %v, %c15 : vector<4xi32>
  %neg = arith.cmpi slt, %v, %zero : vector<4xi32>
  %negi = arith.extui %neg : vector<4xi1> to vector<4xi32>
  %thr = arith.addi %negi, %c3 : vector<4xi32>
  %sh = arith.shrsi %v, %c3 : vector<4xi32>
  %gt = arith.cmpi sgt, %rem, %thr : vector<4xi32>
  %gti = arith.extui %gt : vector<4xi1> to vector<4xi32>
  %r = arith.addi %sh, %gti : vector<4xi32>
  return %r : vector<4xi32>
}

// CHECK-LABEL: func.func @scalar
// CHECK: arith.mulsi_extended
// CHECK-NOT: llvm.call_intrinsic
func.func @scalar(%x: i32, %m: i32) -> i32 {
  %c1 = arith.constant 1 : i32
  %c31 = arith.constant 31 : i32
  %c2p30 = arith.constant 1073741824 : i32
  %lo, %hi = arith.mulsi_extended %x, %m : i32
  %s = arith.addi %lo, %c2p30 : i32
  %carry = arith.cmpi ult, %s, %lo : i32
  %carryi = arith.extui %carry : i1 to i32
  %h = arith.addi %hi, %carryi : i32
  %h2 = arith.shli %h, %c1 : i32
  %top = arith.shrui %s, %c31 : i32
  %r = arith.ori %h2, %top : i32
  return %r : i32
}

// -----

// FULLY_CONNECTED's single rounding as the front end writes it (emit.py
// `single_rounding_i32`), per channel: floor(x * m / 2^31) from a constant
// multiplier table (the low word, x * m, also decides whether a negative
// product is an exact multiple of 2^31: one less, so that ties round away
// from zero), then rounded right (half up) by a table of exponents.

// CHECK-LABEL: func.func @single_per_channel
// CHECK-SAME: (%[[X:.*]]: vector<4xi32>, %[[I:.*]]: index)
// CHECK: %[[M:.*]] = vector.load %{{.*}}[%[[I]]]
// CHECK: %[[E:.*]] = vector.load %{{.*}}[%[[I]]]
// CHECK: %[[LO:.*]] = arith.muli %[[X]], %[[M]]
// CHECK: %[[V:.*]] = llvm.call_intrinsic "llvm.arm.mve.vqdmulh"(%[[X]], %[[M]])
// CHECK: %[[W:.*]] = arith.subi %[[V]], %{{.*}} : vector<4xi32>
// CHECK: %[[N:.*]] = arith.subi %{{.*}}, %[[E]] : vector<4xi32>
// CHECK: %[[R:.*]] = llvm.call_intrinsic "llvm.arm.mve.vshl.vector"(%[[W]], %[[N]], %{{.*}}, %{{.*}}, %{{.*}})
// CHECK: return %[[R]]
// GONE-LABEL: func.func @single_per_channel
// GONE-NOT: arith.mulsi_extended
// GONE-NOT: arith.shrsi
// MVE-LABEL: single_per_channel:
// MVE: vqdmulh.s32
// MVE: vrshl.s32
memref.global "private" constant @single_multipliers : memref<4xi32> = dense<[1073741824, 2147483647, 1518500250, 1300000000]>
memref.global "private" constant @single_exponents : memref<4xi32> = dense<[1, 7, 16, 31]>
func.func @single_per_channel(%x: vector<4xi32>, %i: index) -> vector<4xi32> {
  %mt = memref.get_global @single_multipliers : memref<4xi32>
  %et = memref.get_global @single_exponents : memref<4xi32>
  %m = vector.load %mt[%i] : memref<4xi32>, vector<4xi32>
  %e = vector.load %et[%i] : memref<4xi32>, vector<4xi32>
  %c1 = arith.constant dense<1> : vector<4xi32>
  %c31 = arith.constant dense<31> : vector<4xi32>
  %zero = arith.constant dense<0> : vector<4xi32>
  %lo = arith.muli %x, %m : vector<4xi32>
  %lo_unused, %hi = arith.mulsi_extended %x, %m : vector<4xi32>
  %h2 = arith.shli %hi, %c1 : vector<4xi32>
  %top = arith.shrui %lo, %c31 : vector<4xi32>
  %v0 = arith.ori %h2, %top : vector<4xi32>
  %low31 = arith.shli %lo, %c1 : vector<4xi32>
  %exact = arith.cmpi eq, %low31, %zero : vector<4xi32>
  %neg = arith.cmpi slt, %v0, %zero : vector<4xi32>
  %down = arith.andi %exact, %neg : vector<4xi1>
  %downi = arith.extui %down : vector<4xi1> to vector<4xi32>
  %v = arith.subi %v0, %downi : vector<4xi32>
  %q = arith.shrsi %v, %e : vector<4xi32>
  %em1 = arith.subi %e, %c1 : vector<4xi32>
  %b = arith.shrsi %v, %em1 : vector<4xi32>
  %bit = arith.andi %b, %c1 : vector<4xi32>
  %r = arith.addi %q, %bit : vector<4xi32>
  return %r : vector<4xi32>
}

// -----

// Per tensor: constant multiplier and exponents (e = 5, e - 1 = 4; e = 1,
// where v >> 0 has folded to v), operands of commutative ops swapped.

// CHECK-LABEL: func.func @single_per_tensor
// CHECK: llvm.call_intrinsic "llvm.arm.mve.vqdmulh"
// CHECK: llvm.call_intrinsic "llvm.arm.mve.vshl.vector"
// CHECK: llvm.call_intrinsic "llvm.arm.mve.vshl.vector"
// GONE-LABEL: func.func @single_per_tensor
// GONE-NOT: arith.mulsi_extended
// GONE-NOT: arith.andi
// GONE-LABEL: func.func @single_not_the_idiom
func.func @single_per_tensor(%x: vector<4xi32>) -> (vector<4xi32>, vector<4xi32>) {
  %m = arith.constant dense<1518500250> : vector<4xi32>
  %c1 = arith.constant dense<1> : vector<4xi32>
  %c4 = arith.constant dense<4> : vector<4xi32>
  %c5 = arith.constant dense<5> : vector<4xi32>
  %c31 = arith.constant dense<31> : vector<4xi32>
  %lo, %hi = arith.mulsi_extended %m, %x : vector<4xi32>
  %h2 = arith.shli %hi, %c1 : vector<4xi32>
  %top = arith.shrui %lo, %c31 : vector<4xi32>
  %v = arith.ori %top, %h2 : vector<4xi32>
  %q = arith.shrsi %v, %c5 : vector<4xi32>
  %b = arith.shrsi %v, %c4 : vector<4xi32>
  %bit = arith.andi %c1, %b : vector<4xi32>
  %r = arith.addi %bit, %q : vector<4xi32>
  %q1 = arith.shrsi %v, %c1 : vector<4xi32>
  %bit1 = arith.andi %v, %c1 : vector<4xi32>
  %r1 = arith.addi %q1, %bit1 : vector<4xi32>
  return %r, %r1 : vector<4xi32>, vector<4xi32>
}

// -----

// Not the single-rounding idioms: neither factor known not to be INT32_MIN
// (vqdmulh saturates where the ops wrap), an exponent table with a 0 (no
// rounding bit below it), a rounding bit one place too low.

// CHECK-LABEL: func.func @single_not_the_idiom
// CHECK: arith.mulsi_extended
// CHECK-NOT: llvm.call_intrinsic
// CHECK: return
memref.global "private" constant @single_exponents_with_zero : memref<4xi32> = dense<[3, 0, 3, 3]>
func.func @single_not_the_idiom(%x: vector<4xi32>, %m: vector<4xi32>, %i: index)
    -> (vector<4xi32>, vector<4xi32>) {
  %et = memref.get_global @single_exponents_with_zero : memref<4xi32>
  %e = vector.load %et[%i] : memref<4xi32>, vector<4xi32>
  %c1 = arith.constant dense<1> : vector<4xi32>
  %c3 = arith.constant dense<3> : vector<4xi32>
  %c5 = arith.constant dense<5> : vector<4xi32>
  %c31 = arith.constant dense<31> : vector<4xi32>
  %lo, %hi = arith.mulsi_extended %x, %m : vector<4xi32>
  %h2 = arith.shli %hi, %c1 : vector<4xi32>
  %top = arith.shrui %lo, %c31 : vector<4xi32>
  %v = arith.ori %h2, %top : vector<4xi32>
  %q = arith.shrsi %v, %e : vector<4xi32>
  %em1 = arith.subi %e, %c1 : vector<4xi32>
  %b = arith.shrsi %v, %em1 : vector<4xi32>
  %bit = arith.andi %b, %c1 : vector<4xi32>
  %r = arith.addi %q, %bit : vector<4xi32>
  %q5 = arith.shrsi %v, %c5 : vector<4xi32>
  %b3 = arith.shrsi %v, %c3 : vector<4xi32>
  %bit3 = arith.andi %b3, %c1 : vector<4xi32>
  %r5 = arith.addi %q5, %bit3 : vector<4xi32>
  return %r, %r5 : vector<4xi32>, vector<4xi32>
}

// -----

// The tail of per-channel tables (10 channels in vectors of 4): masked
// loads, whose masked-off lanes take the pass-through 0. 0 is not INT32_MIN,
// so the multiplier table still qualifies for vqdmulh; 0 is no right shift,
// so the exponent table does not qualify for the rounding shift, which
// stays as arith ops.

// CHECK-LABEL: func.func @single_masked_tables
// CHECK: llvm.call_intrinsic "llvm.arm.mve.vqdmulh"
// CHECK-NOT: llvm.call_intrinsic
// CHECK: arith.andi
// CHECK: return
memref.global "private" constant @masked_multipliers : memref<10xi32> = dense<1073741824>
memref.global "private" constant @masked_exponents : memref<10xi32> = dense<3>
func.func @single_masked_tables(%x: vector<4xi32>, %i: index) -> vector<4xi32> {
  %mask = arith.constant dense<[true, true, false, false]> : vector<4xi1>
  %mt = memref.get_global @masked_multipliers : memref<10xi32>
  %et = memref.get_global @masked_exponents : memref<10xi32>
  %zero = arith.constant dense<0> : vector<4xi32>
  %m = vector.maskedload %mt[%i], %mask, %zero : memref<10xi32>, vector<4xi1>, vector<4xi32> into vector<4xi32>
  %e = vector.maskedload %et[%i], %mask, %zero : memref<10xi32>, vector<4xi1>, vector<4xi32> into vector<4xi32>
  %c1 = arith.constant dense<1> : vector<4xi32>
  %c31 = arith.constant dense<31> : vector<4xi32>
  %lo = arith.muli %x, %m : vector<4xi32>
  %lo_unused, %hi = arith.mulsi_extended %x, %m : vector<4xi32>
  %h2 = arith.shli %hi, %c1 : vector<4xi32>
  %top = arith.shrui %lo, %c31 : vector<4xi32>
  %v = arith.ori %h2, %top : vector<4xi32>
  %q = arith.shrsi %v, %e : vector<4xi32>
  %em1 = arith.subi %e, %c1 : vector<4xi32>
  %b = arith.shrsi %v, %em1 : vector<4xi32>
  %bit = arith.andi %b, %c1 : vector<4xi32>
  %r = arith.addi %q, %bit : vector<4xi32>
  return %r : vector<4xi32>
}
