/*
 * 16550A UART.
 *
 * The state that drives the interrupt is kept as separate conditions
 * (errors in LSR, FIFO level, timeout, THR empty, MSR deltas);
 * uart16550_update_irq() turns them into IIR by the datasheet's priority
 * and moves the IRQ line only when the result changes.
 *
 * PC wiring: the IRQ pin reaches the interrupt controller only while MCR
 * OUT2 is set (it enables the card's IRQ driver), and loopback forces OUT2
 * inactive.  Linux sets OUT2 whenever it wants interrupts.
 */
#include <devmodels/uart16550.h>

/* The divisor latch divides this (1.8432 MHz / 16). */
#define UART_BAUD_BASE 115200u

static bool fifo_enabled(const struct uart16550 *uart)
{
	return uart->fcr & UART_FCR_ENABLE;
}

static unsigned rx_capacity(const struct uart16550 *uart)
{
	return fifo_enabled(uart) ? UART16550_FIFO_SIZE : 1;
}

static unsigned rx_trigger_level(const struct uart16550 *uart)
{
	static const uint8_t level[4] = { 1, 4, 8, 14 };

	return fifo_enabled(uart) ? level[uart->fcr >> 6] : 1;
}

static void rx_push(struct uart16550 *uart, uint8_t byte)
{
	struct uart16550_rx_fifo *rx = &uart->rx;

	rx->byte[(rx->head + rx->count) % UART16550_FIFO_SIZE] = byte;
	rx->count++;
	uart->rx_activity = true;
}

static uint8_t rx_pop(struct uart16550 *uart)
{
	struct uart16550_rx_fifo *rx = &uart->rx;
	uint8_t byte = rx->byte[rx->head];

	rx->head = (uint8_t)((rx->head + 1) % UART16550_FIFO_SIZE);
	rx->count--;
	return byte;
}

static void rx_clear(struct uart16550 *uart)
{
	uart->rx.head = 0;
	uart->rx.count = 0;
	uart->timeout_int = false;
}

static uint8_t lsr_value(const struct uart16550 *uart)
{
	uint8_t lsr = uart->lsr_errors | UART_LSR_THRE | UART_LSR_TEMT;

	if (uart->rx.count)
		lsr |= UART_LSR_DR;
	return lsr;
}

