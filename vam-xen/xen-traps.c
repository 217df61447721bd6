/*
 * Exceptions on Xen: the trap table and the common C entry, which hands the
 * guest's boundary state to the front end (vam_fe_exception).
 */
#include "hypercall.h"
#include "vam/backend.h"
#include "xen-events.h"
#include "xen-traps.h"

struct vamxen_trap_frame {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

#define DECLARE_TRAP(n) extern char vamxen_trap_##n[];
DECLARE_TRAP(0) DECLARE_TRAP(1) DECLARE_TRAP(2) DECLARE_TRAP(3) DECLARE_TRAP(4)
DECLARE_TRAP(5) DECLARE_TRAP(6) DECLARE_TRAP(7) DECLARE_TRAP(8) DECLARE_TRAP(9)
DECLARE_TRAP(10) DECLARE_TRAP(11) DECLARE_TRAP(12) DECLARE_TRAP(13) DECLARE_TRAP(14)
DECLARE_TRAP(15) DECLARE_TRAP(16) DECLARE_TRAP(17) DECLARE_TRAP(18) DECLARE_TRAP(19)

/* flags: bits 0-1 DPL (who may raise it with int n), bit 2 masks events on
 * entry.  #BP and #OF are reachable from user mode by int3/into. */
#define TRAP(n, dpl) {n, 4 | (dpl), FLAT_KERNEL_CS, (unsigned long)vamxen_trap_##n}
static struct trap_info trap_table[] = {
    TRAP(0, 0), TRAP(1, 0), TRAP(2, 0), TRAP(3, 3), TRAP(4, 3), TRAP(5, 0), TRAP(6, 0),
    TRAP(7, 0), TRAP(8, 0), TRAP(9, 0), TRAP(10, 0), TRAP(11, 0), TRAP(12, 0), TRAP(13, 0),
    TRAP(14, 0), TRAP(15, 0), TRAP(16, 0), TRAP(17, 0), TRAP(18, 0), TRAP(19, 0),
    {0, 0, 0, 0},
};

void vamxen_traps_init(void)
{
    long rc = xen_hypercall2(__HYPERVISOR_set_trap_table, (unsigned long)trap_table, 0);
    if (rc)
        vamxen_panic("set_trap_table failed", rc);
}

/* Copies the boundary state out, calls the front end, copies it back: the
 * front end may change any register (emulation, fixups) before we return
 * through HYPERVISOR_iret. */
void vamxen_trap(struct vamxen_trap_frame *f);
void vamxen_trap(struct vamxen_trap_frame *f)
{
    struct vam_regs r = {
        .r15 = f->r15, .r14 = f->r14, .r13 = f->r13, .r12 = f->r12, .rbp = f->rbp,
        .rbx = f->rbx, .r11 = f->r11, .r10 = f->r10, .r9 = f->r9, .r8 = f->r8,
        .rax = f->rax, .rcx = f->rcx, .rdx = f->rdx, .rsi = f->rsi, .rdi = f->rdi,
        .rip = f->rip, .cs = f->cs & 0xffff, .rflags = f->rflags, .rsp = f->rsp, .ss = f->ss,
    };
    uint64_t cr2 = f->vector == 14 ? vamxen_vcpu->arch.cr2 : 0;
    vam_fe_exception(&r, (unsigned)f->vector, f->error_code, cr2);
    f->r15 = r.r15, f->r14 = r.r14, f->r13 = r.r13, f->r12 = r.r12, f->rbp = r.rbp;
    f->rbx = r.rbx, f->r11 = r.r11, f->r10 = r.r10, f->r9 = r.r9, f->r8 = r.r8;
    f->rax = r.rax, f->rcx = r.rcx, f->rdx = r.rdx, f->rsi = r.rsi, f->rdi = r.rdi;
    f->rip = r.rip, f->rflags = r.rflags, f->rsp = r.rsp;
}
