/*
 * 8254 programmable interval timer (ports 0x40-0x43) with the PC's port
 * 0x61: bit 0 gates channel 2, bit 5 reads its output (Linux calibrates
 * the TSC against it), bit 4 is the DRAM refresh toggle.
 *
 * The counters run at 1.193182 MHz from now_ns: tick(t) = floor(t * F /
 * 1e9), exact integer arithmetic.  Channel 0's output drives an interrupt
 * line with its real levels; a rising edge the back end was too late to
 * see on time is still delivered as a low-high pulse.
 *
 * Port accesses see the time of the last i8254_advance(): the back end
 * advances before it dispatches an access.
 */
#ifndef DEVMODELS_I8254_H
#define DEVMODELS_I8254_H

#include <devmodels/dm.h>

#define I8254_FREQ_HZ 1193182u
#define I8254_BASE 0x40
#define I8254_PORT_B 0x61
#define I8254_IRQ 0

struct i8254_channel {
	uint8_t mode;          /* 0-5 */
	uint8_t rw;            /* 1 LSB, 2 MSB, 3 LSB then MSB */
	bool bcd;
	bool gate;
	uint32_t count;        /* N as a number: 1..0x10000 (1..10000 in BCD) */
	bool loaded;           /* a count was written since the control word */
	bool active;           /* counting cycle started (modes 1/5: triggered) */
	bool running;          /* not stopped by the gate */
	uint64_t start;        /* tick at which the cycle started (elapsed 0) */
	uint64_t frozen;       /* elapsed ticks while !running */
	uint64_t load_tick;    /* when the count was written (null count) */
	bool out_idle;         /* output before the cycle starts */
	/* Access state */
	bool write_msb_next;
	uint8_t write_lsb;
	bool read_msb_next;
	bool count_latched;
	uint16_t latch;
	bool status_latched;
	uint8_t status;
};

struct i8254_config {
	struct dm_irq_line irq; /* channel 0 output */
	unsigned irq_line;      /* I8254_IRQ */
};

struct i8254 {
	struct i8254_channel ch[3];
	struct dm_irq_line irq;
	unsigned irq_line;
	uint8_t port_b;         /* writable bits of port 0x61 */
	uint64_t now_ns;        /* time of the last advance */
	uint64_t now_tick;
	uint64_t seen_tick;     /* channel 0's output is reported up to here */
	bool irq_level;
};

/* Time starts at 0 and moves forward with i8254_advance(). */
void i8254_init(struct i8254 *pit, const struct i8254_config *cfg);
void i8254_reset(struct i8254 *pit);

/* Register access at the time of the last advance; port 0x40-0x43 or 0x61. */
uint8_t i8254_read(struct i8254 *pit, uint16_t port);
void i8254_write(struct i8254 *pit, uint16_t port, uint8_t value);

/* Ticks of the 1.193182 MHz clock at now_ns, and the first ns of a tick. */
uint64_t i8254_ns_to_ticks(uint64_t now_ns);
uint64_t i8254_ticks_to_ns(uint64_t ticks);

/* Channel 0's next output change, in ns; DM_NO_DEADLINE if it has none. */
uint64_t i8254_next_deadline(const struct i8254 *pit, uint64_t now_ns);
void i8254_advance(struct i8254 *pit, uint64_t now_ns);

/* A channel's counter and output at the time of the last advance. */
uint16_t i8254_counter(const struct i8254 *pit, unsigned channel);
bool i8254_output(const struct i8254 *pit, unsigned channel);

bool i8254_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len, bool is_write,
	      void *opaque);

extern const struct dm_device_ops i8254_ops;

#endif
