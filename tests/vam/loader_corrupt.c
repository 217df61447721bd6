/*
 * The loader on good files corrupted in C: header fields, program and
 * section headers, the note and its records, every truncation, and random
 * byte flips.  Every corruption must give the specific error (or, for the
 * random ones, any error or a load whose invariants hold) and never an
 * access outside the buffer: the buffers are exact-size heap copies and the
 * test runs under ASan.
 *
 * Arguments: good allkinds (linked test inputs).
 */
#include "testutil.h"

#include <vam/loader.h>
#include <vam/rewrite.h>

#include <afterburn/kinds.h>

#include <elf.h>
#include <string.h>

static uint8_t *orig;
static size_t orig_size;
static struct vam_site sites[4096];

/* Loads a copy of buf (exact size); returns the status, message in e. */
static enum vam_status load_copy(const uint8_t *buf, size_t size, struct vam_guest *g,
                                 struct vam_error *e)
{
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, buf, size);
    enum vam_status st = vam_load(g, copy, size, sites, 4096, e);
    CHECK(st == e->code, "status %d but error code %d", st, e->code);
    if (st == VAM_OK) {
        /* invariants of a successful load */
        for (size_t i = 0; i < g->nsite; i++) {
            const struct vam_site *s = &g->site[i];
            CHECK(vam_guest_bytes(g, s->addr, s->len) != NULL, "site outside the file");
            CHECK(i == 0 || g->site[i - 1].addr + g->site[i - 1].len <= s->addr,
                  "sites overlap or are unsorted");
            CHECK(g->seg[s->seg].flags & VAM_PF_X, "site in a segment that is not executable");
            if (!(s->status & VAM_SITE_OTHER_MODE)) {
                struct vam_insn d;
                CHECK(vam_site_decode(s, vam_guest_bytes(g, s->addr, s->len), &d, NULL) ==
                      VAM_OK, "a loaded site does not decode");
            }
        }
    }
    free(copy);
    return st;
}

/* Corrupts a copy with fn, expects status `want` and a message matching `msg` (substring). */
static void expect(const char *what, void (*fn)(uint8_t *img, size_t *size), enum vam_status want,
                   const char *msg)
{
    uint8_t *img = malloc(orig_size);
    memcpy(img, orig, orig_size);
    size_t size = orig_size;
    fn(img, &size);
    struct vam_guest g;
    struct vam_error e;
    enum vam_status st = load_copy(img, size, &g, &e);
    CHECK(st == want && strstr(e.msg, msg) != NULL,
          "%s: got [%s] \"%s\", expected [%s] containing \"%s\"", what, vam_status_name(st),
          e.msg, vam_status_name(want), msg);
    free(img);
}

/* ---- where things are in the good file ------------------------------------------------- */

static Elf64_Ehdr *eh(uint8_t *img)
{
    return (Elf64_Ehdr *)img;
}

static Elf64_Phdr *ph(uint8_t *img, unsigned i)
{
    return (Elf64_Phdr *)(img + eh(img)->e_phoff) + i;
}

static Elf64_Shdr *sh(uint8_t *img, unsigned i)
{
    return (Elf64_Shdr *)(img + eh(img)->e_shoff) + i;
}

static int find_phdr(uint8_t *img, uint32_t type, uint32_t flags)
{
    for (unsigned i = 0; i < eh(img)->e_phnum; i++)
        if (ph(img, i)->p_type == type && (ph(img, i)->p_flags & flags) == flags)
            return (int)i;
    return -1;
}

