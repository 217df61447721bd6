/*
 * The guest's way in and out of the VAM on Xen (see README.md, "Modes"):
 * continuing the guest (HYPERVISOR_iret to PV user mode), the syscall
 * callback, and the gate page.  Entries from the guest always arrive on the
 * VAM's stack (kernel_sp), build a struct vam_regs (vam/include/vam/regs.h)
 * there and never return: they leave through be_resume.
 */
#include "xen-regs.h"
#include "vam/regs.h"

	.section .text, "ax", @progbits

/* void vamxen_resume(const struct vam_regs *regs): HYPERVISOR_iret with
 * regs as prepared by be_resume (user selectors: an RPL-3 CS makes Xen
 * switch to PV user mode, that is to the user page table and user GS
 * base; RFLAGS.IF = 1 unmasks events in the same step).  Stub 23 pushes
 * rax, r11 and rcx itself.  Works from any stack position. */
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

/* Syscall callback (registered with CALLBACKF_mask_events: the VAM starts
 * masked).  On the VAM's stack (kernel_sp): rcx, r11, then the iretq frame
 * (rip, cs, rflags, rsp, ss).  The guest's rcx and r11 are its return rip
 * and rflags, as the syscall instruction defines; their slots become rsi
 * and rdi of struct vam_regs.  vamxen_syscall tells gate entries apart. */
	.globl	vamxen_syscall_callback
vamxen_syscall_callback:
	movq	%rsi, 0(%rsp)
	movq	%rdi, 8(%rsp)
	movq	16(%rsp), %rcx		/* = return rip */
	movq	32(%rsp), %r11		/* = rflags */
	VAMXEN_PUSH_FROM_RDX
	cld				/* Debian 4.17.7's DF bug (facts section 0) */
	movq	%rsp, %rdi
	andq	$-16, %rsp
	call	vamxen_syscall
	ud2				/* it leaves through be_resume */

/*
 * The gate (backend.h be_gate_page): one page of VAM memory that the front
 * end maps into every kernel space at one va, readable, writable and
 * executable for the guest.  Position-independent: the scratch slots are
 * addressed rip-relative inside the same page.  A `syscall` from guest
 * mode reaches the syscall callback with rcx = the address after it, which
 * is how vamxen_syscall recognises the gate; the guest's own rcx and r11
 * (which syscall overwrites) wait in the scratch slots.  Until the syscall
 * has executed the gate changes no register, so restarting it at its first
 * byte is always correct (the event path does so).
 */
	.section .data.vamxen_gate, "aw", @progbits
	.balign	4096
	.globl	vamxen_gate_page, vamxen_gate_syscall_end, vamxen_gate_rcx, vamxen_gate_r11
vamxen_gate_page:
	movq	%rcx, vamxen_gate_rcx(%rip)
	movq	%r11, vamxen_gate_r11(%rip)
	syscall
vamxen_gate_syscall_end:
	ud2				/* the VAM never resumes here */
	.balign	64
vamxen_gate_rcx:
	.quad	0
vamxen_gate_r11:
	.quad	0
	.balign	4096

	.section .note.GNU-stack, "", @progbits
