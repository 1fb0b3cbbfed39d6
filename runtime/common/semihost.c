/* Minimal semihosting calls for start-up and fault handlers (see semihost.h). */
#include "semihost.h"

#define SYS_WRITE0 0x04
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

long mcusparse_semihost(long op, void *arg)
{
#if defined(__arm__)
    register long r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
#elif defined(__riscv)
    /* runtime/riscv/start.S: the slli/ebreak/srai sequence must be uncompressed and
     * must not cross a page, which inline assembly cannot guarantee. */
    extern long mcusparse_semihost_trap(long op, void *arg);
    return mcusparse_semihost_trap(op, arg);
#else
#error "semihosting: unsupported architecture"
#endif
}

void mcusparse_sh_puts(const char *s)
{
    mcusparse_semihost(SYS_WRITE0, (void *)s);
}

void mcusparse_sh_hex(uint32_t v)
{
    char buf[11];
    buf[0] = '0';
    buf[1] = 'x';
    for (int i = 0; i < 8; i++) {
        unsigned d = (v >> (28 - 4 * i)) & 0xf;
        buf[2 + i] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    }
    buf[10] = '\0';
    mcusparse_sh_puts(buf);
}

void mcusparse_sh_exit(int code)
{
    volatile long block[2] = { ADP_STOPPED_APPLICATION_EXIT, code };
    mcusparse_semihost(SYS_EXIT_EXTENDED, (void *)block);
    for (;;) {
    }
}

void mcusparse_fault(const char *what, const char *const *names, const uint32_t *values, int n)
{
    mcusparse_sh_puts("\n" MCUSPARSE_FAULT_TAG);
    mcusparse_sh_puts(what);
    for (int i = 0; i < n; i++) {
        mcusparse_sh_puts(" ");
        mcusparse_sh_puts(names[i]);
        mcusparse_sh_puts("=");
        mcusparse_sh_hex(values[i]);
    }
    mcusparse_sh_puts("\n");
    mcusparse_sh_exit(MCUSPARSE_EXIT_FAULT);
}
