/*
 * The ELF file as afterburn-inspect sees it: validated section table,
 * symbols sorted for "symbol+offset" lookups, and executable sections sorted
 * by address for locating sites in linked files.
 *
 * Everything is expressed as (section index, offset in section) so that
 * relocatable objects, whose sections all start at address 0, and linked
 * files are handled by the same code.
 */
#ifndef AB_INSPECT_IMAGE_H
#define AB_INSPECT_IMAGE_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ab_section {
    const char *name;
    uint32_t type;
    uint64_t flags;
    uint64_t addr;
    uint64_t size;
    uint64_t addralign;
    uint32_t link;
    uint32_t info;
    const uint8_t *bytes;       /* file contents; NULL for SHT_NOBITS */
};

struct ab_symbol {
    size_t shndx;
    uint64_t off;               /* offset within section shndx */
    const char *name;
    unsigned rank;              /* preference among symbols at one place */
};

struct ab_code_range {
    uint64_t addr;
    uint64_t size;
    size_t shndx;
};

struct ab_image {
    const char *name;
    const uint8_t *bytes;
    size_t size;
    Elf *elf;
    unsigned type;              /* ET_REL, ET_EXEC or ET_DYN */
    size_t nsec;
    struct ab_section *sec;
    size_t symtab;              /* index of .symtab, 0 if none */
    Elf_Data *symdata;
    Elf_Data *xndxdata;         /* SHT_SYMTAB_SHNDX, for >= 0xff00 sections */
    size_t nsym;
    struct ab_symbol *sym;      /* sorted by (shndx, off, rank) */
    size_t ncode;
    struct ab_code_range *code; /* executable sections, sorted by address */
};

/*
 * Opens an ELF64 x86-64 file held in buf (which must outlive the image).
 * Returns false with a one-line reason in why for anything that is not a
 * well-formed, complete ELF64 little-endian x86-64 file.
 */
bool ab_image_open(struct ab_image *img, const char *name, uint8_t *buf, size_t size,
                   char *why, size_t whylen);
void ab_image_close(struct ab_image *img);

static inline bool ab_image_is_rel(const struct ab_image *img)
{
    return img->type == ET_REL;
}

/* Executable section with file contents: the only place sites may be. */
bool ab_section_is_code(const struct ab_section *s);

/* Linked files: the executable section containing addr, or 0. */
size_t ab_image_code_section_at(const struct ab_image *img, uint64_t addr);
/* Linked files: the executable section ending exactly at addr, or 0. */
size_t ab_image_code_section_ending_at(const struct ab_image *img, uint64_t addr);
/* Linked files: any allocated section containing addr, or 0. */
size_t ab_image_section_at(const struct ab_image *img, uint64_t addr);

/* Symbol table entry symidx of symbol table section symtab (only .symtab is
 * supported); *shndx is its section, 0 if it is defined in none.  Section
 * symbols are named after their section. */
bool ab_image_read_symbol(const struct ab_image *img, size_t symtab, size_t symidx,
                          GElf_Sym *sym, size_t *shndx, const char **name);

/* Nearest symbol at or before (shndx, off) in the same section, or NULL. */
const struct ab_symbol *ab_image_symbol_before(const struct ab_image *img, size_t shndx,
                                               uint64_t off);

/* "symbol+0x12", or "section+0x12" when no symbol precedes it. */
void ab_image_where(const struct ab_image *img, size_t shndx, uint64_t off, char *buf,
                    size_t len);

/* A place for messages: "0x401008 <foo+0x8>" in linked files,
 * ".text+0x8 <foo+0x8>" in relocatable objects. */
void ab_image_describe(const struct ab_image *img, size_t shndx, uint64_t off, uint64_t addr,
                       char *buf, size_t len);

#endif