/* The pending interrupt of highest priority, as IIR bits 0-3. */
static uint8_t pending_interrupt(const struct uart16550 *uart)
{
	uint8_t ier = uart->ier;

	if ((ier & UART_IER_RLSI) && uart->lsr_errors)
		return UART_IIR_RLSI;
	if ((ier & UART_IER_RDI) && uart->rx.count >= rx_trigger_level(uart))
		return UART_IIR_RDI;
	if ((ier & UART_IER_RDI) && uart->timeout_int)
		return UART_IIR_TIMEOUT;
	if ((ier & UART_IER_THRI) && uart->thr_int)
		return UART_IIR_THRI;
	if ((ier & UART_IER_MSI) && (uart->msr & UART_MSR_DELTAS))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

static void uart16550_update_irq(struct uart16550 *uart)
{
	bool out2 = (uart->mcr & (UART_MCR_OUT2 | UART_MCR_LOOP)) == UART_MCR_OUT2;
	bool level;

	uart->iir = pending_interrupt(uart);
	level = out2 && uart->iir != UART_IIR_NO_INT;
	if (level == uart->irq_level)
		return;
	uart->irq_level = level;
	dm_irq_set(&uart->cfg.irq, uart->cfg.irq_line, level);
}

/* MSR status bits as the modem lines currently read. */
static uint8_t modem_status(const struct uart16550 *uart)
{
	uint8_t mcr = uart->mcr;

	if (!(mcr & UART_MCR_LOOP))
		return uart->modem_inputs;
	/* Loopback wires RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
	return (uint8_t)(((mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
			 ((mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
			 ((mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
			 ((mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0));
}

/* Recompute MSR status and latch the delta bits of what changed. */
static void update_msr(struct uart16550 *uart)
{
	uint8_t old = uart->msr & 0xf0, now = modem_status(uart);
	uint8_t changed = old ^ now, delta = 0;

	if (changed & UART_MSR_CTS)
		delta |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		delta |= UART_MSR_DDSR;
	if ((old & UART_MSR_RI) && !(now & UART_MSR_RI))
		delta |= UART_MSR_TERI; /* trailing edge only */
	if (changed & UART_MSR_DCD)
		delta |= UART_MSR_DDCD;
	uart->msr = (uint8_t)(now | (uart->msr & UART_MSR_DELTAS) | delta);
}

void uart16550_reset(struct uart16550 *uart)
{
	rx_clear(uart);
	uart->ier = 0;
	uart->lcr = 0;
	uart->mcr = 0;
	uart->scr = 0;
	uart->fcr = 0;
	uart->dll = 12; /* 9600 baud, what PC firmware leaves behind */
	uart->dlm = 0;
	uart->lsr_errors = 0;
	uart->msr = uart->modem_inputs;
	uart->thr_int = false;
	uart->rx_activity = false;
	uart->timeout_at = DM_NO_DEADLINE;
	uart16550_update_irq(uart);
}

void uart16550_init(struct uart16550 *uart, const struct uart16550_config *cfg)
{
	uart->cfg.base = cfg->base;
	uart->cfg.irq = cfg->irq;
	uart->cfg.irq_line = cfg->irq_line;
	uart->cfg.tx = cfg->tx;
	uart->cfg.tx_opaque = cfg->tx_opaque;
	/* A modem that is there and ready, so flow control lets data through. */
	uart->modem_inputs = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	uart->irq_level = false;
	uart16550_reset(uart);
}

/* A byte from the line (or from loopback); a full FIFO loses it. */
static void receive_byte(struct uart16550 *uart, uint8_t byte)
{
	if (uart->rx.count < rx_capacity(uart)) {
		rx_push(uart, byte);
		return;
	}
	uart->lsr_errors |= UART_LSR_OE;
	if (!fifo_enabled(uart)) {
		/* Without FIFO the new byte overwrites the holding register. */
		uart->rx.byte[uart->rx.head] = byte;
		uart->rx_activity = true;
	}
}

size_t uart16550_rx_space(const struct uart16550 *uart)
{
	return rx_capacity(uart) - uart->rx.count;
}

size_t uart16550_receive(struct uart16550 *uart, const uint8_t *bytes, size_t n)
{
	size_t taken = 0;

	/* In loopback the serial input is disconnected. */
	if (uart->mcr & UART_MCR_LOOP)
		return 0;
	while (taken < n && uart->rx.count < rx_capacity(uart))
		rx_push(uart, bytes[taken++]);
	uart16550_update_irq(uart);
	return taken;
}

void uart16550_set_modem_inputs(struct uart16550 *uart, uint8_t msr_status)
{
	uart->modem_inputs = msr_status & 0xf0;
	update_msr(uart);
	uart16550_update_irq(uart);
}

static void write_thr(struct uart16550 *uart, uint8_t byte)
{
	if (uart->mcr & UART_MCR_LOOP)
		receive_byte(uart, byte);
	else if (uart->cfg.tx)
		uart->cfg.tx(uart->cfg.tx_opaque, byte);
	/* Sent at once: THR is empty again and says so. */
	uart->thr_int = true;
}

static void write_ier(struct uart16550 *uart, uint8_t value)
{
	uint8_t old = uart->ier;

	uart->ier = value & 0x0f;
	/*
	 * Enabling THRI while THR is empty raises the interrupt again even if
	 * an IIR read cleared it; Linux's THRE test relies on this.
	 */
	if (!(old & UART_IER_THRI) && (uart->ier & UART_IER_THRI))
		uart->thr_int = true;
}

static void write_fcr(struct uart16550 *uart, uint8_t value)
{
	/* Toggling the enable bit resets both FIFOs. */
	if ((value ^ uart->fcr) & UART_FCR_ENABLE)
		rx_clear(uart);
	if (!(value & UART_FCR_ENABLE)) {
		uart->fcr = 0; /* the other bits are only taken with bit 0 set */
		return;
	}
	if (value & UART_FCR_CLEAR_RX)
		rx_clear(uart);
	uart->fcr = value & (UART_FCR_ENABLE | UART_FCR_TRIGGER_MASK);
}

static void write_mcr(struct uart16550 *uart, uint8_t value)
{
	uart->mcr = value & 0x1f;
	update_msr(uart);
}

void uart16550_write(struct uart16550 *uart, unsigned reg, uint8_t value)
{
	bool dlab = uart->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_THR:
		if (dlab)
			uart->dll = value;
		else
			write_thr(uart, value);
		break;
	case UART_IER:
		if (dlab)
			uart->dlm = value;
		else
			write_ier(uart, value);
		break;
	case UART_FCR:
		write_fcr(uart, value);
		break;
	case UART_LCR:
		uart->lcr = value;
		break;
	case UART_MCR:
		write_mcr(uart, value);
		break;
	case UART_LSR:
	case UART_MSR:
		break; /* read-only (factory test registers on a real chip) */
	case UART_SCR:
		uart->scr = value;
		break;
	}
	uart16550_update_irq(uart);
}

static uint8_t read_rbr(struct uart16550 *uart)
{
	uint8_t byte = 0;

	if (uart->rx.count)
		byte = rx_pop(uart);
	/* A read clears the timeout and restarts its timer. */
	uart->timeout_int = false;
	uart->rx_activity = true;
	return byte;
}

static uint8_t read_iir(struct uart16550 *uart)
{
	uint8_t iir = uart->iir;

	/* Reading IIR is what acknowledges a THR-empty interrupt. */
	if (iir == UART_IIR_THRI)
		uart->thr_int = false;
	return (uint8_t)(iir | (fifo_enabled(uart) ? UART_IIR_FIFO_ON : 0));
}

static uint8_t read_lsr(struct uart16550 *uart)
{
	uint8_t lsr = lsr_value(uart);

	uart->lsr_errors = 0;
	return lsr;
}

static uint8_t read_msr(struct uart16550 *uart)
{
	uint8_t msr = uart->msr;

	uart->msr &= (uint8_t)~UART_MSR_DELTAS;
	return msr;
}

uint8_t uart16550_read(struct uart16550 *uart, unsigned reg)
{
	bool dlab = uart->lcr & UART_LCR_DLAB;
	uint8_t value = 0xff;

	switch (reg) {
	case UART_RBR:
		value = dlab ? uart->dll : read_rbr(uart);
		break;
	case UART_IER:
		value = dlab ? uart->dlm : uart->ier;
		break;
	case UART_IIR:
		value = read_iir(uart);
		break;
	case UART_LCR:
		value = uart->lcr;
		break;
	case UART_MCR:
		value = uart->mcr;
		break;
	case UART_LSR:
		value = read_lsr(uart);
		break;
	case UART_MSR:
		value = read_msr(uart);
		break;
	case UART_SCR:
		value = uart->scr;
		break;
	}
	uart16550_update_irq(uart);
	return value;
}

bool uart16550_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len,
		  bool is_write, void *opaque)
{
	struct uart16550 *uart = opaque;
	uint8_t *byte = data;

	(void)vcpu; /* models do not care which CPU asks */
	if (len != 1)
		return false;
	if (is_write)
		uart16550_write(uart, (unsigned)(addr - uart->cfg.base), *byte);
	else
		*byte = uart16550_read(uart, (unsigned)(addr - uart->cfg.base));
	return true;
}

