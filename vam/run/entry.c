/*
 * The front end's entries (vam/backend.h): everything the back end reports
 * comes here with the guest's whole register file, is turned into the
 * architectural effect on the virtual CPU, and leaves through
 * vam_run_resume(), the one exit, which is also the one place that delivers
 * interrupts.
 *
 * Indivisibility (thesis 4.4.1).  The VAM runs with hypervisor events
 * masked, so it is never interrupted in the middle of emulating something;
 * an event that interrupts the *guest* is delivered at that boundary, except
 * when the guest is inside the VAM's own guest-visible code (the gate and
 * the jump landing stubs): that code always enters the VAM within a few
 * instructions, and the interrupt is delivered at the end of that entry, so
 * no frame the guest sees ever holds a VAM address.
 *
 * The interrupt shadow of sti: when sti turns IF on while an interrupt is
 * waiting, the guest is single-stepped over the next instruction (TF) and
 * the interrupt delivered after it, as the CPU does (so `sti; hlt` sleeps
 * with the interrupt taken at the hlt, not before it).
 */
#include "run.h"
#include "run-internal.h"

#include "afterburn/abi.h"
#include "vam/desc.h"
#include "vam/lib.h"
#include "vam/mmio.h"
#include "vam/walk.h"

#define V (&vam_run.vcpu)
#define FIXED (vam_run.vcpu.fixed)

static bool in_vam_pages(uint64_t rip)
{
    return rip >= VAM_RUN_FIXED_VA && rip < VAM_RUN_AREA_END;
}

void vam_run_intr_changed(bool level)
{
    vam_run.intr = level;
    FIXED->irq_pending = level;
}

static void triple_fault(const struct vam_regs *r) __attribute__((noreturn));
static void triple_fault(const struct vam_regs *r)
{
    vam_run_report();
    vam_run_log("guest triple fault at rip %#llx: reset (reboot)", (unsigned long long)r->rip);
    be_shutdown(BE_REBOOT);
}

/* Delivers ev through the guest's IDT (or what it turns into). */
static void deliver(struct vam_regs *r, const struct vam_event *ev)
{
    switch (vam_deliver(V, r, ev)) {
    case VAM_CPU_OK:
    case VAM_CPU_NONE:
        return;
    case VAM_CPU_TRIPLE_FAULT:
        triple_fault(r);
    case VAM_CPU_ERROR:
        vam_run_fatal("delivering vector %u at rip %#llx: %s", ev->vector,
                      (unsigned long long)r->rip, V->error ? V->error : "?");
    }
}

static void deliver_exception(struct vam_regs *r, unsigned vector, uint32_t ec, uint64_t cr2)
{
    struct vam_event ev = vam_exception(vector, ec, cr2);
    deliver(r, &ev);
}

static bool irq_deliverable(const struct vam_regs *r)
{
    return vam_run.intr && vam_vcpu_if(V) && !V->irq_shadow && !V->emulating &&
           !in_vam_pages(r->rip);
}

/* ---- the guest's user descriptors on the real CPU ------------------------------------
 * Guest user code runs on the guest's own selectors where the back end can
 * load their descriptors (be_set_user_gdt): far transfers to the 32-bit user
 * code segment, LAR/LSL on user selectors (the vDSO's getcpu reads the limit
 * of GDT entry 15) and sigreturn's selector checks then behave as on
 * hardware.  The first BE_USER_GDT_MAX entries of the guest's GDT are
 * compared with the loaded copy on every return to user mode: Linux writes
 * entry 15 after its last lgdt, and the TLS entries at context switches.
 * The GDT's guest-physical address is looked up once per GDTR base (a
 * kernel's GDT mapping does not move). */
static struct {
    uint64_t base, gpa;         /* GDTR base and its guest-physical address */
    bool mapped;                /* gpa valid for base */
    bool off;                   /* the back end cannot load descriptors */
    unsigned n;                 /* entries loaded */
    uint64_t desc[BE_USER_GDT_MAX];
} user_gdt;

static void sync_user_gdt(void)
{
    if (user_gdt.off)
        return;
    unsigned n = ((unsigned)V->gdtr.limit + 1) / 8;
    if (n > BE_USER_GDT_MAX)
        n = BE_USER_GDT_MAX;
    if (!user_gdt.mapped || user_gdt.base != V->gdtr.base) {
        struct vam_walk w;
        user_gdt.base = V->gdtr.base;
        user_gdt.mapped = (V->gdtr.base & 4095) + n * 8 <= 4096 &&
                          vam_walk(V, V->gdtr.base, VAM_ACC_READ, &w) == VAM_WALK_OK &&
                          w.gpa + n * 8 <= be_memory()->gpa_size;
        user_gdt.gpa = w.gpa;
        if (!user_gdt.mapped)
            return;     /* not mapped now: the guest runs on the back end's selectors */
    }
    const uint8_t *g = be_memory()->window + user_gdt.gpa;
    bool same = n == user_gdt.n;
    for (unsigned i = 0; i < n; i++) {
        uint64_t d = 0;
        for (unsigned b = 0; b < 8; b++)
            d |= (uint64_t)g[8 * i + b] << (8 * b);
        same = same && d == user_gdt.desc[i];
        user_gdt.desc[i] = d;
    }
    if (same)
        return;
    user_gdt.n = n;
    V->compat_user = true;
    if (!be_set_user_gdt(user_gdt.desc, n)) {
        user_gdt.off = true;
        V->compat_user = false;
        vam_run_log("the back end cannot load the guest's user descriptors: user mode runs on "
                    "its flat selectors");
    }
}

/* Entries from user mode report the guest's own selectors when it ran on
 * them (it may have changed them itself, e.g. lret to 32-bit code). */
static void note_user_selectors(const struct vam_regs *r)
{
    if (V->cpl != 3 || user_gdt.off)
        return;
    if (!(r->cs & 4) && (r->cs >> 3) != 0 && (r->cs >> 3) < user_gdt.n)
        FIXED->sel[VAM_SEG_CS] = (uint16_t)r->cs;
    if (!(r->ss & 4) && (r->ss >> 3) != 0 && (r->ss >> 3) < user_gdt.n)
        FIXED->sel[VAM_SEG_SS] = (uint16_t)r->ss;
}

/* The one exit: deliver what may be delivered, tell the back end what the
 * hardware must hold, continue the guest. */
static void chain_sites(struct vam_regs *r);

