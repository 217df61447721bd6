#include "report.h"

#include "allow.h"

#include <afterburn/kinds.h>

#include <string.h>

#define ALTINSTR_SECTION ".altinstr_replacement"

struct counts {
    size_t by_kind[256];
    size_t sites, markers, mode32, mode16, altinstr;
    size_t by_mem_kind[256];
    size_t mem_volatile, mem_split;
};

static const char *kind_name(unsigned id)
{
    const struct ab_kind_info *k = ab_kind_lookup(id);
    return k ? k->name : id == AB_KIND_MODE ? "mode" : "unknown";
}

static const char *mem_kind_name(unsigned id)
{
    const char *n = ab_mem_kind_name(id);
    return n ? n : "unknown";
}

static const char *site_kind_name(const struct ab_site *s)
{
    return s->mem ? mem_kind_name(s->kind) : kind_name(s->kind);
}

static bool failed(const struct ab_report *r)
{
    return r->fatal || r->diags->nerrors || (r->audit && r->audit->nfail);
}

static const char *section_name(const struct ab_report *r, size_t shndx)
{
    return shndx ? r->img->sec[shndx].name : "-";
}

static uint64_t runtime_address(const struct ab_report *r, uint64_t addr)
{
    return ab_image_is_rel(r->img) ? ZYDIS_RUNTIME_ADDRESS_NONE : addr;
}

static void count_records(const struct ab_report *r, struct counts *c)
{
    memset(c, 0, sizeof *c);
    c->sites = r->rec->nsite;
    c->markers = r->rec->nmarker;
    for (size_t i = 0; i < r->rec->nsite; i++) {
        const struct ab_site *s = &r->rec->site[i];
        c->by_kind[s->kind]++;
        c->mode32 += s->mode == AB_MODE_32;
        c->mode16 += s->mode == AB_MODE_16;
        c->altinstr += s->shndx && strcmp(section_name(r, s->shndx), ALTINSTR_SECTION) == 0;
    }
    for (size_t i = 0; i < r->rec->nmsite; i++) {
        const struct ab_site *s = &r->rec->msite[i];
        c->by_mem_kind[s->kind]++;
        c->mem_volatile += (s->flags & AB_MEMREC_VOLATILE) != 0;
        c->mem_split += (s->flags & AB_MEMREC_SPLIT) != 0;
    }
}

static void site_insn_text(const struct ab_report *r, const struct ab_site *s, char *buf,
                           size_t len)
{
    if (!s->mem && s->kind == AB_KIND_MODE) {
        snprintf(buf, len, "(mode marker: %u-bit code from here)", ab_mode_bits(s->mode));
        return;
    }
    const struct ab_section *sec = &r->img->sec[s->shndx];
    uint64_t at = s->off + s->insn_off;
    if (s->where != AB_WHERE_CODE || at >= sec->size) {
        snprintf(buf, len, "(not in code)");
        return;
    }
    ab_x86_text(r->x86, s->mode, sec->bytes + at, sec->size - at,
                runtime_address(r, s->addr + s->insn_off), buf, len);
}

static const char *placement_name(enum ab_where w)
{
    switch (w) {
    case AB_WHERE_CODE: return "code";
    case AB_WHERE_PAST_END: return "past-end";
    case AB_WHERE_NOT_CODE: return "not-code";
    case AB_WHERE_OUTSIDE: return "outside";
    default: return "unknown";
    }
}

static unsigned pad_of(const struct ab_site *s)
{
    return s->len > s->insn_len ? s->len - s->insn_len : 0;
}

/* ---- text ------------------------------------------------------------- */

static void text_list_row(const struct ab_report *r, const struct ab_site *s, FILE *out)
{
    char sym[512], insn[160];
    ab_image_where(r->img, s->shndx, s->off, sym, sizeof sym);
    site_insn_text(r, s, insn, sizeof insn);
    const char *note = "";
    if (!s->mem && (s->flags & AB_REC_BYTES))
        note = "  [bytes]";
    else if (s->mem && (s->flags & AB_MEMREC_VOLATILE) && (s->flags & AB_MEMREC_SPLIT))
        note = "  [volatile, split]";
    else if (s->mem && (s->flags & AB_MEMREC_VOLATILE))
        note = "  [volatile]";
    else if (s->mem && (s->flags & AB_MEMREC_SPLIT))
        note = "  [split]";
    fprintf(out, "0x%-16llx  %-22s %-30s %3u %3u  %-10s %4u  %s%s\n",
            (unsigned long long)s->addr, section_name(r, s->shndx), sym, s->len, pad_of(s),
            site_kind_name(s), ab_mode_bits(s->mode), insn, note);
}

