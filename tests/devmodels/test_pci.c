/* PCI host bridge (mechanism #1) and configuration space, driven as Linux's pci_conf1 does. */
#include "dmtest.h"

#include <devmodels/pci.h>

#define CF8 PCI_CONFIG_ADDRESS
#define CFC PCI_CONFIG_DATA
#define TEST_DEVFN PCI_DEVFN(3, 0)
#define TEST_IRQ 11

struct bar_dev {
	uint64_t last_offset;
	unsigned last_len;
	unsigned accesses;
	uint32_t value;
};

static bool bar_dev_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len,
		       bool is_write, void *opaque)
{
	struct bar_dev *d = opaque;
	uint8_t *b = data;
	unsigned i;

	(void)vcpu;
	d->accesses++;
	d->last_offset = addr;
	d->last_len = len;
	for (i = 0; i < len; i++) {
		if (is_write)
			d->value = (d->value & ~(0xffu << (8 * i))) | (uint32_t)b[i] << (8 * i);
		else
			b[i] = (uint8_t)(d->value >> (8 * i));
	}
	return true;
}

struct fixture {
	struct dm_iobus iobus;
	struct dm_registry reg;
	struct pci_bus pci;
	struct pci_function fn;
	struct bar_dev bar;
	struct irq_recorder irq;
};

static void setup(struct fixture *f)
{
	struct pci_function_config cfg = {
		.vendor_id = 0x1234,
		.device_id = 0x5678,
		.subsystem_vendor_id = 0x1af4,
		.subsystem_id = 0x0042,
		.class_code = 0x020000,
		.revision = 0x07,
		.interrupt_pin = 1,
		.irq_line = TEST_IRQ,
	};

	irq_recorder_init(&f->irq);
	cfg.irq = irq_recorder_line(&f->irq);
	f->bar.last_offset = 0;
	f->bar.last_len = 0;
	f->bar.accesses = 0;
	f->bar.value = 0x11223344;
	dm_iobus_init(&f->iobus);
	dm_registry_init(&f->reg);
	pci_bus_init(&f->pci);
	pci_function_init(&f->fn, &cfg);
	CHECK_EQ(pci_function_set_bar(&f->fn, 0, PCI_BAR_IO, 256, bar_dev_io, &f->bar), DM_OK);
	CHECK_EQ(pci_function_set_bar(&f->fn, 1, PCI_BAR_MEM32, 4096, bar_dev_io, &f->bar), DM_OK);
	CHECK_EQ(pci_function_set_bar(&f->fn, 2, PCI_BAR_MEM32_PREFETCH, 0x100000, bar_dev_io,
				      &f->bar),
		 DM_OK);
	CHECK_EQ(pci_bus_attach(&f->pci, &f->fn, TEST_DEVFN), DM_OK);
	CHECK_EQ(dm_registry_add(&f->reg, &pci_host_ops, &f->pci), DM_OK);
	CHECK_EQ(dm_registry_init_all(&f->reg, &f->iobus), DM_OK);
}

static uint32_t conf1_address(unsigned bus, unsigned devfn, unsigned reg)
{
	return 0x80000000u | bus << 16 | devfn << 8 | (reg & 0xfc);
}

/* pci_conf1_read(): address dword to 0xcf8, data at 0xcfc + (reg & 3 or 2). */
static uint32_t conf1_read(struct fixture *f, unsigned bus, unsigned devfn, unsigned reg,
			   unsigned len)
{
	io_outl(&f->iobus, CF8, conf1_address(bus, devfn, reg));
	switch (len) {
	case 1:
		return io_inb(&f->iobus, (uint16_t)(CFC + (reg & 3)));
	case 2:
		return io_inw(&f->iobus, (uint16_t)(CFC + (reg & 2)));
	default:
		return io_inl(&f->iobus, CFC);
	}
}

static void conf1_write(struct fixture *f, unsigned bus, unsigned devfn, unsigned reg,
			unsigned len, uint32_t v)
{
	io_outl(&f->iobus, CF8, conf1_address(bus, devfn, reg));
	switch (len) {
	case 1:
		io_outb(&f->iobus, (uint16_t)(CFC + (reg & 3)), (uint8_t)v);
		break;
	case 2:
		io_outw(&f->iobus, (uint16_t)(CFC + (reg & 2)), (uint16_t)v);
		break;
	default:
		io_outl(&f->iobus, CFC, v);
		break;
	}
}

