# insn_len 2 for a 1-byte cli.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
1:	cli
	.nops 7
	ab_rec 1b, 8, 0, 2, K_CLI, M64
	ret
	ab_end
	ab_no_exec_stack
