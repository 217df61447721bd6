/*
 * afterburn-cparse: finds the loads and stores of virtualization-sensitive
 * memory in one preprocessed C file (by data type, thesis section 4.3.2) and
 * rewrites each into an annotated, padded, easily decoded instruction.
 * See README.md for the rewrite shapes and the configuration syntax.
 */
#ifndef AB_CPARSE_H
#define AB_CPARSE_H

#include <afterburn/abi.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- buffers and memory -------------------------------------------------- */

struct cp_buf {
    char *data;
    size_t len, cap;
};

void cp_buf_put(struct cp_buf *b, const char *s, size_t n);
void cp_buf_puts(struct cp_buf *b, const char *s);
void cp_buf_printf(struct cp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cp_buf_free(struct cp_buf *b);

/* Allocation that never returns NULL: running out of memory ends the program. */
void *cp_xrealloc(void *p, size_t n, size_t size);
char *cp_xstrdup(const char *s);

/* ---- configuration ---------------------------------------------------------- */

/* The annotation family of a sensitive type or accessor. */
enum cp_class { CP_CLASS_NONE = 0, CP_CLASS_PAGE_TABLE, CP_CLASS_DEVICE };

struct cp_type_entry {
    char *name;             /* typedef name, or "struct TAG" / "union TAG" */
    enum cp_class cls;
    unsigned line;          /* in the configuration file */
};

struct cp_accessor {
    char *name;             /* function name */
    enum cp_class cls;
    unsigned expect_kind;   /* enum ab_mem_kind the body must contain, 0 = any access */
    unsigned line;
    unsigned found;         /* accesses found in its body (set by the analysis) */
    bool defined;           /* the function is defined in this file */
};

struct cp_config {
    char *path;
    struct cp_type_entry *types;
    size_t ntypes;
    struct cp_accessor *accessors;
    size_t naccessors;
};

/* Reads a configuration file; false with a "file:line: message" in why. */
bool cp_config_load(struct cp_config *c, const char *path, char *why, size_t whylen);
void cp_config_free(struct cp_config *c);
const char *cp_class_name(enum cp_class c);
/* The memory kind of an access of class c: read (0), write (1) or rmw (2). */
unsigned cp_mem_kind(enum cp_class c, enum ab_mem_access a);

/* ---- the source text ------------------------------------------------------- */

struct cp_range {
    unsigned start, end;    /* byte offsets, end exclusive */
};

struct cp_source {
    const char *name;       /* as given on the command line */
    const char *text;
    size_t len;
    /* Ranges the compiler does not evaluate (typeof, __builtin_constant_p,
     * __builtin_types_compatible_p, offsetof, _Generic's controlling
     * expression), sorted and disjoint. */
    struct cp_range *unevaluated;
    size_t nunevaluated;
};

void cp_source_scan(struct cp_source *s);
void cp_source_free(struct cp_source *s);
bool cp_source_unevaluated(const struct cp_source *s, unsigned offset);
/* The operator token at offset (after blanks, newlines and line markers);
 * writes it to op (up to 3 characters and a NUL) and returns its length. */
size_t cp_source_operator(const struct cp_source *s, unsigned offset, char op[4]);
/* Offset of the first token at or after offset. */
unsigned cp_source_skip_blanks(const struct cp_source *s, unsigned offset);

/* ---- analysis results ----------------------------------------------------- */

enum cp_edit_shape {
    CP_EDIT_LOAD,           /* range = the lvalue */
    CP_EDIT_STORE,          /* range = the assignment; rhs set */
    CP_EDIT_RMW_ONE,        /* range = compound assignment / ++ / --, value unused */
    CP_EDIT_RMW_SPLIT,      /* range = compound assignment / ++ / -- */
};

struct cp_edit {
    enum cp_edit_shape shape;
    struct cp_range range;  /* replaced text */
    struct cp_range lv;     /* the lvalue */
    struct cp_range rhs;    /* right operand (STORE, compound assignment) */
    char op[4];             /* compound assignment operator ("|="), "++" or "--" */
    bool postfix;           /* ++/-- after the operand */
    bool incdec;            /* ++/-- rather than a compound assignment */
    unsigned width;         /* bytes: 1, 2, 4, 8 */
    bool is_volatile;
    enum cp_class cls;
    unsigned line;          /* presumed (original) line, for listings */
    char *file;             /* presumed (original) file */
    char *function;         /* enclosing function */
    char *type;             /* spelling of the access type */
};

struct cp_stats {
    unsigned functions;         /* function definitions analysed */
    unsigned sites_by_kind[AB_MEM_KIND_MAX];
    unsigned edits;
    unsigned reports;           /* unclassifiable accesses */
    unsigned locals_skipped;    /* sensitive accesses to locals and parameters */
    unsigned tolerated;         /* clang errors on gcc-only attributes, ignored */
};

struct cp_result {
    struct cp_edit *edits;
    size_t nedits, capedits;
    struct cp_stats stats;
};

struct cp_options {
    const char *config_path;
    const char *output;         /* NULL or "-" = stdout */
    bool list;                  /* one line per rewritten access on stdout */
    bool stats;                 /* counts on stderr */
    bool dump;                  /* print the expression tree (debugging) */
    bool werror;                /* unclassifiable accesses make the run fail */
    bool quiet;                 /* unclassified accesses only to report_path, not stderr */
    const char *report_path;    /* append unclassifiable accesses here too */
    int nclang_args;
    const char *const *clang_args;
};

/* Parses and analyses the file; false (after printing diagnostics) if the
 * file does not parse.  Reports go to stderr (and opts->report_path). */
bool cp_analyze(struct cp_source *src, struct cp_config *cfg, const struct cp_options *opts,
                struct cp_result *res);
void cp_result_free(struct cp_result *res);

/* The rewritten text: src with every edit applied.  False if the edits do
 * not nest (an internal error; nothing is written then). */
bool cp_render(const struct cp_source *src, const struct cp_result *res, struct cp_buf *out,
               char *why, size_t whylen);

#endif
