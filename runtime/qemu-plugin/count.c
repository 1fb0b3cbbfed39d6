/*
 * mcusparse instruction / weight-traffic counter: a QEMU TCG plugin (API v1, QEMU 7.2).
 *
 * Counts, inside a measured window, the guest instructions executed, the bytes
 * loaded from an address range (the packed weights), and how often each
 * translation block ran. The window opens when the instruction at `begin`
 * executes (the first instruction of an empty, non-inlined marker function)
 * and closes when the instruction at `end` executes. The begin marker's own
 * instructions are inside the window, the end marker's are not.
 *
 * Arguments (QEMU: -plugin libmcusparse_count.so,key=value,...):
 *   begin=ADDR     address of the begin marker (Thumb: without the low bit)
 *   end=ADDR       address of the end marker
 *   wlo=ADDR       weight range [wlo, whi): loaded bytes are counted (optional)
 *   whi=ADDR
 *   windows=first  count only the first begin..end window (default)
 *   windows=all    add up every begin..end window
 *   out=PATH       key=value results, written at exit (default: QEMU's log)
 *   blocks=PATH    per-block counts inside the window, written at exit:
 *                  "start,end,insns,execs,weight_bytes" per line, hex
 *                  addresses, sorted (weight_bytes: loaded from the weight
 *                  range by the block's instructions)
 *
 * Exactness: single vCPU, no asynchronous interrupts in our bare-metal
 * programs, so the counts are deterministic. Blocks without a marker are
 * counted with one callback per block execution (all of a block's
 * instructions run unless an exception leaves it early, which only happens
 * on faults and semihosting traps, outside measured windows). Blocks that
 * contain a marker instruction are counted instruction by instruction, so
 * the window edges are exact wherever the marker sits in the block.
 *
 * Loads are seen through memory callbacks, which QEMU also raises for the
 * element accesses that helper-implemented instructions (MVE, RVV) perform.
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

typedef struct {
    uint64_t start;     /* guest address of the first instruction */
    uint64_t end;       /* one past the last instruction's bytes */
    uint32_t n_insns;
    uint64_t execs;     /* executions inside the window */
    uint64_t w_bytes;   /* weight-range bytes its instructions loaded, inside */
} BlockInfo;

typedef struct {        /* per-instruction record for blocks holding a marker */
    BlockInfo *block;
    uint64_t pc;
    bool first;         /* first instruction of its block */
} MarkerInsn;

static const char *target_name = "?";
static uint64_t begin_pc, end_pc, w_lo, w_hi;
static bool have_begin, have_end, have_weights, all_windows;
static char *out_path, *blocks_path;

static bool active;                   /* inside a window */
static uint64_t windows_opened, windows_closed;
static uint64_t win_insns, total_insns;
static uint64_t w_bytes, w_loads;     /* weight range, inside the window */
static uint64_t ld_count, ld_bytes, st_count, st_bytes;  /* all memory, inside */

static GHashTable *blocks;            /* (start, n) -> BlockInfo */
static GPtrArray *marker_records;

static guint block_hash(gconstpointer p)
{
    const BlockInfo *b = p;
    return g_int64_hash(&b->start) ^ (b->n_insns * 2654435761u);
}

static gboolean block_equal(gconstpointer a, gconstpointer b)
{
    const BlockInfo *x = a, *y = b;
    return x->start == y->start && x->n_insns == y->n_insns;
}

static inline void open_or_close(uint64_t pc)
{
    if (have_begin && pc == begin_pc && !active &&
        (all_windows || windows_opened == 0)) {
        active = true;
        windows_opened++;
    } else if (have_end && pc == end_pc && active) {
        active = false;
        windows_closed++;
    }
}

static void tb_exec(unsigned int vcpu, void *udata)
{
    BlockInfo *b = udata;
    (void)vcpu;
    total_insns += b->n_insns;
    if (active) {
        win_insns += b->n_insns;
        b->execs++;
    }
}

