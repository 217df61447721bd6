/* A freestanding program with memory sites and afterburn-as sites, for the
 * VAM loader test (vam-skip.sh); it is loaded, never run. */
#include "snippets/common.h"

pte_t table[8];
pmd_t dir[2];

static inline void set_pte(pte_t *ptep, pte_t pte) { WRITE_ONCE(*ptep, pte); }

void _start(void);
void _start(void)
{
    for (int i = 0; i < 8; i++)
        set_pte(&table[i], native_make_pte((unsigned long)i << 12));
    table[1].pte |= 4;
    dir[0].pmd = table[2].pte;
    asm volatile("cli");
    for (;;)
        asm volatile("hlt");
}
