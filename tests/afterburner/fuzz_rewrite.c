/*
 * libFuzzer target for the afterburner's parser/rewriter.
 *
 * Properties checked on every input:
 *  - the input is echoed intact (nothing dropped or reordered);
 *  - inserted text never adds a line except the two-line prelude and the
 *    trailer, so `as` line numbers stay the user's;
 *  - no sites means the output is the input, byte for byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_lines(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ab_buf out, echo;
    ab_buf_init(&out);
    ab_buf_init(&echo);
    struct ab_rewrite_opts opts = {.source_name = "fuzz.s", .initial_mode = AB_MODE_64,
                                   .original_echo = &echo};
    struct ab_rewrite_stats st;
    ab_rewrite((const char *)data, size, &opts, &out, &st);

    if (echo.len != size || (size && memcmp(echo.data, data, size) != 0)) {
        fprintf(stderr, "input not preserved\n");
        abort();
    }
    size_t in_lines = count_lines((const char *)data, size);
    size_t out_lines = count_lines(out.data ? out.data : "", out.len);
    if (out.len == size) {
        if (size && memcmp(out.data, data, size) != 0)
            abort();
    } else {
        /* prelude (2 lines) + optional newline before the trailer + trailer (2 lines) */
        size_t extra = out_lines - in_lines;
        if (out_lines < in_lines || extra < 4 || extra > 5) {
            fprintf(stderr, "line structure changed: %zu -> %zu lines\n", in_lines, out_lines);
            abort();
        }
    }
    ab_buf_free(&out);
    ab_buf_free(&echo);
    return 0;
}
