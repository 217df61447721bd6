/*
 * Guest ELF loader and annotation validator.  See vam/loader.h.
 *
 * Every offset and size read from the file is checked against the buffer
 * before it is used, with arithmetic that cannot wrap: bad input yields an
 * error, never an access outside [image, image + size).
 */
#include <vam/loader.h>
#include <vam/memsite.h>
#include <vam/lib.h>

#include <afterburn/kinds.h>

/* ELF64 constants and field offsets (no <elf.h> in a freestanding build). */
#define EHDR_SIZE       64
#define PHDR_SIZE       56
#define SHDR_SIZE       64
#define ELFCLASS64      2
#define ELFDATA2LSB     1
#define EV_CURRENT      1
#define ET_EXEC         2
#define EM_X86_64       62
#define PT_LOAD         1
#define PT_NOTE         4
#define SHT_NOTE        7
#define SHT_NOBITS      8
#define SHF_ALLOC       2
#define SHN_XINDEX      0xffff
#define NOTE_HDR_SIZE   12

struct shdr {
    uint32_t name, type;
    uint64_t flags, addr, offset, size, addralign;
    uint32_t link;
};

/* State of one vam_load call. */
struct loader {
    struct vam_guest *g;
    const uint8_t *img;
    size_t size;
    struct vam_site *buf;
    size_t cap;
    size_t nsite, nmark;        /* sites fill buf from the front, markers from the back */
    uint32_t nrec;
    struct vam_error *e;
    /* section headers, if any */
    uint64_t shoff;
    uint32_t shnum;
    const uint8_t *shstr;       /* section name string table, NULL if unusable */
    uint64_t shstr_size;
    /* memory-site mode (vam_load_memsites): AB_NOTE_TYPE_MEMSITES notes into mbuf */
    bool mem;
    struct vam_memsite *mbuf;
    size_t mcap, nmem;
    /* PT_NOTE file ranges walked, so SHT_NOTE sections inside them are not read twice */
    unsigned nnoteseg;
    uint64_t noteseg_off[VAM_MAX_SEGMENTS * 2], noteseg_end[VAM_MAX_SEGMENTS * 2];
};

static bool in_file(uint64_t off, uint64_t len, size_t size)
{
    return off <= size && len <= size - off;
}

static uint64_t round_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static const char *elf_type_name(unsigned t)
{
    switch (t) {
    case 0: return "ET_NONE";
    case 1: return "ET_REL";
    case 2: return "ET_EXEC";
    case 3: return "ET_DYN";
    case 4: return "ET_CORE";
    default: return "unknown";
    }
}

static void flags_text(uint32_t f, char out[4])
{
    out[0] = f & VAM_PF_R ? 'r' : '-';
    out[1] = f & VAM_PF_W ? 'w' : '-';
    out[2] = f & VAM_PF_X ? 'x' : '-';
    out[3] = 0;
}

/* ---- ELF header and program headers ------------------------------------------ */

static enum vam_status check_header(struct loader *l)
{
    const uint8_t *h = l->img;
    if (l->size < 4 || h[0] != 0x7f || h[1] != 'E' || h[2] != 'L' || h[3] != 'F')
        return vam_fail(l->e, VAM_ERR_NOT_ELF, "not an ELF file");
    if (l->size < 5 || h[4] != ELFCLASS64) {
        unsigned c = l->size < 5 ? 0 : h[4];
        return vam_fail(l->e, VAM_ERR_ELF_CLASS, "not an ELF64 file (%s)",
                        c == 1 ? "ELFCLASS32" : c == 0 ? "ELFCLASSNONE" : "unknown class");
    }
    if (l->size < EHDR_SIZE)
        return vam_fail(l->e, VAM_ERR_TRUNCATED,
                        "truncated file: %zu bytes, shorter than the ELF header (%d)", l->size,
                        EHDR_SIZE);
    if (h[5] != ELFDATA2LSB)
        return vam_fail(l->e, VAM_ERR_ELF_DATA, "not a little-endian ELF file (EI_DATA %u)",
                        h[5]);
    if (h[6] != EV_CURRENT || vam_le32(h + 20) != EV_CURRENT)
        return vam_fail(l->e, VAM_ERR_ELF_DATA, "unknown ELF version %u", h[6]);
    unsigned machine = vam_le16(h + 18);
    if (machine != EM_X86_64)
        return vam_fail(l->e, VAM_ERR_MACHINE, "not an x86-64 file (e_machine %u)", machine);
    unsigned type = vam_le16(h + 16);
    if (type != ET_EXEC)
        return vam_fail(l->e, VAM_ERR_ELF_TYPE,
                        "not an executable: e_type %u (%s); the VAM loads ET_EXEC files", type,
                        elf_type_name(type));
    l->g->entry = vam_le64(h + 24);
    return VAM_OK;
}

