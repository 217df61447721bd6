/*
 * PCI configuration space and a host bridge with mechanism #1.
 *
 * A function's header is three byte arrays: the values, the bits a
 * configuration write may change (wmask) and the bits a written 1 clears
 * (w1cmask, the status error bits).  Everything follows from them: a BAR
 * of size S has the bits below S (and its type bits) read-only, so
 * writing all ones reads back ~(S - 1) | type, which is how every OS
 * sizes a BAR; read-only registers simply have a zero wmask.
 *
 * The function's INTx output is computed in one place, pci_update_irq(),
 * from the device's request and the command register's Interrupt Disable;
 * the line moves only on a change.
 */
#include <devmodels/pci.h>

static void put_config16(struct pci_function *fn, unsigned reg, uint16_t v)
{
	fn->config[reg] = (uint8_t)v;
	fn->config[reg + 1] = (uint8_t)(v >> 8);
}

static void put_wmask16(struct pci_function *fn, unsigned reg, uint16_t v)
{
	fn->wmask[reg] = (uint8_t)v;
	fn->wmask[reg + 1] = (uint8_t)(v >> 8);
}

static void pci_update_irq(struct pci_function *fn)
{
	bool level = fn->intx_request && fn->config[PCI_INTERRUPT_PIN] != 0 &&
		     !(pci_command(fn) & PCI_COMMAND_INTX_DISABLE);

	if (level == fn->irq_level)
		return;
	fn->irq_level = level;
	dm_irq_set(&fn->irq, fn->irq_line, level);
}

void pci_function_init(struct pci_function *fn, const struct pci_function_config *cfg)
{
	fn->forward = NULL;
	dm_zero_bytes(fn->config, sizeof(fn->config));
	dm_zero_bytes(fn->wmask, sizeof(fn->wmask));
	dm_zero_bytes(fn->w1cmask, sizeof(fn->w1cmask));
	dm_zero_bytes(fn->bar, sizeof(fn->bar)); /* PCI_BAR_NONE, no callbacks */
	put_config16(fn, PCI_VENDOR_ID, cfg->vendor_id);
	put_config16(fn, PCI_DEVICE_ID, cfg->device_id);
	put_config16(fn, PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM);
	fn->config[PCI_REVISION_ID] = cfg->revision;
	fn->config[PCI_CLASS_PROG] = (uint8_t)cfg->class_code;
	fn->config[PCI_CLASS_DEVICE] = (uint8_t)(cfg->class_code >> 8);
	fn->config[PCI_CLASS_DEVICE + 1] = (uint8_t)(cfg->class_code >> 16);
	put_config16(fn, PCI_SUBSYSTEM_VENDOR_ID, cfg->subsystem_vendor_id);
	put_config16(fn, PCI_SUBSYSTEM_ID, cfg->subsystem_id);
	fn->config[PCI_INTERRUPT_PIN] = cfg->interrupt_pin;
	/* Firmware's routing, as the OS finds it in the interrupt-line register. */
	fn->config[PCI_INTERRUPT_LINE] = cfg->interrupt_pin ? (uint8_t)cfg->irq_line : 0xff;
	fn->config[PCI_MIN_GNT] = cfg->min_gnt;
	fn->config[PCI_MAX_LAT] = cfg->max_lat;

	put_wmask16(fn, PCI_COMMAND,
		    PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			    PCI_COMMAND_INVALIDATE | PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
			    PCI_COMMAND_INTX_DISABLE);
	fn->w1cmask[PCI_STATUS] = (uint8_t)PCI_STATUS_W1C;
	fn->w1cmask[PCI_STATUS + 1] = (uint8_t)(PCI_STATUS_W1C >> 8);
	fn->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	fn->wmask[PCI_LATENCY_TIMER] = 0xff;
	fn->wmask[PCI_INTERRUPT_LINE] = 0xff;

	fn->irq = cfg->irq;
	fn->irq_line = cfg->irq_line;
	fn->intx_request = false;
	fn->irq_level = false;
	fn->attached = false;
	fn->devfn = 0;
}

static bool power_of_two(uint32_t v)
{
	return v && !(v & (v - 1));
}

