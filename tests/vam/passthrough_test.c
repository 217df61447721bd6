/*
 * The front end's device pass-through (vam/run/passthrough.c) on the host,
 * against a fake back end holding one machine function: what the guest's
 * configuration cycles see and reach, which ports and pages are forwarded
 * and mapped, and how the machine interrupt becomes the guest's and ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <string.h>

#include "testutil.h"

#include "../../vam/run/run.h"
#include "devmodels/pci.h"

/* ---- the fake back end ------------------------------------------------------ */

static uint8_t machine_config[256];
static unsigned config_writes;
static struct be_passthrough machine = {
    .devfn = 3 << 3, .vendor = 0x8086, .device = 0x100e, .gsi = 11,
    .bar = {{.base = 0xfebc0000, .size = 0x20000}, {.base = 0xc000, .size = 0x40, .io = true}},
};
static void (*machine_irq)(void *);
static void *machine_irq_opaque;
static unsigned eois, io_calls, maps;
static uint16_t last_port;
static uint64_t last_map_va, last_map_maddr;
static unsigned last_map_perm;
static be_space_t last_map_space;

bool be_passthrough_open(uint16_t vendor, uint16_t device, struct be_passthrough *out,
                         void (*irq)(void *opaque), void *opaque)
{
    if (vendor != machine.vendor || device != machine.device)
        return false;
    *out = machine;
    machine_irq = irq;
    machine_irq_opaque = opaque;
    return true;
}

void be_passthrough_eoi(void)
{
    eois++;
}

uint32_t be_passthrough_config_read(unsigned reg, unsigned len)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v |= (uint32_t)machine_config[reg + i] << (8 * i);
    return v;
}

void be_passthrough_config_write(unsigned reg, unsigned len, uint32_t value)
{
    config_writes++;
    for (unsigned i = 0; i < len; i++)
        machine_config[reg + i] = (uint8_t)(value >> (8 * i));
}

void be_passthrough_io(uint16_t port, void *data, unsigned len, bool is_write)
{
    io_calls++;
    last_port = port;
    if (!is_write)
        memset(data, 0x5a, len);
}

bool be_map_device(be_space_t s, uint64_t va, uint64_t maddr, unsigned perm)
{
    maps++;
    last_map_space = s;
    last_map_va = va;
    last_map_maddr = maddr;
    last_map_perm = perm;
    return true;
}

/* ---- the run time around it -------------------------------------------------------- */

static jmp_buf fatal_jmp;
static bool expect_fatal;
static char fatal_msg[256];

void vam_run_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fatal_msg, sizeof fatal_msg, fmt, ap);
    va_end(ap);
    if (!expect_fatal) {
        fprintf(stderr, "unexpected fatal: %s\n", fatal_msg);
        exit(2);
    }
    longjmp(fatal_jmp, 1);
}

void vam_run_log(const char *fmt, ...)
{
    (void)fmt;
}

/* The guest's interrupt line, as the 8259 would see it. */
static bool guest_line;
static unsigned guest_edges, guest_line_no;

static void set_line(void *opaque, unsigned line, bool level)
{
    (void)opaque;
    guest_line_no = line;
    guest_edges += level && !guest_line;
    guest_line = level;
}

static uint32_t cfg(struct pci_bus *bus, unsigned reg, unsigned len)
{
    return pci_bus_config_read(bus, 0, PCI_DEVFN(5, 0), reg, len);
}

static void put32(unsigned reg, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        machine_config[reg + i] = (uint8_t)(v >> (8 * i));
}

