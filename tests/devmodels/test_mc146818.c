/* MC146818 RTC/CMOS through ports 0x70/0x71, as Linux's mc146818 code uses it. */
#include "dmtest.h"

#include <devmodels/mc146818.h>

#define IRQ MC146818_IRQ
#define SEC 1000000000ull
/* 2024-02-29 23:59:58 UTC, a Thursday. */
#define LEAP_EVE 1709251198

struct fixture {
	struct dm_iobus bus;
	struct dm_registry reg;
	struct mc146818 rtc;
	struct irq_recorder irq;
	uint64_t now;
};

static void setup(struct fixture *f, int64_t epoch_sec, uint64_t epoch_ns)
{
	struct mc146818_config cfg = { .irq_line = IRQ, .epoch_sec = epoch_sec,
				       .epoch_ns = epoch_ns };

	irq_recorder_init(&f->irq);
	f->irq.clock = &f->now;
	f->now = epoch_ns;
	cfg.irq = irq_recorder_line(&f->irq);
	dm_iobus_init(&f->bus);
	dm_registry_init(&f->reg);
	mc146818_init(&f->rtc, &cfg);
	dm_registry_add(&f->reg, &mc146818_ops, &f->rtc);
	CHECK_EQ(dm_registry_init_all(&f->reg, &f->bus), DM_OK);
}

static void at(struct fixture *f, uint64_t ns)
{
	f->now = ns;
	dm_registry_advance(&f->reg, ns);
}

static uint8_t rd(struct fixture *f, uint8_t index)
{
	io_outb(&f->bus, MC146818_BASE, index);
	return io_inb(&f->bus, MC146818_BASE + 1);
}

static void wr(struct fixture *f, uint8_t index, uint8_t value)
{
	io_outb(&f->bus, MC146818_BASE, index);
	io_outb(&f->bus, MC146818_BASE + 1, value);
}

static void test_bcd_time_and_rollover(void)
{
	struct fixture f;
	uint64_t e = 5 * SEC;

	setup(&f, LEAP_EVE, e);
	CHECK_EQ(rd(&f, RTC_REG_B), RTC_B_24H); /* BCD, 24 hours */
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x58);
	CHECK_EQ(rd(&f, RTC_MINUTES), 0x59);
	CHECK_EQ(rd(&f, RTC_HOURS), 0x23);
	CHECK_EQ(rd(&f, RTC_DAY_OF_WEEK), 5);
	CHECK_EQ(rd(&f, RTC_DAY_OF_MONTH), 0x29);
	CHECK_EQ(rd(&f, RTC_MONTH), 0x02);
	CHECK_EQ(rd(&f, RTC_YEAR), 0x24);
	CHECK_EQ(rd(&f, RTC_CENTURY), 0x20);
	at(&f, e + 2 * SEC - 1);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x59);
	at(&f, e + 2 * SEC);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x00);
	CHECK_EQ(rd(&f, RTC_MINUTES), 0x00);
	CHECK_EQ(rd(&f, RTC_HOURS), 0x00);
	CHECK_EQ(rd(&f, RTC_DAY_OF_WEEK), 6);
	CHECK_EQ(rd(&f, RTC_DAY_OF_MONTH), 0x01);
	CHECK_EQ(rd(&f, RTC_MONTH), 0x03);
	CHECK_EQ(mc146818_time(&f.rtc), LEAP_EVE + 2);

	/* A century rolls over too. */
	mc146818_set_time(&f.rtc, 946684799, e + 3 * SEC); /* 1999-12-31 23:59:59 */
	at(&f, e + 3 * SEC);
	CHECK_EQ(rd(&f, RTC_CENTURY), 0x19);
	CHECK_EQ(rd(&f, RTC_YEAR), 0x99);
	at(&f, e + 4 * SEC);
	CHECK_EQ(rd(&f, RTC_CENTURY), 0x20);
	CHECK_EQ(rd(&f, RTC_YEAR), 0x00);
	CHECK_EQ(rd(&f, RTC_DAY_OF_WEEK), 7); /* 2000-01-01: Saturday */
}

