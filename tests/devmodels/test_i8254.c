/* 8254 PIT and port 0x61, driven as Linux's i8253/tsc code drives them. */
#include "dmtest.h"

#include <devmodels/i8254.h>

#define CH0 0x40
#define CH2 0x42
#define MODE 0x43
#define PORT_B 0x61

struct fixture {
	struct dm_iobus bus;
	struct dm_registry reg;
	struct i8254 pit;
	struct irq_recorder irq;
	uint64_t now;
};

static void setup(struct fixture *f)
{
	struct i8254_config cfg = { .irq_line = I8254_IRQ };

	irq_recorder_init(&f->irq);
	f->irq.clock = &f->now;
	f->now = 0;
	cfg.irq = irq_recorder_line(&f->irq);
	dm_iobus_init(&f->bus);
	dm_registry_init(&f->reg);
	i8254_init(&f->pit, &cfg);
	dm_registry_add(&f->reg, &i8254_ops, &f->pit);
	CHECK_EQ(dm_registry_init_all(&f->reg, &f->bus), DM_OK);
}

static void at(struct fixture *f, uint64_t ns)
{
	f->now = ns;
	dm_registry_advance(&f->reg, ns);
}

static uint64_t tick_ns(uint64_t tick)
{
	return i8254_ticks_to_ns(tick);
}

static void out(struct fixture *f, uint16_t port, uint8_t v)
{
	io_outb(&f->bus, port, v);
}

static uint8_t in(struct fixture *f, uint16_t port)
{
	return io_inb(&f->bus, port);
}

static void write_count(struct fixture *f, uint16_t port, uint16_t count)
{
	out(f, port, (uint8_t)count);
	out(f, port, (uint8_t)(count >> 8));
}

static uint16_t read_count(struct fixture *f, uint16_t port)
{
	uint8_t lsb = in(f, port);

	return (uint16_t)(lsb | in(f, port) << 8);
}

static uint16_t latched_count(struct fixture *f, unsigned channel)
{
	out(f, MODE, (uint8_t)(channel << 6)); /* counter latch command */
	return read_count(f, (uint16_t)(CH0 + channel));
}

static void test_tick_math(void)
{
	static const uint64_t ticks[] = { 1, 2, 1193, 59659, 1193181, 1193182, 1193183,
					  1000000000000ull };
	uint64_t ten_years = 315360000ull * 1000000000ull;
	unsigned i;

	CHECK_EQ(i8254_ns_to_ticks(1000000000), 1193182);
	CHECK_EQ(i8254_ticks_to_ns(1193182), 1000000000);
	CHECK_EQ(i8254_ns_to_ticks(838), 0); /* one tick is 838.095... ns */
	CHECK_EQ(i8254_ns_to_ticks(839), 1);
	for (i = 0; i < sizeof(ticks) / sizeof(ticks[0]); i++) {
		uint64_t ns = i8254_ticks_to_ns(ticks[i]);

		CHECK_EQ(i8254_ns_to_ticks(ns), ticks[i]);     /* first ns of the tick */
		CHECK_EQ(i8254_ns_to_ticks(ns - 1), ticks[i] - 1);
	}
	CHECK_EQ(i8254_ns_to_ticks(ten_years),
		 (uint64_t)((unsigned __int128)ten_years * 1193182 / 1000000000));
}

/* Linux's periodic clockevent: mode 2, LATCH = 1193 for HZ=1000. */
static void test_mode2_periodic_irq0(void)
{
	struct fixture f;
	uint64_t t0 = 3000000, T0;
	unsigned k, base;

	setup(&f);
	at(&f, t0);
	T0 = i8254_ns_to_ticks(t0);
	out(&f, MODE, 0x34);
	write_count(&f, CH0, 1193);
	CHECK(f.irq.level[0]); /* mode 2 drives OUT high */
	base = f.irq.rises[0];
	for (k = 1; k <= 5; k++) {
		uint64_t fall = tick_ns(T0 + 1193 * k - 1), rise = tick_ns(T0 + 1193 * k);

		CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), fall);
		at(&f, fall);
		CHECK(!f.irq.level[0]); /* low for the one tick before reload */
		CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), rise);
		at(&f, rise - 1);
		CHECK(!f.irq.level[0]);
		at(&f, rise);
		CHECK(f.irq.level[0]);
		CHECK_EQ(f.irq.rises[0], base + k);
		CHECK_EQ(f.irq.last_rise_ns[0], rise);
	}
	/* One period is 1193 ticks = 999847.5 ns: the edges alternate. */
	CHECK_EQ(tick_ns(T0 + 1193 * 2) - tick_ns(T0 + 1193), 999848);
	CHECK_EQ(tick_ns(T0 + 1193 * 3) - tick_ns(T0 + 1193 * 2), 999847);

	at(&f, tick_ns(T0 + 1193 * 5 + 100));
	CHECK_EQ(latched_count(&f, 0), 1093);
	/* Ten periods late: the missed edges still make one interrupt. */
	at(&f, tick_ns(T0 + 1193 * 15 + 7));
	CHECK_EQ(f.irq.rises[0], base + 6);
	CHECK(f.irq.level[0]);
}

