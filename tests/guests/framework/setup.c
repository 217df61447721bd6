/*
 * The 64-bit side of boot: descriptor tables, TSS, paging, MSRs, console;
 * then the test, the result line and shutdown.
 */
#include "internal.h"

const struct guest_start_info *guest_start_info;

/* ---- GDT, TSS ------------------------------------------------------------ */
struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "TSS layout");

static struct tss64 tss __aligned(128);

uint64_t gdt[GDT_ENTRIES] __aligned(16) = {
    [0]                = 0,
    [KERNEL_CS >> 3]   = 0x00af9b000000ffffULL,  /* 64-bit code, DPL 0 */
    [KERNEL_DS >> 3]   = 0x00cf93000000ffffULL,  /* data, DPL 0 */
    [USER32_CS >> 3]   = 0x00cffb000000ffffULL,  /* 32-bit code, DPL 3 */
    [USER_DS >> 3]     = 0x00cff3000000ffffULL,  /* data, DPL 3 */
    [USER_CS >> 3]     = 0x00affb000000ffffULL,  /* 64-bit code, DPL 3 */
    [TSS_SEL >> 3]     = 0,                      /* filled by tss_init() */
    [(TSS_SEL >> 3) + 1] = 0,
    [KERNEL32_CS >> 3] = 0x00cf9b000000ffffULL,  /* 32-bit code, DPL 0 */
};

struct desc_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

/* Used by _start64 before any C runs. */
struct desc_ptr gdt_ptr = { sizeof(gdt) - 1, (uint64_t)gdt };

extern char boot_stack[], boot_stack_top[], entry_stack[], entry_stack_top[];
extern char ist_stacks[];
#define IST_STACK_SIZE 8192

void ist_stack_bounds(unsigned n, uintptr_t *lo, uintptr_t *hi)
{
    BUG_ON(n < 1 || n > NR_IST);
    *lo = (uintptr_t)ist_stacks + (n - 1) * IST_STACK_SIZE;
    *hi = *lo + IST_STACK_SIZE;
}

void entry_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
    *lo = (uintptr_t)entry_stack;
    *hi = (uintptr_t)entry_stack_top;
}

void boot_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
    *lo = (uintptr_t)boot_stack;
    *hi = (uintptr_t)boot_stack_top;
}

static void tss_init(void)
{
    uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

    tss.rsp[0] = (uint64_t)entry_stack_top;
    for (unsigned n = 1; n <= NR_IST; n++) {
        uintptr_t lo, hi;
        ist_stack_bounds(n, &lo, &hi);
        tss.ist[n - 1] = hi;
    }
    tss.iomap_base = sizeof(tss);   /* no I/O bitmap: ring-3 port access faults */

    gdt[TSS_SEL >> 3] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
                        (0x89ULL << 40) |                 /* present, 64-bit TSS (available) */
                        (((limit >> 16) & 0xf) << 48) |
                        (((base >> 24) & 0xff) << 56);
    gdt[(TSS_SEL >> 3) + 1] = base >> 32;
    asm volatile ("ltr %w0" :: "r" (TSS_SEL) : "memory");
}

/* ---- IDT ----------------------------------------------------------------- */
struct idt_gate {
    uint16_t off_lo;
    uint16_t sel;
    uint8_t ist;
    uint8_t attr;          /* P | DPL | type */
    uint16_t off_mid;
    uint32_t off_hi;
    uint32_t reserved;
} __attribute__((packed));

static struct idt_gate idt[256] __aligned(16);
static const struct desc_ptr idt_ptr = { sizeof(idt) - 1, (uint64_t)idt };
extern const char trap_stubs[];

void idt_set_gate(unsigned vec, unsigned type, unsigned dpl, unsigned ist)
{
    uint64_t off = (uint64_t)trap_stubs + vec * 16;
    struct idt_gate g = {
        .off_lo = off & 0xffff,
        .sel = KERNEL_CS,
        .ist = ist & 7,
        .attr = 0x80 | (dpl & 3) << 5 | (type & 0xf),
        .off_mid = (off >> 16) & 0xffff,
        .off_hi = off >> 32,
    };
    BUG_ON(vec > 255);
    idt[vec] = g;
}

void idt_set_ist(unsigned vec, unsigned ist)
{
    BUG_ON(vec > 255 || ist > NR_IST);
    idt[vec].ist = ist;
}

void idt_set_present(unsigned vec, bool present)
{
    BUG_ON(vec > 255);
    idt[vec].attr = (idt[vec].attr & 0x7f) | (present ? 0x80 : 0);
}

void idt_set_dpl(unsigned vec, unsigned dpl)
{
    BUG_ON(vec > 255);
    idt[vec].attr = (idt[vec].attr & ~0x60) | (dpl & 3) << 5;
}

static void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        idt_set_gate(v, GATE_INTERRUPT, 0, 0);
    idt_set_gate(X86_EXC_BP, GATE_INTERRUPT, 3, 0);   /* int3 from ring 3 */
    idt_set_gate(X86_EXC_DF, GATE_INTERRUPT, 0, IST_DF);
    idt_set_gate(X86_EXC_NMI, GATE_INTERRUPT, 0, IST_NMI);
    idt_set_gate(X86_EXC_MC, GATE_INTERRUPT, 0, IST_NMI);
    idt_set_gate(VEC_INT80, GATE_TRAP, 3, 0);
    asm volatile ("lidt %0" :: "m" (idt_ptr) : "memory");
}

/* ---- per-CPU, syscall MSRs ------------------------------------------------- */
struct percpu percpu0;
extern char syscall_entry[];

