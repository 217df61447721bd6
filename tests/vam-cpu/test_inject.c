/*
 * Event delivery through the guest IDT, iretq, syscall and sysretq
 * (vam/cpu/inject.c), checked against frames in guest memory and the
 * registers handed back for be_resume.
 */
#include "fake_backend.h"
#include "guest.h"
#include "test.h"
#include "vam/desc.h"
#include "vam/inject.h"

#include <string.h>

/* Xen-like back-end selectors, to see that regs gets those and frames the guest's */
#define BE_KCS 0xe030
#define BE_UCS 0xe033
#define BE_SS  0xe02b

static struct guest g;

static void setup(void)
{
    guest_standard(&g);
    vam_vcpu_set_backend_selectors(&g.v, BE_KCS, BE_SS, BE_UCS, BE_SS);
    vam_vcpu_set_mode(&g.v, &g.r, KERNEL_CS, KERNEL_DS);
    guest_all_gates(&g);
}

static void check_frame(uint64_t at, const uint64_t *want, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(gva_rd64(&g, at + 8 * i), want[i]);
}

static struct vam_event ev_soft(unsigned kind, unsigned vector, unsigned len)
{
    struct vam_event e = {.kind = (uint8_t)kind, .vector = (uint8_t)vector,
                          .insn_len = (uint8_t)len};
    return e;
}

static struct vam_event ev_extint(unsigned vector)
{
    struct vam_event e = {.kind = VAM_EV_EXTINT, .vector = (uint8_t)vector};
    return e;
}

/* ---- delivery -------------------------------------------------------------------- */

static void exception_without_error_code(void)
{
    setup();
    uint64_t rsp = g.r.rsp, rip = g.r.rip;
    struct vam_event ev = vam_exception(X86_EXC_UD, 0, 0);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    uint64_t frame = rsp - 40;
    uint64_t want[] = {rip, KERNEL_CS, 0x202, rsp, KERNEL_DS};
    check_frame(frame, want, 5);
    CHECK_EQ(g.r.rip, HANDLER(6));
    CHECK_EQ(g.r.rsp, frame);
    CHECK_EQ(g.r.cs, BE_KCS);
    CHECK_EQ(g.r.ss, BE_SS);
    CHECK_EQ(g.v.cpl, 0);
    CHECK_EQ(g.fixed.sel[VAM_SEG_CS], KERNEL_CS);
    CHECK_EQ(g.fixed.sel[VAM_SEG_SS], KERNEL_DS);   /* same level: SS unchanged */
    CHECK(!vam_vcpu_if(&g.v));                      /* interrupt gate */
    CHECK_EQ(g.r.rflags & X86_RFLAGS_IF, X86_RFLAGS_IF);    /* hardware keeps events on */
    CHECK_EQ(vam_guest_rflags(&g.v, &g.r), 0x2);
    /* the word below the frame is untouched */
    CHECK_EQ(gva_rd64(&g, frame - 8), 0);
}

static void exception_with_error_code(void)
{
    setup();
    g.r.rsp = KSTACK_TOP - 0xf8;                    /* not 16-aligned */
    uint64_t rsp = g.r.rsp, rip = g.r.rip;
    struct vam_event ev = vam_exception(X86_EXC_GP, 0x1234, 0);
    CHECK(ev.has_error_code);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    uint64_t frame = (rsp & ~15ull) - 48;
    uint64_t want[] = {0x1234, rip, KERNEL_CS, 0x202, rsp, KERNEL_DS};
    check_frame(frame, want, 6);
    CHECK_EQ(g.r.rsp, frame);
    CHECK_EQ(g.r.rip, HANDLER(13));
    /* #PF loads CR2 and pushes its error code */
    setup();
    ev = vam_exception(X86_EXC_PF, X86_PF_W | X86_PF_U, 0xdeadb000);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.v.cr2, 0xdeadb000);
    CHECK_EQ(gva_rd64(&g, g.r.rsp), X86_PF_W | X86_PF_U);
    /* vectors without an error code drop one given */
    CHECK(!vam_exception(X86_EXC_BP, 7, 0).has_error_code);
    CHECK(vam_exception(X86_EXC_DF, 0, 0).has_error_code);
    CHECK(vam_exception(X86_EXC_AC, 0, 0).has_error_code);
}

