/*
 * Common interfaces of the device models.
 *
 * The models are plain state machines: they know nothing about the
 * hypervisor, never read a clock and never allocate.  A back end connects
 * them to the world through five things defined here:
 *
 *  - the I/O callback shape every port-I/O device implements (dm_io_fn),
 *  - interrupt lines (struct dm_irq_line), called only when a level changes,
 *  - time, passed in as nanoseconds (now_ns) by the caller,
 *  - guest memory for bus-master devices (struct dm_guest_mem), and
 *  - a port-I/O bus and a registry that initialises devices by level.
 *
 * Everything here builds freestanding: only <stdint.h>, <stddef.h> and
 * <stdbool.h>, and no helper that gcc could turn into a libc or libgcc call.
 */
#ifndef DEVMODELS_DM_H
#define DEVMODELS_DM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The back end's virtual CPU; models only pass it through. */
struct dm_vcpu;

/*
 * One port access.  addr is the absolute port, data points to len bytes
 * (little endian) to read into or write from.  Returns false, with no side
 * effect, if the device does not take an access of this size; the bus then
 * splits it into byte accesses, as an ISA bus does for an 8-bit device.
 */
typedef bool dm_io_fn(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len,
		      bool is_write, void *opaque);

/* An interrupt input of some controller (PIC, I/O APIC, ...). */
struct dm_irq_line {
	void (*set)(void *opaque, unsigned line, bool level);
	void *opaque;
};

static inline void dm_irq_set(const struct dm_irq_line *irq, unsigned line, bool level)
{
	if (irq->set)
		irq->set(irq->opaque, line, level);
}

/*
 * Guest memory as a bus-master (DMA) device sees it: guest-physical
 * addresses.  Each call moves len bytes and returns false, having touched
 * nothing, if any byte of [gpa, gpa + len) is not guest RAM (a PCI master
 * abort).  Models never hold pointers into guest memory; every descriptor
 * and buffer access goes through these two calls.
 */
struct dm_guest_mem {
	bool (*read)(void *opaque, uint64_t gpa, void *buf, uint32_t len);
	bool (*write)(void *opaque, uint64_t gpa, const void *buf, uint32_t len);
	void *opaque;
};

/* The range check every model does first: no wrap past 2^64, no callback. */
static inline bool dm_guest_read(const struct dm_guest_mem *mem, uint64_t gpa, void *buf,
				 uint32_t len)
{
	if (!mem->read || gpa + len < gpa)
		return false;
	return len == 0 || mem->read(mem->opaque, gpa, buf, len);
}

static inline bool dm_guest_write(const struct dm_guest_mem *mem, uint64_t gpa,
				  const void *buf, uint32_t len)
{
	if (!mem->write || gpa + len < gpa)
		return false;
	return len == 0 || mem->write(mem->opaque, gpa, buf, len);
}

/*
 * Byte loops gcc cannot turn into memset() calls (the freestanding build
 * links no C library and is compiled without -fno-tree-loop-distribute-
 * patterns): the stores are volatile.  For small, rare fills only.
 */
static inline void dm_zero_bytes(void *p, size_t n)
{
	volatile uint8_t *b = p;

	while (n--)
		*b++ = 0;
}

/* Little-endian loads and stores of byte arrays (descriptors, registers). */
static inline uint32_t dm_get_le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t dm_get_le64(const uint8_t *b)
{
	return (uint64_t)dm_get_le32(b) | (uint64_t)dm_get_le32(b + 4) << 32;
}

static inline void dm_put_le32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

/* Returned by every NAME_next_deadline() when nothing is due. */
#define DM_NO_DEADLINE UINT64_MAX
#define DM_NS_PER_SEC 1000000000u

/*
 * floor(a * mul / div) for mul, div < 2^32, exact whenever the result fits
 * in 64 bits.  Splitting a by div keeps every product below 2^64, so there
 * is no 128-bit division (which would need libgcc's __udivti3).
 */
static inline uint64_t dm_scale(uint64_t a, uint32_t mul, uint32_t div)
{
	return (a / div) * mul + (a % div) * mul / div;
}

