/*
 * 16550A UART (PC COM port: 8 registers at base, IRQ through a line).
 *
 * Transmission is instantaneous: a byte written to THR goes straight to the
 * tx callback (or, in loopback, into the receive FIFO), so THR and the
 * transmitter are always empty.  Reception has a real 16-byte FIFO with
 * trigger levels and the character-timeout interrupt, whose timing follows
 * the programmed divisor and frame format.
 */
#ifndef DEVMODELS_UART16550_H
#define DEVMODELS_UART16550_H

#include <devmodels/dm.h>

#define UART16550_NR_PORTS 8
#define UART16550_FIFO_SIZE 16
#define UART16550_COM1_BASE 0x3f8
#define UART16550_COM1_IRQ 4

/* Register offsets */
enum {
	UART_RBR = 0, /* read, DLAB=0; THR on write */
	UART_THR = 0,
	UART_DLL = 0, /* DLAB=1 */
	UART_IER = 1, /* DLAB=0 */
	UART_DLM = 1, /* DLAB=1 */
	UART_IIR = 2, /* read */
	UART_FCR = 2, /* write */
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

/* Register bits */
enum {
	UART_IER_RDI = 0x01,  /* received data available */
	UART_IER_THRI = 0x02, /* THR empty */
	UART_IER_RLSI = 0x04, /* receiver line status */
	UART_IER_MSI = 0x08,  /* modem status */

	UART_IIR_NO_INT = 0x01,
	UART_IIR_MSI = 0x00,
	UART_IIR_THRI = 0x02,
	UART_IIR_RDI = 0x04,
	UART_IIR_RLSI = 0x06,
	UART_IIR_TIMEOUT = 0x0c,
	UART_IIR_ID_MASK = 0x0f,
	UART_IIR_FIFO_ON = 0xc0,

	UART_FCR_ENABLE = 0x01,
	UART_FCR_CLEAR_RX = 0x02,
	UART_FCR_CLEAR_TX = 0x04,
	UART_FCR_TRIGGER_MASK = 0xc0,

	UART_LCR_DLAB = 0x80,

	UART_MCR_DTR = 0x01,
	UART_MCR_RTS = 0x02,
	UART_MCR_OUT1 = 0x04,
	UART_MCR_OUT2 = 0x08,
	UART_MCR_LOOP = 0x10,

	UART_LSR_DR = 0x01,
	UART_LSR_OE = 0x02,
	UART_LSR_PE = 0x04,
	UART_LSR_FE = 0x08,
	UART_LSR_BI = 0x10,
	UART_LSR_THRE = 0x20,
	UART_LSR_TEMT = 0x40,
	UART_LSR_ERRORS = 0x1e,

	UART_MSR_DCTS = 0x01,
	UART_MSR_DDSR = 0x02,
	UART_MSR_TERI = 0x04,
	UART_MSR_DDCD = 0x08,
	UART_MSR_DELTAS = 0x0f,
	UART_MSR_CTS = 0x10,
	UART_MSR_DSR = 0x20,
	UART_MSR_RI = 0x40,
	UART_MSR_DCD = 0x80,
};

struct uart16550_config {
	uint16_t base;            /* UART16550_COM1_BASE */
	struct dm_irq_line irq;
	unsigned irq_line;        /* UART16550_COM1_IRQ */
	void (*tx)(void *opaque, uint8_t byte);
	void *tx_opaque;
};

struct uart16550_rx_fifo {
	uint8_t byte[UART16550_FIFO_SIZE];
	uint8_t head;
	uint8_t count;
};

struct uart16550 {
	struct uart16550_config cfg;
	struct uart16550_rx_fifo rx;
	uint8_t ier, lcr, mcr, scr, fcr;
	uint8_t dll, dlm;
	uint8_t lsr_errors;       /* OE/PE/FE/BI, cleared by reading LSR */
	uint8_t msr;
	uint8_t modem_inputs;     /* CTS/DSR/RI/DCD as driven by the outside */
	uint8_t iir;              /* interrupt identification, without FIFO bits */
	bool thr_int;             /* THR-empty interrupt pending */
	bool timeout_int;         /* character-timeout interrupt pending */
	bool rx_activity;         /* receive or RBR read since the last advance */
	uint64_t timeout_at;      /* when the character timeout expires */
	bool irq_level;
};

void uart16550_init(struct uart16550 *uart, const struct uart16550_config *cfg);
void uart16550_reset(struct uart16550 *uart);

/* Register access by offset 0..7 (what uart16550_io calls). */
uint8_t uart16550_read(struct uart16550 *uart, unsigned reg);
void uart16550_write(struct uart16550 *uart, unsigned reg, uint8_t value);

/*
 * Host input: queues up to n bytes and returns how many fit.  The rest is
 * the caller's to keep and offer again (the model never drops host input).
 */
size_t uart16550_receive(struct uart16550 *uart, const uint8_t *bytes, size_t n);

/* Room in the receive FIFO (or holding register when FIFOs are off). */
size_t uart16550_rx_space(const struct uart16550 *uart);

/* Modem inputs from the outside (UART_MSR_CTS | DSR | RI | DCD). */
void uart16550_set_modem_inputs(struct uart16550 *uart, uint8_t msr_status);

/*
 * The character timeout: reception and RBR reads restart it.  Between them
 * the back end must call advance (next_deadline asks for that by
 * returning now).
 */
uint64_t uart16550_next_deadline(const struct uart16550 *uart, uint64_t now_ns);
void uart16550_advance(struct uart16550 *uart, uint64_t now_ns);

bool uart16550_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len,
		  bool is_write, void *opaque);

extern const struct dm_device_ops uart16550_ops;

#endif
