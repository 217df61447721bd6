/*
 * Site rewriter.  See vam/rewrite.h for the replacement shapes and
 * vam/layout.h for the fixed-address area they use.
 */
#include <vam/rewrite.h>
#include <vam/layout.h>
#include <vam/lib.h>
#include <vam/stats.h>

#include <afterburn/kinds.h>

_Static_assert(AB_KIND_MAX <= VAM_ENTRY_SLOTS, "an entry slot per kind");
_Static_assert(VAM_JUMP_SLOTS < VAM_NO_SLOT, "jump slot numbers fit a byte");
_Static_assert(VAM_RW_MAX_LEN < 16, "replacements fit an instruction");
_Static_assert(sizeof(struct vam_site_entry) == 40, "compact site table");
_Static_assert(sizeof(struct vam_insn) == 20, "compact decoded instruction");

static const char *const form_names[VAM_RW_FORM_COUNT] = {
    [VAM_RW_NONE] = "none", [VAM_RW_ANDB] = "andb", [VAM_RW_ORB] = "orb",
    [VAM_RW_XORB] = "xorb", [VAM_RW_PUSHQ] = "pushq", [VAM_RW_LOADW] = "movw",
    [VAM_RW_LOADZX] = "movzwl", [VAM_RW_CALL] = "call", [VAM_RW_JMP] = "jmp",
};

const char *vam_rw_form_name(unsigned form)
{
    return form < VAM_RW_FORM_COUNT ? form_names[form] : "?";
}

/* ---- encoding -------------------------------------------------------------------- */

/* ModRM for [disp32] with no base and no index: mod 00, rm 100, then SIB 25. */
static unsigned abs32_operand(uint8_t *b, unsigned reg_field, unsigned field)
{
    b[0] = (uint8_t)((reg_field & 7) << 3 | 4);
    b[1] = 0x25;
    vam_put_le32(b + 2, (uint32_t)vam_abs32(field));
    return 6;
}

unsigned vam_patch_encode(const struct vam_plan *plan, uint8_t *out, size_t room)
{
    uint8_t b[16];
    unsigned n = 0;
    switch (plan->form) {
    case VAM_RW_ANDB:
    case VAM_RW_ORB:
    case VAM_RW_XORB:
        b[n++] = 0x80;
        n += abs32_operand(b + n,
                           plan->form == VAM_RW_ANDB ? 4 : plan->form == VAM_RW_ORB ? 1 : 6,
                           plan->field);
        b[n++] = plan->imm;
        break;
    case VAM_RW_PUSHQ:
    case VAM_RW_CALL:
    case VAM_RW_JMP:
        b[n++] = 0xff;
        n += abs32_operand(b + n,
                           plan->form == VAM_RW_PUSHQ ? 6 : plan->form == VAM_RW_CALL ? 2 : 4,
                           plan->field);
        break;
    case VAM_RW_LOADW:
        b[n++] = 0x66;
        if (plan->reg >= 8)
            b[n++] = 0x44;      /* REX.R */
        b[n++] = 0x8b;
        n += abs32_operand(b + n, plan->reg, plan->field);
        break;
    case VAM_RW_LOADZX:
        if (plan->reg >= 8)
            b[n++] = 0x44;
        b[n++] = 0x0f;
        b[n++] = 0xb7;
        n += abs32_operand(b + n, plan->reg, plan->field);
        break;
    default:
        return 0;
    }
    if (n > room)
        return 0;
    memcpy(out, b, n);
    return n;
}

