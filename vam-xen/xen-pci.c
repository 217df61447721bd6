/*
 * PCI for the VAM as dom0: configuration space, port I/O, INTx as a PIRQ,
 * and device pass-through (backend.h be_passthrough_*, be_map_device,
 * be_dma_ranges).
 *
 * Pass-through keeps the machine's view: the function's BARs stay where
 * firmware put them (the guest sees and maps those addresses), its DMA goes
 * to machine addresses (be_dma_ranges tells the guest where its RAM is),
 * and its INTx line is a PIRQ whose event the front end turns into the
 * guest's interrupt.  Xen lets dom0 map any device memory and use any port
 * it does not keep for itself.
 */
#include "xen-pci.h"
#include "hypercall.h"
#include "xen-console.h"
#include "xen-events.h"
#include "xen-memory.h"
#include "xen-space.h"

bool vamxen_io_enable(void)
{
    static bool done;
    if (done)
        return true;
    struct physdev_set_iopl iopl = {.iopl = 1};
    long rc = xen_hypercall2(__HYPERVISOR_physdev_op, PHYSDEVOP_set_iopl, (unsigned long)&iopl);
    if (rc) {
        xen_puts("VAM: PHYSDEVOP_set_iopl failed: ");
        xen_put_hex((unsigned long)rc);
        xen_puts("\n");
        return false;
    }
    done = true;
    return true;
}

static void pci_address(unsigned devfn, unsigned reg)
{
    vamxen_outl(0xcf8, 0x80000000u | (devfn & 0xff) << 8 | (reg & 0xfc));
}

uint32_t vamxen_pci_read(unsigned devfn, unsigned reg, unsigned len)
{
    pci_address(devfn, reg);
    uint16_t port = (uint16_t)(0xcfc + (reg & 3));
    return len == 1 ? vamxen_inb(port) : len == 2 ? vamxen_inw(port) : vamxen_inl(0xcfc);
}

void vamxen_pci_write(unsigned devfn, unsigned reg, unsigned len, uint32_t value)
{
    pci_address(devfn, reg);
    uint16_t port = (uint16_t)(0xcfc + (reg & 3));
    if (len == 1)
        vamxen_outb(port, (uint8_t)value);
    else if (len == 2)
        vamxen_outw(port, (uint16_t)value);
    else
        vamxen_outl(0xcfc, value);
}

static void say(const char *what, unsigned long v)
{
    xen_puts("VAM: pci: ");
    xen_puts(what);
    xen_put_hex(v);
    xen_puts("\n");
}

int vamxen_bind_intx(unsigned devfn, void (*handler)(unsigned port), unsigned *gsi)
{
    unsigned line = vamxen_pci_read(devfn, 0x3c, 1);
    if (line == 0 || line >= 16 || vamxen_pci_read(devfn, 0x3d, 1) == 0) {
        say("no usable interrupt line: ", line);
        return -1;
    }
    /* QEMU's PIIX routes PCI INTx to IO-APIC pins level-triggered, active
     * high (its ACPI tables' interrupt source overrides say so) */
    struct physdev_setup_gsi setup = {.gsi = (int)line, .triggering = 1, .polarity = 0};
    long rc = xen_hypercall2(__HYPERVISOR_physdev_op, PHYSDEVOP_setup_gsi, (unsigned long)&setup);
    if (rc && rc != -17 /* EEXIST: Xen set the pin up itself */) {
        say("PHYSDEVOP_setup_gsi failed: ", (unsigned long)rc);
        return -1;
    }
    struct physdev_map_pirq map = {.domid = DOMID_SELF, .type = MAP_PIRQ_TYPE_GSI,
                                   .index = (int)line, .pirq = (int)line};
    rc = xen_hypercall2(__HYPERVISOR_physdev_op, PHYSDEVOP_map_pirq, (unsigned long)&map);
    if (rc) {
        say("PHYSDEVOP_map_pirq failed: ", (unsigned long)rc);
        return -1;
    }
    int port = vamxen_bind_pirq((unsigned)map.pirq, handler);
    if (port < 0) {
        say("EVTCHNOP_bind_pirq failed: ", (unsigned long)-port);
        return -1;
    }
    *gsi = line;
    return map.pirq;
}

void vamxen_pirq_eoi(unsigned pirq)
{
    struct physdev_eoi eoi = {.irq = pirq};
    xen_hypercall2(__HYPERVISOR_physdev_op, PHYSDEVOP_eoi, (unsigned long)&eoi);
}

/* ---- pass-through ------------------------------------------------------------ */

static struct {
    bool open;
    struct be_passthrough info;
    int pirq;
    void (*irq)(void *);
    void *opaque;
} pt;

