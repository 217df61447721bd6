/*
 * vam_emulate: one decoded sensitive instruction on the virtual CPU
 * (include/vam/emul.h).  Every check happens before the first change, so an
 * exception leaves the vCPU, the registers and guest memory as they were.
 */
#include "vam/emul.h"

#include "devmodels/dm.h"
#include "vam/desc.h"
#include "vam/shadow.h"
#include "vam/walk.h"

/* ---- registers and operands ------------------------------------------------ */

uint64_t *vam_emul_reg(struct vam_regs *r, unsigned num)
{
    return vam_regs_gpr(r, num);
}

static uint64_t reg_get(struct vam_regs *r, unsigned num)
{
    return *vam_emul_reg(r, num);
}

/* A register write of `size` bytes: 4 zero-extends, 1 and 2 keep the rest. */
static void reg_set(struct vam_regs *r, unsigned num, unsigned size, uint64_t val)
{
    uint64_t *p = vam_emul_reg(r, num);
    switch (size) {
    case 1: *p = (*p & ~0xffull) | (val & 0xff); break;
    case 2: *p = (*p & ~0xffffull) | (val & 0xffff); break;
    case 4: *p = val & 0xffffffffull; break;
    default: *p = val; break;
    }
}

uint64_t vam_emul_mem_ea(const struct vam_vcpu *v, const struct vam_regs *r,
                         const struct vam_mem *m, unsigned addrsize, unsigned len)
{
    uint64_t ea = (uint64_t)(int64_t)m->disp;
    if (m->base == VAM_REG_RIP)
        ea += r->rip + len;
    else if (m->base != VAM_REG_NONE)
        ea += reg_get((struct vam_regs *)r, m->base);
    if (m->index != VAM_REG_NONE)
        ea += reg_get((struct vam_regs *)r, m->index) * (m->scale ? m->scale : 1u);
    if (addrsize == 4)
        ea &= 0xffffffffull;
    if (m->seg == VAM_SREG_FS)
        ea += v->fs_base;
    else if (m->seg == VAM_SREG_GS)
        ea += v->gs_base;
    return ea;
}

uint64_t vam_emul_ea(const struct vam_vcpu *v, const struct vam_regs *r,
                     const struct vam_insn *i)
{
    return vam_emul_mem_ea(v, r, &i->mem, i->addrsize, i->len);
}

uint64_t vam_mmio_ea(const struct vam_vcpu *v, const struct vam_regs *r,
                     const struct vam_mmio_insn *i)
{
    return vam_emul_mem_ea(v, r, &i->mem, i->addrsize, i->len);
}

static enum vam_emul_status raise(struct vam_emul *e, unsigned vector, uint32_t ec)
{
    e->exc = vam_exception(vector, ec, 0);
    return VAM_EMUL_EXCEPTION;
}

static enum vam_emul_status gp0(struct vam_emul *e)
{
    return raise(e, X86_EXC_GP, 0);
}

static enum vam_emul_status emul_error(struct vam_emul *e, const char *why)
{
    e->error = why;
    return VAM_EMUL_ERROR;
}

/* A failed guest-memory access as the guest's exception (or VAM error). */
static enum vam_emul_status walk_failed(struct vam_emul *e, enum vam_walk_status st,
                                        const struct vam_walk *w, unsigned seg)
{
    switch (st) {
    case VAM_WALK_FAULT:
        e->exc = vam_exception(X86_EXC_PF, w->error_code, w->va);
        return VAM_EMUL_EXCEPTION;
    case VAM_WALK_NONCANONICAL:
        return raise(e, seg == VAM_SREG_SS ? X86_EXC_SS : X86_EXC_GP, 0);
    default:
        return emul_error(e, "guest memory outside guest RAM");
    }
}

static unsigned user_acc(const struct vam_vcpu *v)
{
    return v->cpl == 3 ? VAM_ACC_USER : 0;
}

static enum vam_emul_status mem_read(struct vam_emul *e, struct vam_vcpu *v, uint64_t va,
                                     void *dst, unsigned len, unsigned seg)
{
    struct vam_walk w;
    enum vam_walk_status st = vam_gva_read(v, va, dst, len, VAM_ACC_READ | user_acc(v), &w);
    return st == VAM_WALK_OK ? VAM_EMUL_OK : walk_failed(e, st, &w, seg);
}

