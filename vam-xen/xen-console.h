/* Output on Xen's console (console_io, unbuffered).  Minimal on purpose:
 * formatted output will come from the front end's library (vam/lib). */
#ifndef VAMXEN_CONSOLE_H
#define VAMXEN_CONSOLE_H

void xen_puts(const char *s);
void xen_put_hex(unsigned long v);
void xen_put_dec(unsigned long v);

#endif
