/*
 * --allow FILE: accepted exceptions to the audit, one per line:
 *
 *     symbol kind  # justification
 *
 * An unannotated instruction of that kind whose nearest preceding symbol is
 * `symbol` is still reported, marked allowed, and does not fail the audit.
 * Blank lines and lines starting with '#' are ignored; the justification is
 * required, since the file documents why each exception is safe.
 */
#ifndef AB_INSPECT_ALLOW_H
#define AB_INSPECT_ALLOW_H

#include <stdbool.h>
#include <stddef.h>

struct ab_allow_entry {
    char *symbol;
    unsigned kind;
    char *why;
    unsigned line;
    size_t uses;
};

struct ab_allow_list {
    size_t n;
    struct ab_allow_entry *v;
};

bool ab_allow_load(struct ab_allow_list *l, const char *path, char *why, size_t whylen);
struct ab_allow_entry *ab_allow_match(struct ab_allow_list *l, const char *symbol,
                                      unsigned kind);
void ab_allow_free(struct ab_allow_list *l);

#endif
