/*
 * Bare-metal runner for IREE static libraries: see harness.h.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "harness.h"

#ifndef MCS_IREE_MAX_LIBRARIES
#define MCS_IREE_MAX_LIBRARIES 8
#endif
#ifndef MCS_IREE_MAX_OPS
#define MCS_IREE_MAX_OPS 256
#endif
/* Workgroup-local scratch offered to dispatches that ask for it (bytes). */
#ifndef MCS_IREE_LOCAL_MEMORY_BYTES
#define MCS_IREE_LOCAL_MEMORY_BYTES 0
#endif

#if MCS_IREE_LOCAL_MEMORY_BYTES > 0
static uint8_t local_memory[MCS_IREE_LOCAL_MEMORY_BYTES] __attribute__((aligned(64)));
#define LOCAL_MEMORY local_memory
#else
#define LOCAL_MEMORY NULL
#endif

/* One environment for every dispatch: no constants, no imports, unknown CPU. */
static const mcs_iree_environment_t environment;

static const mcs_iree_library_t *libraries[MCS_IREE_MAX_LIBRARIES];

/* Per op, resolved before the measured window. */
static mcs_iree_dispatch_fn_t op_fn[MCS_IREE_MAX_OPS];
static mcs_iree_dispatch_state_t op_state[MCS_IREE_MAX_OPS];
static uint32_t op_local_bytes[MCS_IREE_MAX_OPS];

static int fail(int code, const char *what, const char *name)
{
    printf("mcs-iree-error %s: %s%s%s\n", mcs_iree_module_name, what, name ? " " : "",
           name ? name : "");
    return code;
}

static int prepare(void)
{
    if (mcs_iree_library_count > MCS_IREE_MAX_LIBRARIES || mcs_iree_op_count > MCS_IREE_MAX_OPS)
        return fail(MCS_IREE_EXIT_ABI, "too many libraries or ops for the harness", NULL);
    for (uint32_t i = 0; i < mcs_iree_library_count; i++) {
        const mcs_iree_library_header_t **h =
            mcs_iree_libraries[i].query(MCS_IREE_LIBRARY_VERSION, &environment);
        if (h == NULL || *h == NULL || (*h)->version != MCS_IREE_LIBRARY_VERSION)
            return fail(MCS_IREE_EXIT_QUERY,
                        "library query returned no version-6 library for",
                        mcs_iree_libraries[i].name);
        const mcs_iree_library_t *lib = (const mcs_iree_library_t *)h;
        if (lib->imports.count != 0)
            return fail(MCS_IREE_EXIT_ABI, "library needs imported functions:",
                        lib->imports.symbols ? lib->imports.symbols[0] : "?");
        if (lib->exports.names == NULL)
            return fail(MCS_IREE_EXIT_ABI, "library has no export names:", mcs_iree_libraries[i].name);
        libraries[i] = lib;
    }
    for (uint32_t k = 0; k < mcs_iree_op_count; k++) {
        const mcs_iree_op_t *op = &mcs_iree_ops[k];
        if (op->kind != MCS_IREE_OP_DISPATCH)
            continue;
        const mcs_iree_library_t *lib = libraries[op->library];
        uint32_t e = 0;
        while (e < lib->exports.count && strcmp(lib->exports.names[e], op->export_name) != 0)
            e++;
        if (e == lib->exports.count)
            return fail(MCS_IREE_EXIT_EXPORT, "export not found:", op->export_name);
        const mcs_iree_dispatch_attrs_t *a = lib->exports.attrs ? &lib->exports.attrs[e] : NULL;
        mcs_iree_dispatch_state_t *s = &op_state[k];
        memset(s, 0, sizeof *s);
        s->workgroup_size_x = a && a->workgroup_size_x ? a->workgroup_size_x : 1;
        s->workgroup_size_y = a && a->workgroup_size_y ? a->workgroup_size_y : 1;
        s->workgroup_size_z = a && a->workgroup_size_z ? a->workgroup_size_z : 1;
        s->constant_count = op->constant_count;
        s->workgroup_count_x = op->workgroup_count[0];
        s->workgroup_count_y = op->workgroup_count[1];
        s->workgroup_count_z = (uint16_t)op->workgroup_count[2];
        s->max_concurrency = 1;
        s->binding_count = op->binding_count;
        s->constants = op->constants;
        s->binding_ptrs = op->binding_ptrs;
        s->binding_lengths = op->binding_lengths;
        if (a && (a->binding_count != op->binding_count || a->constant_count != op->constant_count)) {
            printf("mcs-iree-error %s: %s expects %u bindings / %u constants, the plan has %u / %u\n",
                   mcs_iree_module_name, op->export_name, a->binding_count, a->constant_count,
                   op->binding_count, op->constant_count);
            return MCS_IREE_EXIT_ABI;
        }
        uint32_t local = a ? (uint32_t)a->local_memory_pages * MCS_IREE_WORKGROUP_LOCAL_MEMORY_PAGE_SIZE : 0;
        if (local > MCS_IREE_LOCAL_MEMORY_BYTES) {
            printf("mcs-iree-error %s: %s needs local_memory_bytes=%lu (harness has %lu)\n",
                   mcs_iree_module_name, op->export_name, (unsigned long)local,
                   (unsigned long)MCS_IREE_LOCAL_MEMORY_BYTES);
            return MCS_IREE_EXIT_ABI;
        }
        op_local_bytes[k] = local;
        op_fn[k] = lib->exports.ptrs[e];
    }
    return 0;
}