void vam_run_resume(struct vam_regs *r)
{
    chain_sites(r);
    vam_platform_advance();
    if (irq_deliverable(r)) {
        struct vam_event ev = {.kind = VAM_EV_EXTINT, .vector = (uint8_t)vam_platform_intack()};
        deliver(r, &ev);
        vam_run.injected_irqs++;
    }
    if (vam_run.intr && vam_vcpu_if(V) && !V->irq_shadow && vam_run_in_memstubs(r->rip)) {
        /* a logging stub never enters the VAM: step the guest out of it */
        r->rflags |= X86_RFLAGS_TF;
        vam_run.stepping_out = true;
        vam_run.step_outs++;
    }
    if (V->irq_shadow) {
        if (vam_run.intr && vam_vcpu_if(V)) {
            r->rflags |= X86_RFLAGS_TF;         /* one instruction, then #DB */
            vam_run.stepping = true;
        } else {
            V->irq_shadow = false;
        }
    }
    if (V->cpl == 3) {
        sync_user_gdt();
        r->cs = FIXED->sel[VAM_SEG_CS] | 3u;
        r->ss = FIXED->sel[VAM_SEG_SS] | 3u;
    } else {
        r->cs = r->ss = 0;
    }
    r->rflags = (r->rflags | X86_RFLAGS_IF | X86_RFLAGS_FIXED) & ~X86_RFLAGS_IOPL;
    unsigned mode = V->cpl == 3;
    if (V->fs_base != vam_run.hw_fs_base) {
        be_set_seg_base(BE_FS_BASE, V->fs_base);
        vam_run.hw_fs_base = V->fs_base;
    }
    if (V->gs_base != vam_run.hw_gs_base[mode]) {
        be_set_seg_base(mode ? BE_GS_BASE_USER : BE_GS_BASE_KERNEL, V->gs_base);
        vam_run.hw_gs_base[mode] = V->gs_base;
    }
    vam_run_protect_hot(vam_run.intr && !vam_vcpu_if(V));
    bool ts = (V->cr0 & X86_CR0_TS) != 0;
    if (ts != vam_run.hw_ts) {
        be_fpu_set_ts(ts);
        vam_run.hw_ts = ts;
    }
    bool tsd = (V->cr4 & X86_CR4_TSD) != 0;
    if (tsd != vam_run.hw_tsd) {
        be_set_tsd(tsd);
        vam_run.hw_tsd = tsd;
    }
    vam_platform_arm_timer();
    be_resume(r);
}

/* The back end's idea of the guest's mode must be the vCPU's. */
static void check_mode(const struct vam_regs *r, const char *entry)
{
    bool user = (r->cs & 3) == 3;
    if (user != (V->cpl == 3))
        vam_run_fatal("%s: the back end reports %s mode, the guest's CPL is %u (rip %#llx)",
                      entry, user ? "user" : "kernel", V->cpl, (unsigned long long)r->rip);
    note_user_selectors(r);
}

/* ---- guest stack and memory ------------------------------------------------------- */

static unsigned acc(unsigned a)
{
    return V->cpl == 3 ? a | VAM_ACC_USER : a;
}

/* A failed guest memory access as the guest's exception; false = delivered. */
static bool mem_ok(struct vam_regs *r, enum vam_walk_status st, const struct vam_walk *w,
                   bool stack)
{
    switch (st) {
    case VAM_WALK_OK:
        return true;
    case VAM_WALK_FAULT:
        deliver_exception(r, X86_EXC_PF, w->error_code, w->va);
        return false;
    case VAM_WALK_NONCANONICAL:
        deliver_exception(r, stack ? X86_EXC_SS : X86_EXC_GP, 0, 0);
        return false;
    default:
        vam_run_fatal("guest memory at %#llx lies outside guest RAM (gpa %#llx)",
                      (unsigned long long)w->va, (unsigned long long)V->bad_gpa);
    }
}

static bool push(struct vam_regs *r, uint64_t val, unsigned size)
{
    struct vam_walk w;
    uint64_t sp = r->rsp - size;
    if (!mem_ok(r, vam_gva_write(V, sp, &val, size, acc(VAM_ACC_WRITE), &w), &w, true))
        return false;
    r->rsp = sp;
    return true;
}

static bool pop(struct vam_regs *r, uint64_t *val, unsigned size, uint64_t offset)
{
    struct vam_walk w;
    *val = 0;
    return mem_ok(r, vam_gva_read(V, r->rsp + offset, val, size, acc(VAM_ACC_READ), &w), &w,
                  true);
}

/* ---- emulation of what vam_emulate leaves to the run time ------------------------------ */

/* lar, lsl, verr, verw (SDM vol. 2): the guest's descriptor tables, not the
 * hypervisor's.  ZF says whether the selector passed the checks; lar and lsl
 * then write the access rights or the limit.  Only a fault reading the
 * operand or the table is an exception.  false: one was delivered. */
static bool emulate_segcheck(struct vam_regs *r, const struct vam_insn *d)
{
    uint64_t sel = 0;
    if (d->flags & VAM_INSN_MEM) {
        struct vam_walk w;
        if (!mem_ok(r, vam_gva_read(V, vam_emul_ea(V, r, d), &sel, 2, acc(VAM_ACC_READ), &w),
                    &w, false))
            return false;
    } else {
        unsigned src = (d->op == VAM_OP_LAR || d->op == VAM_OP_LSL) ? d->reg2 : d->reg;
        sel = *vam_emul_reg(r, src) & 0xffff;
    }
    uint64_t desc = 0;
    struct vam_event fault;
    bool ok = (sel & ~3u) != 0;
    if (ok) {
        switch (vam_desc_read(V, (uint16_t)sel, &desc, &fault, false)) {
        case VAM_DESC_OK:
            break;
        case VAM_DESC_LIMIT:
            ok = false;
            break;
        case VAM_DESC_FAULT:
            deliver(r, &fault);
            return false;
        case VAM_DESC_ERROR:
            vam_run_fatal("%s: %s", vam_op_name(d->op), V->error ? V->error : "?");
        }
    }
    if (ok) {
        unsigned type = X86_DESC_TYPE(desc), dpl = X86_DESC_DPL(desc);
        bool conforming = X86_DESC_CONFORMING(desc);
        if (!conforming && (dpl < V->cpl || dpl < (sel & 3u)))
            ok = false;
        else if (!X86_DESC_S(desc))     /* system: LDT, TSSs; lar also call gates */
            ok = (d->op == VAM_OP_LAR || d->op == VAM_OP_LSL) &&
                 (type == 2 || type == 9 || type == 11 || (type == 12 && d->op == VAM_OP_LAR));
        else if (d->op == VAM_OP_VERR)
            ok = !X86_DESC_CODE(desc) || (type & 2u);   /* data, or readable code */
        else if (d->op == VAM_OP_VERW)
            ok = X86_DESC_WRITABLE_DATA(desc);
    }
    r->rflags = ok ? r->rflags | X86_RFLAGS_ZF : r->rflags & ~X86_RFLAGS_ZF;
    if (!ok || d->op == VAM_OP_VERR || d->op == VAM_OP_VERW)
        return true;
    uint64_t val;
    if (d->op == VAM_OP_LAR) {
        val = (desc >> 32) & (d->opsize == 2 ? 0xff00u : 0x00f0ff00u);
    } else {
        val = (desc & 0xffff) | ((desc >> 32) & 0xf0000);
        if (desc & (1ull << 55))        /* G: 4 KiB granularity */
            val = val << 12 | 0xfff;
        val &= 0xffffffffull;
    }
    uint64_t *dst = vam_emul_reg(r, d->reg);
    *dst = d->opsize == 2 ? (*dst & ~0xffffull) | (val & 0xffff) : val;
    return true;
}

