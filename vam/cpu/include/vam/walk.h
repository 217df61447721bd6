/*
 * The guest's page tables, walked as a 64-bit CPU walks them (SDM vol. 3,
 * 4.5 "4-level paging"): from CR3, through the guest's PML4, PDPT, PD and
 * PT in guest RAM, with 4 KiB, 2 MiB and 1 GiB pages.
 *
 * Honoured: P, R/W, U/S, XD (when EFER.NXE), CR0.WP, CR4.PGE (the G bit is
 * reported as global only with PGE), reserved bits (address bits at and
 * above maxphyaddr, XD without NXE, PS in a PML4E, PS in a PDPTE without 1
 * GiB pages, the reserved low bits of large-page entries) giving the RSVD
 * error-code bit, and the accessed/dirty bits: on a successful translation
 * A is set in every entry used and D in the leaf for a write, atomically,
 * only when not already set.  A walk that faults sets nothing.
 * Not modelled (the VAM hides them from the guest's CPUID): SMEP, SMAP,
 * protection keys, 5-level paging, PCID.
 *
 * The access bits are chosen to coincide with the #PF error code's W, U and
 * I bits.  An "implicit supervisor" access (the CPU reading the IDT, GDT or
 * TSS, or writing an interrupt frame after a privilege change) is a
 * supervisor access whatever the CPL: leave VAM_ACC_USER out.
 */
#ifndef VAM_WALK_H
#define VAM_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "vam/vcpu.h"

#define VAM_ACC_READ  0x00u
#define VAM_ACC_WRITE 0x02u     /* = X86_PF_W */
#define VAM_ACC_USER  0x04u     /* = X86_PF_U: a CPL-3 access */
#define VAM_ACC_FETCH 0x10u     /* = X86_PF_I */

enum vam_walk_status {
    VAM_WALK_OK,
    VAM_WALK_FAULT,             /* #PF with error_code, at va */
    VAM_WALK_NONCANONICAL,      /* #GP(0) or #SS(0) for the caller to pick */
    VAM_WALK_BAD_GPA,           /* a table or the page lies outside guest RAM (v->bad_gpa) */
};

struct vam_walk {
    uint64_t va;                /* the address translated (for faults: the one for CR2) */
    uint64_t gpa;               /* OK: va's guest-physical address */
    uint64_t page_gpa;          /* OK: the leaf page's base, and its size */
    uint64_t page_size;         /* 4096, 2 MiB or 1 GiB */
    bool writable;              /* R/W = 1 at every level */
    bool user;                  /* U/S = 1 at every level */
    bool nx;                    /* XD = 1 at some level and EFER.NXE */
    bool global;                /* G in the leaf and CR4.PGE */
    bool dirty;                 /* D in the leaf (after this walk's update) */
    uint32_t error_code;        /* FAULT: the #PF error code the CPU would give */
    unsigned levels;            /* OK: entries used, 1-4 (4 for a 4 KiB page) */
    uint64_t entry_gpa[4];      /* OK: guest-physical address of each entry used, PML4E first */
    /* BAD_GPA: the tables are in RAM and allow the access, the page itself
     * (gpa, with levels, writable, user, nx) lies outside: memory-mapped
     * I/O if a device decodes gpa.  false for every other outcome. */
    bool io;
};

/* Translates va for `access` (VAM_ACC_*).  Fills *w in every case. */
enum vam_walk_status vam_walk(struct vam_vcpu *v, uint64_t va, unsigned access,
                              struct vam_walk *w);

/* Guest-virtual memory copies, page by page, all pages translated before a
 * byte moves (so a fault leaves guest memory untouched).  On failure *w
 * describes the first page that failed (w->va = the first byte of the access
 * inside that page, the address for CR2). */
enum vam_walk_status vam_gva_read(struct vam_vcpu *v, uint64_t va, void *dst, uint64_t len,
                                  unsigned access, struct vam_walk *w);
enum vam_walk_status vam_gva_write(struct vam_vcpu *v, uint64_t va, const void *src,
                                   uint64_t len, unsigned access, struct vam_walk *w);

#endif
