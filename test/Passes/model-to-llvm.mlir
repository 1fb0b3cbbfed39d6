// RUN: sparse-opt %s --split-input-file --sparse-enc-model-to-llvm=target=cortex-m55 | FileCheck %s
// RUN: sparse-opt %s --split-input-file --sparse-enc-model-to-llvm=target=cortex-m55 | FileCheck %s --check-prefix=GONE
// RUN: sparse-opt %s --split-input-file --sparse-enc-model-to-llvm=target=rv32imc | FileCheck %s --check-prefix=RV
// RUN: sparse-opt %s --split-input-file --sparse-enc-model-to-llvm=target=rv32gcv | FileCheck %s --check-prefix=GCV
// RUN: sparse-opt %s --split-input-file --sparse-enc-model-to-llvm=target=cortex-m55 \
// RUN:   | mlir-translate --mlir-to-llvmir --split-input-file | FileCheck %s --check-prefix=LLVMIR

// The whole-model pipeline on a small model in the front ends' form: a 3x3
// convolution (padding 1) as pad + im2col + linalg.matmul with the weight
// read transposed, its CSR layout chosen (sparse_enc.layout), requantised to
// int8 with a bias; then a fully connected layer with a dense weight (no
// layout), already a linalg.matvec. Everything reaches the llvm dialect:
// weights (CSR values / col_idx / row_ptr, then the dense FC matrix) are
// globals in ".weights", biases stay plain constants (.rodata), every
// activation lives in @mcusparse_arena, whose size is on the module
// (test/Passes/plan-arena.mlir checks the planner's offsets and sizes).

// CHECK: module attributes {dlti.dl_spec = #dlti.dl_spec<index = 32 : i64>, mcusparse.arena_bytes = [[ARENA:[0-9]+]] : i64, mcusparse.arena_peak = [{{.*}}]}
// CHECK-DAG: llvm.mlir.global private constant @{{.*}}(dense<[100, -200, 300, -400]> : tensor<4xi32>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<4 x i32>
// CHECK-DAG: llvm.mlir.global private constant @{{.*}}(dense<[1, 2, 3]> : tensor<3xi32>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<3 x i32>
// CHECK-DAG: llvm.mlir.global private constant @mcusparse_weights_0(dense<[-13, 61, 98, 101, 35, -116, -76, -90, 88, -121, 93, -125, 121, -45, -87, 71]> : tensor<16xi8>) {addr_space = 0 : i32, alignment = 16 : i64, section = ".weights"} : !llvm.array<16 x i8>
// CHECK-DAG: llvm.mlir.global private constant @mcusparse_weights_1(dense<[1, 2, 4, 8, 0, 6, 12, 15, 0, 10, 15, 16, 0, 7, 12, 16]> : tensor<16xi16>) {addr_space = 0 : i32, alignment = 16 : i64, section = ".weights"} : !llvm.array<16 x i16>
// CHECK-DAG: llvm.mlir.global private constant @mcusparse_weights_2(dense<[0, 4, 8, 12, 16]> : tensor<5xi16>) {addr_space = 0 : i32, alignment = 16 : i64, section = ".weights"} : !llvm.array<5 x i16>
// CHECK-DAG: llvm.mlir.global private constant @mcusparse_weights_3(dense<3> : tensor<3x64xi8>) {addr_space = 0 : i32, alignment = 16 : i64, section = ".weights"} : !llvm.array<3 x array<64 x i8>>
// CHECK-DAG: llvm.mlir.global private @mcusparse_arena() {addr_space = 0 : i32, alignment = 16 : i64} : !llvm.array<[[ARENA]] x i8>
// The model's input and output buffers overlap neither each other nor the
// arena (model.h: restrict): llvm.noalias.
// CHECK-LABEL: llvm.func @model(%{{.*}}: !llvm.ptr {llvm.noalias}, %{{.*}}: !llvm.ptr {llvm.noalias}) attributes {llvm.bareptr}
// CHECK-DAG: llvm.mlir.addressof @mcusparse_arena
// CHECK-DAG: llvm.mlir.addressof @mcusparse_weights_0
// CHECK-DAG: llvm.mlir.addressof @mcusparse_weights_3
// CHECK: llvm.intr.vector.reduce.add
// CHECK: llvm.return

