/*
 * afterburn-cparse: rewrite the sensitive memory accesses of one
 * preprocessed C file (see README.md).
 *
 *   afterburn-cparse --config FILE [-o OUT.i] [--list] [--list-file F] [--stats] [--report FILE [--quiet]]
 *                    [--werror] [--dump] INPUT.i [-- CLANG-ARGS...]
 *
 * Exit status: 0 written; 1 the file does not parse (or --werror and an
 * access could not be classified), nothing written; 2 usage or internal error.
 */
#include "cparse.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs("usage: afterburn-cparse --config FILE [-o OUT.i] [--list] [--stats]\n"
          "                        [--report FILE [--quiet]] [--werror] [--dump] INPUT.i\n"
          "                        [-- CLANG-ARGS]\n"
          "\n"
          "  --config F   sensitive types and accessor functions (default:\n"
          "               $AFTERBURN_CPARSE_CONFIG)\n"
          "  -o F         write the rewritten file to F (default: standard output)\n"
          "  --list       one line per rewritten access on standard output (needs -o)\n"
          "  --list-file F  append the same lines to F (one write per file compiled)\n"
          "  --stats      counts per kind on standard error\n"
          "  --report F   also append every unclassified access to F\n"
          "  --quiet      unclassified accesses only to the --report file, not stderr\n"
          "  --werror     an unclassified access fails the run (nothing written)\n"
          "  --dump       print each function's expression tree (debugging)\n"
          "  INPUT.i      preprocessed C (gcc -E), or - for standard input\n"
          "  CLANG-ARGS   extra arguments for the C parser (e.g. -std=gnu89)\n",
          f);
}

static bool read_input(const char *path, struct cp_buf *b)
{
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY);
    if (fd < 0)
        return false;
    char tmp[65536];
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (fd)
                close(fd);
            return false;
        }
        if (n == 0)
            break;
        cp_buf_put(b, tmp, (size_t)n);
    }
    if (fd)
        close(fd);
    if (!b->data)
        cp_buf_put(b, "", 0);
    return true;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Writes a regular file through a temporary file and a rename, so OUT is
 * whole or absent; anything else (/dev/null, a pipe) directly. */
static bool write_output(const char *path, const struct cp_buf *b)
{
    if (!path || strcmp(path, "-") == 0)
        return write_all(1, b->data, b->len);
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        int fd = open(path, O_WRONLY | O_TRUNC);
        if (fd < 0) {
            fprintf(stderr, "afterburn-cparse: cannot open %s: %s\n", path, strerror(errno));
            return false;
        }
        bool ok = write_all(fd, b->data, b->len);
        return (close(fd) == 0) && ok;
    }
    size_t n = strlen(path) + 16;
    char *tmp = cp_xrealloc(NULL, n, 1);
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "afterburn-cparse: cannot create %s: %s\n", tmp, strerror(errno));
        free(tmp);
        return false;
    }
    mode_t mask = umask(0);
    umask(mask);
    bool ok = write_all(fd, b->data, b->len) && fchmod(fd, 0666 & ~mask) == 0;
    ok = (close(fd) == 0) && ok;
    if (ok && rename(tmp, path) != 0) {
        fprintf(stderr, "afterburn-cparse: cannot rename %s to %s: %s\n", tmp, path,
                strerror(errno));
        ok = false;
    }
    if (!ok)
        unlink(tmp);
    free(tmp);
    return ok;
}

