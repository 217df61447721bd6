# Memory sites (afterburn-cparse's note type 0x41420002) for
# vam_load_memsites and vam_memsites_rewrite (memsite_test.c): every kind,
# widths 1 to 8, %ah, REX registers, disp8-0 and SIB forms, two sites with
# the same instruction (one stub), two records written out of address
# order, a 40-byte site, and afterburn-as sites around them (one right after
# a memory site).  Expected: 11 memory sites, 2 sites.
	.include "afterburn.inc"
	ab_begin

	.text
	.globl _start
_start:
	ab_after K_CLI, MEMOP, M64, cli
	ab_mem MK_PT_WRITE, 8, movq %rax, (%rdi)
	ab_mem MK_PT_READ, 8|MF_VOLATILE, movq (%rdi), %rax
	ab_mem MK_PT_RMW, 8, orq %rdx, (%rsi)
	ab_mem MK_PT_WRITE, 8|MF_SPLIT, movq %rdx, (%rcx)
	ab_mem MK_DEV_WRITE, 4, movl %eax, (%rdi)
	ab_mem MK_DEV_READ, 1, movb (%rsi), %ah
	ab_mem MK_PT_WRITE, 2, movw %ax, (%r13)
	ab_mem MK_PT_WRITE, 8, movq %rax, (%rdi)
	ab_before K_STI, 7, M64, sti
late1:	movq %r8, (%r12)
	.nops 3
late2:	andq %r9, (%rbx)
	.nops 4
	ab_mrec late2, 7, 0, 3, MK_PT_RMW
	ab_mrec late1, 7, 0, 4, MK_PT_WRITE
long:	movq %rsi, (%rdi)
	.nops 37
	ab_mrec long, 40, 0, 3, MK_PT_WRITE
	ret

	.data
	.globl dataword
dataword:
	.quad 0

	ab_end
	ab_mem_end
	ab_no_exec_stack
