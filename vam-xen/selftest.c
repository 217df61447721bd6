/*
 * A test front end for the Xen back end: implements the vam_fe_* entry
 * points of vam/backend.h and drives every back-end path the real front
 * end will use, in one boot.  The whole guest runs in PV user mode
 * (README.md); each step checks the state it receives:
 *   guest user code: %gs/%fs-relative loads (GS base of user mode, FS
 *   base) -> syscall -> back -> ud2 (#UD) -> skip it -> a read of an
 *   unmapped page (#PF, cr2, error code);
 *   guest kernel code in a kernel space, its stack in guest RAM: a load
 *   from a be_map_vam page and a %gs-relative load (GS base of kernel
 *   mode) -> int3 (#BP) -> ud2 (#UD) -> reads of the VAM's image and of
 *   Xen's M2P fault (neither is in the guest's space) -> a `call *%rax`
 *   into the gate (vam_fe_gate: rcx, r11 kept, rsp at the return address)
 *   -> int $0x80 -> spinning until a timer event interrupts it
 *   (vam_fe_interrupt, which resumes elsewhere with be_resume: in the
 *   middle of the gate, as if a `call` to it was under way, with an event
 *   pending) -> the event arrives before the gate's syscall, the back end
 *   rewinds rip to the gate's entry -> the gate runs whole (vam_fe_gate
 *   sees the new rcx and r11) -> int3;
 *   be_map refusals, be_flush with and without global pages, be_unmap ->
 *   user code faults on the unmapped page -> be_space_destroy of the
 *   installed user space, a new space from the recycled frames -> user
 *   code spinning until a timer event (vam_fe_interrupt returns, the back
 *   end resumes the changed regs) -> ud2 -> be_set_user_gdt, the same ud2
 *   on the guest's selectors (reported back as 0x33/0x2b) and on a DPL-0
 *   code selector (refused: the back end's) -> blocking until a one-shot
 *   timer -> shutdown.
 * Every entry also checks that events are masked.  Linked into
 * vam-xen-selftest.elf, which ctest boots under Xen.
 */
#include "vam/backend.h"
#include "selftest.h"
#include "xen-console.h"
#include "xen-events.h"
#include "xen-memory.h"
#include "xen-space.h"

/* guest-physical layout */
#define GPA_USER_CODE 0x1000
#define GPA_USER_DATA 0x2000      /* user stack; GS and FS of user mode point here */
#define GPA_KERNEL_CODE 0x3000
#define GPA_FLUSH_GLOBAL 0x4000
#define GPA_FLUSH_LOCAL 0x5000
#define GPA_KERNEL_STACK 0x6000
#define GPA_KERNEL_GS 0x7000
#define GPA_SPIN_CODE 0x8000

/* guest-virtual layout */
#define USER_CODE_VA 0x400000UL
#define SPIN_CODE_VA 0x401000UL
#define USER_DATA_VA 0x7ff000UL
#define USER_STACK_TOP 0x800000UL
#define KERNEL_CODE_VA 0x600000UL
#define KERNEL_STACK_VA 0x5ff000UL
#define KERNEL_STACK_TOP 0x600000UL
#define KERNEL_GS_VA 0x700000UL

extern const char st_user_code[], st_user_syscall_ret[], st_user_fault[], st_user_code_end[];
extern const char st_kernel_code[], st_kernel_ud2[], st_kernel_read_vam[], st_kernel_read_m2p[];
extern const char st_kernel_gate_call[], st_kernel_gate_ret[], st_kernel_spin[];
extern const char st_kernel_resumed[], st_kernel_code_end[];
extern const char st_spin_code[], st_spin[], st_spin_resumed[], st_spin_code_end[];

#define USER_VA(label) (USER_CODE_VA + (uint64_t)((label) - st_user_code))
#define KERNEL_VA(label) (KERNEL_CODE_VA + (uint64_t)((label) - st_kernel_code))
#define SPIN_VA(label) (SPIN_CODE_VA + (uint64_t)((label) - st_spin_code))

