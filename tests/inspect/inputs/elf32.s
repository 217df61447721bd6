# Assembled with --32: an ELF32 file.
	.text
	.globl _start
_start:	cli
	ret
	.section .note.GNU-stack,"",@progbits
