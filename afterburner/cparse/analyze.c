/*
 * The analysis: parse the preprocessed file with libclang, build the
 * expression tree of every function definition, and classify every lvalue
 * that names memory of a sensitive type (or memory inside an accessor
 * function) by what the code does with it: load, store, read-modify-write,
 * or something the tool cannot express as one mov (reported, left alone).
 *
 * libclang's C API hides implicit casts (they appear as CXCursor_UnexposedExpr
 * with the extent of their operand) and operator codes; both are recovered
 * here: an UnexposedExpr with exactly one expression child of the same extent
 * is an implicit cast, and an lvalue under an implicit cast whose type is not
 * an array or function is being loaded (clang's LValueToRValue).  Operators
 * are read from the text, which has no macros left.
 */
#include "cparse.h"

#include <clang-c/Index.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the expression tree of one function ----------------------------------- */

struct node {
    CXCursor c;
    enum CXCursorKind kind;
    unsigned start, end;
    int parent;
    int first, last, next;      /* children: expressions, statements, declarations */
    int nchild;
    bool unevaluated;
};

struct tree {
    struct node *v;
    size_t n, cap;
    int *stack;
    size_t depth, capdepth;
};

/* A record type that was declared sensitive (through a typedef of it). */
struct sens_record {
    CXCursor decl;              /* canonical declaration */
    enum cp_class cls;
    const char *name;           /* the listed typedef name */
};

struct analysis {
    struct cp_source *src;
    struct cp_config *cfg;
    const struct cp_options *opts;
    struct cp_result *res;
    CXTranslationUnit tu;
    struct tree t;
    struct sens_record *records;
    size_t nrecords;
    /* record declarations known to contain (or not) a sensitive field */
    struct { CXCursor decl; int verdict; } *contains;
    size_t ncontains;
    const char *function;       /* being analysed */
    struct cp_accessor *accessor;   /* NULL unless the function is one */
    unsigned accessor_kinds;    /* bit per enum ab_mem_kind found in the accessor */
    FILE *report;               /* --report file, or NULL */
};

static void range_of(CXCursor c, unsigned *start, unsigned *end)
{
    CXSourceRange r = clang_getCursorExtent(c);
    CXFile f1, f2;
    unsigned line, col, o1 = 0, o2 = 0;
    clang_getFileLocation(clang_getRangeStart(r), &f1, &line, &col, &o1);
    clang_getFileLocation(clang_getRangeEnd(r), &f2, &line, &col, &o2);
    if (!f1 || !f2 || o2 < o1) {
        *start = *end = 0;
        return;
    }
    *start = o1;
    *end = o2;
}

static enum CXChildVisitResult build_visit(CXCursor c, CXCursor parent, CXClientData data)
{
    struct analysis *a = data;
    struct tree *t = &a->t;
    while (t->depth > 1 && !clang_equalCursors(t->v[t->stack[t->depth - 1]].c, parent))
        t->depth--;
    int p = t->stack[t->depth - 1];
    enum CXCursorKind k = clang_getCursorKind(c);
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 4096;
        t->v = cp_xrealloc(t->v, t->cap, sizeof *t->v);
    }
    int i = (int)t->n++;
    struct node *nd = &t->v[i];
    *nd = (struct node){ .c = c, .kind = k, .parent = p, .first = -1, .last = -1, .next = -1 };
    range_of(c, &nd->start, &nd->end);
    struct node *pn = &t->v[p];
    nd->unevaluated = pn->unevaluated || pn->kind == CXCursor_UnaryExpr ||
                      (nd->end > nd->start && cp_source_unevaluated(a->src, nd->start));
    if (pn->last >= 0)
        t->v[pn->last].next = i;
    else
        pn->first = i;
    pn->last = i;
    pn->nchild++;
    if (t->depth == t->capdepth) {
        t->capdepth = t->capdepth ? 2 * t->capdepth : 256;
        t->stack = cp_xrealloc(t->stack, t->capdepth, sizeof *t->stack);
    }
    t->stack[t->depth++] = i;
    return CXChildVisit_Recurse;
}

static void build_tree(struct analysis *a, CXCursor fn)
{
    struct tree *t = &a->t;
    t->n = 0;
    t->depth = 0;
    if (!t->cap) {
        t->cap = 4096;
        t->v = cp_xrealloc(NULL, t->cap, sizeof *t->v);
    }
    if (!t->capdepth) {
        t->capdepth = 256;
        t->stack = cp_xrealloc(NULL, t->capdepth, sizeof *t->stack);
    }
    t->v[0] = (struct node){ .c = fn, .kind = clang_getCursorKind(fn), .parent = -1,
                             .first = -1, .last = -1, .next = -1 };
    range_of(fn, &t->v[0].start, &t->v[0].end);
    t->n = 1;
    t->stack[t->depth++] = 0;
    clang_visitChildren(fn, build_visit, a);
}

#define N(i) (&a->t.v[(i)])

static int expr_child(const struct analysis *a, int i, int k)
{
    for (int c = N(i)->first; c >= 0; c = N(c)->next)
        if (clang_isExpression(N(c)->kind) && k-- == 0)
            return c;
    return -1;
}

static int nexpr_children(const struct analysis *a, int i)
{
    int n = 0;
    for (int c = N(i)->first; c >= 0; c = N(c)->next)
        n += clang_isExpression(N(c)->kind) != 0;
    return n;
}

static bool is_implicit_cast(const struct analysis *a, int i)
{
    if (N(i)->kind != CXCursor_UnexposedExpr || N(i)->nchild != 1)
        return false;
    int c = N(i)->first;
    return clang_isExpression(N(c)->kind) && N(c)->start == N(i)->start &&
           N(c)->end == N(i)->end;
}

static bool is_cast(const struct analysis *a, int i)
{
    return is_implicit_cast(a, i) || N(i)->kind == CXCursor_CStyleCastExpr;
}

/* The operand of a cast (the last expression child). */
static int cast_operand(const struct analysis *a, int i)
{
    int last = -1;
    for (int c = N(i)->first; c >= 0; c = N(c)->next)
        if (clang_isExpression(N(c)->kind))
            last = c;
    return last;
}

/* ---- operators ------------------------------------------------------------------ */

