/*
 * A small vsnprintf for the VAM's messages.  See vam/lib.h for the subset.
 */
#include <vam/lib.h>

#include <stdbool.h>

struct out {
    char *buf;
    size_t size;
    size_t len;         /* characters produced so far, written or not */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_repeat(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

struct spec {
    bool left, zero, alt, space, plus;
    int width;
    int prec;           /* -1: none */
    int length;         /* 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t/ptrdiff/intmax */
};

static void put_string(struct out *o, const struct spec *sp, const char *s)
{
    if (!s)
        s = "(null)";
    int n = 0;
    while (s[n] && (sp->prec < 0 || n < sp->prec))
        n++;
    if (!sp->left)
        put_repeat(o, ' ', sp->width - n);
    for (int i = 0; i < n; i++)
        put(o, s[i]);
    if (sp->left)
        put_repeat(o, ' ', sp->width - n);
}

static void put_number(struct out *o, const struct spec *sp, uint64_t v, bool negative,
                       unsigned base, bool upper, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    if (v == 0 && sp->prec == 0) {
        n = 0;
    } else {
        do {
            tmp[n++] = digits[v % base];
            v /= base;
        } while (v);
    }
    char sign = negative ? '-' : sp->plus ? '+' : sp->space ? ' ' : 0;
    int plen = prefix ? (int)strlen(prefix) : 0;
    int zeros = sp->prec > n ? sp->prec - n : 0;
    int total = n + zeros + plen + (sign != 0);
    int pad = sp->width > total ? sp->width - total : 0;
    if (sp->zero && !sp->left && sp->prec < 0) {
        zeros += pad;
        pad = 0;
    }
    if (!sp->left)
        put_repeat(o, ' ', pad);
    if (sign)
        put(o, sign);
    for (int i = 0; i < plen; i++)
        put(o, prefix[i]);
    put_repeat(o, '0', zeros);
    while (n)
        put(o, tmp[--n]);
    if (sp->left)
        put_repeat(o, ' ', pad);
}

static int parse_int(const char **f)
{
    int v = 0;
    while (**f >= '0' && **f <= '9') {
        if (v < 100000)
            v = v * 10 + (**f - '0');
        (*f)++;
    }
    return v;
}

static uint64_t get_unsigned(const struct spec *sp, va_list *ap)
{
    switch (sp->length) {
    case -2: return (unsigned char)va_arg(*ap, unsigned);
    case -1: return (unsigned short)va_arg(*ap, unsigned);
    case 0: return va_arg(*ap, unsigned);
    case 1: return va_arg(*ap, unsigned long);
    case 2: return va_arg(*ap, unsigned long long);
    default: return va_arg(*ap, size_t);
    }
}

static int64_t get_signed(const struct spec *sp, va_list *ap)
{
    switch (sp->length) {
    case -2: return (signed char)va_arg(*ap, int);
    case -1: return (short)va_arg(*ap, int);
    case 0: return va_arg(*ap, int);
    case 1: return va_arg(*ap, long);
    case 2: return va_arg(*ap, long long);
    default: return va_arg(*ap, ptrdiff_t);
    }
}

int vam_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
    struct out o = { buf, size, 0 };
    va_list ap;
    va_copy(ap, ap_in);
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            put(&o, *f);
            continue;
        }
        const char *start = f++;
        struct spec sp = { .prec = -1 };
        for (;; f++) {
            if (*f == '-') sp.left = true;
            else if (*f == '0') sp.zero = true;
            else if (*f == '#') sp.alt = true;
            else if (*f == ' ') sp.space = true;
            else if (*f == '+') sp.plus = true;
            else break;
        }
        if (*f == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.left = true;
                sp.width = -sp.width;
            }
            f++;
        } else {
            sp.width = parse_int(&f);
        }
        if (*f == '.') {
            f++;
            if (*f == '*') {
                sp.prec = va_arg(ap, int);
                if (sp.prec < 0)
                    sp.prec = -1;
                f++;
            } else {
                sp.prec = parse_int(&f);
            }
        }
        if (*f == 'h') {
            sp.length = -1;
            if (*++f == 'h') {
                sp.length = -2;
                f++;
            }
        } else if (*f == 'l') {
            sp.length = 1;
            if (*++f == 'l') {
                sp.length = 2;
                f++;
            }
        } else if (*f == 'z' || *f == 't' || *f == 'j') {
            sp.length = *f == 'j' ? 2 : 3;
            f++;
        }
        switch (*f) {
        case 'd':
        case 'i': {
            int64_t v = get_signed(&sp, &ap);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            put_number(&o, &sp, mag, v < 0, 10, false, NULL);
            break;
        }
        case 'u':
            put_number(&o, &sp, get_unsigned(&sp, &ap), false, 10, false, NULL);
            break;
        case 'x':
        case 'X': {
            uint64_t v = get_unsigned(&sp, &ap);
            const char *prefix = sp.alt && v ? (*f == 'x' ? "0x" : "0X") : NULL;
            put_number(&o, &sp, v, false, 16, *f == 'X', prefix);
            break;
        }
        case 'o':
            put_number(&o, &sp, get_unsigned(&sp, &ap), false, 8, false, sp.alt ? "0" : NULL);
            break;
        case 'p': {
            struct spec p = sp;
            p.length = 0;
            put_number(&o, &p, (uintptr_t)va_arg(ap, void *), false, 16, false, "0x");
            break;
        }
        case 'c': {
            char c[2] = { (char)va_arg(ap, int), 0 };
            struct spec cs = sp;
            cs.prec = -1;
            if (c[0] == 0) {        /* a NUL character still counts */
                if (!cs.left)
                    put_repeat(&o, ' ', cs.width - 1);
                put(&o, 0);
                if (cs.left)
                    put_repeat(&o, ' ', cs.width - 1);
            } else {
                put_string(&o, &cs, c);
            }
            break;
        }
        case 's':
            put_string(&o, &sp, va_arg(ap, const char *));
            break;
        case '%':
            put(&o, '%');
            break;
        default:            /* unknown or truncated conversion: copy it */
            for (const char *c = start; c <= f && *c; c++)
                put(&o, *c);
            if (!*f)
                f--;
            break;
        }
    }
    va_end(ap);
    if (size)
        buf[o.len < size ? o.len : size - 1] = 0;
    return o.len > 0x7fffffff ? 0x7fffffff : (int)o.len;
}

int vam_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vam_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
