/* Sensitive types reached through typedef chains, typeof and tags. */
#include "common.h"

typedef pte_t my_pte_t;            /* a chain: my_pte_t -> pte_t */
typedef my_pte_t my_pte2_t;        /* and one more */
typedef pte_t *pte_ptr_t;          /* a pointer typedef */
typedef const pte_t cpte_t;        /* qualified */
struct dev_regs { u32 status; u32 control; };
typedef struct dev_regs dev_regs_t;
typedef u32 reg32_t;

unsigned long chain(my_pte2_t *a, pte_ptr_t b, cpte_t *c, typeof(*b) *d)
{
    my_pte_t x = *a;                       /* pt_read (my_pte_t) */
    *b = x;                                /* pt_write */
    return c->pte + d->pte;                /* two pt_read */
}

u32 tagged(dev_regs_t *r, struct dev_regs *s)
{
    r->control = 1;                        /* dev_write: member of struct dev_regs */
    return s->status;                      /* dev_read */
}

u32 scalar(reg32_t *p, u32 *q)
{
    *p = 5;                                /* dev_write: reg32_t is listed */
    return *q;                             /* not sensitive: u32 */
}
