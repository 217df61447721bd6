/*
 * 8254 PIT.
 *
 * A channel is not decremented tick by tick: it records the tick at which
 * its counting cycle started, and the counter and output are functions of
 * the ticks elapsed since (frozen while the gate stops it).  Every mode
 * thus costs nothing between accesses, and the next output change is a
 * closed formula, which is what next_deadline needs.
 *
 * Simplifications: a new count takes effect at once in every mode (a real
 * chip waits for the end of the period in modes 2 and 3, and for the next
 * trigger in modes 1 and 5), and the count is loaded in the tick it is
 * written rather than on the following clock edge.  Odd counts in mode 3
 * read back as the datasheet's even sequence would.
 */
#include <devmodels/i8254.h>

#define NO_CHANGE UINT64_MAX

enum {
	RW_LATCH = 0,
	RW_LSB = 1,
	RW_MSB = 2,
	RW_WORD = 3,
	CW_READ_BACK = 3,          /* select field value of the read-back command */
	RB_NO_COUNT = 0x20,
	RB_NO_STATUS = 0x10,
	PORT_B_GATE2 = 0x01,
	PORT_B_WRITABLE = 0x0f,
	PORT_B_REFRESH = 0x10,
	PORT_B_OUT2 = 0x20,
	REFRESH_TICKS = 18,        /* the toggle of a 15 us DRAM refresh */
};

uint64_t i8254_ns_to_ticks(uint64_t now_ns)
{
	return dm_scale(now_ns, I8254_FREQ_HZ, DM_NS_PER_SEC);
}

uint64_t i8254_ticks_to_ns(uint64_t ticks)
{
	return dm_scale_ceil(ticks, DM_NS_PER_SEC, I8254_FREQ_HZ);
}

static uint32_t modulus(const struct i8254_channel *ch)
{
	return ch->bcd ? 10000 : 0x10000;
}

static uint64_t elapsed(const struct i8254_channel *ch, uint64_t tick)
{
	return ch->running ? tick - ch->start : ch->frozen;
}

/* The counting element as a number (0 stands for the full count). */
static uint32_t counter_at(const struct i8254_channel *ch, uint64_t tick)
{
	uint64_t n = ch->count, m = modulus(ch), e;

	if (!ch->active)
		return (uint32_t)(n % m);
	e = elapsed(ch, tick);
	switch (ch->mode) {
	case 2:
		return (uint32_t)((n - e % n) % m);
	case 3:
		return (uint32_t)((n - (2 * (e % n)) % n) % m);
	default: /* 0, 1, 4, 5 count down once and wrap */
		return (uint32_t)((n + m - e % m) % m);
	}
}

static bool out_at(const struct i8254_channel *ch, uint64_t tick)
{
	uint64_t n = ch->count, e;

	if (!ch->active)
		return ch->out_idle;
	if ((ch->mode == 2 || ch->mode == 3) && !ch->gate)
		return true;
	e = elapsed(ch, tick);
	switch (ch->mode) {
	case 0:
	case 1:
		return e >= n;          /* high at terminal count */
	case 2:
		return e % n != n - 1;  /* low for the tick before reload */
	case 3:
		return e % n < (n + 1) / 2;
	default:
		return e != n;          /* 4, 5: one low tick at terminal count */
	}
}

/* The first tick after tick at which the output changes. */
static uint64_t next_change(const struct i8254_channel *ch, uint64_t tick)
{
	uint64_t n = ch->count, e, p, d;

	if (!ch->active || !ch->running)
		return NO_CHANGE;
	e = tick - ch->start;
	p = e % n;
	switch (ch->mode) {
	case 0:
	case 1:
		if (e >= n)
			return NO_CHANGE;
		d = n - e;
		break;
	case 2:
		if (n < 2)
			return NO_CHANGE;
		d = p < n - 1 ? n - 1 - p : 1;
		break;
	case 3:
		if (n < 2)
			return NO_CHANGE;
		d = p < (n + 1) / 2 ? (n + 1) / 2 - p : n - p;
		break;
	default:
		if (e > n)
			return NO_CHANGE;
		d = e < n ? n - e : 1;
		break;
	}
	return tick + d;
}