/* ceil(a * mul / div), same limits as dm_scale(). */
static inline uint64_t dm_scale_ceil(uint64_t a, uint32_t mul, uint32_t div)
{
	uint64_t rem = (a % div) * mul;

	return (a / div) * mul + rem / div + (rem % div != 0);
}

static inline uint8_t dm_bcd_to_bin(uint8_t v)
{
	return (uint8_t)((v >> 4) * 10 + (v & 0x0f));
}

static inline uint8_t dm_bin_to_bcd(unsigned v)
{
	return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

/* Error codes (negative, so 0 is success). */
enum {
	DM_OK = 0,
	DM_EINVAL = -1, /* bad argument */
	DM_EBUSY = -2,  /* port range overlaps a registered one */
	DM_ENOSPC = -3, /* table full */
};

/* ------------------------------------------------------------------------ */
/* Port-I/O bus */

#define DM_IOBUS_MAX_RANGES 32

struct dm_io_range {
	uint16_t base;
	uint32_t len; /* up to 0x10000 */
	dm_io_fn *fn;
	void *opaque;
	const char *name;
};

struct dm_iobus {
	struct dm_io_range range[DM_IOBUS_MAX_RANGES];
	unsigned nr_ranges;
	/* Accesses no device took (reads got all-ones, writes were dropped). */
	uint64_t unclaimed_reads;
	uint64_t unclaimed_writes;
};

void dm_iobus_init(struct dm_iobus *bus);

/* Claim ports [base, base + len); DM_EBUSY if any of them is taken. */
int dm_iobus_register(struct dm_iobus *bus, uint16_t base, unsigned len, dm_io_fn *fn,
		      void *opaque, const char *name);

/* The range holding port, or NULL. */
const struct dm_io_range *dm_iobus_find(const struct dm_iobus *bus, uint16_t port);

/*
 * Dispatch an access of 1, 2 or 4 bytes.  Returns true if devices took all
 * of it.  Unclaimed bytes read as 0xff.
 */
bool dm_iobus_access(struct dm_iobus *bus, struct dm_vcpu *vcpu, uint16_t port, void *data,
		     unsigned len, bool is_write);

/* ------------------------------------------------------------------------ */
/* Device registry with init levels */

/*
 * Devices start level by level, in order of registration within a level.
 * Interrupt controllers come first so that devices raising a line at init
 * already find their controller in a defined state.
 */
enum dm_init_level {
	DM_INIT_CORE,  /* interrupt controllers, per-CPU devices, buses (PCI host) */
	DM_INIT_DEV,   /* ordinary platform devices */
	DM_INIT_LATE,  /* devices that look at others (e.g. firmware tables) */
	DM_INIT_NR_LEVELS,
};

struct dm_device_ops {
	const char *name;
	enum dm_init_level level;
	/* Claim I/O ranges; NULL if the device has none (e.g. the x2APIC). */
	int (*init)(void *dev, struct dm_iobus *bus);
	/* Both NULL for devices without time-based behaviour. */
	uint64_t (*next_deadline)(void *dev, uint64_t now_ns);
	void (*advance)(void *dev, uint64_t now_ns);
};

#define DM_REGISTRY_MAX 32

struct dm_device {
	const struct dm_device_ops *ops;
	void *dev;
};

struct dm_registry {
	struct dm_device device[DM_REGISTRY_MAX];
	unsigned nr_devices;
};

void dm_registry_init(struct dm_registry *reg);
int dm_registry_add(struct dm_registry *reg, const struct dm_device_ops *ops, void *dev);

/* Run every init, level by level; stops at and returns the first error. */
int dm_registry_init_all(struct dm_registry *reg, struct dm_iobus *bus);

/* The earliest deadline of all devices, DM_NO_DEADLINE if none. */
uint64_t dm_registry_next_deadline(const struct dm_registry *reg, uint64_t now_ns);

/*
 * Bring every device to now_ns, firing what is due.  A back end calls this
 * before it dispatches an access (I/O callbacks see the time of the last
 * advance) and whenever the earliest deadline has passed.
 */
void dm_registry_advance(struct dm_registry *reg, uint64_t now_ns);

#endif
