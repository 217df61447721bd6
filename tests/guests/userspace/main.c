/*
 * Ring 3: enter by iretq, come back by syscall (and sysretq for calls that
 * return), by int $0x80 (DPL-3 trap gate), and by faults (privileged
 * instructions, user/supervisor pages); swapgs and both GS base MSRs.
 */
#include <guest/test.h>

const char test_title[] = "Ring 3: iretq, syscall/sysret, int $0x80, user faults, swapgs";

#define SYS_ADD     1       /* returns arg + 1, records what the kernel saw */
#define SUPER_VA    (TEST_VA_BASE + 0x10000)
#define USER_MAGIC  0x5553455247534221ULL

extern char user_trampoline[];

/* What the SYS_ADD handler saw, per entry. */
static struct {
    unsigned calls;
    uint64_t vector, cs, ss, rip, rflags;
    uint64_t handler_rflags;
    uint64_t gs_base, kernel_gs_base, gs0;
} k;

static uint64_t sys_add(struct cpu_regs *r)
{
    k.calls++;
    k.vector = r->vector;
    k.cs = r->cs;
    k.ss = r->ss;
    k.rip = r->rip;
    k.rflags = r->rflags;
    k.handler_rflags = read_rflags();
    k.gs_base = rdmsr(MSR_GS_BASE);
    k.kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
    asm volatile ("movq %%gs:0, %0" : "=r" (k.gs0));
    return r->rdi + 1;
}

/* ---- user functions ------------------------------------------------------- */
static uint64_t user_ret42(void) { return 42; }
static uint64_t user_cs(void) { return read_cs(); }

static volatile uint64_t user_after_syscall_rip;

static uint64_t user_syscall_add(void)
{
    uint64_t a = user_syscall(SYS_ADD, 41);
    uint64_t b = user_syscall(SYS_ADD, a);    /* sysretq came back: call again */
    return b;                                 /* 43 */
}

static uint64_t user_int80_add(void)
{
    uint64_t a = user_int80(SYS_ADD, 99);
    return user_int80(SYS_EXIT, a + 1000);    /* exits by int $0x80: 1100 */
}

static uint64_t user_read_gs(void)
{
    uint64_t v;
    asm volatile ("movq %%gs:0, %0" : "=r" (v));
    return v;
}

static uint64_t user_read_gs_then_syscall(void)
{
    uint64_t before = user_read_gs();
    uint64_t r = user_syscall(SYS_ADD, 0);
    uint64_t after = user_read_gs();
    return (before == USER_MAGIC && after == USER_MAGIC && r == 1) ? 1 : 0;
}

static uint64_t user_ud2(void) { asm volatile ("ud2"); return 0; }
static uint64_t user_hlt(void) { hlt(); return 0; }
static uint64_t user_outb(void) { outb(0x80, 0); return 0; }
static uint64_t user_inb(void) { return inb(0x71); }
static uint64_t user_rdmsr(void) { return rdmsr(MSR_EFER); }
static uint64_t user_wrmsr(void) { wrmsr(MSR_STAR, 0); return 0; }
static uint64_t user_read_cr3(void) { return read_cr3(); }
static uint64_t user_swapgs(void) { swapgs(); return 0; }
static uint64_t user_lidt(void)
{
    static const struct { uint16_t l; uint64_t b; } __attribute__((packed)) z = { 0, 0 };
    asm volatile ("lidt %0" :: "m" (z));
    return 0;
}
static uint64_t user_invlpg(void) { invlpg((void *)0x200000); return 0; }
static uint64_t user_read_super(void) { return *(volatile uint64_t *)SUPER_VA; }
static uint64_t user_write_super(void) { *(volatile uint64_t *)SUPER_VA = 1; return 0; }
static uint64_t user_write_unmapped(void) { *(volatile uint64_t *)(SUPER_VA + PAGE_SIZE) = 1; return 0; }
static uint64_t user_int3(void) { asm volatile ("int3"); return 0; }

/* ---- table of ring-3 runs ---------------------------------------------------- */
struct user_case {
    const char *name;
    uint64_t (*fn)(void);
    enum user_exit how;
    uint64_t value;         /* SYS_EXIT value, if not a fault */
    exinfo_t fault;         /* expected fault */
    uint64_t cr2;           /* for #PF */
};

