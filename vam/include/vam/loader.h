/*
 * Guest ELF loader and annotation validator.
 *
 * The VAM receives the annotated guest kernel (an ELF64 x86-64 ET_EXEC file,
 * e.g. vmlinux) as a module, i.e. as a byte buffer.  vam_load checks the
 * file, finds every "Afterburn" note of type AB_NOTE_TYPE_SITES (in PT_NOTE
 * segments, and in SHT_NOTE sections that no PT_NOTE segment covers),
 * checks their format and pad-ABI versions, resolves every record to a
 * guest virtual address, and validates every annotation before anything is
 * touched:
 *
 *  - the kind is known and has sites (class != NONE); record fields are
 *    consistent (instruction inside the site, placement as the kind pads,
 *    valid mode, no unknown flags);
 *  - the site is at least the minimum size of its class (abi.h);
 *  - the site lies inside one executable PT_LOAD segment, in its file-backed
 *    part;
 *  - no two sites share a byte;
 *  - a 64-bit site decodes (vam/decode.h) to exactly the recorded kind and
 *    instruction length, and the rest of the site is NOPs.  Sites in 16/32-bit
 *    code are kept but marked VAM_SITE_OTHER_MODE: they are never rewritten.
 *
 * Mode markers are validated and collected separately.  Sites inside a
 * section named .altinstr_replacement (found only when the file has section
 * headers) are marked VAM_SITE_TEMPLATE: the kernel copies them elsewhere at
 * run time.  Malformed input of any kind yields an error, never an access
 * outside the buffer.
 */
#ifndef VAM_LOADER_H
#define VAM_LOADER_H

#include <vam/decode.h>
#include <vam/error.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VAM_MAX_SEGMENTS 16     /* PT_LOAD segments */

struct vam_segment {
    uint64_t vaddr;
    uint64_t memsz;
    uint64_t filesz;
    uint64_t offset;            /* in the file */
    uint64_t paddr;
    uint32_t flags;             /* PF_X 1, PF_W 2, PF_R 4 */
};

#define VAM_PF_X 1
#define VAM_PF_W 2
#define VAM_PF_R 4

/* vam_site.status */
#define VAM_SITE_OTHER_MODE 0x01    /* 16/32-bit code: not rewritable, skipped */
#define VAM_SITE_TEMPLATE   0x02    /* in .altinstr_replacement: a template copied at run time */

/* One site (or mode marker): its record, resolved. */
struct vam_site {
    uint64_t addr;              /* guest virtual address of the site start */
    uint32_t record;            /* index among all records, in note order */
    uint8_t len, insn_off, insn_len, kind, mode, flags;   /* the record's fields */
    uint8_t seg;                /* index into vam_guest.seg */
    uint8_t status;             /* VAM_SITE_* */
};

struct vam_guest {
    const uint8_t *image;
    size_t size;
    uint64_t entry;             /* e_entry */
    unsigned nseg;
    struct vam_segment seg[VAM_MAX_SEGMENTS];   /* PT_LOAD, in file order */
    uint32_t nnotes;            /* Afterburn notes */
    uint32_t nrecords;          /* all records (sites and mode markers); set even on
                                 * VAM_ERR_NOSPACE, so a caller can size its array */
    size_t nsite;
    struct vam_site *site;      /* sorted by address */
    size_t nmark;
    struct vam_site *mark;      /* mode markers, sorted by address */
    uint32_t nother_mode;       /* sites in 16/32-bit code */
    uint32_t ntemplate;         /* sites in .altinstr_replacement */
};

/*
 * Loads and validates the guest in image[0..size).  buf (cap entries)
 * receives the sites and markers; g points into buf and image, which must
 * outlive it.  Returns VAM_OK, or the first problem in e.
 */
enum vam_status vam_load(struct vam_guest *g, const void *image, size_t size,
                         struct vam_site *buf, size_t cap, struct vam_error *e);

/* The file bytes of guest addresses [vaddr, vaddr+len), or NULL unless they
 * lie in the file-backed part of one PT_LOAD segment. */
const uint8_t *vam_guest_bytes(const struct vam_guest *g, uint64_t vaddr, size_t len);

/* File offset of vaddr if file-backed (as vam_guest_bytes), else -1. */
int64_t vam_guest_file_offset(const struct vam_guest *g, uint64_t vaddr, size_t len);

/*
 * Decodes the instruction of a validated 64-bit site from `bytes` (the
 * site's s->len bytes: the image's or the guest memory's) and checks it
 * against the record: VAM_OK with *out filled, or VAM_ERR_DECODE.
 * Also checks that the rest of the site is NOPs (VAM_ERR_PADDING).
 */
enum vam_status vam_site_decode(const struct vam_site *s, const uint8_t *bytes,
                                struct vam_insn *out, struct vam_error *e);

#endif
