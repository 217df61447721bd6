/*
 * Address spaces on Xen (backend.h: be_space_*, be_map, be_unmap, be_flush).
 *
 * Each space is a pinned L4 from the page-table pool; intermediate tables
 * are allocated on demand and every entry is written with mmu_update (the
 * frames are read-only to the VAM, Xen validates each write).  Kernel-mode
 * spaces also carry the VAM's own L4 slots (image and RAM window), so the
 * VAM stays reachable from the guest kernel; user-mode spaces carry nothing
 * of the kernel's (every PV mapping is user-accessible in hardware, so
 * isolation is by absence).
 */
#include "xen-space.h"
#include "hypercall.h"
#include "xen-events.h"
#include "xen-memory.h"

#define PTE_P 0x001UL
#define PTE_RW 0x002UL
#define PTE_US 0x004UL
#define PTE_A 0x020UL
#define PTE_D 0x040UL
#define PTE_G 0x100UL
#define PTE_NX (1UL << 63)
#define PTE_ADDR 0x000ffffffffff000UL
/* Software bits (Xen lets guests use bits 9-11): Xen itself sets G on
 * user-accessible L1 entries, so the VAM records its own intent. */
#define PTE_VAM_GLOBAL 0x200UL      /* the front end asked for a global page */
#define PTE_VAM_OWNED 0x400UL       /* a be_map_vam page: never flushed */

struct space {
    bool used;
    bool kernel;
    unsigned long l4_mfn;
    const uint64_t *l4;     /* read-only view through the window */
};
static struct space spaces[BE_MAX_SPACES];

static uint64_t entry_maddr(unsigned long table_mfn, unsigned index)
{
    return ((uint64_t)table_mfn << 12) + index * 8;
}

static void set_entry(unsigned long table_mfn, unsigned index, uint64_t val)
{
    struct mmu_update req = {.ptr = entry_maddr(table_mfn, index), .val = val};
    long rc = xen_hypercall4(__HYPERVISOR_mmu_update, (unsigned long)&req, 1, 0, DOMID_SELF);
    if (rc)
        vamxen_panic("mmu_update of a page-table entry failed", rc);
}

static void mmuext(unsigned cmd, unsigned long arg1)
{
    struct mmuext_op op = {.cmd = cmd, .arg1.mfn = arg1};
    long rc = xen_hypercall4(__HYPERVISOR_mmuext_op, (unsigned long)&op, 1, 0, DOMID_SELF);
    if (rc)
        vamxen_panic("mmuext_op failed", rc);
}

be_space_t be_space_create(enum be_space_kind kind)
{
    bool kernel = kind == BE_SPACE_KERNEL;
    for (int s = 0; s < BE_MAX_SPACES; s++) {
        if (spaces[s].used)
            continue;
        const void *va;
        unsigned long mfn = vamxen_alloc_pt_frame(&va);
        uint64_t l4[512] = {0};
        if (kernel) {
            /* share the VAM's slots with the boot L4 */
            const uint64_t *boot = vamxen_boot_l4();
            for (unsigned i = VAMXEN_FIRST_SLOT; i <= VAMXEN_LAST_SLOT; i++)
                l4[i] = boot[i];
        }
        vamxen_fill_frame(mfn, l4, 512);
        mmuext(MMUEXT_PIN_L4_TABLE, mfn);
        spaces[s] = (struct space){.used = true, .kernel = kernel, .l4_mfn = mfn, .l4 = va};
        return s;
    }
    return -1;
}


/* Returns the table below `table` for `index`, creating it if absent. */
static const uint64_t *next_level(unsigned long table_mfn, const uint64_t *table, unsigned index,
                                  unsigned long *next_mfn)
{
    uint64_t e = table[index];
    if (!(e & PTE_P)) {
        const void *va;
        unsigned long mfn = vamxen_alloc_pt_frame(&va);
        vamxen_fill_frame(mfn, 0, 0);
        set_entry(table_mfn, index, (uint64_t)mfn << 12 | PTE_P | PTE_RW | PTE_US | PTE_A);
        *next_mfn = mfn;
        return va;
    }
    *next_mfn = (e & PTE_ADDR) >> 12;
    return vamxen_mfn_to_va(*next_mfn);
}

/* Addresses a space may map: canonical, outside Xen's reserved L4 slots
 * (256-271) and outside the VAM's own slots. */
static bool va_allowed(uint64_t va)
{
    uint64_t top = va >> 47;
    if (top != 0 && top != 0x1ffff)
        return false;
    unsigned slot = (va >> 39) & 511;
    return !(slot >= 256 && slot <= 271) && !(slot >= VAMXEN_FIRST_SLOT && slot <= VAMXEN_LAST_SLOT);
}

/* Installs frame `frame_mfn` at va with `perm`, creating tables as needed. */
static void map_frame(be_space_t s, uint64_t va, unsigned long frame_mfn, unsigned perm,
                      uint64_t soft_bits)
{
    unsigned long mfn = spaces[s].l4_mfn;
    const uint64_t *t = spaces[s].l4;
    for (int level = 3; level >= 1; level--)
        t = next_level(mfn, t, (va >> (12 + 9 * level)) & 511, &mfn);
    uint64_t pte = (uint64_t)frame_mfn << 12 | PTE_P | PTE_A | PTE_D;
    if (perm & BE_W)
        pte |= PTE_RW;
    if (perm & BE_USER)
        pte |= PTE_US;
    if (perm & BE_GLOBAL)
        pte |= PTE_G | PTE_VAM_GLOBAL;
    pte |= soft_bits;
    if (!(perm & BE_X))
        pte |= PTE_NX;
    set_entry(mfn, (va >> 12) & 511, pte);
}

