/*
 * The back end's spaces as the guest's TLB (vam/cpu/shadow.c): fills and
 * the be_map calls they make, injected #PFs, invlpg, CR3 switches with
 * global pages, full flushes, the LRU of CR3 pairs.
 */
#include "fake_backend.h"
#include "guest.h"
#include "test.h"
#include "vam/inject.h"
#include "vam/shadow.h"

static struct guest g;
static struct vam_shadow sh;

#define KVA 0xffffffff81400000ull       /* kernel page, gpa 0x234000 */
#define UVA 0x0000000000601000ull       /* user page, gpa 0x235000 */

static void setup(unsigned max_pairs)
{
    guest_bare(&g);
    g.v.efer |= X86_EFER_NXE;
    g.v.cr4 |= X86_CR4_PGE;
    vam_shadow_init(&sh, max_pairs);
    pt_map(g.cr3, KVA, 0x234000, 1, PTE_P | PTE_RW | PTE_G, PTE_P | PTE_RW | PTE_US);
    pt_map(g.cr3, UVA, 0x235000, 1, PTE_P | PTE_RW | PTE_US | PTE_XD, PTE_P | PTE_RW | PTE_US);
}

static int kspace(int pair)
{
    return sh.pair[pair].kernel;
}

static int uspace(int pair)
{
    return sh.pair[pair].user;
}

static void cr3_creates_pair(void)
{
    setup(4);
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, g.cr3 | 0x18), VAM_SHADOW_OK);  /* PWT|PCD ignored */
    CHECK_EQ(g.v.cr3, g.cr3 | 0x18);
    CHECK_EQ(fake_count(FAKE_CREATE), 2);
    CHECK_EQ(fake_nth(FAKE_CREATE, 0)->kind, BE_SPACE_KERNEL);
    CHECK_EQ(fake_nth(FAKE_CREATE, 1)->kind, BE_SPACE_USER);
    CHECK_EQ(fake_count(FAKE_ACTIVATE), 1);
    CHECK_EQ(fake_nth(FAKE_ACTIVATE, 0)->kernel, kspace(0));
    CHECK_EQ(fake_nth(FAKE_ACTIVATE, 0)->user, uspace(0));
    CHECK_EQ(fake_active_kernel, kspace(0));
    CHECK_EQ(fake_active_user, uspace(0));
    CHECK_EQ(fake_count(FAKE_FLUSH), 0);             /* nothing installed yet */
    /* the same CR3 again: no new space, no activation */
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, g.cr3), VAM_SHADOW_OK);
    CHECK_EQ(fake_count(FAKE_CREATE), 2);
    CHECK_EQ(fake_count(FAKE_ACTIVATE), 1);
}

static void fill_kernel(void)
{
    setup(4);
    vam_shadow_set_cr3(&sh, &g.v, g.cr3);
    fake_clear_log();
    struct vam_event ev = {0};
    /* a kernel read: installed read-only (D clear), executable, global */
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, KVA + 0x10, 0, &ev), VAM_SHADOW_OK);
    CHECK_EQ(fake_count(FAKE_MAP), 1);
    const struct fake_call *m = fake_nth(FAKE_MAP, 0);
    CHECK_EQ(m->space, kspace(0));
    CHECK_EQ(m->va, KVA);
    CHECK_EQ(m->gpa, 0x234000);
    CHECK_EQ(m->perm, BE_R | BE_X | BE_GLOBAL);
    CHECK(gpa_rd64(pt_entry(g.cr3, KVA, 1)) & PTE_A);
    CHECK(!(gpa_rd64(pt_entry(g.cr3, KVA, 1)) & PTE_D));
    /* the write that follows: D set, now writable */
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, KVA + 0x10, X86_PF_P | X86_PF_W, &ev),
             VAM_SHADOW_OK);
    m = fake_nth(FAKE_MAP, 1);
    CHECK_EQ(m->perm, BE_R | BE_W | BE_X | BE_GLOBAL);
    CHECK(gpa_rd64(pt_entry(g.cr3, KVA, 1)) & PTE_D);
    uint64_t gpa;
    unsigned perm;
    CHECK(fake_lookup(kspace(0), KVA, &gpa, &perm));
    CHECK_EQ(gpa, 0x234000);
    CHECK(!fake_lookup(uspace(0), KVA, 0, 0));
    /* the kernel touching a user page: kernel space, BE_USER, not executable */
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, UVA, X86_PF_W, &ev), VAM_SHADOW_OK);
    m = fake_nth(FAKE_MAP, 2);
    CHECK_EQ(m->space, kspace(0));
    CHECK_EQ(m->perm, BE_R | BE_W | BE_USER);
    CHECK_EQ(sh.fills, 3);
}

