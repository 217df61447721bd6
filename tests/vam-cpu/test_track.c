/*
 * Page-table tracking in the shadow (vam/cpu/shadow.c, shadow.h
 * "Page-table tracking"): with vam_shadow_track_enable, a CR3 switch keeps
 * the translations of the pair it activates, and the guest's reported
 * page-table writes remove exactly what they invalidate: a used PTE its one
 * translation (in every pair that used it), a used upper-level entry all
 * of the pair's non-global translations (an inactive pair is given back
 * whole), an unused entry nothing.  Also the walker's record of the entries
 * it used (walk.c: levels, entry_gpa), the drain hook, lost writes, running
 * out of table records, and tables beyond the frame array.
 *
 * Every case checks the fake back end's spaces (what is really installed)
 * and its call log, not only the shadow's counters.
 */
#include "fake_backend.h"
#include "guest.h"
#include "test.h"
#include "vam/inject.h"
#include "vam/shadow.h"
#include "vam/walk.h"

static struct guest g;
static struct vam_shadow sh;
static struct vam_shadow_table tables[256];
static uint32_t frames[RAM_SIZE >> 12];         /* per guest frame: its records */

#define KVA   0xffffffff81400000ull     /* kernel page, global, gpa 0x234000 */
#define KVA_N 0xffffffff81402000ull     /* kernel page, not global, gpa 0x238000 */
#define UVA   0x0000000000601000ull     /* user pages, gpa 0x235000 + n * 0x1000 */
#define UVA2  (UVA + 0x1000)            /* same PTE table as UVA */
#define UVA_UNUSED (UVA + 0x5000)       /* same PTE table, mapped, never filled */
#define FAR_UVA 0x0000000040000000ull   /* user page in another PDPT entry, gpa 0x23a000 */

static uint64_t cr3a, cr3b;

/* Guest with two address spaces A and B (B shares nothing with A but the
 * global kernel page); `max_pairs` pairs; tracking on with `ntables` records
 * (0: off) and a frame array covering all of guest RAM. */
static void setup_pairs(unsigned ntables, unsigned max_pairs)
{
    guest_bare(&g);
    g.v.efer |= X86_EFER_NXE;
    g.v.cr4 |= X86_CR4_PGE;
    vam_shadow_init(&sh, max_pairs);
    if (ntables)
        vam_shadow_track_enable(&sh, tables, ntables, frames, RAM_SIZE >> 12);
    cr3a = g.cr3;
    cr3b = pt_new_root();
    uint64_t up = PTE_P | PTE_RW | PTE_US;
    const uint64_t roots[2] = {cr3a, cr3b};
    for (unsigned i = 0; i < 2; i++) {
        pt_map(roots[i], KVA, 0x234000, 1, PTE_P | PTE_RW | PTE_G, up);
        pt_map(roots[i], KVA_N, 0x238000, 1, PTE_P | PTE_RW, up);
    }
    for (uint64_t i = 0; i < 6; i++)
        pt_map(cr3a, UVA + i * 0x1000, 0x235000 + i * 0x1000, 1, up | PTE_XD, up);
    pt_map(cr3a, FAR_UVA, 0x23a000, 1, up | PTE_XD, up);
    pt_map(cr3b, UVA, 0x239000, 1, up | PTE_XD, up);
}

static void setup(unsigned ntables)
{
    setup_pairs(ntables, 4);
}

static int kspace(int pair)
{
    return sh.pair[pair].kernel;
}

static int uspace(int pair)
{
    return sh.pair[pair].user;
}

/* A fault taken and filled (CHECKed): cpl 3 fills the user space. */
static void fill(uint64_t va, unsigned cpl)
{
    struct vam_event ev = {0};
    g.v.cpl = cpl;
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, va, cpl == 3 ? X86_PF_U : 0, &ev), VAM_SHADOW_OK);
    g.v.cpl = 0;
}

static bool mapped(int space, uint64_t va)
{
    return fake_lookup(space, va, 0, 0);
}

