/*
 * Events on Xen: shared_info, the callbacks, the event-channel upcall,
 * masking and blocking (backend.h: be_events_mask/unmask, be_block).
 *
 * 2-level event channels: Xen sets evtchn_pending[port]; if the port is not
 * masked it also sets bit port/64 of the vCPU's evtchn_pending_sel and the
 * vCPU's upcall_pending, and delivers the callback when upcall_mask is 0.
 */
#include "xen-events.h"
#include "hypercall.h"
#include "xen-console.h"

/* A page inside the initial mapping, remapped onto Xen's shared_info frame. */
static char shared_page[4096] __attribute__((aligned(4096)));
struct shared_info *vamxen_shared;
struct vcpu_info *vamxen_vcpu;

#define MAX_PORTS 64
static vamxen_port_handler port_handlers[MAX_PORTS];

extern char vamxen_event_callback[], vamxen_failsafe_callback[], vamxen_syscall_callback[];

#define barrier() asm volatile("" ::: "memory")

static unsigned long xchg_ulong(unsigned long *p, unsigned long v)
{
    asm volatile("xchg %0, %1" : "+r"(v), "+m"(*p) : : "memory");
    return v;
}

static void clear_bit_locked(unsigned long *word, unsigned bit)
{
    asm volatile("lock btr %1, %0" : "+m"(*word) : "r"((unsigned long)bit) : "memory");
}

static void register_callback(unsigned type, unsigned flags, const char *entry)
{
    struct callback_register cb = {.type = (uint16_t)type, .flags = (uint16_t)flags,
                                   .address = (unsigned long)entry};
    long rc = xen_hypercall2(__HYPERVISOR_callback_op, CALLBACKOP_register, (unsigned long)&cb);
    if (rc)
        vamxen_panic("callback_op(register) failed", (long)type);
}

void vamxen_events_init(start_info_t *si)
{
    unsigned long pte = (si->shared_info & ~0xfffUL) | 0x63;   /* P|RW|A|D */
    long rc = xen_hypercall3(__HYPERVISOR_update_va_mapping, (unsigned long)shared_page, pte,
                             UVMF_INVLPG);
    if (rc)
        vamxen_panic("mapping shared_info failed", rc);
    vamxen_shared = (struct shared_info *)shared_page;
    vamxen_vcpu = &vamxen_shared->vcpu_info[0];

    /* callback_op rather than set_callbacks: only it can make the syscall
     * callback mask events (the event callback always does) */
    register_callback(CALLBACKTYPE_event, 0, vamxen_event_callback);
    register_callback(CALLBACKTYPE_failsafe, CALLBACKF_mask_events, vamxen_failsafe_callback);
    register_callback(CALLBACKTYPE_syscall, CALLBACKF_mask_events, vamxen_syscall_callback);
}

int vamxen_bind_virq(unsigned virq, vamxen_port_handler handler)
{
    struct evtchn_bind_virq bind = {.virq = virq, .vcpu = 0};
    long rc = xen_hypercall2(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq,
                             (unsigned long)&bind);
    if (rc)
        vamxen_panic("EVTCHNOP_bind_virq failed", rc);
    if (bind.port >= MAX_PORTS)
        vamxen_panic("event port beyond the VAM's table", bind.port);
    port_handlers[bind.port] = handler;
    return (int)bind.port;
}

int vamxen_bind_pirq(unsigned pirq, vamxen_port_handler handler)
{
    struct evtchn_bind_pirq bind = {.pirq = pirq, .flags = BIND_PIRQ__WILL_SHARE};
    long rc = xen_hypercall2(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_pirq,
                             (unsigned long)&bind);
    if (rc)
        return (int)(rc < 0 ? rc : -rc);
    if (bind.port >= MAX_PORTS)
        vamxen_panic("event port beyond the VAM's table", bind.port);
    port_handlers[bind.port] = handler;
    return (int)bind.port;
}

/* Called with events masked: from vamxen_event_callback when the VAM was
 * interrupted (in be_block), from vamxen_guest_event when the guest was. */
void vamxen_handle_events(void)
{
    vamxen_vcpu->evtchn_upcall_pending = 0;
    barrier();
    unsigned long sel = xchg_ulong(&vamxen_vcpu->evtchn_pending_sel, 0);
    while (sel) {
        unsigned w = (unsigned)__builtin_ctzl(sel);
        sel &= sel - 1;
        unsigned long pending = vamxen_shared->evtchn_pending[w] & ~vamxen_shared->evtchn_mask[w];
        while (pending) {
            unsigned b = (unsigned)__builtin_ctzl(pending);
            pending &= pending - 1;
            clear_bit_locked(&vamxen_shared->evtchn_pending[w], b);
            unsigned port = w * 64 + b;
            if (port < MAX_PORTS && port_handlers[port])
                port_handlers[port](port);
        }
    }
}

void vamxen_failsafe(void);
void vamxen_failsafe(void)
{
    vamxen_panic("failsafe callback: Xen could not load a segment register", 0);
}

void be_events_mask(void)
{
    vamxen_vcpu->evtchn_upcall_mask = 1;
    barrier();
}

void be_events_unmask(void)
{
    barrier();
    vamxen_vcpu->evtchn_upcall_mask = 0;
    barrier();
    /* An event that arrived while masked is not delivered by itself: any
     * hypercall makes Xen check on its way back. */
    if (vamxen_vcpu->evtchn_upcall_pending)
        xen_hypercall2(__HYPERVISOR_xen_version, 0, 0);
}

void be_block(void)
{
    /* SCHEDOP_block clears upcall_mask and blocks unless an event is
     * deliverable; the upcall runs on the hypercall's way back (on the
     * VAM's stack, in PV kernel mode).  The VAM runs masked again after. */
    xen_hypercall2(__HYPERVISOR_sched_op, SCHEDOP_block, 0);
    be_events_mask();
}
