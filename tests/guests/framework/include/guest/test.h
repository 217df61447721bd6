/*
 * What a test provides and what it may call.  A test is one main.c:
 *
 *   #include <guest/test.h>
 *   const char test_title[] = "What this checks";
 *   void test_main(void) { ... check(...) ...; }
 *
 * The framework boots, prints the title, runs test_main() with interrupts
 * off, then prints the last console line "Test result: <RESULT>" and ends
 * the guest.  RESULT is the worst reported: SUCCESS (nothing reported) <
 * SKIP < ERROR < FAILURE.  A crash (panic, unexpected exception, hang)
 * prints no result line.
 */
#ifndef GUEST_TEST_H
#define GUEST_TEST_H

#include <guest/apic.h>
#include <guest/boot.h>
#include <guest/desc.h>
#include <guest/lib.h>
#include <guest/paging.h>
#include <guest/traps.h>
#include <guest/user.h>
#include <guest/x86.h>

extern const char test_title[];
void test_main(void);

/* The tested behaviour is wrong. */
void test_fail(const char *fmt, ...) __printf(1, 2);
/* The test could not do what it meant to (framework or set-up problem). */
void test_error(const char *fmt, ...) __printf(1, 2);
/* The platform lacks what the test needs; usually followed by return. */
void test_skip(const char *fmt, ...) __printf(1, 2);
/* Informational line, prefixed so it stands out from results. */
#define test_info(...) printk("  " __VA_ARGS__)

/* Running under QEMU's TCG (CPUID 0x40000000 signature "TCGTCGTCGTCG")?
 * For known emulator deviations that a test reports instead of failing. */
bool platform_is_qemu_tcg(void);

/* With interrupts enabled for the duration only: wait until *counter
 * reaches target (true) or timeout_us passes (false); or just let time
 * pass.  Busy-waits (no hlt), so a lost interrupt cannot hang the guest. */
bool irq_wait(volatile unsigned *counter, unsigned target, uint64_t timeout_us);
void irq_window_us(uint64_t us);

/* Failure count so far (test_fail calls). */
extern unsigned test_failures;

/* check(cond, "what"): reports FAILURE with the condition and location. */
#define check(cond, ...)                                                      \
    ({ bool _ok = (cond);                                                     \
       if (!_ok) { test_fail(__VA_ARGS__); printk("    at %s:%d: %s\n",       \
                                                  __FILE__, __LINE__, #cond); } \
       _ok; })

/* check_eq(a, b, "what"): both printed in hex when they differ. */
#define check_eq(a, b, what)                                                  \
    ({ uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b); bool _ok = _a == _b;  \
       if (!_ok) test_fail("%s: got %#lx, expected %#lx (%s:%d)", what,      \
                           (unsigned long)_a, (unsigned long)_b, __FILE__, __LINE__); \
       _ok; })

/* check_ex(ex, expected, "what"): compares two exinfo_t values. */
#define check_ex(ex, exp, what)                                               \
    ({ exinfo_t _e = (ex), _x = (exp); bool _ok = _e == _x;                   \
       if (!_ok) test_fail("%s: got %s, expected %s (%s:%d)", what,          \
                           exinfo_str(_e).s, exinfo_str(_x).s, __FILE__, __LINE__); \
       _ok; })

#endif
