# A cli site of 4 bytes; MEMOP sites need 8.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_CLI, 4, M64, cli
	ret
	ab_end
	ab_no_exec_stack