/* Did the output rise in (from, to]?  It alternates, so two changes tell. */
static bool rose_between(const struct i8254_channel *ch, uint64_t from, uint64_t to)
{
	bool level = out_at(ch, from);
	uint64_t t = from;
	int i;

	for (i = 0; i < 2; i++) {
		t = next_change(ch, t);
		if (t > to)
			return false;
		if (!level)
			return true;
		level = !level;
	}
	return false;
}

static void set_irq_level(struct i8254 *pit, bool level)
{
	pit->irq_level = level;
	dm_irq_set(&pit->irq, pit->irq_line, level);
}

/* Report channel 0's output up to now_tick, including a missed pulse. */
static void i8254_update_irq(struct i8254 *pit)
{
	const struct i8254_channel *ch0 = &pit->ch[0];
	bool rose = rose_between(ch0, pit->seen_tick, pit->now_tick);
	bool level = out_at(ch0, pit->now_tick);

	pit->seen_tick = pit->now_tick;
	if (rose) {
		if (pit->irq_level)
			set_irq_level(pit, false);
		set_irq_level(pit, true);
	}
	if (level != pit->irq_level)
		set_irq_level(pit, level);
}

static void channel_reset(struct i8254_channel *ch, bool gate)
{
	ch->mode = 0;
	ch->rw = RW_WORD;
	ch->bcd = false;
	ch->gate = gate;
	ch->count = 0x10000;
	ch->loaded = false;
	ch->active = false;
	ch->running = false;
	ch->start = 0;
	ch->frozen = 0;
	ch->load_tick = 0;
	ch->out_idle = false;
	ch->write_msb_next = false;
	ch->write_lsb = 0;
	ch->read_msb_next = false;
	ch->count_latched = false;
	ch->latch = 0;
	ch->status_latched = false;
	ch->status = 0;
}

void i8254_reset(struct i8254 *pit)
{
	/* Gates of channels 0 and 1 are tied high; channel 2's is port 0x61. */
	channel_reset(&pit->ch[0], true);
	channel_reset(&pit->ch[1], true);
	channel_reset(&pit->ch[2], false);
	pit->port_b = 0;
	i8254_update_irq(pit);
}

void i8254_init(struct i8254 *pit, const struct i8254_config *cfg)
{
	pit->irq = cfg->irq;
	pit->irq_line = cfg->irq_line;
	pit->now_ns = 0;
	pit->now_tick = 0;
	pit->seen_tick = 0;
	pit->irq_level = false;
	i8254_reset(pit);
}

static void start_cycle(struct i8254_channel *ch, uint64_t tick, bool running)
{
	ch->active = true;
	ch->running = running;
	ch->start = tick;
	ch->frozen = 0;
}

static uint32_t from_bcd16(uint16_t v)
{
	return (uint32_t)dm_bcd_to_bin((uint8_t)(v >> 8)) * 100 + dm_bcd_to_bin((uint8_t)v);
}

static uint16_t to_bcd16(uint32_t v)
{
	return (uint16_t)(dm_bin_to_bcd(v / 100 % 100) << 8 | dm_bin_to_bcd(v % 100));
}

static void load_count(struct i8254_channel *ch, uint16_t raw, uint64_t tick)
{
	uint32_t n = ch->bcd ? from_bcd16(raw) : raw;

	ch->count = n ? n : modulus(ch);
	ch->loaded = true;
	ch->load_tick = tick;
	/* Modes 1 and 5 wait for a rising gate; the others start now. */
	if (ch->mode != 1 && ch->mode != 5)
		start_cycle(ch, tick, ch->gate);
}

