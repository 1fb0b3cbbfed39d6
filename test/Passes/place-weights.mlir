// RUN: sparse-opt %s --split-input-file --sparse-enc-place-weights | FileCheck %s
// RUN: sparse-opt %s --split-input-file --sparse-enc-place-weights='section=.flash_weights' | FileCheck %s --check-prefix=SECTION
// RUN: sparse-opt %s --split-input-file --sparse-enc-place-weights='arena-section=.sram_bss arena-fast-bytes=32' | FileCheck %s --check-prefix=BIG
// RUN: sparse-opt %s --split-input-file --sparse-enc-place-weights='arena-section=.sram_bss arena-fast-bytes=64' | FileCheck %s --check-prefix=FITS

// On the llvm dialect, every global named mcusparse_weights_* (the outlined
// weights, including a renamed one) goes to the weights section, by default
// ".weights". Other constants (biases, requantisation tables: .rodata) and a
// global whose name only resembles the prefix keep no section.

// CHECK-LABEL: llvm.mlir.global private constant @mcusparse_weights_0(dense<[1, 2]> : tensor<2xi8>) {addr_space = 0 : i32, alignment = 16 : i64, section = ".weights"} : !llvm.array<2 x i8>
// CHECK: llvm.mlir.global private constant @mcusparse_weights_1_0(dense<[3, 4]> : tensor<2xi16>) {addr_space = 0 : i32, alignment = 16 : i64, section = ".weights"} : !llvm.array<2 x i16>
// CHECK-NOT: section
// CHECK: llvm.mlir.global private constant @__constant_2xi32(
// CHECK: llvm.mlir.global private constant @weights_0(
// CHECK-NOT: section

// SECTION-LABEL: @mcusparse_weights_0({{.*}}section = ".flash_weights"}
// SECTION: @mcusparse_weights_1_0({{.*}}section = ".flash_weights"}
// SECTION-NOT: section
module {
  llvm.mlir.global private constant @mcusparse_weights_0(dense<[1, 2]> : tensor<2xi8>) {addr_space = 0 : i32, alignment = 16 : i64} : !llvm.array<2 x i8>
  llvm.mlir.global private constant @mcusparse_weights_1_0(dense<[3, 4]> : tensor<2xi16>) {addr_space = 0 : i32, alignment = 16 : i64} : !llvm.array<2 x i16>
  llvm.mlir.global private constant @__constant_2xi32(dense<[5, 6]> : tensor<2xi32>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<2 x i32>
  llvm.mlir.global private constant @weights_0(dense<[7, 8]> : tensor<2xi8>) {addr_space = 0 : i32} : !llvm.array<2 x i8>
  llvm.func @model(%arg0: !llvm.ptr) {
    %0 = llvm.mlir.addressof @mcusparse_weights_0 : !llvm.ptr
    llvm.return
  }
}

// -----

// The activation arena stays in .bss unless arena-section is given and the
// arena is larger than arena-fast-bytes (it then goes to the slower, larger
// SRAM section).

// CHECK-LABEL: llvm.mlir.global private @mcusparse_arena() {addr_space = 0 : i32, alignment = 16 : i64} : !llvm.array<64 x i8>
// CHECK-NOT: section
// BIG-LABEL: @mcusparse_arena() {addr_space = 0 : i32, alignment = 16 : i64, section = ".sram_bss"} : !llvm.array<64 x i8>
// FITS-LABEL: @mcusparse_arena() {addr_space = 0 : i32, alignment = 16 : i64} : !llvm.array<64 x i8>
// FITS-NOT: .sram_bss
module {
  llvm.mlir.global private @mcusparse_arena() {addr_space = 0 : i32, alignment = 16 : i64} : !llvm.array<64 x i8> {
    %0 = llvm.mlir.undef : !llvm.array<64 x i8>
    llvm.return %0 : !llvm.array<64 x i8>
  }
  llvm.func @model(%arg0: !llvm.ptr) {
    llvm.return
  }
}
