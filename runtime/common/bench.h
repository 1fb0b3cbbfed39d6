/*
 * Benchmark markers and weight placement for mcusparse programs.
 *
 *   mcusparse_bench_begin();   // the counting plugin opens its window here
 *   kernel(...);
 *   mcusparse_bench_end();     // ... and closes it here
 *
 * The markers are empty, never inlined, and contain a compiler barrier, so
 * they survive every optimisation level and memory operations are not moved
 * across them. The plugin is given their addresses (from the ELF symbol
 * table); it counts instructions from the first instruction of
 * mcusparse_bench_begin up to, not including, the first instruction of
 * mcusparse_bench_end. The window therefore includes a constant overhead of a
 * few instructions (the begin marker's return and the call of the end
 * marker); measure an empty window to know it.
 *
 * MCUSPARSE_WEIGHTS places a constant array in the .weights section, which the
 * linker scripts put in its own memory range between __weights_start and
 * __weights_end; the plugin counts the bytes loaded from that range.
 */
#ifndef MCUSPARSE_BENCH_H
#define MCUSPARSE_BENCH_H

#ifdef __cplusplus
extern "C" {
#endif

void mcusparse_bench_begin(void);
void mcusparse_bench_end(void);

#define MCUSPARSE_WEIGHTS __attribute__((section(".weights"), aligned(16)))

extern const char __weights_start[];
extern const char __weights_end[];

#ifdef __cplusplus
}
#endif

#endif /* MCUSPARSE_BENCH_H */
