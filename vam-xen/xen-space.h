#ifndef VAMXEN_SPACE_H
#define VAMXEN_SPACE_H

#include "vam/backend.h"

/* The VAM's L4 slots: its image (504) and the RAM window (505). */
#define VAMXEN_FIRST_SLOT 504
#define VAMXEN_LAST_SLOT 505


/* Whether space s holds a translation for va (for tests). */
bool vamxen_space_translates(be_space_t s, uint64_t va);

#endif
