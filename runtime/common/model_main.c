/*
 * Harness of a compiled network (mcusparse.compiler): calls the model's entry
 * point once between the benchmark markers and prints every output.
 *
 * model_config.h is generated next to the program's input data (see
 * python/mcusparse/compiler/program.py): it declares the inputs (linked in,
 * nothing is read from the host), the zero-initialised outputs, and
 * MCUSPARSE_MODEL_CALL(), the call of
 *     void mcusparse_model(const T *in0, ..., T *out0, ...);
 * and MCUSPARSE_MODEL_OUTPUTS(X), which expands X(index, array, bytes) per
 * output. Outputs are printed as hex bytes, so every element type round-trips
 * exactly:
 *     mcs-out <index> <bytes>
 *     <hex, 32 bytes per line>
 *     mcs-done
 */
#include <stdint.h>
#include <stdio.h>

#include "bench.h"
#include "model_config.h"

static void print_bytes(int index, const void *data, unsigned long n)
{
    const uint8_t *p = (const uint8_t *)data;
    printf("mcs-out %d %lu\n", index, n);
    for (unsigned long i = 0; i < n; i++) {
        printf("%02x", p[i]);
        if (i % 32 == 31 || i + 1 == n)
            printf("\n");
    }
}

#define MCUSPARSE_PRINT_OUTPUT(index, array, bytes) print_bytes(index, array, bytes);

int main(void)
{
    mcusparse_bench_begin();
    MCUSPARSE_MODEL_CALL();
    mcusparse_bench_end();
    MCUSPARSE_MODEL_OUTPUTS(MCUSPARSE_PRINT_OUTPUT)
    printf("mcs-done\n");
    return 0;
}
