/*
 * DP83820 gigabit Ethernet controller: front end.
 *
 * Register and descriptor facts are those Linux 6.1's ns83820.c relies on.
 * The two DMA engines follow descriptor lists in guest memory, read and
 * written only through cfg.mem:
 *
 *  - transmit: a descriptor with OWN set belongs to the chip; a frame is
 *    one descriptor or a chain of them joined by MORE.  The chip clears OWN
 *    in every descriptor of a finished frame, sets OK in its last one,
 *    raises TXOK (and TXDESC if a descriptor asked with INTR), follows
 *    link, and goes idle (TXIDLE) at a descriptor it does not own, leaving
 *    TXDP there.  At a null link it stops on the last descriptor and the
 *    next CR.TXE re-reads that link.
 *  - receive: the polarity is reversed: OWN clear means "empty, the
 *    chip's"; the chip fills the buffer, writes size, OK, destination class
 *    and OWN back (MORE when a frame spans buffers), raises RXOK (RXDESC
 *    for INTR), follows link and looks at the next descriptor at once: one
 *    with OWN set (or a null link) makes it idle (RXIDLE) until CR.RXE.
 *
 * A frame is checked whole before anything is written: a transmit chain
 * that is not complete yet leaves the engine idle at its first descriptor
 * with nothing written, and a received frame is placed only once enough
 * free buffers are linked.  Malformed descriptors (size 0, a frame over
 * DP83820_MAX_FRAME, a chain over DP83820_MAX_FRAGS, a chain that visits a
 * descriptor twice, MORE with a null link) stop the engine with TXERR or
 * RXERR and write nothing; a descriptor or buffer outside guest memory
 * stops it with RMABT (and the PCI status Received Master Abort), which is
 * what a bus master sees when no memory answers.  Every walk is bounded.
 *
 * The interrupt line is IER.IE && (ISR & IMR), held low while the holdoff
 * of IHR runs; dp83820_update_irq() recomputes it and moves INTA# only on
 * a change.
 */
#include <devmodels/dp83820.h>

enum { EE_IDLE, EE_OPCODE, EE_ADDRESS, EE_READ, EE_IGNORE };
#define EE_OP_READ 2

/* CFG bits 31:28 come from the PHY's pins, active low except LNKSTS (the
 * driver's default polarity, lnksts=0): up, 1000 Mb/s, full duplex. */
#define CFG_STATUS_MASK 0xf0000000u
#define LINK_UP_STATUS (DP83820_CFG_LNKSTS | DP83820_CFG_SPDSTS0)
#define LINK_DOWN_STATUS (DP83820_CFG_SPDSTS1 | DP83820_CFG_SPDSTS0 | DP83820_CFG_DUPSTS)
#define CFG_READ_ONLY (CFG_STATUS_MASK | 0x0e000000u | DP83820_CFG_PCI64_DET)

#define ISR_IMPLEMENTED 0x7fffffffu
#define MIB_FIRST 0x60
#define MIB_LAST 0x88
#define MIBC_ACLR 0x00000004u
#define SILICON_REVISION 0x00000103u
#define ETH_HLEN 14
#define ETH_ZLEN 60                  /* shortest frame without FCS */
#define ETH_MAX_LEN 1514             /* longest frame without FCS or tag */
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_8021Q 0x8100
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

struct desc {
	uint64_t link;
	uint64_t bufptr;
	uint32_t cmdsts;
	uint32_t extsts;
};

static void dp83820_update_irq(struct dp83820 *dev)
{
	bool pending = (dev->ier & DP83820_IER_IE) && (dev->isr & dev->imr);
	bool level = pending && dev->now_ns >= dev->holdoff_until;

	if (level == dev->irq_level)
		return;
	dev->irq_level = level;
	if (level)
		dev->stats.interrupts++;
	pci_set_intx(&dev->pci, level);
}

static bool link_up(const struct dp83820 *dev)
{
	return dev->link_status & DP83820_CFG_LNKSTS;
}

/* ------------------------------------------------------------------------ */
/* Descriptors */

static bool desc64(const struct dp83820 *dev)
{
	return dev->config & DP83820_CFG_M64ADDR;
}

static unsigned cmdsts_offset(const struct dp83820 *dev)
{
	return desc64(dev) ? 16 : 8;
}

static bool read_desc(struct dp83820 *dev, uint64_t addr, struct desc *d)
{
	uint8_t raw[DP83820_DESC64_SIZE];

	if (desc64(dev)) {
		if (!dm_guest_read(&dev->cfg.mem, addr, raw, DP83820_DESC64_SIZE))
			return false;
		d->link = dm_get_le64(raw);
		d->bufptr = dm_get_le64(raw + 8);
		d->cmdsts = dm_get_le32(raw + 16);
		d->extsts = dm_get_le32(raw + 20);
	} else {
		if (!dm_guest_read(&dev->cfg.mem, addr, raw, DP83820_DESC32_SIZE))
			return false;
		d->link = dm_get_le32(raw);
		d->bufptr = dm_get_le32(raw + 4);
		d->cmdsts = dm_get_le32(raw + 8);
		d->extsts = dm_get_le32(raw + 12);
	}
	return true;
}

/* cmdsts, and extsts after it when with_extsts. */
static bool write_status(struct dp83820 *dev, uint64_t addr, uint32_t cmdsts, bool with_extsts,
			 uint32_t extsts)
{
	uint8_t raw[8];

	dm_put_le32(raw, cmdsts);
	dm_put_le32(raw + 4, extsts);
	return dm_guest_write(&dev->cfg.mem, addr + cmdsts_offset(dev), raw, with_extsts ? 8 : 4);
}

/* Where a link field leads: 32-bit links replace the low half only. */
static uint64_t follow(const struct dp83820 *dev, uint64_t from, uint64_t link)
{
	if (desc64(dev))
		return link & ~(uint64_t)3;
	return (from & 0xffffffff00000000ull) | (link & 0xfffffffcu);
}

static bool chain_has(const struct dp83820_chain *c, uint64_t addr)
{
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (c->addr[i] == addr)
			return true;
	return false;
}

static void chain_add(struct dp83820_chain *c, uint64_t addr, const struct desc *d)
{
	c->addr[c->n] = addr;
	c->link[c->n] = d->link;
	c->bufptr[c->n] = d->bufptr;
	c->cmdsts[c->n] = d->cmdsts;
	c->n++;
}

/* A DMA found no memory: what a PCI master sees is a master abort. */
static void bus_error(struct dp83820 *dev)
{
	dev->isr |= DP83820_ISR_RMABT;
	pci_signal_master_abort(&dev->pci);
	dev->stats.bus_errors++;
}

/* ------------------------------------------------------------------------ */
/* Checksums (RFC 1071), over big-endian 16-bit words */

static uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