static void fill_user(void)
{
    setup(4);
    vam_shadow_set_cr3(&sh, &g.v, g.cr3);
    g.v.cpl = 3;
    fake_clear_log();
    struct vam_event ev = {0};
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, UVA + 8, X86_PF_U | X86_PF_W, &ev), VAM_SHADOW_OK);
    const struct fake_call *m = fake_nth(FAKE_MAP, 0);
    CHECK_EQ(m->space, uspace(0));
    CHECK_EQ(m->va, UVA);
    CHECK_EQ(m->gpa, 0x235000);
    CHECK_EQ(m->perm, BE_R | BE_W | BE_USER);       /* XD: no BE_X; not global */
    /* user access to the kernel page: #PF(P|U) injected, nothing installed */
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, KVA + 0x123, X86_PF_U, &ev), VAM_SHADOW_INJECT);
    CHECK_EQ(ev.kind, VAM_EV_EXCEPTION);
    CHECK_EQ(ev.vector, X86_EXC_PF);
    CHECK(ev.has_error_code);
    CHECK_EQ(ev.error_code, X86_PF_P | X86_PF_U);
    CHECK_EQ(ev.cr2, KVA + 0x123);
    CHECK_EQ(fake_count(FAKE_MAP), 1);
    /* user fetch from the XD page: back-end ec 0x15, guest ec 0x15 */
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, UVA, X86_PF_P | X86_PF_U | X86_PF_I, &ev),
             VAM_SHADOW_INJECT);
    CHECK_EQ(ev.error_code, X86_PF_P | X86_PF_U | X86_PF_I);
    /* not present: error code without P */
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, 0x12345000, X86_PF_U, &ev), VAM_SHADOW_INJECT);
    CHECK_EQ(ev.error_code, X86_PF_U);
    CHECK_EQ(ev.cr2, 0x12345000);
    CHECK_EQ(sh.injected, 3);
}

static void fill_read_only_and_wp(void)
{
    setup(4);
    uint64_t ro = 0xffffffff81401000ull;
    pt_map(g.cr3, ro, 0x236000, 1, PTE_P | PTE_D, PTE_P | PTE_RW);
    vam_shadow_set_cr3(&sh, &g.v, g.cr3);
    struct vam_event ev = {0};
    /* WP = 1: a read maps read-only even though D is set; a write is the guest's #PF */
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, ro, 0, &ev), VAM_SHADOW_OK);
    CHECK_EQ(fake_nth(FAKE_MAP, 0)->perm, BE_R | BE_X);
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, ro, X86_PF_P | X86_PF_W, &ev), VAM_SHADOW_INJECT);
    CHECK_EQ(ev.error_code, X86_PF_P | X86_PF_W);
    /* WP = 0: the kernel may write it; clearing WP flushed everything */
    uint64_t old = g.v.cr0;
    g.v.cr0 &= ~X86_CR0_WP;
    fake_clear_log();
    vam_shadow_cr0_written(&sh, old, g.v.cr0);
    CHECK_EQ(fake_count(FAKE_FLUSH), 2);
    CHECK(fake_nth(FAKE_FLUSH, 0)->include_global);
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, ro, X86_PF_P | X86_PF_W, &ev), VAM_SHADOW_OK);
    CHECK_EQ(fake_nth(FAKE_MAP, 0)->perm, BE_R | BE_W | BE_X);
    /* but user mode may not */
    pt_map(g.cr3, 0x602000, 0x237000, 1, PTE_P | PTE_US | PTE_D, PTE_P | PTE_RW | PTE_US);
    g.v.cpl = 3;
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, 0x602000, X86_PF_U, &ev), VAM_SHADOW_OK);
    CHECK_EQ(fake_nth(FAKE_MAP, 1)->perm, BE_R | BE_X | BE_USER);
}

static void fill_large_piece(void)
{
    setup(4);
    uint64_t base = 0xffff888000200000ull;
    pt_map(g.cr3, base, 0x600000, 2, PTE_P | PTE_RW | PTE_A | PTE_D, PTE_P | PTE_RW);
    vam_shadow_set_cr3(&sh, &g.v, g.cr3);
    fake_clear_log();
    struct vam_event ev = {0};
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, base + 0x12345, 0, &ev), VAM_SHADOW_OK);
    const struct fake_call *m = fake_nth(FAKE_MAP, 0);
    CHECK_EQ(m->va, base + 0x12000);
    CHECK_EQ(m->gpa, 0x612000);
    CHECK_EQ(m->perm, BE_R | BE_W | BE_X);          /* D already set: writable at once */
    CHECK_EQ(sh.pair[0].nlarge, 1);
}

