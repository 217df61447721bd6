/*
 * The machine's NIC for the front end's network (backend.h be_net_*): a
 * legacy virtio-net PCI function (QEMU's `virtio-net-pci,disable-modern=on`,
 * 1af4:1000, subsystem 1), which the VAM drives as dom0.
 *
 * - Configuration space through ports 0xcf8/0xcfc, which Xen emulates for
 *   dom0; the device's registers through its I/O BAR.  Port I/O traps into
 *   Xen either way; the VAM's virtual IOPL 1 lets its PV kernel mode pass
 *   (xen-pv64-facts.md section 7).
 * - DMA with machine addresses: the rings and buffers are VAM image pages,
 *   whose frames the p2m gives.  A legacy ring must be machine-contiguous;
 *   that is checked, not assumed.
 * - The interrupt: the function's INTx line, as firmware routed it
 *   (interrupt-line register = ISA IRQ = IO-APIC GSI on a PC), mapped to a
 *   PIRQ and bound to an event channel; level-triggered, so each interrupt
 *   ends with PHYSDEVOP_eoi after the ISR register has been read.
 *
 * Batching (thesis 5.2.3): be_net_send queues a whole batch and rings the
 * doorbell once; the receive side hands the client everything the device
 * has written since the last interrupt in one call and re-posts the taken
 * buffers with one doorbell.  No feature beyond the MAC address is
 * negotiated (no offloads, no mergeable buffers): every frame fits one
 * 2 KiB buffer behind a 10-byte header.
 */
#include "hypercall.h"
#include "xen-console.h"
#include "xen-events.h"
#include "xen-memory.h"
#include "xen-pci.h"

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_NET_LEGACY_DEVICE 0x1000
#define VIRTIO_SUBSYS_NET 1

/* Legacy virtio-pci registers (I/O BAR 0), without MSI-X */
enum {
    VP_HOST_FEATURES = 0x00,
    VP_GUEST_FEATURES = 0x04,
    VP_QUEUE_PFN = 0x08,
    VP_QUEUE_NUM = 0x0c,
    VP_QUEUE_SEL = 0x0e,
    VP_QUEUE_NOTIFY = 0x10,
    VP_STATUS = 0x12,
    VP_ISR = 0x13,
    VP_NET_MAC = 0x14,
};
#define VP_STATUS_ACK 1
#define VP_STATUS_DRIVER 2
#define VP_STATUS_DRIVER_OK 4
#define VP_STATUS_FAILED 0x80
#define VIRTIO_NET_F_MAC (1u << 5)

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_USED_F_NO_NOTIFY 1

#define RX_QUEUE 0
#define TX_QUEUE 1
#define QUEUE_MAX 256               /* descriptors; QEMU's legacy queues have 256 */
#define RING_PAGES 3                /* 256 descriptors: 4 KiB + avail, then used */
#define BUF_SIZE 2048               /* two per page: a buffer never crosses a page */
#define NET_HDR 10                  /* struct virtio_net_hdr without mergeable buffers */
#define RX_BUFS 128
#define TX_BUFS 128
#define RX_BATCH 64

struct vring_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
struct vring_used_elem {
    uint32_t id;
    uint32_t len;
};

struct queue {
    unsigned num;                   /* the device's queue size */
    struct vring_desc *desc;
    volatile uint16_t *avail_flags, *avail_idx, *avail_ring;
    volatile uint16_t *used_flags, *used_idx;
    volatile struct vring_used_elem *used_ring;
    uint16_t avail_next;            /* our copy of avail->idx */
    uint16_t used_seen;             /* used entries consumed */
};

static uint8_t rx_ring_mem[RING_PAGES * 4096] __attribute__((aligned(4096)));
static uint8_t tx_ring_mem[RING_PAGES * 4096] __attribute__((aligned(4096)));
static uint8_t rx_buf[RX_BUFS][BUF_SIZE] __attribute__((aligned(4096)));
static uint8_t tx_buf[TX_BUFS][BUF_SIZE] __attribute__((aligned(4096)));

static struct {
    bool open;
    uint16_t io;                    /* I/O BAR base */
    unsigned gsi, pirq;
    struct queue rx, tx;
    uint16_t tx_free[TX_BUFS];      /* free transmit descriptors (= buffer index) */
    unsigned tx_nfree;
    struct be_net_client client;
    struct be_net_stats stats;
} net;

#define barrier() asm volatile("" ::: "memory")
/* x86 keeps stores in order and loads in order; the device (QEMU) is
 * another thread of the host, so full fences where the virtio spec asks
 * for them. */
#define mb() asm volatile("mfence" ::: "memory")

