/* Local APIC (x2APIC or xAPIC), 8259 PIC, 8254 PIT, TSC calibration. */
#include "internal.h"

enum apic_mode apic_mode = APIC_MODE_NONE;
static volatile uint32_t *apic_mmio;

const char *apic_mode_name(enum apic_mode m)
{
    return m == APIC_MODE_X2APIC ? "x2APIC" : m == APIC_MODE_XAPIC ? "xAPIC" : "none";
}

bool cpu_has_x2apic(void)
{
    return cpuid_ecx(1) & (1U << 21);
}

uint32_t apic_read(unsigned reg)
{
    if (apic_mode == APIC_MODE_X2APIC)
        return (uint32_t)rdmsr(0x800 + (reg >> 4));
    return apic_mmio[reg / 4];
}

void apic_write(unsigned reg, uint32_t val)
{
    if (apic_mode == APIC_MODE_X2APIC)
        wrmsr(0x800 + (reg >> 4), val);
    else
        apic_mmio[reg / 4] = val;
}

void apic_icr_write(uint32_t low, uint32_t dest)
{
    if (apic_mode == APIC_MODE_X2APIC) {
        wrmsr(0x800 + (APIC_ICR >> 4), ((uint64_t)dest << 32) | low);
        return;
    }
    apic_mmio[APIC_ICR2 / 4] = dest << 24;
    apic_mmio[APIC_ICR / 4] = low;
    for (unsigned spin = 0; spin < 1000000 && (apic_mmio[APIC_ICR / 4] & APIC_ICR_BUSY); spin++)
        cpu_relax();
}

void apic_eoi(void)
{
    apic_write(APIC_EOI, 0);
}

void apic_self_ipi(uint8_t vec)
{
    apic_icr_write(APIC_ICR_SELF | APIC_DM_FIXED | vec, 0);
}

bool apic_irr_test(uint8_t vec)
{
    return apic_read(APIC_IRR + (vec / 32) * 0x10) & (1U << (vec % 32));
}

bool apic_isr_test(uint8_t vec)
{
    return apic_read(APIC_ISR + (vec / 32) * 0x10) & (1U << (vec % 32));
}

enum apic_mode apic_init(enum apic_mode want)
{
    uint64_t base;

    if (guest_start_info && (guest_start_info->flags & GUEST_SI_NO_APIC))
        return apic_mode = APIC_MODE_NONE;
    if (!(cpuid_edx(1) & (1U << 9)))
        return apic_mode = APIC_MODE_NONE;

    base = rdmsr(MSR_APIC_BASE);
    if (want == APIC_MODE_X2APIC && cpu_has_x2apic()) {
        /* x2APIC is entered from xAPIC mode (disabled -> x2APIC is invalid). */
        if (!(base & APIC_BASE_EN))
            wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN);
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
        apic_mode = APIC_MODE_X2APIC;
    } else {
        if (base & APIC_BASE_EXTD) {
            wrmsr(MSR_APIC_BASE, base & ~(APIC_BASE_EN | APIC_BASE_EXTD));
            base &= ~APIC_BASE_EXTD;
        }
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN);
        apic_mmio = (volatile uint32_t *)(uintptr_t)(base & 0xfffff000UL);
        apic_mode = APIC_MODE_XAPIC;
    }

    apic_write(APIC_SVR, APIC_SVR_ENABLE | VEC_SPURIOUS);
    apic_write(APIC_TPR, 0);
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
    apic_write(APIC_LVT_ERROR, APIC_LVT_MASKED);
    apic_write(APIC_LVT_LINT0, APIC_DM_EXTINT);
    apic_write(APIC_LVT_LINT1, APIC_DM_NMI);
    apic_write(APIC_TMICT, 0);
    if (apic_mode == APIC_MODE_XAPIC)
        apic_write(APIC_ESR, 0);
    return apic_mode;
}

/* ---- 8259 --------------------------------------------------------------------- */
#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
static uint16_t pic_masks = 0xffff;

static void pic_write_masks(void)
{
    outb(PIC1_DATA, pic_masks & 0xff);
    outb(PIC2_DATA, pic_masks >> 8);
}

void pic_init(void)
{
    outb(PIC1_CMD, 0x11);               /* ICW1: edge, cascade, ICW4 */
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, PIC_VEC_BASE);      /* ICW2: vector base */
    outb(PIC2_DATA, PIC_VEC_BASE + 8);
    outb(PIC1_DATA, 0x04);              /* ICW3: slave on IRQ2 */
    outb(PIC2_DATA, 0x02);
    outb(PIC1_DATA, 0x01);              /* ICW4: 8086 mode, normal EOI */
    outb(PIC2_DATA, 0x01);
    pic_masks = 0xffff & ~(1U << 2);    /* cascade line open, everything else masked */
    pic_write_masks();
}

void pic_mask(unsigned irq)
{
    pic_masks |= 1U << irq;
    pic_write_masks();
}

void pic_unmask(unsigned irq)
{
    pic_masks &= ~(1U << irq);
    pic_write_masks();
}

