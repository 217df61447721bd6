/*
 * afterburn-as: stands in for GNU as.  Reads the assembly gcc (or Kbuild)
 * hands to `as`, pads and annotates every sensitive instruction, and pipes
 * the result into the real assembler with the original arguments.
 *
 * Installed as bin/afterburn-as and as libexec/afterburn/as, so that
 * `gcc -B<prefix>/libexec/afterburn/` runs it in place of `as`.
 *
 * Environment:
 *   AFTERBURN_REAL_AS   the assembler to run (default: configured at build time)
 *   AFTERBURN_DISABLE   if set to 1, pass everything through unchanged
 *   AFTERBURN_SAVE_DIR  save a copy of every input here (benchmark corpus)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rewrite.h"

#ifndef PREVIRT_REAL_AS
#define PREVIRT_REAL_AS "/usr/bin/as"
#endif

struct args {
    char **v;
    int n, cap;
};

static void args_push(struct args *a, char *s)
{
    if (a->n + 1 >= a->cap) {
        a->cap = a->cap ? a->cap * 2 : 32;
        a->v = realloc(a->v, (size_t)a->cap * sizeof *a->v);
        if (!a->v) {
            perror("afterburn-as");
            exit(2);
        }
    }
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

static int read_all(int fd, struct ab_buf *b)
{
    char tmp[65536];
    for (;;) {
        ssize_t r = read(fd, tmp, sizeof tmp);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            return 0;
        ab_buf_put(b, tmp, (size_t)r);
    }
}

static int read_file(const char *path, struct ab_buf *b)
{
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int rc = read_all(fd, b);
    if (fd != 0)
        close(fd);
    return rc;
}

/* Expands gcc-style @response files (whitespace separated, with quotes and
 * backslash escapes) so that input files inside them are seen. */
static void expand_response_file(const char *path, struct args *out)
{
    struct ab_buf b;
    ab_buf_init(&b);
    if (read_file(path, &b) < 0) {
        fprintf(stderr, "afterburn-as: cannot read response file %s: %s\n", path, strerror(errno));
        exit(2);
    }
    const char *p = b.data ? b.data : "";
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        struct ab_buf word;
        ab_buf_init(&word);
        char quote = 0;
        for (; *p; p++) {
            if (quote) {
                if (*p == quote)
                    quote = 0;
                else if (*p == '\\' && p[1])
                    ab_buf_put(&word, ++p, 1);
                else
                    ab_buf_put(&word, p, 1);
            } else if (*p == '\'' || *p == '"') {
                quote = *p;
            } else if (*p == '\\' && p[1]) {
                ab_buf_put(&word, ++p, 1);
            } else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
                break;
            } else {
                ab_buf_put(&word, p, 1);
            }
        }
        args_push(out, word.data ? word.data : strdup(""));
    }
    ab_buf_free(&b);
}

