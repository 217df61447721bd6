# A cli site, and an sti site that starts inside it.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
1:	cli
	.nops 7
2:	.nops 7
	sti
	ab_rec 1b, 8, 0, 1, K_CLI, M64
	ab_rec 1b+4, 8, 7, 1, K_STI, M64
	ret
	ab_end
	ab_no_exec_stack