/* A: pair 0 with UVA (user and kernel), UVA2 (user), KVA (global), KVA_N. */
static void fill_a(void)
{
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);
    fill(UVA, 3);
    fill(UVA, 0);
    fill(UVA2, 3);
    fill(KVA, 0);
    fill(KVA_N, 0);
}

/* walk.c reports the entries it used, PML4E first, for every page size. */
static void walk_entries(void)
{
    setup(0);
    pt_map(cr3a, 0xffff888000200000ull, 0x600000, 2, PTE_P | PTE_RW, PTE_P | PTE_RW);
    pt_map(cr3a, 0xffff888040000000ull, 0, 3, PTE_P | PTE_RW, PTE_P | PTE_RW);
    static const struct {
        uint64_t va;
        unsigned levels;
    } cases[] = {
        {UVA + 0x123, 4}, {KVA, 4}, {0xffff888000212345ull, 3}, {0xffff888041234567ull, 2},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct vam_walk w;
        CHECK_EQ(vam_walk(&g.v, cases[i].va, VAM_ACC_READ, &w), VAM_WALK_OK);
        CHECK_EQ(w.levels, cases[i].levels);
        for (unsigned k = 0; k < cases[i].levels && k < 4; k++)
            CHECK_EQ(w.entry_gpa[k], pt_entry(cr3a, cases[i].va, 4 - k));
    }
}

/* (1) A -> B -> A keeps A's translations with tracking; without, A's
 * non-global ones are flushed when it is activated again. */
static void switch_keeps(void)
{
    for (int tracking = 1; tracking >= 0; tracking--) {
        setup(tracking ? 256 : 0);
        fill_a();
        CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3b), VAM_SHADOW_OK);
        fill(UVA, 3);
        uint64_t kept = sh.switches_kept, fills = sh.fills;
        fake_clear_log();
        CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);
        CHECK_EQ(fake_active_user, uspace(0));
        CHECK_EQ(fake_count(FAKE_MAP), 0);
        CHECK(mapped(kspace(0), KVA));              /* global: kept either way */
        if (tracking) {
            CHECK_EQ(fake_count(FAKE_FLUSH), 0);
            CHECK_EQ(fake_count(FAKE_UNMAP), 0);
            CHECK(mapped(uspace(0), UVA));
            CHECK(mapped(uspace(0), UVA2));
            CHECK(mapped(kspace(0), UVA));
            CHECK(mapped(kspace(0), KVA_N));
            CHECK_EQ(sh.switches_kept, kept + 1);
        } else {
            CHECK_EQ(fake_count(FAKE_FLUSH), 2);
            CHECK(!fake_nth(FAKE_FLUSH, 0)->include_global);
            CHECK(!mapped(uspace(0), UVA));
            CHECK(!mapped(kspace(0), KVA_N));
            CHECK_EQ(sh.switches_kept, 0);
        }
        /* B, now inactive, was left alone either way */
        CHECK(mapped(uspace(1), UVA));
        CHECK_EQ(sh.fills, fills);
    }
}

/* (2) a write to a used PTE unmaps that one va, in both spaces of the pair
 * and in every pair that used the same PTE table; nothing else goes. */
