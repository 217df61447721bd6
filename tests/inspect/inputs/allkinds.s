# At least one instruction of every sensitive kind of sensitive.def, each as
# a site.  Assembled with --defsym BARE=1 the same instructions have no
# sites (the mode markers stay), so the audit must name every kind.
	.include "afterburn.inc"
	ab_begin

	.ifdef BARE
	.macro after kind, min, mode, insn:vararg
	\insn
	.endm
	.macro before kind, pad, mode, insn:vararg
	\insn
	.endm
	.else
	.macro after kind, min, mode, insn:vararg
	ab_after \kind, \min, \mode, \insn
	.endm
	.macro before kind, pad, mode, insn:vararg
	ab_before \kind, \pad, \mode, \insn
	.endm
	.endif

	.text
	.globl _start
_start:
	after K_CLI, MEMOP, M64, cli
	before K_STI, 7, M64, sti
	after K_PUSHF, MEMOP, M64, pushfq
	after K_POPF, MEMOP, M64, popfq
	after K_HLT, CALL, M64, hlt
	after K_IRET, CALL, M64, iretq
	after K_SYSRET, CALL, M64, sysretq
	after K_SYSRET, CALL, M64, sysretl
	after K_SYSEXIT, CALL, M64, sysexitl
	after K_SWAPGS, MEMOP, M64, swapgs
	after K_FARJUMP, CALL, M64, ljmp *(%rax)
	after K_FARJUMP, CALL, M64, lcall *8(%rbx)
	after K_FARJUMP, CALL, M64, lretq
	after K_FARJUMP, CALL, M64, lretl $8
	after K_MOVCR, CALL, M64, mov %rax, %cr3
	after K_MOVCR, CALL, M64, mov %cr0, %rax
	after K_MOVCR, CALL, M64, mov %rax, %cr8
	after K_MOVDR, CALL, M64, mov %dr7, %rax
	after K_MOVDR, CALL, M64, mov %rax, %dr0
	after K_CLTS, CALL, M64, clts
	after K_LMSW, CALL, M64, lmsw %ax
	after K_SMSW, CALL, M64, smsw %ax
	after K_SMSW, CALL, M64, smsw (%rax)
	after K_LOADDT, CALL, M64, lgdt (%rax)
	after K_LOADDT, CALL, M64, lidt (%rax)
	after K_LOADDT, CALL, M64, lldt %ax
	after K_LOADDT, CALL, M64, ltr %ax
	after K_STOREDT, CALL, M64, sgdt (%rax)
	after K_STOREDT, CALL, M64, sidt (%rax)
	after K_STOREDT, CALL, M64, sldt %ax
	after K_STOREDT, CALL, M64, str %ax
	after K_MOVSEG, SEGMOV, M64, mov %ax, %ds
	after K_MOVSEG, SEGMOV, M64, mov %es, %ax
	after K_MOVSEG, SEGMOV, M64, mov %eax, %fs
	after K_MOVSEG, SEGMOV, M64, mov %gs, %eax
	after K_MOVSEG, SEGMOV, M64, mov %cs, %ax
	after K_MOVSEG, SEGMOV, M64, mov %ss, %ax
	after K_MOVSEG, SEGMOV, M64, movw (%rax), %gs
	after K_MOVSEG, SEGMOV, M64, push %fs
	after K_MOVSEG, SEGMOV, M64, pop %fs
	after K_MOVSEG, SEGMOV, M64, push %gs
	after K_MOVSEG, SEGMOV, M64, pop %gs
	before K_MOVSS, 7, M64, mov %ax, %ss
	before K_MOVSS, 6, M64, movw 8(%rsp), %ss
	after K_SEGCHECK, CALL, M64, lar %ax, %ax
	after K_SEGCHECK, CALL, M64, lsl %eax, %eax
	after K_SEGCHECK, CALL, M64, verr %ax
	after K_SEGCHECK, CALL, M64, verw (%rax)
	after K_INVLPG, CALL, M64, invlpg (%rax)
	after K_INVPCID, CALL, M64, invpcid (%rax), %rax
	after K_CACHEFLUSH, CALL, M64, invd
	after K_CACHEFLUSH, CALL, M64, wbinvd
	after K_CACHEFLUSH, CALL, M64, wbnoinvd
	after K_RDMSR, CALL, M64, rdmsr
	after K_WRMSR, CALL, M64, wrmsr
	after K_RDPMC, CALL, M64, rdpmc
	after K_CPUID, CALL, M64, cpuid
	after K_XSETBV, CALL, M64, xsetbv
	after K_IN, CALL, M64, in $0x60, %al
	after K_IN, CALL, M64, in %dx, %eax
	after K_OUT, CALL, M64, out %al, $0x80
	after K_OUT, CALL, M64, out %ax, %dx
	after K_INS, CALL, M64, insb
	after K_INS, CALL, M64, insl
	after K_OUTS, CALL, M64, outsw
	after K_OUTS, CALL, M64, rep outsb
	after K_INTN, CALL, M64, int $0x80
	after K_MONITOR, CALL, M64, monitor
	after K_MWAIT, CALL, M64, mwait
	after K_STAC, CALL, M64, stac
	after K_CLAC, CALL, M64, clac
	after K_FSGSBASE, CALL, M64, rdfsbase %rax
	after K_FSGSBASE, CALL, M64, rdgsbase %ecx
	after K_FSGSBASE, CALL, M64, wrfsbase %rdx
	after K_FSGSBASE, CALL, M64, wrgsbase %rbx
	int3			# class NONE: never sites, only counted
	rdtsc
	rdtscp
	ret

	.code32
	ab_mode M32
entry32:
	after K_INTO, CALL, M32, into
	before K_MOVSS, 8, M32, popl %ss
	after K_MOVSEG, SEGMOV, M32, pushl %es
	after K_MOVSEG, SEGMOV, M32, popl %ds
	after K_FARJUMP, CALL, M32, ljmp $0x10, $entry32
	after K_FARJUMP, CALL, M32, lcall $0x10, $entry32
	after K_FARJUMP, CALL, M32, lret
	after K_IRET, CALL, M32, iret
	after K_SYSEXIT, CALL, M32, sysexit
	after K_PUSHF, MEMOP, M32, pushfl
	ret
	.code64
	ab_mode M64

	ab_end
	ab_no_exec_stack