/* Prefix operator of a UnaryOperator (or "" for postfix ++/--, see postfix_op). */
static void unary_op(const struct analysis *a, int i, char op[4])
{
    const struct cp_source *s = a->src;
    unsigned at = N(i)->start;
    static const char *const words[] = { "__extension__", "__real__", "__imag__", "__real",
                                         "__imag" };
    for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
        size_t n = strlen(words[w]);
        if (at + n <= s->len && memcmp(s->text + at, words[w], n) == 0 &&
            !(at + n < s->len && (s->text[at + n] == '_' ||
                                  (s->text[at + n] >= 'a' && s->text[at + n] <= 'z')))) {
            snprintf(op, 4, "ext");
            return;
        }
    }
    int operand = expr_child(a, i, 0);
    if (operand >= 0 && N(operand)->start == at) {
        /* postfix: the operator ends the extent */
        unsigned e = N(i)->end;
        op[0] = 0;
        if (e >= 2 && (memcmp(s->text + e - 2, "++", 2) == 0 || memcmp(s->text + e - 2, "--", 2) == 0)) {
            op[0] = s->text[e - 2];
            op[1] = s->text[e - 1];
            op[2] = 'p';    /* marks postfix */
            op[3] = 0;
        }
        return;
    }
    cp_source_operator(s, at, op);
}

static void binary_op(const struct analysis *a, int i, char op[4])
{
    int lhs = expr_child(a, i, 0);
    op[0] = 0;
    if (lhs >= 0)
        cp_source_operator(a->src, N(lhs)->end, op);
}

/* ---- types ---------------------------------------------------------------------- */

static CXType node_type(const struct analysis *a, int i)
{
    return clang_getCursorType(N(i)->c);
}

static enum CXTypeKind canonical_kind(CXType t)
{
    return clang_getCanonicalType(t).kind;
}

static bool config_has_typedef(const struct analysis *a, const char *name, enum cp_class *cls)
{
    for (size_t i = 0; i < a->cfg->ntypes; i++)
        if (strcmp(a->cfg->types[i].name, name) == 0) {
            *cls = a->cfg->types[i].cls;
            return true;
        }
    return false;
}

static enum cp_class record_class(const struct analysis *a, CXType canon)
{
    CXCursor decl = clang_getCanonicalCursor(clang_getTypeDeclaration(canon));
    for (size_t i = 0; i < a->nrecords; i++)
        if (clang_equalCursors(a->records[i].decl, decl))
            return a->records[i].cls;
    enum CXCursorKind dk = clang_getCursorKind(decl);
    if (dk != CXCursor_StructDecl && dk != CXCursor_UnionDecl)
        return CP_CLASS_NONE;
    CXString sp = clang_getCursorSpelling(decl);
    const char *tag = clang_getCString(sp);
    enum cp_class cls = CP_CLASS_NONE;
    if (tag && *tag) {
        char name[300];
        snprintf(name, sizeof name, "%s %s", dk == CXCursor_StructDecl ? "struct" : "union", tag);
        config_has_typedef(a, name, &cls);
    }
    clang_disposeString(sp);
    return cls;
}

/* The class of a type: through typedef chains (a listed typedef name), and
 * by identity of the record it denotes (typeof, elaborated, qualified). */
static enum cp_class type_class(const struct analysis *a, CXType t)
{
    for (int depth = 0; depth < 64 && t.kind != CXType_Invalid; depth++) {
        if (t.kind == CXType_Typedef) {
            CXString name = clang_getTypedefName(t);
            enum cp_class cls = CP_CLASS_NONE;
            bool hit = config_has_typedef(a, clang_getCString(name), &cls);
            clang_disposeString(name);
            if (hit)
                return cls;
            t = clang_getTypedefDeclUnderlyingType(clang_getTypeDeclaration(t));
        } else if (t.kind == CXType_Elaborated) {
            t = clang_Type_getNamedType(t);
        } else {
            break;
        }
    }
    CXType canon = clang_getCanonicalType(t);
    if (canon.kind == CXType_Record)
        return record_class(a, canon);
    return CP_CLASS_NONE;
}

/* The type a pointer type points to, keeping the pointee's typedef names. */
static CXType pointee_of(CXType t)
{
    for (int depth = 0; depth < 64; depth++) {
        if (t.kind == CXType_Pointer)
            return clang_getPointeeType(t);
        if (t.kind == CXType_Typedef)
            t = clang_getTypedefDeclUnderlyingType(clang_getTypeDeclaration(t));
        else if (t.kind == CXType_Elaborated)
            t = clang_Type_getNamedType(t);
        else
            break;
    }
    CXType canon = clang_getCanonicalType(t);
    if (canon.kind == CXType_Pointer)
        return clang_getPointeeType(canon);
    CXType none = { CXType_Invalid, { NULL, NULL } };
    return none;
}

static bool is_pointer(CXType t)
{
    return canonical_kind(t) == CXType_Pointer;
}

static bool is_integer_kind(enum CXTypeKind k)
{
    switch (k) {
    case CXType_Char_U: case CXType_UChar: case CXType_UShort: case CXType_UInt:
    case CXType_ULong: case CXType_ULongLong: case CXType_Char_S: case CXType_SChar:
    case CXType_Short: case CXType_Int: case CXType_Long: case CXType_LongLong:
    case CXType_Enum: case CXType_WChar: case CXType_Char16: case CXType_Char32:
        return true;
    default:
        return false;
    }
}

/* Access types the rewrite can move through a general-purpose register. */
static bool movable_kind(enum CXTypeKind k)
{
    return is_integer_kind(k) || k == CXType_Bool || k == CXType_Pointer || k == CXType_Record;
}

/* The sensitive class of anything inside a record type, or NONE. */
static enum cp_class contains_class(struct analysis *a, CXType t, int depth);

struct field_scan {
    struct analysis *a;
    enum cp_class found;
    int depth;
};

static enum CXVisitorResult field_visit(CXCursor field, CXClientData data)
{
    struct field_scan *fs = data;
    CXType ft = clang_getCursorType(field);
    enum cp_class c = type_class(fs->a, ft);
    if (!c)
        c = contains_class(fs->a, ft, fs->depth + 1);
    if (c) {
        fs->found = c;
        return CXVisit_Break;
    }
    return CXVisit_Continue;
}

static enum cp_class contains_class(struct analysis *a, CXType t, int depth)
{
    if (depth > 32)
        return CP_CLASS_NONE;
    CXType canon = clang_getCanonicalType(t);
    while (canon.kind == CXType_ConstantArray || canon.kind == CXType_IncompleteArray) {
        CXType elem = clang_getArrayElementType(canon);
        enum cp_class c = type_class(a, elem);
        if (c)
            return c;
        canon = clang_getCanonicalType(elem);
    }
    if (canon.kind != CXType_Record)
        return CP_CLASS_NONE;
    CXCursor decl = clang_getCanonicalCursor(clang_getTypeDeclaration(canon));
    for (size_t i = 0; i < a->ncontains; i++)
        if (clang_equalCursors(a->contains[i].decl, decl))
            return (enum cp_class)a->contains[i].verdict;
    struct field_scan fs = { a, CP_CLASS_NONE, depth };
    clang_Type_visitFields(canon, field_visit, &fs);
    a->contains = cp_xrealloc(a->contains, a->ncontains + 1, sizeof *a->contains);
    a->contains[a->ncontains].decl = decl;
    a->contains[a->ncontains].verdict = (int)fs.found;
    a->ncontains++;
    return fs.found;
}

