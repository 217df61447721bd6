/*
 * National Semiconductor DP83820 10/100/1000 Ethernet controller, as
 * Linux 6.1's ns83820 driver drives it (that driver is the specification).
 *
 * PCI function 0x100b:0x0022, class 0x020000, INTA#.  The registers sit
 * in BAR 0 (256 bytes of I/O space) and BAR 1 (4 KiB of memory; the one
 * the driver ioremaps); both reach dp83820_read()/dp83820_write() with
 * 32-bit accesses.
 *
 * The model has a front end and a back end:
 *
 *  - front end (this model): registers, the EEPROM and its auto-load,
 *    descriptor lists in guest memory (through struct dm_guest_mem only),
 *    checksum offload, VLAN tags, the receive filter, the interrupt line
 *    with holdoff, and batching;
 *  - back end (struct dp83820_backend): gets a batch of finished frames
 *    in one call and offers received frames with dp83820_receive().
 *
 * Batching, after the pre-virtualization thesis (section 4.4.5 and 5.2.3):
 * a write of CR.TXE only marks transmit work pending.  The descriptor walk
 * and the back-end call happen in dp83820_flush(), which the VAM calls
 * when the guest returns from an interrupt or to user mode (the points
 * where the kernel has finished its packet processing), and which the
 * model runs itself once tx_kick_limit kicks are pending or
 * tx_flush_delay_ns after the first unflushed kick (through the usual
 * next_deadline/advance pair).  One flush hands all finished frames to
 * the back end in one call (more only if they exceed the batch buffer).
 * Interrupt holdoff (IHR) delays the line by IH x 100 us, also through
 * next_deadline/advance.
 */
#ifndef DEVMODELS_DP83820_H
#define DEVMODELS_DP83820_H

#include <devmodels/dm.h>
#include <devmodels/pci.h>

#define DP83820_VENDOR_ID 0x100b
#define DP83820_DEVICE_ID 0x0022
#define DP83820_IO_SIZE 256
#define DP83820_MMIO_SIZE 4096
#define DP83820_IO_BAR 0
#define DP83820_MMIO_BAR 1

/* Limits of the model (see README.md). */
#define DP83820_MAX_FRAME 8192        /* the chip's 8 KiB transmit FIFO */
#define DP83820_MAX_FRAGS 32          /* descriptors of one frame (Linux: 18) */
#define DP83820_TX_MAX_DESCS 1024     /* descriptors one flush walks at most */
#define DP83820_BATCH_BYTES 65536     /* frames handed to the back end at once */
#define DP83820_BATCH_FRAMES 64
#define DP83820_TX_KICK_LIMIT 32      /* pending kicks that force a flush */
#define DP83820_TX_FLUSH_DELAY_NS 200000u
#define DP83820_IHR_UNIT_NS 100000u   /* holdoff unit: 100 us */
#define DP83820_EEPROM_WORDS 64       /* a 93C46: 64 x 16 bits */
#define DP83820_EEPROM_MAC_WORD 0x0a  /* words 0xa-0xc: bytes 4-5, 2-3, 0-1 */

/* Register offsets */
enum {
	DP83820_CR = 0x00,
	DP83820_CFG = 0x04,
	DP83820_MEAR = 0x08,
	DP83820_PTSCR = 0x0c,
	DP83820_ISR = 0x10,
	DP83820_IMR = 0x14,
	DP83820_IER = 0x18,
	DP83820_IHR = 0x1c,
	DP83820_TXDP = 0x20,
	DP83820_TXDP_HI = 0x24,
	DP83820_TXCFG = 0x28,
	DP83820_GPIOR = 0x2c,
	DP83820_RXDP = 0x30,
	DP83820_RXDP_HI = 0x34,
	DP83820_RXCFG = 0x38,
	DP83820_PQCR = 0x3c,
	DP83820_WCSR = 0x40,
	DP83820_PCR = 0x44,
	DP83820_RFCR = 0x48,
	DP83820_RFDR = 0x4c,
	DP83820_BRAR = 0x50,
	DP83820_BRDR = 0x54,
	DP83820_SRR = 0x58,
	DP83820_MIBC = 0x5c,
	DP83820_MIB_RX_MISSED = 0x68, /* RXMsdPktErrors: frames no descriptor took */
	DP83820_MIB_RX_LONG = 0x74,   /* RXFrameTooLong */
	DP83820_VRCR = 0xbc,
	DP83820_VTCR = 0xc0,
	DP83820_VDR = 0xc4,
	DP83820_CCSR = 0xcc,
	DP83820_TBICR = 0xe0,
	DP83820_TBISR = 0xe4,
	DP83820_TANAR = 0xe8,
	DP83820_TANLPAR = 0xec,
	DP83820_TANER = 0xf0,
	DP83820_TESR = 0xf4,
};

