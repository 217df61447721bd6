# Sensitive instructions without sites in 64-bit code: the audit fails.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_CLI, MEMOP, M64, cli
	call rogue
	ret
	.type rogue, @function
rogue:
	wrmsr
	mov %rax, %cr3
	ret
	.size rogue, .-rogue
	ab_end
	ab_no_exec_stack