/* File offset of the Afterburn note's descriptor (header), records follow. */
static size_t note_desc(uint8_t *img)
{
    Elf64_Phdr *p = ph(img, (unsigned)find_phdr(img, PT_NOTE, 0));
    for (size_t pos = p->p_offset; pos < p->p_offset + p->p_filesz;) {
        uint32_t namesz, descsz;
        memcpy(&namesz, img + pos, 4);
        memcpy(&descsz, img + pos + 4, 4);
        size_t desc = pos + 12 + ((namesz + 3) & ~3u);
        if (namesz == 10 && memcmp(img + pos + 12, "Afterburn", 10) == 0)
            return desc;
        pos = desc + ((descsz + 3) & ~3u);
    }
    fprintf(stderr, "no Afterburn note in the test input\n");
    exit(2);
}

static uint8_t *record(uint8_t *img, unsigned i)
{
    return img + note_desc(img) + 16 + 12 * i;
}

/* ---- the corruptions --------------------------------------------------------------------- */

static void c_magic(uint8_t *img, size_t *n) { (void)n; img[1] = 'X'; }
static void c_class(uint8_t *img, size_t *n) { (void)n; img[EI_CLASS] = ELFCLASS32; }
static void c_data(uint8_t *img, size_t *n) { (void)n; img[EI_DATA] = ELFDATA2MSB; }
static void c_version(uint8_t *img, size_t *n) { (void)n; img[EI_VERSION] = 2; }
static void c_machine(uint8_t *img, size_t *n) { (void)n; eh(img)->e_machine = EM_386; }
static void c_type(uint8_t *img, size_t *n) { (void)n; eh(img)->e_type = ET_DYN; }
static void c_phentsize(uint8_t *img, size_t *n) { (void)n; eh(img)->e_phentsize = 32; }
static void c_phnum0(uint8_t *img, size_t *n) { (void)n; eh(img)->e_phnum = 0; }
static void c_phnum_big(uint8_t *img, size_t *n) { (void)n; eh(img)->e_phnum = 0xfff0; }
static void c_phoff(uint8_t *img, size_t *n) { eh(img)->e_phoff = *n - 8; }
static void c_phoff_wrap(uint8_t *img, size_t *n) { (void)n; eh(img)->e_phoff = ~0ull - 8; }
static void c_shoff(uint8_t *img, size_t *n) { eh(img)->e_shoff = *n; }
static void c_shoff_wrap(uint8_t *img, size_t *n) { (void)n; eh(img)->e_shoff = ~0ull - 100; }
static void c_shentsize(uint8_t *img, size_t *n) { (void)n; eh(img)->e_shentsize = 40; }
static void c_shnum(uint8_t *img, size_t *n) { (void)n; eh(img)->e_shnum = 0xfff0; }

static void c_load_beyond(uint8_t *img, size_t *n)
{
    ph(img, (unsigned)find_phdr(img, PT_LOAD, PF_X))->p_offset = *n;
}

static void c_load_filesz(uint8_t *img, size_t *n)
{
    (void)n;
    Elf64_Phdr *p = ph(img, (unsigned)find_phdr(img, PT_LOAD, PF_X));
    p->p_memsz = p->p_filesz - 1;
}

static void c_load_wrap(uint8_t *img, size_t *n)
{
    (void)n;
    Elf64_Phdr *p = ph(img, (unsigned)find_phdr(img, PT_LOAD, PF_X));
    p->p_vaddr = ~0ull - 4;
}

static void c_load_overlap(uint8_t *img, size_t *n)
{
    (void)n;
    Elf64_Phdr *x = ph(img, (unsigned)find_phdr(img, PT_LOAD, PF_X));
    for (unsigned i = 0; i < eh(img)->e_phnum; i++)
        if (ph(img, i)->p_type == PT_LOAD && ph(img, i) != x) {
            ph(img, i)->p_vaddr = x->p_vaddr + 4;
            return;
        }
}

static void c_no_exec(uint8_t *img, size_t *n)
{
    (void)n;
    ph(img, (unsigned)find_phdr(img, PT_LOAD, PF_X))->p_flags &= ~(unsigned)PF_X;
}

static void c_note_beyond(uint8_t *img, size_t *n)
{
    ph(img, (unsigned)find_phdr(img, PT_NOTE, 0))->p_filesz = *n;
}

