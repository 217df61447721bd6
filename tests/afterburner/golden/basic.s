# Compiler-style output: labels, several statements per line, comments.
	.file	"basic.c"
	.text
	.globl	irq_save
	.type	irq_save, @function
irq_save:
	pushfq ; popq %rax	# save flags
	cli
	ret
	.size	irq_save, .-irq_save
restore: pushq %rdi ; popfq ; ret
.Lidle:	sti ; hlt	/* the classic idle pair: sti's shadow covers hlt */
	movq	%rax, %cr3
	mov	%cr0, %rax
	movq	%rdi, %db7
	wrmsr
1:	rdmsr
2:
	int	$3
	int	$0x80
	rdtsc
	movl	%gs:16, %eax		# a segment override, not a segment move
	movw	%ax, %ds
	mov	%es, %eax
	movw	%ax, %ss
	pushq	%fs
	swapgs
	sysretq
	iretq
	lretq
	ljmp	*(%rax)
	str	%ax
	lgdt	(%rdi)
	invlpg	(%rax,%rbx,8)
	cpuid
	xsetbv
	inb	$0x71, %al
	outb	%al, $0x80
	rep ; insw
	rep
	outsb
	lock ; incl (%rax)
	wbinvd
	clts
	smsw	%ax
	lsl	%eax, %ecx
	rdgsbase	%rax
	monitor
	mwait
	.byte 0x0f,0x01,0xcb	# stac written as bytes
	.byte 0x0f, 0x01, 0xca	# clac
	.byte 0x0f, 0x01, 0xcc	# not an instruction we know
	.section .rodata
	.string "cli ; sti # not code"
	.ascii "quote \" ; hlt"
	.text
	movb	$';', %al
	cmpb	$'#', %al
str = 5
	.long	str
