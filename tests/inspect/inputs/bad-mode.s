# A site in 32-bit code (per the mode markers) recorded as 64-bit.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:	ret
	.code32
	ab_mode M32
boot32:
	ab_after K_CLI, MEMOP, M64, cli
	ret
	.code64
	ab_mode M64
	ab_end
	ab_no_exec_stack
