/*
 * ab-bench-rewrite DIR [REPEAT]
 *
 * Throughput of the afterburner's rewriter on a corpus of assembly files
 * (the kernel's, saved by afterburn-as with AFTERBURN_SAVE_DIR): loads every
 * *.s under DIR into memory, rewrites all of them REPEAT times, and prints
 * MB/s of input together with the textual site counts per kind.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "afterburn/kinds.h"
#include "rewrite.h"

struct file {
    char *data;
    size_t len;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int load(const char *path, struct file *f)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    struct ab_buf b;
    ab_buf_init(&b);
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, fp)) > 0)
        ab_buf_put(&b, tmp, n);
    fclose(fp);
    f->data = b.data;
    f->len = b.len;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ab-bench-rewrite CORPUS_DIR [REPEAT]\n");
        return 2;
    }
    int repeat = argc > 2 ? atoi(argv[2]) : 3;
    DIR *d = opendir(argv[1]);
    if (!d) {
        perror(argv[1]);
        return 2;
    }
    struct file *files = NULL;
    size_t nfiles = 0, cap = 0, total = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 3 || strcmp(e->d_name + l - 2, ".s") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        if (nfiles == cap) {
            cap = cap ? cap * 2 : 256;
            files = realloc(files, cap * sizeof *files);
        }
        if (load(path, &files[nfiles]) == 0)
            total += files[nfiles++].len;
    }
    closedir(d);
    if (nfiles == 0) {
        fprintf(stderr, "ab-bench-rewrite: no .s files in %s\n", argv[1]);
        return 1;
    }
    unsigned long by_kind[256] = {0}, sites = 0, in_args = 0, as_bytes = 0, non64 = 0;
    double best = 1e30;
    for (int r = 0; r < repeat; r++) {
        double t0 = now();
        for (size_t i = 0; i < nfiles; i++) {
            struct ab_buf out;
            ab_buf_init(&out);
            struct ab_rewrite_opts o = {.source_name = "corpus.s", .initial_mode = AB_MODE_64};
            struct ab_rewrite_stats st;
            ab_rewrite(files[i].data ? files[i].data : "", files[i].len, &o, &out, &st);
            if (r == 0) {
                sites += st.sites;
                in_args += st.sites_in_macro_args;
                as_bytes += st.sites_as_bytes;
                non64 += st.sites_non64;
                for (int k = 0; k < 256; k++)
                    by_kind[k] += st.sites_by_kind[k];
            }
            ab_buf_free(&out);
        }
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    printf("files %zu\ninput_mb %.2f\nbest_seconds %.4f\nthroughput_mb_s %.1f\n", nfiles,
           (double)total / 1e6, best, (double)total / 1e6 / best);
    printf("textual_sites %lu (in macro arguments %lu, as .byte %lu, 16/32-bit %lu)\n", sites,
           in_args, as_bytes, non64);
    for (size_t k = 0; k < AB_KIND_COUNT; k++)
        if (by_kind[ab_kind_table[k].id])
            printf("textual_kind %s %lu\n", ab_kind_table[k].name, by_kind[ab_kind_table[k].id]);
    return 0;
}
