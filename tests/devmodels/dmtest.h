/*
 * A small test runner for the device-model unit tests, plus the pieces of
 * a fake platform every test needs: an interrupt-line recorder and port
 * I/O through a dm_iobus, as a guest would do it.
 */
#ifndef DMTEST_H
#define DMTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <devmodels/dm.h>

void dmtest_fail(const char *file, int line, const char *expr);
void dmtest_fail_values(const char *file, int line, const char *expr, unsigned long long a,
			unsigned long long b);

/* Failures are recorded and the test goes on, so one run shows them all. */
#define CHECK(cond)                                                      \
	do {                                                             \
		if (!(cond))                                             \
			dmtest_fail(__FILE__, __LINE__, #cond);          \
	} while (0)

#define CHECK_EQ(a, b)                                                          \
	do {                                                                    \
		unsigned long long a_ = (unsigned long long)(a);                \
		unsigned long long b_ = (unsigned long long)(b);                \
		if (a_ != b_)                                                   \
			dmtest_fail_values(__FILE__, __LINE__, #a " == " #b, a_, b_); \
	} while (0)

struct dmtest {
	const char *name;
	void (*fn)(void);
};

#define DMTEST(fn) { #fn, fn }

/* Failed checks so far in the running test. */
unsigned dmtest_failures(void);

/* Runs all tests, or those named on the command line; exit status 0 = pass. */
int dmtest_main(const struct dmtest *tests, size_t n, int argc, char **argv);

/* Interrupt lines 0..31: current level and edges seen. */
struct irq_recorder {
	bool level[32];
	unsigned rises[32];
	unsigned falls[32];
	unsigned calls;       /* set() calls, to check models report changes only */
	uint64_t last_rise_ns[32];
	const uint64_t *clock; /* optional: time stamps for last_rise_ns */
};

void irq_recorder_init(struct irq_recorder *rec);
struct dm_irq_line irq_recorder_line(struct irq_recorder *rec);

/* Guest port I/O through the bus. */
uint8_t io_inb(struct dm_iobus *bus, uint16_t port);
void io_outb(struct dm_iobus *bus, uint16_t port, uint8_t value);
uint16_t io_inw(struct dm_iobus *bus, uint16_t port);
uint32_t io_inl(struct dm_iobus *bus, uint16_t port);
void io_outw(struct dm_iobus *bus, uint16_t port, uint16_t value);
void io_outl(struct dm_iobus *bus, uint16_t port, uint32_t value);

#endif
