/*
 * 8259A PIC pair.
 *
 * Each chip resolves priority over IRR & ~IMR against ISR, starting at
 * top_priority (rotation moves it).  The slave's INT output sets master
 * IRR2 whenever it is high (not only on its rising edge, so a request the
 * slave still has after an acknowledge is not lost), and only the master's
 * acknowledge clears it: a slave request withdrawn before INTA thus yields
 * the spurious IRQ15 vector with master ISR2 set, as on a PC.
 *
 * Edge-triggered inputs latch IRR on a rising edge and keep it when the
 * line falls again: emulated devices often pulse a line within one
 * instant, which a real chip would have to see held until INTA.  Level-
 * triggered inputs (ELCR or ICW1 LTIM) make IRR follow the line, so a
 * request withdrawn before the acknowledge yields the spurious IR7 vector.
 */
#include <devmodels/i8259.h>

enum {
	ICW1_IC4 = 0x01,
	ICW1_SNGL = 0x02,
	ICW1_LTIM = 0x08,
	ICW1_INIT = 0x10,
	ICW4_AEOI = 0x02,
	ICW4_SFNM = 0x10,
	OCW3_SELECT = 0x08,
	OCW3_READ = 0x02,    /* RR: bit 0 selects the register */
	OCW3_READ_ISR = 0x01,
	OCW3_POLL = 0x04,
	OCW3_ESMM = 0x40,    /* bit 5 then sets or clears special mask mode */
	OCW3_SMM = 0x20,
};

/* OCW2 commands (bits 7-5). */
enum {
	OCW2_CLEAR_ROTATE_AEOI = 0,
	OCW2_EOI = 1,
	OCW2_NOP = 2,
	OCW2_SPECIFIC_EOI = 3,
	OCW2_SET_ROTATE_AEOI = 4,
	OCW2_ROTATE_EOI = 5,
	OCW2_SET_PRIORITY = 6,
	OCW2_ROTATE_SPECIFIC_EOI = 7,
};

#define NO_IRQ 8

/* Priority rank (0 = highest) of the most urgent bit in bits, or NO_IRQ. */
static unsigned best_rank(uint8_t bits, uint8_t top)
{
	unsigned rank;

	for (rank = 0; rank < 8; rank++)
		if (bits & (1u << ((top + rank) & 7)))
			return rank;
	return NO_IRQ;
}

static unsigned rank_to_irq(const struct i8259_chip *c, unsigned rank)
{
	return (c->top_priority + rank) & 7;
}

static uint8_t level_mask(const struct i8259_chip *c)
{
	return c->ltim ? 0xff : c->elcr;
}

/* The IR this chip would deliver now, or NO_IRQ. */
static unsigned chip_pending(const struct i8259_chip *c, bool is_master)
{
	uint8_t in_service = c->isr;
	unsigned req, cur;

	/* In special mask mode a masked level no longer blocks lower ones. */
	if (c->special_mask)
		in_service &= (uint8_t)~c->imr;
	req = best_rank(c->irr & (uint8_t)~c->imr, c->top_priority);
	if (req == NO_IRQ)
		return NO_IRQ;
	cur = best_rank(in_service, c->top_priority);
	if (req < cur)
		return rank_to_irq(c, req);
	/* Special fully nested: the slave may interrupt its own cascade level. */
	if (is_master && c->sfnm && req == cur && rank_to_irq(c, req) == I8259_CASCADE_IRQ)
		return I8259_CASCADE_IRQ;
	return NO_IRQ;
}

static void chip_set_line(struct i8259_chip *c, unsigned pin, bool level)
{
	uint8_t bit = (uint8_t)(1u << pin);
	bool rising = level && !(c->lines & bit);

	c->lines = level ? (c->lines | bit) : (c->lines & (uint8_t)~bit);
	if (level_mask(c) & bit)
		c->irr = level ? (c->irr | bit) : (c->irr & (uint8_t)~bit);
	else if (rising)
		c->irr |= bit;
}

/* Level-triggered IRR bits follow the lines; edge latches stay as they are. */
static void chip_resample(struct i8259_chip *c)
{
	uint8_t lvl = level_mask(c);

	c->irr = (uint8_t)((c->irr & ~lvl) | (c->lines & lvl));
}

/* The acknowledge of irq on one chip (INTA or poll). */
static void chip_ack(struct i8259_chip *c, unsigned irq, bool cascade)
{
	uint8_t bit = (uint8_t)(1u << irq);

	if (cascade || !(level_mask(c) & bit))
		c->irr &= (uint8_t)~bit;
	if (!c->auto_eoi)
		c->isr |= bit;
	else if (c->rotate_on_aeoi)
		c->top_priority = (uint8_t)((irq + 1) & 7);
}