static void interrupt_vs_trap_gate(void)
{
    setup();
    guest_gate(&g, 3, HANDLER(3), KERNEL_CS, 15, 3, 0, 1);     /* trap gate, as Linux's int3 */
    vam_set_guest_rflags(&g.v, &g.r, 0x302);                   /* IF and TF */
    uint64_t rip = g.r.rip + 1;
    g.r.rip = rip;
    struct vam_event ev = ev_soft(VAM_EV_SOFTEXC, 3, 1);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK(vam_vcpu_if(&g.v));                                  /* trap gate: IF stays */
    CHECK_EQ(g.r.rflags & X86_RFLAGS_TF, 0);
    CHECK_EQ(gva_rd64(&g, g.r.rsp), rip);                      /* a trap: the next rip */
    CHECK_EQ(gva_rd64(&g, g.r.rsp + 16), 0x302);
    /* the same through an interrupt gate */
    setup();
    vam_set_guest_rflags(&g.v, &g.r, 0x302 | X86_RFLAGS_NT);
    ev = ev_extint(0x40);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK(!vam_vcpu_if(&g.v));
    CHECK_EQ(g.r.rflags & (X86_RFLAGS_TF | X86_RFLAGS_NT), 0);
    CHECK_EQ(gva_rd64(&g, g.r.rsp + 16), 0x4302);
    CHECK_EQ(g.r.rip, HANDLER(0x40));
}

static void user_to_kernel_via_rsp0(void)
{
    setup();
    guest_to_user(&g, 0x400123, 0x7ffe58);
    vam_set_guest_rflags(&g.v, &g.r, 0x246);
    CHECK_EQ(g.r.cs, BE_UCS);
    struct vam_event ev = ev_extint(0x30);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    uint64_t frame = RSP0_TOP - 40;
    uint64_t want[] = {0x400123, USER_CS, 0x246, 0x7ffe58, USER_DS};
    check_frame(frame, want, 5);
    CHECK_EQ(g.r.rsp, frame);
    CHECK_EQ(g.r.rip, HANDLER(0x30));
    CHECK_EQ(g.v.cpl, 0);
    CHECK_EQ(g.fixed.sel[VAM_SEG_CS], KERNEL_CS);
    CHECK_EQ(g.fixed.sel[VAM_SEG_SS], 0);           /* null SS with RPL = new CPL */
    CHECK_EQ(g.fixed.sel[VAM_SEG_DS], USER_DS);     /* data segments untouched */
    CHECK_EQ(g.r.cs, BE_KCS);
    CHECK_EQ(g.r.ss, BE_SS);
    CHECK(!vam_vcpu_if(&g.v));
    /* the user stack was not written */
    uint8_t zero[0x1000] = {0};
    CHECK(memcmp(fake_ram() + USTACK_GPA, zero, sizeof zero) == 0);
}

static void ist_stacks(void)
{
    setup();
    guest_gate(&g, 2, HANDLER(2), KERNEL_CS, 14, 0, 1, 1);     /* NMI on IST1 */
    uint64_t rsp = g.r.rsp;
    struct vam_event ev = vam_exception(X86_EXC_NMI, 0, 0);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    /* TSS.IST1 = IST1_TOP - 8: aligned down to 16 */
    uint64_t frame = IST1_TOP - 16 - 40;
    uint64_t want[] = {0xffffffff81234567ull, KERNEL_CS, 0x202, rsp, KERNEL_DS};
    check_frame(frame, want, 5);
    CHECK_EQ(g.r.rsp, frame);
    CHECK_EQ(g.fixed.sel[VAM_SEG_SS], KERNEL_DS);   /* no privilege change */
    /* from user mode the IST beats RSP0 */
    setup();
    guest_gate(&g, 2, HANDLER(2), KERNEL_CS, 14, 0, 1, 1);
    guest_to_user(&g, 0x400200, 0x7ffe00);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rsp, IST1_TOP - 16 - 40);
    CHECK_EQ(gva_rd64(&g, g.r.rsp + 24), 0x7ffe00);
    CHECK_EQ(g.fixed.sel[VAM_SEG_SS], 0);
}

