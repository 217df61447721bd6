/*
 * Writing the rewritten file: the input text with every edit replaced by a
 * GNU statement expression around an inline-asm memory site.  Nothing is
 * inserted outside the edits and no edit contains a newline, so every line
 * keeps its number and the file's own line markers stay valid.
 *
 * A site (here a 64-bit load of kind pt_read, width 8):
 *
 *   7781: movq (%1), %q0                       the access, register-indirect
 *   7782: .nops <7 - insn length, if positive>  padding for the VAM's call
 *   7783: record in .note.afterburn, subsection 4
 *         (and, once per object, the MEMSITES note header in subsection 3
 *          and its end label in subsection 5)
 */
#include "cparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct renderer {
    const struct cp_source *src;
    struct cp_edit **e;         /* sorted by start, outer before inner */
    size_t n;
    struct cp_buf *out;
    unsigned counter;
    char *why;
    size_t whylen;
    bool failed;
};

static const char *mov_suffix(unsigned w)
{
    return w == 1 ? "b" : w == 2 ? "w" : w == 4 ? "l" : "q";
}

static const char *reg_modifier(unsigned w)
{
    return w == 1 ? "b" : w == 2 ? "w" : w == 4 ? "k" : "q";
}

static const char *uint_type(unsigned w)
{
    return w == 1 ? "unsigned char" : w == 2 ? "unsigned short" : w == 4 ? "unsigned int"
                                                                         : "unsigned long";
}

static const char *rmw_mnemonic(const char *op)
{
    switch (op[0]) {
    case '|': return "or";
    case '&': return "and";
    case '^': return "xor";
    case '+': return "add";
    case '-': return "sub";
    default: return NULL;
    }
}

/* The note header, emitted by the first site the assembler sees. */
static void put_header_asm(struct cp_buf *b)
{
    cp_buf_printf(b,
                  "\\t.ifndef .Lafterburn_mem_hdr\\n"
                  "\\t.set .Lafterburn_mem_hdr, 1\\n"
                  "\\t.pushsection %s,3,\\\"a\\\",@note\\n"
                  "\\t.balign 4\\n"
                  "\\t.long %d, .Lafterburn_mem_end-.Lafterburn_mem_desc, 0x%x\\n"
                  "\\t.asciz \\\"%s\\\"\\n"
                  "\\t.balign 4\\n"
                  ".Lafterburn_mem_desc:\\n"
                  "\\t.short %d, %d, %d, %d\\n"
                  "\\t.long (.Lafterburn_mem_end-.Lafterburn_mem_desc-%d)/%d, 0\\n"
                  "\\t.popsection\\n"
                  "\\t.pushsection %s,5,\\\"a\\\",@note\\n"
                  ".Lafterburn_mem_end:\\n"
                  "\\t.popsection\\n"
                  "\\t.endif",
                  AB_NOTE_SECTION, AB_NOTE_NAMESZ, AB_NOTE_TYPE_MEMSITES, AB_NOTE_NAME,
                  AB_FORMAT_VERSION, AB_PAD_ABI_VERSION, AB_NOTE_HEADER_SIZE, AB_RECORD_SIZE,
                  AB_NOTE_HEADER_SIZE, AB_RECORD_SIZE, AB_NOTE_SECTION);
}

/* `__asm__ [__volatile__] __inline__ ("site" ` up to the operand list. */
static void put_site_asm(struct cp_buf *b, const char *insn, unsigned kind, unsigned flags,
                         bool vol)
{
    unsigned min = AB_MEMSITE_MIN;
    cp_buf_printf(b, "__asm__ %s__inline__ (\"7781:\\n\\t%s\\n"
                  "7782:\\n\\t.nops -((%u-(7782b-7781b))>0)*(%u-(7782b-7781b))\\n"
                  "7783:\\n\\t.pushsection %s,4,\\\"a\\\",@note\\n"
                  "\\t.long 7781b-.\\n"
                  "\\t.byte 7783b-7781b, 0, 7782b-7781b, %u, %u, %u\\n"
                  "\\t.short 0\\n"
                  "\\t.popsection\\n",
                  vol ? "__volatile__ " : "", insn, min, min, AB_NOTE_SECTION, kind,
                  (unsigned)AB_MODE_64, flags);
    put_header_asm(b);
    cp_buf_puts(b, "\"");
}

