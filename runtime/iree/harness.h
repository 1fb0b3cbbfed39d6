/*
 * The bare-metal IREE harness: runs a module compiled by iree-compile to a
 * static library (the executables) plus a plan (the host side).
 *
 * mcusparse.iree.static extracts the plan from the module's HAL-phase IR
 * (the ops the VM would execute: dispatches with their workgroup counts,
 * constants and buffer bindings; buffer fills and copies) and writes it as C:
 * the buffers become statically allocated arrays (inputs initialised with
 * their values, weights in the .weights section; transients and results in
 * .bss) and every op refers to them by address. harness.c then
 *
 *   1. queries each library (`<name>_library_query(6, &env)`), checks its
 *      version and that it needs no imports, and resolves each dispatch's
 *      export by name (outside the measured window);
 *   2. between mcusparse_bench_begin() and mcusparse_bench_end() runs the ops
 *      in module order, calling each export once per workgroup (z, y, x);
 *   3. prints each result buffer as hex through semihosting:
 *        "mcs-iree-output <index> <bytes>" then lines of up to 32 bytes
 *      and "mcs-iree-done".
 *
 * No allocation happens in the dispatches or the harness.
 */
#ifndef MCUSPARSE_IREE_HARNESS_H
#define MCUSPARSE_IREE_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "iree_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { MCS_IREE_OP_DISPATCH = 1, MCS_IREE_OP_FILL = 2, MCS_IREE_OP_COPY = 3 };

typedef struct mcs_iree_library_ref {
    const char *name;                       /* "<name>" of <name>_library_query */
    mcs_iree_library_query_fn_t query;
} mcs_iree_library_ref_t;

typedef struct mcs_iree_op {
    uint8_t kind;                           /* MCS_IREE_OP_* */
    /* dispatch */
    uint8_t library;                        /* index into mcs_iree_libraries */
    const char *export_name;                /* resolved to an ordinal at start-up */
    uint32_t workgroup_count[3];
    uint16_t constant_count;
    const uint32_t *constants;
    uint8_t binding_count;
    void *const *binding_ptrs;
    const size_t *binding_lengths;
    /* fill / copy */
    uint8_t *target;
    const uint8_t *source;
    uint32_t length;
    uint32_t pattern;
    uint8_t pattern_length;                 /* 1, 2 or 4 */
} mcs_iree_op_t;

typedef struct mcs_iree_output {
    const uint8_t *data;
    uint32_t length;
} mcs_iree_output_t;

/* Defined by the generated plan (plan.c). */
extern const mcs_iree_library_ref_t mcs_iree_libraries[];
extern const uint32_t mcs_iree_library_count;
extern const mcs_iree_op_t mcs_iree_ops[];
extern const uint32_t mcs_iree_op_count;
extern const mcs_iree_output_t mcs_iree_outputs[];
extern const uint32_t mcs_iree_output_count;
extern const char mcs_iree_module_name[];

/* Exit codes of the harness (besides 0). */
#define MCS_IREE_EXIT_QUERY 10      /* a library query returned NULL (version mismatch) */
#define MCS_IREE_EXIT_EXPORT 11     /* an export named in the plan is not in the library */
#define MCS_IREE_EXIT_ABI 12        /* imports, local memory or a binding count we cannot serve */
#define MCS_IREE_EXIT_DISPATCH 13   /* a workgroup returned non-zero */

#ifdef __cplusplus
}
#endif

#endif /* MCUSPARSE_IREE_HARNESS_H */