static char *plain_spelling(CXType t)
{
    CXString s = clang_getTypeSpelling(t);
    char *r = cp_xstrdup(clang_getCString(s) ? clang_getCString(s) : "?");
    clang_disposeString(s);
    return r;
}

/* A readable name for messages: typeof(...) spelled as the type it denotes,
 * a listed record by its typedef name. */
static char *type_spelling(const struct analysis *a, CXType t)
{
    char *r = plain_spelling(t);
    if (!strstr(r, "typeof") && !strstr(r, "(anonymous"))
        return r;
    CXType canon = clang_getCanonicalType(t);
    const char *name = NULL;
    if (canon.kind == CXType_Record) {
        CXCursor decl = clang_getCanonicalCursor(clang_getTypeDeclaration(canon));
        for (size_t i = 0; i < a->nrecords; i++)
            if (clang_equalCursors(a->records[i].decl, decl))
                name = a->records[i].name;
    }
    char *c = plain_spelling(canon);
    if (name || !strstr(c, "(anonymous")) {
        free(r);
        size_t n = strlen(name ? name : c) + 32;
        r = cp_xrealloc(NULL, n, 1);
        snprintf(r, n, "%s%s%s", clang_isConstQualifiedType(canon) ? "const " : "",
                 clang_isVolatileQualifiedType(canon) ? "volatile " : "",
                 name ? name : c);
        if (!name)
            snprintf(r, n, "%s", c);
    }
    free(c);
    return r;
}

/* ---- lvalues ----------------------------------------------------------------------- */

enum storage { ST_NONE, ST_MEMORY, ST_LOCAL, ST_TEMP };

static bool is_lvalue(struct analysis *a, int i);

static bool is_unary(const struct analysis *a, int i, const char *want)
{
    if (N(i)->kind != CXCursor_UnaryOperator)
        return false;
    char op[4];
    unary_op(a, i, op);
    return strcmp(op, want) == 0;
}

/* Parens, __extension__, implicit casts: the expression underneath. */
static int strip_parens(const struct analysis *a, int i)
{
    while (i >= 0) {
        if (N(i)->kind == CXCursor_ParenExpr || is_unary(a, i, "ext"))
            i = expr_child(a, i, 0);
        else
            break;
    }
    return i;
}

static int strip_casts(const struct analysis *a, int i)
{
    while (i >= 0) {
        if (N(i)->kind == CXCursor_ParenExpr || is_unary(a, i, "ext"))
            i = expr_child(a, i, 0);
        else if (is_cast(a, i))
            i = cast_operand(a, i);
        else
            break;
    }
    return i;
}

static bool member_is_arrow(struct analysis *a, int i)
{
    int base = expr_child(a, i, 0);
    return base >= 0 && is_pointer(node_type(a, base));
}

/* The base of an array subscript (the operand of pointer type). */
static int subscript_base(struct analysis *a, int i)
{
    int x = expr_child(a, i, 0), y = expr_child(a, i, 1);
    if (x < 0 || y < 0)
        return -1;
    return is_pointer(node_type(a, x)) ? x : y;
}

/* An array-typed lvalue under the decay of a subscript base, or -1. */
static int subscript_array(struct analysis *a, int i)
{
    int base = subscript_base(a, i);
    if (base < 0)
        return -1;
    int inner = strip_parens(a, base);
    if (inner >= 0 && is_implicit_cast(a, inner)) {
        int arr = strip_parens(a, cast_operand(a, inner));
        enum CXTypeKind k = canonical_kind(node_type(a, arr));
        if (k == CXType_ConstantArray || k == CXType_IncompleteArray ||
            k == CXType_VariableArray || k == CXType_DependentSizedArray)
            return arr;
    }
    return -1;
}

static bool is_lvalue(struct analysis *a, int i)
{
    i = strip_parens(a, i);
    if (i < 0)
        return false;
    switch (N(i)->kind) {
    case CXCursor_DeclRefExpr: {
        enum CXCursorKind k = clang_getCursorKind(clang_getCursorReferenced(N(i)->c));
        return k == CXCursor_VarDecl || k == CXCursor_ParmDecl;
    }
    case CXCursor_MemberRefExpr:
        return member_is_arrow(a, i) || is_lvalue(a, expr_child(a, i, 0));
    case CXCursor_ArraySubscriptExpr:
    case CXCursor_CompoundLiteralExpr:
        return true;
    case CXCursor_UnaryOperator:
        return is_unary(a, i, "*");
    default:
        return false;
    }
}

/* Where an lvalue's object lives. */
static enum storage storage_of(struct analysis *a, int i)
{
    i = strip_parens(a, i);
    if (i < 0)
        return ST_NONE;
    switch (N(i)->kind) {
    case CXCursor_DeclRefExpr: {
        CXCursor d = clang_getCursorReferenced(N(i)->c);
        if (clang_getCursorKind(d) == CXCursor_ParmDecl)
            return ST_LOCAL;
        if (clang_getCursorKind(d) == CXCursor_VarDecl)
            return clang_Cursor_hasVarDeclGlobalStorage(d) == 1 ? ST_MEMORY : ST_LOCAL;
        return ST_NONE;
    }
    case CXCursor_MemberRefExpr:
        return member_is_arrow(a, i) ? ST_MEMORY : storage_of(a, expr_child(a, i, 0));
    case CXCursor_ArraySubscriptExpr: {
        int arr = subscript_array(a, i);
        if (arr >= 0)
            return is_lvalue(a, arr) ? storage_of(a, arr) : ST_TEMP;
        int p = strip_casts(a, subscript_base(a, i));
        if (p >= 0 && is_unary(a, p, "&"))
            return storage_of(a, expr_child(a, p, 0));     /* (&x)[0] */
        return ST_MEMORY;
    }
    case CXCursor_UnaryOperator: {
        if (!is_unary(a, i, "*"))
            return ST_NONE;
        int p = strip_casts(a, expr_child(a, i, 0));
        if (p >= 0 && is_unary(a, p, "&"))
            return storage_of(a, expr_child(a, p, 0));
        return ST_MEMORY;
    }
    case CXCursor_CompoundLiteralExpr:
        return ST_TEMP;
    default:
        return ST_NONE;
    }
}

static enum cp_class object_class(struct analysis *a, int i, int depth);

/* The class of what pointer expression p points to: its pointee type, or
 * what it was before casts, or the object of an &x it is. */
