/* Local APIC in x2APIC mode, through its MSRs. */
#include "dmtest.h"

#include <devmodels/x2apic.h>

struct fixture {
	struct x2apic apic;
	struct irq_recorder intr;
	uint64_t now;
	unsigned ipis, eois, nmis;
	uint64_t last_icr;
	uint32_t last_sender;
	uint8_t last_eoi;
};

static void on_ipi(void *opaque, uint32_t sender, uint64_t icr)
{
	struct fixture *f = opaque;

	f->ipis++;
	f->last_icr = icr;
	f->last_sender = sender;
}

static void on_eoi(void *opaque, uint8_t vector)
{
	struct fixture *f = opaque;

	f->eois++;
	f->last_eoi = vector;
}

static void on_nmi(void *opaque)
{
	((struct fixture *)opaque)->nmis++;
}

static void setup_with(struct fixture *f, uint32_t id, uint32_t bus_hz, bool virtual_wire)
{
	struct x2apic_config cfg = {
		.id = id,
		.bus_hz = bus_hz,
		.virtual_wire = virtual_wire,
		.intr_line = 0,
		.send_ipi = on_ipi,
		.eoi = on_eoi,
		.nmi = on_nmi,
		.opaque = f,
	};

	irq_recorder_init(&f->intr);
	cfg.intr = irq_recorder_line(&f->intr);
	f->now = 0;
	f->ipis = f->eois = f->nmis = 0;
	f->last_icr = 0;
	x2apic_init(&f->apic, &cfg);
}

static void setup(struct fixture *f)
{
	setup_with(f, 1, 1000000000u, false);
}

static uint64_t rd(struct fixture *f, uint32_t msr)
{
	uint64_t v = 0xdeadbeef;

	CHECK(x2apic_rdmsr(&f->apic, msr, &v, f->now));
	return v;
}

static void wr(struct fixture *f, uint32_t msr, uint64_t value)
{
	CHECK(x2apic_wrmsr(&f->apic, msr, value, f->now));
}

static bool rd_ok(struct fixture *f, uint32_t msr)
{
	uint64_t v;

	return x2apic_rdmsr(&f->apic, msr, &v, f->now);
}

static bool wr_ok(struct fixture *f, uint32_t msr, uint64_t value)
{
	return x2apic_wrmsr(&f->apic, msr, value, f->now);
}

static void at(struct fixture *f, uint64_t ns)
{
	f->now = ns;
	x2apic_advance(&f->apic, ns);
}

static bool irr_has(struct fixture *f, unsigned vector)
{
	return rd(f, X2APIC_IRR0 + vector / 32) & (1ull << (vector % 32));
}

static void enable(struct fixture *f)
{
	wr(f, X2APIC_SVR, X2APIC_SVR_ENABLE | 0xff);
}