static void set_gate(struct i8254_channel *ch, bool gate, uint64_t tick)
{
	if (gate == ch->gate)
		return;
	ch->gate = gate;
	if (ch->mode == 1 || ch->mode == 5) {
		if (gate && ch->loaded)
			start_cycle(ch, tick, true); /* trigger (retriggerable) */
		return;
	}
	if (!ch->active)
		return;
	if (!gate) {
		ch->frozen = tick - ch->start;
		ch->running = false;
	} else if (ch->mode == 2 || ch->mode == 3) {
		start_cycle(ch, tick, true); /* a rising gate reloads */
	} else {
		ch->start = tick - ch->frozen; /* modes 0, 4 resume */
		ch->running = true;
	}
}

static uint16_t visible_count(const struct i8254_channel *ch, uint64_t tick)
{
	uint32_t v = counter_at(ch, tick);

	return ch->bcd ? to_bcd16(v) : (uint16_t)v;
}

static void latch_count(struct i8254_channel *ch, uint64_t tick)
{
	if (ch->count_latched)
		return; /* the first latch holds until read */
	ch->latch = visible_count(ch, tick);
	ch->count_latched = true;
}

static void latch_status(struct i8254_channel *ch, uint64_t tick)
{
	bool null_count = !ch->loaded || tick <= ch->load_tick;

	if (ch->status_latched)
		return;
	ch->status = (uint8_t)(out_at(ch, tick) << 7 | null_count << 6 | ch->rw << 4 |
			       ch->mode << 1 | ch->bcd);
	ch->status_latched = true;
}

static void read_back(struct i8254 *pit, uint8_t value)
{
	unsigned i;

	for (i = 0; i < 3; i++) {
		if (!(value & (2u << i)))
			continue;
		if (!(value & RB_NO_COUNT))
			latch_count(&pit->ch[i], pit->now_tick);
		if (!(value & RB_NO_STATUS))
			latch_status(&pit->ch[i], pit->now_tick);
	}
}

static void write_control(struct i8254 *pit, uint8_t value)
{
	unsigned select = value >> 6, rw = (value >> 4) & 3, mode = (value >> 1) & 7;
	struct i8254_channel *ch;

	if (select == CW_READ_BACK) {
		read_back(pit, value);
		return;
	}
	ch = &pit->ch[select];
	if (rw == RW_LATCH) {
		latch_count(ch, pit->now_tick);
		return;
	}
	ch->rw = (uint8_t)rw;
	ch->mode = (uint8_t)(mode > 5 ? mode - 4 : mode); /* 6, 7 alias 2, 3 */
	ch->bcd = value & 1;
	ch->loaded = false;
	ch->active = false;
	ch->running = false;
	ch->out_idle = ch->mode != 0; /* mode 0 drives OUT low, the rest high */
	ch->write_msb_next = false;
	ch->read_msb_next = false;
	ch->count_latched = false;
	ch->status_latched = false;
}

static void write_counter(struct i8254 *pit, struct i8254_channel *ch, uint8_t value)
{
	switch (ch->rw) {
	case RW_LSB:
		load_count(ch, value, pit->now_tick);
		break;
	case RW_MSB:
		load_count(ch, (uint16_t)(value << 8), pit->now_tick);
		break;
	default:
		if (ch->write_msb_next) {
			ch->write_msb_next = false;
			load_count(ch, (uint16_t)(value << 8 | ch->write_lsb), pit->now_tick);
			break;
		}
		ch->write_lsb = value;
		ch->write_msb_next = true;
		if (ch->mode == 0) {
			/* Mode 0: the first byte stops counting and drives OUT low. */
			ch->active = false;
			ch->out_idle = false;
		}
		break;
	}
}

static uint8_t read_counter(struct i8254 *pit, struct i8254_channel *ch)
{
	uint16_t v;
	bool msb;

	if (ch->status_latched) {
		ch->status_latched = false;
		return ch->status;
	}
	v = ch->count_latched ? ch->latch : visible_count(ch, pit->now_tick);
	if (ch->rw == RW_WORD) {
		msb = ch->read_msb_next;
		ch->read_msb_next = !msb;
	} else {
		msb = ch->rw == RW_MSB;
	}
	/* A latch holds until all of it was read. */
	if (msb || ch->rw != RW_WORD)
		ch->count_latched = false;
	return (uint8_t)(msb ? v >> 8 : v);
}

