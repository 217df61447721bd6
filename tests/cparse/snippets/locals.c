/* Locals and parameters live in registers or on the stack: not annotated. */
#include "common.h"

pteval_t locals(pte_t pte)
{
    pte_t copy = pte;                      /* parameter -> local: nothing */
    pte_t arr[4] = { pte };                /* local array: nothing */
    copy.pte |= 1;                         /* local member: nothing */
    arr[2] = copy;                         /* local array element: nothing */
    pte_t once = READ_ONCE(copy);          /* READ_ONCE of a local: nothing */
    pteval_t v = native_make_pte(5).pte;   /* member of a returned value: nothing */
    v += (pte_t){ 7 }.pte;                 /* compound literal: nothing */
    v += native_pte_val(arr[2]);           /* nothing */
    pte = once;                            /* parameter: nothing */
    return v + pte.pte + copy.pte;
}
