# A hlt record on a cli.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_HLT, MEMOP, M64, cli
	ret
	ab_end
	ab_no_exec_stack
