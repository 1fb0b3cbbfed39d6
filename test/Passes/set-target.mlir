// RUN: sparse-opt %s --split-input-file --sparse-enc-set-target=target=cortex-m55 | FileCheck %s --check-prefix=IDX32
// RUN: sparse-opt %s --split-input-file --sparse-enc-set-target=target=rv32imc | FileCheck %s --check-prefix=IDX32
// RUN: sparse-opt %s --split-input-file --sparse-enc-set-target=target=rv32gcv | FileCheck %s --check-prefix=IDX32
// RUN: sparse-opt %s --split-input-file --sparse-enc-set-target=target=host | FileCheck %s --check-prefix=IDX64

// The module gets the target's index width (32 bits on the MCU targets, so
// that loop counters and address arithmetic are 32-bit), and every public
// function llvm.bareptr (a memref argument becomes a plain pointer that C
// passes). Private functions keep the memref descriptor convention.

// IDX32: module attributes {dlti.dl_spec = #dlti.dl_spec<index = 32 : i64>}
// IDX32-LABEL: func.func @kernel
// IDX32-SAME: attributes {llvm.bareptr}
// IDX32-LABEL: func.func private @helper
// IDX32-NOT: llvm.bareptr
// IDX64: module attributes {dlti.dl_spec = #dlti.dl_spec<index = 64 : i64>}
// IDX64-LABEL: func.func @kernel
// IDX64-SAME: attributes {llvm.bareptr}
// IDX64-LABEL: func.func private @helper
// IDX64-NOT: llvm.bareptr
func.func @kernel(%x: memref<4xi8>, %y: memref<4xi32>) {
  return
}
func.func private @helper(%x: memref<4xi8>) {
  return
}

// -----

// A module that already has a data layout gets the target's one instead.

// IDX32-LABEL: module attributes {dlti.dl_spec = #dlti.dl_spec<index = 32 : i64>}
// IDX32-NOT: index = 64
// IDX64-LABEL: module attributes {dlti.dl_spec = #dlti.dl_spec<index = 64 : i64>}
module attributes {dlti.dl_spec = #dlti.dl_spec<index = 16 : i64>} {
  func.func @other() {
    return
  }
}
