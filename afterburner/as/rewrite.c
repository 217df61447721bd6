/*
 * The afterburner's rewriter.  See rewrite.h for the contract.
 *
 * How it works: the input is split into statements (newline- and
 * ';'-separated, honouring strings, character constants, '#' and C
 * comments), each statement is classified, and the rewriter collects
 * *insertions* (offset into the input, text).  The output is the input with
 * the insertions spliced in, which is what makes "never drop or reorder a
 * statement" true by construction.
 *
 * A site is written with gas numeric local labels so that it also works
 * inside .macro/.rept/.irp bodies and inside quoted macro arguments:
 *
 *   L1: <insn> ; L2: .nops PAD ; L3: .pushsection .note.afterburn,1 ;
 *       .long L1b-. ; .byte L3b-L1b, 0, L2b-L1b, KIND, MODE, FLAGS ;
 *       .short 0 ; .popsection
 *
 * PAD = max(0, MIN - length of <insn>) is left to gas, which knows the
 * encoding.  Pad-before kinds (sti, loads of %ss) put the .nops first.
 */
#define _GNU_SOURCE   /* memmem */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afterburn/kinds.h"
#include "rewrite.h"

/* ---- buffers ------------------------------------------------------------ */

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("afterburn-as: out of memory\n", stderr);
        abort();
    }
    return q;
}