static void test_mode3_square_wave(void)
{
	struct fixture f;
	uint64_t T0;

	setup(&f);
	at(&f, 12345);
	T0 = i8254_ns_to_ticks(12345);
	out(&f, MODE, 0x36);
	write_count(&f, CH0, 1000);
	CHECK(f.irq.level[0]);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), tick_ns(T0 + 500));
	at(&f, tick_ns(T0 + 100));
	CHECK_EQ(latched_count(&f, 0), 800); /* counts down by two */
	at(&f, tick_ns(T0 + 500) - 1);
	CHECK(f.irq.level[0]);
	at(&f, tick_ns(T0 + 500));
	CHECK(!f.irq.level[0]);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), tick_ns(T0 + 1000));
	at(&f, tick_ns(T0 + 1000));
	CHECK(f.irq.level[0]);
	CHECK_EQ(f.irq.rises[0], 2);

	/* Odd count: high one tick longer than low. */
	at(&f, tick_ns(T0 + 2000));
	out(&f, MODE, 0x36);
	write_count(&f, CH0, 1001);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), tick_ns(T0 + 2000 + 501));
	at(&f, tick_ns(T0 + 2000 + 500));
	CHECK(f.irq.level[0]);
	at(&f, tick_ns(T0 + 2000 + 501));
	CHECK(!f.irq.level[0]);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), tick_ns(T0 + 2000 + 1001));
}

static void test_mode0_one_shot(void)
{
	struct fixture f;
	uint64_t T0;

	setup(&f);
	at(&f, 1000000);
	T0 = i8254_ns_to_ticks(1000000);
	out(&f, MODE, 0x30);
	write_count(&f, CH0, 0x1000);
	CHECK(!f.irq.level[0]);
	at(&f, tick_ns(T0 + 0x800));
	CHECK_EQ(read_count(&f, CH0), 0x800); /* unlatched LSB, MSB read */
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), tick_ns(T0 + 0x1000));
	at(&f, tick_ns(T0 + 0x1000) - 1);
	CHECK(!f.irq.level[0]);
	at(&f, tick_ns(T0 + 0x1000));
	CHECK(f.irq.level[0]);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), DM_NO_DEADLINE);
	at(&f, tick_ns(T0 + 0x1001));
	CHECK_EQ(latched_count(&f, 0), 0xffff); /* keeps counting, wrapped */
	CHECK_EQ(f.irq.rises[0], 1);

	/* pit_shutdown(): mode 0 with count 0 means 65536. */
	at(&f, tick_ns(T0 + 0x2000));
	out(&f, MODE, 0x30);
	CHECK(!f.irq.level[0]);
	write_count(&f, CH0, 0);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), tick_ns(T0 + 0x2000 + 0x10000));

	/* Writing only the LSB of a new count stops counting, OUT low. */
	at(&f, tick_ns(T0 + 0x2000 + 0x10000));
	CHECK(f.irq.level[0]);
	out(&f, CH0, 0x10);
	CHECK(!f.irq.level[0]);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), DM_NO_DEADLINE);
	out(&f, CH0, 0x00);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now),
		 tick_ns(T0 + 0x2000 + 0x10000 + 0x10));
}

