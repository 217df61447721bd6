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
#include "vam/memsite.h"
#include "run-internal.h"

#include "vam/lib.h"
#include "vam/loader.h"
#include "vam/pack.h"
#include "vam/rewrite.h"
#include "vam/walk.h"
#include "afterburn/abi.h"

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
/* page-table write logging (run.h) */
static uint8_t memstub_pages[VAM_RUN_MEMSTUBS_PAGES][4096] __attribute__((aligned(4096)));
static volatile uint32_t ptlog_count_page[1024] __attribute__((aligned(4096)));
static volatile uint64_t ptlog_ring[VAM_RUN_PTLOG_ENTRIES] __attribute__((aligned(4096)));
#define MAX_MEMSITES 8192
static struct vam_memsite memsites[MAX_MEMSITES];
#define PT_TABLES 8192
static struct vam_shadow_table pt_tables[PT_TABLES];
#define PT_FRAMES (1u << 18)        /* guest RAM tracked: 1 GiB */
static uint32_t pt_frames[PT_FRAMES];

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

void vam_run_guest_reset(const char *how)
{
    vam_run_report();
    vam_run_log("guest reset the machine (%s) after %llu ms: reboot", how,
                (unsigned long long)((be_now_ns() - vam_run.start_ns) / 1000000));
    be_shutdown(BE_REBOOT);
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

/* Whether the VAM's command line holds `word` as a whole word. */
static bool cmdline_has(const char *cmdline, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = cmdline; *p; p++)
        if (!memcmp(p, word, n) && (p == cmdline || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
            return true;
    return false;
}

/* vam.passthrough=VVVV:DDDD (hex PCI vendor and device): the machine
 * function to pass through to the guest (passthrough.c). */
static void parse_passthrough(const char *cmdline)
{
    static const char key[] = "vam.passthrough=";
    for (const char *p = cmdline; *p; p++) {
        if (memcmp(p, key, sizeof key - 1) || (p != cmdline && p[-1] != ' '))
            continue;
        p += sizeof key - 1;
        uint32_t v[2] = {0, 0};
        for (unsigned k = 0; k < 2; k++) {
            unsigned digits = 0;
            for (; digits < 4; digits++, p++) {
                char c = *p;
                unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                           : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                           : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
                if (d == 16)
                    break;
                v[k] = v[k] << 4 | d;
            }
            if (digits == 0 || (k == 0 && *p++ != ':') || (k == 1 && *p && *p != ' '))
                vam_run_fatal("vam.passthrough= takes VENDOR:DEVICE in hex (e.g. 8086:100e)");
        }
        vam_run_passthrough_vendor = (uint16_t)v[0];
        vam_run_passthrough_device = (uint16_t)v[1];
        return;
    }
}

/* ---- the VAM's pages in the guest's kernel spaces ------------------------------------ */

static bool map_vam_pages(be_space_t s, void *ctx)
{
    (void)ctx;
    unsigned hot = vam_run.hot_protected ? BE_R : BE_R | BE_W;
    if (!be_map_vam(s, VAM_RUN_FIXED_VA, fixed_area.page, hot) ||
        !be_map_vam(s, VAM_RUN_STUBS_VA, stubs_page, BE_R | BE_X) ||
        !be_map_vam(s, VAM_RUN_GATE_VA, vam_run.gate_page, BE_R | BE_W | BE_X))
        return false;
    if (!vam_run.pt_logging)
        return true;
    for (unsigned i = 0; i < VAM_RUN_MEMSTUBS_PAGES; i++)
        if (!be_map_vam(s, VAM_RUN_MEMSTUBS_VA + i * 4096ull, memstub_pages[i], BE_R | BE_X))
            return false;
    if (!be_map_vam(s, VAM_RUN_PTLOG_VA, (const void *)ptlog_count_page, BE_R | BE_W))
        return false;
    for (unsigned i = 0; i < VAM_RUN_PTLOG_PAGES; i++)
        if (!be_map_vam(s, VAM_RUN_PTLOG_RING_VA + i * 4096ull,
                        (const void *)&ptlog_ring[i * 512], BE_R | BE_W))
            return false;
    return true;
}

bool vam_run_in_memstubs(uint64_t rip)
{
    return rip >= VAM_RUN_MEMSTUBS_VA && rip < VAM_RUN_MEMSTUBS_VA + VAM_RUN_MEMSTUBS_PAGES * 4096ull;
}

/* Every page-table write the guest logged since the last drain goes to the
 * shadow: before a CR3 write switches spaces (the space switched to must be
 * current) and before a fill (a write logged before the fill is already in
 * what the fill installs; drained later it would remove a good
 * translation).  Never while the guest is inside a stub, which may have
 * counted its entry without writing it yet.  The log holds guest-virtual
 * addresses of entries (the kernel's direct map); one that does not
 * translate is ignored (the guest can write the log, it only hurts itself). */
void vam_run_pt_log_drain(void)
{
    static uint64_t gpas[VAM_RUN_PTLOG_ENTRIES];
    struct vam_shadow *sh = &vam_run.tlb;
    uint32_t count = ptlog_count_page[0];
    uint32_t pending = count - vam_run.pt_log_consumed;
    if (!pending)
        return;
    vam_run.pt_log_drains++;
    vam_run.pt_log_consumed = count;
    if (pending > VAM_RUN_PTLOG_ENTRIES) {
        vam_shadow_pt_writes_lost(sh);      /* the ring overflowed */
        return;
    }
    uint64_t page = 1, page_gpa = 0;        /* one-page translation cache */
    size_t n = 0;
    for (uint32_t i = count - pending; i != count; i++) {
        uint64_t va = ptlog_ring[i & (VAM_RUN_PTLOG_ENTRIES - 1)];
        if ((va & ~0xfffull) != page) {
            struct vam_walk w;
            if (vam_walk(&vam_run.vcpu, va, VAM_ACC_READ, &w) != VAM_WALK_OK)
                continue;
            page = va & ~0xfffull;
            page_gpa = w.gpa & ~0xfffull;
        }
        gpas[n++] = page_gpa | (va & 0xff8);
    }
    vam_run.pt_log_entries += pending;
    vam_shadow_pt_written_batch(sh, gpas, n);
}

static void pt_log_drain(struct vam_shadow *sh, struct vam_vcpu *v, void *ctx)
{
    (void)sh, (void)v, (void)ctx;
    vam_run_pt_log_drain();
}

/* The page-table write sites of the guest (afterburn-cparse) into calls of
 * logging stubs, unless `vam.ptlog=off`; then the shadow keeps spaces
 * across switches. */
static void setup_pt_logging(const struct vam_guest *g, const char *cmdline)
{
    struct vam_error e;
    size_t n = 0;
    if (vam_load_memsites(g, memsites, MAX_MEMSITES, &n, &e))
        vam_run_fatal("refusing the guest: %s", e.msg);
    vam_run.nmemsites = n;
    unsigned writes = 0;
    for (size_t i = 0; i < n; i++)
        writes += memsites[i].kind == AB_MEM_PT_WRITE || memsites[i].kind == AB_MEM_PT_RMW;
    if (!writes) {
        if (n)
            vam_run_log("%zu memory sites, none a page-table write: no page-table tracking", n);
        return;
    }
    if (cmdline_has(cmdline, "vam.ptlog=off")) {
        vam_run_log("%zu memory sites (%u page-table writes) left alone (vam.ptlog=off): the "
                    "shadow flushes on every address-space switch", n, writes);
        return;
    }
    struct vam_memlog_layout log = {.count_va = VAM_RUN_PTLOG_VA,
                                    .entries_va = VAM_RUN_PTLOG_RING_VA,
                                    .mask = VAM_RUN_PTLOG_ENTRIES - 1};
    struct vam_memsite_rewrite_stats st;
    if (vam_memsites_rewrite(g, memsites, n, map_segment, (void *)(uintptr_t)g,
                             &memstub_pages[0][0], sizeof memstub_pages, VAM_RUN_MEMSTUBS_VA,
                             &log, &st, &e))
        vam_run_fatal("refusing the guest: %s", e.msg);
    vam_run.pt_logging = true;
    vam_run.memsites_rewritten = st.rewritten;
    vam_run.memstubs = st.stubs;
    vam_run_log("page-table tracking: %zu memory sites, %u page-table writes now log through "
                "%u stubs, %u reads and device sites left alone", n, st.rewritten, st.stubs,
                st.untouched);
}

/* The hot page read-only (or writable again) in every kernel space: while
 * an interrupt waits for the guest's IF, the guest's inline sti (a write to
 * it) must come to the VAM, which delivers the interrupt right after it. */
void vam_run_protect_hot(bool protect)
{
    if (protect == vam_run.hot_protected)
        return;
    vam_run.hot_protected = protect;
    vam_run.hot_toggles++;
    for (unsigned i = 0; i < VAM_SHADOW_MAX_PAIRS; i++)
        if (vam_run.tlb.pair[i].used &&
            !be_map_vam(vam_run.tlb.pair[i].kernel, VAM_RUN_FIXED_VA, fixed_area.page,
                        protect ? BE_R : BE_R | BE_W))
            vam_run_fatal("cannot remap the VAM's hot page in a kernel space");
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

/* ---- Linux: the 64-bit boot protocol (Documentation/x86/boot.rst) ------------------ */

/* boot_params ("zero page") offsets */
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_E820_ENTRIES      0x1e8
#define BP_SENTINEL          0x1ef
#define BP_BOOT_FLAG         0x1fe
#define BP_HEADER            0x202
#define BP_VERSION           0x206
#define BP_TYPE_OF_LOADER    0x210
#define BP_LOADFLAGS         0x211
#define BP_RAMDISK_IMAGE     0x218
#define BP_RAMDISK_SIZE      0x21c
#define BP_CMD_LINE_PTR      0x228
#define BP_CMDLINE_SIZE      0x238
#define BP_E820_TABLE        0x2d0
#define E820_RAM 1
#define E820_RESERVED 2
#define LINUX_BOOT_PARAMS 0x7000        /* inside the 64 KiB Linux keeps for itself */
#define LINUX_CMDLINE     0x8000
#define LINUX_CMDLINE_MAX 2048
#define LINUX_BOOT_CS 0x10              /* __BOOT_CS, __BOOT_DS */
#define LINUX_BOOT_DS 0x18

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void e820_add(uint8_t *bp, uint64_t addr, uint64_t size, uint32_t type)
{
    uint8_t n = bp[BP_E820_ENTRIES];
    uint8_t *e = bp + BP_E820_TABLE + 20u * n;
    memcpy(e, &addr, 8);
    memcpy(e + 8, &size, 8);
    memcpy(e + 16, &type, 4);
    bp[BP_E820_ENTRIES] = (uint8_t)(n + 1);
}

/* Builds boot_params with the e820 map, the command line and the initrd,
 * and returns its guest-physical address (the kernel's %rsi). */
static uint64_t build_linux_boot(const struct vam_guest *g, uint64_t ram_end, const char *cmdline,
                                 const uint8_t *initrd, uint64_t initrd_size)
{
    uint8_t *bp = gpa(LINUX_BOOT_PARAMS, 4096);
    memset(bp, 0, 4096);
    put16(bp + BP_BOOT_FLAG, 0xaa55);
    memcpy(bp + BP_HEADER, "HdrS", 4);
    put16(bp + BP_VERSION, 0x020f);
    bp[BP_TYPE_OF_LOADER] = 0xff;           /* "undefined" boot loader */
    bp[BP_LOADFLAGS] = 0x01;                /* LOADED_HIGH */
    put32(bp + BP_CMDLINE_SIZE, LINUX_CMDLINE_MAX - 1);

    /* the command line, with the TSC rate the VAM knows (no calibration) */
    char *line = (char *)gpa(LINUX_CMDLINE, LINUX_CMDLINE_MAX);
    int n = vam_snprintf(line, LINUX_CMDLINE_MAX, "%s", cmdline);
    bool has_tsc = false;
    for (const char *p = cmdline; *p; p++)
        if (!memcmp(p, "tsc_early_khz=", 14))
            has_tsc = true;
    if (!has_tsc)
        n += vam_snprintf(line + n, (size_t)(LINUX_CMDLINE_MAX - n), "%stsc_early_khz=%llu",
                          n ? " " : "", (unsigned long long)(be_tsc_hz() / 1000));
    if (vam_run_passthrough_vendor) {
        /* where guest RAM lies for the passed-through device's DMA */
        struct be_dma_range dr[16];
        unsigned nr = be_dma_ranges(dr, 16);
        if (nr > 16)
            vam_run_fatal("pass-through: guest RAM lies in %u machine extents, more than the "
                          "guest's dma_window= takes (16)", nr);
        for (unsigned i = 0; i < nr && n < LINUX_CMDLINE_MAX; i++)
            n += vam_snprintf(line + n, (size_t)(LINUX_CMDLINE_MAX - n), "%s%#llx@%#llx+%#llx",
                              i ? "," : " dma_window=", (unsigned long long)dr[i].gpa,
                              (unsigned long long)dr[i].bus, (unsigned long long)dr[i].size);
    }
    if (n >= LINUX_CMDLINE_MAX)
        vam_run_fatal("refusing the guest: its command line is longer than %d bytes",
                      LINUX_CMDLINE_MAX - 1);
    put32(bp + BP_CMD_LINE_PTR, LINUX_CMDLINE);

    /* the initrd at the top of the guest's RAM, above every segment */
    uint64_t top_seg = 0;
    for (unsigned i = 0; i < g->nseg; i++)
        if (g->seg[i].paddr + g->seg[i].memsz > top_seg)
            top_seg = g->seg[i].paddr + g->seg[i].memsz;
    if (initrd_size) {
        uint64_t at = (ram_end - initrd_size) & ~4095ull;
        if (initrd_size > ram_end || at < top_seg)
            vam_run_fatal("refusing the guest: the initrd (%llu KiB) does not fit between the "
                          "kernel and the end of guest RAM", (unsigned long long)(initrd_size >> 10));
        memcpy(gpa(at, initrd_size), initrd, initrd_size);
        put32(bp + BP_RAMDISK_IMAGE, (uint32_t)at);
        put32(bp + BP_RAMDISK_SIZE, (uint32_t)initrd_size);
        put32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(at >> 32));
        put32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(initrd_size >> 32));
    }

    /* e820: low RAM, the legacy hole (VGA, BIOS), RAM above 1 MiB, the boot block */
    e820_add(bp, 0, 0x9fc00, E820_RAM);
    e820_add(bp, 0x9fc00, 0x400, E820_RESERVED);
    e820_add(bp, 0xf0000, 0x10000, E820_RESERVED);
    e820_add(bp, 0x100000, ram_end - 0x100000, E820_RAM);
    e820_add(bp, ram_end, be_memory()->gpa_size - ram_end, E820_RESERVED);
    vam_run_log("Linux boot: command line \"%s\", initrd %llu KiB, %llu MiB of RAM", line,
                (unsigned long long)(initrd_size >> 10), (unsigned long long)(ram_end >> 20));
    return LINUX_BOOT_PARAMS;
}

/* ---- start ------------------------------------------------------------------------------ */

/* sti is one memory operation on the hot page (orb), which the VAM makes
 * read-only while an interrupt is waiting (vam_run_protect_hot), so that
 * sti then faults into the VAM and the interrupt comes right after it.
 * vam.sti=call on the VAM's command line makes every sti a gate call. */
static unsigned rewrite_flags(const char *cmdline)
{
    return cmdline_has(cmdline, "vam.sti=call") ? 0u : VAM_RW_STI_INLINE;
}

void vam_fe_main(const uint8_t *module, uint64_t module_len, const char *vam_cmdline)
{
    struct vam_error e;
    struct vam_guest *g = &vam_run.guest;
    vam_run.start_ns = be_now_ns();
    vam_run_log("front end: module of %llu bytes, command line \"%s\"",
                (unsigned long long)module_len, vam_cmdline);
    parse_passthrough(vam_cmdline);
    if (!module || module_len == 0)
        vam_run_fatal("refusing the guest: no guest image (module) was given");

    /* 0. a pack (kernel, initrd, command line) or a bare kernel */
    const uint8_t *image = module, *initrd = 0;
    uint64_t image_len = module_len, initrd_len = 0;
    const char *cmdline = vam_cmdline;
    static struct vam_pack pack;
    static char pack_cmdline[LINUX_CMDLINE_MAX];
    vam_run.linux_boot = false;
    if (vam_pack_is(module, module_len)) {
        if (vam_pack_open(&pack, module, module_len, &e))
            vam_run_fatal("refusing the guest: %s", e.msg);
        image = vam_pack_file(&pack, "kernel", &image_len);
        initrd = vam_pack_file(&pack, "initrd", &initrd_len);
        uint64_t n;
        const uint8_t *c = vam_pack_file(&pack, "cmdline", &n);
        if (c) {
            if (n == 0 || n > sizeof pack_cmdline || c[n - 1] != 0)
                vam_run_fatal("refusing the guest: the pack's command line is not a "
                              "NUL-terminated string of at most %zu bytes", sizeof pack_cmdline);
            memcpy(pack_cmdline, c, n);
            cmdline = pack_cmdline;
        }
        vam_run.linux_boot = pack.protocol == VAM_PACK_LINUX;
        vam_run_log("pack: kernel %llu bytes, initrd %llu bytes, %s boot protocol",
                    (unsigned long long)image_len, (unsigned long long)initrd_len,
                    vam_run.linux_boot ? "Linux" : "test-guest");
    }

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
    if (vam_rewrite_guest(g, rewrite_flags(vam_cmdline), map_segment, g, &vam_run.table,
                          &vam_run.stats, &e))
        vam_run_fatal("refusing the guest: %s", e.msg);
    vam_run_log("rewrote %zu sites (%u through jump slots), %llu bytes of replacements, "
                "%llu bytes of no-ops", vam_run.table.n, vam_run.table.njump,
                (unsigned long long)vam_run.stats.bytes_replacement,
                (unsigned long long)vam_run.stats.bytes_nop);
    setup_pt_logging(g, vam_cmdline);

    /* 3. boot block: page tables, stack; start info or boot_params */
    pt_next = ram_end;
    pt_end = ram_end + RESERVED - 4096 - BOOT_STACK_SIZE;
    uint64_t l4 = build_page_tables(g, m->gpa_size);
    uint64_t rsi = vam_run.linux_boot ? build_linux_boot(g, ram_end, cmdline, initrd, initrd_len)
                                 : build_start_info(pt_end, ram_end, cmdline);
    uint64_t stack_top = m->gpa_size;

    /* 4. the virtual CPU, the platform, the TLB */
    vam_run.gate_page = be_gate_page(VAM_RUN_GATE_VA);
    vam_vcpu_init(&vam_run.vcpu, &fixed_area.f);
    vam_run.dr[6] = 0xffff0ff0;
    vam_run.dr[7] = 0x400;
    fixed_area.f.jump_slot = VAM_RUN_NO_JUMP;
    if (vam_run.linux_boot) {
        fixed_area.f.sel[VAM_SEG_CS] = LINUX_BOOT_CS;
        fixed_area.f.sel[VAM_SEG_SS] = fixed_area.f.sel[VAM_SEG_DS] =
            fixed_area.f.sel[VAM_SEG_ES] = LINUX_BOOT_DS;
    }
    vam_shadow_init(&vam_run.tlb, 8);
    vam_run.tlb.kernel_space_created = map_vam_pages;
    if (vam_run.pt_logging) {
        vam_run.tlb.pt_log_drain = pt_log_drain;
        uint64_t nframes = be_memory()->gpa_size >> 12;
        vam_shadow_track_enable(&vam_run.tlb, pt_tables, PT_TABLES, pt_frames,
                                nframes < PT_FRAMES ? nframes : PT_FRAMES);
    }
    vam_platform_init();
    vam_run_emul_init();
    if (vam_shadow_set_cr3(&vam_run.tlb, &vam_run.vcpu, l4) != VAM_SHADOW_OK)
        vam_run_fatal("initial address space: %s", vam_shadow_error(&vam_run.tlb));

    struct vam_regs r = {0};
    r.rip = g->entry;
    r.rsi = rsi;
    r.rsp = stack_top;
    vam_set_guest_rflags(&vam_run.vcpu, &r, X86_RFLAGS_FIXED);
    vam_run_log("entering the guest at %#llx (rsi %#llx, %llu MiB of RAM for it) after %llu ms",
                (unsigned long long)r.rip, (unsigned long long)rsi,
                (unsigned long long)(ram_end >> 20),
                (unsigned long long)((be_now_ns() - vam_run.start_ns) / 1000000));
    vam_run.start_ns = be_now_ns();
    vam_run_resume(&r);
}
