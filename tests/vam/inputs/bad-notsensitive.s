# A cli record on an instruction that is not sensitive at all.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_CLI, MEMOP, M64, mov %eax, %ebx
	ret
	ab_end
	ab_no_exec_stack
