/*
 * The rewriter:
 *  - every kind in allkinds (each site padded to exactly its class minimum)
 *    is planned and rewritten, and Zydis decodes the result back as exactly
 *    the planned replacement plus NOPs;
 *  - the plan for each instruction is the one rewrite.h promises (spot checks);
 *  - too-small pads are refused with a message naming the site;
 *  - whole guests: vam_rewrite_guest on a copy of allkinds and good, checked
 *    byte for byte (only rewritable sites change), with the site table's
 *    lookups, the counters, the options, and its refusal to rewrite twice or
 *    to run out of table space half way.
 *
 * Arguments: allkinds good (linked test inputs).
 */
#include "testutil.h"
#include "zyref.h"

#include <vam/layout.h>
#include <vam/loader.h>
#include <vam/rewrite.h>
#include <vam/stats.h>

#include <afterburn/kinds.h>

#include <string.h>

static struct zyref Z;

struct guest {
    uint8_t *img;
    size_t size;
    struct vam_site *sites;
    struct vam_guest g;
};

static void load(struct guest *x, const char *path)
{
    x->img = read_file(path, &x->size);
    struct vam_error e;
    vam_load(&x->g, x->img, x->size, NULL, 0, &e);
    x->sites = malloc(sizeof *x->sites * (x->g.nrecords + 1));
    if (vam_load(&x->g, x->img, x->size, x->sites, x->g.nrecords, &e) != VAM_OK) {
        fprintf(stderr, "%s: %s\n", path, e.msg);
        exit(2);
    }
}

/* What rewrite.h promises for each operation. */
static void check_plan_shape(const struct vam_site *s, const struct vam_insn *d,
                             const struct vam_plan *p, unsigned flags)
{
    char text[96];
    vam_insn_format(d, text, sizeof text);
    unsigned want_form = VAM_RW_CALL;
    unsigned want_field = VAM_OFF_ENTRY(d->kind);
    switch (d->op) {
    case VAM_OP_CLI:
        want_form = VAM_RW_ANDB;
        want_field = VAM_OFF_IF_BYTE;
        CHECK(p->imm == (uint8_t)~VAM_IF_BYTE_MASK, "cli clears IF only");
        break;
    case VAM_OP_STI:
        if (flags & VAM_RW_STI_INLINE) {
            want_form = VAM_RW_ORB;
            want_field = VAM_OFF_IF_BYTE;
            CHECK(p->imm == VAM_IF_BYTE_MASK, "sti sets IF only");
        }
        break;
    case VAM_OP_PUSHF:
        if (d->opsize == 8 && !(flags & VAM_RW_PUSHF_CALL)) {
            want_form = VAM_RW_PUSHQ;
            want_field = VAM_OFF_RFLAGS;
        }
        break;
    case VAM_OP_SWAPGS:
        if (flags & VAM_RW_SWAPGS_INLINE) {
            want_form = VAM_RW_XORB;
            want_field = VAM_OFF_GS_SWAPPED;
            CHECK(p->imm == 1, "swapgs toggles bit 0");
        } else {
            want_form = VAM_RW_JMP;
            want_field = VAM_OFF_JUMP(p->jslot);
            CHECK(p->jslot < VAM_JUMP_SLOTS, "%s: jump slot %u", text, p->jslot);
        }
        break;
    case VAM_OP_MOV_FROM_SEG:
        if (!(d->flags & VAM_INSN_MEM)) {
            want_form = d->opsize == 2 ? VAM_RW_LOADW : VAM_RW_LOADZX;
            want_field = VAM_OFF_SEL(d->sysreg);
            CHECK(p->reg == d->reg, "%s: loads into register %u", text, p->reg);
        }
        break;
    case VAM_OP_PUSH_SEG:
        if (d->opsize == 8) {
            want_form = VAM_RW_PUSHQ;
            want_field = VAM_OFF_SEL(d->sysreg);
        }
        break;
    case VAM_OP_IRET: case VAM_OP_SYSRET: case VAM_OP_LRET: case VAM_OP_LJMP:
        want_form = VAM_RW_JMP;
        want_field = VAM_OFF_JUMP(p->jslot);
        CHECK(p->jslot < VAM_JUMP_SLOTS, "%s: jump slot %u", text, p->jslot);
        break;
    default:
        break;
    }
    CHECK(p->form == want_form && p->field == want_field,
          "%s: planned %s of field 0x%x, expected %s of 0x%x", text, vam_rw_form_name(p->form),
          p->field, vam_rw_form_name(want_form), want_field);
    const struct ab_kind_info *k = ab_kind_lookup(s->kind);
    unsigned want_off = k->place == AB_PAD_BEFORE ? s->len - p->len : 0;
    CHECK(p->off == want_off, "%s: replacement at +%u, expected +%u", text, p->off, want_off);
}

