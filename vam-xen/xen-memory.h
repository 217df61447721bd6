#ifndef VAMXEN_MEMORY_H
#define VAMXEN_MEMORY_H

#include <stdbool.h>
#include <stdint.h>
#include "vam/backend.h"
#include "xen-public.h"

/* Where the VAM sees all of its domain's RAM: pfn N at WINDOW_BASE + N*4K.
 * L4 slot 505, next to the VAM's own slot 504, in the range Linux leaves
 * unused (0xfffffc0000000000-0xfffffdffffffffff). */
#define VAMXEN_WINDOW_BASE 0xfffffc8000000000UL

/* Sets up frame accounting and the RAM window; panics on failure. */
void vamxen_memory_init(start_info_t *si);

/* The boot L4 (read-only), a page-table frame's window VA (through the
 * M2P), and the frame behind a guest-physical address. */
const uint64_t *vamxen_boot_l4(void);
const uint64_t *vamxen_mfn_to_va(unsigned long mfn);
unsigned long vamxen_gpa_to_mfn(uint64_t gpa);
/* The frame behind a VAM virtual address in its image (slot 504). */
unsigned long vamxen_vam_va_to_mfn(const void *va);

/* Page-table frames: allocated from a pool that the window maps read-only
 * (Xen refuses a page-table frame with a writable mapping).  Returns the
 * MFN and writes the window VA of the frame (read-only) to *va. */
/* Machine frame 0 is never in the pool: 0 means the pool is exhausted. */
unsigned long vamxen_alloc_pt_frame(const void **va);
unsigned long vamxen_alloc_pt_frame_or_panic(void);
/* Gives a frame back to the pool; it must no longer be a page table (no
 * pin, no reference from another table). */
void vamxen_free_pt_frame(unsigned long mfn);
/* Page-table frames allocated and not given back (for tests). */
unsigned long vamxen_pt_frames_in_use(void);
unsigned long vamxen_pfn_to_mfn(unsigned long pfn);

/* Writes a page-table frame's contents (it must not be in use yet). */
void vamxen_fill_frame(unsigned long mfn, const uint64_t *entries, unsigned n);

#endif