static enum vam_status read_segments(struct loader *l)
{
    const uint8_t *h = l->img;
    uint64_t phoff = vam_le64(h + 32);
    unsigned phentsize = vam_le16(h + 54), phnum = vam_le16(h + 56);
    if (phnum == 0)
        return vam_fail(l->e, VAM_ERR_PHDR, "no program headers");
    if (phentsize != PHDR_SIZE)
        return vam_fail(l->e, VAM_ERR_PHDR, "program header entry size %u, expected %d",
                        phentsize, PHDR_SIZE);
    if (phnum == 0xffff)
        return vam_fail(l->e, VAM_ERR_PHDR, "extended program header numbering (PN_XNUM) "
                        "is not supported");
    if (!in_file(phoff, (uint64_t)phnum * PHDR_SIZE, l->size))
        return vam_fail(l->e, VAM_ERR_PHDR,
                        "program header table (offset 0x%llx, %u entries) extends past the end "
                        "of the file (%zu bytes)", (unsigned long long)phoff, phnum, l->size);
    struct vam_guest *g = l->g;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *p = h + phoff + (uint64_t)i * PHDR_SIZE;
        uint32_t type = vam_le32(p);
        uint64_t off = vam_le64(p + 8), vaddr = vam_le64(p + 16), filesz = vam_le64(p + 32);
        uint64_t memsz = vam_le64(p + 40);
        if (type != PT_LOAD && type != PT_NOTE)
            continue;
        if (!in_file(off, filesz, l->size))
            return vam_fail(l->e, VAM_ERR_PHDR,
                            "program header %u: file range 0x%llx+0x%llx extends past the end "
                            "of the file (%zu bytes)", i, (unsigned long long)off,
                            (unsigned long long)filesz, l->size);
        if (type == PT_NOTE)
            continue;
        if (filesz > memsz)
            return vam_fail(l->e, VAM_ERR_PHDR,
                            "program header %u: p_filesz 0x%llx is larger than p_memsz 0x%llx",
                            i, (unsigned long long)filesz, (unsigned long long)memsz);
        if (memsz && vaddr + memsz - 1 < vaddr)
            return vam_fail(l->e, VAM_ERR_PHDR,
                            "program header %u: address range 0x%llx+0x%llx wraps around", i,
                            (unsigned long long)vaddr, (unsigned long long)memsz);
        if (memsz == 0)
            continue;
        if (g->nseg == VAM_MAX_SEGMENTS)
            return vam_fail(l->e, VAM_ERR_PHDR, "more than %d loadable segments",
                            VAM_MAX_SEGMENTS);
        for (unsigned k = 0; k < g->nseg; k++) {
            const struct vam_segment *o = &g->seg[k];
            if (vaddr <= o->vaddr + (o->memsz - 1) && o->vaddr <= vaddr + (memsz - 1))
                return vam_fail(l->e, VAM_ERR_PHDR,
                                "loadable segments overlap: 0x%llx-0x%llx and 0x%llx-0x%llx",
                                (unsigned long long)o->vaddr,
                                (unsigned long long)(o->vaddr + o->memsz),
                                (unsigned long long)vaddr, (unsigned long long)(vaddr + memsz));
        }
        g->seg[g->nseg++] = (struct vam_segment){
            .vaddr = vaddr, .memsz = memsz, .filesz = filesz, .offset = off,
            .paddr = vam_le64(p + 24), .flags = vam_le32(p + 4),
        };
    }
    if (g->nseg == 0)
        return vam_fail(l->e, VAM_ERR_PHDR, "no loadable segment");
    return VAM_OK;
}

/* ---- section headers (optional) ------------------------------------------------- */

static void read_shdr(const struct loader *l, uint32_t i, struct shdr *s)
{
    const uint8_t *p = l->img + l->shoff + (uint64_t)i * SHDR_SIZE;
    s->name = vam_le32(p);
    s->type = vam_le32(p + 4);
    s->flags = vam_le64(p + 8);
    s->addr = vam_le64(p + 16);
    s->offset = vam_le64(p + 24);
    s->size = vam_le64(p + 32);
    s->link = vam_le32(p + 40);
    s->addralign = vam_le64(p + 48);
}

/* A stripped file has none; a file that has them must have them right. */
static enum vam_status read_section_table(struct loader *l)
{
    const uint8_t *h = l->img;
    l->shoff = vam_le64(h + 40);
    uint32_t shnum = vam_le16(h + 60);
    uint32_t shstrndx = vam_le16(h + 62);
    if (l->shoff == 0)
        return VAM_OK;
    if (vam_le16(h + 58) != SHDR_SIZE)
        return vam_fail(l->e, VAM_ERR_SHDR, "section header entry size %u, expected %d",
                        vam_le16(h + 58), SHDR_SIZE);
    if (!in_file(l->shoff, SHDR_SIZE, l->size))
        return vam_fail(l->e, VAM_ERR_SHDR,
                        "section header table at offset 0x%llx is past the end of the file "
                        "(%zu bytes)", (unsigned long long)l->shoff, l->size);
    struct shdr s0;
    l->shnum = 1;
    read_shdr(l, 0, &s0);
    if (shnum == 0)                     /* extended numbering: the count is in section 0 */
        shnum = s0.size > 0xffffffffu ? 0xffffffffu : (uint32_t)s0.size;
    if (shstrndx == SHN_XINDEX)
        shstrndx = s0.link;
    if (!in_file(l->shoff, (uint64_t)shnum * SHDR_SIZE, l->size))
        return vam_fail(l->e, VAM_ERR_SHDR,
                        "section header table (offset 0x%llx, %u entries) extends past the end "
                        "of the file (%zu bytes)", (unsigned long long)l->shoff, shnum, l->size);
    l->shnum = shnum;
    for (uint32_t i = 1; i < shnum; i++) {
        struct shdr s;
        read_shdr(l, i, &s);
        if (s.type != SHT_NOBITS && !in_file(s.offset, s.size, l->size))
            return vam_fail(l->e, VAM_ERR_SHDR,
                            "section %u: file range 0x%llx+0x%llx extends past the end of the "
                            "file (%zu bytes)", i, (unsigned long long)s.offset,
                            (unsigned long long)s.size, l->size);
    }
    if (shstrndx > 0 && shstrndx < shnum) {
        struct shdr s;
        read_shdr(l, shstrndx, &s);
        if (s.type != SHT_NOBITS && s.size) {
            l->shstr = l->img + s.offset;
            l->shstr_size = s.size;
        }
    }
    return VAM_OK;
}

