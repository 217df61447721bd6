#ifndef VAMXEN_GUEST_H
#define VAMXEN_GUEST_H

#include <stdbool.h>
#include "vam/backend.h"

/* What entries report in regs->cs and regs->ss (backend.h: the RPL of cs
 * is the guest's mode).  Xen's flat selectors, the kernel one with RPL 0. */
#define VAMXEN_GUEST_KERNEL_CS 0xe030
#define VAMXEN_GUEST_USER_CS 0xe033
#define VAMXEN_GUEST_SS 0xe02b

/* The guest mode be_resume last entered: true for guest kernel mode. */
extern bool vamxen_guest_kernel_mode;

/* Points Xen's kernel_sp at the top of the VAM's stack. */
void vamxen_guest_init(void);

/* Sets regs->cs and regs->ss of an entry from the guest to the guest mode
 * it was in. */
void vamxen_guest_entered(struct vam_regs *r);

#endif