static void test_register_access(void)
{
	static const uint32_t reserved[] = { 0x7ff, 0x800, 0x801, 0x804, 0x807, 0x809, 0x80c,
					     0x80e, 0x829, 0x82e, 0x831, 0x83a, 0x83d, 0x840,
					     0x8ff, 0x900 };
	static const uint32_t read_only[] = { X2APIC_ID, X2APIC_VERSION, X2APIC_PPR, X2APIC_LDR,
					      X2APIC_ISR0, X2APIC_TMR0 + 3, X2APIC_IRR0 + 7,
					      X2APIC_TIMER_CCR };
	struct fixture f;
	unsigned i;

	setup_with(&f, 0x23, 1000000000u, false);
	CHECK_EQ(rd(&f, X2APIC_ID), 0x23);
	CHECK_EQ(rd(&f, X2APIC_LDR), 2u << 16 | 1u << 3); /* cluster 2, bit 3 */
	CHECK_EQ(rd(&f, X2APIC_VERSION), 0x60014);         /* 7 LVT entries */
	CHECK_EQ(rd(&f, X2APIC_SVR), 0xff);                /* reset: disabled */
	CHECK_EQ(rd(&f, X2APIC_LVT_TIMER), X2APIC_LVT_MASKED);
	CHECK_EQ(rd(&f, X2APIC_LVT_LINT0), X2APIC_LVT_MASKED);
	CHECK_EQ(rd(&f, X2APIC_TPR), 0);

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		CHECK(!rd_ok(&f, reserved[i]));
		CHECK(!wr_ok(&f, reserved[i], 0));
	}
	for (i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++) {
		CHECK(rd_ok(&f, read_only[i]));
		CHECK(!wr_ok(&f, read_only[i], 0));
	}
	CHECK(!rd_ok(&f, X2APIC_EOI));      /* write-only */
	CHECK(!rd_ok(&f, X2APIC_SELF_IPI)); /* write-only */

	/* Reserved bits are #GP and change nothing. */
	CHECK(!wr_ok(&f, X2APIC_TPR, 0x100));
	CHECK(!wr_ok(&f, X2APIC_TPR, 1ull << 32));
	CHECK_EQ(rd(&f, X2APIC_TPR), 0);
	CHECK(!wr_ok(&f, X2APIC_EOI, 1));
	CHECK(!wr_ok(&f, X2APIC_ESR, 1));
	CHECK(!wr_ok(&f, X2APIC_SVR, 0x1000));    /* no EOI-broadcast suppression */
	CHECK(!wr_ok(&f, X2APIC_LVT_TIMER, X2APIC_TIMER_TSC_DEADLINE));
	CHECK(!wr_ok(&f, X2APIC_LVT_TIMER, 0x400)); /* timer has no delivery mode */
	CHECK(!wr_ok(&f, X2APIC_LVT_LINT0, 0x20000));
	CHECK(!wr_ok(&f, X2APIC_LVT_ERROR, 0x700));
	CHECK(!wr_ok(&f, X2APIC_TIMER_DCR, 0x4));
	CHECK(!wr_ok(&f, X2APIC_SELF_IPI, 0x100));
	CHECK(!wr_ok(&f, X2APIC_ICR, 0x1000 | 0x40)); /* delivery status is gone */
	CHECK(!wr_ok(&f, X2APIC_ICR, 0x2000 | 0x40));
	CHECK(!wr_ok(&f, X2APIC_ICR, 0x100000 | 0x40));
	CHECK(!wr_ok(&f, X2APIC_TIMER_ICR, 1ull << 32));
	CHECK_EQ(f.ipis, 0);

	/* Everything else takes its value; ICR is 64 bits wide. */
	wr(&f, X2APIC_TPR, 0x20);
	CHECK_EQ(rd(&f, X2APIC_TPR), 0x20);
	wr(&f, X2APIC_TIMER_DCR, 0xb);
	CHECK_EQ(rd(&f, X2APIC_TIMER_DCR), 0xb);
	wr(&f, X2APIC_ICR, 7ull << 32 | 0x4041);
	CHECK_EQ(rd(&f, X2APIC_ICR), 7ull << 32 | 0x4041);
	CHECK_EQ(f.ipis, 1);
}

static void test_software_disable(void)
{
	struct fixture f;

	setup(&f);
	wr(&f, X2APIC_LVT_LINT0, X2APIC_DM_EXTINT << 8);
	CHECK_EQ(rd(&f, X2APIC_LVT_LINT0), X2APIC_LVT_MASKED | X2APIC_DM_EXTINT << 8);
	enable(&f);
	wr(&f, X2APIC_LVT_TIMER, 0x20);
	CHECK_EQ(rd(&f, X2APIC_LVT_TIMER), 0x20);
	wr(&f, X2APIC_LVT_LINT1, 0x1000 | 0x4000 | 0x30); /* read-only bits ignored */
	CHECK_EQ(rd(&f, X2APIC_LVT_LINT1), 0x30);
	wr(&f, X2APIC_SVR, 0xff);
	CHECK_EQ(rd(&f, X2APIC_LVT_TIMER), X2APIC_LVT_MASKED | 0x20);
	CHECK_EQ(rd(&f, X2APIC_LVT_LINT1), X2APIC_LVT_MASKED | 0x30);
}

