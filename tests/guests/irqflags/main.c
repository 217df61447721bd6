/*
 * Interrupt-flag semantics: cli/sti/pushf/popf, delivery of a pending
 * interrupt exactly where IF becomes 1 (after the instruction following
 * sti, right after popf), sti;hlt wake-up, nested save/restore, and what
 * ring 3 sees (IOPL 0).
 */
#include <guest/test.h>

const char test_title[] = "Interrupt flag: cli, sti, pushf, popf, hlt";

#define VEC_IPI     0x40
#define VEC_TIMER   0x41

static volatile unsigned hits;
static volatile uint64_t hit_rip, hit_rflags, handler_rflags;

static bool on_ipi(struct cpu_regs *r)
{
    hits++;
    hit_rip = r->rip;
    hit_rflags = r->rflags;
    handler_rflags = read_rflags();
    apic_eoi();
    return true;
}

static volatile unsigned timer_hits;

static bool on_timer(struct cpu_regs *r)
{
    timer_hits++;
    apic_eoi();
    return true;
}

/* Raise VEC_IPI with interrupts off and check it stays pending. */
static bool make_pending(const char *what)
{
    hits = 0;
    apic_self_ipi(VEC_IPI);
    udelay(50);
    if (hits != 0 || !apic_irr_test(VEC_IPI)) {
        test_fail("%s: self-IPI not pending with IF=0 (hits %u, IRR %d)", what, hits,
                  apic_irr_test(VEC_IPI));
        return false;
    }
    return true;
}

/* ---- flag semantics in ring 0: table-driven ------------------------------- */
struct flag_case {
    const char *name;
    unsigned long (*run)(void);     /* returns RFLAGS read by pushf afterwards */
    unsigned long mask, expect;
};

static unsigned long run_cli(void)
{
    unsigned long f;
    asm volatile ("sti; cli; pushfq; popq %0" : "=r" (f) :: "memory");
    return f;
}

static unsigned long run_sti(void)
{
    unsigned long f;
    asm volatile ("sti; pushfq; popq %0; cli" : "=r" (f) :: "memory");
    return f;
}

static unsigned long run_popf_if1(void)
{
    unsigned long f;
    asm volatile ("pushq %1; popfq; pushfq; popq %0; cli"
                  : "=r" (f) : "r" (X86_EFLAGS_MBS | X86_EFLAGS_IF) : "memory", "cc");
    return f;
}

static unsigned long run_popf_if0(void)
{
    unsigned long f;
    asm volatile ("sti; pushq %1; popfq; pushfq; popq %0"
                  : "=r" (f) : "r" (X86_EFLAGS_MBS) : "memory", "cc");
    return f;
}

static unsigned long run_popf_arith(void)
{
    unsigned long f;
    asm volatile ("pushq %1; popfq; pushfq; popq %0"
                  : "=r" (f) : "r" (X86_EFLAGS_MBS | X86_EFLAGS_CF | X86_EFLAGS_ZF) : "memory", "cc");
    return f;
}

static unsigned long run_popf_iopl(void)
{
    unsigned long f, old = read_rflags();
    asm volatile ("pushq %1; popfq; pushfq; popq %0"
                  : "=r" (f) : "r" (X86_EFLAGS_MBS | X86_EFLAGS_IOPL) : "memory", "cc");
    write_rflags(old);
    return f;
}

static const struct flag_case flag_cases[] = {
    { "cli clears IF", run_cli, X86_EFLAGS_IF, 0 },
    { "sti sets IF", run_sti, X86_EFLAGS_IF, X86_EFLAGS_IF },
    { "popf sets IF", run_popf_if1, X86_EFLAGS_IF, X86_EFLAGS_IF },
    { "popf clears IF", run_popf_if0, X86_EFLAGS_IF, 0 },
    { "popf loads CF/ZF, keeps bit 1", run_popf_arith,
      X86_EFLAGS_CF | X86_EFLAGS_ZF | X86_EFLAGS_MBS | X86_EFLAGS_IF,
      X86_EFLAGS_CF | X86_EFLAGS_ZF | X86_EFLAGS_MBS },
    { "popf loads IOPL in ring 0", run_popf_iopl, X86_EFLAGS_IOPL, X86_EFLAGS_IOPL },
};