static uint8_t read_port_b(const struct i8254 *pit)
{
	uint8_t value = pit->port_b;

	if ((pit->now_tick / REFRESH_TICKS) & 1)
		value |= PORT_B_REFRESH;
	if (out_at(&pit->ch[2], pit->now_tick))
		value |= PORT_B_OUT2;
	return value;
}

uint8_t i8254_read(struct i8254 *pit, uint16_t port)
{
	switch (port) {
	case I8254_BASE:
	case I8254_BASE + 1:
	case I8254_BASE + 2:
		return read_counter(pit, &pit->ch[port - I8254_BASE]);
	case I8254_PORT_B:
		return read_port_b(pit);
	}
	return 0xff; /* the control word register is write-only */
}

void i8254_write(struct i8254 *pit, uint16_t port, uint8_t value)
{
	switch (port) {
	case I8254_BASE:
	case I8254_BASE + 1:
	case I8254_BASE + 2:
		write_counter(pit, &pit->ch[port - I8254_BASE], value);
		break;
	case I8254_BASE + 3:
		write_control(pit, value);
		break;
	case I8254_PORT_B:
		pit->port_b = value & PORT_B_WRITABLE;
		set_gate(&pit->ch[2], value & PORT_B_GATE2, pit->now_tick);
		break;
	}
	i8254_update_irq(pit);
}

uint16_t i8254_counter(const struct i8254 *pit, unsigned channel)
{
	return (uint16_t)counter_at(&pit->ch[channel], pit->now_tick);
}

bool i8254_output(const struct i8254 *pit, unsigned channel)
{
	return out_at(&pit->ch[channel], pit->now_tick);
}

uint64_t i8254_next_deadline(const struct i8254 *pit, uint64_t now_ns)
{
	uint64_t tick;

	(void)now_ns; /* deadlines follow from the state at the last advance */
	if (!pit->irq.set)
		return DM_NO_DEADLINE; /* nobody listens to channel 0 */
	tick = next_change(&pit->ch[0], pit->seen_tick);
	return tick == NO_CHANGE ? DM_NO_DEADLINE : i8254_ticks_to_ns(tick);
}

void i8254_advance(struct i8254 *pit, uint64_t now_ns)
{
	if (now_ns < pit->now_ns)
		return; /* time never runs backwards */
	pit->now_ns = now_ns;
	pit->now_tick = i8254_ns_to_ticks(now_ns);
	i8254_update_irq(pit);
}

bool i8254_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len, bool is_write,
	      void *opaque)
{
	uint8_t *byte = data;

	(void)vcpu; /* models do not care which CPU asks */
	if (len != 1)
		return false;
	if (is_write)
		i8254_write(opaque, (uint16_t)addr, *byte);
	else
		*byte = i8254_read(opaque, (uint16_t)addr);
	return true;
}

static int i8254_dev_init(void *dev, struct dm_iobus *bus)
{
	int err = dm_iobus_register(bus, I8254_BASE, 4, i8254_io, dev, "i8254");

	if (!err)
		err = dm_iobus_register(bus, I8254_PORT_B, 1, i8254_io, dev, "port-b");
	return err;
}

static uint64_t i8254_dev_deadline(void *dev, uint64_t now_ns)
{
	return i8254_next_deadline(dev, now_ns);
}

static void i8254_dev_advance(void *dev, uint64_t now_ns)
{
	i8254_advance(dev, now_ns);
}

const struct dm_device_ops i8254_ops = {
	.name = "i8254",
	.level = DM_INIT_DEV,
	.init = i8254_dev_init,
	.next_deadline = i8254_dev_deadline,
	.advance = i8254_dev_advance,
};
