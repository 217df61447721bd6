/*
 * The guest page walk (vam/cpu/walk.c): sizes, faults at each level,
 * permissions with CR0.WP and EFER.NXE, reserved bits, accessed/dirty.
 */
#include "fake_backend.h"
#include "guest.h"
#include "test.h"
#include "vam/walk.h"

#include <string.h>

#define VA 0x00007f1234567abcull

static struct guest g;

static void setup(void)
{
    guest_bare(&g);
}

static void walk_4k(void)
{
    setup();
    pt_map(g.cr3, VA, 0x234000, 1, PTE_P | PTE_RW | PTE_US, PTE_P | PTE_RW | PTE_US);
    struct vam_walk w;
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_READ, &w), VAM_WALK_OK);
    CHECK_EQ(w.gpa, 0x234abc);
    CHECK_EQ(w.page_gpa, 0x234000);
    CHECK_EQ(w.page_size, 4096);
    CHECK(w.writable && w.user && !w.nx && !w.global && !w.dirty);
    /* A set at every level, D nowhere after a read */
    for (unsigned l = 4; l >= 1; l--) {
        uint64_t e = gpa_rd64(pt_entry(g.cr3, VA, l));
        CHECK(e & PTE_A);
        CHECK(!(e & PTE_D));
    }
}

static void walk_write_sets_dirty(void)
{
    setup();
    pt_map(g.cr3, VA, 0x234000, 1, PTE_P | PTE_RW, PTE_P | PTE_RW);
    struct vam_walk w;
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_WRITE, &w), VAM_WALK_OK);
    CHECK(w.dirty);
    CHECK_EQ(gpa_rd64(pt_entry(g.cr3, VA, 1)), 0x234000 | PTE_P | PTE_RW | PTE_A | PTE_D);
    for (unsigned l = 4; l >= 2; l--) {
        uint64_t e = gpa_rd64(pt_entry(g.cr3, VA, l));
        CHECK(e & PTE_A);
        CHECK(!(e & PTE_D));     /* D exists only in the leaf */
    }
    /* a second write leaves the entry as it is */
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_WRITE, &w), VAM_WALK_OK);
    CHECK_EQ(gpa_rd64(pt_entry(g.cr3, VA, 1)), 0x234000 | PTE_P | PTE_RW | PTE_A | PTE_D);
}

static void walk_2m(void)
{
    setup();
    uint64_t va = 0xffff888000000000ull + 0x40000000ull + 0x123456;     /* in a 2 MiB page */
    pt_map(g.cr3, va, 0x600000, 2, PTE_P | PTE_RW | PTE_G, PTE_P | PTE_RW);
    struct vam_walk w;
    CHECK_EQ(vam_walk(&g.v, va, VAM_ACC_WRITE, &w), VAM_WALK_OK);
    CHECK_EQ(w.page_size, 2ull << 20);
    CHECK_EQ(w.page_gpa, 0x600000);
    CHECK_EQ(w.gpa, 0x600000 + (va & 0x1fffff));
    CHECK(!w.global);            /* CR4.PGE is off */
    uint64_t pde = gpa_rd64(pt_entry(g.cr3, va, 2));
    CHECK_EQ(pde, 0x600000 | PTE_P | PTE_RW | PTE_G | PTE_PS | PTE_A | PTE_D);
    g.v.cr4 |= X86_CR4_PGE;
    CHECK_EQ(vam_walk(&g.v, va, VAM_ACC_READ, &w), VAM_WALK_OK);
    CHECK(w.global);
}

static void walk_1g(void)
{
    setup();
    uint64_t va = 0xffff888040000000ull + 0x0abcdef;
    pt_map(g.cr3, va, 0x0, 3, PTE_P | PTE_RW, PTE_P | PTE_RW);
    struct vam_walk w;
    CHECK_EQ(vam_walk(&g.v, va, VAM_ACC_READ, &w), VAM_WALK_OK);
    CHECK_EQ(w.page_size, 1ull << 30);
    CHECK_EQ(w.page_gpa, 0);
    CHECK_EQ(w.gpa, 0x0abcdef);
    CHECK_EQ(gpa_rd64(pt_entry(g.cr3, va, 3)), PTE_P | PTE_RW | PTE_PS | PTE_A);
    /* the PAT bit (12) of a large entry is not reserved, and not address */
    gpa_wr64(pt_entry(g.cr3, va, 3), PTE_P | PTE_RW | PTE_PS | 0x1000);
    CHECK_EQ(vam_walk(&g.v, va, VAM_ACC_READ, &w), VAM_WALK_OK);
    CHECK_EQ(w.gpa, 0x0abcdef);
}

