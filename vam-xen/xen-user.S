/*
 * Guest modes on Xen: continuing the guest (be_resume) and the syscall
 * callback that brings a user `syscall` back into the VAM with the user's
 * registers as a struct vam_regs (vam/include/vam/regs.h).
 */
#include "vam/regs.h"

	.section .text, "ax", @progbits

/* void vamxen_resume(const struct vam_regs *regs): HYPERVISOR_iret.  An RPL-3
 * CS switches Xen to user mode (user page table, user GS base), RPL 0
 * stays in kernel mode; the frame's RFLAGS.IF becomes the event mask.
 * rax, rcx and r11 are pushed by hypercall stub 23 itself. */
	.globl	vamxen_resume
vamxen_resume:
	pushq	VAM_REGS_SS(%rdi)
	pushq	VAM_REGS_RSP(%rdi)
	pushq	VAM_REGS_RFLAGS(%rdi)
	pushq	VAM_REGS_CS(%rdi)
	pushq	VAM_REGS_RIP(%rdi)
	pushq	$0			/* flags: no VGCF_in_syscall */
	movq	0(%rdi), %r15
	movq	8(%rdi), %r14
	movq	16(%rdi), %r13
	movq	24(%rdi), %r12
	movq	32(%rdi), %rbp
	movq	40(%rdi), %rbx
	movq	48(%rdi), %r11
	movq	56(%rdi), %r10
	movq	64(%rdi), %r9
	movq	72(%rdi), %r8
	movq	80(%rdi), %rax
	movq	88(%rdi), %rcx
	movq	96(%rdi), %rdx
	movq	104(%rdi), %rsi
	movq	112(%rdi), %rdi
	jmp	vamxen_hypercall_page + 23 * 32

/* Syscall callback.  On the kernel stack (stack_switch): rcx, r11, then the
 * iretq frame (rip, cs, rflags, rsp, ss).  The user's rcx and r11 are its
 * return rip and rflags, as the syscall instruction defines; their slots
 * become rsi and rdi of struct vam_regs. */
	.globl	vamxen_syscall_callback
vamxen_syscall_callback:
	movq	%rsi, 0(%rsp)
	movq	%rdi, 8(%rsp)
	movq	16(%rsp), %rcx		/* = user rip */
	movq	32(%rsp), %r11		/* = user rflags */
	pushq	%rdx
	pushq	%rcx
	pushq	%rax
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	cld				/* Debian 4.17.7's DF bug (facts section 0) */
	movq	%rsp, %rdi
	call	vam_fe_syscall
	ud2				/* it leaves through be_resume or never */

	.section .note.GNU-stack, "", @progbits
