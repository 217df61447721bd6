/*
 * afterburn-cc1: stands in for gcc's cc1 so that afterburn-cparse runs on
 * every preprocessed C file of a build, with no change to the build system:
 *
 *   gcc -B<prefix>/libexec/afterburn-cparse/ -no-integrated-cpp ...
 *
 * With -no-integrated-cpp the gcc driver runs `cc1 -E` (preprocess) and then
 * `cc1 -fpreprocessed FILE.i` (compile).  This wrapper passes the first, and
 * every other invocation it does not handle, straight to the real cc1.  For
 * the second it runs afterburn-cparse on FILE.i into a temporary file, then
 * the real cc1 on that file with the original arguments, removes the
 * temporary file and exits with cc1's status.  When afterburn-cparse fails
 * (the file does not parse), the compile fails with its diagnostics.
 *
 * Environment:
 *   AFTERBURN_REAL_CC1          the cc1 to run (default: `$COLLECT_GCC -print-prog-name=cc1`)
 *   AFTERBURN_CPARSE            the rewriter (default: afterburn-cparse next to this program)
 *   AFTERBURN_CPARSE_CONFIG     configuration (default: ../share/afterburn/cparse/linux-6.1.conf
 *                               relative to this program)
 *   AFTERBURN_CPARSE_DISABLE=1  pass everything through (AFTERBURN_DISABLE=1 too)
 *   AFTERBURN_CPARSE_ON_ERROR=pass  compile the file unchanged (with a warning) when it does
 *                               not parse, instead of failing
 *   AFTERBURN_CPARSE_REPORT     append unclassified accesses to this file
 *   AFTERBURN_CPARSE_LIST       append the rewritten accesses (--list lines) to this file
 *   AFTERBURN_CPARSE_QUIET=1    ... and only there, not to standard error
 *   AFTERBURN_CPARSE_STATS=1    print afterburn-cparse's counts for every file
 *   AFTERBURN_CPARSE_SAVE_DIR   keep a copy of every rewritten file here
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define ME "afterburn-cc1"

static char tmp_in[PATH_MAX], tmp_out[PATH_MAX];

static void remove_temps(void)
{
    if (tmp_in[0])
        unlink(tmp_in);
    if (tmp_out[0])
        unlink(tmp_out);
    tmp_in[0] = tmp_out[0] = 0;
}

static void on_signal(int sig)
{
    remove_temps();
    signal(sig, SIG_DFL);
    raise(sig);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static bool env_is(const char *name, const char *value)
{
    const char *v = env(name);
    return v && strcmp(v, value) == 0;
}

/* The directory this program lives in (symlinks resolved). */
static bool self_dir(char *buf, size_t len)
{
    char self[PATH_MAX];
    if (!realpath("/proc/self/exe", self))
        return false;
    snprintf(buf, len, "%s", dirname(self));
    return true;
}

static bool same_file(const char *a, const char *b)
{
    struct stat x, y;
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* Runs argv with stdout captured into buf; the driver's search path for
 * subprograms (COMPILER_PATH, GCC_EXEC_PREFIX) is removed, or gcc would find
 * this wrapper again. */
static bool capture(char *const argv[], char *buf, size_t len)
{
    int fds[2];
    if (pipe(fds) < 0)
        return false;
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        unsetenv("COMPILER_PATH");
        unsetenv("GCC_EXEC_PREFIX");
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fds[0], buf + n, len - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == len - 1)
            break;
    }
    close(fds[0]);
    buf[n] = 0;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && n > 0;
}

static const char *real_cc1(void)
{
    static char path[PATH_MAX];
    const char *e = env("AFTERBURN_REAL_CC1");
    if (e) {
        snprintf(path, sizeof path, "%s", e);
    } else {
        const char *gcc = env("COLLECT_GCC");
        char *argv[] = { (char *)(gcc ? gcc : "gcc"), "-print-prog-name=cc1", NULL };
        if (!capture(argv, path, sizeof path) || path[0] != '/') {
            fprintf(stderr, ME ": cannot find the real cc1 (`%s -print-prog-name=cc1` gave "
                    "'%s'); set AFTERBURN_REAL_CC1\n", argv[0], path);
            exit(2);
        }
    }
    if (same_file(path, "/proc/self/exe")) {
        fprintf(stderr, ME ": the real cc1 %s is this wrapper; set AFTERBURN_REAL_CC1 to gcc's "
                "cc1\n", path);
        exit(2);
    }
    return path;
}