/* pci_check_type1() and pci_sanity_check() of arch/x86/pci/direct.c. */
static void test_linux_type1_check(void)
{
	static struct fixture f;
	uint32_t saved;
	int devfn, found = -1;

	setup(&f);
	io_outb(&f.iobus, 0xcfb, 0x01); /* not the address register */
	saved = io_inl(&f.iobus, CF8);
	CHECK_EQ(saved, 0);
	io_outl(&f.iobus, CF8, 0x80000000u);
	CHECK_EQ(io_inl(&f.iobus, CF8), 0x80000000u);
	for (devfn = 0; devfn < 0x100 && found < 0; devfn++)
		if (conf1_read(&f, 0, (unsigned)devfn, PCI_CLASS_DEVICE, 2) == 0x0600)
			found = devfn;
	CHECK_EQ(found, 0); /* the host bridge */
	CHECK_EQ(conf1_read(&f, 0, 0, PCI_VENDOR_ID, 4),
		 (uint32_t)PCI_HOST_DEVICE_ID << 16 | PCI_HOST_VENDOR_ID);
	CHECK_EQ(conf1_read(&f, 0, 0, PCI_HEADER_TYPE, 1), 0);
	io_outl(&f.iobus, CF8, saved);
	CHECK_EQ(io_inl(&f.iobus, CF8), saved);
	/* Reserved bits 30:24 and 1:0 do not stick. */
	io_outl(&f.iobus, CF8, 0xffffffffu);
	CHECK_EQ(io_inl(&f.iobus, CF8), 0x80fffffcu);
	/* Byte and word reads of 0xcf8-0xcfb reach no device. */
	CHECK_EQ(io_inb(&f.iobus, CF8), 0xff);
	CHECK_EQ(io_inw(&f.iobus, CF8 + 2), 0xffff);
}

/* Linux's bus scan: vendor dword of every slot, all ones for empty ones. */
static void test_scan_and_empty_slots(void)
{
	static struct fixture f;
	unsigned dev, present = 0;
	uint64_t aborts;

	setup(&f);
	for (dev = 0; dev < 32; dev++) {
		uint32_t id = conf1_read(&f, 0, PCI_DEVFN(dev, 0), PCI_VENDOR_ID, 4);

		if (id != 0xffffffffu)
			present |= 1u << dev;
	}
	CHECK_EQ(present, 1u << 0 | 1u << 3);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_VENDOR_ID, 4), 0x56781234u);
	/* Empty slot, other function, other bus: all ones at every width. */
	CHECK_EQ(conf1_read(&f, 0, PCI_DEVFN(4, 0), PCI_CLASS_DEVICE, 2), 0xffff);
	CHECK_EQ(conf1_read(&f, 0, PCI_DEVFN(3, 1), PCI_HEADER_TYPE, 1), 0xff);
	CHECK_EQ(conf1_read(&f, 1, TEST_DEVFN, PCI_VENDOR_ID, 4), 0xffffffffu);
	/* Writes to nothing change nothing. */
	aborts = f.pci.master_aborts;
	conf1_write(&f, 1, TEST_DEVFN, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK_EQ(f.pci.master_aborts, aborts + 1);
	CHECK_EQ(pci_command(&f.fn), 0);
	/* With the enable bit clear the data port is not a config cycle. */
	io_outl(&f.iobus, CF8, TEST_DEVFN << 8);
	CHECK_EQ(io_inl(&f.iobus, CFC), 0xffffffffu);
	io_outw(&f.iobus, CFC, PCI_COMMAND_IO);
	CHECK_EQ(pci_command(&f.fn), 0);
	CHECK(f.iobus.unclaimed_reads > 0);
}

