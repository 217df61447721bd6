/*
 * Guest state builder for the vam/cpu tests (guest.h).
 */
#include "guest.h"
#include "fake_backend.h"
#include "vam/desc.h"
#include "vam/walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t next_frame;

uint64_t gpa_rd64(uint64_t gpa)
{
    uint64_t x;
    memcpy(&x, fake_ram() + gpa, 8);
    return x;
}

void gpa_wr64(uint64_t gpa, uint64_t val)
{
    memcpy(fake_ram() + gpa, &val, 8);
}

void pt_reset(void)
{
    next_frame = 0x100000;
}

uint64_t pt_alloc(void)
{
    uint64_t f = next_frame;
    next_frame += 4096;
    if (next_frame > 0x400000) {
        fprintf(stderr, "page-table frames exhausted\n");
        abort();
    }
    memset(fake_ram() + f, 0, 4096);
    return f;
}

uint64_t pt_new_root(void)
{
    return pt_alloc();
}

void pt_map(uint64_t root, uint64_t va, uint64_t gpa, unsigned level, uint64_t leaf,
            uint64_t upper)
{
    uint64_t table = root;
    for (unsigned l = 4; l > level; l--) {
        uint64_t ea = table + ((va >> (12 + 9 * (l - 1))) & 511) * 8;
        uint64_t e = gpa_rd64(ea);
        if (!(e & PTE_P)) {
            e = pt_alloc() | upper;
            gpa_wr64(ea, e);
        } else {
            e |= upper;
            gpa_wr64(ea, e);
        }
        table = e & 0x000ffffffffff000ull;
    }
    uint64_t ea = table + ((va >> (12 + 9 * (level - 1))) & 511) * 8;
    gpa_wr64(ea, gpa | leaf | (level > 1 ? PTE_PS : 0));
}

uint64_t pt_entry(uint64_t root, uint64_t va, unsigned level)
{
    uint64_t table = root;
    for (unsigned l = 4;; l--) {
        uint64_t ea = table + ((va >> (12 + 9 * (l - 1))) & 511) * 8;
        if (l == level)
            return ea;
        uint64_t e = gpa_rd64(ea);
        if (!(e & PTE_P))
            return 0;
        table = e & 0x000ffffffffff000ull;
    }
}

void guest_bare(struct guest *g)
{
    fake_reset(RAM_SIZE);
    pt_reset();
    memset(g, 0, sizeof *g);
    vam_vcpu_init(&g->v, &g->fixed);
    g->cr3 = pt_new_root();
    g->v.cr3 = g->cr3;
}

static void gdt_entry(unsigned sel, uint64_t d)
{
    gpa_wr64(KBASE_GPA + (sel & ~7u), d);
}