/* not present at level 4, 3, 2, 1: error code without P, with the access bits */
static void walk_not_present_each_level(void)
{
    for (unsigned level = 4; level >= 1; level--) {
        setup();
        g.v.efer |= X86_EFER_NXE;
        pt_map(g.cr3, VA, 0x234000, 1, PTE_P | PTE_RW | PTE_US, PTE_P | PTE_RW | PTE_US);
        uint64_t ea = pt_entry(g.cr3, VA, level);
        gpa_wr64(ea, gpa_rd64(ea) & ~PTE_P);
        struct vam_walk w;
        CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_READ, &w), VAM_WALK_FAULT);
        CHECK_EQ(w.error_code, 0);
        CHECK_EQ(w.va, VA);
        CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_WRITE, &w), VAM_WALK_FAULT);
        CHECK_EQ(w.error_code, X86_PF_W);
        CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_WRITE | VAM_ACC_USER, &w), VAM_WALK_FAULT);
        CHECK_EQ(w.error_code, X86_PF_W | X86_PF_U);
        CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_FETCH | VAM_ACC_USER, &w), VAM_WALK_FAULT);
        CHECK_EQ(w.error_code, X86_PF_U | X86_PF_I);
        /* without NXE the I bit is not reported */
        g.v.efer &= ~X86_EFER_NXE;
        CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_FETCH | VAM_ACC_USER, &w), VAM_WALK_FAULT);
        CHECK_EQ(w.error_code, X86_PF_U);
        /* a faulting walk sets no accessed bit */
        for (unsigned l = 4; l > level; l--)
            CHECK(!(gpa_rd64(pt_entry(g.cr3, VA, l)) & PTE_A));
    }
}

/* R/W and U/S at a given level, CR0.WP on and off */
static void walk_rw_us(void)
{
    for (unsigned level = 4; level >= 1; level--) {
        setup();
        pt_map(g.cr3, VA, 0x234000, 1, PTE_P | PTE_RW | PTE_US, PTE_P | PTE_RW | PTE_US);
        uint64_t ea = pt_entry(g.cr3, VA, level);
        gpa_wr64(ea, gpa_rd64(ea) & ~PTE_RW);
        struct vam_walk w;
        /* supervisor write to read-only: faults with WP, allowed without */
        g.v.cr0 |= X86_CR0_WP;
        CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_WRITE, &w), VAM_WALK_FAULT);
        CHECK_EQ(w.error_code, X86_PF_P | X86_PF_W);
        g.v.cr0 &= ~X86_CR0_WP;
        CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_WRITE, &w), VAM_WALK_OK);
        CHECK(!w.writable);
        CHECK(w.dirty);          /* a write sets D even through a read-only entry */
        /* user write to read-only faults whatever WP says */
        CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_WRITE | VAM_ACC_USER, &w), VAM_WALK_FAULT);
        CHECK_EQ(w.error_code, X86_PF_P | X86_PF_W | X86_PF_U);
        CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_READ | VAM_ACC_USER, &w), VAM_WALK_OK);

        /* U/S = 0 at this level: user accesses fault, supervisor ones don't */
        gpa_wr64(ea, (gpa_rd64(ea) | PTE_RW) & ~PTE_US);
        g.v.cr0 |= X86_CR0_WP;
        CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_READ | VAM_ACC_USER, &w), VAM_WALK_FAULT);
        CHECK_EQ(w.error_code, X86_PF_P | X86_PF_U);
        CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_WRITE | VAM_ACC_USER, &w), VAM_WALK_FAULT);
        CHECK_EQ(w.error_code, X86_PF_P | X86_PF_W | X86_PF_U);
        CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_WRITE, &w), VAM_WALK_OK);
        CHECK(!w.user && w.writable);
    }
}

