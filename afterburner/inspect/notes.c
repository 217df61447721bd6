#include "notes.h"

#include "x86.h"

#include <afterburn/abi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTE_HEADER_SIZE 12     /* namesz, descsz, type */

/* One note found while walking a SHT_NOTE section. */
struct note {
    size_t shndx;
    uint64_t off;               /* of the note header in the section */
    uint64_t desc_off;
    uint64_t descsz;
    uint32_t type;
    bool afterburn;
};

/* Relocations applying to one note section of a relocatable object. */
struct reloc {
    uint64_t offset;
    uint32_t type;
    uint32_t sym;
    int64_t addend;
    bool has_addend;
};

struct reloc_table {
    size_t n;
    struct reloc *v;            /* sorted by offset */
    size_t symtab;
};

/* Reading state shared by the helpers below. */
struct reader {
    const struct ab_image *img;
    struct ab_records *r;
    struct ab_diags *d;
    size_t seq;
    size_t cap_site, cap_marker, cap_msite;
};

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t round_up(uint64_t v, uint64_t align)
{
    return (v + align - 1) / align * align;
}

/* Notes are padded to 4 bytes, or to 8 in sections aligned to 8, as readelf reads them. */
static uint64_t note_align(const struct ab_section *s)
{
    return s->addralign == 8 ? 8 : 4;
}

static bool next_note(struct reader *rd, size_t shndx, uint64_t *pos, struct note *n)
{
    const struct ab_section *s = &rd->img->sec[shndx];
    uint64_t size = s->size, a = note_align(s);
    if (*pos >= size)
        return false;
    if (size - *pos < NOTE_HEADER_SIZE) {
        ab_diag_add(rd->d, AB_SEV_ERROR, NULL, NULL,
                    "section %s, note at offset 0x%llx: truncated note header "
                    "(%llu bytes left in the section)", s->name, (unsigned long long)*pos,
                    (unsigned long long)(size - *pos));
        return false;
    }
    const uint8_t *h = s->bytes + *pos;
    uint32_t namesz = le32(h), descsz = le32(h + 4);
    uint64_t name_off = *pos + NOTE_HEADER_SIZE;
    /* name and descriptor start aligned (from the section's start, which is
     * aligned): for 4 the same as padding namesz, for 8 (.note.gnu.property
     * in ELF64) the descriptor follows "GNU\0" directly at offset 16 */
    uint64_t desc_off = round_up(name_off + namesz, a);
    if (desc_off > size) {
        ab_diag_add(rd->d, AB_SEV_ERROR, NULL, NULL,
                    "section %s, note at offset 0x%llx: namesz %u extends past the end of the "
                    "section (size 0x%llx)", s->name, (unsigned long long)*pos, namesz,
                    (unsigned long long)size);
        return false;
    }
    bool afterburn = namesz == AB_NOTE_NAMESZ &&
                     memcmp(s->bytes + name_off, AB_NOTE_NAME, AB_NOTE_NAMESZ) == 0;
    if (descsz > size - desc_off) {
        rd->r->nnotes += afterburn;     /* present, if broken: not "no annotations" */
        ab_diag_add(rd->d, AB_SEV_ERROR, NULL, NULL,
                    "section %s, note at offset 0x%llx: descsz %u extends past the end of the "
                    "section (truncated note: %llu bytes left for the descriptor)", s->name,
                    (unsigned long long)*pos, descsz, (unsigned long long)(size - desc_off));
        return false;
    }
    *n = (struct note){ shndx, *pos, desc_off, descsz, le32(h + 8), afterburn };
    *pos = round_up(desc_off + descsz, a);
    return true;
}

static bool check_field(struct reader *rd, const struct note *n, const char *field,
                        unsigned long long have, unsigned long long want)
{
    if (have == want)
        return true;
    ab_diag_add(rd->d, AB_SEV_ERROR, NULL, NULL,
                "section %s, note at offset 0x%llx: %s is %llu, expected %llu",
                rd->img->sec[n->shndx].name, (unsigned long long)n->off, field, have, want);
    return false;
}

