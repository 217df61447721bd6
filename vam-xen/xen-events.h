#ifndef VAMXEN_EVENTS_H
#define VAMXEN_EVENTS_H

#include "vam/backend.h"
#include "xen-public.h"

extern struct shared_info *vamxen_shared;
extern struct vcpu_info *vamxen_vcpu;

typedef void (*vamxen_port_handler)(unsigned port);

/* Maps shared_info and registers the event and failsafe callbacks. */
void vamxen_events_init(start_info_t *si);
/* Binds a VIRQ on vCPU 0 to `handler`; returns the port. */
int vamxen_bind_virq(unsigned virq, vamxen_port_handler handler);
/* Binds a physical IRQ (PHYSDEVOP_map_pirq's pirq) to `handler`; returns
 * the port, or Xen's negative error. */
int vamxen_bind_pirq(unsigned pirq, vamxen_port_handler handler);
/* Runs the handlers of the pending ports (events masked). */
void vamxen_handle_events(void);


void vamxen_panic(const char *what, long code) __attribute__((noreturn));

#endif