static enum vam_emul_status mem_write(struct vam_emul *e, struct vam_vcpu *v, uint64_t va,
                                      const void *src, unsigned len, unsigned seg)
{
    struct vam_walk w;
    enum vam_walk_status st = vam_gva_write(v, va, src, len, VAM_ACC_WRITE | user_acc(v), &w);
    return st == VAM_WALK_OK ? VAM_EMUL_OK : walk_failed(e, st, &w, seg);
}

static void put_le(uint8_t *p, uint64_t val, unsigned len)
{
    for (unsigned k = 0; k < len; k++)
        p[k] = (uint8_t)(val >> (8 * k));
}

static uint64_t get_le(const uint8_t *p, unsigned len)
{
    uint64_t val = 0;
    for (unsigned k = 0; k < len; k++)
        val |= (uint64_t)p[k] << (8 * k);
    return val;
}

static enum vam_emul_status done(struct vam_regs *r, const struct vam_insn *i)
{
    r->rip += i->len;
    return VAM_EMUL_OK;
}

/* A 16-bit source operand (lldt, ltr, lmsw): register or memory. */
static enum vam_emul_status src16(struct vam_emul *e, struct vam_vcpu *v, struct vam_regs *r,
                                  const struct vam_insn *i, uint16_t *out)
{
    if (!(i->flags & VAM_INSN_MEM)) {
        *out = (uint16_t)reg_get(r, i->reg);
        return VAM_EMUL_OK;
    }
    uint8_t b[2];
    enum vam_emul_status s = mem_read(e, v, vam_emul_ea(v, r, i), b, 2, i->mem.seg);
    *out = (uint16_t)get_le(b, 2);
    return s;
}

/* A destination of sldt, str, smsw: register of opsize, or 16-bit memory. */
static enum vam_emul_status dst16(struct vam_emul *e, struct vam_vcpu *v, struct vam_regs *r,
                                  const struct vam_insn *i, uint64_t val)
{
    if (!(i->flags & VAM_INSN_MEM)) {
        reg_set(r, i->reg, i->opsize ? i->opsize : 2, val);
        return done(r, i);
    }
    uint8_t b[2];
    put_le(b, val, 2);
    enum vam_emul_status s = mem_write(e, v, vam_emul_ea(v, r, i), b, 2, i->mem.seg);
    return s == VAM_EMUL_OK ? done(r, i) : s;
}

/* ---- control registers ------------------------------------------------------ */

#define CR0_DEFINED (X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | X86_CR0_ET |         \
                     X86_CR0_NE | X86_CR0_WP | X86_CR0_AM | X86_CR0_NW | X86_CR0_CD |         \
                     X86_CR0_PG)

static enum vam_emul_status write_cr0(struct vam_emul *e, struct vam_vcpu *v, uint64_t val)
{
    if (val >> 32)
        return gp0(e);
    if ((val & X86_CR0_PG) && !(val & X86_CR0_PE))
        return gp0(e);
    if ((val & X86_CR0_NW) && !(val & X86_CR0_CD))
        return gp0(e);
    if ((v->efer & X86_EFER_LMA) && !(val & X86_CR0_PG))
        return gp0(e);          /* leaving long mode from 64-bit code */
    uint64_t old = v->cr0;
    v->cr0 = (val & CR0_DEFINED) | X86_CR0_ET;
    if (e->shadow)
        vam_shadow_cr0_written(e->shadow, old, v->cr0);
    return VAM_EMUL_OK;
}