int main(void)
{
    static struct pci_bus bus;
    put32(0x00, 0x100e8086);
    put32(0x04, 0x00100007);                /* status: capability list; command */
    put32(0x10, 0xfebc0000);
    put32(0x14, 0x0000c001);
    put32(0x34, 0x000000dc);                /* a capability at 0xdc */
    put32(0x3c, 0x0000010b);                /* firmware's line 11, pin A */
    pci_bus_init(&bus);
    struct dm_irq_line irq = {.set = set_line};

    CHECK(!vam_passthrough_init(&bus, irq, 10, 0x8086, 0x1234), "a device the back end lacks");
    CHECK(vam_passthrough_init(&bus, irq, 10, 0x8086, 0x100e), "pass-through of 8086:100e");

    /* the guest's view: the machine's identity and BARs, the VAM's line
     * and pin, no capabilities; nothing at other slots */
    CHECK(cfg(&bus, 0x00, 4) == 0x100e8086, "id %#x", cfg(&bus, 0x00, 4));
    CHECK(cfg(&bus, 0x10, 4) == 0xfebc0000, "BAR 0 %#x", cfg(&bus, 0x10, 4));
    CHECK(cfg(&bus, 0x06, 2) == 0x0000, "status %#x (capability list hidden)", cfg(&bus, 0x06, 2));
    CHECK(cfg(&bus, 0x04, 4) == 0x00000007, "command+status %#x", cfg(&bus, 0x04, 4));
    CHECK(cfg(&bus, 0x34, 1) == 0, "capability pointer %#x", cfg(&bus, 0x34, 1));
    CHECK(cfg(&bus, 0x3c, 1) == 10, "interrupt line %u", cfg(&bus, 0x3c, 1));
    CHECK(cfg(&bus, 0x3d, 1) == 1, "interrupt pin %u", cfg(&bus, 0x3d, 1));
    CHECK(cfg(&bus, 0x3c, 4) == 0x0000010a, "line dword %#x", cfg(&bus, 0x3c, 4));
    CHECK(pci_bus_config_read(&bus, 0, PCI_DEVFN(3, 0), 0, 4) == 0xffffffffu,
          "the machine's own slot is not the guest's");

    /* writes: the command register reaches the machine, the line register
     * stays the guest's scratch byte, the pin is read-only */
    unsigned w = config_writes;
    pci_bus_config_write(&bus, 0, PCI_DEVFN(5, 0), 0x04, 2, 0x0006);
    CHECK(config_writes == w + 1 && machine_config[0x04] == 0x06, "command forwarded");
    pci_bus_config_write(&bus, 0, PCI_DEVFN(5, 0), 0x3c, 1, 0x42);
    pci_bus_config_write(&bus, 0, PCI_DEVFN(5, 0), 0x3d, 1, 0x03);
    CHECK(config_writes == w + 1, "line/pin writes not forwarded");
    CHECK(machine_config[0x3c] == 0x0b, "machine line untouched");
    CHECK(cfg(&bus, 0x3c, 2) == 0x0142, "line %#x", cfg(&bus, 0x3c, 2));

    /* BAR sizing (all ones, then the old value) is forwarded ... */
    pci_bus_config_write(&bus, 0, PCI_DEVFN(5, 0), 0x10, 4, 0xffffffffu);
    pci_bus_config_write(&bus, 0, PCI_DEVFN(5, 0), 0x10, 4, 0xfebc0000u);
    CHECK(config_writes == w + 3, "sizing forwarded");
    /* ... moving it is refused */
    expect_fatal = true;
    if (!setjmp(fatal_jmp)) {
        pci_bus_config_write(&bus, 0, PCI_DEVFN(5, 0), 0x10, 4, 0xfe000000u);
        CHECK(false, "moving BAR 0 was accepted");
    } else {
        CHECK(strstr(fatal_msg, "moves BAR 0") != NULL, "message: %s", fatal_msg);
    }
    expect_fatal = false;
    CHECK(machine_config[0x13] == 0xfe && machine_config[0x12] == 0xbc, "BAR 0 not moved");

    /* ports: inside the I/O BAR forwarded, outside not claimed */
    uint32_t v = 0;
    CHECK(vam_passthrough_io(0xc010, &v, 4, false) && v == 0x5a5a5a5a && last_port == 0xc010,
          "port in BAR 1");
    unsigned calls = io_calls;
    CHECK(!vam_passthrough_io(0xc040, &v, 1, false), "port past BAR 1");
    CHECK(!vam_passthrough_io(0xc03e, &v, 4, false), "access crossing BAR 1's end");
    CHECK(io_calls == calls, "unclaimed ports reached the machine");

    /* memory: a page inside BAR 0 is mapped where the guest touched it,
     * at the same (machine) address, read-write */
    CHECK(vam_passthrough_map(7, 0xffffc90000012345ull, 0xfebd2345ull), "page in BAR 0");
    CHECK(last_map_space == 7 && last_map_va == 0xffffc90000012000ull &&
              last_map_maddr == 0xfebd2000ull && last_map_perm == (BE_R | BE_W),
          "mapping %#llx -> %#llx perm %u", (unsigned long long)last_map_va,
          (unsigned long long)last_map_maddr, last_map_perm);
    unsigned m = maps;
    CHECK(!vam_passthrough_map(7, 0xffffc90000000000ull, 0xfebe0000ull), "page past BAR 0");
    CHECK(!vam_passthrough_map(7, 0xffffc90000000000ull, 0xc000ull), "I/O BAR is no memory");
    CHECK(maps == m, "a page outside the BARs was mapped");
    CHECK(vam_passthrough_overlaps(0xfebdf000, 0x2000, false), "overlap at BAR 0's end");
    CHECK(!vam_passthrough_overlaps(0xfebe0000, 0x1000, false), "no overlap after BAR 0");

    /* the interrupt: the machine's line raises the guest's once, however
     * often Xen reports it; the guest's return lowers it and ends the
     * machine interrupt once */
    CHECK(machine_irq != NULL, "no interrupt handler registered");
    machine_irq(machine_irq_opaque);
    machine_irq(machine_irq_opaque);
    CHECK(guest_line && guest_edges == 1 && guest_line_no == 10, "line %d edges %u on %u",
          guest_line, guest_edges, guest_line_no);
    CHECK(eois == 0, "ended before the guest ran its handler");
    vam_passthrough_guest_return();
    CHECK(!guest_line && eois == 1, "line %d eois %u", guest_line, eois);
    vam_passthrough_guest_return();
    CHECK(eois == 1, "a return without an interrupt ended one");
    machine_irq(machine_irq_opaque);
    CHECK(guest_line && guest_edges == 2, "the next interrupt is a new edge");
    return test_done("passthrough");
}
