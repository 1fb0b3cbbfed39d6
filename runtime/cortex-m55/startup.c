/*
 * Start-up for Cortex-M55 on QEMU's mps3-an547 (Secure state, SAU off, so all
 * memory is Secure).
 *
 * Reset: enable the FPU and MVE (CP10/CP11 in CPACR, and in NSACR for the
 * Non-secure side), set the main stack limit, enable the configurable fault
 * exceptions and the divide-by-zero trap, then run the C start-up
 * (runtime/common/crt.c), which ends in exit(main()).
 *
 * Every fault or unexpected exception prints one line starting with
 * MCUSPARSE_FAULT_TAG through semihosting, with the stacked PC and the fault
 * status registers, and exits with MCUSPARSE_EXIT_FAULT.
 */
#include <stdint.h>

#include "../common/semihost.h"

extern uint32_t __stack[];        /* top of the main stack (linker script) */
extern uint32_t __stack_limit[];  /* bottom of the main stack */
extern void mcusparse_cstart(void) __attribute__((noreturn));

#define REG(addr) (*(volatile uint32_t *)(addr))
#define SCB_ICSR 0xE000ED04u
#define SCB_VTOR 0xE000ED08u
#define SCB_CCR 0xE000ED14u
#define SCB_SHCSR 0xE000ED24u
#define SCB_CFSR 0xE000ED28u
#define SCB_HFSR 0xE000ED2Cu
#define SCB_MMFAR 0xE000ED34u
#define SCB_BFAR 0xE000ED38u
#define SCB_CPACR 0xE000ED88u
#define SCB_NSACR 0xE000ED8Cu
#define SAU_SFSR 0xE000EDE4u
#define SAU_SFAR 0xE000EDE8u

#define CCR_DIV_0_TRP (1u << 4)
#define SHCSR_FAULT_ENABLES ((1u << 16) | (1u << 17) | (1u << 18) | (1u << 19))

__attribute__((noreturn, used)) void Reset_Handler(void)
{
    /* CP10 and CP11 (FPU and MVE share them): full access. */
    REG(SCB_CPACR) |= (0xFu << 20);
    REG(SCB_NSACR) |= (0x3u << 10);
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    /* A stack overflow now raises a UsageFault (STKOF) instead of corrupting .bss. */
    __asm__ volatile("msr msplim, %0" ::"r"(__stack_limit));
    REG(SCB_SHCSR) |= SHCSR_FAULT_ENABLES;
    REG(SCB_CCR) |= CCR_DIV_0_TRP;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    mcusparse_cstart();
}

/* Called from the assembly stubs below with the stacked exception frame
 * (r0-r3, r12, lr, pc, xpsr) or NULL when the frame is not readable. */
__attribute__((noreturn, used)) void mcusparse_m_fault(const uint32_t *frame, uint32_t exc_return)
{
    static const char *const names[] = { "exception", "pc", "lr", "xpsr", "exc_return",
                                         "CFSR",      "HFSR", "MMFAR", "BFAR", "SFSR",
                                         "SFAR" };
    static const char *const kinds[16] = {
        "unexpected exception", "reset",      "NMI",        "HardFault",
        "MemManage fault",      "BusFault",   "UsageFault", "SecureFault",
        "unexpected exception", "unexpected exception", "unexpected exception", "SVCall",
        "DebugMonitor",         "unexpected exception", "PendSV", "SysTick",
    };
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    uint32_t v[11];
    v[0] = ipsr & 0x1ffu;
    v[1] = frame ? frame[6] : 0;
    v[2] = frame ? frame[5] : 0;
    v[3] = frame ? frame[7] : 0;
    v[4] = exc_return;
    v[5] = REG(SCB_CFSR);
    v[6] = REG(SCB_HFSR);
    v[7] = REG(SCB_MMFAR);
    v[8] = REG(SCB_BFAR);
    v[9] = REG(SAU_SFSR);
    v[10] = REG(SAU_SFAR);
    const char *what = v[0] < 16 ? kinds[v[0]] : "unexpected interrupt";
    mcusparse_fault(what, names, v, 11);
}

/*
 * Fault entry: drop the stack limit (the fault may be a stack overflow), pick
 * the stack the frame was pushed on (EXC_RETURN bit 2: 0 = MSP, 1 = PSP) and
 * call the C reporter on the main stack.
 */
__attribute__((naked, noreturn, used)) void mcusparse_fault_entry(void)
{
    __asm__ volatile("movs r0, #0\n\t"
                     "msr msplim, r0\n\t"
                     "mov r1, lr\n\t"
                     "tst r1, #4\n\t"
                     "ite eq\n\t"
                     "mrseq r0, msp\n\t"
                     "mrsne r0, psp\n\t"
                     "b mcusparse_m_fault\n\t");
}

typedef void (*vector_t)(void);

/* 16 system exceptions + 96 interrupts (SSE-300 / AN547). Placed at the start
 * of ITCM (address 0, the reset value of VTOR) by the linker script. */
__attribute__((section(".vectors"), used)) const vector_t mcusparse_vectors[16 + 96] = {
    [0] = (vector_t)(uintptr_t)__stack,
    [1] = Reset_Handler,
    [2 ... 16 + 96 - 1] = mcusparse_fault_entry,
};

/*
 * Objects compiled without `nounwind` / with unwind tables reference the EHABI
 * personality routines, which would pull libgcc's unwinder into the link (and
 * fail: the linker script discards .ARM.exidx). Nothing here unwinds, so these
 * weak stand-ins satisfy the references and report if ever called.
 */
static __attribute__((noreturn)) void no_unwinding(void)
{
    mcusparse_fault("C++ exception unwinding is not supported", 0, 0, 0);
}
__attribute__((weak)) void __aeabi_unwind_cpp_pr0(void) { no_unwinding(); }
__attribute__((weak)) void __aeabi_unwind_cpp_pr1(void) { no_unwinding(); }
__attribute__((weak)) void __aeabi_unwind_cpp_pr2(void) { no_unwinding(); }
