# Memory-site records that do not describe what they claim.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
wrongdir:	ab_mem MK_PT_WRITE, 8, movq (%rdi), %rax     # a load recorded as a store
wrongwidth:	ab_mem MK_PT_READ, 4, movq (%rdi), %rax      # 8 bytes recorded as 4
indexed:	ab_mem MK_PT_READ, 8, movq (%rdi,%rsi,8), %rax   # not register-indirect
disp:	ab_mem MK_PT_WRITE, 8, movq %rax, 8(%rdi)      # displacement
locked:	ab_mem MK_PT_RMW, 8, lock orq %rax, (%rdi)     # lock prefix
notalu:	ab_mem MK_PT_RMW, 8, xchgq %rax, (%rdi)      # not or/and/xor/add/sub
badkind:	ab_mem 9, 8, movq (%rdi), %rax               # unknown kind
badflags:	ab_mem MK_PT_READ, 8|0x40, movq (%rdi), %rax   # unknown flag bit
badwidth:	ab_mem MK_PT_READ, 3, movq (%rdi), %rax      # width 3
small:	movq (%rdi), %rax
	ab_mrec small, 3, 0, 3, MK_PT_READ                   # no padding
	nop
	nop
	nop
	nop
insnoff:	nop
	movq (%rdi), %rax
	.nops 4
	ab_mrec insnoff, 8, 1, 3, MK_PT_READ                 # pad before
mode32:	movq (%rdi), %rax
	.nops 4
	ab_mrec mode32, 7, 0, 3, MK_PT_READ, 1  # mode 32
clisite:	ab_after K_CLI, MEMOP, M64, cli
	ab_mrec clisite, 7, 0, 1, MK_PT_READ          # on top of a cli site
	ret
	ab_end
	ab_mem_end
	ab_no_exec_stack