void pic_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(PIC2_CMD, 0x20);
    outb(PIC1_CMD, 0x20);
}

static uint16_t pic_read_ocw3(uint8_t ocw3)
{
    uint16_t v;
    outb(PIC1_CMD, ocw3);
    outb(PIC2_CMD, ocw3);
    v = inb(PIC1_CMD) | (uint16_t)inb(PIC2_CMD) << 8;
    return v;
}

uint16_t pic_read_irr(void) { return pic_read_ocw3(0x0a); }
uint16_t pic_read_isr(void) { return pic_read_ocw3(0x0b); }

/* ---- 8254 ---------------------------------------------------------------------- */
#define PIT_CH0  0x40
#define PIT_CH2  0x42
#define PIT_CMD  0x43
#define PORT_61  0x61

void pit_start_periodic(uint16_t count)
{
    outb(PIT_CMD, 0x34);                /* ch0, lobyte/hibyte, mode 2, binary */
    outb(PIT_CH0, count & 0xff);
    outb(PIT_CH0, count >> 8);
}

void pit_start_oneshot(uint16_t count)
{
    outb(PIT_CMD, 0x30);                /* ch0, lobyte/hibyte, mode 0, binary */
    outb(PIT_CH0, count & 0xff);
    outb(PIT_CH0, count >> 8);
}

void pit_stop(void)
{
    /* Mode 0 with a count written starts a countdown that ends in one
     * edge; mode 0 and only the low byte written leaves it waiting. */
    outb(PIT_CMD, 0x30);
    outb(PIT_CH0, 0);
}

/* ---- TSC ----------------------------------------------------------------------- */
static uint64_t tsc_khz_cached;

/* One reading of PIT channel 2's count, bracketed by TSC reads; *err is the
 * bracket's width (a stall of the emulator or VAM shows up there). */
static void pit2_sample(uint16_t *count, uint64_t *tsc, uint64_t *err)
{
    uint64_t a, b;
    uint8_t lo, hi;

    a = rdtsc();
    outb(PIT_CMD, 0x80);                     /* latch channel 2 */
    lo = inb(PIT_CH2);
    hi = inb(PIT_CH2);
    b = rdtsc();
    *count = lo | (uint16_t)hi << 8;
    *tsc = a + (b - a) / 2;
    *err = b - a;
}

/* The tightest of a few samples. */
static void pit2_best_sample(uint16_t *count, uint64_t *tsc, uint64_t *err)
{
    *err = ~0ULL;
    for (unsigned i = 0; i < 8; i++) {
        uint16_t c;
        uint64_t t, e;

        pit2_sample(&c, &t, &e);
        if (e < *err) {
            *count = c;
            *tsc = t;
            *err = e;
        }
    }
}

/*
 * TSC frequency from two latched readings of PIT channel 2 about 20 ms
 * apart.  Latching (not polling OUT2) keeps the result right when the
 * emulator stalls the CPU at times: each reading carries its own error
 * bound, and only the tightest readings are used.
 */
static uint64_t tsc_calibrate(void)
{
    const uint16_t window = PIT_HZ / 50;     /* 20 ms */
    uint8_t p61 = inb(PORT_61);
    uint16_t c0, c1 = 0;
    uint64_t t0, t1, e0, e1, khz;
    unsigned long spin;

    outb(PORT_61, (p61 & ~0x02) | 0x01);     /* speaker off, gate 2 on */
    outb(PIT_CMD, 0xb0);                     /* ch2, lobyte/hibyte, mode 0 */
    outb(PIT_CH2, 0xff);
    outb(PIT_CH2, 0xff);                     /* 0xffff: 55 ms to terminal count */

    pit2_best_sample(&c0, &t0, &e0);
    for (spin = 0; spin < 10000000UL; spin++) {
        uint64_t t, e;
        pit2_sample(&c1, &t, &e);
        if (c1 < c0 && c0 - c1 >= window)
            break;
    }
    pit2_best_sample(&c1, &t1, &e1);
    outb(PORT_61, p61);

    if (spin == 10000000UL || c1 >= c0 || t1 <= t0) {
        printk("tsc: PIT channel 2 does not count (%#x -> %#x), assuming 1 GHz\n", c0, c1);
        return 1000000;
    }
    khz = (t1 - t0) * PIT_HZ / ((uint64_t)(c0 - c1) * 1000);
    if ((e0 + e1) * 20 > t1 - t0)
        printk("tsc: calibration uncertain (+-%lu%%)\n",
               (unsigned long)((e0 + e1) * 100 / (t1 - t0)));
    return khz;
}

uint64_t tsc_khz(void)
{
    if (!tsc_khz_cached)
        tsc_khz_cached = tsc_calibrate();
    return tsc_khz_cached;
}

uint64_t tsc_deadline_us(uint64_t us)
{
    return rdtsc() + us * tsc_khz() / 1000;
}

void udelay(uint64_t us)
{
    uint64_t end = tsc_deadline_us(us);
    while (!tsc_passed(end))
        cpu_relax();
}

void mdelay(uint64_t ms)
{
    udelay(ms * 1000);
}