/* Linux's one-shot clockevent: mode 4, one low tick at terminal count. */
static void test_mode4_strobe(void)
{
	struct fixture f;
	uint64_t T0;
	unsigned base;

	setup(&f);
	at(&f, 5000);
	T0 = i8254_ns_to_ticks(5000);
	out(&f, MODE, 0x38);
	write_count(&f, CH0, 100);
	base = f.irq.rises[0];
	CHECK(f.irq.level[0]);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), tick_ns(T0 + 100));
	at(&f, tick_ns(T0 + 100));
	CHECK(!f.irq.level[0]);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), tick_ns(T0 + 101));
	at(&f, tick_ns(T0 + 101));
	CHECK(f.irq.level[0]);
	CHECK_EQ(f.irq.rises[0], base + 1);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), DM_NO_DEADLINE);
}

static void test_latch_and_read_back(void)
{
	struct fixture f;
	uint64_t T0;

	setup(&f);
	T0 = 100;
	at(&f, tick_ns(T0));
	out(&f, MODE, 0x34);
	write_count(&f, CH0, 1000);

	/* A latch holds the count of its moment until read; a second is ignored. */
	at(&f, tick_ns(T0 + 10));
	out(&f, MODE, 0x00);
	at(&f, tick_ns(T0 + 300));
	out(&f, MODE, 0x00);
	CHECK_EQ(read_count(&f, CH0), 990);
	CHECK_EQ(read_count(&f, CH0), 700);

	/* Read-back of count and status: status comes first. */
	at(&f, tick_ns(T0 + 500));
	out(&f, MODE, 0xc2);
	CHECK_EQ(in(&f, CH0), 0x80 | 0x34); /* OUT high, rw 3, mode 2, binary */
	CHECK_EQ(read_count(&f, CH0), 500);
	out(&f, MODE, 0xe2);                /* status only */
	CHECK_EQ(in(&f, CH0), 0xb4);
	at(&f, tick_ns(T0 + 600));
	CHECK_EQ(read_count(&f, CH0), 400);

	/* Null count: set by the control word until the count is loaded. */
	out(&f, MODE, 0x74);
	out(&f, MODE, 0xe4);
	CHECK_EQ(in(&f, 0x41), 0x80 | 0x40 | 0x34);
	write_count(&f, 0x41, 18);
	out(&f, MODE, 0xe4);
	CHECK_EQ(in(&f, 0x41) & 0x40, 0x40); /* loaded on the next clock */
	at(&f, tick_ns(T0 + 601));
	out(&f, MODE, 0xe4);
	CHECK_EQ(in(&f, 0x41) & 0x40, 0);

	/* LSB-only and MSB-only access. */
	out(&f, MODE, 0x10);
	out(&f, CH0, 0x80);
	at(&f, tick_ns(T0 + 601 + 0x10));
	CHECK_EQ(in(&f, CH0), 0x70);
	CHECK_EQ(in(&f, CH0), 0x70);
	out(&f, MODE, 0x20);
	out(&f, CH0, 0x12);
	at(&f, tick_ns(T0 + 601 + 0x10 + 0x100));
	CHECK_EQ(in(&f, CH0), 0x11);

	/* BCD: 1000 counts down in decimal. */
	out(&f, MODE, 0x31);
	write_count(&f, CH0, 0x1000);
	at(&f, tick_ns(T0 + 601 + 0x110 + 1));
	CHECK_EQ(latched_count(&f, 0), 0x0999);
	at(&f, tick_ns(T0 + 601 + 0x110 + 100));
	CHECK_EQ(latched_count(&f, 0), 0x0900);
}