static void test_binary_and_12_hour(void)
{
	struct fixture f;
	uint64_t e = SEC;

	setup(&f, LEAP_EVE, e);
	wr(&f, RTC_REG_B, RTC_B_DM_BINARY); /* binary, 12 hours */
	CHECK_EQ(rd(&f, RTC_SECONDS), 58);
	CHECK_EQ(rd(&f, RTC_MINUTES), 59);
	CHECK_EQ(rd(&f, RTC_HOURS), RTC_HOUR_PM | 11);
	CHECK_EQ(rd(&f, RTC_YEAR), 24);
	CHECK_EQ(rd(&f, RTC_CENTURY), 20);
	at(&f, e + 2 * SEC);
	CHECK_EQ(rd(&f, RTC_HOURS), 12); /* midnight is 12 AM */
	at(&f, e + 2 * SEC + 12 * 3600 * SEC);
	CHECK_EQ(rd(&f, RTC_HOURS), RTC_HOUR_PM | 12); /* noon */
	at(&f, e + 2 * SEC + 13 * 3600 * SEC);
	CHECK_EQ(rd(&f, RTC_HOURS), RTC_HOUR_PM | 1);
	wr(&f, RTC_REG_B, RTC_B_24H); /* BCD 24 hours again */
	CHECK_EQ(rd(&f, RTC_HOURS), 0x13);
	wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY);
	CHECK_EQ(rd(&f, RTC_HOURS), 13);
	/* A 12-hour write is understood as such: 1 PM stays 13:00. */
	wr(&f, RTC_REG_B, RTC_B_DM_BINARY);
	wr(&f, RTC_HOURS, RTC_HOUR_PM | 1);
	CHECK_EQ(mc146818_time(&f.rtc), LEAP_EVE + 2 + 13 * 3600);
}

/* mc146818_set_time(): SET, divider reset, write, restore B, restore A. */
static void test_linux_set_time(void)
{
	struct fixture f;
	uint64_t e = SEC, t1 = e + 10 * SEC + 123, t2;
	uint8_t save_control, save_freq;

	setup(&f, LEAP_EVE, e);
	at(&f, t1);
	save_control = rd(&f, RTC_REG_B);
	wr(&f, RTC_REG_B, save_control | RTC_B_SET);
	save_freq = rd(&f, RTC_REG_A);
	CHECK_EQ(save_freq, 0x26);
	wr(&f, RTC_REG_A, save_freq | 0x60); /* RTC_DIV_RESET2 */
	wr(&f, RTC_YEAR, 0x30);
	wr(&f, RTC_MONTH, 0x06);
	wr(&f, RTC_DAY_OF_MONTH, 0x15);
	wr(&f, RTC_HOURS, 0x12);
	wr(&f, RTC_MINUTES, 0x34);
	wr(&f, RTC_SECONDS, 0x56);
	at(&f, t1 + 3 * SEC);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x56); /* held while SET */
	CHECK_EQ(rd(&f, RTC_REG_A) & RTC_A_UIP, 0);
	wr(&f, RTC_REG_B, save_control);
	t2 = f.now;
	at(&f, t2 + 2 * SEC);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x56); /* divider still in reset */
	t2 = f.now;
	wr(&f, RTC_REG_A, save_freq);
	/* The first update comes half a second after the divider starts. */
	at(&f, t2 + SEC / 2 - 1);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x56);
	at(&f, t2 + SEC / 2);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x57);
	CHECK_EQ(rd(&f, RTC_DAY_OF_WEEK), 7);
	CHECK_EQ(mc146818_time(&f.rtc), 1907757297); /* 2030-06-15 12:34:57 */
	at(&f, t2 + SEC / 2 + SEC);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x58);

	/* SET going high clears UIE. */
	wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_UIE | RTC_B_SET);
	CHECK_EQ(rd(&f, RTC_REG_B), RTC_B_24H | RTC_B_SET);
}

static void test_update_in_progress(void)
{
	struct fixture f;
	uint64_t e = 7 * SEC;

	setup(&f, LEAP_EVE, e);
	CHECK_EQ(rd(&f, RTC_REG_A), 0x26);
	at(&f, e + SEC - 244142);
	CHECK_EQ(rd(&f, RTC_REG_A) & RTC_A_UIP, 0);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x58);
	at(&f, e + SEC - 244141); /* 8 cycles of 32768 Hz before the update */
	CHECK_EQ(rd(&f, RTC_REG_A), RTC_A_UIP | 0x26);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x58);
	at(&f, e + SEC - 1);
	CHECK_EQ(rd(&f, RTC_REG_A) & RTC_A_UIP, RTC_A_UIP);
	at(&f, e + SEC);
	CHECK_EQ(rd(&f, RTC_REG_A) & RTC_A_UIP, 0);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x59);
	/* Writing UIP does nothing; SET keeps it clear. */
	wr(&f, RTC_REG_A, 0xa6);
	CHECK_EQ(rd(&f, RTC_REG_A), 0x26);
	wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_SET);
	at(&f, e + 2 * SEC - 1000);
	CHECK_EQ(rd(&f, RTC_REG_A) & RTC_A_UIP, 0);
}