static enum vam_emul_status write_cr(struct vam_emul *e, struct vam_vcpu *v, unsigned cr,
                                     uint64_t val)
{
    uint64_t old;
    switch (cr) {
    case 0:
        return write_cr0(e, v, val);
    case 2:
        v->cr2 = val;
        return VAM_EMUL_OK;
    case 3: {
        unsigned width = v->maxphyaddr ? v->maxphyaddr : 52;
        if (width < 64 && (val >> width))
            return gp0(e);      /* bit 63 included: no PCIDs, so no "no flush" bit */
        if (!e->shadow) {
            v->cr3 = val;
            return VAM_EMUL_OK;
        }
        if (vam_shadow_set_cr3(e->shadow, v, val) != VAM_SHADOW_OK)
            return emul_error(e, vam_shadow_error(e->shadow));
        return VAM_EMUL_OK;
    }
    case 4:
        if (val & ~VAM_CR4_ALLOWED)
            return gp0(e);
        if ((v->efer & X86_EFER_LMA) && !(val & X86_CR4_PAE))
            return gp0(e);
        old = v->cr4;
        v->cr4 = val;
        if (e->shadow)
            vam_shadow_cr4_written(e->shadow, old, val);
        return VAM_EMUL_OK;
    case 8:
        if (val >> 4)
            return gp0(e);
        v->cr8 = val;
        return VAM_EMUL_OK;
    default:
        return raise(e, X86_EXC_UD, 0);
    }
}

static enum vam_emul_status read_cr(struct vam_emul *e, struct vam_vcpu *v, unsigned cr,
                                    uint64_t *val)
{
    switch (cr) {
    case 0: *val = v->cr0; return VAM_EMUL_OK;
    case 2: *val = v->cr2; return VAM_EMUL_OK;
    case 3: *val = v->cr3; return VAM_EMUL_OK;
    case 4: *val = v->cr4; return VAM_EMUL_OK;
    case 8: *val = v->cr8; return VAM_EMUL_OK;
    default: return raise(e, X86_EXC_UD, 0);
    }
}

/* ---- MSRs ------------------------------------------------------------------- */

static bool pat_valid(uint64_t pat)
{
    for (unsigned k = 0; k < 8; k++) {
        unsigned t = (unsigned)(pat >> (8 * k)) & 0xffu;
        if (t == 2 || t == 3 || t > 7)
            return false;
    }
    return true;
}

/* VAM_EMUL_OK with *val, VAM_EMUL_UNHANDLED, or #GP. */
static enum vam_emul_status rdmsr(struct vam_emul *e, struct vam_vcpu *v, uint32_t msr,
                                  uint64_t *val)
{
    switch (msr) {
    case VAM_MSR_TSC: {
        /* the hardware TSC, which the guest's rdtsc reads too */
        uint32_t lo, hi;
        asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
        *val = (uint64_t)hi << 32 | lo;
        break;
    }
    case VAM_MSR_APIC_BASE: *val = VAM_APIC_BASE_VALUE; break;
    case VAM_MSR_SYSENTER_CS: *val = v->sysenter_cs; break;
    case VAM_MSR_SYSENTER_ESP: *val = v->sysenter_esp; break;
    case VAM_MSR_SYSENTER_EIP: *val = v->sysenter_eip; break;
    case VAM_MSR_MISC_ENABLE: *val = VAM_MISC_ENABLE_VALUE; break;
    case VAM_MSR_PAT: *val = v->pat; break;
    case VAM_MSR_EFER: *val = v->efer; break;
    case VAM_MSR_STAR: *val = v->star; break;
    case VAM_MSR_LSTAR: *val = v->lstar; break;
    case VAM_MSR_CSTAR: *val = v->cstar; break;
    case VAM_MSR_SFMASK: *val = v->sfmask; break;
    case VAM_MSR_FS_BASE: *val = v->fs_base; break;
    case VAM_MSR_GS_BASE: *val = v->gs_base; break;
    case VAM_MSR_KERNEL_GS_BASE: *val = v->kernel_gs_base; break;
    case VAM_MSR_TSC_AUX: *val = v->tsc_aux; break;
    default:
        if (msr >= VAM_MSR_X2APIC_FIRST && msr <= VAM_MSR_X2APIC_LAST)
            return VAM_EMUL_UNHANDLED;
        return gp0(e);
    }
    return VAM_EMUL_OK;
}

#define EFER_WRITABLE (X86_EFER_SCE | X86_EFER_LME | X86_EFER_NXE)

