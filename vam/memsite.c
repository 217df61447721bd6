/*
 * Memory sites (include/vam/memsite.h): the instruction decoder for the
 * accesses afterburn-cparse writes, and the rewrite of page-table writes
 * into calls of logging stubs.
 */
#include <vam/memsite.h>
#include <vam/decode.h>
#include <vam/lib.h>

#include <afterburn/abi.h>

enum { R_RAX, R_RCX, R_RDX, R_RBX, R_RSP, R_RBP };

static bool kind_allows(unsigned kind, unsigned op)
{
    switch (kind) {
    case AB_MEM_PT_READ:
    case AB_MEM_DEV_READ:
        return op == VAM_MEMOP_LOAD;
    case AB_MEM_PT_WRITE:
    case AB_MEM_DEV_WRITE:
        return op == VAM_MEMOP_STORE;
    case AB_MEM_PT_RMW:
    case AB_MEM_DEV_RMW:
        return op == VAM_MEMOP_RMW;
    default:
        return false;
    }
}

const char *vam_memsite_decode(const uint8_t *b, unsigned len, struct vam_memsite *m)
{
    unsigned i = 0;
    bool opsize = false;
    uint8_t rex = 0;
    if (i < len && b[i] == 0x66) {
        opsize = true;
        i++;
    }
    if (i < len && (b[i] & 0xf0) == 0x40)
        rex = b[i++];
    if (i + 2 > len)
        return "instruction cut off by the end of the site";
    uint8_t opc = b[i++];
    unsigned op;
    switch (opc & ~1u) {
    case 0x88: op = VAM_MEMOP_STORE; break;
    case 0x8a: op = VAM_MEMOP_LOAD; break;
    case 0x00: case 0x08: case 0x20: case 0x28: case 0x30: op = VAM_MEMOP_RMW; break;
    default: return "not a mov, or, and, xor, add or sub between a register and memory";
    }
    bool byte = !(opc & 1);
    if (byte && (opsize || (rex & 8)))
        return "byte operation with an operand-size prefix or REX.W";
    if (opsize && (rex & 8))
        return "both 66 and REX.W";
    unsigned width = byte ? 1 : (rex & 8) ? 8 : opsize ? 2 : 4;
    if (width != m->width)
        return m->width == 0 ? "no width in the record" : "access width differs from the record";
    if (!kind_allows(m->kind, op))
        return "the instruction's direction (load, store, read-modify-write) is not the kind's";
    uint8_t modrm = b[i++];
    unsigned mod = modrm >> 6, reg = ((modrm >> 3) & 7) | ((rex & 4) ? 8u : 0u), rm = modrm & 7;
    unsigned base;
    if (mod == 3)
        return "register operand where memory was expected";
    if (mod == 2)
        return "memory operand with a 32-bit displacement (expected (%reg))";
    if (rm == 4) {
        if (i >= len)
            return "instruction cut off by the end of the site";
        uint8_t sib = b[i++];
        if (((sib >> 3) & 7) != 4 || (rex & 2))
            return "memory operand with an index register (expected (%reg))";
        if ((sib & 7) == 5 && mod == 0)
            return "absolute memory operand (expected (%reg))";
        base = (sib & 7) | ((rex & 1) ? 8u : 0u);
    } else {
        if (rm == 5 && mod == 0)
            return "RIP-relative memory operand (expected (%reg))";
        base = rm | ((rex & 1) ? 8u : 0u);
    }
    if (mod == 1) {
        if (i >= len)
            return "instruction cut off by the end of the site";
        if (b[i++] != 0)
            return "memory operand with a displacement (expected (%reg))";
    }
    if (base == R_RSP)
        return "memory operand based on %rsp";
    if (byte && !rex && reg >= 4)
        reg -= 4;               /* %ah, %ch, %dh, %bh */
    if (reg == R_RSP)           /* %rsp/%esp/%sp/%spl: the stub's call and push move it */
        return "value register %rsp";
    size_t bad;
    if (!vam_is_nops(b + i, len - i, &bad))
        return "padding after the instruction is not NOPs";
    m->op = (uint8_t)op;
    m->base = (uint8_t)base;
    m->reg = (uint8_t)reg;
    m->insn_len = (uint8_t)i;
    return NULL;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Writes the logging stub for site m (instruction bytes insn) at p;
 * returns its length. */
static unsigned build_stub(uint8_t *p, const struct vam_memsite *m, const uint8_t *insn,
                           const struct vam_memlog_layout *log)
{
    unsigned s = R_RAX;
    while (s == m->base || s == m->reg)
        s++;                    /* rax, rcx or rdx: two registers cannot take all three */
    unsigned n = 0;
    p[n++] = (uint8_t)(0x50 + s);                                   /* push %s */
    p[n++] = (uint8_t)(0xb8 + s);                                   /* mov $1, %s32 */
    put32(p + n, 1);
    n += 4;
    p[n++] = 0x0f, p[n++] = 0xc1;                                   /* xadd %s32, count */
    p[n++] = (uint8_t)((s << 3) | 4), p[n++] = 0x25;
    put32(p + n, (uint32_t)log->count_va);
    n += 4;
    p[n++] = 0x81, p[n++] = (uint8_t)(0xe0 | s);                    /* and $mask, %s32 */
    put32(p + n, log->mask);
    n += 4;
    memcpy(p + n, insn, m->insn_len);                               /* the access itself */
    n += m->insn_len;
    p[n++] = (uint8_t)(0x48 | (m->base >= 8 ? 4 : 0));              /* mov %base, entries(,%s,8) */
    p[n++] = 0x89;
    p[n++] = (uint8_t)(((m->base & 7) << 3) | 4);
    p[n++] = (uint8_t)((3 << 6) | (s << 3) | 5);
    put32(p + n, (uint32_t)log->entries_va);
    n += 4;
    p[n++] = (uint8_t)(0x58 + s);                                   /* pop %s */
    p[n++] = 0xc3;                                                  /* ret */
    return n;
}

static bool logged_kind(unsigned kind)
{
    return kind == AB_MEM_PT_WRITE || kind == AB_MEM_PT_RMW;
}

static bool fits_disp32(uint64_t a)
{
    return (uint64_t)(int64_t)(int32_t)(uint32_t)a == a;
}

/* The stub for m's instruction: an existing one with the same bytes, or a new one.
 * Returns its offset in the area, or -1 when the area is full. */
static long stub_for(const struct vam_memsite *m, const uint8_t *insn, uint8_t *area,
                     size_t size, unsigned *nstubs, const struct vam_memlog_layout *log)
{
    uint8_t want[VAM_MEMSTUB_SIZE];
    memset(want, 0xcc, sizeof want);
    build_stub(want, m, insn, log);
    for (unsigned k = 0; k < *nstubs; k++)
        if (memcmp(area + (size_t)k * VAM_MEMSTUB_SIZE, want, VAM_MEMSTUB_SIZE) == 0)
            return (long)k * VAM_MEMSTUB_SIZE;
    if ((size_t)(*nstubs + 1) * VAM_MEMSTUB_SIZE > size)
        return -1;
    memcpy(area + (size_t)*nstubs * VAM_MEMSTUB_SIZE, want, VAM_MEMSTUB_SIZE);
    return (long)(*nstubs)++ * VAM_MEMSTUB_SIZE;
}

static enum vam_status site_fail(struct vam_error *e, enum vam_status code,
                                 const struct vam_memsite *m, const char *what)
{
    return vam_fail(e, code, "memory site 0x%llx (%s, memory record %u): %s",
                    (unsigned long long)m->addr, ab_mem_kind_name(m->kind), m->record, what);
}

enum vam_status vam_memsites_rewrite(const struct vam_guest *g, const struct vam_memsite *sites,
                                     size_t n, vam_map_fn map, void *ctx, uint8_t *stub_area,
                                     size_t stub_size, uint64_t stub_va,
                                     const struct vam_memlog_layout *log,
                                     struct vam_memsite_rewrite_stats *st, struct vam_error *e)
{
    memset(st, 0, sizeof *st);
    if (!fits_disp32(log->count_va) || !fits_disp32(log->entries_va) ||
        (log->mask & (log->mask + 1)) != 0)
        return vam_fail(e, VAM_ERR_REWRITE, "memory-site log at 0x%llx/0x%llx (mask 0x%x): not "
                        "reachable with a disp32, or the ring size is not a power of two",
                        (unsigned long long)log->count_va, (unsigned long long)log->entries_va,
                        log->mask);
    memset(stub_area, 0xcc, stub_size);
    unsigned nstubs = 0;
    /* plan and check everything first: nothing is written unless all sites can be */
    for (size_t i = 0; i < n; i++) {
        const struct vam_memsite *m = &sites[i];
        if (!logged_kind(m->kind)) {
            st->untouched++;
            continue;
        }
        const uint8_t *orig = vam_guest_bytes(g, m->addr, m->len);
        uint8_t *mem = map(ctx, m->addr, m->len);
        if (m->len < 5)
            return site_fail(e, VAM_ERR_PAD, m, "shorter than a call rel32");
        if (!orig || !mem)
            return site_fail(e, VAM_ERR_PLACE, m, "its bytes are not mapped");
        if (memcmp(orig, mem, m->len) != 0)
            return site_fail(e, VAM_ERR_MEMORY, m,
                             "guest memory differs from the image (rewritten twice?)");
        long off = stub_for(m, orig, stub_area, stub_size, &nstubs, log);
        if (off < 0)
            return site_fail(e, VAM_ERR_TABLE, m, "no room for another logging stub");
        int64_t rel = (int64_t)(stub_va + (uint64_t)off - (m->addr + 5));
        if (rel != (int64_t)(int32_t)rel)
            return site_fail(e, VAM_ERR_PLACE, m, "the logging stubs are out of call rel32 reach");
    }
    for (size_t i = 0; i < n; i++) {
        const struct vam_memsite *m = &sites[i];
        if (!logged_kind(m->kind))
            continue;
        const uint8_t *orig = vam_guest_bytes(g, m->addr, m->len);
        uint8_t *mem = map(ctx, m->addr, m->len);
        long off = stub_for(m, orig, stub_area, stub_size, &nstubs, log);
        uint8_t site[UINT8_MAX];        /* any m->len */
        site[0] = 0xe8;
        put32(site + 1, (uint32_t)(int32_t)(int64_t)(stub_va + (uint64_t)off - (m->addr + 5)));
        vam_fill_nops(site + 5, m->len - 5u);
        memcpy(mem, site, m->len);
        if (memcmp(mem, site, m->len) != 0)
            return site_fail(e, VAM_ERR_REWRITE, m, "the rewritten bytes did not stick");
        st->rewritten++;
    }
    st->stubs = nstubs;
    return VAM_OK;
}
