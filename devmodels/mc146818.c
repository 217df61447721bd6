/*
 * MC146818 RTC.
 *
 * Nothing ticks inside: the seconds count, the divider phase (origin_ns)
 * and the time of the last look are enough to say how many update cycles
 * and periodic events happened since, so flags are brought up to date
 * (sync_flags) whenever time advances or the guest reads a register.
 *
 * Time zone, daylight saving (DSE) and the square-wave output are not
 * modelled; day of week is derived from the date.
 */
#include <devmodels/mc146818.h>

#define RTC_HZ 32768u
#define SECONDS_PER_DAY 86400
/* UIP rises 8 cycles of 32.768 kHz (244 us) before each update. */
#define UIP_LEAD_NS 244141u
/* Leaving divider reset, the first update comes half a second later. */
#define DIVIDER_RESET_PHASE_NS 500000000

static bool divider_running(const struct mc146818 *rtc)
{
	return (rtc->cmos[RTC_REG_A] & RTC_A_DV_MASK) == RTC_A_DV_32KHZ;
}

/* The time registers follow the clock (otherwise they are storage). */
static bool clock_live(const struct mc146818 *rtc)
{
	return divider_running(rtc) && !(rtc->cmos[RTC_REG_B] & RTC_B_SET);
}

static bool is_binary(const struct mc146818 *rtc)
{
	return rtc->cmos[RTC_REG_B] & RTC_B_DM_BINARY;
}

static bool is_24h(const struct mc146818 *rtc)
{
	return rtc->cmos[RTC_REG_B] & RTC_B_24H;
}

static uint64_t since_origin(const struct mc146818 *rtc)
{
	int64_t e = (int64_t)rtc->now_ns - rtc->origin_ns;

	return e > 0 ? (uint64_t)e : 0;
}

/* Periodic interrupt period in 32.768 kHz cycles; 0 when off. */
static uint32_t period_cycles(const struct mc146818 *rtc)
{
	unsigned rs = rtc->cmos[RTC_REG_A] & RTC_A_RS_MASK;

	if (rs == 0)
		return 0;
	return rs <= 2 ? 1u << (rs + 6) : 1u << (rs - 1); /* RS 1, 2 repeat 8 and 9 */
}

static uint64_t periods_at(const struct mc146818 *rtc, uint64_t since)
{
	uint32_t p = period_cycles(rtc);

	return p ? dm_scale(since, RTC_HZ, DM_NS_PER_SEC) / p : 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static unsigned floor_mod(int64_t a, int64_t b)
{
	return (unsigned)(a - floor_div(a, b) * b);
}

/* ---- calendar (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

struct civil_time {
	int64_t year;
	unsigned month, day, hour, minute, second, weekday; /* weekday 0 = Sunday */
};

static void civil_from_seconds(int64_t t, struct civil_time *ct)
{
	int64_t days = floor_div(t, SECONDS_PER_DAY), z = days + 719468, era;
	unsigned sod = floor_mod(t, SECONDS_PER_DAY), doe, yoe, doy, mp;

	era = floor_div(z, 146097);
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	ct->day = doy - (153 * mp + 2) / 5 + 1;
	ct->month = mp < 10 ? mp + 3 : mp - 9;
	ct->year = (int64_t)yoe + era * 400 + (ct->month <= 2);
	ct->hour = sod / 3600;
	ct->minute = sod / 60 % 60;
	ct->second = sod % 60;
	ct->weekday = floor_mod(days + 4, 7); /* 1970-01-01 was a Thursday */
}

/* ---- register formats ---- */

static uint8_t to_reg(const struct mc146818 *rtc, unsigned v)
{
	return is_binary(rtc) ? (uint8_t)v : dm_bin_to_bcd(v);
}

static unsigned from_reg(const struct mc146818 *rtc, uint8_t v)
{
	return is_binary(rtc) ? v : dm_bcd_to_bin(v);
}

static uint8_t hour_to_reg(const struct mc146818 *rtc, unsigned h)
{
	if (is_24h(rtc))
		return to_reg(rtc, h);
	return (uint8_t)(to_reg(rtc, h % 12 ? h % 12 : 12) | (h >= 12 ? RTC_HOUR_PM : 0));
}

static unsigned hour_from_reg(const struct mc146818 *rtc, uint8_t v)
{
	if (is_24h(rtc))
		return from_reg(rtc, v);
	return from_reg(rtc, v & 0x7f) % 12 + ((v & RTC_HOUR_PM) ? 12 : 0);
}

static int64_t current_seconds(const struct mc146818 *rtc)
{
	return rtc->sec + (int64_t)(since_origin(rtc) / DM_NS_PER_SEC);
}

