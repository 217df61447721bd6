/*
 * Address spaces on Xen (backend.h: be_space_*, be_map, be_unmap, be_flush)
 * and which of them Xen runs the guest on.
 *
 * Each space is a pinned L4 from the page-table pool; intermediate tables
 * are allocated on demand and every entry is written with mmu_update (the
 * frames are read-only to the VAM, Xen validates each write).  No space
 * carries anything of the VAM's own L4 slots (image and RAM window): the
 * whole guest runs in PV user mode, where every PV mapping is accessible in
 * hardware, so the VAM is protected by being absent.  Kernel spaces may
 * receive be_map_vam pages (hot data, the gate), user spaces never.
 *
 * The VAM itself never leaves its boot L4 (PV kernel mode, Xen's
 * guest_table).  The guest always runs on Xen's *user* page table
 * (guest_table_user): be_resume installs the active kernel space or the
 * active user space there with MMUEXT_NEW_USER_BASEPTR, depending on the
 * guest mode it resumes, so each guest kernel<->user switch costs one
 * mmuext_op (see README.md).
 *
 * TLB: Xen makes every user-accessible L1 entry global unless the entry
 * carries its "guest kernel" bit 52 (pv/mm.h adjust_guest_l1e), and global
 * entries survive the CR3 write of a PV mode toggle.  Every L1 entry the
 * VAM writes carries bit 52 and never G, so no guest translation is global;
 * without PCIDs each return to the guest then flushes all of them.  With
 * PCIDs (Xen with XPTI) the toggle does not flush, so the VAM flushes
 * explicitly whenever it changes the installed space, and invalidates
 * entries it changes or removes in the installed space.
 *
 * Global translations are shared.  A global TLB entry is valid whatever
 * CR3 holds, so one set of them may serve every kernel space: the kernel
 * half's global translations live in shared L2 tables, one per 1 GiB region
 * (an L3 entry), which every kernel space links the first time it maps a
 * global page there.  A new space (a new process) thus starts with the
 * guest kernel's whole working set instead of faulting it in page by page.
 * A space that maps a non-global page in such a region unlinks it and gets
 * a private L2 (early boot, before CR4.PGE).  The top 1 GiB, which holds
 * the VAM's own guest-visible pages, is never shared.  Non-global flushes
 * skip the shared tables; global flushes and invalidations clear them.
 */
#include "xen-space.h"
#include "hypercall.h"
#include "xen-events.h"
#include "xen-memory.h"

#define PTE_P 0x001UL
#define PTE_RW 0x002UL
#define PTE_US 0x004UL
#define PTE_PWT 0x008UL
#define PTE_PCD 0x010UL
#define PTE_A 0x020UL
#define PTE_D 0x040UL
#define PTE_NX (1UL << 63)
#define PTE_ADDR 0x000ffffffffff000UL
/* Xen's _PAGE_GUEST_KERNEL: keeps Xen from setting G on the entry. */
#define PTE_XEN_GUEST_KERNEL (1UL << 52)
/* Software bits (Xen lets guests use bits 9-11): the VAM's own records. */
#define PTE_VAM_GLOBAL 0x200UL      /* the front end asked for a global page */
#define PTE_VAM_OWNED 0x400UL       /* a be_map_vam page: never flushed */

struct space {
    bool used;
    bool kernel;
    unsigned long l4_mfn;
    const uint64_t *l4;     /* read-only view through the window */
};
static struct space spaces[BE_MAX_SPACES];

/* The front end's choice (be_space_activate) and what Xen holds as the
 * PV user page table (-1: none yet).  `reinstall` asks the next
 * be_resume to install even if the space is already the installed one. */
static be_space_t active_kernel = -1, active_user = -1, installed = -1;
static bool reinstall;

/* The shared L2 tables: region key (L4 slot << 9 | L3 index) + 1, pinned mfn. */
#define SHARED_REGIONS 64
static struct {
    unsigned key;
    unsigned long mfn;
} shared[SHARED_REGIONS];
static unsigned long shared_links, shared_unlinks;
static bool is_shared_mfn(unsigned long mfn);

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

static void invlpg(uint64_t va)
{
    struct mmuext_op op = {.cmd = MMUEXT_INVLPG_LOCAL, .arg1.linear_addr = va};
    long rc = xen_hypercall4(__HYPERVISOR_mmuext_op, (unsigned long)&op, 1, 0, DOMID_SELF);
    if (rc)
        vamxen_panic("MMUEXT_INVLPG_LOCAL failed", rc);
}

