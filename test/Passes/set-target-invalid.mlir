// RUN: sparse-opt %s --sparse-enc-set-target=target=avr -verify-diagnostics

// An unknown target is an error on the module that names the known ones.

// expected-error @+1 {{unknown target 'avr' (cortex-m55, rv32imc, rv32gcv, host)}}
module {
  func.func @kernel(%x: memref<4xi8>) {
    return
  }
}
