/*
 * The VAM's C library: what freestanding code needs and nothing more.
 *
 * In the freestanding build lib/string.c defines memcpy, memset, memmove,
 * memcmp, strlen and strcmp under their standard names (gcc emits calls to the
 * first four on its own, for structure copies and initialisation).  In the
 * hosted build (host unit tests) the same code is compiled as
 * vam_host_memcpy ... so the tests can exercise it, while the rest of vam/
 * links against the host's libc for those names.  No file under vam/
 * includes a libc header; only the compiler's freestanding headers
 * (stdint.h, stddef.h, stdbool.h, stdarg.h) are used.
 */
#ifndef VAM_LIB_H
#define VAM_LIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

#ifdef VAM_HOSTED
void *vam_host_memcpy(void *dst, const void *src, size_t n);
void *vam_host_memmove(void *dst, const void *src, size_t n);
void *vam_host_memset(void *dst, int c, size_t n);
int vam_host_memcmp(const void *a, const void *b, size_t n);
size_t vam_host_strlen(const char *s);
int vam_host_strcmp(const char *a, const char *b);
#endif

/*
 * snprintf subset: %d %i %u %x %X %o %c %s %p %%, flags '-' '0' '#' ' ' '+',
 * field width and precision (numbers or '*'), length modifiers hh h l ll z t j.
 * Always NUL-terminates when size > 0; returns the length the full output
 * would have had, like C99 snprintf.  Unknown conversions are copied
 * verbatim.
 */
int vam_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vam_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Little-endian loads that need no alignment. */
static inline uint16_t vam_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t vam_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t vam_le64(const uint8_t *p)
{
    return (uint64_t)vam_le32(p) | (uint64_t)vam_le32(p + 4) << 32;
}

static inline void vam_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

#endif
