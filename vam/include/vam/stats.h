/*
 * Per-kind counters: what the rewriter did with each kind of site, and room
 * for the run time to count how often each kind entered the VAM.  The
 * benchmarks read them (vam_stats_format gives a table).
 */
#ifndef VAM_STATS_H
#define VAM_STATS_H

#include <vam/rewrite.h>

#include <stddef.h>
#include <stdint.h>

#define VAM_STATS_KINDS 64      /* indexed by kind id (enum ab_kind) */

struct vam_stats {
    uint32_t sites[VAM_STATS_KINDS];            /* validated sites, all modes */
    uint32_t rewritten[VAM_STATS_KINDS];
    uint32_t skipped_mode[VAM_STATS_KINDS];     /* 16/32-bit code */
    uint32_t skipped_template[VAM_STATS_KINDS]; /* .altinstr_replacement */
    uint32_t by_form[VAM_RW_FORM_COUNT];        /* rewrites per replacement form */
    uint64_t bytes_replacement;                 /* bytes of replacement instructions */
    uint64_t bytes_nop;                         /* bytes of NOPs around them */
    uint64_t exec[VAM_STATS_KINDS];             /* run time: VAM entries per kind */
};

void vam_stats_reset(struct vam_stats *s);

/* One line per kind with a nonzero counter, a total line and the forms:
 *   kind        sites rewritten other-mode template   executed
 *   cli           803       803          0        0          0
 * Returns the length the whole text needs, like snprintf. */
int vam_stats_format(const struct vam_stats *s, char *buf, size_t size);

#endif
