/*
 * 8259A programmable interrupt controller pair as wired in a PC: master at
 * 0x20/0x21, slave at 0xa0/0xa1 cascaded on master IR2, and the PIIX-style
 * edge/level control registers (ELCR) at 0x4d0/0x4d1.
 *
 * Inputs are ISA IRQs 0-15 through i8259_set_irq() (which has the shape of
 * struct dm_irq_line's set).  The output is INTR, a level reported through
 * the configured line whenever it changes; the CPU model then runs the
 * acknowledge cycle with i8259_intack().
 */
#ifndef DEVMODELS_I8259_H
#define DEVMODELS_I8259_H

#include <devmodels/dm.h>

#define I8259_MASTER_BASE 0x20
#define I8259_SLAVE_BASE 0xa0
#define I8259_ELCR_BASE 0x4d0
#define I8259_CASCADE_IRQ 2

struct i8259_chip {
	uint8_t irr, isr, imr;
	uint8_t lines;        /* input levels, for edge detection and level mode */
	uint8_t elcr;         /* 1 = level triggered (ELCR) */
	uint8_t elcr_mask;    /* which ELCR bits this board lets software set */
	uint8_t vector_base;  /* ICW2 & 0xf8 */
	uint8_t icw3;
	uint8_t top_priority; /* the IR that currently has the highest priority */
	uint8_t init_step;    /* 0 ready, else the ICW expected next (2, 3, 4) */
	bool icw4_needed;
	bool single;          /* ICW1 SNGL: no cascade */
	bool ltim;            /* ICW1 LTIM: every input level triggered */
	bool auto_eoi;
	bool rotate_on_aeoi;
	bool sfnm;            /* special fully nested mode */
	bool special_mask;
	bool read_isr;        /* OCW3: command-port reads give ISR, else IRR */
	bool poll;            /* OCW3 poll: the next read acknowledges */
};

struct i8259_config {
	struct dm_irq_line intr; /* to the CPU (or its LINT0 in ExtINT mode) */
	unsigned intr_line;
};

struct i8259 {
	struct i8259_chip chip[2]; /* master, slave */
	struct dm_irq_line intr;
	unsigned intr_line;
	bool intr_level;
};

void i8259_init(struct i8259 *pic, const struct i8259_config *cfg);
void i8259_reset(struct i8259 *pic);

/* Drive ISA IRQ 0-15; opaque is the struct i8259. */
void i8259_set_irq(void *opaque, unsigned irq, bool level);

/* A dm_irq_line for devices wired to this PIC. */
struct dm_irq_line i8259_irq_line(struct i8259 *pic);

/* The INTR output as last reported. */
bool i8259_intr(const struct i8259 *pic);

/*
 * The CPU's interrupt acknowledge: returns the vector of the highest
 * pending unmasked request and moves it from IRR to ISR (unless auto-EOI).
 * With nothing to deliver it returns the spurious vector (IR7 of the chip
 * concerned) and leaves ISR alone.
 */
uint8_t i8259_intack(struct i8259 *pic);

/* Register access as the CPU sees it: port is 0x20/0x21/0xa0/0xa1/0x4d0/0x4d1. */
uint8_t i8259_read(struct i8259 *pic, uint16_t port);
void i8259_write(struct i8259 *pic, uint16_t port, uint8_t value);

bool i8259_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len, bool is_write,
	      void *opaque);

extern const struct dm_device_ops i8259_ops;

#endif
