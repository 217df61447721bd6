/*
 * x86-64 architectural constants and one-line wrappers around single
 * instructions.
 *
 * Every virtualization-sensitive instruction is written plainly in an asm
 * statement here (or in the framework's .S files), so that afterburn-as
 * sees it in the compiler's output and turns it into an annotated site.
 * Never encode such an instruction as .byte data.
 */
#ifndef GUEST_X86_H
#define GUEST_X86_H

/* Constants usable from C and assembly alike. */
#ifdef __ASSEMBLER__
#define _UL(x) x
#define _ULL(x) x
#define _U(x) x
#else
#define _UL(x) x##UL
#define _ULL(x) x##ULL
#define _U(x) x##U
#include <stdbool.h>
#include <stdint.h>
#endif

/* ---- RFLAGS ------------------------------------------------------------ */
#define X86_EFLAGS_CF    _UL(0x00000001)
#define X86_EFLAGS_MBS   _UL(0x00000002)   /* reserved, always 1 */
#define X86_EFLAGS_ZF    _UL(0x00000040)
#define X86_EFLAGS_TF    _UL(0x00000100)
#define X86_EFLAGS_IF    _UL(0x00000200)
#define X86_EFLAGS_DF    _UL(0x00000400)
#define X86_EFLAGS_IOPL  _UL(0x00003000)
#define X86_EFLAGS_NT    _UL(0x00004000)
#define X86_EFLAGS_RF    _UL(0x00010000)
#define X86_EFLAGS_AC    _UL(0x00040000)

/* ---- control registers ------------------------------------------------- */
#define X86_CR0_PE  (_UL(1) << 0)
#define X86_CR0_MP  (_UL(1) << 1)
#define X86_CR0_EM  (_UL(1) << 2)
#define X86_CR0_TS  (_UL(1) << 3)
#define X86_CR0_ET  (_UL(1) << 4)
#define X86_CR0_NE  (_UL(1) << 5)
#define X86_CR0_WP  (_UL(1) << 16)
#define X86_CR0_AM  (_UL(1) << 18)
#define X86_CR0_NW  (_UL(1) << 29)
#define X86_CR0_CD  (_UL(1) << 30)
#define X86_CR0_PG  (_UL(1) << 31)

#define X86_CR4_VME        (_UL(1) << 0)
#define X86_CR4_PVI        (_UL(1) << 1)
#define X86_CR4_TSD        (_UL(1) << 2)
#define X86_CR4_DE         (_UL(1) << 3)
#define X86_CR4_PSE        (_UL(1) << 4)
#define X86_CR4_PAE        (_UL(1) << 5)
#define X86_CR4_MCE        (_UL(1) << 6)
#define X86_CR4_PGE        (_UL(1) << 7)
#define X86_CR4_PCE        (_UL(1) << 8)
#define X86_CR4_OSFXSR     (_UL(1) << 9)
#define X86_CR4_OSXMMEXCPT (_UL(1) << 10)
#define X86_CR4_UMIP       (_UL(1) << 11)
#define X86_CR4_FSGSBASE   (_UL(1) << 16)
#define X86_CR4_PCIDE      (_UL(1) << 17)
#define X86_CR4_OSXSAVE    (_UL(1) << 18)
#define X86_CR4_SMEP       (_UL(1) << 20)
#define X86_CR4_SMAP       (_UL(1) << 21)
#define X86_CR4_PKE        (_UL(1) << 22)
#define X86_CR4_CET        (_UL(1) << 23)

/* ---- MSRs ---------------------------------------------------------------- */
#define MSR_TSC             0x00000010
#define MSR_APIC_BASE       0x0000001b
#define  APIC_BASE_BSP      (_UL(1) << 8)
#define  APIC_BASE_EXTD     (_UL(1) << 10)  /* x2APIC mode */
#define  APIC_BASE_EN       (_UL(1) << 11)
#define MSR_EFER            0xc0000080
#define  EFER_SCE           (_UL(1) << 0)
#define  EFER_LME           (_UL(1) << 8)
#define  EFER_LMA           (_UL(1) << 10)
#define  EFER_NXE           (_UL(1) << 11)
#define MSR_STAR            0xc0000081
#define MSR_LSTAR           0xc0000082
#define MSR_CSTAR           0xc0000083
#define MSR_FMASK           0xc0000084
#define MSR_FS_BASE         0xc0000100
#define MSR_GS_BASE         0xc0000101
#define MSR_KERNEL_GS_BASE  0xc0000102

/* ---- exception vectors --------------------------------------------------- */
#define X86_EXC_DE   0   /* divide error */
#define X86_EXC_DB   1
#define X86_EXC_NMI  2
#define X86_EXC_BP   3   /* int3 (trap) */
#define X86_EXC_OF   4
#define X86_EXC_BR   5
#define X86_EXC_UD   6
#define X86_EXC_NM   7
#define X86_EXC_DF   8   /* error code (0) */
#define X86_EXC_TS   10  /* error code */
#define X86_EXC_NP   11  /* error code */
#define X86_EXC_SS   12  /* error code */
#define X86_EXC_GP   13  /* error code */
#define X86_EXC_PF   14  /* error code, CR2 */
#define X86_EXC_MF   16
#define X86_EXC_AC   17  /* error code */
#define X86_EXC_MC   18
#define X86_EXC_XM   19
#define X86_EXC_VE   20
#define X86_EXC_CP   21  /* error code */
#define X86_NR_EXCEPTIONS 32

/* Vectors that push an error code. */
#define X86_EXC_HAVE_EC ((_U(1) << X86_EXC_DF) | (_U(1) << X86_EXC_TS) | (_U(1) << X86_EXC_NP) | \
                         (_U(1) << X86_EXC_SS) | (_U(1) << X86_EXC_GP) | (_U(1) << X86_EXC_PF) | \
                         (_U(1) << X86_EXC_AC) | (_U(1) << X86_EXC_CP) | (_U(1) << 29) | (_U(1) << 30))

