/*
 * The preprocessed text itself: a small lexer that finds the operands the
 * compiler does not evaluate (typeof and friends, which libclang shows as
 * ordinary expressions inside a type) and reads operator tokens.
 *
 * A preprocessed file has no macros and no comments (unless -C), only line
 * markers and #pragma lines, which start with '#' at the beginning of a line.
 */
#include "cparse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool at_line_start(const struct cp_source *s, size_t i)
{
    while (i > 0 && (s->text[i - 1] == ' ' || s->text[i - 1] == '\t'))
        i--;
    return i == 0 || s->text[i - 1] == '\n';
}

/* Skips blanks, comments and directive lines from i; returns the next token. */
static size_t skip_blanks(const struct cp_source *s, size_t i)
{
    const char *t = s->text;
    size_t n = s->len;
    while (i < n) {
        char c = t[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            i++;
        } else if (c == '#' && at_line_start(s, i)) {
            while (i < n && t[i] != '\n')
                i++;
        } else if (c == '/' && i + 1 < n && t[i + 1] == '*') {
            const char *e = i + 2 < n ? strstr(t + i + 2, "*/") : NULL;
            i = e ? (size_t)(e - t) + 2 : n;
        } else if (c == '/' && i + 1 < n && t[i + 1] == '/') {
            while (i < n && t[i] != '\n')
                i++;
        } else {
            break;
        }
    }
    return i;
}

unsigned cp_source_skip_blanks(const struct cp_source *s, unsigned offset)
{
    return (unsigned)skip_blanks(s, offset);
}

static bool ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_' || c == '$';
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$';
}

enum tok_kind { TOK_END, TOK_IDENT, TOK_NUMBER, TOK_STRING, TOK_PUNCT };

struct token {
    enum tok_kind kind;
    size_t start, end;
};

static struct token next_token(const struct cp_source *s, size_t i)
{
    const char *t = s->text;
    size_t n = s->len;
    i = skip_blanks(s, i);
    struct token k = { TOK_END, i, i };
    if (i >= n)
        return k;
    char c = t[i];
    if (ident_start(c)) {
        size_t j = i;
        while (j < n && ident_char(t[j]))
            j++;
        /* string and character literal prefixes: L"", u8"", ... */
        if (j < n && (t[j] == '"' || t[j] == '\'') && j - i <= 2) {
            i = j;
            c = t[i];
        } else {
            return (struct token){ TOK_IDENT, k.start, j };
        }
    }
    if (c == '"' || c == '\'') {
        size_t j = i + 1;
        while (j < n && t[j] != c && t[j] != '\n') {
            if (t[j] == '\\' && j + 1 < n)
                j++;
            j++;
        }
        return (struct token){ TOK_STRING, k.start, j < n ? j + 1 : n };
    }
    if (isdigit((unsigned char)c) || (c == '.' && i + 1 < n && isdigit((unsigned char)t[i + 1]))) {
        size_t j = i + 1;
        while (j < n) {
            if ((t[j] == '+' || t[j] == '-') && strchr("eEpP", t[j - 1]))
                j++;
            else if (ident_char(t[j]) || t[j] == '.')
                j++;
            else
                break;
        }
        return (struct token){ TOK_NUMBER, k.start, j };
    }
    return (struct token){ TOK_PUNCT, k.start, i + 1 };
}

static bool tok_is(const struct cp_source *s, const struct token *k, const char *w)
{
    size_t n = strlen(w);
    return k->end - k->start == n && memcmp(s->text + k->start, w, n) == 0;
}

static bool tok_punct(const struct cp_source *s, const struct token *k, char c)
{
    return k->kind == TOK_PUNCT && s->text[k->start] == c;
}

/* Keywords and builtins whose parenthesised operand is not evaluated. */
static const char *const unevaluated_words[] = {
    "typeof", "__typeof__", "__typeof", "sizeof", "_Alignof", "__alignof__", "__alignof",
    "__builtin_constant_p", "__builtin_types_compatible_p", "__builtin_offsetof",
    "__builtin_object_size", "__builtin_dynamic_object_size", "__builtin_classify_type",
};