static void i8259_update_irq(struct i8259 *pic)
{
	struct i8259_chip *master = &pic->chip[0];
	bool level;

	if (!master->single && chip_pending(&pic->chip[1], false) != NO_IRQ)
		master->irr |= 1u << I8259_CASCADE_IRQ;
	level = chip_pending(master, true) != NO_IRQ;
	if (level == pic->intr_level)
		return;
	pic->intr_level = level;
	dm_irq_set(&pic->intr, pic->intr_line, level);
}

static void chip_reset(struct i8259_chip *c, uint8_t vector_base, uint8_t elcr_mask)
{
	c->irr = 0;
	c->isr = 0;
	c->imr = 0xff;
	c->lines = 0;
	c->elcr = 0;
	c->elcr_mask = elcr_mask;
	c->vector_base = vector_base;
	c->icw3 = 0;
	c->top_priority = 0;
	c->init_step = 0;
	c->icw4_needed = false;
	c->single = false;
	c->ltim = false;
	c->auto_eoi = false;
	c->rotate_on_aeoi = false;
	c->sfnm = false;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
}

void i8259_reset(struct i8259 *pic)
{
	/* Real-mode BIOS vectors; PIIX lets IRQ 0, 1, 2, 8 and 13 be edge only. */
	chip_reset(&pic->chip[0], 0x08, 0xf8);
	chip_reset(&pic->chip[1], 0x70, 0xde);
	i8259_update_irq(pic);
}

void i8259_init(struct i8259 *pic, const struct i8259_config *cfg)
{
	pic->intr = cfg->intr;
	pic->intr_line = cfg->intr_line;
	pic->intr_level = false;
	i8259_reset(pic);
}

void i8259_set_irq(void *opaque, unsigned irq, bool level)
{
	struct i8259 *pic = opaque;

	/* IR2 of the master is the cascade, not an ISA line. */
	if (irq >= 16 || (irq == I8259_CASCADE_IRQ && !pic->chip[0].single))
		return;
	chip_set_line(&pic->chip[irq >> 3], irq & 7, level);
	i8259_update_irq(pic);
}

struct dm_irq_line i8259_irq_line(struct i8259 *pic)
{
	struct dm_irq_line line = { .set = i8259_set_irq, .opaque = pic };

	return line;
}

bool i8259_intr(const struct i8259 *pic)
{
	return pic->intr_level;
}

/* Second half of INTA once the master chose the cascade. */
static uint8_t slave_intack(struct i8259 *pic)
{
	struct i8259_chip *slave = &pic->chip[1];
	unsigned irq = chip_pending(slave, false);

	if (irq == NO_IRQ)
		return slave->vector_base | 7; /* spurious IRQ15 */
	chip_ack(slave, irq, false);
	return (uint8_t)(slave->vector_base + irq);
}

uint8_t i8259_intack(struct i8259 *pic)
{
	struct i8259_chip *master = &pic->chip[0];
	unsigned irq = chip_pending(master, true);
	uint8_t vector;

	if (irq == NO_IRQ) {
		vector = master->vector_base | 7; /* spurious IRQ7: ISR untouched */
	} else if (irq == I8259_CASCADE_IRQ && !master->single) {
		chip_ack(master, irq, true);
		vector = slave_intack(pic);
	} else {
		chip_ack(master, irq, false);
		vector = (uint8_t)(master->vector_base + irq);
	}
	i8259_update_irq(pic);
	return vector;
}

static void write_icw1(struct i8259_chip *c, uint8_t value)
{
	c->icw4_needed = value & ICW1_IC4;
	c->single = value & ICW1_SNGL;
	c->ltim = value & ICW1_LTIM;
	c->imr = 0;
	c->isr = 0;
	c->irr = 0; /* clears the edge latches ... */
	chip_resample(c); /* ... but a level input still asserted stays pending */
	c->top_priority = 0;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->rotate_on_aeoi = false;
	if (!c->icw4_needed) {
		c->auto_eoi = false;
		c->sfnm = false;
	}
	c->init_step = 2;
}

static void write_ocw2(struct i8259_chip *c, uint8_t value)
{
	unsigned level = value & 7, irq;

	switch (value >> 5) {
	case OCW2_CLEAR_ROTATE_AEOI:
		c->rotate_on_aeoi = false;
		break;
	case OCW2_SET_ROTATE_AEOI:
		c->rotate_on_aeoi = true;
		break;
	case OCW2_EOI:
	case OCW2_ROTATE_EOI:
		irq = best_rank(c->isr, c->top_priority);
		if (irq == NO_IRQ)
			break;
		irq = rank_to_irq(c, irq);
		c->isr &= (uint8_t)~(1u << irq);
		if (value >> 5 == OCW2_ROTATE_EOI)
			c->top_priority = (uint8_t)((irq + 1) & 7);
		break;
	case OCW2_SPECIFIC_EOI:
		c->isr &= (uint8_t)~(1u << level);
		break;
	case OCW2_ROTATE_SPECIFIC_EOI:
		c->isr &= (uint8_t)~(1u << level);
		c->top_priority = (uint8_t)((level + 1) & 7);
		break;
	case OCW2_SET_PRIORITY:
		c->top_priority = (uint8_t)((level + 1) & 7); /* level becomes lowest */
		break;
	case OCW2_NOP:
		break;
	}
}

