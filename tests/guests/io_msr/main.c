/*
 * Port I/O (serial scratch register, string I/O, CMOS RTC, PCI configuration
 * space), cpuid, and rdmsr/wrmsr: round trips through MSRs that hold any
 * value, and accesses that must raise #GP.
 */
#include <guest/test.h>

const char test_title[] = "Port I/O, CMOS, cpuid, rdmsr/wrmsr and #GP";

#define COM1_SCR    0x3ff           /* 16550 scratch register */
#define CMOS_INDEX  0x70
#define CMOS_DATA   0x71

static void test_serial_scratch(void)
{
    static const uint8_t pattern[] = { 0x5a, 0xa5, 0x00, 0xff, 0x3c };
    uint8_t out[4] = { 0x11, 0x22, 0x33, 0x44 }, in[4] = { 0 };
    uint16_t port = COM1_SCR;

    for (unsigned i = 0; i < ARRAY_SIZE(pattern); i++) {
        outb(COM1_SCR, pattern[i]);
        check_eq(inb(COM1_SCR), pattern[i], "serial scratch register read back");
    }
    /* String I/O: each outsb/insb moves one byte through the port. */
    {
        const uint8_t *src = out;
        uint8_t *dst = in;
        unsigned long n;

        for (unsigned i = 0; i < 4; i++) {
            asm volatile ("outsb" : "+S" (src) : "d" (port) : "memory");
            asm volatile ("insb" : "+D" (dst) : "d" (port) : "memory");
        }
        check(!memcmp(in, out, sizeof(in)), "outsb/insb through the scratch register");
        check(src == out + 4 && dst == in + 4, "outsb/insb advanced rsi/rdi");
        n = 1;
        src = out + 3;
        asm volatile ("rep outsb" : "+S" (src), "+c" (n) : "d" (port) : "memory");
        check_eq(inb(COM1_SCR), out[3], "rep outsb, count 1");
        check_eq(n, 0, "rep outsb decremented rcx");
    }
}

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

static bool bcd_ok(uint8_t v, unsigned max)
{
    return (v & 0xf) <= 9 && (unsigned)((v >> 4) * 10 + (v & 0xf)) <= max;
}

static void test_cmos(void)
{
    uint8_t a, b, sec, min, hour, sec2;
    bool bcd;

    if (guest_start_info && (guest_start_info->flags & GUEST_SI_NO_CMOS)) {
        test_skip("no CMOS RTC");
        return;
    }
    for (unsigned spin = 0; spin < 100000 && (cmos_read(0x0a) & 0x80); spin++)
        ;                                   /* update in progress */
    a = cmos_read(0x0a);
    b = cmos_read(0x0b);
    sec = cmos_read(0x00);
    min = cmos_read(0x02);
    hour = cmos_read(0x04);
    sec2 = cmos_read(0x00);
    bcd = !(b & 0x04);
    test_info("CMOS: A %#x B %#x time %02x:%02x:%02x (%s)\n", a, b, hour, min, sec,
              bcd ? "BCD" : "binary");
    check_eq(a & 0x7f, 0x26, "CMOS status A: 32.768 kHz divider, 1024 Hz rate");
    if (bcd) {
        check(bcd_ok(sec, 59), "CMOS seconds %#x valid BCD", sec);
        check(bcd_ok(min, 59), "CMOS minutes %#x valid BCD", min);
        check(bcd_ok(hour & 0x7f, 23), "CMOS hours %#x valid BCD", hour);
    } else {
        check(sec <= 59 && min <= 59 && (hour & 0x7f) <= 23, "CMOS binary time valid");
    }
    check(sec2 == sec || sec2 == (bcd ? ((sec & 0xf) == 9 ? sec + 7 : sec + 1) : sec + 1) ||
          sec2 == 0, "CMOS seconds moved from %#x to %#x within microseconds", sec, sec2);
    /* The index register also selects plain CMOS RAM: a write reads back. */
    {
        uint8_t old = cmos_read(0x38);
        outb(CMOS_INDEX, 0x38);
        outb(CMOS_DATA, 0xa7);
        check_eq(cmos_read(0x38), 0xa7, "CMOS RAM byte 0x38 read back");
        outb(CMOS_INDEX, 0x38);
        outb(CMOS_DATA, old);
    }
}

