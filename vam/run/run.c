/*
 * Start of day of the VAM front end (thesis 4.2.3, 4.4): take the annotated
 * guest the back end hands over, validate it completely, place its segments
 * in guest-physical RAM, rewrite every site, build the page tables and the
 * start-info block its 64-bit entry expects, and enter it.  Refusals name
 * the problem and end the VM cleanly (BE_CRASH after the message).
 *
 * Guest-physical layout (test guests link at 1 MiB, virtual == physical):
 *   [0, top - RESERVED)   RAM the guest owns; PT_LOAD segments at p_paddr
 *   [top - RESERVED, top) the VAM's boot block: the initial page tables,
 *                         the start-info block and command line, a boot
 *                         stack.  The guest is told its RAM ends below it.
 */
#include "run.h"
#include "run-internal.h"

#include "vam/lib.h"
#include "vam/loader.h"
#include "vam/rewrite.h"

#define RESERVED (2ull << 20)
#define BOOT_STACK_SIZE 16384
#define PTE_P 0x001ull
#define PTE_RW 0x002ull
#define PTE_PS 0x080ull
#define PTE_ADDR 0x000ffffffffff000ull

struct vam_run vam_run;

static union {
    struct vam_fixed f;
    uint8_t page[4096];
} fixed_area __attribute__((aligned(4096)));
static uint8_t stubs_page[4096] __attribute__((aligned(4096)));

#define MAX_SITES 16384
static struct vam_site sites[MAX_SITES];
static struct vam_site_entry site_entries[MAX_SITES];

/* ---- messages ------------------------------------------------------------------- */

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
    char buf[512];
    int n = vam_snprintf(buf, sizeof buf, "%s", prefix);
    n += vam_vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    if (n > (int)sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    vam_platform_console_flush();
    be_console_write(buf, (unsigned long)n);
}

void vam_run_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("VAM: ", fmt, ap);
    va_end(ap);
}

void vam_run_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("VAM: error: ", fmt, ap);
    va_end(ap);
    vam_run_log("shutting down (crash)");
    be_shutdown(BE_CRASH);
}

void vam_run_guest_exit(uint32_t code)
{
    static const char *const names[] = {"SUCCESS", "SKIP", "ERROR", "FAILURE", "PANIC"};
    vam_run_report();
    vam_run_log("guest wrote %u (%s) to the exit port after %llu ms: power off", code,
                code < 5 ? names[code] : "unknown",
                (unsigned long long)((be_now_ns() - vam_run.start_ns) / 1000000));
    be_shutdown(BE_POWEROFF);
}

/* ---- guest memory ------------------------------------------------------------------ */

static uint8_t *gpa(uint64_t addr, uint64_t len)
{
    const struct be_memory *m = be_memory();
    if (addr > m->gpa_size || len > m->gpa_size - addr)
        vam_run_fatal("guest-physical range %#llx+%#llx outside RAM (%llu MiB)",
                      (unsigned long long)addr, (unsigned long long)len,
                      (unsigned long long)(m->gpa_size >> 20));
    return m->window + addr;
}

/* The rewriter's view of guest code: a segment's bytes where we placed them. */
static uint8_t *map_segment(void *ctx, uint64_t vaddr, size_t len)
{
    const struct vam_guest *g = ctx;
    for (unsigned i = 0; i < g->nseg; i++) {
        const struct vam_segment *s = &g->seg[i];
        if (vaddr >= s->vaddr && vaddr - s->vaddr <= s->memsz && len <= s->memsz - (vaddr - s->vaddr))
            return gpa(s->paddr + (vaddr - s->vaddr), len);
    }
    return 0;
}

static void place_segments(const struct vam_guest *g, uint64_t ram_end)
{
    for (unsigned i = 0; i < g->nseg; i++) {
        const struct vam_segment *s = &g->seg[i];
        if (s->paddr >= ram_end || s->memsz > ram_end - s->paddr)
            vam_run_fatal("refusing the guest: segment %u (vaddr %#llx, paddr %#llx, %llu bytes) "
                          "does not fit in guest RAM below %#llx",
                          i, (unsigned long long)s->vaddr, (unsigned long long)s->paddr,
                          (unsigned long long)s->memsz, (unsigned long long)ram_end);
        uint8_t *dst = gpa(s->paddr, s->memsz);
        memcpy(dst, g->image + s->offset, s->filesz);
        memset(dst + s->filesz, 0, s->memsz - s->filesz);
    }
}

/* ---- the initial page tables -------------------------------------------------------- */

static uint64_t pt_next, pt_end;

static uint64_t pt_alloc(void)
{
    if (pt_next >= pt_end)
        vam_run_fatal("boot block: out of page-table pages");
    uint64_t p = pt_next;
    pt_next += 4096;
    memset(gpa(p, 4096), 0, 4096);
    return p;
}

