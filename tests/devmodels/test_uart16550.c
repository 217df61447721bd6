/* 16550A UART, driven as Linux's 8250 driver drives COM1. */
#include "dmtest.h"

#include <devmodels/uart16550.h>

#define COM1 UART16550_COM1_BASE
#define IRQ UART16550_COM1_IRQ

struct fixture {
	struct dm_iobus bus;
	struct dm_registry reg;
	struct uart16550 uart;
	struct irq_recorder irq;
	uint8_t tx[64];
	unsigned ntx;
};

static void capture_tx(void *opaque, uint8_t byte)
{
	struct fixture *f = opaque;

	if (f->ntx < sizeof(f->tx))
		f->tx[f->ntx++] = byte;
}

static void setup(struct fixture *f)
{
	struct uart16550_config cfg = {
		.base = COM1,
		.irq_line = IRQ,
		.tx = capture_tx,
		.tx_opaque = f,
	};

	irq_recorder_init(&f->irq);
	cfg.irq = irq_recorder_line(&f->irq);
	f->ntx = 0;
	dm_iobus_init(&f->bus);
	dm_registry_init(&f->reg);
	uart16550_init(&f->uart, &cfg);
	dm_registry_add(&f->reg, &uart16550_ops, &f->uart);
	CHECK_EQ(dm_registry_init_all(&f->reg, &f->bus), DM_OK);
}

static uint8_t in(struct fixture *f, unsigned reg)
{
	return io_inb(&f->bus, (uint16_t)(COM1 + reg));
}

static void out(struct fixture *f, unsigned reg, uint8_t v)
{
	io_outb(&f->bus, (uint16_t)(COM1 + reg), v);
}

