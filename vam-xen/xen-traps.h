#ifndef VAMXEN_TRAPS_H
#define VAMXEN_TRAPS_H

/* Registers the trap table: exceptions reach vam_fe_exception. */
void vamxen_traps_init(void);

#endif
