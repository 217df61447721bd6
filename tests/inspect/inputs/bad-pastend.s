# The last site claims 4 more bytes than its section has.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:	ret
	.section .text.last, "ax"
1:	cli
	.nops 7
	ab_rec 1b, 12, 0, 1, K_CLI, M64
	ab_end
	ab_no_exec_stack
