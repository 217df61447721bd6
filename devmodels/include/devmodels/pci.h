/*
 * PCI bus 0 behind a host bridge with configuration mechanism #1.
 *
 * Port 0xcf8 (CONFIG_ADDRESS) takes dword accesses only: enable bit 31,
 * bus 23:16, device 15:11, function 10:8, register 7:2.  Ports 0xcfc-0xcff
 * (CONFIG_DATA) take byte, word and dword accesses at any offset that stays
 * inside the four bytes, as Linux's pci_conf1 uses them (inb at 0xcfc +
 * (reg & 3), inw at 0xcfc + (reg & 2)).  Byte and word accesses to
 * 0xcf8-0xcfb are not the address register (Linux's type-1 check writes
 * 0xcfb); they reach no device.
 *
 * Functions register with a 256-byte type-0 header: identity, command,
 * status, class, BARs (I/O or 32-bit memory, sized by all-ones writes, with
 * their read-only low bits), interrupt line/pin; no capabilities (pointer
 * 0).  Absent functions and other buses read all ones.  The host bridge
 * itself is device 0 (class 0x0600, which Linux's sanity check of type 1
 * looks for when the BIOS date is unknown).
 *
 * BARs are decoded here: the back end hands memory accesses it cannot
 * place to pci_bus_mmio() and port accesses to pci_bus_io(); a BAR's
 * callback (the dm_io_fn shape) gets the offset inside the BAR as addr.
 */
#ifndef DEVMODELS_PCI_H
#define DEVMODELS_PCI_H

#include <devmodels/dm.h>

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_CONFIG_SIZE 256
#define PCI_NR_BARS 6
#define PCI_BUS_MAX_FUNCTIONS 32
#define PCI_DEVFN(dev, fn) ((uint8_t)(((dev) & 0x1f) << 3 | ((fn) & 7)))

#define PCI_HOST_VENDOR_ID 0x8086 /* an i440FX host bridge, as PCs have */
#define PCI_HOST_DEVICE_ID 0x1237

/* Configuration-space offsets and bits (PCI Local Bus 3.0, type-0 header). */
enum {
	PCI_VENDOR_ID = 0x00,
	PCI_DEVICE_ID = 0x02,
	PCI_COMMAND = 0x04,
	PCI_STATUS = 0x06,
	PCI_REVISION_ID = 0x08,
	PCI_CLASS_PROG = 0x09,
	PCI_CLASS_DEVICE = 0x0a,
	PCI_CACHE_LINE_SIZE = 0x0c,
	PCI_LATENCY_TIMER = 0x0d,
	PCI_HEADER_TYPE = 0x0e,
	PCI_BIST = 0x0f,
	PCI_BASE_ADDRESS_0 = 0x10,
	PCI_SUBSYSTEM_VENDOR_ID = 0x2c,
	PCI_SUBSYSTEM_ID = 0x2e,
	PCI_ROM_ADDRESS = 0x30,
	PCI_CAPABILITY_LIST = 0x34,
	PCI_INTERRUPT_LINE = 0x3c,
	PCI_INTERRUPT_PIN = 0x3d,
	PCI_MIN_GNT = 0x3e,
	PCI_MAX_LAT = 0x3f,

	PCI_COMMAND_IO = 0x0001,
	PCI_COMMAND_MEMORY = 0x0002,
	PCI_COMMAND_MASTER = 0x0004,
	PCI_COMMAND_INVALIDATE = 0x0010,
	PCI_COMMAND_PARITY = 0x0040,
	PCI_COMMAND_SERR = 0x0100,
	PCI_COMMAND_INTX_DISABLE = 0x0400,

	PCI_STATUS_INTERRUPT = 0x0008,
	PCI_STATUS_CAP_LIST = 0x0010,
	PCI_STATUS_DEVSEL_MEDIUM = 0x0200,
	PCI_STATUS_REC_MASTER_ABORT = 0x2000,
	PCI_STATUS_W1C = 0xf900, /* error bits: write 1 to clear */

	PCI_BASE_ADDRESS_SPACE_IO = 0x01,
	PCI_BASE_ADDRESS_MEM_PREFETCH = 0x08,
};

#define PCI_BASE_ADDRESS_IO_MASK 0xfffffffcu
#define PCI_BASE_ADDRESS_MEM_MASK 0xfffffff0u
#define PCI_CONFIG_ENABLE 0x80000000u

enum pci_bar_type {
	PCI_BAR_NONE,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM32_PREFETCH,
};

struct pci_bar {
	uint32_t size;          /* power of two; 0: not implemented */
	enum pci_bar_type type;
	dm_io_fn *fn;           /* accesses inside the BAR; addr = offset */
	void *opaque;
};

