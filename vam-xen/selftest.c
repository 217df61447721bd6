/*
 * A test front end for the Xen back end: implements the vam_fe_* entry
 * points of vam/backend.h and drives every back-end path the real front
 * end will use, in one boot:
 *   guest code in user mode -> syscall -> back -> ud2 (#UD) -> skip it ->
 *   a read of an unmapped page (#PF, cr2, error code) -> blocking until a
 *   one-shot timer -> shutdown.
 *   then guest code in kernel mode in a VAM-built kernel space -> int3 (#BP)
 *   -> back -> ud2 (#UD) -> the user page unmapped and flushed -> a user
 *   access to it faults (#PF) -> shutdown.
 * Linked into vam-xen-selftest.elf, which ctest boots under Xen.
 */
#include "vam/backend.h"
#include "xen-console.h"
#include "xen-space.h"

static char kernel_stack[16384] __attribute__((aligned(16)));
static volatile unsigned timer_events;
static unsigned step;
static be_space_t kernel_space, user_space;

static void fail(const char *what) __attribute__((noreturn));
static void fail(const char *what)
{
    xen_puts("VAM selftest: FAILED: ");
    xen_puts(what);
    xen_puts("\n");
    be_shutdown(BE_CRASH);
}

static void report(const char *what, const struct vam_regs *r, uint64_t extra)
{
    xen_puts("VAM selftest: ");
    xen_puts(what);
    xen_puts(" rip ");
    xen_put_hex(r->rip);
    xen_puts(" cs ");
    xen_put_hex(r->cs);
    xen_puts(" value ");
    xen_put_hex(extra);
    xen_puts("\n");
}

/* mov $7,%eax; mov 0xffffffffffe00000,%rbx (32-bit absolute, as rewritten
 * sites address the VAM's hot data); int3; ud2 */
static const uint8_t kernel_code[] = {
    0xb8, 0x07, 0x00, 0x00, 0x00,
    0x48, 0x8b, 0x1c, 0x25, 0x00, 0x00, 0xe0, 0xff,
    0xcc, 0x0f, 0x0b,
};
static uint64_t vam_hot_page[512] __attribute__((aligned(4096))) = {0x56414d5f484f5421ULL};

/* mov $42,%eax; syscall; ud2; mov 0x12345000,%eax; jmp . */
static const uint8_t user_code[] = {
    0xb8, 0x2a, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x0f, 0x0b,
    0x8b, 0x04, 0x25, 0x00, 0x50, 0x34, 0x12, 0xeb, 0xfe,
};

void vam_fe_main(const uint8_t *guest, uint64_t guest_len, const char *cmdline)
{
    (void)cmdline;
    /* the guest travels as the first module: show that it arrived intact */
    if (guest_len >= 4 && guest[0] == 0x7f && guest[1] == 'E' && guest[2] == 'L' && guest[3] == 'F') {
        uint32_t sum = 0;
        for (uint64_t i = 0; i < guest_len; i++)
            sum = sum * 31 + guest[i];
        xen_puts("VAM selftest: module is an ELF file of ");
        xen_put_dec(guest_len);
        xen_puts(" bytes, checksum ");
        xen_put_hex(sum);
        xen_puts("\n");
    }
    const struct be_memory *m = be_memory();
    for (unsigned i = 0; i < sizeof user_code; i++)
        m->window[0x1000 + i] = user_code[i];
    for (unsigned i = 0; i < sizeof kernel_code; i++)
        m->window[0x3000 + i] = kernel_code[i];
    kernel_space = be_space_create(BE_SPACE_KERNEL);
    user_space = be_space_create(BE_SPACE_USER);
    if (kernel_space < 0 || user_space < 0 ||
        !be_map(user_space, 0x400000, 0x1000, BE_R | BE_X | BE_USER) ||
        !be_map(user_space, 0x7ff000, 0x2000, BE_R | BE_W | BE_USER) ||
        !be_map(kernel_space, 0x600000, 0x3000, BE_R | BE_X) ||
        !be_map_vam(kernel_space, 0xffffffffffe00000ULL, vam_hot_page, BE_R | BE_W) ||
        be_map_vam(user_space, 0xffffffffffe00000ULL, vam_hot_page, BE_R))
        fail("building the address spaces");
    be_space_activate(-1, user_space);
    be_set_kernel_stack((uint64_t)(kernel_stack + sizeof kernel_stack));
    struct vam_regs regs = {.rip = 0x400000, .cs = 0xe033, .rflags = 0x202, .rsp = 0x800000,
                            .ss = 0xe02b, .rax = 0x1234};
    xen_puts("VAM selftest: entering user mode\n");
    be_resume(&regs);
}

void vam_fe_syscall(struct vam_regs *r)
{
    report("syscall from user mode", r, r->rax);
    if (step++ != 0 || r->rax != 42 || r->rip != 0x400007 || (r->cs & 3) != 3)
        fail("syscall state");
    r->rax = 0;
    be_resume(r);
}

