/*
 * The one interface between the VAM front end (vam/, hypervisor-neutral:
 * virtual CPU, instruction emulation, device models, interrupt delivery) and
 * a back end that maps it onto one hypervisor.  vam-xen implements it on
 * Xen's 64-bit PV ABI; a later vam-l4 implements it on L4 X.2 IPC.  The
 * front end includes no hypervisor header and calls nothing else.
 *
 * Execution model (thesis 4.4; both back ends):
 *  - The guest kernel and guest user code both run deprivileged, each in
 *    its own address space built by the front end (kernel spaces, user
 *    spaces).  The VAM runs beside them with its own stack: on Xen in PV
 *    kernel mode while the whole guest runs in PV user mode (so every trap
 *    of the guest lands on the VAM's stack and never writes a frame into
 *    guest memory the front end has not mapped yet); on L4 as the guest
 *    task's exception handler thread.
 *  - Rewritten sites reach the VAM through the back end's gate (be_gate):
 *    hot sites never leave the guest (they are memory operations on the
 *    front end's fixed area, mapped into every kernel space).
 *  - Whatever the hypervisor reports (exceptions, faults, system calls,
 *    gate entries, timer and device events) reaches the front end through
 *    the vam_fe_* entry points below with the guest's whole register file
 *    (the thesis's indivisibility rule is the front end's job).  The VAM
 *    itself runs with hypervisor events masked, except inside be_block.
 *
 * Addresses: "gpa" is a guest-physical address (the guest's view of RAM,
 * 0-based and contiguous); translating it to whatever the hypervisor needs
 * (Xen: machine frames through the p2m; L4: the VM task's own memory) is the
 * back end's job.
 */
#ifndef VAM_BACKEND_H
#define VAM_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "vam/regs.h"

/* ---- calls from the front end into the back end ---------------------------- */

/* Guest-physical memory handed to the guest, and the VAM's mapping of it
 * (the front end reads and writes guest memory through this window). */
struct be_memory {
    uint64_t gpa_size;      /* bytes of guest-physical RAM */
    uint8_t *window;        /* VAM virtual address of gpa 0, gpa_size bytes */
};
const struct be_memory *be_memory(void);

/* Address spaces.  The front end keeps the guest's page tables as the
 * truth and treats the back end's translations as a TLB: it installs a
 * translation after walking the guest tables on a fault, and flushes on
 * invlpg, CR3 writes and whatever else architecturally flushes. */
typedef int be_space_t;                       /* 0 .. BE_MAX_SPACES-1 */
#define BE_MAX_SPACES 64
enum be_perm { BE_R = 1, BE_W = 2, BE_X = 4, BE_USER = 8, BE_GLOBAL = 16 };

/* Either kind maps nothing but what the front end installs (kernel spaces
 * may also receive be_map_vam pages). */
enum be_space_kind { BE_SPACE_KERNEL, BE_SPACE_USER };
be_space_t be_space_create(enum be_space_kind kind);   /* <0 when out of spaces */
void be_space_destroy(be_space_t s);
/* Makes `kernel` the active kernel-mode space and `user` the user-mode one
 * (a negative value keeps the current one); each must be of that kind. */
void be_space_activate(be_space_t kernel, be_space_t user);
/* Installs va -> gpa (4 KiB) with `perm`; false if the back end refused
 * (the front end turns that into a guest-visible fault or a VAM error). */
bool be_map(be_space_t s, uint64_t va, uint64_t gpa, unsigned perm);
/* Maps a page of the VAM's own memory (page-aligned `vam_page`) at `va` in
 * kernel space `s`: the virtual CPU's hot data that rewritten sites reach
 * with 32-bit absolute addresses in the top 2 GiB (afterburn/abi.h), the
 * front end's jump landing stubs, the gate.  Such pages survive be_flush. */
bool be_map_vam(be_space_t s, uint64_t va, const void *vam_page, unsigned perm);
void be_unmap(be_space_t s, uint64_t va);
void be_flush(be_space_t s, bool include_global);

/* Continues the guest with `regs` (rip, rflags, rsp and the general
 * registers): in guest user mode (the active user space) if regs->cs has
 * RPL 3, else in guest kernel mode (the active kernel space).  In user mode
 * cs and ss are the guest's own selectors: the back end runs on them when
 * they index descriptors loaded with be_set_user_gdt that fit (a code
 * segment for cs, a writable data segment for ss), else on selectors of its
 * own.  In kernel mode only the RPL is read.  Entries report the guest's
 * mode the same way (RPL 0 or 3 in regs->cs); from user mode cs and ss are
 * the selectors the guest ran on when they are its own (a be_set_user_gdt
 * index: user code may have changed them, e.g. a far return to 32-bit
 * code), else the back end's.  Hypervisor events are always enabled while the guest runs
 * (the front end holds interrupts pending while the guest's virtual IF is
 * 0).  Comes back only through the vam_fe_* entry points. */