struct pci_function_config {
	uint16_t vendor_id, device_id;
	uint16_t subsystem_vendor_id, subsystem_id;
	uint32_t class_code;    /* class << 16 | subclass << 8 | prog-if */
	uint8_t revision;
	uint8_t interrupt_pin;  /* 1 = INTA#, 0 = none */
	uint8_t min_gnt, max_lat;
	/*
	 * Where the platform wired INTx (and what firmware left in the
	 * interrupt-line register).  PCI interrupts are level-triggered; a
	 * line shared by several functions needs an OR in the back end.
	 */
	struct dm_irq_line irq;
	unsigned irq_line;
};

/*
 * A function whose configuration space is somewhere else (a machine device
 * passed through to the guest): every configuration cycle goes to these
 * instead of config[]; its BARs are not decoded here.
 */
struct pci_config_forward {
	uint32_t (*read)(void *opaque, unsigned reg, unsigned len);
	void (*write)(void *opaque, unsigned reg, unsigned len, uint32_t value);
	void *opaque;
};

struct pci_function {
	const struct pci_config_forward *forward; /* NULL: config[] is the truth */
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE];   /* bits a configuration write may change */
	uint8_t w1cmask[PCI_CONFIG_SIZE]; /* bits a written 1 clears */
	struct pci_bar bar[PCI_NR_BARS];
	struct dm_irq_line irq;
	unsigned irq_line;
	bool intx_request;                /* the device asks for an interrupt */
	bool irq_level;                   /* the line as driven */
	bool attached;
	uint8_t devfn;
};

struct pci_bus {
	uint32_t address;                 /* CONFIG_ADDRESS */
	struct pci_function *devfn[256];  /* bus 0 */
	struct pci_function *list[PCI_BUS_MAX_FUNCTIONS];
	unsigned nr_functions;
	struct pci_function host;         /* the host bridge, 00:00.0 */
	/* Configuration cycles nobody answered (all-ones reads). */
	uint64_t master_aborts;
};

/* Power-on state of a function: header from cfg, no BARs, command 0. */
void pci_function_init(struct pci_function *fn, const struct pci_function_config *cfg);

/* Declare BAR index (0-5) of size bytes (a power of two, >= 16 for memory, >= 4 for I/O). */
int pci_function_set_bar(struct pci_function *fn, unsigned index, enum pci_bar_type type,
			 uint32_t size, dm_io_fn *io, void *opaque);

/* What firmware does before the OS runs: place a BAR. */
void pci_function_place_bar(struct pci_function *fn, unsigned index, uint32_t base);

/* Configuration space as the function sees it (reg + len <= 256, len 1/2/4). */
uint32_t pci_config_read(const struct pci_function *fn, unsigned reg, unsigned len);
void pci_config_write(struct pci_function *fn, unsigned reg, unsigned len, uint32_t value);

static inline uint16_t pci_command(const struct pci_function *fn)
{
	return (uint16_t)(fn->config[PCI_COMMAND] | fn->config[PCI_COMMAND + 1] << 8);
}

static inline bool pci_bus_master_enabled(const struct pci_function *fn)
{
	return pci_command(fn) & PCI_COMMAND_MASTER;
}

/* Base address a BAR decodes (0: not placed). */
uint32_t pci_bar_base(const struct pci_function *fn, unsigned index);

/* The device's INTx request; the line follows unless INTx is disabled. */
void pci_set_intx(struct pci_function *fn, bool level);

/* A DMA the function mastered found no memory: Received Master Abort. */
void pci_signal_master_abort(struct pci_function *fn);

/* ------------------------------------------------------------------------ */

void pci_bus_init(struct pci_bus *bus);

/* Plug fn in at devfn of bus 0: DM_EBUSY if the slot is taken, DM_ENOSPC if full. */
int pci_bus_attach(struct pci_bus *bus, struct pci_function *fn, uint8_t devfn);

/* A configuration cycle, as mechanism #1 produces it. */
uint32_t pci_bus_config_read(struct pci_bus *bus, unsigned busno, uint8_t devfn, unsigned reg,
			     unsigned len);
void pci_bus_config_write(struct pci_bus *bus, unsigned busno, uint8_t devfn, unsigned reg,
			  unsigned len, uint32_t value);

/*
 * Accesses the back end could not place elsewhere: to a memory BAR
 * (decoded while the function's command register has Memory Space set) or
 * an I/O BAR (I/O Space).  true if a BAR took it; false leaves all-ones in
 * data for a read.
 */
bool pci_bus_mmio(struct pci_bus *bus, struct dm_vcpu *vcpu, uint64_t addr, void *data,
		  unsigned len, bool is_write);
bool pci_bus_io(struct pci_bus *bus, struct dm_vcpu *vcpu, uint16_t port, void *data,
		unsigned len, bool is_write);

/* Ports 0xcf8-0xcff. */
bool pci_host_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len, bool is_write,
		 void *opaque);

/* The host bridge: claims 0xcf8-0xcff (DM_INIT_CORE, before devices plug in). */
extern const struct dm_device_ops pci_host_ops;

#endif
