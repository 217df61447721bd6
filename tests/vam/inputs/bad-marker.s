# A mode marker with a length.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ret
1:	ab_rec 1b, 4, 0, 0, 0xff, M32
	ab_end
	ab_no_exec_stack