static void print_list(FILE *f, const struct cp_result *res)
{
    static const char *const shape[] = { "load", "store", "rmw", "load+store" };
    for (size_t i = 0; i < res->nedits; i++) {
        const struct cp_edit *e = &res->edits[i];
        const char *kinds;
        char both[40];
        switch (e->shape) {
        case CP_EDIT_LOAD: kinds = ab_mem_kind_name(cp_mem_kind(e->cls, AB_MEM_ACCESS_READ)); break;
        case CP_EDIT_STORE: kinds = ab_mem_kind_name(cp_mem_kind(e->cls, AB_MEM_ACCESS_WRITE)); break;
        case CP_EDIT_RMW_ONE: kinds = ab_mem_kind_name(cp_mem_kind(e->cls, AB_MEM_ACCESS_RMW)); break;
        default:
            snprintf(both, sizeof both, "%s+%s",
                     ab_mem_kind_name(cp_mem_kind(e->cls, AB_MEM_ACCESS_READ)),
                     ab_mem_kind_name(cp_mem_kind(e->cls, AB_MEM_ACCESS_WRITE)));
            kinds = both;
            break;
        }
        fprintf(f, "%s:%u: %s %s %u%s%s%s%s '%s' in %s\n", e->file, e->line, kinds, shape[e->shape],
               e->width, e->is_volatile ? " volatile" : "", e->op[0] ? " " : "", e->op,
               e->postfix ? " (postfix)" : "", e->type, e->function);
    }
}

/* --list-file: the list appended with one write(), so that parallel
 * compiles (a kernel build) do not interleave their lines. */
static bool append_list(const char *path, const struct cp_result *res)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return false;
    print_list(m, res);
    if (fclose(m) != 0) {
        free(buf);
        return false;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    bool ok = fd >= 0 && (len == 0 || write(fd, buf, len) == (ssize_t)len);
    if (fd >= 0)
        close(fd);
    free(buf);
    return ok;
}

/* The original file a preprocessed text came from: its first line marker. */
static char *display_name(const char *input, const struct cp_buf *text)
{
    const char *t = text->data;
    if (text->len > 4 && t[0] == '#' && t[1] == ' ' && t[2] >= '0' && t[2] <= '9') {
        const char *q = strchr(t, '"');
        const char *nl = strchr(t, '\n');
        const char *e = q ? strchr(q + 1, '"') : NULL;
        if (q && e && (!nl || e < nl) && e > q + 1) {
            char *d = cp_xrealloc(NULL, (size_t)(e - q), 1);
            memcpy(d, q + 1, (size_t)(e - q - 1));
            d[e - q - 1] = 0;
            return d;
        }
    }
    return cp_xstrdup(strcmp(input, "-") == 0 ? "stdin" : input);
}

static void print_stats(const char *name, const struct cp_result *res)
{
    const struct cp_stats *s = &res->stats;
    fprintf(stderr, "afterburn-cparse: %s: %u functions, %u accesses rewritten (", name,
            s->functions, s->edits);
    const char *sep = "";
    for (unsigned k = 1; k < AB_MEM_KIND_MAX; k++) {
        fprintf(stderr, "%s%s %u", sep, ab_mem_kind_name(k), s->sites_by_kind[k]);
        sep = ", ";
    }
    fprintf(stderr, " sites), %u unclassified, %u local accesses skipped", s->reports,
            s->locals_skipped);
    if (s->tolerated)
        fprintf(stderr, ", %u gcc-only attribute%s clang rejected (ignored)", s->tolerated,
                s->tolerated == 1 ? "" : "s");
    fputc('\n', stderr);
}

enum { OPT_CONFIG = 256, OPT_LIST, OPT_LIST_FILE, OPT_STATS, OPT_REPORT, OPT_WERROR, OPT_DUMP, OPT_HELP,
       OPT_QUIET };