static void test_cpuid(void)
{
    uint32_t a, b, c, d, max, maxext;
    char vendor[13], brand[49];

    cpuid(0, &max, &b, &c, &d);
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    check(max >= 1, "cpuid: max basic leaf %u", max);
    for (unsigned i = 0; i < 12; i++)
        if (vendor[i] < 0x20 || vendor[i] > 0x7e) {
            test_fail("cpuid: vendor string not printable");
            break;
        }
    check(!strcmp(vendor, "GenuineIntel") || !strcmp(vendor, "AuthenticAMD") ||
          !strcmp(vendor, "HygonGenuine") || !strcmp(vendor, "CentaurHauls") ||
          !strcmp(vendor, "  Shanghai  "), "cpuid: unknown vendor '%s'", vendor);

    cpuid(1, &a, &b, &c, &d);
    test_info("cpuid 0: '%s' max %#x; 1: eax %#x ebx %#x ecx %#x edx %#x\n", vendor, max, a, b, c, d);
    {
        unsigned family = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
        if (family == 0xf)
            family += (a >> 20) & 0xff;
        if (family >= 6)
            model |= ((a >> 16) & 0xf) << 4;
        test_info("family %#x model %#x stepping %u\n", family, model, a & 0xf);
        check(family != 0, "cpuid 1: family 0");
    }
    /* What this framework already relies on. */
    static const struct { unsigned bit; const char *name; } need[] = {
        { 0, "FPU" }, { 4, "TSC" }, { 5, "MSR" }, { 6, "PAE" }, { 8, "CX8" }, { 9, "APIC" },
        { 13, "PGE" }, { 15, "CMOV" },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(need); i++)
        check(d & (1U << need[i].bit), "cpuid 1: EDX.%s missing", need[i].name);

    cpuid(0x80000000, &maxext, &b, &c, &d);
    check(maxext >= 0x80000001, "cpuid: max extended leaf %#x", maxext);
    cpuid(0x80000001, &a, &b, &c, &d);
    check(d & (1U << 29), "cpuid 0x80000001: EDX.LM (running in long mode)");
    check(d & (1U << 20), "cpuid 0x80000001: EDX.NX (EFER.NXE is set)");
    check(d & (1U << 11), "cpuid 0x80000001: EDX.SYSCALL (EFER.SCE is set)");
    if (maxext >= 0x80000004) {
        uint32_t *w = (uint32_t *)brand;
        for (unsigned i = 0; i < 3; i++)
            cpuid(0x80000002 + i, &w[4 * i], &w[4 * i + 1], &w[4 * i + 2], &w[4 * i + 3]);
        brand[48] = 0;
        test_info("brand '%s'\n", brand);
    }
    /* Subleaf input in ecx: leaf 0 ignores it. */
    {
        uint32_t a2, b2, c2, d2;
        cpuid_count(0, 5, &a2, &b2, &c2, &d2);
        cpuid(0, &a, &b, &c, &d);
        check(a == a2 && b == b2 && c == c2 && d == d2, "cpuid leaf 0 ignores the subleaf");
    }
}

/* ---- MSRs: table of round trips --------------------------------------------- */
struct msr_rt {
    const char *name;
    uint32_t idx;
    uint64_t value;
};

static const struct msr_rt round_trips[] = {
    { "STAR", MSR_STAR, 0x0023001000000000ULL },    /* any value: unused until syscall */
    { "CSTAR", MSR_CSTAR, 0xffffffff81234560ULL },
    { "KERNEL_GS_BASE", MSR_KERNEL_GS_BASE, 0x00007fffdeadb000ULL },
    { "FS_BASE", MSR_FS_BASE, 0xffff800012345000ULL },
    /* canonical, and 32 bits: Intel refuses non-canonical values, AMD keeps
     * only the low half (QEMU TCG takes anything) */
    { "SYSENTER_ESP", 0x175, 0x0000000087654320ULL },
};

static void test_msr_round_trips(void)
{
    uint64_t efer, apic_base;

    for (unsigned i = 0; i < ARRAY_SIZE(round_trips); i++) {
        const struct msr_rt *m = &round_trips[i];
        uint64_t old, v;
        exinfo_t ex;

        ex = rdmsr_safe(m->idx, &old);
        if (!check_ex(ex, 0, m->name))
            continue;
        ex = wrmsr_safe(m->idx, m->value);
        check_ex(ex, 0, m->name);
        v = rdmsr(m->idx);
        if (v != m->value)
            test_fail("MSR %s (%#x): wrote %#lx, read %#lx", m->name, m->idx,
                      (unsigned long)m->value, (unsigned long)v);
        wrmsr(m->idx, old);
        check_eq(rdmsr(m->idx), old, "MSR restored");
    }

    efer = rdmsr(MSR_EFER);
    check((efer & (EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE)) ==
          (EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE), "EFER has LME LMA NXE SCE (%#lx)",
          (unsigned long)efer);
    apic_base = rdmsr(MSR_APIC_BASE);
    check(apic_base & APIC_BASE_BSP, "APIC_BASE.BSP set (%#lx)", (unsigned long)apic_base);
    {
        uint64_t t0 = rdmsr(MSR_TSC), t1 = rdtsc();
        check(t1 >= t0, "MSR_TSC %#lx and rdtsc %#lx agree", (unsigned long)t0, (unsigned long)t1);
    }
}