static unsigned iopl(void)
{
    return (unsigned)(FIXED->rflags >> 12) & 3u;
}

/* popf: which bits the guest's CPL and IOPL let it change (SDM POPF). */
static void emulate_popf(struct vam_regs *r, const struct vam_insn *d)
{
    uint64_t val;
    unsigned size = d->opsize == 2 ? 2 : 8;
    if (!pop(r, &val, size, 0))
        return;
    uint64_t old = vam_guest_rflags(V, r);
    uint64_t keep = X86_RFLAGS_VM | X86_RFLAGS_VIF | X86_RFLAGS_VIP | X86_RFLAGS_RF;
    if (V->cpl > 0)
        keep |= X86_RFLAGS_IOPL;
    if (V->cpl > iopl())
        keep |= X86_RFLAGS_IF;
    if (size == 2)
        keep |= ~0xffffull;
    uint64_t next = ((val & ~keep) | (old & keep)) & ~X86_RFLAGS_RF;
    r->rsp += size;
    vam_set_guest_rflags(V, r, next | X86_RFLAGS_FIXED);
}

/* The descriptor of a non-null selector; a limit violation or a fault
 * reading the table is delivered to the guest (false). */
static bool read_descriptor(struct vam_regs *r, uint16_t sel, uint64_t *desc)
{
    struct vam_event fault;
    switch (vam_desc_read(V, sel, desc, &fault, false)) {
    case VAM_DESC_OK:
        return true;
    case VAM_DESC_LIMIT:
        deliver_exception(r, X86_EXC_GP, sel & ~3u, 0);
        return false;
    case VAM_DESC_FAULT:
        deliver(r, &fault);
        return false;
    default:
        vam_run_fatal("descriptor table outside guest RAM: %s", V->error ? V->error : "?");
    }
}

/* Checks a selector for a load into a data segment register or SS (SDM MOV,
 * 64-bit mode); delivers the fault and returns false when it is refused. */
static bool check_data_selector(struct vam_regs *r, unsigned sreg, uint16_t sel, uint64_t *base)
{
    *base = 0;
    if ((sel & ~3u) == 0) {
        /* null: fine for DS, ES, FS, GS; SS only below CPL 3 with RPL = CPL */
        if (sreg == VAM_SREG_SS && (V->cpl == 3 || (sel & 3u) != V->cpl)) {
            deliver_exception(r, X86_EXC_GP, 0, 0);
            return false;
        }
        return true;
    }
    uint64_t desc;
    if (!read_descriptor(r, sel, &desc))
        return false;
    unsigned rpl = sel & 3u, dpl = X86_DESC_DPL(desc);
    bool ok;
    if (sreg == VAM_SREG_SS)
        ok = rpl == V->cpl && dpl == V->cpl && X86_DESC_WRITABLE_DATA(desc);
    else if (!X86_DESC_S(desc) || (X86_DESC_CODE(desc) && !(X86_DESC_TYPE(desc) & 2u)))
        ok = false;                                     /* system, or execute-only code */
    else
        ok = X86_DESC_CONFORMING(desc) || (rpl <= dpl && V->cpl <= dpl);
    if (!ok) {
        deliver_exception(r, X86_EXC_GP, sel & ~3u, 0);
        return false;
    }
    if (!X86_DESC_P(desc)) {
        deliver_exception(r, sreg == VAM_SREG_SS ? X86_EXC_SS : X86_EXC_NP, sel & ~3u, 0);
        return false;
    }
    *base = ((desc >> 16) & 0xffffffull) | ((desc >> 32) & 0xff000000ull);
    return true;
}

static bool load_data_segment(struct vam_regs *r, unsigned sreg, uint16_t sel)
{
    uint64_t base;
    if (sreg == VAM_SREG_CS || sreg >= VAM_SEG_COUNT) {
        deliver_exception(r, X86_EXC_UD, 0, 0);
        return false;
    }
    if (!check_data_selector(r, sreg, sel, &base))
        return false;
    FIXED->sel[sreg] = sel;
    /* a selector load replaces the FS/GS base with the descriptor's (0 for null) */
    if (sreg == VAM_SREG_FS)
        V->fs_base = base;
    else if (sreg == VAM_SREG_GS)
        V->gs_base = base;
    else if (sreg == VAM_SREG_SS)
        V->irq_shadow = true;                   /* mov ss, pop ss: as the CPU */
    return true;
}

/* Far transfer to sel:rip at the same privilege (lret, ljmp); returns to an
 * outer level with lret are not supported. */
static bool far_transfer(struct vam_regs *r, uint16_t sel, uint64_t rip, bool is_ret)
{
    uint64_t desc;
    if ((sel & ~3u) == 0) {
        deliver_exception(r, X86_EXC_GP, 0, 0);
        return false;
    }
    if (!read_descriptor(r, sel, &desc))
        return false;
    unsigned rpl = sel & 3u, dpl = X86_DESC_DPL(desc);
    if (!X86_DESC_CODE(desc)) {
        deliver_exception(r, X86_EXC_GP, sel & ~3u, 0);
        return false;
    }
    if (is_ret && rpl != V->cpl) {
        if (rpl < V->cpl) {
            deliver_exception(r, X86_EXC_GP, sel & ~3u, 0);
            return false;
        }
        vam_run_fatal("far return to an outer privilege level (selector %#x at rip %#llx) "
                      "is not supported", sel, (unsigned long long)r->rip);
    }
    bool ok = X86_DESC_CONFORMING(desc) ? dpl <= V->cpl : (dpl == V->cpl && rpl <= V->cpl);
    if (!ok) {
        deliver_exception(r, X86_EXC_GP, sel & ~3u, 0);
        return false;
    }
    if (!X86_DESC_P(desc)) {
        deliver_exception(r, X86_EXC_NP, sel & ~3u, 0);
        return false;
    }
    if (!X86_DESC_L(desc))
        vam_run_fatal("far transfer to compatibility mode (selector %#x) is not supported", sel);
    if (!vam_canonical(rip)) {
        deliver_exception(r, X86_EXC_GP, 0, 0);
        return false;
    }
    FIXED->sel[VAM_SEG_CS] = (uint16_t)((sel & ~3u) | V->cpl);
    r->rip = rip;
    return true;
}