static bool section_name_is(const struct loader *l, const struct shdr *s, const char *name)
{
    uint64_t n = strlen(name) + 1;
    return l->shstr && in_file(s->name, n, l->shstr_size) &&
           memcmp(l->shstr + s->name, name, n) == 0;
}

/* Name for messages; "?" if unknown. */
static const char *section_name(const struct loader *l, const struct shdr *s)
{
    if (!l->shstr || s->name >= l->shstr_size)
        return "?";
    const char *n = (const char *)l->shstr + s->name;
    for (uint64_t k = s->name; k < l->shstr_size; k++)
        if (l->shstr[k] == 0)
            return n;
    return "?";
}

/* ---- records ----------------------------------------------------------------------- */

/* Fails naming site (or marker) s: "site 0x... (kind, record N): ..." */
#define SITE_FAIL(l, code, s, ...) \
    vam_fail_site((l)->e, (code), (s)->addr, (s)->kind, (s)->record, __VA_ARGS__)

/* The PT_LOAD segment containing addr, or -1. */
static int segment_of(const struct vam_guest *g, uint64_t addr)
{
    for (unsigned i = 0; i < g->nseg; i++)
        if (addr >= g->seg[i].vaddr && addr - g->seg[i].vaddr < g->seg[i].memsz)
            return (int)i;
    return -1;
}

/* Mode markers: from here on (in this section) code is `mode`. */
static enum vam_status check_marker(struct loader *l, struct vam_site *m, uint16_t reserved)
{
    if (m->len || m->insn_off || m->insn_len)
        return SITE_FAIL(l, VAM_ERR_RECORD, m,
                         "mode marker has len %u, insn_off %u, insn_len %u; all must be 0", m->len,
                         m->insn_off, m->insn_len);
    if (m->mode > AB_MODE_16)
        return SITE_FAIL(l, VAM_ERR_RECORD, m,
                         "mode marker has mode %u; valid modes are 0 (64-bit), 1 (32-bit) and 2 "
                         "(16-bit)", m->mode);
    if (m->flags || reserved)
        return SITE_FAIL(l, VAM_ERR_RECORD, m,
                         "mode marker has flags 0x%x, reserved 0x%x; both must be 0", m->flags,
                         reserved);
    /* A marker may sit at the very end of a segment (after the last instruction), and
     * in data: a .code64 written while a data section is current records one. */
    int s = segment_of(l->g, m->addr);
    if (s < 0)
        s = segment_of(l->g, m->addr - 1);
    if (s < 0)
        return SITE_FAIL(l, VAM_ERR_PLACE, m, "mode marker is not in any loadable segment");
    m->seg = (uint8_t)s;
    return VAM_OK;
}

static enum vam_status check_place(struct loader *l, struct vam_site *s)
{
    const struct vam_guest *g = l->g;
    int i = segment_of(g, s->addr);
    if (i < 0)
        return SITE_FAIL(l, VAM_ERR_PLACE, s,
                         "not in executable memory: no loadable segment contains it");
    const struct vam_segment *seg = &g->seg[i];
    char fl[4];
    flags_text(seg->flags, fl);
    if (!(seg->flags & VAM_PF_X))
        return SITE_FAIL(l, VAM_ERR_PLACE, s,
                         "not in executable memory: it lies in segment %d (0x%llx-0x%llx, %s), "
                         "which is not executable", i, (unsigned long long)seg->vaddr,
                         (unsigned long long)(seg->vaddr + seg->memsz), fl);
    uint64_t off = s->addr - seg->vaddr;
    if (s->len > seg->memsz - off)
        return SITE_FAIL(l, VAM_ERR_PLACE, s,
                         "runs past the end of executable segment %d (segment ends at 0x%llx, "
                         "site at 0x%llx)", i, (unsigned long long)(seg->vaddr + seg->memsz),
                         (unsigned long long)(s->addr + s->len));
    if (off + s->len > seg->filesz)
        return SITE_FAIL(l, VAM_ERR_PLACE, s,
                         "lies in the part of segment %d that has no file contents (p_filesz "
                         "0x%llx)", i, (unsigned long long)seg->filesz);
    s->seg = (uint8_t)i;
    return VAM_OK;
}

