/*
 * Per-vCPU state Xen keeps for the guest (backend.h: be_set_kernel_stack,
 * be_set_seg_base, be_fpu_set_ts), the console and shutdown.
 */
#include "hypercall.h"
#include "vam/backend.h"
#include "xen-events.h"

void be_set_kernel_stack(uint64_t rsp)
{
    /* the ss argument is ignored by 64-bit Xen */
    long rc = xen_hypercall2(__HYPERVISOR_stack_switch, FLAT_KERNEL_SS, rsp);
    if (rc)
        vamxen_panic("stack_switch failed", rc);
}

void be_set_seg_base(enum be_seg_base which, uint64_t base)
{
    static const unsigned xen_which[] = {
        [BE_FS_BASE] = SEGBASE_FS,
        [BE_GS_BASE_KERNEL] = SEGBASE_GS_KERNEL,
        [BE_GS_BASE_USER] = SEGBASE_GS_USER,
    };
    long rc = xen_hypercall2(__HYPERVISOR_set_segment_base, xen_which[which], base);
    if (rc)
        vamxen_panic("set_segment_base failed", rc);
}

void be_fpu_set_ts(bool ts)
{
    xen_hypercall2(__HYPERVISOR_fpu_taskswitch, ts, 0);
}

void be_console_write(const char *buf, unsigned long len)
{
    xen_console_write(buf, len);
}

void be_shutdown(enum be_shutdown why)
{
    static const unsigned reason[] = {
        [BE_POWEROFF] = SHUTDOWN_poweroff,
        [BE_REBOOT] = SHUTDOWN_reboot,
        [BE_CRASH] = SHUTDOWN_crash,
    };
    xen_sched_shutdown(reason[why]);
    for (;;)
        ;
}

void vamxen_resume(const struct vam_regs *regs) __attribute__((noreturn));

/* Xen's flat selectors for the mode the RPL asks for (xen-x86_64.h).  The
 * kernel and user selectors are the same RPL-3 values; HYPERVISOR_iret
 * stays in kernel mode only when the frame's CS has RPL 0-2, so kernel
 * mode gets the kernel selector with its RPL cleared (Xen forces RPL 3
 * again on the way out). */
void be_resume(const struct vam_regs *regs)
{
    struct vam_regs r = *regs;
    bool user = (regs->cs & 3) == 3;
    r.cs = user ? FLAT_USER_CS64 : (FLAT_KERNEL_CS64 & ~3u);
    r.ss = user ? FLAT_USER_SS64 : FLAT_KERNEL_SS64;
    vamxen_resume(&r);
}
