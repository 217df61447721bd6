#ifndef VAMXEN_SPACE_H
#define VAMXEN_SPACE_H

#include "vam/backend.h"
#include "xen-public.h"

/* The VAM's L4 slots: its image (504) and the RAM window (505).  Only the
 * VAM's boot L4 has them; no guest space maps them. */
#define VAMXEN_FIRST_SLOT 504
#define VAMXEN_LAST_SLOT 505

/* For be_resume: writes to ops the mmuext operations (0 or 2) that make
 * Xen's PV user page table the active space of the guest mode being
 * resumed (kernel or user), and records it as installed.  Panics when the
 * front end activated no space for that mode. */
unsigned vamxen_space_install_ops(bool guest_kernel, struct mmuext_op ops[2]);

/* Whether space s holds a translation for va (for tests). */
bool vamxen_space_translates(be_space_t s, uint64_t va);

/* Maps a machine frame of device memory (not RAM) at va in kernel space s,
 * uncached, never user-accessible or executable (xen-pci.c's pass-through). */
bool vamxen_map_io_frame(be_space_t s, uint64_t va, unsigned long mfn, unsigned perm);

#endif
