/*
 * The 64-bit entry point (ELF e_entry), entered the way the VAM enters it:
 * long mode, paging on with only low memory identity-mapped (supervisor
 * pages), interrupts off, %rsi = struct guest_start_info, and nothing else
 * of the framework's state.
 *
 * Booted natively (PVH), the test first plays loader: it builds such a
 * state from scratch - its own page tables, a GDT with other selectors,
 * no IDT, a stack outside the image, DF set, CR0.WP/EFER.NXE/EFER.SCE
 * clear and CR4.SMEP set - and jumps to e_entry.  The second run (platform
 * VAM in the start info; also what a real VAM run sees) checks that the
 * framework rebuilt everything itself.
 */
#include <guest/test.h>

const char test_title[] = "64-bit entry point (the VAM's way in)";

#define HANDOVER_BASE   0x1000000UL             /* 16 MiB: free RAM above the image */
#define HO_START_INFO   (HANDOVER_BASE + 0x0000)
#define HO_CMDLINE      (HANDOVER_BASE + 0x0100)
#define HO_GDTR         (HANDOVER_BASE + 0x0200)
#define HO_GDT          (HANDOVER_BASE + 0x0300)
#define HO_PML4         (HANDOVER_BASE + 0x1000)
#define HO_PDPT         (HANDOVER_BASE + 0x2000)
#define HO_PD           (HANDOVER_BASE + 0x3000)
#define HO_STACK_TOP    (HANDOVER_BASE + 0x8000)
#define HO_CS           0x38                    /* not the framework's selectors */
#define HO_DS           0x40
#define HO_MARKER       "entered-by-entry64-test"

/* void handover64(cr3, start_info, rsp, gdtr, cr4, efer): never returns.
 * A loader's last steps, written out so every sensitive instruction is a site. */
void handover64(uint64_t cr3, uint64_t si, uint64_t rsp, uint64_t gdtr, uint64_t cr4,
                uint64_t efer) __noreturn;
asm (".pushsection .text\n"
     ".globl handover64\n"
     ".type handover64, @function\n"
     "handover64:\n"
     "    cli\n"
     "    mov %rdi, %cr3\n"
     "    mov %r8, %cr4\n"
     "    mov %cr0, %rax\n"
     "    andq $~(1 << 16), %rax\n"           /* CR0.WP off */
     "    mov %rax, %cr0\n"
     "    mov %rdx, %r11\n"                   /* new stack */
     "    mov %rcx, %r10\n"                   /* GDTR */
     "    movl $0xc0000080, %ecx\n"
     "    mov %r9, %rax\n"
     "    mov %r9, %rdx\n"
     "    shrq $32, %rdx\n"
     "    wrmsr\n"                            /* EFER */
     "    movl $0xc0000101, %ecx\n"           /* GS base: garbage */
     "    movl $0xdead0000, %eax\n"
     "    xorl %edx, %edx\n"
     "    wrmsr\n"
     "    lgdt (%r10)\n"
     "    lidt handover_no_idt(%rip)\n"
     "    mov %r11, %rsp\n"
     "    pushq $0x38\n"
     "    leaq 1f(%rip), %rax\n"
     "    pushq %rax\n"
     "    lretq\n"
     "1:  movl $0x40, %eax\n"
     "    mov %eax, %ds\n"
     "    mov %eax, %es\n"
     "    mov %eax, %fs\n"
     "    mov %eax, %gs\n"
     "    mov %eax, %ss\n"
     "    std\n"
     "    movq $-1, %rax\n"
     "    movq %rax, %rbx\n"
     "    movq %rax, %rbp\n"
     "    movq %rax, %rdi\n"
     "    movq %rax, %r12\n"
     "    jmp _start64\n"
     ".size handover64, . - handover64\n"
     ".popsection\n"
     ".pushsection .rodata\n"
     ".balign 8\n"
     "handover_no_idt: .word 0\n .quad 0\n"
     ".popsection\n");