static enum cp_class pointer_class(struct analysis *a, int p, int depth)
{
    while (p >= 0) {
        enum cp_class c = type_class(a, pointee_of(node_type(a, p)));
        if (c)
            return c;
        int s = strip_parens(a, p);
        if (s >= 0 && is_unary(a, s, "&"))
            return object_class(a, expr_child(a, s, 0), depth + 1);
        if (s >= 0 && is_cast(a, s))
            p = cast_operand(a, s);
        else
            break;
    }
    return CP_CLASS_NONE;
}

/* The sensitive class of the object an lvalue designates: its own type, or
 * the type of the object it is a part of (a member or element of a pte_t),
 * or the type a cast-away pointer pointed to (*(u32 *)ptep). */
static enum cp_class object_class(struct analysis *a, int i, int depth)
{
    if (i < 0 || depth > 64)
        return CP_CLASS_NONE;
    enum cp_class c = type_class(a, node_type(a, i));
    if (c)
        return c;
    i = strip_parens(a, i);
    switch (N(i)->kind) {
    case CXCursor_MemberRefExpr: {
        int base = expr_child(a, i, 0);
        if (base < 0)
            return CP_CLASS_NONE;
        if (!member_is_arrow(a, i))
            return object_class(a, base, depth + 1);
        /* p->m: the type p points to, or what p was before casts */
        return pointer_class(a, base, depth);
    }
    case CXCursor_ArraySubscriptExpr: {
        int arr = subscript_array(a, i);
        if (arr >= 0)
            return object_class(a, arr, depth + 1);
        return pointer_class(a, subscript_base(a, i), depth);
    }
    case CXCursor_UnaryOperator: {
        if (!is_unary(a, i, "*"))
            return CP_CLASS_NONE;
        return pointer_class(a, expr_child(a, i, 0), depth);
    }
    default:
        return CP_CLASS_NONE;
    }
}

static bool is_bitfield(struct analysis *a, int i)
{
    i = strip_parens(a, i);
    if (i < 0 || N(i)->kind != CXCursor_MemberRefExpr)
        return false;
    CXCursor f = clang_getCursorReferenced(N(i)->c);
    return clang_getCursorKind(f) == CXCursor_FieldDecl && clang_Cursor_isBitField(f);
}

/* ---- reports ------------------------------------------------------------------------ */

static void location_of(CXCursor c, CXString *file, unsigned *line, unsigned *col)
{
    clang_getPresumedLocation(clang_getCursorLocation(c), file, line, col);
}

static void report(struct analysis *a, int i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct analysis *a, int i, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    CXString file;
    unsigned line, col;
    clang_getPresumedLocation(clang_getRangeStart(clang_getCursorExtent(N(i)->c)), &file, &line,
                              &col);
    const char *f = clang_getCString(file);
    const char *sev = a->opts->werror ? "error" : "warning";
    if (!a->opts->quiet || a->opts->werror)
        fprintf(stderr, "%s:%u:%u: %s: afterburn-cparse: %s (in %s); left unannotated\n",
                f && *f ? f : a->src->name, line, col, sev, msg, a->function);
    if (a->report)
        fprintf(a->report, "%s:%u:%u: unclassified: %s (in %s)\n", f && *f ? f : a->src->name,
                line, col, msg, a->function);
    clang_disposeString(file);
    a->res->stats.reports++;
}

static const char *cursor_kind_name(enum CXCursorKind k, char *buf, size_t len)
{
    CXString s = clang_getCursorKindSpelling(k);
    snprintf(buf, len, "%s", clang_getCString(s));
    clang_disposeString(s);
    return buf;
}

/* ---- edits ------------------------------------------------------------------------- */

static struct cp_edit *new_edit(struct analysis *a, int at)
{
    struct cp_result *r = a->res;
    if (r->nedits == r->capedits) {
        r->capedits = r->capedits ? 2 * r->capedits : 64;
        r->edits = cp_xrealloc(r->edits, r->capedits, sizeof *r->edits);
    }
    struct cp_edit *e = &r->edits[r->nedits++];
    memset(e, 0, sizeof *e);
    CXString file;
    unsigned line, col;
    location_of(N(at)->c, &file, &line, &col);
    const char *f = clang_getCString(file);
    e->file = cp_xstrdup(f && *f ? f : a->src->name);
    e->line = line;
    clang_disposeString(file);
    e->function = cp_xstrdup(a->function);
    return e;
}

static void count_kind(struct analysis *a, enum cp_class cls, enum ab_mem_access acc)
{
    unsigned k = cp_mem_kind(cls, acc);
    a->res->stats.sites_by_kind[k]++;
    a->accessor_kinds |= 1u << k;
}

/* ---- contexts ------------------------------------------------------------------------ */

enum context {
    CTX_NONE,       /* not an access: part of a larger lvalue, decayed, unevaluated */
    CTX_LOAD,
    CTX_STORE,      /* left operand of = */
    CTX_RMW,        /* operand of op= ++ -- */
    CTX_DISCARD,    /* expression statement, (void), left of a comma */
    CTX_ADDR,       /* operand of & */
    CTX_ASM,        /* an inline-asm operand used as an lvalue */
    CTX_UNKNOWN,
};

/* The parent of i, looking through parens and __extension__; *via is the
 * child of that parent on the way to i. */
static int parent_of(const struct analysis *a, int i, int *via)
{
    int t = i, p = N(i)->parent;
    while (p > 0 && (N(p)->kind == CXCursor_ParenExpr || is_unary(a, p, "ext"))) {
        t = p;
        p = N(p)->parent;
    }
    *via = t;
    return p;
}

static enum context context_of(struct analysis *a, int i, int *parent, int *via)
{
    int t, p = parent_of(a, i, &t);
    *parent = p;
    *via = t;
    if (p <= 0)
        return CTX_UNKNOWN;
    enum CXCursorKind pk = N(p)->kind;
    if (is_implicit_cast(a, p)) {
        enum CXTypeKind k = canonical_kind(node_type(a, i));
        if (k == CXType_ConstantArray || k == CXType_IncompleteArray ||
            k == CXType_VariableArray || k == CXType_FunctionProto ||
            k == CXType_FunctionNoProto)
            return CTX_NONE;
        return CTX_LOAD;
    }
    switch (pk) {
    case CXCursor_MemberRefExpr:
    case CXCursor_ArraySubscriptExpr:
    case CXCursor_UnaryExpr:
        return CTX_NONE;
    case CXCursor_BinaryOperator: {
        char op[4];
        binary_op(a, p, op);
        bool lhs = expr_child(a, p, 0) == t;
        if (lhs && strcmp(op, "=") == 0)
            return CTX_STORE;
        if (lhs && strcmp(op, ",") == 0)
            return CTX_DISCARD;
        return CTX_UNKNOWN;
    }
    case CXCursor_CompoundAssignOperator:
        return expr_child(a, p, 0) == t ? CTX_RMW : CTX_UNKNOWN;
    case CXCursor_UnaryOperator: {
        char op[4];
        unary_op(a, p, op);
        if (strncmp(op, "++", 2) == 0 || strncmp(op, "--", 2) == 0)
            return CTX_RMW;
        if (strcmp(op, "&") == 0)
            return CTX_ADDR;
        return CTX_UNKNOWN;
    }
    case CXCursor_CStyleCastExpr:
        return canonical_kind(node_type(a, p)) == CXType_Void ? CTX_DISCARD : CTX_UNKNOWN;
    case CXCursor_AsmStmt:
        return CTX_ASM;
    default:
        if (clang_isStatement(pk) && pk != CXCursor_ReturnStmt)
            return CTX_DISCARD;
        return CTX_UNKNOWN;
    }
}

