/*
 * Segment selectors, the saved-register frame, and descriptor-table helpers.
 *
 * GDT layout (fixed; STAR depends on the order of the user entries):
 *   0x00 null
 *   0x08 KERNEL_CS   64-bit code, DPL 0        (syscall CS = STAR[47:32])
 *   0x10 KERNEL_DS   data, DPL 0               (syscall SS = STAR[47:32] + 8)
 *   0x18 USER32_CS   32-bit code, DPL 3        (STAR[63:48], unused otherwise)
 *   0x20 USER_DS     data, DPL 3               (sysret SS = STAR[63:48] + 8)
 *   0x28 USER_CS     64-bit code, DPL 3        (sysret CS = STAR[63:48] + 16)
 *   0x30 TSS         64-bit TSS (two slots)
 *   0x40 KERNEL32_CS 32-bit code, DPL 0 (spare, for tests)
 */
#ifndef GUEST_DESC_H
#define GUEST_DESC_H

#define KERNEL_CS    0x08
#define KERNEL_DS    0x10
#define USER32_CS    0x1b
#define USER_DS      0x23
#define USER_CS      0x2b
#define TSS_SEL      0x30
#define KERNEL32_CS  0x40
#define GDT_ENTRIES  9

/* Offsets into struct cpu_regs, for assembly. */
#define REGS_RAX      0x70
#define REGS_VECTOR   0x78
#define REGS_ERROR    0x80
#define REGS_RIP      0x88
#define REGS_CS       0x90
#define REGS_RFLAGS   0x98
#define REGS_RSP      0xa0
#define REGS_SS       0xa8
#define REGS_SIZE     0xb0

/* Pseudo-vector recorded in cpu_regs.vector for syscall-instruction entries. */
#define VEC_SYSCALL   0x100

#define NR_IST        3     /* IST1..3 have stacks */
#define IST_DF        1     /* #DF runs on IST1 */
#define IST_NMI       2     /* NMI and #MC run on IST2 */
#define IST_TEST      3     /* free for tests */

#ifndef __ASSEMBLER__
#include <stdint.h>
#include <stdbool.h>

/*
 * Saved state at the entry of any exception, interrupt or syscall: the
 * general registers pushed by the framework, the vector and error code
 * (0 when the CPU pushes none), then the frame exactly as the CPU pushed it.
 * Handlers may modify it; the framework returns through it (iretq).
 */
struct cpu_regs {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error_code;
    /* pushed by the CPU */
    uint64_t rip, cs, rflags, rsp, ss;
};

_Static_assert(__builtin_offsetof(struct cpu_regs, rax) == REGS_RAX, "regs layout");
_Static_assert(__builtin_offsetof(struct cpu_regs, vector) == REGS_VECTOR, "regs layout");
_Static_assert(__builtin_offsetof(struct cpu_regs, rip) == REGS_RIP, "regs layout");
_Static_assert(__builtin_offsetof(struct cpu_regs, ss) == REGS_SS, "regs layout");
_Static_assert(sizeof(struct cpu_regs) == REGS_SIZE, "regs layout");

static inline bool regs_from_user(const struct cpu_regs *r) { return (r->cs & 3) == 3; }

/* IDT gates. */
#define GATE_INTERRUPT 0xe   /* clears IF on entry */
#define GATE_TRAP      0xf   /* leaves IF alone */

/* (Re)point vector `vec` at the framework's stub for it. */
void idt_set_gate(unsigned vec, unsigned type, unsigned dpl, unsigned ist);
/* Change one attribute of a gate that idt_set_gate already set up. */
void idt_set_ist(unsigned vec, unsigned ist);
void idt_set_present(unsigned vec, bool present);
void idt_set_dpl(unsigned vec, unsigned dpl);

/* Bounds [lo, hi) of IST stack n (1..NR_IST), of the ring-0 stack used for
 * entries from ring 3 (TSS.RSP0 and syscall), and of the boot stack. */
void ist_stack_bounds(unsigned n, uintptr_t *lo, uintptr_t *hi);
void entry_stack_bounds(uintptr_t *lo, uintptr_t *hi);
void boot_stack_bounds(uintptr_t *lo, uintptr_t *hi);

/* Per-CPU block, MSR_GS_BASE while in the kernel (swapgs'd on ring changes). */
struct percpu {
    uint64_t self;          /* %gs:0 */
    uint64_t kernel_rsp;    /* %gs:8: stack for syscall entry */
    uint64_t user_rsp;      /* %gs:16: scratch, the user %rsp at syscall entry */
    uint64_t syscalls;      /* %gs:24: number of syscall-instruction entries */
};
extern struct percpu percpu0;

#endif /* !__ASSEMBLER__ */
#endif
