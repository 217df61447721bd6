# A segment-move site of 8 bytes; they need 9.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_MOVSEG, 8, M64, mov %ds, %r9d
	ret
	ab_end
	ab_no_exec_stack
