// RUN: sparse-opt %s --split-input-file --sparse-enc-plan-arena --verify-diagnostics | FileCheck %s

// Three 64-byte buffers in a chain a -> b -> c: a is dead (its last use is the
// op that writes b) before c is allocated, so c reuses a's bytes; b overlaps
// both and gets its own. Every alloc becomes a memref.view of one
// uninitialised, 16-byte aligned global; deallocs are erased; the arena size
// is recorded on the module, with the buffers live together at its peak
// (`mcusparse.arena_peak`, for the compile report).

#id = affine_map<(d0) -> (d0)>

// CHECK: module attributes {mcusparse.arena_bytes = 128 : i64, mcusparse.arena_peak = {{\[}}"memref<16xi32> 64", "memref<16xi32> 64"]} {
// CHECK: memref.global "private" @mcusparse_arena : memref<128xi8> = uninitialized {alignment = 16 : i64}
// CHECK-LABEL: func.func @chain
// CHECK: %[[ARENA:.*]] = memref.get_global @mcusparse_arena : memref<128xi8>
// CHECK: %[[OA:.*]] = arith.constant 0 : index
// CHECK: %[[A:.*]] = memref.view %[[ARENA]][%[[OA]]][] : memref<128xi8> to memref<16xi32>
// CHECK: linalg.generic {{.*}} outs(%[[A]] : memref<16xi32>)
// CHECK: %[[OB:.*]] = arith.constant 64 : index
// CHECK: %[[B:.*]] = memref.view %[[ARENA]][%[[OB]]][] : memref<128xi8> to memref<16xi32>
// CHECK: linalg.generic {{.*}} ins(%[[A]] : memref<16xi32>) outs(%[[B]] : memref<16xi32>)
// CHECK: %[[OC:.*]] = arith.constant 0 : index
// CHECK: %[[C:.*]] = memref.view %[[ARENA]][%[[OC]]][] : memref<128xi8> to memref<16xi32>
// CHECK: linalg.generic {{.*}} ins(%[[B]] : memref<16xi32>) outs(%[[C]] : memref<16xi32>)
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @chain(%in: memref<16xi8>, %out: memref<16xi8>) {
  %a = memref.alloc() : memref<16xi32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%in : memref<16xi8>) outs(%a : memref<16xi32>) {
  ^bb0(%i: i8, %o: i32):
    %e = arith.extsi %i : i8 to i32
    linalg.yield %e : i32
  }
  %b = memref.alloc() : memref<16xi32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%a : memref<16xi32>) outs(%b : memref<16xi32>) {
  ^bb0(%i: i32, %o: i32):
    %e = arith.addi %i, %i : i32
    linalg.yield %e : i32
  }
  memref.dealloc %a : memref<16xi32>
  %c = memref.alloc() : memref<16xi32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%b : memref<16xi32>) outs(%c : memref<16xi32>) {
  ^bb0(%i: i32, %o: i32):
    %e = arith.muli %i, %i : i32
    linalg.yield %e : i32
  }
  memref.dealloc %b : memref<16xi32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%c : memref<16xi32>) outs(%out : memref<16xi8>) {
  ^bb0(%i: i32, %o: i8):
    %e = arith.trunci %i : i32 to i8
    linalg.yield %e : i8
  }
  memref.dealloc %c : memref<16xi32>
  return
}

// -----

// A view of a buffer keeps it alive: a is read through its collapse_shape
// after b is allocated, so b must not take a's bytes ...

