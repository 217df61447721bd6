#ifndef VAMXEN_TIME_H
#define VAMXEN_TIME_H

#include <stdint.h>
#include "xen-events.h"


/* Stops Xen's periodic tick and routes VIRQ_TIMER to `on_timer`. */
void vamxen_time_init(vamxen_port_handler on_timer);

#endif
