/*
 * Events delivered to the guest through its IDT, and the instructions that
 * change privilege level (iretq, syscall, sysretq), as a 64-bit CPU
 * performs them (SDM vol. 3 ch. 6 "Interrupt and exception handling",
 * vol. 2 INT n / IRET / SYSCALL / SYSRET).
 *
 * Delivery of vector V (vam_deliver):
 *  - reads the 16-byte gate at IDTR.base + 16 V (limit checked: #GP(8V+2+EXT)),
 *    a 64-bit interrupt (type 14) or trap (15) gate, else #GP(8V+2+EXT);
 *    for int n / int3 / into a gate DPL below CPL gives #GP(8V+2); a gate
 *    that is not present #NP(8V+2+EXT);
 *  - checks the gate's code segment in the GDT/LDT (null: #GP(EXT); beyond
 *    the limit, not code, DPL > CPL, not 64-bit: #GP(sel+EXT); not present:
 *    #NP(sel+EXT)); the new CPL is its DPL (the CPL for a conforming one);
 *  - picks the stack: to a more privileged level TSS.RSP[new CPL] with SS
 *    null (RPL = new CPL); else the current RSP; a nonzero IST index in the
 *    gate overrides both with TSS.IST[n]; the TSS limit is checked (#TS),
 *    the new RSP must be canonical (#SS(EXT)), and is aligned down to 16;
 *  - pushes SS, RSP, RFLAGS, CS, RIP and the error code (if any) to the
 *    new stack, as the guest sees them (its own selectors, its virtual IF
 *    and IOPL), checking every page of the frame before writing a byte;
 *  - clears TF, NT, RF (and IF for an interrupt gate), loads CS:RIP from
 *    the gate and the new SS:RSP, and clears the interrupt shadow.
 * A fault while delivering (reading the IDT, GDT or TSS, or writing the
 * frame) is handled as the CPU handles it (SDM table 6-5): benign first
 * event or a page fault after a contributory one: the new fault is
 * delivered instead; contributory after contributory, or contributory or
 * page fault after a page fault: #DF(0); any fault while delivering #DF:
 * triple fault (VAM_CPU_TRIPLE_FAULT, the caller shuts the VM down).  A #PF
 * loads CR2 when it is raised, also one that turns into #DF.  Guest
 * registers and the vCPU change only when a delivery succeeds (guest memory
 * may have had accessed/dirty bits set by the walks, as on hardware); a
 * frame write is all or nothing, so a #DF never finds half a frame.
 *
 * Registers: regs->rip is the address the frame records (the faulting
 * instruction for a fault, the next instruction for a trap, int n, or an
 * interrupt at a boundary); regs->rsp/rflags are the interrupted ones.  For
 * int n / int3 / into that fault in delivery (e.g. the DPL check) the fault
 * reports rip - insn_len, the instruction.  On success regs->cs/ss are the
 * back end's selectors for the new mode (vcpu.h), and the vCPU holds the
 * guest's.
 */
#ifndef VAM_INJECT_H
#define VAM_INJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "vam/regs.h"
#include "vam/vcpu.h"

enum vam_event_kind {
    VAM_EV_EXCEPTION,           /* detected by the CPU (fault, trap, abort): EXT = 1 */
    VAM_EV_EXTINT,              /* external interrupt: no error code, EXT = 1 */
    VAM_EV_SOFTINT,             /* int n: gate DPL checked, no error code, EXT = 0 */
    VAM_EV_SOFTEXC,             /* int3 (#BP) and into (#OF): gate DPL checked, EXT = 0 */
};

struct vam_event {
    uint8_t kind;               /* enum vam_event_kind */
    uint8_t vector;
    bool has_error_code;
    uint32_t error_code;
    uint64_t cr2;               /* #PF: the faulting address, loaded into CR2 */
    uint8_t insn_len;           /* SOFTINT/SOFTEXC: the instruction's length (int n 2,
                                 * int3 and into 1): regs->rip is past it, and a fault
                                 * while delivering reports the instruction itself */
};

enum vam_cpu_result {
    VAM_CPU_OK,                 /* done: resume the guest with regs */
    VAM_CPU_NONE,               /* nothing to do (no deliverable interrupt) */
    VAM_CPU_TRIPLE_FAULT,       /* the CPU would shut down */
    VAM_CPU_ERROR,              /* VAM-level failure: v->error says why */
};

/* Whether the CPU pushes an error code for exception `vector`
 * (8, 10-14, 17, 21, 29, 30). */
bool vam_exception_has_error_code(unsigned vector);
/* An exception event (error code kept only where the vector has one). */
struct vam_event vam_exception(unsigned vector, uint32_t error_code, uint64_t cr2);

enum vam_cpu_result vam_deliver(struct vam_vcpu *v, struct vam_regs *r,
                                const struct vam_event *ev);

/* The highest deliverable pending interrupt (vam_irq_deliverable), if any:
 * clears its pending bit and delivers it as an external interrupt.  Call
 * only at a guest instruction boundary, with regs->rip at the next guest
 * instruction; VAM_CPU_NONE if nothing is deliverable now. */
enum vam_cpu_result vam_irq_deliver(struct vam_vcpu *v, struct vam_regs *r);

/* iretq (64-bit operand size): regs->rip at the iretq (faults report it),
 * regs->rsp at the frame.  Pops RIP, CS, RFLAGS, RSP, SS; checks CS and SS
 * against the GDT/LDT as the CPU does (#GP/#NP/#SS with the selector);
 * loads RFLAGS under the CPL/IOPL rules (IF needs CPL <= IOPL; IOPL, VIF,
 * VIP need CPL 0); on a return to an outer level nulls ES, DS, FS, GS when
 * their segments are more privileged than the new CPL.  A fault is
 * delivered (result as vam_deliver).  Returns to compatibility mode (a CS
 * without L) are not supported (VAM_CPU_ERROR). */
enum vam_cpu_result vam_iretq(struct vam_vcpu *v, struct vam_regs *r);

/* syscall, 64-bit mode: regs->rip at the *next* instruction (as back ends
 * report it).  rcx = rip, r11 = RFLAGS, rip = LSTAR, CS = STAR[47:32] & ~3,
 * SS = STAR[47:32] + 8, CPL 0, RFLAGS &= ~SFMASK (RF cleared in both).  With
 * EFER.SCE clear: #UD at the syscall (rip - 2). */
enum vam_cpu_result vam_syscall(struct vam_vcpu *v, struct vam_regs *r);

/* sysretq: regs->rip at the sysret (faults report it).  #UD without
 * EFER.SCE, #GP(0) at CPL > 0 or with a non-canonical rcx (Intel); else
 * rip = rcx, RFLAGS = (r11 & 0x3c7fd7) | 2, CS = STAR[63:48] + 16 | 3,
 * SS = STAR[63:48] + 8 | 3, CPL 3. */
enum vam_cpu_result vam_sysretq(struct vam_vcpu *v, struct vam_regs *r);

#endif