static void percpu_init(void)
{
    percpu0.self = (uint64_t)&percpu0;
    percpu0.kernel_rsp = (uint64_t)entry_stack_top;
    wrmsr(MSR_GS_BASE, (uint64_t)&percpu0);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    wrmsr(MSR_FS_BASE, 0);
}

static void syscall_init(void)
{
    wrmsr(MSR_STAR, ((uint64_t)(USER32_CS & ~3) << 48) | ((uint64_t)KERNEL_CS << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_CSTAR, 0);
    wrmsr(MSR_FMASK, X86_EFLAGS_IF | X86_EFLAGS_TF | X86_EFLAGS_DF | X86_EFLAGS_AC |
                     X86_EFLAGS_NT | X86_EFLAGS_IOPL);
}

/* ---- results ------------------------------------------------------------- */
enum result { RES_SUCCESS, RES_SKIP, RES_ERROR, RES_FAILURE };
static enum result result = RES_SUCCESS;
unsigned test_failures;
static const char *const result_names[] = { "SUCCESS", "SKIP", "ERROR", "FAILURE" };
static const uint8_t result_exit[] = {
    GUEST_EXIT_SUCCESS, GUEST_EXIT_SKIP, GUEST_EXIT_ERROR, GUEST_EXIT_FAILURE,
};

static void report(enum result r, const char *what, const char *fmt, va_list ap)
{
    if (r > result)
        result = r;
    printk("%s: ", what);
    vprintk(fmt, ap);
    printk("\n");
}

void test_fail(const char *fmt, ...)
{
    va_list ap;
    test_failures++;
    va_start(ap, fmt);
    report(RES_FAILURE, "FAIL", fmt, ap);
    va_end(ap);
}

void test_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(RES_ERROR, "ERROR", fmt, ap);
    va_end(ap);
}

void test_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(RES_SKIP, "SKIP", fmt, ap);
    va_end(ap);
}

bool platform_is_qemu_tcg(void)
{
    uint32_t a, b, c, d;

    if (!(cpuid_ecx(1) & (1U << 31)))       /* no hypervisor bit */
        return false;
    cpuid(0x40000000, &a, &b, &c, &d);
    return b == 0x54474354 && c == 0x43544743 && d == 0x47435447;   /* "TCGTCGTCGTCG" */
}

bool irq_wait(volatile unsigned *counter, unsigned target, uint64_t timeout_us)
{
    uint64_t end = tsc_deadline_us(timeout_us);
    unsigned long flags = read_rflags();
    bool reached;

    sti();
    while (*counter < target && !tsc_passed(end))
        cpu_relax();
    reached = *counter >= target;
    write_rflags(flags);
    return reached;
}

void irq_window_us(uint64_t us)
{
    unsigned long flags = read_rflags();

    sti();
    udelay(us);
    write_rflags(flags);
}

/* ---- shutdown -------------------------------------------------------------- */
static void __noreturn shutdown(uint8_t code)
{
    static const struct desc_ptr no_idt = { 0, 0 };

    cli();
    outb(GUEST_EXIT_PORT, code);          /* QEMU isa-debug-exit: exits here */
    /* Fallback: triple fault (QEMU -no-reboot exits, hardware resets). */
    asm volatile ("lidt %0; int3" :: "m" (no_idt) : "memory");
    for (;;)
        hlt();
}

void __noreturn panic_exit(void)
{
    shutdown(GUEST_EXIT_PANIC);
}

/* ---- boot ------------------------------------------------------------------- */
extern struct guest_start_info pvh_start_info;
static const char *platform_names[] = { "unknown", "native (PVH)", "VAM" };

static const char *cmdline(void)
{
    const struct guest_start_info *si = guest_start_info;

    if (!si)
        return NULL;
    if (si->cmdline)
        return (const char *)(uintptr_t)si->cmdline;
    if (si->platform == GUEST_PLATFORM_PVH && si->pvh_start_info) {
        const struct hvm_start_info *h = (const void *)(uintptr_t)si->pvh_start_info;
        if (h->magic == HVM_START_MAGIC && h->cmdline_paddr)
            return (const char *)(uintptr_t)h->cmdline_paddr;
    }
    return NULL;
}

void __noreturn boot_main(const struct guest_start_info *si)
{
    const char *cl;
    unsigned platform;

    if (si && si->magic == GUEST_START_MAGIC)
        guest_start_info = si;
    platform = guest_start_info ? guest_start_info->platform : GUEST_PLATFORM_UNKNOWN;
    if (platform >= ARRAY_SIZE(platform_names))
        platform = GUEST_PLATFORM_UNKNOWN;

    console_init();
    tss_init();
    idt_init();
    /* Whatever the loader left: the identity map is user-accessible, so no
     * SMEP/SMAP (nor protection keys, nor CET) before CR3 points at it. */
    write_cr4((read_cr4() | X86_CR4_PAE) &
              ~(X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE | X86_CR4_CET));
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE | EFER_SCE);
    write_cr0(read_cr0() | X86_CR0_WP | X86_CR0_NE);
    paging_init();
    percpu_init();
    syscall_init();
    if (!(guest_start_info && (guest_start_info->flags & GUEST_SI_NO_LEGACY_PIC)))
        pic_init();

    printk("--- previrt guest test framework ---\n");
    printk("Environment: %s, entry %s\n", platform_names[platform],
           si == &pvh_start_info ? "32-bit PVH -> 64-bit" : "64-bit");
    cl = cmdline();
    if (cl && *cl)
        printk("Command line: %s\n", cl);
    printk("Test: %s\n", test_title);

    test_main();

    if (irqs_enabled()) {
        cli();
        test_error("test_main returned with interrupts enabled");
    }
    printk("Test result: %s\n", result_names[result]);
    shutdown(result_exit[result]);
}
