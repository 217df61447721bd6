# descsz claims 100 more bytes than the note section has.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_CLI, MEMOP, M64, cli
	ret
	ab_end extra=100
	ab_no_exec_stack