static enum vam_emul_status wrmsr(struct vam_emul *e, struct vam_vcpu *v, uint32_t msr,
                                  uint64_t val)
{
    uint64_t *slot = 0;
    switch (msr) {
    case VAM_MSR_TSC:
        return VAM_EMUL_UNHANDLED;      /* would need a TSC offset the VAM does not keep */
    case VAM_MSR_APIC_BASE:
        return val == VAM_APIC_BASE_VALUE ? VAM_EMUL_OK : gp0(e);
    case VAM_MSR_MISC_ENABLE:
        return val == VAM_MISC_ENABLE_VALUE ? VAM_EMUL_OK : gp0(e);
    case VAM_MSR_SYSENTER_CS: slot = &v->sysenter_cs; break;
    case VAM_MSR_SYSENTER_ESP: slot = &v->sysenter_esp; goto canonical;
    case VAM_MSR_SYSENTER_EIP: slot = &v->sysenter_eip; goto canonical;
    case VAM_MSR_PAT:
        if (!pat_valid(val))
            return gp0(e);
        slot = &v->pat;
        break;
    case VAM_MSR_EFER: {
        if (val & ~(EFER_WRITABLE | X86_EFER_LMA))
            return gp0(e);
        if (((val ^ v->efer) & X86_EFER_LME) && (v->cr0 & X86_CR0_PG))
            return gp0(e);
        uint64_t old = v->efer;
        v->efer = (val & EFER_WRITABLE) | (old & X86_EFER_LMA);     /* LMA is read-only */
        if (e->shadow)
            vam_shadow_efer_written(e->shadow, old, v->efer);
        return VAM_EMUL_OK;
    }
    case VAM_MSR_STAR: slot = &v->star; break;
    case VAM_MSR_LSTAR: slot = &v->lstar; goto canonical;
    case VAM_MSR_CSTAR: slot = &v->cstar; goto canonical;
    case VAM_MSR_SFMASK:
    case VAM_MSR_TSC_AUX:
        if (val >> 32)
            return gp0(e);
        slot = msr == VAM_MSR_SFMASK ? &v->sfmask : &v->tsc_aux;
        break;
    case VAM_MSR_FS_BASE: slot = &v->fs_base; goto canonical;
    case VAM_MSR_GS_BASE: slot = &v->gs_base; goto canonical;
    case VAM_MSR_KERNEL_GS_BASE: slot = &v->kernel_gs_base; goto canonical;
    default:
        if (msr >= VAM_MSR_X2APIC_FIRST && msr <= VAM_MSR_X2APIC_LAST)
            return VAM_EMUL_UNHANDLED;
        return gp0(e);
    }
    *slot = val;
    return VAM_EMUL_OK;
canonical:
    if (!vam_canonical(val))
        return gp0(e);
    *slot = val;
    return VAM_EMUL_OK;
}

/* ---- port I/O ----------------------------------------------------------------- */

static void port_access(struct vam_emul *e, struct dm_iobus *bus, uint16_t port, uint8_t *data,
                        unsigned len, bool is_write)
{
    if (bus) {
        dm_iobus_access(bus, e->dm_vcpu, port, data, len, is_write);
    } else if (!is_write) {
        for (unsigned k = 0; k < len; k++)
            data[k] = 0xff;
    }
}

static enum vam_emul_status emul_string_io(struct vam_emul *e, struct vam_vcpu *v,
                                           struct vam_regs *r, const struct vam_insn *i,
                                           struct dm_iobus *bus, uint16_t port)
{
    bool in = i->op == VAM_OP_INS;
    bool rep = (i->flags & (VAM_INSN_REP | VAM_INSN_REPNE)) != 0;
    unsigned size = i->opsize;
    unsigned asize = i->addrsize == 4 ? 4 : 8;
    uint64_t amask = asize == 4 ? 0xffffffffull : ~0ull;
    unsigned ptr_reg = in ? 7u : 6u;            /* rdi / rsi */
    unsigned seg = in ? VAM_SREG_ES : i->mem.seg;
    uint64_t step = (vam_guest_rflags(v, r) & X86_RFLAGS_DF) ? (uint64_t)0 - size : size;