static void emulate_lret(struct vam_regs *r, const struct vam_insn *d)
{
    unsigned size = d->opsize;
    uint64_t rip, cs;
    if (!pop(r, &rip, size, 0) || !pop(r, &cs, size < 4 ? size : 4, size))
        return;
    uint64_t sp = r->rsp;
    if (far_transfer(r, (uint16_t)cs, rip, true))
        r->rsp = sp + 2 * size + ((d->flags & VAM_INSN_IMM) ? d->imm : 0);
}

static void emulate_ljmp(struct vam_regs *r, const struct vam_insn *d)
{
    uint64_t ea = vam_emul_ea(V, r, d), rip = 0;
    uint16_t sel;
    struct vam_walk w;
    unsigned size = d->opsize;
    if (!mem_ok(r, vam_gva_read(V, ea, &rip, size, acc(VAM_ACC_READ), &w), &w, false) ||
        !mem_ok(r, vam_gva_read(V, ea + size, &sel, 2, acc(VAM_ACC_READ), &w), &w, false))
        return;
    far_transfer(r, sel, rip, false);
}

/* x2APIC MSRs go to the device model; a refused access is #GP(0). */
static bool x2apic_msr(struct vam_regs *r, const struct vam_insn *d)
{
    uint32_t msr = (uint32_t)r->rcx;
    if (msr < 0x800 || msr >= 0x900)
        return false;
    if (V->cpl != 0) {
        deliver_exception(r, X86_EXC_GP, 0, 0);
        return true;
    }
    if (d->op == VAM_OP_RDMSR) {
        uint64_t val;
        if (!vam_platform_rdmsr(msr, &val)) {
            deliver_exception(r, X86_EXC_GP, 0, 0);
            return true;
        }
        r->rax = (uint32_t)val;
        r->rdx = val >> 32;
    } else if (!vam_platform_wrmsr(msr, (r->rdx << 32) | (uint32_t)r->rax)) {
        deliver_exception(r, X86_EXC_GP, 0, 0);
        return true;
    }
    r->rip += d->len;
    return true;
}

/* hlt: wait for an interrupt the guest can take (rip already past the hlt). */
static void emulate_hlt(struct vam_regs *r)
{
    vam_run.halts++;
    for (;;) {
        vam_platform_advance();
        if (vam_run.intr && vam_vcpu_if(V))
            return;
        if (!vam_vcpu_if(V)) {
            vam_run_report();
            vam_run_log("guest halted with interrupts disabled at rip %#llx: nothing can wake "
                        "it; power off", (unsigned long long)r->rip);
            be_shutdown(BE_POWEROFF);
        }
        vam_platform_arm_timer();
        be_block();
        be_events_mask();
    }
}

/*
 * Performs instruction d of a rewritten site for the guest: r->rip is the
 * original instruction's address; on success the guest continues at
 * `next` (the end of the site), unless the instruction transferred
 * control.  Faults are delivered with rip at the instruction.
 */
