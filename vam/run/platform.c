/*
 * The platform the guest sees: the device models of devmodels/ on one port
 * bus, wired like a PC (8254 channel 0 -> 8259 IRQ 0, COM1 -> IRQ 4, RTC ->
 * IRQ 8, the 8259 pair -> LINT0 of the x2APIC in virtual-wire mode, the
 * x2APIC -> the virtual CPU), time from the back end's clock, the UART's
 * output on the back end's console, the exit port of the test guests
 * (QEMU's isa-debug-exit protocol at 0xf4), and PCI configuration space
 * (mechanism #1 at 0xcf8/0xcfc) with the host bridge on bus 0, and, when
 * the back end has a NIC (be_net_open), a DP83820 gigabit controller in
 * slot 3 whose frames go to that NIC (thesis 4.4.5: the guest's own
 * ns83820 driver, the VAM's model, the back end's driver).
 */
#include "run.h"

#include "vam/lib.h"
#include "devmodels/dp83820.h"
#include "devmodels/i8254.h"
#include "devmodels/i8259.h"
#include "devmodels/mc146818.h"
#include "devmodels/pci.h"
#include "devmodels/uart16550.h"
#include "devmodels/x2apic.h"

#define EXIT_PORT 0xf4
#define APIC_BUS_HZ 1000000000u     /* x2APIC timer clock before the divider */
/* Where "firmware" placed the NIC: slot 3, INTA# on IRQ 11 (as a PC BIOS
 * routes it), its I/O BAR in the PCI I/O window and its register BAR in the
 * 32-bit hole, above any guest RAM the VAM hands out and below where the
 * machine's firmware puts BARs (a passed-through device keeps those). */
#define NIC_DEVFN PCI_DEVFN(3, 0)
#define NIC_IRQ 11
#define PCI_IO_WINDOW 0xc000
#define PCI_IO_WINDOW_SIZE 0x4000
#define NIC_IO_BASE 0xe000
#define NIC_MMIO_BASE 0xf0000000u
/* A passed-through device (vam.passthrough=): slot 5, IRQ 10. */
#define PASSTHROUGH_IRQ 10

static struct dm_iobus bus;
static struct dm_registry registry;
static struct i8259 pic;
static struct i8254 pit;
static struct mc146818 rtc;
static struct uart16550 com1;
static struct x2apic apic;
static struct pci_bus pci;
static struct dp83820 nic;
static bool nic_present;
static uint64_t armed_deadline = UINT64_MAX;
/* Whether the devices' earliest deadline may have moved since the timer was
 * last armed: after time advanced or a device was accessed.  Every VAM exit
 * re-arms the timer, and most exits touch no device. */
static bool deadlines_stale = true;

static void advance_to(uint64_t t)
{
    dm_registry_advance(&registry, t);
    deadlines_stale = true;
}

/* ---- console: the UART's bytes, a line at a time ---------------------------- */

static char line[256];
static unsigned line_len;

static void console_flush(void)
{
    if (line_len)
        be_console_write(line, line_len);
    line_len = 0;
}

static void com1_tx(void *opaque, uint8_t byte)
{
    (void)opaque;
    line[line_len++] = (char)byte;
    if (byte == '\n' || line_len == sizeof line)
        console_flush();
}

void vam_platform_console_flush(void)
{
    console_flush();
}

/* ---- interrupt wiring --------------------------------------------------------- */

static void apic_intr(void *opaque, unsigned line_no, bool level)
{
    (void)opaque, (void)line_no;
    vam_run_intr_changed(level);
}

static uint64_t now(void)
{
    return be_now_ns();
}

/* Port 0xf4: the guest's result code; it is done. */
static bool exit_port_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len,
                         bool is_write, void *opaque)
{
    (void)vcpu, (void)addr, (void)opaque;
    if (!is_write) {
        for (unsigned i = 0; i < len; i++)
            ((uint8_t *)data)[i] = 0xff;
        return true;
    }
    uint32_t code = 0;
    for (unsigned i = 0; i < len; i++)
        code |= (uint32_t)((uint8_t *)data)[i] << (8 * i);
    console_flush();
    vam_run_guest_exit(code);
}

