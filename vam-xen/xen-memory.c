/*
 * Memory of the VAM's domain on Xen.
 *
 * dom0 receives nr_pages frames; Xen maps only the initial region
 * [VIRT_BASE, v_end) (image, p2m, start_info, boot page tables, stack).
 * The VAM splits the rest: the top PT_POOL_PAGES frames become a pool of
 * page-table frames, the frames between the initial region and the pool
 * become guest-physical RAM (gpa 0 upward).  A window in L4 slot 505 maps
 * every frame, read-only for frames that are or will be page tables.
 *
 * Xen's rules (shared/notes/xen-pv64-facts.md section 5): a frame is either
 * writable data or a page table, never both; build tables through a
 * temporary writable mapping, drop it, pin, then install.
 */
#include "xen-memory.h"
#include "xen-console.h"
#include "hypercall.h"
#include "xen-events.h"

#define PT_POOL_PAGES 2048          /* 8 MiB of page-table frames */
#define PTE_P 0x001UL
#define PTE_RW 0x002UL
#define PTE_A 0x020UL
#define PTE_D 0x040UL
#define PTE_NX (1UL << 63)
#define VIRT_BASE 0xfffffc0000000000UL

static const unsigned long *p2m;
static unsigned long nr_pages;
static unsigned long pool_first, pool_next;     /* pfns */
static unsigned long boot_pt_first, boot_pt_count;
static unsigned long guest_first_pfn;
static uint64_t l4_maddr;
static struct be_memory memory;
static const uint64_t *boot_l4;

/* Xen's read-only machine-to-physical table (facts section 4, "M2P"). */
#define M2P ((const unsigned long *)0xffff800000000000UL)

const uint64_t *vamxen_boot_l4(void)
{
    return boot_l4;
}

const uint64_t *vamxen_mfn_to_va(unsigned long mfn)
{
    return (const uint64_t *)(VAMXEN_WINDOW_BASE + M2P[mfn] * 4096);
}

unsigned long vamxen_vam_va_to_mfn(const void *va)
{
    return p2m[((unsigned long)va - VIRT_BASE) >> 12];
}

unsigned long vamxen_gpa_to_mfn(uint64_t gpa)
{
    return p2m[guest_first_pfn + (gpa >> 12)];
}

/* A page in the initial region whose mapping is pointed at frames being
 * filled; its L1 entry exists because the whole image is mapped. */
static char scratch[4096] __attribute__((aligned(4096)));

unsigned long vamxen_pfn_to_mfn(unsigned long pfn)
{
    return p2m[pfn];
}

static void scratch_map(unsigned long mfn)
{
    unsigned long pte = mfn << 12 | PTE_P | PTE_RW | PTE_A | PTE_D;
    long rc = xen_hypercall3(__HYPERVISOR_update_va_mapping, (unsigned long)scratch, pte, UVMF_INVLPG);
    if (rc)
        vamxen_panic("update_va_mapping(scratch) failed", rc);
}

static void scratch_unmap(void)
{
    long rc = xen_hypercall3(__HYPERVISOR_update_va_mapping, (unsigned long)scratch, 0, UVMF_INVLPG);
    if (rc)
        vamxen_panic("unmapping scratch failed", rc);
}

void vamxen_fill_frame(unsigned long mfn, const uint64_t *entries, unsigned n)
{
    scratch_map(mfn);
    uint64_t *dst = (uint64_t *)scratch;
    for (unsigned i = 0; i < 512; i++)
        dst[i] = i < n ? entries[i] : 0;
    scratch_unmap();
}

static bool is_pt_pfn(unsigned long pfn)
{
    return (pfn >= boot_pt_first && pfn < boot_pt_first + boot_pt_count) || pfn >= pool_first;
}

/* Frames given back by be_space_destroy, reused before the untouched rest
 * of the pool. */
static unsigned long free_pfns[PT_POOL_PAGES];
static unsigned long n_free;

unsigned long vamxen_alloc_pt_frame_or_panic(void)
{
    unsigned long mfn = vamxen_alloc_pt_frame(0);
    if (!mfn)
        vamxen_panic("page-table frame pool exhausted", (long)PT_POOL_PAGES);
    return mfn;
}

unsigned long vamxen_alloc_pt_frame(const void **va)
{
    unsigned long pfn;
    if (n_free)
        pfn = free_pfns[--n_free];
    else if (pool_next < nr_pages)
        pfn = pool_next++;
    else
        return 0;                   /* exhausted: the caller refuses (be_map, be_space_create) */
    if (va)
        *va = (const void *)(VAMXEN_WINDOW_BASE + pfn * 4096);
    return p2m[pfn];
}

void vamxen_free_pt_frame(unsigned long mfn)
{
    unsigned long pfn = M2P[mfn];
    if (pfn < pool_first || pfn >= pool_next || n_free >= PT_POOL_PAGES)
        vamxen_panic("freeing a frame that is not an allocated page-table frame", (long)mfn);
    free_pfns[n_free++] = pfn;
}

unsigned long vamxen_pt_frames_in_use(void)
{
    return pool_next - pool_first - n_free;
}