/* Write the time t into the time registers. */
static void store_time(struct mc146818 *rtc, int64_t t)
{
	struct civil_time ct;
	int64_t yy;

	civil_from_seconds(t, &ct);
	yy = ct.year % 100 < 0 ? ct.year % 100 + 100 : ct.year % 100;
	rtc->cmos[RTC_SECONDS] = to_reg(rtc, ct.second);
	rtc->cmos[RTC_MINUTES] = to_reg(rtc, ct.minute);
	rtc->cmos[RTC_HOURS] = hour_to_reg(rtc, ct.hour);
	rtc->cmos[RTC_DAY_OF_WEEK] = to_reg(rtc, ct.weekday + 1);
	rtc->cmos[RTC_DAY_OF_MONTH] = to_reg(rtc, ct.day);
	rtc->cmos[RTC_MONTH] = to_reg(rtc, ct.month);
	rtc->cmos[RTC_YEAR] = to_reg(rtc, (unsigned)yy);
	rtc->cmos[RTC_CENTURY] = to_reg(rtc, (unsigned)((ct.year - yy) / 100 % 100));
}

/* The time the registers say, as seconds. */
static int64_t parse_time(const struct mc146818 *rtc)
{
	const uint8_t *r = rtc->cmos;
	int64_t year = from_reg(rtc, r[RTC_CENTURY]) * 100 + from_reg(rtc, r[RTC_YEAR]);
	unsigned month = from_reg(rtc, r[RTC_MONTH]), day = from_reg(rtc, r[RTC_DAY_OF_MONTH]);

	if (month < 1 || month > 12)
		month = 1;
	if (day < 1)
		day = 1;
	return days_from_civil(year, month, day) * SECONDS_PER_DAY +
	       hour_from_reg(rtc, r[RTC_HOURS]) * 3600 + from_reg(rtc, r[RTC_MINUTES]) * 60 +
	       from_reg(rtc, r[RTC_SECONDS]);
}

/* ---- interrupts ---- */

