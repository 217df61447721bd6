# Section stacks and code modes: a 32-bit entry like Linux's PVH start.
	.section .head.text,"ax"
	.code32
start32:
	cli
	movl	%eax, %cr3
	lgdt	gdt_desc
	popl	%ss
	ljmp	$0x10, $start64
	.pushsection .data
gdt_desc:	.word 0
	.popsection
	.code64
start64:
	movq	%rax, %cr4
	.text
	sti
	.subsection 1
	hlt
	.previous
	iretq
	.code16
	.section .realmode,"ax"
	outb	%al, $0x80
	.code64
	.text
	cpuid
