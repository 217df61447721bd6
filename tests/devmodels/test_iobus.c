/* Port-I/O bus and device registry. */
#include "dmtest.h"

#include <string.h>

/* A byte-wide device that records what it sees. */
struct byte_dev {
	uint8_t reg[4];
	unsigned accesses;
	unsigned last_len;
};

static bool byte_dev_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len,
			bool is_write, void *opaque)
{
	struct byte_dev *d = opaque;
	uint8_t *b = data;

	if (len != 1)
		return false;
	d->accesses++;
	d->last_len = len;
	if (is_write)
		d->reg[addr & 3] = *b;
	else
		*b = d->reg[addr & 3];
	return true;
}

/* A device that takes any width. */
static bool wide_dev_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len,
			bool is_write, void *opaque)
{
	struct byte_dev *d = opaque;

	d->accesses++;
	d->last_len = len;
	if (!is_write)
		memset(data, 0x5a, len);
	return true;
}

static void test_register_rules(void)
{
	struct dm_iobus bus;
	struct byte_dev d = { { 0 }, 0, 0 };
	unsigned i;

	dm_iobus_init(&bus);
	CHECK_EQ(dm_iobus_register(&bus, 0x100, 4, byte_dev_io, &d, "a"), DM_OK);
	CHECK_EQ(dm_iobus_register(&bus, 0x103, 2, byte_dev_io, &d, "overlap"), DM_EBUSY);
	CHECK_EQ(dm_iobus_register(&bus, 0xfe, 3, byte_dev_io, &d, "overlap"), DM_EBUSY);
	CHECK_EQ(dm_iobus_register(&bus, 0x104, 1, byte_dev_io, &d, "adjacent"), DM_OK);
	CHECK_EQ(dm_iobus_register(&bus, 0xffff, 2, byte_dev_io, &d, "past end"), DM_EINVAL);
	CHECK_EQ(dm_iobus_register(&bus, 0x200, 0, byte_dev_io, &d, "empty"), DM_EINVAL);
	CHECK_EQ(dm_iobus_register(&bus, 0x200, 1, NULL, &d, "no fn"), DM_EINVAL);
	CHECK_EQ(dm_iobus_register(&bus, 0xffff, 1, byte_dev_io, &d, "last port"), DM_OK);
	for (i = bus.nr_ranges; i < DM_IOBUS_MAX_RANGES; i++)
		CHECK_EQ(dm_iobus_register(&bus, (uint16_t)(0x1000 + i), 1, byte_dev_io, &d, "x"),
			 DM_OK);
	CHECK_EQ(dm_iobus_register(&bus, 0x2000, 1, byte_dev_io, &d, "full"), DM_ENOSPC);
	CHECK(dm_iobus_find(&bus, 0x103) != NULL);
	CHECK(dm_iobus_find(&bus, 0x105) == NULL);
}

static void test_unclaimed(void)
{
	struct dm_iobus bus;
	uint8_t v[4] = { 1, 2, 3, 4 };

	dm_iobus_init(&bus);
	CHECK(!dm_iobus_access(&bus, NULL, 0x80, v, 1, true)); /* Linux's io delay port */
	CHECK_EQ(bus.unclaimed_writes, 1);
	CHECK_EQ(io_inb(&bus, 0x3f8), 0xff);
	CHECK_EQ(io_inl(&bus, 0xcfc), 0xffffffffu);
	CHECK_EQ(bus.unclaimed_reads, 2);
	CHECK(!dm_iobus_access(&bus, NULL, 0x80, v, 3, false)); /* not an x86 width */
}

static void test_split_and_partial(void)
{
	struct dm_iobus bus;
	struct byte_dev d = { { 0x11, 0x22, 0x33, 0x44 }, 0, 0 };
	struct byte_dev w = { { 0 }, 0, 0 };

	dm_iobus_init(&bus);
	dm_iobus_register(&bus, 0x100, 2, byte_dev_io, &d, "byte");
	dm_iobus_register(&bus, 0x300, 4, wide_dev_io, &w, "wide");

	/* inw on an 8-bit device: two byte cycles, as on ISA. */
	CHECK_EQ(io_inw(&bus, 0x100), 0x2211);
	CHECK_EQ(d.accesses, 2);
	CHECK_EQ(d.last_len, 1);
	io_outw(&bus, 0x100, 0xbeef);
	CHECK_EQ(d.reg[0], 0xef);
	CHECK_EQ(d.reg[1], 0xbe);

	/* inl half on the device, half on nothing: floating bytes read 0xff. */
	CHECK_EQ(io_inl(&bus, 0x0ff), 0xffbeefffu);
	CHECK_EQ(bus.unclaimed_reads, 1);

	/* A device that takes the whole width gets one access. */
	CHECK_EQ(io_inl(&bus, 0x300), 0x5a5a5a5au);
	CHECK_EQ(w.accesses, 1);
	CHECK_EQ(w.last_len, 4);
	CHECK_EQ(bus.unclaimed_reads, 1);
}

/* ---- registry ---- */

struct fake_dev {
	const char *name;
	char *log;
	int init_result;
	uint64_t deadline;
	uint64_t advanced_to;
};

