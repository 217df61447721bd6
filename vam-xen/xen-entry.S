/*
 * Entry stubs for Xen's callbacks (shared/notes/xen-pv64-facts.md, "Bounce
 * frame").  At entry, from the handler's %rsp: the interrupted rcx and r11,
 * then the hardware iretq frame (rip, cs | saved mask << 32, rflags, rsp,
 * ss).  The registers hold the interrupted values except rcx (= handler)
 * and r11 (= rflags), which Xen's SYSRETQ exit clobbers.
 *
 * Return is HYPERVISOR_iret: it restores rax, r11 and rcx from what the
 * page's stub 23 pushes, and the event mask from the frame's RFLAGS.IF, in
 * one step, so no event slips in between unmasking and returning.
 */
	.section .text, "ax", @progbits

	.globl	vamxen_event_callback
vamxen_event_callback:
	/* rcx, r11 already saved by Xen; save the rest the C ABI may clobber */
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
	/* now: rcx, r11, rip, cs, rflags, rsp, ss */
	popq	%rcx
	popq	%r11
	pushq	$0			/* iret flags: not returning from a syscall */
	jmp	vamxen_hypercall_page + 23 * 32

	/* Xen could not load a segment register of ours: fatal for the VAM. */
	.globl	vamxen_failsafe_callback
vamxen_failsafe_callback:
	cld
	andq	$-16, %rsp
	call	vamxen_failsafe
	ud2

	.section .note.GNU-stack, "", @progbits