static void c_namesz(uint8_t *img, size_t *n)
{
    (void)n;
    Elf64_Phdr *p = ph(img, (unsigned)find_phdr(img, PT_NOTE, 0));
    uint32_t big = 0xfffffff0u;
    memcpy(img + p->p_offset, &big, 4);
}

static void c_descsz(uint8_t *img, size_t *n)
{
    (void)n;
    uint32_t big = 0xfffffff0u;
    memcpy(img + note_desc(img) - 20, &big, 4);     /* namesz, descsz, type, name[12], desc */
}

static void set16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void set32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void c_format(uint8_t *img, size_t *n) { (void)n; set16(img + note_desc(img), 3); }
static void c_padabi(uint8_t *img, size_t *n) { (void)n; set16(img + note_desc(img) + 2, 7); }
static void c_hdrsize(uint8_t *img, size_t *n) { (void)n; set16(img + note_desc(img) + 4, 20); }
static void c_nrec(uint8_t *img, size_t *n)
{
    (void)n;
    set32(img + note_desc(img) + 8, 0x40000000u);
}
static void c_hdr_reserved(uint8_t *img, size_t *n) { (void)n; set32(img + note_desc(img) + 12, 1); }
static void c_rec_kind(uint8_t *img, size_t *n) { (void)n; record(img, 0)[7] = 0x77; }
static void c_rec_kind_none(uint8_t *img, size_t *n) { (void)n; record(img, 0)[7] = 41; }
static void c_rec_mode(uint8_t *img, size_t *n) { (void)n; record(img, 0)[8] = 3; }
static void c_rec_flags(uint8_t *img, size_t *n) { (void)n; record(img, 0)[9] = 0x80; }
static void c_rec_reserved(uint8_t *img, size_t *n) { (void)n; set16(record(img, 0) + 10, 5); }
static void c_rec_len0(uint8_t *img, size_t *n) { (void)n; record(img, 0)[4] = 0; }
static void c_rec_insn_past(uint8_t *img, size_t *n) { (void)n; record(img, 0)[6] = 9; }
static void c_rec_small(uint8_t *img, size_t *n) { (void)n; record(img, 0)[4] = 5; }

static void c_rec_far(uint8_t *img, size_t *n)
{
    (void)n;
    set32(record(img, 0), 0x7ffffff0u);
}

/* Record 0 of good is a cli site at _start; point record 1 (sti) at it. */
static void c_rec_overlap(uint8_t *img, size_t *n)
{
    (void)n;
    uint32_t rel0;
    memcpy(&rel0, record(img, 0), 4);
    set32(record(img, 1), rel0 - 12 + 2);     /* 2 bytes into the cli site */
}

/* Overwrite the cli instruction itself. */
static void c_insn_bytes(uint8_t *img, size_t *n)
{
    (void)n;
    Elf64_Phdr *x = ph(img, (unsigned)find_phdr(img, PT_LOAD, PF_X));
    uint64_t entry = eh(img)->e_entry;
    img[x->p_offset + (entry - x->p_vaddr)] = 0x90;
}

static void c_no_sections(uint8_t *img, size_t *n)
{
    (void)n;
    eh(img)->e_shoff = 0;
    eh(img)->e_shnum = 0;
    eh(img)->e_shstrndx = 0;
}

static void c_no_pt_note(uint8_t *img, size_t *n)
{
    (void)n;
    ph(img, (unsigned)find_phdr(img, PT_NOTE, 0))->p_type = PT_NULL;
}

static void c_no_notes_at_all(uint8_t *img, size_t *n)
{
    c_no_pt_note(img, n);
    c_no_sections(img, n);
}