/* pit_calibrate_tsc() and quick_pit_calibrate() use channel 2 via 0x61. */
static void test_channel2_port_61(void)
{
	struct fixture f;
	uint64_t T0, T1, T2;
	uint16_t frozen;
	unsigned i;

	setup(&f);
	at(&f, 777777);
	T0 = i8254_ns_to_ticks(777777);
	out(&f, PORT_B, (uint8_t)((in(&f, PORT_B) & ~0x02) | 0x01));
	out(&f, MODE, 0xb0);
	write_count(&f, CH2, 59659); /* 50 ms */
	CHECK_EQ(in(&f, PORT_B) & 0x20, 0);
	at(&f, tick_ns(T0 + 59659) - 1);
	CHECK_EQ(in(&f, PORT_B) & 0x20, 0);
	at(&f, tick_ns(T0 + 59659));
	CHECK_EQ(in(&f, PORT_B) & 0x20, 0x20);
	CHECK_EQ(f.irq.calls, 0); /* channel 2 has no interrupt */
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), DM_NO_DEADLINE);

	/* quick_pit_calibrate: the MSB drops by one every 256 ticks. */
	T1 = T0 + 60000;
	at(&f, tick_ns(T1));
	out(&f, MODE, 0xb0);
	write_count(&f, CH2, 0xffff);
	for (i = 0; i < 10; i++) {
		at(&f, tick_ns(T1 + 256 * i + 3));
		in(&f, CH2);
		CHECK_EQ(in(&f, CH2), 0xff - i);
	}

	/* Gate low pauses mode 0; gate high resumes where it was. */
	T2 = T1 + 5000;
	at(&f, tick_ns(T2));
	out(&f, PORT_B, 0x00);
	frozen = latched_count(&f, 2);
	CHECK_EQ(frozen, 0xffff - 5000);
	at(&f, tick_ns(T2 + 1000));
	CHECK_EQ(latched_count(&f, 2), frozen);
	out(&f, PORT_B, 0x01);
	at(&f, tick_ns(T2 + 1010));
	CHECK_EQ(latched_count(&f, 2), frozen - 10);

	/* Port B: bits 0-3 read back, bit 4 toggles with refresh, 6-7 read 0. */
	out(&f, PORT_B, 0xff);
	CHECK_EQ(in(&f, PORT_B) & 0xcf, 0x0f);
	at(&f, tick_ns(18 * 10000));
	CHECK_EQ(in(&f, PORT_B) & 0x10, 0);
	at(&f, tick_ns(18 * 10001));
	CHECK_EQ(in(&f, PORT_B) & 0x10, 0x10);
	at(&f, tick_ns(18 * 10002) - 1);
	CHECK_EQ(in(&f, PORT_B) & 0x10, 0x10);
}

static void test_gate_modes(void)
{
	struct fixture f;
	uint64_t T0 = 1000;

	setup(&f);
	at(&f, tick_ns(T0));
	/* Mode 2 with the gate low: OUT high, not counting; a rising gate loads. */
	out(&f, MODE, 0xb4);
	write_count(&f, CH2, 50);
	at(&f, tick_ns(T0 + 100));
	CHECK(i8254_output(&f.pit, 2));
	CHECK_EQ(latched_count(&f, 2), 50);
	out(&f, PORT_B, 0x01);
	at(&f, tick_ns(T0 + 100 + 49));
	CHECK(!i8254_output(&f.pit, 2));
	at(&f, tick_ns(T0 + 100 + 50));
	CHECK(i8254_output(&f.pit, 2));
	at(&f, tick_ns(T0 + 100 + 99));
	CHECK(!i8254_output(&f.pit, 2));
	out(&f, PORT_B, 0x00); /* gate low forces OUT high at once */
	CHECK(i8254_output(&f.pit, 2));

	/* Mode 1: the gate's rising edge triggers a low pulse of N ticks. */
	out(&f, MODE, 0xb2);
	write_count(&f, CH2, 20);
	CHECK(i8254_output(&f.pit, 2));
	at(&f, tick_ns(T0 + 300));
	out(&f, PORT_B, 0x01);
	CHECK(!i8254_output(&f.pit, 2));
	at(&f, tick_ns(T0 + 319));
	CHECK(!i8254_output(&f.pit, 2));
	at(&f, tick_ns(T0 + 320));
	CHECK(i8254_output(&f.pit, 2));
	/* Retrigger. */
	out(&f, PORT_B, 0x00);
	out(&f, PORT_B, 0x01);
	CHECK(!i8254_output(&f.pit, 2));
}

int main(int argc, char **argv)
{
	static const struct dmtest tests[] = {
		DMTEST(test_tick_math),
		DMTEST(test_mode2_periodic_irq0),
		DMTEST(test_mode3_square_wave),
		DMTEST(test_mode0_one_shot),
		DMTEST(test_mode4_strobe),
		DMTEST(test_latch_and_read_back),
		DMTEST(test_channel2_port_61),
		DMTEST(test_gate_modes),
	};

	return dmtest_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