static void pte_write_unmaps_one(void)
{
    setup(256);
    fill_a();
    fake_clear_log();
    vam_shadow_pt_written(&sh, pt_entry(cr3a, UVA, 1));
    CHECK_EQ(fake_count(FAKE_FLUSH), 0);
    CHECK_EQ(fake_count(FAKE_UNMAP), 2);
    CHECK_EQ(fake_nth(FAKE_UNMAP, 0)->va, UVA);
    CHECK_EQ(fake_nth(FAKE_UNMAP, 1)->va, UVA);
    CHECK(fake_nth(FAKE_UNMAP, 0)->space != fake_nth(FAKE_UNMAP, 1)->space);
    CHECK(!mapped(uspace(0), UVA));
    CHECK(!mapped(kspace(0), UVA));
    CHECK(mapped(uspace(0), UVA2));
    CHECK(mapped(kspace(0), KVA_N));
    CHECK(mapped(kspace(0), KVA));
    CHECK_EQ(sh.pt_writes, 1);
    CHECK_EQ(sh.pt_unmaps, 1);
    CHECK_EQ(sh.pt_pair_flushes, 0);
    /* the same entry again: its record was cleared, nothing to do */
    fake_clear_log();
    vam_shadow_pt_written(&sh, pt_entry(cr3a, UVA, 1));
    CHECK_EQ(fake_ncalls, 0);
    CHECK_EQ(sh.pt_unmaps, 1);
    /* a fill after the write is tracked again */
    fill(UVA, 3);
    vam_shadow_pt_written(&sh, pt_entry(cr3a, UVA, 1));
    CHECK(!mapped(uspace(0), UVA));
    CHECK_EQ(sh.pt_unmaps, 2);

    /* a PTE table shared by two address spaces (as the kernel's are): a
     * write while B is active unmaps the va in the inactive A as well */
    setup(256);
    uint64_t pdpt = gpa_rd64(pt_entry(cr3a, KVA_N, 4));
    gpa_wr64(pt_entry(cr3b, KVA_N, 4), pdpt);          /* B's kernel half = A's */
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);
    fill(KVA_N, 0);
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3b), VAM_SHADOW_OK);
    fill(KVA_N, 0);
    fill(UVA, 3);
    fake_clear_log();
    vam_shadow_pt_written(&sh, pt_entry(cr3b, KVA_N, 1));
    CHECK_EQ(fake_count(FAKE_UNMAP), 4);
    CHECK(!mapped(kspace(0), KVA_N));
    CHECK(!mapped(kspace(1), KVA_N));
    CHECK(mapped(uspace(1), UVA));
    CHECK_EQ(sh.pt_unmaps, 2);
    /* and A, activated again, is current without a flush */
    fake_clear_log();
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);
    CHECK_EQ(fake_count(FAKE_FLUSH), 0);
}

/* (3) writes to entries no fill used change nothing. */
static void unused_entry_nothing(void)
{
    setup(256);
    fill_a();
    unsigned sizes[2] = {fake_space_size(kspace(0)), fake_space_size(uspace(0))};
    fake_clear_log();
    const uint64_t gpas[] = {
        pt_entry(cr3a, UVA_UNUSED, 1),          /* mapped PTE of a page never touched */
        pt_entry(cr3a, KVA, 1),                 /* the PTE of a global translation */
        pt_entry(cr3a, 0x7f0000000000ull, 4),   /* a PML4E no walk went through */
        pt_entry(cr3a, FAR_UVA, 3),             /* a PDPTE no walk went through */
        0x235000,                               /* not a page table at all */
        pt_entry(cr3b, UVA, 1),                 /* a PTE of B, which has no pair yet */
    };
    for (unsigned i = 0; i < sizeof gpas / sizeof gpas[0]; i++) {
        CHECK(gpas[i] != 0);
        vam_shadow_pt_written(&sh, gpas[i]);
    }
    CHECK_EQ(fake_ncalls, 0);
    CHECK_EQ(fake_space_size(kspace(0)), sizes[0]);
    CHECK_EQ(fake_space_size(uspace(0)), sizes[1]);
    CHECK_EQ(sh.pt_writes, sizeof gpas / sizeof gpas[0]);
    CHECK_EQ(sh.pt_unmaps + sh.pt_pair_flushes, 0);
    /* without tracking, reported writes are ignored altogether */
    setup(0);
    fill_a();
    fake_clear_log();
    vam_shadow_pt_written(&sh, pt_entry(cr3a, UVA, 1));
    CHECK_EQ(fake_ncalls, 0);
    CHECK_EQ(sh.pt_writes, 0);
}

/* (4) a used upper-level entry flushes the pair's non-global translations
 * (only that pair's); so does the leaf PDE of a 2 MiB page, and a PTE table
 * that maps two ranges (its va is ambiguous). */
