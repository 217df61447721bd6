/* Ring 3: exec_user(), the syscall table, and the ways back. */
#include "internal.h"

static uint8_t user_stack[16384] __aligned(16);
static struct user_result *active;
static syscall_fn_t syscalls[SYS_NR];

void syscall_register(unsigned nr, syscall_fn_t fn)
{
    BUG_ON(nr == SYS_EXIT || nr >= SYS_NR);
    syscalls[nr] = fn;
}

const char *user_exit_name(enum user_exit how)
{
    switch (how) {
    case USER_EXIT_SYSCALL: return "syscall";
    case USER_EXIT_INT80: return "int $0x80";
    case USER_EXIT_FAULT: return "fault";
    default: return "none";
    }
}

static void __noreturn back_to_kernel(struct cpu_regs *regs, enum user_exit how, uint64_t value)
{
    struct user_result *res = active;

    active = NULL;
    res->how = how;
    res->value = value;
    res->regs = *regs;
    exec_user_return(value);
}

void exec_user(uint64_t (*fn)(void), struct user_result *res)
{
    BUG_ON(active);
    memset(res, 0, sizeof(*res));
    active = res;
    exec_user_enter((uint64_t)fn, (uint64_t)(user_stack + sizeof(user_stack)),
                    X86_EFLAGS_MBS | X86_EFLAGS_IF);
}

void syscall_dispatch(struct cpu_regs *regs, enum user_exit how)
{
    uint64_t nr = regs->rax;

    if (!regs_from_user(regs))
        panic("system call %lu from ring 0 (rip %#lx)", nr, regs->rip);
    if (nr == SYS_EXIT) {
        if (!active)
            panic("SYS_EXIT outside exec_user");
        back_to_kernel(regs, how, regs->rdi);
    }
    if (nr < SYS_NR && syscalls[nr])
        regs->rax = syscalls[nr](regs);
    else
        regs->rax = (uint64_t)-1;
}

void syscall_entry_c(struct cpu_regs *regs)
{
    syscall_dispatch(regs, USER_EXIT_SYSCALL);
}

bool user_fault(struct cpu_regs *regs, exinfo_t ex)
{
    if (!active)
        return false;
    active->fault = ex;
    if (exinfo_vec(ex) == X86_EXC_PF)
        active->cr2 = last_pf_cr2;
    back_to_kernel(regs, USER_EXIT_FAULT, 0);
}
