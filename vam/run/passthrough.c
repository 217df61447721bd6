/*
 * Device pass-through (thesis 4.2.5): one machine PCI function, claimed
 * from the back end (be_passthrough_open), that the guest's own driver
 * drives directly.
 *
 * - It appears in slot 5 of the guest's PCI bus with its configuration
 *   space forwarded (devmodels pci_config_forward), except what the VAM
 *   owns: the interrupt line and pin (the guest's IRQ 10, INTA#) and the
 *   capability list, which is hidden (no MSI: the interrupt path is INTx).
 * - Its BARs keep their machine addresses: I/O ports are forwarded one
 *   access at a time (the guest's in/out trap into the VAM anyway), memory
 *   BARs are mapped into the guest's kernel space on first touch
 *   (be_map_device), uncached, so register accesses then run natively.
 * - Its interrupt: the back end reports the asserted line (a PIRQ event),
 *   the VAM raises the guest's IRQ; at the guest's next return from an
 *   interrupt or to user mode its handler has run, so the VAM lowers the
 *   guest's line and ends the machine interrupt (be_passthrough_eoi), which
 *   comes again if the device still asserts it.
 * - DMA: the device sees machine addresses; the guest learns where its RAM
 *   lies in machine memory from dma_window= on its command line
 *   (run.c, guest-patches/linux-6.1/0001-x86-pci-dma-window.patch).
 */
#include "run.h"

#include "devmodels/pci.h"

uint16_t vam_run_passthrough_vendor, vam_run_passthrough_device;

static struct {
    bool on;
    struct be_passthrough info;
    struct pci_function fn;
    struct dm_irq_line irq;
    unsigned irq_line;
    uint8_t line_reg;           /* the guest's view of the interrupt-line register */
    bool asserted;              /* the guest's line is high, the machine's not yet ended */
    uint64_t interrupts, io_accesses, pages_mapped;
} pt;

/* The guest's view of one configuration dword (aligned). */
static uint32_t view_dword(unsigned reg)
{
    uint32_t v = be_passthrough_config_read(reg, 4);
    if (reg == PCI_COMMAND)                 /* status: no capability list */
        v &= ~((uint32_t)PCI_STATUS_CAP_LIST << 16);
    else if (reg == PCI_CAPABILITY_LIST)
        v &= ~0xffu;
    else if (reg == PCI_INTERRUPT_LINE)
        v = (v & 0xffff0000u) | 1u << 8 | pt.line_reg;
    return v;
}

static uint32_t config_read(void *opaque, unsigned reg, unsigned len)
{
    (void)opaque;
    uint32_t v = view_dword(reg & ~3u) >> (8 * (reg & 3));
    return len == 4 ? v : v & ((1u << (8 * len)) - 1);
}

static void config_write(void *opaque, unsigned reg, unsigned len, uint32_t value)
{
    (void)opaque;
    if ((reg & ~3u) == PCI_INTERRUPT_LINE) {
        if (reg == PCI_INTERRUPT_LINE)      /* the line register is the OS's scratch byte */
            pt.line_reg = (uint8_t)value;
        return;                             /* pin, min_gnt, max_lat: read-only */
    }
    if (reg >= PCI_BASE_ADDRESS_0 && reg < PCI_BASE_ADDRESS_0 + 24 && len == 4 &&
        value != 0xffffffffu) {
        /* sizing writes all ones and then the old value; anything else
         * would move the BAR away from where the VAM forwards and maps */
        const struct be_pci_bar *b = &pt.info.bar[(reg - PCI_BASE_ADDRESS_0) / 4];
        uint64_t base = value & (b->io ? PCI_BASE_ADDRESS_IO_MASK : PCI_BASE_ADDRESS_MEM_MASK);
        if (b->size && base != (uint32_t)b->base)
            vam_run_fatal("the guest moves BAR %u of the passed-through device %04x:%04x from "
                          "%#llx to %#llx: not supported", (reg - PCI_BASE_ADDRESS_0) / 4,
                          pt.info.vendor, pt.info.device, (unsigned long long)b->base,
                          (unsigned long long)base);
    }
    be_passthrough_config_write(reg, len, value);
}

