# The second record points into .data, which is not executable.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_CLI, MEMOP, M64, cli
	ret
	.data
blob:	.byte 0xfa
	.nops 7
	ab_rec blob, 8, 0, 1, K_CLI, M64
	ab_end
	ab_no_exec_stack
