# A record whose site lies in no loadable segment.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ret
	.pushsection .note.afterburn,1
	.long 0x10000000
	.byte 8, 0, 1, K_CLI, M64, 0
	.short 0
	.popsection
	ab_end
	ab_no_exec_stack