/* Byte, word and dword cycles at every offset of 0xcfc-0xcff. */
static void test_access_widths(void)
{
	static struct fixture f;

	setup(&f);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, 0, 1), 0x34);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, 1, 1), 0x12);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, 2, 1), 0x78);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, 3, 1), 0x56);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, 2, 2), 0x5678);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_REVISION_ID, 4), 0x02000007u);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x00421af4u);
	/* A word inside the window at offset 1 (bytes 1 and 2). */
	io_outl(&f.iobus, CF8, conf1_address(0, TEST_DEVFN, 0));
	CHECK_EQ(io_inw(&f.iobus, CFC + 1), 0x7812);
	/* A word that would run past 0xcff is split; its last byte reaches nothing. */
	CHECK_EQ(io_inw(&f.iobus, CFC + 3), 0xff56);
	/* Byte writes at offsets 0 and 1 of dword 0x0c. */
	conf1_write(&f, 0, TEST_DEVFN, PCI_CACHE_LINE_SIZE, 1, 0x10);
	conf1_write(&f, 0, TEST_DEVFN, PCI_LATENCY_TIMER, 1, 0x40);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_CACHE_LINE_SIZE, 4), 0x00004010u);
	/* Word write of the command register at 0xcfc, status untouched. */
	conf1_write(&f, 0, TEST_DEVFN, PCI_COMMAND, 2,
		    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_COMMAND, 4),
		 (uint32_t)PCI_STATUS_DEVSEL_MEDIUM << 16 | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	/* Interrupt line (what firmware routed) and pin. */
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_INTERRUPT_LINE, 2), 0x0100 | TEST_IRQ);
	conf1_write(&f, 0, TEST_DEVFN, PCI_INTERRUPT_LINE, 1, 5);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_INTERRUPT_LINE, 1), 5);
	/* No capabilities. */
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_CAPABILITY_LIST, 1), 0);
}

/* __pci_read_base(): save, write ~0, read the mask, restore. */
static uint32_t size_bar(struct fixture *f, unsigned index, uint32_t *mask)
{
	unsigned reg = PCI_BASE_ADDRESS_0 + 4 * index;
	uint32_t saved = conf1_read(f, 0, TEST_DEVFN, reg, 4), sz, low;

	conf1_write(f, 0, TEST_DEVFN, reg, 4, 0xffffffffu);
	sz = conf1_read(f, 0, TEST_DEVFN, reg, 4);
	conf1_write(f, 0, TEST_DEVFN, reg, 4, saved);
	CHECK_EQ(conf1_read(f, 0, TEST_DEVFN, reg, 4), saved);
	*mask = sz;
	if (!sz)
		return 0;
	low = (sz & PCI_BASE_ADDRESS_SPACE_IO) ? (sz & 0xfffc) : (sz & PCI_BASE_ADDRESS_MEM_MASK);
	return low & ~(low - 1);
}

static void test_bar_sizing(void)
{
	static struct fixture f;
	uint32_t mask;
	unsigned i;

	setup(&f);
	CHECK_EQ(size_bar(&f, 0, &mask), 256);
	CHECK_EQ(mask, 0xffffff01u); /* I/O space bit stays */
	CHECK_EQ(size_bar(&f, 1, &mask), 4096);
	CHECK_EQ(mask, 0xfffff000u); /* 32-bit memory, not prefetchable */
	CHECK_EQ(size_bar(&f, 2, &mask), 0x100000);
	CHECK_EQ(mask, 0xfff00008u);
	for (i = 3; i < PCI_NR_BARS; i++) {
		CHECK_EQ(size_bar(&f, i, &mask), 0);
		CHECK_EQ(mask, 0);
	}
	/* No expansion ROM. */
	conf1_write(&f, 0, TEST_DEVFN, PCI_ROM_ADDRESS, 4, 0xfffff800u);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_ROM_ADDRESS, 4), 0);
	/* Placing: low bits are dropped, the type bits stay. */
	conf1_write(&f, 0, TEST_DEVFN, PCI_BASE_ADDRESS_0, 4, 0xc0ff);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_BASE_ADDRESS_0, 4), 0xc001);
	CHECK_EQ(pci_bar_base(&f.fn, 0), 0xc000);
	conf1_write(&f, 0, TEST_DEVFN, PCI_BASE_ADDRESS_0 + 4, 4, 0xfebf1234u);
	CHECK_EQ(pci_bar_base(&f.fn, 1), 0xfebf1000u);
	/* Byte-wise BAR writes work as well. */
	conf1_write(&f, 0, TEST_DEVFN, PCI_BASE_ADDRESS_0 + 4 + 3, 1, 0xe0);
	CHECK_EQ(pci_bar_base(&f.fn, 1), 0xe0bf1000u);
	/* Bad BAR declarations. */
	CHECK_EQ(pci_function_set_bar(&f.fn, 6, PCI_BAR_IO, 16, bar_dev_io, NULL), DM_EINVAL);
	CHECK_EQ(pci_function_set_bar(&f.fn, 3, PCI_BAR_IO, 512, bar_dev_io, NULL), DM_EINVAL);
	CHECK_EQ(pci_function_set_bar(&f.fn, 3, PCI_BAR_MEM32, 8, bar_dev_io, NULL), DM_EINVAL);
	CHECK_EQ(pci_function_set_bar(&f.fn, 3, PCI_BAR_MEM32, 0x3000, bar_dev_io, NULL),
		 DM_EINVAL);
	CHECK_EQ(pci_function_set_bar(&f.fn, 3, PCI_BAR_MEM32, 4096, NULL, NULL), DM_EINVAL);
}