static void software_interrupt_dpl(void)
{
    /* int $0x80 from user through a DPL-0 gate: #GP(0x80*8+2), at the int */
    setup();
    guest_to_user(&g, 0x400102, 0x7ffe58);
    struct vam_event ev = ev_soft(VAM_EV_SOFTINT, 0x80, 2);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(13));
    uint64_t frame = RSP0_TOP - 48;
    uint64_t want[] = {0x402, 0x400100, USER_CS, 0x202, 0x7ffe58, USER_DS};
    check_frame(frame, want, 6);
    /* through a DPL-3 gate: delivered, no error code, the next rip */
    setup();
    guest_gate(&g, 0x80, HANDLER(0x80), KERNEL_CS, 14, 3, 0, 1);
    guest_to_user(&g, 0x400102, 0x7ffe58);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(0x80));
    uint64_t want2[] = {0x400102, USER_CS, 0x202, 0x7ffe58, USER_DS};
    check_frame(RSP0_TOP - 40, want2, 5);
    /* int3 from user through a DPL-0 gate: #GP(3*8+2) */
    setup();
    guest_to_user(&g, 0x400101, 0x7ffe58);
    ev = ev_soft(VAM_EV_SOFTEXC, 3, 1);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(13));
    CHECK_EQ(gva_rd64(&g, g.r.rsp), 0x1a);
    CHECK_EQ(gva_rd64(&g, g.r.rsp + 8), 0x400100);
    /* a hardware exception ignores the gate's DPL */
    setup();
    guest_to_user(&g, 0x400100, 0x7ffe58);
    ev = vam_exception(X86_EXC_BP, 0, 0);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(3));
    /* the kernel may int $0x80 through a DPL-0 gate */
    setup();
    ev = ev_soft(VAM_EV_SOFTINT, 0x80, 2);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(0x80));
}

static void not_present_gate(void)
{
    setup();
    guest_gate(&g, 6, HANDLER(6), KERNEL_CS, 14, 0, 0, 0);
    uint64_t rip = g.r.rip;
    struct vam_event ev = vam_exception(X86_EXC_UD, 0, 0);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(11));
    CHECK_EQ(gva_rd64(&g, g.r.rsp), 6 * 8 + 2 + 1);        /* IDT, EXT */
    CHECK_EQ(gva_rd64(&g, g.r.rsp + 8), rip);
    /* an external interrupt */
    setup();
    guest_gate(&g, 0x30, HANDLER(0x30), KERNEL_CS, 14, 0, 0, 0);
    ev = ev_extint(0x30);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(gva_rd64(&g, g.r.rsp), 0x30 * 8 + 3);
    /* int n: no EXT */
    setup();
    guest_gate(&g, 0x81, HANDLER(0x81), KERNEL_CS, 14, 3, 0, 0);
    guest_to_user(&g, 0x400102, 0x7ffe58);
    ev = ev_soft(VAM_EV_SOFTINT, 0x81, 2);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(11));
    CHECK_EQ(gva_rd64(&g, g.r.rsp), 0x81 * 8 + 2);
    CHECK_EQ(gva_rd64(&g, g.r.rsp + 8), 0x400100);
    /* beyond the IDT limit */
    setup();
    g.v.idtr.limit = 0x7ff;
    ev = ev_extint(0x90);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(13));
    CHECK_EQ(gva_rd64(&g, g.r.rsp), 0x90 * 8 + 3);
    /* a gate of another type (a call gate, 12) */
    setup();
    guest_gate(&g, 0x31, HANDLER(0x31), KERNEL_CS, 12, 0, 0, 1);
    ev = ev_extint(0x31);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(gva_rd64(&g, g.r.rsp), 0x31 * 8 + 3);
}