static void exec_real(char **argv)
{
    const char *cc1 = real_cc1();
    argv[0] = (char *)cc1;
    execv(cc1, argv);
    fprintf(stderr, ME ": cannot run %s: %s\n", cc1, strerror(errno));
    exit(2);
}

/* Runs argv and returns its exit status (128 + signal if killed). */
static int run(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, ME ": fork: %s\n", strerror(errno));
        return 2;
    }
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        execv(argv[0], argv);
        fprintf(stderr, ME ": cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            fprintf(stderr, ME ": waitpid: %s\n", strerror(errno));
            return 2;
        }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    fprintf(stderr, ME ": %s killed by signal %d\n", argv[0], WTERMSIG(status));
    return 128 + WTERMSIG(status);
}

/* cc1 options whose value is the next argument. */
static bool takes_value(const char *a)
{
    static const char *const opts[] = {
        "-o", "-dumpbase", "-dumpbase-ext", "-dumpdir", "-auxbase", "-auxbase-strip",
        "-imultiarch", "-imultilib", "-iprefix", "-isysroot", "-isystem", "-idirafter",
        "-iquote", "-iwithprefix", "-iwithprefixbefore", "-include", "-imacros", "-I", "-D",
        "-U", "-MF", "-MT", "-MQ", "-MD", "-MMD", "--param", "-aux-info", "-x", "-A",
    };
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
        if (strcmp(a, opts[i]) == 0)
            return true;
    return false;
}

/* Options of the compile that change how the C is parsed. */
static bool parse_relevant(const char *a)
{
    return strncmp(a, "-std=", 5) == 0 || strcmp(a, "-ansi") == 0 ||
           strcmp(a, "-fms-extensions") == 0 || strcmp(a, "-funsigned-char") == 0 ||
           strcmp(a, "-fsigned-char") == 0 || strcmp(a, "-fshort-wchar") == 0 ||
           strcmp(a, "-fshort-enums") == 0 || strcmp(a, "-fgnu89-inline") == 0;
}