/* Every 64-bit site of allkinds, at its minimum size, with each option set. */
static void test_every_kind(const struct guest *x)
{
    static const unsigned option_sets[] = { 0, VAM_RW_STI_INLINE | VAM_RW_PUSHF_CALL | VAM_RW_SWAPGS_INLINE };
    long kinds_seen[AB_KIND_MAX] = { 0 };
    int n = 0;
    for (size_t o = 0; o < 2; o++) {
        unsigned flags = option_sets[o], jslot = 0;
        for (size_t i = 0; i < x->g.nsite; i++) {
            const struct vam_site *s = &x->g.site[i];
            if (s->status & VAM_SITE_OTHER_MODE)
                continue;
            const uint8_t *orig = vam_guest_bytes(&x->g, s->addr, s->len);
            const struct ab_kind_info *k = ab_kind_lookup(s->kind);
            CHECK(s->len == (s->insn_len > ab_class_min_site(k->cls) ? s->insn_len
                                                                       : ab_class_min_site(k->cls)),
                  "allkinds site 0x%llx is not of minimum size", (unsigned long long)s->addr);
            struct vam_insn d;
            struct vam_plan p;
            struct vam_error e;
            uint8_t out[256];
            if (vam_site_decode(s, orig, &d, &e) || vam_plan_site(s, &d, flags, jslot, &p, &e) ||
                vam_rewrite_site(s, &p, out, sizeof out, &e)) {
                CHECK(0, "%s", e.msg);
                continue;
            }
            jslot += p.form == VAM_RW_JMP;
            check_plan_shape(s, &d, &p, flags);
            char why[160], text[96];
            vam_insn_format(&d, text, sizeof text);
            CHECK(zyref_check_site(&Z, out, s->len, &p, why, sizeof why), "%s (site 0x%llx): %s",
                  text, (unsigned long long)s->addr, why);
            kinds_seen[s->kind]++;
            n++;
        }
    }
    for (size_t k = 0; k < AB_KIND_COUNT; k++)
        if (ab_kind_table[k].cls != AB_CLASS_NONE && strcmp(ab_kind_table[k].name, "into") != 0)
            CHECK(kinds_seen[ab_kind_table[k].id], "kind %s not rewritten",
                  ab_kind_table[k].name);
    printf("every kind: %d minimum-size sites rewritten and verified with Zydis\n", n);
}

/* Pads too small for the replacement are refused, naming the site. */
static void test_too_small(const struct guest *x)
{
    int n = 0;
    for (size_t i = 0; i < x->g.nsite; i++) {
        const struct vam_site *s0 = &x->g.site[i];
        if (s0->status & VAM_SITE_OTHER_MODE)
            continue;
        const uint8_t *orig = vam_guest_bytes(&x->g, s0->addr, s0->len);
        struct vam_insn d;
        struct vam_plan p;
        struct vam_error e;
        if (vam_site_decode(s0, orig, &d, &e) || vam_plan_site(s0, &d, 0, 0, &p, &e)) {
            CHECK(0, "%s", e.msg);
            continue;
        }
        /* the same site, one byte too short for its replacement */
        struct vam_site s = *s0;
        s.len = (uint8_t)(p.len - 1);
        uint8_t out[256];
        memset(out, 0xcc, sizeof out);
        enum vam_status st = vam_rewrite_site(&s, &p, out, sizeof out, &e);
        char want[200], kb[16];
        snprintf(want, sizeof want,
                 "site 0x%llx (%s, record %u): pad too small for the replacement (%s, %u bytes "
                 "at +%u): %u < %u", (unsigned long long)s.addr, vam_kind_name(s.kind, kb),
                 s.record, vam_rw_form_name(p.form), p.len, p.off, s.len, p.off + p.len);
        CHECK(st == VAM_ERR_PAD && strcmp(e.msg, want) == 0, "got \"%s\"\n  expected \"%s\"",
              e.msg, want);
        CHECK(out[0] == 0xcc, "a refused rewrite wrote its output");
        /* and the planner refuses a site smaller than the replacement */
        struct vam_plan p2;
        if (s.insn_len <= s.len) {
            if (s.insn_off + s.insn_len > s.len)
                s.insn_off = (uint8_t)(s.len - s.insn_len);
            st = vam_plan_site(&s, &d, 0, 0, &p2, &e);
            CHECK(st == VAM_ERR_PAD && strstr(e.msg, "pad too small for the replacement"),
                  "planner: %d %s", st, e.msg);
        }
        n++;
    }
    /* jump slots run out */
    for (size_t i = 0; i < x->g.nsite; i++) {
        const struct vam_site *s = &x->g.site[i];
        struct vam_insn d;
        struct vam_plan p;
        struct vam_error e;
        if ((s->status & VAM_SITE_OTHER_MODE) ||
            vam_site_decode(s, vam_guest_bytes(&x->g, s->addr, s->len), &d, NULL) ||
            d.op != VAM_OP_SYSRET)
            continue;
        CHECK(vam_plan_site(s, &d, 0, VAM_JUMP_SLOTS, &p, &e) == VAM_ERR_TABLE &&
              strstr(e.msg, "no free jump slot (all 128 in use)"), "%s", e.msg);
        break;
    }
    printf("too small: %d sites refused one byte short of their replacement\n", n);
}