static void upper_write_flushes_pair(void)
{
    static const unsigned levels[] = {2, 3, 4};
    for (unsigned i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        setup(256);
        CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3b), VAM_SHADOW_OK);
        fill(UVA, 3);                               /* pair 0: B */
        fill_a();                                   /* pair 1: A */
        fake_clear_log();
        vam_shadow_pt_written(&sh, pt_entry(cr3a, UVA, levels[i]));
        CHECK_EQ(sh.pt_pair_flushes, 1);
        CHECK_EQ(sh.pt_unmaps, 0);
        CHECK_EQ(fake_count(FAKE_FLUSH), 2);
        CHECK_EQ(fake_nth(FAKE_FLUSH, 0)->space, kspace(1));
        CHECK_EQ(fake_nth(FAKE_FLUSH, 1)->space, uspace(1));
        CHECK(!fake_nth(FAKE_FLUSH, 0)->include_global);
        CHECK(!mapped(uspace(1), UVA2));
        CHECK(!mapped(kspace(1), KVA_N));
        CHECK(mapped(kspace(1), KVA));              /* global */
        CHECK(mapped(uspace(0), UVA));              /* B did not use A's tables */
        /* the records went with the translations: the same write again is free */
        fake_clear_log();
        vam_shadow_pt_written(&sh, pt_entry(cr3a, UVA, levels[i]));
        CHECK_EQ(fake_ncalls, 0);
        CHECK_EQ(sh.pt_pair_flushes, 1);
    }

    /* the same write while A is inactive: A's spaces are given back whole
     * (its process is being torn down); B is untouched, and A's CR3 later
     * gets a new, empty pair */
    setup(256);
    fill_a();                                       /* pair 0: A */
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3b), VAM_SHADOW_OK);
    fill(UVA, 3);                                   /* pair 1: B */
    int ka = kspace(0), ua = uspace(0);
    fake_clear_log();
    vam_shadow_pt_written(&sh, pt_entry(cr3a, UVA, 3));
    CHECK_EQ(sh.pt_pair_flushes, 1);
    CHECK_EQ(sh.pt_pairs_released, 1);
    CHECK_EQ(fake_count(FAKE_DESTROY), 2);
    CHECK(!fake_space_live(ka) && !fake_space_live(ua));
    CHECK(!sh.pair[0].used);
    CHECK(mapped(uspace(1), UVA));
    CHECK_EQ(fake_active_user, uspace(1));
    fake_clear_log();
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);
    CHECK_EQ(fake_count(FAKE_CREATE), 2);
    CHECK_EQ(fake_space_size(kspace(sh.active)), 0);
    CHECK_EQ(fake_space_size(uspace(sh.active)), 0);
    fill(UVA, 3);                                   /* and it is tracked again */
    vam_shadow_pt_written(&sh, pt_entry(cr3a, UVA, 1));
    CHECK(!mapped(uspace(sh.active), UVA));

    /* 2 MiB page: its PDE is the leaf, level 2 */
    setup(256);
    uint64_t big = 0xffff888000200000ull;
    pt_map(cr3a, big, 0x600000, 2, PTE_P | PTE_RW, PTE_P | PTE_RW);
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);
    fill(big + 0x3000, 0);
    fill(big + 0x7000, 0);
    fake_clear_log();
    vam_shadow_pt_written(&sh, pt_entry(cr3a, big, 2));
    CHECK_EQ(sh.pt_pair_flushes, 1);
    CHECK(!mapped(kspace(0), big + 0x3000));
    CHECK(!mapped(kspace(0), big + 0x7000));

    /* one PTE table linked at two PDEs: which va a PTE maps is ambiguous */
    setup(256);
    uint64_t other = UVA + 0x200000;
    gpa_wr64(pt_entry(cr3a, other, 2), gpa_rd64(pt_entry(cr3a, UVA, 2)));
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);
    fill(UVA, 3);
    fill(other, 3);
    CHECK(mapped(uspace(0), other));
    vam_shadow_pt_written(&sh, pt_entry(cr3a, UVA, 1));
    CHECK_EQ(sh.pt_pair_flushes, 1);
    CHECK(!mapped(uspace(0), UVA));
    CHECK(!mapped(uspace(0), other));
}

/* The batch form: an upper-level write and PTE writes for one pair flush it
 * once (the PTE writes then cost nothing there); PTE writes of other pairs
 * still unmap. */
