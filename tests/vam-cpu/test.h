/*
 * A minimal test harness: CHECK/CHECK_EQ record a failure with its line and
 * carry on; each group is a list of named cases (test_main.c).
 */
#ifndef VAM_CPU_TEST_H
#define VAM_CPU_TEST_H

#include <stdint.h>

void test_fail(const char *file, int line, const char *what);
void test_fail_eq(const char *file, int line, const char *a, const char *b, uint64_t va,
                  uint64_t vb);

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (!(cond))                                                                          \
            test_fail(__FILE__, __LINE__, #cond);                                             \
    } while (0)

#define CHECK_EQ(a, b)                                                                        \
    do {                                                                                      \
        uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                          \
        if (check_a_ != check_b_)                                                             \
            test_fail_eq(__FILE__, __LINE__, #a, #b, check_a_, check_b_);                     \
    } while (0)

struct test_case {
    const char *name;
    void (*fn)(void);
};

#define TEST_GROUP_END {0, 0}

extern const struct test_case walk_tests[], shadow_tests[], inject_tests[], iret_tests[],
    syscall_tests[], irq_tests[], desc_tests[], track_tests[];

#endif
