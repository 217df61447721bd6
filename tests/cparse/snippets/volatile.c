/* READ_ONCE/WRITE_ONCE as Linux 6.1 spells them, and volatile accesses. */
#include "common.h"

pte_t ptep_get(pte_t *ptep)
{
    return READ_ONCE(*ptep);               /* pt_read, volatile, through the cast */
}

void set_pte(pte_t *ptep, pte_t pte)
{
    WRITE_ONCE(*ptep, pte);                /* pt_write, volatile */
}

pteval_t member_once(pte_t *ptep)
{
    WRITE_ONCE(ptep->pte, 7);              /* pt_write of the member, volatile */
    return READ_ONCE(ptep->pte);           /* pt_read of the member, volatile */
}

void discard(volatile pte_t *vp, pte_t *p)
{
    (void)*vp;                             /* volatile read, value discarded: pt_read */
    *vp;                                   /* the same as a statement */
    (void)*p;                              /* rewritten (clang's tree has the load), but gcc
                                              drops a non-volatile unused load: no record */
}

pteval_t cast_volatile(pte_t *p)
{
    return *(volatile pteval_t *)&p->pte;  /* pt_read, volatile member */
}
