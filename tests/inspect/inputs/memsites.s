# Memory sites of every kind and width as afterburn-cparse writes them, next
# to an ordinary afterburn-as site in the same section and note section.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_CLI, MEMOP, M64, cli
	ab_mem MK_PT_READ, 8, movq (%rdi), %rax
	ab_mem MK_PT_WRITE, 8, movq %rax, (%rdi)
	ab_mem MK_PT_RMW, 8, orq %rdx, (%rsi)
	ab_mem MK_PT_RMW, 8, andq %r8, (%r13)
	ab_mem MK_PT_READ, 8|MF_VOLATILE, movq (%r12), %r11
	ab_mem MK_PT_WRITE, 8|MF_VOLATILE, movq %r11, (%rbx)
	ab_mem MK_PT_READ, 8|MF_SPLIT, movq (%rcx), %rdx
	ab_mem MK_PT_WRITE, 8|MF_SPLIT, movq %rdx, (%rcx)
helper:
	ab_mem MK_DEV_READ, 4|MF_VOLATILE, movl (%rdi), %eax
	ab_mem MK_DEV_WRITE, 2|MF_VOLATILE, movw %ax, (%rdi)
	ab_mem MK_DEV_READ, 1, movb (%rsi), %cl
	ab_mem MK_DEV_RMW, 4, xorl %eax, (%rdi)
	ab_mem MK_PT_RMW, 8, addq %rax, (%rdi)
	ab_mem MK_PT_RMW, 8, subq %rax, (%rdi)
	ret
	ab_end
	ab_mem_end
	ab_no_exec_stack
