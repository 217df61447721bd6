/*
 * The virtual CPU's architectural state: what a 64-bit x86 CPU keeps that
 * the deprivileged guest kernel may not hold in hardware (thesis 4.4).
 *
 * Split in two:
 *  - the hot fields the rewritten guest code touches directly (virtual
 *    RFLAGS with IF and IOPL, the segment selectors, the "interrupt pending"
 *    byte) live in the fixed-address area of vam/layout.h (struct
 *    vam_fixed); the vCPU points at it;
 *  - everything else lives in struct vam_vcpu.
 *
 * Conventions:
 *  - cpl is the privilege level the guest believes it runs at (0 kernel,
 *    3 user; 1 and 2 count as kernel mode for the back end).  The back end
 *    only knows two modes: struct vam_regs.cs with RPL 0 is kernel mode, RPL
 *    3 user mode.  The values put into regs->cs/ss are the back end's
 *    (be_cs/be_ss below); the guest's own selectors are kept in
 *    fixed->sel[] and are what the guest sees in interrupt frames.
 *  - The guest's RFLAGS is regs->rflags (hardware status flags) merged with
 *    fixed->rflags for the virtual bits (IF, IOPL): vam_guest_rflags().
 *    The guest always runs with hardware IF = 1 so that hypervisor events
 *    reach the VAM, which holds them pending while the virtual IF is 0.
 *  - Guest memory is reached only through be_memory()->window, by
 *    guest-physical address (vam_gpa_ptr), or by guest-virtual address after
 *    a walk of the guest's page tables (walk.h).
 */
#ifndef VAM_VCPU_H
#define VAM_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "vam/backend.h"
#include "vam/layout.h"
#include "vam/regs.h"

/* ---- architectural constants ------------------------------------------------ */

#define X86_RFLAGS_CF   0x00000001ull
#define X86_RFLAGS_FIXED 0x00000002ull  /* bit 1, always 1 */
#define X86_RFLAGS_PF   0x00000004ull
#define X86_RFLAGS_AF   0x00000010ull
#define X86_RFLAGS_ZF   0x00000040ull
#define X86_RFLAGS_SF   0x00000080ull
#define X86_RFLAGS_TF   0x00000100ull
#define X86_RFLAGS_IF   0x00000200ull
#define X86_RFLAGS_DF   0x00000400ull
#define X86_RFLAGS_OF   0x00000800ull
#define X86_RFLAGS_IOPL 0x00003000ull
#define X86_RFLAGS_NT   0x00004000ull
#define X86_RFLAGS_RF   0x00010000ull
#define X86_RFLAGS_VM   0x00020000ull
#define X86_RFLAGS_AC   0x00040000ull
#define X86_RFLAGS_VIF  0x00080000ull
#define X86_RFLAGS_VIP  0x00100000ull
#define X86_RFLAGS_ID   0x00200000ull
/* the bits the VAM keeps authoritative in fixed->rflags */
#define VAM_VIRT_RFLAGS (X86_RFLAGS_IF | X86_RFLAGS_IOPL)

#define X86_CR0_PE (1ull << 0)
#define X86_CR0_MP (1ull << 1)
#define X86_CR0_EM (1ull << 2)
#define X86_CR0_TS (1ull << 3)
#define X86_CR0_ET (1ull << 4)
#define X86_CR0_NE (1ull << 5)
#define X86_CR0_WP (1ull << 16)
#define X86_CR0_AM (1ull << 18)
#define X86_CR0_NW (1ull << 29)
#define X86_CR0_CD (1ull << 30)
#define X86_CR0_PG (1ull << 31)

#define X86_CR4_TSD   (1ull << 2)
#define X86_CR4_DE    (1ull << 3)
#define X86_CR4_PSE   (1ull << 4)
#define X86_CR4_PAE   (1ull << 5)
#define X86_CR4_PGE   (1ull << 7)
#define X86_CR4_LA57  (1ull << 12)
#define X86_CR4_PCIDE (1ull << 17)
#define X86_CR4_SMEP  (1ull << 20)
#define X86_CR4_SMAP  (1ull << 21)
#define X86_CR4_PKE   (1ull << 22)

