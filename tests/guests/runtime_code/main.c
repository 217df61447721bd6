/*
 * Sensitive instructions in code the guest writes at run time: machine code
 * copied into a page and called, as a kernel does when it patches itself
 * (alternatives, text_poke).  Those instructions have no site, so a VAM
 * must catch them when they trap in its deprivileged guest and perform them
 * anyway.  The bytes are data here (the afterburner never sees them).
 */
#include <guest/test.h>

const char test_title[] = "Sensitive instructions in code written at run time (no sites)";

typedef uint64_t (*code_fn)(void);

struct code_case {
    const char *name;
    uint8_t bytes[24];
    unsigned len;
};

static const struct code_case cases[] = {
    { "cli; ret", { 0xfa, 0xc3 }, 2 },
    { "sti; ret", { 0xfb, 0xc3 }, 2 },
    { "mov %cr0, %rax; ret", { 0x0f, 0x20, 0xc0, 0xc3 }, 4 },
    /* COM1 scratch register (0x3ff): out 0x5a, read it back */
    { "out/in scratch register", { 0xba, 0xff, 0x03, 0x00, 0x00, 0xb0, 0x5a, 0xee, 0x31, 0xc0,
                                   0xec, 0xc3 }, 12 },
    /* rdmsr STAR into rax */
    { "rdmsr STAR", { 0xb9, 0x81, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x48, 0xc1, 0xe2, 0x20, 0x48,
                      0x09, 0xd0, 0xc3 }, 15 },
};

static uint64_t run_code(uint8_t *page, const struct code_case *c)
{
    memcpy(page, c->bytes, c->len);
    return ((code_fn)(uintptr_t)page)();
}

void test_main(void)
{
    uint8_t *page = alloc_page();
    uint64_t v;

    sti();
    run_code(page, &cases[0]);
    check(!irqs_enabled(), "%s: interrupts still enabled", cases[0].name);

    run_code(page, &cases[1]);
    check(irqs_enabled(), "%s: interrupts still disabled", cases[1].name);
    cli();

    v = run_code(page, &cases[2]);
    check_eq(v, read_cr0(), cases[2].name);

    v = run_code(page, &cases[3]);
    check_eq(v & 0xff, 0x5a, cases[3].name);

    v = run_code(page, &cases[4]);
    check_eq(v, rdmsr(MSR_STAR), cases[4].name);

    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
        test_info("ran '%s' from a page written at run time\n", cases[i].name);
}
