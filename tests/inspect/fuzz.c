/*
 * libFuzzer target: the whole of afterburn-inspect (ELF and note parsing,
 * record resolution, verification, audit and both report formats) on
 * arbitrary bytes.  Findings are expected; crashes, leaks and out-of-bounds
 * accesses are not.
 */
#include "inspect.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink)
        sink = fopen("/dev/null", "w");
    /* A private copy: exact bounds for AddressSanitizer, and writable as
     * ab_inspect_buffer requires. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy || !sink)
        abort();
    memcpy(copy, data, size);
    struct ab_options opt = {
        .list = true, .counts = true, .verify = true, .audit = true, .summary = true,
        .json = size & 1,
    };
    ab_inspect_buffer("fuzz-input", copy, size, &opt, sink, sink);
    free(copy);
    return 0;
}
