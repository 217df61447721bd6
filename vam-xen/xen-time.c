/*
 * Time on Xen (backend.h: be_now_ns, be_wallclock_sec, be_tsc_hz,
 * be_set_timer): Xen system time from the vCPU's vcpu_time_info, the wall
 * clock from shared_info, and the one-shot timer on VIRQ_TIMER.
 */
#include "xen-time.h"
#include "hypercall.h"
#include "xen-events.h"

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* (delta << shift or >> -shift) * mul >> 32, with a 64x32-bit product */
static uint64_t scale_delta(uint64_t delta, uint32_t mul, int8_t shift)
{
    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

uint64_t be_now_ns(void)
{
    volatile struct vcpu_time_info *t = &vamxen_vcpu->time;
    uint32_t version;
    uint64_t ns;
    do {
        version = t->version;
        asm volatile("" ::: "memory");
        ns = t->system_time + scale_delta(rdtsc() - t->tsc_timestamp, t->tsc_to_system_mul,
                                          t->tsc_shift);
        asm volatile("" ::: "memory");
    } while ((version & 1) || version != t->version);
    return ns;
}

/* shared_info's wc_* is the wall-clock time at system time 0. */
uint64_t be_wallclock_sec(void)
{
    volatile struct shared_info *sh = vamxen_shared;
    uint32_t version;
    uint64_t sec, nsec;
    do {
        version = sh->wc_version;
        asm volatile("" ::: "memory");
        sec = (uint64_t)sh->xen_wc_sec_hi << 32 | sh->wc_sec;
        nsec = sh->wc_nsec;
        asm volatile("" ::: "memory");
    } while ((version & 1) || version != sh->wc_version);
    if (!sec && !nsec)
        return 0;
    return sec + (nsec + be_now_ns()) / 1000000000ULL;
}

uint64_t be_tsc_hz(void)
{
    volatile struct vcpu_time_info *t = &vamxen_vcpu->time;
    uint64_t hz = (1000000000ULL << 32) / t->tsc_to_system_mul;
    return t->tsc_shift < 0 ? hz << -t->tsc_shift : hz >> t->tsc_shift;
}

void be_set_timer(uint64_t deadline_ns)
{
    if (deadline_ns == UINT64_MAX) {
        xen_hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_stop_singleshot_timer, 0, 0);
        return;
    }
    struct vcpu_set_singleshot_timer st = {.timeout_abs_ns = deadline_ns, .flags = 0};
    long rc = xen_hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0,
                             (unsigned long)&st);
    if (rc)
        vamxen_panic("VCPUOP_set_singleshot_timer failed", rc);
}

void vamxen_time_init(vamxen_port_handler on_timer)
{
    /* Xen's default 10 ms ticker would fire without being asked. */
    xen_hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_stop_periodic_timer, 0, 0);
    vamxen_bind_virq(VIRQ_TIMER, on_timer);
}
