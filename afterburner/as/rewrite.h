/*
 * The afterburner's assembly rewriter: GNU as (AT&T or Intel syntax) text in,
 * the same text with every virtualization-sensitive instruction turned into
 * a padded, annotated site out.
 *
 * Invariants (checked by the tests and the fuzz target):
 *  - Nothing of the input is dropped or reordered: removing the inserted
 *    fragments from the output gives back the input byte for byte.
 *  - Line numbers are preserved: inserted text never contains a newline,
 *    except a two-line prelude that ends with a line marker resetting the
 *    line number to 1, and a trailer after the last input line.
 *  - A statement the rewriter does not understand is left alone; `as`
 *    reports it against the user's original line.
 */
#ifndef AFTERBURN_REWRITE_H
#define AFTERBURN_REWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "afterburn/abi.h"

struct ab_buf {
    char *data;
    size_t len, cap;
};

void ab_buf_init(struct ab_buf *b);
void ab_buf_free(struct ab_buf *b);
void ab_buf_put(struct ab_buf *b, const char *s, size_t n);
void ab_buf_puts(struct ab_buf *b, const char *s);

struct ab_rewrite_opts {
    /* Name used in the line marker (what `as` will print in messages). */
    const char *source_name;
    /* Initial code mode, from --32 / --64 / --x32 on the as command line. */
    enum ab_mode initial_mode;
    /* When set, every byte copied from the input is also appended here, so
     * a caller can check that the input survives intact. */
    struct ab_buf *original_echo;
};

struct ab_rewrite_stats {
    unsigned lines;
    unsigned statements;
    unsigned sites;                    /* textual sites (a site in a macro body counts once) */
    unsigned sites_by_kind[256];
    unsigned sites_in_macro_args;      /* inside quoted macro arguments */
    unsigned sites_as_bytes;           /* .byte-encoded instructions */
    unsigned sites_conditional;        /* mnemonic is a macro parameter: one .ifc per value */
    unsigned sites_non64;              /* in .code16/.code32 or --32 code */
    unsigned mode_markers;
    unsigned unknown_kinds_skipped;    /* NONE-class instructions seen (int3, rdtsc...) */
};

/* Rewrites `in` (n bytes, need not be NUL-terminated) into `out`.
 * Returns 0; the rewriter has no failure mode other than allocation
 * failure, which aborts. */
int ab_rewrite(const char *in, size_t n, const struct ab_rewrite_opts *opts,
               struct ab_buf *out, struct ab_rewrite_stats *stats);

/* Classifies one instruction statement (prefixes already removed):
 * returns the kind id from sensitive.def, or 0 if not sensitive.
 * `intel` selects Intel operand order. Exposed for the tests. */
unsigned ab_classify(const char *mnemonic, const char *operands, int intel);

/* Classifies a `.byte` operand list that encodes exactly one sensitive
 * instruction (e.g. ".byte 0x0f,0x01,0xcb" = stac); 0 otherwise. */
unsigned ab_classify_bytes(const char *operands);

#endif
