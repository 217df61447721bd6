/*
 * Problems found in a file, collected first and printed at the end, so the
 * same findings can be written as text or as JSON.
 */
#ifndef AB_INSPECT_DIAG_H
#define AB_INSPECT_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ab_severity { AB_SEV_ERROR, AB_SEV_WARNING };

/* Where a problem is: a place in a section, or nowhere in particular. */
struct ab_loc {
    bool valid;
    size_t shndx;       /* 0: not inside any section, addr is still meaningful */
    uint64_t off;
    uint64_t addr;
};

struct ab_diag {
    enum ab_severity sev;
    struct ab_loc loc;
    const char *kind;   /* kind name of the record concerned, or NULL */
    char *message;
};

struct ab_diags {
    struct ab_diag *v;
    size_t n, cap;
    size_t nerrors;
};

void ab_diag_add(struct ab_diags *d, enum ab_severity sev, const struct ab_loc *loc,
                 const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void ab_diags_free(struct ab_diags *d);

/* malloc that never returns NULL: running out of memory ends the program. */
void *ab_xrealloc(void *p, size_t n, size_t size);
char *ab_xstrdup(const char *s);

#endif
