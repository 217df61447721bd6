/* Strings and formatting. */
#include "internal.h"

void *memset(void *s, int c, size_t n)
{
    uint8_t *p = s;
    while (n--)
        *p++ = (uint8_t)c;
    return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    while (n--)
        *dp++ = *sp++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    if (dp < sp || dp >= sp + n)
        return memcpy(d, s, n);
    while (n--)
        dp[n] = sp[n];
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            break;
    }
    return 0;
}

int strcmp(const char *a, const char *b)
{
    return strncmp(a, b, (size_t)-1);
}

char *strstr(const char *h, const char *n)
{
    size_t l = strlen(n);
    for (; *h; h++)
        if (!strncmp(h, n, l))
            return (char *)h;
    return l ? NULL : (char *)h;
}

/* ---- vsnprintf ------------------------------------------------------------- */
struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

#define F_LEFT  1
#define F_ZERO  2
#define F_ALT   4
#define F_SPACE 8
#define F_PLUS  16

static void put_padded(struct out *o, const char *s, size_t n, int width, int flags)
{
    int pad = width > (int)n ? width - (int)n : 0;
    if (!(flags & F_LEFT))
        while (pad-- > 0)
            put(o, ' ');
    while (n--)
        put(o, *s++);
    if (flags & F_LEFT)
        while (pad-- > 0)
            put(o, ' ');
}

static void put_number(struct out *o, unsigned long long v, bool neg, unsigned base,
                       bool upper, int width, int prec, int flags)
{
    char digits[24], prefix[3];
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int nd = 0, np = 0, zeros, pad;

    if (neg)
        prefix[np++] = '-';
    else if (flags & F_PLUS)
        prefix[np++] = '+';
    else if (flags & F_SPACE)
        prefix[np++] = ' ';
    if ((flags & F_ALT) && v && base == 16) {
        prefix[np++] = '0';
        prefix[np++] = upper ? 'X' : 'x';
    } else if ((flags & F_ALT) && base == 8) {
        prefix[np++] = '0';
    }
    do {
        digits[nd++] = set[v % base];
        v /= base;
    } while (v);
    if (prec == 0 && nd == 1 && digits[0] == '0')
        nd = 0;
    zeros = prec > nd ? prec - nd : 0;
    pad = width - np - zeros - nd;
    if (pad > 0 && (flags & F_ZERO) && !(flags & F_LEFT) && prec < 0) {
        zeros += pad;
        pad = 0;
    }
    if (!(flags & F_LEFT))
        while (pad-- > 0)
            put(o, ' ');
    for (int i = 0; i < np; i++)
        put(o, prefix[i]);
    while (zeros-- > 0)
        put(o, '0');
    while (nd--)
        put(o, digits[nd]);
    if (flags & F_LEFT)
        while (pad-- > 0)
            put(o, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (; *fmt; fmt++) {
        int flags = 0, width = 0, prec = -1, lng = 0;
        unsigned long long v;
        bool neg;

        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        for (;;) {
            char c = *++fmt;
            if (c == '-') flags |= F_LEFT;
            else if (c == '0') flags |= F_ZERO;
            else if (c == '#') flags |= F_ALT;
            else if (c == ' ') flags |= F_SPACE;
            else if (c == '+') flags |= F_PLUS;
            else break;
        }
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                flags |= F_LEFT;
                width = -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            prec = 0;
            fmt++;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    prec = prec * 10 + (*fmt++ - '0');
            }
        }
        for (;; fmt++) {
            if (*fmt == 'l') lng++;
            else if (*fmt == 'h') lng--;
            else if (*fmt == 'z' || *fmt == 't' || *fmt == 'j') lng = 1;
            else break;
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            long long s;
            if (lng >= 2) s = va_arg(ap, long long);
            else if (lng == 1) s = va_arg(ap, long);
            else if (lng == -1) s = (short)va_arg(ap, int);
            else if (lng <= -2) s = (signed char)va_arg(ap, int);
            else s = va_arg(ap, int);
            neg = s < 0;
            v = neg ? -(unsigned long long)s : (unsigned long long)s;
            put_number(&o, v, neg, 10, false, width, prec, flags);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o':
            if (lng >= 2) v = va_arg(ap, unsigned long long);
            else if (lng == 1) v = va_arg(ap, unsigned long);
            else if (lng == -1) v = (unsigned short)va_arg(ap, unsigned);
            else if (lng <= -2) v = (unsigned char)va_arg(ap, unsigned);
            else v = va_arg(ap, unsigned);
            put_number(&o, v, false, *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16, *fmt == 'X',
                       width, prec, flags);
            break;
        case 'p':
            put_number(&o, (uintptr_t)va_arg(ap, void *), false, 16, false, width, prec,
                       flags | F_ALT);
            break;
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_padded(&o, &c, 1, width, flags);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            size_t n;
            if (!s)
                s = "(null)";
            n = strlen(s);
            if (prec >= 0 && (size_t)prec < n)
                n = prec;
            put_padded(&o, s, n, width, flags);
            break;
        }
        case '%':
            put(&o, '%');
            break;
        case '\0':
            fmt--;
            break;
        default:
            put(&o, '%');
            put(&o, *fmt);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