static bool place_before(const struct ab_site *a, const struct ab_site *b)
{
    return a->shndx < b->shndx || (a->shndx == b->shndx && a->off <= b->off);
}

/* Sites and markers merged in (section, offset) order. */
static void text_list(const struct ab_report *r, FILE *out)
{
    const struct ab_records *rec = r->rec;
    fprintf(out, "%-18s  %-22s %-30s %3s %3s  %-10s %4s  %s\n", "ADDRESS", "SECTION", "SYMBOL",
            "LEN", "PAD", "KIND", "MODE", "INSTRUCTION");
    size_t i = 0, j = 0, m = 0;
    while (i < rec->nsite || j < rec->nmarker || m < rec->nmsite) {
        bool marker_first = j < rec->nmarker &&
            (i == rec->nsite || rec->marker[j].shndx < rec->site[i].shndx ||
             (rec->marker[j].shndx == rec->site[i].shndx &&
              rec->marker[j].off <= rec->site[i].off));
        const struct ab_site *next = NULL;
        if (marker_first)
            next = &rec->marker[j];
        else if (i < rec->nsite)
            next = &rec->site[i];
        if (m < rec->nmsite && (!next || !place_before(next, &rec->msite[m]))) {
            text_list_row(r, &rec->msite[m++], out);
            continue;
        }
        text_list_row(r, next, out);
        if (marker_first)
            j++;
        else
            i++;
    }
}

static void text_diag(const struct ab_report *r, const struct ab_diag *g, FILE *out)
{
    fprintf(out, "%s: %s: ", r->name, g->sev == AB_SEV_ERROR ? "error" : "warning");
    if (g->loc.valid) {
        char where[600];
        ab_image_describe(r->img, g->loc.shndx, g->loc.off, g->loc.addr, where, sizeof where);
        fprintf(out, "%s%s%s%s: ", where, g->kind ? " [" : "", g->kind ? g->kind : "",
                g->kind ? "]" : "");
    }
    fprintf(out, "%s\n", g->message);
}

static void text_counts(const struct ab_report *r, FILE *out)
{
    struct counts c;
    count_records(r, &c);
    fprintf(out, "sites by kind:\n");
    for (unsigned id = 0; id < 256; id++)
        if (c.by_kind[id])
            fprintf(out, "  %-12s %8zu\n", kind_name(id), c.by_kind[id]);
    fprintf(out, "  %-12s %8zu\n", "total", c.sites);
    fprintf(out, "afterburn notes: %zu\n", r->rec->nnotes);
    fprintf(out, "mode markers: %zu\n", c.markers);
    fprintf(out, "sites in 32-bit code: %zu\n", c.mode32);
    fprintf(out, "sites in 16-bit code: %zu\n", c.mode16);
    fprintf(out, "sites in " ALTINSTR_SECTION " (copied elsewhere at run time): %zu\n",
            c.altinstr);
    if (!r->rec->nmsite)
        return;
    fprintf(out, "memory sites by kind:\n");
    for (unsigned id = 0; id < 256; id++)
        if (c.by_mem_kind[id])
            fprintf(out, "  %-12s %8zu\n", mem_kind_name(id), c.by_mem_kind[id]);
    fprintf(out, "  %-12s %8zu\n", "total", r->rec->nmsite);
    fprintf(out, "memory-site notes: %zu\n", r->rec->nmemnotes);
    fprintf(out, "memory sites of volatile accesses: %zu\n", c.mem_volatile);
    fprintf(out, "memory sites in split read-modify-writes: %zu\n", c.mem_split);
}