void be_resume(const struct vam_regs *regs) __attribute__((noreturn));

/* The gate: how rewritten guest kernel code enters the VAM.  The back end
 * provides one page of position-independent code (page-aligned VAM memory)
 * whose first byte is the entry; the front end maps it with be_map_vam at
 * `va` (BE_R | BE_W | BE_X: the gate may keep scratch data in its page) in
 * every kernel space and points `call *` slots and its jump landing stubs
 * at it.  Entering the gate reaches vam_fe_gate with the guest's registers
 * as they were when it jumped there (regs->rip = va; for a call, regs->rsp
 * points at the return address).  An event that interrupts the guest inside
 * the gate is reported (vam_fe_interrupt) with rip = va exactly: the gate
 * changes nothing before it enters the VAM, so it can be restarted. */
const void *be_gate_page(uint64_t va);

/* Segment bases (canonical) the hardware must hold for the guest: FS in either mode,
 * GS while the guest runs in kernel mode and while it runs in user mode
 * (the back end loads the one for the mode it resumes). */
enum be_seg_base { BE_FS_BASE, BE_GS_BASE_KERNEL, BE_GS_BASE_USER };
void be_set_seg_base(enum be_seg_base which, uint64_t base);

/* Time: nanoseconds of a monotonic clock, the TSC frequency the guest sees,
 * and a one-shot timer event (vam_fe_timer) at an absolute time
 * (UINT64_MAX cancels). */
uint64_t be_now_ns(void);
/* Wall-clock seconds since 1970 now (the guest's RTC starts from it), 0 if
 * the hypervisor does not say. */
uint64_t be_wallclock_sec(void);
uint64_t be_tsc_hz(void);
void be_set_timer(uint64_t deadline_ns);

/* Interrupts from the hypervisor.  The front end masks them around its own
 * critical sections; be_block() waits until an event has been delivered
 * (events are enabled atomically with blocking: no lost wake-up). */
void be_events_mask(void);
void be_events_unmask(void);
void be_block(void);

/* FPU: the guest's CR0.TS as the hardware must see it. */
void be_fpu_set_ts(bool ts);

/* The guest's CR4.TSD: with it set, rdtsc and rdtscp fault in guest user
 * mode (#GP).  A back end that runs the guest kernel deprivileged as well
 * may report them as #GP from guest kernel mode too; the front end then
 * performs them. */
void be_set_tsd(bool tsd);

/* The first n (at most BE_USER_GDT_MAX) descriptors of the guest's GDT,
 * for guest user mode to run on natively: then far transfers to the
 * guest's 32-bit code segment, LAR/LSL/VERR on its selectors (the vDSO's
 * getcpu) and selector checks on signal return behave as on hardware.  The
 * back end keeps the user descriptors among them (present code or data
 * segments of DPL 3) and blanks the rest.  false if it cannot (the guest
 * then runs on the back end's flat selectors). */
#define BE_USER_GDT_MAX 16
bool be_set_user_gdt(const uint64_t *desc, unsigned n);

/* Network (thesis 4.4.5, 5.2.3): the machine's NIC, which the back end
 * owns and drives (on Xen the VAM is dom0).  The front end's DP83820 model
 * hands it whole batches of frames, and the back end hands received frames
 * to the front end in batches too, so one device notification or interrupt
 * moves many packets. */
struct be_net_frame {
    const uint8_t *data;
    uint32_t len;           /* an Ethernet frame without FCS */
};
struct be_net_client {
    /* Received frames, valid during the call only; returns how many the
     * front end took from the start of the list.  The others stay with the
     * back end and are offered again at the next be_net_poll.  Called from
     * be_net_poll and from the back end's NIC interrupt (events masked). */
    unsigned (*receive)(void *opaque, const struct be_net_frame *frames, unsigned n);
    void *opaque;
};
struct be_net_stats {
    uint64_t tx_frames, tx_bytes;
    uint64_t tx_notifications;  /* doorbells rung on the NIC */
    uint64_t tx_dropped;        /* no room in the NIC's ring, or too long */
    uint64_t rx_frames, rx_bytes;
    uint64_t rx_interrupts;     /* NIC interrupts taken */
    uint64_t rx_notifications;  /* doorbells for refilled receive buffers */
};
/* Opens the machine's NIC for `client` and writes its MAC address; false,
 * after a console line saying why, if there is none the back end drives. */
