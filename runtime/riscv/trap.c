/* RISC-V trap reporter, called from mcusparse_trap_entry (start.S). */
#include <stdint.h>

#include "../common/semihost.h"

static const char *cause_name(uint32_t mcause)
{
    if (mcause & 0x80000000u) {
        return "unexpected interrupt";
    }
    switch (mcause) {
    case 0: return "instruction address misaligned";
    case 1: return "instruction access fault";
    case 2: return "illegal instruction";
    case 3: return "breakpoint";
    case 4: return "load address misaligned";
    case 5: return "load access fault";
    case 6: return "store address misaligned";
    case 7: return "store access fault";
    case 8: case 9: case 11: return "environment call";
    case 12: return "instruction page fault";
    case 13: return "load page fault";
    case 15: return "store page fault";
    default: return "trap";
    }
}

__attribute__((noreturn, used)) void mcusparse_riscv_trap(uint32_t mcause, uint32_t mepc,
                                                          uint32_t mtval, uint32_t ra)
{
    static const char *const names[] = { "mcause", "mepc", "mtval", "ra" };
    uint32_t v[4] = { mcause, mepc, mtval, ra };
    mcusparse_fault(cause_name(mcause), names, v, 4);
}