static void gate_code_segment_checks(void)
{
    static const struct {
        uint16_t sel;
        unsigned vector;
        uint64_t ec;
    } cases[] = {
        {KERNEL_DS, X86_EXC_GP, KERNEL_DS | 1},     /* not code */
        {USER_CS, X86_EXC_GP, 0x30 | 1},            /* DPL 3 > CPL 0 */
        {BAD_CS_NP, X86_EXC_NP, BAD_CS_NP | 1},     /* not present */
        {CODE32_K, X86_EXC_GP, CODE32_K | 1},       /* not 64-bit */
        {0, X86_EXC_GP, 1},                         /* null */
        {0x100, X86_EXC_GP, 0x101},                 /* beyond the GDT */
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setup();
        guest_gate(&g, 0x33, HANDLER(0x33), cases[i].sel, 14, 0, 0, 1);
        struct vam_event ev = ev_extint(0x33);
        CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
        CHECK_EQ(g.r.rip, HANDLER(cases[i].vector));
        CHECK_EQ(gva_rd64(&g, g.r.rsp), cases[i].ec);
    }
    /* the gate's target must be canonical */
    setup();
    guest_gate(&g, 0x34, 0x0000800000000000ull, KERNEL_CS, 14, 0, 0, 1);
    struct vam_event ev = ev_extint(0x34);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(13));
    CHECK_EQ(gva_rd64(&g, g.r.rsp), 1);
}

static void double_and_triple_fault(void)
{
    /* #UD -> gate 6 absent: #NP -> gate 11 absent: #NP during #NP -> #DF */
    setup();
    guest_gate(&g, 6, HANDLER(6), KERNEL_CS, 14, 0, 0, 0);
    guest_gate(&g, 11, HANDLER(11), KERNEL_CS, 14, 0, 0, 0);
    uint64_t rip = g.r.rip, rsp = g.r.rsp;
    struct vam_event ev = vam_exception(X86_EXC_UD, 0, 0);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(8));
    uint64_t want[] = {0, rip, KERNEL_CS, 0x202, rsp, KERNEL_DS};
    check_frame(rsp - 48, want, 6);
    /* and with #DF's gate absent too: shutdown, registers untouched */
    setup();
    guest_gate(&g, 6, HANDLER(6), KERNEL_CS, 14, 0, 0, 0);
    guest_gate(&g, 11, HANDLER(11), KERNEL_CS, 14, 0, 0, 0);
    guest_gate(&g, 8, HANDLER(8), KERNEL_CS, 14, 0, 0, 0);
    struct vam_regs before = g.r;
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_TRIPLE_FAULT);
    CHECK(memcmp(&before, &g.r, sizeof before) == 0);
    CHECK_EQ(g.v.cpl, 0);
    /* a benign exception whose gate is absent is not a double fault */
    setup();
    guest_gate(&g, 3, HANDLER(3), KERNEL_CS, 14, 0, 0, 0);
    ev = vam_exception(X86_EXC_BP, 0, 0);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(11));
}

static void page_fault_while_pushing(void)
{
    /* user -> kernel with RSP0 on an unmapped page: #PF(W) at the SS slot;
     * #PF's own gate uses the same stack: #PF during #PF -> #DF on IST1 */
    setup();
    gva_wr64(&g, TSS_VA + VAM_TSS_RSP(0), IST2_TOP);
    guest_gate(&g, 8, HANDLER(8), KERNEL_CS, 14, 0, 1, 1);
    guest_to_user(&g, 0x400123, 0x7ffe58);
    struct vam_event ev = ev_extint(0x30);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(8));
    CHECK_EQ(g.v.cr2, IST2_TOP - 8);
    uint64_t want[] = {0, 0x400123, USER_CS, 0x202, 0x7ffe58, USER_DS};
    check_frame(IST1_TOP - 16 - 48, want, 6);
    CHECK_EQ(g.v.cpl, 0);
    /* with #PF on IST1 the #PF itself is delivered there */
    setup();
    gva_wr64(&g, TSS_VA + VAM_TSS_RSP(0), IST2_TOP);
    guest_gate(&g, 14, HANDLER(14), KERNEL_CS, 14, 0, 1, 1);
    guest_to_user(&g, 0x400123, 0x7ffe58);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(14));
    uint64_t want2[] = {X86_PF_W, 0x400123, USER_CS, 0x202, 0x7ffe58, USER_DS};
    check_frame(IST1_TOP - 16 - 48, want2, 6);
    CHECK_EQ(g.v.cr2, IST2_TOP - 8);
    /* a frame straddling a mapped page and an unmapped one below it: the
     * fault names the highest slot in the unmapped page */
    setup();
    guest_gate(&g, 8, HANDLER(8), KERNEL_CS, 14, 0, 1, 1);
    g.r.rsp = KBASE + 0xf010;
    ev = ev_extint(0x30);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.v.cr2, KBASE + 0xeff8);
    CHECK_EQ(g.r.rip, HANDLER(8));
    /* nothing was written to the mapped upper part */
    CHECK_EQ(gva_rd64(&g, KBASE + 0xf000), 0);
    CHECK_EQ(gva_rd64(&g, KBASE + 0xf008), 0);
}

