/*
 * The guest's register file at a VAM boundary (thesis 4.4.1: the boundary
 * state).  Layout fixed because assembly entry stubs in the back ends build
 * it on the stack: general registers first, then the hardware iretq frame.
 */
#ifndef VAM_REGS_H
#define VAM_REGS_H

#ifndef __ASSEMBLER__
#include <stdint.h>

struct vam_regs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10;
    uint64_t r9, r8, rax, rcx, rdx, rsi, rdi;
    uint64_t rip, cs, rflags, rsp, ss;
};
#endif

#define VAM_REGS_R15 0
#define VAM_REGS_RBX 40
#define VAM_REGS_R11 48
#define VAM_REGS_RAX 80
#define VAM_REGS_RCX 88
#define VAM_REGS_RDI 112
#define VAM_REGS_RIP 120
#define VAM_REGS_CS 128
#define VAM_REGS_RFLAGS 136
#define VAM_REGS_RSP 144
#define VAM_REGS_SS 152
#define VAM_REGS_SIZE 160

#ifndef __ASSEMBLER__
_Static_assert(sizeof(struct vam_regs) == VAM_REGS_SIZE, "vam_regs layout");
_Static_assert(__builtin_offsetof(struct vam_regs, rip) == VAM_REGS_RIP, "vam_regs layout");
_Static_assert(__builtin_offsetof(struct vam_regs, rax) == VAM_REGS_RAX, "vam_regs layout");

/* Hardware register number (0 = rax ... 15 = r15, as ModRM and REX number
 * them; only the low 4 bits count) to its slot.  Inline so that the front
 * end (vam/mmio.c) and the emulator (vam_emul_reg) share it without a
 * link-time dependency between them. */
static inline uint64_t *vam_regs_gpr(struct vam_regs *r, unsigned num)
{
    switch (num & 15u) {
    case 0: return &r->rax;
    case 1: return &r->rcx;
    case 2: return &r->rdx;
    case 3: return &r->rbx;
    case 4: return &r->rsp;
    case 5: return &r->rbp;
    case 6: return &r->rsi;
    case 7: return &r->rdi;
    case 8: return &r->r8;
    case 9: return &r->r9;
    case 10: return &r->r10;
    case 11: return &r->r11;
    case 12: return &r->r12;
    case 13: return &r->r13;
    case 14: return &r->r14;
    default: return &r->r15;
    }
}
#endif

#endif