// CHECK: module attributes {mcusparse.arena_bytes = 32 : i64, mcusparse.arena_peak = {{\[}}"memref<4x4xi8> 16", "memref<16xi8> 16"]} {
// CHECK-LABEL: func.func @collapse_extends
// CHECK: %[[ARENA:.*]] = memref.get_global @mcusparse_arena : memref<32xi8>
// CHECK: arith.constant 0 : index
// CHECK: %[[A:.*]] = memref.view %[[ARENA]][%{{.*}}][] : memref<32xi8> to memref<4x4xi8>
// CHECK: %[[F:.*]] = memref.collapse_shape %[[A]] {{\[}}[0, 1]] : memref<4x4xi8> into memref<16xi8>
// CHECK: arith.constant 16 : index
// CHECK: %[[B:.*]] = memref.view %[[ARENA]][%{{.*}}][] : memref<32xi8> to memref<16xi8>
func.func @collapse_extends(%in: memref<4x4xi8>, %out: memref<16xi8>) {
  %a = memref.alloc() : memref<4x4xi8>
  memref.copy %in, %a : memref<4x4xi8> to memref<4x4xi8>
  %f = memref.collapse_shape %a [[0, 1]] : memref<4x4xi8> into memref<16xi8>
  %b = memref.alloc() : memref<16xi8>
  memref.copy %f, %b : memref<16xi8> to memref<16xi8>
  memref.copy %f, %out : memref<16xi8> to memref<16xi8>
  memref.copy %b, %out : memref<16xi8> to memref<16xi8>
  return
}

// -----

// ... while a view whose last use comes before b's alloc lets them share.

// CHECK: module attributes {mcusparse.arena_bytes = 16 : i64, mcusparse.arena_peak = {{\[}}"memref<4x4xi8> 16"]} {
// CHECK-LABEL: func.func @collapse_dead
// CHECK: memref.view %{{.*}}[%[[O:.*]]][] : memref<16xi8> to memref<4x4xi8>
// CHECK: memref.view %{{.*}}[%{{.*}}][] : memref<16xi8> to memref<16xi8>
func.func @collapse_dead(%in: memref<4x4xi8>, %out: memref<16xi8>) {
  %a = memref.alloc() : memref<4x4xi8>
  memref.copy %in, %a : memref<4x4xi8> to memref<4x4xi8>
  %f = memref.collapse_shape %a [[0, 1]] : memref<4x4xi8> into memref<16xi8>
  memref.copy %f, %out : memref<16xi8> to memref<16xi8>
  %b = memref.alloc() : memref<16xi8>
  memref.copy %out, %b : memref<16xi8> to memref<16xi8>
  memref.copy %b, %out : memref<16xi8> to memref<16xi8>
  return
}

// -----

// Subviews and loops: a buffer used inside an scf.for (through a subview) is
// live over the whole loop. Largest first at the lowest free 16-byte aligned
// offset: the 40-byte c goes at 0, the 10-byte a after it at 48 (a and c
// overlap in the loop), the 3-byte b, live with both, at 64; the arena is
// rounded up to 16.

// CHECK: module attributes {mcusparse.arena_bytes = 80 : i64, mcusparse.arena_peak = {{\[}}"memref<10xi32> 40", "memref<10xi8> 10", "memref<3xi8> 3"]} {
// CHECK-LABEL: func.func @loop_and_alignment
// CHECK: arith.constant 48 : index
// CHECK: memref.view %{{.*}} : memref<80xi8> to memref<10xi8>
// CHECK: arith.constant 64 : index
// CHECK: memref.view %{{.*}} : memref<80xi8> to memref<3xi8>
// CHECK: arith.constant 0 : index
// CHECK: memref.view %{{.*}} : memref<80xi8> to memref<10xi32>
// CHECK: scf.for
// CHECK: memref.subview
func.func @loop_and_alignment(%x: memref<10xi8>, %out: memref<10xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %a = memref.alloc() : memref<10xi8>
  memref.copy %x, %a : memref<10xi8> to memref<10xi8>
  %b = memref.alloc() : memref<3xi8>
  %c = memref.alloc() : memref<10xi32>
  scf.for %i = %c0 to %c10 step %c1 {
    %s = memref.subview %a[%i] [1] [1] : memref<10xi8> to memref<1xi8, strided<[1], offset: ?>>
    %v = memref.load %s[%c0] : memref<1xi8, strided<[1], offset: ?>>
    memref.store %v, %b[%c0] : memref<3xi8>
    %w = arith.extsi %v : i8 to i32
    memref.store %w, %c[%i] : memref<10xi32>
  }
  memref.copy %c, %out : memref<10xi32> to memref<10xi32>
  return
}

