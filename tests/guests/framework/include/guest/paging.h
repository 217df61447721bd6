/*
 * 4-level paging.  The framework's page tables identity-map [0, 4 GiB)
 * (virtual == guest-physical): 4 KiB pages for the first 2 MiB with page 0
 * not present (NULL dereferences fault), 2 MiB pages above, all present,
 * writable and user-accessible (SMEP/SMAP stay off, so exec_user() can run
 * any function of the image), [3 GiB, 4 GiB) uncached for MMIO.
 * PML4 slots 1..255 (from TEST_VA_BASE up to the canonical hole) are free
 * for tests.  Page tables come from a fixed pool in .bss.
 */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#define PAGE_SHIFT        12
#define PAGE_SIZE         (1UL << PAGE_SHIFT)
#define LARGE_PAGE_SHIFT  21
#define LARGE_PAGE_SIZE   (1UL << LARGE_PAGE_SHIFT)

#define PTE_P    (1ULL << 0)
#define PTE_W    (1ULL << 1)
#define PTE_U    (1ULL << 2)
#define PTE_PWT  (1ULL << 3)
#define PTE_PCD  (1ULL << 4)
#define PTE_A    (1ULL << 5)
#define PTE_D    (1ULL << 6)
#define PTE_PS   (1ULL << 7)    /* in a PD entry: 2 MiB leaf */
#define PTE_G    (1ULL << 8)
#define PTE_NX   (1ULL << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ULL

#define IDENT_MAP_END     0x100000000ULL            /* 4 GiB */
#define TEST_VA_BASE      0x0000008000000000ULL     /* PML4 slot 1 */

typedef uint64_t pte_t;

/* The framework's PML4 (its address is what CR3 holds). */
pte_t *pt_kernel_root(void);

/* A zeroed page from the pool (panics when the pool is empty). */
void *alloc_page(void);

/*
 * Map, unmap and modify leaves in the tables under `root`.  flags are PTE_*
 * bits (PTE_P implied).  Intermediate tables are created as needed, with P,
 * W and U set, so the leaf alone decides.  Mapping a 4 KiB page inside an
 * existing 2 MiB leaf splits it.  When root is the active CR3, the TLB entry
 * is flushed (invlpg) after every change.
 */
void map_4k(pte_t *root, uintptr_t va, uint64_t pa, uint64_t flags);
void map_2m(pte_t *root, uintptr_t va, uint64_t pa, uint64_t flags);
void unmap(pte_t *root, uintptr_t va);
/* Leaf entry for va (level 1 = 4 KiB, 2 = 2 MiB), or NULL if unmapped. */
pte_t *pte_lookup(pte_t *root, uintptr_t va, unsigned *level);
/* Set and clear leaf flag bits; returns the old entry (0 if unmapped). */
pte_t pte_update(pte_t *root, uintptr_t va, uint64_t set, uint64_t clear);
/* A new PML4 that shares slot 0 (the identity map) with `root` and has
 * private copies of the tables of every other slot, so map_*() on either
 * root leaves the other alone. */
pte_t *pt_clone_root(pte_t *root);

/* Current root from CR3 (PCID bits masked). */
pte_t *pt_active_root(void);

#endif
