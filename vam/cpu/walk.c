/*
 * 4-level page walk of the guest's tables (include/vam/walk.h).
 */
#include "vam/walk.h"
#include "cpu-internal.h"

#define PTE_P   0x001ull
#define PTE_RW  0x002ull
#define PTE_US  0x004ull
#define PTE_A   0x020ull
#define PTE_D   0x040ull
#define PTE_PS  0x080ull
#define PTE_G   0x100ull
#define PTE_XD  (1ull << 63)

#define SIZE_2M (1ull << 21)
#define SIZE_1G (1ull << 30)

/* Bits 51:12 below maxphyaddr: where entries keep a physical address. */
static uint64_t addr_mask(const struct vam_vcpu *v)
{
    unsigned m = v->maxphyaddr < 32 ? 32 : v->maxphyaddr > 52 ? 52 : v->maxphyaddr;
    return ((1ull << m) - 1) & ~0xfffull;
}

/* Reserved bits of a present entry at `level` (4 = PML4E ... 1 = PTE).
 * Returns all-ones for an entry that is reserved as a whole (PS in a PDPTE
 * without 1 GiB pages). */
static uint64_t reserved_bits(const struct vam_vcpu *v, unsigned level, uint64_t e)
{
    uint64_t r = ((1ull << 52) - 1) & ~addr_mask(v) & ~0xfffull;    /* bits 51:maxphyaddr */
    if (!(v->efer & X86_EFER_NXE))
        r |= PTE_XD;
    if (level == 4)
        r |= PTE_PS;
    if (level == 3 && (e & PTE_PS)) {
        if (!v->gbpages)
            return ~0ull;
        r |= (SIZE_1G - 1) & ~0x1fffull;        /* 29:13 (bit 12 is PAT) */
    }
    if (level == 2 && (e & PTE_PS))
        r |= (SIZE_2M - 1) & ~0x1fffull;        /* 20:13 */
    return r;
}

static enum vam_walk_status fault(struct vam_walk *w, uint32_t ec)
{
    w->error_code = ec;
    return VAM_WALK_FAULT;
}

enum vam_walk_status vam_walk(struct vam_vcpu *v, uint64_t va, unsigned access,
                              struct vam_walk *w)
{
    cpu_zero(w, sizeof *w);
    w->va = va;
    if (!vam_canonical(va))
        return VAM_WALK_NONCANONICAL;

    bool nxe = (v->efer & X86_EFER_NXE) != 0;
    bool user = (access & VAM_ACC_USER) != 0, write = (access & VAM_ACC_WRITE) != 0;
    bool fetch = (access & VAM_ACC_FETCH) != 0;
    /* what the error code reports of the access itself */
    uint32_t ec = (write ? X86_PF_W : 0) | (user ? X86_PF_U : 0) | (fetch && nxe ? X86_PF_I : 0);

    uint64_t *entry[4];
    unsigned used = 0;
    uint64_t table = v->cr3 & addr_mask(v);
    bool rw = true, us = true, nx = false;
    uint64_t e = 0, size = 0;

    for (unsigned level = 4; level >= 1; level--) {
        unsigned idx = (va >> (12 + 9 * (level - 1))) & 511;
        uint8_t *p = vam_gpa_ptr(v, table + idx * 8, 8);
        if (!p)
            return VAM_WALK_BAD_GPA;
        uint64_t *ep = (uint64_t *)(void *)p;
        e = __atomic_load_n(ep, __ATOMIC_RELAXED);
        if (!(e & PTE_P))
            return fault(w, ec);
        if (e & reserved_bits(v, level, e))
            return fault(w, ec | X86_PF_P | X86_PF_RSVD);
        rw = rw && (e & PTE_RW);
        us = us && (e & PTE_US);
        nx = nx || (nxe && (e & PTE_XD));
        w->entry_gpa[used] = table + idx * 8;
        entry[used++] = ep;
        if (level == 1) {
            size = 4096;
            break;
        }
        if ((level == 3 || level == 2) && (e & PTE_PS)) {
            size = level == 3 ? SIZE_1G : SIZE_2M;
            break;
        }
        table = e & addr_mask(v);
    }

