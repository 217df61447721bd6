/*
 * Segment descriptors, LDTR and TR (include/vam/desc.h).
 */
#include "vam/desc.h"
#include "vam/walk.h"
#include "cpu-internal.h"

static struct vam_event gp(uint32_t ec)
{
    return vam_exception(X86_EXC_GP, ec, 0);
}

/* A walk failure of a system-table read as the guest's fault. */
static enum vam_desc_status table_fault(struct vam_vcpu *v, enum vam_walk_status s,
                                        const struct vam_walk *w, struct vam_event *fault,
                                        bool ext)
{
    if (s == VAM_WALK_BAD_GPA) {
        v->error = "descriptor table outside guest RAM";
        return VAM_DESC_ERROR;
    }
    if (s == VAM_WALK_FAULT)
        *fault = vam_exception(X86_EXC_PF, w->error_code, w->va);
    else
        *fault = gp(ext ? X86_EC_EXT : 0);
    return VAM_DESC_FAULT;
}

/* Reads `len` bytes of the table entry for sel (checking the limit). */
static enum vam_desc_status read_entry(struct vam_vcpu *v, uint16_t sel, unsigned len, void *out,
                                       struct vam_event *fault, bool ext)
{
    uint64_t base = v->gdtr.base, limit = v->gdtr.limit;
    if (sel & X86_EC_TI) {
        if ((v->ldtr & ~3u) == 0)
            return VAM_DESC_LIMIT;      /* no LDT: every LDT selector is out of bounds */
        base = v->ldt_base;
        limit = v->ldt_limit;
    }
    uint64_t off = sel & ~7u;
    if (off + len - 1 > limit)
        return VAM_DESC_LIMIT;
    struct vam_walk w;
    enum vam_walk_status s = vam_gva_read(v, base + off, out, len, VAM_ACC_READ, &w);
    if (s != VAM_WALK_OK)
        return table_fault(v, s, &w, fault, ext);
    return VAM_DESC_OK;
}

enum vam_desc_status vam_desc_read(struct vam_vcpu *v, uint16_t sel, uint64_t *d,
                                   struct vam_event *fault, bool ext)
{
    uint8_t b[8];
    enum vam_desc_status s = read_entry(v, sel, 8, b, fault, ext);
    if (s == VAM_DESC_OK)
        *d = cpu_le64(b);
    return s;
}

/* The base and limit of a 16-byte system descriptor. */
static uint64_t sys_base(uint64_t lo, uint64_t hi)
{
    return ((lo >> 16) & 0xffffff) | ((lo >> 56) << 24) | (hi & 0xffffffffull) << 32;
}

static uint32_t desc_limit(uint64_t lo)
{
    uint32_t limit = (uint32_t)((lo & 0xffff) | ((lo >> 48) & 0xf) << 16);
    if (lo & (1ull << 55))                  /* G: 4 KiB granularity */
        limit = limit << 12 | 0xfff;
    return limit;
}

static enum vam_cpu_result load_sys(struct vam_vcpu *v, uint16_t sel, unsigned type,
                                    struct vam_event *fault, uint64_t *lo_out, uint64_t *hi_out)
{
    if (v->cpl != 0) {
        *fault = gp(0);
        return VAM_CPU_NONE;
    }
    uint32_t ec = sel & 0xfffc;
    if (sel & X86_EC_TI) {
        *fault = gp(ec);
        return VAM_CPU_NONE;
    }
    uint8_t b[16];
    switch (read_entry(v, sel, 16, b, fault, false)) {
    case VAM_DESC_OK:
        break;
    case VAM_DESC_LIMIT:
        *fault = gp(ec);
        return VAM_CPU_NONE;
    case VAM_DESC_FAULT:
        return VAM_CPU_NONE;
    case VAM_DESC_ERROR:
        return VAM_CPU_ERROR;
    }
    uint64_t lo = cpu_le64(b), hi = cpu_le64(b + 8);
    if (X86_DESC_S(lo) || X86_DESC_TYPE(lo) != type || ((hi >> 40) & 0x1f) != 0) {
        *fault = gp(ec);
        return VAM_CPU_NONE;
    }
    if (!X86_DESC_P(lo)) {
        *fault = vam_exception(X86_EXC_NP, ec, 0);
        return VAM_CPU_NONE;
    }
    if (!vam_canonical(sys_base(lo, hi))) {
        *fault = gp(ec);
        return VAM_CPU_NONE;
    }
    *lo_out = lo;
    *hi_out = hi;
    return VAM_CPU_OK;
}

enum vam_cpu_result vam_load_ldtr(struct vam_vcpu *v, uint16_t sel, struct vam_event *fault)
{
    if ((sel & ~3u) == 0) {
        if (v->cpl != 0) {
            *fault = gp(0);
            return VAM_CPU_NONE;
        }
        v->ldtr = 0;
        v->ldt_base = 0;
        v->ldt_limit = 0;
        return VAM_CPU_OK;
    }
    uint64_t lo, hi;
    enum vam_cpu_result r = load_sys(v, sel, X86_SYSDESC_LDT, fault, &lo, &hi);
    if (r != VAM_CPU_OK)
        return r;
    v->ldtr = sel;
    v->ldt_base = sys_base(lo, hi);
    v->ldt_limit = desc_limit(lo);
    return VAM_CPU_OK;
}

enum vam_cpu_result vam_load_tr(struct vam_vcpu *v, uint16_t sel, struct vam_event *fault)
{
    if ((sel & ~3u) == 0) {
        *fault = gp(0);
        return VAM_CPU_NONE;
    }
    uint64_t lo, hi;
    enum vam_cpu_result r = load_sys(v, sel, X86_SYSDESC_TSS64, fault, &lo, &hi);
    if (r != VAM_CPU_OK)
        return r;
    /* mark it busy in the GDT (type 9 -> 11) */
    uint8_t type_byte = (uint8_t)(lo >> 40) | 2u;
    struct vam_walk w;
    enum vam_walk_status s = vam_gva_write(v, v->gdtr.base + (sel & ~7u) + 5, &type_byte, 1,
                                           VAM_ACC_READ, &w);
    if (s != VAM_WALK_OK) {
        if (table_fault(v, s, &w, fault, false) == VAM_DESC_ERROR)
            return VAM_CPU_ERROR;
        return VAM_CPU_NONE;
    }
    v->tr = sel;
    v->tss_base = sys_base(lo, hi);
    v->tss_limit = desc_limit(lo);
    return VAM_CPU_OK;
}

enum vam_desc_status vam_tss_read(struct vam_vcpu *v, unsigned offset, uint64_t *val,
                                  struct vam_event *fault, bool ext)
{
    if ((uint64_t)offset + 7 > v->tss_limit) {
        *fault = vam_exception(X86_EXC_TS, (v->tr & 0xfffcu) | (ext ? X86_EC_EXT : 0), 0);
        return VAM_DESC_FAULT;
    }
    uint8_t b[8];
    struct vam_walk w;
    enum vam_walk_status s = vam_gva_read(v, v->tss_base + offset, b, 8, VAM_ACC_READ, &w);
    if (s != VAM_WALK_OK)
        return table_fault(v, s, &w, fault, ext);
    *val = cpu_le64(b);
    return VAM_DESC_OK;
}
