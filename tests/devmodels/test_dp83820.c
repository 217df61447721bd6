/*
 * DP83820, driven step by step as Linux 6.1's ns83820.c drives it: PCI
 * probe through 0xcf8/0xcfc, ns83820_init_one(), ns83820_open(),
 * hard_start_xmit(), the interrupt handler and its rx tasklet, stop.
 * Guest memory is a host array with guard zones on both sides; every
 * malformed case checks that nothing outside what the chip may write
 * changed and that the call came back.
 */
#include "dmtest.h"

#include <stdio.h>
#include <string.h>

#include <devmodels/dp83820.h>
#include <devmodels/pci.h>

#define RAM_BASE 0x10000000ull
#define RAM_SIZE 0x100000u
#define GUARD 4096u
#define GUARD_BYTE 0xa5
#define MMIO_BASE 0xfebf0000u
#define IO_BASE 0xc100u
#define NIC_DEVFN PCI_DEVFN(4, 0)
#define NIC_IRQ 11
#define US 1000ull

/* Guest memory layout (offsets from RAM_BASE), as the driver allocates it. */
#define TX_RING 0x0000u     /* 128 descriptors, 32 bytes apart (DESC_SIZE 8 words) */
#define RX_RING 0x1000u     /* 64 descriptors */
#define TX_BUFS 0x2000u     /* frames to send */
#define RX_BUFS 0x20000u    /* 64 buffers of 2 KiB */
#define SCRATCH 0x60000u
#define NR_TX_DESC 128
#define NR_RX_DESC 64
#define DESC_BYTES 32
#define REAL_RX_BUF_SIZE 1514

/* Descriptor fields of the 64-bit layout (CFG.M64ADDR). */
#define D_LINK 0
#define D_BUFPTR 8
#define D_CMDSTS 16
#define D_EXTSTS 20

static const uint8_t nic_mac[6] = { 0x00, 0x40, 0xf4, 0x12, 0x34, 0x56 };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static uint8_t ram_store[GUARD + RAM_SIZE + GUARD];
#define RAM (ram_store + GUARD)

struct fixture {
	struct dm_iobus iobus;
	struct dm_registry reg;
	struct pci_bus pci;
	struct dp83820 nic;
	struct irq_recorder irq;
	uint64_t now;
	/* back end */
	unsigned sends;
	unsigned nframes;
	uint8_t frame[16][DP83820_MAX_FRAME + 4];
	uint32_t frame_len[16];
	unsigned rx_ready_calls;
	/* guest memory */
	unsigned mem_reads, mem_writes, mem_faults;
	/* driver state (struct ns83820) */
	uint32_t imr_cache;
	uint32_t cfg_cache;
	unsigned tx_free_idx, tx_done_idx, tx_intr_idx;
	unsigned next_rx, next_empty;
	bool rx_idle;
	unsigned rx_len[NR_RX_DESC * 2];
	uint32_t rx_cmdsts[NR_RX_DESC * 2];
	uint32_t rx_extsts[NR_RX_DESC * 2];
	uint8_t rx_first[NR_RX_DESC * 2][64];
	unsigned rx_count;
};

static struct fixture F;
static uint8_t snapshot[GUARD + RAM_SIZE + GUARD];

/* ------------------------------------------------------------------------ */
/* Guest memory */

static bool in_ram(uint64_t gpa, uint32_t len)
{
	return gpa >= RAM_BASE && gpa - RAM_BASE <= RAM_SIZE && len <= RAM_SIZE - (gpa - RAM_BASE);
}

static bool gm_read(void *opaque, uint64_t gpa, void *buf, uint32_t len)
{
	struct fixture *f = opaque;

	if (!in_ram(gpa, len)) {
		f->mem_faults++;
		return false;
	}
	f->mem_reads++;
	memcpy(buf, RAM + (gpa - RAM_BASE), len);
	return true;
}

static bool gm_write(void *opaque, uint64_t gpa, const void *buf, uint32_t len)
{
	struct fixture *f = opaque;

	if (!in_ram(gpa, len)) {
		f->mem_faults++;
		return false;
	}
	f->mem_writes++;
	memcpy(RAM + (gpa - RAM_BASE), buf, len);
	return true;
}

static uint64_t gpa(uint32_t off)
{
	return RAM_BASE + off;
}

static uint32_t get32(uint32_t off)
{
	return dm_get_le32(RAM + off);
}

static void put32(uint32_t off, uint32_t v)
{
	dm_put_le32(RAM + off, v);
}

static void put64(uint32_t off, uint64_t v)
{
	put32(off, (uint32_t)v);
	put32(off + 4, (uint32_t)(v >> 32));
}

static void take_snapshot(void)
{
	memcpy(snapshot, ram_store, sizeof(ram_store));
}

/* Bytes that differ from the snapshot, outside [skip_from, skip_to) of RAM. */
static unsigned changed_outside(uint32_t skip_from, uint32_t skip_to)
{
	unsigned n = 0, i;

	for (i = 0; i < sizeof(ram_store); i++) {
		if (i >= GUARD + skip_from && i < GUARD + skip_to)
			continue;
		if (ram_store[i] != snapshot[i])
			n++;
	}
	return n;
}