static void test_read_only_and_w1c(void)
{
	static struct fixture f;
	unsigned reg;

	setup(&f);
	for (reg = 0; reg < 0x40; reg += 4) {
		if (reg >= PCI_BASE_ADDRESS_0 && reg < PCI_BASE_ADDRESS_0 + 4 * PCI_NR_BARS)
			continue;
		if (reg == PCI_COMMAND || reg == PCI_CACHE_LINE_SIZE || reg == PCI_INTERRUPT_LINE)
			continue;
		{
			uint32_t before = conf1_read(&f, 0, TEST_DEVFN, reg, 4);

			conf1_write(&f, 0, TEST_DEVFN, reg, 4, ~before);
			CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, reg, 4), before);
		}
	}
	/* Only the command bits a device has stick. */
	conf1_write(&f, 0, TEST_DEVFN, PCI_COMMAND, 2, 0xffff);
	CHECK_EQ(pci_command(&f.fn), 0x0557);
	/* Status: error bits clear by writing 1, other bits are read-only. */
	pci_signal_master_abort(&f.fn);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_STATUS, 2),
		 PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_DEVSEL_MEDIUM);
	conf1_write(&f, 0, TEST_DEVFN, PCI_STATUS, 2, 0);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_STATUS, 2),
		 PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_DEVSEL_MEDIUM);
	conf1_write(&f, 0, TEST_DEVFN, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_STATUS, 2), PCI_STATUS_DEVSEL_MEDIUM);
	/* A dword write to command also writes (1s clear) status. */
	pci_signal_master_abort(&f.fn);
	conf1_write(&f, 0, TEST_DEVFN, PCI_COMMAND, 4, 0xffff0000u | PCI_COMMAND_IO);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_COMMAND, 4),
		 (uint32_t)PCI_STATUS_DEVSEL_MEDIUM << 16 | PCI_COMMAND_IO);
}

