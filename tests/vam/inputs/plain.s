# No annotations at all.
	.text
	.globl _start
_start:	nop
	ret
	.section .note.GNU-stack,"",@progbits
