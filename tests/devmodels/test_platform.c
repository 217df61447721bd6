/*
 * All models wired as a PC: PIT, RTC and UART on the 8259 pair, whose INTR
 * reaches the CPU through the x2APIC's LINT0 (ExtINT), all on one bus and
 * one registry.  A small "CPU" loop runs a simulated second from deadline
 * to deadline and services interrupts like Linux's handlers.
 */
#include "dmtest.h"

#include <devmodels/i8254.h>
#include <devmodels/i8259.h>
#include <devmodels/mc146818.h>
#include <devmodels/uart16550.h>
#include <devmodels/x2apic.h>

#define SEC 1000000000ull
#define APIC_TIMER_VECTOR 0xec

struct platform {
	struct dm_iobus bus;
	struct dm_registry reg;
	struct x2apic apic;
	struct i8259 pic;
	struct i8254 pit;
	struct mc146818 rtc;
	struct uart16550 uart;
	uint64_t now;
	unsigned count[256];
	unsigned iterations;
	uint8_t rx[8];
	unsigned nrx;
};

static void build(struct platform *p)
{
	struct x2apic_config apic = { .id = 0, .bus_hz = 1000000000u, .virtual_wire = true };
	struct i8259_config pic = { .intr = { x2apic_set_lint, &p->apic }, .intr_line = 0 };
	struct i8254_config pit = { .irq_line = 0 };
	struct mc146818_config rtc = { .irq_line = 8, .epoch_sec = 1700000000, .epoch_ns = 0 };
	struct uart16550_config uart = { .base = UART16550_COM1_BASE, .irq_line = 4 };
	unsigned i;

	for (i = 0; i < 256; i++)
		p->count[i] = 0;
	p->now = 0;
	p->iterations = 0;
	p->nrx = 0;
	dm_iobus_init(&p->bus);
	dm_registry_init(&p->reg);
	x2apic_init(&p->apic, &apic);
	i8259_init(&p->pic, &pic);
	pit.irq = rtc.irq = uart.irq = i8259_irq_line(&p->pic);
	i8254_init(&p->pit, &pit);
	mc146818_init(&p->rtc, &rtc);
	uart16550_init(&p->uart, &uart);
	dm_registry_add(&p->reg, &uart16550_ops, &p->uart);
	dm_registry_add(&p->reg, &mc146818_ops, &p->rtc);
	dm_registry_add(&p->reg, &i8254_ops, &p->pit);
	dm_registry_add(&p->reg, &i8259_ops, &p->pic);
	dm_registry_add(&p->reg, &x2apic_ops, &p->apic);
	CHECK_EQ(dm_registry_init_all(&p->reg, &p->bus), DM_OK);
}

static void out(struct platform *p, uint16_t port, uint8_t v)
{
	io_outb(&p->bus, port, v);
}

static uint8_t in(struct platform *p, uint16_t port)
{
	return io_inb(&p->bus, port);
}

static void handle_pic_irq(struct platform *p, unsigned irq)
{
	switch (irq) {
	case 4: /* serial8250_handle_irq */
		in(p, UART16550_COM1_BASE + UART_IIR);
		while (in(p, UART16550_COM1_BASE + UART_LSR) & UART_LSR_DR)
			if (p->nrx < sizeof(p->rx))
				p->rx[p->nrx++] = in(p, UART16550_COM1_BASE + UART_RBR);
		break;
	case 8: /* rtc_interrupt: reading C acknowledges */
		out(p, MC146818_BASE, RTC_REG_C);
		in(p, MC146818_BASE + 1);
		break;
	}
	if (irq >= 8)
		out(p, 0xa0, 0x60 | (irq & 7));
	out(p, 0x20, irq >= 8 ? 0x62 : (uint8_t)(0x60 | irq));
}

static void service_interrupts(struct platform *p)
{
	while (x2apic_intr(&p->apic)) {
		unsigned v = x2apic_intack(&p->apic);

		if (v == X2APIC_EXTINT) {
			v = i8259_intack(&p->pic);
			p->count[v]++;
			handle_pic_irq(p, v - 0x30);
		} else {
			p->count[v]++;
			CHECK(x2apic_wrmsr(&p->apic, X2APIC_EOI, 0, p->now));
		}
	}
}