static const struct option long_options[] = {
    { "config", required_argument, NULL, OPT_CONFIG },
    { "list", no_argument, NULL, OPT_LIST },
    { "list-file", required_argument, NULL, OPT_LIST_FILE },
    { "stats", no_argument, NULL, OPT_STATS },
    { "report", required_argument, NULL, OPT_REPORT },
    { "werror", no_argument, NULL, OPT_WERROR },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { "dump", no_argument, NULL, OPT_DUMP },
    { "help", no_argument, NULL, OPT_HELP },
    { NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
    struct cp_options opt = { 0 };
    const char *list_file = NULL;
    opt.config_path = getenv("AFTERBURN_CPARSE_CONFIG");
    int c;
    while ((c = getopt_long(argc, argv, "+o:", long_options, NULL)) != -1) {
        switch (c) {
        case 'o': opt.output = optarg; break;
        case OPT_CONFIG: opt.config_path = optarg; break;
        case OPT_LIST: opt.list = true; break;
        case OPT_LIST_FILE: list_file = optarg; break;
        case OPT_STATS: opt.stats = true; break;
        case OPT_REPORT: opt.report_path = optarg; break;
        case OPT_WERROR: opt.werror = true; break;
        case OPT_QUIET: opt.quiet = true; break;
        case OPT_DUMP: opt.dump = true; break;
        case OPT_HELP: usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        fputs("afterburn-cparse: expected an input file\n", stderr);
        usage(stderr);
        return 2;
    }
    const char *input = argv[optind++];
    if (optind < argc && strcmp(argv[optind], "--") == 0)
        optind++;
    else if (optind < argc) {
        fprintf(stderr, "afterburn-cparse: unexpected argument '%s' (clang arguments go after "
                "--)\n", argv[optind]);
        return 2;
    }
    opt.clang_args = (const char *const *)(argv + optind);
    opt.nclang_args = argc - optind;
    if (!opt.config_path || !*opt.config_path) {
        fputs("afterburn-cparse: no configuration (--config FILE or AFTERBURN_CPARSE_CONFIG)\n",
              stderr);
        return 2;
    }
    if (opt.quiet && !opt.report_path) {
        fputs("afterburn-cparse: --quiet needs --report FILE (the reports must go somewhere)\n",
              stderr);
        return 2;
    }
    if (opt.list && (!opt.output || strcmp(opt.output, "-") == 0)) {
        fputs("afterburn-cparse: --list writes to standard output, so it needs -o FILE\n", stderr);
        return 2;
    }
    char why[1024];
    struct cp_config cfg;
    if (!cp_config_load(&cfg, opt.config_path, why, sizeof why)) {
        fprintf(stderr, "afterburn-cparse: %s\n", why);
        cp_config_free(&cfg);
        return 2;
    }
    struct cp_buf text = { 0 };
    if (!read_input(input, &text)) {
        fprintf(stderr, "afterburn-cparse: cannot read %s: %s\n", input, strerror(errno));
        cp_config_free(&cfg);
        return 2;
    }
    if (memchr(text.data, 0, text.len)) {
        fprintf(stderr, "%s: error: afterburn-cparse: the file contains a NUL byte; not C "
                "source\n", input);
        cp_buf_free(&text);
        cp_config_free(&cfg);
        return 1;
    }
    struct cp_source src = { .name = strcmp(input, "-") == 0 ? "stdin.i" : input,
                             .text = text.data, .len = text.len };
    struct cp_result res;
    int status = 0;
    if (!cp_analyze(&src, &cfg, &opt, &res)) {
        status = 1;
    } else if (opt.werror && res.stats.reports) {
        fprintf(stderr, "%s: error: afterburn-cparse: %u unclassified access%s (--werror); no "
                "output written\n", src.name, res.stats.reports,
                res.stats.reports == 1 ? "" : "es");
        status = 1;
    } else {
        struct cp_buf out = { 0 };
        if (!cp_render(&src, &res, &out, why, sizeof why)) {
            fprintf(stderr, "afterburn-cparse: %s\n", why);
            status = 2;
        } else {
            if (!out.data)
                cp_buf_put(&out, "", 0);
            if (!write_output(opt.output, &out)) {
                fprintf(stderr, "afterburn-cparse: cannot write %s\n",
                        opt.output ? opt.output : "standard output");
                status = 2;
            } else {
                if (opt.list)
                    print_list(stdout, &res);
                if (list_file && !append_list(list_file, &res))
                    fprintf(stderr, "afterburn-cparse: warning: cannot append to %s\n", list_file);
            }
        }
        cp_buf_free(&out);
    }
    if (opt.stats && status != 1) {
        char *d = display_name(input, &text);
        print_stats(d, &res);
        free(d);
    }
    cp_result_free(&res);
    cp_source_free(&src);
    cp_buf_free(&text);
    cp_config_free(&cfg);
    return status;
}