/* Whether the value of expression i is not used. */
static bool value_discarded(struct analysis *a, int i)
{
    int t, p = parent_of(a, i, &t);
    if (p <= 0)
        return false;
    enum CXCursorKind pk = N(p)->kind;
    if (pk == CXCursor_CompoundStmt) {
        int gp = N(p)->parent;
        /* the last statement of ({ ... }) is its value */
        return !(gp >= 0 && N(gp)->kind == CXCursor_StmtExpr && N(p)->last == t);
    }
    if (pk == CXCursor_LabelStmt || pk == CXCursor_CaseStmt || pk == CXCursor_DefaultStmt)
        return true;
    if (pk == CXCursor_ForStmt) {
        /* the increment is the expression that the closing parenthesis follows */
        unsigned after = cp_source_skip_blanks(a->src, N(t)->end);
        return clang_isExpression(N(t)->kind) && after < a->src->len &&
               a->src->text[after] == ')';
    }
    if (pk == CXCursor_CStyleCastExpr)
        return canonical_kind(node_type(a, p)) == CXType_Void;
    if (pk == CXCursor_BinaryOperator) {
        char op[4];
        binary_op(a, p, op);
        if (strcmp(op, ",") != 0)
            return false;
        /* left of a comma: discarded; right: as discarded as the comma */
        return expr_child(a, p, 0) == t || value_discarded(a, p);
    }
    return false;
}

static const char *const copy_functions[] = {
    "memcpy", "memmove", "memset", "memcmp", "bcmp", "__memcpy", "__memmove", "__memset",
    "__builtin_memcpy", "__builtin_memmove", "__builtin_memset", "__builtin_memcmp",
    "__builtin___memcpy_chk", "__builtin___memmove_chk", "__builtin___memset_chk",
    "memcpy_flushcache", "copy_page", "clear_page", "memset64", "memset_l",
};

static bool name_has_prefix(const char *name, const char *prefix)
{
    return strncmp(name, prefix, strlen(prefix)) == 0;
}

/* The name of the function a call calls directly, into buf; false if indirect. */
static bool callee_name(struct analysis *a, int call, char *buf, size_t len)
{
    CXCursor f = clang_getCursorReferenced(N(call)->c);
    if (clang_Cursor_isNull(f) || clang_getCursorKind(f) != CXCursor_FunctionDecl)
        return false;
    CXString s = clang_getCursorSpelling(f);
    snprintf(buf, len, "%s", clang_getCString(s));
    clang_disposeString(s);
    return true;
}

/* A builtin or function that reads or writes through a pointer as raw
 * memory: a copy, or an atomic operation. */
static bool is_bulk_or_atomic_call(struct analysis *a, int p, char *what, size_t len)
{
    if (N(p)->kind == CXCursor_CallExpr) {
        char name[256];
        if (!callee_name(a, p, name, sizeof name))
            return false;
        for (size_t k = 0; k < sizeof copy_functions / sizeof *copy_functions; k++)
            if (strcmp(name, copy_functions[k]) == 0) {
                snprintf(what, len, "passed to %s", name);
                return true;
            }
        if (name_has_prefix(name, "__sync_") || name_has_prefix(name, "__atomic_") ||
            name_has_prefix(name, "__c11_atomic_")) {
            snprintf(what, len, "passed to the atomic builtin %s", name);
            return true;
        }
        return false;
    }
    if (N(p)->kind == CXCursor_UnexposedExpr) {
        /* __atomic_* builtins are AtomicExprs, unexposed; recognise the word */
        const char *s = a->src->text + N(p)->start;
        size_t left = a->src->len - N(p)->start;
        if ((left > 9 && memcmp(s, "__atomic_", 9) == 0) ||
            (left > 13 && memcmp(s, "__c11_atomic_", 13) == 0)) {
            size_t n = 0;
            while (n < left && n < 40 && (s[n] == '_' || (s[n] >= 'a' && s[n] <= 'z') ||
                                          (s[n] >= '0' && s[n] <= '9')))
                n++;
            snprintf(what, len, "passed to the atomic builtin %.*s", (int)n, s);
            return true;
        }
    }
    return false;
}

static bool is_bytelike_or_void(CXType pointee)
{
    switch (canonical_kind(pointee)) {
    case CXType_Void: case CXType_Char_U: case CXType_UChar: case CXType_Char_S:
    case CXType_SChar:
        return true;
    default:
        return false;
    }
}

/*
 * A pointer into sensitive memory (&X of a sensitive object, or a pointer to
 * a sensitive type cast to another pointer type) is followed to where it is
 * used.  Dereferenced: the access is analysed there.  Still typed as a
 * pointer to a sensitive type: the type system keeps track.  Otherwise the
 * object is reached as something else (test_and_clear_bit on (unsigned
 * long *)&ptep->pte, xchg(&xp->pte, 0), memcpy of a pgd_t array) and the
 * access cannot be annotated by type: report it.
 */