#define X86_EFER_SCE (1ull << 0)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)
#define X86_EFER_NXE (1ull << 11)

/* exception vectors */
enum {
    X86_EXC_DE = 0, X86_EXC_DB = 1, X86_EXC_NMI = 2, X86_EXC_BP = 3, X86_EXC_OF = 4,
    X86_EXC_BR = 5, X86_EXC_UD = 6, X86_EXC_NM = 7, X86_EXC_DF = 8, X86_EXC_TS = 10,
    X86_EXC_NP = 11, X86_EXC_SS = 12, X86_EXC_GP = 13, X86_EXC_PF = 14, X86_EXC_MF = 16,
    X86_EXC_AC = 17, X86_EXC_MC = 18, X86_EXC_XM = 19, X86_EXC_VE = 20, X86_EXC_CP = 21,
};

/* #PF error-code bits */
#define X86_PF_P    0x01u
#define X86_PF_W    0x02u
#define X86_PF_U    0x04u
#define X86_PF_RSVD 0x08u
#define X86_PF_I    0x10u

/* selector error-code bits (#GP, #NP, #SS, #TS) */
#define X86_EC_EXT 0x1u
#define X86_EC_IDT 0x2u
#define X86_EC_TI  0x4u

/* segment registers, in the x86 encoding order (= layout.h sel[]) */
enum vam_seg { VAM_SEG_ES, VAM_SEG_CS, VAM_SEG_SS, VAM_SEG_DS, VAM_SEG_FS, VAM_SEG_GS,
               VAM_SEG_COUNT };

/* ---- the state ---------------------------------------------------------------- */

struct vam_dtr {            /* GDTR, IDTR: base is a guest-virtual address */
    uint64_t base;
    uint16_t limit;
};

struct vam_vcpu {
    struct vam_fixed *fixed;    /* hot fields: rflags (IF, IOPL), sel[6], irq_pending
                                 * (kept = "some vector is pending", whatever IF says) */

    unsigned cpl;               /* 0..3, as the guest believes; = fixed->sel[CS] & 3 */

    uint64_t cr0, cr2, cr3, cr4, cr8;   /* cr3: as written (bits 51:12 = the guest's L4) */
    uint64_t efer;
    struct vam_dtr gdtr, idtr;

    uint16_t ldtr;              /* LDT selector and its cached descriptor */
    uint64_t ldt_base;
    uint32_t ldt_limit;
    uint16_t tr;                /* TR selector and its cached 64-bit TSS descriptor */
    uint64_t tss_base;          /* guest-virtual */
    uint32_t tss_limit;

    uint64_t fs_base, gs_base, kernel_gs_base;     /* IA32_FS_BASE, GS_BASE, KERNEL_GS_BASE */
    uint64_t star, lstar, cstar, sfmask;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pat;
    uint64_t tsc_aux;

    /* Interrupts: a pending bit per vector (external interrupts waiting for
     * virtual IF, TPR and a guest instruction boundary), the interrupt shadow
     * of sti / mov ss (blocks delivery until the next instruction has
     * completed; the emulator that sets it clears it), and a nesting count of
     * VAM emulation in progress (thesis 4.4.1: nothing is delivered in the
     * middle of an emulated instruction). */
    uint64_t irq_pending[4];
    bool irq_shadow;
    unsigned emulating;

    /* The CPU model's parameters the guest sees through CPUID. */
    unsigned maxphyaddr;        /* physical-address width (reserved-bit checks); default 52 */
    bool gbpages;               /* 1 GiB pages supported; default true */
    bool compat_user;             /* user mode may run 32-bit code (iretq to a compatibility-mode
                                     * code segment): the back end runs on the guest's own selectors */

