/*
 * Port-I/O bus: a short table of port ranges, searched linearly (a PC has
 * a dozen of them).  Accesses no device takes behave like an empty ISA
 * bus: reads float to all-ones, writes vanish.  Both are counted, because
 * a guest poking at ports we do not model is worth knowing about.
 */
#include <devmodels/dm.h>

void dm_iobus_init(struct dm_iobus *bus)
{
	bus->nr_ranges = 0;
	bus->unclaimed_reads = 0;
	bus->unclaimed_writes = 0;
}

static bool ranges_overlap(const struct dm_io_range *r, uint32_t base, uint32_t len)
{
	return base < (uint32_t)r->base + r->len && r->base < base + len;
}

int dm_iobus_register(struct dm_iobus *bus, uint16_t base, unsigned len, dm_io_fn *fn,
		      void *opaque, const char *name)
{
	struct dm_io_range *r;
	unsigned i;

	if (!fn || len == 0 || (uint32_t)base + len > 0x10000)
		return DM_EINVAL;
	for (i = 0; i < bus->nr_ranges; i++)
		if (ranges_overlap(&bus->range[i], base, len))
			return DM_EBUSY;
	if (bus->nr_ranges == DM_IOBUS_MAX_RANGES)
		return DM_ENOSPC;
	r = &bus->range[bus->nr_ranges++];
	r->base = base;
	r->len = len;
	r->fn = fn;
	r->opaque = opaque;
	r->name = name;
	return DM_OK;
}

const struct dm_io_range *dm_iobus_find(const struct dm_iobus *bus, uint16_t port)
{
	unsigned i;

	for (i = 0; i < bus->nr_ranges; i++) {
		const struct dm_io_range *r = &bus->range[i];

		if (port >= r->base && (uint32_t)(port - r->base) < r->len)
			return r;
	}
	return NULL;
}

/* The whole access to the one device covering it; false if none takes it. */
static bool access_whole(struct dm_iobus *bus, struct dm_vcpu *vcpu, uint16_t port, void *data,
			 unsigned len, bool is_write)
{
	const struct dm_io_range *r = dm_iobus_find(bus, port);

	if (!r || (uint32_t)port + len > (uint32_t)r->base + r->len)
		return false;
	return r->fn(vcpu, port, data, len, is_write, r->opaque);
}

bool dm_iobus_access(struct dm_iobus *bus, struct dm_vcpu *vcpu, uint16_t port, void *data,
		     unsigned len, bool is_write)
{
	uint8_t *bytes = data;
	bool claimed = true;
	unsigned i;

	if (len != 1 && len != 2 && len != 4)
		return false;
	if (access_whole(bus, vcpu, port, data, len, is_write))
		return true;
	/* Split, as the ISA bus does for 8-bit devices; ports wrap at 64 KiB. */
	for (i = 0; i < len; i++) {
		uint16_t p = (uint16_t)(port + i);

		if (len > 1 && access_whole(bus, vcpu, p, &bytes[i], 1, is_write))
			continue;
		if (!is_write)
			bytes[i] = 0xff;
		claimed = false;
	}
	if (!claimed) {
		if (is_write)
			bus->unclaimed_writes++;
		else
			bus->unclaimed_reads++;
	}
	return claimed;
}
