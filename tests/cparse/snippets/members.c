/* Struct members, nested members, arrays, globals and static locals. */
#include "common.h"

struct mm { int users; pte_t pte; pmd_t pmds[4]; pte_t table[2][8]; };
struct wrap { struct mm mm; };
typedef struct { pte_t inner; } outer_t;  /* a struct around a pte_t */

pte_t gtable[16];
pmd_t gpmd;

void members(struct mm *mm, struct wrap *w, outer_t *o, int i)
{
    mm->pte = gtable[i];                   /* pt_write + pt_read of a global array */
    mm->pmds[i].pmd = 3;                   /* pt_write of a member of an element */
    mm->table[i][1] = mm->table[1][i];     /* pt_write + pt_read, 2-D array */
    w->mm.pte.pte = gpmd.pmd;              /* pt_write (nested) + pt_read (global) */
    o->inner.pte = 0;                      /* pt_write */
    mm->users = 1;                         /* not sensitive */
}

pteval_t statics(void)
{
    static pte_t cache;                    /* static storage: memory */
    cache.pte++;                           /* pt_rmw */
    return cache.pte;                      /* pt_read */
}

pte_t *index_ptr(pte_t *base, int i)
{
    return &base[i];                       /* address arithmetic: no access */
}
