/*
 * Timers: the local APIC timer (x2APIC MSRs, or xAPIC MMIO where the CPU
 * has no x2APIC) in one-shot, periodic and masked modes, and the 8254 PIT
 * through the 8259 PIC, with and without EOI.
 */
#include <guest/test.h>

const char test_title[] = "Timers: local APIC timer, 8254 PIT through the 8259 PIC";

#define VEC_APIC_TIMER  0x50
#define VEC_PIT         (PIC_VEC_BASE + 0)

static volatile unsigned apic_hits, pit_hits;
static volatile uint64_t apic_hit_tsc;
static volatile bool pit_send_eoi = true;

static bool on_apic_timer(struct cpu_regs *r)
{
    if (!apic_hits)
        apic_hit_tsc = rdtsc();
    apic_hits++;
    apic_eoi();
    return true;
}

static bool on_pit(struct cpu_regs *r)
{
    pit_hits++;
    if (pit_send_eoi)
        pic_eoi(0);
    return true;
}

static void apic_timer_stop(void)
{
    apic_write(APIC_TMICT, 0);
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VEC_APIC_TIMER);
}

/* TMCCT read bracketed by TSC reads; the tightest of a few. */
static void apic_sample(uint32_t *count, uint64_t *tsc)
{
    uint64_t best = ~0ULL;

    for (unsigned i = 0; i < 8; i++) {
        uint64_t a = rdtsc();
        uint32_t c = apic_read(APIC_TMCCT);
        uint64_t b = rdtsc();

        if (b - a < best) {
            best = b - a;
            *count = c;
            *tsc = a + (b - a) / 2;
        }
    }
}

/* APIC timer ticks per microsecond at divide-by-1, measured against the TSC. */
static uint64_t apic_ticks_per_us(void)
{
    uint32_t c0, c1;
    uint64_t t0, t1, us;

    apic_write(APIC_TDCR, APIC_TDCR_DIV1);
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VEC_APIC_TIMER);
    apic_write(APIC_TMICT, 0xffffffffU);
    apic_sample(&c0, &t0);
    udelay(2000);
    apic_sample(&c1, &t1);
    apic_timer_stop();
    us = (t1 - t0) * 1000 / tsc_khz();
    return us ? (c0 - c1) / us : 0;
}

/* The current count starts at the initial count and goes down. */
static void test_apic_countdown(uint64_t per_us)
{
    const uint32_t count = 0xf0000000U;         /* seconds at any APIC clock */
    uint32_t c1, c2;

    apic_write(APIC_TDCR, APIC_TDCR_DIV1);
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | APIC_TIMER_ONESHOT | VEC_APIC_TIMER);
    apic_write(APIC_TMICT, count);
    c1 = apic_read(APIC_TMCCT);
    udelay(100);
    c2 = apic_read(APIC_TMCCT);
    check_eq(apic_read(APIC_TMICT), count, "initial count reads back");
    check(c1 <= count && c1 > count / 2, "current count %#x right after loading %#x", c1, count);
    check(c2 < c1, "current count goes down (%#x, then %#x 100 us later)", c2, c1);
    apic_timer_stop();
    check_eq(apic_read(APIC_TMCCT), 0, "current count after writing initial count 0");
}

static void test_apic_oneshot(uint64_t per_us)
{
    const uint64_t us = 1000;
    uint32_t count = per_us * us;
    uint64_t t0, elapsed_us;

    apic_hits = 0;
    apic_write(APIC_TDCR, APIC_TDCR_DIV1);
    apic_write(APIC_LVT_TIMER, APIC_TIMER_ONESHOT | VEC_APIC_TIMER);
    t0 = rdtsc();
    apic_write(APIC_TMICT, count);
    if (!irq_wait(&apic_hits, 1, 500 * 1000)) {
        test_fail("one-shot: no interrupt within 500 ms");
        apic_timer_stop();
        return;
    }
    /* Never early (half the time: the APIC clock was measured roughly). */
    elapsed_us = (apic_hit_tsc - t0) * 1000 / tsc_khz();
    check(elapsed_us >= us / 2, "one-shot: fired after %lu us, programmed %lu us",
          (unsigned long)elapsed_us, (unsigned long)us);
    check_eq(apic_read(APIC_TMCCT), 0, "one-shot: current count after expiry");
    irq_window_us(5 * us);
    check_eq(apic_hits, 1, "one-shot: interrupts after 6x the period");
    apic_timer_stop();
}

static void test_apic_periodic(uint64_t per_us)
{
    const uint64_t us = 200;
    uint32_t count = per_us * us;
    unsigned stopped;

    apic_hits = 0;
    apic_write(APIC_TDCR, APIC_TDCR_DIV1);
    apic_write(APIC_LVT_TIMER, APIC_TIMER_PERIODIC | VEC_APIC_TIMER);
    apic_write(APIC_TMICT, count);
    if (!irq_wait(&apic_hits, 10, 500 * 1000))
        test_fail("periodic: %u interrupts within 500 ms, want 10", apic_hits);
    check(apic_read(APIC_TMCCT) != 0, "periodic: current count reloads after expiry");

    /* Masking the LVT stops delivery; the counter keeps running. */
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | APIC_TIMER_PERIODIC | VEC_APIC_TIMER);
    irq_window_us(50);          /* an interrupt already in flight may still land */
    stopped = apic_hits;
    irq_window_us(10 * us);
    check_eq(apic_hits, stopped, "periodic: interrupts while the LVT is masked");
    check(apic_read(APIC_TMCCT) != 0, "periodic: counter runs while masked");

    /* Unmask: delivery resumes; initial count 0 stops the timer. */
    apic_write(APIC_LVT_TIMER, APIC_TIMER_PERIODIC | VEC_APIC_TIMER);
    check(irq_wait(&apic_hits, stopped + 3, 500 * 1000), "periodic: resumes after unmask");
    apic_write(APIC_TMICT, 0);
    irq_window_us(50);
    stopped = apic_hits;
    irq_window_us(10 * us);
    check_eq(apic_hits, stopped, "periodic: interrupts after writing initial count 0");
    check_eq(apic_read(APIC_TMCCT), 0, "periodic: current count after stop");
    apic_timer_stop();
}