/* Register bits (the names of ns83820.c) */
#define DP83820_CR_TXE 0x00000001u
#define DP83820_CR_TXD 0x00000002u
#define DP83820_CR_RXE 0x00000004u
#define DP83820_CR_RXD 0x00000008u
#define DP83820_CR_TXR 0x00000010u
#define DP83820_CR_RXR 0x00000020u
#define DP83820_CR_SWI 0x00000080u
#define DP83820_CR_RST 0x00000100u

#define DP83820_CFG_LNKSTS 0x80000000u
#define DP83820_CFG_SPDSTS1 0x40000000u
#define DP83820_CFG_SPDSTS0 0x20000000u
#define DP83820_CFG_DUPSTS 0x10000000u
#define DP83820_CFG_TBI_EN 0x01000000u
#define DP83820_CFG_MODE_1000 0x00400000u
#define DP83820_CFG_PINT_DUPSTS 0x00100000u
#define DP83820_CFG_PINT_LNKSTS 0x00080000u
#define DP83820_CFG_PINT_SPDSTS 0x00040000u
#define DP83820_CFG_T64ADDR 0x00004000u
#define DP83820_CFG_PCI64_DET 0x00002000u
#define DP83820_CFG_M64ADDR 0x00000800u
#define DP83820_CFG_EXTSTS_EN 0x00000100u

#define DP83820_MEAR_EEDI 0x00000001u
#define DP83820_MEAR_EEDO 0x00000002u
#define DP83820_MEAR_EECLK 0x00000004u
#define DP83820_MEAR_EESEL 0x00000008u
#define DP83820_MEAR_MDIO 0x00000010u
#define DP83820_MEAR_MDDIR 0x00000020u
#define DP83820_MEAR_MDC 0x00000040u

#define DP83820_PTSCR_EEBIST_FAIL 0x00000001u
#define DP83820_PTSCR_EEBIST_EN 0x00000002u
#define DP83820_PTSCR_EELOAD_EN 0x00000004u
#define DP83820_PTSCR_RBIST_FAIL 0x000001b8u
#define DP83820_PTSCR_RBIST_DONE 0x00000200u
#define DP83820_PTSCR_RBIST_EN 0x00000400u
#define DP83820_PTSCR_RBIST_RST 0x00002000u

#define DP83820_ISR_TXRCMP 0x00400000u
#define DP83820_ISR_RXRCMP 0x00200000u
#define DP83820_ISR_RMABT 0x00040000u
#define DP83820_ISR_PHY 0x00004000u
#define DP83820_ISR_SWI 0x00001000u
#define DP83820_ISR_TXIDLE 0x00000200u
#define DP83820_ISR_TXERR 0x00000100u
#define DP83820_ISR_TXDESC 0x00000080u
#define DP83820_ISR_TXOK 0x00000040u
#define DP83820_ISR_RXORN 0x00000020u
#define DP83820_ISR_RXIDLE 0x00000010u
#define DP83820_ISR_RXERR 0x00000004u
#define DP83820_ISR_RXDESC 0x00000002u
#define DP83820_ISR_RXOK 0x00000001u

#define DP83820_IER_IE 0x00000001u
#define DP83820_IHR_IH 0x000000ffu
#define DP83820_IHR_IHCTL 0x00000100u

#define DP83820_TXCFG_ATP 0x10000000u /* automatic padding to 60 bytes */
#define DP83820_RXCFG_AEP 0x80000000u
#define DP83820_RXCFG_ARP 0x40000000u /* accept runts */
#define DP83820_RXCFG_STRIPCRC 0x20000000u
#define DP83820_RXCFG_ALP 0x08000000u /* accept long packets */

#define DP83820_RFCR_RFEN 0x80000000u
#define DP83820_RFCR_AAB 0x40000000u
#define DP83820_RFCR_AAM 0x20000000u
#define DP83820_RFCR_AAU 0x10000000u
#define DP83820_RFCR_APM 0x08000000u
#define DP83820_RFCR_AARP 0x00400000u
#define DP83820_RFCR_MHEN 0x00200000u
#define DP83820_RFCR_RFADDR 0x000003ffu