static const struct user_case cases[] = {
#define EXITS(n, f, h, v)  { .name = n, .fn = f, .how = USER_EXIT_##h, .value = v }
#define FAULTS(n, f, ex)   { .name = n, .fn = f, .how = USER_EXIT_FAULT, .fault = ex }
#define PFAULTS(n, f, ec, va) \
    { .name = n, .fn = f, .how = USER_EXIT_FAULT, .fault = EXINFO_SYM(PF, ec), .cr2 = va }
    EXITS("return 42 (exit by syscall)", user_ret42, SYSCALL, 42),
    EXITS("%cs in ring 3", user_cs, SYSCALL, USER_CS),
    EXITS("syscall + sysretq twice", user_syscall_add, SYSCALL, 43),
    EXITS("int $0x80 call, then exit", user_int80_add, INT80, 1100),
    FAULTS("ud2", user_ud2, EXINFO_SYM(UD, 0)),
    FAULTS("hlt", user_hlt, EXINFO_SYM(GP, 0)),
    FAULTS("outb", user_outb, EXINFO_SYM(GP, 0)),
    FAULTS("inb", user_inb, EXINFO_SYM(GP, 0)),
    FAULTS("rdmsr", user_rdmsr, EXINFO_SYM(GP, 0)),
    FAULTS("wrmsr", user_wrmsr, EXINFO_SYM(GP, 0)),
    FAULTS("mov %cr3, reg", user_read_cr3, EXINFO_SYM(GP, 0)),
    FAULTS("swapgs", user_swapgs, EXINFO_SYM(GP, 0)),
    FAULTS("lidt", user_lidt, EXINFO_SYM(GP, 0)),
    FAULTS("invlpg", user_invlpg, EXINFO_SYM(GP, 0)),
    FAULTS("int3 (DPL-3 gate)", user_int3, EXINFO_SYM(BP, 0)),
    PFAULTS("read supervisor page", user_read_super, X86_PFEC_USER | X86_PFEC_PRESENT, SUPER_VA),
    PFAULTS("write supervisor page", user_write_super,
            X86_PFEC_USER | X86_PFEC_WRITE | X86_PFEC_PRESENT, SUPER_VA),
    PFAULTS("write unmapped page", user_write_unmapped, X86_PFEC_USER | X86_PFEC_WRITE,
            SUPER_VA + PAGE_SIZE),
#undef EXITS
#undef FAULTS
#undef PFAULTS
};

static void run_case(const struct user_case *c)
{
    struct user_result res;
    uintptr_t lo, hi;

    exec_user(c->fn, &res);
    if (res.how == USER_EXIT_FAULT)
        test_info("%-30s -> fault %s at %#lx\n", c->name, exinfo_str(res.fault).s,
                  (unsigned long)res.regs.rip);
    else
        test_info("%-30s -> %s, value %#lx\n", c->name, user_exit_name(res.how),
                  (unsigned long)res.value);
    if (res.how != c->how) {
        test_fail("%s: ended by %s %s, want %s", c->name, user_exit_name(res.how),
                  exinfo_str(res.fault).s, user_exit_name(c->how));
        return;
    }
    /* The entry frame that ended ring 3 describes ring 3. */
    check_eq(res.regs.cs, USER_CS, c->name);
    if (res.how != USER_EXIT_SYSCALL)           /* syscall pushes no real ss */
        check_eq(res.regs.ss, USER_DS, c->name);
    check(res.regs.rflags & X86_EFLAGS_IF, "%s: ring-3 RFLAGS.IF clear", c->name);
    check(!(res.regs.rflags & X86_EFLAGS_IOPL), "%s: ring-3 IOPL not 0", c->name);
    check(!irqs_enabled(), "%s: back in ring 0 with IF set", c->name);
    check_eq(read_ss(), KERNEL_DS, "ss after return to ring 0");
    check_eq(rdmsr(MSR_GS_BASE), (uintptr_t)&percpu0, "MSR_GS_BASE after return to ring 0");
    entry_stack_bounds(&lo, &hi);
    check(res.regs.rsp < lo || res.regs.rsp >= hi, "%s: user rsp on the kernel entry stack",
          c->name);

    if (c->how == USER_EXIT_FAULT) {
        check_ex(res.fault, c->fault, c->name);
        check_eq(res.regs.error_code, exinfo_ec(c->fault), c->name);
        if (exinfo_vec(c->fault) == X86_EXC_PF)
            check_eq(res.cr2, c->cr2, "user #PF cr2");
    } else {
        check_eq(res.value, c->value, c->name);
    }
}