static void test_accept_ppr_and_eoi(void)
{
	struct fixture f;

	setup(&f);
	enable(&f);
	CHECK(x2apic_accept(&f.apic, 0x31, false));
	CHECK(f.intr.level[0]);
	CHECK_EQ(x2apic_intack(&f.apic), 0x31);
	CHECK_EQ(rd(&f, X2APIC_ISR0 + 1), 1u << (0x31 - 32));
	CHECK_EQ(rd(&f, X2APIC_PPR), 0x30);
	wr(&f, X2APIC_TPR, 0x35); /* same class as ISRV: PPR is all of TPR */
	CHECK_EQ(rd(&f, X2APIC_PPR), 0x35);
	wr(&f, X2APIC_TPR, 0x25);
	CHECK_EQ(rd(&f, X2APIC_PPR), 0x30);
	wr(&f, X2APIC_TPR, 0);
	CHECK(!f.intr.level[0]);
	x2apic_accept(&f.apic, 0x35, false);
	CHECK(!f.intr.level[0]); /* same priority class as the one in service */
	x2apic_accept(&f.apic, 0x41, false);
	CHECK(f.intr.level[0]);
	CHECK_EQ(x2apic_intack(&f.apic), 0x41);
	CHECK_EQ(rd(&f, X2APIC_PPR), 0x40);
	wr(&f, X2APIC_EOI, 0); /* ends the highest in service: 0x41 */
	CHECK_EQ(rd(&f, X2APIC_PPR), 0x30);
	CHECK(!f.intr.level[0]);
	wr(&f, X2APIC_EOI, 0);
	CHECK_EQ(rd(&f, X2APIC_PPR), 0x00);
	CHECK(f.intr.level[0]);
	CHECK_EQ(x2apic_intack(&f.apic), 0x35);
	wr(&f, X2APIC_EOI, 0);
	CHECK_EQ(f.eois, 0); /* all edge-triggered */

	/* TPR: a vector must be in a class above TPR[7:4]. */
	wr(&f, X2APIC_TPR, 0x50);
	x2apic_accept(&f.apic, 0x45, false);
	CHECK(!f.intr.level[0]);
	CHECK_EQ(rd(&f, X2APIC_PPR), 0x50);
	wr(&f, X2APIC_TPR, 0x40);
	CHECK(!f.intr.level[0]);
	wr(&f, X2APIC_TPR, 0x3f);
	CHECK(f.intr.level[0]);
	/* Raised again between INTR and INTA: the spurious vector, IRR kept. */
	wr(&f, X2APIC_TPR, 0x60);
	CHECK(!f.intr.level[0]);
	CHECK_EQ(x2apic_intack(&f.apic), 0xff);
	CHECK(irr_has(&f, 0x45));
	CHECK_EQ(rd(&f, X2APIC_ISR0 + 2), 0);
	wr(&f, X2APIC_TPR, 0);
	CHECK_EQ(x2apic_intack(&f.apic), 0x45);
	wr(&f, X2APIC_EOI, 0);

	/* Level-triggered: TMR set, EOI reported for the I/O APIC. */
	x2apic_accept(&f.apic, 0x52, true);
	CHECK(rd(&f, X2APIC_TMR0 + 2) & 1u << (0x52 - 64));
	CHECK_EQ(x2apic_intack(&f.apic), 0x52);
	wr(&f, X2APIC_EOI, 0);
	CHECK_EQ(f.eois, 1);
	CHECK_EQ(f.last_eoi, 0x52);
	x2apic_accept(&f.apic, 0x52, false);
	CHECK_EQ(rd(&f, X2APIC_TMR0 + 2), 0);
	CHECK_EQ(x2apic_intack(&f.apic), 0x52);
	wr(&f, X2APIC_EOI, 0);
	CHECK_EQ(f.eois, 1);

	/* Vectors 0-15 are illegal: error bit, and the error LVT's vector. */
	wr(&f, X2APIC_LVT_ERROR, 0xfe);
	CHECK(!x2apic_accept(&f.apic, 5, false));
	CHECK_EQ(rd(&f, X2APIC_ESR), 0); /* latched only by a write */
	wr(&f, X2APIC_ESR, 0);
	CHECK_EQ(rd(&f, X2APIC_ESR), X2APIC_ESR_RECV_ILLEGAL);
	wr(&f, X2APIC_ESR, 0);
	CHECK_EQ(rd(&f, X2APIC_ESR), 0);
	CHECK_EQ(x2apic_intack(&f.apic), 0xfe);
}

