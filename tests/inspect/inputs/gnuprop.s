# An 8-byte aligned .note.gnu.property (as every x86-64 glibc program has):
# namesz 4 ("GNU"), the descriptor at offset 16, not 20.
	.include "afterburn.inc"
	ab_begin
	.section .note.gnu.property,"a",@note
	.balign 8
	.long 4, 16, 5
	.asciz "GNU"
	.long 0xc0000002, 4, 3
	.balign 8
	.long 4, 16, 5
	.asciz "GNU"
	.long 0xc0000001, 4, 0
	.balign 8
	.text
	.globl _start
_start:
	ab_after K_CLI, MEMOP, M64, cli
	ret
	ab_end
	ab_no_exec_stack