static void c_note_not_alloc(uint8_t *img, size_t *n)
{
    c_no_pt_note(img, n);
    for (unsigned i = 1; i < eh(img)->e_shnum; i++)
        if (sh(img, i)->sh_type == SHT_NOTE)
            sh(img, i)->sh_flags &= ~(uint64_t)SHF_ALLOC;
}

static void c_section_beyond(uint8_t *img, size_t *n)
{
    for (unsigned i = 1; i < eh(img)->e_shnum; i++)
        if (sh(img, i)->sh_type == SHT_NOTE)
            sh(img, i)->sh_size = *n;
}

static void c_shstrndx(uint8_t *img, size_t *n)
{
    (void)n;
    eh(img)->e_shstrndx = 0xfff0;
}

static void c_nothing(uint8_t *img, size_t *n)
{
    (void)img;
    (void)n;
}

static void test_corruptions(void)
{
    expect("magic", c_magic, VAM_ERR_NOT_ELF, "not an ELF file");
    expect("class", c_class, VAM_ERR_ELF_CLASS, "not an ELF64 file (ELFCLASS32)");
    expect("data", c_data, VAM_ERR_ELF_DATA, "not a little-endian ELF file (EI_DATA 2)");
    expect("version", c_version, VAM_ERR_ELF_DATA, "unknown ELF version 2");
    expect("machine", c_machine, VAM_ERR_MACHINE, "not an x86-64 file (e_machine 3)");
    expect("type", c_type, VAM_ERR_ELF_TYPE, "not an executable: e_type 3 (ET_DYN)");
    expect("phentsize", c_phentsize, VAM_ERR_PHDR, "program header entry size 32, expected 56");
    expect("phnum 0", c_phnum0, VAM_ERR_PHDR, "no program headers");
    expect("phnum big", c_phnum_big, VAM_ERR_PHDR,
           "entries) extends past the end of the file");
    expect("phoff", c_phoff, VAM_ERR_PHDR, "extends past the end of the file");
    expect("phoff wraps", c_phoff_wrap, VAM_ERR_PHDR, "extends past the end of the file");
    expect("shoff", c_shoff, VAM_ERR_SHDR, "is past the end of the file");
    expect("shoff wraps", c_shoff_wrap, VAM_ERR_SHDR, "is past the end of the file");
    expect("shentsize", c_shentsize, VAM_ERR_SHDR, "section header entry size 40, expected 64");
    expect("shnum", c_shnum, VAM_ERR_SHDR, "entries) extends past the end of the file");
    expect("segment beyond", c_load_beyond, VAM_ERR_PHDR, "extends past the end of the file");
    expect("filesz > memsz", c_load_filesz, VAM_ERR_PHDR, "is larger than p_memsz");
    expect("segment wraps", c_load_wrap, VAM_ERR_PHDR, "wraps around");
    expect("segments overlap", c_load_overlap, VAM_ERR_PHDR, "loadable segments overlap");
    expect("not executable", c_no_exec, VAM_ERR_PLACE,
           "(cli, record 0): not in executable memory: it lies in segment");
    expect("note beyond", c_note_beyond, VAM_ERR_PHDR, "extends past the end of the file");
    expect("namesz", c_namesz, VAM_ERR_NOTE, "namesz 4294967280 extends past the end of the notes");
    expect("descsz", c_descsz, VAM_ERR_NOTE, "descsz 4294967280 extends past the end of the notes");
    expect("format", c_format, VAM_ERR_VERSION,
           "annotation format version 3, but this VAM reads format version 1");
    expect("pad abi", c_padabi, VAM_ERR_VERSION,
           "pad-ABI version 7, but this VAM implements pad-ABI version 1");
    expect("header size", c_hdrsize, VAM_ERR_NOTE, "header_size 20, record_size 12");
    expect("nrecords", c_nrec, VAM_ERR_NOTE, "nrecords 1073741824 does not match descsz");
    expect("header reserved", c_hdr_reserved, VAM_ERR_NOTE, "header reserved field is 0x1");
    expect("kind", c_rec_kind, VAM_ERR_KIND,
           "(kind 119, record 0): kind 119 is not in sensitive.def");
    expect("kind none", c_rec_kind_none, VAM_ERR_KIND, "kind rdtsc has class NONE");
    expect("mode", c_rec_mode, VAM_ERR_RECORD,
           "mode 3 is not 0 (64-bit), 1 (32-bit) or 2 (16-bit)");
    expect("flags", c_rec_flags, VAM_ERR_RECORD, "unknown flag bits 0x80");
    expect("reserved", c_rec_reserved, VAM_ERR_RECORD, "reserved field is 0x5, expected 0");
    expect("len 0", c_rec_len0, VAM_ERR_RECORD, "len 0, insn_len 1; neither may be 0");
    expect("insn past", c_rec_insn_past, VAM_ERR_RECORD,
           "instruction (insn_off 0 + insn_len 9) runs past the site length 8");
    expect("pad small", c_rec_small, VAM_ERR_PAD, "(cli, record 0): pad too small: 5 < 8");
    expect("far away", c_rec_far, VAM_ERR_PLACE, "no loadable segment contains it");
    expect("overlap", c_rec_overlap, VAM_ERR_OVERLAP, "(sti, record 1): overlaps the site at");
    expect("instruction", c_insn_bytes, VAM_ERR_DECODE,
           "(cli, record 0): site does not decode to a sensitive instruction (bytes 90)");
    expect("no notes", c_no_notes_at_all, VAM_ERR_NO_NOTES, "no afterburn annotations");
    expect("note not loaded", c_note_not_alloc, VAM_ERR_NOTE,
           "the section is not loaded (no SHF_ALLOC)");
    expect("note section beyond", c_section_beyond, VAM_ERR_SHDR,
           "extends past the end of the file");
    expect("intact", c_nothing, VAM_OK, "");
    expect("bad shstrndx", c_shstrndx, VAM_OK, "");

    /* Without section headers the PT_NOTE segment is enough (templates are then unknown);
     * without the PT_NOTE segment the SHT_NOTE section is. */
    struct vam_guest g0, g1, g2;
    struct vam_error e;
    CHECK(load_copy(orig, orig_size, &g0, &e) == VAM_OK, "%s", e.msg);
    size_t n0 = g0.nsite;
    uint32_t t0 = g0.ntemplate;
    uint8_t *img = malloc(orig_size);
    size_t size = orig_size;
    memcpy(img, orig, size);
    c_no_sections(img, &size);
    CHECK(load_copy(img, size, &g1, &e) == VAM_OK && g1.nsite == n0 && g1.ntemplate == 0,
          "no sections: %s, %zu sites", e.msg, g1.nsite);
    memcpy(img, orig, size);
    c_no_pt_note(img, &size);
    CHECK(load_copy(img, size, &g2, &e) == VAM_OK && g2.nsite == n0 && g2.ntemplate == t0,
          "no PT_NOTE: %s, %zu sites", e.msg, g2.nsite);
    free(img);

    /* Room for fewer records than there are: refused, with the count to allocate. */
    struct vam_guest g;
    enum vam_status st = vam_load(&g, orig, orig_size, sites, 3, &e);
    CHECK(st == VAM_ERR_NOSPACE && g.nrecords == n0 + g0.nmark &&
          strstr(e.msg, "annotation records, but room for only 3"), "nospace: %s", e.msg);
    st = vam_load(&g, orig, orig_size, NULL, 100, &e);
    CHECK(st == VAM_ERR_NOSPACE, "NULL buffer: %s", e.msg);
    st = vam_load(&g, NULL, 0, sites, 10, &e);
    CHECK(st == VAM_ERR_NOT_ELF, "NULL image");
}

