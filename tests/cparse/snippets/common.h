/* Types and macros shared by the snippets, in the style of Linux 6.1. */
typedef unsigned long pteval_t;
typedef unsigned long pmdval_t;
typedef struct { pteval_t pte; } pte_t;
typedef struct { pmdval_t pmd; } pmd_t;
typedef unsigned int u32;

#define __scalar_type_to_expr_cases(type) \
        unsigned type: (unsigned type)0, signed type: (signed type)0
#define __unqual_scalar_typeof(x) typeof( \
        _Generic((x), char: (char)0, __scalar_type_to_expr_cases(char), \
                 __scalar_type_to_expr_cases(short), __scalar_type_to_expr_cases(int), \
                 __scalar_type_to_expr_cases(long), __scalar_type_to_expr_cases(long long), \
                 default: (x)))
#define __READ_ONCE(x) (*(const volatile __unqual_scalar_typeof(x) *)&(x))
#define compiletime_assert_rwonce_type(t) \
        _Static_assert(sizeof(t) == 1 || sizeof(t) == 2 || sizeof(t) == 4 || sizeof(t) == 8, \
                       "unsupported access size")
#define READ_ONCE(x) ({ compiletime_assert_rwonce_type(x); __READ_ONCE(x); })
#define __WRITE_ONCE(x, val) do { *(volatile typeof(x) *)&(x) = (val); } while (0)
#define WRITE_ONCE(x, val) do { compiletime_assert_rwonce_type(x); __WRITE_ONCE(x, val); } while (0)

static inline pte_t native_make_pte(pteval_t val) { return (pte_t) { val }; }
static inline pteval_t native_pte_val(pte_t pte) { return pte.pte; }
