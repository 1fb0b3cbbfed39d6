/*
 * Start-up for RV32 on QEMU's `virt` machine with -bios none: QEMU's reset
 * code jumps to the start of RAM (0x80000000) in machine mode, where the
 * linker script puts .text.init.
 *
 * Sets gp and sp, installs the trap handler, enables the FPU (mstatus.FS) and
 * the vector unit (mstatus.VS) when the core has them (the fields are WARL:
 * on rv32imc the writes are ignored), then runs the C start-up
 * (runtime/common/crt.c), which ends in exit(main()).
 *
 * Any trap (illegal instruction, access fault, misaligned access, ecall,
 * interrupt) prints one line starting with MCUSPARSE_FAULT_TAG with mcause,
 * mepc and mtval through semihosting and exits with MCUSPARSE_EXIT_FAULT.
 */
    .option arch, +zicsr

#define MSTATUS_VS_INITIAL (1 << 9)
#define MSTATUS_FS_INITIAL (1 << 13)

    .section .text.init, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack
    la      t0, mcusparse_trap_entry
    csrw    mtvec, t0
    li      t0, MSTATUS_FS_INITIAL | MSTATUS_VS_INITIAL
    csrs    mstatus, t0
#if defined(__riscv_flen)
    csrw    fcsr, zero
#endif
    call    mcusparse_cstart
1:  j       1b
    .size _start, . - _start

/* Trap entry (mtvec direct mode: 4-byte aligned). Runs on its own stack so
 * that a stack overflow still reports. */
    .text
    .balign 4
    .globl mcusparse_trap_entry
    .type mcusparse_trap_entry, @function
mcusparse_trap_entry:
    la      sp, __trap_stack_top
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    mv      a3, ra
    call    mcusparse_riscv_trap
1:  j       1b
    .size mcusparse_trap_entry, . - mcusparse_trap_entry

/* Semihosting call: a0 = operation, a1 = argument, result in a0. QEMU recognises
 * the uncompressed slli/ebreak/srai sequence when all three are in one page;
 * the 16-byte alignment guarantees that. */
    .section .text.mcusparse_semihost_trap, "ax", @progbits
    .balign 16
    .globl mcusparse_semihost_trap
    .type mcusparse_semihost_trap, @function
mcusparse_semihost_trap:
    .option push
    .option norvc
    slli    zero, zero, 0x1f
    ebreak
    srai    zero, zero, 0x7
    .option pop
    ret
    .size mcusparse_semihost_trap, . - mcusparse_semihost_trap

    .section .bss.mcusparse_trap_stack, "aw", @nobits
    .balign 16
__trap_stack:
    .space  1024
__trap_stack_top:
