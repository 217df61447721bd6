/*
 * Ring 3.  exec_user(fn, &res) enters ring 3 by iretq (USER_CS, USER_DS,
 * RFLAGS.IF=1, a framework-owned user stack) at a trampoline that calls
 * fn(); when fn returns, the trampoline issues SYS_EXIT by `syscall`.
 * Control comes back to exec_user's caller by
 *   - SYS_EXIT through `syscall` (LSTAR entry, swapgs, sysretq for others),
 *   - SYS_EXIT through `int $0x80` (DPL-3 trap gate),
 *   - any exception raised in ring 3 (nothing on the kernel side handles it
 *     unless a registered trap handler returns true first).
 * GS: the kernel runs with MSR_GS_BASE = &percpu0; exec_user does swapgs
 * before its iretq, so ring 3 runs with the value that was in
 * MSR_KERNEL_GS_BASE, and every entry from ring 3 swaps back.
 * The whole identity map is user-accessible, so fn can be any function in
 * the image, but it must not call anything that needs ring 0 (printk).
 */
#ifndef GUEST_USER_H
#define GUEST_USER_H

/* Syscall numbers (in %rax, argument in %rdi, result in %rax). */
#define SYS_EXIT   0    /* leave ring 3: exec_user returns, value = arg */
#define SYS_NR     16   /* 1..15: free for tests (syscall_register) */

#ifndef __ASSEMBLER__
#include <stdint.h>
#include <guest/desc.h>
#include <guest/traps.h>

typedef uint64_t (*syscall_fn_t)(struct cpu_regs *regs);
void syscall_register(unsigned nr, syscall_fn_t fn);

enum user_exit {
    USER_EXIT_NONE = 0,
    USER_EXIT_SYSCALL,      /* SYS_EXIT via the syscall instruction */
    USER_EXIT_INT80,        /* SYS_EXIT via int $0x80 */
    USER_EXIT_FAULT,        /* an exception in ring 3 */
};

struct user_result {
    enum user_exit how;
    uint64_t value;         /* SYS_EXIT argument */
    exinfo_t fault;         /* USER_EXIT_FAULT: which exception */
    struct cpu_regs regs;   /* the entry frame that ended ring 3 */
    uint64_t cr2;           /* USER_EXIT_FAULT with #PF */
};

void exec_user(uint64_t (*fn)(void), struct user_result *res);

/* For code running in ring 3. */
static inline uint64_t user_syscall(uint64_t nr, uint64_t arg)
{
    uint64_t ret;
    asm volatile ("syscall" : "=a" (ret), "+D" (arg) : "0" (nr) : "rcx", "r11", "memory");
    return ret;
}

static inline uint64_t user_int80(uint64_t nr, uint64_t arg)
{
    uint64_t ret;
    asm volatile ("int $0x80" : "=a" (ret), "+D" (arg) : "0" (nr) : "memory");
    return ret;
}

const char *user_exit_name(enum user_exit how);

#endif /* !__ASSEMBLER__ */
#endif
