/*
 * The platform the guest sees: the device models of devmodels/ on one port
 * bus, wired like a PC (8254 channel 0 -> 8259 IRQ 0, COM1 -> IRQ 4, RTC ->
 * IRQ 8, the 8259 pair -> LINT0 of the x2APIC in virtual-wire mode, the
 * x2APIC -> the virtual CPU), time from the back end's clock, the UART's
 * output on the back end's console, the exit port of the test guests
 * (QEMU's isa-debug-exit protocol at 0xf4), and PCI configuration space
 * (mechanism #1 at 0xcf8/0xcfc) with the host bridge alone on bus 0.
 */
#include "run.h"

#include "devmodels/i8254.h"
#include "devmodels/i8259.h"
#include "devmodels/mc146818.h"
#include "devmodels/pci.h"
#include "devmodels/uart16550.h"
#include "devmodels/x2apic.h"

#define EXIT_PORT 0xf4
#define APIC_BUS_HZ 1000000000u     /* x2APIC timer clock before the divider */

static struct dm_iobus bus;
static struct dm_registry registry;
static struct i8259 pic;
static struct i8254 pit;
static struct mc146818 rtc;
static struct uart16550 com1;
static struct x2apic apic;
static struct pci_bus pci;
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
    rc_add = rc_add ? rc_add : dm_registry_init_all(&registry, &bus);
    rc_add = rc_add ? rc_add : dm_iobus_register(&bus, EXIT_PORT, 4, exit_port_io, NULL,
                                                 "exit port");
    rc_add = rc_add ? rc_add : dm_iobus_register(&bus, 0x64, 1, reset_port_io, NULL, "reset");
    rc_add = rc_add ? rc_add : dm_iobus_register(&bus, PCI_CONFIG_ADDRESS, 4, pci_address_port_io,
                                                 &pci, "pci-address+reset");
    rc_add = rc_add ? rc_add : dm_iobus_register(&bus, PCI_CONFIG_DATA, 4, pci_host_io, &pci,
                                                 "pci-data");
    if (rc_add)
        vam_run_fatal("setting up the device models failed (%d)", rc_add);
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