static void emulate(struct vam_regs *r, const struct vam_insn *d, uint64_t next)
{
    uint64_t at = r->rip;
    vam_vcpu_emul_enter(V);
    switch (d->op) {
    case VAM_OP_CLI:
    case VAM_OP_STI:
        if (V->cpl > iopl()) {
            deliver_exception(r, X86_EXC_GP, 0, 0);
            break;
        }
        if (d->op == VAM_OP_CLI) {
            FIXED->rflags &= ~X86_RFLAGS_IF;
        } else if (!(FIXED->rflags & X86_RFLAGS_IF)) {
            FIXED->rflags |= X86_RFLAGS_IF;
            V->irq_shadow = true;
        }
        r->rip = next;
        break;
    case VAM_OP_PUSHF:
        if (push(r, vam_guest_rflags(V, r) & ~(X86_RFLAGS_RF | X86_RFLAGS_VM),
                 d->opsize == 2 ? 2 : 8))
            r->rip = next;
        break;
    case VAM_OP_POPF: {
        uint64_t sp = r->rsp;
        emulate_popf(r, d);
        if (r->rsp != sp)
            r->rip = next;
        break;
    }
    case VAM_OP_IRET:
        if (d->opsize != 8)
            vam_run_fatal("iret with operand size %u at %#llx is not supported", d->opsize,
                          (unsigned long long)at);
        vam_vcpu_emul_leave(V);
        switch (vam_iretq(V, r)) {
        case VAM_CPU_TRIPLE_FAULT:
            triple_fault(r);
            break;
        case VAM_CPU_ERROR:
            vam_run_fatal("iretq at %#llx: %s", (unsigned long long)at, V->error ? V->error : "?");
        default:
            break;
        }
        vam_platform_guest_return();
        return;
    case VAM_OP_SYSRET:
        if (d->opsize != 8)
            vam_run_fatal("sysretl at %#llx is not supported", (unsigned long long)at);
        vam_vcpu_emul_leave(V);
        switch (vam_sysretq(V, r)) {
        case VAM_CPU_TRIPLE_FAULT:
            triple_fault(r);
            break;
        case VAM_CPU_ERROR:
            vam_run_fatal("sysretq at %#llx: %s", (unsigned long long)at, V->error ? V->error : "?");
        default:
            break;
        }
        vam_platform_guest_return();
        return;
    case VAM_OP_LRET:
        emulate_lret(r, d);
        break;
    case VAM_OP_LJMP:
        emulate_ljmp(r, d);
        break;
    case VAM_OP_MOV_TO_SEG: {
        uint64_t sel = 0;
        if (d->flags & VAM_INSN_MEM) {
            struct vam_walk w;
            if (!mem_ok(r, vam_gva_read(V, vam_emul_ea(V, r, d), &sel, 2, acc(VAM_ACC_READ), &w),
                        &w, false))
                break;
        } else {
            sel = *vam_emul_reg(r, d->reg);
        }
        if (load_data_segment(r, d->sysreg, (uint16_t)sel))
            r->rip = next;
        break;
    }
    case VAM_OP_POP_SEG: {
        uint64_t sel, sp = r->rsp;
        unsigned size = d->opsize == 2 ? 2 : 8;
        if (!pop(r, &sel, size, 0))
            break;
        r->rsp += size;
        if (load_data_segment(r, d->sysreg, (uint16_t)sel))
            r->rip = next;
        else
            r->rsp = sp;
        break;
    }
    case VAM_OP_MOV_FROM_SEG: {
        uint64_t sel = d->sysreg < VAM_SEG_COUNT ? FIXED->sel[d->sysreg] : 0;
        if (d->flags & VAM_INSN_MEM) {
            struct vam_walk w;
            if (!mem_ok(r, vam_gva_write(V, vam_emul_ea(V, r, d), &sel, 2, acc(VAM_ACC_WRITE), &w),
                        &w, false))
                break;
        } else {
            uint64_t *reg = vam_emul_reg(r, d->reg);
            *reg = d->opsize == 2 ? (*reg & ~0xffffull) | sel : sel;
        }
        r->rip = next;
        break;
    }
    case VAM_OP_PUSH_SEG:
        if (push(r, d->sysreg < VAM_SEG_COUNT ? FIXED->sel[d->sysreg] : 0,
                 d->opsize == 2 ? 2 : 8))
            r->rip = next;
        break;
    case VAM_OP_INT:
        /* The frame holds the address after the site (the bytes after the
         * instruction belong to the replacement); a fault in delivery
         * reports the instruction itself. */
        r->rip = next;
        vam_vcpu_emul_leave(V);
        {
            struct vam_event ev = {.kind = VAM_EV_SOFTINT, .vector = (uint8_t)d->imm,
                                   .insn_len = (uint8_t)(next - at)};
            deliver(r, &ev);
        }
        return;
    case VAM_OP_MOV_TO_DR:
    case VAM_OP_MOV_FROM_DR: {
        /* Debug registers are kept, not armed: breakpoints and watchpoints
         * the guest sets do not fire (DR6/DR7 keep their reset values'
         * fixed bits). */
        unsigned n = d->sysreg;
        if (V->cpl != 0) {
            deliver_exception(r, X86_EXC_GP, 0, 0);
            break;
        }
        if (n == 4 || n == 5) {
            if (V->cr4 & X86_CR4_DE) {
                deliver_exception(r, X86_EXC_UD, 0, 0);
                break;
            }
            n += 2;
        }
        uint64_t *reg = vam_emul_reg(r, d->reg);
        if (d->op == VAM_OP_MOV_FROM_DR) {
            *reg = vam_run.dr[n];
        } else {
            if (n >= 6 && (*reg >> 32)) {
                deliver_exception(r, X86_EXC_GP, 0, 0);
                break;
            }
            vam_run.dr[n] = n == 6 ? (*reg | 0xffff0ff0ull) & 0xffffefffull
                          : n == 7 ? (*reg | 0x400ull) & ~0xd000ull : *reg;
        }
        r->rip = next;
        break;
    }
    case VAM_OP_LAR: case VAM_OP_LSL: case VAM_OP_VERR: case VAM_OP_VERW:
        if (emulate_segcheck(r, d))
            r->rip = next;
        break;
    case VAM_OP_STAC: case VAM_OP_CLAC: case VAM_OP_MONITOR: case VAM_OP_MWAIT:
    case VAM_OP_RDFSBASE: case VAM_OP_RDGSBASE: case VAM_OP_WRFSBASE: case VAM_OP_WRGSBASE:
    case VAM_OP_SYSEXIT: case VAM_OP_INVPCID:
        /* features the guest's CPUID does not offer (or not in 64-bit mode) */
        deliver_exception(r, X86_EXC_UD, 0, 0);
        break;
    default:
        if ((d->op == VAM_OP_RDMSR || d->op == VAM_OP_WRMSR) && x2apic_msr(r, d)) {
            if (r->rip != at)
                r->rip = next;
            break;
        }
        switch (vam_emulate(&vam_run.emul, V, r, d, vam_platform_bus())) {
        case VAM_EMUL_OK:
            if (r->rip != at)           /* a rep instruction cut short stays at the site */
                r->rip = next;
            break;
        case VAM_EMUL_HALT:
            r->rip = next;
            vam_vcpu_emul_leave(V);
            emulate_hlt(r);
            return;
        case VAM_EMUL_EXCEPTION:
            deliver(r, &vam_run.emul.exc);
            break;
        case VAM_EMUL_UNHANDLED:
            vam_run_fatal("the guest executed %s at %#llx, which the VAM does not emulate",
                          vam_op_name(d->op), (unsigned long long)at);
        case VAM_EMUL_ERROR:
            vam_run_fatal("emulating %s at %#llx: %s", vam_op_name(d->op),
                          (unsigned long long)at, vam_run.emul.error);
        }
    }
    vam_vcpu_emul_leave(V);
}

/* ---- sites ------------------------------------------------------------------------ */

/* alias: where the guest runs the site minus its link address (a kernel
 * that starts at its physical load address, as Linux's startup_64 does,
 * runs its first sites through the identity map). */
static void run_site(struct vam_regs *r, const struct vam_site_entry *en, uint64_t alias)
{
    uint64_t start = en->key - en->back + alias;
    r->rip = start + en->insn_off;
    if (en->insn.kind < VAM_STATS_KINDS)
        vam_run.stats.exec[en->insn.kind]++;
    emulate(r, &en->insn, en->key + alias + en->fwd);
}

/* addr - link address, if addr lies in a segment's physical load range
 * (and that differs from its link address); 0 otherwise. */
static uint64_t physical_alias(uint64_t addr)
{
    const struct vam_guest *g = &vam_run.guest;
    for (unsigned i = 0; i < g->nseg; i++) {
        const struct vam_segment *sg = &g->seg[i];
        if (sg->paddr != sg->vaddr && addr >= sg->paddr && addr - sg->paddr < sg->memsz)
            return sg->paddr - sg->vaddr;
    }
    return 0;
}

/* The site whose bytes hold rip (memory forms executed in guest user mode
 * fault on the VAM's pages, which user spaces do not map). */
static const struct vam_site_entry *site_containing(uint64_t rip)
{
    const struct vam_site_table *t = &vam_run.table;
    size_t lo = 0, hi = t->n;
    while (lo < hi) {                   /* first site ending after rip */
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid].key + t->v[mid].fwd <= rip)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < t->n && t->v[lo].key - t->v[lo].back <= rip)
        return &t->v[lo];
    return 0;
}

