/*
 * Event delivery through the guest's IDT, iretq, syscall and sysretq
 * (include/vam/inject.h).
 */
#include "vam/inject.h"
#include "vam/desc.h"
#include "vam/walk.h"
#include "cpu-internal.h"

#define GATE_INTERRUPT 14u
#define GATE_TRAP      15u

bool vam_exception_has_error_code(unsigned vector)
{
    switch (vector) {
    case X86_EXC_DF: case X86_EXC_TS: case X86_EXC_NP: case X86_EXC_SS: case X86_EXC_GP:
    case X86_EXC_PF: case X86_EXC_AC: case X86_EXC_CP: case 29: case 30:
        return true;
    default:
        return false;
    }
}

struct vam_event vam_exception(unsigned vector, uint32_t error_code, uint64_t cr2)
{
    struct vam_event ev = {.kind = VAM_EV_EXCEPTION, .vector = (uint8_t)vector};
    ev.has_error_code = vam_exception_has_error_code(vector);
    ev.error_code = ev.has_error_code ? error_code : 0;
    ev.cr2 = vector == X86_EXC_PF ? cr2 : 0;
    return ev;
}

/* ---- one delivery attempt ------------------------------------------------------ */

enum step { STEP_DONE, STEP_FAULT, STEP_ERROR };

static enum step fail(struct vam_event *fault, unsigned vector, uint32_t ec)
{
    *fault = vam_exception(vector, ec, 0);
    return STEP_FAULT;
}

static enum step from_desc(enum vam_desc_status s)
{
    return s == VAM_DESC_ERROR ? STEP_ERROR : STEP_FAULT;
}

/* Writes the frame (`n` quadwords, frame[0] at the lowest address) below
 * `top`, checking every page first, highest first (the CPU pushes SS
 * first).  A fault reports the slot the CPU would have been pushing. */
static enum step push_frame(struct vam_vcpu *v, uint64_t top, const uint64_t *frame, unsigned n,
                            bool user, struct vam_event *fault, bool ext)
{
    uint64_t bottom = top - 8ull * n;
    unsigned acc = VAM_ACC_WRITE | (user ? VAM_ACC_USER : 0);
    uint8_t bytes[8 * 6];
    struct vam_walk w;
    if (!vam_canonical(bottom) || !vam_canonical(top - 1) || bottom > top)
        return fail(fault, X86_EXC_SS, ext ? X86_EC_EXT : 0);
    for (uint64_t page_end = top;;) {
        uint64_t slot = page_end - 8;
        enum vam_walk_status s = vam_walk(v, slot, acc, &w);
        if (s == VAM_WALK_BAD_GPA) {
            v->error = "interrupt frame outside guest RAM";
            return STEP_ERROR;
        }
        if (s != VAM_WALK_OK) {
            *fault = vam_exception(X86_EXC_PF, w.error_code, slot);
            return STEP_FAULT;
        }
        page_end = slot & ~0xfffull;
        if (page_end <= bottom)
            break;
    }
    for (unsigned i = 0; i < n; i++)
        cpu_put_le64(bytes + 8 * i, frame[i]);
    if (vam_gva_write(v, bottom, bytes, 8ull * n, acc, &w) != VAM_WALK_OK) {
        v->error = "interrupt frame changed under the VAM";
        return STEP_ERROR;
    }
    return STEP_DONE;
}

static enum step try_deliver(struct vam_vcpu *v, struct vam_regs *r, const struct vam_event *ev,
                             struct vam_event *fault)
{
    bool soft = ev->kind == VAM_EV_SOFTINT || ev->kind == VAM_EV_SOFTEXC;
    bool ext = !soft;
    uint32_t extbit = ext ? X86_EC_EXT : 0;
    unsigned vec = ev->vector;
    uint32_t idt_ec = vec * 8u + X86_EC_IDT + extbit;

