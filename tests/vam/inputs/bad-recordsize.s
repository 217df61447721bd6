# Note header with record_size 16.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_CLI, MEMOP, M64, cli
	ret
	ab_end record_size=16
	ab_no_exec_stack
