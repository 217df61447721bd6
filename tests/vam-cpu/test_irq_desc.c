/*
 * Pending interrupts and the delivery decision (vam/cpu/vcpu.c,
 * vam_irq_deliver), vCPU bookkeeping, and the LDTR/TR loads (desc.c).
 */
#include "fake_backend.h"
#include "guest.h"
#include "test.h"
#include "vam/desc.h"
#include "vam/inject.h"

#include <string.h>

static struct guest g;

static void setup(void)
{
    guest_standard(&g);
    guest_all_gates(&g);
}

static void pending_bitmap(void)
{
    setup();
    CHECK_EQ(vam_irq_highest(&g.v), -1);
    CHECK_EQ(g.fixed.irq_pending, 0);
    vam_irq_raise(&g.v, 0x30);
    vam_irq_raise(&g.v, 0x81);
    vam_irq_raise(&g.v, 0xef);
    vam_irq_raise(&g.v, 0xef);
    CHECK_EQ(g.fixed.irq_pending, 1);
    CHECK(vam_irq_is_pending(&g.v, 0x81));
    CHECK(!vam_irq_is_pending(&g.v, 0x80));
    CHECK_EQ(vam_irq_highest(&g.v), 0xef);
    CHECK_EQ(g.v.irq_pending[3], 1ull << (0xef - 192));
    vam_irq_clear(&g.v, 0xef);
    CHECK_EQ(vam_irq_highest(&g.v), 0x81);
    vam_irq_clear(&g.v, 0x81);
    vam_irq_clear(&g.v, 0x30);
    CHECK_EQ(vam_irq_highest(&g.v), -1);
    CHECK_EQ(g.fixed.irq_pending, 0);
    vam_irq_raise(&g.v, 0);
    vam_irq_raise(&g.v, 255);
    CHECK_EQ(vam_irq_highest(&g.v), 255);
}

static void deliverable_decision(void)
{
    setup();
    vam_irq_raise(&g.v, 0x30);
    vam_irq_raise(&g.v, 0xe1);
    vam_set_guest_rflags(&g.v, &g.r, 0x2);
    CHECK_EQ(vam_irq_deliverable(&g.v), -1);        /* IF = 0 */
    vam_set_guest_rflags(&g.v, &g.r, 0x202);
    CHECK_EQ(vam_irq_deliverable(&g.v), 0xe1);
    g.v.irq_shadow = true;                          /* sti; <here> */
    CHECK_EQ(vam_irq_deliverable(&g.v), -1);
    g.v.irq_shadow = false;
    vam_vcpu_emul_enter(&g.v);                      /* inside an emulated instruction */
    CHECK_EQ(vam_irq_deliverable(&g.v), -1);
    vam_vcpu_emul_enter(&g.v);
    vam_vcpu_emul_leave(&g.v);
    CHECK_EQ(vam_irq_deliverable(&g.v), -1);
    vam_vcpu_emul_leave(&g.v);
    CHECK_EQ(vam_irq_deliverable(&g.v), 0xe1);
    /* TPR: class 0xe is not above CR8 = 14; a higher class would be */
    g.v.cr8 = 14;
    CHECK_EQ(vam_irq_deliverable(&g.v), -1);
    vam_irq_raise(&g.v, 0xf2);
    CHECK_EQ(vam_irq_deliverable(&g.v), 0xf2);
    g.v.cr8 = 3;
    vam_irq_clear(&g.v, 0xf2);
    CHECK_EQ(vam_irq_deliverable(&g.v), 0xe1);
}

static void deliver_at_boundary(void)
{
    setup();
    uint64_t rip = g.r.rip, rsp = g.r.rsp;
    vam_irq_raise(&g.v, 0x30);
    vam_irq_raise(&g.v, 0x31);
    /* not at a boundary: nothing happens, registers untouched */
    vam_vcpu_emul_enter(&g.v);
    CHECK_EQ(vam_irq_deliver(&g.v, &g.r), VAM_CPU_NONE);
    CHECK_EQ(g.r.rip, rip);
    CHECK(vam_irq_is_pending(&g.v, 0x31));
    vam_vcpu_emul_leave(&g.v);
    /* at the boundary: the highest, through its gate, bit cleared */
    CHECK_EQ(vam_irq_deliver(&g.v, &g.r), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(0x31));
    CHECK(!vam_irq_is_pending(&g.v, 0x31));
    CHECK(vam_irq_is_pending(&g.v, 0x30));
    CHECK_EQ(gva_rd64(&g, g.r.rsp), rip);
    CHECK_EQ(gva_rd64(&g, g.r.rsp + 16), 0x202);
    CHECK_EQ(gva_rd64(&g, g.r.rsp + 24), rsp);
    /* the interrupt gate cleared IF: the next one waits */
    CHECK_EQ(vam_irq_deliver(&g.v, &g.r), VAM_CPU_NONE);
    CHECK_EQ(g.fixed.irq_pending, 1);
}