static void marker_insn_exec(unsigned int vcpu, void *udata)
{
    MarkerInsn *m = udata;
    (void)vcpu;
    open_or_close(m->pc);
    total_insns++;
    if (active) {
        win_insns++;
        if (m->first) {
            m->block->execs++;
        }
    }
}

static void mem_access(unsigned int vcpu, qemu_plugin_meminfo_t info,
                       uint64_t vaddr, void *udata)
{
    BlockInfo *b = udata;
    (void)vcpu;
    if (!active) {
        return;
    }
    uint64_t size = 1ull << qemu_plugin_mem_size_shift(info);
    if (qemu_plugin_mem_is_store(info)) {
        st_count++;
        st_bytes += size;
        return;
    }
    ld_count++;
    ld_bytes += size;
    if (have_weights) {
        uint64_t lo = vaddr > w_lo ? vaddr : w_lo;
        uint64_t hi = vaddr + size < w_hi ? vaddr + size : w_hi;
        if (hi > lo) {
            w_loads++;
            w_bytes += hi - lo;
            b->w_bytes += hi - lo;
        }
    }
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    if (n == 0) {
        return;
    }
    struct qemu_plugin_insn *last = qemu_plugin_tb_get_insn(tb, n - 1);
    BlockInfo key = { .start = qemu_plugin_tb_vaddr(tb), .n_insns = (uint32_t)n };
    BlockInfo *b = g_hash_table_lookup(blocks, &key);
    if (!b) {
        b = g_new0(BlockInfo, 1);
        *b = key;
        b->end = qemu_plugin_insn_vaddr(last) + qemu_plugin_insn_size(last);
        g_hash_table_add(blocks, b);
    }

    bool has_marker = false;
    for (size_t i = 0; i < n; i++) {
        uint64_t pc = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, i));
        if ((have_begin && pc == begin_pc) || (have_end && pc == end_pc)) {
            has_marker = true;
        }
    }

    if (has_marker) {
        for (size_t i = 0; i < n; i++) {
            struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
            MarkerInsn *m = g_new0(MarkerInsn, 1);
            m->block = b;
            m->pc = qemu_plugin_insn_vaddr(insn);
            m->first = (i == 0);
            g_ptr_array_add(marker_records, m);
            qemu_plugin_register_vcpu_insn_exec_cb(insn, marker_insn_exec,
                                                   QEMU_PLUGIN_CB_NO_REGS, m);
        }
    } else {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, b);
    }

    for (size_t i = 0; i < n; i++) {
        qemu_plugin_register_vcpu_mem_cb(qemu_plugin_tb_get_insn(tb, i), mem_access,
                                         QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW,
                                         b);
    }
}

static gint block_cmp(gconstpointer a, gconstpointer b)
{
    const BlockInfo *x = *(BlockInfo *const *)a, *y = *(BlockInfo *const *)b;
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    return (int)x->n_insns - (int)y->n_insns;
}

