/*
 * Exceptions in ring 0: #DE, #BP, #UD, #GP (with and without a selector
 * error code), #PF (CR2 and error code); the frame the CPU pushed (rip,
 * cs, rflags, rsp, ss) for each; an exception on an IST stack; and #DF
 * (delivered on IST1) when #PF cannot be delivered.
 */
#include <guest/test.h>

const char test_title[] = "Exceptions: #DE #BP #UD #GP #PF, frames, IST, #DF";

/* What the probe saw just before the instruction, and what the handler saw. */
struct probe {
    exinfo_t ex;            /* from the extable fixup */
    uint64_t rip;           /* expected frame rip: the instruction, or after it for traps */
    uint64_t rsp, rflags;   /* at the instruction */
};

static struct cpu_regs seen;
static volatile unsigned seen_count;
static volatile uint64_t seen_handler_rflags;

/* Observer for every tested vector: copy the frame, let the extable fix up. */
static bool observe(struct cpu_regs *r)
{
    seen = *r;
    seen_count++;
    seen_handler_rflags = read_rflags();
    return false;
}

/* The probe first gives the status flags a known value with popfq (CF PF
 * ZF SF set, AF OF clear; IF and DF as they are): under the VAM a
 * pre-virtualized pushf is one memory operation that reports the status
 * flags of the last popf, not the live ones, so the value read back right
 * before the instruction is only exact when a popf set it. */
#define PROBE_ASM(insn, faddr, setup)                                   \
    asm volatile (setup                                                  \
                  "pushfq\n"                                             \
                  "andq $~0x8d5, (%%rsp)\n"                              \
                  "orq $0xc5, (%%rsp)\n"                                 \
                  "popfq\n"                                              \
                  "leaq " faddr "(%%rip), %[rip]\n"                      \
                  "movq %%rsp, %[sp]\n"                                  \
                  "pushfq\n"                                             \
                  "popq %[fl]\n"                                         \
                  "1: " insn "\n"                                        \
                  "2:\n"                                                 \
                  _ASM_EXTABLE(1b, 2b, EX_DI)                            \
                  _ASM_EXTABLE(2b, 2b, EX_DI)                            \
                  : "+D" (p->ex), [rip] "=&r" (p->rip), [sp] "=&r" (p->rsp), \
                    [fl] "=&r" (p->rflags)                               \
                    , "+a" (arg)                                         \
                  :                                                      \
                  : "rcx", "rdx", "memory", "cc")

static void probe_ud2(struct probe *p, uint64_t arg)
{
    PROBE_ASM("ud2", "1f", "");
}

static void probe_div0(struct probe *p, uint64_t arg)
{
    PROBE_ASM("divl %%ecx", "1f", "xorl %%ecx, %%ecx\n xorl %%edx, %%edx\n");
}

static void probe_int3(struct probe *p, uint64_t arg)
{
    PROBE_ASM("int3", "2f", "");          /* a trap: the frame points after it */
}

static void probe_read(struct probe *p, uint64_t arg)
{
    PROBE_ASM("movq (%%rax), %%rcx", "1f", "");
}

static void probe_write(struct probe *p, uint64_t arg)
{
    PROBE_ASM("movq %%rcx, (%%rax)", "1f", "xorl %%ecx, %%ecx\n");
}

static void probe_load_ds(struct probe *p, uint64_t arg)
{
    PROBE_ASM("mov %%eax, %%ds", "1f", "");
}

static void probe_ud2_sti(struct probe *p, uint64_t arg)
{
    PROBE_ASM("ud2", "1f", "sti\n");
    cli();
}

#define RO_VA   (TEST_VA_BASE + 0x1000)
#define NONCANONICAL 0x8000000000000000ULL

struct exc_case {
    const char *name;
    void (*probe)(struct probe *p, uint64_t arg);
    uint64_t arg;
    exinfo_t expect;
    bool check_cr2;
    uint64_t cr2;
};

static const struct exc_case cases[] = {
#define CASE(n, p, a, ex)      { .name = n, .probe = p, .arg = a, .expect = ex }
#define PF_CASE(n, p, a, ec)   { .name = n, .probe = p, .arg = a, .expect = EXINFO_SYM(PF, ec), \
                                 .check_cr2 = true, .cr2 = a }
    CASE("ud2", probe_ud2, 0, EXINFO_SYM(UD, 0)),
    CASE("div by zero", probe_div0, 0, EXINFO_SYM(DE, 0)),
    CASE("int3", probe_int3, 0, EXINFO_SYM(BP, 0)),
    CASE("non-canonical read", probe_read, NONCANONICAL, EXINFO_SYM(GP, 0)),
    CASE("load %ds beyond GDT limit", probe_load_ds, 0x1008, EXINFO_SYM(GP, 0x1008)),
    CASE("load %ds: RPL 3 selector for a DPL-0 segment", probe_load_ds, KERNEL_DS | 3,
         EXINFO_SYM(GP, KERNEL_DS)),
    PF_CASE("read NULL", probe_read, 0, 0),
    PF_CASE("write unmapped", probe_write, TEST_VA_BASE, X86_PFEC_WRITE),
    PF_CASE("write read-only", probe_write, RO_VA, X86_PFEC_WRITE | X86_PFEC_PRESENT),
    CASE("ud2 with IF=1", probe_ud2_sti, 0, EXINFO_SYM(UD, 0)),
