/*
 * Helpers shared by the vam/cpu sources: no libc (freestanding), so the few
 * memory moves are spelled out here.
 */
#ifndef VAM_CPU_INTERNAL_H
#define VAM_CPU_INTERNAL_H

#include <stdint.h>

static inline void cpu_copy(void *dst, const void *src, uint64_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
}

static inline void cpu_zero(void *dst, uint64_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = 0;
}

static inline uint64_t cpu_le64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

static inline void cpu_put_le64(uint8_t *p, uint64_t x)
{
    for (int i = 0; i < 8; i++, x >>= 8)
        p[i] = (uint8_t)x;
}

#endif
