/*
 * Exception entry from Xen's trap table.  Xen's bounce frame holds the
 * interrupted rcx and r11, an error code for vectors that have one, then
 * the iretq frame.  Each stub restores rcx/r11, pushes a zero error code
 * where the CPU has none and the vector, so the common path sees one
 * layout (struct vamxen_trap_frame in xen-traps.c):
 *   r15 ... rdi (as struct vam_regs), vector, error code, rip, cs, rflags, rsp, ss
 * Traps of the guest arrive at kernel_sp (the top of the VAM's stack) and
 * leave through be_resume; a trap of the VAM itself is fatal.
 */
#include "xen-regs.h"
	.section .text, "ax", @progbits

.macro TRAP_NOEC vec
	.globl	vamxen_trap_\vec
vamxen_trap_\vec:
	popq	%rcx
	popq	%r11
	pushq	$0
	pushq	$\vec
	jmp	vamxen_trap_common
.endm

.macro TRAP_EC vec
	.globl	vamxen_trap_\vec
vamxen_trap_\vec:
	popq	%rcx
	popq	%r11
	pushq	$\vec
	jmp	vamxen_trap_common
.endm

	TRAP_NOEC 0
	TRAP_NOEC 1
	TRAP_NOEC 2
	TRAP_NOEC 3
	TRAP_NOEC 4
	TRAP_NOEC 5
	TRAP_NOEC 6
	TRAP_NOEC 7
	TRAP_EC   8
	TRAP_NOEC 9
	TRAP_EC   10
	TRAP_EC   11
	TRAP_EC   12
	TRAP_EC   13
	TRAP_EC   14
	TRAP_NOEC 15
	TRAP_NOEC 16
	TRAP_EC   17
	TRAP_NOEC 18
	TRAP_NOEC 19
	TRAP_NOEC 0x80			/* int $0x80: rip already past it */

vamxen_trap_common:
	VAMXEN_PUSH_GPRS
	cld
	movq	%rsp, %rdi
	andq	$-16, %rsp
	call	vamxen_trap
	ud2				/* it leaves through be_resume */

	.section .note.GNU-stack, "", @progbits