static void batch(void)
{
    setup(256);
    uint64_t pdpt = gpa_rd64(pt_entry(cr3a, KVA_N, 4));
    gpa_wr64(pt_entry(cr3b, KVA_N, 4), pdpt);
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3b), VAM_SHADOW_OK);
    fill(KVA_N, 0);                                 /* pair 0: B */
    fill(UVA, 3);
    fill_a();                                       /* pair 1: A */
    fake_clear_log();
    const uint64_t gpas[] = {pt_entry(cr3a, UVA, 1), pt_entry(cr3a, UVA2, 1),
                             pt_entry(cr3a, UVA, 4), pt_entry(cr3a, KVA_N, 1)};
    vam_shadow_pt_written_batch(&sh, gpas, 4);
    CHECK_EQ(sh.pt_writes, 4);
    CHECK_EQ(sh.pt_pair_flushes, 1);                /* A, once */
    CHECK_EQ(sh.pt_unmaps, 1);                      /* KVA_N in B */
    CHECK_EQ(fake_count(FAKE_FLUSH), 2);
    CHECK_EQ(fake_count(FAKE_UNMAP), 2);
    CHECK_EQ(fake_nth(FAKE_UNMAP, 0)->space, kspace(0));
    CHECK(!mapped(kspace(0), KVA_N));
    CHECK(mapped(uspace(0), UVA));
    CHECK(!mapped(uspace(1), UVA));
    CHECK(!mapped(kspace(1), KVA_N));
}

/* (5) a CR3 write of the current value is still a flush with tracking. */
static void same_value_flushes(void)
{
    setup(256);
    fill_a();
    uint64_t kept = sh.switches_kept, reloads = sh.reloads;
    fake_clear_log();
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a | 0x8), VAM_SHADOW_OK);     /* PWT ignored */
    CHECK_EQ(fake_count(FAKE_FLUSH), 2);
    CHECK_EQ(fake_count(FAKE_ACTIVATE), 0);
    CHECK(!mapped(uspace(0), UVA));
    CHECK(!mapped(kspace(0), KVA_N));
    CHECK(mapped(kspace(0), KVA));
    CHECK_EQ(sh.switches_kept, kept);
    CHECK_EQ(sh.reloads, reloads + 1);
    /* the records went too: a PTE write now unmaps nothing */
    fake_clear_log();
    vam_shadow_pt_written(&sh, pt_entry(cr3a, UVA, 1));
    CHECK_EQ(fake_ncalls, 0);
}

/* (6) lost writes flush every pair's non-global translations. */
static void writes_lost(void)
{
    setup(256);
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3b), VAM_SHADOW_OK);
    fill(UVA, 3);
    fill(KVA, 0);
    fill_a();
    fake_clear_log();
    vam_shadow_pt_writes_lost(&sh);
    CHECK_EQ(sh.pt_lost, 1);
    CHECK_EQ(fake_count(FAKE_FLUSH), 4);
    for (unsigned i = 0; i < 4; i++)
        CHECK(!fake_nth(FAKE_FLUSH, i)->include_global);
    CHECK(!mapped(uspace(0), UVA));
    CHECK(!mapped(uspace(1), UVA));
    CHECK(!mapped(kspace(1), KVA_N));
    CHECK(mapped(kspace(0), KVA));
    CHECK(mapped(kspace(1), KVA));
    /* without tracking there is nothing to lose */
    setup(0);
    fill_a();
    fake_clear_log();
    vam_shadow_pt_writes_lost(&sh);
    CHECK_EQ(fake_ncalls, 0);
    CHECK_EQ(sh.pt_lost, 0);
}

struct drain_log {
    unsigned calls;
    int active_seen;            /* sh->active when called */
    uint64_t cr3_seen;          /* v->cr3 when called */
    uint64_t write_gpa;         /* reported from the hook when nonzero */
};

static void drain_hook(struct vam_shadow *s, struct vam_vcpu *v, void *ctx)
{
    struct drain_log *d = ctx;
    d->calls++;
    d->active_seen = s->active;
    d->cr3_seen = v->cr3;
    if (d->write_gpa)
        vam_shadow_pt_written(s, d->write_gpa);
}

/* (7) the drain hook runs before a switch (old CR3, old pair still active,
 * so what it reports applies before the new pair is used) and not on a
 * same-value write nor without tracking. */
