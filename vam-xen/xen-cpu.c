/*
 * Per-vCPU state Xen keeps for the guest (backend.h: be_fpu_set_ts), the
 * console and shutdown.  Guest modes, segment bases and be_resume are in
 * xen-guest.c.
 */
#include "hypercall.h"
#include "vam/backend.h"
#include "xen-events.h"

/* Xen keeps TSD in the PV vCPU's virtual CR4 (an emulated `mov %cr4` in
 * PV kernel mode) and applies it to PV user mode, where the whole guest
 * runs: its rdtsc then traps to the VAM (the VAM's own rdtsc in PV kernel
 * mode is emulated by Xen). */
void be_set_tsd(bool tsd)
{
    unsigned long cr4;
    asm volatile("mov %%cr4, %0" : "=r"(cr4));
    cr4 = tsd ? cr4 | 4ul : cr4 & ~4ul;
    asm volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
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