/* When the guest is about to run a site that would enter the VAM at once
 * (a call or jump form) it is performed here, before resuming: the
 * syscall entry's first instruction is swapgs, and the exit's swapgs is
 * followed by sysretq, so a system call costs two VAM entries instead of
 * four.  The instruction is at a boundary either way; after an sti it is
 * the one the interrupt shadow waits for. */
static void chain_sites(struct vam_regs *r)
{
    for (unsigned n = 0; n < 4 && V->cpl == 0; n++) {
        const struct vam_site_entry *en = site_containing(r->rip);
        if (!en || en->key - en->back != r->rip ||
            (en->form != VAM_RW_CALL && en->form != VAM_RW_JMP))
            return;
        bool shadow = V->irq_shadow;
        vam_run.chained++;
        run_site(r, en, 0);
        if (shadow)
            V->irq_shadow = false;
    }
}

/* The guest is at the gate (regs->rip = the gate's address). */
static void gate(struct vam_regs *r) __attribute__((noreturn));
static void gate(struct vam_regs *r)
{
    const struct vam_site_entry *en;
    uint64_t alias = 0;     /* jump sites are assumed to run at their link address */
    uint32_t slot = FIXED->jump_slot;
    if (slot != VAM_RUN_NO_JUMP) {
        FIXED->jump_slot = VAM_RUN_NO_JUMP;
        en = vam_site_by_jump_slot(&vam_run.table, slot);
        if (!en)
            vam_run_fatal("gate: jump slot %u belongs to no site", slot);
    } else {
        uint64_t ret = 0;
        struct vam_walk w;
        if (vam_gva_read(V, r->rsp, &ret, 8, VAM_ACC_READ, &w) != VAM_WALK_OK)
            vam_run_fatal("gate: the return address at rsp %#llx cannot be read",
                          (unsigned long long)r->rsp);
        en = vam_site_lookup(&vam_run.table, ret);
        if (!en && (alias = physical_alias(ret)) != 0)
            en = vam_site_lookup(&vam_run.table, ret - alias);
        if (!en)
            vam_run_fatal("gate: entered from %#llx, which is not a rewritten site",
                          (unsigned long long)ret);
        r->rsp += 8;
    }
    run_site(r, en, alias);
    vam_run_resume(r);
}

static bool in_stubs(uint64_t rip)
{
    return rip >= VAM_RUN_STUBS_VA && rip < VAM_RUN_STUBS_VA + 4096;
}

/* The guest stopped at jump landing stub j before it recorded j (a
 * single step, or its write to the protected hot page): do it for it. */
static void gate_from_stub(struct vam_regs *r) __attribute__((noreturn));
static void gate_from_stub(struct vam_regs *r)
{
    FIXED->jump_slot = (uint32_t)((r->rip - VAM_RUN_STUBS_VA) / VAM_RUN_STUB_SIZE);
    r->rip = VAM_RUN_GATE_VA;
    gate(r);
}

void vam_fe_gate(struct vam_regs *r)
{
    vam_run.entries_gate++;
    check_mode(r, "gate");
    if (V->cpl != 0)
        vam_run_fatal("gate entered in user mode at %#llx", (unsigned long long)r->rip);
    gate(r);
}

/* ---- exceptions, system calls, events ------------------------------------------------- */

/* #GP with an IDT error code from `int n` (the hypervisor refused the
 * gate): the guest's own IDT decides.  true: handled. */
static bool software_interrupt(struct vam_regs *r, uint64_t ec)
{
    uint8_t insn[2];
    struct vam_walk w;
    if (!(ec & X86_EC_IDT) ||
        vam_gva_read(V, r->rip, insn, 2, acc(VAM_ACC_FETCH), &w) != VAM_WALK_OK ||
        insn[0] != 0xcd)
        return false;
    r->rip += 2;
    struct vam_event ev = {.kind = VAM_EV_SOFTINT, .vector = insn[1], .insn_len = 2};
    deliver(r, &ev);
    return true;
}

/* rdtsc/rdtscp in guest kernel mode with CR4.TSD, which the back end may
 * report as #GP (be_set_tsd): performed here.  true: handled. */
static bool kernel_rdtsc(struct vam_regs *r, uint64_t ec)
{
    uint8_t insn[3];
    struct vam_walk w;
    if (ec != 0 || V->cpl != 0 || !(V->cr4 & X86_CR4_TSD) ||
        vam_gva_read(V, r->rip, insn, 3, VAM_ACC_FETCH, &w) != VAM_WALK_OK || insn[0] != 0x0f)
        return false;
    bool rdtscp = insn[1] == 0x01 && insn[2] == 0xf9;
    if (insn[1] != 0x31 && !rdtscp)
        return false;
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    r->rax = lo;
    r->rdx = hi;
    if (rdtscp)
        r->rcx = (uint32_t)V->tsc_aux;
    r->rip += rdtscp ? 3 : 2;
    return true;
}

/* A sensitive instruction without a site trapped in guest kernel mode:
 * code the kernel wrote at run time (an alternative's replacement copied
 * over its original, text_poke) or code outside the annotated image.  It
 * is decoded at rip and performed like a site's (trap and emulate: the
 * thesis's fallback for what the afterburner could not see).  Only the
 * instructions that trap in the back end's deprivileged mode get here;
 * pushf and popf do not trap and would silently misbehave, which is why
 * vam/run/README.md ("Kernel self-patching") lists what the templates hold.
 * true: handled. */
/* The guest kernel's instruction bytes at rip, as many of 15 as are mapped
 * (an instruction may end near the end of a page); returns how many. */
static unsigned fetch_insn(const struct vam_regs *r, uint8_t bytes[15])
{
    struct vam_walk w;
    unsigned n = 15;
    while (n && vam_gva_read(V, r->rip, bytes, n, VAM_ACC_FETCH, &w) != VAM_WALK_OK)
        n--;
    return n;
}

static bool unannotated_sensitive(struct vam_regs *r, unsigned vector, uint64_t ec)
{
    uint8_t bytes[15];
    struct vam_insn d;
    if (V->cpl != 0)
        return false;
    unsigned n = fetch_insn(r, bytes);
    if (!n || vam_decode(bytes, n, AB_MODE_64, &d) != VAM_DEC_OK)
        return false;
    /* a #GP with a selector error code is a segment load that failed
     * against the hypervisor's descriptor table, not the guest's (Linux's
     * ZAP_GS alternative, `mov %eax, %gs`, copied in on AMD-like CPUs) */
    if (vector == X86_EXC_GP && ec != 0 && d.op != VAM_OP_MOV_TO_SEG && d.op != VAM_OP_POP_SEG)
        return false;
    if (vam_run.unannotated++ < 8) {
        char text[64];
        vam_insn_format(&d, text, sizeof text);
        vam_run_log("guest kernel executed '%s' at %#llx, which has no site (code written at "
                    "run time?): emulated", text, (unsigned long long)r->rip);
    }
    if (d.kind < VAM_STATS_KINDS)
        vam_run.stats.exec[d.kind]++;
    emulate(r, &d, r->rip + d.len);
    return true;
}

