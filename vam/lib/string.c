/*
 * memcpy and friends for the freestanding VAM.  Byte loops: the VAM copies
 * little (site bytes, small structures), and simple loops are obviously
 * correct.  vam/CMakeLists.txt compiles this file with
 * -fno-tree-loop-distribute-patterns so gcc does not turn the loops back
 * into calls to the very functions they implement.
 */
#include <vam/lib.h>

#ifdef VAM_HOSTED
#define LIBFN(name) vam_host_##name
#else
#define LIBFN(name) name
#endif

void *LIBFN(memcpy)(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *LIBFN(memmove)(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d == s || n == 0)
        return dst;
    if ((uintptr_t)d < (uintptr_t)s || (uintptr_t)d >= (uintptr_t)s + n) {
        while (n--)
            *d++ = *s++;
    } else {
        d += n;
        s += n;
        while (n--)
            *--d = *--s;
    }
    return dst;
}

void *LIBFN(memset)(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

int LIBFN(memcmp)(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

size_t LIBFN(strlen)(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int LIBFN(strcmp)(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}
