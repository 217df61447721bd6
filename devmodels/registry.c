/*
 * Device registry.  Devices are added explicitly by the platform code (no
 * constructors or linker sections, which a freestanding VAM image would
 * have to collect itself) and initialised level by level.
 */
#include <devmodels/dm.h>

void dm_registry_init(struct dm_registry *reg)
{
	reg->nr_devices = 0;
}

int dm_registry_add(struct dm_registry *reg, const struct dm_device_ops *ops, void *dev)
{
	struct dm_device *d;

	if (!ops || ops->level >= DM_INIT_NR_LEVELS)
		return DM_EINVAL;
	if (reg->nr_devices == DM_REGISTRY_MAX)
		return DM_ENOSPC;
	d = &reg->device[reg->nr_devices++];
	d->ops = ops;
	d->dev = dev;
	return DM_OK;
}

int dm_registry_init_all(struct dm_registry *reg, struct dm_iobus *bus)
{
	unsigned level, i;

	for (level = 0; level < DM_INIT_NR_LEVELS; level++) {
		for (i = 0; i < reg->nr_devices; i++) {
			const struct dm_device *d = &reg->device[i];
			int err;

			if (d->ops->level != level || !d->ops->init)
				continue;
			err = d->ops->init(d->dev, bus);
			if (err)
				return err;
		}
	}
	return DM_OK;
}

uint64_t dm_registry_next_deadline(const struct dm_registry *reg, uint64_t now_ns)
{
	uint64_t earliest = DM_NO_DEADLINE;
	unsigned i;

	for (i = 0; i < reg->nr_devices; i++) {
		const struct dm_device *d = &reg->device[i];
		uint64_t t;

		if (!d->ops->next_deadline)
			continue;
		t = d->ops->next_deadline(d->dev, now_ns);
		if (t < earliest)
			earliest = t;
	}
	return earliest;
}

void dm_registry_advance(struct dm_registry *reg, uint64_t now_ns)
{
	unsigned i;

	for (i = 0; i < reg->nr_devices; i++) {
		const struct dm_device *d = &reg->device[i];

		if (d->ops->advance)
			d->ops->advance(d->dev, now_ns);
	}
}