static void add_range(struct cp_source *s, size_t *cap, size_t start, size_t end)
{
    if (s->nunevaluated == *cap) {
        *cap = *cap ? 2 * *cap : 256;
        s->unevaluated = cp_xrealloc(s->unevaluated, *cap, sizeof *s->unevaluated);
    }
    s->unevaluated[s->nunevaluated++] = (struct cp_range){ (unsigned)start, (unsigned)end };
}

/* From the '(' at token open: the offset after the matching ')' (or, with
 * stop_at_comma, of the first ',' at depth 1).  Returns the end of text if
 * unbalanced. */
static size_t group_end(const struct cp_source *s, struct token open, bool stop_at_comma)
{
    int depth = 0;
    for (struct token k = open; k.kind != TOK_END; k = next_token(s, k.end)) {
        if (k.kind != TOK_PUNCT)
            continue;
        char c = s->text[k.start];
        if (c == '(' || c == '[' || c == '{') {
            depth++;
        } else if (c == ')' || c == ']' || c == '}') {
            if (--depth == 0)
                return k.end;
        } else if (c == ',' && depth == 1 && stop_at_comma) {
            return k.start;
        }
    }
    return s->len;
}

static int cmp_range(const void *a, const void *b)
{
    const struct cp_range *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end > y->end ? -1 : x->end < y->end;
}

void cp_source_scan(struct cp_source *s)
{
    size_t cap = 0;
    s->unevaluated = NULL;
    s->nunevaluated = 0;
    for (struct token k = next_token(s, 0); k.kind != TOK_END; k = next_token(s, k.end)) {
        if (k.kind != TOK_IDENT)
            continue;
        bool generic = tok_is(s, &k, "_Generic");
        bool word = generic;
        for (size_t w = 0; !word && w < sizeof unevaluated_words / sizeof *unevaluated_words; w++)
            word = tok_is(s, &k, unevaluated_words[w]);
        if (!word)
            continue;
        struct token open = next_token(s, k.end);
        if (!tok_punct(s, &open, '('))
            continue;       /* sizeof x: the expression tree marks it */
        size_t end = group_end(s, open, generic);
        add_range(s, &cap, open.start, end);
    }
    if (!s->nunevaluated)
        return;
    qsort(s->unevaluated, s->nunevaluated, sizeof *s->unevaluated, cmp_range);
    /* keep the outermost ranges only */
    size_t out = 0;
    for (size_t i = 0; i < s->nunevaluated; i++) {
        if (out && s->unevaluated[i].start < s->unevaluated[out - 1].end) {
            if (s->unevaluated[i].end > s->unevaluated[out - 1].end)
                s->unevaluated[out - 1].end = s->unevaluated[i].end;
            continue;
        }
        s->unevaluated[out++] = s->unevaluated[i];
    }
    s->nunevaluated = out;
}

void cp_source_free(struct cp_source *s)
{
    free(s->unevaluated);
    s->unevaluated = NULL;
    s->nunevaluated = 0;
}

bool cp_source_unevaluated(const struct cp_source *s, unsigned offset)
{
    size_t lo = 0, hi = s->nunevaluated;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->unevaluated[mid].start <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && offset < s->unevaluated[lo - 1].end;
}

size_t cp_source_operator(const struct cp_source *s, unsigned offset, char op[4])
{
    static const char *const ops3[] = { "<<=", ">>=", "..." };
    static const char *const ops2[] = { "++", "--", "->", "<<", ">>", "<=", ">=", "==", "!=",
                                        "&&", "||", "*=", "/=", "%=", "+=", "-=", "&=", "^=",
                                        "|=" };
    size_t i = skip_blanks(s, offset);
    size_t left = s->len - i;
    op[0] = 0;
    if (i >= s->len)
        return 0;
    for (size_t k = 0; k < sizeof ops3 / sizeof *ops3; k++)
        if (left >= 3 && memcmp(s->text + i, ops3[k], 3) == 0) {
            memcpy(op, ops3[k], 4);
            return 3;
        }
    for (size_t k = 0; k < sizeof ops2 / sizeof *ops2; k++)
        if (left >= 2 && memcmp(s->text + i, ops2[k], 2) == 0) {
            memcpy(op, ops2[k], 3);
            return 2;
        }
    if (strchr("=+-*/%&|^!~<>?:,.", s->text[i])) {
        op[0] = s->text[i];
        op[1] = 0;
        return 1;
    }
    return 0;
}
