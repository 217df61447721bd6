/* Zydis as the reference decoder for the VAM's own (tests only). */
#ifndef VAM_ZYREF_H
#define VAM_ZYREF_H

#include "x86.h"        /* afterburner/inspect: Zydis setup and the kind classifier */

#include <vam/decode.h>
#include <vam/rewrite.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct zyref {
    struct ab_x86 x;
};

bool zyref_init(struct zyref *z);

/* Decodes p in 64-bit mode.  True if it is an instruction of a kind with
 * sites (class != NONE); then *e is what vam_decode must report.  text
 * (may be NULL) receives Zydis's AT&T text or "(bad)". */
bool zyref_decode(const struct zyref *z, const uint8_t *p, size_t n, struct vam_insn *e,
                  char *text, size_t textlen);

/* Memory operand o of in as the VAM describes it (base, index, scale, disp,
 * effective segment; VAM_INSN_SEGOVR into *flags for FS/GS), with Zydis 4.0's
 * 67 + REX.B + SIB-base-5 bug corrected (zyref.c). */
void zyref_mem(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *o,
               struct vam_mem *m, uint8_t *flags);

/* How often a known Zydis 4.0 decoding bug was corrected (zyref.c). */
extern long zyref_corrections;

/* Number of fields that differ, described in why. */
int zyref_compare(const struct vam_insn *got, const struct vam_insn *want, char *why,
                  size_t whylen);

/* Zydis decodes the rewritten site [p, p+len) as NOPs, then exactly the planned
 * replacement at plan->off (form, length, absolute address of the field,
 * register, immediate), then NOPs.  Otherwise false, with the reason. */
bool zyref_check_site(const struct zyref *z, const uint8_t *p, size_t len,
                      const struct vam_plan *plan, char *why, size_t whylen);

#endif
