/*
 * The Xen back end's entry into C.  Until the front end (vam/) is linked
 * in, the start of day proves the pieces the back end is made of: the PV
 * start of day, shared_info, the event callback, VIRQ_TIMER with Xen's
 * one-shot timer, and blocking with events enabled.
 */
#include "hypercall.h"
#include "xen-console.h"
#include "xen-events.h"
#include "xen-memory.h"
#include "xen-time.h"

void vamxen_start(start_info_t *si) __attribute__((noreturn));

static volatile unsigned timer_events;

static void on_timer(unsigned port)
{
    (void)port;
    timer_events++;
}

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

/* Blocks until the one-shot timer set `delay_ns` from now has fired;
 * returns the time actually waited. */
static uint64_t sleep_on_timer(uint64_t delay_ns)
{
    unsigned before = timer_events;
    uint64_t t0 = be_now_ns();
    be_set_timer(t0 + delay_ns);
    while (timer_events == before)
        be_block();
    be_events_mask();
    return be_now_ns() - t0;
}

/* The window must show the same frames as the initial mapping, and guest
 * RAM must be writable at both ends. */
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
    vamxen_time_init(on_timer);
    xen_puts("VAM: TSC ");
    xen_put_dec(be_tsc_hz() / 1000);
    xen_puts(" kHz\n");

    vamxen_memory_init(si);
    check_memory_window(si);

    uint64_t waited = sleep_on_timer(20 * 1000 * 1000);
    xen_puts("VAM: one-shot timer woke the blocked vCPU after ");
    xen_put_dec(waited / 1000);
    xen_puts(" us (asked 20000 us), events ");
    xen_put_dec(timer_events);
    xen_puts("\n");
    if (waited < 20 * 1000 * 1000)
        vamxen_panic("timer fired early", (long)waited);

    xen_puts("VAM: shutting down (reboot)\n");
    xen_sched_shutdown(SHUTDOWN_reboot);
    for (;;)
        ;
}
