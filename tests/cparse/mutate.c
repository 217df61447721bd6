/*
 * cparse-mutate: deterministic mutants of one preprocessed C file, for the
 * robustness test of afterburn-cparse (fuzz.sh).
 *
 *   cparse-mutate INPUT.i COUNT SEED OUTDIR
 *
 * Writes OUTDIR/mut-NNNN.i: truncations, deleted, duplicated and swapped
 * spans, single bytes replaced, and tokens that matter to the rewriter
 * inserted (operators, parentheses, braces, typeof, asm operands, line
 * markers, NUL bytes, unterminated strings and comments).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state;

static uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static size_t below(size_t n)
{
    return n ? (size_t)(next() % n) : 0;
}

static const char *const tokens[] = {
    "*", "&", "(", ")", "{", "}", ";", "=", "|=", "<<=", "++", "--", "->pte", ".pte", "[0]",
    "[", "]", ",", "sizeof", "typeof(", "__typeof__(", "_Generic(", "READ_ONCE(", "\"", "'",
    "\n# 1 \"other.c\"\n", "\n#", "/*", "//", "__extension__", "({", "})", "?", ":",
    "asm volatile(\"\" : \"+m\"(", "(pte_t *)", "(unsigned long *)", "&&", "\\", "0x",
    "__builtin_memcpy(", "__atomic_exchange_n(", "pte_t", "pmd_t", "struct", "union", "return",
    "static inline", "\0", "\xff", "@", "`",
};

struct buf {
    char *p;
    size_t n;
};

static void put(struct buf *b, const char *s, size_t n)
{
    b->p = realloc(b->p, b->n + n + 1);
    if (!b->p) {
        perror("cparse-mutate");
        exit(2);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static int ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The identifier at or after offset a: [*start, *end), or 0 if none. */
static int find_ident(const char *in, size_t n, size_t a, size_t *start, size_t *end)
{
    while (a < n && !(ident_char(in[a]) && !(in[a] >= '0' && in[a] <= '9') &&
                      (a == 0 || !ident_char(in[a - 1]))))
        a++;
    if (a >= n)
        return 0;
    size_t e = a;
    while (e < n && ident_char(in[e]))
        e++;
    *start = a;
    *end = e;
    return 1;
}

static struct buf mutate(const char *in, size_t n)
{
    struct buf out = { NULL, 0 };
    size_t a = below(n + 1), len = 1 + below(64);
    if (a + len > n)
        len = n - a;
    size_t is, ie, js, je;
    switch (below(10)) {
    case 7:     /* an identifier in parentheses: often still valid C */
        if (!find_ident(in, n, a, &is, &ie))
            break;
        put(&out, in, is);
        put(&out, "(", 1);
        put(&out, in + is, ie - is);
        put(&out, ")", 1);
        put(&out, in + ie, n - ie);
        return out;
    case 8:     /* one identifier replaced by another of the file */
        if (!find_ident(in, n, a, &is, &ie) || !find_ident(in, n, below(n + 1), &js, &je))
            break;
        put(&out, in, is);
        put(&out, in + js, je - js);
        put(&out, in + ie, n - ie);
        return out;
    case 9: {   /* a line repeated */
        size_t ls = a, le = a;
        while (ls > 0 && in[ls - 1] != '\n')
            ls--;
        while (le < n && in[le] != '\n')
            le++;
        if (le < n)
            le++;
        put(&out, in, le);
        put(&out, in + ls, n - ls);
        return out;
    }
    default:
        break;
    }
    free(out.p);
    out = (struct buf){ NULL, 0 };
    switch (below(7)) {
    case 0:     /* truncate */
        put(&out, in, a);
        break;
    case 1:     /* delete a span */
        put(&out, in, a);
        put(&out, in + a + len, n - a - len);
        break;
    case 2:     /* duplicate a span */
        put(&out, in, a + len);
        put(&out, in + a, n - a);
        break;
    case 3: {   /* swap two spans */
        size_t b = below(n + 1), blen = 1 + below(64);
        if (b < a) {
            size_t t = a;
            a = b;
            b = t;
            t = len;
            len = blen;
            blen = t;
        }
        if (a + len > b)
            len = b - a;
        if (b + blen > n)
            blen = n - b;
        put(&out, in, a);
        put(&out, in + b, blen);
        put(&out, in + a + len, b - a - len);
        put(&out, in + a, len);
        put(&out, in + b + blen, n - b - blen);
        break;
    }
    case 4: {   /* replace a byte */
        char c = (char)(32 + below(95));
        put(&out, in, a);
        put(&out, &c, 1);
        if (a < n)
            put(&out, in + a + 1, n - a - 1);
        break;
    }
    default: {  /* insert a token */
        size_t k = below(sizeof tokens / sizeof *tokens);
        const char *t = tokens[k];
        size_t tl = t[0] ? strlen(t) : 1;
        put(&out, in, a);
        put(&out, t, tl);
        put(&out, in + a, n - a);
        break;
    }
    }
    return out;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: cparse-mutate INPUT.i COUNT SEED OUTDIR\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    struct buf in = { NULL, 0 };
    char tmp[65536];
    size_t r;
    while ((r = fread(tmp, 1, sizeof tmp, f)) > 0)
        put(&in, tmp, r);
    fclose(f);
    int count = atoi(argv[2]);
    state = 0x9e3779b97f4a7c15ull ^ (uint64_t)strtoull(argv[3], NULL, 10);
    for (int i = 0; i < count; i++) {
        struct buf m = mutate(in.p ? in.p : "", in.n);
        /* a second mutation now and then */
        if (below(3) == 0) {
            struct buf m2 = mutate(m.p ? m.p : "", m.n);
            free(m.p);
            m = m2;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/mut-%04d.i", argv[4], i);
        FILE *o = fopen(path, "wb");
        if (!o || fwrite(m.p ? m.p : "", 1, m.n, o) != m.n || fclose(o) != 0) {
            perror(path);
            return 2;
        }
        free(m.p);
    }
    free(in.p);
    return 0;
}