static bool guards_intact(void)
{
	unsigned i;

	for (i = 0; i < GUARD; i++)
		if (ram_store[i] != GUARD_BYTE || ram_store[GUARD + RAM_SIZE + i] != GUARD_BYTE)
			return false;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Back end */

static void be_send(void *opaque, const struct dp83820_frame *frames, unsigned n)
{
	struct fixture *f = opaque;
	unsigned i;

	f->sends++;
	for (i = 0; i < n; i++, f->nframes++) {
		if (f->nframes >= 16)
			continue;
		CHECK(frames[i].len <= sizeof(f->frame[0]));
		memcpy(f->frame[f->nframes], frames[i].data, frames[i].len);
		f->frame_len[f->nframes] = frames[i].len;
	}
}

static void be_rx_ready(void *opaque)
{
	struct fixture *f = opaque;

	f->rx_ready_calls++;
}

/* ------------------------------------------------------------------------ */
/* Platform */

static void setup_with(unsigned kick_limit)
{
	struct dp83820_config cfg = {
		.bus = &F.pci,
		.devfn = NIC_DEVFN,
		.irq_line = NIC_IRQ,
		.mem = { gm_read, gm_write, &F },
		.backend = { be_send, be_rx_ready, &F },
		.tx_kick_limit = kick_limit,
	};

	memset(&F, 0, sizeof(F));
	memset(ram_store, GUARD_BYTE, GUARD);
	memset(RAM, 0, RAM_SIZE);
	memset(RAM + RAM_SIZE, GUARD_BYTE, GUARD);
	memcpy(cfg.mac, nic_mac, 6);
	irq_recorder_init(&F.irq);
	F.irq.clock = &F.now;
	cfg.irq = irq_recorder_line(&F.irq);
	dm_iobus_init(&F.iobus);
	dm_registry_init(&F.reg);
	pci_bus_init(&F.pci);
	dp83820_init(&F.nic, &cfg);
	dm_registry_add(&F.reg, &dp83820_ops, &F.nic);
	dm_registry_add(&F.reg, &pci_host_ops, &F.pci);
	CHECK_EQ(dm_registry_init_all(&F.reg, &F.iobus), DM_OK);
}

static void setup(void)
{
	setup_with(0);
}

static void advance_to(uint64_t t)
{
	F.now = t;
	dm_registry_advance(&F.reg, t);
}

static bool irq_high(void)
{
	return F.irq.level[NIC_IRQ];
}

static uint32_t conf_read(unsigned reg, unsigned len)
{
	io_outl(&F.iobus, PCI_CONFIG_ADDRESS, 0x80000000u | NIC_DEVFN << 8 | (reg & 0xfc));
	if (len == 1)
		return io_inb(&F.iobus, (uint16_t)(PCI_CONFIG_DATA + (reg & 3)));
	if (len == 2)
		return io_inw(&F.iobus, (uint16_t)(PCI_CONFIG_DATA + (reg & 2)));
	return io_inl(&F.iobus, PCI_CONFIG_DATA);
}

static void conf_write(unsigned reg, unsigned len, uint32_t v)
{
	io_outl(&F.iobus, PCI_CONFIG_ADDRESS, 0x80000000u | NIC_DEVFN << 8 | (reg & 0xfc));
	if (len == 2)
		io_outw(&F.iobus, (uint16_t)(PCI_CONFIG_DATA + (reg & 2)), (uint16_t)v);
	else
		io_outl(&F.iobus, PCI_CONFIG_DATA, v);
}

/* readl/writel on the ioremapped BAR 1. */
static uint32_t readl(unsigned reg)
{
	uint8_t b[4];

	CHECK(pci_bus_mmio(&F.pci, NULL, MMIO_BASE + reg, b, 4, false));
	return dm_get_le32(b);
}

static void writel(uint32_t v, unsigned reg)
{
	uint8_t b[4];

	dm_put_le32(b, v);
	CHECK(pci_bus_mmio(&F.pci, NULL, MMIO_BASE + reg, b, 4, true));
}

/* ------------------------------------------------------------------------ */
/* The driver: ns83820_init_one() and ns83820_open() */

/* What the PCI core does before probe: size and place BARs, enable, master. */
static void pci_probe(void)
{
	uint32_t sz;

	CHECK_EQ(conf_read(PCI_VENDOR_ID, 4), (uint32_t)DP83820_DEVICE_ID << 16 | DP83820_VENDOR_ID);
	conf_write(PCI_BASE_ADDRESS_0 + 4, 4, 0xffffffffu);
	sz = conf_read(PCI_BASE_ADDRESS_0 + 4, 4);
	CHECK_EQ(sz, 0xfffff000u);
	conf_write(PCI_BASE_ADDRESS_0 + 4, 4, MMIO_BASE);
	conf_write(PCI_BASE_ADDRESS_0, 4, IO_BASE);
	conf_write(PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);   /* pci_enable_device */
	conf_write(PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static void do_reset(uint32_t which)
{
	unsigned loops = 0;

	writel(which, DP83820_CR);
	while ((readl(DP83820_CR) & which) && loops < 100)
		loops++;
	CHECK_EQ(loops, 0);
}

static uint32_t run_bist(uint32_t enable, uint32_t done, uint32_t fail)
{
	uint32_t status;
	unsigned loops = 0;

	writel(enable, DP83820_PTSCR);
	for (;;) {
		loops++;
		status = readl(DP83820_PTSCR);
		if (!(status & enable) || (status & done) || (status & fail) || loops > 100)
			break;
	}
	CHECK_EQ(status & fail, 0);
	CHECK_EQ(loops, 1);
	return status;
}

static void getmac(uint8_t mac[6])
{
	unsigned i;

	for (i = 0; i < 3; i++) {
		uint32_t data;

		writel(i * 2, DP83820_RFCR);
		data = readl(DP83820_RFDR);
		mac[i * 2] = (uint8_t)data;
		mac[i * 2 + 1] = (uint8_t)(data >> 8);
	}
}

#define SPDSTS_POLARITY (DP83820_CFG_SPDSTS1 | DP83820_CFG_SPDSTS0 | DP83820_CFG_DUPSTS)

static void init_one(uint8_t mac[6])
{
	pci_probe();
	/* ns83820_disable_interrupts */
	writel(0, DP83820_IMR);
	writel(0, DP83820_IER);
	readl(DP83820_IER);
	F.imr_cache = 0;
	readl(0x22c); /* printed by the driver; a reserved register */
	do_reset(DP83820_CR_RST);
	writel(DP83820_PTSCR_RBIST_RST, DP83820_PTSCR);
	run_bist(DP83820_PTSCR_RBIST_EN, DP83820_PTSCR_RBIST_DONE, DP83820_PTSCR_RBIST_FAIL);
	run_bist(DP83820_PTSCR_EEBIST_EN, 0, DP83820_PTSCR_EEBIST_FAIL);
	run_bist(DP83820_PTSCR_EELOAD_EN, 0, 0);
	F.cfg_cache = readl(DP83820_CFG);
	CHECK_EQ(F.cfg_cache & DP83820_CFG_PCI64_DET, 0);
	F.cfg_cache &= DP83820_CFG_TBI_EN | 0x00010000 | 0x00008000 | DP83820_CFG_T64ADDR |
		       0x00001000 | 0x2 | DP83820_CFG_M64ADDR;
	F.cfg_cache |= DP83820_CFG_PINT_DUPSTS | DP83820_CFG_PINT_LNKSTS |
		       DP83820_CFG_PINT_SPDSTS | DP83820_CFG_EXTSTS_EN | 0x10 | 0x08;
	F.cfg_cache |= 0x80 | 0x20 | 0x00020000; /* REQALG, POW, TMRTEST */
	F.cfg_cache |= DP83820_CFG_M64ADDR | DP83820_CFG_T64ADDR;
	CHECK_EQ(F.cfg_cache & DP83820_CFG_TBI_EN, 0); /* copper */
	writel(F.cfg_cache, DP83820_CFG);
	writel(0x80000000u | 0x40000000u | DP83820_TXCFG_ATP | 0x00700000u | (1600 / 32) * 0x100,
	       DP83820_TXCFG);
	writel(0x000, DP83820_IHR);
	writel(0x100, DP83820_IHR);
	writel(0x000, DP83820_IHR);
	writel(DP83820_RXCFG_AEP | DP83820_RXCFG_ARP | 0x04000000u | 0x10000000u |
		       DP83820_RXCFG_STRIPCRC | 0x00700000u,
	       DP83820_RXCFG);
	writel(0, DP83820_PQCR);
	writel(DP83820_VRCR_IPEN | DP83820_VRCR_VTDEN, DP83820_VRCR);
	writel(DP83820_VTCR_PPCHK, DP83820_VTCR);
	writel(0xe0000000u | 0x00600000u | 0x01800000u | 0x00200000u | 0x00800000u | 0xfffe,
	       DP83820_PCR);
	writel(0, DP83820_WCSR);
	getmac(mac);
}

/* phy_intr() for copper: returns the speed index and duplex it reports. */
static unsigned phy_intr(bool *full, bool *up)
{
	uint32_t cfg = readl(DP83820_CFG) ^ SPDSTS_POLARITY;
	uint32_t new_cfg = F.cfg_cache & ~(0x40u | DP83820_CFG_MODE_1000 | 0x60000000u);

	if (cfg & DP83820_CFG_SPDSTS1)
		new_cfg |= DP83820_CFG_MODE_1000;
	*full = cfg & DP83820_CFG_DUPSTS;
	if (*full) {
		new_cfg |= 0x40; /* CFG_SB */
		writel(readl(DP83820_TXCFG) | 0xc0000000u, DP83820_TXCFG);
		writel(readl(DP83820_RXCFG) | 0x10000000u, DP83820_RXCFG);
	}
	if ((cfg & DP83820_CFG_LNKSTS) && new_cfg != F.cfg_cache) {
		writel(new_cfg, DP83820_CFG);
		F.cfg_cache = new_cfg;
	}
	*up = cfg & DP83820_CFG_LNKSTS;
	return (cfg / DP83820_CFG_SPDSTS0) & 3;
}

static uint32_t rx_desc(unsigned i)
{
	return RX_RING + i * DESC_BYTES;
}

static uint32_t tx_desc(unsigned i)
{
	return TX_RING + i * DESC_BYTES;
}

static uint32_t rx_buf(unsigned i)
{
	return RX_BUFS + i * 2048;
}

static void build_desc(uint32_t d, uint64_t link, uint64_t buf, uint32_t cmdsts, uint32_t extsts)
{
	put64(d + D_LINK, link);
	put64(d + D_BUFPTR, buf);
	put32(d + D_EXTSTS, extsts);
	put32(d + D_CMDSTS, cmdsts);
}

static unsigned nr_rx_empty(void)
{
	return (NR_RX_DESC - 2 + F.next_rx - F.next_empty) % NR_RX_DESC;
}

/* rx_refill(): ns83820_add_rx_skb() until two descriptors are left. */
static void rx_refill(void)
{
	while (nr_rx_empty() > 2) {
		unsigned e = F.next_empty;

		F.next_empty = (e + 1) % NR_RX_DESC;
		build_desc(rx_desc(e), 0, gpa(rx_buf(e)), REAL_RX_BUF_SIZE | DP83820_CMDSTS_INTR, 0);
		if (e != F.next_rx)
			put64(rx_desc((e + NR_RX_DESC - 1) % NR_RX_DESC) + D_LINK, gpa(rx_desc(e)));
	}
}

static void kick_rx(void)
{
	if (F.rx_idle) {
		F.rx_idle = false;
		writel((uint32_t)gpa(rx_desc(F.next_rx)), DP83820_RXDP);
		writel(DP83820_CR_RXE, DP83820_CR);
	}
}

/* rx_irq(): take every descriptor the chip handed back. */
static unsigned rx_irq(void)
{
	unsigned n = 0;
	uint32_t cmdsts;

	while (((cmdsts = get32(rx_desc(F.next_rx) + D_CMDSTS)) & DP83820_CMDSTS_OWN) &&
	       cmdsts != DP83820_CMDSTS_OWN) {
		unsigned i = F.rx_count++ % (NR_RX_DESC * 2);
		uint32_t buf = rx_buf(F.next_rx);

		F.rx_cmdsts[i] = cmdsts;
		F.rx_extsts[i] = get32(rx_desc(F.next_rx) + D_EXTSTS);
		F.rx_len[i] = cmdsts & DP83820_CMDSTS_LEN_MASK;
		memcpy(F.rx_first[i], RAM + buf, 64);
		build_desc(rx_desc(F.next_rx), 0, 0, DP83820_CMDSTS_OWN, 0); /* clear_rx_desc */
		F.next_rx = (F.next_rx + 1) % NR_RX_DESC;
		n++;
	}
	return n;
}

/* ns83820_rx_kick() */
static void rx_kick(void)
{
	rx_refill();
	kick_rx();
}

static void open_dev(void)
{
	unsigned i, speed;
	bool full, up;

	writel(0, DP83820_PQCR);
	/* ns83820_setup_rx */
	F.rx_idle = true;
	F.next_rx = F.next_empty = 0;
	for (i = 0; i < NR_RX_DESC; i++)
		build_desc(rx_desc(i), 0, 0, DP83820_CMDSTS_OWN, 0);
	writel(0, DP83820_RXDP_HI);
	writel((uint32_t)gpa(RX_RING), DP83820_RXDP);
	rx_refill();
	writel(0x0001, DP83820_CCSR);
	writel(0, DP83820_RFCR);
	writel(0x7fc00000u, DP83820_RFCR);
	writel(0xffc00000u, DP83820_RFCR);
	speed = phy_intr(&full, &up);
	CHECK_EQ(speed, 2); /* "1000" */
	CHECK(full);
	CHECK(up);
	F.imr_cache |= DP83820_ISR_PHY | DP83820_ISR_RXRCMP | DP83820_ISR_RXORN | 0x00010000u |
		       DP83820_ISR_RXDESC | DP83820_ISR_RXIDLE | DP83820_ISR_TXDESC |
		       DP83820_ISR_TXIDLE;
	writel(F.imr_cache, DP83820_IMR);
	writel(1, DP83820_IER);
	kick_rx();
	/* the transmit ring */
	memset(RAM + TX_RING, 0, NR_TX_DESC * DESC_BYTES);
	for (i = 0; i < NR_TX_DESC; i++)
		put32(tx_desc(i) + D_LINK, (uint32_t)gpa(tx_desc((i + 1) % NR_TX_DESC)));
	F.tx_free_idx = F.tx_done_idx = F.tx_intr_idx = 0;
	writel(0, DP83820_TXDP_HI);
	writel((uint32_t)gpa(TX_RING), DP83820_TXDP);
}

static void bring_up(void)
{
	uint8_t mac[6];

	init_one(mac);
	CHECK(memcmp(mac, nic_mac, 6) == 0);
	open_dev();
}

struct frag {
	uint32_t off; /* in guest memory */
	uint32_t len;
};

/* ns83820_hard_start_xmit() for a frame of n fragments. */
static void xmit(const struct frag *frags, unsigned n, uint32_t extsts)
{
	unsigned free_idx = F.tx_free_idx, first = free_idx, i;
	bool do_intr = false;

	if (free_idx == F.tx_intr_idx) {
		do_intr = true;
		F.tx_intr_idx = (F.tx_intr_idx + NR_TX_DESC / 4) % NR_TX_DESC;
	}
	for (i = 0; i < n; i++) {
		uint32_t d = tx_desc(free_idx);
		uint32_t cmdsts;

		free_idx = (free_idx + 1) % NR_TX_DESC;
		put32(d + D_LINK, (uint32_t)gpa(tx_desc(free_idx)));
		put64(d + D_BUFPTR, gpa(frags[i].off));
		put32(d + D_EXTSTS, extsts);
		cmdsts = i + 1 < n ? DP83820_CMDSTS_MORE : do_intr ? DP83820_CMDSTS_INTR : 0;
		cmdsts |= i == 0 ? 0 : DP83820_CMDSTS_OWN;
		put32(d + D_CMDSTS, cmdsts | frags[i].len);
	}
	put32(tx_desc(first) + D_CMDSTS, get32(tx_desc(first) + D_CMDSTS) | DP83820_CMDSTS_OWN);
	F.tx_free_idx = free_idx;
	writel(DP83820_CR_TXE, DP83820_CR); /* kick_tx */
}

/* do_tx_done(): descriptors the chip gave back. */
static unsigned tx_done(unsigned *ok_frames)
{
	unsigned n = 0;
	uint32_t cmdsts;

	*ok_frames = 0;
	while (F.tx_done_idx != F.tx_free_idx &&
	       !((cmdsts = get32(tx_desc(F.tx_done_idx) + D_CMDSTS)) & DP83820_CMDSTS_OWN)) {
		if (cmdsts & DP83820_CMDSTS_OK)
			(*ok_frames)++;
		put32(tx_desc(F.tx_done_idx) + D_CMDSTS, 0);
		F.tx_done_idx = (F.tx_done_idx + 1) % NR_TX_DESC;
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------------ */
/* Frames */

static uint32_t ref_sum(const uint8_t *p, uint32_t len)
{
	uint32_t s = 0, i;

	for (i = 0; i < len; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet header for dst; returns its length. */
static uint32_t eth_header(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, peer_mac, 6);
	put16be(f + 12, type);
	return 14;
}

/*
 * IPv4 + TCP (proto 6) or UDP (17) with payload bytes p0, p0+1, ...  With
 * partial, the L4 field holds the pseudo-header sum as Linux leaves it for
 * CHECKSUM_PARTIAL; otherwise the complete checksum.
 */
static uint32_t ip_frame(uint8_t *f, const uint8_t *dst, uint8_t proto, uint32_t payload,
			 uint8_t p0, bool partial)
{
	uint32_t l3 = eth_header(f, dst, 0x0800), hl = proto == 6 ? 20 : 8;
	uint32_t total = 20 + hl + payload, i, pseudo;
	uint8_t *ip = f + l3, *l4 = ip + 20;

	memset(ip, 0, 20 + hl);
	ip[0] = 0x45;
	put16be(ip + 2, (uint16_t)total);
	put16be(ip + 4, 0x1234);
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = proto;
	ip[12] = 10, ip[13] = 0, ip[14] = 0, ip[15] = 1;
	ip[16] = 10, ip[17] = 0, ip[18] = 0, ip[19] = 2;
	put16be(ip + 10, (uint16_t)~ref_fold(ref_sum(ip, 20)));
	put16be(l4, 40000);
	put16be(l4 + 2, 80);
	if (proto == 6) {
		l4[12] = 5 << 4;
		l4[13] = 0x18;
		put16be(l4 + 14, 65535);
	} else {
		put16be(l4 + 4, (uint16_t)(hl + payload));
	}
	for (i = 0; i < payload; i++)
		l4[hl + i] = (uint8_t)(p0 + i);
	pseudo = ref_sum(ip + 12, 8) + proto + hl + payload;
	if (partial)
		put16be(l4 + (proto == 6 ? 16 : 6), ref_fold(pseudo));
	else
		put16be(l4 + (proto == 6 ? 16 : 6),
			(uint16_t)~ref_fold(pseudo + ref_sum(l4, hl + payload)));
	return l3 + total;
}

/* Does the frame's IPv4 + L4 checksum verify? */
static bool l4_checksum_ok(const uint8_t *f, uint32_t l3)
{
	const uint8_t *ip = f + l3;
	uint32_t total = (uint32_t)ip[2] << 8 | ip[3];
	uint32_t pseudo = ref_sum(ip + 12, 8) + ip[9] + (total - 20);

	return ref_fold(ref_sum(ip, 20)) == 0xffff &&
	       ref_fold(pseudo + ref_sum(ip + 20, total - 20)) == 0xffff;
}

static uint32_t plain_frame(uint8_t *f, const uint8_t *dst, uint32_t len, uint8_t p0)
{
	uint32_t i = eth_header(f, dst, 0x88b5);

	for (; i < len; i++)
		f[i] = (uint8_t)(p0 + i);
	return len;
}

/* ------------------------------------------------------------------------ */
/* Probe, EEPROM, open */

static void test_pci_identity_and_probe(void)
{
	uint8_t mac[6];
	uint32_t sz;
	bool full, up;

	setup();
	CHECK_EQ(conf_read(PCI_CLASS_DEVICE, 2), 0x0200);
	CHECK_EQ(conf_read(PCI_HEADER_TYPE, 1), 0);
	CHECK_EQ(conf_read(PCI_INTERRUPT_PIN, 1), 1);
	CHECK_EQ(conf_read(PCI_INTERRUPT_LINE, 1), NIC_IRQ);
	CHECK_EQ(conf_read(PCI_CAPABILITY_LIST, 1), 0);
	/* BAR 0: 256 bytes of I/O space. */
	conf_write(PCI_BASE_ADDRESS_0, 4, 0xffffffffu);
	sz = conf_read(PCI_BASE_ADDRESS_0, 4);
	CHECK_EQ(sz, 0xffffff01u);
	conf_write(PCI_BASE_ADDRESS_0, 4, 0);
	/* BAR 2-5 absent. */
	conf_write(PCI_BASE_ADDRESS_0 + 8, 4, 0xffffffffu);
	CHECK_EQ(conf_read(PCI_BASE_ADDRESS_0 + 8, 4), 0);

	init_one(mac);
	CHECK(memcmp(mac, nic_mac, 6) == 0);
	CHECK_EQ(readl(DP83820_SRR), 0x0103); /* "DP83820 v1.3" */
	CHECK_EQ(readl(DP83820_CR), 0);
	CHECK_EQ(readl(DP83820_CFG) & DP83820_CFG_M64ADDR, DP83820_CFG_M64ADDR);
	CHECK_EQ(phy_intr(&full, &up), 2);
	CHECK(full);
	CHECK(up);
	CHECK(F.cfg_cache & DP83820_CFG_MODE_1000);
	/* The registers are the same through BAR 0. */
	{
		uint8_t b[4];

		CHECK(pci_bus_io(&F.pci, NULL, IO_BASE + DP83820_SRR, b, 4, false));
		CHECK_EQ(dm_get_le32(b), 0x0103);
		/* 32-bit accesses only */
		CHECK(!pci_bus_io(&F.pci, NULL, IO_BASE + DP83820_SRR, b, 2, false));
		CHECK_EQ(b[0], 0xff);
	}
	CHECK(!irq_high());
	CHECK_EQ(F.nic.stats.unknown_regs, 1); /* the 0x22c read */
}

/* A 93C46 read through MEAR, as FreeBSD's nge does it (Linux uses EELOAD). */
static uint16_t eeprom_read_word(unsigned addr, bool sequential_next, uint16_t *next)
{
	const uint32_t sel = DP83820_MEAR_EESEL;
	uint32_t cmd = (0x6u << 6) | addr; /* start bit, opcode 10, six address bits */
	uint16_t v = 0;
	int i;

	writel(0, DP83820_MEAR);
	writel(sel, DP83820_MEAR);
	for (i = 8; i >= 0; i--) {
		uint32_t di = (cmd >> i) & 1 ? DP83820_MEAR_EEDI : 0;

		writel(sel | di, DP83820_MEAR);
		writel(sel | di | DP83820_MEAR_EECLK, DP83820_MEAR);
	}
	CHECK_EQ(readl(DP83820_MEAR) & DP83820_MEAR_EEDO, 0); /* the dummy zero */
	for (i = 0; i < 16; i++) {
		writel(sel, DP83820_MEAR);
		writel(sel | DP83820_MEAR_EECLK, DP83820_MEAR);
		v = (uint16_t)(v << 1 | ((readl(DP83820_MEAR) & DP83820_MEAR_EEDO) ? 1 : 0));
	}
	if (sequential_next) {
		*next = 0;
		for (i = 0; i < 16; i++) {
			writel(sel, DP83820_MEAR);
			writel(sel | DP83820_MEAR_EECLK, DP83820_MEAR);
			*next = (uint16_t)(*next << 1 |
					   ((readl(DP83820_MEAR) & DP83820_MEAR_EEDO) ? 1 : 0));
		}
	}
	writel(0, DP83820_MEAR);
	return v;
}

static void test_eeprom(void)
{
	uint16_t w, next = 0;

	setup();
	pci_probe();
	w = eeprom_read_word(DP83820_EEPROM_MAC_WORD + 2, false, NULL);
	CHECK_EQ(w, nic_mac[0] | nic_mac[1] << 8);
	w = eeprom_read_word(DP83820_EEPROM_MAC_WORD + 1, false, NULL);
	CHECK_EQ(w, nic_mac[2] | nic_mac[3] << 8);
	w = eeprom_read_word(DP83820_EEPROM_MAC_WORD, true, &next);
	CHECK_EQ(w, nic_mac[4] | nic_mac[5] << 8);
	CHECK_EQ(next, nic_mac[2] | nic_mac[3] << 8); /* sequential read */
	CHECK_EQ(eeprom_read_word(0, false, NULL), 0);
	/* Deselecting in the middle restarts the protocol. */
	writel(DP83820_MEAR_EESEL | DP83820_MEAR_EEDI, DP83820_MEAR);
	writel(DP83820_MEAR_EESEL | DP83820_MEAR_EEDI | DP83820_MEAR_EECLK, DP83820_MEAR);
	writel(0, DP83820_MEAR);
	w = eeprom_read_word(DP83820_EEPROM_MAC_WORD + 2, false, NULL);
	CHECK_EQ(w, nic_mac[0] | nic_mac[1] << 8);
	/* The perfect-match memory is writable and EELOAD restores it. */
	writel(0, DP83820_RFCR);
	writel(0xbeef, DP83820_RFDR);
	CHECK_EQ(readl(DP83820_RFDR), 0xbeef);
	writel(DP83820_PTSCR_EELOAD_EN, DP83820_PTSCR);
	CHECK_EQ(readl(DP83820_RFDR), nic_mac[0] | nic_mac[1] << 8);
	/* MDIO: no PHY answers, the line reads pulled up. */
	CHECK(readl(DP83820_MEAR) & DP83820_MEAR_MDIO);
}

static void test_open(void)
{
	setup();
	bring_up();
	CHECK_EQ(readl(DP83820_CR), DP83820_CR_RXE);
	CHECK_EQ(readl(DP83820_RXDP), (uint32_t)gpa(RX_RING));
	CHECK_EQ(readl(DP83820_TXDP), (uint32_t)gpa(TX_RING));
	CHECK_EQ(F.next_empty, 60);
	CHECK(!irq_high());
	CHECK_EQ(readl(DP83820_ISR), 0); /* the kick found a buffer: no RXIDLE */
	CHECK_EQ(readl(DP83820_IMR), F.imr_cache);
	CHECK_EQ(readl(DP83820_RFCR), 0xffc00000u);
	CHECK_EQ(conf_read(PCI_STATUS, 2) & PCI_STATUS_REC_MASTER_ABORT, 0);
}

/* ------------------------------------------------------------------------ */
/* Transmit */

static void test_transmit_batch(void)
{
	uint8_t *buf = RAM + TX_BUFS;
	uint8_t expect_sg[1600];
	uint32_t len_plain, len_tcp, len_udp, off = 0, i;
	struct frag plain, sg[3], tcp, udp;
	uint64_t writes;
	unsigned ok, descs;

	setup();
	bring_up();
	F.nic.stats.reg_reads = F.nic.stats.reg_writes = 0;

	/* 1: a plain frame of one fragment */
	len_plain = plain_frame(buf, peer_mac, 100, 1);
	plain.off = TX_BUFS;
	plain.len = len_plain;
	off = 0x800;
	/* 2: scatter-gather, header + two page fragments in separate places */
	plain_frame(expect_sg, peer_mac, 1514, 7);
	memcpy(buf + off, expect_sg, 54);
	memcpy(buf + 0x2000, expect_sg + 54, 1000);
	memcpy(buf + 0x3000, expect_sg + 1054, 460);
	sg[0].off = TX_BUFS + off;
	sg[0].len = 54;
	sg[1].off = TX_BUFS + 0x2000;
	sg[1].len = 1000;
	sg[2].off = TX_BUFS + 0x3000;
	sg[2].len = 460;
	/* 3: TCP with checksum offload (CHECKSUM_PARTIAL) */
	len_tcp = ip_frame(buf + 0x4000, peer_mac, 6, 333, 3, true);
	tcp.off = TX_BUFS + 0x4000;
	tcp.len = len_tcp;
	/* 4: UDP with checksum offload */
	len_udp = ip_frame(buf + 0x5000, peer_mac, 17, 100, 9, true);
	udp.off = TX_BUFS + 0x5000;
	udp.len = len_udp;

	xmit(&plain, 1, 0);
	xmit(sg, 3, 0);
	xmit(&tcp, 1, DP83820_EXTSTS_IPPKT | DP83820_EXTSTS_TCPPKT);
	xmit(&udp, 1, DP83820_EXTSTS_IPPKT | DP83820_EXTSTS_UDPPKT);

	/* The kicks only marked work: nothing walked, nothing sent, no interrupt. */
	CHECK_EQ(F.sends, 0);
	CHECK(get32(tx_desc(0) + D_CMDSTS) & DP83820_CMDSTS_OWN);
	CHECK(!irq_high());
	CHECK_EQ(F.nic.stats.tx_kicks, 4);
	CHECK_EQ(F.nic.stats.reg_writes, 4); /* one CR write per packet */
	writes = F.mem_writes;

	dp83820_flush(&F.nic); /* the guest returns from an interrupt or to user */
	CHECK_EQ(F.sends, 1);  /* one back-end call for the whole batch */
	CHECK_EQ(F.nframes, 4);
	CHECK_EQ(F.nic.stats.tx_notifications, 1);
	CHECK_EQ(F.nic.stats.tx_packets, 4);
	CHECK_EQ(F.mem_writes - writes, 6); /* one status write per descriptor */

	CHECK_EQ(F.frame_len[0], len_plain);
	CHECK(memcmp(F.frame[0], buf, len_plain) == 0);
	CHECK_EQ(F.frame_len[1], 1514);
	CHECK(memcmp(F.frame[1], expect_sg, 1514) == 0);
	CHECK_EQ(F.frame_len[2], len_tcp);
	CHECK(l4_checksum_ok(F.frame[2], 14));
	CHECK(memcmp(F.frame[2] + 14 + 40, buf + 0x4000 + 54, 333) == 0);
	CHECK(!l4_checksum_ok(buf + 0x4000, 14)); /* guest memory kept the partial sum */
	CHECK_EQ(F.frame_len[3], len_udp);
	CHECK(l4_checksum_ok(F.frame[3], 14));
	CHECK_EQ(F.nic.stats.tx_csum_offloads, 2);

	/* Descriptors: OWN cleared everywhere, OK on each frame's last, sizes kept. */
	for (i = 0; i < 6; i++) {
		uint32_t c = get32(tx_desc(i) + D_CMDSTS);
		bool last = i != 1 && i != 2;

		CHECK_EQ(c & DP83820_CMDSTS_OWN, 0);
		CHECK_EQ(!!(c & DP83820_CMDSTS_OK), last);
		CHECK_EQ(!!(c & DP83820_CMDSTS_MORE), !last);
		CHECK_EQ(c & DP83820_CMDSTS_ERR, 0);
	}
	CHECK_EQ(get32(tx_desc(1) + D_CMDSTS) & DP83820_CMDSTS_LEN_MASK, 54);
	CHECK_EQ(get32(tx_desc(3) + D_CMDSTS) & DP83820_CMDSTS_LEN_MASK, 460);
	CHECK_EQ(get32(tx_desc(6) + D_CMDSTS), 0); /* untouched */

	/* TXIDLE (in IMR) raised the line; TXDP rests on the next free descriptor. */
	CHECK(irq_high());
	CHECK_EQ(F.irq.rises[NIC_IRQ], 1);
	{
		uint32_t isr = readl(DP83820_ISR);

		CHECK_EQ(isr, DP83820_ISR_TXOK | DP83820_ISR_TXIDLE | DP83820_ISR_TXDESC);
	}
	CHECK(!irq_high()); /* read-to-clear */
	CHECK_EQ(readl(DP83820_ISR), 0);
	CHECK_EQ((readl(DP83820_TXDP) - (uint32_t)gpa(TX_RING)) / DESC_BYTES, F.tx_free_idx);
	descs = tx_done(&ok);
	CHECK_EQ(descs, 6);
	CHECK_EQ(ok, 4);
	CHECK_EQ(F.tx_done_idx, F.tx_free_idx);

	/* A flush with nothing kicked does nothing. */
	dp83820_flush(&F.nic);
	CHECK_EQ(F.sends, 1);
	CHECK(guards_intact());
}

/* The ring wraps: 150 frames in rounds, every frame sent once, in order. */
static void test_transmit_ring_wrap(void)
{
	unsigned round, k, sent = 0, ok, total_ok = 0;

	setup();
	bring_up();
	for (round = 0; round < 10; round++) {
		for (k = 0; k < 15; k++) {
			uint32_t off = TX_BUFS + (sent % 64) * 128;
			struct frag fr = { off, 60 };

			plain_frame(RAM + off, peer_mac, 60, (uint8_t)sent);
			xmit(&fr, 1, 0);
			sent++;
		}
		F.nframes = 0;
		dp83820_flush(&F.nic);
		CHECK_EQ(F.nframes, 15);
		CHECK_EQ(F.frame[14][20], (uint8_t)(sent - 1 + 20));
		readl(DP83820_ISR);
		tx_done(&ok);
		total_ok += ok;
	}
	CHECK_EQ(total_ok, 150);
	CHECK_EQ(F.sends, 10);
	CHECK_EQ(F.nic.stats.tx_packets, 150);
	CHECK_EQ(F.tx_free_idx, 150 % NR_TX_DESC);
}

/* IHR: the line waits IH x 100 us of simulated time. */
static void test_interrupt_holdoff(void)
{
	struct frag fr = { TX_BUFS, 60 };

	setup();
	bring_up();
	plain_frame(RAM + TX_BUFS, peer_mac, 60, 0);
	advance_to(1000 * US);
	writel(2, DP83820_IHR); /* rx_action's writel(ihr, IHR): 200 us */
	xmit(&fr, 1, 0);
	dp83820_flush(&F.nic);
	CHECK_EQ(F.sends, 1);
	CHECK(!irq_high());
	CHECK_EQ(dp83820_next_deadline(&F.nic, F.now), 1200 * US);
	CHECK_EQ(dm_registry_next_deadline(&F.reg, F.now), 1200 * US);
	advance_to(1199 * US);
	CHECK(!irq_high());
	advance_to(1200 * US);
	CHECK(irq_high());
	CHECK_EQ(F.irq.last_rise_ns[NIC_IRQ], 1200 * US);
	CHECK_EQ(dp83820_next_deadline(&F.nic, F.now), DM_NO_DEADLINE);
	readl(DP83820_ISR);
	CHECK(!irq_high());

	/* Without IHCTL the holdoff was one-shot: the next interrupt is at once. */
	xmit(&fr, 1, 0);
	dp83820_flush(&F.nic);
	CHECK(irq_high());
	readl(DP83820_ISR);

	/* IHCTL: every ISR read starts the holdoff again. */
	writel(DP83820_IHR_IHCTL | 1, DP83820_IHR);
	advance_to(1400 * US); /* past the 100 us from the write */
	readl(DP83820_ISR);
	xmit(&fr, 1, 0);
	dp83820_flush(&F.nic);
	CHECK(!irq_high());
	advance_to(1499 * US);
	CHECK(!irq_high());
	advance_to(1500 * US);
	CHECK(irq_high());
	/* IH = 0 ends a running holdoff. */
	readl(DP83820_ISR);
	writel(DP83820_IHR_IHCTL | 5, DP83820_IHR);
	xmit(&fr, 1, 0);
	dp83820_flush(&F.nic);
	CHECK(!irq_high());
	writel(0, DP83820_IHR);
	CHECK(irq_high());
	/* Masking keeps it low whatever the holdoff. */
	writel(0, DP83820_IER);
	CHECK(!irq_high());
	CHECK_EQ(readl(DP83820_ISR) & DP83820_ISR_TXIDLE, DP83820_ISR_TXIDLE);
}

/* Flushes the model runs itself: after tx_kick_limit kicks, or by deadline. */
static void test_flush_triggers(void)
{
	struct frag fr = { TX_BUFS, 60 };
	unsigned i;

	setup_with(4);
	bring_up();
	plain_frame(RAM + TX_BUFS, peer_mac, 60, 0);
	for (i = 0; i < 3; i++)
		xmit(&fr, 1, 0);
	CHECK_EQ(F.sends, 0);
	xmit(&fr, 1, 0);
	CHECK_EQ(F.sends, 1); /* the fourth kick flushed */
	CHECK_EQ(F.nframes, 4);

	/* One kick and a guest that never returns to user: the deadline flushes. */
	advance_to(50 * US);
	xmit(&fr, 1, 0);
	CHECK_EQ(F.sends, 1);
	CHECK_EQ(dm_registry_next_deadline(&F.reg, F.now), 50 * US + DP83820_TX_FLUSH_DELAY_NS);
	advance_to(50 * US + DP83820_TX_FLUSH_DELAY_NS - 1);
	CHECK_EQ(F.sends, 1);
	advance_to(50 * US + DP83820_TX_FLUSH_DELAY_NS);
	CHECK_EQ(F.sends, 2);
	CHECK_EQ(F.nframes, 5);
}

/* A ring longer than one flush may walk: the rest goes in the next flush. */
static void test_flush_bound(void)
{
	const unsigned n = DP83820_TX_MAX_DESCS + 100;
	uint32_t base = SCRATCH, i;

	setup();
	bring_up();
	plain_frame(RAM + TX_BUFS, peer_mac, 60, 0);
	for (i = 0; i < n; i++)
		build_desc(base + i * 24, i + 1 < n ? gpa(base + (i + 1) * 24) : 0, gpa(TX_BUFS),
			   DP83820_CMDSTS_OWN | 60, 0);
	writel((uint32_t)gpa(base), DP83820_TXDP);
	writel(DP83820_CR_TXE, DP83820_CR);
	dp83820_flush(&F.nic);
	CHECK_EQ(F.nic.stats.tx_packets, DP83820_TX_MAX_DESCS);
	CHECK(F.sends >= DP83820_TX_MAX_DESCS / DP83820_BATCH_FRAMES);
	CHECK_EQ(dp83820_next_deadline(&F.nic, F.now), F.now); /* more to do */
	advance_to(F.now);
	CHECK_EQ(F.nic.stats.tx_packets, n);
	CHECK_EQ(dp83820_next_deadline(&F.nic, F.now), DM_NO_DEADLINE);
	/* It stopped on the null link; a later TXE re-reads that link. */
	CHECK_EQ(readl(DP83820_TXDP), (uint32_t)gpa(base + (n - 1) * 24));
	build_desc(SCRATCH + 0x10000, 0, gpa(TX_BUFS), DP83820_CMDSTS_OWN | 60, 0);
	put64(base + (n - 1) * 24 + D_LINK, gpa(SCRATCH + 0x10000));
	writel(DP83820_CR_TXE, DP83820_CR);
	dp83820_flush(&F.nic);
	CHECK_EQ(F.nic.stats.tx_packets, n + 1);
	CHECK(guards_intact());
}

/* ------------------------------------------------------------------------ */
/* Receive */

static void test_receive(void)
{
	uint8_t fr[4][1600];
	uint32_t len[4];
	struct dp83820_frame batch[4];
	enum dp83820_rx_result last;
	unsigned i;

	setup();
	bring_up();
	len[0] = plain_frame(fr[0], nic_mac, 60, 0x10);
	len[1] = ip_frame(fr[1], nic_mac, 6, 1000, 0x20, false);
	len[2] = ip_frame(fr[2], nic_mac, 17, 200, 0x30, false);
	len[3] = plain_frame(fr[3], (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 1514, 0x40);
	for (i = 0; i < 4; i++) {
		batch[i].data = fr[i];
		batch[i].len = len[i];
	}
	CHECK_EQ(dp83820_receive_batch(&F.nic, batch, 4, &last), 4);
	CHECK_EQ(last, DP83820_RX_DELIVERED);
	CHECK_EQ(F.nic.stats.rx_packets, 4);
	for (i = 0; i < 4; i++) {
		uint32_t c = get32(rx_desc(i) + D_CMDSTS);

		CHECK(memcmp(RAM + rx_buf(i), fr[i], len[i]) == 0);
		CHECK_EQ(c & DP83820_CMDSTS_LEN_MASK, len[i]);
		CHECK(c & DP83820_CMDSTS_OWN);
		CHECK(c & DP83820_CMDSTS_OK);
		CHECK_EQ(c & DP83820_CMDSTS_MORE, 0);
		CHECK_EQ(c & DP83820_CMDSTS_DEST_MASK,
			 i == 3 ? DP83820_CMDSTS_DEST_MASK : DP83820_CMDSTS_DEST_SELF);
	}
	/* Nothing written past each frame in its buffer. */
	CHECK_EQ(RAM[rx_buf(0) + len[0]], 0);
	CHECK_EQ(get32(rx_desc(4) + D_CMDSTS), REAL_RX_BUF_SIZE | DP83820_CMDSTS_INTR);
	/* Checksum bits only where verified. */
	CHECK_EQ(get32(rx_desc(0) + D_EXTSTS), 0);
	CHECK_EQ(get32(rx_desc(1) + D_EXTSTS), DP83820_EXTSTS_IPPKT | DP83820_EXTSTS_TCPPKT);
	CHECK_EQ(get32(rx_desc(2) + D_EXTSTS), DP83820_EXTSTS_IPPKT | DP83820_EXTSTS_UDPPKT);
	CHECK_EQ(F.nic.stats.rx_csum_verified, 2);

	/* One interrupt for the batch: RXOK and RXDESC (INTR was set). */
	CHECK(irq_high());
	CHECK_EQ(F.irq.rises[NIC_IRQ], 1);
	CHECK_EQ(readl(DP83820_ISR), DP83820_ISR_RXOK | DP83820_ISR_RXDESC);
	CHECK_EQ(rx_irq(), 4);
	for (i = 0; i < 4; i++)
		CHECK_EQ(F.rx_len[i], len[i]);
	/* The driver's "checksum unnecessary" test. */
	CHECK((F.rx_extsts[1] & 0x002a0000) && !(F.rx_extsts[1] & 0x00540000));
	CHECK_EQ(F.rx_cmdsts[3] & DP83820_CMDSTS_DEST_MULTI, DP83820_CMDSTS_DEST_MULTI);
}

static void test_receive_checksum_errors(void)
{
	uint8_t fr[1600];
	uint32_t len;

	setup();
	bring_up();
	/* A TCP payload byte flipped: TCPPKT | TCPERR. */
	len = ip_frame(fr, nic_mac, 6, 500, 1, false);
	fr[100] ^= 0x40;
	CHECK_EQ(dp83820_receive(&F.nic, fr, len), DP83820_RX_DELIVERED);
	CHECK_EQ(get32(rx_desc(0) + D_EXTSTS),
		 DP83820_EXTSTS_IPPKT | DP83820_EXTSTS_TCPPKT | DP83820_EXTSTS_TCPERR);
	/* A bad IP header checksum. */
	len = ip_frame(fr, nic_mac, 17, 50, 1, false);
	fr[14 + 10] ^= 1;
	dp83820_receive(&F.nic, fr, len);
	CHECK(get32(rx_desc(1) + D_EXTSTS) & DP83820_EXTSTS_IPERR);
	/* UDP without a checksum (0) is fine. */
	len = ip_frame(fr, nic_mac, 17, 50, 1, false);
	fr[14 + 20 + 6] = fr[14 + 20 + 7] = 0;
	dp83820_receive(&F.nic, fr, len);
	CHECK_EQ(get32(rx_desc(2) + D_EXTSTS), DP83820_EXTSTS_IPPKT | DP83820_EXTSTS_UDPPKT);
	/* A fragment: nothing claimed. */
	len = ip_frame(fr, nic_mac, 6, 100, 1, false);
	fr[14 + 6] = 0x20; /* MF */
	dp83820_receive(&F.nic, fr, len);
	CHECK_EQ(get32(rx_desc(3) + D_EXTSTS), 0);
	/* IP total length beyond the frame: not parsed, nothing claimed. */
	len = ip_frame(fr, nic_mac, 6, 100, 1, false);
	fr[14 + 2] = 0x7f;
	dp83820_receive(&F.nic, fr, len);
	CHECK_EQ(get32(rx_desc(4) + D_EXTSTS), 0);
	CHECK_EQ(F.nic.stats.rx_csum_verified, 1);
	CHECK_EQ(F.nic.stats.rx_packets, 5);
}

/* ns83820_set_multicast() without promiscuous mode, and the other filters. */
static void test_receive_filter(void)
{
	uint8_t fr[100];
	const uint8_t other[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
	const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	uint32_t val;

	setup();
	bring_up();
	plain_frame(fr, other, 64, 0);
	CHECK_EQ(dp83820_receive(&F.nic, fr, 64), DP83820_RX_DELIVERED); /* promiscuous at open */
	val = readl(DP83820_RFCR) & ~(DP83820_RFCR_AAU | DP83820_RFCR_AAM);
	writel(val & ~DP83820_RFCR_RFEN, DP83820_RFCR);
	writel(val, DP83820_RFCR);
	CHECK_EQ(dp83820_receive(&F.nic, fr, 64), DP83820_RX_FILTERED);
	plain_frame(fr, mcast, 64, 0);
	CHECK_EQ(dp83820_receive(&F.nic, fr, 64), DP83820_RX_FILTERED);
	plain_frame(fr, nic_mac, 64, 0);
	CHECK_EQ(dp83820_receive(&F.nic, fr, 64), DP83820_RX_DELIVERED);
	eth_header(fr, other, 0x0806); /* ARP to someone else: AARP */
	CHECK_EQ(dp83820_receive(&F.nic, fr, 64), DP83820_RX_DELIVERED);
	CHECK_EQ(get32(rx_desc(2) + D_CMDSTS) & DP83820_CMDSTS_DEST_MASK, 0);
	writel(0, DP83820_RFCR); /* filter off: nothing is accepted */
	plain_frame(fr, nic_mac, 64, 0);
	CHECK_EQ(dp83820_receive(&F.nic, fr, 64), DP83820_RX_FILTERED);
	CHECK_EQ(F.nic.stats.rx_filtered, 3);
	writel(0xffc00000u, DP83820_RFCR);
	/* Runts: ARP (accept runts) is set, they come with RUNT and without OK. */
	CHECK_EQ(dp83820_receive(&F.nic, fr, 42), DP83820_RX_DELIVERED);
	CHECK_EQ(get32(rx_desc(3) + D_CMDSTS) & (DP83820_CMDSTS_RUNT | DP83820_CMDSTS_OK),
		 DP83820_CMDSTS_RUNT);
	/* Too long without ALP: dropped and counted in the MIB. */
	CHECK_EQ(dp83820_receive(&F.nic, RAM, 1515), DP83820_RX_DROPPED);
	CHECK_EQ(readl(DP83820_MIB_RX_LONG), 1);
	CHECK_EQ(readl(DP83820_MIB_RX_LONG), 0); /* cleared by the read */
	CHECK_EQ(dp83820_receive(&F.nic, fr, 13), DP83820_RX_DROPPED);
}

/* The receive ring runs out: "no buffer", RXIDLE/RXORN, then the driver recovers. */
static void test_receive_ring_full(void)
{
	uint8_t fr[200];
	unsigned i, delivered = 0;
	uint32_t isr;

	setup();
	bring_up();
	plain_frame(fr, nic_mac, 200, 0);
	for (i = 0; i < 70; i++) {
		fr[20] = (uint8_t)i;
		if (dp83820_receive(&F.nic, fr, 200) != DP83820_RX_DELIVERED)
			break;
		delivered++;
	}
	CHECK_EQ(delivered, 60); /* what rx_refill() handed over */
	CHECK_EQ(F.nic.stats.rx_no_buffer, 1);
	isr = readl(DP83820_ISR);
	CHECK_EQ(isr & (DP83820_ISR_RXIDLE | DP83820_ISR_RXORN),
		 DP83820_ISR_RXIDLE | DP83820_ISR_RXORN);
	CHECK_EQ(readl(DP83820_MIB_RX_MISSED), 1);
	/* More frames while idle are refused without touching memory. */
	take_snapshot();
	CHECK_EQ(dp83820_receive(&F.nic, fr, 200), DP83820_RX_NO_BUFFER);
	CHECK_EQ(changed_outside(0, 0), 0);

	/* ns83820_do_isr: RXIDLE -> idle, rx_kick; then the tasklet. */
	CHECK_EQ(F.rx_ready_calls, 1); /* open's kick */
	F.rx_idle = true;
	rx_kick(); /* kicks with RXDP on a filled descriptor: idle again */
	CHECK_EQ(F.rx_ready_calls, 1);
	CHECK(readl(DP83820_ISR) & DP83820_ISR_RXIDLE);
	CHECK_EQ(rx_irq(), 60);
	for (i = 0; i < 60; i++)
		CHECK_EQ(F.rx_first[i][20], (uint8_t)i);
	F.rx_idle = true; /* that RXIDLE */
	rx_kick();
	CHECK_EQ(F.rx_ready_calls, 2); /* the back end may offer again */
	CHECK_EQ(dp83820_receive(&F.nic, fr, 200), DP83820_RX_DELIVERED);
	CHECK_EQ(get32(rx_desc(60) + D_CMDSTS) & DP83820_CMDSTS_LEN_MASK, 200);
	CHECK(guards_intact());
}

/* The next descriptor is the driver's (OWN set): RXIDLE at once, not at the next frame. */
static void test_receive_stops_on_busy_descriptor(void)
{
	uint8_t fr[100];

	setup();
	bring_up();
	/* The driver has not refilled descriptor 3 yet. */
	build_desc(rx_desc(3), gpa(rx_desc(4)), 0, DP83820_CMDSTS_OWN, 0);
	plain_frame(fr, nic_mac, 100, 0);
	CHECK_EQ(dp83820_receive(&F.nic, fr, 100), DP83820_RX_DELIVERED);
	CHECK_EQ(dp83820_receive(&F.nic, fr, 100), DP83820_RX_DELIVERED);
	CHECK_EQ(readl(DP83820_ISR) & DP83820_ISR_RXIDLE, 0);
	CHECK_EQ(dp83820_receive(&F.nic, fr, 100), DP83820_RX_DELIVERED);
	CHECK_EQ(readl(DP83820_ISR), DP83820_ISR_RXOK | DP83820_ISR_RXDESC | DP83820_ISR_RXIDLE);
	CHECK_EQ(readl(DP83820_RXDP), (uint32_t)gpa(rx_desc(3)));
	CHECK_EQ(dp83820_receive(&F.nic, fr, 100), DP83820_RX_NO_BUFFER);
}

/* A jumbo frame (ALP) spread over three descriptors with MORE. */
static void test_receive_multi_descriptor(void)
{
	static uint8_t fr[3000];
	unsigned i;

	setup();
	bring_up();
	writel(readl(DP83820_RXCFG) | DP83820_RXCFG_ALP, DP83820_RXCFG);
	for (i = 0; i < 3; i++)
		put32(rx_desc(i) + D_CMDSTS, 1024 | DP83820_CMDSTS_INTR);
	plain_frame(fr, nic_mac, 3000, 5);
	CHECK_EQ(dp83820_receive(&F.nic, fr, 3000), DP83820_RX_DELIVERED);
	for (i = 0; i < 3; i++) {
		uint32_t c = get32(rx_desc(i) + D_CMDSTS);
		uint32_t n = i < 2 ? 1024 : 3000 - 2048;

		CHECK_EQ(c & DP83820_CMDSTS_LEN_MASK, n);
		CHECK_EQ(!!(c & DP83820_CMDSTS_MORE), i < 2);
		CHECK(c & DP83820_CMDSTS_OWN);
		CHECK(memcmp(RAM + rx_buf(i), fr + 1024 * i, n) == 0);
	}
	CHECK_EQ(RAM[rx_buf(0) + 1024], 0); /* nothing past a buffer's size */
	CHECK_EQ(readl(DP83820_RXDP), (uint32_t)gpa(rx_desc(3)));
}

/* 802.1Q: tag insertion on transmit, detection and stripping on receive. */
static void test_vlan(void)
{
	uint8_t fr[200];
	struct frag tx = { TX_BUFS, 0 };
	uint32_t len;

	setup();
	bring_up();
	writel(DP83820_VTCR_PPCHK | DP83820_VTCR_VPPTI, DP83820_VTCR);
	len = ip_frame(RAM + TX_BUFS, peer_mac, 6, 60, 0, true);
	tx.len = len;
	/* htons(tag) in the low 16 bits, as the driver stores it: VID 0x123, PCP 5 */
	xmit(&tx, 1,
	     DP83820_EXTSTS_VPKT | 0x23a0 | DP83820_EXTSTS_IPPKT | DP83820_EXTSTS_TCPPKT);
	dp83820_flush(&F.nic);
	CHECK_EQ(F.frame_len[0], len + 4);
	CHECK_EQ(F.frame[0][12], 0x81);
	CHECK_EQ(F.frame[0][13], 0x00);
	CHECK_EQ(F.frame[0][14], 0xa0);
	CHECK_EQ(F.frame[0][15], 0x23);
	CHECK(memcmp(F.frame[0], RAM + TX_BUFS, 12) == 0);
	CHECK_EQ(F.frame[0][16], 0x08);
	CHECK(l4_checksum_ok(F.frame[0], 18));

	/* Receive the tagged frame: detection only, then stripping. */
	memcpy(fr, F.frame[0], len + 4);
	CHECK_EQ(dp83820_receive(&F.nic, fr, len + 4), DP83820_RX_DELIVERED);
	CHECK_EQ(get32(rx_desc(0) + D_CMDSTS) & DP83820_CMDSTS_LEN_MASK, len + 4);
	CHECK_EQ(get32(rx_desc(0) + D_EXTSTS) & (DP83820_EXTSTS_VPKT | DP83820_EXTSTS_VTG_MASK),
		 DP83820_EXTSTS_VPKT | 0x23a0);
	writel(readl(DP83820_VRCR) | DP83820_VRCR_VTREN, DP83820_VRCR);
	CHECK_EQ(dp83820_receive(&F.nic, fr, len + 4), DP83820_RX_DELIVERED);
	CHECK_EQ(get32(rx_desc(1) + D_CMDSTS) & DP83820_CMDSTS_LEN_MASK, len);
	CHECK(memcmp(RAM + rx_buf(1), RAM + TX_BUFS, 12) == 0);
	CHECK(memcmp(RAM + rx_buf(1) + 12, fr + 16, len - 12) == 0);
	CHECK_EQ(get32(rx_desc(1) + D_EXTSTS),
		 DP83820_EXTSTS_VPKT | 0x23a0 | DP83820_EXTSTS_IPPKT | DP83820_EXTSTS_TCPPKT);
}

/* Without CFG.M64ADDR: 16-byte descriptors with 32-bit links and buffers. */
static void test_32bit_descriptors(void)
{
	uint32_t d = SCRATCH, buf = SCRATCH + 0x1000;
	uint8_t fr[80];

	setup();
	bring_up();
	writel(F.cfg_cache & ~DP83820_CFG_M64ADDR, DP83820_CFG);
	/* transmit: two 16-byte descriptors, MORE */
	plain_frame(RAM + buf, peer_mac, 80, 3);
	put32(d + 0, (uint32_t)gpa(d + 16));
	put32(d + 4, (uint32_t)gpa(buf));
	put32(d + 8, DP83820_CMDSTS_OWN | DP83820_CMDSTS_MORE | 30);
	put32(d + 16, 0);
	put32(d + 20, (uint32_t)gpa(buf + 30));
	put32(d + 24, DP83820_CMDSTS_OWN | 50);
	writel((uint32_t)gpa(d), DP83820_TXDP);
	writel(DP83820_CR_TXE, DP83820_CR);
	dp83820_flush(&F.nic);
	CHECK_EQ(F.nframes, 1);
	CHECK_EQ(F.frame_len[0], 80);
	CHECK(memcmp(F.frame[0], RAM + buf, 80) == 0);
	CHECK_EQ(get32(d + 8), DP83820_CMDSTS_MORE | 30);
	CHECK_EQ(get32(d + 24), DP83820_CMDSTS_OK | 50);
	CHECK_EQ(readl(DP83820_TXDP), (uint32_t)gpa(d + 16));
	/* receive into a 16-byte descriptor */
	put32(d + 0x100, 0);
	put32(d + 0x104, (uint32_t)gpa(buf + 0x800));
	put32(d + 0x108, 1514);
	put32(d + 0x10c, 0xdeadbeef);
	writel((uint32_t)gpa(d + 0x100), DP83820_RXDP);
	writel(DP83820_CR_RXE, DP83820_CR);
	plain_frame(fr, nic_mac, 80, 9);
	CHECK_EQ(dp83820_receive(&F.nic, fr, 80), DP83820_RX_DELIVERED);
	CHECK_EQ(get32(d + 0x108), DP83820_CMDSTS_OWN | DP83820_CMDSTS_OK |
					   DP83820_CMDSTS_DEST_SELF | 80);
	CHECK_EQ(get32(d + 0x10c), 0);
	CHECK(memcmp(RAM + buf + 0x800, fr, 80) == 0);
}

/* ------------------------------------------------------------------------ */
/* Malformed descriptors: stop, the right status, memory untouched, bounded. */

struct tx_case {
	const char *what;
	unsigned ndesc;
	uint32_t cmdsts[4];
	int link[4];        /* index of the next descriptor, -1 = null link */
	uint64_t buf;       /* 0: a valid buffer */
	uint32_t isr;
};

static void tx_malformed(const struct tx_case *tc)
{
	uint32_t base = SCRATCH, i;
	uint64_t tx_before = F.nic.stats.tx_packets;
	unsigned reads;

	for (i = 0; i < tc->ndesc; i++)
		build_desc(base + i * 32, tc->link[i] < 0 ? 0 : gpa(base + (uint32_t)tc->link[i] * 32),
			   tc->buf ? tc->buf : gpa(TX_BUFS), tc->cmdsts[i], 0);
	readl(DP83820_ISR);
	take_snapshot();
	writel((uint32_t)gpa(base), DP83820_TXDP);
	writel(DP83820_CR_TXE, DP83820_CR);
	reads = F.mem_reads;
	dp83820_flush(&F.nic); /* returns: the walk is bounded */
	/* It stops at the first revisit, not after DP83820_MAX_FRAGS descriptors. */
	CHECK(F.mem_reads - reads <= 2 * tc->ndesc + 2);
	CHECK_EQ(changed_outside(0, 0), 0);
	CHECK_EQ(F.nic.stats.tx_packets, tx_before);
	CHECK_EQ(readl(DP83820_ISR) & (DP83820_ISR_TXERR | DP83820_ISR_RMABT | DP83820_ISR_TXOK),
		 tc->isr);
	CHECK_EQ(readl(DP83820_CR) & DP83820_CR_TXE, 0); /* the engine stopped */
	CHECK_EQ(readl(DP83820_TXDP), (uint32_t)gpa(base));
}

static void test_tx_malformed(void)
{
	const uint32_t own = DP83820_CMDSTS_OWN, more = DP83820_CMDSTS_MORE;
	const struct tx_case cases[] = {
		{ "length 0", 1, { own | 0 }, { -1 }, 0, DP83820_ISR_TXERR },
		{ "one descriptor over the FIFO", 1, { own | 0xffff }, { -1 }, 0, DP83820_ISR_TXERR },
		{ "fragments add up past the frame limit", 3,
		  { own | more | 4000, own | more | 4000, own | 1000 }, { 1, 2, -1 }, 0,
		  DP83820_ISR_TXERR },
		{ "MORE with a null link", 2, { own | more | 100, own | more | 100 }, { 1, -1 }, 0,
		  DP83820_ISR_TXERR },
		{ "fragment chain loops", 3, { own | more | 10, own | more | 10, own | more | 10 },
		  { 1, 2, 0 }, 0, DP83820_ISR_TXERR },
		{ "fragment links to itself", 1, { own | more | 10 }, { 0 }, 0, DP83820_ISR_TXERR },
		{ "buffer outside guest memory", 1, { own | 100 }, { -1 }, 0x4000000000ull,
		  DP83820_ISR_RMABT },
		{ "buffer crossing the end of guest memory", 1, { own | 100 }, { -1 },
		  RAM_BASE + RAM_SIZE - 50, DP83820_ISR_RMABT },
	};
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned failures = dmtest_failures();

		setup();
		bring_up();
		tx_malformed(&cases[i]);
		CHECK(guards_intact());
		if (dmtest_failures() != failures)
			fprintf(stderr, "  in case: %s\n", cases[i].what);
	}
}

static void test_tx_malformed_pointers_and_limits(void)
{
	uint32_t base = SCRATCH, i;
	struct frag fr = { TX_BUFS, 60 };
	unsigned ok;

	/* TXDP outside guest memory: master abort, in ISR and in PCI status. */
	setup();
	bring_up();
	take_snapshot();
	writel(0x7ff00000u, DP83820_TXDP);
	writel(DP83820_CR_TXE, DP83820_CR);
	dp83820_flush(&F.nic);
	CHECK_EQ(changed_outside(0, 0), 0);
	CHECK_EQ(readl(DP83820_ISR) & DP83820_ISR_RMABT, DP83820_ISR_RMABT);
	CHECK(conf_read(PCI_STATUS, 2) & PCI_STATUS_REC_MASTER_ABORT);
	CHECK_EQ(readl(DP83820_CR) & DP83820_CR_TXE, 0);
	CHECK_EQ(F.sends, 0);

	/* A descriptor that straddles the end of guest memory. */
	setup();
	bring_up();
	take_snapshot();
	writel((uint32_t)(RAM_BASE + RAM_SIZE - 8), DP83820_TXDP);
	writel(DP83820_CR_TXE, DP83820_CR);
	dp83820_flush(&F.nic);
	CHECK_EQ(changed_outside(0, 0), 0);
	CHECK(readl(DP83820_ISR) & DP83820_ISR_RMABT);
	CHECK(guards_intact());

	/* A MORE link that leads out of guest memory. */
	setup();
	bring_up();
	build_desc(base, 0x4000000000ull, gpa(TX_BUFS), DP83820_CMDSTS_OWN | DP83820_CMDSTS_MORE | 30,
		   0);
	take_snapshot();
	writel((uint32_t)gpa(base), DP83820_TXDP);
	writel(DP83820_CR_TXE, DP83820_CR);
	dp83820_flush(&F.nic);
	CHECK_EQ(changed_outside(0, 0), 0);
	CHECK(readl(DP83820_ISR) & DP83820_ISR_RMABT);

	/* More fragments than one frame may have, all distinct. */
	setup();
	bring_up();
	for (i = 0; i < 40; i++)
		build_desc(base + i * 32, gpa(base + (i + 1) * 32), gpa(TX_BUFS),
			   DP83820_CMDSTS_OWN | DP83820_CMDSTS_MORE | 10, 0);
	take_snapshot();
	writel((uint32_t)gpa(base), DP83820_TXDP);
	writel(DP83820_CR_TXE, DP83820_CR);
	dp83820_flush(&F.nic);
	CHECK_EQ(changed_outside(0, 0), 0);
	CHECK_EQ(readl(DP83820_ISR) & (DP83820_ISR_TXERR | DP83820_ISR_TXOK), DP83820_ISR_TXERR);
	CHECK_EQ(F.nic.stats.tx_errors, 1);

	/* A good frame, then a bad one: the good one goes, the bad one stays untouched. */
	setup();
	bring_up();
	plain_frame(RAM + TX_BUFS, peer_mac, 60, 0);
	xmit(&fr, 1, 0);
	put32(tx_desc(1) + D_CMDSTS, DP83820_CMDSTS_OWN | 0); /* length 0 */
	take_snapshot();
	dp83820_flush(&F.nic);
	CHECK_EQ(F.nframes, 1);
	CHECK_EQ(changed_outside(tx_desc(0) + D_CMDSTS, tx_desc(0) + D_CMDSTS + 4), 0);
	CHECK_EQ(get32(tx_desc(0) + D_CMDSTS), DP83820_CMDSTS_OK | DP83820_CMDSTS_INTR | 60);
	CHECK_EQ(get32(tx_desc(1) + D_CMDSTS), DP83820_CMDSTS_OWN);
	CHECK_EQ(readl(DP83820_ISR) & (DP83820_ISR_TXERR | DP83820_ISR_TXOK),
		 DP83820_ISR_TXERR | DP83820_ISR_TXOK);
	CHECK_EQ(readl(DP83820_TXDP), (uint32_t)gpa(tx_desc(1)));
	/* The driver repairs it and kicks: the engine runs again. */
	F.tx_free_idx = 1;
	tx_done(&ok);
	xmit(&fr, 1, 0);
	dp83820_flush(&F.nic);
	CHECK_EQ(F.nframes, 2);
	CHECK(guards_intact());
}

static void rx_setup_chain(uint32_t base, unsigned n, const uint32_t *size, const int *link,
			   const uint64_t *buf)
{
	unsigned i;

	for (i = 0; i < n; i++)
		build_desc(base + i * 32, link[i] < 0 ? 0 : gpa(base + (uint32_t)link[i] * 32),
			   buf && buf[i] ? buf[i] : gpa(RX_BUFS + i * 2048),
			   size[i] | DP83820_CMDSTS_INTR, 0);
	writel((uint32_t)gpa(base), DP83820_RXDP);
	writel(DP83820_CR_RXE, DP83820_CR);
	readl(DP83820_ISR);
}

static void test_rx_malformed(void)
{
	static uint8_t fr[1400];
	uint32_t base = SCRATCH, i;
	uint32_t size[40];
	int link[40];
	uint64_t buf[40];

	plain_frame(fr, nic_mac, sizeof(fr), 1);

	/* Buffer size 0: RXERR, the receiver stops, nothing written. */
	setup();
	bring_up();
	size[0] = 0;
	link[0] = -1;
	rx_setup_chain(base, 1, size, link, NULL);
	take_snapshot();
	CHECK_EQ(dp83820_receive(&F.nic, fr, 200), DP83820_RX_ERROR);
	CHECK_EQ(changed_outside(0, 0), 0);
	CHECK_EQ(readl(DP83820_ISR) & (DP83820_ISR_RXERR | DP83820_ISR_RXOK), DP83820_ISR_RXERR);
	CHECK_EQ(readl(DP83820_CR) & DP83820_CR_RXE, 0);
	CHECK_EQ(dp83820_receive(&F.nic, fr, 200), DP83820_RX_DROPPED); /* receiver off */
	CHECK_EQ(F.nic.stats.rx_errors, 1);

	/* Buffer outside guest memory: RMABT. */
	setup();
	bring_up();
	size[0] = 1514;
	buf[0] = 0x4000000000ull;
	rx_setup_chain(base, 1, size, link, buf);
	take_snapshot();
	CHECK_EQ(dp83820_receive(&F.nic, fr, 200), DP83820_RX_ERROR);
	CHECK_EQ(changed_outside(0, 0), 0);
	CHECK(readl(DP83820_ISR) & DP83820_ISR_RMABT);
	CHECK(conf_read(PCI_STATUS, 2) & PCI_STATUS_REC_MASTER_ABORT);

	/* Small buffers whose links loop (A -> B -> A) under a big frame. */
	setup();
	bring_up();
	size[0] = size[1] = 100;
	link[0] = 1;
	link[1] = 0;
	rx_setup_chain(base, 2, size, link, NULL);
	take_snapshot();
	CHECK_EQ(dp83820_receive(&F.nic, fr, 1000), DP83820_RX_ERROR);
	CHECK_EQ(changed_outside(0, 0), 0);
	CHECK(readl(DP83820_ISR) & DP83820_ISR_RXERR);

	/* A frame would need more descriptors than a frame may have. */
	setup();
	bring_up();
	for (i = 0; i < 40; i++) {
		size[i] = 16;
		link[i] = (int)i + 1;
		buf[i] = 0;
	}
	link[39] = -1;
	rx_setup_chain(base, 40, size, link, buf);
	take_snapshot();
	CHECK_EQ(dp83820_receive(&F.nic, fr, 1000), DP83820_RX_ERROR);
	CHECK_EQ(changed_outside(0, 0), 0);
	CHECK(readl(DP83820_ISR) & DP83820_ISR_RXERR);

	/* RXDP outside guest memory: the kick itself aborts. */
	setup();
	bring_up();
	take_snapshot();
	writel(0x7ff00000u, DP83820_RXDP);
	writel(DP83820_CR_RXE, DP83820_CR);
	CHECK_EQ(changed_outside(0, 0), 0);
	CHECK(readl(DP83820_ISR) & DP83820_ISR_RMABT);
	CHECK_EQ(readl(DP83820_CR) & DP83820_CR_RXE, 0);
	CHECK_EQ(dp83820_receive(&F.nic, fr, 200), DP83820_RX_DROPPED);

	/* A frame spanning two buffers, the second outside memory: only the first is written. */
	setup();
	bring_up();
	writel(readl(DP83820_RXCFG) | DP83820_RXCFG_ALP, DP83820_RXCFG);
	size[0] = size[1] = 1024;
	link[0] = 1;
	link[1] = -1;
	buf[0] = 0;
	buf[1] = RAM_BASE + RAM_SIZE - 16;
	rx_setup_chain(base, 2, size, link, buf);
	take_snapshot();
	CHECK_EQ(dp83820_receive(&F.nic, fr, 1400), DP83820_RX_ERROR);
	CHECK_EQ(changed_outside(RX_BUFS, RX_BUFS + 1024), 0);
	CHECK(memcmp(RAM + RX_BUFS, fr, 1024) == 0);
	CHECK(readl(DP83820_ISR) & DP83820_ISR_RMABT);

	/* The link after a delivered frame leads out of memory: found at once. */
	setup();
	bring_up();
	build_desc(base, 0x4000000000ull, gpa(RX_BUFS), 1514 | DP83820_CMDSTS_INTR, 0);
	writel((uint32_t)gpa(base), DP83820_RXDP);
	writel(DP83820_CR_RXE, DP83820_CR);
	readl(DP83820_ISR);
	CHECK_EQ(dp83820_receive(&F.nic, fr, 200), DP83820_RX_DELIVERED);
	CHECK_EQ(readl(DP83820_ISR) & (DP83820_ISR_RXOK | DP83820_ISR_RMABT),
		 DP83820_ISR_RXOK | DP83820_ISR_RMABT);
	CHECK_EQ(dp83820_receive(&F.nic, fr, 200), DP83820_RX_DROPPED);
	CHECK(guards_intact());
}

/* ns83820_stop(): interrupts off, CR_RST, rings cleaned; then the chip is at rest. */
static void test_close_and_reset(void)
{
	uint8_t fr[100];
	unsigned i;

	setup();
	bring_up();
	plain_frame(fr, nic_mac, 100, 0);
	dp83820_receive(&F.nic, fr, 100);
	CHECK(irq_high());
	writel(0, DP83820_IMR);
	writel(0, DP83820_IER);
	readl(DP83820_IER);
	CHECK(!irq_high());
	do_reset(DP83820_CR_RST);
	F.imr_cache &= ~(DP83820_ISR_TXIDLE | DP83820_ISR_TXDESC | DP83820_ISR_TXOK);
	/* ns83820_cleanup_rx */
	F.imr_cache &= ~(DP83820_ISR_RXOK | DP83820_ISR_RXDESC | DP83820_ISR_RXIDLE);
	writel(F.imr_cache, DP83820_IMR);
	readl(DP83820_IMR);
	writel(0, DP83820_RXDP_HI);
	writel(0, DP83820_RXDP);
	for (i = 0; i < NR_RX_DESC; i++)
		build_desc(rx_desc(i), 0, 0, DP83820_CMDSTS_OWN, 0);
	memset(RAM + TX_RING, 0, NR_TX_DESC * DESC_BYTES);

	CHECK_EQ(readl(DP83820_CR), 0);
	CHECK_EQ(readl(DP83820_ISR), 0); /* the reset cleared the pending RX status */
	CHECK_EQ(readl(DP83820_RFCR), 0);
	CHECK_EQ(readl(DP83820_TXDP), 0);
	/* Configuration survives CR.RST (the driver does not program it again). */
	CHECK_EQ(readl(DP83820_CFG), F.cfg_cache | DP83820_CFG_LNKSTS | DP83820_CFG_SPDSTS0);
	CHECK_EQ(readl(DP83820_IMR), F.imr_cache); /* what cleanup_rx wrote after it */
	CHECK_EQ(readl(DP83820_IER), 0);
	CHECK(!irq_high());
	take_snapshot();
	CHECK_EQ(dp83820_receive(&F.nic, fr, 100), DP83820_RX_DROPPED);
	dp83820_flush(&F.nic);
	CHECK_EQ(changed_outside(0, 0), 0);
	CHECK_EQ(F.sends, 0);
	/* The MAC came back from the EEPROM. */
	{
		uint8_t mac[6];

		getmac(mac);
		CHECK(memcmp(mac, nic_mac, 6) == 0);
	}
	/* Engine resets report completion. */
	writel(DP83820_CR_TXR | DP83820_CR_RXR, DP83820_CR);
	CHECK_EQ(readl(DP83820_ISR), DP83820_ISR_TXRCMP | DP83820_ISR_RXRCMP);
	writel(DP83820_CR_SWI, DP83820_CR);
	CHECK_EQ(readl(DP83820_ISR), DP83820_ISR_SWI);
	/* A second open (ifdown; ifup) works as the first. */
	open_dev();
	CHECK_EQ(dp83820_receive(&F.nic, fr, 100), DP83820_RX_DELIVERED);
	CHECK_EQ(get32(rx_desc(0) + D_CMDSTS) & DP83820_CMDSTS_LEN_MASK, 100);
	{
		struct frag tx = { TX_BUFS, 60 };

		plain_frame(RAM + TX_BUFS, peer_mac, 60, 0);
		xmit(&tx, 1, 0);
		dp83820_flush(&F.nic);
		CHECK_EQ(F.sends, 1);
	}
}

/* What a benchmark reports: register accesses and notifications per packet. */
static void test_counters(void)
{
	struct frag fr = { TX_BUFS, 1000 };
	uint8_t rx[8][200];
	struct dp83820_frame batch[8];
	unsigned i, ok;
	uint64_t irqs;

	setup();
	bring_up();
	plain_frame(RAM + TX_BUFS, peer_mac, 1000, 0);
	dm_zero_bytes(&F.nic.stats, sizeof(F.nic.stats));
	for (i = 0; i < 8; i++)
		xmit(&fr, 1, 0);
	dp83820_flush(&F.nic);
	readl(DP83820_ISR);    /* the interrupt handler */
	readl(DP83820_TXDP);   /* TXIDLE: where did the chip stop? */
	tx_done(&ok);
	CHECK_EQ(ok, 8);
	CHECK_EQ(F.nic.stats.tx_packets, 8);
	CHECK_EQ(F.nic.stats.tx_bytes, 8000);
	CHECK_EQ(F.nic.stats.reg_writes, 8);
	CHECK_EQ(F.nic.stats.reg_reads, 2);
	CHECK_EQ(F.nic.stats.tx_notifications, 1);
	CHECK_EQ(F.nic.stats.flushes, 1);
	CHECK_EQ(F.nic.stats.interrupts, 1);

	irqs = F.nic.stats.interrupts;
	for (i = 0; i < 8; i++) {
		plain_frame(rx[i], nic_mac, 200, (uint8_t)i);
		batch[i].data = rx[i];
		batch[i].len = 200;
	}
	CHECK_EQ(dp83820_receive_batch(&F.nic, batch, 8, NULL), 8);
	CHECK_EQ(F.nic.stats.rx_packets, 8);
	CHECK_EQ(F.nic.stats.rx_bytes, 1600);
	CHECK_EQ(F.nic.stats.interrupts, irqs + 1);
}

static void test_bus_master_off(void)
{
	struct frag fr = { TX_BUFS, 60 };
	uint8_t f[60];

	setup();
	bring_up();
	plain_frame(RAM + TX_BUFS, peer_mac, 60, 0);
	conf_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	take_snapshot();
	xmit(&fr, 1, 0);
	dp83820_flush(&F.nic);
	CHECK_EQ(F.sends, 0);
	CHECK(get32(tx_desc(0) + D_CMDSTS) & DP83820_CMDSTS_OWN);
	plain_frame(f, nic_mac, 60, 0);
	CHECK_EQ(dp83820_receive(&F.nic, f, 60), DP83820_RX_NO_BUFFER);
	CHECK_EQ(changed_outside(tx_desc(0), tx_desc(1)), 0);
	conf_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	writel(DP83820_CR_TXE, DP83820_CR);
	dp83820_flush(&F.nic);
	CHECK_EQ(F.sends, 1);
	CHECK_EQ(dp83820_receive(&F.nic, f, 60), DP83820_RX_DELIVERED);
}

static void test_link_change(void)
{
	struct frag fr = { TX_BUFS, 60 };
	uint8_t f[60];
	bool full, up;

	setup();
	bring_up();
	plain_frame(f, nic_mac, 60, 0);
	dp83820_set_link(&F.nic, false);
	CHECK(irq_high());
	CHECK_EQ(readl(DP83820_ISR), DP83820_ISR_PHY);
	phy_intr(&full, &up);
	CHECK(!up);
	CHECK_EQ(dp83820_receive(&F.nic, f, 60), DP83820_RX_DROPPED);
	plain_frame(RAM + TX_BUFS, peer_mac, 60, 0);
	xmit(&fr, 1, 0);
	dp83820_flush(&F.nic);
	CHECK_EQ(F.nframes, 0); /* no carrier: nothing reaches the back end */
	CHECK(get32(tx_desc(0) + D_CMDSTS) & DP83820_CMDSTS_OK);
	readl(DP83820_ISR);
	CHECK_EQ(F.rx_ready_calls, 1); /* open's kick */
	dp83820_set_link(&F.nic, true);
	CHECK_EQ(F.rx_ready_calls, 2);
	CHECK_EQ(readl(DP83820_ISR), DP83820_ISR_PHY);
	phy_intr(&full, &up);
	CHECK(up);
	CHECK_EQ(dp83820_receive(&F.nic, f, 60), DP83820_RX_DELIVERED);
}

static void test_registry_and_attach(void)
{
	static struct dp83820 second;
	struct dp83820_config cfg = { .bus = &F.pci, .devfn = NIC_DEVFN };

	setup();
	CHECK_EQ(dp83820_ops.level, DM_INIT_DEV);
	CHECK_EQ(F.pci.devfn[NIC_DEVFN], &F.nic.pci);
	dp83820_init(&second, &cfg);
	CHECK_EQ(dp83820_ops.init(&second, &F.iobus), DM_EBUSY); /* slot taken */
	cfg.bus = NULL;
	dp83820_init(&second, &cfg);
	CHECK_EQ(dp83820_ops.init(&second, &F.iobus), DM_EINVAL);
	/* Nothing due on an idle chip. */
	CHECK_EQ(dm_registry_next_deadline(&F.reg, 0), DM_NO_DEADLINE);
	/* Registers: only aligned dwords, other widths are not taken. */
	{
		uint8_t b[4] = { 0, 0, 0, 0 };

		CHECK(!dp83820_bar_io(NULL, DP83820_SRR + 1, b, 4, false, &F.nic));
		CHECK(!dp83820_bar_io(NULL, DP83820_SRR, b, 1, false, &F.nic));
		CHECK(dp83820_bar_io(NULL, DP83820_SRR, b, 4, false, &F.nic));
		CHECK_EQ(dm_get_le32(b), 0x0103);
	}
}

int main(int argc, char **argv)
{
	static const struct dmtest tests[] = {
		DMTEST(test_pci_identity_and_probe),
		DMTEST(test_eeprom),
		DMTEST(test_open),
		DMTEST(test_transmit_batch),
		DMTEST(test_transmit_ring_wrap),
		DMTEST(test_interrupt_holdoff),
		DMTEST(test_flush_triggers),
		DMTEST(test_flush_bound),
		DMTEST(test_receive),
		DMTEST(test_receive_checksum_errors),
		DMTEST(test_receive_filter),
		DMTEST(test_receive_ring_full),
		DMTEST(test_receive_stops_on_busy_descriptor),
		DMTEST(test_receive_multi_descriptor),
		DMTEST(test_vlan),
		DMTEST(test_32bit_descriptors),
		DMTEST(test_tx_malformed),
		DMTEST(test_tx_malformed_pointers_and_limits),
		DMTEST(test_rx_malformed),
		DMTEST(test_close_and_reset),
		DMTEST(test_counters),
		DMTEST(test_bus_master_off),
		DMTEST(test_link_change),
		DMTEST(test_registry_and_attach),
	};

	return dmtest_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
