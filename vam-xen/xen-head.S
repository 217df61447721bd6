/*
 * Start of day for the VAM as a 64-bit Xen PV dom0.
 *
 * Xen enters at XEN_ELFNOTE_ENTRY in 64-bit mode, ring 3, with %rsi = the
 * start_info page and %rsp at the top of a one-page boot stack inside the
 * initial mapping (shared/notes/xen-pv64-facts.md, section 1).  Nothing
 * else is set up: no trap table, no callbacks, events masked.
 *
 * The VAM moves at once to its own stack (vamxen_stack), the one stack it
 * ever runs on: it boots on it, and Xen's kernel_sp (stack_switch, set in
 * vamxen_guest_init) points at its top, so every trap, event and syscall
 * of the guest (which runs in PV user mode) starts there afresh.
 */
#include "xen-notes.h"

	.section .text.entry, "ax", @progbits
	.globl	vamxen_entry
vamxen_entry:
	cld
	leaq	vamxen_stack_top(%rip), %rsp
	movq	%rsi, %rdi		/* start_info */
	call	vamxen_start
	/* vamxen_start never returns; if it does, crash the domain loudly. */
	ud2

/*
 * The hypercall page: Xen writes 128 stubs of 32 bytes here
 * (hypercall n is `call vamxen_hypercall_page + n*32`).  For dom0 it must
 * lie inside the initial region, which it does as part of .text.
 */
	.section .text.hypercall_page, "ax", @progbits
	.balign	4096
	.globl	vamxen_hypercall_page
vamxen_hypercall_page:
	.skip	4096, 0xcc

	.section .bss.stack, "aw", @nobits
	.balign	4096
	.globl	vamxen_stack, vamxen_stack_top
vamxen_stack:
	.skip	32768
vamxen_stack_top:

/* ELF notes Xen needs to build a 64-bit PV dom0 (verified-facts.md). */
	XEN_NOTE_STR(XEN_ELFNOTE_GUEST_OS, "VAM")
	XEN_NOTE_STR(XEN_ELFNOTE_LOADER, "generic")
	XEN_NOTE_STR(XEN_ELFNOTE_XEN_VERSION, "xen-3.0")
	XEN_NOTE_QUAD(XEN_ELFNOTE_VIRT_BASE, VAMXEN_VIRT_BASE)
	XEN_NOTE_QUAD(XEN_ELFNOTE_PADDR_OFFSET, VAMXEN_VIRT_BASE)
	XEN_NOTE_QUAD(XEN_ELFNOTE_ENTRY, vamxen_entry)
	XEN_NOTE_QUAD(XEN_ELFNOTE_HYPERCALL_PAGE, vamxen_hypercall_page)
	.section .note.GNU-stack, "", @progbits
