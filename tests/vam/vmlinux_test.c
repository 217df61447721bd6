/*
 * The VAM front end on a real annotated kernel (VAM_TEST_VMLINUX):
 *
 *  1. the loader accepts it, and finds exactly the sites and mode markers
 *     the inspector (afterburn_inspect_core, libelf) finds, field by field,
 *     with the same 16/32-bit and .altinstr_replacement sites;
 *  2. the decoder agrees with Zydis on every 64-bit site (kind, length and
 *     all operands);
 *  3. the whole kernel is rewritten (in a copy), with and without templates;
 *     every rewritten site decodes with Zydis as its planned replacement plus
 *     NOPs, nothing outside the sites changes, and every call site's return
 *     address finds its table entry.
 *
 * Argument: the vmlinux.
 */
#include "testutil.h"
#include "zyref.h"

#include "image.h"
#include "notes.h"

#include <vam/loader.h>
#include <vam/rewrite.h>
#include <vam/stats.h>

#include <afterburn/kinds.h>

#include <string.h>
#include <time.h>

static struct zyref Z;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_addr(const void *a, const void *b)
{
    const struct ab_site *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* 1. The same records as the inspector. */
static void compare_with_inspector(const char *path, uint8_t *img, size_t size,
                                   const struct vam_guest *g)
{
    struct ab_image im;
    char why[256];
    uint8_t *copy = malloc(size);
    memcpy(copy, img, size);
    if (!ab_image_open(&im, path, copy, size, why, sizeof why)) {
        CHECK(0, "inspector cannot open %s: %s", path, why);
        free(copy);
        return;
    }
    struct ab_records r;
    struct ab_diags d = { 0 };
    ab_records_read(&im, &r, &d);
    CHECK(d.nerrors == 0, "the inspector reports %zu errors", d.nerrors);
    CHECK(r.nsite == g->nsite && r.nmarker == g->nmark && r.nnotes == g->nnotes,
          "inspector: %zu sites, %zu markers, %zu notes; vam: %zu, %zu, %u", r.nsite, r.nmarker,
          r.nnotes, g->nsite, g->nmark, g->nnotes);
    qsort(r.site, r.nsite, sizeof *r.site, cmp_addr);
    size_t templates = 0, other = 0, mismatches = 0;
    for (size_t i = 0; i < r.nsite && i < g->nsite; i++) {
        const struct ab_site *a = &r.site[i];
        const struct vam_site *b = &g->site[i];
        bool same = a->addr == b->addr && a->len == b->len && a->insn_off == b->insn_off &&
                    a->insn_len == b->insn_len && a->kind == b->kind && a->mode == b->mode &&
                    a->flags == b->flags;
        if (!same && mismatches++ < 10)
            CHECK(same, "site %zu: inspector 0x%llx kind %u len %u, vam 0x%llx kind %u len %u", i,
                  (unsigned long long)a->addr, a->kind, a->len, (unsigned long long)b->addr,
                  b->kind, b->len);
        bool tmpl = a->shndx && strcmp(im.sec[a->shndx].name, ".altinstr_replacement") == 0;
        templates += tmpl;
        other += a->mode != AB_MODE_64;
        CHECK(tmpl == !!(b->status & VAM_SITE_TEMPLATE), "template flag of 0x%llx",
              (unsigned long long)b->addr);
    }
    CHECK(mismatches == 0, "%zu sites differ from the inspector's", mismatches);
    CHECK(templates == g->ntemplate && other == g->nother_mode,
          "inspector: %zu templates, %zu other-mode; vam: %u, %u", templates, other, g->ntemplate,
          g->nother_mode);
    printf("loader: the same %zu sites and %zu mode markers as the inspector (%zu in 16/32-bit "
           "code, %zu templates)\n", r.nsite, r.nmarker, other, templates);
    ab_records_free(&r);
    ab_diags_free(&d);
    ab_image_close(&im);
    free(copy);
}

/* 2. The decoder against Zydis on every 64-bit site. */
static void compare_decoders(const struct vam_guest *g)
{
    long n = 0, bad = 0, per_kind[AB_KIND_MAX] = { 0 };
    for (size_t i = 0; i < g->nsite; i++) {
        const struct vam_site *s = &g->site[i];
        if (s->status & VAM_SITE_OTHER_MODE)
            continue;
        const uint8_t *p = vam_guest_bytes(g, s->addr, s->len) + s->insn_off;
        size_t room = (size_t)s->len - s->insn_off;
        struct vam_insn got, want;
        char ztext[128], vtext[128] = "", diff[512];
        bool zs = zyref_decode(&Z, p, room, &want, ztext, sizeof ztext);
        enum vam_decode_result r = vam_decode(p, room, s->mode, &got);
        if (r == VAM_DEC_OK)
            vam_insn_format(&got, vtext, sizeof vtext);
        bool ok = zs && r == VAM_DEC_OK && !zyref_compare(&got, &want, diff, sizeof diff) &&
                  got.kind == s->kind && got.len == s->insn_len;
        if (!ok && bad++ < 20)
            CHECK(ok, "site 0x%llx: zydis '%s', vam '%s' (result %d):%s",
                  (unsigned long long)s->addr, ztext, vtext, r, zs && r == VAM_DEC_OK ? diff : "");
        per_kind[s->kind]++;
        n++;
    }
    printf("decoder: %ld 64-bit sites compared with Zydis, %ld disagreements\n  by kind:", n, bad);
    for (size_t k = 0; k < AB_KIND_COUNT; k++)
        if (per_kind[ab_kind_table[k].id])
            printf(" %s %ld", ab_kind_table[k].name, per_kind[ab_kind_table[k].id]);
    printf("\n");
    CHECK(bad == 0, "%ld sites disagree", bad);
}

struct copy {
    const struct vam_guest *g;
    uint8_t *bytes;
};

static uint8_t *map_copy(void *ctx, uint64_t vaddr, size_t len)
{
    struct copy *c = ctx;
    int64_t off = vam_guest_file_offset(c->g, vaddr, len);
    return off < 0 ? NULL : c->bytes + off;
}

/* 3. The whole kernel rewritten. */
static void rewrite(const struct vam_guest *g, const uint8_t *img, size_t size, unsigned flags)
{
    struct copy c = { g, malloc(size) };
    memcpy(c.bytes, img, size);
    struct vam_site_table t = { .cap = g->nsite };
    t.v = malloc(sizeof *t.v * (t.cap + 1));
    struct vam_stats st;
    vam_stats_reset(&st);
    struct vam_error e;
    double t0 = now();
    enum vam_status r = vam_rewrite_guest(g, flags, map_copy, &c, &t, &st, &e);
    double t1 = now();
    CHECK(r == VAM_OK, "rewrite: %s", e.msg);
    size_t verified = 0, bad = 0;
    uint8_t *in_site = calloc(size, 1);
    for (size_t k = 0; k < t.n; k++) {
        const struct vam_site_entry *en = &t.v[k];
        uint64_t addr = en->key - en->back;
        size_t len = (size_t)en->back + en->fwd;
        int64_t off = vam_guest_file_offset(g, addr, len);
        memset(in_site + off, 1, len);
        /* the replacement ends at the key */
        struct vam_plan plan = { 0 };
        bool found = false;
        for (unsigned at = 0; at < en->back && !found; at++)
            if (vam_decode_replacement(c.bytes + off + at, len - at, &plan) &&
                at + plan.len == en->back) {
                plan.off = (uint8_t)at;
                found = true;
            }
        char why[200];
        bool ok = found && plan.form == en->form &&
                  zyref_check_site(&Z, c.bytes + off, len, &plan, why, sizeof why) &&
                  vam_site_lookup(&t, en->key) == en;
        if (!ok && bad++ < 10)
            CHECK(ok, "site 0x%llx: %s", (unsigned long long)addr, found ? why : "no replacement");
        verified += ok;
    }
    for (size_t i = 0; i < size; i++)
        if (!in_site[i] && c.bytes[i] != img[i]) {
            CHECK(0, "file offset 0x%zx outside the sites changed", i);
            break;
        }
    char table[8192];
    vam_stats_format(&st, table, sizeof table);
    printf("rewrite (flags 0x%x): %zu sites in %.1f ms, %zu verified with Zydis, %u jump slots\n%s",
           flags, t.n, (t1 - t0) * 1e3, verified, t.njump, table);
    CHECK(t.n == g->nsite - g->nother_mode - ((flags & VAM_RW_TEMPLATES) ? 0 : g->ntemplate),
          "%zu rewritten", t.n);
    free(in_site);
    free(t.v);
    free(c.bytes);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: vam-vmlinux-test VMLINUX\n");
        return 2;
    }
    if (!zyref_init(&Z))
        return 2;
    size_t size;
    uint8_t *img = read_file(argv[1], &size);
    struct vam_guest g;
    struct vam_error e;
    vam_load(&g, img, size, NULL, 0, &e);
    struct vam_site *buf = malloc(sizeof *buf * (g.nrecords + 1));
    double t0 = now();
    enum vam_status st = vam_load(&g, img, size, buf, g.nrecords, &e);
    double t1 = now();
    if (st != VAM_OK) {
        printf("error [%s]: %s\n", vam_status_name(st), e.msg);
        return 1;
    }
    printf("%s: %zu sites (%u in 16/32-bit code, %u templates), %zu mode markers, %u notes; "
           "loaded and validated in %.1f ms\n", argv[1], g.nsite, g.nother_mode, g.ntemplate,
           g.nmark, g.nnotes, (t1 - t0) * 1e3);
    compare_with_inspector(argv[1], img, size, &g);
    compare_decoders(&g);
    rewrite(&g, img, size, 0);
    rewrite(&g, img, size, VAM_RW_TEMPLATES);
    free(buf);
    free(img);
    return test_done("vam-vmlinux-test");
}
