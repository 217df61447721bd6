/*
 * The guest's modes on Xen (backend.h: be_resume, be_gate_page,
 * be_set_seg_base) and the C side of the guest's entries into the VAM.
 *
 * The VAM runs in PV kernel mode on its boot L4 for the whole run; the
 * guest, its kernel as well as its user code, runs in PV user mode
 * (README.md, "Modes").  So every trap, event and syscall of the guest
 * makes Xen switch to PV kernel mode and write its bounce frame at
 * kernel_sp, the top of the VAM's stack, never into guest memory.  Xen's
 * frame then always says "from PV user mode" (CS RPL 3); the guest mode
 * the front end sees is the one be_resume last entered, which the VAM
 * tracks itself (vamxen_guest_kernel_mode) and reports as the RPL of
 * regs->cs.  Guest kernel and guest user mode differ in the page table
 * Xen's user mode runs on (be_resume installs the active kernel or user
 * space with MMUEXT_NEW_USER_BASEPTR) and in the GS base loaded into PV
 * user mode.
 *
 * Vectors in vam_fe_exception: 0-19 are the CPU's exceptions (for #PF Xen
 * sets the error code's U bit because the hardware fault came from PV
 * user mode; only its W and I bits say something about the guest); vectors
 * 32 and up are software interrupts (`int $0x80`) with regs->rip already
 * past the instruction, without error code.  Other `int n` arrive as #GP
 * with an IDT error code.
 */
#include "hypercall.h"
#include "vam/backend.h"
#include "xen-console.h"
#include "xen-events.h"
#include "xen-guest.h"
#include "xen-memory.h"
#include "xen-space.h"

#define RFLAGS_IF 0x200UL

bool vamxen_guest_kernel_mode;

extern char vamxen_stack_top[];

/* The gate page (xen-guest.S) and the guest va the front end maps it at. */
extern char vamxen_gate_page[], vamxen_gate_syscall_end[];
extern volatile uint64_t vamxen_gate_rcx, vamxen_gate_r11;
static uint64_t gate_va;

/* GS bases per guest mode, and the one PV user mode holds now (as far as
 * the VAM knows: be_set_seg_base forgets it). */
static uint64_t gs_base_kernel, gs_base_user, gs_base_loaded;
static bool gs_base_loaded_known;

void vamxen_guest_init(void)
{
    /* the ss argument is ignored by 64-bit Xen */
    long rc = xen_hypercall2(__HYPERVISOR_stack_switch, FLAT_KERNEL_SS,
                             (unsigned long)vamxen_stack_top);
    if (rc)
        vamxen_panic("stack_switch failed", rc);
    /* Nothing to do for Xen's read-only M2P: Xen adds its L4 slot only to
     * L4s installed as PV *kernel* page tables (without m2p_strict), and
     * no guest space ever is one (the selftest checks the guest faults). */
}

void be_set_seg_base(enum be_seg_base which, uint64_t base)
{
    switch (which) {
    case BE_FS_BASE: {
        /* Xen does not swap the FS base between its modes */
        long rc = xen_hypercall2(__HYPERVISOR_set_segment_base, SEGBASE_FS, base);
        if (rc)
            vamxen_panic("set_segment_base(FS) failed", rc);
        break;
    }
    case BE_GS_BASE_KERNEL:
        gs_base_kernel = base;
        break;
    case BE_GS_BASE_USER:
        gs_base_user = base;
        break;
    }
    /* Loaded by be_resume.  A %gs load the guest executes natively resets
     * the hardware base behind the VAM's back, so after a call the next
     * resume loads the base even if it looks unchanged. */
    if (which != BE_FS_BASE)
        gs_base_loaded_known = false;
}

const void *be_gate_page(uint64_t va)
{
    if ((va & 4095) || (gate_va && gate_va != va))
        vamxen_panic("be_gate_page: one page-aligned gate va per run", (long)va);
    gate_va = va;
    return vamxen_gate_page;
}

static uint64_t gate_syscall_end(void)
{
    return gate_va + (uint64_t)(vamxen_gate_syscall_end - vamxen_gate_page);
}

/* ---- the guest's user descriptors (be_set_user_gdt) ------------------------
 * One frame registered with HYPERVISOR_set_gdt; Xen keeps its own flat
 * selectors (0xe0xx) beside it, which the VAM and the guest kernel run on.
 * The frame comes from the page-table pool, whose window mappings are
 * read-only, as Xen requires of descriptor pages; entries change through
 * HYPERVISOR_update_descriptor, which validates each. */
#define DESC_P (1ull << 47)
#define DESC_S (1ull << 44)
#define DESC_DPL3 (3ull << 45)
#define DESC_CODE (1ull << 43)
#define DESC_WRITABLE (1ull << 41)

static unsigned long user_gdt_mfn;
static uint64_t user_gdt[BE_USER_GDT_MAX];
static unsigned user_gdt_n;

