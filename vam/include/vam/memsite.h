/*
 * Memory sites: the loads and stores of page-table entries (and device
 * registers) that afterburn-cparse annotated (AB_NOTE_TYPE_MEMSITES, see
 * afterburner/cparse/README.md), and what the VAM does with them.
 *
 * Each site is one register-indirect instruction, `mov`/`or`/`and`/`xor`/
 * `add`/`sub` between a general register and (%base), padded with NOPs to at
 * least 7 bytes.  The VAM rewrites page-table *writes* (pt_write, pt_rmw)
 * into `call rel32` to a logging stub that performs the very same
 * instruction and appends the entry's address to a write log the VAM reads
 * before every address-space switch (vam/cpu/shadow.h: page-table
 * tracking).  Reads need nothing: the VAM keeps guest page tables in the
 * guest's own format.
 */
#ifndef VAM_MEMSITE_H
#define VAM_MEMSITE_H

#include <stddef.h>
#include <stdint.h>

#include "vam/error.h"
#include "vam/loader.h"
#include "vam/rewrite.h"

enum vam_memop { VAM_MEMOP_LOAD = 1, VAM_MEMOP_STORE, VAM_MEMOP_RMW };

struct vam_memsite {
    uint64_t addr;
    uint32_t record;            /* index among the memory-site records, in note order */
    uint8_t kind;               /* enum ab_mem_kind */
    uint8_t len;                /* site bytes (instruction + NOPs) */
    uint8_t width;              /* access bytes: 1, 2, 4, 8 */
    uint8_t flags;              /* AB_MEMREC_* */
    /* from the instruction (vam_memsite_decode) */
    uint8_t insn_len;
    uint8_t op;                 /* enum vam_memop */
    uint8_t base;               /* address register, 0-15 (never %rsp) */
    uint8_t reg;                /* 64-bit register holding the value (ah..bh: rax..rbx) */
};

/*
 * Reads and validates every memory-site record of a guest vam_load accepted
 * (same note rules: format and pad-ABI versions, header, records): kind
 * known, mode 64-bit, insn_off 0, width and flags valid, reserved 0, at
 * least 7 bytes inside the file-backed part of one executable PT_LOAD, the
 * instruction one the kind allows (vam_memsite_decode) followed by NOPs, no
 * overlap with another memory site or a sensitive-instruction site.  buf
 * (cap entries) receives them sorted by address; *n = how many records
 * (also on VAM_ERR_NOSPACE).  An image without memory sites gives 0.
 */
enum vam_status vam_load_memsites(const struct vam_guest *g, struct vam_memsite *buf,
                                  size_t cap, size_t *n, struct vam_error *e);

/*
 * Decodes a memory site's instruction from bytes[0..len) into m (op, base,
 * reg, insn_len) and checks it against m->kind and m->width and that the
 * rest is NOPs.  NULL when valid, else what is wrong.
 */
const char *vam_memsite_decode(const uint8_t *bytes, unsigned len, struct vam_memsite *m);

/* The page-table write log the stubs append to (guest-visible, writable). */
struct vam_memlog_layout {
    uint64_t count_va;          /* uint32_t: entries ever appended */
    uint64_t entries_va;        /* uint64_t[mask + 1]: entry addresses, ring */
    uint32_t mask;              /* ring size - 1 (a power of two minus 1) */
};

#define VAM_MEMSTUB_SIZE 48     /* bytes per logging stub */

struct vam_memsite_rewrite_stats {
    unsigned rewritten;         /* pt_write and pt_rmw sites now calling a stub */
    unsigned stubs;             /* distinct stubs (one per distinct instruction) */
    unsigned untouched;         /* reads and device sites */
};

/*
 * Rewrites the page-table write sites (pt_write, pt_rmw) of sites[0..n):
 * each becomes `call rel32` to a stub in stub_area (stub_size bytes,
 * guest-visible at stub_va, within +-2 GiB of every site) that does
 *   push %s; mov $1,%s; xadd %s,count; and $mask,%s;
 *   <the site's instruction>; mov %base,entries(,%s,8); pop %s; ret
 * (%s a scratch register the instruction does not use), then NOPs.  Sites
 * with identical instructions share a stub.  All sites are planned and
 * checked (map() must return their writable bytes, which must still hold
 * the image's bytes) before any is written; each write is read back.
 * Errors name the site.  Interrupts must not be delivered while the guest
 * runs in a stub (the log is then never seen half-written).
 */
enum vam_status vam_memsites_rewrite(const struct vam_guest *g, const struct vam_memsite *sites,
                                     size_t n, vam_map_fn map, void *ctx, uint8_t *stub_area,
                                     size_t stub_size, uint64_t stub_va,
                                     const struct vam_memlog_layout *log,
                                     struct vam_memsite_rewrite_stats *st, struct vam_error *e);

#endif