/* Returns the record count of a note whose header this tool understands, or -1. */
static long long check_note_header(struct reader *rd, const struct note *n)
{
    const uint8_t *p = rd->img->sec[n->shndx].bytes + n->desc_off;
    if (n->descsz < AB_NOTE_HEADER_SIZE) {
        ab_diag_add(rd->d, AB_SEV_ERROR, NULL, NULL,
                    "section %s, note at offset 0x%llx: descsz %llu is too small for the "
                    "%d-byte header", rd->img->sec[n->shndx].name, (unsigned long long)n->off,
                    (unsigned long long)n->descsz, AB_NOTE_HEADER_SIZE);
        return -1;
    }
    uint32_t nrecords = le32(p + 8);
    bool ok = check_field(rd, n, "format_version", le16(p), AB_FORMAT_VERSION);
    ok &= check_field(rd, n, "pad_abi_version", le16(p + 2), AB_PAD_ABI_VERSION);
    ok &= check_field(rd, n, "header_size", le16(p + 4), AB_NOTE_HEADER_SIZE);
    ok &= check_field(rd, n, "record_size", le16(p + 6), AB_RECORD_SIZE);
    ok &= check_field(rd, n, "header reserved field", le32(p + 12), 0);
    unsigned long long want = AB_NOTE_HEADER_SIZE + (unsigned long long)nrecords * AB_RECORD_SIZE;
    if (ok && n->descsz != want) {
        ab_diag_add(rd->d, AB_SEV_ERROR, NULL, NULL,
                    "section %s, note at offset 0x%llx: nrecords %u does not match descsz %llu "
                    "(16 + 12 * nrecords = %llu)", rd->img->sec[n->shndx].name,
                    (unsigned long long)n->off, nrecords, (unsigned long long)n->descsz, want);
        ok = false;
    }
    return ok ? (long long)nrecords : -1;
}

static int cmp_reloc(const void *a, const void *b)
{
    const struct reloc *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static void add_relocs_of(struct reader *rd, size_t relsec, struct reloc_table *t)
{
    const struct ab_section *s = &rd->img->sec[relsec];
    Elf_Data *data = elf_getdata(elf_getscn(rd->img->elf, relsec), NULL);
    if (!data)
        return;
    bool rela = s->type == SHT_RELA;
    size_t n = data->d_size / (rela ? sizeof(Elf64_Rela) : sizeof(Elf64_Rel));
    t->v = ab_xrealloc(t->v, t->n + n, sizeof *t->v);
    t->symtab = s->link;
    for (size_t i = 0; i < n && i <= INT32_MAX; i++) {
        struct reloc *r = &t->v[t->n];
        if (rela) {
            GElf_Rela x;
            if (!gelf_getrela(data, (int)i, &x))
                continue;
            *r = (struct reloc){ x.r_offset, (uint32_t)GELF_R_TYPE(x.r_info),
                                 (uint32_t)GELF_R_SYM(x.r_info), x.r_addend, true };
        } else {
            GElf_Rel x;
            if (!gelf_getrel(data, (int)i, &x))
                continue;
            *r = (struct reloc){ x.r_offset, (uint32_t)GELF_R_TYPE(x.r_info),
                                 (uint32_t)GELF_R_SYM(x.r_info), 0, false };
        }
        t->n++;
    }
}

static void load_relocs(struct reader *rd, size_t note_shndx, struct reloc_table *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 1; i < rd->img->nsec; i++) {
        const struct ab_section *s = &rd->img->sec[i];
        if ((s->type == SHT_RELA || s->type == SHT_REL) && s->info == note_shndx && s->bytes)
            add_relocs_of(rd, i, t);
    }
    if (t->n)
        qsort(t->v, t->n, sizeof *t->v, cmp_reloc);
}

static const struct reloc *find_reloc(const struct reloc_table *t, uint64_t offset)
{
    struct reloc key = { .offset = offset };
    return t->n ? bsearch(&key, t->v, t->n, sizeof *t->v, cmp_reloc) : NULL;
}

/* Relocatable objects: sections all start at 0, the section itself locates a site. */
static void place_in_section(const struct ab_image *img, struct ab_site *site, size_t shndx,
                             uint64_t off)
{
    const struct ab_section *s = &img->sec[shndx];
    site->shndx = shndx;
    site->off = off;
    site->addr = s->addr + off;
    if (!ab_section_is_code(s))
        site->where = AB_WHERE_NOT_CODE;
    else if (off > s->size || site->len > s->size - off)
        site->where = AB_WHERE_PAST_END;
    else
        site->where = AB_WHERE_CODE;
}

/* Linked files: the address decides the section.  A mode marker may sit at
 * the very end of a section (a .code64 after the last instruction). */
static void place_at_address(const struct ab_image *img, struct ab_site *site, uint64_t addr)
{
    size_t s = ab_image_code_section_at(img, addr);
    if (!s && site->len == 0)
        s = ab_image_code_section_ending_at(img, addr);
    if (s) {
        place_in_section(img, site, s, addr - img->sec[s].addr);
        return;
    }
    s = ab_image_section_at(img, addr);
    site->shndx = s;
    site->off = s ? addr - img->sec[s].addr : addr;
    site->addr = addr;
    site->where = s ? AB_WHERE_NOT_CODE : AB_WHERE_OUTSIDE;
}

