# Note header with annotation format version 2.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_CLI, MEMOP, M64, cli
	ret
	ab_end format=2
	ab_no_exec_stack