static void test_flag_cases(void)
{
    for (unsigned i = 0; i < ARRAY_SIZE(flag_cases); i++) {
        const struct flag_case *c = &flag_cases[i];
        unsigned long f = c->run();

        if ((f & c->mask) != c->expect)
            test_fail("%s: rflags %#lx, want %#lx under mask %#lx", c->name, f, c->expect, c->mask);
        if (irqs_enabled())
            test_fail("%s: case left interrupts enabled", c->name);
    }
}

/* ---- delivery points ------------------------------------------------------ */
static void test_pending_after_sti(void)
{
    uint64_t after_nop;

    if (!make_pending("sti"))
        return;
    /* The instruction after sti runs before the interrupt (shadow); the
     * interrupt must be taken before the cli. */
    asm volatile ("sti\n"
                  "nop\n"
                  "1: cli\n"
                  "leaq 1b(%%rip), %0\n"
                  : "=r" (after_nop) :: "memory");
    check_eq(hits, 1, "sti: interrupts taken");
    check_eq(hit_rip, after_nop, "sti: interrupt taken after the shadowed instruction");
    check(hit_rflags & X86_EFLAGS_IF, "sti: frame RFLAGS.IF set");
    check(!(handler_rflags & X86_EFLAGS_IF), "sti: handler runs with IF clear (interrupt gate)");
}

static void test_pending_after_popf(void)
{
    uint64_t at_popf, after_site;

    if (!make_pending("popf"))
        return;
    /* No shadow: taken right after popf, before the next real instruction. */
    asm volatile ("pushq %2\n"
                  "1: popfq\n"
                  "2: cli\n"
                  "leaq 1b(%%rip), %0\n"
                  "leaq 2b(%%rip), %1\n"
                  : "=r" (at_popf), "=r" (after_site)
                  : "r" (X86_EFLAGS_MBS | X86_EFLAGS_IF) : "memory", "cc");
    check_eq(hits, 1, "popf: interrupts taken");
    check(hit_rip > at_popf && hit_rip <= after_site,
          "popf: interrupt at %#lx, want within (%#lx, %#lx]", (unsigned long)hit_rip,
          (unsigned long)at_popf, (unsigned long)after_site);
    test_info("popf: delivered at popf+%lu (site end popf+%lu)\n",
              (unsigned long)(hit_rip - at_popf), (unsigned long)(after_site - at_popf));
}

static void arm_watchdog(uint32_t ns)
{
    timer_hits = 0;
    apic_write(APIC_TDCR, APIC_TDCR_DIV1);
    apic_write(APIC_LVT_TIMER, APIC_TIMER_ONESHOT | VEC_TIMER);
    apic_write(APIC_TMICT, ns);
}

static void disarm_watchdog(void)
{
    apic_write(APIC_TMICT, 0);
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
}

static void test_sti_hlt_pending(void)
{
    uint64_t at_hlt, after_site;

    if (!make_pending("sti;hlt"))
        return;
    arm_watchdog(50 * 1000 * 1000);     /* wakes the hlt if the IPI was lost */
    asm volatile ("sti\n"
                  "1: hlt\n"
                  "2: cli\n"
                  "leaq 1b(%%rip), %0\n"
                  "leaq 2b(%%rip), %1\n"
                  : "=r" (at_hlt), "=r" (after_site) :: "memory");
    disarm_watchdog();
    check_eq(hits, 1, "sti;hlt: pending interrupt woke the hlt");
    check(timer_hits == 0, "sti;hlt: woken by the watchdog, the pending IPI was lost");
    check(hit_rip > at_hlt && hit_rip <= after_site,
          "sti;hlt: interrupt at %#lx, want after the hlt (%#lx, %#lx]",
          (unsigned long)hit_rip, (unsigned long)at_hlt, (unsigned long)after_site);
}

