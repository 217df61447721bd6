# A cli site of 5 bytes; cli sites need 8.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ret
	ab_after K_CLI, 5, M64, cli
	ret
	ab_end
	ab_no_exec_stack