static unsigned flags_of(const struct cp_edit *e, bool split)
{
    return (e->width & AB_MEMREC_WIDTH_MASK) | (e->is_volatile ? AB_MEMREC_VOLATILE : 0) |
           (split ? AB_MEMREC_SPLIT : 0);
}

static void put_load(struct renderer *r, const struct cp_edit *e, unsigned id, bool split)
{
    char insn[64];
    snprintf(insn, sizeof insn, "mov%s (%%1), %%%s0", mov_suffix(e->width),
             reg_modifier(e->width));
    put_site_asm(r->out, insn, cp_mem_kind(e->cls, AB_MEM_ACCESS_READ), flags_of(e, split),
                 e->is_volatile);
    cp_buf_printf(r->out, " : \"=r\" (__ab_u%u.__r) : \"r\" (__ab_p%u), \"m\" (*__ab_p%u)); ",
                  id, id, id);
}

static void put_store(struct renderer *r, const struct cp_edit *e, unsigned id, bool split)
{
    char insn[64];
    snprintf(insn, sizeof insn, "mov%s %%%s1, (%%2)", mov_suffix(e->width),
             reg_modifier(e->width));
    put_site_asm(r->out, insn, cp_mem_kind(e->cls, AB_MEM_ACCESS_WRITE), flags_of(e, split),
                 e->is_volatile);
    cp_buf_printf(r->out, " : \"=m\" (*__ab_p%u) : \"r\" (__ab_u%u.__r), \"r\" (__ab_p%u)); ",
                  id, id, id);
}

static void fail(struct renderer *r, const struct cp_edit *e, const char *what)
{
    if (!r->failed)
        snprintf(r->why, r->whylen, "%s:%u: internal error: %s (edit of %s in %s)", e->file,
                 e->line, what, e->type ? e->type : "?", e->function);
    r->failed = true;
}

static size_t render_range(struct renderer *r, unsigned from, unsigned to, size_t k);

/* Renders the sub-range [from, to) of edit e, whose nested edits start at k. */
static size_t render_part(struct renderer *r, const struct cp_edit *e, struct cp_range part,
                          size_t k)
{
    if (k < r->n && r->e[k]->range.start < part.start && r->e[k]->range.start >= e->range.start)
        fail(r, e, "a nested access lies outside the operands");
    return render_range(r, part.start, part.end, k);
}