static void invlpg_all_spaces(void)
{
    setup(4);
    uint64_t cr3b = pt_new_root();
    pt_map(cr3b, KVA, 0x234000, 1, PTE_P | PTE_RW | PTE_G, PTE_P | PTE_RW);
    struct vam_event ev = {0};
    vam_shadow_set_cr3(&sh, &g.v, g.cr3);
    vam_shadow_page_fault(&sh, &g.v, KVA, 0, &ev);           /* pair 0, kernel, global */
    g.v.cpl = 3;
    vam_shadow_page_fault(&sh, &g.v, UVA, X86_PF_U, &ev);    /* pair 0, user */
    g.v.cpl = 0;
    vam_shadow_set_cr3(&sh, &g.v, cr3b);
    vam_shadow_page_fault(&sh, &g.v, KVA, 0, &ev);           /* pair 1, kernel */
    CHECK(fake_lookup(kspace(0), KVA, 0, 0));
    CHECK(fake_lookup(kspace(1), KVA, 0, 0));
    fake_clear_log();
    vam_shadow_invlpg(&sh, KVA + 0x800);
    /* every space of every pair holding translations */
    CHECK_EQ(fake_count(FAKE_UNMAP), 4);
    for (unsigned i = 0; i < 4; i++)
        CHECK_EQ(fake_nth(FAKE_UNMAP, i)->va, KVA);
    CHECK(!fake_lookup(kspace(0), KVA, 0, 0));
    CHECK(!fake_lookup(kspace(1), KVA, 0, 0));
    CHECK(fake_lookup(uspace(0), UVA, 0, 0));       /* others untouched */
    vam_shadow_invlpg(&sh, UVA);
    CHECK(!fake_lookup(uspace(0), UVA, 0, 0));
}

static void invlpg_large(void)
{
    setup(4);
    uint64_t base2m = 0xffff888000200000ull, base1g = 0xffff888040000000ull;
    pt_map(g.cr3, base2m, 0x600000, 2, PTE_P | PTE_RW | PTE_G, PTE_P | PTE_RW | PTE_US);
    pt_map(g.cr3, base1g, 0, 3, PTE_P | PTE_RW | PTE_US, PTE_P | PTE_RW | PTE_US);
    vam_shadow_set_cr3(&sh, &g.v, g.cr3);
    struct vam_event ev = {0};
    /* three pieces of the 2 MiB page, one in user mode */
    vam_shadow_page_fault(&sh, &g.v, base2m + 0x0000, 0, &ev);
    vam_shadow_page_fault(&sh, &g.v, base2m + 0x5000, 0, &ev);
    vam_shadow_page_fault(&sh, &g.v, base2m + 0x1ff000, 0, &ev);
    vam_shadow_page_fault(&sh, &g.v, KVA, 0, &ev);
    CHECK_EQ(fake_space_size(kspace(0)), 4);
    fake_clear_log();
    /* invlpg of another address inside the large page drops all its pieces */
    vam_shadow_invlpg(&sh, base2m + 0x100000);
    CHECK(!fake_lookup(kspace(0), base2m, 0, 0));
    CHECK(!fake_lookup(kspace(0), base2m + 0x5000, 0, 0));
    CHECK(!fake_lookup(kspace(0), base2m + 0x1ff000, 0, 0));
    CHECK(fake_lookup(kspace(0), KVA, 0, 0));
    CHECK_EQ(fake_count(FAKE_UNMAP), 2 + 3 * 2);      /* va itself, then 3 pieces, both spaces */
    CHECK_EQ(sh.pair[0].nlarge, 0);
    CHECK_EQ(fake_count(FAKE_FLUSH), 0);

    /* a piece of the 1 GiB page: invlpg inside it flushes the pair */
    g.v.cpl = 3;
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, base1g + 0x1456789, X86_PF_U, &ev), VAM_SHADOW_OK);
    CHECK_EQ(fake_nth(FAKE_MAP, 0)->gpa, 0x1456000);
    CHECK_EQ(fake_nth(FAKE_MAP, 0)->space, uspace(0));
    fake_clear_log();
    vam_shadow_invlpg(&sh, base1g + 0x20000000);
    CHECK_EQ(fake_count(FAKE_FLUSH), 2);
    CHECK(fake_nth(FAKE_FLUSH, 0)->include_global && fake_nth(FAKE_FLUSH, 1)->include_global);
    CHECK_EQ(fake_space_size(kspace(0)), 0);
    CHECK_EQ(fake_space_size(uspace(0)), 0);
}