static void test_timer_one_shot_divides(void)
{
	static const struct { uint8_t dcr; unsigned div; } d[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
	};
	struct fixture f;
	unsigned i;

	setup(&f); /* 1 GHz bus: one bus tick per ns */
	enable(&f);
	wr(&f, X2APIC_LVT_TIMER, 0xec);
	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		uint64_t t0 = f.now, due = t0 + 1000ull * d[i].div;

		wr(&f, X2APIC_TIMER_DCR, d[i].dcr);
		wr(&f, X2APIC_TIMER_ICR, 1000);
		CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 1000);
		CHECK_EQ(x2apic_next_deadline(&f.apic, f.now), due);
		at(&f, t0 + 500ull * d[i].div);
		CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 500);
		at(&f, due - 1);
		CHECK(!f.intr.level[0]);
		CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 1);
		at(&f, due);
		CHECK(f.intr.level[0]);
		CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 0);
		CHECK_EQ(rd(&f, X2APIC_TIMER_ICR), 1000);
		CHECK_EQ(x2apic_next_deadline(&f.apic, f.now), DM_NO_DEADLINE);
		CHECK_EQ(x2apic_intack(&f.apic), 0xec);
		wr(&f, X2APIC_EOI, 0);
		at(&f, due + 5000ull * d[i].div);
		CHECK(!f.intr.level[0]); /* one shot is one interrupt */
	}
}

static void test_timer_odd_bus_frequency(void)
{
	struct fixture f;

	setup_with(&f, 0, 133333333u, false);
	enable(&f);
	wr(&f, X2APIC_LVT_TIMER, 0xec);
	wr(&f, X2APIC_TIMER_DCR, 0xb);
	at(&f, 10);
	wr(&f, X2APIC_TIMER_ICR, 1000); /* 1000 ticks = 7500.0019 ns */
	CHECK_EQ(x2apic_next_deadline(&f.apic, f.now), 10 + 7501);
	at(&f, 10 + 7500);
	CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 1);
	CHECK(!f.intr.level[0]);
	at(&f, 10 + 7501);
	CHECK(f.intr.level[0]);
}

static void test_timer_periodic(void)
{
	struct fixture f;
	uint64_t t0 = 1000;
	unsigned k;

	setup(&f);
	enable(&f);
	at(&f, t0);
	wr(&f, X2APIC_LVT_TIMER, X2APIC_TIMER_PERIODIC | 0xef);
	wr(&f, X2APIC_TIMER_DCR, 0x3); /* divide by 16 */
	wr(&f, X2APIC_TIMER_ICR, 100); /* period 1600 ns */
	for (k = 1; k <= 5; k++) {
		CHECK_EQ(x2apic_next_deadline(&f.apic, f.now), t0 + 1600 * k);
		at(&f, t0 + 1600 * k - 1);
		CHECK(!f.intr.level[0]);
		at(&f, t0 + 1600 * k);
		CHECK(f.intr.level[0]);
		CHECK_EQ(x2apic_intack(&f.apic), 0xef);
		wr(&f, X2APIC_EOI, 0);
		CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 100); /* reloaded */
	}
	at(&f, t0 + 1600 * 5 + 800);
	CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 50);
	/* Late by many periods: IRR holds one interrupt, the period goes on. */
	at(&f, t0 + 1600 * 20 + 5);
	CHECK_EQ(x2apic_intack(&f.apic), 0xef);
	wr(&f, X2APIC_EOI, 0);
	CHECK(!f.intr.level[0]);
	CHECK_EQ(x2apic_next_deadline(&f.apic, f.now), t0 + 1600 * 21);
	/* Initial count 0 stops the timer. */
	wr(&f, X2APIC_TIMER_ICR, 0);
	CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 0);
	CHECK_EQ(x2apic_next_deadline(&f.apic, f.now), DM_NO_DEADLINE);
}