static volatile unsigned timer_events;
static unsigned step;
static bool timer_armed;
static be_space_t kernel_space, user_space;
static uint64_t vam_hot_page[512] __attribute__((aligned(4096))) = {0x56414d5f484f5421ULL};

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

/* The VAM runs with events masked at every entry (backend.h). */
static void check_masked(const char *entry)
{
    if (!vamxen_vcpu->evtchn_upcall_mask) {
        xen_puts("VAM selftest: events enabled in ");
        xen_puts(entry);
        xen_puts("\n");
        fail("events not masked at an entry");
    }
}

static void copy_to_guest(uint64_t gpa, const void *src, unsigned long len)
{
    const uint8_t *s = src;
    for (unsigned long i = 0; i < len; i++)
        be_memory()->window[gpa + i] = s[i];
}

static uint64_t guest_u64(uint64_t gpa)
{
    return *(const volatile uint64_t *)(be_memory()->window + gpa);
}

static void put_guest_u64(uint64_t gpa, uint64_t v)
{
    *(volatile uint64_t *)(be_memory()->window + gpa) = v;
}

static void arm_timer(uint64_t delay_ns)
{
    timer_armed = true;
    be_set_timer(be_now_ns() + delay_ns);
}

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
    copy_to_guest(GPA_USER_CODE, st_user_code, (unsigned long)(st_user_code_end - st_user_code));
    copy_to_guest(GPA_KERNEL_CODE, st_kernel_code,
                  (unsigned long)(st_kernel_code_end - st_kernel_code));
    copy_to_guest(GPA_SPIN_CODE, st_spin_code, (unsigned long)(st_spin_code_end - st_spin_code));
    put_guest_u64(GPA_USER_DATA, ST_GS_USER_MAGIC);
    put_guest_u64(GPA_USER_DATA + 8, ST_FS_MAGIC);
    put_guest_u64(GPA_KERNEL_GS, ST_GS_KERNEL_MAGIC);

    kernel_space = be_space_create(BE_SPACE_KERNEL);
    user_space = be_space_create(BE_SPACE_USER);
    const void *gate = be_gate_page(ST_GATE_VA);
    if (kernel_space < 0 || user_space < 0 || ((uint64_t)gate & 4095) ||
        !be_map(user_space, USER_CODE_VA, GPA_USER_CODE, BE_R | BE_X | BE_USER) ||
        !be_map(user_space, USER_DATA_VA, GPA_USER_DATA, BE_R | BE_W | BE_USER) ||
        !be_map(kernel_space, KERNEL_CODE_VA, GPA_KERNEL_CODE, BE_R | BE_X) ||
        !be_map(kernel_space, KERNEL_STACK_VA, GPA_KERNEL_STACK, BE_R | BE_W) ||
        !be_map(kernel_space, KERNEL_GS_VA, GPA_KERNEL_GS, BE_R) ||
        !be_map_vam(kernel_space, ST_HOT_VA, vam_hot_page, BE_R | BE_W) ||
        !be_map_vam(kernel_space, ST_GATE_VA, gate, BE_R | BE_W | BE_X) ||
        be_map_vam(user_space, ST_HOT_VA, vam_hot_page, BE_R))
        fail("building the address spaces");
    be_set_seg_base(BE_GS_BASE_KERNEL, KERNEL_GS_VA);
    be_set_seg_base(BE_GS_BASE_USER, USER_DATA_VA);
    be_set_seg_base(BE_FS_BASE, USER_DATA_VA + 8);
    be_space_activate(kernel_space, user_space);
    struct vam_regs regs = {.rip = USER_CODE_VA, .cs = 0xe033, .rflags = 0x202,
                            .rsp = USER_STACK_TOP, .ss = 0xe02b, .rax = 0x1234};
    xen_puts("VAM selftest: entering user mode\n");
    be_resume(&regs);
}