static void text_finding(const struct ab_report *r, const struct ab_finding *f, FILE *out)
{
    char where[600];
    ab_image_describe(r->img, f->shndx, f->off, f->addr, where, sizeof where);
    if (f->allowed)
        fprintf(out, "%s: allowed: ", r->name);
    else if (f->mode == AB_MODE_64)
        fprintf(out, "%s: unannotated: ", r->name);
    else
        fprintf(out, "%s: unannotated in %u-bit code (reported, not a failure): ", r->name,
                ab_mode_bits(f->mode));
    fprintf(out, "%s in %s: %s [%s]", where, section_name(r, f->shndx), f->text,
            kind_name(f->kind));
    if (f->allowed)
        fprintf(out, "  # %s", f->allowed->why);
    fputc('\n', out);
}

static void text_audit_info(const struct ab_report *r, FILE *out)
{
    const struct ab_audit *a = r->audit;
    fprintf(out, "audit: %llu instructions in %zu executable sections, %llu undecodable bytes, "
            "%llu sensitive instructions covered by sites\n", (unsigned long long)a->ninsn,
            a->nsections, (unsigned long long)a->nbad, (unsigned long long)a->ncovered);
    fprintf(out, "audit: not sites by design (class NONE):");
    for (size_t i = 0; i < AB_KIND_COUNT; i++)
        if (ab_kind_table[i].cls == AB_CLASS_NONE)
            fprintf(out, " %s %llu", ab_kind_table[i].name,
                    (unsigned long long)a->none_count[ab_kind_table[i].id]);
    fputc('\n', out);
}

static void text_audit(const struct ab_report *r, FILE *out)
{
    bool quiet = r->opt->quiet;
    if (!quiet)
        text_audit_info(r, out);
    for (size_t i = 0; i < r->audit->n; i++) {
        const struct ab_finding *f = &r->audit->v[i];
        if (!quiet || (!f->allowed && f->mode == AB_MODE_64))
            text_finding(r, f, out);
    }
}

static void text_summary(const struct ab_report *r, FILE *out)
{
    fprintf(out, "%s: %zu sites, %zu mode markers", r->name, r->rec->nsite, r->rec->nmarker);
    if (r->rec->nmsite)
        fprintf(out, ", %zu memory sites", r->rec->nmsite);
    if (r->opt->verify)
        fprintf(out, "; verify: %zu errors", r->diags->nerrors);
    if (r->audit)
        fprintf(out, "; audit: %zu unannotated in 64-bit code, %zu in 16/32-bit code, "
                "%zu allowed", r->audit->nfail, r->audit->nlegacy, r->audit->nallowed);
    fprintf(out, ": %s\n", failed(r) ? "FAILED" : "OK");
}

void ab_report_text(const struct ab_report *r, FILE *out, FILE *err)
{
    if (r->fatal) {
        fprintf(err, "%s: error: %s\n", r->name, r->fatal);
        return;
    }
    bool quiet = r->opt->quiet;
    if (r->opt->list && !quiet)
        text_list(r, out);
    for (size_t i = 0; i < r->diags->n; i++)
        if (!quiet || r->diags->v[i].sev == AB_SEV_ERROR)
            text_diag(r, &r->diags->v[i], out);
    if (r->opt->counts && !quiet)
        text_counts(r, out);
    if (r->audit)
        text_audit(r, out);
    if (r->opt->summary && !quiet)
        text_summary(r, out);
}

/* ---- JSON ------------------------------------------------------------- */

/* Bytes outside printable ASCII are escaped one by one, so any name in any
 * file still gives valid JSON. */
static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void json_key(FILE *out, const char *key)
{
    json_str(out, key);
    fputc(':', out);
}

static void json_hex(FILE *out, const char *key, uint64_t v)
{
    json_key(out, key);
    fprintf(out, "\"0x%llx\"", (unsigned long long)v);
}

static void json_place(const struct ab_report *r, FILE *out, size_t shndx, uint64_t off,
                       uint64_t addr)
{
    char sym[512];
    ab_image_where(r->img, shndx, off, sym, sizeof sym);
    json_hex(out, "address", addr);
    fputc(',', out);
    json_key(out, "section");
    json_str(out, section_name(r, shndx));
    fputc(',', out);
    json_hex(out, "offset", off);
    fputc(',', out);
    json_key(out, "symbol");
    json_str(out, sym);
}

