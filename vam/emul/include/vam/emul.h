/*
 * Emulation of one decoded sensitive instruction (vam/include/vam/decode.h)
 * on the virtual CPU (vam/cpu): its architectural effect on the vCPU, the
 * guest's registers and guest memory, then regs->rip advanced past it; or
 * the exception the guest must get, with nothing changed.
 *
 * Covered: mov to/from CR0/2/3/4/8, clts, lmsw, smsw; rdmsr/wrmsr over the
 * virtual MSR set; in/out/ins/outs (rep) on a dm_iobus; lgdt/lidt/sgdt/
 * sidt/lldt/ltr/sldt/str; cpuid through a policy hook; invlpg, wbinvd,
 * wbnoinvd, invd, swapgs, rdpmc, hlt.  Everything else is
 * VAM_EMUL_UNHANDLED (the caller has other paths for iret, cli, ...).
 *
 * The caller brackets the call with vam_vcpu_emul_enter/leave if it wants
 * interrupts held off, and delivers e->exc (inject.h) on VAM_EMUL_EXCEPTION.
 */
#ifndef VAM_EMUL_H
#define VAM_EMUL_H

#include <stdbool.h>
#include <stdint.h>

#include "vam/decode.h"
#include "vam/inject.h"
#include "vam/mmio.h"
#include "vam/regs.h"
#include "vam/vcpu.h"

struct vam_shadow;
struct dm_iobus;
struct dm_vcpu;
struct vam_emul;

/* CPUID policy: the four registers (eax, ebx, ecx, edx) the guest sees for
 * leaf/subleaf. */
typedef void vam_cpuid_fn(struct vam_emul *e, struct vam_vcpu *v, uint32_t leaf,
                          uint32_t subleaf, uint32_t out[4]);

struct vam_emul {
    /* The guest's TLB (shadow.h).  NULL: CR3 writes only store v->cr3 and
     * no flush hook is called (unit tests of the checks). */
    struct vam_shadow *shadow;
    /* Passed through to the port devices. */
    struct dm_vcpu *dm_vcpu;
    /* CPUID policy; NULL = vam_cpuid_default. */
    vam_cpuid_fn *cpuid;
    /* What vam_cpuid_default filters; NULL = the host's cpuid instruction. */
    vam_cpuid_fn *cpuid_raw;
    void *opaque;               /* for the hooks */
    /* Out: the exception of VAM_EMUL_EXCEPTION. */
    struct vam_event exc;
    /* Out: why VAM_EMUL_ERROR (static text). */
    const char *error;
};

enum vam_emul_status {
    VAM_EMUL_OK,                /* done, rip advanced (or, for a rep string instruction cut
                                 * short after VAM_EMUL_REP_MAX elements, left at the
                                 * instruction with rcx/rsi/rdi updated: resume there) */
    VAM_EMUL_HALT,              /* hlt: rip advanced; block until an interrupt */
    VAM_EMUL_EXCEPTION,         /* deliver e->exc; nothing changed (a rep string
                                 * instruction keeps the elements already done, as the
                                 * CPU does) */
    VAM_EMUL_UNHANDLED,         /* not emulated here (x2APIC MSR 0x800-0x8ff, other
                                 * operations); nothing changed */
    VAM_EMUL_ERROR,             /* VAM-level failure (e->error) */
};

#define VAM_EMUL_REP_MAX 4096u

/* Virtual MSR indices */
#define VAM_MSR_TSC            0x00000010u
#define VAM_MSR_APIC_BASE      0x0000001bu
#define VAM_MSR_SYSENTER_CS    0x00000174u
#define VAM_MSR_SYSENTER_ESP   0x00000175u
#define VAM_MSR_SYSENTER_EIP   0x00000176u
#define VAM_MSR_MISC_ENABLE    0x000001a0u
#define VAM_MSR_PAT            0x00000277u
#define VAM_MSR_X2APIC_FIRST   0x00000800u
#define VAM_MSR_X2APIC_LAST    0x000008ffu
#define VAM_MSR_EFER           0xc0000080u
#define VAM_MSR_STAR           0xc0000081u
#define VAM_MSR_LSTAR          0xc0000082u
#define VAM_MSR_CSTAR          0xc0000083u
#define VAM_MSR_SFMASK         0xc0000084u
#define VAM_MSR_FS_BASE        0xc0000100u
#define VAM_MSR_GS_BASE        0xc0000101u
#define VAM_MSR_KERNEL_GS_BASE 0xc0000102u
#define VAM_MSR_TSC_AUX        0xc0000103u

/* What the guest reads from APIC_BASE (BSP, enabled, x2APIC mode, at
 * 0xfee00000) and MISC_ENABLE (fast strings; BTS and PEBS unavailable).
 * A write of the same value is accepted, any other is #GP(0). */
#define VAM_APIC_BASE_VALUE    0xfee00d00ull
#define VAM_MISC_ENABLE_VALUE  0x00001801ull

/* CR4 bits the guest may set; the others (VME, PVI, UMIP, LA57, VMXE, SMXE,
 * FSGSBASE, PCIDE, KL, SMEP, SMAP, PKE, CET, PKS, reserved) are #GP(0). */
#define VAM_CR4_ALLOWED 0x000407fcull  /* TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT OSXSAVE */
#define X86_CR4_OSXSAVE (1ull << 18)

enum vam_emul_status vam_emulate(struct vam_emul *e, struct vam_vcpu *v, struct vam_regs *regs,
                                 const struct vam_insn *insn, struct dm_iobus *bus);

/* The effective (linear) address of memory operand m of an instruction of
 * len bytes: base + index * scale + disp (base RIP = the next instruction,
 * rip + len), truncated to 32 bits with addrsize 4 (the 67 prefix), plus the
 * FS or GS base when m->seg is FS or GS (only an override makes it so).
 * Every explicit memory operand the VAM emulates goes through here. */
uint64_t vam_emul_mem_ea(const struct vam_vcpu *v, const struct vam_regs *regs,
                         const struct vam_mem *m, unsigned addrsize, unsigned len);

/* vam_emul_mem_ea for a sensitive instruction's operand (decode.h). */
uint64_t vam_emul_ea(const struct vam_vcpu *v, const struct vam_regs *regs,
                     const struct vam_insn *insn);

/* vam_emul_mem_ea for an MMIO instruction's operand (mmio.h): the linear
 * address the guest meant, to check against the faulting address. */
uint64_t vam_mmio_ea(const struct vam_vcpu *v, const struct vam_regs *regs,
                     const struct vam_mmio_insn *insn);

/* Hardware register number (0 = rax ... 15 = r15) to its slot in regs
 * (vam_regs_gpr of regs.h). */
uint64_t *vam_emul_reg(struct vam_regs *regs, unsigned num);

/* The default CPUID policy: the raw leaf (e->cpuid_raw or the host's) with
 * what the VAM hides taken out (MONITOR, VMX, SMX, PCID, SMEP, SMAP,
 * FSGSBASE, INVPCID, PKU, OSPKE, LA57, UMIP, CET, SVM), OSXSAVE as the guest's
 * CR4 says, the hypervisor bit set, 1 GiB pages and the physical-address
 * width from the vCPU, and leaf 0x40000000 = "VAMVAMVAMVAM". */
void vam_cpuid_default(struct vam_emul *e, struct vam_vcpu *v, uint32_t leaf, uint32_t subleaf,
                       uint32_t out[4]);

#endif
