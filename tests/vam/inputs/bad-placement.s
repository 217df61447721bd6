# sti pads before, but this record has its padding after.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_STI, MEMOP, M64, sti
	ret
	ab_end
	ab_no_exec_stack
