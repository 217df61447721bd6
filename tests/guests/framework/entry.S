/*
 * 64-bit entry (the ELF entry point), exception/interrupt stubs, the
 * syscall entry, ring-3 entry and return, and catch_exception's unwinding.
 */
#include <guest/boot.h>
#include <guest/desc.h>
#include <guest/x86.h>
#include <guest/user.h>

/* ------------------------------------------------------------------------ */
    .section .text.entry, "ax", @progbits
    .code64
    .globl _start64
    .type _start64, @function
_start64:
    cli
    cld
    movq $boot_stack_top, %rsp
    movq %rsi, %r12                 /* struct guest_start_info, or 0 */
    movq $__bss_start, %rdi         /* the loader need not have zeroed .bss */
    movq $__bss_end, %rcx
    subq %rdi, %rcx
    xorl %eax, %eax
    rep stosb

    lgdt gdt_ptr(%rip)
    movl $KERNEL_DS, %eax
    mov %eax, %ss
    xorl %eax, %eax                 /* null data segments: 64-bit mode ignores them */
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    pushq $KERNEL_CS
    leaq 1f(%rip), %rax
    pushq %rax
    lretq
1:  movq %r12, %rdi
    call boot_main
    ud2
    .size _start64, . - _start64

/* ------------------------------------------------------------------------
 * Exception and interrupt entry.  One 16-byte stub per vector: push a dummy
 * error code when the CPU pushes none, push the vector, go to trap_common,
 * which swaps GS if the CPU came from ring 3, saves the general registers
 * (struct cpu_regs) and calls trap_dispatch(regs).
 */
    .altmacro
.macro trap_stub vec
1:
    .if ((\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30))
    .else
    pushq $0
    .endif
    pushq $\vec
    jmp trap_common
    .org 1b + 16, 0xcc
.endm

    .balign 16
    .globl trap_stubs
trap_stubs:
    vec = 0
    .rept 256
    trap_stub %vec
    vec = vec + 1
    .endr
    .noaltmacro

.macro SAVE_GPRS
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
.endm

.macro RESTORE_GPRS
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
.endm

trap_common:
    testb $3, (REGS_CS - REGS_VECTOR)(%rsp)
    jz 1f
    swapgs
1:  SAVE_GPRS
    cld
    movq %rsp, %rdi
    call trap_dispatch
    RESTORE_GPRS
    testb $3, (REGS_CS - REGS_VECTOR)(%rsp)
    jz 2f
    swapgs
2:  addq $16, %rsp                  /* vector, error code */
    iretq

/* ------------------------------------------------------------------------
 * syscall entry (MSR_LSTAR).  FMASK cleared IF.  Builds a struct cpu_regs
 * like an interrupt from ring 3 would, calls syscall_entry_c(regs) and
 * returns with sysretq (rip from regs->rip, rflags from regs->rflags).
 */
    .globl syscall_entry
    .type syscall_entry, @function
syscall_entry:
    swapgs
    movq %rsp, %gs:16               /* percpu.user_rsp */
    movq %gs:8, %rsp                /* percpu.kernel_rsp */
    incq %gs:24                     /* percpu.syscalls */
    pushq $USER_DS                  /* ss */
    pushq %gs:16                    /* rsp */
    pushq %r11                      /* rflags */
    pushq $USER_CS                  /* cs */
    pushq %rcx                      /* rip */
    pushq $0                        /* error code */
    pushq $VEC_SYSCALL              /* vector */
    SAVE_GPRS
    cld
    movq %rsp, %rdi
    call syscall_entry_c
    RESTORE_GPRS
    movq (REGS_RIP - REGS_VECTOR)(%rsp), %rcx
    movq (REGS_RFLAGS - REGS_VECTOR)(%rsp), %r11
    movq (REGS_RSP - REGS_VECTOR)(%rsp), %rsp
    swapgs
    sysretq
    .size syscall_entry, . - syscall_entry

/* ------------------------------------------------------------------------
 * void exec_user_enter(uint64_t fn, uint64_t user_rsp, uint64_t rflags)
 * Saves the callee-saved registers and RFLAGS, then iretq to user_trampoline in ring 3
 * with %rdi = fn.  exec_user_return(value) comes back here from any entry.
 */
    .globl exec_user_enter
    .type exec_user_enter, @function
exec_user_enter:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    pushfq                          /* the caller's IF, restored on return */
    movq %rsp, exec_user_ksp(%rip)
    pushq $USER_DS                  /* ss */
    pushq %rsi                      /* rsp */
    pushq %rdx                      /* rflags */
    pushq $USER_CS                  /* cs */
    pushq $user_trampoline          /* rip */
    xorl %eax, %eax
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %esi, %esi
    xorl %ebp, %ebp
    swapgs
    iretq
    .size exec_user_enter, . - exec_user_enter

    .globl exec_user_return
    .type exec_user_return, @function
exec_user_return:                   /* %rdi = value for exec_user_enter's caller */
    movq exec_user_ksp(%rip), %rsp
    movl $KERNEL_DS, %eax           /* a ring change left a null %ss */
    mov %eax, %ss
    movq %rdi, %rax
    popfq
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size exec_user_return, . - exec_user_return

/* Runs in ring 3: call fn, then SYS_EXIT with its result. */
    .globl user_trampoline
    .type user_trampoline, @function
user_trampoline:
    call *%rdi
    movq %rax, %rdi
    movl $SYS_EXIT, %eax
    syscall
    ud2
    .size user_trampoline, . - user_trampoline

/* ------------------------------------------------------------------------
 * exinfo_t catch_call(void (*fn)(void *), void *arg)
 * catch_resume is where traps.c sends an exception it catches, with
 * %rsp = catch_rsp and %rax = the exinfo.
 */
    .globl catch_call
    .type catch_call, @function
catch_call:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    pushfq
    movq %rsp, catch_rsp(%rip)
    movq $1, catch_armed(%rip)
    movq %rdi, %rax
    movq %rsi, %rdi
    call *%rax
    movq $0, catch_armed(%rip)
    xorl %eax, %eax
    .globl catch_resume
catch_resume:
    popfq
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret
    .size catch_call, . - catch_call

/* ------------------------------------------------------------------------ */
    .section .bss.stacks, "aw", @nobits
    .balign 4096
    .globl boot_stack, boot_stack_top
boot_stack:
    .skip 16384
boot_stack_top:
    .globl entry_stack, entry_stack_top
entry_stack:
    .skip 16384
entry_stack_top:
    .globl ist_stacks
ist_stacks:
    .skip 8192 * NR_IST

    .section .data, "aw", @progbits
    .balign 8
exec_user_ksp:  .quad 0
    .globl catch_rsp, catch_armed
catch_rsp:      .quad 0
catch_armed:    .quad 0

    .section .note.GNU-stack, "", @progbits