/* #PF error code bits */
#define X86_PFEC_PRESENT  (_U(1) << 0)
#define X86_PFEC_WRITE    (_U(1) << 1)
#define X86_PFEC_USER     (_U(1) << 2)
#define X86_PFEC_RSVD     (_U(1) << 3)
#define X86_PFEC_INSN     (_U(1) << 4)

#ifndef __ASSEMBLER__
/* ---- interrupt flag ------------------------------------------------------ */
static inline void cli(void) { asm volatile ("cli" ::: "memory"); }
static inline void sti(void) { asm volatile ("sti" ::: "memory"); }
static inline void hlt(void) { asm volatile ("hlt" ::: "memory"); }
/* The race-free idle: an interrupt pending at the sti is taken after hlt
 * starts (interrupt shadow), so it wakes the hlt instead of being lost. */
static inline void sti_hlt(void) { asm volatile ("sti; hlt" ::: "memory"); }
/* Open an interrupt window of (at least) one instruction. */
static inline void sti_nop_cli(void) { asm volatile ("sti; nop; cli" ::: "memory"); }

static inline unsigned long read_rflags(void)
{
    unsigned long f;
    asm volatile ("pushfq; popq %0" : "=r" (f) :: "memory");
    return f;
}

static inline void write_rflags(unsigned long f)
{
    asm volatile ("pushq %0; popfq" :: "g" (f) : "memory", "cc");
}

static inline unsigned long irq_save(void)
{
    unsigned long f = read_rflags();
    cli();
    return f;
}

static inline void irq_restore(unsigned long f) { write_rflags(f); }
static inline bool irqs_enabled(void) { return read_rflags() & X86_EFLAGS_IF; }

/* ---- MSRs ------------------------------------------------------------------ */
static inline uint64_t rdmsr(uint32_t idx)
{
    uint32_t lo, hi;
    asm volatile ("rdmsr" : "=a" (lo), "=d" (hi) : "c" (idx));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t idx, uint64_t val)
{
    asm volatile ("wrmsr" :: "c" (idx), "a" ((uint32_t)val), "d" ((uint32_t)(val >> 32))
                  : "memory");
}

/* ---- port I/O ---------------------------------------------------------------- */
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    asm volatile ("inb %w1, %b0" : "=a" (v) : "Nd" (port));
    return v;
}

static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    asm volatile ("inw %w1, %w0" : "=a" (v) : "Nd" (port));
    return v;
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    asm volatile ("inl %w1, %0" : "=a" (v) : "Nd" (port));
    return v;
}

static inline void outb(uint16_t port, uint8_t v) { asm volatile ("outb %b0, %w1" :: "a" (v), "Nd" (port)); }
static inline void outw(uint16_t port, uint16_t v) { asm volatile ("outw %w0, %w1" :: "a" (v), "Nd" (port)); }
static inline void outl(uint16_t port, uint32_t v) { asm volatile ("outl %0, %w1" :: "a" (v), "Nd" (port)); }

/* ---- control registers, TLB ---------------------------------------------- */
#define DEFINE_CR(n)                                                            \
static inline unsigned long read_cr##n(void)                                    \
{                                                                               \
    unsigned long v;                                                            \
    asm volatile ("mov %%cr" #n ", %0" : "=r" (v) :: "memory");                 \
    return v;                                                                   \
}                                                                               \
static inline void write_cr##n(unsigned long v)                                 \
{                                                                               \
    asm volatile ("mov %0, %%cr" #n :: "r" (v) : "memory");                     \
}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline void invlpg(const volatile void *va)
{
    asm volatile ("invlpg %0" :: "m" (*(const volatile char *)va) : "memory");
}

/* ---- identification, time ------------------------------------------------- */
static inline void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b,
                               uint32_t *c, uint32_t *d)
{
    asm volatile ("cpuid" : "=a" (*a), "=b" (*b), "=c" (*c), "=d" (*d) : "a" (leaf), "c" (sub));
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    cpuid_count(leaf, 0, a, b, c, d);
}

static inline uint32_t cpuid_ecx(uint32_t leaf) { uint32_t a, b, c, d; cpuid(leaf, &a, &b, &c, &d); return c; }
static inline uint32_t cpuid_edx(uint32_t leaf) { uint32_t a, b, c, d; cpuid(leaf, &a, &b, &c, &d); return d; }

/* rdtsc is not a site (sensitive.def): it runs correctly deprivileged. */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    asm volatile ("rdtsc" : "=a" (lo), "=d" (hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void) { asm volatile ("pause" ::: "memory"); }
static inline void barrier(void) { asm volatile ("" ::: "memory"); }

static inline uint16_t read_cs(void) { uint16_t s; asm volatile ("mov %%cs, %0" : "=r" (s)); return s; }
static inline uint16_t read_ss(void) { uint16_t s; asm volatile ("mov %%ss, %0" : "=r" (s)); return s; }

struct __attribute__((packed)) x86_dtr {
    uint16_t limit;
    uint64_t base;
};

static inline void sgdt(struct x86_dtr *d) { asm volatile ("sgdt %0" : "=m" (*d)); }
static inline void sidt(struct x86_dtr *d) { asm volatile ("sidt %0" : "=m" (*d)); }
static inline uint16_t read_tr(void) { uint16_t s; asm volatile ("str %0" : "=r" (s)); return s; }

static inline void swapgs(void) { asm volatile ("swapgs" ::: "memory"); }

#endif /* !__ASSEMBLER__ */
#endif /* GUEST_X86_H */
