/*
 * Native boot: the PVH entry (XEN_ELFNOTE_PHYS32_ENTRY).
 *
 * Entered in 32-bit protected mode, paging off, interrupts off, flat
 * segments, %ebx = guest-physical address of struct hvm_start_info.  Builds
 * nothing at run time: the page tables below are static and identity-map
 * [0, 4 GiB) with 2 MiB pages.  Enables PAE, long mode and paging, then
 * jumps to the common 64-bit entry (_start64, the ELF entry point) with
 * %rsi = pvh_start_info, a struct guest_start_info naming the PVH platform.
 * _start64 replaces everything set up here.
 */
#include <guest/boot.h>
#include <guest/x86.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define BOOT_CS64 0x08
#define BOOT_DS   0x10
#define BOOT_CS32 0x18

/* The note QEMU (and Xen's PVH loader) look for.  QEMU reads the
 * descriptor as a 64-bit value, hence the .quad. */
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 2f - 1f
    .long 4f - 3f
    .long XEN_ELFNOTE_PHYS32_ENTRY
1:  .asciz "Xen"
2:  .balign 4
3:  .quad pvh_start32
4:  .balign 4
    .popsection

    .section .text.boot32, "ax", @progbits
    .code32
    .globl pvh_start32
    .type pvh_start32, @function
pvh_start32:
    cli
    cld
    movl $GUEST_START_MAGIC, pvh_start_info + GSI_MAGIC
    movl $GUEST_START_VERSION, pvh_start_info + GSI_VERSION
    movl $1, pvh_start_info + GSI_PLATFORM          /* GUEST_PLATFORM_PVH */
    movl %ebx, pvh_start_info + GSI_PVH_START_INFO

    lgdt boot_gdt_ptr
    ljmp $BOOT_CS32, $1f
1:  movl $BOOT_DS, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss

    mov %cr4, %eax
    orl $X86_CR4_PAE, %eax
    mov %eax, %cr4

    movl $boot_pml4, %eax
    mov %eax, %cr3

    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr

    mov %cr0, %eax
    orl $(X86_CR0_PG | X86_CR0_PE), %eax
    mov %eax, %cr0

    ljmp $BOOT_CS64, $pvh_start64
    .size pvh_start32, . - pvh_start32

    .code64
pvh_start64:
    movl $pvh_start_info, %esi
    jmp _start64

    .section .rodata.boot32, "a", @progbits
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9b000000ffff        /* 0x08: 64-bit code */
    .quad 0x00cf93000000ffff        /* 0x10: data */
    .quad 0x00cf9b000000ffff        /* 0x18: 32-bit code */
boot_gdt_end:
    .balign 8
    .word 0
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .section .data.boot32, "aw", @progbits
    .balign 8
    .globl pvh_start_info
pvh_start_info:
    .fill GSI_SIZE, 1, 0

    .balign 4096
boot_pml4:
    .quad boot_pdpt + 0x3
    .fill 511, 8, 0
boot_pdpt:
    .quad boot_pd + 0x0000 + 0x3
    .quad boot_pd + 0x1000 + 0x3
    .quad boot_pd + 0x2000 + 0x3
    .quad boot_pd + 0x3000 + 0x3
    .fill 508, 8, 0
boot_pd:
    i = 0
    .rept 2048
    .quad (i << 21) + 0x83          /* present, writable, 2 MiB */
    i = i + 1
    .endr

    .section .note.GNU-stack, "", @progbits
