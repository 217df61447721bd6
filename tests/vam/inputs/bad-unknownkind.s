# A record of kind 77, which sensitive.def does not have.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after 77, MEMOP, M64, cli
	ret
	ab_end
	ab_no_exec_stack