static bool space_ok(be_space_t s)
{
    return s >= 0 && s < BE_MAX_SPACES && spaces[s].used;
}

bool be_map(be_space_t s, uint64_t va, uint64_t gpa, unsigned perm)
{
    if (!space_ok(s) || gpa >= be_memory()->gpa_size || !va_allowed(va))
        return false;
    map_frame(s, va, vamxen_gpa_to_mfn(gpa), perm, 0);
    return true;
}

bool be_map_vam(be_space_t s, uint64_t va, const void *vam_page, unsigned perm)
{
    if (!space_ok(s) || !spaces[s].kernel || ((uint64_t)vam_page & 4095) || !va_allowed(va))
        return false;
    map_frame(s, va, vamxen_vam_va_to_mfn(vam_page), perm & ~(unsigned)BE_USER, PTE_VAM_OWNED);
    return true;
}

void be_space_activate(be_space_t kernel, be_space_t user)
{
    if (kernel >= 0)
        mmuext(MMUEXT_NEW_BASEPTR, spaces[kernel].l4_mfn);
    if (user >= 0)
        mmuext(MMUEXT_NEW_USER_BASEPTR, spaces[user].l4_mfn);
}

/* Walks to the L1 for va without creating tables; 0 if absent. */
static unsigned long l1_of(be_space_t s, uint64_t va)
{
    unsigned long mfn = spaces[s].l4_mfn;
    const uint64_t *t = spaces[s].l4;
    for (int level = 3; level >= 1; level--) {
        uint64_t e = t[(va >> (12 + 9 * level)) & 511];
        if (!(e & PTE_P))
            return 0;
        mfn = (e & PTE_ADDR) >> 12;
        t = vamxen_mfn_to_va(mfn);
    }
    return mfn;
}

void be_unmap(be_space_t s, uint64_t va)
{
    if (!space_ok(s))
        return;
    unsigned long l1 = l1_of(s, va);
    if (!l1 || !(vamxen_mfn_to_va(l1)[(va >> 12) & 511] & PTE_P))
        return;
    set_entry(l1, (va >> 12) & 511, 0);
    struct mmuext_op op = {.cmd = MMUEXT_INVLPG_LOCAL, .arg1.linear_addr = va};
    long rc = xen_hypercall4(__HYPERVISOR_mmuext_op, (unsigned long)&op, 1, 0, DOMID_SELF);
    if (rc)
        vamxen_panic("MMUEXT_INVLPG_LOCAL failed", rc);
}

/* Clears the entries of one L1 that the flush covers, in batches. */
static void flush_l1(unsigned long l1_mfn, bool include_global)
{
    const uint64_t *l1 = vamxen_mfn_to_va(l1_mfn);
    struct mmu_update req[64];
    unsigned n = 0;
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = l1[i];
        if (!(e & PTE_P) || (e & PTE_VAM_OWNED) || ((e & PTE_VAM_GLOBAL) && !include_global))
            continue;
        req[n++] = (struct mmu_update){.ptr = entry_maddr(l1_mfn, i), .val = 0};
        if (n == 64 || i == 511) {
            long rc = xen_hypercall4(__HYPERVISOR_mmu_update, (unsigned long)req, n, 0, DOMID_SELF);
            if (rc)
                vamxen_panic("mmu_update while flushing failed", rc);
            n = 0;
        }
    }
    if (n) {
        long rc = xen_hypercall4(__HYPERVISOR_mmu_update, (unsigned long)req, n, 0, DOMID_SELF);
        if (rc)
            vamxen_panic("mmu_update while flushing failed", rc);
    }
}

/* The space is the TLB: a flush removes its translations (all of them, or
 * all but the global ones), then the hardware TLB.  Intermediate tables
 * stay for reuse; the VAM's own slots and pages are never touched. */
void be_flush(be_space_t s, bool include_global)
{
    if (!space_ok(s))
        return;
    const uint64_t *l4 = spaces[s].l4;
    for (unsigned i4 = 0; i4 < 512; i4++) {
        if (!(l4[i4] & PTE_P) || (i4 >= VAMXEN_FIRST_SLOT && i4 <= VAMXEN_LAST_SLOT) ||
            (i4 >= 256 && i4 <= 271))
            continue;
        const uint64_t *l3 = vamxen_mfn_to_va((l4[i4] & PTE_ADDR) >> 12);
        for (unsigned i3 = 0; i3 < 512; i3++) {
            if (!(l3[i3] & PTE_P))
                continue;
            const uint64_t *l2 = vamxen_mfn_to_va((l3[i3] & PTE_ADDR) >> 12);
            for (unsigned i2 = 0; i2 < 512; i2++)
                if (l2[i2] & PTE_P)
                    flush_l1((l2[i2] & PTE_ADDR) >> 12, include_global);
        }
    }
    mmuext(MMUEXT_TLB_FLUSH_LOCAL, 0);
}

bool vamxen_space_translates(be_space_t s, uint64_t va)
{
    if (!space_ok(s))
        return false;
    unsigned long l1 = l1_of(s, va);
    return l1 && (vamxen_mfn_to_va(l1)[(va >> 12) & 511] & PTE_P);
}