static int fake_init(void *dev, struct dm_iobus *bus)
{
	struct fake_dev *f = dev;

	strcat(f->log, f->name);
	return f->init_result;
}

static uint64_t fake_deadline(void *dev, uint64_t now_ns)
{
	return ((struct fake_dev *)dev)->deadline;
}

static void fake_advance(void *dev, uint64_t now_ns)
{
	((struct fake_dev *)dev)->advanced_to = now_ns;
}

static const struct dm_device_ops core_ops = { "core", DM_INIT_CORE, fake_init, fake_deadline,
					       fake_advance };
static const struct dm_device_ops dev_ops = { "dev", DM_INIT_DEV, fake_init, fake_deadline,
					      fake_advance };
static const struct dm_device_ops late_ops = { "late", DM_INIT_LATE, fake_init, NULL, NULL };

static void test_registry_levels(void)
{
	char log[32] = "";
	struct fake_dev a = { "a", log, 0, 500, 0 }, b = { "b", log, 0, 300, 0 };
	struct fake_dev c = { "c", log, 0, DM_NO_DEADLINE, 0 }, d = { "d", log, 0, 0, 0 };
	struct dm_registry reg;
	struct dm_iobus bus;

	dm_iobus_init(&bus);
	dm_registry_init(&reg);
	/* Registered out of order; init runs core, then dev, then late. */
	CHECK_EQ(dm_registry_add(&reg, &late_ops, &d), DM_OK);
	CHECK_EQ(dm_registry_add(&reg, &dev_ops, &a), DM_OK);
	CHECK_EQ(dm_registry_add(&reg, &core_ops, &b), DM_OK);
	CHECK_EQ(dm_registry_add(&reg, &dev_ops, &c), DM_OK);
	CHECK_EQ(dm_registry_init_all(&reg, &bus), DM_OK);
	CHECK(!strcmp(log, "bacd"));

	CHECK_EQ(dm_registry_next_deadline(&reg, 0), 300);
	dm_registry_advance(&reg, 1234);
	CHECK_EQ(a.advanced_to, 1234);
	CHECK_EQ(b.advanced_to, 1234);
	CHECK_EQ(c.advanced_to, 1234);
}

static void test_registry_errors(void)
{
	char log[32] = "";
	struct fake_dev a = { "a", log, 0, 0, 0 }, b = { "b", log, DM_EBUSY, 0, 0 };
	struct fake_dev c = { "c", log, 0, 0, 0 };
	static const struct dm_device_ops bad_level = { "bad", DM_INIT_NR_LEVELS, NULL, NULL, NULL };
	struct dm_registry reg;
	struct dm_iobus bus;
	unsigned i;

	dm_iobus_init(&bus);
	dm_registry_init(&reg);
	CHECK_EQ(dm_registry_add(&reg, &bad_level, &a), DM_EINVAL);
	CHECK_EQ(dm_registry_add(&reg, NULL, &a), DM_EINVAL);
	dm_registry_add(&reg, &core_ops, &a);
	dm_registry_add(&reg, &dev_ops, &b);
	dm_registry_add(&reg, &late_ops, &c);
	CHECK_EQ(dm_registry_init_all(&reg, &bus), DM_EBUSY);
	CHECK(!strcmp(log, "ab")); /* stopped at the failing device */
	CHECK_EQ(dm_registry_next_deadline(&reg, 0), 0);

	dm_registry_init(&reg);
	CHECK_EQ(dm_registry_next_deadline(&reg, 0), DM_NO_DEADLINE);
	for (i = 0; i < DM_REGISTRY_MAX; i++)
		CHECK_EQ(dm_registry_add(&reg, &late_ops, &c), DM_OK);
	CHECK_EQ(dm_registry_add(&reg, &late_ops, &c), DM_ENOSPC);
}

static void test_scale(void)
{
	/* Exact against 128-bit arithmetic, including values near 2^64 / mul. */
	static const uint64_t samples[] = { 0, 1, 999999999, 1000000000, 123456789012345ull,
					    0x0123456789abcdefull, 15461882265600000ull };
	unsigned i;

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		uint64_t a = samples[i];
		unsigned __int128 p = (unsigned __int128)a * 1193182u;

		CHECK_EQ(dm_scale(a, 1193182u, DM_NS_PER_SEC), (uint64_t)(p / DM_NS_PER_SEC));
		CHECK_EQ(dm_scale_ceil(a, 1193182u, DM_NS_PER_SEC),
			 (uint64_t)((p + DM_NS_PER_SEC - 1) / DM_NS_PER_SEC));
	}
	CHECK_EQ(dm_bcd_to_bin(0x59), 59);
	CHECK_EQ(dm_bin_to_bcd(59), 0x59);
}

int main(int argc, char **argv)
{
	static const struct dmtest tests[] = {
		DMTEST(test_register_rules),
		DMTEST(test_unclaimed),
		DMTEST(test_split_and_partial),
		DMTEST(test_registry_levels),
		DMTEST(test_registry_errors),
		DMTEST(test_scale),
	};

	return dmtest_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
