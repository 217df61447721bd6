/* Guest microbenchmarks in the style of LMbench2 (lat_syscall, lat_sig,
 * lat_proc, lat_pipe, lat_ctx), written for this project.
 *
 * Built with `gcc -static -O2` and run inside the reference guest's
 * initramfs. Each benchmark runs a warm-up batch, then BATCHES timed batches
 * of n/BATCHES operations (CLOCK_MONOTONIC around each batch) and prints
 *
 *   BENCH name=<name> us=<min over batches> med_us=<median> iters=<n> batches=<b>
 *
 * us is microseconds per operation in the fastest batch (as LMbench keeps
 * the minimum), med_us the median batch. Usage:
 *
 *   abbench [-p PCT] [-n ITERS] [-f FILE] [-x HELLO] NAME...
 *   abbench -l            list the benchmarks with their default counts
 *
 * -p scales every default count to PCT percent (reduced runs in tests),
 * -n overrides the count. Exit status 1 if a benchmark failed (a BENCH-ERROR
 * line names it), 2 on usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCHES 5
#define MAX_RING 16

static const char *bench_file = "/tmp/abbench.file";
static const char *hello_path = "/bench/hello";
static const char *shell_path = "/bin/sh";
static int ring_procs = 2;

static double now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("clock_gettime");
		exit(1);
	}
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void fail(const char *bench, const char *what)
{
	printf("BENCH-ERROR name=%s %s: %s\n", bench, what, strerror(errno));
	fflush(stdout);
	exit(1);
}

/* One benchmark body: performs n operations; returns 0 or -1 (errno set). */
typedef int (*body_fn)(long n, void *ctx);

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct result {
	double min_us, med_us; /* per operation */
	long iters;
};

/* Runs body over iters operations split into BATCHES batches after a
 * warm-up of one batch. */
static int measure(body_fn body, void *ctx, long iters, struct result *r)
{
	double per[BATCHES];
	long per_batch = iters / BATCHES;

	if (per_batch < 1)
		per_batch = 1;
	if (body(per_batch, ctx) != 0)
		return -1;
	for (int b = 0; b < BATCHES; b++) {
		double t0 = now_us();

		if (body(per_batch, ctx) != 0)
			return -1;
		per[b] = (now_us() - t0) / (double)per_batch;
	}
	qsort(per, BATCHES, sizeof(per[0]), cmp_double);
	r->min_us = per[0];
	r->med_us = per[BATCHES / 2];
	r->iters = per_batch * BATCHES;
	return 0;
}

static void report(const char *name, const struct result *r, const char *extra)
{
	printf("BENCH name=%s us=%.4f med_us=%.4f iters=%ld batches=%d%s%s\n", name,
	       r->min_us, r->med_us, r->iters, BATCHES, extra ? " " : "", extra ? extra : "");
	fflush(stdout);
}

/* ---- system calls ------------------------------------------------------ */

static int b_null_syscall(long n, void *ctx)
{
	(void)ctx;
	for (long i = 0; i < n; i++)
		if (getppid() < 0)
			return -1;
	return 0;
}

static int b_read(long n, void *ctx)
{
	int fd = *(int *)ctx;
	char c;

	for (long i = 0; i < n; i++)
		if (read(fd, &c, 1) != 1)
			return -1;
	return 0;
}

static int b_write(long n, void *ctx)
{
	int fd = *(int *)ctx;
	char c = 0;

	for (long i = 0; i < n; i++)
		if (write(fd, &c, 1) != 1)
			return -1;
	return 0;
}

static int b_stat(long n, void *ctx)
{
	struct stat st;

	(void)ctx;
	for (long i = 0; i < n; i++)
		if (stat(bench_file, &st) != 0)
			return -1;
	return 0;
}

static int b_open_close(long n, void *ctx)
{
	(void)ctx;
	for (long i = 0; i < n; i++) {
		int fd = open(bench_file, O_RDONLY);

		if (fd < 0 || close(fd) != 0)
			return -1;
	}
	return 0;
}

/* ---- signals ----------------------------------------------------------- */

static volatile sig_atomic_t caught;

static void handler(int sig)
{
	(void)sig;
	caught++;
}

static int b_sig_install(long n, void *ctx)
{
	struct sigaction sa, old;

	(void)ctx;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	for (long i = 0; i < n; i++)
		if (sigaction(SIGUSR1, &sa, &old) != 0)
			return -1;
	return 0;
}

static int b_sig_handle(long n, void *ctx)
{
	pid_t me = getpid();

	(void)ctx;
	caught = 0;
	for (long i = 0; i < n; i++)
		if (kill(me, SIGUSR1) != 0)
			return -1;
	if (caught != n) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* ---- processes --------------------------------------------------------- */

static int wait_ok(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errno = ECHILD;
		return -1;
	}
	return 0;
}

static int b_fork(long n, void *ctx)
{
	(void)ctx;
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (pid == 0)
			_exit(0);
		if (wait_ok(pid) != 0)
			return -1;
	}
	return 0;
}