static void check_pointer_escape(struct analysis *a, int ptr, const char *obj_type,
                                 enum cp_class cls)
{
    int u = ptr;
    for (;;) {
        int p = N(u)->parent;
        if (p > 0 && (N(p)->kind == CXCursor_ParenExpr || is_unary(a, p, "ext") || is_cast(a, p)))
            u = p;
        else
            break;
    }
    int p = N(u)->parent;
    if (p <= 0)
        return;
    if (is_unary(a, p, "*"))
        return;
    if (N(p)->kind == CXCursor_MemberRefExpr && expr_child(a, p, 0) == u)
        return;
    if (N(p)->kind == CXCursor_ArraySubscriptExpr && subscript_base(a, p) == u)
        return;
    CXType ft = node_type(a, u);
    CXType pointee = pointee_of(ft);
    if (pointee.kind == CXType_Invalid) {
        /* converted to an integer: no access through it here */
        return;
    }
    if (type_class(a, pointee))
        return;
    char what[300];
    if (is_bulk_or_atomic_call(a, p, what, sizeof what)) {
        report(a, ptr, "%s %s object %s", cp_class_name(cls), obj_type, what);
        return;
    }
    if (N(p)->kind == CXCursor_AsmStmt) {
        report(a, ptr, "pointer to a %s %s object passed to inline asm", cp_class_name(cls),
               obj_type);
        return;
    }
    if (is_bytelike_or_void(pointee))
        return;     /* e.g. kmem_cache_free(c, pgd): no typed access through it */
    char *ts = type_spelling(a, ft);
    char callee[256];
    if (N(p)->kind == CXCursor_CallExpr && callee_name(a, p, callee, sizeof callee))
        report(a, ptr, "%s %s object passed to %s as '%s'", cp_class_name(cls), obj_type, callee,
               ts);
    else
        report(a, ptr, "%s %s object reached through '%s'", cp_class_name(cls), obj_type, ts);
    free(ts);
}

/* &X of sensitive memory. */
static void check_address(struct analysis *a, int amp, int operand)
{
    if (storage_of(a, operand) != ST_MEMORY)
        return;
    enum cp_class cls = object_class(a, operand, 0);
    if (!cls)
        return;
    char *ts = type_spelling(a, node_type(a, operand));
    check_pointer_escape(a, amp, ts, cls);
    free(ts);
}

/* A conversion of a pointer to a sensitive type into another pointer type. */
static void check_cast(struct analysis *a, int cast)
{
    int p = N(cast)->parent;
    if (p > 0 && (is_cast(a, p) || N(p)->kind == CXCursor_ParenExpr))
        return;     /* handled at the outermost cast */
    CXType to = node_type(a, cast);
    if (!is_pointer(to) || type_class(a, pointee_of(to)))
        return;
    for (int o = cast_operand(a, cast); o >= 0;) {
        int s = strip_parens(a, o);
        if (s < 0 || is_unary(a, s, "&"))
            return;     /* check_address covers it */
        if (is_implicit_cast(a, s)) {
            int inner = strip_parens(a, cast_operand(a, s));
            enum CXTypeKind ik = inner >= 0 ? canonical_kind(node_type(a, inner)) : CXType_Invalid;
            if (ik == CXType_ConstantArray || ik == CXType_IncompleteArray ||
                ik == CXType_VariableArray)
                s = inner;  /* the array that decays */
        }
        enum CXTypeKind k = canonical_kind(node_type(a, s));
        if (k == CXType_ConstantArray || k == CXType_IncompleteArray ||
            k == CXType_VariableArray) {
            /* an array decaying: only arrays in memory matter */
            if (storage_of(a, s) != ST_MEMORY)
                return;
            enum cp_class cls = type_class(a, clang_getArrayElementType(clang_getCanonicalType(
                                                  node_type(a, s))));
            if (!cls)
                cls = object_class(a, s, 0);
            if (cls) {
                char *ts = type_spelling(a, node_type(a, s));
                check_pointer_escape(a, cast, ts, cls);
                free(ts);
            }
            return;
        }
        enum cp_class cls = type_class(a, pointee_of(node_type(a, s)));
        if (cls) {
            char *ts = type_spelling(a, pointee_of(node_type(a, s)));
            check_pointer_escape(a, cast, ts, cls);
            free(ts);
            return;
        }
        if (!is_cast(a, s))
            return;
        o = cast_operand(a, s);
    }
}

/* Arguments of atomic builtins that are themselves pointers to sensitive types. */
static void check_atomic_args(struct analysis *a, int call)
{
    char what[300];
    if (!is_bulk_or_atomic_call(a, call, what, sizeof what) || strstr(what, "atomic") == NULL)
        return;
    int n = nexpr_children(a, call);
    for (int k = 0; k < n; k++) {
        int arg = strip_casts(a, expr_child(a, call, k));
        if (arg < 0)
            continue;
        enum cp_class cls = type_class(a, pointee_of(node_type(a, arg)));
        if (cls) {
            char *ts = type_spelling(a, pointee_of(node_type(a, arg)));
            report(a, arg, "%s %s object %s", cp_class_name(cls), ts, what);
            free(ts);
        }
    }
}

/* ---- classification of one lvalue ------------------------------------------------------ */

static bool rmw_one_op(const char *op)
{
    return strcmp(op, "|=") == 0 || strcmp(op, "&=") == 0 || strcmp(op, "^=") == 0 ||
           strcmp(op, "+=") == 0 || strcmp(op, "-=") == 0;
}