void guest_standard(struct guest *g)
{
    guest_bare(g);
    struct vam_vcpu *v = &g->v;
    v->efer |= X86_EFER_SCE | X86_EFER_NXE;
    v->cr4 |= X86_CR4_PGE;
    /* kernel data: 16 pages, supervisor, global, NX; IST2's page left out */
    for (uint64_t off = 0; off < 0x10000; off += 0x1000)
        if (off != 0xe000)
            pt_map(g->cr3, KBASE + off, KBASE_GPA + off, 1, PTE_P | PTE_RW | PTE_G | PTE_XD,
                   PTE_P | PTE_RW);
    for (uint64_t off = 0; off < 0x10000; off += 0x1000)
        pt_map(g->cr3, USER_BASE + off, USER_GPA + off, 1, PTE_P | PTE_RW | PTE_US,
               PTE_P | PTE_RW | PTE_US);
    pt_map(g->cr3, USTACK_TOP - 0x1000, USTACK_GPA, 1, PTE_P | PTE_RW | PTE_US | PTE_XD,
           PTE_P | PTE_RW | PTE_US);

    /* GDT, Linux's layout */
    gdt_entry(0x08, 0x00cf9b000000ffffull);    /* KERNEL32_CS */
    gdt_entry(KERNEL_CS, 0x00af9b000000ffffull);
    gdt_entry(KERNEL_DS, 0x00cf93000000ffffull);
    gdt_entry(USER32_CS, 0x00cffb000000ffffull);
    gdt_entry(USER_DS, 0x00cff3000000ffffull);
    gdt_entry(USER_CS, 0x00affb000000ffffull);
    /* TSS at 0x40: base TSS_VA, limit 0x67, type 9, present */
    uint64_t b = TSS_VA;
    gdt_entry(TSS_SEL, 0x67 | (b & 0xffffff) << 16 | 0x89ull << 40 | (b >> 24 & 0xff) << 56);
    gdt_entry(TSS_SEL + 8, b >> 32);
    /* LDT at 0x50: base LDT_VA, limit 0xf (two entries) */
    b = LDT_VA;
    gdt_entry(LDT_SEL, 0xf | (b & 0xffffff) << 16 | 0x82ull << 40 | (b >> 24 & 0xff) << 56);
    gdt_entry(LDT_SEL + 8, b >> 32);
    gdt_entry(DATA_DPL0_CS3, 0x00cf93000000ffffull);    /* another kernel data segment */
    gdt_entry(BAD_CS_NP, 0x002f9b000000ffffull & ~(1ull << 47));
    gdt_entry(CODE32_K, 0x00cf9b000000ffffull);
    v->gdtr.base = GDT_VA;
    v->gdtr.limit = 0x7f;
    v->idtr.base = IDT_VA;
    v->idtr.limit = 0xfff;

    /* TSS: RSP0, IST1 (misaligned on purpose), IST2 on an unmapped page */
    gpa_wr64(KBASE_GPA + 0x2000 + VAM_TSS_RSP(0), RSP0_TOP);
    gpa_wr64(KBASE_GPA + 0x2000 + VAM_TSS_IST(1), IST1_TOP - 8);
    gpa_wr64(KBASE_GPA + 0x2000 + VAM_TSS_IST(2), IST2_TOP);
    struct vam_event f;
    if (vam_load_tr(v, TSS_SEL, &f) != VAM_CPU_OK)
        abort();

    vam_vcpu_set_mode(v, &g->r, KERNEL_CS, KERNEL_DS);
    g->fixed.sel[VAM_SEG_DS] = KERNEL_DS;
    g->fixed.sel[VAM_SEG_ES] = KERNEL_DS;
    g->r.rip = 0xffffffff81234567ull;
    g->r.rsp = KSTACK_TOP - 0x100;
    vam_set_guest_rflags(v, &g->r, X86_RFLAGS_FIXED | X86_RFLAGS_IF);
}

void guest_gate(struct guest *g, unsigned vec, uint64_t target, uint16_t sel, unsigned type,
                unsigned dpl, unsigned ist, int present)
{
    uint64_t lo = (target & 0xffff) | (uint64_t)sel << 16 | (uint64_t)ist << 32 |
                  (uint64_t)type << 40 | (uint64_t)dpl << 45 | (uint64_t)(present ? 1 : 0) << 47 |
                  (target >> 16 & 0xffff) << 48;
    uint64_t hi = target >> 32;
    gpa_wr64(KBASE_GPA + 0x1000 + 16 * vec, lo);
    gpa_wr64(KBASE_GPA + 0x1000 + 16 * vec + 8, hi);
    (void)g;
}

void guest_all_gates(struct guest *g)
{
    for (unsigned v = 0; v < 256; v++)
        guest_gate(g, v, HANDLER(v), KERNEL_CS, 14, 0, 0, 1);
}

void guest_to_user(struct guest *g, uint64_t rip, uint64_t rsp)
{
    vam_vcpu_set_mode(&g->v, &g->r, USER_CS, USER_DS);
    g->fixed.sel[VAM_SEG_DS] = USER_DS;
    g->fixed.sel[VAM_SEG_ES] = USER_DS;
    g->r.rip = rip;
    g->r.rsp = rsp;
}

uint64_t gva_rd64(struct guest *g, uint64_t va)
{
    uint64_t x = 0;
    struct vam_walk w;
    if (vam_gva_read(&g->v, va, &x, 8, VAM_ACC_READ, &w) != VAM_WALK_OK) {
        fprintf(stderr, "gva_rd64 %#llx failed\n", (unsigned long long)va);
        abort();
    }
    return x;
}

void gva_wr64(struct guest *g, uint64_t va, uint64_t val)
{
    struct vam_walk w;
    if (vam_gva_write(&g->v, va, &val, 8, VAM_ACC_READ, &w) != VAM_WALK_OK) {
        fprintf(stderr, "gva_wr64 %#llx failed\n", (unsigned long long)va);
        abort();
    }
}
