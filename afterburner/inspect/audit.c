#include "audit.h"

#include "diag.h"

#include <afterburn/kinds.h>

#include <stdlib.h>
#include <string.h>

struct anchor {
    size_t shndx;
    uint64_t off;
};

/* The instruction a site covers, for looking up decoded instructions. */
struct covered {
    size_t shndx;
    uint64_t off;
    unsigned kind;
};

struct vec {
    size_t n, cap;
    void *v;
};

struct sweep {
    const struct ab_image *img;
    const struct ab_records *r;
    const struct ab_x86 *x;
    struct ab_allow_list *allow;
    struct ab_audit *a;
    struct vec anchors;         /* of struct anchor */
    struct vec covered;         /* of struct covered */
};

static void *vec_push(struct vec *v, size_t size)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 1024;
        v->v = ab_xrealloc(v->v, v->cap, size);
    }
    return (char *)v->v + size * v->n++;
}

static void add_anchor(struct sweep *s, size_t shndx, uint64_t off)
{
    *(struct anchor *)vec_push(&s->anchors, sizeof(struct anchor)) = (struct anchor){ shndx, off };
}

static int cmp_anchor(const void *a, const void *b)
{
    const struct anchor *x = a, *y = b;
    if (x->shndx != y->shndx)
        return x->shndx < y->shndx ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

static int cmp_covered(const void *a, const void *b)
{
    const struct covered *x = a, *y = b;
    if (x->shndx != y->shndx)
        return x->shndx < y->shndx ? -1 : 1;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->kind < y->kind ? -1 : x->kind > y->kind;
}

static void collect_anchors(struct sweep *s)
{
    const struct ab_image *img = s->img;
    for (size_t i = 1; i < img->nsec; i++)
        if (ab_section_is_code(&img->sec[i]))
            add_anchor(s, i, 0);
    for (size_t i = 0; i < img->nsym; i++)
        if (ab_section_is_code(&img->sec[img->sym[i].shndx]))
            add_anchor(s, img->sym[i].shndx, img->sym[i].off);
    for (size_t i = 0; i < s->r->nsite; i++) {
        const struct ab_site *site = &s->r->site[i];
        if (site->where != AB_WHERE_CODE)
            continue;
        add_anchor(s, site->shndx, site->off);
        add_anchor(s, site->shndx, site->off + site->insn_off);
        add_anchor(s, site->shndx, site->off + site->len);
    }
    /* memory sites: the mov and its padding decode on their own */
    for (size_t i = 0; i < s->r->nmsite; i++) {
        const struct ab_site *site = &s->r->msite[i];
        if (site->where != AB_WHERE_CODE)
            continue;
        add_anchor(s, site->shndx, site->off);
        add_anchor(s, site->shndx, site->off + site->len);
    }
    for (size_t i = 0; i < s->r->nmode; i++)
        add_anchor(s, s->r->mode[i].shndx, s->r->mode[i].off);
    if (s->anchors.n)
        qsort(s->anchors.v, s->anchors.n, sizeof(struct anchor), cmp_anchor);
}

/* A site covers the instruction at its insn_off if the record names its kind. */
static void collect_covered(struct sweep *s)
{
    for (size_t i = 0; i < s->r->nsite; i++) {
        const struct ab_site *site = &s->r->site[i];
        if (site->where == AB_WHERE_CODE)
            *(struct covered *)vec_push(&s->covered, sizeof(struct covered)) =
                (struct covered){ site->shndx, site->off + site->insn_off, site->kind };
    }
    if (s->covered.n)
        qsort(s->covered.v, s->covered.n, sizeof(struct covered), cmp_covered);
}

static bool is_covered(const struct sweep *s, size_t shndx, uint64_t off, unsigned kind)
{
    struct covered key = { shndx, off, kind };
    return s->covered.n &&
           bsearch(&key, s->covered.v, s->covered.n, sizeof key, cmp_covered) != NULL;
}

static struct ab_finding *new_finding(struct ab_audit *a)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 64;
        a->v = ab_xrealloc(a->v, a->cap, sizeof *a->v);
    }
    struct ab_finding *f = &a->v[a->n++];
    memset(f, 0, sizeof *f);
    return f;
}