struct ipv4 {
	uint32_t l3;    /* offset of the IP header */
	uint32_t hlen;  /* its length */
	uint32_t total; /* IP total length, inside the frame */
	uint8_t proto;
	bool fragment;
};

/* An IPv4 packet (optionally behind one 802.1Q tag) that fits the frame. */
static bool parse_ipv4(const uint8_t *f, uint32_t len, struct ipv4 *ip)
{
	uint32_t l3 = ETH_HLEN, type;

	if (len < ETH_HLEN)
		return false;
	type = (uint32_t)f[12] << 8 | f[13];
	if (type == ETH_P_8021Q) {
		if (len < ETH_HLEN + 4)
			return false;
		type = (uint32_t)f[16] << 8 | f[17];
		l3 += 4;
	}
	if (type != ETH_P_IP || len < l3 + 20 || f[l3] >> 4 != 4)
		return false;
	ip->l3 = l3;
	ip->hlen = (f[l3] & 0x0fu) * 4;
	ip->total = (uint32_t)f[l3 + 2] << 8 | f[l3 + 3];
	if (ip->hlen < 20 || ip->total < ip->hlen || ip->total > len - l3)
		return false;
	ip->proto = f[l3 + 9];
	ip->fragment = ((f[l3 + 6] & 0x3fu) << 8 | f[l3 + 7]) != 0; /* MF or an offset */
	return true;
}

/* Offset of the TCP/UDP checksum field, 0 if the segment is too short. */
static uint32_t l4_csum_offset(const struct ipv4 *ip)
{
	uint32_t l4len = ip->total - ip->hlen;

	if (ip->proto == IPPROTO_TCP && l4len >= 20)
		return ip->l3 + ip->hlen + 16;
	if (ip->proto == IPPROTO_UDP && l4len >= 8)
		return ip->l3 + ip->hlen + 6;
	return 0;
}

/* Sum of the pseudo header and the TCP/UDP segment. */
static uint32_t l4_sum(const uint8_t *f, const struct ipv4 *ip)
{
	uint32_t l4len = ip->total - ip->hlen;
	uint32_t sum = csum_add(0, f + ip->l3 + 12, 8); /* source, destination */

	sum += ip->proto + l4len;
	return csum_add(sum, f + ip->l3 + ip->hlen, l4len);
}

/*
 * What VTCR.PPCHK does for a frame whose first descriptor asks (extsts
 * IPPKT/TCPPKT/UDPPKT): the IP header checksum and the TCP or UDP
 * checksum, computed whole (whatever the field held; Linux leaves the
 * pseudo-header sum there).  A frame that is not what the flags say is
 * sent as it is.
 */
static void tx_checksum(struct dp83820 *dev, uint8_t *f, uint32_t len, uint32_t extsts)
{
	struct ipv4 ip;
	uint32_t at;
	uint16_t sum;
	bool done = false;

	if (!parse_ipv4(f, len, &ip))
		return;
	if ((extsts & (DP83820_EXTSTS_TCPPKT | DP83820_EXTSTS_UDPPKT)) && !ip.fragment &&
	    (at = l4_csum_offset(&ip)) != 0 &&
	    ((extsts & DP83820_EXTSTS_TCPPKT) ? ip.proto == IPPROTO_TCP : ip.proto == IPPROTO_UDP)) {
		f[at] = f[at + 1] = 0;
		sum = (uint16_t)~csum_fold(l4_sum(f, &ip));
		if (ip.proto == IPPROTO_UDP && sum == 0)
			sum = 0xffff; /* 0 means "no checksum" in UDP */
		f[at] = (uint8_t)(sum >> 8);
		f[at + 1] = (uint8_t)sum;
		done = true;
	}
	if (extsts & DP83820_EXTSTS_IPPKT) {
		f[ip.l3 + 10] = f[ip.l3 + 11] = 0;
		sum = (uint16_t)~csum_fold(csum_add(0, f + ip.l3, ip.hlen));
		f[ip.l3 + 10] = (uint8_t)(sum >> 8);
		f[ip.l3 + 11] = (uint8_t)sum;
		done = true;
	}
	if (done)
		dev->stats.tx_csum_offloads++;
}

/*
 * Receive extended status: the VLAN tag (VRCR.VTDEN) and, with VRCR.IPEN,
 * checksum results.  Deliberately conservative: IPPKT/TCPPKT/UDPPKT are
 * set only for an unfragmented IPv4 TCP or UDP packet whose checksums were
 * verified here (with an ERR bit if one was wrong), because ns83820.c
 * takes IPPKT alone as "checksum unnecessary" for the whole packet.
 */
static uint32_t rx_extsts(struct dp83820 *dev, const uint8_t *f, uint32_t len, bool tagged)
{
	uint32_t extsts = 0, at;
	struct ipv4 ip;
	bool ip_ok, l4_ok;

	if (!(dev->config & DP83820_CFG_EXTSTS_EN))
		return 0;
	if (tagged && (dev->vrcr & DP83820_VRCR_VTDEN))
		extsts |= DP83820_EXTSTS_VPKT | f[14] | (uint32_t)f[15] << 8; /* TCI as on the wire */
	if (!(dev->vrcr & DP83820_VRCR_IPEN) || !parse_ipv4(f, len, &ip) || ip.fragment ||
	    (at = l4_csum_offset(&ip)) == 0)
		return extsts;
	ip_ok = csum_fold(csum_add(0, f + ip.l3, ip.hlen)) == 0xffff;
	if (ip.proto == IPPROTO_UDP && f[at] == 0 && f[at + 1] == 0)
		l4_ok = true; /* sender computed none */
	else
		l4_ok = csum_fold(l4_sum(f, &ip)) == 0xffff;
	extsts |= DP83820_EXTSTS_IPPKT;
	if (!ip_ok)
		extsts |= DP83820_EXTSTS_IPERR;
	if (ip.proto == IPPROTO_TCP)
		extsts |= DP83820_EXTSTS_TCPPKT | (l4_ok ? 0 : DP83820_EXTSTS_TCPERR);
	else
		extsts |= DP83820_EXTSTS_UDPPKT | (l4_ok ? 0 : DP83820_EXTSTS_UDPERR);
	if (ip_ok && l4_ok)
		dev->stats.rx_csum_verified++;
	return extsts;
}

/* IEEE 802.3 CRC-32, for RXCFG without STRIPCRC. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, uint32_t len)
{
	uint32_t i;
	unsigned b;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return crc;
}

/* ------------------------------------------------------------------------ */
/* Transmit */

static void batch_send(struct dp83820 *dev)
{
	if (!dev->batch_n)
		return;
	if (dev->cfg.backend.send) {
		dev->cfg.backend.send(dev->cfg.backend.opaque, dev->batch_frame, dev->batch_n);
		dev->stats.tx_notifications++;
	}
	dev->batch_n = 0;
	dev->batch_used = 0;
}

