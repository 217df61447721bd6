#include "testutil.h"

#include <errno.h>
#include <string.h>

int test_failures;

uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (n == cap)
            buf = realloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    /* Exact size, so reads past the end hit the allocation's redzone. */
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, buf, n);
    free(buf);
    *size = n;
    return exact;
}

void hex(char *out, size_t size, const uint8_t *p, size_t n)
{
    size_t len = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && len + 4 < size; i++)
        len += (size_t)snprintf(out + len, size - len, i ? " %02x" : "%02x", p[i]);
}

unsigned test_rnd(uint64_t *state, unsigned n)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (unsigned)((x * 0x2545f4914f6cdd1dull) >> 33) % n;
}

int test_done(const char *name)
{
    if (test_failures) {
        printf("%s: %d check(s) failed\n", name, test_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}
