# Every sensitive kind the VAM rewrites, in its 64-bit forms, each padded to
# exactly the minimum size of its class (as afterburn-as pads), so the
# rewriter must fit every replacement into the smallest site it can get.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_CLI, MEMOP, M64, cli
	ab_before K_STI, 7, M64, sti
	ab_after K_PUSHF, MEMOP, M64, pushfq
	ab_after K_PUSHF, MEMOP, M64, pushfw
	ab_after K_POPF, MEMOP, M64, popfq
	ab_after K_HLT, CALL, M64, hlt
	ab_after K_IRET, CALL, M64, iretq
	ab_after K_IRET, CALL, M64, iretl
	ab_after K_SYSRET, CALL, M64, sysretq
	ab_after K_SYSRET, CALL, M64, sysretl
	ab_after K_SYSEXIT, CALL, M64, sysexitq
	ab_after K_SWAPGS, MEMOP, M64, swapgs
	ab_after K_FARJUMP, CALL, M64, ljmp *(%rax)
	ab_after K_FARJUMP, CALL, M64, lcall *8(%rbx)
	ab_after K_FARJUMP, CALL, M64, lretq
	ab_after K_FARJUMP, CALL, M64, lretl $8
	ab_after K_MOVCR, CALL, M64, mov %rax, %cr3
	ab_after K_MOVCR, CALL, M64, mov %cr2, %r14
	ab_after K_MOVCR, CALL, M64, mov %r15, %cr8
	ab_after K_MOVDR, CALL, M64, mov %dr7, %rax
	ab_after K_MOVDR, CALL, M64, mov %rdx, %dr3
	ab_after K_CLTS, CALL, M64, clts
	ab_after K_LMSW, CALL, M64, lmsw %ax
	ab_after K_SMSW, CALL, M64, smsw %ax
	ab_after K_SMSW, CALL, M64, smsw (%rax)
	ab_after K_LOADDT, CALL, M64, lgdt 8(%rsp)
	ab_after K_LOADDT, CALL, M64, lidt (%rax)
	ab_after K_LOADDT, CALL, M64, lldt %r12w
	ab_after K_LOADDT, CALL, M64, ltr %ax
	ab_after K_STOREDT, CALL, M64, sgdt (%rsp)
	ab_after K_STOREDT, CALL, M64, sidt 0x10(%rsp)
	ab_after K_STOREDT, CALL, M64, sldt %ax
	ab_after K_STOREDT, CALL, M64, str %edx
	ab_after K_MOVSEG, SEGMOV, M64, mov %ax, %ds
	ab_after K_MOVSEG, SEGMOV, M64, mov %es, %ax
	ab_after K_MOVSEG, SEGMOV, M64, mov %es, %r14w
	ab_after K_MOVSEG, SEGMOV, M64, mov %fs, %r11d
	ab_after K_MOVSEG, SEGMOV, M64, mov %gs, %rax
	ab_after K_MOVSEG, SEGMOV, M64, mov %cs, %eax
	ab_after K_MOVSEG, SEGMOV, M64, mov %ss, %ax
	ab_after K_MOVSEG, SEGMOV, M64, mov %ds, (%rdi)
	ab_after K_MOVSEG, SEGMOV, M64, movw (%rax), %gs
	ab_after K_MOVSEG, SEGMOV, M64, mov %di, %fs
	ab_after K_MOVSEG, SEGMOV, M64, push %fs
	ab_after K_MOVSEG, SEGMOV, M64, pushw %gs
	ab_after K_MOVSEG, SEGMOV, M64, pop %fs
	ab_after K_MOVSEG, SEGMOV, M64, pop %gs
	ab_before K_MOVSS, 7, M64, mov %ax, %ss
	ab_before K_MOVSS, 5, M64, movw 8(%rsp), %ss
	ab_after K_SEGCHECK, CALL, M64, lar %ax, %ax
	ab_after K_SEGCHECK, CALL, M64, lsl %eax, %eax
	ab_after K_SEGCHECK, CALL, M64, verr %ax
	ab_after K_SEGCHECK, CALL, M64, verw (%rax)
	ab_after K_INVLPG, CALL, M64, invlpg (%rdi)
	ab_after K_INVPCID, CALL, M64, invpcid (%rsp), %rax
	ab_after K_CACHEFLUSH, CALL, M64, invd
	ab_after K_CACHEFLUSH, CALL, M64, wbinvd
	ab_after K_CACHEFLUSH, CALL, M64, wbnoinvd
	ab_after K_RDMSR, CALL, M64, rdmsr
	ab_after K_WRMSR, CALL, M64, wrmsr
	ab_after K_RDPMC, CALL, M64, rdpmc
	ab_after K_CPUID, CALL, M64, cpuid
	ab_after K_XSETBV, CALL, M64, xsetbv
	ab_after K_IN, CALL, M64, in $0x60, %al
	ab_after K_IN, CALL, M64, in %dx, %eax
	ab_after K_IN, CALL, M64, in %dx, %ax
	ab_after K_OUT, CALL, M64, out %al, $0x80
	ab_after K_OUT, CALL, M64, out %ax, %dx
	ab_after K_INS, CALL, M64, rep insb
	ab_after K_INS, CALL, M64, insl
	ab_after K_OUTS, CALL, M64, outsw
	ab_after K_OUTS, CALL, M64, rep outsl
	ab_after K_INTN, CALL, M64, int $0x80
	ab_after K_MONITOR, CALL, M64, monitor
	ab_after K_MWAIT, CALL, M64, mwait
	ab_after_bytes K_STAC, CALL, M64, 0x0f, 0x01, 0xcb
	ab_after_bytes K_CLAC, CALL, M64, 0x0f, 0x01, 0xca
	ab_after K_FSGSBASE, CALL, M64, rdfsbase %rax
	ab_after K_FSGSBASE, CALL, M64, rdgsbase %ecx
	ab_after K_FSGSBASE, CALL, M64, wrfsbase %rdx
	ab_after K_FSGSBASE, CALL, M64, wrgsbase %r13
	ret

	.code32
	ab_mode M32
entry32:
	ab_after K_INTO, CALL, M32, into
	ab_before K_MOVSS, 8, M32, popl %ss
	ret
	.code64
	ab_mode M64

	ab_end
	ab_no_exec_stack