    /* the gate */
    if (vec * 16ull + 15 > v->idtr.limit)
        return fail(fault, X86_EXC_GP, idt_ec);
    uint8_t g[16];
    struct vam_walk w;
    enum vam_walk_status ws = vam_gva_read(v, v->idtr.base + vec * 16ull, g, 16, VAM_ACC_READ, &w);
    if (ws == VAM_WALK_BAD_GPA) {
        v->error = "IDT outside guest RAM";
        return STEP_ERROR;
    }
    if (ws == VAM_WALK_FAULT) {
        *fault = vam_exception(X86_EXC_PF, w.error_code, w.va);
        return STEP_FAULT;
    }
    if (ws != VAM_WALK_OK)
        return fail(fault, X86_EXC_GP, extbit);
    uint64_t lo = cpu_le64(g), hi = cpu_le64(g + 8);
    unsigned type = X86_DESC_TYPE(lo);
    if (X86_DESC_S(lo) || (type != GATE_INTERRUPT && type != GATE_TRAP) ||
        ((hi >> 40) & 0x1f) != 0)
        return fail(fault, X86_EXC_GP, idt_ec);
    if (soft && X86_DESC_DPL(lo) < v->cpl)
        return fail(fault, X86_EXC_GP, vec * 8u + X86_EC_IDT);
    if (!X86_DESC_P(lo))
        return fail(fault, X86_EXC_NP, idt_ec);
    uint16_t sel = (uint16_t)(lo >> 16);
    uint64_t target = (lo & 0xffff) | ((lo >> 48) & 0xffff) << 16 | (hi & 0xffffffffull) << 32;
    unsigned ist = (unsigned)(lo >> 32) & 7;

    /* the code segment */
    uint32_t sel_ec = (sel & 0xfffcu) | extbit;
    if ((sel & ~3u) == 0)
        return fail(fault, X86_EXC_GP, extbit);
    uint64_t cs;
    enum vam_desc_status ds = vam_desc_read(v, sel, &cs, fault, ext);
    if (ds == VAM_DESC_LIMIT)
        return fail(fault, X86_EXC_GP, sel_ec);
    if (ds != VAM_DESC_OK)
        return from_desc(ds);
    if (!X86_DESC_CODE(cs) || X86_DESC_DPL(cs) > v->cpl)
        return fail(fault, X86_EXC_GP, sel_ec);
    if (!X86_DESC_P(cs))
        return fail(fault, X86_EXC_NP, sel_ec);
    if (!X86_DESC_L(cs) || X86_DESC_DB(cs))
        return fail(fault, X86_EXC_GP, sel_ec);
    unsigned new_cpl = X86_DESC_CONFORMING(cs) ? v->cpl : X86_DESC_DPL(cs);
    if (!vam_canonical(target))
        return fail(fault, X86_EXC_GP, extbit);

    /* the stack */
    bool switch_stack = new_cpl < v->cpl;
    uint64_t rsp = r->rsp;
    if (ist) {
        ds = vam_tss_read(v, VAM_TSS_IST(ist), &rsp, fault, ext);
        if (ds != VAM_DESC_OK)
            return from_desc(ds);
    } else if (switch_stack) {
        ds = vam_tss_read(v, VAM_TSS_RSP(new_cpl), &rsp, fault, ext);
        if (ds != VAM_DESC_OK)
            return from_desc(ds);
    }
    if (!vam_canonical(rsp))
        return fail(fault, X86_EXC_SS, extbit);
    rsp &= ~0xfull;

    uint64_t rflags = vam_guest_rflags(v, r);
    uint64_t frame[6];
    unsigned n = 0;
    if (ev->has_error_code)
        frame[n++] = ev->error_code;
    frame[n++] = r->rip;
    frame[n++] = v->fixed->sel[VAM_SEG_CS];
    frame[n++] = rflags;
    frame[n++] = r->rsp;
    frame[n++] = v->fixed->sel[VAM_SEG_SS];
    enum step st = push_frame(v, rsp, frame, n, new_cpl == 3, fault, ext);
    if (st != STEP_DONE)
        return st;

