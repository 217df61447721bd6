#include "image.h"

#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return false;
}

/* True when [off, off+len) fits in a file of size bytes, without overflow. */
static bool fits(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

bool ab_section_is_code(const struct ab_section *s)
{
    return (s->flags & SHF_EXECINSTR) && s->type != SHT_NOBITS && s->bytes;
}

/* The identification bytes decide "is this a file we can read at all". */
static bool check_ident(const uint8_t *buf, size_t size, char *why, size_t whylen)
{
    if (size < SELFMAG || memcmp(buf, ELFMAG, SELFMAG) != 0)
        return fail(why, whylen, "not an ELF file");
    if (size < EI_NIDENT)
        return fail(why, whylen, "truncated file: %zu bytes, shorter than the ELF identification",
                    size);
    if (buf[EI_CLASS] == ELFCLASS32)
        return fail(why, whylen, "not an ELF64 file (ELFCLASS32)");
    if (buf[EI_CLASS] != ELFCLASS64)
        return fail(why, whylen, "not an ELF64 file (EI_CLASS %u)", buf[EI_CLASS]);
    if (buf[EI_DATA] != ELFDATA2LSB)
        return fail(why, whylen, "not a little-endian ELF file");
    if (size < sizeof(Elf64_Ehdr))
        return fail(why, whylen, "truncated file: %zu bytes, shorter than the ELF header", size);
    return true;
}

static bool check_header(const GElf_Ehdr *eh, size_t size, char *why, size_t whylen)
{
    if (eh->e_machine != EM_X86_64)
        return fail(why, whylen, "not an x86-64 file (e_machine %u)", eh->e_machine);
    if (eh->e_type != ET_REL && eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
        return fail(why, whylen, "unsupported ELF type %u (need ET_REL, ET_EXEC or ET_DYN)",
                    eh->e_type);
    if (eh->e_shoff == 0)
        return fail(why, whylen, "no section header table");
    if (eh->e_shentsize != sizeof(Elf64_Shdr))
        return fail(why, whylen, "corrupt ELF header: e_shentsize %u, expected %zu",
                    eh->e_shentsize, sizeof(Elf64_Shdr));
    /* Section 0 holds the real count when e_shnum overflows; it must be there. */
    if (!fits(eh->e_shoff, sizeof(Elf64_Shdr), size))
        return fail(why, whylen,
                    "truncated file: section header table at offset 0x%llx is past the end "
                    "of the file (%zu bytes)", (unsigned long long)eh->e_shoff, size);
    return true;
}

static bool read_section(struct ab_image *img, size_t i, size_t shstrndx, char *why,
                         size_t whylen)
{
    GElf_Shdr sh;
    Elf_Scn *scn = elf_getscn(img->elf, i);
    if (!scn || !gelf_getshdr(scn, &sh))
        return fail(why, whylen, "corrupt section header %zu: %s", i, elf_errmsg(-1));
    struct ab_section *s = &img->sec[i];
    const char *name = i ? elf_strptr(img->elf, shstrndx, sh.sh_name) : "";
    s->name = name ? name : "(bad section name)";
    s->type = sh.sh_type;
    s->flags = sh.sh_flags;
    s->addr = sh.sh_addr;
    s->size = sh.sh_size;
    s->addralign = sh.sh_addralign;
    s->link = sh.sh_link;
    s->info = sh.sh_info;
    s->bytes = NULL;
    if (sh.sh_type == SHT_NOBITS || sh.sh_type == SHT_NULL)
        return true;
    if (!fits(sh.sh_offset, sh.sh_size, img->size))
        return fail(why, whylen,
                    "truncated file: section %s (offset 0x%llx, size 0x%llx) extends past "
                    "the end of the file (%zu bytes)", s->name,
                    (unsigned long long)sh.sh_offset, (unsigned long long)sh.sh_size,
                    img->size);
    s->bytes = img->bytes + sh.sh_offset;
    return true;
}

static bool read_sections(struct ab_image *img, const GElf_Ehdr *eh, char *why, size_t whylen)
{
    size_t n, shstrndx;
    if (elf_getshdrnum(img->elf, &n) != 0 || elf_getshdrstrndx(img->elf, &shstrndx) != 0)
        return fail(why, whylen, "corrupt section header table: %s", elf_errmsg(-1));
    if (n == 0)
        return fail(why, whylen, "no section header table");
    if (n > SIZE_MAX / sizeof(Elf64_Shdr) || !fits(eh->e_shoff, n * sizeof(Elf64_Shdr), img->size))
        return fail(why, whylen,
                    "truncated file: section header table (%zu entries at offset 0x%llx) "
                    "extends past the end of the file (%zu bytes)", n,
                    (unsigned long long)eh->e_shoff, img->size);
    img->nsec = n;
    img->sec = ab_xrealloc(NULL, n, sizeof *img->sec);
    for (size_t i = 0; i < n; i++)
        if (!read_section(img, i, shstrndx, why, whylen))
            return false;
    return true;
}

static int cmp_code_range(const void *a, const void *b)
{
    const struct ab_code_range *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return x->shndx < y->shndx ? -1 : x->shndx > y->shndx;
}

static void index_code_sections(struct ab_image *img)
{
    img->code = ab_xrealloc(NULL, img->nsec, sizeof *img->code);
    img->ncode = 0;
    for (size_t i = 1; i < img->nsec; i++)
        if (ab_section_is_code(&img->sec[i]) && img->sec[i].size)
            img->code[img->ncode++] =
                (struct ab_code_range){ img->sec[i].addr, img->sec[i].size, i };
    qsort(img->code, img->ncode, sizeof *img->code, cmp_code_range);
}

/* Prefer functions over objects over untyped labels, and globals over locals. */
static unsigned symbol_rank(const GElf_Sym *sym)
{
    unsigned type = GELF_ST_TYPE(sym->st_info);
    unsigned r = type == STT_FUNC ? 3 : type == STT_OBJECT ? 2 : 1;
    return 2 * r + (GELF_ST_BIND(sym->st_info) != STB_LOCAL);
}

/* The section a symbol is defined in, or 0 (undefined, absolute, common or bogus). */
static size_t symbol_section(const GElf_Sym *sym, Elf32_Word xndx, size_t nsec)
{
    if (sym->st_shndx >= SHN_LORESERVE && sym->st_shndx != SHN_XINDEX)
        return 0;
    size_t s = sym->st_shndx == SHN_XINDEX ? xndx : sym->st_shndx;
    return s < nsec ? s : 0;
}

/* Converts a symbol value to an offset in its section, if it lies there. */
static bool symbol_offset(const struct ab_image *img, const GElf_Sym *sym, size_t shndx,
                          uint64_t *off)
{
    const struct ab_section *s = &img->sec[shndx];
    if (ab_image_is_rel(img)) {
        *off = sym->st_value;
        return true;
    }
    if (sym->st_value < s->addr || sym->st_value - s->addr > s->size)
        return false;
    *off = sym->st_value - s->addr;
    return true;
}

static bool useful_symbol(const GElf_Sym *sym)
{
    unsigned type = GELF_ST_TYPE(sym->st_info);
    return type == STT_FUNC || type == STT_OBJECT || type == STT_NOTYPE;
}

static int cmp_symbol(const void *a, const void *b)
{
    const struct ab_symbol *x = a, *y = b;
    if (x->shndx != y->shndx)
        return x->shndx < y->shndx ? -1 : 1;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void find_symtab(struct ab_image *img)
{
    for (size_t i = 1; i < img->nsec && !img->symtab; i++)
        if (img->sec[i].type == SHT_SYMTAB && img->sec[i].bytes)
            img->symtab = i;
    if (!img->symtab)
        return;
    img->symdata = elf_getdata(elf_getscn(img->elf, img->symtab), NULL);
    for (size_t i = 1; i < img->nsec; i++)
        if (img->sec[i].type == SHT_SYMTAB_SHNDX && img->sec[i].link == img->symtab &&
            img->sec[i].bytes)
            img->xndxdata = elf_getdata(elf_getscn(img->elf, i), NULL);
    if (!img->symdata)
        img->symtab = 0;
}

static void load_symbols(struct ab_image *img)
{
    find_symtab(img);
    if (!img->symtab)
        return;
    size_t n = img->symdata->d_size / sizeof(Elf64_Sym);
    img->sym = ab_xrealloc(NULL, n ? n : 1, sizeof *img->sym);
    for (size_t i = 1; i < n; i++) {
        GElf_Sym sym;
        size_t shndx;
        uint64_t off;
        const char *name;
        if (!ab_image_read_symbol(img, img->symtab, i, &sym, &shndx, &name) ||
            !shndx || !useful_symbol(&sym) || !name[0] ||
            !symbol_offset(img, &sym, shndx, &off))
            continue;
        img->sym[img->nsym++] = (struct ab_symbol){ shndx, off, name, symbol_rank(&sym) };
    }
    qsort(img->sym, img->nsym, sizeof *img->sym, cmp_symbol);
}

bool ab_image_read_symbol(const struct ab_image *img, size_t symtab, size_t symidx,
                          GElf_Sym *sym, size_t *shndx, const char **name)
{
    Elf32_Word xndx = 0;
    if (!img->symtab || symtab != img->symtab || symidx > INT32_MAX)
        return false;
    if (!gelf_getsymshndx(img->symdata, img->xndxdata, (int)symidx, sym, &xndx))
        return false;
    *shndx = symbol_section(sym, xndx, img->nsec);
    const char *s = elf_strptr(img->elf, img->sec[symtab].link, sym->st_name);
    if (GELF_ST_TYPE(sym->st_info) == STT_SECTION && *shndx)
        s = img->sec[*shndx].name;
    *name = s ? s : "";
    return true;
}

bool ab_image_open(struct ab_image *img, const char *name, uint8_t *buf, size_t size,
                   char *why, size_t whylen)
{
    memset(img, 0, sizeof *img);
    img->name = name;
    img->bytes = buf;
    img->size = size;
    if (!check_ident(buf, size, why, whylen))
        return false;
    elf_version(EV_CURRENT);
    img->elf = elf_memory((char *)buf, size);
    GElf_Ehdr eh;
    if (!img->elf || elf_kind(img->elf) != ELF_K_ELF || !gelf_getehdr(img->elf, &eh))
        return fail(why, whylen, "corrupt ELF header: %s", elf_errmsg(-1));
    if (!check_header(&eh, size, why, whylen) || !read_sections(img, &eh, why, whylen))
        return false;
    img->type = eh.e_type;
    index_code_sections(img);
    load_symbols(img);
    return true;
}

void ab_image_close(struct ab_image *img)
{
    if (img->elf)
        elf_end(img->elf);
    free(img->sec);
    free(img->sym);
    free(img->code);
    memset(img, 0, sizeof *img);
}

/* Index into img->code of the last section starting at or before addr, or -1. */
static long last_code_section_from(const struct ab_image *img, uint64_t addr)
{
    size_t lo = 0, hi = img->ncode;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (img->code[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

size_t ab_image_code_section_at(const struct ab_image *img, uint64_t addr)
{
    long i = last_code_section_from(img, addr);
    if (i < 0)
        return 0;
    return addr - img->code[i].addr < img->code[i].size ? img->code[i].shndx : 0;
}

size_t ab_image_code_section_ending_at(const struct ab_image *img, uint64_t addr)
{
    for (long i = last_code_section_from(img, addr); i >= 0; i--) {
        if (img->code[i].addr + img->code[i].size == addr)
            return img->code[i].shndx;
    }
    return 0;
}

size_t ab_image_section_at(const struct ab_image *img, uint64_t addr)
{
    for (size_t i = 1; i < img->nsec; i++) {
        const struct ab_section *s = &img->sec[i];
        if ((s->flags & SHF_ALLOC) && addr >= s->addr && addr - s->addr < s->size)
            return i;
    }
    return 0;
}

const struct ab_symbol *ab_image_symbol_before(const struct ab_image *img, size_t shndx,
                                               uint64_t off)
{
    size_t lo = 0, hi = img->nsym;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct ab_symbol *s = &img->sym[mid];
        if (s->shndx < shndx || (s->shndx == shndx && s->off <= off))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || img->sym[lo - 1].shndx != shndx)
        return NULL;
    return &img->sym[lo - 1];
}

void ab_image_where(const struct ab_image *img, size_t shndx, uint64_t off, char *buf,
                    size_t len)
{
    const struct ab_symbol *s = shndx ? ab_image_symbol_before(img, shndx, off) : NULL;
    if (s)
        snprintf(buf, len, "%s+0x%llx", s->name, (unsigned long long)(off - s->off));
    else if (shndx && shndx < img->nsec)
        snprintf(buf, len, "%s+0x%llx", img->sec[shndx].name, (unsigned long long)off);
    else
        snprintf(buf, len, "?");
}

void ab_image_describe(const struct ab_image *img, size_t shndx, uint64_t off, uint64_t addr,
                       char *buf, size_t len)
{
    char sym[256];
    ab_image_where(img, shndx, off, sym, sizeof sym);
    if (!shndx)
        snprintf(buf, len, "0x%llx", (unsigned long long)addr);
    else if (!ab_image_is_rel(img))
        snprintf(buf, len, "0x%llx <%s>", (unsigned long long)addr, sym);
    else if (ab_image_symbol_before(img, shndx, off))
        snprintf(buf, len, "%s+0x%llx <%s>", img->sec[shndx].name, (unsigned long long)off, sym);
    else
        snprintf(buf, len, "%s", sym);     /* already "section+offset" */
}