static int spawn(long n, char *const argv[])
{
	static char *const envp[] = { "PATH=/bin:/sbin:/usr/bin:/usr/sbin", NULL };

	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (pid == 0) {
			execve(argv[0], argv, envp);
			_exit(127);
		}
		if (wait_ok(pid) != 0)
			return -1;
	}
	return 0;
}

static int b_exec(long n, void *ctx)
{
	char *argv[] = { (char *)hello_path, NULL };

	(void)ctx;
	return spawn(n, argv);
}

static int b_sh(long n, void *ctx)
{
	/* lat_proc shell: sh -c runs the same tiny program. */
	char *argv[] = { (char *)shell_path, "-c", (char *)hello_path, NULL };

	(void)ctx;
	return spawn(n, argv);
}

/* ---- pipes and context switches --------------------------------------- */

static int xread(int fd, void *buf, size_t len)
{
	ssize_t r;

	while ((r = read(fd, buf, len)) < 0)
		if (errno != EINTR)
			return -1;
	if ((size_t)r != len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static int xwrite(int fd, const void *buf, size_t len)
{
	ssize_t r;

	while ((r = write(fd, buf, len)) < 0)
		if (errno != EINTR)
			return -1;
	if ((size_t)r != len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* A ring of nprocs processes joined by pipes: process i reads the token
 * from pipe i and writes it to pipe (i+1) % nprocs. The parent is process
 * 0; each body call sends the token around n times. */
struct ring {
	int nprocs;
	int fds[MAX_RING][2];
	pid_t pids[MAX_RING];
};

static int ring_start(struct ring *rg, int nprocs)
{
	rg->nprocs = nprocs;
	for (int i = 0; i < nprocs; i++)
		if (pipe(rg->fds[i]) != 0)
			return -1;
	for (int i = 1; i < nprocs; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (pid == 0) {
			int in = rg->fds[i][0], out = rg->fds[(i + 1) % nprocs][1];
			int token;

			for (int j = 0; j < nprocs; j++) {
				if (rg->fds[j][0] != in)
					close(rg->fds[j][0]);
				if (rg->fds[j][1] != out)
					close(rg->fds[j][1]);
			}
			/* Forward until the parent closes its end. */
			while (xread(in, &token, sizeof(token)) == 0)
				if (xwrite(out, &token, sizeof(token)) != 0)
					break;
			_exit(0);
		}
		rg->pids[i] = pid;
	}
	return 0;
}

static int ring_stop(struct ring *rg)
{
	int rc = 0;

	for (int i = 0; i < rg->nprocs; i++) {
		close(rg->fds[i][0]);
		close(rg->fds[i][1]);
	}
	for (int i = 1; i < rg->nprocs; i++)
		if (wait_ok(rg->pids[i]) != 0)
			rc = -1;
	return rc;
}

static int b_ring(long n, void *ctx)
{
	struct ring *rg = ctx;
	int token = 0x41424242;

	for (long i = 0; i < n; i++) {
		if (xwrite(rg->fds[1 % rg->nprocs][1], &token, sizeof(token)) != 0 ||
		    xread(rg->fds[0][0], &token, sizeof(token)) != 0)
			return -1;
	}
	return 0;
}

/* LMbench lat_ctx's overhead: the same pipe traffic without a switch (one
 * process writes the token into a pipe and reads it back). */
static int b_pipe_self(long n, void *ctx)
{
	int *fds = ctx;
	int token = 0x41424242;

	for (long i = 0; i < n; i++)
		if (xwrite(fds[1], &token, sizeof(token)) != 0 ||
		    xread(fds[0], &token, sizeof(token)) != 0)
			return -1;
	return 0;
}

/* ---- the table --------------------------------------------------------- */

enum kind { SIMPLE, NULL_IO, PIPE, CTX };

struct bench {
	const char *name;
	enum kind kind;
	body_fn body;
	long iters; /* default count: about 5 s each in wall mode on an idle host */
	const char *what;
};

static const struct bench benches[] = {
	{ "null_syscall", SIMPLE, b_null_syscall, 10000000, "getppid()" },
	{ "null_io", NULL_IO, NULL, 2500000,
	  "read 1 byte from /dev/zero (null_read), write 1 byte to /dev/null (null_write); null_io = mean" },
	{ "stat", SIMPLE, b_stat, 800000, "stat() of a file in /tmp" },
	{ "open_close", SIMPLE, b_open_close, 300000, "open(O_RDONLY) + close() of that file" },
	{ "sig_install", SIMPLE, b_sig_install, 4000000, "sigaction(SIGUSR1) with a handler" },
	{ "sig_handle", SIMPLE, b_sig_handle, 200000, "kill(getpid(), SIGUSR1) + handler run" },
	{ "fork", SIMPLE, b_fork, 8000, "fork() + child _exit(0) + waitpid()" },
	{ "exec", SIMPLE, b_exec, 3000, "fork() + execve(hello) + waitpid()" },
	{ "sh", SIMPLE, b_sh, 1500, "fork() + execve(/bin/sh -c hello) + waitpid()" },
	{ "pipe_rtt", PIPE, b_ring, 100000, "1-word round trip through two pipes between two processes" },
	{ "ctx_2p", CTX, b_ring, 100000,
	  "context switch, token ring of 2 processes (lat_ctx -s 0 2): per switch, minus pipe overhead" },
};
#define NBENCH (sizeof(benches) / sizeof(benches[0]))

static int ensure_file(void)
{
	int fd = open(bench_file, O_WRONLY | O_CREAT, 0644);

	if (fd < 0)
		return -1;
	if (write(fd, "abbench\n", 8) != 8) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void run(const struct bench *b, long iters)
{
	struct result r, r2;
	char extra[160];

	switch (b->kind) {
	case SIMPLE:
		if (b->body == b_sig_handle || b->body == b_sig_install) {
			struct sigaction sa;

			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = handler;
			sigemptyset(&sa.sa_mask);
			if (sigaction(SIGUSR1, &sa, NULL) != 0)
				fail(b->name, "sigaction");
		}
		if ((b->body == b_stat || b->body == b_open_close) && ensure_file() != 0)
			fail(b->name, bench_file);
		if (measure(b->body, NULL, iters, &r) != 0)
			fail(b->name, b->what);
		report(b->name, &r, NULL);
		break;
	case NULL_IO: {
		int zero = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_WRONLY);
		struct result io;

		if (zero < 0)
			fail(b->name, "open /dev/zero");
		if (null < 0)
			fail(b->name, "open /dev/null");
		if (measure(b_read, &zero, iters, &r) != 0)
			fail("null_read", "read /dev/zero");
		if (measure(b_write, &null, iters, &r2) != 0)
			fail("null_write", "write /dev/null");
		close(zero);
		close(null);
		report("null_read", &r, NULL);
		report("null_write", &r2, NULL);
		io.min_us = (r.min_us + r2.min_us) / 2;
		io.med_us = (r.med_us + r2.med_us) / 2;
		io.iters = r.iters;
		report("null_io", &io, NULL);
		break;
	}
	case PIPE: {
		struct ring rg;

		if (ring_start(&rg, 2) != 0)
			fail(b->name, "pipe/fork");
		if (measure(b_ring, &rg, iters, &r) != 0)
			fail(b->name, "ring");
		if (ring_stop(&rg) != 0)
			fail(b->name, "ring stop");
		report(b->name, &r, NULL);
		break;
	}
	case CTX: {
		struct ring rg;
		int self[2];
		double ovh, raw;

		if (pipe(self) != 0)
			fail(b->name, "pipe");
		if (measure(b_pipe_self, self, iters, &r2) != 0)
			fail(b->name, "pipe overhead");
		close(self[0]);
		close(self[1]);
		if (ring_start(&rg, ring_procs) != 0)
			fail(b->name, "pipe/fork");
		if (measure(b_ring, &rg, iters, &r) != 0)
			fail(b->name, "ring");
		if (ring_stop(&rg) != 0)
			fail(b->name, "ring stop");
		/* One circulation = nprocs switches and nprocs pipe hops. */
		raw = r.min_us / ring_procs;
		ovh = r2.min_us;
		snprintf(extra, sizeof(extra), "raw_us=%.4f overhead_us=%.4f procs=%d", raw, ovh,
			 ring_procs);
		r.med_us = r.med_us / ring_procs - ovh;
		r.min_us = raw - ovh;
		report(b->name, &r, extra);
		break;
	}
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: abbench [-p PCT] [-n ITERS] [-f FILE] [-x HELLO] [-s SHELL] NAME...\n"
		   "       abbench -l\n");
}

int main(int argc, char **argv)
{
	long pct = 100, fixed = 0;
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "p:n:f:x:s:lh")) != -1) {
		switch (opt) {
		case 'p':
			pct = strtol(optarg, NULL, 10);
			break;
		case 'n':
			fixed = strtol(optarg, NULL, 10);
			break;
		case 'f':
			bench_file = optarg;
			break;
		case 'x':
			hello_path = optarg;
			break;
		case 's':
			shell_path = optarg;
			break;
		case 'l':
			for (size_t i = 0; i < NBENCH; i++)
				printf("%-13s %8ld  %s\n", benches[i].name, benches[i].iters,
				       benches[i].what);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (pct < 1 || fixed < 0 || optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (int a = optind; a < argc; a++) {
		const struct bench *b = NULL;
		long iters;
		double t0;

		for (size_t i = 0; i < NBENCH; i++)
			if (strcmp(argv[a], benches[i].name) == 0)
				b = &benches[i];
		if (!b) {
			printf("BENCH-ERROR name=%s unknown benchmark\n", argv[a]);
			rc = 2;
			continue;
		}
		iters = fixed ? fixed : b->iters * pct / 100;
		if (iters < BATCHES)
			iters = BATCHES;
		t0 = now_us();
		run(b, iters);
		printf("BENCH-INFO name=%s seconds=%.2f\n", b->name, (now_us() - t0) / 1e6);
		fflush(stdout);
	}
	return rc;
}