int pci_function_set_bar(struct pci_function *fn, unsigned index, enum pci_bar_type type,
			 uint32_t size, dm_io_fn *io, void *opaque)
{
	unsigned reg = PCI_BASE_ADDRESS_0 + 4 * index;
	uint32_t low, mask;

	if (index >= PCI_NR_BARS || !power_of_two(size) || !io)
		return DM_EINVAL;
	switch (type) {
	case PCI_BAR_IO:
		if (size < 4 || size > 256) /* the PCI limit for an I/O BAR */
			return DM_EINVAL;
		low = PCI_BASE_ADDRESS_SPACE_IO;
		mask = PCI_BASE_ADDRESS_IO_MASK;
		break;
	case PCI_BAR_MEM32:
	case PCI_BAR_MEM32_PREFETCH:
		if (size < 16)
			return DM_EINVAL;
		low = type == PCI_BAR_MEM32_PREFETCH ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0;
		mask = PCI_BASE_ADDRESS_MEM_MASK;
		break;
	default:
		return DM_EINVAL;
	}
	fn->bar[index].size = size;
	fn->bar[index].type = type;
	fn->bar[index].fn = io;
	fn->bar[index].opaque = opaque;
	dm_put_le32(&fn->config[reg], low);
	dm_put_le32(&fn->wmask[reg], mask & ~(size - 1));
	return DM_OK;
}

void pci_function_place_bar(struct pci_function *fn, unsigned index, uint32_t base)
{
	if (index < PCI_NR_BARS && fn->bar[index].size)
		pci_config_write(fn, PCI_BASE_ADDRESS_0 + 4 * index, 4, base);
}

uint32_t pci_bar_base(const struct pci_function *fn, unsigned index)
{
	uint32_t raw;

	if (index >= PCI_NR_BARS || !fn->bar[index].size)
		return 0;
	raw = dm_get_le32(&fn->config[PCI_BASE_ADDRESS_0 + 4 * index]);
	if (fn->bar[index].type == PCI_BAR_IO)
		return raw & PCI_BASE_ADDRESS_IO_MASK;
	return raw & PCI_BASE_ADDRESS_MEM_MASK;
}

uint32_t pci_config_read(const struct pci_function *fn, unsigned reg, unsigned len)
{
	uint32_t v = 0;
	unsigned i;

	for (i = 0; i < len && reg + i < PCI_CONFIG_SIZE; i++)
		v |= (uint32_t)fn->config[reg + i] << (8 * i);
	return v;
}

void pci_config_write(struct pci_function *fn, unsigned reg, unsigned len, uint32_t value)
{
	bool command = false;
	unsigned i;

	for (i = 0; i < len && reg + i < PCI_CONFIG_SIZE; i++) {
		unsigned r = reg + i;
		uint8_t b = (uint8_t)(value >> (8 * i));

		fn->config[r] = (uint8_t)((fn->config[r] & ~fn->wmask[r]) | (b & fn->wmask[r]));
		fn->config[r] &= (uint8_t)~(b & fn->w1cmask[r]);
		if (r == PCI_COMMAND || r == PCI_COMMAND + 1)
			command = true;
	}
	if (command)
		pci_update_irq(fn); /* Interrupt Disable may have changed */
}

