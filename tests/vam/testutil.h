/* Small helpers shared by the VAM's host tests. */
#ifndef VAM_TESTUTIL_H
#define VAM_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern int test_failures;

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            test_failures++;                                                              \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);      \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fputc('\n', stderr);                                                          \
        }                                                                                 \
    } while (0)

/* Whole file into a malloc'd buffer (exactly *size bytes, so ASan sees overruns). */
uint8_t *read_file(const char *path, size_t *size);

/* "0f 01 f8" */
void hex(char *out, size_t size, const uint8_t *p, size_t n);

/* xorshift64*: a number below n from *state (a fixed seed gives the same
 * sequence every run, so a differential test's inputs are reproducible). */
unsigned test_rnd(uint64_t *state, unsigned n);

/* Ends the test: prints the failure count, returns the exit status. */
int test_done(const char *name);

#endif
