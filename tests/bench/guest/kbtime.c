/*
 * kbtime: times one command in the guest for the kernel-build benchmark
 * (run-kbuild.sh).  Prints the result in abbench's line format,
 *
 *   BENCH name=<name> us=<wall µs> med_us=<wall µs> iters=1 batches=1
 *         user_s=<children's user CPU s> sys_s=<children's system CPU s>
 *
 * so that bench-report.py reads it like the microbenchmarks: one operation,
 * the whole command.  Wall time is CLOCK_MONOTONIC (the guest's clock); CPU
 * times are getrusage(RUSAGE_CHILDREN), i.e. the guest's own accounting.
 * Exits with the command's status (1 if it was killed or could not start),
 * and prints no BENCH line then.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[2], "--") != 0) {
        fprintf(stderr, "usage: kbtime NAME -- COMMAND [ARG...]\n");
        return 2;
    }
    const char *name = argv[1];
    double t0 = now_us();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "kbtime: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execvp(argv[3], &argv[3]);
        fprintf(stderr, "kbtime: cannot run %s: %s\n", argv[3], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "kbtime: waitpid: %s\n", strerror(errno));
            return 1;
        }
    }
    double us = now_us() - t0;
    if (!WIFEXITED(status)) {
        fprintf(stderr, "kbtime: %s killed by signal %d\n", argv[3], WTERMSIG(status));
        return 1;
    }
    if (WEXITSTATUS(status) != 0) {
        fprintf(stderr, "kbtime: %s exited with status %d\n", argv[3], WEXITSTATUS(status));
        return WEXITSTATUS(status);
    }
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    printf("BENCH name=%s us=%.1f med_us=%.1f iters=1 batches=1 user_s=%.3f sys_s=%.3f\n",
           name, us, us, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
           ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
    return 0;
}