static void vcpu_state(void)
{
    struct vam_vcpu v;
    struct vam_fixed f;
    memset(&f, 0xff, sizeof f);
    vam_vcpu_init(&v, &f);
    CHECK_EQ(v.cpl, 0);
    CHECK_EQ(f.rflags, 0x2);
    CHECK_EQ(f.irq_pending, 0);
    CHECK_EQ(f.sel[VAM_SEG_CS], 0);
    CHECK_EQ(f.entry[1], ~0ull);                /* the entry table is not the vCPU's */
    CHECK_EQ(f.jump[0], ~0ull);
    CHECK_EQ(v.cr0, 0x80010033);          /* PE MP ET NE WP PG */
    CHECK_EQ(v.cr4, X86_CR4_PAE);
    CHECK_EQ(v.efer, X86_EFER_LME | X86_EFER_LMA);
    CHECK_EQ(v.pat, 0x0007040600070406ull);
    CHECK_EQ(v.maxphyaddr, 52);
    /* RFLAGS split: virtual IF/IOPL, hardware the rest with IF on */
    struct vam_regs r = {0};
    vam_set_guest_rflags(&v, &r, 0x3ed5 | X86_RFLAGS_VM | X86_RFLAGS_RF);
    CHECK_EQ(f.rflags, 0x3ed7);                 /* IF, IOPL 3; no VM; RF not in pushf's word */
    CHECK_EQ(r.rflags, 0x10ed7);                /* IF forced on, IOPL 0, RF kept */
    CHECK_EQ(vam_guest_rflags(&v, &r), 0x13ed7);
    vam_set_guest_rflags(&v, &r, 0x2);
    CHECK_EQ(r.rflags, 0x202);
    CHECK(!vam_vcpu_if(&v));
    /* the rewritten cli/sti flip the byte of the fixed area directly */
    ((uint8_t *)&f)[VAM_OFF_IF_BYTE] |= VAM_IF_BYTE_MASK;
    CHECK(vam_vcpu_if(&v));
    /* modes and back-end selectors */
    vam_vcpu_set_backend_selectors(&v, 0xe030, 0xe02b, 0xe033, 0xe02b);
    vam_vcpu_set_mode(&v, &r, 0x33, 0x2b);
    CHECK_EQ(v.cpl, 3);
    CHECK_EQ(r.cs, 0xe033);
    CHECK_EQ(f.sel[VAM_SEG_CS], 0x33);
    CHECK(vam_vcpu_mode_consistent(&v, &r));
    r.cs = 0xe030;
    CHECK(!vam_vcpu_mode_consistent(&v, &r));
    /* guest-physical window */
    fake_reset(RAM_SIZE);
    CHECK(vam_gpa_ptr(&v, RAM_SIZE - 8, 8) == fake_ram() + RAM_SIZE - 8);
    CHECK(vam_gpa_ptr(&v, RAM_SIZE - 8, 9) == NULL);
    CHECK_EQ(v.bad_gpa, RAM_SIZE - 8);
    CHECK(vam_gpa_ptr(&v, ~0ull, 1) == NULL);
    CHECK(vam_canonical(0x00007fffffffffffull) && vam_canonical(0xffff800000000000ull));
    CHECK(!vam_canonical(0x0000800000000000ull));
}

static void load_tr(void)
{
    setup();                                        /* guest_standard loaded TR already */
    CHECK_EQ(g.v.tr, TSS_SEL);
    CHECK_EQ(g.v.tss_base, TSS_VA);
    CHECK_EQ(g.v.tss_limit, 0x67);
    /* marked busy (type 11) in the GDT */
    CHECK_EQ((gpa_rd64(KBASE_GPA + TSS_SEL) >> 40) & 0xf, 11);
    struct vam_event f;
    /* a busy TSS cannot be loaded again */
    CHECK_EQ(vam_load_tr(&g.v, TSS_SEL, &f), VAM_CPU_NONE);
    CHECK_EQ(f.vector, X86_EXC_GP);
    CHECK_EQ(f.error_code, TSS_SEL);
    /* not present: #NP(sel) */
    gpa_wr64(KBASE_GPA + TSS_SEL, gpa_rd64(KBASE_GPA + TSS_SEL) & ~(0x2ull << 40) & ~(1ull << 47));
    CHECK_EQ(vam_load_tr(&g.v, TSS_SEL, &f), VAM_CPU_NONE);
    CHECK_EQ(f.vector, X86_EXC_NP);
    CHECK_EQ(f.error_code, TSS_SEL);
    /* null, LDT selector, a data segment, beyond the limit, CPL 3 */
    CHECK_EQ(vam_load_tr(&g.v, 0, &f), VAM_CPU_NONE);
    CHECK_EQ(f.error_code, 0);
    CHECK_EQ(vam_load_tr(&g.v, TSS_SEL | 4, &f), VAM_CPU_NONE);
    CHECK_EQ(f.error_code, TSS_SEL | 4);
    CHECK_EQ(vam_load_tr(&g.v, KERNEL_DS, &f), VAM_CPU_NONE);
    CHECK_EQ(f.error_code, KERNEL_DS);
    CHECK_EQ(vam_load_tr(&g.v, 0x78, &f), VAM_CPU_NONE);      /* 16 bytes from 0x78 > 0x7f */
    CHECK_EQ(f.vector, X86_EXC_GP);
    CHECK_EQ(f.error_code, 0x78);
    g.v.cpl = 3;
    CHECK_EQ(vam_load_tr(&g.v, TSS_SEL, &f), VAM_CPU_NONE);
    CHECK_EQ(f.error_code, 0);
    /* the TSS slots */
    setup();
    uint64_t val = 0;
    CHECK_EQ(vam_tss_read(&g.v, VAM_TSS_RSP(0), &val, &f, false), VAM_DESC_OK);
    CHECK_EQ(val, RSP0_TOP);
    CHECK_EQ(vam_tss_read(&g.v, VAM_TSS_IST(1), &val, &f, false), VAM_DESC_OK);
    CHECK_EQ(val, IST1_TOP - 8);
    g.v.tss_limit = 0x2b;                          /* IST1 at 0x24..0x2b fits, IST2 does not */
    CHECK_EQ(vam_tss_read(&g.v, VAM_TSS_IST(1), &val, &f, true), VAM_DESC_OK);
    CHECK_EQ(vam_tss_read(&g.v, VAM_TSS_IST(2), &val, &f, true), VAM_DESC_FAULT);
    CHECK_EQ(f.vector, X86_EXC_TS);
    CHECK_EQ(f.error_code, TSS_SEL | 1);
    /* delivery through a gate with IST2 then raises #TS(tr+EXT) */
    guest_gate(&g, 0x40, HANDLER(0x40), KERNEL_CS, 14, 0, 2, 1);
    struct vam_event ev = {.kind = VAM_EV_EXTINT, .vector = 0x40};
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(10));
    CHECK_EQ(gva_rd64(&g, g.r.rsp), TSS_SEL | 1);
}

