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
