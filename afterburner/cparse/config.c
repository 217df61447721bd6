/*
 * The configuration file: which types are sensitive and which functions are
 * accessors.  Syntax (README.md):
 *
 *   # comment
 *   type NAME CLASS              NAME: typedef name, or "struct TAG" / "union TAG"
 *   accessor FUNCTION CLASS      every memory access in FUNCTION's body is CLASS
 *   accessor FUNCTION KIND       ... and the body must contain a KIND access
 *
 *   CLASS: page-table | device
 *   KIND:  pt_read | pt_write | pt_rmw | dev_read | dev_write | dev_rmw
 */
#include "cparse.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *cp_xrealloc(void *p, size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size) {
        fputs("afterburn-cparse: allocation size overflow\n", stderr);
        abort();
    }
    void *q = realloc(p, n * size != 0 ? n * size : 1);
    if (!q) {
        fputs("afterburn-cparse: out of memory\n", stderr);
        abort();
    }
    return q;
}

char *cp_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = cp_xrealloc(NULL, n, 1);
    memcpy(d, s, n);
    return d;
}

void cp_buf_put(struct cp_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = cp_xrealloc(b->data, cap, 1);
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void cp_buf_puts(struct cp_buf *b, const char *s)
{
    cp_buf_put(b, s, strlen(s));
}

void cp_buf_printf(struct cp_buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        cp_buf_put(b, tmp, (size_t)n);
        return;
    }
    char *big = cp_xrealloc(NULL, (size_t)n + 1, 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cp_buf_put(b, big, (size_t)n);
    free(big);
}

void cp_buf_free(struct cp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

const char *cp_class_name(enum cp_class c)
{
    switch (c) {
    case CP_CLASS_PAGE_TABLE: return "page-table";
    case CP_CLASS_DEVICE: return "device";
    default: return "none";
    }
}

unsigned cp_mem_kind(enum cp_class c, enum ab_mem_access a)
{
    static const unsigned pt[] = { 0, AB_MEM_PT_READ, AB_MEM_PT_WRITE, AB_MEM_PT_RMW };
    static const unsigned dev[] = { 0, AB_MEM_DEV_READ, AB_MEM_DEV_WRITE, AB_MEM_DEV_RMW };
    if ((unsigned)a > AB_MEM_ACCESS_RMW)
        return 0;
    return c == CP_CLASS_PAGE_TABLE ? pt[a] : c == CP_CLASS_DEVICE ? dev[a] : 0;
}

static enum cp_class parse_class(const char *w)
{
    if (strcmp(w, "page-table") == 0)
        return CP_CLASS_PAGE_TABLE;
    if (strcmp(w, "device") == 0)
        return CP_CLASS_DEVICE;
    return CP_CLASS_NONE;
}

static unsigned parse_kind(const char *w)
{
    for (unsigned k = 1; k < AB_MEM_KIND_MAX; k++)
        if (strcmp(ab_mem_kind_name(k), w) == 0)
            return k;
    return 0;
}

static enum cp_class class_of_kind(unsigned k)
{
    return k >= AB_MEM_DEV_READ ? CP_CLASS_DEVICE : CP_CLASS_PAGE_TABLE;
}

static bool is_identifier(const char *w)
{
    if (!*w || !(isalpha((unsigned char)*w) || *w == '_'))
        return false;
    for (; *w; w++)
        if (!(isalnum((unsigned char)*w) || *w == '_'))
            return false;
    return true;
}

/* Splits a line into at most 4 words; returns the count, or 5 if more. */
static int split_words(char *line, char *w[4])
{
    int n = 0;
    for (char *p = strtok(line, " \t\r"); p; p = strtok(NULL, " \t\r")) {
        if (n == 4)
            return 5;
        w[n++] = p;
    }
    return n;
}

static bool fail(char *why, size_t whylen, const char *path, unsigned line, const char *fmt,
                 const char *arg)
{
    char msg[1024];
    snprintf(msg, sizeof msg, fmt, arg);
    snprintf(why, whylen, "%s:%u: %s", path, line, msg);
    return false;
}

static bool parse_line(struct cp_config *c, char *line, unsigned lineno, char *why,
                       size_t whylen)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = 0;
    char *w[4];
    int n = split_words(line, w);
    if (n == 0)
        return true;
    if (strcmp(w[0], "type") == 0) {
        /* type NAME CLASS, or type struct|union TAG CLASS */
        char name[300];
        const char *cls_word;
        if (n == 4 && (strcmp(w[1], "struct") == 0 || strcmp(w[1], "union") == 0)) {
            if (!is_identifier(w[2]) || strlen(w[2]) > 200)
                return fail(why, whylen, c->path, lineno, "'%s' is not a C identifier", w[2]);
            snprintf(name, sizeof name, "%s %s", w[1], w[2]);
            cls_word = w[3];
        } else if (n == 3 && strcmp(w[1], "struct") != 0 && strcmp(w[1], "union") != 0 &&
                   strcmp(w[1], "enum") != 0) {
            if (!is_identifier(w[1]) || strlen(w[1]) > 200)
                return fail(why, whylen, c->path, lineno, "'%s' is not a C identifier", w[1]);
            snprintf(name, sizeof name, "%s", w[1]);
            cls_word = w[2];
        } else {
            return fail(why, whylen, c->path, lineno, "%s",
                        "expected 'type NAME CLASS' or 'type struct TAG CLASS'");
        }
        enum cp_class cls = parse_class(cls_word);
        if (!cls)
            return fail(why, whylen, c->path, lineno,
                        "unknown class '%s' (expected page-table or device)", cls_word);
        for (size_t i = 0; i < c->ntypes; i++)
            if (strcmp(c->types[i].name, name) == 0)
                return fail(why, whylen, c->path, lineno, "type %s is listed twice", name);
        c->types = cp_xrealloc(c->types, c->ntypes + 1, sizeof *c->types);
        c->types[c->ntypes++] = (struct cp_type_entry){ cp_xstrdup(name), cls, lineno };
        return true;
    }
    if (strcmp(w[0], "accessor") == 0) {
        if (n != 3)
            return fail(why, whylen, c->path, lineno, "%s",
                        "expected 'accessor FUNCTION CLASS' or 'accessor FUNCTION KIND'");
        if (!is_identifier(w[1]))
            return fail(why, whylen, c->path, lineno, "'%s' is not a C identifier", w[1]);
        enum cp_class cls = parse_class(w[2]);
        unsigned kind = 0;
        if (!cls) {
            kind = parse_kind(w[2]);
            if (!kind)
                return fail(why, whylen, c->path, lineno,
                            "unknown class or kind '%s' (expected page-table, device, pt_read, "
                            "pt_write, pt_rmw, dev_read, dev_write or dev_rmw)", w[2]);
            cls = class_of_kind(kind);
        }
        for (size_t i = 0; i < c->naccessors; i++)
            if (strcmp(c->accessors[i].name, w[1]) == 0)
                return fail(why, whylen, c->path, lineno, "accessor %s is listed twice", w[1]);
        c->accessors = cp_xrealloc(c->accessors, c->naccessors + 1, sizeof *c->accessors);
        c->accessors[c->naccessors++] =
            (struct cp_accessor){ cp_xstrdup(w[1]), cls, kind, lineno, 0, false };
        return true;
    }
    return fail(why, whylen, c->path, lineno, "unknown directive '%s' (expected type or accessor)",
                w[0]);
}

bool cp_config_load(struct cp_config *c, const char *path, char *why, size_t whylen)
{
    memset(c, 0, sizeof *c);
    c->path = cp_xstrdup(path);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, whylen, "%s: cannot open: %s", path, strerror(errno));
        return false;
    }
    char line[1024];
    unsigned lineno = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n' && !feof(f)) {
            ok = fail(why, whylen, path, lineno, "%s", "line too long");
            break;
        }
        if (n && line[n - 1] == '\n')
            line[n - 1] = 0;
        ok = parse_line(c, line, lineno, why, whylen);
    }
    if (ok && ferror(f)) {
        snprintf(why, whylen, "%s: read error", path);
        ok = false;
    }
    fclose(f);
    if (ok && c->ntypes == 0 && c->naccessors == 0) {
        snprintf(why, whylen, "%s: no 'type' or 'accessor' lines: nothing is sensitive", path);
        ok = false;
    }
    return ok;
}

void cp_config_free(struct cp_config *c)
{
    for (size_t i = 0; i < c->ntypes; i++)
        free(c->types[i].name);
    for (size_t i = 0; i < c->naccessors; i++)
        free(c->accessors[i].name);
    free(c->types);
    free(c->accessors);
    free(c->path);
    memset(c, 0, sizeof *c);
}