/*
 * Bytes [off, off + len) of the frame from guest memory into buf; with a
 * tag to insert, bytes from offset 12 on land 4 bytes further.
 */
static bool tx_gather(struct dp83820 *dev, uint8_t *buf, uint32_t off, uint64_t gpa, uint32_t len,
		      bool tag)
{
	if (tag && off < 12) {
		uint32_t head = len < 12 - off ? len : 12 - off;

		if (!dm_guest_read(&dev->cfg.mem, gpa, buf + off, head))
			return false;
		off += head;
		gpa += head;
		len -= head;
	}
	if (!len)
		return true;
	return dm_guest_read(&dev->cfg.mem, gpa, buf + off + (tag ? 4 : 0), len);
}

enum tx_step {
	TX_NEXT,   /* a frame done, TXDP on the next descriptor */
	TX_IDLE,   /* nothing (more) owned: idle with TXIDLE */
	TX_STOP,   /* error: the engine stopped */
};

static enum tx_step tx_stop(struct dp83820 *dev, bool bus_fault)
{
	dev->tx_enabled = false;
	if (bus_fault) {
		bus_error(dev);
	} else {
		dev->isr |= DP83820_ISR_TXERR;
		dev->stats.tx_errors++;
	}
	return TX_STOP;
}

/* One frame from TXDP; *descs counts the descriptors looked at. */
static enum tx_step tx_frame(struct dp83820 *dev, unsigned *descs)
{
	struct dp83820_chain *c = &dev->chain;
	uint64_t addr = dev->txdp;
	uint32_t total = 0, wire, extsts = 0, len;
	bool tag = false, intr = false;
	struct desc d;
	uint8_t *buf;
	unsigned i;

	if (dev->batch_n == DP83820_BATCH_FRAMES ||
	    DP83820_BATCH_BYTES - dev->batch_used < DP83820_MAX_FRAME + 4)
		batch_send(dev);
	buf = dev->batch + dev->batch_used;
	c->n = 0;
	for (;;) {
		(*descs)++;
		if (!read_desc(dev, addr, &d))
			return tx_stop(dev, true);
		if (!(d.cmdsts & DP83820_CMDSTS_OWN))
			return TX_IDLE; /* TXDP stays on the frame's first descriptor */
		len = d.cmdsts & DP83820_CMDSTS_LEN_MASK;
		if (chain_has(c, addr) || c->n == DP83820_MAX_FRAGS || len == 0 ||
		    len > DP83820_MAX_FRAME - total)
			return tx_stop(dev, false);
		if (c->n == 0) {
			extsts = (dev->config & DP83820_CFG_EXTSTS_EN) ? d.extsts : 0;
			tag = (dev->vtcr & DP83820_VTCR_VPPTI) && (extsts & DP83820_EXTSTS_VPKT);
		}
		chain_add(c, addr, &d);
		if (!tx_gather(dev, buf, total, d.bufptr, len, tag))
			return tx_stop(dev, true);
		total += len;
		if (!(d.cmdsts & DP83820_CMDSTS_MORE))
			break;
		if (!d.link)
			return tx_stop(dev, false); /* MORE, but the chain ends */
		addr = follow(dev, addr, d.link);
	}

	wire = total;
	if (tag) {
		if (total < 12)
			dm_zero_bytes(buf + total, 12 - total);
		buf[12] = (uint8_t)(ETH_P_8021Q >> 8);
		buf[13] = (uint8_t)ETH_P_8021Q;
		buf[14] = (uint8_t)extsts; /* the driver stores the TCI byte-swapped */
		buf[15] = (uint8_t)(extsts >> 8);
		wire = (total < 12 ? 12 : total) + 4;
	}
	if ((dev->txcfg & DP83820_TXCFG_ATP) && wire < ETH_ZLEN) {
		dm_zero_bytes(buf + wire, ETH_ZLEN - wire);
		wire = ETH_ZLEN;
	}
	if ((dev->vtcr & DP83820_VTCR_PPCHK) &&
	    (extsts & (DP83820_EXTSTS_IPPKT | DP83820_EXTSTS_TCPPKT | DP83820_EXTSTS_UDPPKT)))
		tx_checksum(dev, buf, wire, extsts);

	for (i = 0; i < c->n; i++) {
		uint32_t st = c->cmdsts[i] & ~(DP83820_CMDSTS_OWN | DP83820_CMDSTS_OK |
					       DP83820_CMDSTS_ERR);

		if (i + 1 == c->n)
			st |= DP83820_CMDSTS_OK;
		if (!write_status(dev, c->addr[i], st, false, 0))
			return tx_stop(dev, true);
		if (c->cmdsts[i] & DP83820_CMDSTS_INTR)
			intr = true;
	}
	if (link_up(dev)) {
		dev->batch_frame[dev->batch_n].data = buf;
		dev->batch_frame[dev->batch_n].len = wire;
		dev->batch_n++;
		dev->batch_used += wire;
		dev->stats.tx_packets++;
		dev->stats.tx_bytes += wire;
	}
	dev->isr |= DP83820_ISR_TXOK | (intr ? DP83820_ISR_TXDESC : 0);

	i = c->n - 1;
	if (!c->link[i]) {
		dev->txdp = c->addr[i];
		dev->tx_at_end = true; /* the next TXE re-reads this link */
		return TX_IDLE;
	}
	dev->txdp = follow(dev, c->addr[i], c->link[i]);
	return TX_NEXT;
}

/* Stopped on a null link: has the driver linked more since? */
static bool tx_refresh(struct dp83820 *dev)
{
	struct desc d;

	if (!read_desc(dev, dev->txdp, &d)) {
		tx_stop(dev, true);
		return false;
	}
	if (!d.link) {
		dev->isr |= DP83820_ISR_TXIDLE;
		return false;
	}
	dev->txdp = follow(dev, dev->txdp, d.link);
	dev->tx_at_end = false;
	return true;
}

void dp83820_flush(struct dp83820 *dev)
{
	unsigned descs = 0;

	if (!dev->tx_pending)
		return;
	dev->tx_pending = false;
	dev->tx_kicks_pending = 0;
	dev->tx_flush_at = DM_NO_DEADLINE;
	/* Without bus mastering the chip cannot fetch: the kick is lost. */
	if (!dev->tx_enabled || !pci_bus_master_enabled(&dev->pci))
		return;
	dev->stats.flushes++;
	if (!dev->tx_at_end || tx_refresh(dev)) {
		for (;;) {
			enum tx_step step;

			if (descs >= DP83820_TX_MAX_DESCS) {
				/* Enough for one flush: the rest waits for the next. */
				dev->tx_pending = true;
				dev->tx_flush_at = dev->now_ns;
				break;
			}
			step = tx_frame(dev, &descs);
			if (step == TX_NEXT)
				continue;
			if (step == TX_IDLE)
				dev->isr |= DP83820_ISR_TXIDLE;
			break;
		}
	}
	batch_send(dev);
	dp83820_update_irq(dev);
}