static void run_until(struct platform *p, uint64_t end)
{
	for (;;) {
		uint64_t next = dm_registry_next_deadline(&p->reg, p->now);

		if (next > end)
			break;
		if (next > p->now)
			p->now = next;
		dm_registry_advance(&p->reg, p->now);
		service_interrupts(p);
		p->iterations++;
	}
	p->now = end;
	dm_registry_advance(&p->reg, end);
	service_interrupts(p);
}

static void test_one_second_of_pc(void)
{
	struct platform p;
	const uint8_t hello[] = "hi";
	unsigned i;

	build(&p);
	/* init_8259A with Linux's vectors 0x30-0x3f. */
	out(&p, 0x21, 0xff);
	out(&p, 0x20, 0x11);
	out(&p, 0x21, 0x30);
	out(&p, 0x21, 0x04);
	out(&p, 0x21, 0x01);
	out(&p, 0xa0, 0x11);
	out(&p, 0xa1, 0x38);
	out(&p, 0xa1, 0x02);
	out(&p, 0xa1, 0x01);
	out(&p, 0x21, (uint8_t)~(1u << 0 | 1u << 2 | 1u << 4));
	out(&p, 0xa1, (uint8_t)~(1u << 0));

	/* PIT at HZ=100; RTC at 2 Hz; APIC timer periodic 1 ms; COM1 with IRQ. */
	out(&p, 0x43, 0x34);
	out(&p, 0x40, 11932 & 0xff);
	out(&p, 0x40, 11932 >> 8);
	out(&p, 0x70, RTC_REG_A);
	out(&p, 0x71, 0x2f);
	out(&p, 0x70, RTC_REG_B);
	out(&p, 0x71, RTC_B_24H | RTC_B_PIE);
	CHECK(x2apic_wrmsr(&p.apic, X2APIC_LVT_TIMER, X2APIC_TIMER_PERIODIC | APIC_TIMER_VECTOR,
			   0));
	CHECK(x2apic_wrmsr(&p.apic, X2APIC_TIMER_DCR, 0xb, 0));
	CHECK(x2apic_wrmsr(&p.apic, X2APIC_TIMER_ICR, 1000000, 0));
	out(&p, UART16550_COM1_BASE + UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
	out(&p, UART16550_COM1_BASE + UART_IER, UART_IER_RDI);
	CHECK_EQ(uart16550_receive(&p.uart, hello, 1), 1); /* no FIFO: one byte */
	service_interrupts(&p);

	run_until(&p, SEC / 2);
	CHECK_EQ(uart16550_receive(&p.uart, hello + 1, 1), 1);
	service_interrupts(&p);
	run_until(&p, SEC);

	/* The mode 2 control word raised OUT once; then one edge per 11932 ticks. */
	CHECK_EQ(p.count[0x30], 1 + i8254_ns_to_ticks(SEC) / 11932);
	CHECK_EQ(p.count[0x38], 2);   /* RTC at 0.5 s and 1 s */
	CHECK_EQ(p.count[0x34], 2);   /* two received bytes */
	CHECK_EQ(p.count[APIC_TIMER_VECTOR], 1000);
	CHECK_EQ(p.count[0x37] + p.count[0x3f] + p.count[0xff], 0); /* nothing spurious */
	CHECK_EQ(p.nrx, 2);
	CHECK(p.rx[0] == 'h' && p.rx[1] == 'i');
	for (i = 0; i < 256; i++)
		if (i != 0x30 && i != 0x34 && i != 0x38 && i != APIC_TIMER_VECTOR)
			CHECK_EQ(p.count[i], 0);
	/* Deadlines, not polling: about one wakeup per event. */
	CHECK(p.iterations < 1300);
	CHECK_EQ(p.bus.unclaimed_reads + p.bus.unclaimed_writes, 0);
	CHECK(!i8259_intr(&p.pic));
}

int main(int argc, char **argv)
{
	static const struct dmtest tests[] = {
		DMTEST(test_one_second_of_pc),
	};

	return dmtest_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