/* Check the periodic interrupt against the exact event times of a rate. */
static void check_periodic(struct fixture *f, uint8_t rs, uint64_t cycles, unsigned events)
{
	uint64_t origin = f->rtc.origin_ns;
	uint64_t first = (f->now - origin) * 32768 / SEC / cycles + 1;
	unsigned k, rises = f->irq.rises[IRQ];

	wr(f, RTC_REG_A, (uint8_t)(0x20 | rs));
	for (k = 0; k < events; k++) {
		uint64_t t = origin + ((first + k) * cycles * SEC + 32767) / 32768;

		CHECK_EQ(dm_registry_next_deadline(&f->reg, f->now), t);
		at(f, t - 1);
		CHECK(!f->irq.level[IRQ]);
		at(f, t);
		CHECK(f->irq.level[IRQ]);
		/* UF may be set too: update cycles happen regardless of UIE. */
		CHECK_EQ(rd(f, RTC_REG_C) & ~RTC_C_UF, RTC_C_IRQF | RTC_C_PF);
		CHECK(!f->irq.level[IRQ]);
	}
	CHECK_EQ(f->irq.rises[IRQ], rises + events);
}

static void test_periodic_interrupt_rates(void)
{
	struct fixture f;
	uint64_t e = 3 * SEC + 1234, t;

	setup(&f, LEAP_EVE, e);
	wr(&f, RTC_HOURS_ALARM, 0x12); /* keep the alarm (00:00:00 at reset) out of C */
	wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	check_periodic(&f, 6, 32, 5);     /* 1024 Hz, 976.5625 us */
	check_periodic(&f, 3, 4, 5);      /* 8192 Hz, 122.07 us */
	check_periodic(&f, 1, 128, 3);    /* 256 Hz via RS=1 */
	check_periodic(&f, 15, 16384, 3); /* 2 Hz */

	/* Without reading C the line stays asserted and nothing more is due. */
	t = dm_registry_next_deadline(&f.reg, f.now);
	at(&f, t);
	CHECK(f.irq.level[IRQ]);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), DM_NO_DEADLINE);
	at(&f, t + 3 * SEC);
	CHECK(f.irq.level[IRQ]);
	CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_IRQF | RTC_C_PF | RTC_C_UF);
	CHECK_EQ(rd(&f, RTC_REG_C), 0); /* reading C cleared it */
	CHECK(!f.irq.level[IRQ]);

	/* PF is set with PIE clear too, but raises nothing. */
	wr(&f, RTC_REG_B, RTC_B_24H);
	at(&f, f.now + SEC);
	CHECK(!f.irq.level[IRQ]);
	CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_PF | RTC_C_UF);
	/* RS = 0 turns periodic events off. */
	wr(&f, RTC_REG_A, 0x20);
	wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), DM_NO_DEADLINE);
}

static void test_update_and_alarm_interrupts(void)
{
	struct fixture f;
	uint64_t e = 2 * SEC;

	setup(&f, LEAP_EVE, e);
	wr(&f, RTC_REG_A, 0x20); /* no periodic events: only UF and AF in C */
	wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), e + SEC);
	at(&f, e + SEC);
	CHECK(f.irq.level[IRQ]);
	CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_IRQF | RTC_C_UF);
	CHECK(!f.irq.level[IRQ]);

	/* Alarm at 00:00:00, one second later. */
	wr(&f, RTC_SECONDS_ALARM, 0x00);
	wr(&f, RTC_MINUTES_ALARM, 0x00);
	wr(&f, RTC_HOURS_ALARM, 0x00);
	wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, f.now), e + 2 * SEC);
	at(&f, e + 2 * SEC);
	CHECK(f.irq.level[IRQ]);
	CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	at(&f, e + 3 * SEC);
	CHECK(!f.irq.level[IRQ]); /* 00:00:01 does not match */
	CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_UF);

	/* Don't-care bytes (0xc0-0xff) match every second. */
	wr(&f, RTC_SECONDS_ALARM, 0xc0);
	wr(&f, RTC_MINUTES_ALARM, 0xff);
	wr(&f, RTC_HOURS_ALARM, 0xc0);
	at(&f, e + 4 * SEC);
	CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);

	/* An alarm passed while nobody looked is still flagged. */
	wr(&f, RTC_REG_B, RTC_B_24H);
	wr(&f, RTC_SECONDS_ALARM, 0x00);
	wr(&f, RTC_MINUTES_ALARM, 0x30);
	wr(&f, RTC_HOURS_ALARM, 0x00);
	at(&f, e + 4 * SEC + 3600 * SEC);
	CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_AF | RTC_C_UF);
	at(&f, e + 5 * SEC + 3600 * SEC);
	CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_UF);
}

