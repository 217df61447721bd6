/*
 * The Xen back end's entry into C.  For now: prove the PV start of day,
 * report what Xen handed over, and shut the machine down.  The front end
 * (vam/) takes over from here as it lands.
 */
#include "hypercall.h"
#include "xen-console.h"

void vamxen_start(start_info_t *si) __attribute__((noreturn));

void vamxen_start(start_info_t *si)
{
    xen_puts("VAM: Xen PV back end started (");
    xen_puts(si->magic);
    xen_puts(")\nVAM: pages ");
    xen_put_dec(si->nr_pages);
    xen_puts(", module ");
    xen_put_hex(si->mod_start);
    xen_puts(" + ");
    xen_put_dec(si->mod_len);
    xen_puts(" bytes, command line \"");
    xen_puts((const char *)si->cmd_line);
    xen_puts("\"\nVAM: shutting down (reboot)\n");
    xen_sched_shutdown(SHUTDOWN_reboot);
    for (;;)
        ;
}