static void frame_across_pages(void)
{
    setup();
    g.r.rsp = KBASE + 0xc010;                       /* the frame spans 0xbfe8 .. 0xc010 */
    uint64_t rip = g.r.rip;
    struct vam_event ev = ev_extint(0x30);
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    uint64_t want[] = {rip, KERNEL_CS, 0x202, KBASE + 0xc010, KERNEL_DS};
    check_frame(KBASE + 0xbfe8, want, 5);
}

/* ---- iretq ---------------------------------------------------------------------- */

#define IRET_SITE 0xffffffff81000abcull

static void put_frame(uint64_t at, uint64_t rip, uint64_t cs, uint64_t rflags, uint64_t rsp,
                      uint64_t ss)
{
    gva_wr64(&g, at, rip);
    gva_wr64(&g, at + 8, cs);
    gva_wr64(&g, at + 16, rflags);
    gva_wr64(&g, at + 24, rsp);
    gva_wr64(&g, at + 32, ss);
}

static void iret_kernel_to_user(void)
{
    setup();
    vam_set_guest_rflags(&g.v, &g.r, 0x2);          /* IF = 0 in the kernel */
    g.fixed.sel[VAM_SEG_GS] = USER_DS;
    g.fixed.sel[VAM_SEG_FS] = 0;
    uint64_t f = KSTACK_TOP - 0x200;
    put_frame(f, 0x400123, USER_CS, 0x247, 0x7ffe58, USER_DS);
    g.r.rsp = f;
    g.r.rip = IRET_SITE;
    CHECK_EQ(vam_iretq(&g.v, &g.r), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, 0x400123);
    CHECK_EQ(g.r.rsp, 0x7ffe58);
    CHECK_EQ(g.v.cpl, 3);
    CHECK_EQ(g.fixed.sel[VAM_SEG_CS], USER_CS);
    CHECK_EQ(g.fixed.sel[VAM_SEG_SS], USER_DS);
    CHECK_EQ(g.r.cs, BE_UCS);
    CHECK_EQ(g.r.ss, BE_SS);
    CHECK(vam_vcpu_if(&g.v));
    CHECK_EQ(vam_guest_rflags(&g.v, &g.r), 0x247);
    CHECK_EQ(g.r.rflags, 0x247);
    /* kernel data segments do not survive the return to CPL 3 */
    CHECK_EQ(g.fixed.sel[VAM_SEG_DS], 0);
    CHECK_EQ(g.fixed.sel[VAM_SEG_ES], 0);
    CHECK_EQ(g.fixed.sel[VAM_SEG_GS], USER_DS);
}

