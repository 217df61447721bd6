/*
 * For the entry stubs (.S): pushes the general registers so that, with the
 * hardware iretq frame above them, %rsp points at a struct vam_regs
 * (vam/include/vam/regs.h: r15 lowest ... rdi, then rip, cs, rflags, rsp, ss).
 * VAMXEN_PUSH_FROM_RDX starts at rdx, for stubs that have already put rdi
 * and rsi into their slots.
 */
#ifndef VAMXEN_REGS_H
#define VAMXEN_REGS_H

.macro VAMXEN_PUSH_FROM_RDX
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
.endm

.macro VAMXEN_PUSH_GPRS
	pushq	%rdi
	pushq	%rsi
	VAMXEN_PUSH_FROM_RDX
.endm

#endif