static bool space_ok(be_space_t s)
{
    return s >= 0 && s < BE_MAX_SPACES && spaces[s].used;
}

be_space_t be_space_create(enum be_space_kind kind)
{
    for (int s = 0; s < BE_MAX_SPACES; s++) {
        if (spaces[s].used)
            continue;
        const void *va;
        unsigned long mfn = vamxen_alloc_pt_frame(&va);
        if (!mfn)
            return -1;
        vamxen_fill_frame(mfn, 0, 0);
        mmuext(MMUEXT_PIN_L4_TABLE, mfn);
        spaces[s] = (struct space){.used = true, .kernel = kind == BE_SPACE_KERNEL,
                                   .l4_mfn = mfn, .l4 = va};
        return s;
    }
    return -1;
}

/* Whether an L4 slot is one the VAM manages: Xen fills its own slots
 * (256-271) into every L4 it validates; the VAM's slots stay empty. */
static bool vam_managed_slot(unsigned slot)
{
    return !(slot >= 256 && slot <= 271) &&
           !(slot >= VAMXEN_FIRST_SLOT && slot <= VAMXEN_LAST_SLOT);
}

/* Unpinning the L4 makes Xen drop the whole tree's page-table types (the
 * lower tables are referenced only by their parents), after which every
 * frame of it is an ordinary frame again and goes back to the pool. */
static unsigned long doomed[4096];
static unsigned long n_doomed;

static void doom(unsigned long mfn)
{
    if (n_doomed == sizeof doomed / sizeof doomed[0])
        vamxen_panic("space too large to destroy", (long)n_doomed);
    doomed[n_doomed++] = mfn;
}

void be_space_destroy(be_space_t s)
{
    if (!space_ok(s))
        return;
    if (installed == s) {
        mmuext(MMUEXT_NEW_USER_BASEPTR, 0);
        installed = -1;
    }
    if (active_kernel == s)
        active_kernel = -1;
    if (active_user == s)
        active_user = -1;
    n_doomed = 0;
    doom(spaces[s].l4_mfn);
    const uint64_t *l4 = spaces[s].l4;
    for (unsigned i4 = 0; i4 < 512; i4++) {
        if (!(l4[i4] & PTE_P) || !vam_managed_slot(i4))
            continue;
        doom((l4[i4] & PTE_ADDR) >> 12);
        const uint64_t *l3 = vamxen_mfn_to_va((l4[i4] & PTE_ADDR) >> 12);
        for (unsigned i3 = 0; i3 < 512; i3++) {
            if (!(l3[i3] & PTE_P) || is_shared_mfn((l3[i3] & PTE_ADDR) >> 12))
                continue;
            doom((l3[i3] & PTE_ADDR) >> 12);
            const uint64_t *l2 = vamxen_mfn_to_va((l3[i3] & PTE_ADDR) >> 12);
            for (unsigned i2 = 0; i2 < 512; i2++)
                if (l2[i2] & PTE_P)
                    doom((l2[i2] & PTE_ADDR) >> 12);
        }
    }
    mmuext(MMUEXT_UNPIN_TABLE, spaces[s].l4_mfn);
    for (unsigned long i = 0; i < n_doomed; i++)
        vamxen_free_pt_frame(doomed[i]);
    spaces[s] = (struct space){.used = false};
}

