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
#include "xen-space.h"
#include "xen-time.h"

void vamxen_start(start_info_t *si) __attribute__((noreturn));

static volatile unsigned timer_events;
static char kernel_stack[16384] __attribute__((aligned(16)));
static void run_user_program(void) __attribute__((noreturn));
static void continue_start_of_day(void) __attribute__((noreturn));

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
    run_user_program();
}

/* Guest code in PV user mode: `mov $42, %eax; syscall; jmp .` at
 * 0x400000, its stack below 0x800000.  The syscall callback brings it back
 * (vamxen_user_syscall), which continues the start of day. */
static void run_user_program(void)
{
    static const uint8_t code[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xfe};
    const struct be_memory *m = be_memory();
    for (unsigned i = 0; i < sizeof code; i++)
        m->window[0x1000 + i] = code[i];
    be_space_t user = vamxen_space_create(false);
    if (user < 0 || !be_map(user, 0x400000, 0x1000, BE_R | BE_X | BE_USER) ||
        !be_map(user, 0x7ff000, 0x2000, BE_R | BE_W | BE_USER))
        vamxen_panic("building the user address space failed", user);
    vamxen_space_activate_user(user);
    be_set_kernel_stack((uint64_t)(kernel_stack + sizeof kernel_stack));
    struct vam_regs regs = {.rip = 0x400000, .cs = FLAT_USER_CS64, .rflags = 0x202,
                            .rsp = 0x800000, .ss = FLAT_USER_SS64, .rax = 0x1234};
    xen_puts("VAM: entering user mode\n");
    be_enter_user(&regs);
}

void vamxen_user_syscall(struct vam_regs *regs);
void vamxen_user_syscall(struct vam_regs *regs)
{
    xen_puts("VAM: syscall from user mode: rax ");
    xen_put_hex(regs->rax);
    xen_puts(", return rip ");
    xen_put_hex(regs->rip);
    xen_puts(", cs ");
    xen_put_hex(regs->cs);
    xen_puts("\n");
    if (regs->rax != 42 || regs->rip != 0x400007 || (regs->cs & 3) != 3)
        vamxen_panic("user-mode round trip returned the wrong state", (long)regs->rax);
    continue_start_of_day();
}

static void continue_start_of_day(void)
{
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