static void test_registers_c_d_and_nmi_mask(void)
{
	struct fixture f;

	setup(&f, LEAP_EVE, 0);
	io_outb(&f.bus, MC146818_BASE, 0x80 | RTC_REG_D);
	CHECK(mc146818_nmi_masked(&f.rtc));
	CHECK_EQ(io_inb(&f.bus, MC146818_BASE + 1), RTC_D_VRT);
	io_outb(&f.bus, MC146818_BASE, RTC_REG_D);
	CHECK(!mc146818_nmi_masked(&f.rtc));
	CHECK_EQ(io_inb(&f.bus, MC146818_BASE), 0xff); /* index port: write-only */
	wr(&f, RTC_REG_D, 0x00);
	CHECK_EQ(rd(&f, RTC_REG_D), RTC_D_VRT);
	wr(&f, RTC_REG_C, 0xff);
	CHECK_EQ(rd(&f, RTC_REG_C), 0x00);
}

static void test_cmos_ram(void)
{
	struct fixture f;
	unsigned i;

	setup(&f, LEAP_EVE, 0);
	for (i = 0x0e; i < MC146818_CMOS_SIZE; i++)
		if (i != RTC_CENTURY)
			wr(&f, (uint8_t)i, (uint8_t)(i ^ 0x5a));
	for (i = 0x0e; i < MC146818_CMOS_SIZE; i++)
		if (i != RTC_CENTURY)
			CHECK_EQ(rd(&f, (uint8_t)i), i ^ 0x5a);
	mc146818_cmos_set(&f.rtc, 0x34, 0x44); /* e.g. firmware's memory size */
	CHECK_EQ(rd(&f, 0x34), 0x44);
	CHECK_EQ(mc146818_cmos_get(&f.rtc, 0x35), 0x35 ^ 0x5a);
	/* The index wraps at 128 (bit 7 is the NMI mask). */
	CHECK_EQ(rd(&f, 0x80 | 0x35), 0x35 ^ 0x5a);
}

static void test_writes_to_a_running_clock(void)
{
	struct fixture f;
	uint64_t e = SEC;

	setup(&f, LEAP_EVE, e);
	at(&f, e + SEC / 3);
	wr(&f, RTC_SECONDS, 0x10);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x10);
	at(&f, e + SEC - 1);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x10);
	at(&f, e + SEC); /* the divider kept its phase */
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x11);
	CHECK_EQ(rd(&f, RTC_MINUTES), 0x59);

	/* Set while running: the divider keeps its phase, the time is new. */
	at(&f, e + SEC + SEC / 4);
	wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_SET);
	wr(&f, RTC_MINUTES, 0x07);
	at(&f, e + SEC + SEC / 3);
	wr(&f, RTC_REG_B, RTC_B_24H);
	CHECK_EQ(rd(&f, RTC_MINUTES), 0x07);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x11);
	at(&f, e + 2 * SEC - 1);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x11);
	at(&f, e + 2 * SEC);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x12);

	/* A stopped divider freezes the clock; restarting waits half a second. */
	at(&f, e + 2 * SEC + SEC / 2);
	wr(&f, RTC_REG_A, 0x06);
	at(&f, e + 9 * SEC);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x12);
	wr(&f, RTC_REG_A, 0x26);
	at(&f, e + 9 * SEC + SEC / 2 - 1);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x12);
	at(&f, e + 9 * SEC + SEC / 2);
	CHECK_EQ(rd(&f, RTC_SECONDS), 0x13);
}

int main(int argc, char **argv)
{
	static const struct dmtest tests[] = {
		DMTEST(test_bcd_time_and_rollover),
		DMTEST(test_binary_and_12_hour),
		DMTEST(test_linux_set_time),
		DMTEST(test_update_in_progress),
		DMTEST(test_periodic_interrupt_rates),
		DMTEST(test_update_and_alarm_interrupts),
		DMTEST(test_registers_c_d_and_nmi_mask),
		DMTEST(test_cmos_ram),
		DMTEST(test_writes_to_a_running_clock),
	};

	return dmtest_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