static void classify_lvalue(struct analysis *a, int i)
{
    int p, t;
    enum context ctx = context_of(a, i, &p, &t);
    if (ctx == CTX_NONE)
        return;
    if (ctx == CTX_ADDR) {
        check_address(a, p, i);
        return;
    }
    enum storage st = storage_of(a, i);
    enum cp_class cls = object_class(a, i, 0);
    bool typed = cls != CP_CLASS_NONE;
    if (st == ST_LOCAL || st == ST_TEMP) {
        if (typed)
            a->res->stats.locals_skipped++;
        return;
    }
    if (st != ST_MEMORY)
        return;
    if (!cls && a->accessor)
        cls = a->accessor->cls;
    CXType ty = node_type(a, i);
    if (!cls) {
        /* a copy of a whole struct that has a sensitive member */
        enum cp_class inner = contains_class(a, ty, 0);
        if (inner && (ctx == CTX_LOAD || ctx == CTX_STORE)) {
            char *ts = type_spelling(a, ty);
            report(a, i, "copy of '%s', which contains %s data", ts, cp_class_name(inner));
            free(ts);
        }
        return;
    }
    char kname[64];
    bool vol = clang_isVolatileQualifiedType(ty) != 0;
    if (ctx == CTX_DISCARD && !vol)
        return;     /* the compiler reads nothing */
    char *ts = type_spelling(a, ty);
    if (ctx == CTX_UNKNOWN) {
        report(a, i, "%s access of type '%s' in a context the tool does not classify (%s)",
               cp_class_name(cls), ts, cursor_kind_name(N(p)->kind, kname, sizeof kname));
        goto out;
    }
    if (ctx == CTX_ASM) {
        report(a, i, "%s object of type '%s' is an inline-asm operand", cp_class_name(cls), ts);
        goto out;
    }
    if (is_bitfield(a, i)) {
        report(a, i, "%s bit-field access of type '%s'", cp_class_name(cls), ts);
        goto out;
    }
    enum CXTypeKind kind = canonical_kind(ty);
    long long width = clang_Type_getSizeOf(ty);
    if (!movable_kind(kind) || (width != 1 && width != 2 && width != 4 && width != 8)) {
        report(a, i, "%s access of type '%s' (%lld bytes) is not one general-register move",
               cp_class_name(cls), ts, width);
        goto out;
    }
    if (N(i)->end <= N(i)->start) {
        report(a, i, "%s access has no source range", cp_class_name(cls));
        goto out;
    }
    {
        /* the same expression met twice (x ?: y visits x as the condition
         * and as the value): one rewrite */
        unsigned from = ctx == CTX_LOAD || ctx == CTX_DISCARD ? N(i)->start : N(p)->start;
        unsigned to = ctx == CTX_LOAD || ctx == CTX_DISCARD ? N(i)->end : N(p)->end;
        for (size_t k = a->res->nedits; k-- > 0;) {
            const struct cp_edit *o = &a->res->edits[k];
            if (o->range.start == from && o->range.end == to)
                goto out;
        }
    }
    struct cp_edit *e;
    if (ctx == CTX_LOAD || ctx == CTX_DISCARD) {
        e = new_edit(a, i);
        e->shape = CP_EDIT_LOAD;
        e->range = (struct cp_range){ N(i)->start, N(i)->end };
        count_kind(a, cls, AB_MEM_ACCESS_READ);
    } else if (ctx == CTX_STORE) {
        int rhs = expr_child(a, p, 1);
        if (rhs < 0 || N(rhs)->end <= N(rhs)->start) {
            report(a, i, "%s store without a right operand", cp_class_name(cls));
            goto out;
        }
        e = new_edit(a, i);
        e->shape = CP_EDIT_STORE;
        e->range = (struct cp_range){ N(p)->start, N(p)->end };
        e->rhs = (struct cp_range){ N(rhs)->start, N(rhs)->end };
        count_kind(a, cls, AB_MEM_ACCESS_WRITE);
    } else {   /* CTX_RMW */
        char op[4];
        bool incdec = N(p)->kind == CXCursor_UnaryOperator;
        int rhs = -1;
        if (incdec) {
            unary_op(a, p, op);
        } else {
            binary_op(a, p, op);
            rhs = expr_child(a, p, 1);
            if (rhs < 0 || N(rhs)->end <= N(rhs)->start) {
                report(a, i, "%s compound assignment without a right operand",
                       cp_class_name(cls));
                goto out;
            }
        }
        bool integer = is_integer_kind(kind);
        bool rhs_integer = incdec || is_integer_kind(canonical_kind(node_type(a, strip_casts(a, rhs))));
        bool one = integer && rhs_integer && value_discarded(a, p) && (incdec || rmw_one_op(op));
        e = new_edit(a, i);
        e->shape = one ? CP_EDIT_RMW_ONE : CP_EDIT_RMW_SPLIT;
        e->range = (struct cp_range){ N(p)->start, N(p)->end };
        e->incdec = incdec;
        e->postfix = incdec && op[2] == 'p';
        memcpy(e->op, op, 2);
        e->op[2] = incdec ? 0 : op[2];
        e->op[3] = 0;
        if (rhs >= 0)
            e->rhs = (struct cp_range){ N(rhs)->start, N(rhs)->end };
        if (one) {
            count_kind(a, cls, AB_MEM_ACCESS_RMW);
        } else {
            count_kind(a, cls, AB_MEM_ACCESS_READ);
            count_kind(a, cls, AB_MEM_ACCESS_WRITE);
        }
    }
    e->lv = (struct cp_range){ N(i)->start, N(i)->end };
    e->width = (unsigned)width;
    e->is_volatile = vol;
    e->cls = cls;
    e->type = ts;
    ts = NULL;
    a->res->stats.edits++;
    if (a->accessor)
        a->accessor->found++;
out:
    free(ts);
}

/* ---- driving -------------------------------------------------------------------------- */

static void dump_tree(struct analysis *a)
{
    for (size_t i = 0; i < a->t.n; i++) {
        int d = 0;
        for (int p = N(i)->parent; p >= 0; p = N(p)->parent)
            d++;
        char kname[64];
        CXType ty = node_type(a, (int)i);
        char *ts = type_spelling(a, ty);
        unsigned len = N(i)->end > N(i)->start ? N(i)->end - N(i)->start : 0;
        char text[64];
        unsigned n = len > sizeof text - 1 ? (unsigned)sizeof text - 1 : len;
        for (unsigned k = 0; k < n; k++) {
            char ch = a->src->text[N(i)->start + k];
            text[k] = ch == '\n' || ch == '\t' || ch == '\r' ? ' ' : ch;
        }
        text[n] = 0;
        fprintf(stdout, "%*s%s [%u,%u) '%s'%s%s '%s%s'\n", 2 * d, "",
                cursor_kind_name(N(i)->kind, kname, sizeof kname), N(i)->start, N(i)->end, ts,
                is_implicit_cast(a, (int)i) ? " implicit-cast" : "",
                N(i)->unevaluated ? " unevaluated" : "", text, len > n ? "..." : "");
        free(ts);
    }
}

static void analyse_function(struct analysis *a, CXCursor fn)
{
    CXString name = clang_getCursorSpelling(fn);
    a->function = clang_getCString(name);
    a->accessor = NULL;
    a->accessor_kinds = 0;
    for (size_t k = 0; k < a->cfg->naccessors; k++)
        if (strcmp(a->cfg->accessors[k].name, a->function) == 0) {
            a->accessor = &a->cfg->accessors[k];
            a->accessor->defined = true;
        }
    build_tree(a, fn);
    a->res->stats.functions++;
    if (a->opts->dump) {
        printf("function %s\n", a->function);
        dump_tree(a);
    }
    for (size_t i = 1; i < a->t.n; i++) {
        if (N(i)->unevaluated)
            continue;
        enum CXCursorKind k = N(i)->kind;
        if (is_lvalue(a, (int)i) && k != CXCursor_ParenExpr && !is_unary(a, (int)i, "ext"))
            classify_lvalue(a, (int)i);
        else if (is_cast(a, (int)i))
            check_cast(a, (int)i);
        if (k == CXCursor_CallExpr || k == CXCursor_UnexposedExpr)
            check_atomic_args(a, (int)i);
    }
    if (a->accessor) {
        struct cp_accessor *acc = a->accessor;
        if (acc->expect_kind && !(a->accessor_kinds & (1u << acc->expect_kind)))
            acc->found = 0;     /* reported as missing below */
    }
    clang_disposeString(name);
    a->function = NULL;
}

/* File-scope typedefs of listed names that denote a record: remember the
 * record, so typeof(*ptep) and other unnamed spellings are recognised. */
