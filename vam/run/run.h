/*
 * The VAM front end's run time (vam/run/): what ties the loader, rewriter,
 * virtual CPU, emulator and device models together behind the vam_fe_*
 * entry points of vam/backend.h.  Internal to vam/run.
 */
#ifndef VAM_RUN_H
#define VAM_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "devmodels/dm.h"
#include "vam/backend.h"

/* Guest-visible pages the VAM keeps in every kernel space, at the top of
 * the address space (vam/layout.h): the hot data, the jump landing stubs,
 * the back end's gate. */
#define VAM_RUN_FIXED_VA  VAM_LAYOUT_BASE
#define VAM_RUN_STUBS_VA  (VAM_LAYOUT_BASE + 0x1000)
#define VAM_RUN_GATE_VA   (VAM_LAYOUT_BASE + 0x2000)
/* Page-table write logging (vam/memsite.h), when the guest has memory
 * sites: the logging stubs (read/execute), the log's count and its ring
 * (read/write).  The guest never runs with interrupts delivered inside the
 * stubs (entry.c), so the VAM never sees the log half-written. */
#define VAM_RUN_MEMSTUBS_VA    (VAM_LAYOUT_BASE + 0x3000)
#define VAM_RUN_MEMSTUBS_PAGES 2
#define VAM_RUN_PTLOG_VA       (VAM_LAYOUT_BASE + 0x5000)     /* uint32_t count */
#define VAM_RUN_PTLOG_RING_VA  (VAM_LAYOUT_BASE + 0x6000)
#define VAM_RUN_PTLOG_PAGES    4                               /* the ring: 2048 entries */
#define VAM_RUN_PTLOG_ENTRIES  (VAM_RUN_PTLOG_PAGES * 512)
#define VAM_RUN_AREA_END       (VAM_RUN_PTLOG_RING_VA + VAM_RUN_PTLOG_PAGES * 0x1000)
#define VAM_RUN_STUB_SIZE 16        /* bytes per jump landing stub */

/* run.c */
void vam_run_fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void vam_run_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vam_run_guest_exit(uint32_t code) __attribute__((noreturn));
void vam_run_guest_reset(const char *how) __attribute__((noreturn));
/* The x2APIC's INTR output changed. */
void vam_run_intr_changed(bool level);

/* platform.c */
void vam_platform_init(void);
struct dm_iobus *vam_platform_bus(void);    /* brought up to date first */
void vam_platform_advance(void);
void vam_platform_arm_timer(void);
void vam_platform_timer_fired(void);
bool vam_platform_rdmsr(uint32_t msr, uint64_t *val);
bool vam_platform_wrmsr(uint32_t msr, uint64_t val);
bool vam_platform_intr(void);
unsigned vam_platform_intack(void);
void vam_platform_console_input(const char *buf, unsigned long len);
void vam_platform_console_flush(void);
/* A memory access the guest's tables map outside RAM (gpa): true if a
 * device decoded it (a read's bytes in data); false leaves data alone. */
bool vam_platform_mmio(uint64_t gpa, void *data, unsigned len, bool is_write);
/* The guest returns from an interrupt or to user mode: its driver is done
 * queueing (the NIC model hands its batch to the back end) and its
 * interrupt handler has run (a passed-through device's interrupt ends). */
void vam_platform_guest_return(void);
/* A guest kernel access to device memory of a passed-through device: maps
 * the page at va in space s (true; the access is retried) or false. */
bool vam_platform_passthrough_map(be_space_t s, uint64_t va, uint64_t gpa);
void vam_platform_report(void);

/* passthrough.c (vam.passthrough=VENDOR:DEVICE) */
extern uint16_t vam_run_passthrough_vendor, vam_run_passthrough_device;
struct pci_bus;
bool vam_passthrough_init(struct pci_bus *bus, struct dm_irq_line irq, unsigned irq_line,
                          uint16_t vendor, uint16_t device);
bool vam_passthrough_overlaps(uint64_t base, uint64_t size, bool io);
bool vam_passthrough_io(uint16_t port, void *data, unsigned len, bool is_write);
bool vam_passthrough_map(be_space_t s, uint64_t va, uint64_t gpa);
void vam_passthrough_guest_return(void);
void vam_passthrough_report(void);

#endif