static void mmu_update_one(uint64_t ptr, uint64_t val)
{
    struct mmu_update req = {.ptr = ptr, .val = val};
    long rc = xen_hypercall4(__HYPERVISOR_mmu_update, (unsigned long)&req, 1, 0, DOMID_SELF);
    if (rc)
        vamxen_panic("mmu_update failed", rc);
}

static void pin(unsigned cmd, unsigned long mfn)
{
    struct mmuext_op op = {.cmd = cmd, .arg1.mfn = mfn};
    long rc = xen_hypercall4(__HYPERVISOR_mmuext_op, (unsigned long)&op, 1, 0, DOMID_SELF);
    if (rc)
        vamxen_panic("mmuext_op(pin) failed", rc);
}

/* Builds L1s, one L2 per GiB and one L3 mapping pfns [0, nr_pages) at the
 * window, pins the L3 and installs it in the boot L4's slot 505. */
static void build_window(void)
{
    static uint64_t entries[512];
    unsigned long n_l1 = (nr_pages + 511) / 512;
    unsigned long n_l2 = (n_l1 + 511) / 512;
    if (n_l2 > 512)
        vamxen_panic("domain larger than one L3 of window", (long)nr_pages);
    unsigned long l2_mfn[512];
    unsigned long l3_mfn = vamxen_alloc_pt_frame_or_panic();
    for (unsigned long j = 0; j < n_l2; j++)
        l2_mfn[j] = vamxen_alloc_pt_frame_or_panic();
    /* the L1 frames must come from the pool too, and the pool's window
     * mappings are read-only, including these L1s' own */
    for (unsigned long j = 0; j < n_l2; j++) {
        for (unsigned long k = 0; k < 512; k++)
            entries[k] = 0;
        for (unsigned long k = 0; k < 512 && j * 512 + k < n_l1; k++) {
            unsigned long l1 = vamxen_alloc_pt_frame_or_panic();
            uint64_t l1e[512];
            for (unsigned long e = 0; e < 512; e++) {
                unsigned long pfn = (j * 512 + k) * 512 + e;
                if (pfn >= nr_pages) {
                    l1e[e] = 0;
                    continue;
                }
                l1e[e] = (uint64_t)p2m[pfn] << 12 | PTE_P | PTE_A | PTE_D | PTE_NX |
                         (is_pt_pfn(pfn) ? 0 : PTE_RW);
            }
            vamxen_fill_frame(l1, l1e, 512);
            entries[k] = (uint64_t)l1 << 12 | PTE_P | PTE_RW | PTE_A;
        }
        vamxen_fill_frame(l2_mfn[j], entries, 512);
    }
    for (unsigned long j = 0; j < 512; j++)
        entries[j] = j < n_l2 ? ((uint64_t)l2_mfn[j] << 12 | PTE_P | PTE_RW | PTE_A) : 0;
    vamxen_fill_frame(l3_mfn, entries, 512);
    pin(MMUEXT_PIN_L3_TABLE, l3_mfn);
    unsigned slot = (VAMXEN_WINDOW_BASE >> 39) & 511;
    mmu_update_one(l4_maddr + slot * 8, (uint64_t)l3_mfn << 12 | PTE_P | PTE_RW | PTE_A);
}

void vamxen_memory_init(start_info_t *si)
{
    p2m = (const unsigned long *)si->mfn_list;
    nr_pages = si->nr_pages;
    boot_pt_first = (si->pt_base - VIRT_BASE) >> 12;
    boot_pt_count = si->nr_pt_frames;
    l4_maddr = (uint64_t)p2m[boot_pt_first] << 12;
    boot_l4 = (const uint64_t *)si->pt_base;
    /* Xen maps the initial region up to v_end: 4 MiB-aligned, at most
     * 4 MiB past the boot stack (which follows the page tables). */
    unsigned long initial_end = boot_pt_first + boot_pt_count + 1;
    guest_first_pfn = ((initial_end + 1023) & ~1023UL) + 1024;
    pool_first = pool_next = nr_pages - PT_POOL_PAGES;
    if (pool_first <= guest_first_pfn)
        vamxen_panic("domain too small for the VAM (pages)", (long)nr_pages);
    build_window();
    memory.window = (uint8_t *)(VAMXEN_WINDOW_BASE + guest_first_pfn * 4096);
    memory.gpa_size = (pool_first - guest_first_pfn) * 4096;
    /* How the guest's RAM lies in machine memory: what a device that
     * DMAs to guest-physical addresses would need (pass-through). */
    unsigned long extents = 1;
    for (unsigned long pfn = guest_first_pfn + 1; pfn < pool_first; pfn++)
        extents += p2m[pfn] != p2m[pfn - 1] + 1;
    xen_puts("VAM: guest RAM in ");
    xen_put_dec(extents);
    xen_puts(" machine extent(s), from mfn ");
    xen_put_hex(p2m[guest_first_pfn]);
    xen_puts("\n");
}

const struct be_memory *be_memory(void)
{
    return &memory;
}