    /* The back end's selectors for regs->cs/regs->ss: index 0 kernel mode
     * (RPL 0), 1 user mode (RPL 3).  Default: the bare RPL (0 / 3); a front
     * end whose back end needs real selectors sets them with
     * vam_vcpu_set_backend_selectors. */
    uint16_t be_cs[2], be_ss[2];

    /* Set when a guest-physical address outside guest RAM was reached
     * (the VAM-visible error of walks and deliveries). */
    uint64_t bad_gpa;
    const char *error;          /* the last VAM_CPU_ERROR's reason (static text) */
};

/* Power-on state for a guest entered at its 64-bit entry point: CPL 0,
 * IF = 0, long mode with paging on (CR0 PE|MP|ET|NE|WP|PG, CR4 PAE,
 * EFER LME|LMA), architectural PAT reset value, no pending interrupts.
 * In the hot area `fixed` only the vCPU's fields are set (rflags = 0x2,
 * selectors, gs_swapped and irq_pending 0); its entry and jump tables are
 * left alone. */
void vam_vcpu_init(struct vam_vcpu *v, struct vam_fixed *fixed);
void vam_vcpu_set_backend_selectors(struct vam_vcpu *v, uint16_t kernel_cs, uint16_t kernel_ss,
                                    uint16_t user_cs, uint16_t user_ss);

/* Sets the guest CPL and CS/SS selectors and the matching back-end mode in
 * regs (cs/ss become be_cs/be_ss of the mode). */
void vam_vcpu_set_mode(struct vam_vcpu *v, struct vam_regs *r, uint16_t cs, uint16_t ss);
/* Whether regs->cs's RPL (the back end's mode) agrees with the guest CPL. */
bool vam_vcpu_mode_consistent(const struct vam_vcpu *v, const struct vam_regs *r);

/* Guest-visible RFLAGS (hardware status flags + virtual IF/IOPL), and the
 * reverse: stores IF/IOPL in the vCPU and puts what the hardware must run
 * with into regs->rflags (IF = 1, IOPL = 0, VM/VIF/VIP = 0, bit 1 = 1). */
uint64_t vam_guest_rflags(const struct vam_vcpu *v, const struct vam_regs *r);
void vam_set_guest_rflags(struct vam_vcpu *v, struct vam_regs *r, uint64_t rflags);
static inline bool vam_vcpu_if(const struct vam_vcpu *v)
{
    return (v->fixed->rflags & X86_RFLAGS_IF) != 0;
}

/* Guest-physical memory: a pointer into the window for [gpa, gpa+len), or
 * NULL (and v->bad_gpa set) when any byte lies outside guest RAM. */
uint8_t *vam_gpa_ptr(struct vam_vcpu *v, uint64_t gpa, uint64_t len);

static inline bool vam_canonical(uint64_t va)
{
    return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/* ---- pending interrupts ------------------------------------------------------ */

void vam_irq_raise(struct vam_vcpu *v, unsigned vector);
void vam_irq_clear(struct vam_vcpu *v, unsigned vector);
bool vam_irq_is_pending(const struct vam_vcpu *v, unsigned vector);
/* Highest pending vector, or -1. */
int vam_irq_highest(const struct vam_vcpu *v);
/* The vector that may be delivered now, or -1: a pending vector whose
 * priority class (vector >> 4) is above CR8 (when CR8 != 0), virtual IF = 1,
 * no interrupt shadow, no emulation in progress.  (inject.h delivers it.) */
int vam_irq_deliverable(const struct vam_vcpu *v);

/* Brackets of VAM emulation of one guest instruction (nestable). */
static inline void vam_vcpu_emul_enter(struct vam_vcpu *v)
{
    v->emulating++;
}
static inline void vam_vcpu_emul_leave(struct vam_vcpu *v)
{
    v->emulating--;
}

#endif