#define DP83820_VRCR_IPEN 0x00000010u
#define DP83820_VRCR_VTREN 0x00000002u
#define DP83820_VRCR_VTDEN 0x00000001u
#define DP83820_VTCR_PPCHK 0x00000008u
#define DP83820_VTCR_VPPTI 0x00000002u

#define DP83820_TBICR_MR_AN_ENABLE 0x00001000u
#define DP83820_TBISR_MR_LINK_STATUS 0x00000020u
#define DP83820_TBISR_MR_AN_COMPLETE 0x00000004u

/* Descriptor fields */
#define DP83820_CMDSTS_OWN 0x80000000u
#define DP83820_CMDSTS_MORE 0x40000000u
#define DP83820_CMDSTS_INTR 0x20000000u
#define DP83820_CMDSTS_ERR 0x10000000u
#define DP83820_CMDSTS_OK 0x08000000u
#define DP83820_CMDSTS_DEST_MASK 0x01800000u
#define DP83820_CMDSTS_DEST_SELF 0x00800000u
#define DP83820_CMDSTS_DEST_MULTI 0x01000000u
#define DP83820_CMDSTS_RUNT 0x00200000u
#define DP83820_CMDSTS_LEN_MASK 0x0000ffffu

#define DP83820_EXTSTS_UDPERR 0x00400000u
#define DP83820_EXTSTS_UDPPKT 0x00200000u
#define DP83820_EXTSTS_TCPERR 0x00100000u
#define DP83820_EXTSTS_TCPPKT 0x00080000u
#define DP83820_EXTSTS_IPERR 0x00040000u
#define DP83820_EXTSTS_IPPKT 0x00020000u
#define DP83820_EXTSTS_VPKT 0x00010000u
#define DP83820_EXTSTS_VTG_MASK 0x0000ffffu

/* Descriptor layouts: CFG.M64ADDR selects the 64-bit one (what Linux on x86-64 uses). */
#define DP83820_DESC32_SIZE 16 /* link, bufptr, cmdsts, extsts: 4 bytes each */
#define DP83820_DESC64_SIZE 24 /* link 8, bufptr 8, cmdsts 4, extsts 4 */

/* One frame, as the back end gets it or offers it. */
struct dp83820_frame {
	const uint8_t *data;
	uint32_t len;
};

struct dp83820_backend {
	/* n >= 1 finished frames, valid during the call only. */
	void (*send)(void *opaque, const struct dp83820_frame *frames, unsigned n);
	/*
	 * The receiver can take frames again (a CR.RXE kick found a free
	 * descriptor, or the link came up): offer what dp83820_receive()
	 * refused with NO_BUFFER.  May be called from inside a register
	 * write; the back end may call dp83820_receive() from it.  Optional.
	 */
	void (*rx_ready)(void *opaque);
	void *opaque;
};

enum dp83820_rx_result {
	DP83820_RX_DELIVERED,  /* in guest memory, descriptors written back */
	DP83820_RX_FILTERED,   /* the receive filter rejected it (consumed) */
	DP83820_RX_DROPPED,    /* receiver off, runt or too long (consumed) */
	DP83820_RX_NO_BUFFER,  /* no free descriptor: the back end keeps it */
	DP83820_RX_ERROR,      /* malformed descriptor or bus error: receiver stopped */
};

struct dp83820_stats {
	uint64_t reg_reads;
	uint64_t reg_writes;
	uint64_t tx_kicks;         /* CR.TXE writes */
	uint64_t flushes;          /* flushes that had transmit work */
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_notifications; /* back-end send calls */
	uint64_t tx_csum_offloads; /* frames whose checksums the model filled in */
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t rx_no_buffer;
	uint64_t rx_filtered;
	uint64_t rx_dropped;
	uint64_t rx_csum_verified; /* frames delivered with checksum-ok bits */
	uint64_t tx_errors;        /* malformed transmit descriptors */
	uint64_t rx_errors;        /* malformed receive descriptors */
	uint64_t bus_errors;       /* descriptor or buffer outside guest memory */
	uint64_t interrupts;       /* rising edges of the interrupt line */
	uint64_t unknown_regs;     /* accesses to registers not modelled */
};

struct dp83820_config {
	struct pci_bus *bus;        /* where dp83820_ops.init plugs the function in */
	uint8_t devfn;
	struct dm_irq_line irq;     /* INTA#, as the platform wired it */
	unsigned irq_line;
	uint8_t mac[6];             /* programmed into the EEPROM */
	struct dm_guest_mem mem;
	struct dp83820_backend backend;
	unsigned tx_kick_limit;     /* 0: DP83820_TX_KICK_LIMIT */
	uint64_t tx_flush_delay_ns; /* 0: DP83820_TX_FLUSH_DELAY_NS */
};