/* An alarm field: -1 matches anything. */
static int alarm_field(const struct mc146818 *rtc, unsigned reg)
{
	uint8_t v = rtc->cmos[reg];

	if ((v & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE)
		return -1;
	return (int)(reg == RTC_HOURS_ALARM ? hour_from_reg(rtc, v) : from_reg(rtc, v));
}

static bool field_matches(int alarm, unsigned value)
{
	return alarm < 0 || (unsigned)alarm == value;
}

/* Did any second in (from, to] match the alarm? */
static bool alarm_between(const struct mc146818 *rtc, int64_t from, int64_t to)
{
	int s = alarm_field(rtc, RTC_SECONDS_ALARM), m = alarm_field(rtc, RTC_MINUTES_ALARM);
	int h = alarm_field(rtc, RTC_HOURS_ALARM);
	int64_t t;

	if (to - from > SECONDS_PER_DAY)
		to = from + SECONDS_PER_DAY; /* a whole day tries every time of day */
	for (t = from + 1; t <= to; t++) {
		unsigned sod = floor_mod(t, SECONDS_PER_DAY);

		if (field_matches(s, sod % 60) && field_matches(m, sod / 60 % 60) &&
		    field_matches(h, sod / 3600))
			return true;
	}
	return false;
}

static uint8_t irqf(const struct mc146818 *rtc)
{
	uint8_t flags = rtc->cmos[RTC_REG_C] & (RTC_C_PF | RTC_C_AF | RTC_C_UF);

	/* PF/AF/UF line up with PIE/AIE/UIE. */
	return (flags & rtc->cmos[RTC_REG_B]) ? RTC_C_IRQF : 0;
}

static void mc146818_update_irq(struct mc146818 *rtc)
{
	bool level = irqf(rtc);

	if (level == rtc->irq_level)
		return;
	rtc->irq_level = level;
	dm_irq_set(&rtc->irq, rtc->irq_line, level);
}

/* Account for periodic events and update cycles up to now_ns. */
static void sync_flags(struct mc146818 *rtc)
{
	uint64_t since = since_origin(rtc), n;

	if (!divider_running(rtc))
		return;
	n = periods_at(rtc, since);
	if (n > rtc->periods_seen)
		rtc->cmos[RTC_REG_C] |= RTC_C_PF; /* set even with PIE clear */
	rtc->periods_seen = n;
	if (rtc->cmos[RTC_REG_B] & RTC_B_SET)
		return; /* SET inhibits update cycles */
	n = since / DM_NS_PER_SEC;
	if (n <= rtc->updates_seen)
		return;
	rtc->cmos[RTC_REG_C] |= RTC_C_UF;
	if (alarm_between(rtc, rtc->sec + (int64_t)rtc->updates_seen, rtc->sec + (int64_t)n))
		rtc->cmos[RTC_REG_C] |= RTC_C_AF;
	rtc->updates_seen = n;
}

/* A new divider phase or time count: nothing before now is news. */
static void recount(struct mc146818 *rtc)
{
	uint64_t since = since_origin(rtc);

	rtc->periods_seen = periods_at(rtc, since);
	rtc->updates_seen = since / DM_NS_PER_SEC;
}

/* The registers become the time; the divider keeps its phase. */
static void take_registers_keep_phase(struct mc146818 *rtc)
{
	uint64_t whole = since_origin(rtc) / DM_NS_PER_SEC;

	rtc->origin_ns += (int64_t)(whole * DM_NS_PER_SEC);
	rtc->sec = parse_time(rtc);
	recount(rtc);
}

/* ---- public ---- */

void mc146818_set_time(struct mc146818 *rtc, int64_t sec, uint64_t now_ns)
{
	if (now_ns > rtc->now_ns)
		rtc->now_ns = now_ns;
	rtc->sec = sec;
	rtc->origin_ns = (int64_t)now_ns;
	recount(rtc);
	store_time(rtc, sec);
}

int64_t mc146818_time(const struct mc146818 *rtc)
{
	return clock_live(rtc) ? current_seconds(rtc) : parse_time(rtc);
}

void mc146818_init(struct mc146818 *rtc, const struct mc146818_config *cfg)
{
	unsigned i;

	for (i = 0; i < MC146818_CMOS_SIZE; i++)
		rtc->cmos[i] = 0;
	rtc->cmos[RTC_REG_A] = RTC_A_DV_32KHZ | 0x06; /* 1024 Hz, as firmware sets it */
	rtc->cmos[RTC_REG_B] = RTC_B_24H;
	rtc->cmos[RTC_REG_D] = RTC_D_VRT;
	rtc->index = 0;
	rtc->nmi_masked = false;
	rtc->irq = cfg->irq;
	rtc->irq_line = cfg->irq_line;
	rtc->irq_level = false;
	rtc->now_ns = 0;
	mc146818_set_time(rtc, cfg->epoch_sec, cfg->epoch_ns);
}

void mc146818_cmos_set(struct mc146818 *rtc, unsigned index, uint8_t value)
{
	if (index < MC146818_CMOS_SIZE)
		rtc->cmos[index] = value;
}

uint8_t mc146818_cmos_get(const struct mc146818 *rtc, unsigned index)
{
	return index < MC146818_CMOS_SIZE ? rtc->cmos[index] : 0xff;
}

bool mc146818_nmi_masked(const struct mc146818 *rtc)
{
	return rtc->nmi_masked;
}

static bool is_time_register(unsigned index)
{
	switch (index) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		return true;
	}
	return false;
}

static bool update_in_progress(const struct mc146818 *rtc)
{
	return clock_live(rtc) &&
	       since_origin(rtc) % DM_NS_PER_SEC >= DM_NS_PER_SEC - UIP_LEAD_NS;
}

static uint8_t read_c(struct mc146818 *rtc)
{
	uint8_t value = rtc->cmos[RTC_REG_C] | irqf(rtc);

	rtc->cmos[RTC_REG_C] = 0; /* reading C acknowledges everything */
	return value;
}

static uint8_t read_data(struct mc146818 *rtc)
{
	unsigned index = rtc->index;

	sync_flags(rtc);
	if (is_time_register(index) && clock_live(rtc))
		store_time(rtc, current_seconds(rtc));
	switch (index) {
	case RTC_REG_A:
		return rtc->cmos[RTC_REG_A] | (update_in_progress(rtc) ? RTC_A_UIP : 0);
	case RTC_REG_C:
		return read_c(rtc);
	case RTC_REG_D:
		return RTC_D_VRT;
	}
	return rtc->cmos[index];
}

static void write_time_register(struct mc146818 *rtc, unsigned index, uint8_t value)
{
	if (!clock_live(rtc)) {
		rtc->cmos[index] = value;
		return;
	}
	/* A running clock continues from what the guest wrote. */
	store_time(rtc, current_seconds(rtc));
	rtc->cmos[index] = value;
	take_registers_keep_phase(rtc);
}