static void json_site(const struct ab_report *r, const struct ab_site *s, FILE *out)
{
    char insn[160];
    site_insn_text(r, s, insn, sizeof insn);
    fputc('{', out);
    json_place(r, out, s->shndx, s->off, s->addr);
    fprintf(out, ",\"placement\":\"%s\",\"len\":%u,\"pad\":%u,\"insn_off\":%u,\"insn_len\":%u,",
            placement_name(s->where), s->len, pad_of(s), s->insn_off, s->insn_len);
    json_key(out, "kind");
    json_str(out, site_kind_name(s));
    fprintf(out, ",\"kind_id\":%u,\"mode\":%u,\"flags\":%u,", s->kind, ab_mode_bits(s->mode),
            s->flags);
    if (s->mem)
        fprintf(out, "\"width\":%u,\"volatile\":%s,\"split\":%s,",
                s->flags & AB_MEMREC_WIDTH_MASK,
                s->flags & AB_MEMREC_VOLATILE ? "true" : "false",
                s->flags & AB_MEMREC_SPLIT ? "true" : "false");
    json_key(out, "insn");
    json_str(out, insn);
    fputc('}', out);
}

static void json_sites(const struct ab_report *r, FILE *out)
{
    const struct ab_records *rec = r->rec;
    json_key(out, "sites");
    fputc('[', out);
    size_t i = 0, j = 0, n = 0;
    while (r->opt->list && (i < rec->nsite || j < rec->nmarker)) {
        bool marker_first = j < rec->nmarker &&
            (i == rec->nsite || rec->marker[j].shndx < rec->site[i].shndx ||
             (rec->marker[j].shndx == rec->site[i].shndx &&
              rec->marker[j].off <= rec->site[i].off));
        fputs(n++ ? ",\n  " : "\n  ", out);
        json_site(r, marker_first ? &rec->marker[j++] : &rec->site[i++], out);
    }
    fputs("]", out);
    if (!rec->nmsite)
        return;
    fputs(",\n", out);
    json_key(out, "memory_sites");
    fputc('[', out);
    for (size_t m = 0; r->opt->list && m < rec->nmsite; m++) {
        fputs(m ? ",\n  " : "\n  ", out);
        json_site(r, &rec->msite[m], out);
    }
    fputs("]", out);
}

static void json_counts(const struct ab_report *r, FILE *out)
{
    struct counts c;
    count_records(r, &c);
    json_key(out, "counts");
    fputc('{', out);
    const char *sep = "";
    for (unsigned id = 0; id < 256; id++)
        if (c.by_kind[id] && id != AB_KIND_MODE) {
            fputs(sep, out);
            json_key(out, kind_name(id));
            fprintf(out, "%zu", c.by_kind[id]);
            sep = ",";
        }
    fputc('}', out);
    if (r->rec->nmsite) {
        fputs(",\n", out);
        json_key(out, "memory_counts");
        fputc('{', out);
        sep = "";
        for (unsigned id = 0; id < 256; id++)
            if (c.by_mem_kind[id]) {
                fputs(sep, out);
                json_key(out, mem_kind_name(id));
                fprintf(out, "%zu", c.by_mem_kind[id]);
                sep = ",";
            }
        fputc('}', out);
    }
    fprintf(out, ",\n\"summary\":{\"notes\":%zu,\"sites\":%zu,\"mode_markers\":%zu,"
            "\"sites_32bit\":%zu,\"sites_16bit\":%zu,\"sites_altinstr_replacement\":%zu,"
            "\"errors\":%zu", r->rec->nnotes, c.sites, c.markers, c.mode32, c.mode16,
            c.altinstr, r->diags->nerrors);
    if (r->rec->nmsite)
        fprintf(out, ",\"memory_sites\":%zu,\"memory_notes\":%zu", r->rec->nmsite,
                r->rec->nmemnotes);
    if (r->audit)
        fprintf(out, ",\"unannotated_64bit\":%zu,\"unannotated_16_32bit\":%zu,\"allowed\":%zu,"
                "\"instructions\":%llu,\"undecodable_bytes\":%llu", r->audit->nfail,
                r->audit->nlegacy, r->audit->nallowed, (unsigned long long)r->audit->ninsn,
                (unsigned long long)r->audit->nbad);
    fprintf(out, ",\"ok\":%s}", failed(r) ? "false" : "true");
}

