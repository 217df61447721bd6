# The last site of the executable segment runs past its end.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ret
	.section .text.last, "ax"
last:	cli
	ab_rec last, 12, 0, 1, K_CLI, M64
	ab_end
	ab_no_exec_stack