/* Everything a record can be checked for on its own. */
static enum vam_status check_site_record(struct loader *l, struct vam_site *s,
                                         uint16_t reserved)
{
    const struct ab_kind_info *k = ab_kind_lookup(s->kind);
    if (!k)
        return SITE_FAIL(l, VAM_ERR_KIND, s, "kind %u is not in sensitive.def", s->kind);
    if (k->cls == AB_CLASS_NONE)
        return SITE_FAIL(l, VAM_ERR_KIND, s, "kind %s has class NONE and never has sites", k->name);
    if (s->mode > AB_MODE_16)
        return SITE_FAIL(l, VAM_ERR_RECORD, s,
                         "mode %u is not 0 (64-bit), 1 (32-bit) or 2 (16-bit)", s->mode);
    if (s->flags & ~AB_REC_BYTES)
        return SITE_FAIL(l, VAM_ERR_RECORD, s, "unknown flag bits 0x%x", s->flags & ~AB_REC_BYTES);
    if (reserved)
        return SITE_FAIL(l, VAM_ERR_RECORD, s, "reserved field is 0x%x, expected 0", reserved);
    if (s->len == 0 || s->insn_len == 0)
        return SITE_FAIL(l, VAM_ERR_RECORD, s,
                         "len %u, insn_len %u; neither may be 0", s->len, s->insn_len);
    if ((unsigned)s->insn_off + s->insn_len > s->len)
        return SITE_FAIL(l, VAM_ERR_RECORD, s,
                         "instruction (insn_off %u + insn_len %u) runs past the site length %u",
                         s->insn_off, s->insn_len, s->len);
    if (k->place == AB_PAD_AFTER && s->insn_off != 0)
        return SITE_FAIL(l, VAM_ERR_RECORD, s,
                         "%s pads after the instruction, but insn_off is %u", k->name, s->insn_off);
    if (k->place == AB_PAD_BEFORE && s->insn_off + s->insn_len != s->len)
        return SITE_FAIL(l, VAM_ERR_RECORD, s,
                         "%s pads before the instruction, but the instruction does not end the "
                         "site (insn_off %u + insn_len %u != len %u)", k->name, s->insn_off,
                         s->insn_len, s->len);
    /* At least the class minimum, unless the instruction alone is longer. */
    unsigned min = ab_class_min_site(k->cls);
    unsigned need = s->insn_len > min ? s->insn_len : min;
    if (s->len < need)
        return SITE_FAIL(l, VAM_ERR_PAD, s, "pad too small: %u < %u", s->len, need);
    return check_place(l, s);
}

static enum vam_status read_record(struct loader *l, const uint8_t *r, uint64_t rec_vaddr)
{
    struct vam_site s = {
        .addr = rec_vaddr + (uint64_t)(int64_t)(int32_t)vam_le32(r),
        .record = l->nrec,
        .len = r[4], .insn_off = r[5], .insn_len = r[6], .kind = r[7], .mode = r[8],
        .flags = r[9],
    };
    uint16_t reserved = vam_le16(r + 10);
    l->nrec++;
    bool marker = s.kind == AB_KIND_MODE;
    enum vam_status st = marker ? check_marker(l, &s, reserved)
                                : check_site_record(l, &s, reserved);
    if (st)
        return st;
    if (l->nsite + l->nmark < l->cap) {
        if (marker)
            l->buf[l->cap - ++l->nmark] = s;
        else
            l->buf[l->nsite++] = s;
    }
    return VAM_OK;
}

/* ---- memory sites (vam_load_memsites) ------------------------------------------------ */

#define MEM_FAIL(l, code, m, ...) \
    mem_fail((l)->e, (code), (m), __VA_ARGS__)

