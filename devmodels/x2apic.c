/*
 * Local APIC, x2APIC mode.
 *
 * Interrupt state is the three 256-bit vectors IRR, ISR and TMR; PPR is
 * derived from TPR and the highest in-service vector, and a vector is
 * deliverable when its priority class (bits 7-4) is above PPR's.
 *
 * The timer keeps the time its count started, the count to the first
 * expiry and the divider then in force; current count and expiries follow
 * from elapsed time.  Changing the divider or the mode rebases it on the
 * current count, so counting continues where it was.
 *
 * Not modelled: remote IRR and level re-triggering of LINT inputs, APR,
 * EOI-broadcast suppression, thermal/PMI/CMCI sources (their LVTs are
 * plain storage), logical-destination arbitration for lowest priority.
 */
#include <devmodels/x2apic.h>

#define APIC_VERSION 0x14 /* integrated APIC */
#define LVT_READ_ONLY 0x5000 /* delivery status, remote IRR: always read 0 */
#define ICR_WRITABLE 0xffffffff000ccfffull
#define BROADCAST_ID 0xffffffffu
#define VECTOR(v) ((uint8_t)((v) & 0xff))

/* Writable bits of each LVT; the timer has no TSC-deadline mode here. */
static const uint32_t lvt_writable[X2APIC_NR_LVT] = {
	[X2APIC_LVT_SLOT_CMCI] = 0x117ff,
	[X2APIC_LVT_SLOT_TIMER] = 0x310ff,
	[X2APIC_LVT_SLOT_THERMAL] = 0x117ff,
	[X2APIC_LVT_SLOT_PMI] = 0x117ff,
	[X2APIC_LVT_SLOT_LINT0] = 0x1f7ff,
	[X2APIC_LVT_SLOT_LINT1] = 0x1f7ff,
	[X2APIC_LVT_SLOT_ERROR] = 0x110ff,
};

/* ---- 256-bit vectors ---- */

static void vec_set(uint32_t *v, unsigned n)
{
	v[n >> 5] |= 1u << (n & 31);
}

static void vec_clear(uint32_t *v, unsigned n)
{
	v[n >> 5] &= ~(1u << (n & 31));
}

static bool vec_test(const uint32_t *v, unsigned n)
{
	return v[n >> 5] & (1u << (n & 31));
}