static void write_ocw3(struct i8259_chip *c, uint8_t value)
{
	if (value & OCW3_READ)
		c->read_isr = value & OCW3_READ_ISR;
	if (value & OCW3_POLL)
		c->poll = true;
	if (value & OCW3_ESMM)
		c->special_mask = value & OCW3_SMM;
}

static void write_data(struct i8259_chip *c, uint8_t value)
{
	switch (c->init_step) {
	case 2:
		c->vector_base = value & 0xf8;
		c->init_step = c->single ? (c->icw4_needed ? 4 : 0) : 3;
		break;
	case 3:
		c->icw3 = value;
		c->init_step = c->icw4_needed ? 4 : 0;
		break;
	case 4:
		c->auto_eoi = value & ICW4_AEOI;
		c->sfnm = value & ICW4_SFNM;
		c->init_step = 0;
		break;
	default:
		c->imr = value; /* OCW1 */
		break;
	}
}

static void write_command(struct i8259_chip *c, uint8_t value)
{
	if (value & ICW1_INIT)
		write_icw1(c, value);
	else if (value & OCW3_SELECT)
		write_ocw3(c, value);
	else
		write_ocw2(c, value);
}

/* A read after the poll command: the acknowledge, as a status byte. */
static uint8_t poll_read(struct i8259 *pic, struct i8259_chip *c)
{
	unsigned irq = chip_pending(c, c == &pic->chip[0]);

	c->poll = false;
	if (irq == NO_IRQ)
		return 0;
	chip_ack(c, irq, c == &pic->chip[0] && irq == I8259_CASCADE_IRQ && !c->single);
	i8259_update_irq(pic);
	return (uint8_t)(0x80 | irq);
}

static uint8_t read_chip(struct i8259 *pic, struct i8259_chip *c, bool data_port)
{
	if (c->poll)
		return poll_read(pic, c);
	if (data_port)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

uint8_t i8259_read(struct i8259 *pic, uint16_t port)
{
	switch (port) {
	case I8259_MASTER_BASE:
	case I8259_MASTER_BASE + 1:
		return read_chip(pic, &pic->chip[0], port & 1);
	case I8259_SLAVE_BASE:
	case I8259_SLAVE_BASE + 1:
		return read_chip(pic, &pic->chip[1], port & 1);
	case I8259_ELCR_BASE:
	case I8259_ELCR_BASE + 1:
		return pic->chip[port & 1].elcr;
	}
	return 0xff;
}

static void write_elcr(struct i8259_chip *c, uint8_t value)
{
	c->elcr = value & c->elcr_mask;
	chip_resample(c);
}

void i8259_write(struct i8259 *pic, uint16_t port, uint8_t value)
{
	switch (port) {
	case I8259_MASTER_BASE:
	case I8259_SLAVE_BASE:
		write_command(&pic->chip[port == I8259_SLAVE_BASE], value);
		break;
	case I8259_MASTER_BASE + 1:
	case I8259_SLAVE_BASE + 1:
		write_data(&pic->chip[port == I8259_SLAVE_BASE + 1], value);
		break;
	case I8259_ELCR_BASE:
	case I8259_ELCR_BASE + 1:
		write_elcr(&pic->chip[port & 1], value);
		break;
	}
	i8259_update_irq(pic);
}

bool i8259_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len, bool is_write,
	      void *opaque)
{
	uint8_t *byte = data;

	(void)vcpu; /* models do not care which CPU asks */
	if (len != 1)
		return false;
	if (is_write)
		i8259_write(opaque, (uint16_t)addr, *byte);
	else
		*byte = i8259_read(opaque, (uint16_t)addr);
	return true;
}

static int i8259_dev_init(void *dev, struct dm_iobus *bus)
{
	int err;

	err = dm_iobus_register(bus, I8259_MASTER_BASE, 2, i8259_io, dev, "i8259-master");
	if (!err)
		err = dm_iobus_register(bus, I8259_SLAVE_BASE, 2, i8259_io, dev, "i8259-slave");
	if (!err)
		err = dm_iobus_register(bus, I8259_ELCR_BASE, 2, i8259_io, dev, "i8259-elcr");
	return err;
}

const struct dm_device_ops i8259_ops = {
	.name = "i8259",
	.level = DM_INIT_CORE,
	.init = i8259_dev_init,
};