static enum vam_status mem_fail(struct vam_error *e, enum vam_status code,
                                const struct vam_memsite *m, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum vam_status mem_fail(struct vam_error *e, enum vam_status code,
                                const struct vam_memsite *m, const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vam_vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *kn = ab_mem_kind_name(m->kind);
    char kb[16];
    if (!kn) {
        vam_snprintf(kb, sizeof kb, "kind %u", m->kind);
        kn = kb;
    }
    return vam_fail(e, code, "memory site 0x%llx (%s, memory record %u): %s",
                    (unsigned long long)m->addr, kn, m->record, what);
}

static enum vam_status read_memrecord(struct loader *l, const uint8_t *r, uint64_t rec_vaddr)
{
    struct vam_memsite m = {
        .addr = rec_vaddr + (uint64_t)(int64_t)(int32_t)vam_le32(r),
        .record = l->nrec++,
        .len = r[4], .kind = r[7], .flags = r[9],
        .width = r[9] & AB_MEMREC_WIDTH_MASK,
    };
    unsigned insn_off = r[5], insn_len = r[6], mode = r[8];
    uint16_t reserved = vam_le16(r + 10);
    if (!ab_mem_kind_name(m.kind))
        return MEM_FAIL(l, VAM_ERR_KIND, &m, "kind %u is not a memory-site kind", m.kind);
    if (mode != AB_MODE_64 || insn_off != 0 || reserved)
        return MEM_FAIL(l, VAM_ERR_RECORD, &m, "mode %u, insn_off %u, reserved 0x%x: "
                        "expected 0, 0, 0", mode, insn_off, reserved);
    if (m.flags & ~AB_MEMREC_KNOWN)
        return MEM_FAIL(l, VAM_ERR_RECORD, &m, "unknown flag bits 0x%x",
                        m.flags & ~AB_MEMREC_KNOWN);
    if (m.width != 1 && m.width != 2 && m.width != 4 && m.width != 8)
        return MEM_FAIL(l, VAM_ERR_RECORD, &m, "width %u is not 1, 2, 4 or 8", m.width);
    if (m.len < AB_MEMSITE_MIN || insn_len == 0 || insn_len > m.len)
        return MEM_FAIL(l, VAM_ERR_PAD, &m, "site of %u bytes with insn_len %u (a memory "
                        "site needs at least %d bytes)", m.len, insn_len, AB_MEMSITE_MIN);
    int i = segment_of(l->g, m.addr);
    if (i < 0 || !(l->g->seg[i].flags & VAM_PF_X))
        return MEM_FAIL(l, VAM_ERR_PLACE, &m, "not in an executable segment");
    const uint8_t *bytes = vam_guest_bytes(l->g, m.addr, m.len);
    if (!bytes)
        return MEM_FAIL(l, VAM_ERR_PLACE, &m, "runs past the file contents of segment %d", i);
    const char *why = vam_memsite_decode(bytes, m.len, &m);
    if (why)
        return MEM_FAIL(l, VAM_ERR_DECODE, &m, "%s", why);
    if (m.insn_len != insn_len)
        return MEM_FAIL(l, VAM_ERR_DECODE, &m, "instruction is %u bytes, record says %u",
                        m.insn_len, insn_len);
    if (l->nmem < l->mcap)
        l->mbuf[l->nmem] = m;
    l->nmem++;
    return VAM_OK;
}

/* One Afterburn note of type SITES: header, then records. */
static enum vam_status read_afterburn_note(struct loader *l, const char *where, uint64_t note_off,
                                           uint64_t desc_off, uint64_t descsz, bool has_vaddr,
                                           uint64_t base_off, uint64_t base_vaddr)
{
    const uint8_t *d = l->img + desc_off;
    unsigned long long at = (unsigned long long)note_off;
    if (descsz < AB_NOTE_HEADER_SIZE)
        return vam_fail(l->e, VAM_ERR_NOTE,
                        "%s, Afterburn note at file offset 0x%llx: descsz %llu is too small "
                        "for the %d-byte header", where, at, (unsigned long long)descsz,
                        AB_NOTE_HEADER_SIZE);
    unsigned format = vam_le16(d), pad_abi = vam_le16(d + 2);
    if (format != AB_FORMAT_VERSION)
        return vam_fail(l->e, VAM_ERR_VERSION,
                        "%s, Afterburn note at file offset 0x%llx: annotation format version "
                        "%u, but this VAM reads format version %d", where, at, format,
                        AB_FORMAT_VERSION);
    if (pad_abi != AB_PAD_ABI_VERSION)
        return vam_fail(l->e, VAM_ERR_VERSION,
                        "%s, Afterburn note at file offset 0x%llx: pad-ABI version %u, but "
                        "this VAM implements pad-ABI version %d (site sizes differ: rebuild "
                        "the kernel with a matching afterburner)", where, at, pad_abi,
                        AB_PAD_ABI_VERSION);
    unsigned header_size = vam_le16(d + 4), record_size = vam_le16(d + 6);
    uint32_t nrecords = vam_le32(d + 8), reserved = vam_le32(d + 12);
    if (header_size != AB_NOTE_HEADER_SIZE || record_size != AB_RECORD_SIZE)
        return vam_fail(l->e, VAM_ERR_NOTE,
                        "%s, Afterburn note at file offset 0x%llx: header_size %u, record_size "
                        "%u; expected %d and %d", where, at, header_size, record_size,
                        AB_NOTE_HEADER_SIZE, AB_RECORD_SIZE);
    if (reserved)
        return vam_fail(l->e, VAM_ERR_NOTE,
                        "%s, Afterburn note at file offset 0x%llx: header reserved field is "
                        "0x%x, expected 0", where, at, reserved);
    uint64_t want = AB_NOTE_HEADER_SIZE + (uint64_t)nrecords * AB_RECORD_SIZE;
    if (descsz != want)
        return vam_fail(l->e, VAM_ERR_NOTE,
                        "%s, Afterburn note at file offset 0x%llx: nrecords %u does not match "
                        "descsz %llu (16 + 12 * nrecords = %llu)", where, at, nrecords,
                        (unsigned long long)descsz, (unsigned long long)want);
    if (nrecords && !has_vaddr)
        return vam_fail(l->e, VAM_ERR_NOTE,
                        "%s, Afterburn note at file offset 0x%llx: the section is not loaded "
                        "(no SHF_ALLOC), so its records cannot be resolved to addresses",
                        where, at);
    if (!l->mem)
        l->g->nnotes++;
    for (uint32_t i = 0; i < nrecords; i++) {
        uint64_t rec_off = desc_off + AB_NOTE_HEADER_SIZE + (uint64_t)i * AB_RECORD_SIZE;
        uint64_t rec_vaddr = base_vaddr + (rec_off - base_off);
        enum vam_status st = l->mem ? read_memrecord(l, l->img + rec_off, rec_vaddr)
                                    : read_record(l, l->img + rec_off, rec_vaddr);
        if (st)
            return st;
    }
    return VAM_OK;
}

/* Walks the notes in file range [off, off+size) (already checked to be in the file). */
static enum vam_status walk_notes(struct loader *l, const char *where, uint64_t off,
                                  uint64_t size, uint64_t align, bool has_vaddr, uint64_t vaddr)
{
    uint64_t end = off + size, pos = off;
    while (pos < end) {
        unsigned long long at = (unsigned long long)pos;
        if (end - pos < NOTE_HDR_SIZE)
            return vam_fail(l->e, VAM_ERR_NOTE,
                            "%s, note at file offset 0x%llx: truncated note header (%llu bytes "
                            "left)", where, at, (unsigned long long)(end - pos));
        const uint8_t *h = l->img + pos;
        uint32_t namesz = vam_le32(h), descsz = vam_le32(h + 4), type = vam_le32(h + 8);
        uint64_t name_off = pos + NOTE_HDR_SIZE;
        /* name and descriptor start at multiples of the alignment from the
         * start of the notes (gABI; for 8-aligned notes such as
         * .note.gnu.property the name is not padded to 8 on its own) */
        uint64_t desc_off = off + round_up(name_off - off + namesz, align);
        if (desc_off > end)
            return vam_fail(l->e, VAM_ERR_NOTE,
                            "%s, note at file offset 0x%llx: namesz %u extends past the end of "
                            "the notes", where, at, namesz);
        if (descsz > end - desc_off)
            return vam_fail(l->e, VAM_ERR_NOTE,
                            "%s, note at file offset 0x%llx: descsz %u extends past the end of "
                            "the notes (truncated note: %llu bytes left for the descriptor)",
                            where, at, descsz, (unsigned long long)(end - desc_off));
        bool afterburn = namesz == AB_NOTE_NAMESZ &&
                         memcmp(l->img + name_off, AB_NOTE_NAME, AB_NOTE_NAMESZ) == 0;
        if (afterburn && type == (l->mem ? AB_NOTE_TYPE_MEMSITES : AB_NOTE_TYPE_SITES)) {
            enum vam_status st = read_afterburn_note(l, where, pos, desc_off, descsz, has_vaddr,
                                                     off, vaddr);
            if (st)
                return st;
        }
        /* Other notes, and Afterburn notes of types from the future, are skipped. */
        uint64_t next = off + round_up(desc_off - off + descsz, align);
        if (next <= pos)
            break;
        pos = next;
    }
    return VAM_OK;
}

static enum vam_status read_note_segments(struct loader *l)
{
    const uint8_t *h = l->img;
    uint64_t phoff = vam_le64(h + 32);
    unsigned phnum = vam_le16(h + 56);
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *p = h + phoff + (uint64_t)i * PHDR_SIZE;
        if (vam_le32(p) != PT_NOTE)
            continue;
        uint64_t off = vam_le64(p + 8), vaddr = vam_le64(p + 16), filesz = vam_le64(p + 32);
        uint64_t align = vam_le64(p + 48) == 8 ? 8 : 4;
        char where[40];
        vam_snprintf(where, sizeof where, "PT_NOTE segment %u", i);
        enum vam_status st = walk_notes(l, where, off, filesz, align, true, vaddr);
        if (st)
            return st;
        if (l->nnoteseg == sizeof l->noteseg_off / sizeof l->noteseg_off[0])
            return vam_fail(l->e, VAM_ERR_PHDR, "more than %zu PT_NOTE segments",
                            sizeof l->noteseg_off / sizeof l->noteseg_off[0]);
        l->noteseg_off[l->nnoteseg] = off;
        l->noteseg_end[l->nnoteseg++] = off + filesz;
    }
    return VAM_OK;
}