    for (unsigned n = 0;; n++) {
        if (rep && (reg_get(r, 1) & amask) == 0)
            return done(r, i);
        if (n == VAM_EMUL_REP_MAX)
            return VAM_EMUL_OK;                 /* resume at the instruction */
        uint64_t ptr = reg_get(r, ptr_reg) & amask;
        uint64_t va = ptr;
        if (seg == VAM_SREG_FS)
            va += v->fs_base;
        else if (seg == VAM_SREG_GS)
            va += v->gs_base;
        uint8_t data[4];
        enum vam_emul_status s;
        if (in) {
            /* the destination must be writable before the device sees the read */
            struct vam_walk w;
            enum vam_walk_status st = vam_walk(v, va, VAM_ACC_WRITE | user_acc(v), &w);
            if (st == VAM_WALK_OK && ((va + size - 1) >> 12) != (va >> 12))
                st = vam_walk(v, va + size - 1, VAM_ACC_WRITE | user_acc(v), &w);
            if (st != VAM_WALK_OK)
                return walk_failed(e, st, &w, seg);
            port_access(e, bus, port, data, size, false);
            s = mem_write(e, v, va, data, size, seg);
        } else {
            s = mem_read(e, v, va, data, size, seg);
            if (s == VAM_EMUL_OK)
                port_access(e, bus, port, data, size, true);
        }
        if (s != VAM_EMUL_OK)
            return s;
        reg_set(r, ptr_reg, asize, ptr + step);
        if (!rep)
            return done(r, i);
        reg_set(r, 1, asize, reg_get(r, 1) - 1);
    }
}

static enum vam_emul_status emul_io(struct vam_emul *e, struct vam_vcpu *v, struct vam_regs *r,
                                    const struct vam_insn *i, struct dm_iobus *bus)
{
    unsigned size = i->opsize;
    if (size != 1 && size != 2 && size != 4)
        return raise(e, X86_EXC_UD, 0);
    unsigned iopl = (unsigned)(v->fixed->rflags & X86_RFLAGS_IOPL) >> 12;
    if (v->cpl > iopl)
        return gp0(e);          /* no I/O permission bitmap is modelled */
    uint16_t port = (i->flags & VAM_INSN_PORT_DX) ? (uint16_t)r->rdx : (uint16_t)i->imm;
    if (i->op == VAM_OP_INS || i->op == VAM_OP_OUTS)
        return emul_string_io(e, v, r, i, bus, port);
    uint8_t data[4];
    if (i->op == VAM_OP_IN) {
        port_access(e, bus, port, data, size, false);
        reg_set(r, 0, size, get_le(data, size));
    } else {
        put_le(data, r->rax, size);
        port_access(e, bus, port, data, size, true);
    }
    return done(r, i);
}

/* ---- descriptor tables ---------------------------------------------------------- */

static enum vam_emul_status emul_dt(struct vam_emul *e, struct vam_vcpu *v, struct vam_regs *r,
                                    const struct vam_insn *i)
{
    struct vam_dtr *dtr = (i->op == VAM_OP_LGDT || i->op == VAM_OP_SGDT) ? &v->gdtr : &v->idtr;
    if (!(i->flags & VAM_INSN_MEM))
        return raise(e, X86_EXC_UD, 0);
    uint64_t ea = vam_emul_ea(v, r, i);
    uint8_t b[10];
    enum vam_emul_status s;
    if (i->op == VAM_OP_SGDT || i->op == VAM_OP_SIDT) {
        put_le(b, dtr->limit, 2);
        put_le(b + 2, dtr->base, 8);
        s = mem_write(e, v, ea, b, 10, i->mem.seg);
        return s == VAM_EMUL_OK ? done(r, i) : s;
    }
    if (v->cpl != 0)
        return gp0(e);
    s = mem_read(e, v, ea, b, 10, i->mem.seg);
    if (s != VAM_EMUL_OK)
        return s;
    uint64_t base = get_le(b + 2, 8);
    if (!vam_canonical(base))
        return gp0(e);
    dtr->limit = (uint16_t)get_le(b, 2);
    dtr->base = base;
    return done(r, i);
}

