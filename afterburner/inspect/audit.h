/*
 * --audit: decode all executable code and find sensitive instructions that
 * no site covers.
 *
 * Decoding is a linear sweep per section, restarted at every anchor: the
 * section start, every symbol, every site's start, instruction and end, and
 * every mode marker.  Restarting resynchronises the sweep after data or
 * padding in code, and a decode never runs across an anchor.  Bytes that do
 * not decode advance the sweep by one.  The code mode of each stretch comes
 * from the mode markers (64-bit where none applies).
 */
#ifndef AB_INSPECT_AUDIT_H
#define AB_INSPECT_AUDIT_H

#include "allow.h"
#include "image.h"
#include "notes.h"
#include "x86.h"

#include <afterburn/abi.h>

struct ab_finding {
    size_t shndx;
    uint64_t off;
    uint64_t addr;
    uint8_t kind;
    uint8_t mode;
    struct ab_allow_entry *allowed;         /* NULL unless --allow accepts it */
    char text[128];
};

struct ab_audit {
    size_t n, cap;
    struct ab_finding *v;           /* in address order */
    uint64_t none_count[256];       /* class NONE instructions, by kind id */
    uint64_t ninsn;                 /* instructions decoded */
    uint64_t nbad;                  /* bytes that did not decode */
    uint64_t ncovered;              /* sensitive instructions covered by a site */
    size_t nsections;
    size_t nfail;                   /* 64-bit, not allowed: fails the audit */
    size_t nlegacy;                 /* 16/32-bit, not allowed: reported only */
    size_t nallowed;
};

void ab_audit_run(const struct ab_image *img, const struct ab_records *r,
                  const struct ab_x86 *x, struct ab_allow_list *allow, struct ab_audit *a);
void ab_audit_free(struct ab_audit *a);

#endif
