/* Compound assignment, increments, bit operations. */
#include "common.h"

unsigned long compound(pte_t *p, pmd_t *m, unsigned long bits, int n)
{
    unsigned long r = 0;
    p->pte |= bits;                        /* pt_rmw or */
    p->pte &= ~bits;                       /* pt_rmw and */
    p->pte ^= 1;                           /* pt_rmw xor */
    m->pmd += 8;                           /* pt_rmw add */
    m->pmd -= n;                           /* pt_rmw sub (int operand) */
    p[1].pte <<= 2;                        /* shift: load + store (split) */
    p[2].pte *= 3;                         /* multiply: split */
    r = (p->pte |= 0x10);                  /* value used: split */
    if (m->pmd &= 0xff)                    /* value used by if: split */
        r++;
    ++p->pte;                              /* pt_rmw add 1 */
    p->pte--;                              /* pt_rmw sub 1 */
    r += p[3].pte++;                       /* postfix, value used: split */
    r += --p[4].pte;                       /* prefix, value used: split */
    r += ({ p[5].pte |= 4; });             /* last statement of ({ }): value used, split */
    for (int i = 0; i < n; i++, p[6].pte += 2)   /* for increment after a comma: pt_rmw */
        r ^= 1;
    return r;
}