static void large_table_overflow(void)
{
    setup(4);
    uint64_t base = 0xffff888000000000ull;
    for (unsigned i = 0; i <= VAM_SHADOW_LARGE; i++)
        pt_map(g.cr3, base + (uint64_t)i * 0x200000, 0x600000, 2, PTE_P | PTE_RW,
               PTE_P | PTE_RW);
    vam_shadow_set_cr3(&sh, &g.v, g.cr3);
    struct vam_event ev = {0};
    for (unsigned i = 0; i < VAM_SHADOW_LARGE; i++)
        CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, base + (uint64_t)i * 0x200000 + 0x3000, 0, &ev),
                 VAM_SHADOW_OK);
    CHECK_EQ(sh.pair[0].nlarge, VAM_SHADOW_LARGE);
    CHECK_EQ(fake_space_size(kspace(0)), VAM_SHADOW_LARGE);
    fake_clear_log();
    /* one large page more than the table holds: the pair is flushed, then filled */
    uint64_t last = base + (uint64_t)VAM_SHADOW_LARGE * 0x200000 + 0x3000;
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, last, 0, &ev), VAM_SHADOW_OK);
    CHECK_EQ(fake_count(FAKE_FLUSH), 2);
    CHECK(fake_nth(FAKE_FLUSH, 0)->include_global);
    CHECK_EQ(sh.pair[0].nlarge, 1);
    CHECK_EQ(fake_space_size(kspace(0)), 1);
    CHECK(fake_lookup(kspace(0), last, 0, 0));
    /* and the recorded page still answers invlpg */
    vam_shadow_invlpg(&sh, last + 0x100000);
    CHECK(!fake_lookup(kspace(0), last, 0, 0));
}

static void cr3_switch_keeps_globals(void)
{
    setup(4);
    uint64_t nonglobal = 0xffffffff81402000ull;
    pt_map(g.cr3, nonglobal, 0x238000, 1, PTE_P | PTE_RW, PTE_P | PTE_RW);
    uint64_t cr3b = pt_new_root();
    struct vam_event ev = {0};
    vam_shadow_set_cr3(&sh, &g.v, g.cr3);
    vam_shadow_page_fault(&sh, &g.v, KVA, 0, &ev);           /* global */
    vam_shadow_page_fault(&sh, &g.v, nonglobal, 0, &ev);     /* not global */
    g.v.cpl = 3;
    vam_shadow_page_fault(&sh, &g.v, UVA, X86_PF_U, &ev);    /* user, not global */
    g.v.cpl = 0;
    vam_shadow_set_cr3(&sh, &g.v, cr3b);
    CHECK_EQ(fake_active_kernel, kspace(1));
    fake_clear_log();
    vam_shadow_set_cr3(&sh, &g.v, g.cr3);
    /* back to the first pair: activated, its non-global translations flushed */
    CHECK_EQ(fake_count(FAKE_ACTIVATE), 1);
    CHECK_EQ(fake_active_kernel, kspace(0));
    CHECK_EQ(fake_active_user, uspace(0));
    CHECK_EQ(fake_count(FAKE_FLUSH), 2);
    CHECK_EQ(fake_nth(FAKE_FLUSH, 0)->space, kspace(0));
    CHECK_EQ(fake_nth(FAKE_FLUSH, 1)->space, uspace(0));
    CHECK(!fake_nth(FAKE_FLUSH, 0)->include_global);
    CHECK(fake_lookup(kspace(0), KVA, 0, 0));
    CHECK(!fake_lookup(kspace(0), nonglobal, 0, 0));
    CHECK(!fake_lookup(uspace(0), UVA, 0, 0));
    /* reloading the same CR3 flushes non-global entries again (here: none left) */
    fake_clear_log();
    vam_shadow_set_cr3(&sh, &g.v, g.cr3);
    CHECK_EQ(fake_count(FAKE_FLUSH), 0);
    CHECK_EQ(fake_count(FAKE_ACTIVATE), 0);
    vam_shadow_page_fault(&sh, &g.v, nonglobal, 0, &ev);
    vam_shadow_set_cr3(&sh, &g.v, g.cr3);
    CHECK_EQ(fake_count(FAKE_FLUSH), 2);
    CHECK(!fake_lookup(kspace(0), nonglobal, 0, 0));
    /* without CR4.PGE nothing is installed global, and a CR3 write drops it all */
    setup(4);
    g.v.cr4 &= ~X86_CR4_PGE;
    vam_shadow_set_cr3(&sh, &g.v, g.cr3);
    vam_shadow_page_fault(&sh, &g.v, KVA, 0, &ev);
    CHECK_EQ(fake_nth(FAKE_MAP, 0)->perm & BE_GLOBAL, 0);
    vam_shadow_set_cr3(&sh, &g.v, g.cr3);
    CHECK(!fake_lookup(kspace(0), KVA, 0, 0));
}

