/* Benchmark markers: see bench.h. Keep this file free of anything else. */
#include "bench.h"

#if defined(__has_attribute)
#if __has_attribute(noipa)
#define MCUSPARSE_NOIPA __attribute__((noipa))
#endif
#endif
#ifndef MCUSPARSE_NOIPA
#define MCUSPARSE_NOIPA
#endif

__attribute__((noinline, used)) MCUSPARSE_NOIPA void mcusparse_bench_begin(void)
{
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline, used)) MCUSPARSE_NOIPA void mcusparse_bench_end(void)
{
    __asm__ volatile("" ::: "memory");
}
