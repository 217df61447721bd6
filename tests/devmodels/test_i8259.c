/* 8259A pair, initialised and serviced the way Linux's i8259.c does it. */
#include "dmtest.h"

#include <devmodels/i8259.h>

#define MASTER_CMD 0x20
#define MASTER_IMR 0x21
#define SLAVE_CMD 0xa0
#define SLAVE_IMR 0xa1
#define OCW3_READ_IRR 0x0a
#define OCW3_READ_ISR 0x0b
#define OCW3_POLL 0x0c
#define EOI 0x20
#define SPECIFIC_EOI 0x60

struct fixture {
	struct dm_iobus bus;
	struct dm_registry reg;
	struct i8259 pic;
	struct irq_recorder intr;
};

static void setup(struct fixture *f)
{
	struct i8259_config cfg = { .intr_line = 0 };

	irq_recorder_init(&f->intr);
	cfg.intr = irq_recorder_line(&f->intr);
	dm_iobus_init(&f->bus);
	dm_registry_init(&f->reg);
	i8259_init(&f->pic, &cfg);
	dm_registry_add(&f->reg, &i8259_ops, &f->pic);
	CHECK_EQ(dm_registry_init_all(&f->reg, &f->bus), DM_OK);
}

static void out(struct fixture *f, uint16_t port, uint8_t v)
{
	io_outb(&f->bus, port, v);
}

static uint8_t in(struct fixture *f, uint16_t port)
{
	return io_inb(&f->bus, port);
}

/* init_8259A(): ICW1 0x11, ICW2 base, ICW3 4/2, ICW4 1 (or 3 for AEOI). */
static void linux_init(struct fixture *f, uint8_t base, bool auto_eoi)
{
	out(f, MASTER_IMR, 0xff);
	out(f, MASTER_CMD, 0x11);
	out(f, MASTER_IMR, base);
	out(f, MASTER_IMR, 1u << I8259_CASCADE_IRQ);
	out(f, MASTER_IMR, auto_eoi ? 0x03 : 0x01);
	out(f, SLAVE_CMD, 0x11);
	out(f, SLAVE_IMR, (uint8_t)(base + 8));
	out(f, SLAVE_IMR, I8259_CASCADE_IRQ);
	out(f, SLAVE_IMR, 0x01);
	out(f, MASTER_IMR, 0xfb); /* everything masked but the cascade */
	out(f, SLAVE_IMR, 0xff);
}

static uint8_t read_isr(struct fixture *f, uint16_t cmd)
{
	uint8_t v;

	out(f, cmd, OCW3_READ_ISR);
	v = in(f, cmd);
	out(f, cmd, OCW3_READ_IRR);
	return v;
}

static void unmask(struct fixture *f, unsigned irq)
{
	uint16_t port = irq < 8 ? MASTER_IMR : SLAVE_IMR;

	out(f, port, (uint8_t)(in(f, port) & ~(1u << (irq & 7))));
}

static void pulse(struct fixture *f, unsigned irq)
{
	i8259_set_irq(&f->pic, irq, true);
	i8259_set_irq(&f->pic, irq, false);
}

static void test_linux_probe_and_init(void)
{
	struct fixture f;

	setup(&f);
	/* probe_8259A(): the mask register reads back. */
	out(&f, SLAVE_IMR, 0xff);
	out(&f, MASTER_IMR, 0xa5);
	CHECK_EQ(in(&f, MASTER_IMR), 0xa5);
	linux_init(&f, 0x30, false); /* ISA_IRQ_VECTOR(0) on current kernels */
	CHECK_EQ(in(&f, MASTER_IMR), 0xfb);
	CHECK_EQ(in(&f, SLAVE_IMR), 0xff);
	CHECK(!f.intr.level[0]);

	unmask(&f, 0);
	i8259_set_irq(&f.pic, 0, true);
	CHECK(f.intr.level[0]);
	CHECK(i8259_intr(&f.pic));
	CHECK_EQ(i8259_intack(&f.pic), 0x30);
	CHECK(!f.intr.level[0]);
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x01);
	CHECK_EQ(in(&f, MASTER_CMD), 0x00); /* IRR: the edge was consumed */
	out(&f, MASTER_CMD, EOI);
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x00);
	/* The line is still high: no new edge, no new interrupt. */
	CHECK(!f.intr.level[0]);
	i8259_set_irq(&f.pic, 0, false);
	i8259_set_irq(&f.pic, 0, true);
	CHECK(f.intr.level[0]);
	CHECK_EQ(i8259_intack(&f.pic), 0x30);
}