static void drain_hook_called(void)
{
    struct drain_log d = {0};
    setup(256);
    sh.pt_log_drain = drain_hook;
    sh.hook_ctx = &d;
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);
    CHECK_EQ(d.calls, 1);                           /* the first CR3 is a switch */
    CHECK_EQ(d.active_seen, -1);
    fill(UVA, 3);
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);
    CHECK_EQ(d.calls, 1);                           /* same value: no drain */
    fill(UVA, 3);
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3b), VAM_SHADOW_OK);
    CHECK_EQ(d.calls, 2);
    CHECK_EQ(d.active_seen, 0);
    CHECK_EQ(d.cr3_seen, cr3a);
    fill(UVA, 3);
    /* a write the hook reports for A's PTE: gone before A is used again */
    d.write_gpa = pt_entry(cr3a, UVA, 1);
    CHECK(mapped(uspace(0), UVA));
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);
    CHECK_EQ(d.calls, 3);
    CHECK_EQ(d.active_seen, 1);
    CHECK_EQ(d.cr3_seen, cr3b);
    CHECK(!mapped(uspace(0), UVA));
    CHECK(mapped(uspace(1), UVA));                  /* B's own PTE was not written */
    /* tracking off: never called */
    struct drain_log d0 = {0};
    setup(0);
    sh.pt_log_drain = drain_hook;
    sh.hook_ctx = &d0;
    vam_shadow_set_cr3(&sh, &g.v, cr3a);
    vam_shadow_set_cr3(&sh, &g.v, cr3b);
    CHECK_EQ(d0.calls, 0);
}

/* Enabling tracking drops what was filled without records; a global flush
 * pending for an inactive pair is still done when it is activated. */
static void enable_and_global_flush(void)
{
    setup(0);
    fill_a();
    fake_clear_log();
    vam_shadow_track_enable(&sh, tables, 256, frames, RAM_SIZE >> 12);
    CHECK(sh.tracking);
    CHECK_EQ(fake_count(FAKE_FLUSH), 2);
    CHECK(!mapped(uspace(0), UVA));
    CHECK(mapped(kspace(0), KVA));
    /* no records or no frame array: stays off */
    static struct vam_shadow other;
    static struct vam_shadow_table few[4];
    static uint32_t few_frames[16];
    vam_shadow_init(&other, 2);
    vam_shadow_track_enable(&other, few, 0, few_frames, 16);
    CHECK(!other.tracking);
    vam_shadow_track_enable(&other, few, 4, 0, 16);
    CHECK(!other.tracking);
    vam_shadow_track_enable(&other, few, 4, few_frames, 0);
    CHECK(!other.tracking);

    setup(256);
    fill_a();
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3b), VAM_SHADOW_OK);
    uint64_t old = g.v.cr4;
    g.v.cr4 &= ~X86_CR4_PGE;
    vam_shadow_cr4_written(&sh, old, g.v.cr4);
    g.v.cr4 = old;
    vam_shadow_cr4_written(&sh, g.v.cr4 & ~X86_CR4_PGE, g.v.cr4);
    uint64_t kept = sh.switches_kept;
    fake_clear_log();
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);
    CHECK_EQ(fake_count(FAKE_FLUSH), 2);
    CHECK(fake_nth(FAKE_FLUSH, 0)->include_global);
    CHECK(!mapped(kspace(0), KVA));
    CHECK(!mapped(uspace(0), UVA));
    CHECK_EQ(sh.switches_kept, kept);
}

/* (8) a small records array: fills through many distinct PTE tables run it
 * out and reset it (flushing what it described); afterwards every
 * translation still installed is tracked, i.e. a write to its PTE removes
 * it.  Records of flushed pairs are reused without a reset. */