/* ---- MSR accesses that must #GP ------------------------------------------------ */
struct msr_gp {
    const char *name;
    uint32_t idx;
    bool write;
    uint64_t value;
    bool tcg_accepts;       /* QEMU TCG (7.2) does not raise #GP for it */
};

static const struct msr_gp gp_cases[] = {
    /* Refused by hardware (no PKS: no such MSR; PKS: bits 63:32 reserved)
     * and by QEMU TCG alike: the case the result depends on. */
    { "wrmsr IA32_PKRS (0x6e1), bits 63:32 set", 0x6e1, true, 1ULL << 32, false },
    /* Reserved indices: #GP on hardware; TCG reads 0 and drops writes. */
    { "rdmsr 0x1234567 (reserved index)", 0x1234567, false, 0, true },
    { "wrmsr 0x1234567 (reserved index)", 0x1234567, true, 0, true },
    /* Non-canonical system-call target. */
    { "wrmsr LSTAR non-canonical", MSR_LSTAR, true, 0x8000000000000000ULL, true },
};

static void test_msr_gp(void)
{
    bool tcg = platform_is_qemu_tcg();
    uint64_t lstar = rdmsr(MSR_LSTAR);

    for (unsigned i = 0; i < ARRAY_SIZE(gp_cases); i++) {
        const struct msr_gp *c = &gp_cases[i];
        uint64_t v = 0;
        exinfo_t ex = c->write ? wrmsr_safe(c->idx, c->value) : rdmsr_safe(c->idx, &v);

        test_info("%-44s -> %s\n", c->name, exinfo_str(ex).s);
        if (ex == EXINFO_SYM(GP, 0))
            continue;
        if (tcg && c->tcg_accepts && !ex)
            test_info("  (known QEMU TCG deviation: no #GP)\n");
        else
            check_ex(ex, EXINFO_SYM(GP, 0), c->name);
    }
    wrmsr(MSR_LSTAR, lstar);        /* in case a write was accepted */
}

static uint64_t user_rdmsr_star(void) { return rdmsr(MSR_STAR); }
static uint64_t user_wrmsr_star(void) { wrmsr(MSR_STAR, 0); return 0; }
static uint64_t user_cpuid(void) { return cpuid_ecx(0) != 0; }

static void test_user_msr(void)
{
    struct user_result res;

    exec_user(user_rdmsr_star, &res);
    check(res.how == USER_EXIT_FAULT && res.fault == EXINFO_SYM(GP, 0),
          "ring-3 rdmsr: %s %s, want #GP[0000]", user_exit_name(res.how), exinfo_str(res.fault).s);
    exec_user(user_wrmsr_star, &res);
    check(res.how == USER_EXIT_FAULT && res.fault == EXINFO_SYM(GP, 0),
          "ring-3 wrmsr: %s %s, want #GP[0000]", user_exit_name(res.how), exinfo_str(res.fault).s);
    exec_user(user_cpuid, &res);
    check(res.how == USER_EXIT_SYSCALL && res.value == 1, "ring-3 cpuid runs (%s %s)",
          user_exit_name(res.how), exinfo_str(res.fault).s);
}

/* PCI configuration mechanism #1: a PC's host bridge at 00:00.0 (class
 * 0x0600: QEMU's i440FX natively, the VAM's model under the VAM), a bus
 * nobody populates reading all ones, sub-dword data accesses, and
 * read-only identity registers. */
#define PCI_ADDR    0xcf8
#define PCI_DATA    0xcfc

static uint32_t pci_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

static void test_pci_config(void)
{
    uint32_t id, class_rev, a = pci_addr(0, 0, 0, 0);

    outl(PCI_ADDR, a);
    check_eq(inl(PCI_ADDR), a, "CONFIG_ADDRESS reads back");
    id = inl(PCI_DATA);
    check(id != 0xffffffffu && (id & 0xffff) != 0, "a function at 00:00.0");
    check_eq(inw(PCI_DATA + 2), id >> 16, "word read of the device id");
    check_eq(inb(PCI_DATA + 1), (id >> 8) & 0xff, "byte read at 0xcfd");
    outl(PCI_DATA, ~id);
    check_eq(inl(PCI_DATA), id, "vendor/device ids are read-only");
    outl(PCI_ADDR, pci_addr(0, 0, 0, 0x08));
    class_rev = inl(PCI_DATA);
    check_eq(class_rev >> 16, 0x0600, "00:00.0 is a host bridge");
    outl(PCI_ADDR, pci_addr(0xfe, 0x1f, 7, 0));
    check_eq(inl(PCI_DATA), 0xffffffffu, "an empty bus reads all ones");
    outl(PCI_ADDR, 0);
}

void test_main(void)
{
    test_serial_scratch();
    test_cmos();
    test_cpuid();
    test_msr_round_trips();
    test_msr_gp();
    test_user_msr();
    test_pci_config();
}