static void write_a(struct mc146818 *rtc, uint8_t value)
{
	bool was_running = divider_running(rtc), was_live = clock_live(rtc);

	if (was_live)
		store_time(rtc, current_seconds(rtc));
	rtc->cmos[RTC_REG_A] = value & (uint8_t)~RTC_A_UIP;
	if (!was_running && divider_running(rtc))
		rtc->origin_ns = (int64_t)rtc->now_ns - DIVIDER_RESET_PHASE_NS;
	if (!was_live && clock_live(rtc))
		rtc->sec = parse_time(rtc);
	recount(rtc);
}

static void write_b(struct mc146818 *rtc, uint8_t value)
{
	uint8_t old = rtc->cmos[RTC_REG_B];
	bool was_live = clock_live(rtc);

	if (was_live)
		store_time(rtc, current_seconds(rtc));
	if ((value & RTC_B_SET) && !(old & RTC_B_SET))
		value &= (uint8_t)~RTC_B_UIE; /* SET going high clears UIE */
	rtc->cmos[RTC_REG_B] = value;
	if (!was_live && clock_live(rtc))
		take_registers_keep_phase(rtc);
}

static void write_data(struct mc146818 *rtc, uint8_t value)
{
	unsigned index = rtc->index;

	sync_flags(rtc);
	if (is_time_register(index)) {
		write_time_register(rtc, index, value);
		return;
	}
	switch (index) {
	case RTC_REG_A:
		write_a(rtc, value);
		break;
	case RTC_REG_B:
		write_b(rtc, value);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* read-only */
	default:
		rtc->cmos[index] = value;
		break;
	}
}

uint8_t mc146818_read(struct mc146818 *rtc, uint16_t port)
{
	uint8_t value = 0xff; /* the index port is write-only */

	if (port == MC146818_BASE + 1) {
		value = read_data(rtc);
		mc146818_update_irq(rtc);
	}
	return value;
}

void mc146818_write(struct mc146818 *rtc, uint16_t port, uint8_t value)
{
	if (port == MC146818_BASE) {
		rtc->index = value & 0x7f;
		rtc->nmi_masked = value & 0x80;
		return;
	}
	if (port == MC146818_BASE + 1) {
		write_data(rtc, value);
		mc146818_update_irq(rtc);
	}
}

uint64_t mc146818_next_deadline(const struct mc146818 *rtc, uint64_t now_ns)
{
	uint8_t b = rtc->cmos[RTC_REG_B];
	uint64_t next = DM_NO_DEADLINE;
	uint32_t p = period_cycles(rtc);

	(void)now_ns; /* deadlines follow from the state at the last advance */
	/* While IRQ 8 is asserted, nothing can change it but a read of C. */
	if (rtc->irq_level || !divider_running(rtc))
		return DM_NO_DEADLINE;
	if ((b & RTC_B_PIE) && p)
		next = (uint64_t)(rtc->origin_ns +
				  (int64_t)dm_scale_ceil((rtc->periods_seen + 1) * p,
							 DM_NS_PER_SEC, RTC_HZ));
	if (clock_live(rtc) && (b & (RTC_B_UIE | RTC_B_AIE))) {
		uint64_t update = (uint64_t)(rtc->origin_ns +
					     (int64_t)((rtc->updates_seen + 1) * DM_NS_PER_SEC));

		if (update < next)
			next = update;
	}
	return next;
}

void mc146818_advance(struct mc146818 *rtc, uint64_t now_ns)
{
	if (now_ns < rtc->now_ns)
		return;
	rtc->now_ns = now_ns;
	sync_flags(rtc);
	mc146818_update_irq(rtc);
}

bool mc146818_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len, bool is_write,
		 void *opaque)
{
	uint8_t *byte = data;

	(void)vcpu; /* models do not care which CPU asks */
	if (len != 1)
		return false;
	if (is_write)
		mc146818_write(opaque, (uint16_t)addr, *byte);
	else
		*byte = mc146818_read(opaque, (uint16_t)addr);
	return true;
}

static int mc146818_dev_init(void *dev, struct dm_iobus *bus)
{
	return dm_iobus_register(bus, MC146818_BASE, 2, mc146818_io, dev, "mc146818");
}

static uint64_t mc146818_dev_deadline(void *dev, uint64_t now_ns)
{
	return mc146818_next_deadline(dev, now_ns);
}

static void mc146818_dev_advance(void *dev, uint64_t now_ns)
{
	mc146818_advance(dev, now_ns);
}

const struct dm_device_ops mc146818_ops = {
	.name = "mc146818",
	.level = DM_INIT_DEV,
	.init = mc146818_dev_init,
	.next_deadline = mc146818_dev_deadline,
	.advance = mc146818_dev_advance,
};