/* The entry for va at `level` (1 = 4 KiB leaf, 2 = 2 MiB leaf), creating tables. */
static uint64_t *pt_slot(uint64_t l4, uint64_t va, int level)
{
    uint64_t table = l4;
    for (int l = 4; l > level; l--) {
        uint64_t *e = (uint64_t *)gpa(table, 4096) + ((va >> (12 + 9 * (l - 1))) & 511);
        if (!(*e & PTE_P))
            *e = pt_alloc() | PTE_P | PTE_RW;
        else if (*e & PTE_PS)
            vam_run_fatal("boot block: %#llx already mapped by a large page",
                          (unsigned long long)va);
        table = *e & PTE_ADDR;
    }
    return (uint64_t *)gpa(table, 4096) + ((va >> (12 + 9 * (level - 1))) & 511);
}

/* Identity map of RAM in 2 MiB pages, plus every segment at its virtual
 * address when that differs from its physical one (4 KiB pages). */
static uint64_t build_page_tables(const struct vam_guest *g, uint64_t ram)
{
    uint64_t l4 = pt_alloc();
    for (uint64_t a = 0; a < ram; a += 2ull << 20)
        *pt_slot(l4, a, 2) = a | PTE_P | PTE_RW | PTE_PS;
    for (unsigned i = 0; i < g->nseg; i++) {
        const struct vam_segment *s = &g->seg[i];
        if (s->vaddr == s->paddr)
            continue;
        if ((s->vaddr ^ s->paddr) & 4095)
            vam_run_fatal("refusing the guest: segment %u's virtual and physical addresses "
                          "differ in their page offset", i);
        for (uint64_t off = 0; off < s->memsz + (s->vaddr & 4095); off += 4096) {
            uint64_t va = (s->vaddr & ~4095ull) + off;
            *pt_slot(l4, va, 1) = ((s->paddr & ~4095ull) + off) | PTE_P | PTE_RW;
        }
    }
    return l4;
}

/* ---- the start-info block (tests/guests/framework/include/guest/boot.h) ------------------ */

struct guest_start_info {
    uint32_t magic, version, platform, flags;
    uint64_t mem_bytes, cmdline, pvh_start_info, reserved[3];
};
#define GUEST_START_MAGIC 0x31534747
#define GUEST_PLATFORM_VAM 2

static uint64_t build_start_info(uint64_t at, uint64_t mem_bytes, const char *cmdline)
{
    struct guest_start_info *si = (struct guest_start_info *)gpa(at, 4096);
    memset(si, 0, 4096);
    si->magic = GUEST_START_MAGIC;
    si->version = 1;
    si->platform = GUEST_PLATFORM_VAM;
    si->mem_bytes = mem_bytes;
    char *line = (char *)(si + 1);
    size_t n = strlen(cmdline);
    if (n > 4096 - sizeof *si - 1)
        n = 4096 - sizeof *si - 1;
    memcpy(line, cmdline, n);
    line[n] = 0;
    si->cmdline = at + sizeof *si;
    return at;
}

/* ---- the VAM's pages in the guest's kernel spaces ------------------------------------ */

static bool map_vam_pages(be_space_t s, void *ctx)
{
    (void)ctx;
    return be_map_vam(s, VAM_RUN_FIXED_VA, fixed_area.page, BE_R | BE_W) &&
           be_map_vam(s, VAM_RUN_STUBS_VA, stubs_page, BE_R | BE_X) &&
           be_map_vam(s, VAM_RUN_GATE_VA, vam_run.gate_page, BE_R | BE_W | BE_X);
}

/* Jump landing stub j: movl $j, jump_slot; jmp gate. */
static void build_stubs(void)
{
    for (unsigned j = 0; j < VAM_JUMP_SLOTS; j++) {
        uint8_t *p = stubs_page + j * VAM_RUN_STUB_SIZE;
        int32_t slot_addr = vam_abs32(VAM_OFF_JUMP_SLOT);
        uint64_t next = VAM_RUN_STUBS_VA + (j + 1) * VAM_RUN_STUB_SIZE;
        int32_t rel = (int32_t)(VAM_RUN_GATE_VA - next);
        p[0] = 0xc7, p[1] = 0x04, p[2] = 0x25;
        memcpy(p + 3, &slot_addr, 4);
        memcpy(p + 7, &j, 4);
        p[11] = 0xe9;
        memcpy(p + 12, &rel, 4);
        fixed_area.f.jump[j] = VAM_RUN_STUBS_VA + j * VAM_RUN_STUB_SIZE;
    }
    _Static_assert(VAM_JUMP_SLOTS * VAM_RUN_STUB_SIZE <= 4096, "stubs fit a page");
    for (unsigned k = 0; k < VAM_ENTRY_SLOTS; k++)
        fixed_area.f.entry[k] = VAM_RUN_GATE_VA;
}