/* Reset: the keyboard controller's pulse-reset command (0xfe to port 0x64)
 * and the PCI reset control register (port 0xcf9, bit 2).  There is no
 * keyboard controller behind 0x64: its status reads 0xfd (output buffer
 * "full", so drivers probing for a keyboard find none; input buffer empty,
 * so the reset command can be written at once). */
static bool reset_port_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len,
                          bool is_write, void *opaque)
{
    (void)vcpu, (void)opaque;
    uint8_t *b = data;
    if (len != 1)
        return false;
    if (!is_write) {
        *b = addr == 0x64 ? 0xfd : 0x00;
        return true;
    }
    if ((addr == 0x64 && *b == 0xfe) || (addr == 0xcf9 && (*b & 0x04))) {
        console_flush();
        vam_run_guest_reset(addr == 0x64 ? "keyboard-controller reset (0xfe to port 0x64)"
                                         : "PCI reset control (port 0xcf9)");
    }
    return true;
}

/* 0xcf8-0xcfb: a dword is PCI's CONFIG_ADDRESS, the byte at 0xcf9 the
 * reset control register (as on a PIIX south bridge); other byte and word
 * accesses reach no device (pci_host_io refuses them). */
static bool pci_address_port_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len,
                                bool is_write, void *opaque)
{
    if (addr == 0xcf9 && len == 1)
        return reset_port_io(vcpu, addr, data, len, is_write, NULL);
    return pci_host_io(vcpu, addr, data, len, is_write, opaque);
}

/* ---- the NIC: DP83820 model in front, the back end's NIC behind ---------------- */

/* Bus-master DMA of the model: guest-physical RAM, nothing else. */
static bool nic_mem_read(void *opaque, uint64_t gpa, void *buf, uint32_t len)
{
    (void)opaque;
    const struct be_memory *m = be_memory();
    if (gpa > m->gpa_size || len > m->gpa_size - gpa)
        return false;
    memcpy(buf, m->window + gpa, len);
    return true;
}

static bool nic_mem_write(void *opaque, uint64_t gpa, const void *buf, uint32_t len)
{
    (void)opaque;
    const struct be_memory *m = be_memory();
    if (gpa > m->gpa_size || len > m->gpa_size - gpa)
        return false;
    memcpy(m->window + gpa, buf, len);
    return true;
}

#define NIC_BATCH 64
#define ETH_MIN_FRAME 60

/* A flush of the model: one batch, one doorbell of the back end's NIC. */
static void nic_send(void *opaque, const struct dp83820_frame *frames, unsigned n)
{
    (void)opaque;
    while (n) {
        struct be_net_frame f[NIC_BATCH];
        unsigned k = n < NIC_BATCH ? n : NIC_BATCH;
        for (unsigned i = 0; i < k; i++)
            f[i] = (struct be_net_frame){.data = frames[i].data, .len = frames[i].len};
        be_net_send(f, k);
        frames += k;
        n -= k;
    }
}

/* The guest's driver gave the receiver descriptors again. */
static void nic_rx_ready(void *opaque)
{
    (void)opaque;
    be_net_poll();
}

