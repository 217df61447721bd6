/*
 * Local APIC in x2APIC mode: registers are MSRs 0x800-0x8ff, accessed with
 * x2apic_rdmsr/x2apic_wrmsr, which return false where the CPU raises #GP
 * (reserved or invalid MSR, write to a read-only register, read of a
 * write-only one, a set reserved bit).  One instance per virtual CPU.
 *
 * Interrupts arrive through x2apic_accept() (I/O APIC, MSI, IPIs from other
 * CPUs), the timer, LINT0/LINT1 and self-IPIs.  The INTR output is a level
 * reported on change; the CPU model then calls x2apic_intack().  LINT0 in
 * ExtINT mode passes the 8259's INTR through: intack then returns
 * X2APIC_EXTINT and the vector must come from i8259_intack().
 *
 * The timer counts a configurable bus clock (bus_hz) through the divide
 * configuration register, in one-shot or periodic mode; TSC-deadline mode
 * is not offered (writing it is #GP).
 */
#ifndef DEVMODELS_X2APIC_H
#define DEVMODELS_X2APIC_H

#include <devmodels/dm.h>

#define X2APIC_MSR_BASE 0x800
#define X2APIC_MSR_END 0x900
#define X2APIC_EXTINT 0x100 /* x2apic_intack(): ask the 8259 for the vector */

/* MSR numbers */
enum {
	X2APIC_ID = 0x802,
	X2APIC_VERSION = 0x803,
	X2APIC_TPR = 0x808,
	X2APIC_PPR = 0x80a,
	X2APIC_EOI = 0x80b,
	X2APIC_LDR = 0x80d,
	X2APIC_SVR = 0x80f,
	X2APIC_ISR0 = 0x810,    /* ISR0-7: 0x810-0x817 */
	X2APIC_TMR0 = 0x818,    /* TMR0-7: 0x818-0x81f */
	X2APIC_IRR0 = 0x820,    /* IRR0-7: 0x820-0x827 */
	X2APIC_ESR = 0x828,
	X2APIC_LVT_CMCI = 0x82f,
	X2APIC_ICR = 0x830,
	X2APIC_LVT_TIMER = 0x832,
	X2APIC_LVT_THERMAL = 0x833,
	X2APIC_LVT_PMI = 0x834,
	X2APIC_LVT_LINT0 = 0x835,
	X2APIC_LVT_LINT1 = 0x836,
	X2APIC_LVT_ERROR = 0x837,
	X2APIC_TIMER_ICR = 0x838, /* initial count */
	X2APIC_TIMER_CCR = 0x839, /* current count */
	X2APIC_TIMER_DCR = 0x83e, /* divide configuration */
	X2APIC_SELF_IPI = 0x83f,
};

/* Register bits */
enum {
	X2APIC_SVR_ENABLE = 0x100,
	X2APIC_LVT_MASKED = 0x10000,
	X2APIC_LVT_LEVEL = 0x8000,
	X2APIC_LVT_DM_SHIFT = 8,
	X2APIC_DM_FIXED = 0,
	X2APIC_DM_LOWEST = 1,
	X2APIC_DM_SMI = 2,
	X2APIC_DM_NMI = 4,
	X2APIC_DM_INIT = 5,
	X2APIC_DM_STARTUP = 6,
	X2APIC_DM_EXTINT = 7,
	X2APIC_TIMER_PERIODIC = 0x20000,
	X2APIC_TIMER_TSC_DEADLINE = 0x40000,
	X2APIC_ICR_LOGICAL = 0x800,
	X2APIC_ICR_SELF = 0x40000,       /* destination shorthands */
	X2APIC_ICR_ALL = 0x80000,
	X2APIC_ICR_ALL_BUT_SELF = 0xc0000,
	X2APIC_ESR_SEND_ILLEGAL = 0x20,
	X2APIC_ESR_RECV_ILLEGAL = 0x40,
};