static void test_timer_masked(void)
{
	struct fixture f;
	uint64_t t1 = 10000;

	setup(&f);
	enable(&f);
	wr(&f, X2APIC_LVT_TIMER, X2APIC_LVT_MASKED | 0xec);
	wr(&f, X2APIC_TIMER_ICR, 1000); /* divide by 2: 2000 ns */
	CHECK_EQ(x2apic_next_deadline(&f.apic, f.now), DM_NO_DEADLINE);
	at(&f, 3000);
	CHECK(!f.intr.level[0]);
	CHECK(!irr_has(&f, 0xec));
	CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 0); /* it still counted */

	at(&f, t1);
	wr(&f, X2APIC_LVT_TIMER, X2APIC_LVT_MASKED | X2APIC_TIMER_PERIODIC | 0xec);
	wr(&f, X2APIC_TIMER_ICR, 1000);
	at(&f, t1 + 5000);
	CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 500);
	CHECK(!irr_has(&f, 0xec)); /* expiries while masked are lost */
	wr(&f, X2APIC_LVT_TIMER, X2APIC_TIMER_PERIODIC | 0xec);
	CHECK_EQ(x2apic_next_deadline(&f.apic, f.now), t1 + 6000);
	at(&f, t1 + 6000);
	CHECK(f.intr.level[0]);
}

static void test_timer_rebase(void)
{
	struct fixture f;
	uint64_t t0 = 500;

	setup(&f);
	enable(&f);
	at(&f, t0);
	wr(&f, X2APIC_LVT_TIMER, 0xec);
	wr(&f, X2APIC_TIMER_DCR, 0xb);
	wr(&f, X2APIC_TIMER_ICR, 10000);
	at(&f, t0 + 4000);
	CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 6000);
	wr(&f, X2APIC_TIMER_DCR, 0x0); /* now divide by 2: counting slows */
	CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 6000);
	CHECK_EQ(x2apic_next_deadline(&f.apic, f.now), t0 + 4000 + 12000);
	at(&f, t0 + 6000);
	CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 5000);
	/* One-shot to periodic keeps the current count, then reloads. */
	wr(&f, X2APIC_LVT_TIMER, X2APIC_TIMER_PERIODIC | 0xec);
	CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 5000);
	at(&f, t0 + 6000 + 10000);
	CHECK(f.intr.level[0]);
	CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 10000);
	CHECK_EQ(x2apic_next_deadline(&f.apic, f.now), t0 + 6000 + 10000 + 20000);
	CHECK_EQ(x2apic_intack(&f.apic), 0xec);
	wr(&f, X2APIC_EOI, 0);

	/* An expired one-shot switched to periodic stays stopped at 0. */
	wr(&f, X2APIC_LVT_TIMER, 0xec);
	wr(&f, X2APIC_TIMER_ICR, 100);
	at(&f, f.now + 200);
	CHECK_EQ(x2apic_intack(&f.apic), 0xec);
	wr(&f, X2APIC_EOI, 0);
	wr(&f, X2APIC_LVT_TIMER, X2APIC_TIMER_PERIODIC | 0xec);
	CHECK_EQ(rd(&f, X2APIC_TIMER_CCR), 0);
	CHECK_EQ(x2apic_next_deadline(&f.apic, f.now), DM_NO_DEADLINE);
	at(&f, f.now + 10000);
	CHECK(!f.intr.level[0]);
}