static void tx_kick(struct dp83820 *dev)
{
	unsigned limit = dev->cfg.tx_kick_limit ? dev->cfg.tx_kick_limit : DP83820_TX_KICK_LIMIT;
	uint64_t delay = dev->cfg.tx_flush_delay_ns ? dev->cfg.tx_flush_delay_ns
						    : DP83820_TX_FLUSH_DELAY_NS;

	dev->stats.tx_kicks++;
	if (!dev->tx_pending) {
		dev->tx_pending = true;
		dev->tx_flush_at = dev->now_ns + delay;
	}
	if (++dev->tx_kicks_pending >= limit)
		dp83820_flush(dev);
}

/* ------------------------------------------------------------------------ */
/* Receive */

static bool rx_ready(const struct dp83820 *dev)
{
	return dev->rx_enabled && !dev->rx_idle && link_up(dev) &&
	       pci_bus_master_enabled(&dev->pci);
}

static void rx_go_idle(struct dp83820 *dev)
{
	dev->rx_idle = true;
	dev->isr |= DP83820_ISR_RXIDLE;
}

static enum dp83820_rx_result rx_stop(struct dp83820 *dev, bool bus_fault)
{
	dev->rx_enabled = false;
	dev->rx_idle = true;
	if (bus_fault) {
		bus_error(dev);
	} else {
		dev->isr |= DP83820_ISR_RXERR;
		dev->stats.rx_errors++;
	}
	return DP83820_RX_ERROR;
}

/* The receive engine looks at its current descriptor: is there a buffer? */
static void rx_fetch(struct dp83820 *dev)
{
	struct desc d;

	if (!dev->rx_enabled || !pci_bus_master_enabled(&dev->pci))
		return;
	if (dev->rx_at_end) {
		if (!read_desc(dev, dev->rxdp, &d)) {
			rx_stop(dev, true);
			return;
		}
		if (!d.link) {
			rx_go_idle(dev);
			return;
		}
		dev->rxdp = follow(dev, dev->rxdp, d.link);
		dev->rx_at_end = false;
	}
	if (!read_desc(dev, dev->rxdp, &d)) {
		rx_stop(dev, true);
		return;
	}
	if (d.cmdsts & DP83820_CMDSTS_OWN) {
		rx_go_idle(dev);
		return;
	}
	dev->rx_idle = false;
}

static enum dp83820_rx_result rx_no_buffer(struct dp83820 *dev)
{
	/* The chip's FIFO would overflow here; this model has none. */
	dev->isr |= DP83820_ISR_RXORN;
	dev->stats.rx_no_buffer++;
	dev->mib_rx_missed++;
	return DP83820_RX_NO_BUFFER;
}

/* Destination class, and whether the receive filter takes the frame. */
static bool rx_accept(const struct dp83820 *dev, const uint8_t *f, uint32_t *dest)
{
	uint32_t rfcr = dev->rfcr;
	bool perfect = true, broadcast = true;
	unsigned i;

	for (i = 0; i < 6; i++) {
		if (f[i] != 0xff)
			broadcast = false;
		if (f[i] != dev->pmatch[i])
			perfect = false;
	}
	*dest = 0;
	if (!(rfcr & DP83820_RFCR_RFEN))
		return false;
	if (broadcast) {
		*dest = DP83820_CMDSTS_DEST_MASK;
		return rfcr & DP83820_RFCR_AAB;
	}
	if (f[0] & 1) {
		*dest = DP83820_CMDSTS_DEST_MULTI;
		return rfcr & DP83820_RFCR_AAM; /* the hash filter is not modelled */
	}
	if (perfect)
		*dest = DP83820_CMDSTS_DEST_SELF;
	if ((rfcr & DP83820_RFCR_AAU) || ((rfcr & DP83820_RFCR_APM) && perfect))
		return true;
	return (rfcr & DP83820_RFCR_AARP) && f[12] == (ETH_P_ARP >> 8) &&
	       f[13] == (uint8_t)ETH_P_ARP;
}

/* The bytes the chip stores: the frame, less a stripped tag, plus FCS. */
struct rx_out {
	const uint8_t *seg[3];
	uint32_t seg_len[3];
	uint8_t fcs[4];
	uint32_t len;
};

static void rx_out_init(struct rx_out *o, const uint8_t *f, uint32_t len, bool strip, bool fcs)
{
	uint32_t crc;

	o->seg[0] = f;
	o->seg_len[0] = strip ? 12 : len;
	o->seg[1] = f + 16;
	o->seg_len[1] = strip ? len - 16 : 0;
	o->seg[2] = o->fcs;
	o->seg_len[2] = fcs ? 4 : 0;
	if (fcs) {
		crc = crc32_update(0xffffffffu, o->seg[0], o->seg_len[0]);
		crc = ~crc32_update(crc, o->seg[1], o->seg_len[1]);
		dm_put_le32(o->fcs, crc);
	}
	o->len = o->seg_len[0] + o->seg_len[1] + o->seg_len[2];
}

/* Output bytes [off, off + n) to guest memory at gpa. */
static bool rx_out_write(struct dp83820 *dev, const struct rx_out *o, uint32_t off, uint64_t gpa,
			 uint32_t n)
{
	unsigned s;

	for (s = 0; s < 3 && n; s++) {
		uint32_t part;

		if (off >= o->seg_len[s]) {
			off -= o->seg_len[s];
			continue;
		}
		part = o->seg_len[s] - off;
		if (part > n)
			part = n;
		if (!dm_guest_write(&dev->cfg.mem, gpa, o->seg[s] + off, part))
			return false;
		gpa += part;
		n -= part;
		off = 0;
	}
	return true;
}

static enum dp83820_rx_result rx_frame(struct dp83820 *dev, const uint8_t *f, uint32_t len)
{
	struct dp83820_chain *c = &dev->chain;
	uint32_t dest, room = 0, off, extsts, status, size;
	bool tagged, runt, intr = false;
	struct rx_out out;
	uint64_t addr;
	struct desc d;
	unsigned i;