/* LVT slots */
enum {
	X2APIC_LVT_SLOT_CMCI,
	X2APIC_LVT_SLOT_TIMER,
	X2APIC_LVT_SLOT_THERMAL,
	X2APIC_LVT_SLOT_PMI,
	X2APIC_LVT_SLOT_LINT0,
	X2APIC_LVT_SLOT_LINT1,
	X2APIC_LVT_SLOT_ERROR,
	X2APIC_NR_LVT,
};

struct x2apic_config {
	uint32_t id;               /* x2APIC ID */
	uint32_t bus_hz;           /* timer clock before the divider, e.g. 1 GHz */
	bool virtual_wire;         /* start as firmware leaves it: enabled,
				      LINT0 ExtINT, LINT1 NMI; else reset state */
	struct dm_irq_line intr;   /* INTR to the CPU */
	unsigned intr_line;
	/*
	 * IPIs the APIC cannot deliver itself: fixed ones for other CPUs and
	 * every NMI/INIT/SIPI/SMI (whose destination may include this CPU).
	 * Fixed IPIs to this CPU never reach the callback.
	 */
	void (*send_ipi)(void *opaque, uint32_t sender_id, uint64_t icr);
	/* EOI of a level-triggered vector, for the I/O APIC's remote IRR. */
	void (*eoi)(void *opaque, uint8_t vector);
	/* LINT0/1 in NMI mode saw a rising edge. */
	void (*nmi)(void *opaque);
	void *opaque;
};

struct x2apic {
	uint32_t id;
	uint32_t bus_hz;
	struct dm_irq_line intr;
	unsigned intr_line;
	void (*send_ipi)(void *opaque, uint32_t sender_id, uint64_t icr);
	void (*eoi)(void *opaque, uint8_t vector);
	void (*nmi)(void *opaque);
	void *opaque;

	uint32_t tpr, svr, esr, esr_pending;
	uint64_t icr;
	uint32_t lvt[X2APIC_NR_LVT];
	uint32_t irr[8], isr[8], tmr[8]; /* 256-bit vectors, 32 per word */
	bool lint[2];                     /* LINT0/1 input levels */

	uint32_t timer_initial, dcr;
	bool timer_armed;
	uint64_t timer_start_ns;   /* counting started (or was rebased) here */
	uint64_t timer_first;      /* ticks from start to the first expiry */
	unsigned timer_shift;      /* log2 of the divider since start */
	uint64_t timer_fired;      /* expiries accounted for since start */

	uint64_t now_ns;
	bool intr_level;
};

void x2apic_init(struct x2apic *apic, const struct x2apic_config *cfg);
void x2apic_reset(struct x2apic *apic, bool virtual_wire);

/* Bring the APIC to now_ns, then access the register. */
bool x2apic_rdmsr(struct x2apic *apic, uint32_t msr, uint64_t *value, uint64_t now_ns);
bool x2apic_wrmsr(struct x2apic *apic, uint32_t msr, uint64_t value, uint64_t now_ns);

/*
 * A fixed interrupt from outside; level selects the TMR bit (EOI is then
 * reported through the eoi callback).  False for an illegal vector (< 16),
 * which sets the receive-illegal-vector error instead.
 */
bool x2apic_accept(struct x2apic *apic, uint8_t vector, bool level);

/* LINT0/LINT1 input levels; opaque is the struct x2apic (dm_irq_line shape). */
void x2apic_set_lint(void *opaque, unsigned pin, bool level);

/*
 * The interrupt acknowledge: X2APIC_EXTINT for a pass-through 8259
 * interrupt, else the highest deliverable vector (moved from IRR to ISR),
 * or the spurious vector from SVR if nothing is deliverable any more.
 */
unsigned x2apic_intack(struct x2apic *apic);

bool x2apic_intr(const struct x2apic *apic);
uint8_t x2apic_ppr(const struct x2apic *apic);

uint64_t x2apic_next_deadline(const struct x2apic *apic, uint64_t now_ns);
void x2apic_advance(struct x2apic *apic, uint64_t now_ns);

/* Registry entry: no I/O ports, only the timer. */
extern const struct dm_device_ops x2apic_ops;

#endif
