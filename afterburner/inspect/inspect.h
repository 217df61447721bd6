/*
 * afterburn-inspect as a library: inspect one file held in memory or on
 * disk, print the report, and return the exit status.  The command-line
 * tool and the fuzz target both use it.
 */
#ifndef AB_INSPECT_H
#define AB_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ab_allow_list;

struct ab_options {
    bool list;          /* one row per record */
    bool counts;        /* sites per kind, mode markers, 16/32-bit, altinstr */
    bool verify;        /* records describe real, well-formed sites */
    bool audit;         /* no sensitive instruction without a site */
    bool summary;       /* one-line summary at the end (text output) */
    bool json;          /* one JSON document instead of text */
    bool quiet;         /* text output: only what fails the file */
    struct ab_allow_list *allow;    /* audit exceptions, or NULL */
};

/* Exit statuses. */
enum {
    AB_EXIT_OK = 0,
    AB_EXIT_FAIL = 1,       /* the file is unreadable, malformed or fails a check */
    AB_EXIT_USAGE = 2,      /* bad command line, or an internal error */
};

/* buf is used in place and must stay writable and alive during the call. */
int ab_inspect_buffer(const char *name, uint8_t *buf, size_t size,
                      const struct ab_options *opt, FILE *out, FILE *err);
int ab_inspect_file(const char *path, const struct ab_options *opt, FILE *out, FILE *err);

#endif