static const struct pci_config_forward forward = {.read = config_read, .write = config_write};

static void machine_irq(void *opaque)
{
    (void)opaque;
    pt.interrupts++;
    if (!pt.asserted) {
        pt.asserted = true;
        pt.irq.set(pt.irq.opaque, pt.irq_line, true);
    }
}

bool vam_passthrough_init(struct pci_bus *bus, struct dm_irq_line irq, unsigned irq_line,
                          uint16_t vendor, uint16_t device)
{
    if (!be_passthrough_open(vendor, device, &pt.info, machine_irq, NULL))
        return false;
    struct pci_function_config cfg = {.vendor_id = vendor, .device_id = device};
    pci_function_init(&pt.fn, &cfg);
    pt.fn.forward = &forward;
    pt.irq = irq;
    pt.irq_line = irq_line;
    pt.line_reg = (uint8_t)irq_line;
    if (pci_bus_attach(bus, &pt.fn, PCI_DEVFN(5, 0)))
        vam_run_fatal("pass-through: PCI slot 5 of the guest's bus is taken");
    pt.on = true;
    for (unsigned i = 0; i < BE_PCI_BARS; i++)
        if (pt.info.bar[i].size)
            vam_run_log("pass-through: %04x:%04x (machine slot %u, GSI %u) as 00:05.0, BAR %u: "
                        "%s %#llx + %#llx", vendor, device, pt.info.devfn >> 3, pt.info.gsi, i,
                        pt.info.bar[i].io ? "I/O" : "memory",
                        (unsigned long long)pt.info.bar[i].base,
                        (unsigned long long)pt.info.bar[i].size);
    return true;
}

bool vam_passthrough_overlaps(uint64_t base, uint64_t size, bool io)
{
    for (unsigned i = 0; pt.on && i < BE_PCI_BARS; i++) {
        const struct be_pci_bar *b = &pt.info.bar[i];
        if (b->size && b->io == io && base < b->base + b->size && b->base < base + size)
            return true;
    }
    return false;
}

/* Whether one of the device's BARs holds all of [base, base + size). */
static bool inside_bar(uint64_t base, uint64_t size, bool io)
{
    for (unsigned i = 0; pt.on && i < BE_PCI_BARS; i++) {
        const struct be_pci_bar *b = &pt.info.bar[i];
        if (b->size && b->io == io && base >= b->base && base + size <= b->base + b->size)
            return true;
    }
    return false;
}

bool vam_passthrough_io(uint16_t port, void *data, unsigned len, bool is_write)
{
    if (!inside_bar(port, len, true))
        return false;
    pt.io_accesses++;
    be_passthrough_io(port, data, len, is_write);
    return true;
}

bool vam_passthrough_map(be_space_t s, uint64_t va, uint64_t gpa)
{
    /* a page that holds any of a memory BAR (small BARs share pages) */
    if (!vam_passthrough_overlaps(gpa & ~4095ull, 4096, false))
        return false;
    if (!be_map_device(s, va & ~4095ull, gpa & ~4095ull, BE_R | BE_W))
        vam_run_fatal("pass-through: the back end refused to map device memory %#llx at %#llx",
                      (unsigned long long)gpa, (unsigned long long)va);
    pt.pages_mapped++;
    return true;
}

void vam_passthrough_guest_return(void)
{
    if (pt.asserted) {
        pt.asserted = false;
        pt.irq.set(pt.irq.opaque, pt.irq_line, false);
        be_passthrough_eoi();
    }
}

void vam_passthrough_report(void)
{
    if (pt.on)
        vam_run_log("pass-through: %llu interrupts, %llu port accesses forwarded, %llu device "
                    "pages mapped", (unsigned long long)pt.interrupts,
                    (unsigned long long)pt.io_accesses, (unsigned long long)pt.pages_mapped);
}