    /* commit */
    uint16_t new_ss = switch_stack ? (uint16_t)new_cpl : (uint16_t)v->fixed->sel[VAM_SEG_SS];
    vam_vcpu_set_mode(v, r, (uint16_t)((sel & 0xfffcu) | new_cpl), new_ss);
    rflags &= ~(X86_RFLAGS_TF | X86_RFLAGS_NT | X86_RFLAGS_RF | X86_RFLAGS_VM);
    if (type == GATE_INTERRUPT)
        rflags &= ~X86_RFLAGS_IF;
    vam_set_guest_rflags(v, r, rflags);
    r->rip = target;
    r->rsp = rsp - 8ull * n;
    v->irq_shadow = false;
    return STEP_DONE;
}

/* ---- double faults ------------------------------------------------------------- */

enum ev_class { BENIGN, CONTRIBUTORY, PAGE_FAULT, DOUBLE_FAULT };

static enum ev_class ev_class(const struct vam_event *ev)
{
    if (ev->kind != VAM_EV_EXCEPTION)
        return BENIGN;
    switch (ev->vector) {
    case X86_EXC_DE: case X86_EXC_TS: case X86_EXC_NP: case X86_EXC_SS: case X86_EXC_GP:
        return CONTRIBUTORY;
    case X86_EXC_PF:
        return PAGE_FAULT;
    case X86_EXC_DF:
        return DOUBLE_FAULT;
    default:
        return BENIGN;
    }
}

enum vam_cpu_result vam_deliver(struct vam_vcpu *v, struct vam_regs *r,
                                const struct vam_event *ev)
{
    struct vam_event cur = *ev, fault;
    if (cur.kind != VAM_EV_EXCEPTION)
        cur.has_error_code = false;
    uint64_t rip = r->rip;
    /* benign -> contributory -> page fault -> #DF -> shutdown at the most */
    for (unsigned round = 0;; round++) {
        if (round == 8) {
            r->rip = rip;
            v->error = "event delivery did not converge";
            return VAM_CPU_ERROR;
        }
        if (cur.kind == VAM_EV_EXCEPTION && cur.vector == X86_EXC_PF)
            v->cr2 = cur.cr2;
        switch (try_deliver(v, r, &cur, &fault)) {
        case STEP_DONE:
            return VAM_CPU_OK;
        case STEP_ERROR:
            r->rip = rip;
            return VAM_CPU_ERROR;
        case STEP_FAULT:
            break;
        }
        if (fault.kind == VAM_EV_EXCEPTION && fault.vector == X86_EXC_PF)
            v->cr2 = fault.cr2;             /* loaded when the #PF is detected */
        if (cur.kind == VAM_EV_SOFTINT || cur.kind == VAM_EV_SOFTEXC)
            r->rip -= cur.insn_len;         /* the fault is the int instruction's */
        enum ev_class first = ev_class(&cur), second = ev_class(&fault);
        if (first == DOUBLE_FAULT) {
            r->rip = rip;
            return VAM_CPU_TRIPLE_FAULT;
        }
        if ((first == CONTRIBUTORY && second == CONTRIBUTORY) ||
            (first == PAGE_FAULT && (second == CONTRIBUTORY || second == PAGE_FAULT)))
            cur = vam_exception(X86_EXC_DF, 0, 0);
        else
            cur = fault;
    }
}

enum vam_cpu_result vam_irq_deliver(struct vam_vcpu *v, struct vam_regs *r)
{
    int vec = vam_irq_deliverable(v);
    if (vec < 0)
        return VAM_CPU_NONE;
    vam_irq_clear(v, (unsigned)vec);
    struct vam_event ev = {.kind = VAM_EV_EXTINT, .vector = (uint8_t)vec};
    return vam_deliver(v, r, &ev);
}

/* ---- iretq ----------------------------------------------------------------------- */

/* Checks an SS selector for a 64-bit return to CPL `rpl` (IRET's
 * RETURN-TO-OUTER-PRIVILEGE-LEVEL checks, which 64-bit iretq always makes). */
