/*
 * The one interface between the VAM front end (vam/, hypervisor-neutral:
 * virtual CPU, instruction emulation, device models, interrupt delivery) and
 * a back end that maps it onto one hypervisor.  vam-xen implements it on
 * Xen's 64-bit PV ABI; a later vam-l4 implements it on L4 X.2 IPC.  The
 * front end includes no hypervisor header and calls nothing else.
 *
 * Execution model (thesis 4.4; both back ends):
 *  - The VAM runs at the guest kernel's privilege level, in the guest's
 *    address space: rewritten sites call VAM code directly, without a
 *    protection-domain crossing.  On Xen this is PV kernel mode, shared by
 *    the guest kernel and the VAM; on L4 it is the guest's task.
 *  - Guest user code runs deprivileged in a separate address space (Xen:
 *    the PV user page table; L4: the same task or another one).
 *  - Whatever the hypervisor reports (exceptions, faults, system calls from
 *    user mode, timer and device events) reaches the front end through the
 *    vam_fe_* entry points below, always with the boundary state of the
 *    guest (the thesis's indivisibility rule is the front end's job).
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

/* A kernel-mode space also maps the VAM itself (the guest kernel calls into
 * it); a user-mode space maps nothing but what the front end installs. */
enum be_space_kind { BE_SPACE_KERNEL, BE_SPACE_USER };
be_space_t be_space_create(enum be_space_kind kind);   /* <0 when out of spaces */
void be_space_destroy(be_space_t s);
/* Makes `kernel` the active kernel-mode space and `user` the user-mode one
 * (a negative value keeps the current one). */
void be_space_activate(be_space_t kernel, be_space_t user);
/* Installs va -> gpa (4 KiB) with `perm`; false if the back end refused
 * (the front end turns that into a guest-visible fault or a VAM error). */
bool be_map(be_space_t s, uint64_t va, uint64_t gpa, unsigned perm);
/* Maps a page of the VAM's own memory (page-aligned `vam_page`) at `va` in
 * kernel space `s`: the virtual CPU's hot data that rewritten sites reach
 * with 32-bit absolute addresses in the top 2 GiB (afterburn/abi.h). */
bool be_map_vam(be_space_t s, uint64_t va, const void *vam_page, unsigned perm);
void be_unmap(be_space_t s, uint64_t va);
void be_flush(be_space_t s, bool include_global);

/* Continues the guest with `regs` (rip, rflags, rsp and the general
 * registers): in user mode if regs->cs has RPL 3, else in kernel mode
 * (alongside the VAM, in the active kernel space).  Only that RPL is read
 * from cs and ss: the back end supplies the selectors its hypervisor needs
 * (the guest's own selector values live in the front end's vCPU).
 * RFLAGS.IF decides whether hypervisor events are delivered.  Comes back
 * only through the vam_fe_* entry points. */
void be_resume(const struct vam_regs *regs) __attribute__((noreturn));

/* Where the hypervisor switches stacks when guest user mode traps into the
 * VAM (Xen: stack_switch; L4: the exception handler's stack). */
void be_set_kernel_stack(uint64_t rsp);

/* Segment bases the hardware must hold for the guest. */
enum be_seg_base { BE_FS_BASE, BE_GS_BASE_KERNEL, BE_GS_BASE_USER };
void be_set_seg_base(enum be_seg_base which, uint64_t base);

/* Time: nanoseconds of a monotonic clock, the TSC frequency the guest sees,
 * and a one-shot timer event (vam_fe_timer) at an absolute time
 * (UINT64_MAX cancels). */
uint64_t be_now_ns(void);
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

/* Platform console (the VAM's own messages and the UART's output). */
void be_console_write(const char *buf, unsigned long len);

/* Ends the VM. */
enum be_shutdown { BE_POWEROFF, BE_REBOOT, BE_CRASH };
void be_shutdown(enum be_shutdown why) __attribute__((noreturn));

/* ---- calls from the back end into the front end ----------------------------- */

/* After the back end has set itself up: the guest image handed to the VAM
 * (Xen: the first module) and the VAM's command line. */
void vam_fe_main(const uint8_t *guest, uint64_t guest_len, const char *cmdline)
    __attribute__((noreturn));

/* An exception in the guest (either mode) that the hypervisor reported:
 * vector, error code where the CPU defines one, and cr2 for #PF. */
void vam_fe_exception(struct vam_regs *regs, unsigned vector, uint64_t error_code, uint64_t cr2);
/* A system call instruction executed in guest user mode. */
void vam_fe_syscall(struct vam_regs *regs);
/* The one-shot timer expired. */
void vam_fe_timer(void);
/* Console input for the guest's UART. */
void vam_fe_console_input(const char *buf, unsigned long len);

#endif