static void write_results(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    GPtrArray *used = g_ptr_array_new();
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, blocks);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        BlockInfo *b = k;
        if (b->execs) {
            g_ptr_array_add(used, b);
        }
    }
    g_ptr_array_sort(used, block_cmp);

    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "plugin=mcusparse_count\nversion=1\ntarget=%s\n", target_name);
    if (have_begin) {
        g_string_append_printf(s, "begin=0x%" PRIx64 "\n", begin_pc);
    }
    if (have_end) {
        g_string_append_printf(s, "end=0x%" PRIx64 "\n", end_pc);
    }
    g_string_append_printf(s, "windows_opened=%" PRIu64 "\nwindows_closed=%" PRIu64 "\n"
                           "window_open_at_exit=%d\n",
                           windows_opened, windows_closed, active ? 1 : 0);
    g_string_append_printf(s, "instructions=%" PRIu64 "\ntotal_instructions=%" PRIu64 "\n",
                           win_insns, total_insns);
    if (have_weights) {
        g_string_append_printf(s, "weights_lo=0x%" PRIx64 "\nweights_hi=0x%" PRIx64 "\n",
                               w_lo, w_hi);
    }
    g_string_append_printf(s, "weight_bytes_read=%" PRIu64 "\nweight_loads=%" PRIu64 "\n",
                           w_bytes, w_loads);
    g_string_append_printf(s, "loads=%" PRIu64 "\nload_bytes=%" PRIu64 "\n"
                           "stores=%" PRIu64 "\nstore_bytes=%" PRIu64 "\n",
                           ld_count, ld_bytes, st_count, st_bytes);
    g_string_append_printf(s, "blocks=%u\n", used->len);

    if (out_path) {
        FILE *f = fopen(out_path, "w");
        if (f) {
            fputs(s->str, f);
            fclose(f);
        } else {
            qemu_plugin_outs("mcusparse_count: cannot write out= file\n");
        }
    } else {
        qemu_plugin_outs(s->str);
    }

    if (blocks_path) {
        FILE *f = fopen(blocks_path, "w");
        if (f) {
            fputs("# start,end,insns,execs,weight_bytes (inside the measured window)\n", f);
            for (guint i = 0; i < used->len; i++) {
                BlockInfo *b = g_ptr_array_index(used, i);
                fprintf(f, "0x%" PRIx64 ",0x%" PRIx64 ",%u,%" PRIu64 ",%" PRIu64 "\n",
                        b->start, b->end, b->n_insns, b->execs, b->w_bytes);
            }
            fclose(f);
        } else {
            qemu_plugin_outs("mcusparse_count: cannot write blocks= file\n");
        }
    }
    g_string_free(s, TRUE);
    g_ptr_array_free(used, TRUE);
}

static bool parse_addr(const char *val, uint64_t *out)
{
    char *endp;
    errno = 0;
    unsigned long long v = strtoull(val, &endp, 0);
    if (*val == '\0' || *endp != '\0') {
        return false;
    }
    *out = v;
    return true;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    target_name = g_strdup(info->target_name);
    if (info->system_emulation && info->system.smp_vcpus > 1) {
        /* one window and plain counters assume one vCPU (user mode: one thread) */
        fprintf(stderr, "mcusparse_count: needs a single vCPU\n");
        return -1;
    }
    bool have_wlo = false, have_whi = false;
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "mcusparse_count: bad argument '%s' (want key=value)\n", argv[i]);
            return -1;
        }
        size_t klen = (size_t)(eq - argv[i]);
        const char *val = eq + 1;
        bool ok = true;
        if (klen == 5 && !strncmp(argv[i], "begin", 5)) {
            ok = parse_addr(val, &begin_pc);
            have_begin = ok;
        } else if (klen == 3 && !strncmp(argv[i], "end", 3)) {
            ok = parse_addr(val, &end_pc);
            have_end = ok;
        } else if (klen == 3 && !strncmp(argv[i], "wlo", 3)) {
            ok = have_wlo = parse_addr(val, &w_lo);
        } else if (klen == 3 && !strncmp(argv[i], "whi", 3)) {
            ok = have_whi = parse_addr(val, &w_hi);
        } else if (klen == 7 && !strncmp(argv[i], "windows", 7)) {
            if (!strcmp(val, "all")) {
                all_windows = true;
            } else if (strcmp(val, "first")) {
                ok = false;
            }
        } else if (klen == 3 && !strncmp(argv[i], "out", 3)) {
            out_path = g_strdup(val);
        } else if (klen == 6 && !strncmp(argv[i], "blocks", 6)) {
            blocks_path = g_strdup(val);
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "mcusparse_count: bad argument '%s'\n", argv[i]);
            return -1;
        }
    }
    if (have_wlo != have_whi) {
        fprintf(stderr, "mcusparse_count: give both wlo= and whi=\n");
        return -1;
    }
    have_weights = have_wlo && have_whi;
    if (have_weights && w_hi < w_lo) {
        fprintf(stderr, "mcusparse_count: whi < wlo\n");
        return -1;
    }
    if (have_begin && have_end && begin_pc == end_pc) {
        fprintf(stderr, "mcusparse_count: begin and end are the same address\n");
        return -1;
    }
    blocks = g_hash_table_new(block_hash, block_equal);
    marker_records = g_ptr_array_new();
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, write_results, NULL);
    return 0;
}
