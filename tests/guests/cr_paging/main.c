/*
 * Control registers and paging: CR0/CR3/CR4 reads and writes with visible
 * effects, invlpg and CR3 writes observed through changed mappings, global
 * pages, accessed/dirty bits, 2 MiB pages, NX and CR0.WP.
 */
#include <guest/test.h>

const char test_title[] = "CR0/CR3/CR4, invlpg, CR3 switch, NX, CR0.WP";

#define VA_FLIP     (TEST_VA_BASE + 0x00000)    /* remapped between pages A and B */
#define VA_SWITCH   (TEST_VA_BASE + 0x10000)    /* A under one root, B under the other */
#define VA_ONLY2    (TEST_VA_BASE + 0x20000)    /* mapped under the second root only */
#define VA_NX       (TEST_VA_BASE + 0x30000)
#define VA_RO       (TEST_VA_BASE + 0x40000)
#define VA_AD       (TEST_VA_BASE + 0x50000)
#define VA_GLOBAL   (TEST_VA_BASE + 0x60000)
#define VA_LARGE    (TEST_VA_BASE + 0x200000)   /* 2 MiB aligned */
#define PA_LARGE    0x400000ULL                 /* RAM at 4 MiB, above the image */

static uint8_t page_a[PAGE_SIZE] __aligned(PAGE_SIZE);
static uint8_t page_b[PAGE_SIZE] __aligned(PAGE_SIZE);
static uint8_t page_x[PAGE_SIZE] __aligned(PAGE_SIZE);
static uint8_t page_ro[PAGE_SIZE] __aligned(PAGE_SIZE);
static uint8_t page_ad[PAGE_SIZE] __aligned(PAGE_SIZE);

#define MAGIC_A 0xaaaaaaaa00000001ULL
#define MAGIC_B 0xbbbbbbbb00000002ULL

static uint64_t peek(uintptr_t va)
{
    return *(volatile uint64_t *)va;
}

/* Point the leaf for va at pa by a plain store: no invlpg. */
static void retarget_silently(uintptr_t va, uint64_t pa)
{
    volatile pte_t *e = pte_lookup(pt_active_root(), va, NULL);

    BUG_ON(!e);
    *e = (*e & ~PTE_ADDR_MASK) | pa;
}

static void test_cr0(void)
{
    unsigned long cr0 = read_cr0();

    test_info("CR0 %#lx CR4 %#lx CR3 %#lx EFER %#lx\n", cr0, read_cr4(), read_cr3(),
              (unsigned long)rdmsr(MSR_EFER));
    check((cr0 & (X86_CR0_PE | X86_CR0_PG | X86_CR0_WP)) == (X86_CR0_PE | X86_CR0_PG | X86_CR0_WP),
          "CR0 has PE, PG and WP (%#lx)", cr0);
    write_cr0(cr0 | X86_CR0_TS);
    check(read_cr0() & X86_CR0_TS, "CR0.TS set by mov to CR0");
    asm volatile ("clts" ::: "memory");
    check(!(read_cr0() & X86_CR0_TS), "CR0.TS cleared by clts");
    write_cr0(cr0 | X86_CR0_MP);
    check(read_cr0() & X86_CR0_MP, "CR0.MP set");
    write_cr0(cr0);
    check_eq(read_cr0(), cr0, "CR0 restored");
}

static uint64_t user_rdtsc(void)
{
    uint32_t lo, hi;
    asm volatile ("rdtsc" : "=a" (lo), "=d" (hi));
    return lo | (uint64_t)hi << 32;
}

static void test_cr4(void)
{
    unsigned long cr4 = read_cr4();
    struct user_result res;

    check(cr4 & X86_CR4_PAE, "CR4.PAE set in long mode");

    /* CR4.TSD: rdtsc from ring 3 faults only while it is set. */
    write_cr4(cr4 | X86_CR4_TSD);
    check(read_cr4() & X86_CR4_TSD, "CR4.TSD reads back");
    exec_user(user_rdtsc, &res);
    check(res.how == USER_EXIT_FAULT && res.fault == EXINFO_SYM(GP, 0),
          "ring-3 rdtsc with CR4.TSD: %s %s, want #GP[0000]", user_exit_name(res.how),
          exinfo_str(res.fault).s);
    write_cr4(cr4 & ~X86_CR4_TSD);
    exec_user(user_rdtsc, &res);
    check(res.how == USER_EXIT_SYSCALL, "ring-3 rdtsc without CR4.TSD: %s %s",
          user_exit_name(res.how), exinfo_str(res.fault).s);

    write_cr4(cr4 ^ X86_CR4_OSFXSR);
    check_eq(read_cr4(), cr4 ^ X86_CR4_OSFXSR, "CR4.OSFXSR toggles");
    write_cr4(cr4);
    check_eq(read_cr4(), cr4, "CR4 restored");
}