static enum vam_status read_note_sections(struct loader *l)
{
    for (uint32_t i = 1; i < l->shnum; i++) {
        struct shdr s;
        read_shdr(l, i, &s);
        if (s.type != SHT_NOTE || s.size == 0)
            continue;
        bool covered = false;
        for (unsigned k = 0; k < l->nnoteseg; k++) {
            if (s.offset >= l->noteseg_off[k] && s.offset + s.size <= l->noteseg_end[k])
                covered = true;
            else if (s.offset < l->noteseg_end[k] && l->noteseg_off[k] < s.offset + s.size)
                return vam_fail(l->e, VAM_ERR_SHDR,
                                "note section %s (file 0x%llx+0x%llx) partly overlaps a PT_NOTE "
                                "segment", section_name(l, &s), (unsigned long long)s.offset,
                                (unsigned long long)s.size);
        }
        if (covered)
            continue;
        char where[48];
        vam_snprintf(where, sizeof where, "section %.32s", section_name(l, &s));
        enum vam_status st = walk_notes(l, where, s.offset, s.size, s.addralign == 8 ? 8 : 4,
                                        (s.flags & SHF_ALLOC) != 0, s.addr);
        if (st)
            return st;
    }
    return VAM_OK;
}

/* ---- ordering, overlaps, instructions ------------------------------------------------- */

