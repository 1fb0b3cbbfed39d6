// RUN: sparse-opt %s --sparse-enc-set-target=target=avr -verify-diagnostics
// RUN: sparse-opt %s --sparse-enc-lower-matvec=target=avr -verify-diagnostics
// RUN: sparse-opt %s --sparse-enc-matmul-to-matvec=target=avr -verify-diagnostics
// RUN: sparse-opt %s --pass-pipeline='builtin.module(sparse-enc-to-llvm{target=avr})' -verify-diagnostics

// A `target=` option the passes do not know is an error at the module that
// names the value and the known targets (lower-matvec and matmul-to-matvec
// also accept no target: generic code), not a silent fallback.

// expected-error @+1 {{unknown target 'avr' (cortex-m55, rv32imc, rv32gcv, host}}
module {
  func.func @kernel(%w: tensor<10x40xi8>, %x: tensor<40xi8>, %y: tensor<10xi32>) -> tensor<10xi32> {
    %r = linalg.matvec ins(%w, %x : tensor<10x40xi8>, tensor<40xi8>) outs(%y : tensor<10xi32>) -> tensor<10xi32>
    return %r : tensor<10xi32>
  }
}
