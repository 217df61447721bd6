/* Freestanding library: formatting, console, strings, panic. */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define __noreturn __attribute__((noreturn))
#define __printf(f, a) __attribute__((format(printf, f, a)))
#define __aligned(n) __attribute__((aligned(n)))
#define __used __attribute__((used))
#define ACCESS_ONCE(x) (*(volatile __typeof__(x) *)&(x))

/* printf subset: %d %i %u %x %X %o %c %s %p %% with flags '-', '0', '#',
 * ' ', '+', a width and precision (numbers or '*'), and the h, hh, l, ll,
 * z, t, j length modifiers. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* Console: COM1 (0x3f8), polled, "\n" sent as "\r\n". */
void console_init(void);
void console_write(const char *s, size_t n);
void printk(const char *fmt, ...) __printf(1, 2);
void vprintk(const char *fmt, va_list ap);

/* Print "PANIC: ..." and end the guest without a result line (a crash). */
void panic(const char *fmt, ...) __printf(1, 2) __noreturn;

#define BUG_ON(c) do { if (c) panic("BUG_ON(%s) at %s:%d", #c, __FILE__, __LINE__); } while (0)

void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strstr(const char *h, const char *n);

/* ---- time (TSC calibrated against the 8254 PIT on first use) --------------- */
uint64_t tsc_khz(void);
void udelay(uint64_t us);
void mdelay(uint64_t ms);
/* Deadline helpers: now and "now + us" in TSC ticks. */
uint64_t tsc_deadline_us(uint64_t us);
static inline bool tsc_passed(uint64_t deadline)
{
    uint32_t lo, hi;
    asm volatile ("rdtsc" : "=a" (lo), "=d" (hi));
    return (((uint64_t)hi << 32) | lo) >= deadline;
}

#endif