bool be_set_user_gdt(const uint64_t *desc, unsigned n)
{
    if (n > BE_USER_GDT_MAX)
        n = BE_USER_GDT_MAX;
    if (!user_gdt_mfn) {
        unsigned long mfn = vamxen_alloc_pt_frame(0);
        if (!mfn)
            return false;
        vamxen_fill_frame(mfn, 0, 0);
        unsigned long frames[1] = {mfn};
        long rc = xen_hypercall2(__HYPERVISOR_set_gdt, (unsigned long)frames, 512);
        if (rc) {
            vamxen_free_pt_frame(mfn);
            return false;
        }
        user_gdt_mfn = mfn;
    }
    for (unsigned i = 0; i < BE_USER_GDT_MAX; i++) {
        uint64_t d = i < n ? desc[i] : 0;
        if ((d & (DESC_P | DESC_S | DESC_DPL3)) != (DESC_P | DESC_S | DESC_DPL3))
            d = 0;
        if (d == user_gdt[i])
            continue;
        long rc = xen_hypercall2(__HYPERVISOR_update_descriptor,
                                 ((uint64_t)user_gdt_mfn << 12) + 8 * i, d);
        if (rc)
            return false;
        user_gdt[i] = d;
    }
    user_gdt_n = n;
    return true;
}

/* A guest selector be_set_user_gdt loaded, RPL 3. */
static uint64_t user_desc(uint64_t sel)
{
    unsigned i = (unsigned)(sel >> 3) & 0x1fff;
    if ((sel & 7) != 3 || sel > 0xffff || i == 0 || i >= user_gdt_n)
        return 0;
    return user_gdt[i];
}

static bool user_cs_ok(uint64_t sel)
{
    return (user_desc(sel) & DESC_CODE) != 0;
}

static bool user_ss_ok(uint64_t sel)
{
    uint64_t d = user_desc(sel);
    return d && !(d & DESC_CODE) && (d & DESC_WRITABLE);
}

void vamxen_resume(const struct vam_regs *regs) __attribute__((noreturn));

/* Installs the space and GS base for the guest mode regs asks for (one
 * multicall, nothing when both are in place), then HYPERVISOR_iret to PV
 * user mode with Xen's flat user selectors and events enabled. */
void be_resume(const struct vam_regs *regs)
{
    bool kernel = (regs->cs & 3) != 3;
    struct mmuext_op ops[2];
    struct multicall_entry calls[2];
    unsigned n_calls = 0;
    unsigned n_ops = vamxen_space_install_ops(kernel, ops);
    if (n_ops)
        calls[n_calls++] = (struct multicall_entry){
            .op = __HYPERVISOR_mmuext_op,
            .args = {(unsigned long)ops, n_ops, 0, DOMID_SELF}};
    uint64_t gs = kernel ? gs_base_kernel : gs_base_user;
    if (!gs_base_loaded_known || gs != gs_base_loaded) {
        calls[n_calls++] = (struct multicall_entry){
            .op = __HYPERVISOR_set_segment_base, .args = {SEGBASE_GS_USER, gs}};
        gs_base_loaded = gs;
        gs_base_loaded_known = true;
    }
    if (n_calls) {
        long rc = xen_hypercall2(__HYPERVISOR_multicall, (unsigned long)calls, n_calls);
        for (unsigned i = 0; i < n_calls && !rc; i++)
            rc = (long)calls[i].result;
        if (rc)
            vamxen_panic("installing the guest mode's space and GS base failed", rc);
    }
    vamxen_guest_kernel_mode = kernel;
    struct vam_regs r = *regs;
    r.cs = !kernel && user_cs_ok(regs->cs) ? regs->cs : FLAT_USER_CS64;
    r.ss = !kernel && user_ss_ok(regs->ss) ? regs->ss : FLAT_USER_SS64;
    r.rflags |= RFLAGS_IF;
    vamxen_resume(&r);
}

void vamxen_guest_entered(struct vam_regs *r)
{
    if (vamxen_guest_kernel_mode) {
        r->cs = VAMXEN_GUEST_KERNEL_CS;
        r->ss = VAMXEN_GUEST_SS;
        return;
    }
    /* guest user mode: what it ran on, if the guest's own */
    if (!user_desc(r->cs))
        r->cs = VAMXEN_GUEST_USER_CS;
    if (!user_desc(r->ss))
        r->ss = VAMXEN_GUEST_SS;
}

/* From vamxen_syscall_callback: a `syscall` in the guest, or the gate's.
 * The gate's has its return address right after the gate's syscall, and
 * the guest's real rcx and r11 in the gate's scratch slots. */
void vamxen_syscall(struct vam_regs *r) __attribute__((noreturn));
void vamxen_syscall(struct vam_regs *r)
{
    vamxen_guest_entered(r);
    if (vamxen_guest_kernel_mode && gate_va && r->rip == gate_syscall_end()) {
        r->rcx = vamxen_gate_rcx;
        r->r11 = vamxen_gate_r11;
        r->rip = gate_va;
        vam_fe_gate(r);
    } else {
        vam_fe_syscall(r);
    }
    be_resume(r);
}

/* From vamxen_event_callback when events interrupted the guest (not the
 * VAM in be_block): events are masked; the port handlers run, then the
 * front end sees the interrupted state.  An event inside the gate before
 * its syscall rewinds the guest to the gate's entry (nothing but the
 * scratch slots has changed yet), so a gate entry the front end delivers
 * an interrupt over is redone whole afterwards. */
void vamxen_guest_event(struct vam_regs *r) __attribute__((noreturn));
void vamxen_guest_event(struct vam_regs *r)
{
    vamxen_guest_entered(r);
    if (vamxen_guest_kernel_mode && gate_va && r->rip >= gate_va && r->rip < gate_syscall_end())
        r->rip = gate_va;
    vamxen_handle_events();
    vam_fe_interrupt(r);
    be_resume(r);
}