static void pge_toggle_flushes_globals(void)
{
    setup(4);
    uint64_t cr3b = pt_new_root();
    pt_map(cr3b, KVA, 0x234000, 1, PTE_P | PTE_RW | PTE_G, PTE_P | PTE_RW);
    struct vam_event ev = {0};
    vam_shadow_set_cr3(&sh, &g.v, cr3b);
    vam_shadow_page_fault(&sh, &g.v, KVA, 0, &ev);          /* pair 0 (B): global */
    vam_shadow_set_cr3(&sh, &g.v, g.cr3);
    vam_shadow_page_fault(&sh, &g.v, KVA, 0, &ev);          /* pair 1 (A): global */
    fake_clear_log();
    uint64_t old = g.v.cr4;
    g.v.cr4 &= ~X86_CR4_PGE;
    vam_shadow_cr4_written(&sh, old, g.v.cr4);
    /* the active pair at once, globals included */
    CHECK_EQ(fake_count(FAKE_FLUSH), 2);
    CHECK_EQ(fake_nth(FAKE_FLUSH, 0)->space, kspace(1));
    CHECK(fake_nth(FAKE_FLUSH, 0)->include_global);
    CHECK(!fake_lookup(kspace(1), KVA, 0, 0));
    CHECK(fake_lookup(kspace(0), KVA, 0, 0));               /* inactive: still there ... */
    vam_shadow_cr4_written(&sh, g.v.cr4, g.v.cr4 | X86_CR4_PGE);
    g.v.cr4 |= X86_CR4_PGE;
    fake_clear_log();
    vam_shadow_set_cr3(&sh, &g.v, cr3b);                    /* ... until it is activated */
    CHECK_EQ(fake_count(FAKE_FLUSH), 2);
    CHECK(fake_nth(FAKE_FLUSH, 0)->include_global);
    CHECK_EQ(fake_nth(FAKE_FLUSH, 0)->space, kspace(0));
    CHECK(!fake_lookup(kspace(0), KVA, 0, 0));
    /* an unrelated CR4 change flushes nothing */
    fake_clear_log();
    vam_shadow_cr4_written(&sh, g.v.cr4, g.v.cr4 | X86_CR4_SMEP);
    vam_shadow_efer_written(&sh, g.v.efer, g.v.efer | X86_EFER_SCE);
    CHECK_EQ(fake_count(FAKE_FLUSH), 0);
    /* NXE does */
    vam_shadow_page_fault(&sh, &g.v, KVA, 0, &ev);
    vam_shadow_efer_written(&sh, g.v.efer, g.v.efer & ~X86_EFER_NXE);
    CHECK_EQ(fake_count(FAKE_FLUSH), 2);
}

