// The IREE input module of a layer computed by one of our kernels (a custom
// dispatch, mcusparse.iree.dispatch), and what iree-compile makes of it.
// This file only holds RUN/CHECK lines: the module comes from Python.
//
// RUN: python -m mcusparse.iree.dispatch --target cortex-m55 --rows 8 --cols 16 \
// RUN:   --buffer 20:i8 --buffer 20:i16 --buffer 9:i16 --object /objs/kernel.bc \
// RUN:   | FileCheck %s --check-prefix=MCU
// RUN: python -m mcusparse.iree.dispatch --target host --rows 8 --cols 16 \
// RUN:   --buffer 20:i8 --object /objs/kernel.bc | FileCheck %s --check-prefix=HOST
// RUN: python -m mcusparse.iree.dispatch --target aarch64 --rows 8 --cols 16 \
// RUN:   --buffer 20:i8 --object /objs/kernel.bc | FileCheck %s --check-prefix=A64
// RUN: python -m mcusparse.iree.dispatch --target rv32gcv --rows 8 --cols 16 \
// RUN:   --buffer 20:i8 --object /objs/kernel.bc --mlp 4 | FileCheck %s --check-prefix=MLP
// RUN: python -m mcusparse.iree.dispatch --target cortex-m55 --rows 8 --cols 16 \
// RUN:   --buffer 20:i8 --buffer 9:i16 --object /objs/kernel.bc \
// RUN:   | iree-compile - --compile-to=flow --iree-hal-target-device=local \
// RUN:       --iree-hal-local-target-device-backends=llvm-cpu \
// RUN:   | FileCheck %s --check-prefix=FLOW

// The object is keyed by the generic target of the format IREE emits there.
// MCU:       stream.executable private @mcs_kernels attributes {
// MCU-NEXT:    hal.executable.objects = #hal.executable.objects<{
// MCU-NEXT:      #hal.executable.target<"llvm-cpu", "static"> = [#hal.executable.object<{path = "/objs/kernel.bc"}>]
// One workgroup: the kernel computes the whole layer.
// MCU:         stream.executable.export public @layer0 workgroups() -> (index, index, index) {
// MCU:           stream.return %c1, %c1, %c1 : index, index, index
// The kernel: bare pointers to the packed buffers, x and y; returns y.
// MCU:         func.func private @kernel(memref<20xi8>, memref<20xi16>, memref<9xi16>, memref<16xi8>, memref<8xi32>) -> memref<8xi32>
// MCU-NEXT:        attributes {hal.import.static, llvm.bareptr = true}
// MCU:         func.func @layer0(%b0: !stream.binding, %b1: !stream.binding, %b2: !stream.binding, %b3: !stream.binding, %b4: !stream.binding) {
// MCU:           %m4 = stream.binding.subspan %b4[%c0] : !stream.binding -> memref<8xi32>
// MCU:           %r = func.call @kernel(%m0, %m1, %m2, %m3, %m4)
// The public function: weights and x are arguments, y a zero-filled tied operand.
// MCU:       func.func @spmv(%a0: tensor<20xi8>, %a1: tensor<20xi16>, %a2: tensor<9xi16>, %a3: tensor<16xi8>) -> tensor<8xi32> {
// MCU:         %z = linalg.fill ins(%z_c0 : i32)
// MCU:         %y = flow.dispatch @mcs_kernels::@layer0(%a0, %a1, %a2, %a3, %z) : ({{.*}}, tensor<8xi32>) -> %z
// MCU-NOT:   sparse_enc

// HOST: #hal.executable.target<"llvm-cpu", "embedded-elf-x86_64"> = [#hal.executable.object<{path = "/objs/kernel.bc"}>]
// A64:  #hal.executable.target<"llvm-cpu", "embedded-elf-arm_64"> = [#hal.executable.object<{path = "/objs/kernel.bc"}>]

// The two-layer example: custom sparse layer, requantising ReLU, dense matvec by IREE.
// MLP:       func.func @mlp(%a0: tensor<20xi8>, %a1: tensor<16xi8>, %w2: tensor<4x8xi8>) -> tensor<4xi32> {
// MLP:         %h = flow.dispatch @mcs_kernels::@layer0(%a0, %a1, %z)
// MLP:         linalg.generic
// MLP:         arith.maxsi
// MLP:         linalg.matvec ins(%w2, %a : tensor<4x8xi8>, tensor<8xi8>)

// iree-compile accepts it: the dispatch and the objects survive to the flow phase.
// FLOW:      hal.executable.objects = #hal.executable.objects<{#hal.executable.target<"llvm-cpu", "static"> = [#hal.executable.object<{path = "/objs/kernel.bc"}>]}>
// FLOW:      func.func private @kernel(memref<20xi8>, memref<9xi16>, memref<16xi8>, memref<8xi32>) -> memref<8xi32> attributes {hal.import.static, llvm.bareptr = true}
// FLOW:      flow.dispatch @mcs_kernels::@layer0
