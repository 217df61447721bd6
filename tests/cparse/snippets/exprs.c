/* Expression forms around an access. */
#include "common.h"

struct dev_regs { u32 status; _Bool ready; enum { IDLE, BUSY } mode; void *buf; };
pte_t *ptrs[4];

unsigned long exprs(pte_t *p, pte_t **pp, int i, struct dev_regs *r, unsigned long x)
{
    unsigned long v = p->pte ?: x;                /* one pt_read, though clang visits it twice */
    pte_t lit = (pte_t){ .pte = p[3].pte };       /* pt_read in a compound literal */
    v += (*p).pte + i[p].pte + (&p->pte)[0];      /* three pt_read */
    v += *&p[4].pte + (**pp).pte + ptrs[i]->pte;  /* three pt_read */
    --(*p).pte;                                   /* pt_rmw sub */
    r->ready = 1;                                 /* dev_write, 1 byte (_Bool) */
    r->mode = BUSY;                               /* dev_write, enum */
    r->buf = &v;                                  /* dev_write, a pointer */
    v += r->ready + r->mode + (r->buf != 0);      /* three dev_read */
    v += ((void)p->pte, x);                       /* rewritten, but gcc drops the unused load */
    v += (x++, p[5].pte);                         /* pt_read */
    p[6] = p[7] = lit;                            /* two pt_write, nested */
    return v;
}
