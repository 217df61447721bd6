/*
 * Xen hypercalls for a 64-bit PV guest: `call vamxen_hypercall_page + n*32`
 * with arguments in rdi, rsi, rdx, r10, r8 and the result in rax.  Xen may
 * clobber the argument registers (continuations rewrite them), and the
 * syscall path clobbers rcx and r11 (the page's stubs save those).
 */
#ifndef VAMXEN_HYPERCALL_H
#define VAMXEN_HYPERCALL_H

#include "xen-public.h"

extern char vamxen_hypercall_page[4096];

static inline long xen_hypercall3(unsigned nr, unsigned long a1, unsigned long a2,
                                  unsigned long a3)
{
    register unsigned long rdi asm("rdi") = a1;
    register unsigned long rsi asm("rsi") = a2;
    register unsigned long rdx asm("rdx") = a3;
    register unsigned long r10 asm("r10");
    register unsigned long r8 asm("r8");
    long ret;
    asm volatile("call *%[stub]"
                 : "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "=r"(r10), "=r"(r8)
                 : [stub] "r"(vamxen_hypercall_page + nr * 32)
                 : "memory", "rcx", "r11");
    return ret;
}

/* Four arguments: the fourth travels in r10 (mmu_update/mmuext_op take
 * the foreign domain there). */
static inline long xen_hypercall4(unsigned nr, unsigned long a1, unsigned long a2,
                                  unsigned long a3, unsigned long a4)
{
    register unsigned long rdi asm("rdi") = a1;
    register unsigned long rsi asm("rsi") = a2;
    register unsigned long rdx asm("rdx") = a3;
    register unsigned long r10 asm("r10") = a4;
    register unsigned long r8 asm("r8");
    long ret;
    asm volatile("call *%[stub]"
                 : "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "=r"(r8)
                 : [stub] "r"(vamxen_hypercall_page + nr * 32)
                 : "memory", "rcx", "r11");
    return ret;
}

static inline long xen_hypercall2(unsigned nr, unsigned long a1, unsigned long a2)
{
    return xen_hypercall3(nr, a1, a2, 0);
}

static inline long xen_console_write(const char *buf, unsigned long len)
{
    return xen_hypercall3(__HYPERVISOR_console_io, CONSOLEIO_write, len, (unsigned long)buf);
}

static inline long xen_sched_shutdown(unsigned reason)
{
    struct sched_shutdown arg = {.reason = reason};
    return xen_hypercall2(__HYPERVISOR_sched_op, SCHEDOP_shutdown, (unsigned long)&arg);
}

#endif
