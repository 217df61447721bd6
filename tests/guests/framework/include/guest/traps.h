/*
 * Exceptions and interrupts: registerable handlers, and ways to run code
 * that is expected to fault.
 *
 * Dispatch of vector v (framework/traps.c):
 *  1. a handler registered for v runs first; returning true ends dispatch
 *     (it may have changed the frame, e.g. regs->rip), false falls through;
 *  2. exceptions (v < 32): from ring 3 inside exec_user(): back to
 *     exec_user's caller (see user.h); from ring 0: the extable entry for
 *     regs->rip (probe sites below), then an armed catch_exception();
 *     otherwise panic with the frame;
 *  3. vector 0x80 (int $0x80): the syscall table (user.h);
 *  4. anything else without a handler: panic ("unexpected vector").
 * Handlers run with interrupts off (all gates are interrupt gates except
 * int $0x80, a DPL-3 trap gate; #BP also has DPL 3).  Interrupt handlers
 * acknowledge their own interrupt (apic_eoi(), pic_eoi()).
 */
#ifndef GUEST_TRAPS_H
#define GUEST_TRAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <guest/desc.h>
#include <guest/x86.h>

typedef bool (*trap_handler_t)(struct cpu_regs *regs);

/* Returns the previous handler. */
trap_handler_t trap_register(unsigned vec, trap_handler_t fn);
void trap_unregister(unsigned vec);

/* CR2 as read at the entry of the most recent #PF. */
extern volatile uint64_t last_pf_cr2;

/* Lowest and highest vector with a stub in the IDT (all 256). */
#define VEC_FIRST_IRQ  0x20
#define VEC_SPURIOUS   0xff
#define VEC_INT80      0x80

/* ---- exinfo: which exception, with its error code ------------------------- */
typedef uint64_t exinfo_t;
#define EXINFO_VALID        (1ULL << 63)
#define EXINFO(vec, ec)     (EXINFO_VALID | ((uint64_t)(vec) << 32) | (uint32_t)(ec))
#define EXINFO_SYM(sym, ec) EXINFO(X86_EXC_##sym, ec)
static inline unsigned exinfo_vec(exinfo_t e) { return (e >> 32) & 0xff; }
static inline uint32_t exinfo_ec(exinfo_t e) { return (uint32_t)e; }

/* "none", "#GP[0000]", "#UD", "vec 0x30"; use as printk("%s", exinfo_str(e).s). */
struct exinfo_str { char s[24]; };
struct exinfo_str exinfo_str(exinfo_t e);

/*
 * Probe sites.  An extable entry maps the address of a possibly faulting
 * instruction to a continuation address; when a ring-0 exception hits that
 * instruction, the framework stores the exinfo in the saved %rax or %rdi
 * (EX_AX / EX_DI) and resumes at the continuation.  The register must be
 * zeroed by the probe beforehand, so it reads 0 when nothing faulted:
 *
 *   exinfo_t ex = 0;
 *   asm volatile ("1: ud2; 2:" _ASM_EXTABLE(1b, 2b, EX_DI) : "+D" (ex));
 */
#define EX_NONE 0
#define EX_AX   1
#define EX_DI   2
#define _ASM_STR_(x) #x
#define _ASM_STR(x) _ASM_STR_(x)
#define _ASM_EXTABLE(fault, fixup, reg)                                       \
    "\n .pushsection .ex_table, \"a\"\n .balign 8\n"                           \
    " .quad " #fault ", " #fixup ", " _ASM_STR(reg) "\n .popsection\n"

struct extable_entry { uint64_t fault, fixup, reg; };

/* Run fn(arg); if fn (or anything it calls) raises an exception in ring 0
 * that nothing else handled, abandon it and return the exinfo.  Returns 0
 * when fn returned normally.  Not nestable.  The faulting address is the
 * handler-visible regs->rip; *fault_rip receives it if non-NULL. */
exinfo_t catch_exception(void (*fn)(void *), void *arg, uint64_t *fault_rip);

/* ---- common probes ---------------------------------------------------------- */
static inline exinfo_t rdmsr_safe(uint32_t idx, uint64_t *val)
{
    uint32_t lo = 0, hi = 0;
    exinfo_t ex = 0;
    asm volatile ("1: rdmsr; 2:" _ASM_EXTABLE(1b, 2b, EX_DI)
                  : "=a" (lo), "=d" (hi), "+D" (ex) : "c" (idx));
    *val = ((uint64_t)hi << 32) | lo;
    return ex;
}

static inline exinfo_t wrmsr_safe(uint32_t idx, uint64_t val)
{
    exinfo_t ex = 0;
    asm volatile ("1: wrmsr; 2:" _ASM_EXTABLE(1b, 2b, EX_DI)
                  : "+D" (ex)
                  : "c" (idx), "a" ((uint32_t)val), "d" ((uint32_t)(val >> 32)) : "memory");
    return ex;
}

static inline exinfo_t read_probe(const volatile void *p, uint64_t *val)
{
    exinfo_t ex = 0;
    uint64_t v = 0;
    asm volatile ("1: movq (%[p]), %[v]; 2:" _ASM_EXTABLE(1b, 2b, EX_DI)
                  : "+D" (ex), [v] "+r" (v) : [p] "r" (p) : "memory");
    if (val)
        *val = v;
    return ex;
}

static inline exinfo_t write_probe(volatile void *p, uint64_t val)
{
    exinfo_t ex = 0;
    asm volatile ("1: movq %[v], (%[p]); 2:" _ASM_EXTABLE(1b, 2b, EX_DI)
                  : "+D" (ex) : [p] "r" (p), [v] "r" (val) : "memory");
    return ex;
}

#endif