static void json_diag(const struct ab_report *r, const struct ab_diag *g, FILE *out)
{
    fputc('{', out);
    json_key(out, "severity");
    json_str(out, g->sev == AB_SEV_ERROR ? "error" : "warning");
    fputc(',', out);
    if (g->loc.valid) {
        json_place(r, out, g->loc.shndx, g->loc.off, g->loc.addr);
        fputc(',', out);
    }
    if (g->kind) {
        json_key(out, "kind");
        json_str(out, g->kind);
        fputc(',', out);
    }
    json_key(out, "message");
    json_str(out, g->message);
    fputc('}', out);
}

static void json_errors(const struct ab_report *r, FILE *out)
{
    json_key(out, "errors");
    fputc('[', out);
    if (r->fatal) {
        fputs("{\"severity\":\"error\",\"message\":", out);
        json_str(out, r->fatal);
        fputc('}', out);
    }
    for (size_t i = 0; r->diags && i < r->diags->n; i++) {
        fputs(i ? ",\n  " : "\n  ", out);
        json_diag(r, &r->diags->v[i], out);
    }
    fputc(']', out);
}

static void json_finding(const struct ab_report *r, const struct ab_finding *f, FILE *out)
{
    fputc('{', out);
    json_place(r, out, f->shndx, f->off, f->addr);
    fputc(',', out);
    json_key(out, "kind");
    json_str(out, kind_name(f->kind));
    fprintf(out, ",\"mode\":%u,\"fails\":%s,\"allowed\":%s,", ab_mode_bits(f->mode),
            !f->allowed && f->mode == AB_MODE_64 ? "true" : "false",
            f->allowed ? "true" : "false");
    json_key(out, "insn");
    json_str(out, f->text);
    if (f->allowed) {
        fputc(',', out);
        json_key(out, "justification");
        json_str(out, f->allowed->why);
    }
    fputc('}', out);
}

static void json_audit(const struct ab_report *r, FILE *out)
{
    json_key(out, "unannotated");
    fputc('[', out);
    for (size_t i = 0; r->audit && i < r->audit->n; i++) {
        fputs(i ? ",\n  " : "\n  ", out);
        json_finding(r, &r->audit->v[i], out);
    }
    fputs("],\n", out);
    json_key(out, "not_sites_by_design");
    fputc('{', out);
    const char *sep = "";
    for (size_t i = 0; r->audit && i < AB_KIND_COUNT; i++)
        if (ab_kind_table[i].cls == AB_CLASS_NONE) {
            fputs(sep, out);
            json_key(out, ab_kind_table[i].name);
            fprintf(out, "%llu", (unsigned long long)r->audit->none_count[ab_kind_table[i].id]);
            sep = ",";
        }
    fputc('}', out);
}

void ab_report_json(const struct ab_report *r, FILE *out)
{
    fputc('{', out);
    json_key(out, "file");
    json_str(out, r->name);
    fprintf(out, ",\n\"checks\":{\"list\":%s,\"counts\":%s,\"verify\":%s,\"audit\":%s},\n",
            r->opt->list ? "true" : "false", r->opt->counts ? "true" : "false",
            r->opt->verify ? "true" : "false", r->opt->audit ? "true" : "false");
    if (r->fatal) {
        fputs("\"sites\":[],\n\"counts\":{},\n\"summary\":{\"ok\":false},\n", out);
        json_errors(r, out);
        fputs(",\n\"unannotated\":[],\n\"not_sites_by_design\":{}}\n", out);
        return;
    }
    json_key(out, "type");
    json_str(out, ab_image_is_rel(r->img) ? "REL" : r->img->type == ET_DYN ? "DYN" : "EXEC");
    fputs(",\n", out);
    json_sites(r, out);
    fputs(",\n", out);
    json_counts(r, out);
    fputs(",\n", out);
    json_errors(r, out);
    fputs(",\n", out);
    json_audit(r, out);
    fputs("}\n", out);
}

bool ab_report_failed(const struct ab_report *r)
{
    return failed(r);
}
