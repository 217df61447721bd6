/* Exception and interrupt dispatch, extable, catch_exception. */
#include "internal.h"

static trap_handler_t handlers[256];
volatile uint64_t last_pf_cr2;

trap_handler_t trap_register(unsigned vec, trap_handler_t fn)
{
    trap_handler_t old;

    BUG_ON(vec > 255);
    old = handlers[vec];
    handlers[vec] = fn;
    return old;
}

void trap_unregister(unsigned vec)
{
    trap_register(vec, NULL);
}

static const char *const exc_names[X86_NR_EXCEPTIONS] = {
    [X86_EXC_DE] = "DE", [X86_EXC_DB] = "DB", [X86_EXC_NMI] = "NMI", [X86_EXC_BP] = "BP",
    [X86_EXC_OF] = "OF", [X86_EXC_BR] = "BR", [X86_EXC_UD] = "UD", [X86_EXC_NM] = "NM",
    [X86_EXC_DF] = "DF", [9] = "CSO", [X86_EXC_TS] = "TS", [X86_EXC_NP] = "NP",
    [X86_EXC_SS] = "SS", [X86_EXC_GP] = "GP", [X86_EXC_PF] = "PF", [X86_EXC_MF] = "MF",
    [X86_EXC_AC] = "AC", [X86_EXC_MC] = "MC", [X86_EXC_XM] = "XM", [X86_EXC_VE] = "VE",
    [X86_EXC_CP] = "CP",
};

struct exinfo_str exinfo_str(exinfo_t e)
{
    struct exinfo_str s;
    unsigned v = exinfo_vec(e);

    if (!(e & EXINFO_VALID))
        snprintf(s.s, sizeof(s.s), "none");
    else if (v < X86_NR_EXCEPTIONS && exc_names[v] && (X86_EXC_HAVE_EC & (1U << v)))
        snprintf(s.s, sizeof(s.s), "#%s[%04x]", exc_names[v], exinfo_ec(e));
    else if (v < X86_NR_EXCEPTIONS && exc_names[v] && !exinfo_ec(e))
        snprintf(s.s, sizeof(s.s), "#%s", exc_names[v]);
    else
        snprintf(s.s, sizeof(s.s), "vec %#x[%04x]", v, exinfo_ec(e));
    return s;
}

void dump_regs(const struct cpu_regs *r)
{
    printk("  vec %#lx ec %#lx rip %#lx cs %#lx rflags %#lx rsp %#lx ss %#lx\n",
           r->vector, r->error_code, r->rip, r->cs, r->rflags, r->rsp, r->ss);
    printk("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", r->rax, r->rbx, r->rcx, r->rdx);
    printk("  rsi %016lx rdi %016lx rbp %016lx r8  %016lx\n", r->rsi, r->rdi, r->rbp, r->r8);
    printk("  r9  %016lx r10 %016lx r11 %016lx r12 %016lx\n", r->r9, r->r10, r->r11, r->r12);
    printk("  r13 %016lx r14 %016lx r15 %016lx last #PF cr2 %lx\n", r->r13, r->r14, r->r15,
           (unsigned long)last_pf_cr2);
}

extern const struct extable_entry __start_ex_table[], __stop_ex_table[];

static bool extable_fixup(struct cpu_regs *regs, exinfo_t ex)
{
    for (const struct extable_entry *e = __start_ex_table; e < __stop_ex_table; e++) {
        if (e->fault != regs->rip)
            continue;
        regs->rip = e->fixup;
        if (e->reg == EX_AX)
            regs->rax = ex;
        else if (e->reg == EX_DI)
            regs->rdi = ex;
        return true;
    }
    return false;
}

static uint64_t catch_fault_rip;

exinfo_t catch_exception(void (*fn)(void *), void *arg, uint64_t *fault_rip)
{
    exinfo_t ex;

    BUG_ON(catch_armed);
    catch_fault_rip = 0;
    ex = catch_call(fn, arg);
    if (fault_rip)
        *fault_rip = catch_fault_rip;
    return ex;
}

static bool catch_unwind(struct cpu_regs *regs, exinfo_t ex)
{
    if (!catch_armed)
        return false;
    catch_armed = 0;
    catch_fault_rip = regs->rip;
    regs->rip = (uint64_t)catch_resume;
    regs->rsp = catch_rsp;
    regs->cs = KERNEL_CS;
    regs->ss = KERNEL_DS;
    regs->rflags = X86_EFLAGS_MBS;      /* catch_resume's popfq restores the caller's */
    regs->rax = ex;
    return true;
}

void trap_dispatch(struct cpu_regs *regs)
{
    unsigned vec = regs->vector;
    exinfo_t ex;

    if (vec == X86_EXC_PF)
        last_pf_cr2 = read_cr2();

    if (handlers[vec] && handlers[vec](regs))
        return;

    if (vec < X86_NR_EXCEPTIONS) {
        ex = EXINFO(vec, regs->error_code);
        if (regs_from_user(regs)) {
            if (user_fault(regs, ex))
                return;
        } else if (extable_fixup(regs, ex) || catch_unwind(regs, ex)) {
            return;
        }
        printk("Unhandled exception %s in ring %lu\n", exinfo_str(ex).s, regs->cs & 3);
        dump_regs(regs);
        panic("unhandled exception %s at %#lx", exinfo_str(ex).s, regs->rip);
    }

    if (vec == VEC_INT80) {
        syscall_dispatch(regs, USER_EXIT_INT80);
        return;
    }
    if (vec == VEC_SPURIOUS)
        return;                         /* APIC spurious: no EOI */

    dump_regs(regs);
    panic("unexpected interrupt, vector %#x", vec);
}