/* Options of GNU as that take their value as the next argument. */
static int takes_separate_value(const char *opt)
{
    static const char *const opts[] = {"-o", "-I", "--defsym", "-MD", "--MD", "--debug-prefix-map"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (strcmp(opt, opts[i]) == 0)
            return 1;
    return 0;
}

static int is_info_request(const char *opt)
{
    return strcmp(opt, "--version") == 0 || strcmp(opt, "-v") == 0 ||
           strcmp(opt, "-version") == 0 || strcmp(opt, "--help") == 0 ||
           strncmp(opt, "--target-help", 13) == 0;
}

static const char *real_as_path(void)
{
    const char *env = getenv("AFTERBURN_REAL_AS");
    const char *path = env && *env ? env : PREVIRT_REAL_AS;
    char self[PATH_MAX], target[PATH_MAX];
    if (realpath("/proc/self/exe", self) && realpath(path, target) && strcmp(self, target) == 0) {
        fprintf(stderr,
                "afterburn-as: the real assembler %s is afterburn-as itself; "
                "set AFTERBURN_REAL_AS to GNU as\n",
                path);
        exit(2);
    }
    return path;
}

static void exec_real_as(char **argv)
{
    const char *as = real_as_path();
    argv[0] = (char *)as;
    execv(as, argv);
    fprintf(stderr, "afterburn-as: cannot run %s: %s\n", as, strerror(errno));
    exit(2);
}

/* Saves a copy of the input as DIR/<pid>-<n>-<32|64>.s (the suffix is the
 * mode gas was given, so a benchmark can re-assemble it). */
static void save_input(const struct ab_buf *in, enum ab_mode mode)
{
    const char *dir = getenv("AFTERBURN_SAVE_DIR");
    if (!dir || !*dir)
        return;
    char path[PATH_MAX];
    for (int k = 0; k < 1000; k++) {
        snprintf(path, sizeof path, "%s/%ld-%d-%s.s", dir, (long)getpid(), k,
                 mode == AB_MODE_32 ? "32" : "64");
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0) {
            if (errno == EEXIST)
                continue;
            fprintf(stderr, "afterburn-as: AFTERBURN_SAVE_DIR: cannot create %s: %s\n", path,
                    strerror(errno));
            return;
        }
        size_t off = 0;
        while (off < in->len) {
            ssize_t w = write(fd, in->data + off, in->len - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        close(fd);
        return;
    }
}

/* Runs the real assembler with `argv` reading `text` on its stdin;
 * returns its exit status. */
static int run_real_as(char **argv, const struct ab_buf *text)
{
    int fds[2];
    if (pipe(fds) < 0) {
        perror("afterburn-as: pipe");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("afterburn-as: fork");
        return 2;
    }
    if (pid == 0) {
        dup2(fds[0], 0);
        close(fds[0]);
        close(fds[1]);
        exec_real_as(argv);
    }
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    size_t off = 0;
    while (off < text->len) {
        ssize_t w = write(fds[1], text->data + off, text->len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;  /* as exited early; its status says why */
        }
        off += (size_t)w;
    }
    close(fds[1]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            perror("afterburn-as: waitpid");
            return 2;
        }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    fprintf(stderr, "afterburn-as: %s killed by signal %d\n", argv[0], WTERMSIG(status));
    return 2;
}

/* `afterburn-as --afterburn-print FILE`: show the rewrite of FILE (or - for
 * stdin) on stdout and a summary on stderr, without assembling. */
static int print_rewrite(const char *path)
{
    struct ab_buf in, out;
    ab_buf_init(&in);
    ab_buf_init(&out);
    if (read_file(path, &in) < 0) {
        fprintf(stderr, "afterburn-as: cannot read %s: %s\n", path, strerror(errno));
        return 1;
    }
    struct ab_rewrite_opts opts = {.source_name = path, .initial_mode = AB_MODE_64};
    struct ab_rewrite_stats st;
    ab_rewrite(in.data ? in.data : "", in.len, &opts, &out, &st);
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    fprintf(stderr, "afterburn-as: %s: %u lines, %u statements, %u sites (%u in macro arguments, "
            "%u as .byte, %u in 16/32-bit code), %u mode markers\n",
            path, st.lines, st.statements, st.sites, st.sites_in_macro_args, st.sites_as_bytes,
            st.sites_non64, st.mode_markers);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--afterburn-version") == 0) {
        printf("afterburn-as: note format %d, pad ABI %d\n", AB_FORMAT_VERSION, AB_PAD_ABI_VERSION);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--afterburn-print") == 0)
        return print_rewrite(argv[2]);
    const char *disable = getenv("AFTERBURN_DISABLE");
    if (disable && strcmp(disable, "1") == 0)
        exec_real_as(argv);

    struct args all = {0}, pass = {0}, inputs = {0};
    args_push(&all, argv[0]);
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '@' && argv[i][1])
            expand_response_file(argv[i] + 1, &all);
        else
            args_push(&all, argv[i]);
    }

    enum ab_mode mode = AB_MODE_64;
    args_push(&pass, all.v[0]);
    for (int i = 1; i < all.n; i++) {
        const char *a = all.v[i];
        if (is_info_request(a))
            exec_real_as(all.v);
        if (strcmp(a, "--32") == 0)
            mode = AB_MODE_32;
        else if (strcmp(a, "--64") == 0 || strcmp(a, "--x32") == 0)
            mode = AB_MODE_64;
        if (strcmp(a, "-") == 0 || a[0] != '-') {
            args_push(&inputs, all.v[i]);
            continue;
        }
        args_push(&pass, all.v[i]);
        if (takes_separate_value(a) && i + 1 < all.n)
            args_push(&pass, all.v[++i]);
    }
    if (inputs.n == 0)
        args_push(&inputs, "-");

    /* Several inputs are one stream to as; each keeps its name and line
     * numbers through a line marker. */
    struct ab_buf text;
    ab_buf_init(&text);
    for (int k = 0; k < inputs.n; k++) {
        if (k > 0) {
            ab_buf_puts(&text, "\n# 1 \"");
            ab_buf_puts(&text, inputs.v[k]);
            ab_buf_puts(&text, "\"\n");
        }
        if (read_file(inputs.v[k], &text) < 0) {
            fprintf(stderr, "afterburn-as: cannot read %s: %s\n", inputs.v[k], strerror(errno));
            return 1;
        }
    }
    save_input(&text, mode);

    struct ab_rewrite_opts opts = {
        .source_name = strcmp(inputs.v[0], "-") == 0 ? "{standard input}" : inputs.v[0],
        .initial_mode = mode,
    };
    struct ab_rewrite_stats stats;
    struct ab_buf out;
    ab_buf_init(&out);
    ab_rewrite(text.data ? text.data : "", text.len, &opts, &out, &stats);
    return run_real_as(pass.v, &out);
}