static void test_intx(void)
{
	static struct fixture f;
	unsigned calls;

	setup(&f);
	pci_set_intx(&f.fn, true);
	CHECK(f.irq.level[TEST_IRQ]);
	CHECK_EQ(f.irq.rises[TEST_IRQ], 1);
	CHECK(conf1_read(&f, 0, TEST_DEVFN, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	calls = f.irq.calls;
	pci_set_intx(&f.fn, true);
	CHECK_EQ(f.irq.calls, calls); /* no change, no call */
	/* Interrupt Disable masks the pin; the status bit still shows the request. */
	conf1_write(&f, 0, TEST_DEVFN, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	CHECK(!f.irq.level[TEST_IRQ]);
	CHECK(conf1_read(&f, 0, TEST_DEVFN, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* The status bit is not writable. */
	conf1_write(&f, 0, TEST_DEVFN, PCI_STATUS, 2, 0);
	CHECK(conf1_read(&f, 0, TEST_DEVFN, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	conf1_write(&f, 0, TEST_DEVFN, PCI_COMMAND, 2, 0);
	CHECK(f.irq.level[TEST_IRQ]);
	CHECK_EQ(f.irq.rises[TEST_IRQ], 2);
	pci_set_intx(&f.fn, false);
	CHECK(!f.irq.level[TEST_IRQ]);
	CHECK_EQ(conf1_read(&f, 0, TEST_DEVFN, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	CHECK_EQ(f.irq.falls[TEST_IRQ], 2);
}

static void test_bar_dispatch(void)
{
	static struct fixture f;
	uint8_t buf[4] = { 0, 0, 0, 0 };
	uint32_t v;

	setup(&f);
	pci_function_place_bar(&f.fn, 0, 0xc100);
	pci_function_place_bar(&f.fn, 1, 0xfebf0000u);
	/* Decoding is off until the command register turns it on. */
	CHECK(!pci_bus_mmio(&f.pci, NULL, 0xfebf0010u, buf, 4, false));
	CHECK_EQ(dm_get_le32(buf), 0xffffffffu);
	CHECK(!pci_bus_io(&f.pci, NULL, 0xc110, buf, 4, false));
	CHECK_EQ(f.bar.accesses, 0);
	conf1_write(&f, 0, TEST_DEVFN, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK(pci_bus_mmio(&f.pci, NULL, 0xfebf0010u, buf, 4, false));
	CHECK_EQ(dm_get_le32(buf), 0x11223344u);
	CHECK_EQ(f.bar.last_offset, 0x10);
	CHECK_EQ(f.bar.last_len, 4);
	CHECK(!pci_bus_io(&f.pci, NULL, 0xc110, buf, 4, false)); /* I/O still off */
	conf1_write(&f, 0, TEST_DEVFN, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	dm_put_le32(buf, 0xcafef00du);
	CHECK(pci_bus_io(&f.pci, NULL, 0xc1fc, buf, 4, true));
	CHECK_EQ(f.bar.last_offset, 0xfc);
	CHECK_EQ(f.bar.value, 0xcafef00du);
	/* Accesses that leave the BAR, or miss it, are not taken. */
	CHECK(!pci_bus_io(&f.pci, NULL, 0xc1fe, buf, 4, false));
	CHECK(!pci_bus_mmio(&f.pci, NULL, 0xfebf0ffeu, buf, 4, false));
	CHECK(!pci_bus_mmio(&f.pci, NULL, 0xfebf1000u, buf, 1, false));
	CHECK(!pci_bus_mmio(&f.pci, NULL, 0xfebf0000u + 0x100000000ull, buf, 4, false));
	/* Moving the BAR moves the decode. */
	conf1_write(&f, 0, TEST_DEVFN, PCI_BASE_ADDRESS_0 + 4, 4, 0xfe000000u);
	CHECK(!pci_bus_mmio(&f.pci, NULL, 0xfebf0010u, buf, 4, false));
	CHECK(pci_bus_mmio(&f.pci, NULL, 0xfe000ffcu, buf, 4, false));
	v = dm_get_le32(buf);
	CHECK_EQ(v, 0xcafef00du);
	CHECK_EQ(f.bar.last_offset, 0xffc);
	/* An unplaced BAR (base 0) decodes nothing. */
	CHECK(!pci_bus_mmio(&f.pci, NULL, 0x10, buf, 4, false));
}

static void test_attach_rules(void)
{
	static struct fixture f;
	static struct pci_function more[PCI_BUS_MAX_FUNCTIONS];
	struct pci_function_config cfg = { .vendor_id = 0x1111, .device_id = 0x2222 };
	unsigned i, ok = 0;
	int err = DM_OK;

	setup(&f);
	CHECK_EQ(pci_bus_attach(&f.pci, &f.fn, PCI_DEVFN(5, 0)), DM_EINVAL); /* plugged already */
	pci_function_init(&more[0], &cfg);
	CHECK_EQ(pci_bus_attach(&f.pci, &more[0], PCI_DEVFN(0, 0)), DM_EBUSY); /* host bridge */
	CHECK_EQ(pci_bus_attach(&f.pci, &more[0], TEST_DEVFN), DM_EBUSY);
	for (i = 0; i < PCI_BUS_MAX_FUNCTIONS && err == DM_OK; i++) {
		pci_function_init(&more[i], &cfg);
		err = pci_bus_attach(&f.pci, &more[i], PCI_DEVFN(4 + i / 8, i % 8));
		if (err == DM_OK)
			ok++;
	}
	CHECK_EQ(err, DM_ENOSPC);
	CHECK_EQ(ok, PCI_BUS_MAX_FUNCTIONS - 2);
	/* A second host bridge cannot claim the ports. */
	CHECK_EQ(dm_registry_add(&f.reg, &pci_host_ops, &f.pci), DM_OK);
	CHECK_EQ(dm_registry_init_all(&f.reg, &f.iobus), DM_EBUSY);
	CHECK_EQ(pci_host_ops.level, DM_INIT_CORE);
	CHECK(dm_iobus_find(&f.iobus, 0xcf8) != NULL);
	CHECK(dm_iobus_find(&f.iobus, 0xcff) != NULL);
	CHECK(dm_iobus_find(&f.iobus, 0xd00) == NULL);
}

/* A forwarded function (pass-through): every cycle reaches the forwarder,
 * with register and width, and config[] stays untouched. */
struct fwd_log {
	unsigned reads, writes, last_reg, last_len;
	uint32_t last_value;
};

static uint32_t fwd_read(void *opaque, unsigned reg, unsigned len)
{
	struct fwd_log *l = opaque;

	l->reads++;
	l->last_reg = reg;
	l->last_len = len;
	return 0xa5000000u | reg << 8 | len;
}

static void fwd_write(void *opaque, unsigned reg, unsigned len, uint32_t value)
{
	struct fwd_log *l = opaque;

	l->writes++;
	l->last_reg = reg;
	l->last_len = len;
	l->last_value = value;
}

static void test_forwarded_function(void)
{
	static struct fixture f;
	static struct pci_function fn;
	static struct fwd_log log;
	static const struct pci_config_forward fwd = {.read = fwd_read, .write = fwd_write,
						      .opaque = &log};
	struct pci_function_config cfg = {.vendor_id = 0x8086, .device_id = 0x100e};

	setup(&f);
	pci_function_init(&fn, &cfg);
	fn.forward = &fwd;
	CHECK_EQ(pci_bus_attach(&f.pci, &fn, PCI_DEVFN(5, 0)), 0);
	CHECK_EQ(conf1_read(&f, 0, PCI_DEVFN(5, 0), 0x10, 4), 0xa5001004u);
	CHECK_EQ(conf1_read(&f, 0, PCI_DEVFN(5, 0), 0x3d, 1), 0x01u); /* the low byte of the answer for (0x3d, 1) */
	CHECK_EQ(log.last_reg, 0x3d);
	CHECK_EQ(log.last_len, 1);
	conf1_write(&f, 0, PCI_DEVFN(5, 0), PCI_COMMAND, 2, 0x0007);
	CHECK_EQ(log.writes, 1);
	CHECK_EQ(log.last_reg, PCI_COMMAND);
	CHECK_EQ(log.last_len, 2);
	CHECK_EQ(log.last_value, 0x0007);
	CHECK_EQ(fn.config[PCI_COMMAND], 0); /* not the model's */
	/* other slots and the host bridge are not forwarded */
	CHECK_EQ(conf1_read(&f, 0, 0, PCI_VENDOR_ID, 2), PCI_HOST_VENDOR_ID);
	CHECK_EQ(log.reads, 2);
}

int main(int argc, char **argv)
{
	static const struct dmtest tests[] = {
		DMTEST(test_linux_type1_check),
		DMTEST(test_scan_and_empty_slots),
		DMTEST(test_access_widths),
		DMTEST(test_bar_sizing),
		DMTEST(test_read_only_and_w1c),
		DMTEST(test_intx),
		DMTEST(test_bar_dispatch),
		DMTEST(test_attach_rules),
		DMTEST(test_forwarded_function),
	};

	return dmtest_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
