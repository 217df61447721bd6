/*
 * The annotation records of a file: every "Afterburn" note of every
 * SHT_NOTE section, each record resolved to the place it describes.
 */
#ifndef AB_INSPECT_NOTES_H
#define AB_INSPECT_NOTES_H

#include "diag.h"
#include "image.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a record's site (or mode marker) turned out to be. */
enum ab_where {
    AB_WHERE_UNKNOWN,       /* the record's relocation could not be resolved */
    AB_WHERE_CODE,          /* entirely inside one executable section */
    AB_WHERE_PAST_END,      /* starts in an executable section, runs past its end */
    AB_WHERE_NOT_CODE,      /* in a section without SHF_EXECINSTR */
    AB_WHERE_OUTSIDE,       /* in no section at all */
};

struct ab_site {
    size_t seq;             /* position among all records of the file */
    size_t note_shndx;      /* section holding the record */
    uint64_t rec_off;       /* offset of the record in that section */
    enum ab_where where;
    size_t shndx;           /* containing section, 0 if none */
    uint64_t off;           /* offset in shndx (if shndx), else = addr */
    uint64_t addr;          /* run-time address; section offset in ET_REL */
    uint8_t len, insn_off, insn_len, kind, mode, flags;
    uint16_t reserved;
    bool mem;               /* a memory site (AB_NOTE_TYPE_MEMSITES): kind is enum ab_mem_kind */
};

/* A mode marker that applies to code: from (shndx, off) on, code is `mode`. */
struct ab_mode_mark {
    size_t shndx;
    uint64_t off;
    size_t seq;
    uint8_t mode;
};

struct ab_records {
    size_t nnotes;          /* Afterburn notes found, well-formed or not */
    size_t nmemnotes;       /* of which AB_NOTE_TYPE_MEMSITES notes */
    size_t nsite;
    struct ab_site *site;   /* sorted by (shndx, off, seq) */
    size_t nmarker;
    struct ab_site *marker; /* sorted by (shndx, off, seq) */
    size_t nmode;
    struct ab_mode_mark *mode;  /* markers inside code, sorted */
    size_t nmsite;
    struct ab_site *msite;  /* memory sites (afterburn-cparse), sorted like site */
};

/* Reads all notes; malformed notes and unresolvable records are reported in d. */
void ab_records_read(const struct ab_image *img, struct ab_records *r, struct ab_diags *d);
void ab_records_free(struct ab_records *r);

/* Code mode at (shndx, off) according to the mode markers; 64-bit by default. */
unsigned ab_records_mode_at(const struct ab_records *r, size_t shndx, uint64_t off);

/* Location of a record for diagnostics. */
struct ab_loc ab_site_loc(const struct ab_site *s);

#endif
