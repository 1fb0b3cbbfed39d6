// RUN: sparse-opt %s --split-input-file --sparse-enc-fence-int-to-float | FileCheck %s

// Every int-to-float conversion is followed by llvm.arithmetic.fence, and its
// users read the fenced value.

// CHECK-LABEL: llvm.func @dequantize
// CHECK: %[[F:.*]] = llvm.sitofp %{{.*}} : vector<4xi32> to vector<4xf32>
// CHECK: %[[G:.*]] = llvm.call_intrinsic "llvm.arithmetic.fence"(%[[F]]) : (vector<4xf32>) -> vector<4xf32>
// CHECK-NOT: llvm.fmul %[[F]]
// CHECK: llvm.fmul %[[G]], %{{.*}} : vector<4xf32>
// CHECK: %[[U:.*]] = llvm.uitofp %{{.*}} : i32 to f32
// CHECK: llvm.call_intrinsic "llvm.arithmetic.fence"(%[[U]]) : (f32) -> f32
llvm.func @dequantize(%x: vector<4xi32>, %s: vector<4xf32>, %y: i32) -> vector<4xf32> {
  %f = llvm.sitofp %x : vector<4xi32> to vector<4xf32>
  %m = llvm.fmul %f, %s : vector<4xf32>
  %u = llvm.uitofp %y : i32 to f32
  llvm.return %m : vector<4xf32>
}

// -----

// Without an int-to-float conversion nothing changes.

// CHECK-LABEL: llvm.func @no_conversion
// CHECK-NOT: llvm.arithmetic.fence
llvm.func @no_conversion(%x: f32, %s: f32) -> f32 {
  %m = llvm.fmul %x, %s : f32
  llvm.return %m : f32
}
