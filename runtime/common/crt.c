/*
 * C start-up shared by the bare-metal targets: called by the target's reset
 * code once a stack exists and the FPU / vector unit is enabled.
 *
 * Copies initialised data (.data and .tdata, contiguous) from its load address,
 * zeroes .bss (and .sram_bss where a target has one), sets up picolibc's thread-local block (errno lives there), runs
 * constructors and passes main's return value to exit(), which picolibc's
 * semihosting back end turns into QEMU's exit code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Symbols defined by the linker scripts in runtime/<target>/. */
extern char __data_start[], __data_end[], __data_source[];
extern char __bss_start[], __bss_end[];
extern char __bss2_start[] __attribute__((weak)), __bss2_end[] __attribute__((weak));
extern char __tls_base[];

/* picolibc: thread pointer set-up and TLS block initialisation. */
extern void _set_tls(void *tls);
extern void _init_tls(void *tls);
extern void __libc_init_array(void);

extern int main(void);

__attribute__((noreturn, used)) void mcusparse_cstart(void)
{
    /* volatile pointers keep the compiler from turning these loops into calls
     * to memcpy/memset (which might use vector registers or TLS). */
    /* Distinct symbols may share an address (RISC-V: .data is loaded in place);
     * hide their origin so that the compiler cannot assume they differ. */
    const char *src = __data_source;
    __asm__("" : "+r"(src));
    if (src != __data_start) {
        volatile char *d = __data_start;
        const volatile char *s = src;
        while (d < __data_end) {
            *d++ = *s++;
        }
    }
    for (volatile char *p = __bss_start; p < __bss_end;) {
        *p++ = 0;
    }
    for (volatile char *p = __bss2_start; p < __bss2_end;) { /* optional second .bss */
        *p++ = 0;
    }
    _set_tls(__tls_base);
    _init_tls(__tls_base);
    __libc_init_array();
    exit(main());
}