void vam_fe_syscall(struct vam_regs *r)
{
    check_masked("vam_fe_syscall");
    report("syscall from user mode", r, r->rax);
    if (step++ != 0 || r->rax != 42 || r->rip != USER_VA(st_user_syscall_ret) ||
        r->cs != 0xe033 || r->rcx != r->rip || r->r11 != r->rflags || r->rsp != USER_STACK_TOP)
        fail("syscall state");
    if (r->rbx != ST_GS_USER_MAGIC || r->rdx != ST_FS_MAGIC)
        fail("GS or FS base in user mode");
    xen_puts("VAM selftest: user mode read ");
    xen_put_hex(r->rbx);
    xen_puts(" at %gs:0 and ");
    xen_put_hex(r->rdx);
    xen_puts(" at %fs:0\n");
    r->rax = 0;
}

void vam_fe_gate(struct vam_regs *r)
{
    check_masked("vam_fe_gate");
    uint64_t ret = 0;
    if (r->rsp >= KERNEL_STACK_VA && r->rsp <= KERNEL_STACK_TOP - 8)
        ret = guest_u64(GPA_KERNEL_STACK + (r->rsp - KERNEL_STACK_VA));
    bool first = step == 7;
    report(first ? "gate entry from kernel mode" : "gate entry after the rewind", r, ret);
    if ((step != 7 && step != 11) || r->rip != ST_GATE_VA || r->cs != 0xe030 ||
        r->rcx != (first ? ST_GATE_RCX : ST_GATE_RCX2) ||
        r->r11 != (first ? ST_GATE_R11 : ST_GATE_R11_2) || r->rsp != KERNEL_STACK_TOP - 8 ||
        ret != (first ? KERNEL_VA(st_kernel_gate_ret) : KERNEL_VA(st_kernel_resumed)))
        fail("gate state");
    step++;
    xen_puts("VAM selftest: gate kept rcx ");
    xen_put_hex(r->rcx);
    xen_puts(" and r11 ");
    xen_put_hex(r->r11);
    xen_puts("\n");
    /* emulate the `ret` a gate handler ends with */
    r->rip = ret;
    r->rsp += 8;
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

/* The kernel-mode leg: guest kernel code in the kernel space, in PV user
 * mode like all guest code, on a stack in guest RAM. */
static void run_kernel_code(void) __attribute__((noreturn));
static void run_kernel_code(void)
{
    struct vam_regs regs = {.rip = KERNEL_CODE_VA, .cs = 0xe030, .rflags = 0x202,
                            .rsp = KERNEL_STACK_TOP, .ss = 0xe02b};
    be_resume(&regs);
}

/* be_map refusals, be_flush with and without global pages, then be_unmap:
 * user code must fault on the page it removed. */
static void check_flush_and_unmap(void) __attribute__((noreturn));
static void check_flush_and_unmap(void)
{
    /* be_map refuses the VAM's and Xen's own ranges */
    if (be_map(kernel_space, 0xfffffc0000200000ULL, 0x1000, BE_R) ||
        be_map(kernel_space, 0xfffffc8000000000ULL, 0x1000, BE_R) ||
        be_map(kernel_space, 0xffff800000000000ULL, 0x1000, BE_R) ||
        be_map(kernel_space, 0xffff878000000000ULL, 0x1000, BE_R))
        fail("be_map accepted a reserved address");
    /* be_flush drops non-global translations and keeps global ones unless
     * asked; be_map_vam pages always survive */
    if (!be_map(user_space, 0x900000, GPA_FLUSH_GLOBAL, BE_R | BE_USER | BE_GLOBAL) ||
        !be_map(user_space, 0x901000, GPA_FLUSH_LOCAL, BE_R | BE_USER))
        fail("be_map for the flush check");
    be_flush(user_space, false);
    if (!probe_user_page(0x900000) || probe_user_page(0x901000))
        fail("be_flush(non-global) kept or dropped the wrong page");
    be_flush(user_space, true);
    if (probe_user_page(0x900000))
        fail("be_flush(all) kept a global page");
    be_flush(kernel_space, true);
    if (!vamxen_space_translates(kernel_space, ST_GATE_VA) ||
        !vamxen_space_translates(kernel_space, ST_HOT_VA) ||
        vamxen_space_translates(kernel_space, KERNEL_CODE_VA))
        fail("be_flush(all) of the kernel space and be_map_vam pages");
    xen_puts("VAM selftest: be_flush keeps global pages only when asked, be_map_vam pages always\n");
    /* be_flush(all) also dropped the user code and stack: map them
     * again, then unmapped user code must fault when user mode runs */
    if (!be_map(user_space, USER_CODE_VA, GPA_USER_CODE, BE_R | BE_X | BE_USER) ||
        !be_map(user_space, USER_DATA_VA, GPA_USER_DATA, BE_R | BE_W | BE_USER))
        fail("remapping the user program");
    be_unmap(user_space, USER_CODE_VA);
    struct vam_regs u = {.rip = USER_CODE_VA, .cs = 0xe033, .rflags = 0x202,
                         .rsp = USER_STACK_TOP, .ss = 0xe02b};
    be_resume(&u);
}

/* The installed user space goes; a new one comes from its frames and runs
 * user code that spins until a timer event interrupts it. */
static void check_destroy_and_spin(void) __attribute__((noreturn));
static void check_destroy_and_spin(void)
{
    unsigned long before = vamxen_pt_frames_in_use();
    be_space_destroy(user_space);
    unsigned long after = vamxen_pt_frames_in_use();
    user_space = be_space_create(BE_SPACE_USER);
    if (user_space < 0 ||
        !be_map(user_space, SPIN_CODE_VA, GPA_SPIN_CODE, BE_R | BE_X | BE_USER) ||
        !be_map(user_space, USER_DATA_VA, GPA_USER_DATA, BE_R | BE_W | BE_USER))
        fail("building a space after be_space_destroy");
    unsigned long rebuilt = vamxen_pt_frames_in_use();
    xen_puts("VAM selftest: be_space_destroy gave back ");
    xen_put_dec(before - after);
    xen_puts(" page-table frames, the new space took ");
    xen_put_dec(rebuilt - after);
    xen_puts(" of them\n");
    if (after + 4 > before || rebuilt > before)
        fail("page-table frames not given back or not reused");
    be_space_activate(-1, user_space);
    arm_timer(2 * 1000 * 1000);
    struct vam_regs u = {.rip = SPIN_CODE_VA, .cs = 0xe033, .rflags = 0x202,
                         .rsp = USER_STACK_TOP, .ss = 0xe02b};
    be_resume(&u);
}

void vam_fe_exception(struct vam_regs *r, unsigned vector, uint64_t error_code, uint64_t cr2)
{
    bool user = (r->cs & 3) == 3;
    check_masked("vam_fe_exception");
    /* from step 16 on user mode may run on the guest's selectors (checked there) */
    if (!(user && step >= 16) && (r->cs != (user ? 0xe033u : 0xe030u) || r->ss != 0xe02b))
        fail("selectors reported at an exception");
    if (vector == 6 && user && step == 1) {
        report("#UD from user mode", r, error_code);
        step++;
        if (r->rip != USER_VA(st_user_syscall_ret))
            fail("#UD state");
        r->rip += 2;            /* skip the ud2 */
        return;
    }
    if (vector == 14 && user && step == 2) {
        report("#PF from user mode", r, cr2);
        /* error code 4: user-mode read of a not-present page */
        if (r->rip != USER_VA(st_user_fault) || cr2 != 0x12345000 || error_code != 4)
            fail("#PF state");
        step++;
        run_kernel_code();
    }
    if (vector == 3 && !user && step == 3) {
        report("#BP from kernel mode", r, r->rbx);
        step++;
        if (r->rip != KERNEL_VA(st_kernel_ud2) || r->rax != 7 || r->rbx != vam_hot_page[0] ||
            r->rsp != KERNEL_STACK_TOP)
            fail("#BP state");
        if (r->rdx != ST_GS_KERNEL_MAGIC)
            fail("GS base in kernel mode");
        xen_puts("VAM selftest: kernel mode read ");
        xen_put_hex(r->rdx);
        xen_puts(" at %gs:0\n");
        return;
    }
    if (vector == 6 && !user && step == 4) {
        report("#UD from kernel mode", r, error_code);
        step++;
        if (r->rip != KERNEL_VA(st_kernel_ud2))
            fail("kernel #UD state");
        r->rip += 2;
        return;
    }
    if (vector == 14 && !user && step == 5) {
        report("#PF reading the VAM image from kernel mode", r, cr2);
        step++;
        if (r->rip != KERNEL_VA(st_kernel_read_vam) || cr2 != ST_VAM_IMAGE || (error_code & 1))
            fail("the VAM image is visible to the guest");
        r->rip += 3;            /* skip mov (%rax),%rax */
        return;
    }
    if (vector == 14 && !user && step == 6) {
        report("#PF reading the M2P from kernel mode", r, cr2);
        step++;
        if (r->rip != KERNEL_VA(st_kernel_read_m2p) || cr2 != ST_M2P)
            fail("the M2P is visible to the guest");
        r->rip += 3;
        return;
    }
    if (vector == 0x80 && !user && step == 8) {
        report("int $0x80 from kernel mode", r, error_code);
        step++;
        if (r->rip != KERNEL_VA(st_kernel_spin) || error_code || cr2)
            fail("int $0x80 state");
        arm_timer(2 * 1000 * 1000);
        return;
    }
    if (vector == 3 && !user && step == 12) {
        report("#BP back from the gate", r, r->rsp);
        step++;
        if (r->rip != KERNEL_VA(st_kernel_resumed) + 1)
            fail("state after the rewound gate");
        check_flush_and_unmap();
    }
    if (vector == 14 && user && step == 13) {
        report("#PF after be_unmap", r, cr2);
        step++;
        /* error code 0x14: user-mode instruction fetch of a not-present page */
        if (r->rip != USER_CODE_VA || cr2 != USER_CODE_VA || error_code != 0x14)
            fail("#PF after unmap");
        check_destroy_and_spin();
    }
    if (vector == 6 && user && step == 15) {
        report("#UD after the interrupt", r, r->rbx);
        if (r->rip != SPIN_VA(st_spin_resumed))
            fail("state after vam_fe_interrupt returned");
        /* the guest's own user descriptors: 64-bit code 0x33 and data
         * 0x2b (DPL 3), and a DPL-0 code segment at 0x10 the back end
         * must not let user mode run on */
        static const uint64_t gdt[8] = {[2] = 0x00af9b000000ffffull,
                                        [5] = 0x00cff3000000ffffull,
                                        [6] = 0x00affb000000ffffull};
        if (!be_set_user_gdt(gdt, 8))
            fail("be_set_user_gdt");
        step++;
        struct vam_regs u = *r;
        u.cs = 0x33;
        u.ss = 0x2b;
        be_resume(&u);
    }
    if (vector == 6 && user && step == 16) {
        report("#UD on the guest's selectors", r, r->cs);
        if (r->rip != SPIN_VA(st_spin_resumed) || r->cs != 0x33 || r->ss != 0x2b)
            fail("user mode did not run on the guest's selectors 0x33/0x2b");
        step++;
        struct vam_regs u = *r;
        u.cs = 0x13;            /* RPL 3 on the DPL-0 descriptor: refused */
        be_resume(&u);
    }
    if (vector == 6 && user && step == 17) {
        report("#UD on the back end's selectors", r, r->cs);
        if (r->rip != SPIN_VA(st_spin_resumed) || r->cs != 0xe033 || r->ss != 0x2b)
            fail("a DPL-0 code segment was not refused for user mode");
        sleep_on_timer(20 * 1000 * 1000);
        xen_puts("VAM selftest: all back-end paths passed\n");
        be_shutdown(BE_REBOOT);
    }
    report("unexpected exception", r, vector);
    xen_puts("VAM selftest: error code ");
    xen_put_hex(error_code);
    xen_puts(", cr2 ");
    xen_put_hex(cr2);
    xen_puts(", step ");
    xen_put_dec(step);
    xen_puts("\n");
    fail("unexpected exception");
}

/* Resumes r in the middle of the gate (after its first instruction) as if
 * guest code had called it from st_kernel_resumed with new rcx and r11,
 * with a timer event already pending: Xen delivers it before the guest
 * executes anything, so the event path sees rip inside the gate. */
static void resume_inside_gate(struct vam_regs *r) __attribute__((noreturn));
static void resume_inside_gate(struct vam_regs *r)
{
    r->rsp -= 8;
    put_guest_u64(GPA_KERNEL_STACK + (r->rsp - KERNEL_STACK_VA), KERNEL_VA(st_kernel_resumed));
    r->rip = ST_GATE_VA + 7;    /* past movq %rcx, scratch(%rip) */
    r->rcx = ST_GATE_RCX2;      /* the scratch slot still holds ST_GATE_RCX */
    r->r11 = ST_GATE_R11_2;
    uint64_t t0 = be_now_ns();
    arm_timer(0);
    while (!vamxen_vcpu->evtchn_upcall_pending)     /* masked: stays pending */
        if (be_now_ns() - t0 > 1000 * 1000 * 1000)
            fail("the timer event did not become pending");
    be_resume(r);
}

void vam_fe_interrupt(struct vam_regs *r)
{
    bool user = (r->cs & 3) == 3;
    check_masked("vam_fe_interrupt");
    if (!timer_armed)
        fail("an interrupt without an armed timer");
    if (step == 10) {
        report("interrupt inside the gate", r, r->rcx);
        step++;
        timer_armed = false;
        if (r->cs != 0xe030 || r->rip != ST_GATE_VA || r->rcx != ST_GATE_RCX2 ||
            r->r11 != ST_GATE_R11_2 || r->rsp != KERNEL_STACK_TOP - 8)
            fail("the event path did not rewind to the gate's entry");
        return;     /* the gate runs again from its entry */
    }
    /* the timer may fire before the guest reached its loop: wait more */
    bool at_kernel_spin = !user && step == 9 && r->rip == KERNEL_VA(st_kernel_spin);
    bool at_user_spin = user && step == 14 && r->rip == SPIN_VA(st_spin);
    if (!at_kernel_spin && !at_user_spin) {
        arm_timer(1000 * 1000);
        return;
    }
    timer_armed = false;
    if (at_kernel_spin) {
        report("timer interrupt in kernel mode", r, r->rsp);
        step++;
        if (r->cs != 0xe030 || r->ss != 0xe02b || r->rsp != KERNEL_STACK_TOP ||
            !(r->rflags & 0x200) || r->rax != ST_GATE_VA)
            fail("interrupted kernel state");
        /* leave the loop through be_resume from here */
        resume_inside_gate(r);
    }
    report("timer interrupt in user mode", r, r->rbx);
    step++;
    if (r->cs != 0xe033 || r->ss != 0xe02b || r->rsp != USER_STACK_TOP || !(r->rflags & 0x200))
        fail("interrupted user state");
    if (r->rbx != ST_GS_USER_MAGIC)
        fail("GS base of user mode after kernel mode");
    /* leave the loop by returning: the back end resumes regs */
    r->rip = SPIN_VA(st_spin_resumed);
}

void vam_fe_timer(void)
{
    timer_events++;
}

void vam_fe_console_input(const char *buf, unsigned long len)
{
    (void)buf, (void)len;
}
