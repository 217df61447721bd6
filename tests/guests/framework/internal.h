/* Framework-internal interfaces (not for tests). */
#ifndef GUEST_INTERNAL_H
#define GUEST_INTERNAL_H

#include <guest/test.h>

void paging_init(void);
void trap_dispatch(struct cpu_regs *regs);
void syscall_entry_c(struct cpu_regs *regs);
void syscall_dispatch(struct cpu_regs *regs, enum user_exit how);
/* Called from trap_dispatch for an exception raised in ring 3. */
bool user_fault(struct cpu_regs *regs, exinfo_t ex);
void __noreturn panic_exit(void);
void __noreturn boot_main(const struct guest_start_info *si);
void dump_regs(const struct cpu_regs *r);

/* entry.S */
void exec_user_enter(uint64_t fn, uint64_t user_rsp, uint64_t rflags);
void __noreturn exec_user_return(uint64_t value);
exinfo_t catch_call(void (*fn)(void *), void *arg);
extern char catch_resume[];
extern volatile uint64_t catch_armed, catch_rsp;

#endif