// -----

// Each function gets an arena of its own, inserted before it (renamed on a
// clash); the module attribute is their sum. Functions without allocs and declarations get none.

// CHECK: module attributes {mcusparse.arena_bytes = 48 : i64, mcusparse.arena_peak = {{\[}}"memref<4xi32> 16", "memref<4xi32> 16"]} {
// CHECK: memref.global "private" @mcusparse_arena : memref<16xi8> = uninitialized {alignment = 16 : i64}
// CHECK-LABEL: func.func @f
// CHECK: memref.get_global @mcusparse_arena : memref<16xi8>
// CHECK: memref.global "private" @[[SECOND:mcusparse_arena_[0-9]+]] : memref<32xi8> = uninitialized {alignment = 16 : i64}
// CHECK-LABEL: func.func @g
// CHECK: memref.get_global @[[SECOND]] : memref<32xi8>
// CHECK-LABEL: func.func @no_allocs
// CHECK-NOT: memref.get_global
func.func private @external(memref<4xi8>)
func.func @f(%x: memref<4xi8>) {
  %a = memref.alloc() : memref<4xi8>
  call @external(%a) : (memref<4xi8>) -> ()
  return
}
func.func @g(%x: memref<4xi32>) {
  %a = memref.alloc() : memref<4xi32>
  %b = memref.alloc() : memref<4xi32>
  memref.copy %a, %b : memref<4xi32> to memref<4xi32>
  return
}
func.func @no_allocs(%x: memref<4xi8>) {
  return
}

// -----

// The arena is planned at compile time: a dynamic shape has no fixed size.

func.func @dynamic(%n: index) {
  // expected-error @+1 {{sparse-enc-plan-arena needs a static shape and identity layout, got 'memref<?xi8>'}}
  %a = memref.alloc(%n) : memref<?xi8>
  return
}

// -----

// A returned buffer would outlive the arena's plan: results must be out
// parameters (buffer-results-to-out-params) first.

func.func @returned() -> memref<16xi8> {
  // expected-error @+1 {{a buffer is returned from the function (run buffer-results-to-out-params first)}}
  %a = memref.alloc() : memref<16xi8>
  return %a : memref<16xi8>
}

// -----

// Returning a view of the buffer is the same.

func.func @returned_view() -> memref<16xi8> {
  // expected-error @+1 {{a buffer is returned from the function}}
  %a = memref.alloc() : memref<4x4xi8>
  %f = memref.collapse_shape %a [[0, 1]] : memref<4x4xi8> into memref<16xi8>
  return %f : memref<16xi8>
}

// -----

// A buffer allocated in a loop and carried to the next iteration has no
// single place.

func.func @carried(%init: memref<4xi8>) -> memref<4xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %init) -> (memref<4xi8>) {
    // expected-error @+1 {{a buffer allocated inside a loop is carried to the next iteration; sparse-enc-plan-arena cannot give it one fixed place}}
    %a = memref.alloc() : memref<4xi8>
    memref.copy %acc, %a : memref<4xi8> to memref<4xi8>
    scf.yield %a : memref<4xi8>
  }
  return %r : memref<4xi8>
}

// -----

// expected-error @+1 {{sparse-enc-plan-arena expects structured control flow (one block per function)}}
func.func @unstructured(%c: i1) {
  cf.cond_br %c, ^bb1, ^bb2
^bb1:
  %a = memref.alloc() : memref<4xi8>
  return
^bb2:
  return
}

// -----

// A buffer yielded out of an scf.if lives as long as the scf.if's result:
// %a and %b must not share bytes with %d, which is written while %r is live.