	if (!dev->rx_enabled || !link_up(dev) || len < ETH_HLEN || len > DP83820_MAX_FRAME) {
		dev->stats.rx_dropped++;
		return DP83820_RX_DROPPED;
	}
	if (!rx_accept(dev, f, &dest)) {
		dev->stats.rx_filtered++;
		return DP83820_RX_FILTERED;
	}
	tagged = len >= ETH_HLEN + 4 && f[12] == (ETH_P_8021Q >> 8) && f[13] == (uint8_t)ETH_P_8021Q;
	if (!(dev->rxcfg & DP83820_RXCFG_ALP) && len > ETH_MAX_LEN + (tagged ? 4u : 0u)) {
		dev->mib_rx_long++;
		dev->stats.rx_dropped++;
		return DP83820_RX_DROPPED;
	}
	runt = len < ETH_ZLEN;
	if (runt && !(dev->rxcfg & DP83820_RXCFG_ARP)) {
		dev->stats.rx_dropped++;
		return DP83820_RX_DROPPED;
	}
	if (!rx_ready(dev))
		return rx_no_buffer(dev);
	rx_out_init(&out, f, len, tagged && (dev->vrcr & DP83820_VRCR_VTREN),
		    !(dev->rxcfg & DP83820_RXCFG_STRIPCRC));

	/* Enough free buffers for the whole frame, before writing anything. */
	c->n = 0;
	addr = dev->rxdp;
	for (;;) {
		if (!read_desc(dev, addr, &d))
			return rx_stop(dev, true);
		if (d.cmdsts & DP83820_CMDSTS_OWN) {
			rx_go_idle(dev); /* RXDP stays on the frame's first descriptor */
			return rx_no_buffer(dev);
		}
		size = d.cmdsts & DP83820_CMDSTS_LEN_MASK;
		if (size == 0 || chain_has(c, addr) || c->n == DP83820_MAX_FRAGS)
			return rx_stop(dev, false);
		chain_add(c, addr, &d);
		room += size;
		if (room >= out.len)
			break;
		if (!d.link) {
			rx_go_idle(dev);
			return rx_no_buffer(dev);
		}
		addr = follow(dev, addr, d.link);
	}

	for (i = 0, off = 0; i < c->n; i++) {
		size = c->cmdsts[i] & DP83820_CMDSTS_LEN_MASK;
		if (size > out.len - off)
			size = out.len - off;
		if (!rx_out_write(dev, &out, off, c->bufptr[i], size))
			return rx_stop(dev, true);
		off += size;
	}
	extsts = rx_extsts(dev, f, len, tagged);
	status = DP83820_CMDSTS_OWN | dest | (runt ? DP83820_CMDSTS_RUNT : DP83820_CMDSTS_OK);
	for (i = 0, off = 0; i < c->n; i++) {
		bool last = i + 1 == c->n;

		size = c->cmdsts[i] & DP83820_CMDSTS_LEN_MASK;
		if (size > out.len - off)
			size = out.len - off;
		off += size;
		if (!write_status(dev, c->addr[i],
				  status | size | (c->cmdsts[i] & DP83820_CMDSTS_INTR) |
					  (last ? 0 : DP83820_CMDSTS_MORE),
				  true, last ? extsts : 0))
			return rx_stop(dev, true);
		if (c->cmdsts[i] & DP83820_CMDSTS_INTR)
			intr = true;
	}
	dev->isr |= DP83820_ISR_RXOK | (intr ? DP83820_ISR_RXDESC : 0);
	dev->stats.rx_packets++;
	dev->stats.rx_bytes += out.len;

	/* On to the next descriptor, and a look at it as the chip does. */
	i = c->n - 1;
	if (!c->link[i]) {
		dev->rxdp = c->addr[i];
		dev->rx_at_end = true;
		rx_go_idle(dev);
	} else {
		dev->rxdp = follow(dev, c->addr[i], c->link[i]);
		rx_fetch(dev);
	}
	return DP83820_RX_DELIVERED;
}

enum dp83820_rx_result dp83820_receive(struct dp83820 *dev, const uint8_t *frame, uint32_t len)
{
	enum dp83820_rx_result r = rx_frame(dev, frame, len);

	dp83820_update_irq(dev);
	return r;
}

unsigned dp83820_receive_batch(struct dp83820 *dev, const struct dp83820_frame *frames,
			       unsigned n, enum dp83820_rx_result *last)
{
	enum dp83820_rx_result r = DP83820_RX_DELIVERED;
	unsigned i;

	for (i = 0; i < n; i++) {
		r = rx_frame(dev, frames[i].data, frames[i].len);
		if (r == DP83820_RX_NO_BUFFER || r == DP83820_RX_ERROR)
			break;
	}
	if (last)
		*last = r;
	dp83820_update_irq(dev);
	return i;
}

static void notify_rx_ready(struct dp83820 *dev, bool was_ready)
{
	if (!was_ready && rx_ready(dev) && dev->cfg.backend.rx_ready)
		dev->cfg.backend.rx_ready(dev->cfg.backend.opaque);
}

/* ------------------------------------------------------------------------ */
/* EEPROM (93C46 on MEAR) */

static void eeprom_load(struct dp83820 *dev)
{
	const uint16_t *w = &dev->eeprom.word[DP83820_EEPROM_MAC_WORD];
	unsigned i;

	/* Words 0xa, 0xb, 0xc hold bytes 4-5, 2-3, 0-1 of the address. */
	for (i = 0; i < 3; i++) {
		dev->pmatch[4 - 2 * i] = (uint8_t)w[i];
		dev->pmatch[5 - 2 * i] = (uint8_t)(w[i] >> 8);
	}
}

/* A rising edge of EECLK with EESEL high; DI as the driver set it. */
static void eeprom_clock(struct dp83820_eeprom *ee, bool di)
{
	switch (ee->state) {
	case EE_IDLE:
		if (di) { /* start bit */
			ee->state = EE_OPCODE;
			ee->bits = 2;
			ee->opcode = 0;
		}
		break;
	case EE_OPCODE:
		ee->opcode = (uint8_t)(ee->opcode << 1 | di);
		if (--ee->bits == 0) {
			ee->state = EE_ADDRESS;
			ee->bits = 6;
			ee->addr = 0;
		}
		break;
	case EE_ADDRESS:
		ee->addr = (uint8_t)((ee->addr << 1 | di) & (DP83820_EEPROM_WORDS - 1));
		if (--ee->bits == 0) {
			if (ee->opcode == EE_OP_READ) {
				ee->state = EE_READ;
				ee->bits = 16;
				ee->data = ee->word[ee->addr];
				ee->dout = false; /* the dummy zero before the data */
			} else {
				ee->state = EE_IGNORE; /* erase/write/enable: not modelled */
			}
		}
		break;
	case EE_READ:
		ee->dout = ee->data & 0x8000;
		ee->data = (uint16_t)(ee->data << 1);
		if (--ee->bits == 0) { /* sequential read: the next word follows */
			ee->addr = (uint8_t)((ee->addr + 1) & (DP83820_EEPROM_WORDS - 1));
			ee->data = ee->word[ee->addr];
			ee->bits = 16;
		}
		break;
	default:
		break;
	}
}

