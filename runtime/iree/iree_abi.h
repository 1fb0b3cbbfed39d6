/*
 * IREE's executable-library ABI (version 6, IREE 3.13), declared by us.
 *
 * An IREE static library (iree-compile --iree-llvmcpu-link-static
 * --iree-llvmcpu-static-library-output-path=X.o) exports one function,
 * `<name>_library_query(max_version, environment)`, which returns a pointer to
 * a library structure when `max_version` equals the library's version (3.13
 * compares for equality with 6). The library holds a table of exported
 * dispatch functions; each is called once per workgroup:
 *
 *     int fn(const environment *, const dispatch_state *, const workgroup_state *);
 *
 * These declarations are written from the ABI as documented in IREE's public
 * header iree/hal/local/executable_library.h and as emitted by IREE 3.13's
 * LLVMCPU library builder (checked against the LLVM IR it writes: struct types
 * and debug info). Only the fields this harness reads are given names; the
 * rest keep their size and position. The static_asserts pin the layout for
 * 32-bit (MCU) targets; 64-bit layouts follow from natural alignment.
 */
#ifndef MCUSPARSE_IREE_ABI_H
#define MCUSPARSE_IREE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCS_IREE_LIBRARY_VERSION 6u   /* IREE_HAL_EXECUTABLE_LIBRARY_VERSION_0_6 */
#define MCS_IREE_WORKGROUP_LOCAL_MEMORY_PAGE_SIZE 4096u

/* --- what the library describes about itself ------------------------------ */

typedef struct mcs_iree_library_header {
    uint32_t version;       /* must be MCS_IREE_LIBRARY_VERSION */
    const char *name;       /* the executable's name, e.g. "mlp_linked" */
    uint32_t features;      /* required runtime features (none defined) */
    uint32_t sanitizer;     /* 0: none */
} mcs_iree_library_header_t;

typedef struct mcs_iree_dispatch_attrs {
    uint64_t flags;
    uint16_t local_memory_pages;     /* x 4096 bytes of workgroup-local scratch */
    uint8_t constant_count;          /* 4-byte dispatch constants */
    uint8_t binding_count;           /* buffer bindings */
    uint32_t workgroup_size_x;
    uint32_t workgroup_size_y;
    uint16_t workgroup_size_z;
    uint16_t parameter_count;
    uint64_t reserved[5];
} mcs_iree_dispatch_attrs_t;

struct mcs_iree_environment;
struct mcs_iree_dispatch_state;
struct mcs_iree_workgroup_state;

typedef int (*mcs_iree_dispatch_fn_t)(const struct mcs_iree_environment *environment,
                                      const struct mcs_iree_dispatch_state *dispatch_state,
                                      const struct mcs_iree_workgroup_state *workgroup_state);

typedef struct mcs_iree_import_table {
    uint32_t count;                  /* imported functions the library needs */
    const char *const *symbols;
} mcs_iree_import_table_t;

typedef struct mcs_iree_export_table {
    uint32_t count;
    const mcs_iree_dispatch_fn_t *ptrs;       /* one function per export */
    const mcs_iree_dispatch_attrs_t *attrs;   /* optional (NULL: all defaults) */
    const void *params;
    const void *occupancy;
    const char *const *names;                 /* optional export names */
    const char *const *tags;
    const void *parameter_names;
    const void *source_locations;
    const void *stage_locations;
} mcs_iree_export_table_t;

typedef struct mcs_iree_library {
    const mcs_iree_library_header_t *header;
    mcs_iree_import_table_t imports;
    mcs_iree_export_table_t exports;
    struct { uint32_t count; } constants;                    /* executable-level */
    struct { uint32_t count; const void *files; } sources;   /* embedded sources */
} mcs_iree_library_t;

/* --- what the host passes in --------------------------------------------- */

typedef struct mcs_iree_environment {
    const uint32_t *constants;          /* executable-level specialisation constants */
    const void *import_thunk;
    const void *const *import_funcs;
    const void *const *import_contexts;
    uint64_t processor[8];              /* opaque CPU data; zeros: unknown */
} mcs_iree_environment_t;

typedef struct mcs_iree_dispatch_state {
    uint32_t workgroup_size_x;
    uint32_t workgroup_size_y;
    uint16_t workgroup_size_z;
    uint16_t constant_count;
    uint32_t workgroup_count_x;
    uint32_t workgroup_count_y;
    uint16_t workgroup_count_z;
    uint8_t max_concurrency;
    uint8_t binding_count;
    const uint32_t *constants;
    void *const *binding_ptrs;
    const size_t *binding_lengths;
} mcs_iree_dispatch_state_t;

typedef struct mcs_iree_workgroup_state {
    uint32_t workgroup_id_x;
    uint32_t workgroup_id_y;
    uint16_t workgroup_id_z;
    uint16_t reserved;
    uint32_t processor_id;
    void *local_memory;
    uint32_t local_memory_size;
} mcs_iree_workgroup_state_t;

typedef const mcs_iree_library_header_t **(*mcs_iree_library_query_fn_t)(
    uint32_t max_version, const mcs_iree_environment_t *environment);

#if UINTPTR_MAX == 0xffffffffu
_Static_assert(sizeof(mcs_iree_dispatch_attrs_t) == 64, "dispatch attrs: 64 bytes");
_Static_assert(sizeof(mcs_iree_export_table_t) == 40, "export table layout");
_Static_assert(offsetof(mcs_iree_library_t, exports) == 12, "library layout");
_Static_assert(sizeof(mcs_iree_environment_t) == 80, "environment layout");
_Static_assert(sizeof(mcs_iree_dispatch_state_t) == 36, "dispatch state: 288 bits");
_Static_assert(offsetof(mcs_iree_dispatch_state_t, constants) == 24, "dispatch state layout");
_Static_assert(sizeof(mcs_iree_workgroup_state_t) == 24, "workgroup state layout");
#endif

#ifdef __cplusplus
}
#endif

#endif /* MCUSPARSE_IREE_ABI_H */