/* Linux 8250 autoconfig(), step by step, for a port at COM1. */
static void test_linux_probe(void)
{
	struct fixture f;
	uint8_t scratch, save_mcr;

	setup(&f);
	/* Existence: IER bits 0-3 must hold 0 and 0xf. */
	scratch = in(&f, UART_IER);
	out(&f, UART_IER, 0);
	CHECK_EQ(in(&f, UART_IER) & 0x0f, 0);
	out(&f, UART_IER, 0x0f);
	CHECK_EQ(in(&f, UART_IER) & 0x0f, 0x0f);
	out(&f, UART_IER, scratch);

	/* Loopback: RTS and OUT2 come back as CTS and DCD. */
	save_mcr = in(&f, UART_MCR);
	out(&f, UART_MCR, UART_MCR_LOOP | 0x0a);
	CHECK_EQ(in(&f, UART_MSR) & 0xf0, UART_MSR_DCD | UART_MSR_CTS);
	out(&f, UART_MCR, save_mcr);

	/* EFR probe writes land in FCR; then the FIFO type from IIR bits 6-7. */
	out(&f, UART_LCR, 0xbf);
	out(&f, 2, 0);
	out(&f, UART_LCR, 0);
	out(&f, UART_FCR, UART_FCR_ENABLE);
	CHECK_EQ(in(&f, UART_IIR) >> 6, 3); /* 16550A */

	/* autoconfig_16550a: no EFR behind DLAB or 0xbf ... */
	out(&f, UART_LCR, UART_LCR_DLAB);
	CHECK(in(&f, 2) != 0);
	out(&f, UART_LCR, 0xbf);
	CHECK(in(&f, 2) != 0);
	/* ... no 64-byte FIFO (TI16750), with or without DLAB ... */
	out(&f, UART_LCR, 0);
	out(&f, UART_FCR, UART_FCR_ENABLE | 0x20);
	CHECK_EQ(in(&f, UART_IIR) & 0xe0, 0xc0);
	out(&f, UART_FCR, 0);
	out(&f, UART_LCR, UART_LCR_DLAB);
	out(&f, UART_FCR, UART_FCR_ENABLE | 0x20);
	CHECK_EQ(in(&f, UART_IIR) & 0xe0, 0xc0);
	out(&f, UART_FCR, 0);
	out(&f, UART_LCR, 0);
	/* ... and IER bit 6 (XScale UUE) does not stick. */
	out(&f, UART_IER, 0x40);
	CHECK_EQ(in(&f, UART_IER) & 0x40, 0);
	out(&f, UART_IER, 0);

	/* Scratch register keeps any value (8250 vs 16450 test). */
	out(&f, UART_SCR, 0xa5);
	CHECK_EQ(in(&f, UART_SCR), 0xa5);
	out(&f, UART_SCR, 0x5a);
	CHECK_EQ(in(&f, UART_SCR), 0x5a);

	/* "LSR safety check": after clearing, LSR is THRE|TEMT, not 0xff. */
	in(&f, UART_LSR);
	in(&f, UART_RBR);
	in(&f, UART_IIR);
	in(&f, UART_MSR);
	CHECK_EQ(in(&f, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(f.irq.calls, 0); /* OUT2 never set: the line never moved */
}

static void test_divisor_latch(void)
{
	struct fixture f;

	setup(&f);
	/* 115200 8N1, as set_termios does it. */
	out(&f, UART_LCR, UART_LCR_DLAB | 0x03);
	out(&f, UART_DLL, 1);
	out(&f, UART_DLM, 0);
	CHECK_EQ(in(&f, UART_DLL), 1);
	CHECK_EQ(in(&f, UART_DLM), 0);
	out(&f, UART_LCR, 0x03);
	CHECK_EQ(in(&f, UART_LCR), 0x03);
	/* With DLAB clear the same offsets are THR/RBR and IER. */
	out(&f, UART_IER, UART_IER_RDI);
	out(&f, UART_THR, 'x');
	CHECK_EQ(f.ntx, 1);
	CHECK_EQ(f.tx[0], 'x');
	out(&f, UART_LCR, UART_LCR_DLAB | 0x03);
	CHECK_EQ(in(&f, UART_DLL), 1);
	CHECK_EQ(in(&f, UART_DLM), 0);
	out(&f, UART_LCR, 0x03);
	CHECK_EQ(in(&f, UART_IER), UART_IER_RDI);
}

/* Linux's THRE test in serial8250_do_startup, then interrupt-driven TX. */
static void test_thre_interrupt(void)
{
	struct fixture f;
	uint8_t iir1, iir;
	const char *msg = "hi!";
	unsigned i;

	setup(&f);
	out(&f, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	out(&f, UART_FCR, UART_FCR_ENABLE);
	out(&f, UART_IER, UART_IER_THRI);
	CHECK(f.irq.level[IRQ]);
	iir1 = in(&f, UART_IIR);
	CHECK_EQ(iir1, UART_IIR_FIFO_ON | UART_IIR_THRI);
	CHECK(!f.irq.level[IRQ]); /* reading IIR acknowledged THRE */
	CHECK_EQ(in(&f, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
	out(&f, UART_IER, 0);
	out(&f, UART_IER, UART_IER_THRI);
	iir = in(&f, UART_IIR);
	CHECK_EQ(iir & UART_IIR_ID_MASK, UART_IIR_THRI); /* reasserted: no UART_BUG_THRE */
	CHECK_EQ(f.irq.rises[IRQ], 2);

	/* Each byte written leaves THR empty again, raising THRE. */
	for (i = 0; msg[i]; i++) {
		out(&f, UART_THR, (uint8_t)msg[i]);
		CHECK(f.irq.level[IRQ]);
		CHECK_EQ(in(&f, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
			 UART_LSR_THRE | UART_LSR_TEMT);
		CHECK_EQ(in(&f, UART_IIR) & UART_IIR_ID_MASK, UART_IIR_THRI);
		CHECK(!f.irq.level[IRQ]);
	}
	CHECK_EQ(f.ntx, 3);
	CHECK(f.tx[0] == 'h' && f.tx[1] == 'i' && f.tx[2] == '!');
	out(&f, UART_IER, 0); /* __stop_tx */
	out(&f, UART_THR, '.');
	CHECK(!f.irq.level[IRQ]);

	/* Without OUT2 the interrupt is pending but the line stays quiet. */
	out(&f, UART_MCR, 0);
	out(&f, UART_IER, UART_IER_THRI);
	CHECK_EQ(in(&f, UART_IIR) & UART_IIR_ID_MASK, UART_IIR_THRI);
	CHECK(!f.irq.level[IRQ]);
}

static void test_rx_fifo_trigger_and_timeout(void)
{
	struct fixture f;
	const uint8_t data[20] = "0123456789abcdefghi";
	uint64_t t0 = 1000000, timeout;
	unsigned i;

	setup(&f);
	out(&f, UART_LCR, 0x03); /* 8N1 at the reset divisor 12: 9600 baud */
	out(&f, UART_MCR, UART_MCR_OUT2);
	out(&f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | 0x80); /* trigger 8 */
	out(&f, UART_IER, UART_IER_RDI | UART_IER_RLSI);

	CHECK_EQ(uart16550_receive(&f.uart, data, 7), 7);
	CHECK_EQ(in(&f, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	CHECK_EQ(in(&f, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
	CHECK(!f.irq.level[IRQ]);
	CHECK_EQ(uart16550_receive(&f.uart, data + 7, 1), 1);
	CHECK_EQ(in(&f, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_RDI);
	CHECK(f.irq.level[IRQ]);
	CHECK_EQ(in(&f, UART_RBR), '0');
	CHECK(!f.irq.level[IRQ]); /* 7 left, below the trigger */

	/* Four character times of silence: 4 * 10 bits * 12 / 115200 s. */
	timeout = (4ull * 10 * 12 * 1000000000ull + 115199) / 115200;
	dm_registry_advance(&f.reg, t0);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, t0), t0 + timeout);
	dm_registry_advance(&f.reg, t0 + timeout - 1);
	CHECK(!f.irq.level[IRQ]);
	dm_registry_advance(&f.reg, t0 + timeout);
	CHECK(f.irq.level[IRQ]);
	CHECK_EQ(in(&f, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_TIMEOUT);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, t0 + timeout), DM_NO_DEADLINE);
	for (i = 1; i < 8; i++)
		CHECK_EQ(in(&f, UART_RBR), data[i]); /* FIFO order */
	CHECK(!f.irq.level[IRQ]);
	CHECK_EQ(in(&f, UART_LSR) & UART_LSR_DR, 0);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, t0 + timeout), DM_NO_DEADLINE);

	/* The FIFO holds 16; the host keeps what did not fit. */
	CHECK_EQ(uart16550_receive(&f.uart, data, 20), 16);
	CHECK_EQ(uart16550_rx_space(&f.uart), 0);
	CHECK_EQ(in(&f, UART_LSR) & UART_LSR_OE, 0); /* nothing was lost */
	out(&f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | 0xc0);
	CHECK_EQ(in(&f, UART_LSR) & UART_LSR_DR, 0);
	CHECK(!f.irq.level[IRQ]);
	CHECK_EQ(uart16550_receive(&f.uart, data, 14), 14); /* trigger 14 */
	CHECK(f.irq.level[IRQ]);
}

static void test_rx_trigger_levels(void)
{
	static const uint8_t fcr[4] = { 0x01, 0x41, 0x81, 0xc1 };
	static const unsigned level[4] = { 1, 4, 8, 14 };
	const uint8_t data[16] = { 0 };
	struct fixture f;
	unsigned i;

	setup(&f);
	out(&f, UART_MCR, UART_MCR_OUT2);
	out(&f, UART_IER, UART_IER_RDI);
	for (i = 0; i < 4; i++) {
		out(&f, UART_FCR, (uint8_t)(fcr[i] | UART_FCR_CLEAR_RX));
		uart16550_receive(&f.uart, data, level[i] - 1);
		CHECK_EQ(in(&f, UART_IIR) & UART_IIR_ID_MASK, UART_IIR_NO_INT);
		uart16550_receive(&f.uart, data, 1);
		CHECK_EQ(in(&f, UART_IIR) & UART_IIR_ID_MASK, UART_IIR_RDI);
	}
	/* FIFOs off: a one-byte holding register, no FIFO bits in IIR. */
	out(&f, UART_FCR, 0);
	CHECK_EQ(in(&f, UART_LSR) & UART_LSR_DR, 0);
	CHECK_EQ(uart16550_receive(&f.uart, data, 2), 1);
	CHECK_EQ(in(&f, UART_IIR), UART_IIR_RDI);
	CHECK_EQ(dm_registry_next_deadline(&f.reg, 0), DM_NO_DEADLINE); /* no timeout */
}

static void test_loopback(void)
{
	struct fixture f;

	setup(&f);
	out(&f, UART_IER, UART_IER_RDI);
	out(&f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	out(&f, UART_THR, 'x');
	CHECK_EQ(f.ntx, 0); /* nothing leaves the chip */
	CHECK_EQ(in(&f, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	CHECK_EQ(in(&f, UART_IIR) & UART_IIR_ID_MASK, UART_IIR_RDI);
	CHECK(!f.irq.level[IRQ]); /* loopback forces OUT2 off: no IRQ on a PC */
	CHECK_EQ(in(&f, UART_RBR), 'x');
	/* Host input is disconnected in loopback. */
	CHECK_EQ(uart16550_receive(&f.uart, (const uint8_t *)"y", 1), 0);

	/* Modem outputs loop to inputs, with delta bits. */
	in(&f, UART_MSR);
	out(&f, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_OUT1);
	CHECK_EQ(in(&f, UART_MSR),
		 UART_MSR_DSR | UART_MSR_RI | UART_MSR_DDSR | UART_MSR_DDCD);
	out(&f, UART_MCR, UART_MCR_LOOP);
	CHECK_EQ(in(&f, UART_MSR), UART_MSR_DDSR | UART_MSR_TERI);
	CHECK_EQ(in(&f, UART_MSR), 0);

	/* Leaving loopback, the IRQ works again. */
	out(&f, UART_MCR, UART_MCR_OUT2);
	out(&f, UART_THR, 'z');
	CHECK_EQ(f.ntx, 1);
	CHECK(uart16550_receive(&f.uart, (const uint8_t *)"y", 1) == 1);
	CHECK(f.irq.level[IRQ]);
}

/* IIR reports line status > RX data > THR empty > modem status. */
static void test_interrupt_priorities(void)
{
	struct fixture f;

	setup(&f);
	out(&f, UART_MCR, UART_MCR_LOOP);
	in(&f, UART_MSR);
	out(&f, UART_THR, 'a');
	out(&f, UART_THR, 'b'); /* no FIFO: overruns the holding register */
	out(&f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS); /* CTS changes: DCTS */
	out(&f, UART_IER, 0x0f);

	CHECK_EQ(in(&f, UART_IIR), UART_IIR_RLSI);
	CHECK_EQ(in(&f, UART_LSR) & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
	CHECK_EQ(in(&f, UART_IIR), UART_IIR_RDI);
	CHECK_EQ(in(&f, UART_RBR), 'b'); /* the later byte overwrote */
	CHECK_EQ(in(&f, UART_IIR), UART_IIR_THRI);
	CHECK_EQ(in(&f, UART_IIR), UART_IIR_MSI); /* THRI went with the read */
	CHECK_EQ(in(&f, UART_MSR) & UART_MSR_DELTAS, UART_MSR_DCTS);
	CHECK_EQ(in(&f, UART_IIR), UART_IIR_NO_INT);
}

static void test_modem_status_interrupt(void)
{
	struct fixture f;
	unsigned calls;

	setup(&f);
	out(&f, UART_MCR, UART_MCR_OUT2);
	out(&f, UART_IER, UART_IER_MSI);
	CHECK(!f.irq.level[IRQ]);
	CHECK_EQ(in(&f, UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
	uart16550_set_modem_inputs(&f.uart, UART_MSR_DSR | UART_MSR_DCD); /* CTS drops */
	CHECK(f.irq.level[IRQ]);
	CHECK_EQ(in(&f, UART_IIR) & UART_IIR_ID_MASK, UART_IIR_MSI);
	CHECK(f.irq.level[IRQ]); /* reading IIR does not clear modem status */
	CHECK_EQ(in(&f, UART_MSR), UART_MSR_DSR | UART_MSR_DCD | UART_MSR_DCTS);
	CHECK(!f.irq.level[IRQ]);
	/* The line moves only on changes. */
	calls = f.irq.calls;
	in(&f, UART_MSR);
	in(&f, UART_IIR);
	CHECK_EQ(f.irq.calls, calls);
}

int main(int argc, char **argv)
{
	static const struct dmtest tests[] = {
		DMTEST(test_linux_probe),
		DMTEST(test_divisor_latch),
		DMTEST(test_thre_interrupt),
		DMTEST(test_rx_fifo_trigger_and_timeout),
		DMTEST(test_rx_trigger_levels),
		DMTEST(test_loopback),
		DMTEST(test_interrupt_priorities),
		DMTEST(test_modem_status_interrupt),
	};

	return dmtest_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
