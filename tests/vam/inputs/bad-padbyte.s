# The padding after a cli is not NOPs.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
1:	cli
	mov %eax, %eax
	.nops 5
	ab_rec 1b, 8, 0, 1, K_CLI, M64
	ret
	ab_end
	ab_no_exec_stack