static void test_sti_hlt_timer(void)
{
    unsigned rounds = 0;

    arm_watchdog(2 * 1000 * 1000);      /* 2 ms at the 1 GHz QEMU APIC clock */
    while (timer_hits == 0 && rounds++ < 1000) {
        asm volatile ("sti; hlt; cli" ::: "memory");
    }
    disarm_watchdog();
    check_eq(timer_hits, 1, "sti;hlt: woken by a later timer interrupt");
    check(rounds == 1, "sti;hlt: %u halts before the timer (spurious wake-ups)", rounds);
}

static void test_nested(void)
{
    unsigned long outer, inner;

    sti();
    outer = irq_save();
    check(outer & X86_EFLAGS_IF, "nested: outer save saw IF=1");
    if (!make_pending("nested"))
        goto out;
    inner = irq_save();
    check(!(inner & X86_EFLAGS_IF), "nested: inner save saw IF=0");
    irq_restore(inner);
    check(!irqs_enabled(), "nested: inner restore kept IF=0");
    check_eq(hits, 0, "nested: interrupts taken after inner restore");
    irq_restore(outer);
    check_eq(hits, 1, "nested: interrupt delivered by the outer restore");
    check(irqs_enabled(), "nested: outer restore set IF=1");
out:
    cli();
}

/* ---- ring 3 (IOPL 0) -------------------------------------------------------- */
static uint64_t user_pushf(void)
{
    return read_rflags();
}

static uint64_t user_popf_if0(void)
{
    write_rflags(read_rflags() & ~X86_EFLAGS_IF);   /* IF unchanged at CPL > IOPL */
    return read_rflags();
}

static uint64_t user_popf_iopl(void)
{
    write_rflags(read_rflags() | X86_EFLAGS_IOPL);  /* IOPL unchanged at CPL > 0 */
    return read_rflags();
}

static uint64_t user_cli(void) { cli(); return 0; }
static uint64_t user_sti(void) { sti(); return 0; }

struct user_case {
    const char *name;
    uint64_t (*fn)(void);
    exinfo_t fault;                 /* expected fault, or 0 */
    uint64_t mask, expect;          /* else: (returned RFLAGS & mask) == expect */
};

static const struct user_case user_cases[] = {
    { "ring 3 pushf sees IF=1, IOPL=0", user_pushf, 0,
      X86_EFLAGS_IF | X86_EFLAGS_IOPL, X86_EFLAGS_IF },
    { "ring 3 popf cannot clear IF", user_popf_if0, 0, X86_EFLAGS_IF, X86_EFLAGS_IF },
    { "ring 3 popf cannot raise IOPL", user_popf_iopl, 0, X86_EFLAGS_IOPL, 0 },
    { "ring 3 cli faults", user_cli, EXINFO_SYM(GP, 0), 0, 0 },
    { "ring 3 sti faults", user_sti, EXINFO_SYM(GP, 0), 0, 0 },
};

static void test_user_cases(void)
{
    for (unsigned i = 0; i < ARRAY_SIZE(user_cases); i++) {
        const struct user_case *c = &user_cases[i];
        struct user_result res;

        exec_user(c->fn, &res);
        if (c->fault) {
            if (res.how != USER_EXIT_FAULT || res.fault != c->fault)
                test_fail("%s: ended by %s %s, want %s", c->name, user_exit_name(res.how),
                          exinfo_str(res.fault).s, exinfo_str(c->fault).s);
        } else if (res.how != USER_EXIT_SYSCALL) {
            test_fail("%s: ended by %s %s", c->name, user_exit_name(res.how),
                      exinfo_str(res.fault).s);
        } else if ((res.value & c->mask) != c->expect) {
            test_fail("%s: rflags %#lx, want %#lx under mask %#lx", c->name,
                      res.value, c->expect, c->mask);
        }
    }
}

void test_main(void)
{
    enum apic_mode m = apic_init(APIC_MODE_X2APIC);

    test_flag_cases();
    test_user_cases();

    if (m == APIC_MODE_NONE) {
        test_skip("no local APIC: interrupt delivery not tested");
        return;
    }
    test_info("local APIC in %s mode\n", apic_mode_name(m));
    trap_register(VEC_IPI, on_ipi);
    trap_register(VEC_TIMER, on_timer);

    test_pending_after_sti();
    test_pending_after_popf();
    test_sti_hlt_pending();
    test_sti_hlt_timer();
    test_nested();
}