/* The back end links no C library (the self-test image has no memcpy). */
static void copy(void *dst, const void *src, unsigned long n)
{
    asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

static uint64_t maddr(const void *va)
{
    return (uint64_t)vamxen_vam_va_to_mfn(va) << 12 | ((uint64_t)va & 4095);
}

static void say(const char *what, unsigned long v, const char *tail)
{
    xen_puts("VAM: net: ");
    xen_puts(what);
    xen_put_hex(v);
    xen_puts(tail);
}

/* Lays out a legacy ring in `mem` and hands its frame to the device. */
static bool queue_setup(struct queue *q, unsigned index, uint8_t *mem)
{
    vamxen_outw(net.io + VP_QUEUE_SEL, (uint16_t)index);
    unsigned num = vamxen_inw(net.io + VP_QUEUE_NUM);
    if (num == 0 || num > QUEUE_MAX || (num & (num - 1))) {
        say("unusable queue size ", num, " (the VAM takes powers of two up to 256)\n");
        return false;
    }
    uint64_t avail_off = 16ull * num;
    uint64_t used_off = (avail_off + 6 + 2ull * num + 4095) & ~4095ull;
    uint64_t bytes = used_off + 6 + 8ull * num;
    if (bytes > RING_PAGES * 4096ull)
        return false;
    for (unsigned p = 1; p < (bytes + 4095) / 4096; p++)
        if (vamxen_vam_va_to_mfn(mem + p * 4096) != vamxen_vam_va_to_mfn(mem) + p) {
            say("ring not machine-contiguous at page ", p, " (legacy virtio needs that)\n");
            return false;
        }
    for (uint64_t i = 0; i < RING_PAGES * 4096ull; i++)
        ((volatile uint8_t *)mem)[i] = 0;
    q->num = num;
    q->desc = (struct vring_desc *)mem;
    q->avail_flags = (volatile uint16_t *)(mem + avail_off);
    q->avail_idx = q->avail_flags + 1;
    q->avail_ring = q->avail_flags + 2;
    q->used_flags = (volatile uint16_t *)(mem + used_off);
    q->used_idx = q->used_flags + 1;
    q->used_ring = (volatile struct vring_used_elem *)(mem + used_off + 4);
    q->avail_next = 0;
    q->used_seen = 0;
    vamxen_outl(net.io + VP_QUEUE_PFN, (uint32_t)vamxen_vam_va_to_mfn(mem));
    return true;
}

static void notify(const struct queue *q, unsigned index)
{
    mb();
    if (!(*q->used_flags & VRING_USED_F_NO_NOTIFY))
        vamxen_outw(net.io + VP_QUEUE_NOTIFY, (uint16_t)index);
}

static void rx_post(uint16_t id)
{
    struct queue *q = &net.rx;
    q->desc[id] = (struct vring_desc){.addr = maddr(rx_buf[id]), .len = BUF_SIZE,
                                      .flags = VRING_DESC_F_WRITE};
    q->avail_ring[q->avail_next % q->num] = id;
    q->avail_next++;
}

static void tx_reclaim(void)
{
    struct queue *q = &net.tx;
    while (q->used_seen != *q->used_idx) {
        barrier();
        uint32_t id = q->used_ring[q->used_seen % q->num].id;
        if (id >= TX_BUFS)
            vamxen_panic("virtio-net returned a transmit descriptor it was not given", id);
        net.tx_free[net.tx_nfree++] = (uint16_t)id;
        q->used_seen++;
    }
}

unsigned be_net_send(const struct be_net_frame *frames, unsigned n)
{
    if (!net.open) {
        net.stats.tx_dropped += n;
        return 0;
    }
    struct queue *q = &net.tx;
    tx_reclaim();
    unsigned sent = 0;
    for (unsigned i = 0; i < n; i++) {
        if (frames[i].len > BUF_SIZE - NET_HDR || net.tx_nfree == 0) {
            net.stats.tx_dropped++;
            continue;
        }
        uint16_t id = net.tx_free[--net.tx_nfree];
        uint8_t *b = tx_buf[id];
        for (unsigned k = 0; k < NET_HDR; k++)
            b[k] = 0;
        copy(b + NET_HDR, frames[i].data, frames[i].len);
        q->desc[id] = (struct vring_desc){.addr = maddr(b), .len = NET_HDR + frames[i].len};
        q->avail_ring[(uint16_t)(q->avail_next + sent) % q->num] = id;
        sent++;
        net.stats.tx_frames++;
        net.stats.tx_bytes += frames[i].len;
    }
    if (sent) {
        barrier();
        q->avail_next = (uint16_t)(q->avail_next + sent);
        *q->avail_idx = q->avail_next;
        notify(q, TX_QUEUE);
        net.stats.tx_notifications++;
    }
    return sent;
}

void be_net_poll(void)
{
    if (!net.open)
        return;
    struct queue *q = &net.rx;
    bool reposted = false;
    for (;;) {
        struct be_net_frame f[RX_BATCH];
        uint16_t id[RX_BATCH];
        unsigned n = 0;
        uint16_t seen = q->used_seen;
        while (n < RX_BATCH && seen != *q->used_idx) {
            barrier();
            volatile struct vring_used_elem *e = &q->used_ring[seen % q->num];
            uint32_t len = e->len;
            if (e->id >= RX_BUFS || len < NET_HDR || len > BUF_SIZE)
                vamxen_panic("virtio-net returned a malformed receive element", e->id);
            id[n] = (uint16_t)e->id;
            f[n] = (struct be_net_frame){.data = rx_buf[e->id] + NET_HDR, .len = len - NET_HDR};
            n++;
            seen++;
        }
        if (n == 0)
            break;
        unsigned took = net.client.receive(net.client.opaque, f, n);
        if (took > n)
            took = n;
        for (unsigned i = 0; i < took; i++) {
            net.stats.rx_frames++;
            net.stats.rx_bytes += f[i].len;
            rx_post(id[i]);
        }
        q->used_seen = (uint16_t)(q->used_seen + took);
        reposted |= took > 0;
        if (took < n)
            break;                  /* the front end is full: the rest waits */
    }
    if (reposted) {
        barrier();
        *q->avail_idx = q->avail_next;
        notify(q, RX_QUEUE);
        net.stats.rx_notifications++;
    }
}

void be_net_get_stats(struct be_net_stats *s)
{
    *s = net.stats;
}

static void on_net_interrupt(unsigned port)
{
    (void)port;
    net.stats.rx_interrupts++;
    (void)vamxen_inb(net.io + VP_ISR);     /* reading it lowers the INTx line */
    tx_reclaim();
    be_net_poll();
    vamxen_pirq_eoi(net.pirq);
}

/* Slot of the first legacy virtio-net function on bus 0, or -1. */
static int find_device(void)
{
    for (unsigned dev = 0; dev < 32; dev++) {
        uint32_t id = vamxen_pci_read(dev << 3, 0, 4);
        if ((id & 0xffff) != VIRTIO_VENDOR || id >> 16 != VIRTIO_NET_LEGACY_DEVICE)
            continue;
        if (vamxen_pci_read(dev << 3, 0x2c, 4) >> 16 == VIRTIO_SUBSYS_NET)
            return (int)dev;
    }
    return -1;
}

bool be_net_open(const struct be_net_client *client, uint8_t mac[6])
{
    if (net.open)
        return false;
    if (!vamxen_io_enable())
        return false;
    int pirq = -1;
    int dev = find_device();
    if (dev < 0) {
        xen_puts("VAM: net: no legacy virtio-net function (1af4:1000) on PCI bus 0\n");
        return false;
    }
    uint32_t bar0 = vamxen_pci_read((unsigned)dev << 3, 0x10, 4);
    if (!(bar0 & 1) || (bar0 & ~3u) == 0 || (bar0 & ~3u) > 0xffff) {
        say("virtio-net BAR 0 is no placed I/O BAR: ", bar0, "\n");
        return false;
    }
    net.io = (uint16_t)(bar0 & ~3u);
    uint32_t cmd = vamxen_pci_read((unsigned)dev << 3, 0x04, 2);
    vamxen_pci_write((unsigned)dev << 3, 0x04, 2, cmd | 0x1 /* I/O */ | 0x4 /* bus master */);

    vamxen_outb(net.io + VP_STATUS, 0);    /* reset */
    vamxen_outb(net.io + VP_STATUS, VP_STATUS_ACK | VP_STATUS_DRIVER);
    uint32_t features = vamxen_inl(net.io + VP_HOST_FEATURES);
    vamxen_outl(net.io + VP_GUEST_FEATURES, features & VIRTIO_NET_F_MAC);
    if (!queue_setup(&net.rx, RX_QUEUE, rx_ring_mem) ||
        !queue_setup(&net.tx, TX_QUEUE, tx_ring_mem) ||
        (pirq = vamxen_bind_intx((unsigned)dev << 3, on_net_interrupt, &net.gsi)) < 0) {
        vamxen_outb(net.io + VP_STATUS, VP_STATUS_FAILED);
        return false;
    }
    for (unsigned i = 0; i < 6; i++)
        mac[i] = (features & VIRTIO_NET_F_MAC) ? vamxen_inb((uint16_t)(net.io + VP_NET_MAC + i))
                                               : (uint8_t)(i == 0 ? 0x52 : 0x54 + i);
    net.pirq = (unsigned)pirq;
    net.client = *client;
    net.tx_nfree = 0;
    for (unsigned i = TX_BUFS < net.tx.num ? TX_BUFS : net.tx.num; i-- > 0;)
        net.tx_free[net.tx_nfree++] = (uint16_t)i;
    unsigned nrx = RX_BUFS < net.rx.num ? RX_BUFS : net.rx.num;
    for (unsigned i = 0; i < nrx; i++)
        rx_post((uint16_t)i);
    barrier();
    *net.rx.avail_idx = net.rx.avail_next;
    vamxen_outb(net.io + VP_STATUS, VP_STATUS_ACK | VP_STATUS_DRIVER | VP_STATUS_DRIVER_OK);
    notify(&net.rx, RX_QUEUE);
    net.open = true;
    xen_puts("VAM: net: virtio-net in PCI slot ");
    xen_put_dec((unsigned long)dev);
    xen_puts(", I/O ");
    xen_put_hex(net.io);
    xen_puts(", GSI ");
    xen_put_dec(net.gsi);
    xen_puts(", queues ");
    xen_put_dec(net.rx.num);
    xen_puts("/");
    xen_put_dec(net.tx.num);
    xen_puts("\n");
    return true;
}
