/*
 * Writing what afterburn-inspect found, as text or as one JSON document.
 */
#ifndef AB_INSPECT_REPORT_H
#define AB_INSPECT_REPORT_H

#include "audit.h"
#include "diag.h"
#include "image.h"
#include "inspect.h"
#include "notes.h"
#include "x86.h"

#include <stdio.h>

struct ab_report {
    const char *name;
    const struct ab_options *opt;
    const char *fatal;                  /* set when the file could not be inspected */
    const struct ab_image *img;
    const struct ab_records *rec;
    const struct ab_x86 *x86;
    const struct ab_diags *diags;
    const struct ab_audit *audit;       /* NULL unless the audit ran */
    const struct ab_allow_list *allow;
};

/* Whether the file fails: unreadable, malformed, a verification error, or an
 * unannotated sensitive instruction in 64-bit code that --allow does not accept. */
bool ab_report_failed(const struct ab_report *r);

void ab_report_text(const struct ab_report *r, FILE *out, FILE *err);
void ab_report_json(const struct ab_report *r, FILE *out);

#endif