bool be_net_open(const struct be_net_client *client, uint8_t mac[6]);
/* Queues n frames for transmission and notifies the NIC once.  Returns how
 * many were queued; the others are dropped (counted in tx_dropped). */
unsigned be_net_send(const struct be_net_frame *frames, unsigned n);
/* Offers the frames received and not yet taken to client->receive. */
void be_net_poll(void);
void be_net_get_stats(struct be_net_stats *s);

/* Device pass-through (thesis 4.2.5): a machine PCI function that the
 * guest's own driver drives.  The front end shows it on the guest's PCI bus
 * and forwards its configuration space, its I/O ports and its interrupt;
 * its memory BARs are mapped into the guest.  The function keeps its
 * machine BAR addresses (the guest sees them unchanged) and DMAs to
 * machine addresses, which the guest learns from be_dma_ranges. */
#define BE_PCI_BARS 6
struct be_pci_bar {
    uint64_t base, size;    /* size 0: none */
    bool io;                /* I/O ports, else memory */
};
struct be_passthrough {
    uint8_t devfn;          /* on the machine's bus 0 */
    uint16_t vendor, device;
    unsigned gsi;
    struct be_pci_bar bar[BE_PCI_BARS];
};
/* Claims the first function vendor:device on bus 0 that the back end does
 * not use itself; `irq` runs (events masked) when its interrupt line is
 * asserted, and the line stays masked until be_passthrough_eoi.  false,
 * after a console line saying why, if there is none or it cannot be had. */
bool be_passthrough_open(uint16_t vendor, uint16_t device, struct be_passthrough *out,
                         void (*irq)(void *opaque), void *opaque);
void be_passthrough_eoi(void);
/* Configuration space of the claimed function (len 1, 2, 4; naturally aligned). */
uint32_t be_passthrough_config_read(unsigned reg, unsigned len);
void be_passthrough_config_write(unsigned reg, unsigned len, uint32_t value);
/* A port access inside one of its I/O BARs (len 1, 2, 4). */
void be_passthrough_io(uint16_t port, void *data, unsigned len, bool is_write);
/* Maps a page of its memory BARs (machine address) at va in space s,
 * uncached; false if maddr is not inside one. */
bool be_map_device(be_space_t s, uint64_t va, uint64_t maddr, unsigned perm);
/* Where guest RAM lies for a device's DMA: up to max ranges, guest-physical
 * start, bus (machine) start and size, covering all of guest RAM in order;
 * returns how many were needed (more than max: not all written). */
struct be_dma_range {
    uint64_t gpa, bus, size;
};
unsigned be_dma_ranges(struct be_dma_range *r, unsigned max);

/* Platform console (the VAM's own messages and the UART's output). */
void be_console_write(const char *buf, unsigned long len);

/* Ends the VM. */
enum be_shutdown { BE_POWEROFF, BE_REBOOT, BE_CRASH };
void be_shutdown(enum be_shutdown why) __attribute__((noreturn));

/* ---- calls from the back end into the front end -----------------------------
 * Each entry may end in be_resume; if it returns instead, the back end
 * resumes the guest with *regs as the entry left them. */

/* After the back end has set itself up: the guest image handed to the VAM
 * (Xen: the first module) and the VAM's command line. */
void vam_fe_main(const uint8_t *guest, uint64_t guest_len, const char *cmdline)
    __attribute__((noreturn));

/* An exception in the guest (either mode) that the hypervisor reported:
 * vector, error code where the CPU defines one, and cr2 for #PF (whose
 * U bit is the hypervisor's view: the guest's mode is the RPL of regs->cs).  Vectors
 * 32 and up are software interrupts (`int $0x80`) with rip past the
 * instruction; other `int n` arrive as #GP with an IDT error code. */
void vam_fe_exception(struct vam_regs *regs, unsigned vector, uint64_t error_code, uint64_t cr2);
/* A system call instruction executed by the guest (rip past it). */
void vam_fe_syscall(struct vam_regs *regs);
/* The guest entered the gate (be_gate_page). */
void vam_fe_gate(struct vam_regs *regs);
/* Hypervisor events interrupted the guest and their handlers
 * (vam_fe_timer, vam_fe_console_input) have run: regs is the guest's state
 * at the interruption.  The front end may deliver an interrupt (changing
 * regs) or switch elsewhere with be_resume; when it returns, the back end
 * resumes regs. */
void vam_fe_interrupt(struct vam_regs *regs);
/* The one-shot timer expired (called with events masked, also while the
 * VAM waits in be_block). */
void vam_fe_timer(void);
/* Console input for the guest's UART. */
void vam_fe_console_input(const char *buf, unsigned long len);

#endif
