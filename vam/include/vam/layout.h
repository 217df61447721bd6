/*
 * The VAM's fixed-address area: the virtual CPU's hot fields and the table of
 * VAM entry points, at a fixed address in the top 2 GiB of the address space
 * (abi.h: 0xffffffffffe00000, above Linux's fixmap, left to the guest by Xen
 * PV).  Every rewritten site reaches it with a sign-extended 32-bit absolute
 * address (ModRM 04 + SIB 25 + disp32), from anywhere, without relocation:
 *
 *   cli          andb $~IF, VAM_ADDR(VAM_OFF_IF_BYTE)     80 24 25 d32 fd   8 bytes
 *   pushf        pushq VAM_ADDR(VAM_OFF_RFLAGS)           ff 34 25 d32      7
 *   swapgs       xorb $1, VAM_ADDR(VAM_OFF_GS_SWAPPED)    80 34 25 d32 01   8
 *   mov %ds,%ax  movw VAM_ADDR(VAM_OFF_SEL(ds)), %ax      66 8b 04 25 d32   8
 *   hlt          call *VAM_ADDR(VAM_OFF_ENTRY(kind))       ff 14 25 d32      7
 *   sysret       jmp *VAM_ADDR(VAM_OFF_JUMP(slot))         ff 24 25 d32      7
 *
 * The layout is part of the contract between the rewriter (which bakes these
 * addresses into the guest's code) and the VAM run time (which maps the area
 * and keeps the fields).  One area per address space: with one virtual CPU;
 * SMP guests would need a per-CPU mapping of it.
 */
#ifndef VAM_LAYOUT_H
#define VAM_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define VAM_LAYOUT_BASE     0xffffffffffe00000ull
#define VAM_LAYOUT_SIZE     0x1000ull           /* one page */

#define VAM_ENTRY_SLOTS     64      /* indexed by kind id (enum ab_kind), slot 0 unused */
#define VAM_JUMP_SLOTS      128     /* one per site rewritten to a jmp */

/* Virtual RFLAGS bits the area keeps authoritative. */
#define VAM_RFLAGS_IF       0x200ull
#define VAM_RFLAGS_IOPL     0x3000ull
#define VAM_RFLAGS_FIXED    0x2ull              /* bit 1 always reads as 1 */

struct vam_fixed {
    /* 0x000: the virtual CPU's hot fields (one cache line) */
    uint64_t rflags;            /* virtual RFLAGS: IF and IOPL are the guest's; pushf pushes
                                 * this word (status flags as last stored by the VAM) */
    uint8_t gs_swapped;         /* toggled by swapgs: 1 = the guest's other GS base is active */
    uint8_t irq_pending;        /* set by the back end when an interrupt awaits delivery */
    uint16_t reserved0;
    uint32_t jump_slot;         /* written by the jump landing stubs: which slot was taken */
    uint64_t sel[6];            /* virtual selectors es, cs, ss, ds, fs, gs; zero-extended to
                                 * 64 bits so that pushq of one is push of the segment */
    uint64_t reserved1[24];
    /* 0x100: VAM entry points for `call *`, one per kind */
    uint64_t entry[VAM_ENTRY_SLOTS];
    /* 0x300: targets for `jmp *`, one per jump site (landing stubs that record the slot) */
    uint64_t jump[VAM_JUMP_SLOTS];
};

#define VAM_OFF_RFLAGS      0x000u
#define VAM_OFF_IF_BYTE     0x001u      /* byte of rflags holding IF (bit 9) */
#define VAM_IF_BYTE_MASK    0x02u       /* IF within that byte */
#define VAM_OFF_GS_SWAPPED  0x008u
#define VAM_OFF_IRQ_PENDING 0x009u
#define VAM_OFF_JUMP_SLOT   0x00cu
#define VAM_OFF_SEL(s)      (0x010u + 8u * (unsigned)(s))
#define VAM_OFF_ENTRY(k)    (0x100u + 8u * (unsigned)(k))
#define VAM_OFF_JUMP(j)     (0x300u + 8u * (unsigned)(j))
#define VAM_OFF_END         0x700u

_Static_assert(offsetof(struct vam_fixed, rflags) == VAM_OFF_RFLAGS, "layout");
_Static_assert(offsetof(struct vam_fixed, gs_swapped) == VAM_OFF_GS_SWAPPED, "layout");
_Static_assert(offsetof(struct vam_fixed, irq_pending) == VAM_OFF_IRQ_PENDING, "layout");
_Static_assert(offsetof(struct vam_fixed, jump_slot) == VAM_OFF_JUMP_SLOT, "layout");
_Static_assert(offsetof(struct vam_fixed, sel) == VAM_OFF_SEL(0), "layout");
_Static_assert(offsetof(struct vam_fixed, entry) == VAM_OFF_ENTRY(0), "layout");
_Static_assert(offsetof(struct vam_fixed, jump) == VAM_OFF_JUMP(0), "layout");
_Static_assert(sizeof(struct vam_fixed) == VAM_OFF_END, "layout");
_Static_assert(VAM_OFF_END <= VAM_LAYOUT_SIZE, "layout fits its page");
/* The whole area is reachable with a sign-extended disp32. */
_Static_assert(VAM_LAYOUT_BASE >= 0xffffffff80000000ull, "top 2 GiB");

/* Guest virtual address of a field, and the disp32 that encodes it. */
#define VAM_ADDR(off)       (VAM_LAYOUT_BASE + (uint64_t)(off))
static inline int32_t vam_abs32(unsigned off)
{
    return (int32_t)(uint32_t)VAM_ADDR(off);
}

#endif