static bool site_before(const struct vam_site *a, const struct vam_site *b)
{
    return a->addr != b->addr ? a->addr < b->addr : a->record < b->record;
}

static void sift_down(struct vam_site *v, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && site_before(&v[child], &v[child + 1]))
            child++;
        if (!site_before(&v[root], &v[child]))
            return;
        struct vam_site t = v[root];
        v[root] = v[child];
        v[child] = t;
        root = child;
    }
}

/* Heapsort: in place, O(n log n), no allocation. */
static void sort_sites(struct vam_site *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(v, i, n);
    for (size_t end = n; end-- > 1;) {
        struct vam_site t = v[0];
        v[0] = v[end];
        v[end] = t;
        sift_down(v, 0, end);
    }
}

static enum vam_status check_overlaps(struct loader *l)
{
    const struct vam_guest *g = l->g;
    const struct vam_site *reach = NULL;    /* the site reaching furthest so far */
    for (size_t i = 0; i < g->nsite; i++) {
        const struct vam_site *s = &g->site[i];
        if (reach && s->addr < reach->addr + reach->len) {
            char kb[16];
            return SITE_FAIL(l, VAM_ERR_OVERLAP, s,
                             "overlaps the site at 0x%llx (%s, record %u, %u bytes)",
                             (unsigned long long)reach->addr, vam_kind_name(reach->kind, kb),
                             reach->record, reach->len);
        }
        if (!reach || s->addr + s->len > reach->addr + reach->len)
            reach = s;
    }
    return VAM_OK;
}

static void mark_templates(struct loader *l)
{
    for (uint32_t i = 1; i < l->shnum; i++) {
        struct shdr sh;
        read_shdr(l, i, &sh);
        if (!(sh.flags & SHF_ALLOC) || !section_name_is(l, &sh, ".altinstr_replacement"))
            continue;
        for (size_t k = 0; k < l->g->nsite; k++) {
            struct vam_site *s = &l->g->site[k];
            if (s->addr >= sh.addr && s->addr - sh.addr < sh.size &&
                !(s->status & VAM_SITE_TEMPLATE)) {
                s->status |= VAM_SITE_TEMPLATE;
                l->g->ntemplate++;
            }
        }
    }
}

/* Up to 15 bytes as "0f 01 f8" for messages. */
static void hex_bytes(char *out, size_t size, const uint8_t *p, size_t n)
{
    size_t len = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && i < 15; i++) {
        int w = vam_snprintf(out + len, size - len, i ? " %02x" : "%02x", p[i]);
        if (w < 0 || (size_t)w >= size - len)
            return;
        len += (size_t)w;
    }
}

enum vam_status vam_site_decode(const struct vam_site *s, const uint8_t *bytes,
                                struct vam_insn *out, struct vam_error *e)
{
    char hex[48], text[80], kb[16], kb2[16];
    const uint8_t *insn = bytes + s->insn_off;
    size_t room = (size_t)s->len - s->insn_off;
    struct vam_insn d;
    enum vam_decode_result r = vam_decode(insn, room, s->mode, &d);
    if (r == VAM_DEC_OTHER_MODE)
        return vam_fail_site(e, VAM_ERR_DECODE, s->addr, s->kind, s->record,
                             "site is in %u-bit code, which the VAM does not rewrite",
                             s->mode == AB_MODE_32 ? 32 : 16);
    if (r != VAM_DEC_OK) {
        hex_bytes(hex, sizeof hex, insn, s->insn_len);
        return vam_fail_site(e, VAM_ERR_DECODE, s->addr, s->kind, s->record,
                             "site does not decode to a sensitive instruction%s (bytes %s)",
                             r == VAM_DEC_TRUNCATED ? " within the site" : "", hex);
    }
    vam_insn_format(&d, text, sizeof text);
    if (d.kind != s->kind)
        return vam_fail_site(e, VAM_ERR_DECODE, s->addr, s->kind, s->record,
                             "instruction '%s' is kind %s, but the record says %s", text,
                             vam_kind_name(d.kind, kb), vam_kind_name(s->kind, kb2));
    if (d.len != s->insn_len)
        return vam_fail_site(e, VAM_ERR_DECODE, s->addr, s->kind, s->record,
                             "instruction '%s' is %u byte%s, but insn_len is %u", text, d.len,
                             d.len == 1 ? "" : "s", s->insn_len);
    size_t bad = 0;
    unsigned after = s->insn_off + s->insn_len;
    bool pad_ok = vam_is_nops(bytes, s->insn_off, &bad);
    if (pad_ok && !vam_is_nops(bytes + after, s->len - after, &bad)) {
        bad += after;
        pad_ok = false;
    }
    if (!pad_ok) {
        hex_bytes(hex, sizeof hex, bytes + bad, s->len - bad);
        return vam_fail_site(e, VAM_ERR_PADDING, s->addr, s->kind, s->record,
                             "padding at +%zu is not a NOP (bytes %s)", bad, hex);
    }
    if (out)
        *out = d;
    return VAM_OK;
}