static void write_mear(struct dp83820 *dev, uint32_t v)
{
	struct dp83820_eeprom *ee = &dev->eeprom;
	bool clk = v & DP83820_MEAR_EECLK;

	dev->mear = v & (DP83820_MEAR_EEDI | DP83820_MEAR_EECLK | DP83820_MEAR_EESEL |
			 DP83820_MEAR_MDIO | DP83820_MEAR_MDDIR | DP83820_MEAR_MDC);
	if (!(v & DP83820_MEAR_EESEL)) {
		ee->state = EE_IDLE;
		ee->dout = false;
	} else if (clk && !ee->clk) {
		eeprom_clock(ee, v & DP83820_MEAR_EEDI);
	}
	ee->clk = clk;
}

static uint32_t read_mear(const struct dp83820 *dev)
{
	uint32_t v = dev->mear & ~(DP83820_MEAR_EEDO | DP83820_MEAR_MDIO);

	if (dev->eeprom.dout)
		v |= DP83820_MEAR_EEDO;
	/* No management PHY answers: an undriven MDIO reads as pulled up. */
	if (!(dev->mear & DP83820_MEAR_MDDIR) || (dev->mear & DP83820_MEAR_MDIO))
		v |= DP83820_MEAR_MDIO;
	return v;
}

/* ------------------------------------------------------------------------ */
/* Registers */

static void tx_reset(struct dp83820 *dev)
{
	dev->tx_enabled = false;
	dev->tx_at_end = false;
	dev->tx_pending = false;
	dev->tx_kicks_pending = 0;
	dev->tx_flush_at = DM_NO_DEADLINE;
}

static void rx_reset(struct dp83820 *dev)
{
	dev->rx_enabled = false;
	dev->rx_at_end = false;
	dev->rx_idle = true;
}

/*
 * CR.RST: both engines, the interrupt registers, the descriptor pointers,
 * the receive filter and the MIB counters; the perfect-match address is
 * reloaded from the EEPROM.  The configuration registers (CFG, TXCFG,
 * RXCFG, VRCR, VTCR, PCR, WCSR, GPIOR, ...) keep their values: ns83820.c
 * programs them once at probe, and ns83820_open() after ns83820_stop()'s
 * reset relies on them (64-bit descriptors, extended status).
 */
void dp83820_reset(struct dp83820 *dev)
{
	tx_reset(dev);
	rx_reset(dev);
	dev->mear = 0;
	dev->eeprom.state = EE_IDLE;
	dev->eeprom.dout = false;
	dev->eeprom.clk = false;
	dev->ptscr = 0;
	dev->isr = dev->imr = dev->ier = dev->ihr = 0;
	dev->txdp = dev->rxdp = 0;
	dev->rfcr = dev->brar = dev->mibc = 0;
	dm_zero_bytes(dev->hash, sizeof(dev->hash));
	dev->mib_rx_missed = dev->mib_rx_long = 0;
	dev->holdoff_until = 0;
	dev->batch_n = 0;
	dev->batch_used = 0;
	eeprom_load(dev); /* the chip reloads its EEPROM after a reset */
	dp83820_update_irq(dev);
}

/* Power-on values of everything CR.RST leaves alone. */
static void power_on_config(struct dp83820 *dev)
{
	dev->config = 0;
	dev->txcfg = dev->rxcfg = dev->gpior = dev->pqcr = 0;
	dev->wcsr = dev->pcr = 0;
	dev->vrcr = dev->vtcr = dev->vdr = dev->ccsr = 0;
	dev->tbicr = dev->tbisr = dev->tanar = dev->tanlpar = dev->taner = dev->tesr = 0;
}

void dp83820_init(struct dp83820 *dev, const struct dp83820_config *cfg)
{
	struct pci_function_config pci = {
		.vendor_id = DP83820_VENDOR_ID,
		.device_id = DP83820_DEVICE_ID,
		.subsystem_vendor_id = DP83820_VENDOR_ID,
		.subsystem_id = DP83820_DEVICE_ID,
		.class_code = 0x020000, /* network, Ethernet */
		.interrupt_pin = 1,     /* INTA# */
		.irq = cfg->irq,
		.irq_line = cfg->irq_line,
	};
	unsigned i;

	dev->cfg.bus = cfg->bus;
	dev->cfg.devfn = cfg->devfn;
	dev->cfg.irq = cfg->irq;
	dev->cfg.irq_line = cfg->irq_line;
	for (i = 0; i < 6; i++)
		dev->cfg.mac[i] = cfg->mac[i];
	dev->cfg.mem = cfg->mem;
	dev->cfg.backend = cfg->backend;
	dev->cfg.tx_kick_limit = cfg->tx_kick_limit;
	dev->cfg.tx_flush_delay_ns = cfg->tx_flush_delay_ns;

	pci_function_init(&dev->pci, &pci);
	pci_function_set_bar(&dev->pci, DP83820_IO_BAR, PCI_BAR_IO, DP83820_IO_SIZE,
			     dp83820_bar_io, dev);
	pci_function_set_bar(&dev->pci, DP83820_MMIO_BAR, PCI_BAR_MEM32, DP83820_MMIO_SIZE,
			     dp83820_bar_io, dev);

	dm_zero_bytes(dev->eeprom.word, sizeof(dev->eeprom.word));
	for (i = 0; i < 3; i++)
		dev->eeprom.word[DP83820_EEPROM_MAC_WORD + i] =
			(uint16_t)(cfg->mac[4 - 2 * i] | cfg->mac[5 - 2 * i] << 8);
	dm_zero_bytes(&dev->stats, sizeof(dev->stats));
	dev->chain.n = 0;
	dev->link_status = LINK_UP_STATUS;
	dev->now_ns = 0;
	dev->irq_level = false;
	power_on_config(dev);
	dp83820_reset(dev);
}

static void write_cr(struct dp83820 *dev, uint32_t v)
{
	bool was_ready = rx_ready(dev);

	if (v & DP83820_CR_RST) {
		dp83820_reset(dev);
		return;
	}
	if (v & DP83820_CR_TXR) {
		tx_reset(dev);
		dev->isr |= DP83820_ISR_TXRCMP;
	}
	if (v & DP83820_CR_RXR) {
		rx_reset(dev);
		dev->isr |= DP83820_ISR_RXRCMP;
	}
	if (v & DP83820_CR_SWI)
		dev->isr |= DP83820_ISR_SWI;
	if (v & DP83820_CR_RXD) {
		dev->rx_enabled = false;
		dev->rx_idle = true;
	} else if (v & DP83820_CR_RXE) {
		dev->rx_enabled = true;
		rx_fetch(dev);
	}
	if (v & DP83820_CR_TXD) {
		tx_reset(dev);
	} else if (v & DP83820_CR_TXE) {
		dev->tx_enabled = true;
		tx_kick(dev);
	}
	notify_rx_ready(dev, was_ready);
}