static void record_error(struct reader *rd, const struct ab_site *site, const char *what,
                         const char *detail)
{
    ab_diag_add(rd->d, AB_SEV_ERROR, NULL, NULL, "section %s, record at offset 0x%llx: %s%s",
                rd->img->sec[site->note_shndx].name, (unsigned long long)site->rec_off, what,
                detail ? detail : "");
}

/*
 * In a relocatable object the rel field is 0 and an R_X86_64_PC32
 * relocation holds the site: the linker stores S + A - P into the field at
 * P, and the site is P + rel, so the site is S + A.
 */
static void resolve_in_object(struct reader *rd, const struct reloc_table *t,
                              const uint8_t *rec, struct ab_site *site)
{
    site->where = AB_WHERE_UNKNOWN;
    const struct reloc *r = find_reloc(t, site->rec_off);
    if (!r) {
        record_error(rd, site, "no relocation for the rel field", NULL);
        return;
    }
    if (r->type != R_X86_64_PC32) {
        char detail[64];
        snprintf(detail, sizeof detail, " (type %u)", r->type);
        record_error(rd, site, "rel field relocation is not R_X86_64_PC32", detail);
        return;
    }
    GElf_Sym sym;
    size_t shndx;
    const char *name;
    if (!ab_image_read_symbol(rd->img, t->symtab, r->sym, &sym, &shndx, &name)) {
        record_error(rd, site, "rel field relocation names a bad symbol", NULL);
        return;
    }
    if (!shndx) {
        record_error(rd, site, "rel field is relative to a symbol in no section: ", name);
        return;
    }
    int64_t addend = r->has_addend ? r->addend : (int32_t)le32(rec);
    place_in_section(rd->img, site, shndx, sym.st_value + (uint64_t)addend);
}

static struct ab_site *new_record(struct reader *rd, bool marker, bool mem)
{
    struct ab_records *r = rd->r;
    if (mem) {
        if (r->nmsite == rd->cap_msite) {
            rd->cap_msite = rd->cap_msite ? 2 * rd->cap_msite : 256;
            r->msite = ab_xrealloc(r->msite, rd->cap_msite, sizeof *r->msite);
        }
        return &r->msite[r->nmsite++];
    }
    if (marker) {
        if (r->nmarker == rd->cap_marker) {
            rd->cap_marker = rd->cap_marker ? 2 * rd->cap_marker : 64;
            r->marker = ab_xrealloc(r->marker, rd->cap_marker, sizeof *r->marker);
        }
        return &r->marker[r->nmarker++];
    }
    if (r->nsite == rd->cap_site) {
        rd->cap_site = rd->cap_site ? 2 * rd->cap_site : 256;
        r->site = ab_xrealloc(r->site, rd->cap_site, sizeof *r->site);
    }
    return &r->site[r->nsite++];
}

static void read_record(struct reader *rd, const struct note *n, uint64_t rec_off,
                        const struct reloc_table *relocs)
{
    const struct ab_section *sec = &rd->img->sec[n->shndx];
    const uint8_t *p = sec->bytes + rec_off;
    bool mem = n->type == AB_NOTE_TYPE_MEMSITES;
    struct ab_site *site = new_record(rd, !mem && p[7] == AB_KIND_MODE, mem);
    *site = (struct ab_site){
        .seq = rd->seq++, .note_shndx = n->shndx, .rec_off = rec_off,
        .len = p[4], .insn_off = p[5], .insn_len = p[6], .kind = p[7], .mode = p[8],
        .flags = p[9], .reserved = le16(p + 10), .mem = mem,
    };
    if (ab_image_is_rel(rd->img)) {
        resolve_in_object(rd, relocs, p, site);
    } else {
        int32_t rel = (int32_t)le32(p);
        place_at_address(rd->img, site, sec->addr + rec_off + (uint64_t)(int64_t)rel);
    }
}