/* Returns the table below `table` for `index`, creating it if absent. */
static const uint64_t *next_level(unsigned long table_mfn, const uint64_t *table, unsigned index,
                                  unsigned long *next_mfn)
{
    uint64_t e = table[index];
    if (!(e & PTE_P)) {
        const void *va;
        unsigned long mfn = vamxen_alloc_pt_frame(&va);
        if (!mfn)
            return 0;
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
    return vam_managed_slot((va >> 39) & 511);
}

/* Whether L3 entry `idx3` of L4 slot `slot` may link a shared L2: the kernel
 * half, slots the VAM manages, not the top GiB (the VAM's own pages). */
static bool region_shareable(unsigned slot, unsigned idx3)
{
    return slot >= 256 && vam_managed_slot(slot) && !(slot == 511 && idx3 == 511);
}

/* The shared L2 of a region, created (zeroed, pinned) if needed; 0 if no
 * room or no frame. */
static unsigned long shared_l2(unsigned slot, unsigned idx3)
{
    unsigned key = (slot << 9 | idx3) + 1;
    for (unsigned i = 0; i < SHARED_REGIONS; i++) {
        if (shared[i].key == key)
            return shared[i].mfn;
        if (shared[i].key)
            continue;
        unsigned long mfn = vamxen_alloc_pt_frame(0);
        if (!mfn)
            return 0;
        vamxen_fill_frame(mfn, 0, 0);
        mmuext(MMUEXT_PIN_L2_TABLE, mfn);
        shared[i].key = key;
        shared[i].mfn = mfn;
        return mfn;
    }
    return 0;
}

static bool is_shared_mfn(unsigned long mfn)
{
    for (unsigned i = 0; i < SHARED_REGIONS && shared[i].key; i++)
        if (shared[i].mfn == mfn)
            return true;
    return false;
}

/* An entry reached through a shared table changed: any kernel space
 * installed may see it. */
static bool shared_visible(void)
{
    return installed >= 0 && spaces[installed].kernel;
}

/* Installs frame `frame_mfn` at va with `perm`, creating tables as needed.
 * Replacing a present entry of the installed space invalidates it. */
/* false: no page-table frame left for an intermediate table. */
static bool map_frame(be_space_t s, uint64_t va, unsigned long frame_mfn, unsigned perm,
                      uint64_t soft_bits)
{
    unsigned long mfn = spaces[s].l4_mfn;
    const uint64_t *t = spaces[s].l4;
    unsigned slot = (va >> 39) & 511, idx3 = (va >> 30) & 511;
    bool via_shared = false;
    if (!(t = next_level(mfn, t, slot, &mfn)))     /* the L3 is always the space's own */
        return false;
    if (spaces[s].kernel && region_shareable(slot, idx3)) {
        uint64_t e = t[idx3];
        bool linked = (e & PTE_P) && is_shared_mfn((e & PTE_ADDR) >> 12);
        bool global = (perm & BE_GLOBAL) && !(soft_bits & PTE_VAM_OWNED);
        if (global && !(e & PTE_P)) {
            unsigned long l2 = shared_l2(slot, idx3);
            if (l2) {
                set_entry(mfn, idx3, (uint64_t)l2 << 12 | PTE_P | PTE_RW | PTE_US | PTE_A);
                shared_links++;
                linked = true;
            }
        } else if (!global && linked) {
            /* a non-global page here: this space's own L2 from now on */
            set_entry(mfn, idx3, 0);
            if (s == installed)
                mmuext(MMUEXT_TLB_FLUSH_LOCAL, 0);
            shared_unlinks++;
            linked = false;
        }
        via_shared = linked;
    }
    for (int level = 2; level >= 1; level--)
        if (!(t = next_level(mfn, t, (va >> (12 + 9 * level)) & 511, &mfn)))
            return false;
    bool was_present = t[(va >> 12) & 511] & PTE_P;
    uint64_t pte = (uint64_t)frame_mfn << 12 | PTE_P | PTE_A | PTE_D | PTE_XEN_GUEST_KERNEL;
    if (perm & BE_W)
        pte |= PTE_RW;
    if (perm & BE_USER)
        pte |= PTE_US;
    if (perm & BE_GLOBAL)
        pte |= PTE_VAM_GLOBAL;
    pte |= soft_bits;
    if (!(perm & BE_X))
        pte |= PTE_NX;
    set_entry(mfn, (va >> 12) & 511, pte);
    if (was_present && (s == installed || (via_shared && shared_visible())))
        invlpg(va);
    return true;
}

bool be_map(be_space_t s, uint64_t va, uint64_t gpa, unsigned perm)
{
    if (!space_ok(s) || gpa >= be_memory()->gpa_size || !va_allowed(va))
        return false;
    return map_frame(s, va, vamxen_gpa_to_mfn(gpa), perm, 0);
}

bool be_map_vam(be_space_t s, uint64_t va, const void *vam_page, unsigned perm)
{
    if (!space_ok(s) || !spaces[s].kernel || ((uint64_t)vam_page & 4095) || !va_allowed(va))
        return false;
    return map_frame(s, va, vamxen_vam_va_to_mfn(vam_page), perm & ~(unsigned)BE_USER,
                     PTE_VAM_OWNED);
}

bool vamxen_map_io_frame(be_space_t s, uint64_t va, unsigned long mfn, unsigned perm)
{
    if (!space_ok(s) || !spaces[s].kernel || !va_allowed(va))
        return false;
    /* uncached, as device registers must be (dom0 may set PCD/PWT) */
    return map_frame(s, va, mfn, perm & ~(unsigned)(BE_USER | BE_X | BE_GLOBAL),
                     PTE_PCD | PTE_PWT);
}

/* Only records the choice: be_resume installs the space for the guest mode
 * it resumes.  A user space as the kernel one (or the reverse) would show
 * the VAM's be_map_vam pages to guest user code: refused loudly. */
void be_space_activate(be_space_t kernel, be_space_t user)
{
    if (kernel >= 0) {
        if (!space_ok(kernel) || !spaces[kernel].kernel)
            vamxen_panic("be_space_activate: not a kernel space", kernel);
        active_kernel = kernel;
    }
    if (user >= 0) {
        if (!space_ok(user) || spaces[user].kernel)
            vamxen_panic("be_space_activate: not a user space", user);
        active_user = user;
    }
    reinstall = true;
}

unsigned vamxen_space_install_ops(bool guest_kernel, struct mmuext_op ops[2])
{
    be_space_t s = guest_kernel ? active_kernel : active_user;
    if (s < 0)
        vamxen_panic(guest_kernel ? "resuming guest kernel mode without an active kernel space"
                                  : "resuming guest user mode without an active user space", s);
    if (s == installed && !reinstall)
        return 0;
    installed = s;
    reinstall = false;
    ops[0] = (struct mmuext_op){.cmd = MMUEXT_NEW_USER_BASEPTR, .arg1.mfn = spaces[s].l4_mfn};
    ops[1] = (struct mmuext_op){.cmd = MMUEXT_TLB_FLUSH_LOCAL};
    return 2;
}

/* Walks to the L1 for va without creating tables; 0 if absent.  *shared:
 * the walk went through a shared L2. */
static unsigned long l1_of(be_space_t s, uint64_t va, bool *via_shared)
{
    unsigned long mfn = spaces[s].l4_mfn;
    const uint64_t *t = spaces[s].l4;
    *via_shared = false;
    for (int level = 3; level >= 1; level--) {
        uint64_t e = t[(va >> (12 + 9 * level)) & 511];
        if (!(e & PTE_P))
            return 0;
        mfn = (e & PTE_ADDR) >> 12;
        if (level == 2 && is_shared_mfn(mfn))
            *via_shared = true;
        t = vamxen_mfn_to_va(mfn);
    }
    return mfn;
}

void be_unmap(be_space_t s, uint64_t va)
{
    if (!space_ok(s))
        return;
    bool via_shared;
    unsigned long l1 = l1_of(s, va, &via_shared);
    if (!l1 || !(vamxen_mfn_to_va(l1)[(va >> 12) & 511] & PTE_P))
        return;
    set_entry(l1, (va >> 12) & 511, 0);
    if (s == installed || (via_shared && shared_visible()))
        invlpg(va);
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
        if (n == 64) {
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
 * all but the global ones), then, if Xen runs the guest on it, the
 * hardware TLB.  Intermediate tables stay for reuse; be_map_vam pages are
 * never touched. */
void be_flush(be_space_t s, bool include_global)
{
    if (!space_ok(s))
        return;
    bool shared_hit = false;
    const uint64_t *l4 = spaces[s].l4;
    for (unsigned i4 = 0; i4 < 512; i4++) {
        if (!(l4[i4] & PTE_P) || !vam_managed_slot(i4))
            continue;
        const uint64_t *l3 = vamxen_mfn_to_va((l4[i4] & PTE_ADDR) >> 12);
        for (unsigned i3 = 0; i3 < 512; i3++) {
            if (!(l3[i3] & PTE_P))
                continue;
            bool link = is_shared_mfn((l3[i3] & PTE_ADDR) >> 12);
            if (link && !include_global)
                continue;       /* shared tables hold global translations only */
            shared_hit |= link;
            const uint64_t *l2 = vamxen_mfn_to_va((l3[i3] & PTE_ADDR) >> 12);
            for (unsigned i2 = 0; i2 < 512; i2++)
                if (l2[i2] & PTE_P)
                    flush_l1((l2[i2] & PTE_ADDR) >> 12, include_global);
        }
    }
    if (s == installed || (shared_hit && shared_visible()))
        mmuext(MMUEXT_TLB_FLUSH_LOCAL, 0);
}

bool vamxen_space_translates(be_space_t s, uint64_t va)
{
    if (!space_ok(s))
        return false;
    bool via_shared;
    unsigned long l1 = l1_of(s, va, &via_shared);
    return l1 && (vamxen_mfn_to_va(l1)[(va >> 12) & 511] & PTE_P);
}
