/*
 * vam-cpu-tests GROUP: runs one group of cases (ctest runs each group as a
 * test); with no argument, every group.
 */
#include "test.h"

#include <stdio.h>
#include <string.h>

static unsigned failures;
static const char *current;

void test_fail(const char *file, int line, const char *what)
{
    failures++;
    printf("  FAIL %s: %s:%d: %s\n", current, file, line, what);
}

void test_fail_eq(const char *file, int line, const char *a, const char *b, uint64_t va,
                  uint64_t vb)
{
    failures++;
    printf("  FAIL %s: %s:%d: %s == %s: %#llx != %#llx\n", current, file, line, a, b,
           (unsigned long long)va, (unsigned long long)vb);
}

static const struct {
    const char *name;
    const struct test_case *cases;
} groups[] = {
    {"walk", walk_tests},       {"shadow", shadow_tests}, {"inject", inject_tests},
    {"iret", iret_tests},       {"syscall", syscall_tests}, {"irq", irq_tests},
    {"desc", desc_tests},       {"track", track_tests},
};

static unsigned run_group(const struct test_case *cases)
{
    unsigned n = 0;
    for (const struct test_case *c = cases; c->name; c++, n++) {
        unsigned before = failures;
        current = c->name;
        c->fn();
        printf("%s %s\n", failures == before ? "ok  " : "FAIL", c->name);
    }
    return n;
}

int main(int argc, char **argv)
{
    unsigned ran = 0, matched = 0;
    for (unsigned g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        if (argc > 1 && strcmp(argv[1], groups[g].name) != 0)
            continue;
        matched++;
        ran += run_group(groups[g].cases);
    }
    if (!matched) {
        fprintf(stderr, "unknown group %s\n", argv[1]);
        return 2;
    }
    printf("%u cases, %u failed checks\n", ran, failures);
    return failures ? 1 : 0;
}
