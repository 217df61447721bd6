#include "xen-console.h"
#include "hypercall.h"

void xen_puts(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    xen_console_write(s, n);
}

void xen_put_hex(unsigned long v)
{
    char buf[19];
    int i = sizeof buf;
    do {
        buf[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    buf[--i] = 'x';
    buf[--i] = '0';
    xen_console_write(buf + i, sizeof buf - (unsigned)i);
}

void xen_put_dec(unsigned long v)
{
    char buf[20];
    int i = sizeof buf;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    xen_console_write(buf + i, sizeof buf - (unsigned)i);
}
