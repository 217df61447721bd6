# Records a relocatable object cannot resolve (checked as .o only; it does
# not link): one relative to an undefined symbol, one with an absolute
# R_X86_64_32 relocation instead of R_X86_64_PC32.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_CLI, MEMOP, M64, cli
	ret
	.pushsection .note.afterburn,1
	.long elsewhere-.
	.byte 8, 0, 1, K_CLI, M64, 0
	.short 0
	.long _start
	.byte 8, 0, 1, K_CLI, M64, 0
	.short 0
	.popsection
	ab_end
	ab_no_exec_stack