#undef CASE
#undef PF_CASE
};

static void run_case(const struct exc_case *c)
{
    struct probe p = { 0 };
    unsigned before = seen_count;

    last_pf_cr2 = ~0ULL;
    c->probe(&p, c->arg);

    test_info("%-46s %-10s at %#lx\n", c->name, exinfo_str(p.ex).s, (unsigned long)seen.rip);
    if (!check_ex(p.ex, c->expect, c->name))
        return;
    if (!check_eq(seen_count, before + 1, c->name))
        return;
    /* The frame exactly as the CPU pushed it. */
    if (seen.rip != p.rip)
        test_fail("%s: frame rip %#lx, want %#lx", c->name, seen.rip, p.rip);
    if (seen.cs != read_cs())
        test_fail("%s: frame cs %#lx, want %#x", c->name, seen.cs, read_cs());
    if ((seen.rflags & ~X86_EFLAGS_RF) != p.rflags)
        test_fail("%s: frame rflags %#lx, want %#lx (RF ignored)", c->name, seen.rflags, p.rflags);
    if (seen.rsp != p.rsp)
        test_fail("%s: frame rsp %#lx, want %#lx", c->name, seen.rsp, p.rsp);
    if (seen.ss != read_ss())
        test_fail("%s: frame ss %#lx, want %#x", c->name, seen.ss, read_ss());
    if (seen.error_code != exinfo_ec(c->expect))
        test_fail("%s: frame error code %#lx", c->name, seen.error_code);
    if (seen_handler_rflags & X86_EFLAGS_IF)
        test_fail("%s: handler ran with IF=1 (interrupt gate clears it)", c->name);
    if (c->check_cr2 && last_pf_cr2 != c->cr2)
        test_fail("%s: CR2 %#lx, want %#lx", c->name, (unsigned long)last_pf_cr2,
                  (unsigned long)c->cr2);
}

/* ---- IST ------------------------------------------------------------------ */
static volatile uint64_t ist_regs_addr, ist_frame_rsp;

static bool on_bp_ist(struct cpu_regs *r)
{
    ist_regs_addr = (uint64_t)r;
    ist_frame_rsp = r->rsp;
    return true;            /* int3 is a trap: returning resumes after it */
}

static void test_ist(void)
{
    uintptr_t lo, hi;
    uint64_t rsp_before;
    trap_handler_t old;

    ist_stack_bounds(IST_TEST, &lo, &hi);
    old = trap_register(X86_EXC_BP, on_bp_ist);
    idt_set_ist(X86_EXC_BP, IST_TEST);
    ist_regs_addr = 0;
    asm volatile ("movq %%rsp, %0\n int3" : "=&r" (rsp_before) :: "memory");
    idt_set_ist(X86_EXC_BP, 0);
    trap_register(X86_EXC_BP, old);

    check(ist_regs_addr >= lo && ist_regs_addr < hi,
          "IST: #BP frame at %#lx, want on IST%u [%#lx, %#lx)", (unsigned long)ist_regs_addr,
          IST_TEST, (unsigned long)lo, (unsigned long)hi);
    check_eq(ist_frame_rsp, rsp_before, "IST: frame rsp is the interrupted stack");
    /* The CPU starts an IST frame at the top of the stack, 16-byte aligned. */
    check_eq(ist_regs_addr + sizeof(struct cpu_regs), hi, "IST: frame at the top of the IST stack");
}

/* ---- #DF: #PF through a not-present gate gives #NP, and #PF + #NP = #DF ---- */
static volatile uint64_t df_regs_addr, df_ec;

static bool on_df(struct cpu_regs *r)
{
    df_regs_addr = (uint64_t)r;
    df_ec = r->error_code;
    return false;           /* catch_exception() recovers */
}

static void touch_unmapped(void *arg)
{
    *(volatile uint64_t *)arg = 1;
}

static void test_double_fault(void)
{
    uintptr_t lo, hi;
    exinfo_t ex;
    trap_handler_t old;

    ist_stack_bounds(IST_DF, &lo, &hi);
    old = trap_register(X86_EXC_DF, on_df);
    idt_set_present(X86_EXC_PF, false);
    ex = catch_exception(touch_unmapped, (void *)(TEST_VA_BASE + 0x2000), NULL);
    idt_set_present(X86_EXC_PF, true);
    trap_register(X86_EXC_DF, old);

    check_ex(ex, EXINFO_SYM(DF, 0), "#PF with a not-present #PF gate");
    check(df_regs_addr >= lo && df_regs_addr < hi, "#DF: frame at %#lx, want on IST%u",
          (unsigned long)df_regs_addr, IST_DF);
}

void test_main(void)
{
    static const unsigned vecs[] = { X86_EXC_DE, X86_EXC_BP, X86_EXC_UD, X86_EXC_GP, X86_EXC_PF };
    static uint8_t ro_page[PAGE_SIZE] __aligned(PAGE_SIZE);

    map_4k(pt_kernel_root(), RO_VA, (uintptr_t)ro_page, PTE_NX);   /* present, read-only */
    for (unsigned i = 0; i < ARRAY_SIZE(vecs); i++)
        trap_register(vecs[i], observe);

    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
        run_case(&cases[i]);

    for (unsigned i = 0; i < ARRAY_SIZE(vecs); i++)
        trap_unregister(vecs[i]);
    test_ist();
    test_double_fault();
}
