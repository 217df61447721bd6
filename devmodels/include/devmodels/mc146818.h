/*
 * MC146818 real-time clock and 128 bytes of CMOS RAM: index port 0x70
 * (bit 7 masks NMI), data port 0x71, IRQ 8.
 *
 * The clock is a count of seconds (a Unix-style epoch of the guest's local
 * time) plus the phase of the divider chain in ns: the time registers are
 * computed from it when read, in BCD or binary and 12 or 24 hour format as
 * register B says.  While SET is 1 or the divider is stopped they are
 * plain storage, and they become the new count when the clock runs again.
 * Byte 0x32 holds the century (the PC convention ACPI's FADT points at).
 *
 * Port accesses see the time of the last mc146818_advance().
 */
#ifndef DEVMODELS_MC146818_H
#define DEVMODELS_MC146818_H

#include <devmodels/dm.h>

#define MC146818_BASE 0x70
#define MC146818_IRQ 8
#define MC146818_CMOS_SIZE 128

enum {
	RTC_SECONDS = 0x00,
	RTC_SECONDS_ALARM = 0x01,
	RTC_MINUTES = 0x02,
	RTC_MINUTES_ALARM = 0x03,
	RTC_HOURS = 0x04,
	RTC_HOURS_ALARM = 0x05,
	RTC_DAY_OF_WEEK = 0x06,  /* 1 = Sunday */
	RTC_DAY_OF_MONTH = 0x07,
	RTC_MONTH = 0x08,
	RTC_YEAR = 0x09,
	RTC_REG_A = 0x0a,
	RTC_REG_B = 0x0b,
	RTC_REG_C = 0x0c,
	RTC_REG_D = 0x0d,
	RTC_CENTURY = 0x32,

	RTC_A_UIP = 0x80,
	RTC_A_DV_MASK = 0x70,
	RTC_A_DV_32KHZ = 0x20,   /* the one divider setting that runs the clock */
	RTC_A_RS_MASK = 0x0f,

	RTC_B_SET = 0x80,
	RTC_B_PIE = 0x40,
	RTC_B_AIE = 0x20,
	RTC_B_UIE = 0x10,
	RTC_B_SQWE = 0x08,
	RTC_B_DM_BINARY = 0x04,
	RTC_B_24H = 0x02,
	RTC_B_DSE = 0x01,

	RTC_C_IRQF = 0x80,
	RTC_C_PF = 0x40,
	RTC_C_AF = 0x20,
	RTC_C_UF = 0x10,

	RTC_D_VRT = 0x80,

	RTC_HOUR_PM = 0x80,      /* 12-hour mode */
	RTC_ALARM_DONT_CARE = 0xc0,
};

struct mc146818_config {
	struct dm_irq_line irq;
	unsigned irq_line;       /* MC146818_IRQ */
	int64_t epoch_sec;       /* wall time (seconds since 1970) at epoch_ns */
	uint64_t epoch_ns;
};

struct mc146818 {
	uint8_t cmos[MC146818_CMOS_SIZE];
	uint8_t index;
	bool nmi_masked;
	struct dm_irq_line irq;
	unsigned irq_line;
	int64_t sec;             /* the time at origin_ns + k s, plus k */
	int64_t origin_ns;       /* phase of the divider: updates at origin + k s */
	uint64_t updates_seen;   /* update cycles accounted for since origin */
	uint64_t periods_seen;   /* periodic events accounted for since origin */
	uint64_t now_ns;         /* time of the last advance */
	bool irq_level;
};

void mc146818_init(struct mc146818 *rtc, const struct mc146818_config *cfg);

/* Set the wall time: sec at now_ns, next update one second later. */
void mc146818_set_time(struct mc146818 *rtc, int64_t sec, uint64_t now_ns);

/* The wall time the registers show at the last advance. */
int64_t mc146818_time(const struct mc146818 *rtc);

/* Firmware-owned CMOS bytes (memory size, boot order, ...) outside the clock. */
void mc146818_cmos_set(struct mc146818 *rtc, unsigned index, uint8_t value);
uint8_t mc146818_cmos_get(const struct mc146818 *rtc, unsigned index);

/* Port 0x70 bit 7 as last written: NMIs masked. */
bool mc146818_nmi_masked(const struct mc146818 *rtc);

/* Register access at the time of the last advance; port 0x70 or 0x71. */
uint8_t mc146818_read(struct mc146818 *rtc, uint16_t port);
void mc146818_write(struct mc146818 *rtc, uint16_t port, uint8_t value);

/*
 * Flags (PF, UF, AF) are computed from time when the registers are looked
 * at, so deadlines are only needed for enabled interrupts, and none while
 * IRQ 8 is already asserted (it stays so until register C is read).
 */
uint64_t mc146818_next_deadline(const struct mc146818 *rtc, uint64_t now_ns);
void mc146818_advance(struct mc146818 *rtc, uint64_t now_ns);

bool mc146818_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len, bool is_write,
		 void *opaque);

extern const struct dm_device_ops mc146818_ops;

#endif