static enum vam_emul_status emul_load_seg(struct vam_emul *e, struct vam_vcpu *v,
                                          struct vam_regs *r, const struct vam_insn *i)
{
    if (v->cpl != 0)
        return gp0(e);
    uint16_t sel;
    enum vam_emul_status s = src16(e, v, r, i, &sel);
    if (s != VAM_EMUL_OK)
        return s;
    enum vam_cpu_result res = i->op == VAM_OP_LLDT ? vam_load_ldtr(v, sel, &e->exc)
                                                   : vam_load_tr(v, sel, &e->exc);
    switch (res) {
    case VAM_CPU_OK: return done(r, i);
    case VAM_CPU_NONE: return VAM_EMUL_EXCEPTION;
    default: return emul_error(e, v->error ? v->error : "descriptor load failed");
    }
}

/* ---- cpuid ------------------------------------------------------------------------ */

static void host_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("cpuid"
                     : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3])
                     : "a"(leaf), "c"(subleaf));
#else
    (void)leaf;
    (void)subleaf;
    out[0] = out[1] = out[2] = out[3] = 0;
#endif
}

void vam_cpuid_default(struct vam_emul *e, struct vam_vcpu *v, uint32_t leaf, uint32_t subleaf,
                       uint32_t out[4])
{
    if (leaf >= 0x40000000u && leaf <= 0x400000ffu) {
        out[0] = out[1] = out[2] = out[3] = 0;
        if (leaf == 0x40000000u) {
            out[0] = 0x40000000u;       /* highest hypervisor leaf */
            out[1] = 0x564d4156u;       /* "VAMV" */
            out[2] = 0x41564d41u;       /* "AMVA" */
            out[3] = 0x4d41564du;       /* "MVAM" */
        }
        return;
    }
    if (e->cpuid_raw)
        e->cpuid_raw(e, v, leaf, subleaf, out);
    else
        host_cpuid(leaf, subleaf, out);
    switch (leaf) {
    case 1:
        /* ecx: MONITOR 3, VMX 5, SMX 6, PCID 17; OSXSAVE 27 from CR4; hypervisor 31 */
        out[2] &= ~((1u << 3) | (1u << 5) | (1u << 6) | (1u << 17) | (1u << 27));
        if (v->cr4 & X86_CR4_OSXSAVE)
            out[2] |= 1u << 27;
        out[2] |= 1u << 31;
        break;
    case 7:
        if (subleaf == 0) {
            /* ebx: FSGSBASE 0, SMEP 7, INVPCID 10, SMAP 20 */
            out[1] &= ~((1u << 0) | (1u << 7) | (1u << 10) | (1u << 20));
            /* ecx: UMIP 2, PKU 3, OSPKE 4, CET_SS 7, LA57 16, PKS 31 */
            out[2] &= ~((1u << 2) | (1u << 3) | (1u << 4) | (1u << 7) | (1u << 16) | (1u << 31));
            /* edx: CET_IBT 20 */
            out[3] &= ~(1u << 20);
        }
        break;
    case 0x80000001u:
        out[2] &= ~(1u << 2);           /* SVM */
        out[3] &= ~(1u << 26);          /* 1 GiB pages, as the vCPU says */
        if (v->gbpages)
            out[3] |= 1u << 26;
        break;
    case 0x80000008u:
        out[0] = (out[0] & ~0xffu) | (v->maxphyaddr ? v->maxphyaddr : 52);
        break;
    default:
        break;
    }
}

/* ---- the dispatcher ------------------------------------------------------------------ */

static bool cpl0_only(unsigned op)
{
    switch (op) {
    case VAM_OP_MOV_FROM_CR: case VAM_OP_MOV_TO_CR: case VAM_OP_CLTS: case VAM_OP_LMSW:
    case VAM_OP_LGDT: case VAM_OP_LIDT: case VAM_OP_LLDT: case VAM_OP_LTR:
    case VAM_OP_INVLPG: case VAM_OP_INVD: case VAM_OP_WBINVD: case VAM_OP_WBNOINVD:
    case VAM_OP_RDMSR: case VAM_OP_WRMSR: case VAM_OP_SWAPGS: case VAM_OP_HLT:
        return true;
    default:
        return false;
    }
}

