# A record of kind rdtsc, which has class NONE.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_RDTSC, CALL, M64, rdtsc
	ret
	ab_end
	ab_no_exec_stack