static void test_ipis(void)
{
	struct fixture f;

	setup(&f); /* x2APIC ID 1: LDR cluster 0, bit 1 */
	enable(&f);
	wr(&f, X2APIC_SELF_IPI, 0x40);
	CHECK(irr_has(&f, 0x40));
	wr(&f, X2APIC_ICR, X2APIC_ICR_SELF | 0x41);
	CHECK(irr_has(&f, 0x41));
	wr(&f, X2APIC_ICR, 1ull << 32 | 0x42); /* physical, own ID */
	CHECK(irr_has(&f, 0x42));
	CHECK_EQ(f.ipis, 0);

	wr(&f, X2APIC_ICR, 2ull << 32 | 0x43);
	CHECK_EQ(f.ipis, 1);
	CHECK_EQ(f.last_icr, 2ull << 32 | 0x43);
	CHECK_EQ(f.last_sender, 1);
	CHECK(!irr_has(&f, 0x43));
	wr(&f, X2APIC_ICR, X2APIC_ICR_ALL | 0x44);
	CHECK_EQ(f.ipis, 2);
	CHECK(irr_has(&f, 0x44));
	wr(&f, X2APIC_ICR, X2APIC_ICR_ALL_BUT_SELF | 0x45);
	CHECK_EQ(f.ipis, 3);
	CHECK(!irr_has(&f, 0x45));

	/* Logical destinations: cluster in 31:16, CPU bitmap in 15:0. */
	wr(&f, X2APIC_ICR, X2APIC_ICR_LOGICAL | 2ull << 32 | 0x46);
	CHECK(irr_has(&f, 0x46));
	CHECK_EQ(f.ipis, 3);
	wr(&f, X2APIC_ICR, X2APIC_ICR_LOGICAL | 3ull << 32 | 0x47);
	CHECK(irr_has(&f, 0x47));
	CHECK_EQ(f.ipis, 4);
	wr(&f, X2APIC_ICR, X2APIC_ICR_LOGICAL | 0x10002ull << 32 | 0x48);
	CHECK(!irr_has(&f, 0x48));
	CHECK_EQ(f.ipis, 5);

	/* NMI and INIT go to the back end, even addressed to this CPU. */
	wr(&f, X2APIC_ICR, X2APIC_ICR_SELF | X2APIC_DM_NMI << 8);
	CHECK_EQ(f.ipis, 6);
	wr(&f, X2APIC_ICR, 2ull << 32 | X2APIC_DM_INIT << 8 | 0x4000);
	CHECK_EQ(f.ipis, 7);

	/* An illegal vector is not sent. */
	wr(&f, X2APIC_ICR, X2APIC_ICR_SELF | 0x05);
	wr(&f, X2APIC_SELF_IPI, 0x0f);
	CHECK_EQ(f.ipis, 7);
	wr(&f, X2APIC_ESR, 0);
	CHECK_EQ(rd(&f, X2APIC_ESR), X2APIC_ESR_SEND_ILLEGAL);

	/* Highest first; 0x46 shares 0x47's class, so it waits for the EOI. */
	CHECK_EQ(x2apic_intack(&f.apic), 0x47);
	CHECK(!f.intr.level[0]);
	wr(&f, X2APIC_EOI, 0);
	CHECK_EQ(x2apic_intack(&f.apic), 0x46);
}

static void test_lint_inputs(void)
{
	struct fixture f;

	setup_with(&f, 0, 1000000000u, true); /* virtual wire, as firmware leaves it */
	CHECK_EQ(rd(&f, X2APIC_SVR), 0x1ff);
	CHECK_EQ(rd(&f, X2APIC_LVT_LINT0), X2APIC_DM_EXTINT << 8);
	x2apic_set_lint(&f.apic, 0, true);
	CHECK(f.intr.level[0]);
	CHECK_EQ(x2apic_intack(&f.apic), X2APIC_EXTINT);
	x2apic_set_lint(&f.apic, 0, false); /* the 8259 dropped INTR after its INTA */
	CHECK(!f.intr.level[0]);

	/* ExtINT bypasses TPR. */
	wr(&f, X2APIC_TPR, 0xf0);
	x2apic_set_lint(&f.apic, 0, true);
	CHECK(f.intr.level[0]);
	wr(&f, X2APIC_LVT_LINT0, X2APIC_LVT_MASKED | X2APIC_DM_EXTINT << 8);
	CHECK(!f.intr.level[0]);
	x2apic_set_lint(&f.apic, 0, false);
	wr(&f, X2APIC_TPR, 0);

	/* LINT1 NMI on rising edges only. */
	x2apic_set_lint(&f.apic, 1, true);
	x2apic_set_lint(&f.apic, 1, true);
	CHECK_EQ(f.nmis, 1);
	x2apic_set_lint(&f.apic, 1, false);
	x2apic_set_lint(&f.apic, 1, true);
	CHECK_EQ(f.nmis, 2);

	/* LINT0 as a fixed edge interrupt. */
	wr(&f, X2APIC_LVT_LINT0, 0x50);
	x2apic_set_lint(&f.apic, 0, true);
	CHECK(irr_has(&f, 0x50));
	CHECK_EQ(x2apic_intack(&f.apic), 0x50);
}

int main(int argc, char **argv)
{
	static const struct dmtest tests[] = {
		DMTEST(test_register_access),
		DMTEST(test_software_disable),
		DMTEST(test_accept_ppr_and_eoi),
		DMTEST(test_timer_one_shot_divides),
		DMTEST(test_timer_odd_bus_frequency),
		DMTEST(test_timer_periodic),
		DMTEST(test_timer_masked),
		DMTEST(test_timer_rebase),
		DMTEST(test_ipis),
		DMTEST(test_lint_inputs),
	};

	return dmtest_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
