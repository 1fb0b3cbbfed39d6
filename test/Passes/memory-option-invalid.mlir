// RUN: not sparse-opt %s --sparse-enc-partial-execution=peak-bytes=-1 2>&1 | FileCheck %s --check-prefix=BUDGET
// RUN: not sparse-opt %s --sparse-enc-partial-execution="peak-bytes=1 tile-pixels=-48" 2>&1 | FileCheck %s --check-prefix=TILE
// RUN: not sparse-opt %s --sparse-enc-tile-accumulators=pixels=-4 2>&1 | FileCheck %s --check-prefix=PIXELS
// RUN: not sparse-opt %s --sparse-enc-model-to-llvm="target=rv32imc tile-pixels=-4" 2>&1 | FileCheck %s --check-prefix=PIXELS

// A negative budget or tile is an error at the module that names the pass,
// the option and the value, not a silent "off" (also through the model
// pipeline, which passes them on).

// BUDGET: memory-option-invalid.mlir:[[@LINE+4]]:1: error: sparse-enc-partial-execution: peak-bytes and tile-pixels must be 0 (off) or positive, got -1 and 0
// TILE: memory-option-invalid.mlir:[[@LINE+3]]:1: error: sparse-enc-partial-execution: peak-bytes and tile-pixels must be 0 (off) or positive, got 1 and -48
// PIXELS: memory-option-invalid.mlir:[[@LINE+2]]:1: error: sparse-enc-tile-accumulators: pixels must be 0 (off) or positive, got -4
// BUDGET-NOT: Stack dump
module {
  func.func @f(%x: tensor<4xi8>) -> tensor<4xi8> {
    return %x : tensor<4xi8>
  }
}