static void test_masking_and_spurious_irq7(void)
{
	struct fixture f;

	setup(&f);
	linux_init(&f, 0x20, false);
	pulse(&f, 1);
	CHECK(!f.intr.level[0]); /* masked, but latched in IRR */
	CHECK_EQ(in(&f, MASTER_CMD), 0x02);
	unmask(&f, 1);
	CHECK(f.intr.level[0]);
	/* Masked again between INTR and INTA: the CPU gets IRQ7's vector. */
	out(&f, MASTER_IMR, 0xff);
	CHECK(!f.intr.level[0]);
	CHECK_EQ(i8259_intack(&f.pic), 0x27);
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x00); /* spurious: no ISR bit */
	CHECK_EQ(in(&f, MASTER_CMD), 0x02);       /* request still pending */
	out(&f, MASTER_IMR, 0xfb & ~0x02);
	CHECK_EQ(i8259_intack(&f.pic), 0x21);
}

static void test_priorities_and_eoi(void)
{
	struct fixture f;

	setup(&f);
	linux_init(&f, 0x20, false);
	out(&f, MASTER_IMR, 0x00);
	pulse(&f, 3);
	pulse(&f, 1);
	CHECK_EQ(i8259_intack(&f.pic), 0x21); /* lower IR, higher priority */
	CHECK(!f.intr.level[0]);              /* IR3 waits behind IR1 */
	pulse(&f, 0);
	CHECK(f.intr.level[0]);               /* IR0 nests above IR1 */
	CHECK_EQ(i8259_intack(&f.pic), 0x20);
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x03);
	out(&f, MASTER_CMD, EOI);             /* non-specific: the highest, IR0 */
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x02);
	CHECK(!f.intr.level[0]);
	out(&f, MASTER_CMD, SPECIFIC_EOI | 1);
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x00);
	CHECK(f.intr.level[0]);
	CHECK_EQ(i8259_intack(&f.pic), 0x23);
	out(&f, MASTER_CMD, EOI);

	/* Set priority: IR4 lowest makes IR5 highest, so IR6 beats IR1. */
	out(&f, MASTER_CMD, 0xc4);
	pulse(&f, 1);
	pulse(&f, 6);
	CHECK_EQ(i8259_intack(&f.pic), 0x26);
	/* Rotate on non-specific EOI: IR6 becomes lowest, IR7 highest. */
	out(&f, MASTER_CMD, 0xa0);
	pulse(&f, 5);
	pulse(&f, 7);
	CHECK_EQ(i8259_intack(&f.pic), 0x27);
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x80); /* a real IR7: ISR set */
	out(&f, MASTER_CMD, EOI);
	CHECK_EQ(i8259_intack(&f.pic), 0x21);     /* order is now 7, 0, 1, ... 5 */
	/* Rotate on specific EOI 1: IR2 becomes highest, so IR5 beats IR0. */
	out(&f, MASTER_CMD, 0xe1);
	pulse(&f, 0);
	CHECK_EQ(i8259_intack(&f.pic), 0x25);
	out(&f, MASTER_CMD, EOI);
	CHECK_EQ(i8259_intack(&f.pic), 0x20);
	out(&f, MASTER_CMD, EOI);
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x00);
	CHECK(!f.intr.level[0]);
}

