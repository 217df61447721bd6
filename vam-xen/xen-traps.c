/*
 * Exceptions on Xen: the trap table and the common C entry, which hands the
 * guest's boundary state to the front end (vam_fe_exception).
 *
 * Every trap of the guest comes from PV user mode (xen-guest.c): its
 * bounce frame lands at kernel_sp and says CS RPL 3; the guest mode the
 * front end sees is the one the VAM tracks.  A frame with RPL 0 is a trap
 * of the VAM itself (PV kernel mode): a VAM bug, fatal.
 */
#include "hypercall.h"
#include "vam/backend.h"
#include "xen-console.h"
#include "xen-events.h"
#include "xen-guest.h"
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
DECLARE_TRAP(0x80)

/* flags: bits 0-1 DPL (who may raise it with int n: 3 = the guest, which
 * runs in PV user mode), bit 2 masks events on entry.  #BP and #OF are
 * reachable by int3/into; int $0x80 is Xen's direct software-interrupt
 * path (the guest's system calls), delivered with rip past the `int`. */
#define TRAP(n, dpl) {n, 4 | (dpl), FLAT_KERNEL_CS, (unsigned long)vamxen_trap_##n}
static struct trap_info trap_table[] = {
    TRAP(0, 0), TRAP(1, 0), TRAP(2, 0), TRAP(3, 3), TRAP(4, 3), TRAP(5, 0), TRAP(6, 0),
    TRAP(7, 0), TRAP(8, 0), TRAP(9, 0), TRAP(10, 0), TRAP(11, 0), TRAP(12, 0), TRAP(13, 0),
    TRAP(14, 0), TRAP(15, 0), TRAP(16, 0), TRAP(17, 0), TRAP(18, 0), TRAP(19, 0),
    TRAP(0x80, 3),
    {0, 0, 0, 0},
};

void vamxen_traps_init(void)
{
    long rc = xen_hypercall2(__HYPERVISOR_set_trap_table, (unsigned long)trap_table, 0);
    if (rc)
        vamxen_panic("set_trap_table failed", rc);
}

/* Hands the boundary state to the front end, then resumes whatever it
 * leaves in regs (it may change any register: emulation, fixups, an
 * injected exception). */
void vamxen_trap(struct vamxen_trap_frame *f) __attribute__((noreturn));
void vamxen_trap(struct vamxen_trap_frame *f)
{
    if ((f->cs & 3) != 3) {
        xen_puts("VAM: exception ");
        xen_put_hex(f->vector);
        xen_puts(" in the VAM at rip ");
        xen_put_hex(f->rip);
        xen_puts(", error code ");
        xen_put_hex(f->error_code);
        xen_puts(", cr2 ");
        xen_put_hex(vamxen_vcpu->arch.cr2);
        xen_puts("\n");
        vamxen_panic("exception in the VAM", (long)f->vector);
    }
    struct vam_regs r = {
        .r15 = f->r15, .r14 = f->r14, .r13 = f->r13, .r12 = f->r12, .rbp = f->rbp,
        .rbx = f->rbx, .r11 = f->r11, .r10 = f->r10, .r9 = f->r9, .r8 = f->r8,
        .rax = f->rax, .rcx = f->rcx, .rdx = f->rdx, .rsi = f->rsi, .rdi = f->rdi,
        .rip = f->rip, .cs = f->cs, .rflags = f->rflags, .rsp = f->rsp, .ss = f->ss,
    };
    vamxen_guest_entered(&r);
    uint64_t cr2 = f->vector == 14 ? vamxen_vcpu->arch.cr2 : 0;
    vam_fe_exception(&r, (unsigned)f->vector, f->error_code, cr2);
    be_resume(&r);
}