static void sleep_on_timer(uint64_t delay_ns)
{
    unsigned before = timer_events;
    uint64_t t0 = be_now_ns();
    be_set_timer(t0 + delay_ns);
    while (timer_events == before)
        be_block();
    be_events_mask();
    uint64_t waited = be_now_ns() - t0;
    xen_puts("VAM selftest: one-shot timer woke the blocked vCPU after ");
    xen_put_dec(waited / 1000);
    xen_puts(" us (asked ");
    xen_put_dec(delay_ns / 1000);
    xen_puts(" us)\n");
    if (waited < delay_ns)
        fail("timer fired early");
}

/* Whether the user space holds a translation for `va` (its page tables are
 * the TLB that be_flush edits). */
static bool probe_user_page(uint64_t va)
{
    return vamxen_space_translates(user_space, va);
}

/* The kernel-mode leg: the VAM switches its own kernel page table to a
 * space it built, which maps guest code beside the VAM's slots. */
static void run_kernel_code(void) __attribute__((noreturn));
static void run_kernel_code(void)
{
    be_space_activate(kernel_space, -1);
    struct vam_regs regs = {.rip = 0x600000, .cs = 0xe030, .rflags = 0x202,
                            .rsp = (uint64_t)(kernel_stack + 8192), .ss = 0xe02b};
    be_resume(&regs);
}

void vam_fe_exception(struct vam_regs *r, unsigned vector, uint64_t error_code, uint64_t cr2)
{
    bool user = (r->cs & 3) == 3;
    if (vector == 6 && user) {
        report("#UD from user mode", r, error_code);
        if (step++ != 1 || r->rip != 0x400007)
            fail("#UD state");
        r->rip += 2;            /* skip the ud2 */
        be_resume(r);
    }
    if (vector == 14 && user && step == 2) {
        report("#PF from user mode", r, cr2);
        /* error code 4: user-mode read of a not-present page */
        if (r->rip != 0x400009 || cr2 != 0x12345000 || error_code != 4)
            fail("#PF state");
        step++;
        run_kernel_code();
    }
    if (vector == 3 && !user) {
        report("#BP from kernel mode", r, r->rbx);
        if (step++ != 3 || r->rip != 0x60000e || r->rax != 7 || r->rbx != vam_hot_page[0])
            fail("#BP state");
        be_resume(r);
    }
    if (vector == 6 && !user) {
        report("#UD from kernel mode", r, error_code);
        if (step++ != 4 || r->rip != 0x60000e)
            fail("kernel #UD state");
        /* be_flush drops non-global translations and keeps global ones
         * unless asked; be_map refuses the VAM's and Xen's own ranges */
        if (be_map(kernel_space, 0xfffffc0000200000ULL, 0x1000, BE_R) ||
            be_map(kernel_space, 0xffff800000000000ULL, 0x1000, BE_R))
            fail("be_map accepted a reserved address");
        if (!be_map(user_space, 0x900000, 0x4000, BE_R | BE_USER | BE_GLOBAL) ||
            !be_map(user_space, 0x901000, 0x5000, BE_R | BE_USER))
            fail("be_map for the flush check");
        be_flush(user_space, false);
        be_space_activate(-1, user_space);
        if (!probe_user_page(0x900000) || probe_user_page(0x901000))
            fail("be_flush(non-global) kept or dropped the wrong page");
        be_flush(user_space, true);
        if (probe_user_page(0x900000))
            fail("be_flush(all) kept a global page");
        xen_puts("VAM selftest: be_flush keeps global pages only when asked\n");
        /* be_flush(all) also dropped the user code and stack: map them
         * again, then unmapped user code must fault when user mode runs */
        if (!be_map(user_space, 0x400000, 0x1000, BE_R | BE_X | BE_USER) ||
            !be_map(user_space, 0x7ff000, 0x2000, BE_R | BE_W | BE_USER))
            fail("remapping the user program");
        be_unmap(user_space, 0x400000);
        be_space_activate(-1, user_space);
        struct vam_regs u = {.rip = 0x400000, .cs = 0xe033, .rflags = 0x202, .rsp = 0x800000,
                             .ss = 0xe02b};
        be_resume(&u);
    }
    if (vector == 14 && user && step == 5) {
        report("#PF after be_unmap", r, cr2);
        /* error code 0x14: user-mode instruction fetch of a not-present page */
        if (r->rip != 0x400000 || cr2 != 0x400000 || error_code != 0x14)
            fail("#PF after unmap");
        sleep_on_timer(20 * 1000 * 1000);
        xen_puts("VAM selftest: all back-end paths passed\n");
        be_shutdown(BE_REBOOT);
    }
    report("unexpected exception", r, vector);
    fail("unexpected exception");
}

void vam_fe_timer(void)
{
    timer_events++;
}

void vam_fe_console_input(const char *buf, unsigned long len)
{
    (void)buf, (void)len;
}