static void note_typedef(struct analysis *a, CXCursor td)
{
    CXString name = clang_getCursorSpelling(td);
    enum cp_class cls = CP_CLASS_NONE;
    const char *listed = NULL;
    for (size_t i = 0; i < a->cfg->ntypes; i++)
        if (strcmp(a->cfg->types[i].name, clang_getCString(name)) == 0) {
            cls = a->cfg->types[i].cls;
            listed = a->cfg->types[i].name;
        }
    clang_disposeString(name);
    if (!listed)
        return;
    CXType canon = clang_getCanonicalType(clang_getTypedefDeclUnderlyingType(td));
    if (canon.kind != CXType_Record)
        return;
    CXCursor decl = clang_getCanonicalCursor(clang_getTypeDeclaration(canon));
    for (size_t i = 0; i < a->nrecords; i++)
        if (clang_equalCursors(a->records[i].decl, decl))
            return;
    a->records = cp_xrealloc(a->records, a->nrecords + 1, sizeof *a->records);
    a->records[a->nrecords++] = (struct sens_record){ decl, cls, listed };
}

static enum CXChildVisitResult top_visit(CXCursor c, CXCursor parent, CXClientData data)
{
    struct analysis *a = data;
    enum CXCursorKind k = clang_getCursorKind(c);
    if (k == CXCursor_TypedefDecl)
        note_typedef(a, c);
    else if (k == CXCursor_FunctionDecl && clang_isCursorDefinition(c))
        analyse_function(a, c);
    return CXChildVisit_Continue;
}

/*
 * Errors clang 14 gives for gcc extensions it does not know, where it drops
 * the construct and goes on with a complete tree, and the construct cannot
 * hide a memory access: attributes (glibc's gcc-11 __malloc__(dealloc, n),
 * attribute arguments clang spells differently).  Everything else is fatal.
 */
static bool tolerated(const char *msg)
{
    return strstr(msg, "attribute") != NULL && strstr(msg, "expected") == NULL;
}

static bool print_errors(struct analysis *a)
{
    unsigned n = clang_getNumDiagnostics(a->tu);
    unsigned errors = 0;
    for (unsigned i = 0; i < n; i++) {
        CXDiagnostic d = clang_getDiagnostic(a->tu, i);
        enum CXDiagnosticSeverity sev = clang_getDiagnosticSeverity(d);
        if (sev == CXDiagnostic_Error) {
            CXString msg = clang_getDiagnosticSpelling(d);
            bool ok = tolerated(clang_getCString(msg));
            clang_disposeString(msg);
            if (ok) {
                a->res->stats.tolerated++;
                sev = CXDiagnostic_Warning;
            }
        }
        if (sev >= CXDiagnostic_Error) {
            CXString file, msg = clang_getDiagnosticSpelling(d);
            unsigned line, col;
            clang_getPresumedLocation(clang_getDiagnosticLocation(d), &file, &line, &col);
            const char *f = clang_getCString(file);
            fprintf(stderr, "%s:%u:%u: error: %s\n", f && *f ? f : a->src->name, line, col,
                    clang_getCString(msg));
            clang_disposeString(file);
            clang_disposeString(msg);
            errors++;
        }
        clang_disposeDiagnostic(d);
    }
    if (errors)
        fprintf(stderr, "%s: error: afterburn-cparse: %u error%s from the C parser; no output "
                "written\n", a->src->name, errors, errors == 1 ? "" : "s");
    return errors == 0;
}

bool cp_analyze(struct cp_source *src, struct cp_config *cfg, const struct cp_options *opts,
                struct cp_result *res)
{
    memset(res, 0, sizeof *res);
    cp_source_scan(src);
    struct analysis a = { .src = src, .cfg = cfg, .opts = opts, .res = res };
    if (opts->report_path) {
        a.report = fopen(opts->report_path, "a");
        if (!a.report)
            fprintf(stderr, "afterburn-cparse: warning: cannot open report file %s\n",
                    opts->report_path);
    }
    /* -Wno-error=implicit-function-declaration: clang 14 makes a call of a
     * gcc builtin it lacks (__builtin_isdigit, Linux's printk.c) an error;
     * as a warning the call is an ordinary call in a complete tree (gcc,
     * which compiles the file, still diagnoses real implicit declarations). */
    const char *base_args[] = { "-x", "cpp-output", "-std=gnu11", "--target=x86_64-linux-gnu",
                                "-ferror-limit=0", "-nostdinc", "-w",
                                "-Wno-error=implicit-function-declaration" };
    size_t nbase = sizeof base_args / sizeof *base_args;
    size_t nargs = nbase + (size_t)opts->nclang_args;
    const char **args = cp_xrealloc(NULL, nargs, sizeof *args);
    memcpy(args, base_args, sizeof base_args);
    for (int k = 0; k < opts->nclang_args; k++)
        args[nbase + (size_t)k] = opts->clang_args[k];
    CXIndex index = clang_createIndex(0, 0);
    struct CXUnsavedFile unsaved = { src->name, src->text, (unsigned long)src->len };
    enum CXErrorCode ec = clang_parseTranslationUnit2(index, src->name, args, (int)nargs,
                                                      &unsaved, 1, CXTranslationUnit_None, &a.tu);
    free(args);
    bool ok = false;
    if (ec != CXError_Success || !a.tu) {
        fprintf(stderr, "%s: error: afterburn-cparse: libclang could not parse the file (error "
                "code %d); no output written\n", src->name, (int)ec);
    } else if (print_errors(&a)) {
        clang_visitChildren(clang_getTranslationUnitCursor(a.tu), top_visit, &a);
        for (size_t k = 0; k < cfg->naccessors; k++) {
            struct cp_accessor *acc = &cfg->accessors[k];
            if (acc->defined && !acc->found)
                fprintf(stderr, "%s: warning: afterburn-cparse: accessor %s (%s:%u) is defined "
                        "here but no %s access was found in its body\n", src->name, acc->name,
                        cfg->path, acc->line,
                        acc->expect_kind ? ab_mem_kind_name(acc->expect_kind)
                                         : cp_class_name(acc->cls));
        }
        ok = true;
    }
    if (a.tu)
        clang_disposeTranslationUnit(a.tu);
    clang_disposeIndex(index);
    free(a.t.v);
    free(a.t.stack);
    free(a.records);
    free(a.contains);
    if (a.report)
        fclose(a.report);
    return ok;
}

void cp_result_free(struct cp_result *res)
{
    for (size_t i = 0; i < res->nedits; i++) {
        free(res->edits[i].file);
        free(res->edits[i].function);
        free(res->edits[i].type);
    }
    free(res->edits);
    memset(res, 0, sizeof *res);
}