static void table_exhaustion(void)
{
    enum { PAGES = 80 };
    setup(32);
    uint64_t up = PTE_P | PTE_RW | PTE_US;
    for (uint64_t i = 0; i < PAGES; i++)            /* one PTE table per page */
        pt_map(cr3a, 0x10000000ull + i * 0x200000, 0x300000, 1, up, up);
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);
    for (uint64_t i = 0; i < PAGES; i++)
        fill(0x10000000ull + i * 0x200000, 3);
    CHECK(sh.pt_table_resets > 0);
    unsigned still = 0;
    for (uint64_t i = 0; i < PAGES; i++) {
        uint64_t va = 0x10000000ull + i * 0x200000;
        if (!mapped(uspace(0), va))
            continue;
        still++;
        vam_shadow_pt_written(&sh, pt_entry(cr3a, va, 1));
        CHECK(!mapped(uspace(0), va));
    }
    CHECK(still > 0);
    CHECK_EQ(fake_space_size(uspace(0)), 0);
    CHECK_EQ(sh.pt_pair_flushes, 0);
    CHECK_EQ(sh.pt_unmaps, still);

    /* records come back when their pair is flushed: 28 PTE tables (31
     * records with the upper levels) per round fit in 32 again and again */
    setup(32);
    for (uint64_t i = 0; i < 28; i++)
        pt_map(cr3a, 0x10000000ull + i * 0x200000, 0x300000, 1, up, up);
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);
    for (unsigned round = 0; round < 5; round++) {
        for (uint64_t i = 0; i < 28; i++)
            fill(0x10000000ull + i * 0x200000, 3);
        CHECK_EQ(fake_space_size(uspace(0)), 28);
        CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);     /* flush */
    }
    CHECK_EQ(sh.pt_table_resets, 0);
    CHECK_EQ(sh.fills, 140);

    /* ... and when their pair is evicted (two pairs, a third CR3) */
    setup_pairs(32, 2);
    uint64_t cr3c = pt_new_root();
    for (uint64_t i = 0; i < 28; i++) {
        pt_map(cr3a, 0x10000000ull + i * 0x200000, 0x300000, 1, up, up);
        pt_map(cr3c, 0x10000000ull + i * 0x200000, 0x300000, 1, up, up);
    }
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);
    for (uint64_t i = 0; i < 28; i++)
        fill(0x10000000ull + i * 0x200000, 3);
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3b), VAM_SHADOW_OK);
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3c), VAM_SHADOW_OK);     /* evicts A */
    CHECK_EQ(sh.evictions, 1);
    for (uint64_t i = 0; i < 28; i++)
        fill(0x10000000ull + i * 0x200000, 3);
    CHECK_EQ(sh.pt_table_resets, 0);
}

/* Page tables beyond the frame array cannot be recorded: a pair that
 * walked one is flushed when activated, as without tracking; writes there
 * are ignored. */
static void untracked_frames(void)
{
    setup(0);
    vam_shadow_track_enable(&sh, tables, 256, frames, 0x100);  /* tables are at 1 MiB+ */
    CHECK(sh.tracking);
    fill_a();
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3b), VAM_SHADOW_OK);
    uint64_t kept = sh.switches_kept;
    fake_clear_log();
    vam_shadow_pt_written(&sh, pt_entry(cr3a, UVA, 1));
    CHECK_EQ(fake_ncalls, 0);
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, cr3a), VAM_SHADOW_OK);
    CHECK_EQ(fake_count(FAKE_FLUSH), 2);
    CHECK(!mapped(uspace(0), UVA));
    CHECK(!mapped(kspace(0), KVA_N));
    CHECK(mapped(kspace(0), KVA));
    CHECK_EQ(sh.switches_kept, kept);
}

const struct test_case track_tests[] = {
    {"walk_entries_used", walk_entries},
    {"track_switch_keeps_translations", switch_keeps},
    {"track_pte_write_unmaps_one", pte_write_unmaps_one},
    {"track_unused_entry_nothing", unused_entry_nothing},
    {"track_upper_write_flushes_pair", upper_write_flushes_pair},
    {"track_batch", batch},
    {"track_same_value_cr3_flushes", same_value_flushes},
    {"track_writes_lost", writes_lost},
    {"track_drain_hook", drain_hook_called},
    {"track_enable_and_global_flush", enable_and_global_flush},
    {"track_table_exhaustion", table_exhaustion},
    {"track_untracked_frames", untracked_frames},
    TEST_GROUP_END,
};
