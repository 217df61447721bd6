/*
 * --verify: every record describes a real, well-formed site.
 */
#ifndef AB_INSPECT_VERIFY_H
#define AB_INSPECT_VERIFY_H

#include "diag.h"
#include "image.h"
#include "notes.h"
#include "x86.h"

void ab_verify(const struct ab_image *img, const struct ab_records *r, const struct ab_x86 *x,
               struct ab_diags *d);

#endif