static enum step check_ss(struct vam_vcpu *v, uint16_t ss, unsigned rpl, struct vam_event *fault)
{
    if ((ss & ~3u) == 0) {
        if (rpl == 3)
            return fail(fault, X86_EXC_GP, 0);
        return STEP_DONE;           /* null SS is fine in 64-bit mode below CPL 3 */
    }
    uint32_t ec = ss & 0xfffcu;
    if ((ss & 3u) != rpl)
        return fail(fault, X86_EXC_GP, ec);
    uint64_t d;
    enum vam_desc_status ds = vam_desc_read(v, ss, &d, fault, false);
    if (ds == VAM_DESC_LIMIT)
        return fail(fault, X86_EXC_GP, ec);
    if (ds != VAM_DESC_OK)
        return from_desc(ds);
    if (!X86_DESC_WRITABLE_DATA(d) || X86_DESC_DPL(d) != rpl)
        return fail(fault, X86_EXC_GP, ec);
    if (!X86_DESC_P(d))
        return fail(fault, X86_EXC_SS, ec);
    return STEP_DONE;
}

/* After a return to an outer level: ES, DS, FS and GS that select data or
 * non-conforming code more privileged than the new CPL become null. */
static void null_inner_segments(struct vam_vcpu *v)
{
    static const enum vam_seg segs[] = {VAM_SEG_ES, VAM_SEG_DS, VAM_SEG_FS, VAM_SEG_GS};
    for (unsigned i = 0; i < 4; i++) {
        uint16_t sel = (uint16_t)v->fixed->sel[segs[i]];
        if ((sel & ~3u) == 0)
            continue;
        uint64_t d;
        struct vam_event ignored;
        if (vam_desc_read(v, sel, &d, &ignored, false) != VAM_DESC_OK)
            continue;
        if ((!X86_DESC_CODE(d) || !X86_DESC_CONFORMING(d)) && X86_DESC_DPL(d) < v->cpl)
            v->fixed->sel[segs[i]] = 0;
    }
}

static enum vam_cpu_result deliver_fault(struct vam_vcpu *v, struct vam_regs *r, enum step st,
                                         const struct vam_event *fault)
{
    if (st == STEP_ERROR)
        return VAM_CPU_ERROR;
    return vam_deliver(v, r, fault);
}

enum vam_cpu_result vam_iretq(struct vam_vcpu *v, struct vam_regs *r)
{
    struct vam_event fault;
    uint8_t b[40];
    struct vam_walk w;
    enum vam_walk_status ws =
        vam_gva_read(v, r->rsp, b, 40, v->cpl == 3 ? VAM_ACC_USER : VAM_ACC_READ, &w);
    if (ws == VAM_WALK_BAD_GPA) {
        v->error = "iretq frame outside guest RAM";
        return VAM_CPU_ERROR;
    }
    if (ws != VAM_WALK_OK) {
        fault = ws == VAM_WALK_FAULT ? vam_exception(X86_EXC_PF, w.error_code, w.va)
                                     : vam_exception(X86_EXC_SS, 0, 0);
        return vam_deliver(v, r, &fault);
    }

    uint64_t rip = cpu_le64(b), rflags = cpu_le64(b + 16), rsp = cpu_le64(b + 24);
    uint16_t cs = (uint16_t)cpu_le64(b + 8), ss = (uint16_t)cpu_le64(b + 32);
    unsigned rpl = cs & 3u;

    uint64_t d;
    if ((cs & ~3u) == 0) {
        fault = vam_exception(X86_EXC_GP, 0, 0);
        return vam_deliver(v, r, &fault);
    }
    uint32_t ec = cs & 0xfffcu;
    enum vam_desc_status ds = vam_desc_read(v, cs, &d, &fault, false);
    if (ds == VAM_DESC_LIMIT)
        fault = vam_exception(X86_EXC_GP, ec, 0);
    if (ds != VAM_DESC_OK)
        return deliver_fault(v, r, ds == VAM_DESC_ERROR ? STEP_ERROR : STEP_FAULT, &fault);
    if (!X86_DESC_CODE(d) || rpl < v->cpl ||
        (X86_DESC_CONFORMING(d) ? X86_DESC_DPL(d) > rpl : X86_DESC_DPL(d) != rpl)) {
        fault = vam_exception(X86_EXC_GP, ec, 0);
        return vam_deliver(v, r, &fault);
    }
    if (!X86_DESC_P(d)) {
        fault = vam_exception(X86_EXC_NP, ec, 0);
        return vam_deliver(v, r, &fault);
    }
    bool compat = !X86_DESC_L(d);
    if (compat && (!X86_DESC_DB(d) || rpl != 3 || !v->compat_user)) {
        v->error = X86_DESC_DB(d) && rpl == 3
                       ? "iretq to 32-bit user code, but the back end cannot run the guest's selectors"
                       : "iretq to 16-bit or to kernel compatibility-mode code is not supported";
        return VAM_CPU_ERROR;
    }
    if (X86_DESC_L(d) && X86_DESC_DB(d)) {
        fault = vam_exception(X86_EXC_GP, ec, 0);       /* L and D both set: reserved */
        return vam_deliver(v, r, &fault);
    }
    enum step st = check_ss(v, ss, rpl, &fault);
    if (st != STEP_DONE)
        return deliver_fault(v, r, st, &fault);
    if (compat ? rip > 0xffffffffull : !vam_canonical(rip)) {
        fault = vam_exception(X86_EXC_GP, 0, 0);
        return vam_deliver(v, r, &fault);
    }

