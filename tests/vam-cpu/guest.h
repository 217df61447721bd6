/*
 * Builds guest state in the fake back end's RAM: page tables, a Linux-like
 * GDT, an IDT, a 64-bit TSS, and a vCPU pointing at them.
 */
#ifndef VAM_CPU_GUEST_H
#define VAM_CPU_GUEST_H

#include <stdint.h>

#include "vam/vcpu.h"

#define RAM_SIZE (32ull << 20)

#define PTE_P  0x001ull
#define PTE_RW 0x002ull
#define PTE_US 0x004ull
#define PTE_A  0x020ull
#define PTE_D  0x040ull
#define PTE_PS 0x080ull
#define PTE_G  0x100ull
#define PTE_XD (1ull << 63)

/* Linux x86-64 selectors */
#define KERNEL_CS 0x10
#define KERNEL_DS 0x18
#define USER32_CS 0x23
#define USER_DS   0x2b
#define USER_CS   0x33
#define TSS_SEL   0x40
#define LDT_SEL   0x50
#define DATA_DPL0_CS3 0x60      /* extra entries for tests */
#define BAD_CS_NP 0x68          /* 64-bit kernel code, not present */
#define CODE32_K  0x70          /* 32-bit kernel code (no L) */

/* The standard environment's layout (guest-virtual -> guest-physical). */
#define KBASE       0xffffffff81000000ull      /* 64 KiB kernel data, gpa KBASE_GPA */
#define KBASE_GPA   0x400000ull
#define GDT_VA      (KBASE + 0x0000)
#define IDT_VA      (KBASE + 0x1000)
#define TSS_VA      (KBASE + 0x2000)
#define LDT_VA      (KBASE + 0x3000)
#define RSP0_TOP    (KBASE + 0x9000)            /* stack page KBASE+0x8000 */
#define IST1_TOP    (KBASE + 0xb000)            /* stack page KBASE+0xa000 */
#define KSTACK_TOP  (KBASE + 0xd000)            /* current kernel stack, page KBASE+0xc000 */
#define IST2_TOP    (KBASE + 0xf000)            /* IST2 points at an UNMAPPED page */
#define HANDLER(v)  (0xffffffff82000000ull + 0x100ull * (v))
#define USER_BASE   0x400000ull                 /* 16 pages user code/data, gpa 0x800000 */
#define USER_GPA    0x800000ull
#define USTACK_TOP  0x800000ull                 /* user stack page 0x7ff000, gpa 0x900000 */
#define USTACK_GPA  0x900000ull

/* guest-physical helpers */
uint64_t gpa_rd64(uint64_t gpa);
void gpa_wr64(uint64_t gpa, uint64_t val);

/* Page-table frames are handed out from 1 MiB up. */
void pt_reset(void);
uint64_t pt_alloc(void);
uint64_t pt_new_root(void);
/* Maps va -> gpa as a leaf at `level` (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB) with
 * the leaf's flags `leaf` (P included by the caller) and flags `upper` on
 * the tables above (created on demand; existing ones are OR'ed with upper). */
void pt_map(uint64_t root, uint64_t va, uint64_t gpa, unsigned level, uint64_t leaf,
            uint64_t upper);
/* Guest-physical address of va's entry at `level` (4 = PML4E ... 1 = PTE),
 * following the existing tables; 0 if a table on the way is missing. */
uint64_t pt_entry(uint64_t root, uint64_t va, unsigned level);

struct guest {
    struct vam_vcpu v;
    struct vam_fixed fixed;
    struct vam_regs r;
    uint64_t cr3;
};

/* Fresh RAM; vCPU at power-on state with a fresh empty CR3 root. */
void guest_bare(struct guest *g);
/* The standard environment: kernel and user mappings as laid out above,
 * GDT (Linux layout, TSS at 0x40), TSS (RSP0, IST1, IST2), empty IDT, TR
 * loaded; EFER.SCE|NXE, CR4.PGE; CPL 0 with CS 0x10 / SS 0x18 and
 * rsp = KSTACK_TOP - 0x100, rip = 0xffffffff81234567, rflags IF=1. */
void guest_standard(struct guest *g);
/* An IDT gate: type 14 (interrupt) or 15 (trap). */
void guest_gate(struct guest *g, unsigned vec, uint64_t target, uint16_t sel, unsigned type,
                unsigned dpl, unsigned ist, int present);
/* Sets gates for every vector 0..255 to HANDLER(v), interrupt gates, DPL 0. */
void guest_all_gates(struct guest *g);
/* Switches the vCPU to user mode: CS 0x33, SS 0x2b, rsp, rip. */
void guest_to_user(struct guest *g, uint64_t rip, uint64_t rsp);

/* guest-virtual 64-bit read through the standard mappings' walk (asserts) */
uint64_t gva_rd64(struct guest *g, uint64_t va);
void gva_wr64(struct guest *g, uint64_t va, uint64_t val);

#endif