// RV: module attributes {dlti.dl_spec = #dlti.dl_spec<index = 32 : i64>, mcusparse.arena_bytes = {{[0-9]+}} : i64, mcusparse.arena_peak = [{{.*}}]}
// RV: @mcusparse_weights_0({{.*}}section = ".weights"}
// RV: llvm.func @model(%{{.*}}: !llvm.ptr {llvm.noalias}, %{{.*}}: !llvm.ptr {llvm.noalias}) attributes {llvm.bareptr
// RV-NOT: vector<8xi32>
// RV: llvm.return

// rv32gcv: the requantisation of the 4 channels is a vector loop of 8 i32
// lanes (sparse-enc-vectorize-elementwise{lanes=8}) under a tail mask.
// GCV-LABEL: llvm.func @model
// GCV: llvm.intr.masked.load {{.*}} -> vector<8xi32>
// GCV: llvm.intr.masked.store {{.*}} : vector<8xi8>, vector<8xi1> into !llvm.ptr
// GCV: llvm.return

// LLVMIR-DAG: @mcusparse_weights_0 = private constant [16 x i8] {{.*}}, section ".weights", align 16
// LLVMIR-DAG: @mcusparse_weights_3 = private constant [3 x [64 x i8]] {{.*}}, section ".weights", align 16
// LLVMIR-DAG: @mcusparse_arena = private global [{{[0-9]+}} x i8] undef, align 16
// LLVMIR: define void @model(ptr noalias %0, ptr noalias %1)

// No op of the tensor, buffer or structured levels is left.
// GONE-NOT: sparse_enc
// GONE-NOT: {{memref\.|linalg\.|tensor\.|bufferization\.|scf\.|affine\.|arith\.|func\.func}}
// GONE-NOT: {{= vector\.}}