/* A descriptor chain being worked on: addresses and command/status words. */
struct dp83820_chain {
	uint64_t addr[DP83820_MAX_FRAGS];
	uint64_t link[DP83820_MAX_FRAGS];
	uint64_t bufptr[DP83820_MAX_FRAGS];
	uint32_t cmdsts[DP83820_MAX_FRAGS];
	unsigned n;
};

struct dp83820_eeprom {
	uint16_t word[DP83820_EEPROM_WORDS];
	uint8_t state;            /* idle, opcode, address, read, ignore */
	uint8_t bits;             /* bits still to shift in this state */
	uint8_t opcode;
	uint8_t addr;
	uint16_t data;            /* shifting out, MSB first */
	bool dout;
	bool clk;
};

struct dp83820 {
	struct pci_function pci;
	struct dp83820_config cfg;
	struct dp83820_eeprom eeprom;

	/* Registers */
	uint32_t config;          /* CFG, writable bits */
	uint32_t link_status;     /* CFG bits 31:28, as the pins report them */
	uint32_t mear;            /* MEAR as written (EEDO, MDIO computed) */
	uint32_t ptscr;
	uint32_t isr, imr, ier, ihr;
	uint64_t txdp, rxdp;      /* current descriptors, 64 bits with the _HI halves */
	uint32_t txcfg, rxcfg, gpior, pqcr, wcsr, pcr, rfcr, brar, mibc;
	uint32_t vrcr, vtcr, vdr, ccsr;
	uint32_t tbicr, tbisr, tanar, tanlpar, taner, tesr;
	uint8_t pmatch[6];        /* perfect-match address (RFDR 0-5) */
	uint8_t hash[64];         /* RFDR 0x100-0x13f: stored, not matched */
	uint16_t mib_rx_missed, mib_rx_long;

	/* Engines */
	bool tx_enabled, rx_enabled;
	bool tx_at_end;           /* stopped on a null link: TXE re-reads it */
	bool rx_at_end;
	bool rx_idle;             /* stopped on a busy descriptor or null link */
	bool tx_pending;          /* kicked since the last flush */
	unsigned tx_kicks_pending;
	uint64_t tx_flush_at;
	struct dp83820_chain chain;

	/* Interrupts */
	uint64_t now_ns;          /* time of the last advance */
	uint64_t holdoff_until;   /* the line stays low before this */
	bool irq_level;

	/* Transmit batch */
	uint8_t batch[DP83820_BATCH_BYTES];
	struct dp83820_frame batch_frame[DP83820_BATCH_FRAMES];
	unsigned batch_n;
	uint32_t batch_used;

	struct dp83820_stats stats;
};

/* Power-on state; the PCI function is plugged in by dp83820_ops.init. */
void dp83820_init(struct dp83820 *dev, const struct dp83820_config *cfg);

/*
 * What CR.RST does: engines, interrupt registers, descriptor pointers,
 * receive filter, EEPROM reload.  Configuration registers and PCI state stay.
 */
void dp83820_reset(struct dp83820 *dev);

/* 32-bit register access by offset, at the time of the last advance. */
uint32_t dp83820_read(struct dp83820 *dev, unsigned reg);
void dp83820_write(struct dp83820 *dev, unsigned reg, uint32_t value);

/* The BAR callback (both BARs): aligned 32-bit accesses only. */
bool dp83820_bar_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len,
		    bool is_write, void *opaque);

/* Walk the transmit descriptors now and hand finished frames to the back end. */
void dp83820_flush(struct dp83820 *dev);

/* One received frame (without FCS). */
enum dp83820_rx_result dp83820_receive(struct dp83820 *dev, const uint8_t *frame,
				       uint32_t len);

/*
 * Several frames, one interrupt update at the end.  Returns how many were
 * consumed (delivered, filtered or dropped); it stops at the first frame
 * refused with NO_BUFFER or ERROR, whose result is left in *last if given.
 */
unsigned dp83820_receive_batch(struct dp83820 *dev, const struct dp83820_frame *frames,
			       unsigned n, enum dp83820_rx_result *last);

/* Link state of the PHY (starts up, 1000 Mb/s full duplex). */
void dp83820_set_link(struct dp83820 *dev, bool up);

uint64_t dp83820_next_deadline(const struct dp83820 *dev, uint64_t now_ns);
void dp83820_advance(struct dp83820 *dev, uint64_t now_ns);

extern const struct dm_device_ops dp83820_ops;

#endif