static void read_note_records(struct reader *rd, const struct note *n,
                              const struct reloc_table *relocs)
{
    long long nrecords = check_note_header(rd, n);
    if (nrecords < 0)
        return;
    const struct ab_section *sec = &rd->img->sec[n->shndx];
    if (!ab_image_is_rel(rd->img) && !(sec->flags & SHF_ALLOC) && nrecords > 0) {
        ab_diag_add(rd->d, AB_SEV_ERROR, NULL, NULL,
                    "section %s, note at offset 0x%llx: section is not allocated, so its "
                    "records cannot be resolved to addresses", sec->name,
                    (unsigned long long)n->off);
        return;
    }
    for (long long i = 0; i < nrecords; i++)
        read_record(rd, n, n->desc_off + AB_NOTE_HEADER_SIZE + (uint64_t)i * AB_RECORD_SIZE,
                    relocs);
}

static void read_note_section(struct reader *rd, size_t shndx)
{
    struct reloc_table relocs = { 0 };
    bool relocs_loaded = false;
    struct note n;
    uint64_t pos = 0;
    while (next_note(rd, shndx, &pos, &n)) {
        if (!n.afterburn)
            continue;
        rd->r->nnotes++;
        rd->r->nmemnotes += n.type == AB_NOTE_TYPE_MEMSITES;
        if (n.type != AB_NOTE_TYPE_SITES && n.type != AB_NOTE_TYPE_MEMSITES) {
            ab_diag_add(rd->d, AB_SEV_WARNING, NULL, NULL,
                        "section %s, note at offset 0x%llx: unknown Afterburn note type 0x%x "
                        "ignored", rd->img->sec[shndx].name, (unsigned long long)n.off, n.type);
            continue;
        }
        if (ab_image_is_rel(rd->img) && !relocs_loaded) {
            load_relocs(rd, shndx, &relocs);
            relocs_loaded = true;
        }
        read_note_records(rd, &n, &relocs);
    }
    free(relocs.v);
}

static int cmp_place(size_t s1, uint64_t o1, size_t q1, size_t s2, uint64_t o2, size_t q2)
{
    if (s1 != s2)
        return s1 < s2 ? -1 : 1;
    if (o1 != o2)
        return o1 < o2 ? -1 : 1;
    return q1 < q2 ? -1 : q1 > q2;
}

static int cmp_site(const void *a, const void *b)
{
    const struct ab_site *x = a, *y = b;
    return cmp_place(x->shndx, x->off, x->seq, y->shndx, y->off, y->seq);
}

static int cmp_mode(const void *a, const void *b)
{
    const struct ab_mode_mark *x = a, *y = b;
    return cmp_place(x->shndx, x->off, x->seq, y->shndx, y->off, y->seq);
}

static void build_mode_map(struct ab_records *r)
{
    r->mode = ab_xrealloc(NULL, r->nmarker ? r->nmarker : 1, sizeof *r->mode);
    for (size_t i = 0; i < r->nmarker; i++) {
        const struct ab_site *m = &r->marker[i];
        if (m->where == AB_WHERE_CODE && ab_mode_valid(m->mode))
            r->mode[r->nmode++] = (struct ab_mode_mark){ m->shndx, m->off, m->seq, m->mode };
    }
    qsort(r->mode, r->nmode, sizeof *r->mode, cmp_mode);
}

void ab_records_read(const struct ab_image *img, struct ab_records *r, struct ab_diags *d)
{
    memset(r, 0, sizeof *r);
    struct reader rd = { .img = img, .r = r, .d = d };
    for (size_t i = 1; i < img->nsec; i++)
        if (img->sec[i].type == SHT_NOTE && img->sec[i].bytes)
            read_note_section(&rd, i);
    /* qsort wants a valid pointer even for zero elements. */
    if (r->nsite)
        qsort(r->site, r->nsite, sizeof *r->site, cmp_site);
    if (r->nmarker)
        qsort(r->marker, r->nmarker, sizeof *r->marker, cmp_site);
    if (r->nmsite)
        qsort(r->msite, r->nmsite, sizeof *r->msite, cmp_site);
    build_mode_map(r);
}

void ab_records_free(struct ab_records *r)
{
    free(r->site);
    free(r->marker);
    free(r->mode);
    free(r->msite);
    memset(r, 0, sizeof *r);
}

unsigned ab_records_mode_at(const struct ab_records *r, size_t shndx, uint64_t off)
{
    size_t lo = 0, hi = r->nmode;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct ab_mode_mark *m = &r->mode[mid];
        if (m->shndx < shndx || (m->shndx == shndx && m->off <= off))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || r->mode[lo - 1].shndx != shndx)
        return AB_MODE_64;
    return r->mode[lo - 1].mode;
}

struct ab_loc ab_site_loc(const struct ab_site *s)
{
    return (struct ab_loc){ s->where != AB_WHERE_UNKNOWN, s->shndx, s->off, s->addr };
}