static void __noreturn play_loader(void)
{
    struct guest_start_info *si = (void *)HO_START_INFO;
    uint64_t *pml4 = (void *)HO_PML4, *pdpt = (void *)HO_PDPT, *pd = (void *)HO_PD;
    uint64_t *gdt = (void *)HO_GDT;
    struct x86_dtr *gdtr = (void *)HO_GDTR;
    uint64_t cr4 = X86_CR4_PAE | X86_CR4_PGE;
    uint32_t a, b, c, d;

    memset((void *)HANDOVER_BASE, 0, HO_STACK_TOP - HANDOVER_BASE);
    si->magic = GUEST_START_MAGIC;
    si->version = GUEST_START_VERSION;
    si->platform = GUEST_PLATFORM_VAM;
    si->mem_bytes = 128ULL << 20;
    si->cmdline = HO_CMDLINE;
    memcpy((void *)HO_CMDLINE, HO_MARKER, sizeof(HO_MARKER));

    /* [0, 1 GiB) identity-mapped, supervisor-only, 2 MiB pages. */
    pml4[0] = HO_PDPT | PTE_P | PTE_W;
    pdpt[0] = HO_PD | PTE_P | PTE_W;
    for (unsigned i = 0; i < 512; i++)
        pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS;

    gdt[HO_CS >> 3] = 0x00af9b000000ffffULL;    /* 64-bit code */
    gdt[HO_DS >> 3] = 0x00cf93000000ffffULL;    /* data */
    gdtr->limit = (HO_DS >> 3) * 8 + 7;
    gdtr->base = HO_GDT;

    cpuid_count(7, 0, &a, &b, &c, &d);
    if (b & (1U << 7))
        cr4 |= X86_CR4_SMEP;                    /* legal with supervisor pages */
    printk("Handing over to the 64-bit entry (CR4 %#lx, EFER.NXE/SCE off, no IDT)\n", cr4);
    handover64(HO_PML4, HO_START_INFO, HO_STACK_TOP, HO_GDTR, cr4,
               rdmsr(MSR_EFER) & ~(EFER_NXE | EFER_SCE));
}

static uint64_t user_ret7(void) { return 7; }

static void check_rebuilt_state(void)
{
    const struct guest_start_info *si = guest_start_info;
    struct x86_dtr gdtr, idtr;
    extern uint64_t gdt[];
    uintptr_t lo, hi, sp = (uintptr_t)__builtin_frame_address(0);
    struct user_result res;
    exinfo_t ex = 0;

    check_eq(si->magic, GUEST_START_MAGIC, "start info magic");
    if (si->cmdline)
        test_info("start info: platform %u, %lu MiB, cmdline '%s'\n", si->platform,
                  (unsigned long)(si->mem_bytes >> 20), (const char *)(uintptr_t)si->cmdline);

    sgdt(&gdtr);
    sidt(&idtr);
    check_eq(gdtr.base, (uintptr_t)gdt, "GDTR base is the framework's GDT");
    check_eq(idtr.limit, 256 * 16 - 1, "IDTR limit: 256 gates");
    check_eq(read_cs(), KERNEL_CS, "%cs");
    check_eq(read_ss(), KERNEL_DS, "%ss");
    check_eq(read_tr(), TSS_SEL, "task register");
    check_eq(read_cr3() & PTE_ADDR_MASK, (uintptr_t)pt_kernel_root(), "CR3 is the framework's");
    check(!(read_cr4() & (X86_CR4_SMEP | X86_CR4_SMAP)), "CR4.SMEP/SMAP cleared (%#lx)", read_cr4());
    check(read_cr0() & X86_CR0_WP, "CR0.WP set");
    check((rdmsr(MSR_EFER) & (EFER_NXE | EFER_SCE)) == (EFER_NXE | EFER_SCE), "EFER.NXE and SCE set");
    check_eq(rdmsr(MSR_GS_BASE), (uintptr_t)&percpu0, "MSR_GS_BASE");
    check(!(read_rflags() & (X86_EFLAGS_DF | X86_EFLAGS_IF)), "DF and IF clear (%#lx)", read_rflags());
    boot_stack_bounds(&lo, &hi);
    check(sp >= lo && sp < hi, "running on the framework's boot stack (%#lx)", (unsigned long)sp);

    /* The IDT and extable work. */
    asm volatile ("1: ud2; 2:" _ASM_EXTABLE(1b, 2b, EX_DI) : "+D" (ex));
    check_ex(ex, EXINFO_SYM(UD, 0), "ud2 through the rebuilt IDT");
    check_ex(read_probe(NULL, NULL), EXINFO_SYM(PF, 0), "NULL read through the rebuilt page tables");
    /* Ring 3 and back: TSS, STAR/LSTAR, GS. */
    exec_user(user_ret7, &res);
    check(res.how == USER_EXIT_SYSCALL && res.value == 7, "exec_user after the 64-bit entry (%s %s)",
          user_exit_name(res.how), exinfo_str(res.fault).s);
}

void test_main(void)
{
    const struct guest_start_info *si = guest_start_info;

    if (si && si->platform == GUEST_PLATFORM_PVH) {
        play_loader();
    }
    if (!si) {
        test_skip("entered with %%rsi = 0: nothing to compare with");
        return;
    }
    test_info("entered at e_entry with platform %u\n", si->platform);
    check_rebuilt_state();
}