// CHECK-LABEL: func.func @yielded_from_if
// CHECK: memref.get_global @mcusparse_arena : memref<48xi8>
// CHECK-DAG: arith.constant 0 : index
// CHECK-DAG: arith.constant 16 : index
// CHECK-DAG: arith.constant 32 : index
// CHECK-NOT: memref.alloc
func.func @yielded_from_if(%c: i1, %x: memref<16xi8>, %out: memref<16xi8>) {
  %a = memref.alloc() : memref<16xi8>
  memref.copy %x, %a : memref<16xi8> to memref<16xi8>
  %b = memref.alloc() : memref<16xi8>
  memref.copy %x, %b : memref<16xi8> to memref<16xi8>
  %r = scf.if %c -> memref<16xi8> {
    scf.yield %a : memref<16xi8>
  } else {
    scf.yield %b : memref<16xi8>
  }
  %d = memref.alloc() : memref<16xi8>
  memref.copy %x, %d : memref<16xi8> to memref<16xi8>
  memref.copy %r, %out : memref<16xi8> to memref<16xi8>
  memref.copy %d, %out : memref<16xi8> to memref<16xi8>
  return
}

// -----

// A public function's buffer arguments (a model's inputs and outputs,
// `restrict` in model.h) overlap neither each other nor the arena: they get
// llvm.noalias, so that LLVM keeps loaded values across stores to an output.
// A private function may be called with views of one buffer: unmarked.

// CHECK-LABEL: func.func @entry
// CHECK-SAME: (%{{.*}}: memref<8xi8> {llvm.noalias}, %{{.*}}: index, %{{.*}}: memref<8xi32> {llvm.noalias})
// CHECK-LABEL: func.func private @helper
// CHECK-SAME: (%{{.*}}: memref<8xi8>, %{{.*}}: memref<8xi8>)
// CHECK-NOT: llvm.noalias
func.func @entry(%in: memref<8xi8>, %n: index, %out: memref<8xi32>) {
  return
}
func.func private @helper(%a: memref<8xi8>, %b: memref<8xi8>) {
  return
}

// -----

// A raw address of a buffer (the pointer-walking kernels,
// passes/lower/Pointers.cpp) keeps it live while anything computed from the
// address is used: %a's address is loaded from after %b is written, so the
// two must not share bytes (sharing them gave wrong outputs in MobileNetV2
// with partial execution). Without the raw address, %a is dead before %b.

// CHECK: module attributes {mcusparse.arena_bytes = 128 : i64
// CHECK-LABEL: func.func @raw_address
// CHECK: %[[A:.*]] = memref.view %{{.*}}[%[[OA:.*]]][]
// CHECK: memref.extract_aligned_pointer_as_index %[[A]]
// CHECK: %[[B:.*]] = memref.view %{{.*}}[%[[OB:.*]]][]
// CHECK: llvm.load
func.func @raw_address(%out: memref<1xi32>) {
  %c0 = arith.constant 0 : index
  %c7 = arith.constant 7 : i32
  %a = memref.alloc() : memref<16xi32>
  linalg.fill ins(%c7 : i32) outs(%a : memref<16xi32>)
  %p = memref.extract_aligned_pointer_as_index %a : memref<16xi32> -> index
  %b = memref.alloc() : memref<16xi32>
  linalg.fill ins(%c7 : i32) outs(%b : memref<16xi32>)
  %i = arith.index_cast %p : index to i32
  %q = llvm.inttoptr %i : i32 to !llvm.ptr
  %v = llvm.load %q : !llvm.ptr -> i32
  memref.store %v, %out[%c0] : memref<1xi32>
  return
}

// -----

// CHECK: module attributes {mcusparse.arena_bytes = 64 : i64
// CHECK-LABEL: func.func @no_raw_address
func.func @no_raw_address(%out: memref<1xi32>) {
  %c0 = arith.constant 0 : index
  %c7 = arith.constant 7 : i32
  %a = memref.alloc() : memref<16xi32>
  linalg.fill ins(%c7 : i32) outs(%a : memref<16xi32>)
  %v = memref.load %a[%c0] : memref<16xi32>
  %b = memref.alloc() : memref<16xi32>
  linalg.fill ins(%c7 : i32) outs(%b : memref<16xi32>)
  memref.store %v, %out[%c0] : memref<1xi32>
  return
}
