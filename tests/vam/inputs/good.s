# A well-formed annotated kernel-like executable for the VAM's loader:
# 64-bit sites of every class (pad after and pad before, an instruction
# written as bytes, memory operands, a jump-class site), a 32-bit region
# between mode markers, and a template in .altinstr_replacement.
# Expected: loads; 16 sites, 1 in 32-bit code, 1 template.
	.include "afterburn.inc"
	ab_begin

	.text
	.globl _start
_start:
	ab_after K_CLI, MEMOP, M64, cli
	ab_before K_STI, 7, M64, sti
	hlt
	ab_after K_PUSHF, MEMOP, M64, pushfq
	ab_after K_POPF, MEMOP, M64, popfq
	ab_after K_MOVCR, CALL, M64, mov %rax, %cr3
	ab_after K_WRMSR, CALL, M64, wrmsr
	ab_after K_MOVSEG, SEGMOV, M64, mov %ax, %ds
	ab_after K_MOVSEG, SEGMOV, M64, mov %gs, %r9d
	ab_before K_MOVSS, 7, M64, mov %ax, %ss
	ab_after K_FARJUMP, CALL, M64, ljmp *0x10(%rax,%rbx,4)
	ab_after K_SWAPGS, MEMOP, M64, swapgs
	ab_after K_IN, CALL, M64, in $0x60, %al
	ab_after_bytes K_RDMSR, CALL, M64, 0x0f, 0x32
	ab_after K_IRET, CALL, M64, iretq
	rdtsc			# class NONE: never a site
	ret

	.code32
	ab_mode M32
boot32:
	ab_after K_CLI, MEMOP, M32, cli
	ret
	.code64
	ab_mode M64

	.pushsection .altinstr_replacement, "ax"
alt_stac:
	ab_after K_STAC, CALL, M64, stac
	.popsection

	ab_end
	ab_no_exec_stack
