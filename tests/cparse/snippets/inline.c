/* Accesses inside inline functions, and accessor functions from the config. */
#include "common.h"

static inline void native_set_pte(pte_t *ptep, pte_t pte) { WRITE_ONCE(*ptep, pte); }
static inline pte_t native_get_pte(pte_t *ptep) { return *ptep; }

/* Listed as an accessor: its accesses are page-table accesses whatever the type. */
static inline void raw_pt_write(unsigned long *slot, unsigned long v)
{
    *slot = v;                             /* pt_write, by the accessor line */
}

struct dev_regs { u32 status; u32 control; };
/* Listed as a dev_write accessor. */
static inline void dev_write32(void *base, unsigned long off, u32 v)
{
    *(volatile u32 *)((char *)base + off) = v;   /* dev_write */
}

void user(pte_t *a, pte_t *b, unsigned long *raw, void *regs)
{
    native_set_pte(a, native_get_pte(b));  /* no access here: the calls */
    raw_pt_write(raw, 1);
    dev_write32(regs, 4, 1);
}