static void report_unannotated(struct sweep *s, size_t shndx, uint64_t off, unsigned mode,
                               unsigned kind, const ZydisDecoderContext *ctx,
                               const ZydisDecodedInstruction *insn)
{
    const struct ab_section *sec = &s->img->sec[shndx];
    struct ab_finding *f = new_finding(s->a);
    f->shndx = shndx;
    f->off = off;
    f->addr = sec->addr + off;
    f->kind = (uint8_t)kind;
    f->mode = (uint8_t)mode;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (ab_x86_decode_operands(s->x, mode, ctx, insn, ops))
        ab_x86_format(s->x, insn, ops,
                      ab_image_is_rel(s->img) ? ZYDIS_RUNTIME_ADDRESS_NONE : f->addr, f->text,
                      sizeof f->text);
    const struct ab_symbol *sym = ab_image_symbol_before(s->img, shndx, off);
    f->allowed = sym ? ab_allow_match(s->allow, sym->name, kind) : NULL;
    if (f->allowed) {
        f->allowed->uses++;
        s->a->nallowed++;
    } else if (mode == AB_MODE_64) {
        s->a->nfail++;
    } else {
        s->a->nlegacy++;
    }
}

static void note_sensitive(struct sweep *s, size_t shndx, uint64_t off, unsigned mode,
                           unsigned kind, const ZydisDecoderContext *ctx,
                           const ZydisDecodedInstruction *insn)
{
    const struct ab_kind_info *k = ab_kind_lookup(kind);
    if (!k)
        return;
    if (k->cls == AB_CLASS_NONE)
        s->a->none_count[kind]++;
    else if (is_covered(s, shndx, off, kind))
        s->a->ncovered++;
    else
        report_unannotated(s, shndx, off, mode, kind, ctx, insn);
}

static void sweep_range(struct sweep *s, size_t shndx, uint64_t from, uint64_t to,
                        unsigned mode)
{
    const uint8_t *bytes = s->img->sec[shndx].bytes;
    for (uint64_t pos = from; pos < to;) {
        ZydisDecoderContext ctx;
        ZydisDecodedInstruction insn;
        if (!ab_x86_decode_fast(s->x, mode, bytes + pos, to - pos, &ctx, &insn)) {
            s->a->nbad++;
            pos++;
            continue;
        }
        s->a->ninsn++;
        unsigned kind = ab_x86_classify(s->x, &insn);
        if (kind)
            note_sensitive(s, shndx, pos, mode, kind, &ctx, &insn);
        pos += insn.length;
    }
}

/* Sweeps one section, given its anchors anchors[first, last). */
static void sweep_section(struct sweep *s, size_t first, size_t last)
{
    const struct anchor *an = s->anchors.v;
    size_t shndx = an[first].shndx;
    uint64_t size = s->img->sec[shndx].size;
    s->a->nsections++;
    for (size_t i = first; i < last; i++) {
        uint64_t from = an[i].off;
        uint64_t to = i + 1 < last ? an[i + 1].off : size;
        if (from >= size || from == to)
            continue;
        if (to > size)
            to = size;
        sweep_range(s, shndx, from, to, ab_records_mode_at(s->r, shndx, from));
    }
}

void ab_audit_run(const struct ab_image *img, const struct ab_records *r,
                  const struct ab_x86 *x, struct ab_allow_list *allow, struct ab_audit *a)
{
    memset(a, 0, sizeof *a);
    struct sweep s = { .img = img, .r = r, .x = x, .allow = allow, .a = a };
    collect_anchors(&s);
    collect_covered(&s);
    const struct anchor *an = s.anchors.v;
    for (size_t first = 0; first < s.anchors.n;) {
        size_t last = first;
        while (last < s.anchors.n && an[last].shndx == an[first].shndx)
            last++;
        sweep_section(&s, first, last);
        first = last;
    }
    free(s.anchors.v);
    free(s.covered.v);
}

void ab_audit_free(struct ab_audit *a)
{
    free(a->v);
    memset(a, 0, sizeof *a);
}