static void load_ldtr_and_ldt_selectors(void)
{
    setup();
    struct vam_event f;
    uint64_t d = 0;
    /* no LDT: every LDT selector is beyond the limit */
    CHECK_EQ(vam_desc_read(&g.v, 0x4, &d, &f, false), VAM_DESC_LIMIT);
    CHECK_EQ(vam_load_ldtr(&g.v, LDT_SEL, &f), VAM_CPU_OK);
    CHECK_EQ(g.v.ldtr, LDT_SEL);
    CHECK_EQ(g.v.ldt_base, LDT_VA);
    CHECK_EQ(g.v.ldt_limit, 0xf);
    gpa_wr64(KBASE_GPA + 0x3008, 0x00affb000000ffffull);     /* LDT entry 1: 64-bit user code */
    CHECK_EQ(vam_desc_read(&g.v, 0x0f, &d, &f, false), VAM_DESC_OK);
    CHECK_EQ(d, 0x00affb000000ffffull);
    CHECK_EQ(vam_desc_read(&g.v, 0x14, &d, &f, false), VAM_DESC_LIMIT);
    /* a gate may use it */
    guest_gate(&g, 0x41, HANDLER(0x41), 0x0c, 14, 0, 0, 1);    /* LDT entry 1, RPL 0 */
    gpa_wr64(KBASE_GPA + 0x3008, 0x00af9b000000ffffull);      /* now kernel code */
    struct vam_event ev = {.kind = VAM_EV_EXTINT, .vector = 0x41};
    CHECK_EQ(vam_deliver(&g.v, &g.r, &ev), VAM_CPU_OK);
    CHECK_EQ(g.r.rip, HANDLER(0x41));
    CHECK_EQ(g.fixed.sel[VAM_SEG_CS], 0x0c);
    /* null: unusable */
    CHECK_EQ(vam_load_ldtr(&g.v, 0, &f), VAM_CPU_OK);
    CHECK_EQ(g.v.ldtr, 0);
    /* wrong type */
    CHECK_EQ(vam_load_ldtr(&g.v, KERNEL_CS, &f), VAM_CPU_NONE);
    CHECK_EQ(f.vector, X86_EXC_GP);
    CHECK_EQ(f.error_code, KERNEL_CS);
    /* a GDT whose page is unmapped: #PF from the read */
    g.v.gdtr.base = KBASE + 0xe000;
    CHECK_EQ(vam_load_ldtr(&g.v, LDT_SEL, &f), VAM_CPU_NONE);
    CHECK_EQ(f.vector, X86_EXC_PF);
    CHECK_EQ(f.cr2, KBASE + 0xe000 + LDT_SEL);
    CHECK_EQ(f.error_code, 0);
}

const struct test_case irq_tests[] = {
    {"irq_pending_bitmap", pending_bitmap},
    {"irq_deliverable_decision", deliverable_decision},
    {"irq_deliver_at_boundary", deliver_at_boundary},
    TEST_GROUP_END,
};

const struct test_case desc_tests[] = {
    {"vcpu_state_and_rflags", vcpu_state},
    {"desc_load_tr_and_tss", load_tr},
    {"desc_load_ldtr", load_ldtr_and_ldt_selectors},
    TEST_GROUP_END,
};