enum vam_emul_status vam_emulate(struct vam_emul *e, struct vam_vcpu *v, struct vam_regs *r,
                                 const struct vam_insn *i, struct dm_iobus *bus)
{
    enum vam_emul_status s;
    uint64_t val;

    e->error = 0;
    if (cpl0_only(i->op) && v->cpl != 0)
        return gp0(e);

    switch (i->op) {
    case VAM_OP_MOV_TO_CR:
        s = write_cr(e, v, i->sysreg, reg_get(r, i->reg));
        return s == VAM_EMUL_OK ? done(r, i) : s;
    case VAM_OP_MOV_FROM_CR:
        s = read_cr(e, v, i->sysreg, &val);
        if (s != VAM_EMUL_OK)
            return s;
        reg_set(r, i->reg, 8, val);
        return done(r, i);
    case VAM_OP_CLTS:
        s = write_cr0(e, v, v->cr0 & ~X86_CR0_TS);
        return s == VAM_EMUL_OK ? done(r, i) : s;
    case VAM_OP_LMSW: {
        uint16_t w;
        s = src16(e, v, r, i, &w);
        if (s != VAM_EMUL_OK)
            return s;
        /* PE, MP, EM, TS from the source; PE cannot be cleared */
        val = (v->cr0 & ~0xeull) | (w & 0xfu) | (v->cr0 & X86_CR0_PE);
        s = write_cr0(e, v, val);
        return s == VAM_EMUL_OK ? done(r, i) : s;
    }
    case VAM_OP_SMSW:
        return dst16(e, v, r, i, (i->flags & VAM_INSN_MEM) ? (v->cr0 & 0xffff) : v->cr0);

    case VAM_OP_RDMSR:
        s = rdmsr(e, v, (uint32_t)r->rcx, &val);
        if (s != VAM_EMUL_OK)
            return s;
        r->rax = val & 0xffffffffull;
        r->rdx = val >> 32;
        return done(r, i);
    case VAM_OP_WRMSR:
        s = wrmsr(e, v, (uint32_t)r->rcx, (r->rdx << 32) | (r->rax & 0xffffffffull));
        return s == VAM_EMUL_OK ? done(r, i) : s;

    case VAM_OP_IN: case VAM_OP_OUT: case VAM_OP_INS: case VAM_OP_OUTS:
        return emul_io(e, v, r, i, bus);

    case VAM_OP_LGDT: case VAM_OP_LIDT: case VAM_OP_SGDT: case VAM_OP_SIDT:
        return emul_dt(e, v, r, i);
    case VAM_OP_LLDT: case VAM_OP_LTR:
        return emul_load_seg(e, v, r, i);
    case VAM_OP_SLDT:
        return dst16(e, v, r, i, v->ldtr);
    case VAM_OP_STR:
        return dst16(e, v, r, i, v->tr);

    case VAM_OP_CPUID: {
        uint32_t out[4];
        uint32_t leaf = (uint32_t)r->rax, sub = (uint32_t)r->rcx;
        if (e->cpuid)
            e->cpuid(e, v, leaf, sub, out);
        else
            vam_cpuid_default(e, v, leaf, sub, out);
        r->rax = out[0];
        r->rbx = out[1];
        r->rcx = out[2];
        r->rdx = out[3];
        return done(r, i);
    }

    case VAM_OP_INVLPG:
        if (!(i->flags & VAM_INSN_MEM))
            return raise(e, X86_EXC_UD, 0);
        val = vam_emul_ea(v, r, i);
        if (e->shadow && vam_canonical(val))    /* a non-canonical address: no-op */
            vam_shadow_invlpg(e->shadow, val);
        return done(r, i);
    case VAM_OP_INVD: case VAM_OP_WBINVD: case VAM_OP_WBNOINVD:
        return done(r, i);
    case VAM_OP_SWAPGS:
        val = v->gs_base;
        v->gs_base = v->kernel_gs_base;
        v->kernel_gs_base = val;
        v->fixed->gs_swapped ^= 1u;
        return done(r, i);
    case VAM_OP_RDPMC:
        return gp0(e);
    case VAM_OP_HLT:
        done(r, i);
        return VAM_EMUL_HALT;
    default:
        return VAM_EMUL_UNHANDLED;
    }
}
