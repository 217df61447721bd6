#ifndef VAMXEN_SPACE_H
#define VAMXEN_SPACE_H

#include "vam/backend.h"

/* The VAM's L4 slots: its image (504) and the RAM window (505). */
#define VAMXEN_FIRST_SLOT 504
#define VAMXEN_LAST_SLOT 505


#endif
