/*
 * Entry stubs for Xen's event and failsafe callbacks (shared/notes/
 * xen-pv64-facts.md, "Bounce frame").  At entry, from the handler's %rsp:
 * the interrupted rcx and r11, then the hardware iretq frame (rip, cs |
 * saved mask << 32, rflags, rsp, ss).  The registers hold the interrupted
 * values except rcx (= handler) and r11 (= rflags), which Xen's SYSRETQ
 * exit clobbers.
 *
 * Who was interrupted is in the frame's CS: RPL 0 is PV kernel mode, the
 * VAM itself (only while it waits in be_block, or unmasked by the front
 * end), with the frame on the VAM's stack where it was; RPL 3 is PV user
 * mode, the guest (either of its modes), with the frame at kernel_sp.
 */
#include "xen-regs.h"
	.section .text, "ax", @progbits

	.globl	vamxen_event_callback
vamxen_event_callback:
	testb	$3, 24(%rsp)		/* frame CS */
	jnz	event_from_guest

	/* The VAM: run the port handlers and return where it was.
	 * rcx, r11 already saved by Xen; save the rest the C ABI may clobber */
	pushq	%rax
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%rbp
	cld				/* Debian 4.17.7 may deliver DF=1 (facts §0) */
	movq	%rsp, %rbp		/* callee-saved: keep the frame reachable */
	andq	$-16, %rsp
	call	vamxen_handle_events
	movq	%rbp, %rsp
	popq	%rbp
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rax
	/* now: rcx, r11, rip, cs, rflags, rsp, ss.  HYPERVISOR_iret restores
	 * rax, r11 and rcx from what stub 23 pushes, and the event mask from
	 * the frame's RFLAGS.IF, in one step: no event slips in between. */
	popq	%rcx
	popq	%r11
	pushq	$0			/* iret flags: not returning from a syscall */
	jmp	vamxen_hypercall_page + 23 * 32

	/* The guest: a struct vam_regs on the VAM's stack, then
	 * vamxen_guest_event (handlers, vam_fe_interrupt, be_resume). */
event_from_guest:
	popq	%rcx
	popq	%r11
	VAMXEN_PUSH_GPRS
	cld
	movq	%rsp, %rdi
	andq	$-16, %rsp
	call	vamxen_guest_event
	ud2				/* it leaves through be_resume */

	/* Xen could not load a segment register of ours: fatal for the VAM. */
	.globl	vamxen_failsafe_callback
vamxen_failsafe_callback:
	cld
	andq	$-16, %rsp
	call	vamxen_failsafe
	ud2

	.section .note.GNU-stack, "", @progbits
