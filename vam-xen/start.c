/*
 * The Xen back end's start of day: set up events, traps, the VAM's stack
 * for guest entries, time and memory, check them, then hand over to the
 * front end (vam_fe_main).
 */
#include "hypercall.h"
#include "xen-console.h"
#include "xen-events.h"
#include "xen-guest.h"
#include "xen-memory.h"
#include "xen-time.h"
#include "xen-traps.h"

void vamxen_start(start_info_t *si) __attribute__((noreturn));

void vamxen_panic(const char *what, long code)
{
    xen_puts("VAM: fatal: ");
    xen_puts(what);
    xen_puts(" (");
    xen_put_hex((unsigned long)code);
    xen_puts(")\n");
    xen_sched_shutdown(SHUTDOWN_crash);
    for (;;)
        ;
}

static void on_timer_port(unsigned port)
{
    (void)port;
    vam_fe_timer();
}

/* The window must show the same frames as the initial mapping, and guest
 * RAM must hold values at both ends. */
static void check_memory_window(start_info_t *si)
{
    const struct be_memory *m = be_memory();
    unsigned long si_pfn = ((unsigned long)si - 0xfffffc0000000000UL) >> 12;
    const start_info_t *alias = (const start_info_t *)(VAMXEN_WINDOW_BASE + si_pfn * 4096);
    if (alias->nr_pages != si->nr_pages || alias->pt_base != si->pt_base)
        vamxen_panic("window does not alias start_info", (long)si_pfn);
    volatile uint64_t *first = (volatile uint64_t *)m->window;
    volatile uint64_t *last = (volatile uint64_t *)(m->window + m->gpa_size - 8);
    *first = 0x1122334455667788ULL;
    *last = ~0x1122334455667788ULL;
    if (*first != 0x1122334455667788ULL || *last != ~0x1122334455667788ULL)
        vamxen_panic("guest RAM through the window does not hold a value", 0);
    xen_puts("VAM: RAM window ok: ");
    xen_put_dec(m->gpa_size >> 20);
    xen_puts(" MiB of guest-physical RAM at ");
    xen_put_hex((unsigned long)m->window);
    xen_puts("\n");
}

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
    xen_puts("\"\n");

    vamxen_events_init(si);
    vamxen_traps_init();
    vamxen_guest_init();
    vamxen_time_init(on_timer_port);
    xen_puts("VAM: TSC ");
    xen_put_dec(be_tsc_hz() / 1000);
    xen_puts(" kHz\n");
    vamxen_memory_init(si);
    check_memory_window(si);

    vam_fe_main((const uint8_t *)si->mod_start, si->mod_len, (const char *)si->cmd_line);
}