static enum vam_status check_instructions(struct loader *l)
{
    struct vam_guest *g = l->g;
    for (size_t i = 0; i < g->nsite; i++) {
        struct vam_site *s = &g->site[i];
        if (s->mode != AB_MODE_64) {
            s->status |= VAM_SITE_OTHER_MODE;
            g->nother_mode++;
            continue;
        }
        const uint8_t *bytes = vam_guest_bytes(g, s->addr, s->len);
        if (!bytes)     /* cannot happen after check_place */
            return SITE_FAIL(l, VAM_ERR_PLACE, s, "site has no file contents");
        enum vam_status st = vam_site_decode(s, bytes, NULL, l->e);
        if (st)
            return st;
    }
    return VAM_OK;
}

enum vam_status vam_load(struct vam_guest *g, const void *image, size_t size,
                         struct vam_site *buf, size_t cap, struct vam_error *e)
{
    memset(g, 0, sizeof *g);
    if (e) {
        e->code = VAM_OK;
        e->has_site = false;
        e->msg[0] = 0;
    }
    g->image = image;
    g->size = size;
    struct loader l = { .g = g, .img = image, .size = size, .buf = buf, .cap = buf ? cap : 0,
                        .e = e };
    if (!image)
        return vam_fail(e, VAM_ERR_NOT_ELF, "no image");
    enum vam_status st;
    if ((st = check_header(&l)) || (st = read_segments(&l)) || (st = read_section_table(&l)) ||
        (st = read_note_segments(&l)) || (st = read_note_sections(&l)))
        return st;
    g->nrecords = l.nrec;
    if (g->nnotes == 0)
        return vam_fail(e, VAM_ERR_NO_NOTES,
                        "no afterburn annotations (no \"Afterburn\" note of type 0x%x in any "
                        "PT_NOTE segment or SHT_NOTE section)", AB_NOTE_TYPE_SITES);
    if (l.nrec > l.cap)
        return vam_fail(e, VAM_ERR_NOSPACE, "%u annotation records, but room for only %zu",
                        l.nrec, l.cap);
    g->site = buf;
    g->nsite = l.nsite;
    g->mark = buf + l.cap - l.nmark;
    g->nmark = l.nmark;
    sort_sites(g->site, g->nsite);
    sort_sites(g->mark, g->nmark);
    if ((st = check_overlaps(&l)))
        return st;
    mark_templates(&l);
    return check_instructions(&l);
}

static void sort_memsites(struct vam_memsite *v, size_t n)
{
    /* insertion sort on top of the notes' order, which is already nearly
     * sorted (gas emits records in address order per object) */
    for (size_t i = 1; i < n; i++) {
        struct vam_memsite t = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1].addr > t.addr) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = t;
    }
}

enum vam_status vam_load_memsites(const struct vam_guest *g, struct vam_memsite *buf,
                                  size_t cap, size_t *n, struct vam_error *e)
{
    *n = 0;
    struct loader l = { .g = (struct vam_guest *)(uintptr_t)g, .img = g->image, .size = g->size,
                        .e = e, .mem = true, .mbuf = buf, .mcap = buf ? cap : 0 };
    enum vam_status st;
    if ((st = read_section_table(&l)) || (st = read_note_segments(&l)) ||
        (st = read_note_sections(&l)))
        return st;
    *n = l.nmem;
    if (l.nmem > l.mcap)
        return vam_fail(e, VAM_ERR_NOSPACE, "%zu memory-site records, but room for only %zu",
                        l.nmem, l.mcap);
    sort_memsites(buf, l.nmem);
    /* no overlaps: among themselves, and with the sensitive-instruction sites */
    size_t k = 0;
    for (size_t i = 0; i < l.nmem; i++) {
        const struct vam_memsite *m = &buf[i];
        if (i && buf[i - 1].addr + buf[i - 1].len > m->addr)
            return MEM_FAIL(&l, VAM_ERR_OVERLAP, m, "overlaps the memory site at 0x%llx",
                            (unsigned long long)buf[i - 1].addr);
        while (k < g->nsite && g->site[k].addr + g->site[k].len <= m->addr)
            k++;
        if (k < g->nsite && g->site[k].addr < m->addr + m->len)
            return MEM_FAIL(&l, VAM_ERR_OVERLAP, m, "overlaps the site at 0x%llx (record %u)",
                            (unsigned long long)g->site[k].addr, g->site[k].record);
    }
    return VAM_OK;
}

int64_t vam_guest_file_offset(const struct vam_guest *g, uint64_t vaddr, size_t len)
{
    for (unsigned i = 0; i < g->nseg; i++) {
        const struct vam_segment *s = &g->seg[i];
        if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz &&
            len <= s->filesz - (vaddr - s->vaddr))
            return (int64_t)(s->offset + (vaddr - s->vaddr));
    }
    return -1;
}

const uint8_t *vam_guest_bytes(const struct vam_guest *g, uint64_t vaddr, size_t len)
{
    int64_t off = vam_guest_file_offset(g, vaddr, len);
    return off < 0 ? NULL : g->image + off;
}