/* Frames from the back end's NIC into the guest's receive ring. */
static unsigned nic_receive(void *opaque, const struct be_net_frame *frames, unsigned n)
{
    (void)opaque;
    if (!nic_present)
        return n;           /* the device is not there yet: the wire drops them */
    unsigned taken = 0;
    while (taken < n) {
        struct dp83820_frame f[NIC_BATCH];
        /* A wire carries no frame shorter than 60 bytes (plus FCS): the
         * sender's MAC pads.  A virtual NIC's peer may not (QEMU's user
         * network sends 42-byte ARP frames), and a DP83820 drops runts. */
        static uint8_t padded[NIC_BATCH][ETH_MIN_FRAME];
        unsigned k = n - taken < NIC_BATCH ? n - taken : NIC_BATCH;
        for (unsigned i = 0; i < k; i++) {
            const struct be_net_frame *b = &frames[taken + i];
            f[i] = (struct dp83820_frame){.data = b->data, .len = b->len};
            if (b->len < ETH_MIN_FRAME) {
                memset(padded[i], 0, ETH_MIN_FRAME);
                memcpy(padded[i], b->data, b->len);
                f[i] = (struct dp83820_frame){.data = padded[i], .len = ETH_MIN_FRAME};
            }
        }
        advance_to(now());
        unsigned c = dp83820_receive_batch(&nic, f, k, NULL);
        taken += c;
        if (c < k)
            break;          /* no free descriptor: the back end keeps the rest */
    }
    deadlines_stale = true;
    return taken;
}

static bool pci_io_window_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len,
                             bool is_write, void *opaque)
{
    if (vam_passthrough_io((uint16_t)addr, data, len, is_write))
        return true;
    return pci_bus_io(opaque, vcpu, (uint16_t)addr, data, len, is_write);
}

static int nic_init(void)
{
    static const struct be_net_client client = {.receive = nic_receive};
    uint8_t mac[6];
    if (!be_net_open(&client, mac)) {
        vam_run_log("net: the back end has no NIC: no DP83820 for the guest");
        return 0;
    }
    struct dp83820_config nc = {
        .bus = &pci, .devfn = NIC_DEVFN, .irq = i8259_irq_line(&pic), .irq_line = NIC_IRQ,
        .mem = {.read = nic_mem_read, .write = nic_mem_write},
        .backend = {.send = nic_send, .rx_ready = nic_rx_ready},
    };
    memcpy(nc.mac, mac, 6);
    dp83820_init(&nic, &nc);
    int rc = dm_registry_add(&registry, &dp83820_ops, &nic);
    if (rc)
        return rc;
    nic_present = true;
    vam_run_log("net: DP83820 at 00:03.0 (I/O %#x, registers %#x, IRQ %u), MAC "
                "%02x:%02x:%02x:%02x:%02x:%02x, frames to the back end's NIC",
                NIC_IO_BASE, NIC_MMIO_BASE, NIC_IRQ, mac[0], mac[1], mac[2], mac[3], mac[4],
                mac[5]);
    return 0;
}

/* What firmware does before the OS: place the BARs (the function is on the
 * bus once the registry has initialised it). */
static void nic_place_bars(void)
{
    if (!nic_present)
        return;
    if (be_memory()->gpa_size > NIC_MMIO_BASE)
        vam_run_fatal("guest RAM (%llu MiB) overlaps the NIC's registers at %#x",
                      (unsigned long long)(be_memory()->gpa_size >> 20), NIC_MMIO_BASE);
    if (vam_passthrough_overlaps(NIC_IO_BASE, DP83820_IO_SIZE, true) ||
        vam_passthrough_overlaps(NIC_MMIO_BASE, DP83820_MMIO_SIZE, false))
        vam_run_fatal("the passed-through device's BARs overlap the DP83820's (%#x, %#x)",
                      NIC_IO_BASE, NIC_MMIO_BASE);
    pci_function_place_bar(&nic.pci, DP83820_IO_BAR, NIC_IO_BASE);
    pci_function_place_bar(&nic.pci, DP83820_MMIO_BAR, NIC_MMIO_BASE);
}

bool vam_platform_mmio(uint64_t gpa, void *data, unsigned len, bool is_write)
{
    advance_to(now());
    return pci_bus_mmio(&pci, NULL, gpa, data, len, is_write);
}