/* ---- start ------------------------------------------------------------------------------ */

static unsigned rewrite_flags(const char *cmdline)
{
    unsigned flags = 0;
    /* vam.sti=inline: sti as a memory operation (interrupts wait for the next VAM entry) */
    for (const char *p = cmdline; *p; p++)
        if (!memcmp(p, "vam.sti=inline", 14))
            flags |= VAM_RW_STI_INLINE;
    return flags;
}

void vam_fe_main(const uint8_t *image, uint64_t image_len, const char *cmdline)
{
    struct vam_error e;
    struct vam_guest *g = &vam_run.guest;
    vam_run.start_ns = be_now_ns();
    vam_run_log("front end: guest image of %llu bytes, command line \"%s\"",
                (unsigned long long)image_len, cmdline);
    if (!image || image_len == 0)
        vam_run_fatal("refusing the guest: no guest image (module) was given");

    /* 1. validate everything before touching anything */
    if (vam_load(g, image, image_len, NULL, 0, &e) && e.code != VAM_ERR_NOSPACE)
        vam_run_fatal("refusing the guest: %s", e.msg);
    if (g->nrecords > MAX_SITES)
        vam_run_fatal("refusing the guest: %u annotation records, the VAM has room for %u",
                      g->nrecords, MAX_SITES);
    if (vam_load(g, image, image_len, sites, MAX_SITES, &e))
        vam_run_fatal("refusing the guest: %s", e.msg);
    if (g->nnotes == 0)
        vam_run_fatal("refusing the guest: no afterburner annotations (.note.afterburn): "
                      "it was not built through afterburn-as");
    vam_run_log("guest validated: %u note(s), %zu sites (%u in 16/32-bit code, %u templates), "
                "%zu mode markers, entry %#llx", g->nnotes, g->nsite, g->nother_mode,
                g->ntemplate, g->nmark, (unsigned long long)g->entry);

    /* 2. place, rewrite */
    const struct be_memory *m = be_memory();
    if (m->gpa_size < 2 * RESERVED)
        vam_run_fatal("only %llu KiB of guest RAM", (unsigned long long)(m->gpa_size >> 10));
    uint64_t ram_end = m->gpa_size - RESERVED;
    place_segments(g, ram_end);
    build_stubs();
    vam_run.table = (struct vam_site_table){.v = site_entries, .n = 0, .cap = MAX_SITES};
    vam_stats_reset(&vam_run.stats);
    if (vam_rewrite_guest(g, rewrite_flags(cmdline), map_segment, g, &vam_run.table,
                          &vam_run.stats, &e))
        vam_run_fatal("refusing the guest: %s", e.msg);
    vam_run_log("rewrote %zu sites (%u through jump slots), %llu bytes of replacements, "
                "%llu bytes of no-ops", vam_run.table.n, vam_run.table.njump,
                (unsigned long long)vam_run.stats.bytes_replacement,
                (unsigned long long)vam_run.stats.bytes_nop);

    /* 3. boot block: page tables, start info, stack */
    pt_next = ram_end;
    pt_end = ram_end + RESERVED - 4096 - BOOT_STACK_SIZE;
    uint64_t l4 = build_page_tables(g, m->gpa_size);
    uint64_t si = build_start_info(pt_end, ram_end, cmdline);
    uint64_t stack_top = m->gpa_size;

    /* 4. the virtual CPU, the platform, the TLB */
    vam_run.gate_page = be_gate_page(VAM_RUN_GATE_VA);
    vam_vcpu_init(&vam_run.vcpu, &fixed_area.f);
    fixed_area.f.jump_slot = VAM_RUN_NO_JUMP;
    vam_shadow_init(&vam_run.tlb, 8);
    vam_run.tlb.kernel_space_created = map_vam_pages;
    vam_platform_init();
    vam_run_emul_init();
    if (vam_shadow_set_cr3(&vam_run.tlb, &vam_run.vcpu, l4) != VAM_SHADOW_OK)
        vam_run_fatal("initial address space: %s", vam_shadow_error(&vam_run.tlb));

    struct vam_regs r = {0};
    r.rip = g->entry;
    r.rsi = si;
    r.rsp = stack_top;
    r.cs = 0;
    r.ss = 0;
    vam_set_guest_rflags(&vam_run.vcpu, &r, X86_RFLAGS_FIXED);
    vam_run_log("entering the guest at %#llx (rsi %#llx, %llu MiB of RAM for it) after %llu ms",
                (unsigned long long)r.rip, (unsigned long long)si,
                (unsigned long long)(ram_end >> 20),
                (unsigned long long)((be_now_ns() - vam_run.start_ns) / 1000000));
    vam_run.start_ns = be_now_ns();
    vam_run_resume(&r);
}
