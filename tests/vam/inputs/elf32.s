# An annotated-looking 32-bit file: not ELF64.
	.text
	.globl _start
_start:	cli
	ret
	.section .note.GNU-stack,"",@progbits