static bool copy_fd_to_file(int from, const char *path)
{
    int to = open(path, O_WRONLY | O_TRUNC);
    if (to < 0)
        return false;
    char buf[65536];
    bool ok = true;
    for (;;) {
        ssize_t r = read(from, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            ok = false;
        if (r <= 0)
            break;
        for (ssize_t off = 0; off < r;) {
            ssize_t w = write(to, buf + off, (size_t)(r - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                ok = false;
                break;
            }
            off += w;
        }
        if (!ok)
            break;
    }
    return close(to) == 0 && ok;
}

static bool make_temp(char *buf, const char *stem)
{
    const char *dir = env("TMPDIR") ? env("TMPDIR") : "/tmp";
    snprintf(buf, PATH_MAX, "%s/%s-XXXXXX.i", dir, stem);
    int fd = mkstemps(buf, 2);
    if (fd < 0) {
        fprintf(stderr, ME ": cannot create a temporary file in %s: %s\n", dir, strerror(errno));
        buf[0] = 0;
        return false;
    }
    close(fd);
    return true;
}

static void save_copy(const char *path, const char *original)
{
    const char *dir = env("AFTERBURN_CPARSE_SAVE_DIR");
    if (!dir)
        return;
    char name[PATH_MAX];
    const char *base = strrchr(original, '/');
    snprintf(name, sizeof name, "%s/%ld-%s", dir, (long)getpid(), base ? base + 1 : original);
    int from = open(path, O_RDONLY);
    int to = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (to >= 0)
        close(to);
    if (from < 0 || to < 0 || !copy_fd_to_file(from, name))
        fprintf(stderr, ME ": warning: AFTERBURN_CPARSE_SAVE_DIR: cannot write %s\n", name);
    if (from >= 0)
        close(from);
}

int main(int argc, char **argv)
{
    if (env_is("AFTERBURN_CPARSE_DISABLE", "1") || env_is("AFTERBURN_DISABLE", "1"))
        exec_real(argv);

    bool preprocessed = false, other_mode = false;
    int input = -1, ninputs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-fpreprocessed") == 0)
            preprocessed = true;
        else if (strcmp(a, "-E") == 0 || strcmp(a, "-m32") == 0 || strcmp(a, "-m16") == 0 ||
                 strcmp(a, "-mx32") == 0 || strncmp(a, "-fdirectives-only", 17) == 0 ||
                 strcmp(a, "--version") == 0 || strcmp(a, "--help") == 0)
            other_mode = true;
        if (takes_value(a)) {
            i++;
            continue;
        }
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            input = i;
            ninputs++;
        }
    }
    /* Not a compile of one preprocessed 64-bit C file: not ours. */
    if (!preprocessed || other_mode || ninputs != 1)
        exec_real(argv);

    char cparse[PATH_MAX], config[PATH_MAX], dir[PATH_MAX];
    if (!self_dir(dir, sizeof dir)) {
        fprintf(stderr, ME ": cannot resolve /proc/self/exe\n");
        return 2;
    }
    snprintf(cparse, sizeof cparse, "%s", env("AFTERBURN_CPARSE") ? env("AFTERBURN_CPARSE") : "");
    if (!cparse[0] &&
        snprintf(cparse, sizeof cparse, "%s/afterburn-cparse", dir) >= (int)sizeof cparse) {
        fprintf(stderr, ME ": path too long: %s\n", dir);
        return 2;
    }
    snprintf(config, sizeof config, "%s",
             env("AFTERBURN_CPARSE_CONFIG") ? env("AFTERBURN_CPARSE_CONFIG") : "");
    if (!config[0] && snprintf(config, sizeof config, "%s/../share/afterburn/cparse/linux-6.1.conf",
                               dir) >= (int)sizeof config) {
        fprintf(stderr, ME ": path too long: %s\n", dir);
        return 2;
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    atexit(remove_temps);

    const char *in = argv[input];
    if (strcmp(in, "-") == 0) {
        if (!make_temp(tmp_in, "afterburn-cparse-in") || !copy_fd_to_file(0, tmp_in)) {
            fprintf(stderr, ME ": cannot copy standard input to a temporary file\n");
            return 2;
        }
        in = tmp_in;
    }
    if (!make_temp(tmp_out, "afterburn-cparse"))
        return 2;

    /* afterburn-cparse --config C -o TMP [--report R] [--stats] IN -- parse options */
    char **cv = calloc((size_t)argc + 12, sizeof *cv);
    if (!cv)
        return 2;
    int n = 0;
    cv[n++] = cparse;
    cv[n++] = "--config";
    cv[n++] = config;
    cv[n++] = "-o";
    cv[n++] = tmp_out;
    if (env("AFTERBURN_CPARSE_REPORT")) {
        cv[n++] = "--report";
        cv[n++] = (char *)env("AFTERBURN_CPARSE_REPORT");
        if (env_is("AFTERBURN_CPARSE_QUIET", "1"))
            cv[n++] = "--quiet";
    }
    if (env_is("AFTERBURN_CPARSE_STATS", "1"))
        cv[n++] = "--stats";
    if (env("AFTERBURN_CPARSE_LIST")) {
        cv[n++] = "--list-file";
        cv[n++] = (char *)env("AFTERBURN_CPARSE_LIST");
    }
    cv[n++] = (char *)in;
    cv[n++] = "--";
    for (int i = 1; i < argc; i++)
        if (parse_relevant(argv[i]))
            cv[n++] = argv[i];
    cv[n] = NULL;
    int st = run(cv);
    free(cv);
    if (st != 0) {
        if (env_is("AFTERBURN_CPARSE_ON_ERROR", "pass") && st == 1) {
            fprintf(stderr, ME ": warning: %s compiled without afterburn-cparse (it does not "
                    "parse; AFTERBURN_CPARSE_ON_ERROR=pass)\n", argv[input]);
            const char *cc1 = real_cc1();
            argv[0] = (char *)cc1;
            if (in == tmp_in)
                argv[input] = tmp_in;
            int rc = run(argv);
            remove_temps();
            return rc;
        }
        fprintf(stderr, ME ": afterburn-cparse failed on %s (exit %d)\n", argv[input], st);
        remove_temps();
        return st == 1 ? 1 : st;
    }
    save_copy(tmp_out, argv[input]);
    const char *cc1 = real_cc1();
    argv[0] = (char *)cc1;
    argv[input] = tmp_out;
    int rc = run(argv);
    remove_temps();
    return rc;
}