#im2col = affine_map<(n, y, x, ky, kx, c) -> (n, y + ky, x + kx, c)>
#id6 = affine_map<(n, y, x, ky, kx, c) -> (n, y, x, ky, kx, c)>
#X = affine_map<(p, o, k) -> (p, k)>
#WT = affine_map<(p, o, k) -> (o, k)>
#Y = affine_map<(p, o, k) -> (p, o)>
#acc = affine_map<(p, o) -> (p, o)>
#chan = affine_map<(p, o) -> (o)>
func.func @model(%input: tensor<1x4x4x2xi8>) -> tensor<3xi32> {
  // 3x3 convolution, padding 1: pad, im2col, matmul with the weight read transposed.
  %zp = arith.constant -128 : i8
  %padded = tensor.pad %input low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
    tensor.yield %zp : i8
  } : tensor<1x4x4x2xi8> to tensor<1x6x6x2xi8>
  %patches0 = tensor.empty() : tensor<1x4x4x3x3x2xi8>
  %patches = linalg.generic {indexing_maps = [#im2col, #id6], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%padded : tensor<1x6x6x2xi8>) outs(%patches0 : tensor<1x4x4x3x3x2xi8>) {
  ^bb0(%a: i8, %o: i8):
    linalg.yield %a : i8
  } -> tensor<1x4x4x3x3x2xi8>
  %x = tensor.collapse_shape %patches [[0, 1, 2], [3, 4, 5]] : tensor<1x4x4x3x3x2xi8> into tensor<16x18xi8>
  %w = arith.constant {mcusparse.layer = 0 : i64, sparse_enc.layout = #sparse_enc.csr<>} dense<[
      [0, -13, 61, 0, 98, 0, 0, 0, 101, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [35, 0, 0, 0, 0, 0, -116, 0, 0, 0, 0, 0, -76, 0, 0, -90, 0, 0],
      [88, 0, 0, 0, 0, 0, 0, 0, 0, 0, -121, 0, 0, 0, 0, 93, -125, 0],
      [121, 0, 0, 0, 0, 0, 0, -45, 0, 0, 0, 0, -87, 0, 0, 0, 71, 0]]> : tensor<4x18xi8>
  %zero = arith.constant 0 : i32
  %acc0 = tensor.empty() : tensor<16x4xi32>
  %acc = linalg.fill ins(%zero : i32) outs(%acc0 : tensor<16x4xi32>) -> tensor<16x4xi32>
  %mm = linalg.matmul indexing_maps = [#X, #WT, #Y]
      ins(%x, %w : tensor<16x18xi8>, tensor<4x18xi8>) outs(%acc : tensor<16x4xi32>) -> tensor<16x4xi32>
  // Requantise: bias, shift, clamp to int8.
  %bias = arith.constant dense<[100, -200, 300, -400]> : tensor<4xi32>
  %q0 = tensor.empty() : tensor<16x4xi8>
  %q = linalg.generic {indexing_maps = [#acc, #chan, #acc], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<16x4xi32>, tensor<4xi32>) outs(%q0 : tensor<16x4xi8>) {
  ^bb0(%a: i32, %b: i32, %o: i8):
    %s = arith.addi %a, %b : i32
    %c7 = arith.constant 7 : i32
    %sh = arith.shrsi %s, %c7 : i32
    %lo = arith.constant -128 : i32
    %hi = arith.constant 127 : i32
    %m0 = arith.maxsi %sh, %lo : i32
    %m1 = arith.minsi %m0, %hi : i32
    %t = arith.trunci %m1 : i32 to i8
    linalg.yield %t : i8
  } -> tensor<16x4xi8>
  // Fully connected, dense weight (no layout chosen): already a matvec.
  %flat = tensor.collapse_shape %q [[0, 1]] : tensor<16x4xi8> into tensor<64xi8>
  %w2 = arith.constant {mcusparse.layer = 1 : i64} dense<3> : tensor<3x64xi8>
  %bias2 = arith.constant dense<[1, 2, 3]> : tensor<3xi32>
  %logits = linalg.matvec ins(%w2, %flat : tensor<3x64xi8>, tensor<64xi8>) outs(%bias2 : tensor<3xi32>) -> tensor<3xi32>
  return %logits : tensor<3xi32>
}

// -----

// On cortex-m55 an arena larger than the 384 KiB kept in the DTCM (.bss) goes
// to the 2 MiB SRAM (.sram_bss); other targets leave it in .bss.

#id = affine_map<(d0) -> (d0)>

// CHECK: module attributes {dlti.dl_spec = #dlti.dl_spec<index = 32 : i64>, mcusparse.arena_bytes = 409600 : i64, mcusparse.arena_peak = [{{.*}}]}
// CHECK: llvm.mlir.global private @mcusparse_arena() {addr_space = 0 : i32, alignment = 16 : i64, section = ".sram_bss"} : !llvm.array<409600 x i8>
// CHECK-LABEL: llvm.func @big
// RV: module attributes {dlti.dl_spec = #dlti.dl_spec<index = 32 : i64>, mcusparse.arena_bytes = 409600 : i64, mcusparse.arena_peak = [{{.*}}]}
// RV: llvm.mlir.global private @mcusparse_arena() {addr_space = 0 : i32, alignment = 16 : i64} : !llvm.array<409600 x i8>
// LLVMIR: @mcusparse_arena = private global [409600 x i8] undef, section ".sram_bss", align 16
func.func @big(%x: tensor<409600xi8>) -> tensor<409600xi8> {
  %e = tensor.empty() : tensor<409600xi8>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : tensor<409600xi8>) outs(%e : tensor<409600xi8>) {
  ^bb0(%i: i8, %o: i8):
    %s = arith.addi %i, %i : i8
    linalg.yield %s : i8
  } -> tensor<409600xi8>
  %f = tensor.empty() : tensor<409600xi8>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%a : tensor<409600xi8>) outs(%f : tensor<409600xi8>) {
  ^bb0(%i: i8, %o: i8):
    %s = arith.muli %i, %i : i8
    linalg.yield %s : i8
  } -> tensor<409600xi8>
  return %b : tensor<409600xi8>
}