static void test_apic_masked_oneshot(uint64_t per_us)
{
    apic_hits = 0;
    apic_write(APIC_TDCR, APIC_TDCR_DIV1);
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | APIC_TIMER_ONESHOT | VEC_APIC_TIMER);
    apic_write(APIC_TMICT, per_us * 100);
    irq_window_us(1000);
    check_eq(apic_hits, 0, "masked one-shot: interrupts");
    check_eq(apic_read(APIC_TMCCT), 0, "masked one-shot: count expired anyway");
    apic_timer_stop();
}

static void test_pit(void)
{
    const uint16_t reload = PIT_HZ / 1000;      /* 1 kHz */
    uint64_t t0, t1, elapsed_us;
    unsigned n;

    pit_hits = 0;
    pit_send_eoi = true;
    pic_unmask(0);
    t0 = rdtsc();
    pit_start_periodic(reload);
    if (!irq_wait(&pit_hits, 20, 1000 * 1000))
        test_fail("PIT periodic: %u interrupts within 1 s, want 20", pit_hits);
    t1 = rdtsc();
    n = pit_hits;
    elapsed_us = (t1 - t0) * 1000 / tsc_khz();
    /* Ticks may be lost or bunched under emulation, but never gained (one
     * more for an edge latched before the start). */
    check(n <= elapsed_us / 1000 + 2, "PIT periodic: %u ticks in %lu us at 1 kHz", n,
          (unsigned long)elapsed_us);
    test_info("PIT: %u ticks in %lu us at 1 kHz\n", n, (unsigned long)elapsed_us);

    /* Without EOI the in-service bit blocks IRQ0 (and lower priorities). */
    pit_send_eoi = false;
    pit_hits = 0;
    if (!irq_wait(&pit_hits, 1, 100 * 1000)) {
        test_fail("PIT no-EOI: no first interrupt");
    } else {
        irq_window_us(10 * 1000);
        check_eq(pit_hits, 1, "PIT no-EOI: interrupts with IRQ0 in service");
        check(pic_read_isr() & 1, "PIT no-EOI: ISR bit 0 set, ISR %#x", pic_read_isr());
        pit_send_eoi = true;
        pic_eoi(0);
        check(!(pic_read_isr() & 1), "PIT EOI: ISR bit 0 cleared, ISR %#x", pic_read_isr());
        check(irq_wait(&pit_hits, 4, 100 * 1000), "PIT EOI: ticks resume after EOI (%u)", pit_hits);
    }

    /* Masked at the PIC: nothing arrives, the request stays in the IRR. */
    pic_mask(0);
    irq_window_us(100);
    n = pit_hits;
    irq_window_us(10 * 1000);
    check_eq(pit_hits, n, "PIT masked: interrupts");
    test_info("PIT masked: IRR %#x\n", pic_read_irr());

    /* Mode 0: one interrupt at terminal count, then none. */
    pit_stop();
    pic_unmask(0);
    irq_window_us(2000);         /* an edge latched while masked is delivered now */
    pit_hits = 0;
    pit_start_oneshot(PIT_HZ / 1000);
    check(irq_wait(&pit_hits, 1, 100 * 1000), "PIT one-shot: interrupt");
    irq_window_us(10 * 1000);
    check_eq(pit_hits, 1, "PIT one-shot: interrupts after 10 periods");
    pic_mask(0);
    pit_stop();
}

void test_main(void)
{
    enum apic_mode m = apic_init(APIC_MODE_X2APIC);
    uint64_t per_us;

    trap_register(VEC_APIC_TIMER, on_apic_timer);
    trap_register(VEC_PIT, on_pit);
    test_info("TSC %lu kHz\n", (unsigned long)tsc_khz());

    if (m == APIC_MODE_NONE) {
        test_skip("no local APIC");
    } else {
        if (m != APIC_MODE_X2APIC)
            test_info("CPU has no x2APIC: APIC timer through xAPIC MMIO\n");
        per_us = apic_ticks_per_us();
        test_info("APIC timer (%s): %lu ticks/us at divide 1\n", apic_mode_name(m),
                  (unsigned long)per_us);
        if (!per_us) {
            test_fail("APIC timer does not count");
        } else {
            test_apic_countdown(per_us);
            test_apic_oneshot(per_us);
            test_apic_periodic(per_us);
            test_apic_masked_oneshot(per_us);
        }
    }

    if (guest_start_info && (guest_start_info->flags & GUEST_SI_NO_LEGACY_PIC))
        test_skip("no 8259/8254");
    else if (m == APIC_MODE_NONE)
        test_skip("PIT test needs the local APIC's LINT0 set up");
    else
        test_pit();
}
