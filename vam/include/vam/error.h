/*
 * How the VAM front end reports a problem: one structured result, with a
 * one-line message that names the problem and, for a site, the site:
 *
 *   site 0xffffffff81000123 (cli, record 17): pad too small: 5 < 8
 *
 * The first problem found ends the operation; nothing is modified before
 * the input has been validated completely.
 */
#ifndef VAM_ERROR_H
#define VAM_ERROR_H

#include <stdbool.h>
#include <stdint.h>

enum vam_status {
    VAM_OK = 0,
    /* the file */
    VAM_ERR_TRUNCATED,      /* shorter than a header or table it declares */
    VAM_ERR_NOT_ELF,        /* no ELF magic */
    VAM_ERR_ELF_CLASS,      /* not ELFCLASS64 */
    VAM_ERR_ELF_DATA,       /* not little-endian, or bad EI_VERSION/e_version */
    VAM_ERR_MACHINE,        /* not EM_X86_64 */
    VAM_ERR_ELF_TYPE,       /* not ET_EXEC */
    VAM_ERR_PHDR,           /* program header table malformed */
    VAM_ERR_SHDR,           /* section header table malformed */
    /* the annotations */
    VAM_ERR_NO_NOTES,       /* no "Afterburn" note at all */
    VAM_ERR_NOTE,           /* a malformed note */
    VAM_ERR_VERSION,        /* incompatible format or pad-ABI version */
    VAM_ERR_NOSPACE,        /* more records than the caller's array holds */
    VAM_ERR_RECORD,         /* a record's fields are inconsistent */
    VAM_ERR_KIND,           /* unknown kind, or a kind that never has sites */
    VAM_ERR_PLACE,          /* site not inside an executable, file-backed segment */
    VAM_ERR_OVERLAP,        /* two sites share bytes */
    VAM_ERR_PAD,            /* site smaller than its class needs */
    VAM_ERR_DECODE,         /* site does not hold the recorded sensitive instruction */
    VAM_ERR_PADDING,        /* the padding is not NOPs */
    /* rewriting */
    VAM_ERR_REWRITE,        /* replacement does not fit, or did not verify */
    VAM_ERR_MEMORY,         /* guest memory at a site is not what the image holds */
    VAM_ERR_TABLE,          /* site table or jump slots exhausted */
    /* packs */
    VAM_ERR_PACK,           /* a malformed pack (vam/pack.h) */
};

struct vam_error {
    enum vam_status code;
    bool has_site;          /* addr, kind and record describe a site */
    uint8_t kind;
    uint32_t record;        /* index among all records, in note order */
    uint64_t addr;          /* site start */
    char msg[240];
};

/* Short name of a status ("pad", "decode", ...). */
const char *vam_status_name(enum vam_status s);

/* Kind name for messages: "cli", "mode" for a mode marker, "kind 77" otherwise
 * (the latter written to buf). */
const char *vam_kind_name(unsigned kind, char buf[16]);

/* Fills e (if not NULL) and returns code.  The site variant prefixes the
 * message with "site 0x... (kind, record N): ". */
enum vam_status vam_fail(struct vam_error *e, enum vam_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
enum vam_status vam_fail_site(struct vam_error *e, enum vam_status code, uint64_t addr,
                              unsigned kind, uint32_t record, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif
