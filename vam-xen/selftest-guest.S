/*
 * Guest code for the selftest (selftest.c), copied into guest RAM and run
 * in the spaces the test builds.  The labels give the rips the test
 * expects at each entry into the VAM.
 */
#include "selftest.h"

	.section .rodata, "a", @progbits

/* Guest user mode, at 0x400000 in the user space. */
	.globl	st_user_code, st_user_syscall_ret, st_user_fault, st_user_code_end
st_user_code:
	movl	$42, %eax
	movq	%gs:0, %rbx		/* GS base of guest user mode */
	movq	%fs:0, %rdx
	syscall
st_user_syscall_ret:
	ud2				/* #UD; the test skips it */
st_user_fault:
	movl	0x12345000, %eax	/* #PF: not mapped */
	jmp	.
st_user_code_end:

/* Guest kernel mode, at 0x600000 in the kernel space, stack in guest RAM. */
	.globl	st_kernel_code, st_kernel_ud2, st_kernel_read_vam, st_kernel_read_m2p
	.globl	st_kernel_gate_call, st_kernel_gate_ret, st_kernel_spin, st_kernel_resumed
	.globl	st_kernel_code_end
st_kernel_code:
	movl	$7, %eax
	movq	ST_HOT_VA, %rbx		/* 32-bit absolute, as rewritten sites do */
	movq	%gs:0, %rdx		/* GS base of guest kernel mode */
	int3
st_kernel_ud2:
	ud2
	movabsq	$ST_VAM_IMAGE, %rax
st_kernel_read_vam:
	movq	(%rax), %rax		/* #PF: the VAM is not in the guest's space */
	movabsq	$ST_M2P, %rax
st_kernel_read_m2p:
	movq	(%rax), %rax		/* #PF: nor is Xen's M2P */
	movabsq	$ST_GATE_RCX, %rcx
	movabsq	$ST_GATE_R11, %r11
	movabsq	$ST_GATE_VA, %rax
st_kernel_gate_call:
	call	*%rax
st_kernel_gate_ret:
	int	$0x80
st_kernel_spin:
	jmp	.			/* until a timer event interrupts it */
st_kernel_resumed:
	int3
st_kernel_code_end:

/* Guest user mode again, at 0x401000 in a space built from recycled
 * page-table frames. */
	.globl	st_spin_code, st_spin, st_spin_resumed, st_spin_code_end
st_spin_code:
	movq	%gs:0, %rbx
st_spin:
	jmp	.
st_spin_resumed:
	ud2
st_spin_code_end:

	.section .note.GNU-stack, "", @progbits