static void test_cascade(void)
{
	struct fixture f;

	setup(&f);
	linux_init(&f, 0x20, false);
	unmask(&f, 8);
	unmask(&f, 12);
	unmask(&f, 1);
	pulse(&f, 12);
	CHECK(f.intr.level[0]);
	CHECK_EQ(i8259_intack(&f.pic), 0x2c);
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x04); /* cascade in service */
	CHECK_EQ(read_isr(&f, SLAVE_CMD), 0x10);
	/* Fully nested: even a higher slave IRQ waits for the master's EOI. */
	pulse(&f, 8);
	CHECK(!f.intr.level[0]);
	/* A master IRQ above the cascade nests. */
	pulse(&f, 1);
	CHECK_EQ(i8259_intack(&f.pic), 0x21);
	out(&f, MASTER_CMD, SPECIFIC_EOI | 1);
	/* Linux acks a slave IRQ with specific EOIs to slave and master. */
	out(&f, SLAVE_CMD, SPECIFIC_EOI | 4);
	out(&f, MASTER_CMD, SPECIFIC_EOI | I8259_CASCADE_IRQ);
	CHECK(f.intr.level[0]);
	CHECK_EQ(i8259_intack(&f.pic), 0x28);
	out(&f, SLAVE_CMD, EOI);
	out(&f, MASTER_CMD, EOI);
	CHECK(!f.intr.level[0]);
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x00);
	CHECK_EQ(read_isr(&f, SLAVE_CMD), 0x00);
}

static void test_special_fully_nested(void)
{
	struct fixture f;

	setup(&f);
	linux_init(&f, 0x20, false);
	out(&f, MASTER_CMD, 0x11);
	out(&f, MASTER_IMR, 0x20);
	out(&f, MASTER_IMR, 0x04);
	out(&f, MASTER_IMR, 0x11); /* ICW4: 8086 mode, SFNM */
	out(&f, MASTER_IMR, 0x00);
	out(&f, SLAVE_IMR, 0x00);
	pulse(&f, 12);
	CHECK_EQ(i8259_intack(&f.pic), 0x2c);
	pulse(&f, 13);
	CHECK(!f.intr.level[0]); /* lower on the slave: blocked there */
	pulse(&f, 8);
	CHECK(f.intr.level[0]);  /* higher on the slave: through the cascade */
	CHECK_EQ(i8259_intack(&f.pic), 0x28);
	pulse(&f, 3);
	CHECK(!f.intr.level[0]); /* a master IR below the cascade still waits */
}

static void test_edge_level_and_elcr(void)
{
	struct fixture f;

	setup(&f);
	linux_init(&f, 0x20, false);
	out(&f, MASTER_IMR, 0x00);
	out(&f, SLAVE_IMR, 0x00);
	/* ELCR: IRQ 0, 1, 2, 8, 13 cannot be level triggered on PIIX. */
	out(&f, I8259_ELCR_BASE, 0xff);
	out(&f, I8259_ELCR_BASE + 1, 0xff);
	CHECK_EQ(in(&f, I8259_ELCR_BASE), 0xf8);
	CHECK_EQ(in(&f, I8259_ELCR_BASE + 1), 0xde);
	out(&f, I8259_ELCR_BASE, 0x08);      /* IRQ3 level */
	out(&f, I8259_ELCR_BASE + 1, 0x04);  /* IRQ10 level */

	/* Edge: a pulse stays latched until acknowledged. */
	pulse(&f, 4);
	CHECK(f.intr.level[0]);
	CHECK_EQ(i8259_intack(&f.pic), 0x24);
	out(&f, MASTER_CMD, EOI);

	/* Level: the request follows the line, so a withdrawn one is spurious. */
	i8259_set_irq(&f.pic, 3, true);
	CHECK(f.intr.level[0]);
	i8259_set_irq(&f.pic, 3, false);
	CHECK(!f.intr.level[0]);
	CHECK_EQ(i8259_intack(&f.pic), 0x27);
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x00);

	/* Level still asserted after EOI: delivered again. */
	i8259_set_irq(&f.pic, 3, true);
	CHECK_EQ(i8259_intack(&f.pic), 0x23);
	CHECK(!f.intr.level[0]);
	out(&f, MASTER_CMD, EOI);
	CHECK(f.intr.level[0]);
	CHECK_EQ(i8259_intack(&f.pic), 0x23);
	i8259_set_irq(&f.pic, 3, false);
	out(&f, MASTER_CMD, EOI);
	CHECK(!f.intr.level[0]);

	/* Spurious IRQ15: the master acknowledged the cascade, so it needs EOI. */
	i8259_set_irq(&f.pic, 10, true);
	CHECK(f.intr.level[0]);
	i8259_set_irq(&f.pic, 10, false);
	CHECK_EQ(i8259_intack(&f.pic), 0x2f);
	CHECK_EQ(read_isr(&f, SLAVE_CMD), 0x00);
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x04);
	out(&f, MASTER_CMD, EOI);
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x00);

	/* ICW1 clears edge latches but keeps asserted level inputs pending. */
	pulse(&f, 5);
	i8259_set_irq(&f.pic, 3, true);
	out(&f, MASTER_CMD, 0x11);
	out(&f, MASTER_IMR, 0x20);
	out(&f, MASTER_IMR, 0x04);
	out(&f, MASTER_IMR, 0x01);
	CHECK_EQ(in(&f, MASTER_CMD), 0x08);
	i8259_set_irq(&f.pic, 3, false);

	/* ICW1 LTIM: every input level triggered, the cascade still works. */
	out(&f, MASTER_CMD, 0x19);
	out(&f, MASTER_IMR, 0x20);
	out(&f, MASTER_IMR, 0x04);
	out(&f, MASTER_IMR, 0x01);
	pulse(&f, 4);
	CHECK(!f.intr.level[0]); /* a pulse leaves nothing behind */
	pulse(&f, 9);            /* edge on the slave */
	CHECK(f.intr.level[0]);
	CHECK_EQ(i8259_intack(&f.pic), 0x29);
	out(&f, SLAVE_CMD, EOI);
	out(&f, MASTER_CMD, EOI);
	CHECK(!f.intr.level[0]); /* the cascade request went with the ack */
	CHECK_EQ(in(&f, MASTER_CMD), 0x00);
}

