/* Assembler helpers for Xen's ELF notes (name "Xen", types from xen/elfnote.h). */
#ifndef VAMXEN_NOTES_H
#define VAMXEN_NOTES_H

#define XEN_ELFNOTE_ENTRY          1
#define XEN_ELFNOTE_HYPERCALL_PAGE 2
#define XEN_ELFNOTE_VIRT_BASE      3
#define XEN_ELFNOTE_PADDR_OFFSET   4
#define XEN_ELFNOTE_XEN_VERSION    5
#define XEN_ELFNOTE_GUEST_OS       6
#define XEN_ELFNOTE_LOADER         8

/* The VAM's own link address.  L4 slot 504 (0xfffffc0000000000), in the
 * range Linux leaves unused on x86-64 (0xfffffc0000000000-
 * 0xfffffdffffffffff).  Only the VAM's boot L4 maps it: the guest's spaces
 * never do, and be_map refuses the VAM's slots (504, 505) to the guest,
 * which costs a Linux guest nothing. */
#define VAMXEN_VIRT_BASE 0xfffffc0000000000

#define XEN_NOTE_BEGIN(type)                        \
	.pushsection .note.Xen, "a", @note;         \
	.balign 4;                                  \
	.long 4, 2f - 1f, type;                     \
	.asciz "Xen";                               \
	.balign 4;                                  \
1:

#define XEN_NOTE_END                                \
2:	.balign 4;                                  \
	.popsection

#define XEN_NOTE_STR(type, str)  XEN_NOTE_BEGIN(type) .asciz str; XEN_NOTE_END
#define XEN_NOTE_QUAD(type, val) XEN_NOTE_BEGIN(type) .quad val; XEN_NOTE_END

#endif
