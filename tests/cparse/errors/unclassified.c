/* Accesses afterburn-cparse cannot turn into one annotated mov: each is
 * reported with its file:line and left exactly as written. */
#include "../snippets/common.h"

typedef struct { unsigned long present : 1, pfn : 51; } bpte_t;   /* listed, with bit-fields */
struct holder { pte_t pte; int other; };           /* contains a pte_t */
typedef struct { pteval_t lo, hi; } pte_pair_t;    /* listed, 16 bytes */

static inline void clear_bit(long nr, volatile unsigned long *addr)
{
    asm volatile("btrq %1,%0" : "+m" (*addr) : "Ir" (nr) : "memory");
}

void copy_table(pte_t *dst, pte_t *src, int n)
{
    __builtin_memcpy(dst, src, n * sizeof(pte_t));       /* memcpy of a pte_t array (2) */
}

void wrprotect(pte_t *ptep)
{
    clear_bit(1, (unsigned long *)&ptep->pte);           /* address escapes as unsigned long * */
}

pteval_t exchange(pte_t *ptep)
{
    return __atomic_exchange_n(&ptep->pte, 0, __ATOMIC_SEQ_CST);   /* atomic builtin */
}

void asm_operand(pte_t *ptep)
{
    asm volatile("orq $1, %0" : "+m" (*ptep));           /* an asm memory operand */
}

unsigned long cast_away(pmd_t *pmdp)
{
    unsigned long *raw = (unsigned long *)pmdp;          /* pointer cast to another type */
    return *raw;
}

void struct_copy(struct holder *a, struct holder *b)
{
    *a = *b;                                             /* a struct with a pte_t inside (2) */
}

unsigned long bitfield(bpte_t *p)
{
    p->present = 1;                                      /* a bit-field store */
    return p->pfn;                                       /* a bit-field load */
}

void wide(pte_pair_t *a, pte_pair_t *b)
{
    *a = *b;                                             /* 16 bytes: not one register (2) */
}

pteval_t generic(pte_t *p, unsigned long x)
{
    return _Generic(x, unsigned long: p->pte, default: 0);   /* the value of a _Generic */
}