static void iret_kernel_to_kernel(void)
{
    setup();
    uint64_t f = KSTACK_TOP - 0x200;
    put_frame(f, 0xffffffff81000100ull, KERNEL_CS, 0x3003, KSTACK_TOP - 0x80, KERNEL_DS);
    g.r.rsp = f;
    g.r.rip = IRET_SITE;
    CHECK(vam_vcpu_if(&g.v));
    CHECK_EQ(vam_iretq(&g.v, &g.r), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, 0xffffffff81000100ull);
    CHECK_EQ(g.r.rsp, KSTACK_TOP - 0x80);
    CHECK_EQ(g.v.cpl, 0);
    CHECK_EQ(g.r.cs, BE_KCS);
    CHECK(!vam_vcpu_if(&g.v));                      /* IF restored from the frame */
    CHECK_EQ(vam_guest_rflags(&g.v, &g.r), 0x3003);     /* CPL 0 may set IOPL */
    CHECK_EQ(g.r.rflags, 0x203);                    /* hardware: IF on, IOPL 0, CF */
    CHECK_EQ(g.fixed.sel[VAM_SEG_DS], KERNEL_DS);   /* same level: segments kept */
    /* null SS is fine for a 64-bit return below CPL 3 */
    setup();
    put_frame(f, 0xffffffff81000100ull, KERNEL_CS, 0x202, KSTACK_TOP - 0x80, 0);
    g.r.rsp = f;
    CHECK_EQ(vam_iretq(&g.v, &g.r), VAM_CPU_OK);
    CHECK_EQ(g.fixed.sel[VAM_SEG_SS], 0);
}

static void iret_user_flags(void)
{
    setup();
    guest_to_user(&g, 0x400300, 0x7ffe00);
    vam_set_guest_rflags(&g.v, &g.r, 0x202);
    put_frame(0x7ffe00, 0x400400, USER_CS, 0x3082, 0x7ffe80, USER_DS);  /* IOPL 3, IF 0, SF */
    CHECK_EQ(vam_iretq(&g.v, &g.r), VAM_CPU_OK);
    /* CPL 3 > IOPL 0: neither IF nor IOPL change; SF does */
    CHECK_EQ(vam_guest_rflags(&g.v, &g.r), 0x282);
    CHECK_EQ(g.r.rip, 0x400400);
    CHECK_EQ(g.r.rsp, 0x7ffe80);
    CHECK_EQ(g.v.cpl, 3);
}

static void iret_faults(void)
{
    /* CPL 3 returning to CS RPL 0: #GP(sel), reported at the iretq, in the kernel */
    setup();
    guest_to_user(&g, 0x400300, 0x7ffe00);
    put_frame(0x7ffe00, 0x400400, KERNEL_CS, 0x202, 0x7ffe80, KERNEL_DS);
    CHECK_EQ(vam_iretq(&g.v, &g.r), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(13));
    uint64_t want[] = {KERNEL_CS, 0x400300, USER_CS, 0x202, 0x7ffe00, USER_DS};
    check_frame(RSP0_TOP - 48, want, 6);

    static const struct {
        uint64_t rip, cs, ss;
        unsigned vector;
        uint64_t ec;
    } cases[] = {
        {0x0000800000000000ull, KERNEL_CS, KERNEL_DS, X86_EXC_GP, 0},    /* rip */
        {0x400000, USER_CS, KERNEL_DS, X86_EXC_GP, KERNEL_DS},            /* SS RPL != 3 */
        {0x400000, USER_CS, KERNEL_DS | 3, X86_EXC_GP, KERNEL_DS},        /* SS DPL != 3 */
        {0x400000, USER_CS, 3, X86_EXC_GP, 0},                            /* null SS at CPL 3 */
        {0x400000, USER_CS, USER_CS, X86_EXC_GP, USER_CS & ~3},           /* SS is code */
        {0x400000, 0, USER_DS, X86_EXC_GP, 0},                            /* null CS */
        {0x400000, BAD_CS_NP, KERNEL_DS, X86_EXC_NP, BAD_CS_NP},          /* CS absent */
        {0x400000, KERNEL_DS, KERNEL_DS, X86_EXC_GP, KERNEL_DS},          /* CS not code */
        {0x400000, 0x103, USER_DS, X86_EXC_GP, 0x100},                    /* beyond GDT */
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setup();
        uint64_t f = KSTACK_TOP - 0x200;
        put_frame(f, cases[i].rip, cases[i].cs, 0x202, 0x7ffe00, cases[i].ss);
        g.r.rsp = f;
        g.r.rip = IRET_SITE;
        CHECK_EQ(vam_iretq(&g.v, &g.r), VAM_CPU_OK);
        CHECK_EQ(g.r.rip, HANDLER(cases[i].vector));
        uint64_t want2[] = {cases[i].ec, IRET_SITE, KERNEL_CS, 0x202, f, KERNEL_DS};
        check_frame((f & ~15ull) - 48, want2, 6);
        CHECK_EQ(g.v.cpl, 0);
    }
    /* the frame itself unreadable: #PF at rsp (on IST1, the stack being bad) */
    setup();
    guest_gate(&g, 14, HANDLER(14), KERNEL_CS, 14, 0, 1, 1);
    g.r.rsp = KBASE + 0xe100;
    g.r.rip = IRET_SITE;
    CHECK_EQ(vam_iretq(&g.v, &g.r), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(14));
    CHECK_EQ(g.v.cr2, KBASE + 0xe100);
    CHECK_EQ(gva_rd64(&g, g.r.rsp), 0);                 /* supervisor read, not present */
    CHECK_EQ(gva_rd64(&g, g.r.rsp + 8), IRET_SITE);
    /* a return to 32-bit user code: refused while the back end cannot run
     * the guest's selectors, done when it can (then rip must fit 32 bits) */
    setup();
    uint64_t f = KSTACK_TOP - 0x200;
    put_frame(f, 0x400000, USER32_CS, 0x202, 0x7ffe00, USER_DS);
    g.r.rsp = f;
    CHECK_EQ(vam_iretq(&g.v, &g.r), VAM_CPU_ERROR);
    CHECK(g.v.error != NULL);
    setup();
    g.v.compat_user = true;
    put_frame(f, 0x400000, USER32_CS, 0x202, 0x7ffe00, USER_DS);
    g.r.rsp = f;
    CHECK_EQ(vam_iretq(&g.v, &g.r), VAM_CPU_OK);
    CHECK_EQ(g.v.cpl, 3);
    CHECK_EQ(g.v.fixed->sel[VAM_SEG_CS], USER32_CS);
    CHECK_EQ(g.r.rip, 0x400000);
    CHECK_EQ(g.r.rsp, 0x7ffe00);
    setup();
    g.v.compat_user = true;
    put_frame(f, 0x100000000ull, USER32_CS, 0x202, 0x7ffe00, USER_DS);
    g.r.rsp = f;
    g.r.rip = IRET_SITE;
    guest_gate(&g, 13, HANDLER(13), KERNEL_CS, 14, 0, 0, 1);
    CHECK_EQ(vam_iretq(&g.v, &g.r), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(13));                     /* #GP(0): rip beyond 4 GiB */
    CHECK_EQ(g.v.cpl, 0);
}

