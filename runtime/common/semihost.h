/*
 * Minimal semihosting for the mcusparse bare-metal runtime.
 *
 * picolibc (--oslib=semihost) carries printf/exit for programs. These few
 * calls are for the start-up code and fault handlers, which must work without
 * relying on libc state (a fault may happen anywhere, even inside libc).
 * Both Arm (bkpt 0xab) and RISC-V (slli/ebreak/srai) use the Arm semihosting
 * operation numbers; QEMU prints console output on its stderr.
 */
#ifndef MCUSPARSE_SEMIHOST_H
#define MCUSPARSE_SEMIHOST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exit code of a program stopped by a fault / trap handler. */
#define MCUSPARSE_EXIT_FAULT 125

/* First characters of the line a fault handler prints (the runner looks for it). */
#define MCUSPARSE_FAULT_TAG "*** mcusparse: guest fault: "

long mcusparse_semihost(long op, void *arg);
void mcusparse_sh_puts(const char *s);               /* SYS_WRITE0 */
void mcusparse_sh_hex(uint32_t v);                   /* "0x%08x" through SYS_WRITE0 */
__attribute__((noreturn)) void mcusparse_sh_exit(int code); /* SYS_EXIT_EXTENDED */

/* Print MCUSPARSE_FAULT_TAG, `what`, then " name=0x..." for each register; exit
 * with MCUSPARSE_EXIT_FAULT. */
__attribute__((noreturn)) void mcusparse_fault(const char *what, const char *const *names,
                                               const uint32_t *values, int n);

#ifdef __cplusplus
}
#endif

#endif /* MCUSPARSE_SEMIHOST_H */
