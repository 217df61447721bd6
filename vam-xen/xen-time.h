#ifndef VAMXEN_TIME_H
#define VAMXEN_TIME_H

#include <stdint.h>
#include "xen-events.h"

uint64_t be_now_ns(void);
uint64_t be_tsc_hz(void);
void be_set_timer(uint64_t deadline_ns);

/* Stops Xen's periodic tick and routes VIRQ_TIMER to `on_timer`. */
void vamxen_time_init(vamxen_port_handler on_timer);

#endif