static size_t render_edit(struct renderer *r, size_t k)
{
    const struct cp_edit *e = r->e[k++];
    unsigned id = ++r->counter;
    struct cp_buf *o = r->out;
    cp_buf_printf(o, "({ __auto_type __ab_p%u = &(", id);
    k = render_part(r, e, e->lv, k);
    cp_buf_puts(o, "); ");
    if (e->shape != CP_EDIT_RMW_ONE) {
        cp_buf_printf(o, "union { __typeof__((void)0, *__ab_p%u) __v; %s __r; } __ab_u%u; ", id,
                      uint_type(e->width), id);
        if (e->incdec && e->postfix && e->shape == CP_EDIT_RMW_SPLIT)
            cp_buf_printf(o, "__typeof__(__ab_u%u.__v) __ab_o%u; ", id, id);
    }
    switch (e->shape) {
    case CP_EDIT_LOAD:
        put_load(r, e, id, false);
        cp_buf_printf(o, "__ab_u%u.__v; })", id);
        break;
    case CP_EDIT_STORE:
        cp_buf_printf(o, "__ab_u%u.__v = (", id);
        k = render_part(r, e, e->rhs, k);
        cp_buf_puts(o, "); ");
        put_store(r, e, id, false);
        cp_buf_printf(o, "__ab_u%u.__v; })", id);
        break;
    case CP_EDIT_RMW_ONE: {
        const char *mn = rmw_mnemonic(e->op);
        if (!mn) {
            fail(r, e, "no one-instruction form for this operator");
            break;
        }
        char insn[64];
        snprintf(insn, sizeof insn, "%s%s %%%s1, (%%2)", mn, mov_suffix(e->width),
                 reg_modifier(e->width));
        put_site_asm(o, insn, cp_mem_kind(e->cls, AB_MEM_ACCESS_RMW), flags_of(e, false),
                     e->is_volatile);
        cp_buf_printf(o, " : \"+m\" (*__ab_p%u) : \"r\" ((%s)(", id, uint_type(e->width));
        if (e->incdec)
            cp_buf_puts(o, "1");
        else
            k = render_part(r, e, e->rhs, k);
        cp_buf_printf(o, ")), \"r\" (__ab_p%u)); })", id);
        break;
    }
    case CP_EDIT_RMW_SPLIT:
        put_load(r, e, id, true);
        if (e->incdec && e->postfix)
            cp_buf_printf(o, "__ab_o%u = __ab_u%u.__v%s; ", id, id, e->op);
        else if (e->incdec)
            cp_buf_printf(o, "%s__ab_u%u.__v; ", e->op, id);
        else {
            cp_buf_printf(o, "__ab_u%u.__v %s (", id, e->op);
            k = render_part(r, e, e->rhs, k);
            cp_buf_puts(o, "); ");
        }
        put_store(r, e, id, true);
        if (e->incdec && e->postfix)
            cp_buf_printf(o, "__ab_o%u; })", id);
        else
            cp_buf_printf(o, "__ab_u%u.__v; })", id);
        break;
    }
    if (k < r->n && r->e[k]->range.start < e->range.end)
        fail(r, e, "a nested access lies outside the operands");
    return k;
}

static size_t render_range(struct renderer *r, unsigned from, unsigned to, size_t k)
{
    unsigned pos = from;
    while (k < r->n && r->e[k]->range.start < to && !r->failed) {
        const struct cp_edit *e = r->e[k];
        if (e->range.start < pos || e->range.end > to) {
            fail(r, e, "overlapping rewrites");
            return r->n;
        }
        cp_buf_put(r->out, r->src->text + pos, e->range.start - pos);
        k = render_edit(r, k);
        pos = e->range.end;
    }
    if (!r->failed)
        cp_buf_put(r->out, r->src->text + pos, to - pos);
    return k;
}

static int cmp_edit(const void *a, const void *b)
{
    const struct cp_edit *x = *(struct cp_edit *const *)a, *y = *(struct cp_edit *const *)b;
    if (x->range.start != y->range.start)
        return x->range.start < y->range.start ? -1 : 1;
    return x->range.end > y->range.end ? -1 : x->range.end < y->range.end;
}

bool cp_render(const struct cp_source *src, const struct cp_result *res, struct cp_buf *out,
               char *why, size_t whylen)
{
    struct renderer r = { .src = src, .n = res->nedits, .out = out, .why = why,
                          .whylen = whylen };
    r.e = cp_xrealloc(NULL, res->nedits ? res->nedits : 1, sizeof *r.e);
    for (size_t i = 0; i < res->nedits; i++) {
        r.e[i] = &res->edits[i];
        if (r.e[i]->range.end > src->len || r.e[i]->range.start > r.e[i]->range.end) {
            fail(&r, r.e[i], "rewrite outside the file");
            free(r.e);
            return false;
        }
    }
    qsort(r.e, r.n, sizeof *r.e, cmp_edit);
    size_t k = render_range(&r, 0, (unsigned)src->len, 0);
    if (!r.failed && k != r.n)
        fail(&r, r.e[k], "rewrite not reached");
    free(r.e);
    return !r.failed;
}