/* ---- syscall / sysretq ---------------------------------------------------------------- */

#define LSTAR 0xffffffff81600000ull
#define SYSRET_SITE 0xffffffff81600abcull

static void setup_syscall(void)
{
    setup();
    g.v.star = (uint64_t)USER32_CS << 48 | (uint64_t)KERNEL_CS << 32;   /* Linux's STAR */
    g.v.lstar = LSTAR;
    g.v.sfmask = 0x47700;                           /* TF DF IF IOPL AC NT */
}

static void syscall_from_user(void)
{
    setup_syscall();
    guest_to_user(&g, 0x400107, 0x7ffe58);          /* rip: after the syscall */
    vam_set_guest_rflags(&g.v, &g.r, 0x10646);      /* RF DF IF ZF PF */
    g.r.rcx = 0x1111;
    g.r.r11 = 0x2222;
    g.r.rax = 39;
    CHECK_EQ(vam_syscall(&g.v, &g.r), VAM_CPU_OK);
    CHECK_EQ(g.r.rcx, 0x400107);
    CHECK_EQ(g.r.r11, 0x646);
    CHECK_EQ(g.r.rip, LSTAR);
    CHECK_EQ(g.r.rsp, 0x7ffe58);                    /* syscall switches no stack */
    CHECK_EQ(g.r.rax, 39);
    CHECK_EQ(g.v.cpl, 0);
    CHECK_EQ(g.fixed.sel[VAM_SEG_CS], KERNEL_CS);
    CHECK_EQ(g.fixed.sel[VAM_SEG_SS], KERNEL_DS);
    CHECK_EQ(g.r.cs, BE_KCS);
    CHECK(!vam_vcpu_if(&g.v));
    CHECK_EQ(vam_guest_rflags(&g.v, &g.r), 0x46);
    CHECK_EQ(g.r.rflags, 0x246);
    /* and back with sysretq */
    g.r.rip = SYSRET_SITE;
    g.r.rax = 0;
    g.r.r11 |= 0x10000;                             /* RF is never restored */
    CHECK_EQ(vam_sysretq(&g.v, &g.r), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, 0x400107);
    CHECK_EQ(g.v.cpl, 3);
    CHECK_EQ(g.fixed.sel[VAM_SEG_CS], USER_CS);
    CHECK_EQ(g.fixed.sel[VAM_SEG_SS], USER_DS);
    CHECK_EQ(g.r.cs, BE_UCS);
    CHECK_EQ(g.r.ss, BE_SS);
    CHECK(vam_vcpu_if(&g.v));
    CHECK_EQ(vam_guest_rflags(&g.v, &g.r), 0x646);
    CHECK_EQ(g.r.rsp, 0x7ffe58);
}