/* Maps guest addresses to file offsets in a copy of the image. */
struct copy {
    const struct vam_guest *g;
    uint8_t *bytes;
    long maps;
};

static uint8_t *map_copy(void *ctx, uint64_t vaddr, size_t len)
{
    struct copy *c = ctx;
    int64_t off = vam_guest_file_offset(c->g, vaddr, len);
    c->maps++;
    return off < 0 ? NULL : c->bytes + off;
}

static uint8_t *map_none(void *ctx, uint64_t vaddr, size_t len)
{
    (void)ctx;
    (void)vaddr;
    (void)len;
    return NULL;
}

static bool wanted(const struct vam_site *s, unsigned flags)
{
    return !(s->status & VAM_SITE_OTHER_MODE) &&
           (!(s->status & VAM_SITE_TEMPLATE) || (flags & VAM_RW_TEMPLATES));
}

static void test_guest(const struct guest *x, const char *name, unsigned flags)
{
    struct copy c = { &x->g, malloc(x->size), 0 };
    memcpy(c.bytes, x->img, x->size);
    struct vam_site_table t = { .cap = x->g.nsite };
    t.v = malloc(sizeof *t.v * (t.cap + 1));
    struct vam_stats st;
    vam_stats_reset(&st);
    struct vam_error e;
    enum vam_status r = vam_rewrite_guest(&x->g, flags, map_copy, &c, &t, &st, &e);
    CHECK(r == VAM_OK, "%s: %s", name, e.msg);

    /* Only rewritable sites changed; each decodes as its entry's plan + NOPs. */
    uint8_t *changed = calloc(x->size, 1);
    size_t rewritten = 0, jumps = 0;
    for (size_t i = 0; i < x->g.nsite; i++) {
        const struct vam_site *s = &x->g.site[i];
        int64_t off = vam_guest_file_offset(&x->g, s->addr, s->len);
        if (!wanted(s, flags)) {
            CHECK(memcmp(c.bytes + off, x->img + off, s->len) == 0,
                  "%s: skipped site 0x%llx changed", name, (unsigned long long)s->addr);
            continue;
        }
        memset(changed + off, 1, s->len);
        const struct vam_site_entry *en = NULL;
        for (size_t k = 0; k < t.n; k++)
            if (t.v[k].key - t.v[k].back == s->addr)
                en = &t.v[k];
        CHECK(en != NULL, "%s: no table entry for site 0x%llx", name,
              (unsigned long long)s->addr);
        if (!en)
            continue;
        rewritten++;
        CHECK(en->back + en->fwd == s->len && en->record == s->record &&
              en->insn_off == s->insn_off && en->insn.kind == s->kind &&
              en->insn.len == s->insn_len, "%s: entry of 0x%llx", name,
              (unsigned long long)s->addr);
        /* the call's return address finds the entry; a jump's slot finds it */
        CHECK(vam_site_lookup(&t, en->key) == en, "%s: lookup 0x%llx", name,
              (unsigned long long)en->key);
        CHECK(vam_site_lookup(&t, en->key - 1) != en && vam_site_lookup(&t, en->key + 1) != en,
              "%s: lookup is exact", name);
        if (en->form == VAM_RW_JMP) {
            jumps++;
            CHECK(vam_site_by_jump_slot(&t, en->jslot) == en, "%s: jump slot %u", name,
                  en->jslot);
        }
        struct vam_plan back;
        size_t poff = en->back - 0u;
        const uint8_t *site = c.bytes + off;
        unsigned rlen = 0;
        for (unsigned at = 0; at <= s->len && !rlen; at++)
            if (vam_decode_replacement(site + at, s->len - at, &back) &&
                at + back.len == poff)
                rlen = back.len;
        struct vam_plan plan = back;
        plan.off = (uint8_t)(poff - rlen);
        char why[160];
        CHECK(rlen && back.form == en->form &&
              zyref_check_site(&Z, site, s->len, &plan, why, sizeof why),
              "%s: site 0x%llx: %s", name, (unsigned long long)s->addr,
              rlen ? why : "no replacement");
    }
    for (size_t i = 0; i < x->size; i++)
        if (!changed[i] && c.bytes[i] != x->img[i]) {
            CHECK(0, "%s: byte at file offset 0x%zx outside the sites changed", name, i);
            break;
        }
    CHECK(t.n == rewritten, "%s: %zu table entries, %zu rewritten sites", name, t.n, rewritten);
    CHECK(t.njump == jumps, "%s: %u jump slots, %zu jump sites", name, t.njump, jumps);
    for (size_t k = 1; k < t.n; k++)
        CHECK(t.v[k - 1].key < t.v[k].key, "%s: table not sorted at %zu", name, k);
    CHECK(vam_site_by_jump_slot(&t, t.njump) == NULL, "%s: unused jump slot", name);

    /* counters */
    uint32_t total = 0, forms = 0;
    for (unsigned k = 0; k < VAM_STATS_KINDS; k++)
        total += st.rewritten[k];
    for (unsigned f = 0; f < VAM_RW_FORM_COUNT; f++)
        forms += st.by_form[f];
    CHECK(total == rewritten && forms == rewritten, "%s: counters %u/%u, %zu rewritten", name,
          total, forms, rewritten);
    uint32_t sites = 0, other = 0, templ = 0;
    for (unsigned k = 0; k < VAM_STATS_KINDS; k++) {
        sites += st.sites[k];
        other += st.skipped_mode[k];
        templ += st.skipped_template[k];
    }
    CHECK(sites == x->g.nsite && other == x->g.nother_mode &&
          templ == ((flags & VAM_RW_TEMPLATES) ? 0 : x->g.ntemplate),
          "%s: counted %u sites, %u other-mode, %u templates", name, sites, other, templ);
    char table[4096];
    vam_stats_format(&st, table, sizeof table);
    printf("%s (flags 0x%x): %zu sites rewritten, %zu via jump slots\n%s", name, flags, rewritten,
           jumps, table);

    /* A second pass finds the rewritten memory and refuses, writing nothing. */
    uint8_t *again = malloc(x->size);
    memcpy(again, c.bytes, x->size);
    r = vam_rewrite_guest(&x->g, flags, map_copy, &c, &t, NULL, &e);
    CHECK(r == (rewritten ? VAM_ERR_MEMORY : VAM_OK) &&
          (!rewritten || strstr(e.msg, "guest memory differs from the image at the site")),
          "%s: second rewrite: %d %s", name, r, e.msg);
    CHECK(memcmp(again, c.bytes, x->size) == 0, "%s: the refused pass wrote", name);

    /* A table too small: refused before anything is written. */
    memcpy(c.bytes, x->img, x->size);
    struct vam_site_table small = { .v = t.v, .cap = rewritten ? rewritten - 1 : 0 };
    r = vam_rewrite_guest(&x->g, flags, map_copy, &c, &small, NULL, &e);
    if (rewritten) {
        CHECK(r == VAM_ERR_TABLE && strstr(e.msg, "site table full"), "%s: small table: %s", name,
              e.msg);
        CHECK(memcmp(c.bytes, x->img, x->size) == 0, "%s: the refused pass wrote", name);
    }
    /* Unmapped memory. */
    r = vam_rewrite_guest(&x->g, flags, map_none, NULL, &t, NULL, &e);
    CHECK(!rewritten || (r == VAM_ERR_MEMORY && strstr(e.msg, "not mapped")), "%s: unmapped: %s",
          name, e.msg);
    free(again);
    free(changed);
    free(t.v);
    free(c.bytes);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: vam-rewrite-test ALLKINDS GOOD\n");
        return 2;
    }
    if (!zyref_init(&Z))
        return 2;
    struct guest all, good;
    load(&all, argv[1]);
    load(&good, argv[2]);
    test_every_kind(&all);
    test_too_small(&all);
    test_guest(&all, "allkinds", 0);
    test_guest(&all, "allkinds", VAM_RW_STI_INLINE | VAM_RW_PUSHF_CALL);
    test_guest(&good, "good", 0);
    test_guest(&good, "good", VAM_RW_TEMPLATES);
    CHECK(good.g.ntemplate == 1, "good has one template");
    free(all.img);
    free(all.sites);
    free(good.img);
    free(good.sites);
    return test_done("vam-rewrite-test");
}