void pci_set_intx(struct pci_function *fn, bool level)
{
	fn->intx_request = level;
	/* Status bit 3 shows the request even while Interrupt Disable masks it. */
	if (level)
		fn->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		fn->config[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
	pci_update_irq(fn);
}

void pci_signal_master_abort(struct pci_function *fn)
{
	fn->config[PCI_STATUS + 1] |= (uint8_t)(PCI_STATUS_REC_MASTER_ABORT >> 8);
}

/* ------------------------------------------------------------------------ */

void pci_bus_init(struct pci_bus *bus)
{
	static const struct pci_function_config host = {
		.vendor_id = PCI_HOST_VENDOR_ID,
		.device_id = PCI_HOST_DEVICE_ID,
		.class_code = 0x060000, /* bridge, host */
	};

	bus->address = 0;
	dm_zero_bytes(bus->devfn, sizeof(bus->devfn)); /* all NULL */
	dm_zero_bytes(bus->list, sizeof(bus->list));
	bus->nr_functions = 0;
	bus->master_aborts = 0;
	pci_function_init(&bus->host, &host);
	/* Memory and bus mastering on, as firmware leaves a host bridge. */
	pci_config_write(&bus->host, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	pci_bus_attach(bus, &bus->host, PCI_DEVFN(0, 0));
}

int pci_bus_attach(struct pci_bus *bus, struct pci_function *fn, uint8_t devfn)
{
	if (!fn || fn->attached)
		return DM_EINVAL;
	if (bus->devfn[devfn])
		return DM_EBUSY;
	if (bus->nr_functions == PCI_BUS_MAX_FUNCTIONS)
		return DM_ENOSPC;
	fn->devfn = devfn;
	fn->attached = true;
	bus->devfn[devfn] = fn;
	bus->list[bus->nr_functions++] = fn;
	return DM_OK;
}

static uint32_t all_ones(unsigned len)
{
	return len >= 4 ? 0xffffffffu : (1u << (8 * len)) - 1;
}

uint32_t pci_bus_config_read(struct pci_bus *bus, unsigned busno, uint8_t devfn, unsigned reg,
			     unsigned len)
{
	const struct pci_function *fn = busno == 0 ? bus->devfn[devfn] : NULL;

	if (!fn || reg + len > PCI_CONFIG_SIZE) {
		bus->master_aborts++;
		return all_ones(len);
	}
	if (fn->forward)
		return fn->forward->read(fn->forward->opaque, reg, len);
	return pci_config_read(fn, reg, len);
}

void pci_bus_config_write(struct pci_bus *bus, unsigned busno, uint8_t devfn, unsigned reg,
			  unsigned len, uint32_t value)
{
	struct pci_function *fn = busno == 0 ? bus->devfn[devfn] : NULL;

	if (!fn || reg + len > PCI_CONFIG_SIZE) {
		bus->master_aborts++;
		return;
	}
	if (fn->forward) {
		fn->forward->write(fn->forward->opaque, reg, len, value);
		return;
	}
	pci_config_write(fn, reg, len, value);
}

/* The BAR of an enabled function that holds all of [addr, addr + len). */
static const struct pci_bar *find_bar(const struct pci_bus *bus, uint64_t addr, unsigned len,
				      bool io, uint64_t *offset)
{
	unsigned i, b;

	for (i = 0; i < bus->nr_functions; i++) {
		const struct pci_function *fn = bus->list[i];
		uint16_t cmd = pci_command(fn);

		if (!(cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)))
			continue;
		for (b = 0; b < PCI_NR_BARS; b++) {
			const struct pci_bar *bar = &fn->bar[b];
			uint64_t base = pci_bar_base(fn, b);

			if (!bar->size || (bar->type == PCI_BAR_IO) != io || base == 0)
				continue;
			if (addr >= base && addr - base < bar->size && len <= bar->size - (addr - base)) {
				*offset = addr - base;
				return bar;
			}
		}
	}
	return NULL;
}

static bool bar_access(struct pci_bus *bus, struct dm_vcpu *vcpu, uint64_t addr, void *data,
		       unsigned len, bool is_write, bool io)
{
	uint64_t offset = 0;
	const struct pci_bar *bar = find_bar(bus, addr, len, io, &offset);
	uint8_t *bytes = data;
	unsigned i;

	if (bar && bar->fn(vcpu, offset, data, len, is_write, bar->opaque))
		return true;
	if (!is_write)
		for (i = 0; i < len; i++)
			bytes[i] = 0xff;
	return false;
}

bool pci_bus_mmio(struct pci_bus *bus, struct dm_vcpu *vcpu, uint64_t addr, void *data,
		  unsigned len, bool is_write)
{
	return bar_access(bus, vcpu, addr, data, len, is_write, false);
}

bool pci_bus_io(struct pci_bus *bus, struct dm_vcpu *vcpu, uint16_t port, void *data,
		unsigned len, bool is_write)
{
	return bar_access(bus, vcpu, port, data, len, is_write, true);
}

bool pci_host_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len, bool is_write,
		 void *opaque)
{
	struct pci_bus *bus = opaque;
	uint8_t *bytes = data;
	unsigned offset, reg, busno;
	uint8_t devfn;
	uint32_t v = 0;
	unsigned i;

	(void)vcpu; /* models do not care which CPU asks */
	if (addr == PCI_CONFIG_ADDRESS) {
		if (len != 4)
			return false; /* not the address register: reaches no device */
		if (is_write)
			bus->address = dm_get_le32(bytes) & (PCI_CONFIG_ENABLE | 0x00fffffcu);
		else
			dm_put_le32(bytes, bus->address);
		return true;
	}
	if (addr < PCI_CONFIG_DATA || addr + len > PCI_CONFIG_DATA + 4)
		return false; /* bytes of 0xcf8-0xcfb, or past 0xcff: split by the bus */
	if (!(bus->address & PCI_CONFIG_ENABLE))
		return false; /* an ordinary I/O cycle that no device claims */
	offset = (unsigned)(addr - PCI_CONFIG_DATA);
	reg = (bus->address & 0xfc) + offset;
	busno = (bus->address >> 16) & 0xff;
	devfn = (uint8_t)(bus->address >> 8);
	if (is_write) {
		for (i = 0; i < len; i++)
			v |= (uint32_t)bytes[i] << (8 * i);
		pci_bus_config_write(bus, busno, devfn, reg, len, v);
	} else {
		v = pci_bus_config_read(bus, busno, devfn, reg, len);
		for (i = 0; i < len; i++)
			bytes[i] = (uint8_t)(v >> (8 * i));
	}
	return true;
}

static int pci_host_dev_init(void *dev, struct dm_iobus *iobus)
{
	return dm_iobus_register(iobus, PCI_CONFIG_ADDRESS, 8, pci_host_io, dev, "pci-host");
}

const struct dm_device_ops pci_host_ops = {
	.name = "pci-host",
	.level = DM_INIT_CORE,
	.init = pci_host_dev_init,
};