/*
 * A guest kernel access that its page tables map outside RAM (the shadow's
 * VAM_SHADOW_IO, gpa = where cr2 lands): memory-mapped I/O.  The faulting
 * instruction is decoded (the mov forms of readl/writel and friends,
 * vam/mmio.h) and performed against the device that decodes the address;
 * the translation is never installed, so every access comes back here
 * (trap and emulate, thesis 4.2.4).  Nothing decoding it: reads return all
 * ones and writes vanish, as a PC's bus does, reported the first times.
 */
static void emulate_mmio(struct vam_regs *r, uint64_t cr2, uint64_t gpa)
{
    uint8_t bytes[15];
    struct vam_mmio_insn mi;
    if (V->cpl == 0 &&
        vam_platform_passthrough_map(vam_run.tlb.pair[vam_run.tlb.active].kernel, cr2, gpa))
        return;                     /* a passed-through device's page: mapped, retry */
    unsigned n = fetch_insn(r, bytes);
    if (V->cpl != 0)
        vam_run_fatal("guest user mode accessed device memory at %#llx (gpa %#llx, rip %#llx): "
                      "not supported", (unsigned long long)cr2, (unsigned long long)gpa,
                      (unsigned long long)r->rip);
    if (!n || vam_decode_mmio(bytes, n, &mi) != VAM_DEC_OK)
        vam_run_fatal("device memory at %#llx (gpa %#llx) accessed by rip %#llx with bytes "
                      "%02x %02x %02x %02x %02x %02x: not a mov the VAM emulates",
                      (unsigned long long)cr2, (unsigned long long)gpa,
                      (unsigned long long)r->rip, bytes[0], bytes[1], bytes[2], bytes[3],
                      bytes[4], bytes[5]);
    uint64_t ea = vam_mmio_ea(V, r, &mi);
    if ((ea ^ cr2) & ~0xfffull || (ea & 0xfff) + mi.size > 4096)
        vam_run_fatal("device access at rip %#llx spans pages (%#llx, %u bytes; fault at %#llx)",
                      (unsigned long long)r->rip, (unsigned long long)ea, mi.size,
                      (unsigned long long)cr2);
    gpa = (gpa & ~0xfffull) | (ea & 0xfff);
    uint64_t val = ~0ull;
    bool store = mi.op == VAM_MMIO_STORE_REG || mi.op == VAM_MMIO_STORE_IMM;
    if (store)
        val = vam_mmio_store_value(&mi, r);
    bool claimed = vam_platform_mmio(gpa, &val, mi.size, store);
    if (!claimed && vam_run.mmio_unclaimed++ < 8) {
        char text[64];
        vam_mmio_format(&mi, text, sizeof text);
        vam_run_log("'%s' at rip %#llx: gpa %#llx reaches no device (%s)", text,
                    (unsigned long long)r->rip, (unsigned long long)gpa,
                    store ? "write dropped" : "read all ones");
    }
    if (!store)
        vam_mmio_load_result(&mi, r, claimed ? val : ~0ull);
    vam_run.mmio++;
    r->rip += mi.len;
}

void vam_fe_exception(struct vam_regs *r, unsigned vector, uint64_t ec, uint64_t cr2)
{
    vam_run.entries_exception++;
    check_mode(r, "exception");
    if (vector == X86_EXC_DB && vam_run.stepping_out && !vam_run.stepping) {
        /* one instruction of a logging stub ran: out yet? (vam_run_resume) */
        vam_run.stepping_out = false;
        r->rflags &= ~X86_RFLAGS_TF;
        vam_run_resume(r);
    }
    if (vector == X86_EXC_DB && vam_run.stepping) {
        vam_run.stepping_out = false;
        /* the instruction after sti has run */
        vam_run.stepping = false;
        V->irq_shadow = false;
        r->rflags &= ~X86_RFLAGS_TF;
        if (r->rip == VAM_RUN_GATE_VA)
            gate(r);
        if (in_stubs(r->rip))
            gate_from_stub(r);
        vam_run_resume(r);
    }
    switch (vector) {
    case X86_EXC_PF: {
        if (V->cpl == 0 && vam_run.hot_protected && (ec & X86_PF_W) &&
            cr2 >= VAM_RUN_FIXED_VA && cr2 < VAM_RUN_FIXED_VA + 4096) {
            /* a write to the hot page while it is read-only: an inline sti
             * or cli at a site, or a jump landing stub recording its slot */
            vam_run.hot_faults++;
            if (in_stubs(r->rip))
                gate_from_stub(r);
            const struct vam_site_entry *en = site_containing(r->rip);
            uint64_t alias = 0;
            if (!en && (alias = physical_alias(r->rip)) != 0)
                en = site_containing(r->rip - alias);
            if (!en)
                vam_run_fatal("guest wrote the VAM's hot page at rip %#llx, outside any site",
                              (unsigned long long)r->rip);
            run_site(r, en, alias);
            vam_run_resume(r);
        }
        if (V->cpl == 3 && cr2 >= VAM_RUN_FIXED_VA && cr2 < VAM_RUN_AREA_END) {
            const struct vam_site_entry *en = site_containing(r->rip);
            if (en) {
                vam_run.user_site_faults++;
                run_site(r, en, 0);
                vam_run_resume(r);
            }
        }
        struct vam_event ev;
        if (vam_run.pt_logging && !vam_run_in_memstubs(r->rip))
            vam_run_pt_log_drain();
        switch (vam_shadow_page_fault(&vam_run.tlb, V, cr2, ec, &ev)) {
        case VAM_SHADOW_OK:
            vam_run.page_faults_filled++;
            break;
        case VAM_SHADOW_INJECT:
            deliver(r, &ev);
            break;
        case VAM_SHADOW_IO:
            emulate_mmio(r, cr2, vam_run.tlb.io_gpa);
            break;
        case VAM_SHADOW_ERROR:
            vam_run_fatal("page fault at %#llx (rip %#llx, error code %#llx): %s",
                          (unsigned long long)cr2, (unsigned long long)r->rip,
                          (unsigned long long)ec, vam_shadow_error(&vam_run.tlb));
        }
        break;
    }
    case X86_EXC_BP: {
        struct vam_event ev = {.kind = VAM_EV_SOFTEXC, .vector = X86_EXC_BP, .insn_len = 1};
        deliver(r, &ev);
        break;
    }
    case X86_EXC_NM:
        vam_run.hw_ts = false;          /* the hypervisor cleared its copy of TS */
        deliver_exception(r, vector, 0, 0);
        break;
    case X86_EXC_UD:
        if (!unannotated_sensitive(r, vector, ec))
            deliver_exception(r, vector, 0, 0);
        break;
    case X86_EXC_GP:
        if (!software_interrupt(r, ec) && !kernel_rdtsc(r, ec) &&
            !unannotated_sensitive(r, vector, ec))
            deliver_exception(r, vector, (uint32_t)ec, 0);
        break;
    default:
        if (vector >= 32) {
            struct vam_event ev = {.kind = VAM_EV_SOFTINT, .vector = (uint8_t)vector,
                                   .insn_len = 2};
            deliver(r, &ev);
        } else {
            deliver_exception(r, vector, (uint32_t)ec, cr2);
        }
    }
    vam_run_resume(r);
}