static void write_ptscr(struct dp83820 *dev, uint32_t v)
{
	if (v & DP83820_PTSCR_RBIST_RST)
		dev->ptscr &= ~(DP83820_PTSCR_RBIST_DONE | DP83820_PTSCR_RBIST_FAIL);
	/* Every self test passes at once: the enable bit reads back clear. */
	if (v & DP83820_PTSCR_RBIST_EN)
		dev->ptscr |= DP83820_PTSCR_RBIST_DONE;
	if (v & DP83820_PTSCR_EEBIST_EN)
		dev->ptscr &= ~DP83820_PTSCR_EEBIST_FAIL;
	if (v & DP83820_PTSCR_EELOAD_EN)
		eeprom_load(dev);
}

static void write_ihr(struct dp83820 *dev, uint32_t v)
{
	dev->ihr = v & (DP83820_IHR_IH | DP83820_IHR_IHCTL);
	/* Writing starts the holdoff afresh; IH = 0 ends it. */
	dev->holdoff_until =
		(dev->ihr & DP83820_IHR_IH) ? dev->now_ns + (uint64_t)(dev->ihr & DP83820_IHR_IH) *
								  DP83820_IHR_UNIT_NS
					    : 0;
}

static uint32_t read_isr(struct dp83820 *dev)
{
	uint32_t v = dev->isr;

	dev->isr = 0;
	/* IHCTL: every acknowledgment restarts the holdoff (interrupt pacing). */
	if ((dev->ihr & DP83820_IHR_IHCTL) && (dev->ihr & DP83820_IHR_IH))
		dev->holdoff_until =
			dev->now_ns + (uint64_t)(dev->ihr & DP83820_IHR_IH) * DP83820_IHR_UNIT_NS;
	return v;
}

static uint32_t read_rfdr(const struct dp83820 *dev)
{
	unsigned a = dev->rfcr & DP83820_RFCR_RFADDR & ~1u;

	if (a < 6)
		return dev->pmatch[a] | (uint32_t)dev->pmatch[a + 1] << 8;
	if (a >= 0x100 && a < 0x100 + sizeof(dev->hash))
		return dev->hash[a - 0x100] | (uint32_t)dev->hash[a - 0x100 + 1] << 8;
	return 0;
}

static void write_rfdr(struct dp83820 *dev, uint32_t v)
{
	unsigned a = dev->rfcr & DP83820_RFCR_RFADDR & ~1u;

	if (a < 6) {
		dev->pmatch[a] = (uint8_t)v;
		dev->pmatch[a + 1] = (uint8_t)(v >> 8);
	} else if (a >= 0x100 && a < 0x100 + sizeof(dev->hash)) {
		dev->hash[a - 0x100] = (uint8_t)v;
		dev->hash[a - 0x100 + 1] = (uint8_t)(v >> 8);
	}
}

static void write_tbicr(struct dp83820 *dev, uint32_t v)
{
	dev->tbicr = v;
	if (v & DP83820_TBICR_MR_AN_ENABLE) {
		/* The link partner advertises what we do; negotiation completes at once. */
		dev->tanlpar = dev->tanar;
		dev->tbisr = DP83820_TBISR_MR_AN_COMPLETE |
			     (link_up(dev) ? DP83820_TBISR_MR_LINK_STATUS : 0);
	}
}

void dp83820_write(struct dp83820 *dev, unsigned reg, uint32_t v)
{
	dev->stats.reg_writes++;
	switch (reg) {
	case DP83820_CR:
		write_cr(dev, v);
		break;
	case DP83820_CFG:
		dev->config = v & ~CFG_READ_ONLY;
		break;
	case DP83820_MEAR:
		write_mear(dev, v);
		break;
	case DP83820_PTSCR:
		write_ptscr(dev, v);
		break;
	case DP83820_ISR:
		break; /* read-only */
	case DP83820_IMR:
		dev->imr = v & ISR_IMPLEMENTED;
		break;
	case DP83820_IER:
		dev->ier = v & DP83820_IER_IE;
		break;
	case DP83820_IHR:
		write_ihr(dev, v);
		break;
	case DP83820_TXDP:
		dev->txdp = (dev->txdp & 0xffffffff00000000ull) | (v & 0xfffffffcu);
		dev->tx_at_end = false;
		break;
	case DP83820_TXDP_HI:
		dev->txdp = (uint64_t)v << 32 | (uint32_t)dev->txdp;
		dev->tx_at_end = false;
		break;
	case DP83820_RXDP:
		dev->rxdp = (dev->rxdp & 0xffffffff00000000ull) | (v & 0xfffffffcu);
		dev->rx_at_end = false;
		break;
	case DP83820_RXDP_HI:
		dev->rxdp = (uint64_t)v << 32 | (uint32_t)dev->rxdp;
		dev->rx_at_end = false;
		break;
	case DP83820_TXCFG:
		dev->txcfg = v;
		break;
	case DP83820_GPIOR:
		dev->gpior = v & 0x3ff; /* output enables and outputs */
		break;
	case DP83820_RXCFG:
		dev->rxcfg = v;
		break;
	case DP83820_PQCR:
		dev->pqcr = v;
		break;
	case DP83820_WCSR:
		dev->wcsr = v;
		break;
	case DP83820_PCR:
		dev->pcr = v;
		break;
	case DP83820_RFCR:
		dev->rfcr = v;
		break;
	case DP83820_RFDR:
		write_rfdr(dev, v);
		break;
	case DP83820_BRAR:
		dev->brar = v;
		break;
	case DP83820_MIBC:
		if (v & MIBC_ACLR)
			dev->mib_rx_missed = dev->mib_rx_long = 0;
		dev->mibc = v & ~MIBC_ACLR;
		break;
	case DP83820_VRCR:
		dev->vrcr = v;
		break;
	case DP83820_VTCR:
		dev->vtcr = v;
		break;
	case DP83820_VDR:
		dev->vdr = v;
		break;
	case DP83820_CCSR:
		dev->ccsr = v;
		break;
	case DP83820_TBICR:
		write_tbicr(dev, v);
		break;
	case DP83820_TANAR:
		dev->tanar = v;
		break;
	case DP83820_SRR:
	case DP83820_TBISR:
	case DP83820_TANLPAR:
	case DP83820_TANER:
	case DP83820_TESR:
		break; /* read-only */
	default:
		dev->stats.unknown_regs++;
		break;
	}
	dp83820_update_irq(dev);
}