static void test_invlpg_and_cr3_reload(void)
{
    pte_t *root = pt_kernel_root();
    uint64_t v;

    check_eq(read_cr3() & PTE_ADDR_MASK, (uintptr_t)root, "CR3 holds the framework's PML4");

    map_4k(root, VA_FLIP, (uintptr_t)page_a, PTE_W | PTE_NX);
    check_eq(peek(VA_FLIP), MAGIC_A, "mapping to page A");

    /* Changing the PTE without a flush: either value may be seen. */
    retarget_silently(VA_FLIP, (uintptr_t)page_b);
    v = peek(VA_FLIP);
    test_info("PTE changed without invlpg: read %s value\n",
              v == MAGIC_A ? "the stale (TLB)" : v == MAGIC_B ? "the new" : "an unexpected");
    invlpg((void *)VA_FLIP);
    check_eq(peek(VA_FLIP), MAGIC_B, "after invlpg: new mapping");

    /* A CR3 write flushes non-global translations. */
    retarget_silently(VA_FLIP, (uintptr_t)page_a);
    (void)peek(VA_FLIP);
    write_cr3(read_cr3());
    check_eq(peek(VA_FLIP), MAGIC_A, "after CR3 reload: new mapping");

    /* unmap() flushes: the old translation must be gone. */
    unmap(root, VA_FLIP);
    check_ex(read_probe((void *)VA_FLIP, NULL), EXINFO_SYM(PF, 0), "read after unmap");
}

static void test_global(void)
{
    unsigned long cr4 = read_cr4();
    pte_t *root = pt_kernel_root();
    uint64_t v;

    if (!(cpuid_edx(1) & (1U << 13))) {
        test_info("no PGE: global pages not tested\n");
        return;
    }
    write_cr4(cr4 | X86_CR4_PGE);
    map_4k(root, VA_GLOBAL, (uintptr_t)page_a, PTE_G | PTE_NX);
    check_eq(peek(VA_GLOBAL), MAGIC_A, "global mapping to page A");
    retarget_silently(VA_GLOBAL, (uintptr_t)page_b);
    write_cr3(read_cr3());
    v = peek(VA_GLOBAL);
    test_info("global PTE changed, CR3 reloaded: read %s value\n",
              v == MAGIC_A ? "the stale (global TLB entry kept)" : "the new");
    /* Clearing CR4.PGE flushes everything, global entries included. */
    write_cr4(cr4 & ~X86_CR4_PGE);
    check_eq(peek(VA_GLOBAL), MAGIC_B, "after toggling CR4.PGE: new global mapping");
    write_cr4(cr4);
    unmap(root, VA_GLOBAL);
}

static void test_cr3_switch(void)
{
    pte_t *root = pt_kernel_root(), *root2;
    uint64_t v;

    map_4k(root, VA_SWITCH, (uintptr_t)page_a, PTE_NX);
    root2 = pt_clone_root(root);
    map_4k(root2, VA_SWITCH, (uintptr_t)page_b, PTE_NX);
    map_4k(root2, VA_ONLY2, (uintptr_t)page_b, PTE_NX);

    check_eq(peek(VA_SWITCH), MAGIC_A, "first root: page A");
    check_ex(read_probe((void *)VA_ONLY2, NULL), EXINFO_SYM(PF, 0),
             "first root: VA mapped only under the second");
    write_cr3((uintptr_t)root2);
    check_eq(read_cr3() & PTE_ADDR_MASK, (uintptr_t)root2, "CR3 reads back the second root");
    check_eq(peek(VA_SWITCH), MAGIC_B, "second root: page B");
    check_ex(read_probe((void *)VA_ONLY2, &v), 0, "second root: VA mapped only there");
    check_eq(v, MAGIC_B, "second root: VA_ONLY2 contents");
    check_eq(peek((uintptr_t)&page_a), MAGIC_A, "second root: identity map shared");
    write_cr3((uintptr_t)root);
    check_eq(peek(VA_SWITCH), MAGIC_A, "back on the first root: page A");
    check_ex(read_probe((void *)VA_ONLY2, NULL), EXINFO_SYM(PF, 0),
             "back on the first root: VA_ONLY2 unmapped again");
}

