/* Page tables: the framework's identity map and helpers to change mappings. */
#include "internal.h"

#define POOL_PAGES 96
static uint8_t pool[POOL_PAGES][PAGE_SIZE] __aligned(PAGE_SIZE);
static unsigned pool_used;
static pte_t *kernel_root;

void *alloc_page(void)
{
    void *p;

    if (pool_used >= POOL_PAGES)
        panic("page-table pool exhausted (%u pages)", POOL_PAGES);
    p = pool[pool_used++];
    memset(p, 0, PAGE_SIZE);
    return p;
}

pte_t *pt_kernel_root(void)
{
    return kernel_root;
}

pte_t *pt_active_root(void)
{
    return (pte_t *)(read_cr3() & PTE_ADDR_MASK);
}

static unsigned idx(uintptr_t va, unsigned level)   /* level 4 = PML4 ... 1 = PT */
{
    return (va >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
}

static pte_t *table(pte_t e)
{
    return (pte_t *)(uintptr_t)(e & PTE_ADDR_MASK);
}

static void flush(pte_t *root, uintptr_t va)
{
    if (root == pt_active_root())
        invlpg((void *)va);
}

/* Table at `level` (3 = PDPT, 2 = PD, 1 = PT) for va, created if absent;
 * a 2 MiB leaf in the way is split when level is 1. */
static pte_t *walk_create(pte_t *root, uintptr_t va, unsigned level)
{
    pte_t *t = root;

    for (unsigned l = 4; l > level; l--) {
        pte_t *e = &t[idx(va, l)];

        if (!(*e & PTE_P)) {
            *e = (uintptr_t)alloc_page() | PTE_P | PTE_W | PTE_U;
        } else if (*e & PTE_PS) {
            pte_t *pt;
            pte_t big = *e;

            BUG_ON(l != 2);         /* only 2 MiB leaves are split */
            pt = alloc_page();
            for (unsigned i = 0; i < 512; i++)
                pt[i] = ((big & PTE_ADDR_MASK) + i * PAGE_SIZE) |
                        (big & ~(PTE_ADDR_MASK | PTE_PS));
            *e = (uintptr_t)pt | PTE_P | PTE_W | PTE_U;
            flush(root, va & ~(LARGE_PAGE_SIZE - 1));
        }
        t = table(*e);
    }
    return t;
}

void map_4k(pte_t *root, uintptr_t va, uint64_t pa, uint64_t flags)
{
    pte_t *pt = walk_create(root, va, 1);

    pt[idx(va, 1)] = (pa & PTE_ADDR_MASK) | (flags & ~PTE_ADDR_MASK) | PTE_P;
    flush(root, va);
}

void map_2m(pte_t *root, uintptr_t va, uint64_t pa, uint64_t flags)
{
    pte_t *pd = walk_create(root, va, 2);

    BUG_ON((va | pa) & (LARGE_PAGE_SIZE - 1));
    pd[idx(va, 2)] = (pa & PTE_ADDR_MASK) | (flags & ~PTE_ADDR_MASK) | PTE_P | PTE_PS;
    flush(root, va);
}

pte_t *pte_lookup(pte_t *root, uintptr_t va, unsigned *level)
{
    pte_t *t = root;

    for (unsigned l = 4; l >= 1; l--) {
        pte_t *e = &t[idx(va, l)];

        if (!(*e & PTE_P))
            return NULL;
        if (l == 1 || (l == 2 && (*e & PTE_PS))) {
            if (level)
                *level = l;
            return e;
        }
        BUG_ON(l == 3 && (*e & PTE_PS));    /* 1 GiB pages are never made */
        t = table(*e);
    }
    return NULL;
}

void unmap(pte_t *root, uintptr_t va)
{
    pte_t *e = pte_lookup(root, va, NULL);

    if (e) {
        *e = 0;
        flush(root, va);
    }
}

pte_t pte_update(pte_t *root, uintptr_t va, uint64_t set, uint64_t clear)
{
    pte_t *e = pte_lookup(root, va, NULL), old;

    if (!e)
        return 0;
    old = *e;
    *e = (old & ~clear) | set;
    flush(root, va);
    return old;
}

static pte_t *copy_table(const pte_t *t, unsigned level)
{
    pte_t *n = alloc_page();

    for (unsigned i = 0; i < 512; i++) {
        if (level > 1 && (t[i] & PTE_P) && !(t[i] & PTE_PS))
            n[i] = (uintptr_t)copy_table(table(t[i]), level - 1) | (t[i] & ~PTE_ADDR_MASK);
        else
            n[i] = t[i];
    }
    return n;
}

pte_t *pt_clone_root(pte_t *root)
{
    pte_t *n = alloc_page();

    /* Slot 0 (the identity map) is shared; the test slots are copied down
     * to the leaves, so map_*() on the clone never changes the original. */
    n[0] = root[0];
    for (unsigned i = 1; i < 512; i++)
        if (root[i] & PTE_P)
            n[i] = (uintptr_t)copy_table(table(root[i]), 3) | (root[i] & ~PTE_ADDR_MASK);
    return n;
}

void paging_init(void)
{
    pte_t *pdpt, *pt0;

    kernel_root = alloc_page();
    pdpt = alloc_page();
    kernel_root[0] = (uintptr_t)pdpt | PTE_P | PTE_W | PTE_U;
    for (unsigned g = 0; g < IDENT_MAP_END >> 30; g++) {
        pte_t *pd = alloc_page();
        uint64_t flags = PTE_P | PTE_W | PTE_U | PTE_PS;

        if (g == 3)
            flags |= PTE_PCD | PTE_PWT;     /* MMIO (APIC, IOAPIC, HPET, ...) */
        pdpt[g] = (uintptr_t)pd | PTE_P | PTE_W | PTE_U;
        for (unsigned i = 0; i < 512; i++)
            pd[i] = ((uint64_t)g << 30) + ((uint64_t)i << 21) + flags;
    }
    /* First 2 MiB in 4 KiB pages, page 0 not present. */
    pt0 = alloc_page();
    for (unsigned i = 1; i < 512; i++)
        pt0[i] = (i * PAGE_SIZE) | PTE_P | PTE_W | PTE_U;
    table(pdpt[0])[0] = (uintptr_t)pt0 | PTE_P | PTE_W | PTE_U;

    write_cr3((uintptr_t)kernel_root);
}
