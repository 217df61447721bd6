# Macros, repetition, altmacro, and instructions passed as macro arguments.
	.macro	SAVE_FLAGS reg
	pushfq
	popq	\reg
	.endm

	.macro	ALTERNATIVE oldinstr, newinstr, feature
740:	\oldinstr
741:	.skip -(((744f-743f)-(741b-740b)) > 0) * ((744f-743f)-(741b-740b)),0x90
742:	.pushsection .altinstructions,"a"
	.long 740b - .
	.long 743f - .
	.word \feature
	.byte 742b-740b
	.byte 744f-743f
	.popsection
	.pushsection .altinstr_replacement,"ax"
743:	\newinstr
744:	.popsection
	.endm

	.text
f:	SAVE_FLAGS %rax
	SAVE_FLAGS %rbx
	ALTERNATIVE "", ".byte 0x0f,0x01,0xcb", 9*32+20
	ALTERNATIVE "pushf; pop %rax", "xor %eax, %eax; swapgs", 3
	.rept 3
	cli
	.endr
	.irp	reg, rax, rbx
	movq	%\reg, %cr3
	.endr
	.altmacro
	.macro	WRITE_CR4 val
	LOCAL skip
	movq	%rax, %cr4
skip:	.long	\val
	.endm
	WRITE_CR4 %(1+3)
	.noaltmacro
	.macro	cli
	nop
	.endm
	cli		# a macro named like an instruction: not a site
	.purgem cli
	cli		# the instruction again
	ret
# The mnemonic itself as a macro parameter (Linux's msr-reg.S): one site per
# expansion, chosen by .ifc on the argument.
	.macro	op_safe_regs op
\op\()_safe_regs:
1:	\op
2:	ret
	.endm
	op_safe_regs rdmsr
	op_safe_regs wrmsr
	op_safe_regs nop
	.macro	twice insn:req, other=nop
	\insn
	\other
	.endm
	twice sti
	twice insn=hlt, other=cli