static void lru_reuse(void)
{
    setup(2);
    uint64_t a = g.cr3, b = pt_new_root(), c = pt_new_root();
    pt_map(b, KVA, 0x234000, 1, PTE_P | PTE_RW | PTE_G, PTE_P | PTE_RW);
    struct vam_event ev = {0};
    vam_shadow_set_cr3(&sh, &g.v, a);
    vam_shadow_page_fault(&sh, &g.v, KVA, 0, &ev);
    vam_shadow_set_cr3(&sh, &g.v, b);
    vam_shadow_page_fault(&sh, &g.v, KVA, 0, &ev);
    vam_shadow_set_cr3(&sh, &g.v, a);       /* a is now the most recently used */
    CHECK_EQ(fake_count(FAKE_CREATE), 4);
    fake_clear_log();
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, c), VAM_SHADOW_OK);
    /* b's pair (the LRU) is reused with fresh spaces: the old ones (and
     * their page tables) go back to the back end */
    CHECK_EQ(fake_count(FAKE_DESTROY), 2);
    CHECK_EQ(fake_count(FAKE_CREATE), 2);
    CHECK_EQ(sh.evictions, 1);
    CHECK_EQ(sh.renewals, 1);
    CHECK_EQ(sh.pair[1].cr3, c);
    CHECK_EQ(fake_space_size(kspace(1)), 0);
    CHECK_EQ(fake_active_kernel, kspace(1));
    CHECK_EQ(fake_active_user, uspace(1));
    /* one pair only: the active one is reused for the next CR3 */
    setup(1);
    vam_shadow_set_cr3(&sh, &g.v, a);
    vam_shadow_page_fault(&sh, &g.v, KVA, 0, &ev);
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, b), VAM_SHADOW_OK);
    CHECK_EQ(fake_count(FAKE_CREATE), 4);
    CHECK_EQ(fake_space_size(kspace(0)), 0);
    CHECK_EQ(sh.pair[0].cr3, b);
    /* the back end out of spaces: the LRU pair is reused instead */
    setup(8);
    fake_space_limit = 3;
    vam_shadow_set_cr3(&sh, &g.v, a);
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, b), VAM_SHADOW_OK);
    /* the lone new kernel space given back, then pair 0's two renewed */
    CHECK_EQ(fake_count(FAKE_DESTROY), 3);
    CHECK_EQ(sh.pair[0].cr3, b);
    CHECK_EQ(sh.evictions, 1);
    /* and no space at all: an error */
    setup(8);
    fake_space_limit = 1;
    CHECK_EQ(vam_shadow_set_cr3(&sh, &g.v, a), VAM_SHADOW_ERROR);
}

static void errors(void)
{
    setup(4);
    struct vam_event ev = {0};
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, KVA, 0, &ev), VAM_SHADOW_ERROR);   /* no CR3 */
    vam_shadow_set_cr3(&sh, &g.v, g.cr3);
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, KVA, X86_PF_P | X86_PF_RSVD, &ev),
             VAM_SHADOW_ERROR);
    /* a refused translation: every space starts afresh and the guest
     * retries; refused again with no fill in between: an error */
    fake_refuse_va = KVA;
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, KVA, 0, &ev), VAM_SHADOW_OK);
    CHECK_EQ(sh.reclaims, 1);
    CHECK_EQ(fake_active_kernel, kspace(0));
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, KVA, 0, &ev), VAM_SHADOW_ERROR);
    CHECK(vam_shadow_error(&sh)[0] != 0);
    fake_refuse_va = 0;
    /* a guest PTE pointing outside guest RAM: device memory for the caller
     * (MMIO), nothing installed, the address reported */
    pt_map(g.cr3, 0x700000, RAM_SIZE, 1, PTE_P | PTE_RW, PTE_P | PTE_RW);
    uint64_t fills = sh.fills;
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, 0x700123, X86_PF_W, &ev), VAM_SHADOW_IO);
    CHECK_EQ(sh.io_gpa, RAM_SIZE + 0x123);
    CHECK_EQ(sh.io_faults, 1);
    CHECK_EQ(sh.fills, fills);
    /* ... but not when the guest's own tables forbid the access: its #PF */
    pt_map(g.cr3, 0x701000, RAM_SIZE, 1, PTE_P, PTE_P | PTE_RW);
    g.v.cr0 |= X86_CR0_WP;
    CHECK_EQ(vam_shadow_page_fault(&sh, &g.v, 0x701000, X86_PF_W, &ev), VAM_SHADOW_INJECT);
}

const struct test_case shadow_tests[] = {
    {"shadow_cr3_creates_pair", cr3_creates_pair},
    {"shadow_fill_kernel", fill_kernel},
    {"shadow_fill_user_and_inject", fill_user},
    {"shadow_fill_read_only_wp", fill_read_only_and_wp},
    {"shadow_fill_large_page_piece", fill_large_piece},
    {"shadow_invlpg_all_spaces", invlpg_all_spaces},
    {"shadow_invlpg_large_pages", invlpg_large},
    {"shadow_large_table_overflow", large_table_overflow},
    {"shadow_cr3_switch_keeps_globals", cr3_switch_keeps_globals},
    {"shadow_pge_toggle_flushes_globals", pge_toggle_flushes_globals},
    {"shadow_lru_reuse", lru_reuse},
    {"shadow_errors", errors},
    TEST_GROUP_END,
};