    /* RFLAGS under the privilege rules of the old CPL */
    uint64_t old = vam_guest_rflags(v, r);
    uint64_t always = X86_RFLAGS_CF | X86_RFLAGS_PF | X86_RFLAGS_AF | X86_RFLAGS_ZF |
                      X86_RFLAGS_SF | X86_RFLAGS_TF | X86_RFLAGS_DF | X86_RFLAGS_OF |
                      X86_RFLAGS_NT | X86_RFLAGS_RF | X86_RFLAGS_AC | X86_RFLAGS_ID;
    uint64_t mask = always;
    unsigned iopl = (unsigned)(old >> 12) & 3;
    if (v->cpl <= iopl)
        mask |= X86_RFLAGS_IF;
    if (v->cpl == 0)
        mask |= X86_RFLAGS_IOPL | X86_RFLAGS_VIF | X86_RFLAGS_VIP;
    uint64_t nflags = (old & ~mask) | (rflags & mask);

    bool outer = rpl > v->cpl;
    vam_vcpu_set_mode(v, r, cs, ss);
    vam_set_guest_rflags(v, r, nflags);
    r->rip = rip;
    r->rsp = rsp;
    v->irq_shadow = false;
    if (outer)
        null_inner_segments(v);
    return VAM_CPU_OK;
}

/* ---- syscall / sysret -------------------------------------------------------------- */

enum vam_cpu_result vam_syscall(struct vam_vcpu *v, struct vam_regs *r)
{
    if (!(v->efer & X86_EFER_SCE)) {
        r->rip -= 2;
        struct vam_event ud = vam_exception(X86_EXC_UD, 0, 0);
        return vam_deliver(v, r, &ud);
    }
    uint64_t rflags = vam_guest_rflags(v, r);
    r->rcx = r->rip;
    r->r11 = rflags & ~X86_RFLAGS_RF;
    uint16_t sel = (uint16_t)(v->star >> 32);
    vam_vcpu_set_mode(v, r, sel & 0xfffcu, (uint16_t)(sel + 8));
    vam_set_guest_rflags(v, r, rflags & ~(v->sfmask | X86_RFLAGS_RF));
    r->rip = v->lstar;
    v->irq_shadow = false;
    return VAM_CPU_OK;
}

enum vam_cpu_result vam_sysretq(struct vam_vcpu *v, struct vam_regs *r)
{
    struct vam_event fault;
    if (!(v->efer & X86_EFER_SCE))
        fault = vam_exception(X86_EXC_UD, 0, 0);
    else if (v->cpl != 0 || !vam_canonical(r->rcx))
        fault = vam_exception(X86_EXC_GP, 0, 0);
    else {
        uint16_t sel = (uint16_t)(v->star >> 48);
        vam_vcpu_set_mode(v, r, (uint16_t)((sel + 16) | 3), (uint16_t)((sel + 8) | 3));
        vam_set_guest_rflags(v, r, (r->r11 & 0x3c7fd7ull) | X86_RFLAGS_FIXED);
        r->rip = r->rcx;
        v->irq_shadow = false;
        return VAM_CPU_OK;
    }
    return vam_deliver(v, r, &fault);
}
