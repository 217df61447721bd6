#include "allow.h"

#include "diag.h"

#include <afterburn/kinds.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

static unsigned sensitive_kind(const char *name)
{
    for (size_t i = 0; i < AB_KIND_COUNT; i++)
        if (strcmp(ab_kind_table[i].name, name) == 0 && ab_kind_table[i].cls != AB_CLASS_NONE)
            return ab_kind_table[i].id;
    return 0;
}

static bool parse_line(struct ab_allow_list *l, char *line, unsigned lineno, const char *path,
                       char *why, size_t whylen)
{
    char *hash = strchr(line, '#');
    char *text = trim(line);
    if (!*text || text == hash)
        return true;
    if (!hash) {
        snprintf(why, whylen, "%s:%u: missing '# justification'", path, lineno);
        return false;
    }
    *hash = 0;
    char *justification = trim(hash + 1);
    char *save = NULL;
    char *symbol = strtok_r(text, " \t", &save);
    char *kind = strtok_r(NULL, " \t", &save);
    if (!symbol || !kind || strtok_r(NULL, " \t", &save) || !*justification) {
        snprintf(why, whylen, "%s:%u: expected 'symbol kind  # justification'", path, lineno);
        return false;
    }
    unsigned id = sensitive_kind(kind);
    if (!id) {
        snprintf(why, whylen, "%s:%u: '%s' is not a sensitive kind of sensitive.def", path,
                 lineno, kind);
        return false;
    }
    l->v = ab_xrealloc(l->v, l->n + 1, sizeof *l->v);
    l->v[l->n++] = (struct ab_allow_entry){ ab_xstrdup(symbol), id, ab_xstrdup(justification),
                                            lineno, 0 };
    return true;
}

bool ab_allow_load(struct ab_allow_list *l, const char *path, char *why, size_t whylen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return false;
    }
    char *line = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    bool ok = true;
    while (ok && getline(&line, &cap, f) >= 0)
        ok = parse_line(l, line, ++lineno, path, why, whylen);
    free(line);
    fclose(f);
    return ok;
}

struct ab_allow_entry *ab_allow_match(struct ab_allow_list *l, const char *symbol,
                                      unsigned kind)
{
    for (size_t i = 0; l && i < l->n; i++)
        if (l->v[i].kind == kind && strcmp(l->v[i].symbol, symbol) == 0)
            return &l->v[i];
    return NULL;
}

void ab_allow_free(struct ab_allow_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].symbol);
        free(l->v[i].why);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
