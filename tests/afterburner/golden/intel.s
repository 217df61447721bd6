# Intel syntax regions.
	.intel_syntax noprefix
	mov	cr3, rax
	mov	ss, ax
	mov	ax, ds
	push	fs
	pushfq
	in	al, 0x60
	.att_syntax prefix
	movq	%rax, %cr3