/* ---- syscall/int $0x80 entry state -------------------------------------------- */
static void test_entry_state(void)
{
    struct user_result res;

    memset(&k, 0, sizeof(k));
    exec_user(user_syscall_add, &res);
    check_eq(k.calls, 2, "syscall: SYS_ADD calls");
    check_eq(k.vector, VEC_SYSCALL, "syscall: entry kind");
    check_eq(k.cs, USER_CS, "syscall: saved cs");
    check(k.rflags & X86_EFLAGS_IF, "syscall: saved user RFLAGS (r11) has IF");
    check(!(k.handler_rflags & X86_EFLAGS_IF), "syscall: FMASK cleared IF in the kernel");
    check_eq(k.gs_base, (uintptr_t)&percpu0, "syscall: MSR_GS_BASE after swapgs");
    check_eq(k.gs0, (uintptr_t)&percpu0, "syscall: %gs:0 in the kernel");

    memset(&k, 0, sizeof(k));
    exec_user(user_int80_add, &res);
    check_eq(k.calls, 1, "int $0x80: SYS_ADD calls");
    check_eq(k.vector, VEC_INT80, "int $0x80: vector");
    check_eq(k.cs, USER_CS, "int $0x80: saved cs");
    check_eq(k.ss, USER_DS, "int $0x80: saved ss");
    check(k.handler_rflags & X86_EFLAGS_IF, "int $0x80: trap gate left IF set");
    check_eq(k.gs_base, (uintptr_t)&percpu0, "int $0x80: MSR_GS_BASE after swapgs");
}

/* ---- swapgs and the two GS bases --------------------------------------------- */
static uint64_t user_gs_block[2] __aligned(16) = { USER_MAGIC, 0 };

static void test_swapgs(void)
{
    const uint64_t kbase = (uintptr_t)&percpu0, ubase = (uintptr_t)user_gs_block;
    struct user_result res;
    uint64_t gs0;

    check_eq(rdmsr(MSR_GS_BASE), kbase, "kernel MSR_GS_BASE");
    asm volatile ("movq %%gs:0, %0" : "=r" (gs0));
    check_eq(gs0, kbase, "kernel %gs:0 (percpu self pointer)");

    /* swapgs in ring 0 exchanges the two MSRs. */
    wrmsr(MSR_KERNEL_GS_BASE, ubase);
    swapgs();
    {
        uint64_t a = rdmsr(MSR_GS_BASE), b = rdmsr(MSR_KERNEL_GS_BASE);
        asm volatile ("movq %%gs:0, %0" : "=r" (gs0));
        swapgs();
        check_eq(a, ubase, "after swapgs: MSR_GS_BASE");
        check_eq(b, kbase, "after swapgs: MSR_KERNEL_GS_BASE");
        check_eq(gs0, USER_MAGIC, "after swapgs: %gs:0");
    }
    check_eq(rdmsr(MSR_GS_BASE), kbase, "after second swapgs: MSR_GS_BASE");
    check_eq(rdmsr(MSR_KERNEL_GS_BASE), ubase, "after second swapgs: MSR_KERNEL_GS_BASE");

    /* Ring 3 runs on the user base; each kernel entry swaps back. */
    memset(&k, 0, sizeof(k));
    exec_user(user_read_gs_then_syscall, &res);
    check(res.how == USER_EXIT_SYSCALL && res.value == 1,
          "ring 3 %%gs:0 is the user block before and after a syscall (%s, %lu)",
          user_exit_name(res.how), (unsigned long)res.value);
    check_eq(k.gs_base, kbase, "in syscall: MSR_GS_BASE");
    check_eq(k.kernel_gs_base, ubase, "in syscall: MSR_KERNEL_GS_BASE");
    check_eq(rdmsr(MSR_GS_BASE), kbase, "after ring 3: MSR_GS_BASE");
    check_eq(rdmsr(MSR_KERNEL_GS_BASE), ubase, "after ring 3: MSR_KERNEL_GS_BASE");

    /* A fault from ring 3 swaps too. */
    exec_user(user_ud2, &res);
    check_eq(rdmsr(MSR_GS_BASE), kbase, "after a ring-3 fault: MSR_GS_BASE");
    check_eq(rdmsr(MSR_KERNEL_GS_BASE), ubase, "after a ring-3 fault: MSR_KERNEL_GS_BASE");
    wrmsr(MSR_KERNEL_GS_BASE, 0);
}

void test_main(void)
{
    static uint8_t super_page[PAGE_SIZE] __aligned(PAGE_SIZE);
    uint64_t star = rdmsr(MSR_STAR);

    test_info("STAR %#lx LSTAR %#lx FMASK %#lx EFER %#lx\n", (unsigned long)star,
              (unsigned long)rdmsr(MSR_LSTAR), (unsigned long)rdmsr(MSR_FMASK),
              (unsigned long)rdmsr(MSR_EFER));
    check(rdmsr(MSR_EFER) & EFER_SCE, "EFER.SCE set");
    map_4k(pt_kernel_root(), SUPER_VA, (uintptr_t)super_page, PTE_W);   /* no PTE_U */
    syscall_register(SYS_ADD, sys_add);

    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
        run_case(&cases[i]);
    test_entry_state();
    test_swapgs();
}