void vam_platform_guest_return(void)
{
    if (nic_present && nic.tx_pending) {
        advance_to(now());
        dp83820_flush(&nic);
    }
    vam_passthrough_guest_return();
}

bool vam_platform_passthrough_map(be_space_t s, uint64_t va, uint64_t gpa)
{
    return vam_passthrough_map(s, va, gpa);
}

void vam_platform_report(void)
{
    vam_passthrough_report();
    if (!nic_present)
        return;
    const struct dp83820_stats *d = &nic.stats;
    struct be_net_stats b;
    be_net_get_stats(&b);
    uint64_t packets = d->tx_packets + d->rx_packets;
    vam_run_log("net: DP83820 %llu register reads, %llu writes; sent %llu packets (%llu bytes) "
                "in %llu flushes of %llu kicks, received %llu packets (%llu bytes); "
                "no-buffer %llu, filtered %llu, dropped %llu, errors %llu/%llu/%llu, "
                "interrupts %llu",
                (unsigned long long)d->reg_reads, (unsigned long long)d->reg_writes,
                (unsigned long long)d->tx_packets, (unsigned long long)d->tx_bytes,
                (unsigned long long)d->flushes, (unsigned long long)d->tx_kicks,
                (unsigned long long)d->rx_packets, (unsigned long long)d->rx_bytes,
                (unsigned long long)d->rx_no_buffer, (unsigned long long)d->rx_filtered,
                (unsigned long long)d->rx_dropped, (unsigned long long)d->tx_errors,
                (unsigned long long)d->rx_errors, (unsigned long long)d->bus_errors,
                (unsigned long long)d->interrupts);
    vam_run_log("net: back end sent %llu frames with %llu notifications (%llu dropped), "
                "received %llu frames in %llu interrupts with %llu refill notifications",
                (unsigned long long)b.tx_frames, (unsigned long long)b.tx_notifications,
                (unsigned long long)b.tx_dropped, (unsigned long long)b.rx_frames,
                (unsigned long long)b.rx_interrupts, (unsigned long long)b.rx_notifications);
    if (packets)
        vam_run_log("net: per packet: %llu.%02llu register accesses, %llu.%02llu back-end "
                    "notifications",
                    (unsigned long long)((d->reg_reads + d->reg_writes) / packets),
                    (unsigned long long)((d->reg_reads + d->reg_writes) * 100 / packets % 100),
                    (unsigned long long)((b.tx_notifications + b.rx_interrupts) / packets),
                    (unsigned long long)((b.tx_notifications + b.rx_interrupts) * 100 / packets %
                                         100));
}