static void walk_nx(void)
{
    setup();
    g.v.efer |= X86_EFER_NXE;
    pt_map(g.cr3, VA, 0x234000, 1, PTE_P | PTE_RW | PTE_US, PTE_P | PTE_RW | PTE_US);
    uint64_t pde = pt_entry(g.cr3, VA, 2);
    gpa_wr64(pde, gpa_rd64(pde) | PTE_XD);          /* XD in an upper level */
    struct vam_walk w;
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_READ, &w), VAM_WALK_OK);
    CHECK(w.nx);
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_FETCH, &w), VAM_WALK_FAULT);
    CHECK_EQ(w.error_code, X86_PF_P | X86_PF_I);
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_FETCH | VAM_ACC_USER, &w), VAM_WALK_FAULT);
    CHECK_EQ(w.error_code, X86_PF_P | X86_PF_U | X86_PF_I);
    /* executable page: fetch fine */
    gpa_wr64(pde, gpa_rd64(pde) & ~PTE_XD);
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_FETCH | VAM_ACC_USER, &w), VAM_WALK_OK);
    CHECK(!w.nx);
    /* without NXE, XD is a reserved bit */
    gpa_wr64(pde, gpa_rd64(pde) | PTE_XD);
    g.v.efer &= ~X86_EFER_NXE;
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_READ, &w), VAM_WALK_FAULT);
    CHECK_EQ(w.error_code, X86_PF_P | X86_PF_RSVD);
    /* and fetches of pages without XD are allowed, I not reported */
    gpa_wr64(pde, gpa_rd64(pde) & ~PTE_XD);
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_FETCH, &w), VAM_WALK_OK);
}

static void walk_reserved(void)
{
    struct vam_walk w;
    /* address bits above maxphyaddr */
    setup();
    g.v.maxphyaddr = 40;
    pt_map(g.cr3, VA, 0x234000, 1, PTE_P | PTE_RW | PTE_US, PTE_P | PTE_RW | PTE_US);
    uint64_t pte = pt_entry(g.cr3, VA, 1);
    gpa_wr64(pte, gpa_rd64(pte) | 1ull << 45);
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_WRITE | VAM_ACC_USER, &w), VAM_WALK_FAULT);
    CHECK_EQ(w.error_code, X86_PF_P | X86_PF_RSVD | X86_PF_W | X86_PF_U);
    /* with a 52-bit physical address width the bit is an address bit: outside RAM */
    g.v.maxphyaddr = 52;
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_READ, &w), VAM_WALK_BAD_GPA);
    CHECK_EQ(g.v.bad_gpa, (1ull << 45) | 0x234abc);

    /* PS in a PML4E; reported even though the lower levels are absent */
    setup();
    gpa_wr64(g.cr3 + ((VA >> 39) & 511) * 8, pt_alloc() | PTE_P | PTE_RW | PTE_PS);
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_READ, &w), VAM_WALK_FAULT);
    CHECK_EQ(w.error_code, X86_PF_P | X86_PF_RSVD);

    /* reserved low bits of a 2 MiB and of a 1 GiB entry */
    setup();
    pt_map(g.cr3, VA, 0x600000 | 1ull << 13, 2, PTE_P | PTE_RW, PTE_P | PTE_RW);
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_READ, &w), VAM_WALK_FAULT);
    CHECK_EQ(w.error_code, X86_PF_P | X86_PF_RSVD);
    setup();
    pt_map(g.cr3, VA, 1ull << 20, 3, PTE_P | PTE_RW, PTE_P | PTE_RW);
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_FETCH, &w), VAM_WALK_FAULT);
    CHECK_EQ(w.error_code, X86_PF_P | X86_PF_RSVD);      /* no I without NXE */

    /* 1 GiB pages not offered: PS in a PDPTE is reserved */
    setup();
    uint64_t va1g = 0x00007f1200000abcull;          /* offset 0xabc in its 1 GiB page */
    pt_map(g.cr3, va1g, 0, 3, PTE_P | PTE_RW, PTE_P | PTE_RW);
    CHECK_EQ(vam_walk(&g.v, va1g, VAM_ACC_READ, &w), VAM_WALK_OK);
    CHECK_EQ(w.gpa, 0xabc);
    g.v.gbpages = false;
    CHECK_EQ(vam_walk(&g.v, va1g, VAM_ACC_READ, &w), VAM_WALK_FAULT);
    CHECK_EQ(w.error_code, X86_PF_P | X86_PF_RSVD);

    /* a not-present entry's other bits are never checked */
    setup();
    g.v.maxphyaddr = 40;
    pt_map(g.cr3, VA, 0x234000, 1, PTE_P | PTE_RW, PTE_P | PTE_RW);
    pte = pt_entry(g.cr3, VA, 1);
    gpa_wr64(pte, 0xffffffffffffff00ull);            /* inverted PFN, P = 0 (Linux L1TF) */
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_READ, &w), VAM_WALK_FAULT);
    CHECK_EQ(w.error_code, 0);
}