/* Intel SDM, "Recommended Multi-Byte Sequence of NOP Instruction". */
static const uint8_t nops[9][9] = {
    { 0x90 },
    { 0x66, 0x90 },
    { 0x0f, 0x1f, 0x00 },
    { 0x0f, 0x1f, 0x40, 0x00 },
    { 0x0f, 0x1f, 0x44, 0x00, 0x00 },
    { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
    { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
    { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
    { 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

void vam_fill_nops(uint8_t *p, size_t n)
{
    while (n) {
        size_t k = n > 9 ? 9 : n;
        memcpy(p, nops[k - 1], k);
        p += k;
        n -= k;
    }
}

/* ---- decoding the replacement back ------------------------------------------------ */

bool vam_decode_replacement(const uint8_t *p, size_t n, struct vam_plan *out)
{
    size_t i = 0;
    bool opsz = false;
    uint8_t rex = 0;
    if (i < n && p[i] == 0x66) {
        opsz = true;
        i++;
    }
    if (i < n && (p[i] & 0xf0) == 0x40)
        rex = p[i++];
    if (i >= n)
        return false;
    uint8_t op = p[i++];
    bool movzx = false;
    if (op == 0x0f) {
        if (i >= n || p[i] != 0xb7)
            return false;
        i++;
        movzx = true;
    }
    /* ModRM mod 00 rm 100, SIB 25 (no base, no index), disp32 */
    if (i + 6 > n || (p[i] & 0xc7) != 0x04 || p[i + 1] != 0x25)
        return false;
    unsigned ext = (p[i] >> 3) & 7;
    int32_t disp = (int32_t)vam_le32(p + i + 2);
    i += 6;
    uint64_t addr = (uint64_t)(int64_t)disp;
    if (addr < VAM_LAYOUT_BASE || addr - VAM_LAYOUT_BASE >= VAM_OFF_END)
        return false;
    struct vam_plan r = { .field = (uint16_t)(addr - VAM_LAYOUT_BASE), .jslot = VAM_NO_SLOT };
    if (rex & 0x0a)             /* REX.W would widen, REX.X would add %r12 as index */
        return false;
    if (movzx || op == 0x8b) {
        if (movzx == opsz)      /* movzwl without 66, movw with it */
            return false;
        r.form = movzx ? VAM_RW_LOADZX : VAM_RW_LOADW;
        r.reg = (uint8_t)(ext | (rex & 4 ? 8 : 0));
    } else {
        if (opsz || rex)
            return false;
        if (op == 0x80) {
            if (i >= n)
                return false;
            r.imm = p[i++];
            r.form = ext == 4 ? VAM_RW_ANDB : ext == 1 ? VAM_RW_ORB : ext == 6 ? VAM_RW_XORB : 0;
        } else if (op == 0xff) {
            r.form = ext == 6 ? VAM_RW_PUSHQ : ext == 2 ? VAM_RW_CALL : ext == 4 ? VAM_RW_JMP : 0;
        }
        if (!r.form)
            return false;
    }
    r.len = (uint8_t)i;
    *out = r;
    return true;
}

/* ---- planning ----------------------------------------------------------------------- */

enum vam_status vam_plan_site(const struct vam_site *s, const struct vam_insn *d,
                              unsigned flags, unsigned jslot, struct vam_plan *plan,
                              struct vam_error *e)
{
    struct vam_plan p = { .form = VAM_RW_CALL, .field = (uint16_t)VAM_OFF_ENTRY(d->kind),
                          .jslot = VAM_NO_SLOT };
    switch (d->op) {
    case VAM_OP_CLI:
        p = (struct vam_plan){ .form = VAM_RW_ANDB, .imm = (uint8_t)~VAM_IF_BYTE_MASK,
                               .field = VAM_OFF_IF_BYTE };
        break;
    case VAM_OP_STI:
        if (flags & VAM_RW_STI_INLINE)
            p = (struct vam_plan){ .form = VAM_RW_ORB, .imm = VAM_IF_BYTE_MASK,
                                   .field = VAM_OFF_IF_BYTE };
        break;
    case VAM_OP_PUSHF:
        if (d->opsize == 8 && !(flags & VAM_RW_PUSHF_CALL))
            p = (struct vam_plan){ .form = VAM_RW_PUSHQ, .field = VAM_OFF_RFLAGS };
        break;
    case VAM_OP_MOV_FROM_SEG:
        /* A load of the virtual selector; 32/64-bit destinations are zero-extended. */
        if (!(d->flags & VAM_INSN_MEM) && d->sysreg <= VAM_SREG_GS && d->reg < 16)
            p = (struct vam_plan){ .form = d->opsize == 2 ? VAM_RW_LOADW : VAM_RW_LOADZX,
                                   .reg = d->reg, .field = (uint16_t)VAM_OFF_SEL(d->sysreg) };
        break;
    case VAM_OP_PUSH_SEG:
        if (d->opsize == 8 && d->sysreg <= VAM_SREG_GS)
            p = (struct vam_plan){ .form = VAM_RW_PUSHQ,
                                   .field = (uint16_t)VAM_OFF_SEL(d->sysreg) };
        break;
    case VAM_OP_SWAPGS:
        /* The memory form only toggles a flag: right for a back end whose
         * hardware GS base follows the guest's mode by itself.  Otherwise the
         * VAM must swap the bases at once (the next instruction may use %gs),
         * and a jump reaches it without touching the stack, which at a
         * kernel entry is still the user's. */
        if (flags & VAM_RW_SWAPGS_INLINE) {
            p = (struct vam_plan){ .form = VAM_RW_XORB, .imm = 1, .field = VAM_OFF_GS_SWAPPED };
            break;
        }
        /* fall through */
    case VAM_OP_IRET:
    case VAM_OP_SYSRET:
    case VAM_OP_LRET:
    case VAM_OP_LJMP:
        if (jslot >= VAM_JUMP_SLOTS)
            return vam_fail_site(e, VAM_ERR_TABLE, s->addr, s->kind, s->record,
                                 "no free jump slot (all %d in use)", VAM_JUMP_SLOTS);
        p = (struct vam_plan){ .form = VAM_RW_JMP, .jslot = (uint8_t)jslot,
                               .field = (uint16_t)VAM_OFF_JUMP(jslot) };
        break;
    default:
        break;
    }
    if (p.form == VAM_RW_CALL && (d->kind == 0 || d->kind >= VAM_ENTRY_SLOTS))
        return vam_fail_site(e, VAM_ERR_REWRITE, s->addr, s->kind, s->record,
                             "no entry slot for kind %u", d->kind);
    uint8_t tmp[16];
    p.len = (uint8_t)vam_patch_encode(&p, tmp, sizeof tmp);
    if (p.len > s->len)
        return vam_fail_site(e, VAM_ERR_PAD, s->addr, s->kind, s->record,
                             "pad too small for the replacement (%s, %u bytes): %u < %u",
                             vam_rw_form_name(p.form), p.len, s->len, p.len);
    const struct ab_kind_info *k = ab_kind_lookup(s->kind);
    p.off = k && k->place == AB_PAD_BEFORE ? (uint8_t)(s->len - p.len) : 0;
    *plan = p;
    return VAM_OK;
}

/* ---- writing and verifying a site ---------------------------------------------------- */

enum vam_status vam_rewrite_site(const struct vam_site *s, const struct vam_plan *plan,
                                 uint8_t *out, size_t out_len, struct vam_error *e)
{
    if (out_len < s->len)
        return vam_fail_site(e, VAM_ERR_REWRITE, s->addr, s->kind, s->record,
                             "output buffer of %zu bytes for a %u-byte site", out_len, s->len);
    if (plan->len > s->len || plan->off > s->len - plan->len)
        return vam_fail_site(e, VAM_ERR_PAD, s->addr, s->kind, s->record,
                             "pad too small for the replacement (%s, %u bytes at +%u): %u < %u",
                             vam_rw_form_name(plan->form), plan->len, plan->off, s->len,
                             plan->off + plan->len);
    uint8_t site[256];
    vam_fill_nops(site, plan->off);
    unsigned used = vam_patch_encode(plan, site + plan->off, s->len - plan->off);
    if (used != plan->len)
        return vam_fail_site(e, VAM_ERR_REWRITE, s->addr, s->kind, s->record,
                             "replacement %s encodes to %u bytes, planned %u",
                             vam_rw_form_name(plan->form), used, plan->len);
    unsigned end = plan->off + used;
    vam_fill_nops(site + end, s->len - end);

    /* Read back what was written: the replacement where planned, NOPs elsewhere. */
    struct vam_plan back;
    size_t bad;
    if (!vam_decode_replacement(site + plan->off, used, &back) || back.form != plan->form ||
        back.len != used || back.field != plan->field ||
        ((plan->form == VAM_RW_LOADW || plan->form == VAM_RW_LOADZX) && back.reg != plan->reg) ||
        (plan->form <= VAM_RW_XORB && back.imm != plan->imm))
        return vam_fail_site(e, VAM_ERR_REWRITE, s->addr, s->kind, s->record,
                             "the replacement does not decode back as %s",
                             vam_rw_form_name(plan->form));
    if (!vam_is_nops(site, plan->off, &bad) || !vam_is_nops(site + end, s->len - end, &bad))
        return vam_fail_site(e, VAM_ERR_REWRITE, s->addr, s->kind, s->record,
                             "the padding around the replacement does not decode as NOPs");
    memcpy(out, site, s->len);
    return VAM_OK;
}

/* ---- the whole guest ---------------------------------------------------------------- */

static bool wanted(const struct vam_site *s, unsigned flags)
{
    if (s->status & VAM_SITE_OTHER_MODE)
        return false;
    return !(s->status & VAM_SITE_TEMPLATE) || (flags & VAM_RW_TEMPLATES);
}

/* Decodes, plans and builds one site's new bytes; *mem is its guest memory. */
static enum vam_status prepare(const struct vam_guest *g, const struct vam_site *s,
                               unsigned flags, unsigned jslot, vam_map_fn map, void *ctx,
                               struct vam_insn *d, struct vam_plan *plan, uint8_t *bytes,
                               uint8_t **mem, struct vam_error *e)
{
    const uint8_t *orig = vam_guest_bytes(g, s->addr, s->len);
    if (!orig)
        return vam_fail_site(e, VAM_ERR_PLACE, s->addr, s->kind, s->record,
                             "site has no file contents");
    *mem = map(ctx, s->addr, s->len);
    if (!*mem)
        return vam_fail_site(e, VAM_ERR_MEMORY, s->addr, s->kind, s->record,
                             "guest memory of the site is not mapped");
    if (memcmp(*mem, orig, s->len) != 0)
        return vam_fail_site(e, VAM_ERR_MEMORY, s->addr, s->kind, s->record,
                             "guest memory differs from the image at the site (rewritten "
                             "already?)");
    enum vam_status st;
    if ((st = vam_site_decode(s, orig, d, e)) || (st = vam_plan_site(s, d, flags, jslot, plan, e)))
        return st;
    return vam_rewrite_site(s, plan, bytes, s->len, e);
}

enum vam_status vam_rewrite_guest(const struct vam_guest *g, unsigned flags, vam_map_fn map,
                                  void *ctx, struct vam_site_table *t, struct vam_stats *st,
                                  struct vam_error *e)
{
    t->n = 0;
    t->njump = 0;
    for (unsigned j = 0; j < VAM_JUMP_SLOTS; j++)
        t->jump_entry[j] = 0xffffffffu;
    uint8_t bytes[256];
    struct vam_insn d;
    struct vam_plan plan;
    uint8_t *mem;

    /* Pass 1: everything that can fail, nothing written to the guest. */
    unsigned njump = 0;
    for (size_t i = 0; i < g->nsite; i++) {
        const struct vam_site *s = &g->site[i];
        if (!wanted(s, flags))
            continue;
        enum vam_status r = prepare(g, s, flags, njump, map, ctx, &d, &plan, bytes, &mem, e);
        if (r)
            return r;
        if (t->n == t->cap)
            return vam_fail_site(e, VAM_ERR_TABLE, s->addr, s->kind, s->record,
                                 "site table full (%zu entries)", t->cap);
        njump += plan.form == VAM_RW_JMP;
        uint64_t key = s->addr + plan.off + plan.len;
        t->v[t->n++] = (struct vam_site_entry){
            .key = key, .record = s->record, .back = (uint8_t)(plan.off + plan.len),
            .fwd = (uint8_t)(s->len - plan.off - plan.len), .insn_off = s->insn_off,
            .form = plan.form, .jslot = plan.jslot, .insn = d,
        };
        if (plan.form == VAM_RW_JMP)
            t->jump_entry[plan.jslot] = (uint32_t)(t->n - 1);
    }
    t->njump = njump;

    /* Pass 2: write.  Same decisions as pass 1, which cannot fail now. */
    njump = 0;
    for (size_t i = 0; i < g->nsite; i++) {
        const struct vam_site *s = &g->site[i];
        if (st && s->kind < VAM_STATS_KINDS) {
            st->sites[s->kind]++;
            if (s->status & VAM_SITE_OTHER_MODE)
                st->skipped_mode[s->kind]++;
            else if (!wanted(s, flags))
                st->skipped_template[s->kind]++;
        }
        if (!wanted(s, flags))
            continue;
        enum vam_status r = prepare(g, s, flags, njump, map, ctx, &d, &plan, bytes, &mem, e);
        if (r)
            return r;
        njump += plan.form == VAM_RW_JMP;
        memcpy(mem, bytes, s->len);
        if (st) {
            if (s->kind < VAM_STATS_KINDS)
                st->rewritten[s->kind]++;
            st->by_form[plan.form]++;
            st->bytes_replacement += plan.len;
            st->bytes_nop += (uint64_t)s->len - plan.len;
        }
    }
    return VAM_OK;
}

const struct vam_site_entry *vam_site_lookup(const struct vam_site_table *t, uint64_t ret)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid].key < ret)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->n && t->v[lo].key == ret ? &t->v[lo] : NULL;
}

const struct vam_site_entry *vam_site_by_jump_slot(const struct vam_site_table *t, unsigned j)
{
    if (j >= VAM_JUMP_SLOTS || t->jump_entry[j] >= t->n)
        return NULL;
    return &t->v[t->jump_entry[j]];
}