static void test_accessed_dirty(void)
{
    pte_t *root = pt_kernel_root();
    volatile pte_t *e;          /* the CPU writes it behind the compiler's back */

    map_4k(root, VA_AD, (uintptr_t)page_ad, PTE_W | PTE_NX);
    e = pte_lookup(root, VA_AD, NULL);
    check(!(*e & (PTE_A | PTE_D)), "fresh PTE has neither A nor D (%#lx)", (unsigned long)*e);
    (void)peek(VA_AD);
    check((*e & (PTE_A | PTE_D)) == PTE_A, "after a read: A set, D clear (%#lx)", (unsigned long)*e);
    *(volatile uint64_t *)VA_AD = 7;
    check((*e & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "after a write: A and D set (%#lx)",
          (unsigned long)*e);
    unmap(root, VA_AD);
}

static void test_large_page(void)
{
    pte_t *root = pt_kernel_root();
    unsigned level = 0;
    volatile uint64_t *ident = (volatile uint64_t *)(uintptr_t)(PA_LARGE + 0x1ff000);

    map_2m(root, VA_LARGE, PA_LARGE, PTE_W | PTE_NX);
    check(pte_lookup(root, VA_LARGE + 0x1234, &level) && level == 2, "2 MiB leaf (level %u)", level);
    *ident = MAGIC_B;
    check_eq(peek(VA_LARGE + 0x1ff000), MAGIC_B, "2 MiB page: same memory as the identity map");
    *(volatile uint64_t *)(VA_LARGE + 0x1ff008) = MAGIC_A;
    check_eq(ident[1], MAGIC_A, "2 MiB page: write visible through the identity map");
    /* Splitting: a 4 KiB mapping inside the large page keeps the rest. */
    map_4k(root, VA_LARGE, (uintptr_t)page_a, PTE_NX);
    check(pte_lookup(root, VA_LARGE, &level) && level == 1, "split into 4 KiB (level %u)", level);
    check_eq(peek(VA_LARGE), MAGIC_A, "split: remapped 4 KiB page");
    check_eq(peek(VA_LARGE + 0x1ff000), MAGIC_B, "split: rest of the large page kept");
    unmap(root, VA_LARGE + 0x1ff000);
    check_ex(read_probe((void *)(VA_LARGE + 0x1ff000), NULL), EXINFO_SYM(PF, 0),
             "split: unmapped 4 KiB page");
}

static void call_page(void *va)
{
    ((void (*)(void))va)();
}

static void test_nx(void)
{
    pte_t *root = pt_kernel_root();
    uint64_t rip = 0;
    exinfo_t ex;

    check(rdmsr(MSR_EFER) & EFER_NXE, "EFER.NXE set");
    page_x[0] = 0xc3;                               /* ret */
    map_4k(root, VA_NX, (uintptr_t)page_x, PTE_NX);
    ex = catch_exception(call_page, (void *)VA_NX, &rip);
    check_ex(ex, EXINFO_SYM(PF, X86_PFEC_INSN | X86_PFEC_PRESENT), "fetch from an NX page");
    check_eq(rip, VA_NX, "NX fault rip is the fetched address");
    check_eq(last_pf_cr2, VA_NX, "NX fault CR2");

    pte_update(root, VA_NX, 0, PTE_NX);
    ex = catch_exception(call_page, (void *)VA_NX, &rip);
    check_ex(ex, 0, "fetch from the same page without NX");
    unmap(root, VA_NX);
}

static void test_wp(void)
{
    pte_t *root = pt_kernel_root();
    unsigned long cr0 = read_cr0();
    exinfo_t ex;

    map_4k(root, VA_RO, (uintptr_t)page_ro, PTE_NX);   /* present, read-only */
    write_cr0(cr0 | X86_CR0_WP);
    ex = write_probe((void *)VA_RO, 1);
    check_ex(ex, EXINFO_SYM(PF, X86_PFEC_WRITE | X86_PFEC_PRESENT), "ring-0 write, CR0.WP=1");
    check_eq(last_pf_cr2, VA_RO, "WP fault CR2");
    check_eq(page_ro[0], 0, "read-only page unchanged");

    write_cr0(cr0 & ~X86_CR0_WP);
    ex = write_probe((void *)VA_RO, 0x55);
    check_ex(ex, 0, "ring-0 write, CR0.WP=0");
    check_eq(page_ro[0], 0x55, "write with CR0.WP=0 landed");

    write_cr0(cr0 | X86_CR0_WP);
    ex = write_probe((void *)VA_RO, 2);
    check_ex(ex, EXINFO_SYM(PF, X86_PFEC_WRITE | X86_PFEC_PRESENT), "ring-0 write, CR0.WP=1 again");
    write_cr0(cr0);
    unmap(root, VA_RO);
}

void test_main(void)
{
    *(uint64_t *)page_a = MAGIC_A;
    *(uint64_t *)page_b = MAGIC_B;

    test_cr0();
    test_cr4();
    test_invlpg_and_cr3_reload();
    test_global();
    test_cr3_switch();
    test_accessed_dirty();
    test_large_page();
    test_nx();
    test_wp();
}
