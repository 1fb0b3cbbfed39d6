/*
 * Harness of mcusparse.kernels.spmv: calls one lowered kernel between the
 * benchmark markers and prints y.
 *
 * spmv_config.h is generated next to the program's data file (see
 * python/mcusparse/kernels.py): it declares the packed weight arrays (in
 * .weights), x, y (zero-initialised, the kernel accumulates into it) and
 * MCUSPARSE_CALL(), the call of `kernel(buffers..., x, y)`. Nothing is read
 * from the host: all data is linked in.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "spmv_config.h"

int main(void)
{
    mcusparse_bench_begin();
    MCUSPARSE_CALL();
    mcusparse_bench_end();
    printf("y:");
    for (int i = 0; i < MCUSPARSE_ROWS; i++) {
#ifdef MCUSPARSE_Y_FLOAT
        /* float32 y as bit patterns: the host reads the exact values. */
        uint32_t bits;
        memcpy(&bits, &mcusparse_y[i], sizeof bits);
        printf(" %lu", (unsigned long)bits);
#else
        printf(" %ld", (long)mcusparse_y[i]);
#endif
    }
    printf("\n");
    return 0;
}