    /* permissions on the combined rights (no SMEP, SMAP or keys) */
    bool ok = true;
    if (user && !us)
        ok = false;
    if (write && !rw && (user || (v->cr0 & X86_CR0_WP)))
        ok = false;
    if (fetch && nx)
        ok = false;
    if (!ok)
        return fault(w, ec | X86_PF_P);

    uint64_t page = e & addr_mask(v) & ~(size - 1);
    w->page_gpa = page;
    w->page_size = size;
    w->gpa = page | (va & (size - 1));
    if (!vam_gpa_ptr(v, w->gpa, 1)) {
        /* a valid translation to what is not RAM: device memory, maybe
         * (nothing is marked accessed: the access does not complete here) */
        w->io = true;
        w->levels = used;
        w->writable = rw;
        w->user = us;
        w->nx = nx;
        return VAM_WALK_BAD_GPA;
    }

    /* accessed and dirty, as the CPU sets them: only when not yet set */
    for (unsigned i = 0; i < used; i++) {
        uint64_t bits = PTE_A | (i == used - 1 && write ? PTE_D : 0);
        if ((__atomic_load_n(entry[i], __ATOMIC_RELAXED) & bits) != bits)
            e = __atomic_or_fetch(entry[i], bits, __ATOMIC_SEQ_CST);
    }
    e = __atomic_load_n(entry[used - 1], __ATOMIC_RELAXED);
    w->levels = used;
    w->writable = rw;
    w->user = us;
    w->nx = nx;
    w->global = (e & PTE_G) && (v->cr4 & X86_CR4_PGE);
    w->dirty = (e & PTE_D) != 0;
    return VAM_WALK_OK;
}

/* One pass over the pages of [va, va+len): translate each, and copy when
 * `buf` is given. */
static enum vam_walk_status gva_pass(struct vam_vcpu *v, uint64_t va, uint8_t *buf,
                                     uint64_t len, unsigned access, bool to_guest,
                                     struct vam_walk *w)
{
    while (len) {
        uint64_t chunk = 4096 - (va & 4095);
        if (chunk > len)
            chunk = len;
        enum vam_walk_status s = vam_walk(v, va, access, w);
        if (s != VAM_WALK_OK)
            return s;
        if (buf) {
            uint8_t *g = vam_gpa_ptr(v, w->gpa, chunk);
            if (!g)
                return VAM_WALK_BAD_GPA;
            if (to_guest)
                cpu_copy(g, buf, chunk);
            else
                cpu_copy(buf, g, chunk);
            buf += chunk;
        }
        va += chunk;
        len -= chunk;
    }
    return VAM_WALK_OK;
}

static enum vam_walk_status gva_copy(struct vam_vcpu *v, uint64_t va, uint8_t *buf,
                                     uint64_t len, unsigned access, bool to_guest,
                                     struct vam_walk *w)
{
    if (len && (!vam_canonical(va + len - 1) || va + len - 1 < va)) {
        cpu_zero(w, sizeof *w);
        w->va = va;
        return VAM_WALK_NONCANONICAL;
    }
    enum vam_walk_status s = gva_pass(v, va, 0, len, access, to_guest, w);
    if (s != VAM_WALK_OK)
        return s;
    return gva_pass(v, va, buf, len, access, to_guest, w);
}

enum vam_walk_status vam_gva_read(struct vam_vcpu *v, uint64_t va, void *dst, uint64_t len,
                                  unsigned access, struct vam_walk *w)
{
    return gva_copy(v, va, dst, len, access, false, w);
}

enum vam_walk_status vam_gva_write(struct vam_vcpu *v, uint64_t va, const void *src,
                                   uint64_t len, unsigned access, struct vam_walk *w)
{
    return gva_copy(v, va, (uint8_t *)(uintptr_t)src, len, access | VAM_ACC_WRITE, true, w);
}