/* Every truncation fails cleanly. */
static void test_truncations(void)
{
    long n = 0;
    for (size_t len = 0; len < orig_size; len++) {
        struct vam_guest g;
        struct vam_error e;
        enum vam_status st = load_copy(orig, len, &g, &e);
        CHECK(st != VAM_OK, "truncated to %zu bytes, still loads", len);
        n++;
    }
    printf("truncations: %ld lengths, all refused\n", n);
}

static uint64_t rng = 0x243f6a8885a308d3ull;
static unsigned rnd(unsigned n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (unsigned)((rng * 0x2545f4914f6cdd1dull) >> 33) % n;
}

static uint8_t *map_copy(void *ctx, uint64_t vaddr, size_t len)
{
    struct vam_guest *g = ctx;
    int64_t off = vam_guest_file_offset(g, vaddr, len);
    return off < 0 ? NULL : (uint8_t *)g->image + off;
}

/* Random byte changes, biased to the headers and the note: never a crash;
 * whatever loads satisfies the invariants and rewrites. */
static void test_mutations(const uint8_t *base, size_t size, long rounds)
{
    uint8_t *tmp = malloc(size);
    memcpy(tmp, base, size);
    size_t desc = note_desc(tmp);
    Elf64_Ehdr *h = eh(tmp);
    size_t phend = h->e_phoff + (size_t)h->e_phnum * sizeof(Elf64_Phdr);
    long loaded = 0, by_code[VAM_ERR_TABLE + 1] = { 0 };
    for (long r = 0; r < rounds; r++) {
        memcpy(tmp, base, size);
        unsigned flips = 1 + rnd(4);
        for (unsigned k = 0; k < flips; k++) {
            size_t at;
            switch (rnd(4)) {
            case 0: at = rnd((unsigned)phend); break;              /* ELF and program headers */
            case 1: at = desc - 20 + rnd(200); break;              /* the note */
            case 2: at = h->e_shoff + rnd((unsigned)(size - h->e_shoff)); break;
            default: at = rnd((unsigned)size); break;
            }
            if (at >= size)
                continue;
            tmp[at] = rnd(3) ? (uint8_t)rnd(256) : (uint8_t)(tmp[at] ^ (1u << rnd(8)));
        }
        struct vam_guest g;
        struct vam_error e;
        uint8_t *copy = malloc(size);
        memcpy(copy, tmp, size);
        enum vam_status st = vam_load(&g, copy, size, sites, 4096, &e);
        by_code[st]++;
        if (st == VAM_OK) {
            loaded++;
            for (size_t i = 0; i < g.nsite; i++) {
                const struct vam_site *s = &g.site[i];
                CHECK(i == 0 || g.site[i - 1].addr + g.site[i - 1].len <= s->addr, "overlap");
                CHECK(vam_guest_bytes(&g, s->addr, s->len) != NULL, "outside");
            }
            static struct vam_site_entry entries[4096];
            struct vam_site_table t = { .v = entries, .cap = 4096 };
            st = vam_rewrite_guest(&g, VAM_RW_TEMPLATES, map_copy, &g, &t, NULL, &e);
            CHECK(st == VAM_OK, "a loaded mutant does not rewrite: %s", e.msg);
        }
        free(copy);
    }
    printf("mutations: %ld rounds, %ld still load (and rewrite); refusals:", rounds, loaded);
    for (int c = 1; c <= VAM_ERR_TABLE; c++)
        if (by_code[c])
            printf(" %s %ld", vam_status_name((enum vam_status)c), by_code[c]);
    printf("\n");
    free(tmp);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: vam-loader-corrupt GOOD ALLKINDS\n");
        return 2;
    }
    size_t all_size;
    uint8_t *all = read_file(argv[2], &all_size);
    orig = read_file(argv[1], &orig_size);
    test_corruptions();
    test_truncations();
    test_mutations(orig, orig_size, 20000);
    test_mutations(all, all_size, 10000);
    free(orig);
    free(all);
    return test_done("vam-loader-corrupt");
}
