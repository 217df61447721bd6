/* Does not parse: afterburn-cparse must fail and write nothing. */
#include "../snippets/common.h"

pteval_t broken(pte_t *p)
{
    return p->pte +;
}