void ab_buf_init(struct ab_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void ab_buf_free(struct ab_buf *b)
{
    free(b->data);
    ab_buf_init(b);
}

void ab_buf_put(struct ab_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void ab_buf_puts(struct ab_buf *b, const char *s)
{
    ab_buf_put(b, s, strlen(s));
}

static void ab_buf_printf(struct ab_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void ab_buf_printf(struct ab_buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    ab_buf_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ---- insertions ----------------------------------------------------------- */

struct insertion {
    size_t at;      /* input offset the text goes before */
    size_t seq;     /* creation order, to keep equal offsets stable */
    char *text;
};

/* A .macro definition: its parameters, and the values its invocations
 * passed for them (so that a body statement whose mnemonic is a parameter,
 * like `1: \op` in Linux's msr-reg.S, can get a site per expansion). */
struct macro_def {
    char *name;
    int purged;
    char **params;
    size_t nparams;
    char **values;          /* distinct argument values ... */
    size_t *value_param;    /* ... and the parameter each was passed for */
    size_t nvalues, capvalues;
};

/* A body statement whose mnemonic is a macro parameter; decided once all
 * invocations in the file have been seen. */
struct deferred_site {
    size_t macro, param;
    size_t head_at, tail_at;
    enum ab_mode mode;
    int intel;
    char *param_text;       /* the body's spelling of the mnemonic, e.g. "\op" */
    char *ops;              /* the body statement's operands */
};

struct rewriter {
    const char *in;
    size_t n;
    const struct ab_rewrite_opts *opts;
    struct ab_rewrite_stats *stats;

    struct insertion *ins;
    size_t nins, capins;

    /* state while scanning */
    enum ab_mode mode;
    int intel;
    int mode_markers_on;    /* file switches code mode: mark section changes */
    unsigned label_base;    /* numeric labels label_base*10 + 1..5 */
    struct macro_def *macros;   /* .macro definitions seen so far */
    size_t nmacros, capmacros;
    size_t open_macro[32];      /* definitions whose body is being read */
    int macro_depth;
    struct deferred_site *deferred;
    size_t ndeferred, capdeferred;

    /* a run of statements that are only prefixes ("rep;", "lock"), which
     * belongs to the site if a sensitive instruction follows */
    int have_prefix_run;
    size_t prefix_run_at;

    /* a mode marker is due before the next instruction */
    int marker_pending;

    /* gas expands a .nops whose size is an expression at the end of the
     * file, in the code mode in force *there*: in a file that switches
     * modes, multi-byte NOPs could come out in the wrong mode's encoding
     * (a 64-bit nopl is not a no-op in 16-bit code, a 16-bit lea no-op
     * clobbers a register in 64-bit code).  Such files get 0x90 padding,
     * which is a no-op in every mode. */
    const char *pad_directive;
    const char *pad_fill;
};

static void insert(struct rewriter *rw, size_t at, const char *text)
{
    if (rw->nins == rw->capins) {
        rw->capins = rw->capins ? rw->capins * 2 : 64;
        rw->ins = xrealloc(rw->ins, rw->capins * sizeof *rw->ins);
    }
    size_t len = strlen(text);
    char *copy = xrealloc(NULL, len + 1);
    memcpy(copy, text, len + 1);
    rw->ins[rw->nins] = (struct insertion){at, rw->nins, copy};
    rw->nins++;
}

static int cmp_insertion(const void *a, const void *b)
{
    const struct insertion *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- macros ------------------------------------------------------------------ */

static char *dup_range(const char *s, size_t n)
{
    char *c = xrealloc(NULL, n + 1);
    memcpy(c, s, n);
    c[n] = 0;
    return c;
}

/* Index of the live definition called `name`, or -1.  gas macro names are
 * case-insensitive. */
static long find_macro(struct rewriter *rw, const char *name, size_t len)
{
    for (size_t i = rw->nmacros; i-- > 0;)
        if (!rw->macros[i].purged && strlen(rw->macros[i].name) == len &&
            strncasecmp(rw->macros[i].name, name, len) == 0)
            return (long)i;
    return -1;
}

static int macro_known(struct rewriter *rw, const char *name, size_t len)
{
    return find_macro(rw, name, len) >= 0;
}

static int is_ident_char(int c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '$';
}

/* Parses ".macro NAME params" (params separated by commas or blanks, each
 * `p`, `p=default`, `p:req` or `p:vararg`) and opens its body. */
static void macro_define(struct rewriter *rw, const char *s, size_t i, size_t e)
{
    size_t j = i;
    while (j < e && !isspace((unsigned char)s[j]) && s[j] != ',')
        j++;
    if (j == i)
        return;
    if (rw->nmacros == rw->capmacros) {
        rw->capmacros = rw->capmacros ? rw->capmacros * 2 : 16;
        rw->macros = xrealloc(rw->macros, rw->capmacros * sizeof *rw->macros);
    }
    struct macro_def *m = &rw->macros[rw->nmacros];
    memset(m, 0, sizeof *m);
    m->name = dup_range(s + i, j - i);
    int after_equals = 0;
    while (j < e) {
        while (j < e && (isspace((unsigned char)s[j]) || s[j] == ','))
            j++;
        size_t k = j;
        while (k < e && is_ident_char((unsigned char)s[k]))
            k++;
        if (k == j) {
            after_equals = s[j] == '=';
            /* skip a default value or a qualifier up to the next separator */
            while (k < e && !isspace((unsigned char)s[k]) && s[k] != ',')
                k++;
            j = k > j ? k : j + 1;
            continue;
        }
        if (!after_equals) {
            m->params = xrealloc(m->params, (m->nparams + 1) * sizeof *m->params);
            m->params[m->nparams++] = dup_range(s + j, k - j);
        }
        after_equals = 0;
        j = k;
        while (j < e && !isspace((unsigned char)s[j]) && s[j] != ',')
            j++;   /* "=default" or ":req" attached to the name */
    }
    if (rw->macro_depth < (int)(sizeof rw->open_macro / sizeof rw->open_macro[0]))
        rw->open_macro[rw->macro_depth] = rw->nmacros;
    rw->macro_depth++;
    rw->nmacros++;
}

static void macro_purge(struct rewriter *rw, const char *name, size_t len)
{
    long m = find_macro(rw, name, len);
    if (m >= 0)
        rw->macros[m].purged = 1;
}

static void macro_add_value(struct macro_def *m, size_t param, const char *v, size_t len)
{
    if (len == 0 || len > 32)
        return;
    for (size_t i = 0; i < len; i++)
        if (!is_ident_char((unsigned char)v[i]))
            return;   /* only plain words can be mnemonics */
    for (size_t i = 0; i < m->nvalues; i++)
        if (m->value_param[i] == param && strlen(m->values[i]) == len &&
            strncmp(m->values[i], v, len) == 0)
            return;
    if (m->nvalues == m->capvalues) {
        m->capvalues = m->capvalues ? m->capvalues * 2 : 8;
        m->values = xrealloc(m->values, m->capvalues * sizeof *m->values);
        m->value_param = xrealloc(m->value_param, m->capvalues * sizeof *m->value_param);
    }
    m->values[m->nvalues] = dup_range(v, len);
    m->value_param[m->nvalues++] = param;
}

/* Records the arguments of an invocation (positional or `param=value`,
 * separated by commas, or by blanks when there are no commas). */
static void macro_record_invocation(struct rewriter *rw, long mi, const char *s, size_t e)
{
    struct macro_def *m = &rw->macros[mi];
    int commas = 0;
    for (size_t i = 0; i < e; i++)
        commas |= s[i] == ',';
    size_t pos = 0, i = 0;
    while (i < e && pos < 64) {
        while (i < e && (isspace((unsigned char)s[i]) || (commas && s[i] == ',')))
            i++;
        if (i >= e)
            break;
        size_t j = i;
        int depth = 0;
        while (j < e) {
            if (s[j] == '"') {
                for (j++; j < e && s[j] != '"'; j++)
                    if (s[j] == '\\')
                        j++;
            } else if (s[j] == '(') {
                depth++;
            } else if (s[j] == ')' && depth > 0) {
                depth--;
            } else if (depth == 0 && (commas ? s[j] == ',' : isspace((unsigned char)s[j]))) {
                break;
            }
            j++;
        }
        size_t ve = j;
        while (ve > i && isspace((unsigned char)s[ve - 1]))
            ve--;
        /* keyword form */
        size_t k = i;
        while (k < ve && is_ident_char((unsigned char)s[k]))
            k++;
        long param = -1;
        size_t vs = i;
        if (k < ve && s[k] == '=') {
            for (size_t p = 0; p < m->nparams; p++)
                if (strlen(m->params[p]) == k - i && strncmp(m->params[p], s + i, k - i) == 0)
                    param = (long)p;
            vs = k + 1;
        } else if (pos < m->nparams) {
            param = (long)pos;
        }
        if (param >= 0) {
            if (vs < ve && s[vs] == '"' && ve - vs >= 2 && s[ve - 1] == '"')
                vs++, ve--;
            macro_add_value(m, (size_t)param, s + vs, ve - vs);
        }
        pos++;
        i = j;
    }
}

/* If `word` (a body statement's mnemonic) is a parameter of the innermost
 * macro being defined, returns its index. */
static long macro_param_of_word(struct rewriter *rw, const char *word, size_t len, long *macro)
{
    if (rw->macro_depth <= 0 || len < 2 || word[0] != '\\')
        return -1;
    int d = rw->macro_depth - 1;
    if (d >= (int)(sizeof rw->open_macro / sizeof rw->open_macro[0]))
        return -1;
    struct macro_def *m = &rw->macros[rw->open_macro[d]];
    size_t n = len - 1;
    if (n >= 3 && strncmp(word + len - 3, "\\()", 3) == 0)
        n -= 3;
    for (size_t p = 0; p < m->nparams; p++)
        if (strlen(m->params[p]) == n && strncmp(m->params[p], word + 1, n) == 0) {
            *macro = (long)rw->open_macro[d];
            return (long)p;
        }
    return -1;
}

/* ---- lexical helpers ---------------------------------------------------------- */

static int is_sym_char(int c)
{
    /* gas symbol characters, plus '\' and '@' for macro parameters and \@ */
    return isalnum(c) || c == '_' || c == '.' || c == '$' || c == '\\' || c == '@';
}

static int is_word_char(int c)
{
    return is_sym_char(c) || c == '{' || c == '}';
}

static const char *const prefix_words[] = {
    "lock", "rep", "repe", "repz", "repne", "repnz", "data16", "data32",
    "addr16", "addr32", "rex", "rex64", "notrack", "bnd", "xacquire",
    "xrelease", "cs", "ds", "es", "fs", "gs", "ss",
};

static int is_prefix_word(const char *w, size_t len)
{
    if (len >= 2 && w[0] == '{' && w[len - 1] == '}')
        return 1;  /* pseudo prefixes: {disp32}, {vex}, {nooptimize}, ... */
    if (len > 4 && strncasecmp(w, "rex.", 4) == 0)
        return 1;
    for (size_t i = 0; i < sizeof prefix_words / sizeof prefix_words[0]; i++)
        if (strlen(prefix_words[i]) == len && strncasecmp(prefix_words[i], w, len) == 0)
            return 1;
    return 0;
}

/* ---- statement analysis ------------------------------------------------------ */

/* A statement, as offsets into the input.  `clean` is the statement text
 * with comments blanked out, same length, so offsets carry over. */
struct stmt {
    size_t start, end;   /* [start, end) in the input, separator excluded */
    const char *clean;   /* end - start bytes, NUL-terminated */
};

enum stmt_type { ST_EMPTY, ST_DIRECTIVE, ST_PREFIX_ONLY, ST_INSN, ST_MACRO_CALL, ST_OTHER };

struct analysis {
    enum stmt_type type;
    size_t body;          /* offset of the body (after labels), relative to stmt start */
    size_t word, wordlen; /* directive or mnemonic (after prefixes) */
    size_t ops;           /* operands start */
    size_t text_end;      /* end of the statement text with trailing blanks trimmed */
};

static size_t skip_space(const char *s, size_t i, size_t n)
{
    while (i < n && isspace((unsigned char)s[i]))
        i++;
    return i;
}

static void analyse(const char *s, size_t n, struct analysis *a, struct rewriter *rw)
{
    memset(a, 0, sizeof *a);
    size_t e = n;
    while (e > 0 && isspace((unsigned char)s[e - 1]))
        e--;
    a->text_end = e;
    size_t i = skip_space(s, 0, e);
    /* labels: "sym:" possibly several */
    for (;;) {
        size_t j = i;
        while (j < e && is_sym_char((unsigned char)s[j]))
            j++;
        if (j > i && j < e && s[j] == ':' && !(j + 1 < e && s[j + 1] == ':'))
            i = skip_space(s, j + 1, e);
        else
            break;
    }
    a->body = i;
    if (i >= e) {
        a->type = ST_EMPTY;
        return;
    }
    if (s[i] == '.' ) {
        size_t j = i + 1;
        while (j < e && is_sym_char((unsigned char)s[j]))
            j++;
        a->type = ST_DIRECTIVE;
        a->word = i;
        a->wordlen = j - i;
        a->ops = skip_space(s, j, e);
        return;
    }
    /* prefixes, then the mnemonic */
    for (;;) {
        size_t j = i;
        if (s[j] == '{') {
            while (j < e && s[j] != '}')
                j++;
            if (j < e)
                j++;
        } else {
            while (j < e && is_word_char((unsigned char)s[j]))
                j++;
        }
        if (j == i) {
            a->type = ST_OTHER;
            return;
        }
        if (is_prefix_word(s + i, j - i) && !macro_known(rw, s + i, j - i)) {
            i = skip_space(s, j, e);
            if (i >= e) {
                a->type = ST_PREFIX_ONLY;
                return;
            }
            continue;
        }
        a->word = i;
        a->wordlen = j - i;
        a->ops = skip_space(s, j, e);
        if (a->ops < e && s[a->ops] == '=' ) {
            a->type = ST_OTHER;     /* "sym = expr" */
            return;
        }
        a->type = macro_known(rw, s + i, j - i) ? ST_MACRO_CALL : ST_INSN;
        return;
    }
}

static int word_is(const char *s, const struct analysis *a, const char *w)
{
    return strlen(w) == a->wordlen && strncasecmp(s + a->word, w, a->wordlen) == 0;
}

/* ---- emitting sites -------------------------------------------------------------- */

static const char *note_push = ".pushsection " AB_NOTE_SECTION ",1";

/* Text that opens a site, inserted where the site starts. */
static void site_head(struct rewriter *rw, unsigned kind, char *out, size_t cap)
{
    unsigned L = rw->label_base;
    const struct ab_kind_info *k = ab_kind_lookup(kind);
    unsigned min = ab_class_min_site(k->cls);
    if (k->place == AB_PAD_BEFORE)
        snprintf(out, cap, "%u1: %s -((%u-(%u2f-%u4f))>0)*(%u-(%u2f-%u4f))%s ; %u4: ",
                 L, rw->pad_directive, min, L, L, min, L, L, rw->pad_fill, L);
    else
        snprintf(out, cap, "%u1: ", L);
}

/* Text that closes a site, inserted right after the instruction. */
static void site_tail(struct rewriter *rw, unsigned kind, unsigned flags, char *out, size_t cap)
{
    unsigned L = rw->label_base;
    const struct ab_kind_info *k = ab_kind_lookup(kind);
    unsigned min = ab_class_min_site(k->cls);
    if (k->place == AB_PAD_BEFORE)
        snprintf(out, cap,
                 " ; %u2: %s ; .long %u1b-. ; .byte %u2b-%u1b, %u4b-%u1b, %u2b-%u4b, %u, %u, %u"
                 " ; .short 0 ; .popsection",
                 L, note_push, L, L, L, L, L, L, L, kind, (unsigned)rw->mode, flags);
    else
        snprintf(out, cap,
                 " ; %u2: %s -((%u-(%u2b-%u1b))>0)*(%u-(%u2b-%u1b))%s ; %u3: %s ; .long %u1b-. ;"
                 " .byte %u3b-%u1b, 0, %u2b-%u1b, %u, %u, %u ; .short 0 ; .popsection",
                 L, rw->pad_directive, min, L, L, min, L, L, rw->pad_fill, L, note_push, L, L, L,
                 L, L, kind, (unsigned)rw->mode, flags);
}

static void count_site(struct rewriter *rw, unsigned kind, unsigned flags, int in_macro_arg)
{
    rw->stats->sites++;
    rw->stats->sites_by_kind[kind]++;
    if (flags & AB_REC_BYTES)
        rw->stats->sites_as_bytes++;
    if (in_macro_arg)
        rw->stats->sites_in_macro_args++;
    if (rw->mode != AB_MODE_64)
        rw->stats->sites_non64++;
}

/* Emits a site whose first byte is at input offset `head_at` and whose
 * instruction text ends at `tail_at`. */
static void emit_site(struct rewriter *rw, unsigned kind, unsigned flags, size_t head_at,
                      size_t tail_at, int in_macro_arg)
{
    char head[256], tail[512];
    site_head(rw, kind, head, sizeof head);
    site_tail(rw, kind, flags, tail, sizeof tail);
    insert(rw, head_at, head);
    insert(rw, tail_at, tail);
    count_site(rw, kind, flags, in_macro_arg);
}

/* A mode marker goes right before the first instruction after a mode or
 * section change, so it lands only in sections that hold code (never in,
 * say, a .discard.* section that the kernel's linker script drops). */
/* Emits the deferred sites: for a body statement `\op` and invocation
 * values {rdmsr, wrmsr, nop}, a site per sensitive value, each inside
 * `.ifc \op,VALUE ; ... ; .endif`, so every expansion records exactly the
 * instruction it assembles. */
static void emit_deferred_sites(struct rewriter *rw)
{
    unsigned L = rw->label_base;
    for (size_t d = 0; d < rw->ndeferred; d++) {
        struct deferred_site *ds = &rw->deferred[d];
        struct macro_def *m = &rw->macros[ds->macro];
        struct ab_buf head, tail;
        ab_buf_init(&head);
        ab_buf_init(&tail);
        enum ab_mode saved = rw->mode;
        rw->mode = ds->mode;
        int any = 0, any_before = 0;
        char text[640];
        for (size_t v = 0; v < m->nvalues; v++) {
            if (m->value_param[v] != ds->param)
                continue;
            unsigned kind = ab_classify(m->values[v], ds->ops, ds->intel);
            const struct ab_kind_info *k = kind ? ab_kind_lookup(kind) : NULL;
            if (!k || k->cls == AB_CLASS_NONE)
                continue;
            unsigned min = ab_class_min_site(k->cls);
            if (k->place == AB_PAD_BEFORE) {
                snprintf(text, sizeof text,
                         ".ifc %s,%s ; %s -((%u-(%u2f-%u4f))>0)*(%u-(%u2f-%u4f))%s ; .endif ; ",
                         ds->param_text, m->values[v], rw->pad_directive, min, L, L, min, L, L,
                         rw->pad_fill);
                ab_buf_puts(&head, text);
                any_before = 1;
            }
            site_tail(rw, kind, 0, text, sizeof text);
            ab_buf_printf(&tail, " ; .ifc %s,%s%s ; .endif", ds->param_text, m->values[v], text);
            rw->stats->sites_conditional++;
            count_site(rw, kind, 0, 0);
            any = 1;
        }
        rw->mode = saved;
        if (any) {
            char lab[64];
            snprintf(lab, sizeof lab, "%u1: ", L);
            struct ab_buf h;
            ab_buf_init(&h);
            ab_buf_puts(&h, lab);
            if (head.data)
                ab_buf_puts(&h, head.data);
            if (any_before) {
                snprintf(lab, sizeof lab, "%u4: ", L);
                ab_buf_puts(&h, lab);
            }
            insert(rw, ds->head_at, h.data);
            insert(rw, ds->tail_at, tail.data);
            ab_buf_free(&h);
        }
        ab_buf_free(&head);
        ab_buf_free(&tail);
    }
}

static void emit_mode_marker(struct rewriter *rw, size_t at)
{
    unsigned L = rw->label_base;
    char text[256];
    snprintf(text, sizeof text,
             "%u5: %s ; .long %u5b-. ; .byte 0, 0, 0, %u, %u, 0 ; .short 0 ; .popsection ; ",
             L, note_push, L, (unsigned)AB_KIND_MODE, (unsigned)rw->mode);
    insert(rw, at, text);
    rw->marker_pending = 0;
    rw->stats->mode_markers++;
}

/* Classifies an analysed instruction or .byte statement; 0 = not a site. */
static unsigned site_kind(struct rewriter *rw, const char *s, const struct analysis *a,
                          unsigned *flags)
{
    char mnem[32], ops[512];
    *flags = 0;
    size_t ol = a->text_end > a->ops ? a->text_end - a->ops : 0;
    if (ol >= sizeof ops)
        return 0;   /* far longer than any operand list of a sensitive instruction */
    memcpy(ops, s + a->ops, ol);
    ops[ol] = 0;
    if (a->type == ST_DIRECTIVE) {
        if (!word_is(s, a, ".byte"))
            return 0;
        unsigned kind = ab_classify_bytes(ops);
        if (kind)
            *flags = AB_REC_BYTES;
        return kind;
    }
    if (a->type != ST_INSN || a->wordlen >= sizeof mnem)
        return 0;
    memcpy(mnem, s + a->word, a->wordlen);
    mnem[a->wordlen] = 0;
    unsigned kind = ab_classify(mnem, ops, rw->intel);
    const struct ab_kind_info *k = kind ? ab_kind_lookup(kind) : NULL;
    if (k && k->cls == AB_CLASS_NONE) {
        rw->stats->unknown_kinds_skipped++;
        return 0;
    }
    return kind;
}

/* Handles one statement-like piece of text at input offset `base`:
 * statements at the top level and statements inside quoted macro
 * arguments alike.  Returns the analysis type. */
static enum stmt_type process_piece(struct rewriter *rw, const char *s, size_t n, size_t base,
                                    int in_macro_arg, struct analysis *a)
{
    analyse(s, n, a, rw);
    rw->stats->statements++;
    if (a->type == ST_EMPTY && skip_space(s, 0, n) == a->body)
        return a->type;   /* blank: does not separate a prefix from its instruction */
    unsigned flags;
    unsigned kind = (a->type == ST_INSN || a->type == ST_DIRECTIVE) ? site_kind(rw, s, a, &flags) : 0;
    int is_code = a->type == ST_INSN || a->type == ST_PREFIX_ONLY || a->type == ST_MACRO_CALL || kind;
    if (rw->marker_pending && is_code && !in_macro_arg)
        emit_mode_marker(rw, base + a->body);
    if (a->type == ST_PREFIX_ONLY) {
        if (!rw->have_prefix_run) {
            rw->have_prefix_run = 1;
            rw->prefix_run_at = base + a->body;
        }
        return a->type;
    }
    long macro;
    long param = (a->type == ST_INSN && !in_macro_arg)
                     ? macro_param_of_word(rw, s + a->word, a->wordlen, &macro) : -1;
    if (param >= 0) {
        if (rw->ndeferred == rw->capdeferred) {
            rw->capdeferred = rw->capdeferred ? rw->capdeferred * 2 : 8;
            rw->deferred = xrealloc(rw->deferred, rw->capdeferred * sizeof *rw->deferred);
        }
        rw->deferred[rw->ndeferred++] = (struct deferred_site){
            .macro = (size_t)macro, .param = (size_t)param,
            .head_at = rw->have_prefix_run ? rw->prefix_run_at : base + a->body,
            .tail_at = base + a->text_end, .mode = rw->mode, .intel = rw->intel,
            .param_text = dup_range(s + a->word, a->wordlen),
            .ops = dup_range(s + a->ops, a->text_end > a->ops ? a->text_end - a->ops : 0),
        };
    }
    if (kind) {
        size_t head_at = rw->have_prefix_run ? rw->prefix_run_at : base + a->body;
        emit_site(rw, kind, flags, head_at, base + a->text_end, in_macro_arg);
    }
    rw->have_prefix_run = 0;
    return a->type;
}

/* Rewrites sensitive instructions inside the double-quoted arguments of a
 * macro invocation, e.g. ALTERNATIVE "", ".byte 0x0f,0x01,0xcb", X86_FEATURE_SMAP.
 * Inside a string, statements are separated by ';'. */
static void process_macro_args(struct rewriter *rw, const char *s, size_t n, size_t base)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '"')
            continue;
        size_t j = i + 1, piece = j;
        char buf[512];
        rw->have_prefix_run = 0;
        for (; j <= n; j++) {
            int end_of_string = (j == n || s[j] == '"');
            if (j < n && s[j] == '\\' && j + 1 < n) {
                j++;
                continue;
            }
            if (end_of_string || s[j] == ';') {
                size_t len = j - piece;
                if (len < sizeof buf) {
                    struct analysis a;
                    memcpy(buf, s + piece, len);
                    buf[len] = 0;
                    process_piece(rw, buf, len, base + piece, 1, &a);
                }
                piece = j + 1;
                if (end_of_string)
                    break;
            }
        }
        rw->have_prefix_run = 0;
        i = j;
    }
}

static enum ab_mode mode_of_code_directive(const char *s, const struct analysis *a, int *is_code)
{
    *is_code = 1;
    if (word_is(s, a, ".code16") || word_is(s, a, ".code16gcc"))
        return AB_MODE_16;
    if (word_is(s, a, ".code32"))
        return AB_MODE_32;
    if (word_is(s, a, ".code64"))
        return AB_MODE_64;
    *is_code = 0;
    return AB_MODE_64;
}

static int is_section_directive(const char *s, const struct analysis *a)
{
    static const char *const dirs[] = {".section", ".pushsection", ".popsection", ".previous",
                                       ".text", ".data", ".bss", ".subsection"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        if (word_is(s, a, dirs[i]))
            return 1;
    return 0;
}

static size_t name_len(const char *s, size_t i, size_t e)
{
    size_t j = i;
    while (j < e && !isspace((unsigned char)s[j]) && s[j] != ',')
        j++;
    return j - i;
}

static void process_directive(struct rewriter *rw, const struct stmt *st, const struct analysis *a)
{
    const char *s = st->clean;
    int is_code;
    enum ab_mode m = mode_of_code_directive(s, a, &is_code);
    if (is_code) {
        rw->mode = m;
        rw->mode_markers_on = 1;
        rw->marker_pending = 1;
        return;
    }
    if (is_section_directive(s, a)) {
        if (rw->mode_markers_on)
            rw->marker_pending = 1;
        return;
    }
    if (word_is(s, a, ".macro")) {
        macro_define(rw, s, a->ops, a->text_end);
        return;
    }
    if (word_is(s, a, ".endm")) {
        if (rw->macro_depth > 0)
            rw->macro_depth--;
        return;
    }
    if (word_is(s, a, ".purgem")) {
        macro_purge(rw, s + a->ops, name_len(s, a->ops, a->text_end));
        return;
    }
    if (word_is(s, a, ".intel_syntax")) {
        rw->intel = 1;
        return;
    }
    if (word_is(s, a, ".att_syntax"))
        rw->intel = 0;
}

static void process_statement(struct rewriter *rw, const struct stmt *st)
{
    struct analysis a;
    size_t n = st->end - st->start;
    enum stmt_type t = process_piece(rw, st->clean, n, st->start, 0, &a);
    if (t == ST_DIRECTIVE)
        process_directive(rw, st, &a);
    else if (t == ST_MACRO_CALL) {
        process_macro_args(rw, st->clean, a.text_end, st->start);
        long mi = find_macro(rw, st->clean + a.word, a.wordlen);
        if (mi >= 0 && a.ops < a.text_end)
            macro_record_invocation(rw, mi, st->clean + a.ops, a.text_end - a.ops);
    }
}

/* ---- the scanner ---------------------------------------------------------------- */

/* Splits the input into statements and feeds them to process_statement. */
static int scan(struct rewriter *rw)
{
    const char *in = rw->in;
    size_t n = rw->n;
    char *clean = xrealloc(NULL, n + 1);
    int in_block_comment = 0;
    size_t i = 0;

    while (i < n) {
        size_t line_start = i;
        size_t line_end = i;
        while (line_end < n && in[line_end] != '\n')
            line_end++;
        rw->stats->lines++;
        size_t st_start = line_start;
        size_t j = line_start;
        int line_comment = 0;
        while (j <= line_end) {
            int at_end = (j == line_end);
            if (!at_end && !line_comment) {
                char c = in[j];
                if (in_block_comment) {
                    clean[j] = ' ';
                    if (c == '*' && j + 1 < line_end && in[j + 1] == '/') {
                        clean[j + 1] = ' ';
                        in_block_comment = 0;
                        j += 2;
                    } else {
                        j++;
                    }
                    continue;
                }
                if (c == '/' && j + 1 < line_end && in[j + 1] == '*') {
                    clean[j] = clean[j + 1] = ' ';
                    in_block_comment = 1;
                    j += 2;
                    continue;
                }
                if (c == '#' || (c == '/' && j == line_start)) {
                    line_comment = 1;
                    /* the statement ends here; the rest of the line is comment */
                    struct stmt st = {st_start, j, clean + st_start};
                    char saved = clean[j];
                    clean[j] = 0;
                    process_statement(rw, &st);
                    clean[j] = saved;
                    st_start = line_end;
                    j = line_end;
                    continue;
                }
                if (c == '"') {
                    clean[j++] = c;
                    while (j < line_end && in[j] != '"') {
                        if (in[j] == '\\' && j + 1 < line_end) {
                            clean[j] = in[j];
                            j++;
                        }
                        clean[j] = in[j];
                        j++;
                    }
                    if (j < line_end)
                        clean[j++] = '"';
                    continue;
                }
                if (c == '\'') {
                    /* character constant: 'c, '\n, optionally closed by ' */
                    clean[j++] = c;
                    if (j < line_end && in[j] == '\\' && j + 1 < line_end) {
                        clean[j] = in[j];
                        j++;
                    }
                    if (j < line_end) {
                        clean[j] = in[j];
                        j++;
                    }
                    if (j < line_end && in[j] == '\'') {
                        clean[j] = in[j];
                        j++;
                    }
                    continue;
                }
                if (c != ';') {
                    clean[j] = c;
                    j++;
                    continue;
                }
            }
            if (at_end || in[j] == ';') {
                if (st_start < j) {
                    struct stmt st = {st_start, j, clean + st_start};
                    char saved = clean[j];
                    clean[j] = 0;
                    process_statement(rw, &st);
                    clean[j] = saved;
                }
                st_start = j + 1;
                j++;
                continue;
            }
            j++;
        }
        i = line_end + 1;
    }
    free(clean);
    return in_block_comment;
}

/* Picks numeric labels that the input does not use. */
static unsigned choose_label_base(const char *in, size_t n)
{
    static const unsigned bases[] = {98760, 97530, 86420, 75310, 64200, 53190, 42080, 31970};
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        char pat[16];
        int len = snprintf(pat, sizeof pat, "%u", bases[b]);
        if (!memmem(in, n, pat, (size_t)len))
            return bases[b];
    }
    return 99990;  /* inputs containing all of the above are not credible */
}

/* True if the text contains ".code16", ".code32" or ".code64" anywhere
 * (comments included: erring towards the padding that is always right). */
static int mentions_code_directive(const char *in, size_t n)
{
    for (size_t i = 0; i + 7 <= n; i++)
        if (in[i] == '.' && strncasecmp(in + i + 1, "code", 4) == 0 &&
            ((in[i + 5] == '1' && in[i + 6] == '6') || (in[i + 5] == '3' && in[i + 6] == '2') ||
             (in[i + 5] == '6' && in[i + 6] == '4')))
            return 1;
    return 0;
}

static void put_quoted(struct ab_buf *b, const char *s)
{
    ab_buf_put(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            ab_buf_put(b, "\\", 1);
        if (*s == '\n')
            continue;
        ab_buf_put(b, s, 1);
    }
    ab_buf_put(b, "\"", 1);
}

int ab_rewrite(const char *in, size_t n, const struct ab_rewrite_opts *opts, struct ab_buf *out,
               struct ab_rewrite_stats *stats)
{
    struct rewriter rw;
    memset(&rw, 0, sizeof rw);
    memset(stats, 0, sizeof *stats);
    rw.in = in;
    rw.n = n;
    rw.opts = opts;
    rw.stats = stats;
    rw.mode = opts->initial_mode;
    rw.label_base = choose_label_base(in, n);
    if (mentions_code_directive(in, n)) {
        rw.pad_directive = ".fill";   /* not .skip: it warns on a zero count */
        rw.pad_fill = ", 1, 0x90";
    } else {
        rw.pad_directive = ".nops";
        rw.pad_fill = "";
    }

    int open_comment = scan(&rw);
    emit_deferred_sites(&rw);

    if (rw.nins == 0) {
        ab_buf_put(out, in, n);
        if (opts->original_echo)
            ab_buf_put(opts->original_echo, in, n);
    } else {
        qsort(rw.ins, rw.nins, sizeof *rw.ins, cmp_insertion);
        /* Prelude: declare the note section with its flags once, so sites can
         * name it without quotes (they may sit inside quoted macro
         * arguments); then a line marker restores the user's line numbers. */
        ab_buf_printf(out, ".pushsection %s,\"a\",@note ; .popsection\n# 1 ", AB_NOTE_SECTION);
        put_quoted(out, opts->source_name ? opts->source_name : "{standard input}");
        ab_buf_put(out, "\n", 1);
        size_t pos = 0;
        for (size_t k = 0; k < rw.nins; k++) {
            size_t at = rw.ins[k].at;
            if (at > pos) {
                ab_buf_put(out, in + pos, at - pos);
                if (opts->original_echo)
                    ab_buf_put(opts->original_echo, in + pos, at - pos);
                pos = at;
            }
            ab_buf_puts(out, rw.ins[k].text);
        }
        ab_buf_put(out, in + pos, n - pos);
        if (opts->original_echo)
            ab_buf_put(opts->original_echo, in + pos, n - pos);
        /* Trailer: the note header (subsection 0, so it precedes the records
         * of subsection 1) and the end of the descriptor (subsection 2). */
        if (open_comment)
            ab_buf_puts(out, "*/");
        if (n > 0 && in[n - 1] != '\n')
            ab_buf_put(out, "\n", 1);
        ab_buf_printf(out,
                      ".pushsection %s,0 ; .balign 4 ; .long %u, .Lafterburn_end-.Lafterburn_desc,"
                      " 0x%x ; .asciz \"%s\" ; .balign 4 ; .Lafterburn_desc: .short %u, %u, %u, %u ;"
                      " .long (.Lafterburn_end-.Lafterburn_desc-%u)/%u, 0 ; .popsection\n",
                      AB_NOTE_SECTION, AB_NOTE_NAMESZ, AB_NOTE_TYPE_SITES, AB_NOTE_NAME,
                      AB_FORMAT_VERSION, AB_PAD_ABI_VERSION, AB_NOTE_HEADER_SIZE, AB_RECORD_SIZE,
                      AB_NOTE_HEADER_SIZE, AB_RECORD_SIZE);
        ab_buf_printf(out, ".pushsection %s,2 ; .Lafterburn_end: ; .popsection\n", AB_NOTE_SECTION);
    }

    for (size_t k = 0; k < rw.nins; k++)
        free(rw.ins[k].text);
    free(rw.ins);
    for (size_t k = 0; k < rw.nmacros; k++) {
        struct macro_def *m = &rw.macros[k];
        free(m->name);
        for (size_t p = 0; p < m->nparams; p++)
            free(m->params[p]);
        free(m->params);
        for (size_t v = 0; v < m->nvalues; v++)
            free(m->values[v]);
        free(m->values);
        free(m->value_param);
    }
    free(rw.macros);
    for (size_t k = 0; k < rw.ndeferred; k++) {
        free(rw.deferred[k].param_text);
        free(rw.deferred[k].ops);
    }
    free(rw.deferred);
    return 0;
}