void vam_platform_init(void)
{
    dm_iobus_init(&bus);
    dm_registry_init(&registry);

    struct x2apic_config ac = {
        .id = 0, .bus_hz = APIC_BUS_HZ, .virtual_wire = true,
        .intr = {.set = apic_intr}, .intr_line = 0,
    };
    x2apic_init(&apic, &ac);
    struct i8259_config pc = {.intr = {.set = x2apic_set_lint, .opaque = &apic}, .intr_line = 0};
    i8259_init(&pic, &pc);
    struct i8254_config tc = {.irq = i8259_irq_line(&pic), .irq_line = I8254_IRQ};
    i8254_init(&pit, &tc);
    struct mc146818_config rc = {.irq = i8259_irq_line(&pic), .irq_line = MC146818_IRQ,
                                 .epoch_sec = (int64_t)be_wallclock_sec(), .epoch_ns = now()};
    mc146818_init(&rtc, &rc);
    struct uart16550_config uc = {.base = UART16550_COM1_BASE, .irq = i8259_irq_line(&pic),
                                  .irq_line = UART16550_COM1_IRQ, .tx = com1_tx};
    uart16550_init(&com1, &uc);
    pci_bus_init(&pci);

    int rc_add = dm_registry_add(&registry, &x2apic_ops, &apic);
    rc_add = rc_add ? rc_add : dm_registry_add(&registry, &i8259_ops, &pic);
    rc_add = rc_add ? rc_add : dm_registry_add(&registry, &i8254_ops, &pit);
    rc_add = rc_add ? rc_add : dm_registry_add(&registry, &mc146818_ops, &rtc);
    rc_add = rc_add ? rc_add : dm_registry_add(&registry, &uart16550_ops, &com1);
    rc_add = rc_add ? rc_add : nic_init();
    if (!rc_add && vam_run_passthrough_vendor &&
        !vam_passthrough_init(&pci, i8259_irq_line(&pic), PASSTHROUGH_IRQ,
                              vam_run_passthrough_vendor, vam_run_passthrough_device))
        vam_run_fatal("vam.passthrough=%04x:%04x: the back end cannot pass that device through",
                      vam_run_passthrough_vendor, vam_run_passthrough_device);
    rc_add = rc_add ? rc_add : dm_registry_init_all(&registry, &bus);
    rc_add = rc_add ? rc_add : dm_iobus_register(&bus, EXIT_PORT, 4, exit_port_io, NULL,
                                                 "exit port");
    rc_add = rc_add ? rc_add : dm_iobus_register(&bus, 0x64, 1, reset_port_io, NULL, "reset");
    rc_add = rc_add ? rc_add : dm_iobus_register(&bus, PCI_CONFIG_ADDRESS, 4, pci_address_port_io,
                                                 &pci, "pci-address+reset");
    rc_add = rc_add ? rc_add : dm_iobus_register(&bus, PCI_CONFIG_DATA, 4, pci_host_io, &pci,
                                                 "pci-data");
    rc_add = rc_add ? rc_add : dm_iobus_register(&bus, PCI_IO_WINDOW, PCI_IO_WINDOW_SIZE,
                                                 pci_io_window_io, &pci, "pci-io-window");
    if (rc_add)
        vam_run_fatal("setting up the device models failed (%d)", rc_add);
    nic_place_bars();
    advance_to(now());
}

/* Port accesses see the devices at the current time. */
struct dm_iobus *vam_platform_bus(void)
{
    advance_to(now());
    return &bus;
}

/* Fires what is due (the timer event normally does, but it may still be
 * on its way while the VAM runs with events masked). */
void vam_platform_advance(void)
{
    uint64_t t = now();
    if (t >= armed_deadline)
        advance_to(t);
}

/* Arms the back end's one-shot timer for the earliest device deadline. */
void vam_platform_arm_timer(void)
{
    if (!deadlines_stale)
        return;
    deadlines_stale = false;
    uint64_t t = now();
    uint64_t d = dm_registry_next_deadline(&registry, t);
    if (d == DM_NO_DEADLINE)
        d = UINT64_MAX;
    if (d != armed_deadline) {
        armed_deadline = d;
        be_set_timer(d);
    }
}

void vam_platform_timer_fired(void)
{
    armed_deadline = UINT64_MAX;
    advance_to(now());
}

bool vam_platform_rdmsr(uint32_t msr, uint64_t *val)
{
    deadlines_stale = true;
    return x2apic_rdmsr(&apic, msr, val, now());
}

bool vam_platform_wrmsr(uint32_t msr, uint64_t val)
{
    deadlines_stale = true;
    return x2apic_wrmsr(&apic, msr, val, now());
}

bool vam_platform_intr(void)
{
    return x2apic_intr(&apic);
}

/* Interrupt acknowledge: the x2APIC's vector, or the 8259's in ExtINT mode. */
unsigned vam_platform_intack(void)
{
    unsigned v = x2apic_intack(&apic);
    if (v == X2APIC_EXTINT)
        v = i8259_intack(&pic);
    return v & 0xff;
}

void vam_platform_console_input(const char *buf, unsigned long len)
{
    deadlines_stale = true;
    uart16550_receive(&com1, (const uint8_t *)buf, len);
}