static void walk_global(void)
{
    setup();
    pt_map(g.cr3, VA, 0x234000, 1, PTE_P | PTE_G, PTE_P);
    struct vam_walk w;
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_READ, &w), VAM_WALK_OK);
    CHECK(!w.global);
    g.v.cr4 |= X86_CR4_PGE;
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_READ, &w), VAM_WALK_OK);
    CHECK(w.global);
    /* G in an upper level means nothing */
    pt_map(g.cr3, VA + 0x1000, 0x235000, 1, PTE_P, PTE_P | PTE_G);
    CHECK_EQ(vam_walk(&g.v, VA + 0x1000, VAM_ACC_READ, &w), VAM_WALK_OK);
    CHECK(!w.global);
}

static void walk_noncanonical_and_bad_gpa(void)
{
    setup();
    struct vam_walk w;
    CHECK_EQ(vam_walk(&g.v, 0x0000800000000000ull, VAM_ACC_READ, &w), VAM_WALK_NONCANONICAL);
    CHECK_EQ(vam_walk(&g.v, 0xffff7fffffffffffull, VAM_ACC_READ, &w), VAM_WALK_NONCANONICAL);
    /* a table beyond guest RAM */
    gpa_wr64(g.cr3 + ((VA >> 39) & 511) * 8, (RAM_SIZE + 0x1000) | PTE_P | PTE_RW);
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_READ, &w), VAM_WALK_BAD_GPA);
    CHECK_EQ(g.v.bad_gpa, RAM_SIZE + 0x1000 + ((VA >> 30) & 511) * 8);
    /* CR3 itself beyond RAM */
    g.v.cr3 = RAM_SIZE;
    CHECK_EQ(vam_walk(&g.v, VA, VAM_ACC_READ, &w), VAM_WALK_BAD_GPA);
}

static void gva_copies(void)
{
    setup();
    uint64_t va = 0x400ff8;       /* crosses from page 0x400000 into 0x401000 */
    pt_map(g.cr3, 0x400000, 0x300000, 1, PTE_P | PTE_RW, PTE_P | PTE_RW);
    pt_map(g.cr3, 0x401000, 0x500000, 1, PTE_P | PTE_RW, PTE_P | PTE_RW);
    uint8_t out[16], in[16];
    for (int i = 0; i < 16; i++)
        out[i] = (uint8_t)(0xa0 + i);
    struct vam_walk w;
    CHECK_EQ(vam_gva_write(&g.v, va, out, 16, VAM_ACC_READ, &w), VAM_WALK_OK);
    CHECK(memcmp(fake_ram() + 0x300ff8, out, 8) == 0);
    CHECK(memcmp(fake_ram() + 0x500000, out + 8, 8) == 0);
    CHECK(gpa_rd64(pt_entry(g.cr3, 0x401000, 1)) & PTE_D);
    CHECK_EQ(vam_gva_read(&g.v, va, in, 16, VAM_ACC_READ, &w), VAM_WALK_OK);
    CHECK(memcmp(in, out, 16) == 0);
    /* the second page read-only: the write faults at its first byte and
     * nothing is written to the first page */
    uint64_t pte2 = pt_entry(g.cr3, 0x401000, 1);
    gpa_wr64(pte2, gpa_rd64(pte2) & ~PTE_RW);
    memset(fake_ram() + 0x300ff8, 0, 8);
    CHECK_EQ(vam_gva_write(&g.v, va, out, 16, VAM_ACC_READ, &w), VAM_WALK_FAULT);
    CHECK_EQ(w.va, 0x401000);
    CHECK_EQ(w.error_code, X86_PF_P | X86_PF_W);
    CHECK_EQ(gpa_rd64(0x300ff8), 0);
}

const struct test_case walk_tests[] = {
    {"walk_4k", walk_4k},
    {"walk_write_sets_dirty", walk_write_sets_dirty},
    {"walk_2m", walk_2m},
    {"walk_1g", walk_1g},
    {"walk_not_present_each_level", walk_not_present_each_level},
    {"walk_rw_us_wp", walk_rw_us},
    {"walk_nx_nxe", walk_nx},
    {"walk_reserved_bits", walk_reserved},
    {"walk_global", walk_global},
    {"walk_noncanonical_and_bad_gpa", walk_noncanonical_and_bad_gpa},
    {"gva_copies_across_pages", gva_copies},
    TEST_GROUP_END,
};
