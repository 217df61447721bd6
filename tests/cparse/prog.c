/*
 * A program whose page-table-like accesses afterburn-cparse rewrites; the
 * tests build it natively and through `gcc -B<dir>/ -no-integrated-cpp`
 * and require the same output, and check the memory sites of the
 * rewritten object with afterburn-inspect.
 */
#include "snippets/common.h"

#include <stdio.h>
#include <string.h>

typedef pte_t my_pte_t;
struct mm { int users; pte_t pte; pmd_t pmds[4]; pte_t table[2][8]; };
struct dev_regs { u32 status; u32 control; unsigned char fifo; unsigned short word; };

pte_t table[64];
static pmd_t dir[8];
static struct mm mm0;
static struct dev_regs regs;

static inline void set_pte(pte_t *ptep, pte_t pte) { WRITE_ONCE(*ptep, pte); }
static inline pte_t ptep_get(pte_t *ptep) { return READ_ONCE(*ptep); }

/* Never called: an afterburn-as site next to the memory sites. */
void irq_off(void);
void irq_off(void)
{
    asm volatile("cli");
}

static unsigned long mix(unsigned long h, unsigned long v)
{
    return (h ^ v) * 0x100000001b3ul;
}

__attribute__((noinline)) static unsigned long walk(pte_t *t, int n)
{
    unsigned long h = 14695981039346656037ul;
    for (int i = 0; i < n; i++) {
        pte_t e = ptep_get(&t[i]);                 /* pt_read, volatile */
        if (e.pte & 1)
            h = mix(h, t[i].pte);                  /* pt_read */
    }
    return h;
}

__attribute__((noinline)) static void fill(pte_t *t, int n, unsigned long base)
{
    for (int i = 0; i < n; i++)
        set_pte(&t[i], native_make_pte(base + ((unsigned long)i << 12) + (i & 1)));  /* pt_write */
}

__attribute__((noinline)) static unsigned long bits(pte_t *t, my_pte_t *u, int n)
{
    unsigned long r = 0;
    for (int i = 0; i < n; i++) {
        t[i].pte |= 0x60;                          /* pt_rmw or */
        t[i].pte &= ~0x20ul;                       /* pt_rmw and */
        t[i].pte ^= 0x2;                           /* pt_rmw xor */
        r += (t[i].pte <<= 1);                     /* split */
        u[i].pte += 3;                             /* pt_rmw add */
        r += u[i].pte++;                           /* split */
    }
    return r;
}

__attribute__((noinline)) static unsigned long structs(struct mm *m, pmd_t *d)
{
    m->pte = table[3];                             /* pt_write + pt_read */
    for (int i = 0; i < 4; i++)
        m->pmds[i].pmd = d[i].pmd + (unsigned long)i;   /* pt_write + pt_read */
    m->table[1][2] = m->table[0][5];               /* pt_write + pt_read */
    m->table[0][5].pte--;                          /* pt_rmw sub */
    pte_t local = m->pte;                          /* pt_read */
    local.pte |= 0x8000;                           /* local: no site */
    m->table[1][7] = local;                        /* pt_write */
    return m->pte.pte + m->pmds[3].pmd + m->table[1][2].pte + m->table[0][5].pte;
}

__attribute__((noinline)) static unsigned long device(struct dev_regs *r)
{
    r->control = 0x3;                              /* dev_write 4 */
    r->control |= 0x10;                            /* dev_rmw 4 */
    r->fifo = 0x5a;                                /* dev_write 1 */
    r->word += 0x101;                              /* dev_rmw 2 */
    return r->control + r->fifo + r->word + r->status;   /* dev_read 4, 1, 2, 4 */
}

static pte_t *ptrs[4];

__attribute__((noinline)) static unsigned long exprs(pte_t *p, pte_t **pp, int i,
                                                     struct dev_regs *r, unsigned long x)
{
    unsigned long v = p->pte ?: x;                 /* pt_read */
    pte_t lit = (pte_t){ .pte = p[3].pte };        /* pt_read */
    v += (*p).pte + i[p].pte + (&p->pte)[0];       /* pt_read x3 */
    v += *&p[4].pte + (**pp).pte + ptrs[i]->pte;   /* pt_read x3 */
    --(*p).pte;                                    /* pt_rmw */
    v += (x++, p[5].pte);                          /* pt_read */
    p[6] = p[7] = lit;                             /* pt_write x2 */
    r->status = (u32)v;                            /* dev_write */
    return v + x + p[6].pte;                       /* pt_read */
}

int main(int argc, char **argv)
{
    (void)argv;
    if (argc > 5)
        irq_off();
    fill(table, 64, 0x100000);
    for (int i = 0; i < 8; i++)
        dir[i].pmd = 0x2000ul * (unsigned long)(i + 1);   /* pt_write */
    printf("walk %lx\n", walk(table, 64));
    printf("bits %lx\n", bits(table, table + 32, 16));
    printf("walk %lx\n", walk(table, 64));
    mm0.table[0][5].pte = 77;
    printf("structs %lx\n", structs(&mm0, dir));
    printf("device %lx\n", device(&regs));
    pte_t *pp = &table[9];
    ptrs[2] = &table[11];
    printf("exprs %lx\n", exprs(table + 20, &pp, 2, &regs, 5));
    printf("after %lx %lx %lx\n", table[20].pte, table[26].pte, table[27].pte);
    pte_t snapshot[4];
    memcpy(snapshot, table, sizeof snapshot);      /* reported, left as it is */
    printf("snapshot %lx %lx\n", snapshot[0].pte, snapshot[3].pte);
    return 0;
}
