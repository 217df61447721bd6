/* Operands the compiler does not evaluate are left alone. */
#include "common.h"
#include <stddef.h>

unsigned long unevaluated(pte_t *p)
{
    unsigned long n = sizeof(*p) + sizeof p->pte + _Alignof(pte_t);
    typeof(p->pte) t = 0;                  /* typeof: no access */
    __typeof__(*p) copy = { 0 };
    n += __builtin_constant_p(p->pte);
    n += __builtin_types_compatible_p(typeof(*p), pte_t);
    n += offsetof(pte_t, pte);
    n += _Generic(*p, pte_t: 1, default: 2);
    return n + t + copy.pte;
}
