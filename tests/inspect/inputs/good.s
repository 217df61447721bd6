# A well-formed annotated file: sites of several kinds and classes, a
# pad-before sti and %ss load, an instruction written as bytes, a record
# relative to a global symbol, 32- and 16-bit regions with mode markers, and
# a site in .altinstr_replacement.  Expected: verify and audit pass; the
# audit reports the unannotated wrmsr in 32-bit code without failing.
	.include "afterburn.inc"
	ab_begin

	.text
	.globl _start
	.type _start, @function
_start:
	ab_after K_CLI, MEMOP, M64, cli
	ab_before K_STI, 7, M64, sti
	ab_after K_PUSHF, MEMOP, M64, pushfq
	ab_after K_POPF, MEMOP, M64, popfq
	ab_after K_MOVCR, CALL, M64, mov %rax, %cr3
	ab_after K_WRMSR, CALL, M64, wrmsr
	ab_after K_MOVSEG, SEGMOV, M64, mov %ax, %ds
	ab_before K_MOVSS, 7, M64, mov %ax, %ss
	ab_after K_FARJUMP, CALL, M64, ljmp *(%rax)
	rdtsc			# class NONE: counted, never a site
	int3
	ret
	.size _start, .-_start

	.type helper, @function
helper:
	ab_after K_SWAPGS, MEMOP, M64, swapgs
	ab_after K_IN, CALL, M64, in $0x60, %al
	ab_after_bytes K_RDMSR, CALL, M64, 0x0f, 0x32
	ret
	.size helper, .-helper

# In a relocatable object this record is relocated against gsite itself,
# not against the section symbol.
	.globl gsite
gsite:	cli
	.nops 7
	ab_rec gsite, 8, 0, 1, K_CLI, M64

	.code32
	ab_mode M32
	.type boot32, @function
boot32:
	ab_after K_CLI, MEMOP, M32, cli
	ab_after K_INTO, CALL, M32, into
	ab_before K_MOVSS, 8, M32, popl %ss
	wrmsr			# unannotated, but 32-bit code: reported, not a failure
	ret
	.size boot32, .-boot32

	.code16
	ab_mode M16
	.type boot16, @function
boot16:
# 16-bit padding written out: gas emits .nops in the code mode in force at
# the end of the file, which would be 64-bit forms here.
1:	cli
2:	.byte 0x8d, 0xb4, 0, 0, 0x8d, 0x74, 0	# lea 0(%si),%si twice
3:	ab_rec 1b, 3b-1b, 0, 2b-1b, K_CLI, M16
# gas pads long runs in 16-bit code with a jmp over the filler.
1:	outb %al, $0x80
2:	.byte 0xeb, 0x0c, 0x8d, 0xb4, 0, 0, 0x8d, 0xb4, 0, 0, 0x8d, 0xb4, 0, 0
3:	ab_rec 1b, 3b-1b, 0, 2b-1b, K_OUT, M16
	ret
	.size boot16, .-boot16

	.code64
	ab_mode M64
	.type tail, @function
tail:	ret
	.size tail, .-tail

	.pushsection .altinstr_replacement, "ax"
alt_stac:
	ab_after K_STAC, CALL, M64, stac
	.popsection

	ab_end
	ab_no_exec_stack
