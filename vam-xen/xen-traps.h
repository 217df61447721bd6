#ifndef VAMXEN_TRAPS_H
#define VAMXEN_TRAPS_H

/* Registers the trap table: exceptions and int $0x80 of the guest reach
 * vam_fe_exception. */
void vamxen_traps_init(void);

#endif