/* Buffer fill (e.g. zeroing an output our kernels accumulate into). Word stores when
 * the range is word aligned: picolibc's memset is the size-optimised byte loop. The
 * attribute keeps GCC from turning the loop back into a memset call. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static void fill(uint8_t *dst, uint32_t length, uint32_t pattern, uint8_t plen)
{
    uint32_t word = plen == 1 ? (pattern & 0xffu) * 0x01010101u
                  : plen == 2 ? (pattern & 0xffffu) * 0x00010001u : pattern;
    uint32_t i = 0;
    if (((uintptr_t)dst & 3u) == 0) {
        uint32_t *w = (uint32_t *)dst;
        uint32_t n = length / 4;
        for (uint32_t j = 0; j < n; j++)
            w[j] = word;
        i = 4 * n;
    }
    for (; i < length; i++)
        dst[i] = (uint8_t)(word >> (8 * (i & 3u)));   /* little-endian pattern */
}

/* The measured part: every op of the module in order. */
static mcs_iree_workgroup_state_t wg;   /* zero-initialised; ids set per workgroup */

static int execute(void)
{
    for (uint32_t k = 0; k < mcs_iree_op_count; k++) {
        const mcs_iree_op_t *op = &mcs_iree_ops[k];
        if (op->kind == MCS_IREE_OP_FILL) {
            fill(op->target, op->length, op->pattern, op->pattern_length);
            continue;
        }
        if (op->kind == MCS_IREE_OP_COPY) {
            memmove(op->target, op->source, op->length);
            continue;
        }
        const mcs_iree_dispatch_state_t *s = &op_state[k];
        mcs_iree_dispatch_fn_t fn = op_fn[k];
        wg.local_memory = op_local_bytes[k] ? LOCAL_MEMORY : NULL;
        wg.local_memory_size = op_local_bytes[k] ? MCS_IREE_LOCAL_MEMORY_BYTES : 0;
        for (uint32_t z = 0; z < s->workgroup_count_z; z++) {
            wg.workgroup_id_z = (uint16_t)z;
            for (uint32_t y = 0; y < s->workgroup_count_y; y++) {
                wg.workgroup_id_y = y;
                for (uint32_t x = 0; x < s->workgroup_count_x; x++) {
                    wg.workgroup_id_x = x;
                    int rc = fn(&environment, s, &wg);
                    if (rc != 0)
                        return (int)k + 1;
                }
            }
        }
    }
    return 0;
}

static void print_outputs(void)
{
    static const char hex[] = "0123456789abcdef";
    char line[2 * 32 + 2];
    for (uint32_t i = 0; i < mcs_iree_output_count; i++) {
        const mcs_iree_output_t *o = &mcs_iree_outputs[i];
        printf("mcs-iree-output %lu %lu\n", (unsigned long)i, (unsigned long)o->length);
        for (uint32_t off = 0; off < o->length; off += 32) {
            uint32_t n = o->length - off < 32 ? o->length - off : 32;
            for (uint32_t j = 0; j < n; j++) {
                line[2 * j] = hex[o->data[off + j] >> 4];
                line[2 * j + 1] = hex[o->data[off + j] & 15];
            }
            line[2 * n] = '\n';
            line[2 * n + 1] = 0;
            fputs(line, stdout);
        }
    }
    printf("mcs-iree-done\n");
}

int main(void)
{
    int rc = prepare();
    if (rc != 0)
        return rc;
    mcusparse_bench_begin();
    int failed = execute();
    mcusparse_bench_end();
    if (failed) {
        const mcs_iree_op_t *op = &mcs_iree_ops[failed - 1];
        return fail(MCS_IREE_EXIT_DISPATCH, "a workgroup returned non-zero in", op->export_name);
    }
    print_outputs();
    return 0;
}