/* BAR sizes by the usual all-ones probe, with decoding off meanwhile. */
static void read_bars(unsigned devfn, struct be_pci_bar *bar)
{
    uint16_t cmd = (uint16_t)vamxen_pci_read(devfn, 0x04, 2);
    vamxen_pci_write(devfn, 0x04, 2, cmd & ~3u);
    for (unsigned i = 0; i < BE_PCI_BARS; i++) {
        unsigned reg = 0x10 + 4 * i;
        uint32_t v = vamxen_pci_read(devfn, reg, 4);
        vamxen_pci_write(devfn, reg, 4, 0xffffffffu);
        uint32_t m = vamxen_pci_read(devfn, reg, 4);
        vamxen_pci_write(devfn, reg, 4, v);
        bar[i] = (struct be_pci_bar){0};
        if (m == 0 || m == 0xffffffffu)
            continue;
        if (v & 1) {
            bar[i] = (struct be_pci_bar){.base = v & ~3u, .size = (~(m & ~3u) + 1) & 0xffff, .io = true};
        } else {
            uint64_t base = v & ~15u, mask = m & ~15u;
            if ((v & 6) == 4 && i + 1 < BE_PCI_BARS) {   /* 64-bit: the next BAR is the high half */
                uint32_t hi = vamxen_pci_read(devfn, reg + 4, 4);
                base |= (uint64_t)hi << 32;
                bar[i] = (struct be_pci_bar){.base = base, .size = (uint32_t)(~mask + 1)};
                i++;
                bar[i] = (struct be_pci_bar){0};
                continue;
            }
            bar[i] = (struct be_pci_bar){.base = base, .size = (uint32_t)(~mask + 1)};
        }
    }
    vamxen_pci_write(devfn, 0x04, 2, cmd);
}

static void on_passthrough_interrupt(unsigned port)
{
    (void)port;
    if (pt.irq)
        pt.irq(pt.opaque);
}

bool be_passthrough_open(uint16_t vendor, uint16_t device, struct be_passthrough *out,
                         void (*irq)(void *opaque), void *opaque)
{
    if (pt.open || !vamxen_io_enable())
        return false;
    int slot = -1;
    for (unsigned dev = 0; dev < 32 && slot < 0; dev++) {
        uint32_t id = vamxen_pci_read(dev << 3, 0, 4);
        if ((id & 0xffff) == vendor && id >> 16 == device)
            slot = (int)dev;
    }
    if (slot < 0) {
        xen_puts("VAM: pci: no function ");
        xen_put_hex(vendor);
        xen_puts(":");
        xen_put_hex(device);
        xen_puts(" on bus 0 to pass through\n");
        return false;
    }
    pt.info.devfn = (uint8_t)(slot << 3);
    pt.info.vendor = vendor;
    pt.info.device = device;
    read_bars(pt.info.devfn, pt.info.bar);
    pt.irq = irq;
    pt.opaque = opaque;
    pt.pirq = vamxen_bind_intx(pt.info.devfn, on_passthrough_interrupt, &pt.info.gsi);
    if (pt.pirq < 0)
        return false;
    pt.open = true;
    *out = pt.info;
    return true;
}

void be_passthrough_eoi(void)
{
    if (pt.open)
        vamxen_pirq_eoi((unsigned)pt.pirq);
}

uint32_t be_passthrough_config_read(unsigned reg, unsigned len)
{
    return pt.open ? vamxen_pci_read(pt.info.devfn, reg, len) : 0xffffffffu;
}

void be_passthrough_config_write(unsigned reg, unsigned len, uint32_t value)
{
    if (pt.open)
        vamxen_pci_write(pt.info.devfn, reg, len, value);
}

static const struct be_pci_bar *bar_of(uint64_t addr, unsigned len, bool io)
{
    for (unsigned i = 0; i < BE_PCI_BARS; i++) {
        const struct be_pci_bar *b = &pt.info.bar[i];
        if (b->size && b->io == io && addr >= b->base && addr + len <= b->base + b->size)
            return b;
    }
    return 0;
}

static bool bar_overlaps(uint64_t addr, uint64_t len, bool io)
{
    for (unsigned i = 0; i < BE_PCI_BARS; i++) {
        const struct be_pci_bar *b = &pt.info.bar[i];
        if (b->size && b->io == io && addr < b->base + b->size && b->base < addr + len)
            return true;
    }
    return false;
}

void be_passthrough_io(uint16_t port, void *data, unsigned len, bool is_write)
{
    if (!pt.open || !bar_of(port, len, true)) {
        if (!is_write)
            for (unsigned i = 0; i < len; i++)
                ((uint8_t *)data)[i] = 0xff;
        return;
    }
    if (is_write) {
        if (len == 1)
            vamxen_outb(port, *(uint8_t *)data);
        else if (len == 2)
            vamxen_outw(port, *(uint16_t *)data);
        else
            vamxen_outl(port, *(uint32_t *)data);
    } else if (len == 1) {
        *(uint8_t *)data = vamxen_inb(port);
    } else if (len == 2) {
        *(uint16_t *)data = vamxen_inw(port);
    } else {
        *(uint32_t *)data = vamxen_inl(port);
    }
}

bool be_map_device(be_space_t s, uint64_t va, uint64_t maddr, unsigned perm)
{
    if (!pt.open || !bar_overlaps(maddr & ~4095ull, 4096, false))
        return false;
    return vamxen_map_io_frame(s, va, (unsigned long)(maddr >> 12), perm);
}

unsigned be_dma_ranges(struct be_dma_range *r, unsigned max)
{
    const struct be_memory *m = be_memory();
    unsigned n = 0;
    uint64_t start = 0;
    for (uint64_t gpa = 4096; gpa <= m->gpa_size; gpa += 4096) {
        if (gpa < m->gpa_size &&
            vamxen_gpa_to_mfn(gpa) == vamxen_gpa_to_mfn(gpa - 4096) + 1)
            continue;
        if (n < max)
            r[n] = (struct be_dma_range){.gpa = start,
                                         .bus = (uint64_t)vamxen_gpa_to_mfn(start) << 12,
                                         .size = gpa - start};
        n++;
        start = gpa;
    }
    return n;
}