void vam_fe_syscall(struct vam_regs *r)
{
    vam_run.entries_syscall++;
    check_mode(r, "syscall");
    if (vam_syscall(V, r) == VAM_CPU_TRIPLE_FAULT)
        triple_fault(r);
    vam_run_resume(r);
}

void vam_fe_interrupt(struct vam_regs *r)
{
    vam_run.entries_interrupt++;
    check_mode(r, "interrupt");
    vam_run_resume(r);
}

void vam_fe_timer(void)
{
    vam_platform_timer_fired();
}

void vam_fe_console_input(const char *buf, unsigned long len)
{
    vam_platform_console_input(buf, len);
}

/* ---- CPUID: the default policy, plus the x2APIC the platform has ---------------------- */

static void cpuid_policy(struct vam_emul *e, struct vam_vcpu *v, uint32_t leaf, uint32_t sub,
                         uint32_t out[4])
{
    vam_cpuid_default(e, v, leaf, sub, out);
    if (leaf == 1 && vam_run.linux_boot) {
        /* Linux 6.1 as configured here has no x2APIC support and the VAM
         * does not emulate the xAPIC's MMIO page: no local APIC; the PIT
         * through the 8259 is its timer, as with `nolapic`. */
        out[3] &= ~(1u << 9);           /* APIC */
        out[2] &= ~(1u << 21);          /* x2APIC */
        /* No XSAVE: XCR0 would have to be switched through Xen for the
         * guest (xsetbv is not emulated yet); the kernel then uses FXSAVE
         * and drops AVX and what depends on it. */
        out[2] &= ~(1u << 26 | 1u << 27 | 1u << 28);
    } else if (leaf == 1) {
        out[2] |= 1u << 21;             /* x2APIC: the test guests use its MSRs */
    }
}

void vam_run_emul_init(void)
{
    vam_run.emul = (struct vam_emul){.shadow = &vam_run.tlb, .cpuid = cpuid_policy};
}

/* ---- counters -------------------------------------------------------------------------- */

void vam_run_report(void)
{
    vam_platform_console_flush();
    vam_run_log("entries: gate %llu, exceptions %llu, syscalls %llu, interrupts %llu; "
                "injected interrupts %llu, shadow fills %llu, user-mode site faults %llu, "
                "hlt %llu, unannotated sensitive instructions emulated %llu; hot page "
                "protected %llu times, write faults %llu; sites chained %llu",
                (unsigned long long)vam_run.entries_gate,
                (unsigned long long)vam_run.entries_exception,
                (unsigned long long)vam_run.entries_syscall,
                (unsigned long long)vam_run.entries_interrupt,
                (unsigned long long)vam_run.injected_irqs,
                (unsigned long long)vam_run.page_faults_filled,
                (unsigned long long)vam_run.user_site_faults, (unsigned long long)vam_run.halts,
                (unsigned long long)vam_run.unannotated,
                (unsigned long long)vam_run.hot_toggles, (unsigned long long)vam_run.hot_faults,
                (unsigned long long)vam_run.chained);
    if (vam_run.mmio)
        vam_run_log("device memory: %llu accesses emulated, %llu reached no device",
                    (unsigned long long)vam_run.mmio, (unsigned long long)vam_run.mmio_unclaimed);
    vam_platform_report();
    char buf[1024];
    int n = 0;
    for (unsigned k = 0; k < VAM_STATS_KINDS; k++)
        if (vam_run.stats.exec[k] && n < (int)sizeof buf - 40) {
            char name[16];
            n += vam_snprintf(buf + n, sizeof buf - (size_t)n, " %s %llu",
                              vam_kind_name(k, name), (unsigned long long)vam_run.stats.exec[k]);
        }
    vam_run_log("TLB: %llu fills, %llu user-mode fills, %llu global fills, %llu CR3 switches, "
                "%llu CR3 reloads, %llu global flushes, %llu evictions, %llu renewals, "
                "%llu reclaims",
                (unsigned long long)vam_run.tlb.fills,
                (unsigned long long)vam_run.tlb.fills_user,
                (unsigned long long)vam_run.tlb.fills_global,
                (unsigned long long)vam_run.tlb.switches, (unsigned long long)vam_run.tlb.reloads,
                (unsigned long long)vam_run.tlb.global_flushes,
                (unsigned long long)vam_run.tlb.evictions,
                (unsigned long long)vam_run.tlb.renewals, (unsigned long long)vam_run.tlb.reclaims);
    vam_run_log("VAM entries per site kind:%s", n ? buf : " none");
    if (vam_run.pt_logging)
        vam_run_log("page-table tracking: %u write sites, %u stubs; %llu CR3 switches kept "
                    "their translations; %llu logged writes in %llu drains, %llu translations "
                    "removed, %llu spaces emptied for a higher-level write (%llu of them released), "
                    "%llu logs lost, "
                    "%llu record resets, %llu step-outs of a stub",
                    vam_run.memsites_rewritten, vam_run.memstubs,
                    (unsigned long long)vam_run.tlb.switches_kept,
                    (unsigned long long)vam_run.pt_log_entries,
                    (unsigned long long)vam_run.pt_log_drains,
                    (unsigned long long)vam_run.tlb.pt_unmaps,
                    (unsigned long long)vam_run.tlb.pt_pair_flushes,
                    (unsigned long long)vam_run.tlb.pt_pairs_released,
                    (unsigned long long)vam_run.tlb.pt_lost,
                    (unsigned long long)vam_run.tlb.pt_table_resets,
                    (unsigned long long)vam_run.step_outs);
}