static int vec_highest(const uint32_t *v)
{
	int i;

	for (i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

/* ---- priorities and the INTR output ---- */

uint8_t x2apic_ppr(const struct x2apic *apic)
{
	int isrv = vec_highest(apic->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	return (apic->tpr & 0xf0) >= isr_class ? VECTOR(apic->tpr) : VECTOR(isr_class);
}

/* The vector intack would deliver, or -1. */
static int deliverable(const struct x2apic *apic)
{
	int irrv = vec_highest(apic->irr);

	if (irrv < 0 || ((uint32_t)irrv & 0xf0) <= (x2apic_ppr(apic) & 0xf0u))
		return -1;
	return irrv;
}

static unsigned lvt_mode(uint32_t lvt)
{
	return (lvt >> X2APIC_LVT_DM_SHIFT) & 7;
}

static bool extint_pending(const struct x2apic *apic)
{
	uint32_t lvt = apic->lvt[X2APIC_LVT_SLOT_LINT0];

	return apic->lint[0] && !(lvt & X2APIC_LVT_MASKED) && lvt_mode(lvt) == X2APIC_DM_EXTINT;
}

static void x2apic_update_irq(struct x2apic *apic)
{
	bool level = deliverable(apic) >= 0 || extint_pending(apic);

	if (level == apic->intr_level)
		return;
	apic->intr_level = level;
	dm_irq_set(&apic->intr, apic->intr_line, level);
}

bool x2apic_intr(const struct x2apic *apic)
{
	return apic->intr_level;
}

/* ---- acceptance ---- */

static void signal_error(struct x2apic *apic, uint32_t esr_bits)
{
	uint32_t lvt = apic->lvt[X2APIC_LVT_SLOT_ERROR];

	apic->esr_pending |= esr_bits;
	if (!(lvt & X2APIC_LVT_MASKED) && VECTOR(lvt) >= 16) {
		vec_set(apic->irr, VECTOR(lvt));
		vec_clear(apic->tmr, VECTOR(lvt));
	}
}

/* Vectors 0-15 are exceptions and cannot be delivered as interrupts. */
static bool deliver_local(struct x2apic *apic, uint8_t vector, bool level)
{
	if (vector < 16) {
		signal_error(apic, X2APIC_ESR_RECV_ILLEGAL);
		return false;
	}
	vec_set(apic->irr, vector);
	if (level)
		vec_set(apic->tmr, vector);
	else
		vec_clear(apic->tmr, vector);
	return true;
}

bool x2apic_accept(struct x2apic *apic, uint8_t vector, bool level)
{
	bool ok = deliver_local(apic, vector, level);

	x2apic_update_irq(apic);
	return ok;
}

void x2apic_set_lint(void *opaque, unsigned pin, bool level)
{
	struct x2apic *apic = opaque;
	uint32_t lvt;
	bool rising;

	if (pin > 1)
		return;
	rising = level && !apic->lint[pin];
	apic->lint[pin] = level;
	lvt = apic->lvt[X2APIC_LVT_SLOT_LINT0 + pin];
	if (!(lvt & X2APIC_LVT_MASKED)) {
		switch (lvt_mode(lvt)) {
		case X2APIC_DM_FIXED:
			if ((lvt & X2APIC_LVT_LEVEL) ? level : rising)
				deliver_local(apic, VECTOR(lvt), lvt & X2APIC_LVT_LEVEL);
			break;
		case X2APIC_DM_NMI:
			if (rising && apic->nmi)
				apic->nmi(apic->opaque);
			break;
		default:
			break; /* ExtINT is a level seen by x2apic_update_irq() */
		}
	}
	x2apic_update_irq(apic);
}

unsigned x2apic_intack(struct x2apic *apic)
{
	int v;

	if (extint_pending(apic))
		return X2APIC_EXTINT;
	v = deliverable(apic);
	if (v < 0)
		return VECTOR(apic->svr); /* withdrawn or now below PPR */
	vec_clear(apic->irr, (unsigned)v);
	vec_set(apic->isr, (unsigned)v);
	x2apic_update_irq(apic);
	return (unsigned)v;
}

static void do_eoi(struct x2apic *apic)
{
	int v = vec_highest(apic->isr);

	if (v < 0)
		return;
	vec_clear(apic->isr, (unsigned)v);
	if (vec_test(apic->tmr, (unsigned)v) && apic->eoi)
		apic->eoi(apic->opaque, (uint8_t)v);
}

/* ---- IPIs ---- */

static uint32_t logical_id(const struct x2apic *apic)
{
	return (apic->id >> 4) << 16 | 1u << (apic->id & 0xf);
}

/* Which of this CPU and the others an ICR addresses. */
static void ipi_targets(const struct x2apic *apic, uint64_t icr, bool *self, bool *others)
{
	uint32_t dest = (uint32_t)(icr >> 32), ldr = logical_id(apic);

	switch (icr & X2APIC_ICR_ALL_BUT_SELF) {
	case X2APIC_ICR_SELF:
		*self = true;
		*others = false;
		return;
	case X2APIC_ICR_ALL:
		*self = true;
		*others = true;
		return;
	case X2APIC_ICR_ALL_BUT_SELF:
		*self = false;
		*others = true;
		return;
	}
	if (dest == BROADCAST_ID) {
		*self = true;
		*others = true;
	} else if (icr & X2APIC_ICR_LOGICAL) {
		/* Cluster in bits 31:16, one bit per CPU of the cluster in 15:0. */
		*self = (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
		*others = dest != ldr;
	} else {
		*self = dest == apic->id;
		*others = !*self;
	}
}

static void send_ipi(struct x2apic *apic, uint64_t icr)
{
	unsigned mode = lvt_mode((uint32_t)icr);
	bool fixed = mode == X2APIC_DM_FIXED || mode == X2APIC_DM_LOWEST;
	bool self, others;

	if (fixed && VECTOR(icr) < 16) {
		signal_error(apic, X2APIC_ESR_SEND_ILLEGAL);
		return;
	}
	ipi_targets(apic, icr, &self, &others);
	if (fixed && self)
		deliver_local(apic, VECTOR(icr), false);
	if ((others || (self && !fixed)) && apic->send_ipi)
		apic->send_ipi(apic->opaque, apic->id, icr);
}

static void self_ipi(struct x2apic *apic, uint8_t vector)
{
	if (vector < 16)
		signal_error(apic, X2APIC_ESR_SEND_ILLEGAL);
	else
		deliver_local(apic, vector, false);
}

/* ---- timer ---- */

static unsigned divide_shift(uint32_t dcr)
{
	unsigned v = ((dcr >> 1) & 4) | (dcr & 3);

	return (v + 1) & 7; /* 0 -> /2, ..., 6 -> /128, 7 -> /1 */
}

static bool timer_periodic(const struct x2apic *apic)
{
	return apic->lvt[X2APIC_LVT_SLOT_TIMER] & X2APIC_TIMER_PERIODIC;
}

static uint64_t timer_ticks(const struct x2apic *apic, uint64_t now_ns)
{
	if (now_ns < apic->timer_start_ns)
		return 0;
	return dm_scale(now_ns - apic->timer_start_ns, apic->bus_hz, DM_NS_PER_SEC) >>
	       apic->timer_shift;
}

static uint64_t timer_expiries(const struct x2apic *apic, uint64_t ticks)
{
	if (!apic->timer_armed || ticks < apic->timer_first)
		return 0;
	if (!timer_periodic(apic))
		return 1;
	return 1 + (ticks - apic->timer_first) / apic->timer_initial;
}

static uint32_t timer_current(const struct x2apic *apic)
{
	uint64_t e = timer_ticks(apic, apic->now_ns);

	if (!apic->timer_armed)
		return 0;
	if (e < apic->timer_first)
		return (uint32_t)(apic->timer_first - e);
	if (!timer_periodic(apic))
		return 0;
	return apic->timer_initial - (uint32_t)((e - apic->timer_first) % apic->timer_initial);
}

static void timer_start(struct x2apic *apic, uint32_t count)
{
	apic->timer_armed = true;
	apic->timer_start_ns = apic->now_ns;
	apic->timer_first = count;
	apic->timer_shift = divide_shift(apic->dcr);
	apic->timer_fired = 0;
}

/* Fire what expired up to now_ns; masked expiries are lost, as on hardware. */
static void timer_sync(struct x2apic *apic)
{
	uint32_t lvt = apic->lvt[X2APIC_LVT_SLOT_TIMER];
	uint64_t n = timer_expiries(apic, timer_ticks(apic, apic->now_ns));

	if (n <= apic->timer_fired)
		return;
	apic->timer_fired = n;
	if (!(lvt & X2APIC_LVT_MASKED))
		deliver_local(apic, VECTOR(lvt), false);
}

static void sync_to(struct x2apic *apic, uint64_t now_ns)
{
	if (now_ns > apic->now_ns)
		apic->now_ns = now_ns;
	timer_sync(apic);
}

static void write_timer_initial(struct x2apic *apic, uint32_t count)
{
	apic->timer_initial = count;
	if (count)
		timer_start(apic, count);
	else
		apic->timer_armed = false;
}

/* Continue from the current count under new rules (divider or mode). */
static void timer_rebase(struct x2apic *apic, uint32_t current)
{
	if (!apic->timer_armed)
		return;
	if (current)
		timer_start(apic, current);
	else
		apic->timer_armed = false; /* an expired one-shot stays expired */
}

static void write_dcr(struct x2apic *apic, uint32_t value)
{
	uint32_t current = timer_current(apic);

	apic->dcr = value;
	if (apic->timer_armed && current)
		timer_start(apic, current);
}

/* ---- registers ---- */

static void write_lvt(struct x2apic *apic, unsigned slot, uint32_t value)
{
	uint32_t current = timer_current(apic);
	bool was_periodic = timer_periodic(apic);

	value &= ~(uint32_t)LVT_READ_ONLY;
	if (!(apic->svr & X2APIC_SVR_ENABLE))
		value |= X2APIC_LVT_MASKED; /* stays masked while software-disabled */
	apic->lvt[slot] = value;
	if (slot == X2APIC_LVT_SLOT_TIMER && timer_periodic(apic) != was_periodic)
		timer_rebase(apic, current);
}

static void write_svr(struct x2apic *apic, uint32_t value)
{
	unsigned i;

	apic->svr = value;
	if (value & X2APIC_SVR_ENABLE)
		return;
	for (i = 0; i < X2APIC_NR_LVT; i++)
		apic->lvt[i] |= X2APIC_LVT_MASKED;
}

static int lvt_slot(uint32_t msr)
{
	switch (msr) {
	case X2APIC_LVT_CMCI:
		return X2APIC_LVT_SLOT_CMCI;
	case X2APIC_LVT_TIMER:
		return X2APIC_LVT_SLOT_TIMER;
	case X2APIC_LVT_THERMAL:
		return X2APIC_LVT_SLOT_THERMAL;
	case X2APIC_LVT_PMI:
		return X2APIC_LVT_SLOT_PMI;
	case X2APIC_LVT_LINT0:
		return X2APIC_LVT_SLOT_LINT0;
	case X2APIC_LVT_LINT1:
		return X2APIC_LVT_SLOT_LINT1;
	case X2APIC_LVT_ERROR:
		return X2APIC_LVT_SLOT_ERROR;
	}
	return -1;
}

/* ISR, TMR and IRR words: 0x810-0x827. */
static bool read_vector_word(const struct x2apic *apic, uint32_t msr, uint64_t *value)
{
	if (msr >= X2APIC_ISR0 && msr < X2APIC_ISR0 + 8)
		*value = apic->isr[msr - X2APIC_ISR0];
	else if (msr >= X2APIC_TMR0 && msr < X2APIC_TMR0 + 8)
		*value = apic->tmr[msr - X2APIC_TMR0];
	else if (msr >= X2APIC_IRR0 && msr < X2APIC_IRR0 + 8)
		*value = apic->irr[msr - X2APIC_IRR0];
	else
		return false;
	return true;
}

bool x2apic_rdmsr(struct x2apic *apic, uint32_t msr, uint64_t *value, uint64_t now_ns)
{
	int slot = lvt_slot(msr);

	sync_to(apic, now_ns);
	x2apic_update_irq(apic);
	if (slot >= 0) {
		*value = apic->lvt[slot];
		return true;
	}
	switch (msr) {
	case X2APIC_ID:
		*value = apic->id;
		return true;
	case X2APIC_VERSION:
		*value = APIC_VERSION | (X2APIC_NR_LVT - 1) << 16;
		return true;
	case X2APIC_TPR:
		*value = apic->tpr;
		return true;
	case X2APIC_PPR:
		*value = x2apic_ppr(apic);
		return true;
	case X2APIC_LDR:
		*value = logical_id(apic);
		return true;
	case X2APIC_SVR:
		*value = apic->svr;
		return true;
	case X2APIC_ESR:
		*value = apic->esr;
		return true;
	case X2APIC_ICR:
		*value = apic->icr;
		return true;
	case X2APIC_TIMER_ICR:
		*value = apic->timer_initial;
		return true;
	case X2APIC_TIMER_CCR:
		*value = timer_current(apic);
		return true;
	case X2APIC_TIMER_DCR:
		*value = apic->dcr;
		return true;
	}
	/* EOI and SELF IPI are write-only; the rest is reserved. */
	return read_vector_word(apic, msr, value);
}

/* The registers that take a write, with their writable bits checked. */
static bool write_register(struct x2apic *apic, uint32_t msr, uint64_t value)
{
	int slot = lvt_slot(msr);

	if (slot >= 0) {
		if (value & ~(uint64_t)lvt_writable[slot])
			return false;
		write_lvt(apic, (unsigned)slot, (uint32_t)value);
		return true;
	}
	switch (msr) {
	case X2APIC_TPR:
		if (value > 0xff)
			return false;
		apic->tpr = (uint32_t)value;
		return true;
	case X2APIC_EOI:
		if (value)
			return false;
		do_eoi(apic);
		return true;
	case X2APIC_SVR:
		if (value > 0x3ff) /* no EOI-broadcast suppression (bit 12) */
			return false;
		write_svr(apic, (uint32_t)value);
		return true;
	case X2APIC_ESR:
		if (value)
			return false;
		apic->esr = apic->esr_pending; /* a write latches the errors seen */
		apic->esr_pending = 0;
		return true;
	case X2APIC_ICR:
		if (value & ~ICR_WRITABLE)
			return false;
		apic->icr = value;
		send_ipi(apic, value);
		return true;
	case X2APIC_TIMER_ICR:
		write_timer_initial(apic, (uint32_t)value);
		return true;
	case X2APIC_TIMER_DCR:
		if (value & ~0xbull)
			return false;
		write_dcr(apic, (uint32_t)value);
		return true;
	case X2APIC_SELF_IPI:
		if (value > 0xff)
			return false;
		self_ipi(apic, VECTOR(value));
		return true;
	}
	return false; /* read-only or reserved */
}

bool x2apic_wrmsr(struct x2apic *apic, uint32_t msr, uint64_t value, uint64_t now_ns)
{
	bool ok;

	sync_to(apic, now_ns);
	/* Only the ICR is 64 bits wide. */
	ok = (msr == X2APIC_ICR || value >> 32 == 0) && write_register(apic, msr, value);
	x2apic_update_irq(apic);
	return ok;
}

/* ---- life cycle and time ---- */

void x2apic_reset(struct x2apic *apic, bool virtual_wire)
{
	unsigned i;

	apic->tpr = 0;
	apic->svr = 0xff;
	apic->esr = 0;
	apic->esr_pending = 0;
	apic->icr = 0;
	for (i = 0; i < X2APIC_NR_LVT; i++)
		apic->lvt[i] = X2APIC_LVT_MASKED;
	for (i = 0; i < 8; i++)
		apic->irr[i] = apic->isr[i] = apic->tmr[i] = 0;
	apic->timer_initial = 0;
	apic->dcr = 0;
	apic->timer_armed = false;
	apic->timer_fired = 0;
	if (virtual_wire) {
		/* MP-spec virtual wire mode: the 8259 reaches the CPU via LINT0. */
		apic->svr = X2APIC_SVR_ENABLE | 0xff;
		apic->lvt[X2APIC_LVT_SLOT_LINT0] = X2APIC_DM_EXTINT << X2APIC_LVT_DM_SHIFT;
		apic->lvt[X2APIC_LVT_SLOT_LINT1] = X2APIC_DM_NMI << X2APIC_LVT_DM_SHIFT;
	}
	x2apic_update_irq(apic);
}

void x2apic_init(struct x2apic *apic, const struct x2apic_config *cfg)
{
	apic->id = cfg->id;
	apic->bus_hz = cfg->bus_hz ? cfg->bus_hz : 1000000000u;
	apic->intr = cfg->intr;
	apic->intr_line = cfg->intr_line;
	apic->send_ipi = cfg->send_ipi;
	apic->eoi = cfg->eoi;
	apic->nmi = cfg->nmi;
	apic->opaque = cfg->opaque;
	apic->lint[0] = apic->lint[1] = false;
	apic->now_ns = 0;
	apic->timer_start_ns = 0;
	apic->timer_first = 0;
	apic->timer_shift = 0;
	apic->intr_level = false;
	x2apic_reset(apic, cfg->virtual_wire);
}

uint64_t x2apic_next_deadline(const struct x2apic *apic, uint64_t now_ns)
{
	uint64_t tick;

	(void)now_ns; /* deadlines follow from the state at the last advance */
	if (!apic->timer_armed || (apic->lvt[X2APIC_LVT_SLOT_TIMER] & X2APIC_LVT_MASKED))
		return DM_NO_DEADLINE;
	if (!timer_periodic(apic) && apic->timer_fired)
		return DM_NO_DEADLINE;
	tick = apic->timer_first + apic->timer_fired * apic->timer_initial;
	return apic->timer_start_ns +
	       dm_scale_ceil(tick << apic->timer_shift, DM_NS_PER_SEC, apic->bus_hz);
}

void x2apic_advance(struct x2apic *apic, uint64_t now_ns)
{
	sync_to(apic, now_ns);
	x2apic_update_irq(apic);
}

static uint64_t x2apic_dev_deadline(void *dev, uint64_t now_ns)
{
	return x2apic_next_deadline(dev, now_ns);
}

static void x2apic_dev_advance(void *dev, uint64_t now_ns)
{
	x2apic_advance(dev, now_ns);
}

const struct dm_device_ops x2apic_ops = {
	.name = "x2apic",
	.level = DM_INIT_CORE,
	.init = NULL,
	.next_deadline = x2apic_dev_deadline,
	.advance = x2apic_dev_advance,
};
