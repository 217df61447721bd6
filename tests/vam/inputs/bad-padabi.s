# Note header with pad-ABI version 2 (other site sizes).
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_CLI, MEMOP, M64, cli
	ret
	ab_end pad_abi=2
	ab_no_exec_stack