static uint32_t read_mib(struct dp83820 *dev, unsigned reg)
{
	uint32_t v = 0;

	/* The counters the model keeps clear when read (ns83820 accumulates them). */
	if (reg == DP83820_MIB_RX_MISSED) {
		v = dev->mib_rx_missed;
		dev->mib_rx_missed = 0;
	} else if (reg == DP83820_MIB_RX_LONG) {
		v = dev->mib_rx_long;
		dev->mib_rx_long = 0;
	}
	return v;
}

uint32_t dp83820_read(struct dp83820 *dev, unsigned reg)
{
	uint32_t v = 0;

	dev->stats.reg_reads++;
	switch (reg) {
	case DP83820_CR:
		v = (dev->tx_enabled ? DP83820_CR_TXE : 0) | (dev->rx_enabled ? DP83820_CR_RXE : 0);
		break;
	case DP83820_CFG:
		v = (dev->config & ~CFG_READ_ONLY) | dev->link_status;
		break;
	case DP83820_MEAR:
		v = read_mear(dev);
		break;
	case DP83820_PTSCR:
		v = dev->ptscr;
		break;
	case DP83820_ISR:
		v = read_isr(dev);
		break;
	case DP83820_IMR:
		v = dev->imr;
		break;
	case DP83820_IER:
		v = dev->ier;
		break;
	case DP83820_IHR:
		v = dev->ihr;
		break;
	case DP83820_TXDP:
		v = (uint32_t)dev->txdp;
		break;
	case DP83820_TXDP_HI:
		v = (uint32_t)(dev->txdp >> 32);
		break;
	case DP83820_TXCFG:
		v = dev->txcfg;
		break;
	case DP83820_GPIOR:
		v = dev->gpior;
		break;
	case DP83820_RXDP:
		v = (uint32_t)dev->rxdp;
		break;
	case DP83820_RXDP_HI:
		v = (uint32_t)(dev->rxdp >> 32);
		break;
	case DP83820_RXCFG:
		v = dev->rxcfg;
		break;
	case DP83820_PQCR:
		v = dev->pqcr;
		break;
	case DP83820_WCSR:
		v = dev->wcsr;
		break;
	case DP83820_PCR:
		v = dev->pcr;
		break;
	case DP83820_RFCR:
		v = dev->rfcr;
		break;
	case DP83820_RFDR:
		v = read_rfdr(dev);
		break;
	case DP83820_BRAR:
		v = dev->brar;
		break;
	case DP83820_BRDR:
		v = 0; /* no boot ROM */
		break;
	case DP83820_SRR:
		v = SILICON_REVISION;
		break;
	case DP83820_MIBC:
		v = dev->mibc;
		break;
	case DP83820_VRCR:
		v = dev->vrcr;
		break;
	case DP83820_VTCR:
		v = dev->vtcr;
		break;
	case DP83820_VDR:
		v = dev->vdr;
		break;
	case DP83820_CCSR:
		v = dev->ccsr;
		break;
	case DP83820_TBICR:
		v = dev->tbicr;
		break;
	case DP83820_TBISR:
		v = dev->tbisr;
		break;
	case DP83820_TANAR:
		v = dev->tanar;
		break;
	case DP83820_TANLPAR:
		v = dev->tanlpar;
		break;
	case DP83820_TANER:
		v = dev->taner;
		break;
	case DP83820_TESR:
		v = dev->tesr;
		break;
	default:
		if (reg >= MIB_FIRST && reg <= MIB_LAST)
			v = read_mib(dev, reg);
		else
			dev->stats.unknown_regs++;
		break;
	}
	dp83820_update_irq(dev);
	return v;
}

bool dp83820_bar_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len,
		    bool is_write, void *opaque)
{
	struct dp83820 *dev = opaque;
	uint8_t *bytes = data;

	(void)vcpu; /* models do not care which CPU asks */
	if (len != 4 || (addr & 3) || addr >= DP83820_MMIO_SIZE)
		return false;
	if (is_write)
		dp83820_write(dev, (unsigned)addr, dm_get_le32(bytes));
	else
		dm_put_le32(bytes, dp83820_read(dev, (unsigned)addr));
	return true;
}

void dp83820_set_link(struct dp83820 *dev, bool up)
{
	uint32_t old = dev->link_status, now = up ? LINK_UP_STATUS : LINK_DOWN_STATUS;
	uint32_t changed = old ^ now;
	bool was_ready = rx_ready(dev);

	dev->link_status = now;
	if (((changed & DP83820_CFG_LNKSTS) && (dev->config & DP83820_CFG_PINT_LNKSTS)) ||
	    ((changed & (DP83820_CFG_SPDSTS1 | DP83820_CFG_SPDSTS0)) &&
	     (dev->config & DP83820_CFG_PINT_SPDSTS)) ||
	    ((changed & DP83820_CFG_DUPSTS) && (dev->config & DP83820_CFG_PINT_DUPSTS)))
		dev->isr |= DP83820_ISR_PHY;
	if (up)
		dev->tbisr |= DP83820_TBISR_MR_LINK_STATUS;
	else
		dev->tbisr &= ~DP83820_TBISR_MR_LINK_STATUS;
	dp83820_update_irq(dev);
	notify_rx_ready(dev, was_ready);
}

uint64_t dp83820_next_deadline(const struct dp83820 *dev, uint64_t now_ns)
{
	uint64_t t = DM_NO_DEADLINE;

	(void)now_ns; /* deadlines follow from the state at the last advance */
	if ((dev->ier & DP83820_IER_IE) && (dev->isr & dev->imr) && !dev->irq_level)
		t = dev->holdoff_until;
	if (dev->tx_pending && dev->tx_flush_at < t)
		t = dev->tx_flush_at;
	return t;
}

void dp83820_advance(struct dp83820 *dev, uint64_t now_ns)
{
	if (now_ns < dev->now_ns)
		return; /* time never runs backwards */
	dev->now_ns = now_ns;
	if (dev->tx_pending && now_ns >= dev->tx_flush_at)
		dp83820_flush(dev);
	dp83820_update_irq(dev);
}

static int dp83820_dev_init(void *opaque, struct dm_iobus *iobus)
{
	struct dp83820 *dev = opaque;

	(void)iobus; /* registers are reached through the PCI BARs */
	if (!dev->cfg.bus)
		return DM_EINVAL;
	return pci_bus_attach(dev->cfg.bus, &dev->pci, dev->cfg.devfn);
}

static uint64_t dp83820_dev_deadline(void *dev, uint64_t now_ns)
{
	return dp83820_next_deadline(dev, now_ns);
}

static void dp83820_dev_advance(void *dev, uint64_t now_ns)
{
	dp83820_advance(dev, now_ns);
}

const struct dm_device_ops dp83820_ops = {
	.name = "dp83820",
	.level = DM_INIT_DEV,
	.init = dp83820_dev_init,
	.next_deadline = dp83820_dev_deadline,
	.advance = dp83820_dev_advance,
};