/* Four character times at the programmed rate and frame, in ns. */
static uint64_t timeout_ns(const struct uart16550 *uart)
{
	unsigned divisor = (unsigned)uart->dlm << 8 | uart->dll;
	/* start bit, 5-8 data bits, parity, 1 or 2 stop bits */
	unsigned bits = 1u + 5u + (uart->lcr & 3u) + ((uart->lcr & 0x08) ? 1u : 0u) +
			((uart->lcr & 0x04) ? 2u : 1u);

	if (divisor == 0)
		divisor = 0x10000;
	return dm_scale_ceil(4ull * bits * divisor, DM_NS_PER_SEC, UART_BAUD_BASE);
}

uint64_t uart16550_next_deadline(const struct uart16550 *uart, uint64_t now_ns)
{
	if (!fifo_enabled(uart) || !uart->rx.count || uart->timeout_int)
		return DM_NO_DEADLINE;
	if (uart->rx_activity)
		return now_ns; /* the timer must be restarted at the current time */
	return uart->timeout_at;
}

void uart16550_advance(struct uart16550 *uart, uint64_t now_ns)
{
	if (uart->rx_activity) {
		uart->rx_activity = false;
		uart->timeout_at = now_ns + timeout_ns(uart);
	}
	if (fifo_enabled(uart) && uart->rx.count && !uart->timeout_int &&
	    now_ns >= uart->timeout_at) {
		uart->timeout_int = true;
		uart16550_update_irq(uart);
	}
}

static int uart16550_dev_init(void *dev, struct dm_iobus *bus)
{
	struct uart16550 *uart = dev;

	return dm_iobus_register(bus, uart->cfg.base, UART16550_NR_PORTS, uart16550_io, uart,
				 "uart16550");
}

static uint64_t uart16550_dev_deadline(void *dev, uint64_t now_ns)
{
	return uart16550_next_deadline(dev, now_ns);
}

static void uart16550_dev_advance(void *dev, uint64_t now_ns)
{
	uart16550_advance(dev, now_ns);
}

const struct dm_device_ops uart16550_ops = {
	.name = "uart16550",
	.level = DM_INIT_DEV,
	.init = uart16550_dev_init,
	.next_deadline = uart16550_dev_deadline,
	.advance = uart16550_dev_advance,
};
