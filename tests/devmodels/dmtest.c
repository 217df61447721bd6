#include "dmtest.h"

#include <stdio.h>
#include <string.h>

static const char *current_test;
static unsigned failures_in_test;

void dmtest_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "%s:%d: %s: check failed: %s\n", file, line, current_test, expr);
	failures_in_test++;
}

void dmtest_fail_values(const char *file, int line, const char *expr, unsigned long long a,
			unsigned long long b)
{
	fprintf(stderr, "%s:%d: %s: check failed: %s (0x%llx = %llu vs 0x%llx = %llu)\n", file,
		line, current_test, expr, a, a, b, b);
	failures_in_test++;
}

unsigned dmtest_failures(void)
{
	return failures_in_test;
}

static bool selected(const char *name, int argc, char **argv)
{
	int i;

	if (argc < 2)
		return true;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

int dmtest_main(const struct dmtest *tests, size_t n, int argc, char **argv)
{
	unsigned failed = 0, run = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!selected(tests[i].name, argc, argv))
			continue;
		current_test = tests[i].name;
		failures_in_test = 0;
		tests[i].fn();
		run++;
		printf("%s %s\n", failures_in_test ? "FAIL" : "ok  ", tests[i].name);
		if (failures_in_test)
			failed++;
	}
	printf("%u of %u tests failed\n", failed, run);
	return failed || run == 0;
}

static void recorder_set(void *opaque, unsigned line, bool level)
{
	struct irq_recorder *rec = opaque;

	rec->calls++;
	if (line >= 32)
		return;
	if (level && !rec->level[line]) {
		rec->rises[line]++;
		rec->last_rise_ns[line] = rec->clock ? *rec->clock : 0;
	}
	if (!level && rec->level[line])
		rec->falls[line]++;
	rec->level[line] = level;
}

void irq_recorder_init(struct irq_recorder *rec)
{
	memset(rec, 0, sizeof(*rec));
}

struct dm_irq_line irq_recorder_line(struct irq_recorder *rec)
{
	struct dm_irq_line line = { .set = recorder_set, .opaque = rec };

	return line;
}

uint8_t io_inb(struct dm_iobus *bus, uint16_t port)
{
	uint8_t v = 0;

	dm_iobus_access(bus, NULL, port, &v, 1, false);
	return v;
}

void io_outb(struct dm_iobus *bus, uint16_t port, uint8_t value)
{
	dm_iobus_access(bus, NULL, port, &value, 1, true);
}

uint16_t io_inw(struct dm_iobus *bus, uint16_t port)
{
	uint8_t b[2] = { 0, 0 };

	dm_iobus_access(bus, NULL, port, b, 2, false);
	return (uint16_t)(b[0] | b[1] << 8);
}

uint32_t io_inl(struct dm_iobus *bus, uint16_t port)
{
	uint8_t b[4] = { 0, 0, 0, 0 };

	dm_iobus_access(bus, NULL, port, b, 4, false);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

void io_outw(struct dm_iobus *bus, uint16_t port, uint16_t value)
{
	uint8_t b[2] = { (uint8_t)value, (uint8_t)(value >> 8) };

	dm_iobus_access(bus, NULL, port, b, 2, true);
}

void io_outl(struct dm_iobus *bus, uint16_t port, uint32_t value)
{
	uint8_t b[4] = { (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
			 (uint8_t)(value >> 24) };

	dm_iobus_access(bus, NULL, port, b, 4, true);
}
