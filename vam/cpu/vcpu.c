/*
 * The virtual CPU's state: initialisation, mode and RFLAGS bookkeeping,
 * guest-physical memory, pending interrupts (include/vam/vcpu.h).
 */
#include "vam/vcpu.h"
#include "cpu-internal.h"

void vam_vcpu_init(struct vam_vcpu *v, struct vam_fixed *fixed)
{
    cpu_zero(v, sizeof *v);
    v->fixed = fixed;
    /* only the vCPU's fields of the area: the entry and jump tables belong
     * to the rewriter and the run time */
    fixed->rflags = X86_RFLAGS_FIXED;
    fixed->gs_swapped = 0;
    fixed->irq_pending = 0;
    for (unsigned i = 0; i < VAM_SEG_COUNT; i++)
        fixed->sel[i] = 0;
    v->cpl = 0;
    v->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
    v->cr4 = X86_CR4_PAE;
    v->efer = X86_EFER_LME | X86_EFER_LMA;
    v->pat = 0x0007040600070406ull;
    v->gdtr.limit = 0xffff;
    v->idtr.limit = 0xffff;
    v->ldt_limit = 0xffff;
    v->tss_limit = 0xffff;
    v->maxphyaddr = 52;
    v->gbpages = true;
    v->be_cs[0] = 0;
    v->be_ss[0] = 0;
    v->be_cs[1] = 3;
    v->be_ss[1] = 3;
}

void vam_vcpu_set_backend_selectors(struct vam_vcpu *v, uint16_t kernel_cs, uint16_t kernel_ss,
                                    uint16_t user_cs, uint16_t user_ss)
{
    v->be_cs[0] = kernel_cs;
    v->be_ss[0] = kernel_ss;
    v->be_cs[1] = user_cs;
    v->be_ss[1] = user_ss;
}

void vam_vcpu_set_mode(struct vam_vcpu *v, struct vam_regs *r, uint16_t cs, uint16_t ss)
{
    v->cpl = cs & 3u;
    v->fixed->sel[VAM_SEG_CS] = cs;
    v->fixed->sel[VAM_SEG_SS] = ss;
    unsigned m = v->cpl == 3;
    r->cs = v->be_cs[m];
    r->ss = v->be_ss[m];
}

bool vam_vcpu_mode_consistent(const struct vam_vcpu *v, const struct vam_regs *r)
{
    return ((r->cs & 3) == 3) == (v->cpl == 3);
}

uint64_t vam_guest_rflags(const struct vam_vcpu *v, const struct vam_regs *r)
{
    return (r->rflags & ~(VAM_VIRT_RFLAGS | X86_RFLAGS_VM | X86_RFLAGS_VIF | X86_RFLAGS_VIP)) |
           (v->fixed->rflags & VAM_VIRT_RFLAGS) | X86_RFLAGS_FIXED;
}

void vam_set_guest_rflags(struct vam_vcpu *v, struct vam_regs *r, uint64_t rflags)
{
    rflags = (rflags & ~(X86_RFLAGS_VM | X86_RFLAGS_VIF | X86_RFLAGS_VIP)) | X86_RFLAGS_FIXED;
    /* the whole word, so that a rewritten pushf pushes the guest's flags
     * (pushf stores RF as 0) */
    v->fixed->rflags = rflags & ~X86_RFLAGS_RF;
    r->rflags = (rflags & ~VAM_VIRT_RFLAGS) | X86_RFLAGS_IF;
}

uint8_t *vam_gpa_ptr(struct vam_vcpu *v, uint64_t gpa, uint64_t len)
{
    const struct be_memory *m = be_memory();
    if (gpa >= m->gpa_size || len > m->gpa_size - gpa) {
        v->bad_gpa = gpa;
        return 0;
    }
    return m->window + gpa;
}

/* ---- pending interrupts ------------------------------------------------------ */

static void irq_summary(struct vam_vcpu *v)
{
    v->fixed->irq_pending = (v->irq_pending[0] | v->irq_pending[1] | v->irq_pending[2] |
                             v->irq_pending[3]) != 0;
}

void vam_irq_raise(struct vam_vcpu *v, unsigned vector)
{
    v->irq_pending[(vector & 255) / 64] |= 1ull << (vector % 64);
    irq_summary(v);
}

void vam_irq_clear(struct vam_vcpu *v, unsigned vector)
{
    v->irq_pending[(vector & 255) / 64] &= ~(1ull << (vector % 64));
    irq_summary(v);
}

bool vam_irq_is_pending(const struct vam_vcpu *v, unsigned vector)
{
    return (v->irq_pending[(vector & 255) / 64] >> (vector % 64)) & 1;
}

int vam_irq_highest(const struct vam_vcpu *v)
{
    for (int w = 3; w >= 0; w--)
        if (v->irq_pending[w])
            return w * 64 + 63 - __builtin_clzll(v->irq_pending[w]);
    return -1;
}

int vam_irq_deliverable(const struct vam_vcpu *v)
{
    int vec = vam_irq_highest(v);
    if (vec < 0 || !vam_vcpu_if(v) || v->irq_shadow || v->emulating)
        return -1;
    /* TPR: CR8 holds the priority class below which nothing is delivered */
    if (v->cr8 && (unsigned)vec >> 4 <= (v->cr8 & 15))
        return -1;
    return vec;
}
