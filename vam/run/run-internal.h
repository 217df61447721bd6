/*
 * State of the run time, shared by run.c (start of day) and entry.c (the
 * vam_fe_* entries).  Internal to vam/run.
 */
#ifndef VAM_RUN_INTERNAL_H
#define VAM_RUN_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "vam/emul.h"
#include "vam/inject.h"
#include "vam/layout.h"
#include "vam/loader.h"
#include "vam/rewrite.h"
#include "vam/shadow.h"
#include "vam/stats.h"
#include "vam/vcpu.h"

#define VAM_RUN_NO_JUMP 0xffffffffu     /* fixed->jump_slot when no landing stub ran */

struct vam_run {
    struct vam_guest guest;
    struct vam_site_table table;
    struct vam_stats stats;
    struct vam_vcpu vcpu;
    struct vam_shadow tlb;
    struct vam_emul emul;
    const void *gate_page;
    bool linux_boot;               /* entered with the Linux boot protocol */
    uint64_t start_ns;          /* when the guest was entered */
    /* interrupt shadow of sti: single-stepping one guest instruction */
    bool stepping;
    /* an interrupt waits while the guest is inside a logging stub: stepping
     * it out of the stub */
    bool stepping_out;
    /* page-table write logging (vam/memsite.h) */
    bool pt_logging;
    uint32_t pt_log_consumed;
    size_t nmemsites;
    unsigned memsites_rewritten, memstubs;
    uint64_t pt_log_entries, pt_log_drains, step_outs;
    bool intr;                  /* the x2APIC's INTR line */
    bool hot_protected;         /* the hot page is read-only for the guest */
    uint64_t hot_toggles, hot_faults, chained;
    /* what the back end was last told */
    uint64_t hw_fs_base, hw_gs_base[2];
    bool hw_ts, hw_tsd;
    uint64_t dr[8];             /* debug registers as the guest set them (not armed) */
    /* counters */
    uint64_t entries_gate, entries_exception, entries_syscall, entries_interrupt;
    uint64_t injected_irqs, page_faults_filled, user_site_faults, halts, unannotated;
    uint64_t mmio, mmio_unclaimed;  /* device-memory accesses emulated, and reaching nothing */
};
extern struct vam_run vam_run;

void vam_run_emul_init(void);
void vam_run_resume(struct vam_regs *r) __attribute__((noreturn));
void vam_run_report(void);
void vam_run_protect_hot(bool protect);
bool vam_run_in_memstubs(uint64_t rip);
void vam_run_pt_log_drain(void);

#endif