static void syscall_sysret_faults(void)
{
    /* syscall without EFER.SCE: #UD at the syscall instruction */
    setup_syscall();
    g.v.efer &= ~X86_EFER_SCE;
    guest_to_user(&g, 0x400107, 0x7ffe58);
    CHECK_EQ(vam_syscall(&g.v, &g.r), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(6));
    CHECK_EQ(gva_rd64(&g, g.r.rsp), 0x400105);
    CHECK_EQ(gva_rd64(&g, g.r.rsp + 8), USER_CS);
    /* sysretq with a non-canonical rcx: #GP(0) in the kernel, at the sysret */
    setup_syscall();
    g.r.rip = SYSRET_SITE;
    g.r.rcx = 0x0000800000000000ull;
    uint64_t rsp = g.r.rsp;
    CHECK_EQ(vam_sysretq(&g.v, &g.r), VAM_CPU_OK);
    CHECK_EQ(g.v.cpl, 0);
    CHECK_EQ(g.r.rip, HANDLER(13));
    uint64_t want[] = {0, SYSRET_SITE, KERNEL_CS, 0x202, rsp, KERNEL_DS};
    check_frame(rsp - 48, want, 6);
    /* sysretq from CPL 3: #GP(0) */
    setup_syscall();
    guest_to_user(&g, 0x400200, 0x7ffe58);
    g.r.rcx = 0x400000;
    CHECK_EQ(vam_sysretq(&g.v, &g.r), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(13));
    CHECK_EQ(gva_rd64(&g, g.r.rsp + 8), 0x400200);
    /* without SCE: #UD */
    setup_syscall();
    g.v.efer &= ~X86_EFER_SCE;
    g.r.rcx = 0x400000;
    CHECK_EQ(vam_sysretq(&g.v, &g.r), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(6));
}

const struct test_case inject_tests[] = {
    {"deliver_exception_without_error_code", exception_without_error_code},
    {"deliver_exception_with_error_code", exception_with_error_code},
    {"deliver_interrupt_vs_trap_gate", interrupt_vs_trap_gate},
    {"deliver_user_to_kernel_rsp0", user_to_kernel_via_rsp0},
    {"deliver_ist_stacks", ist_stacks},
    {"deliver_software_interrupt_dpl", software_interrupt_dpl},
    {"deliver_not_present_gate", not_present_gate},
    {"deliver_gate_code_segment_checks", gate_code_segment_checks},
    {"deliver_double_and_triple_fault", double_and_triple_fault},
    {"deliver_page_fault_while_pushing", page_fault_while_pushing},
    {"deliver_frame_across_pages", frame_across_pages},
    TEST_GROUP_END,
};

const struct test_case iret_tests[] = {
    {"iret_kernel_to_user", iret_kernel_to_user},
    {"iret_kernel_to_kernel", iret_kernel_to_kernel},
    {"iret_user_flags", iret_user_flags},
    {"iret_faults", iret_faults},
    TEST_GROUP_END,
};

const struct test_case syscall_tests[] = {
    {"syscall_sysret_roundtrip", syscall_from_user},
    {"syscall_sysret_faults", syscall_sysret_faults},
    TEST_GROUP_END,
};