static void test_auto_eoi(void)
{
	struct fixture f;

	setup(&f);
	linux_init(&f, 0x20, true);
	out(&f, MASTER_IMR, 0x00);
	pulse(&f, 5);
	CHECK_EQ(i8259_intack(&f.pic), 0x25);
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x00); /* no EOI needed */
	pulse(&f, 6);
	CHECK(f.intr.level[0]);                   /* nothing in service blocks */
	/* Rotate in auto-EOI mode: each acknowledged IR becomes lowest. */
	out(&f, MASTER_CMD, 0x80);
	CHECK_EQ(i8259_intack(&f.pic), 0x26);
	pulse(&f, 6);
	pulse(&f, 7);
	CHECK_EQ(i8259_intack(&f.pic), 0x27);     /* IR7 now outranks IR6 */
	CHECK_EQ(i8259_intack(&f.pic), 0x26);
}

static void test_poll_mode(void)
{
	struct fixture f;

	setup(&f);
	linux_init(&f, 0x20, false);
	out(&f, MASTER_IMR, 0x00);
	out(&f, MASTER_CMD, OCW3_POLL);
	CHECK_EQ(in(&f, MASTER_CMD), 0x00); /* nothing pending */
	pulse(&f, 6);
	out(&f, MASTER_CMD, OCW3_POLL);
	CHECK_EQ(in(&f, MASTER_IMR), 0x86); /* any port answers a poll */
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x40);
	CHECK(!f.intr.level[0]);
	CHECK_EQ(in(&f, MASTER_IMR), 0x00); /* next read is normal again */
}

static void test_special_mask_mode(void)
{
	struct fixture f;

	setup(&f);
	linux_init(&f, 0x20, false);
	out(&f, MASTER_IMR, 0x00);
	pulse(&f, 1);
	CHECK_EQ(i8259_intack(&f.pic), 0x21);
	pulse(&f, 4);
	CHECK(!f.intr.level[0]);
	out(&f, MASTER_CMD, 0x68);   /* set special mask mode */
	out(&f, MASTER_IMR, 0x02);   /* mask the level in service */
	CHECK(f.intr.level[0]);      /* lower levels are enabled */
	CHECK_EQ(i8259_intack(&f.pic), 0x24);
	out(&f, MASTER_CMD, 0x48);   /* reset special mask mode */
	CHECK_EQ(read_isr(&f, MASTER_CMD), 0x12);
}

int main(int argc, char **argv)
{
	static const struct dmtest tests[] = {
		DMTEST(test_linux_probe_and_init),
		DMTEST(test_masking_and_spurious_irq7),
		DMTEST(test_priorities_and_eoi),
		DMTEST(test_cascade),
		DMTEST(test_special_fully_nested),
		DMTEST(test_edge_level_and_elcr),
		DMTEST(test_auto_eoi),
		DMTEST(test_poll_mode),
		DMTEST(test_special_mask_mode),
	};

	return dmtest_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
