#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *ab_xrealloc(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        fputs("afterburn-inspect: allocation size overflow\n", stderr);
        abort();
    }
    size_t bytes = n * size;
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q) {
        fputs("afterburn-inspect: out of memory\n", stderr);
        abort();
    }
    return q;
}

char *ab_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = ab_xrealloc(NULL, n, 1);
    memcpy(p, s, n);
    return p;
}

static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        n = 0;
    char *s = ab_xrealloc(NULL, (size_t)n + 1, 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

void ab_diag_add(struct ab_diags *d, enum ab_severity sev, const struct ab_loc *loc,
                 const char *kind, const char *fmt, ...)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 16;
        d->v = ab_xrealloc(d->v, d->cap, sizeof *d->v);
    }
    struct ab_diag *g = &d->v[d->n++];
    g->sev = sev;
    if (loc)
        g->loc = *loc;
    else
        memset(&g->loc, 0, sizeof g->loc);
    g->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    g->message = vformat(fmt, ap);
    va_end(ap);
    if (sev == AB_SEV_ERROR)
        d->nerrors++;
}

void ab_diags_free(struct ab_diags *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].message);
    free(d->v);
    memset(d, 0, sizeof *d);
}
