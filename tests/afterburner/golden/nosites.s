# No sensitive instruction: the output must be the input, byte for byte.
	.text
f:	movq	%rdi, %rax
	addq	$1, %rax	# pushf in a comment
	.ascii	"cli"
	ret
