#include "verify.h"

#include <afterburn/kinds.h>

#include <stdarg.h>
#include <stdio.h>

struct checker {
    const struct ab_image *img;
    const struct ab_records *r;
    const struct ab_x86 *x;
    struct ab_diags *d;
};

/* The site whose bytes reach furthest so far in the current section. */
struct overlap {
    size_t shndx;
    uint64_t end;
    const struct ab_site *owner;
};

static const char *kind_name(unsigned id)
{
    const struct ab_kind_info *k = ab_kind_lookup(id);
    return k ? k->name : id == AB_KIND_MODE ? "mode" : "?";
}

static const char *site_kind_name(const struct ab_site *s)
{
    if (s->mem)
        return ab_mem_kind_name(s->kind) ? ab_mem_kind_name(s->kind) : "?";
    return kind_name(s->kind);
}

static void site_error(struct checker *c, const struct ab_site *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void site_error(struct checker *c, const struct ab_site *s, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct ab_loc loc = ab_site_loc(s);
    ab_diag_add(c->d, AB_SEV_ERROR, &loc, site_kind_name(s), "%s", msg);
}

static uint64_t runtime_address(const struct checker *c, uint64_t addr)
{
    return ab_image_is_rel(c->img) ? ZYDIS_RUNTIME_ADDRESS_NONE : addr;
}

static void check_marker(struct checker *c, const struct ab_site *m)
{
    if (m->len || m->insn_off || m->insn_len)
        site_error(c, m, "mode marker has len %u, insn_off %u, insn_len %u; all must be 0",
                   m->len, m->insn_off, m->insn_len);
    if (!ab_mode_valid(m->mode))
        site_error(c, m, "mode marker has mode %u; valid modes are 0 (64-bit), 1 (32-bit) "
                   "and 2 (16-bit)", m->mode);
    if (m->flags || m->reserved)
        site_error(c, m, "mode marker has flags 0x%x, reserved 0x%x; both must be 0", m->flags,
                   m->reserved);
    if (m->where == AB_WHERE_OUTSIDE)
        site_error(c, m, "mode marker is not inside any section");
    else if (m->where == AB_WHERE_PAST_END)
        site_error(c, m, "mode marker lies past the end of section %s",
                   c->img->sec[m->shndx].name);
}

/* Returns the kind, or NULL if the record's kind can never have a site. */
static const struct ab_kind_info *check_kind(struct checker *c, const struct ab_site *s)
{
    const struct ab_kind_info *k = ab_kind_lookup(s->kind);
    if (!k) {
        site_error(c, s, "kind %u is not in sensitive.def", s->kind);
        return NULL;
    }
    if (k->cls == AB_CLASS_NONE) {
        site_error(c, s, "kind %s has class NONE and never has sites", k->name);
        return NULL;
    }
    return k;
}

static void check_fields(struct checker *c, const struct ab_site *s)
{
    if (!ab_mode_valid(s->mode))
        site_error(c, s, "mode %u is not 0 (64-bit), 1 (32-bit) or 2 (16-bit)", s->mode);
    if (s->flags & ~AB_REC_BYTES)
        site_error(c, s, "unknown flag bits 0x%x", s->flags & ~AB_REC_BYTES);
    if (s->reserved)
        site_error(c, s, "reserved field is 0x%x, expected 0", s->reserved);
}

/* Returns true when the instruction lies inside the site, so its bytes can be checked. */
static bool check_shape(struct checker *c, const struct ab_site *s,
                        const struct ab_kind_info *k)
{
    if (s->len == 0 || s->insn_len == 0) {
        site_error(c, s, "site has len %u, insn_len %u; neither may be 0", s->len, s->insn_len);
        return false;
    }
    if (s->insn_off + s->insn_len > s->len) {
        site_error(c, s, "instruction (insn_off %u + insn_len %u) runs past the site length %u",
                   s->insn_off, s->insn_len, s->len);
        return false;
    }
    if (k && k->place == AB_PAD_AFTER && s->insn_off != 0)
        site_error(c, s, "%s pads after the instruction, but insn_off is %u", k->name,
                   s->insn_off);
    if (k && k->place == AB_PAD_BEFORE && s->insn_off + s->insn_len != s->len)
        site_error(c, s, "%s pads before the instruction, but the instruction does not end "
                   "the site (insn_off %u + insn_len %u != len %u)", k->name, s->insn_off,
                   s->insn_len, s->len);
    return true;
}

/* Returns true when the site lies inside one executable section. */
static bool check_place(struct checker *c, const struct ab_site *s)
{
    const struct ab_section *sec = &c->img->sec[s->shndx];
    switch (s->where) {
    case AB_WHERE_CODE:
        return true;
    case AB_WHERE_NOT_CODE:
        site_error(c, s, "site is not inside any executable section: it lies in %s, which "
                   "is not SHF_EXECINSTR", sec->name);
        return false;
    case AB_WHERE_OUTSIDE:
        site_error(c, s, "site is not inside any executable section: no section contains "
                   "address 0x%llx", (unsigned long long)s->addr);
        return false;
    case AB_WHERE_PAST_END:
        site_error(c, s, "site is not inside any executable section: it runs past the end "
                   "of %s (site ends at offset 0x%llx, section size 0x%llx)", sec->name,
                   (unsigned long long)(s->off + s->len), (unsigned long long)sec->size);
        return false;
    case AB_WHERE_UNKNOWN:
    default:
        return false;   /* reported when the record was read */
    }
}

static void check_overlap(struct checker *c, const struct ab_site *s, struct overlap *ov)
{
    if (ov->owner && ov->shndx == s->shndx && s->off < ov->end) {
        char other[512];
        const struct ab_site *o = ov->owner;
        ab_image_describe(c->img, o->shndx, o->off, o->addr, other, sizeof other);
        site_error(c, s, "site overlaps the %s site at %s (%u bytes)", site_kind_name(o),
                   other, o->len);
    }
    if (!ov->owner || ov->shndx != s->shndx || s->off + s->len > ov->end)
        *ov = (struct overlap){ s->shndx, s->off + s->len, s };
}

static void check_size(struct checker *c, const struct ab_site *s, const struct ab_kind_info *k)
{
    unsigned min = ab_class_min_site(k->cls);
    unsigned need = s->insn_len > min ? s->insn_len : min;
    if (s->len < need)
        site_error(c, s, "site is %u bytes, but %s sites need at least %u (pad too small)",
                   s->len, k->name, need);
}

static void check_mode_markers(struct checker *c, const struct ab_site *s)
{
    unsigned m = ab_records_mode_at(c->r, s->shndx, s->off);
    if (m != s->mode)
        site_error(c, s, "record says %u-bit code, but the mode markers say %u-bit code here",
                   ab_mode_bits(s->mode), ab_mode_bits(m));
}

/* Returns true when the instruction has the recorded length, so the padding
 * around it is where the record says. */
static bool check_instruction(struct checker *c, const struct ab_site *s,
                              const struct ab_kind_info *k)
{
    const struct ab_section *sec = &c->img->sec[s->shndx];
    uint64_t at = s->off + s->insn_off;
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ab_x86_decode(c->x, s->mode, sec->bytes + at, sec->size - at, &insn, ops)) {
        site_error(c, s, "the bytes at insn_off %u do not decode as %u-bit code", s->insn_off,
                   ab_mode_bits(s->mode));
        return false;
    }
    char text[128];
    ab_x86_format(c->x, &insn, ops, runtime_address(c, s->addr + s->insn_off), text,
                  sizeof text);
    bool length_ok = insn.length == s->insn_len;
    if (!length_ok)
        site_error(c, s, "instruction '%s' is %u byte%s, but insn_len is %u", text,
                   insn.length, insn.length == 1 ? "" : "s", s->insn_len);
    if (!k)
        return length_ok;
    unsigned got = ab_x86_classify(c->x, &insn);
    if (got == 0)
        site_error(c, s, "instruction '%s' is not a sensitive instruction (record says %s)",
                   text, k->name);
    else if (got != s->kind)
        site_error(c, s, "instruction '%s' is kind %s, but the record says %s", text,
                   kind_name(got), k->name);
    return length_ok;
}

/* Padding is NOPs; gas pads long runs in 16-bit code with a jmp over the filler. */
static void check_padding_range(struct checker *c, const struct ab_site *s, unsigned from,
                                unsigned to)
{
    const uint8_t *base = c->img->sec[s->shndx].bytes + s->off;
    for (unsigned pos = from; pos < to;) {
        ZydisDecodedInstruction insn;
        ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
        if (!ab_x86_decode(c->x, s->mode, base + pos, to - pos, &insn, ops)) {
            site_error(c, s, "padding at +%u does not decode as NOPs within the padding "
                       "(byte 0x%02x)", pos, base[pos]);
            return;
        }
        int64_t rel;
        bool jumps_to_end = ab_x86_is_direct_jmp(&insn, ops, &rel) &&
                            rel == (int64_t)to - (int64_t)(pos + insn.length);
        if (!ab_x86_is_nop(&insn, ops) && !jumps_to_end) {
            char text[128];
            ab_x86_format(c->x, &insn, ops, runtime_address(c, s->addr + pos), text,
                          sizeof text);
            site_error(c, s, "padding at +%u is not a NOP: '%s'", pos, text);
            return;
        }
        pos += insn.length;
    }
}

static void check_site(struct checker *c, const struct ab_site *s, struct overlap *ov)
{
    const struct ab_kind_info *k = check_kind(c, s);
    check_fields(c, s);
    bool shape_ok = check_shape(c, s, k);
    bool placed = check_place(c, s);
    if (placed)
        check_overlap(c, s, ov);
    if (k && shape_ok)
        check_size(c, s, k);
    if (placed && shape_ok && ab_mode_valid(s->mode)) {
        check_mode_markers(c, s);
        if (check_instruction(c, s, k)) {
            check_padding_range(c, s, 0, s->insn_off);
            check_padding_range(c, s, s->insn_off + s->insn_len, s->len);
        }
    }
}

/* ---- memory sites (afterburn-cparse, AB_NOTE_TYPE_MEMSITES) ------------------------- */

static void check_mem_fields(struct checker *c, const struct ab_site *s)
{
    unsigned width = s->flags & AB_MEMREC_WIDTH_MASK;
    if (!ab_mem_kind_name(s->kind))
        site_error(c, s, "memory-site kind %u is not one of abi.h's enum ab_mem_kind", s->kind);
    if (s->mode != AB_MODE_64)
        site_error(c, s, "memory site has mode %u; memory sites are 64-bit code (mode 0)",
                   s->mode);
    if (width != 1 && width != 2 && width != 4 && width != 8)
        site_error(c, s, "access width %u (flags 0x%x) is not 1, 2, 4 or 8", width, s->flags);
    if (s->flags & ~AB_MEMREC_KNOWN)
        site_error(c, s, "unknown flag bits 0x%x", s->flags & ~AB_MEMREC_KNOWN);
    if (s->reserved)
        site_error(c, s, "reserved field is 0x%x, expected 0", s->reserved);
}

static bool check_mem_shape(struct checker *c, const struct ab_site *s)
{
    if (s->len == 0 || s->insn_len == 0) {
        site_error(c, s, "site has len %u, insn_len %u; neither may be 0", s->len, s->insn_len);
        return false;
    }
    if (s->insn_off != 0) {
        site_error(c, s, "memory sites pad after the instruction, but insn_off is %u",
                   s->insn_off);
        return false;
    }
    if (s->insn_len > s->len) {
        site_error(c, s, "instruction (insn_len %u) runs past the site length %u", s->insn_len,
                   s->len);
        return false;
    }
    unsigned need = s->insn_len > AB_MEMSITE_MIN ? s->insn_len : AB_MEMSITE_MIN;
    if (s->len < need)
        site_error(c, s, "site is %u bytes, but memory sites need at least %u (pad too small)",
                   s->len, need);
    return true;
}

/* A site of one kind overlapping one of the other kind (sites are sorted). */
static void check_cross_overlap(struct checker *c, const struct ab_site *m)
{
    const struct ab_site *v = c->r->site;
    size_t lo = 0, hi = c->r->nsite;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].shndx < m->shndx || (v[mid].shndx == m->shndx && v[mid].off < m->off))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t k = lo > 0 ? lo - 1 : 0; k < c->r->nsite && k <= lo; k++) {
        const struct ab_site *o = &v[k];
        if (o->where != AB_WHERE_CODE || o->shndx != m->shndx)
            continue;
        if (o->off < m->off + m->len && m->off < o->off + o->len) {
            char other[512];
            ab_image_describe(c->img, o->shndx, o->off, o->addr, other, sizeof other);
            site_error(c, m, "memory site overlaps the %s site at %s (%u bytes)",
                       kind_name(o->kind), other, o->len);
        }
    }
}

static bool is_gpr64(ZydisRegister r)
{
    return ZydisRegisterGetClass(r) == ZYDIS_REGCLASS_GPR64;
}

/* The register-indirect memory operand: (%base), nothing else. */
static bool plain_mem(const ZydisDecodedOperand *op)
{
    return op->type == ZYDIS_OPERAND_TYPE_MEMORY && op->mem.type == ZYDIS_MEMOP_TYPE_MEM &&
           is_gpr64(op->mem.base) && op->mem.index == ZYDIS_REGISTER_NONE &&
           op->mem.disp.value == 0;
}

static bool is_gpr(const ZydisDecodedOperand *op)
{
    if (op->type != ZYDIS_OPERAND_TYPE_REGISTER)
        return false;
    ZydisRegisterClass k = ZydisRegisterGetClass(op->reg.value);
    return k == ZYDIS_REGCLASS_GPR8 || k == ZYDIS_REGCLASS_GPR16 || k == ZYDIS_REGCLASS_GPR32 ||
           k == ZYDIS_REGCLASS_GPR64;
}

static const char *const access_shape[] = {
    [AB_MEM_ACCESS_READ] = "a load 'mov (%base), %reg'",
    [AB_MEM_ACCESS_WRITE] = "a store 'mov %reg, (%base)'",
    [AB_MEM_ACCESS_RMW] = "a read-modify-write 'or/and/xor/add/sub %reg, (%base)'",
};

static void check_mem_instruction(struct checker *c, const struct ab_site *s)
{
    const struct ab_section *sec = &c->img->sec[s->shndx];
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ab_x86_decode(c->x, AB_MODE_64, sec->bytes + s->off, sec->size - s->off, &insn, ops)) {
        site_error(c, s, "the bytes at the site do not decode as 64-bit code");
        return;
    }
    char text[128];
    ab_x86_format(c->x, &insn, ops, runtime_address(c, s->addr), text, sizeof text);
    if (insn.length != s->insn_len) {
        site_error(c, s, "instruction '%s' is %u byte%s, but insn_len is %u", text, insn.length,
                   insn.length == 1 ? "" : "s", s->insn_len);
        return;
    }
    enum ab_mem_access acc = ab_mem_kind_access(s->kind);
    if (acc == AB_MEM_ACCESS_NONE)
        return;     /* bad kind, reported */
    bool mnemonic_ok;
    const ZydisDecodedOperand *mem = &ops[0], *reg = &ops[1];
    switch (acc) {
    case AB_MEM_ACCESS_READ:
        mnemonic_ok = insn.mnemonic == ZYDIS_MNEMONIC_MOV;
        mem = &ops[1];
        reg = &ops[0];
        break;
    case AB_MEM_ACCESS_WRITE:
        mnemonic_ok = insn.mnemonic == ZYDIS_MNEMONIC_MOV;
        break;
    default:
        mnemonic_ok = insn.mnemonic == ZYDIS_MNEMONIC_OR || insn.mnemonic == ZYDIS_MNEMONIC_AND ||
                      insn.mnemonic == ZYDIS_MNEMONIC_XOR ||
                      insn.mnemonic == ZYDIS_MNEMONIC_ADD || insn.mnemonic == ZYDIS_MNEMONIC_SUB;
        break;
    }
    unsigned width = s->flags & AB_MEMREC_WIDTH_MASK;
    if (!mnemonic_ok || insn.operand_count_visible != 2 || !plain_mem(mem) || !is_gpr(reg)) {
        site_error(c, s, "instruction '%s' is not %s (record says %s)", text, access_shape[acc],
                   site_kind_name(s));
        return;
    }
    if (insn.attributes & (ZYDIS_ATTRIB_HAS_LOCK | ZYDIS_ATTRIB_HAS_SEGMENT)) {
        site_error(c, s, "instruction '%s' has a lock or segment prefix", text);
        return;
    }
    if (mem->size != width * 8 || reg->size != width * 8)
        site_error(c, s, "instruction '%s' accesses %u bytes, but the record says %u", text,
                   mem->size / 8, width);
}

static void check_memsite(struct checker *c, const struct ab_site *s, struct overlap *ov)
{
    check_mem_fields(c, s);
    bool shape_ok = check_mem_shape(c, s);
    bool placed = check_place(c, s);
    if (placed) {
        check_overlap(c, s, ov);
        check_cross_overlap(c, s);
    }
    if (placed && shape_ok && s->mode == AB_MODE_64) {
        check_mem_instruction(c, s);
        check_padding_range(c, s, s->insn_len, s->len);
    }
}

void ab_verify(const struct ab_image *img, const struct ab_records *r, const struct ab_x86 *x,
               struct ab_diags *d)
{
    struct checker c = { img, r, x, d };
    for (size_t i = 0; i < r->nmarker; i++)
        check_marker(&c, &r->marker[i]);
    struct overlap ov = { 0 };
    for (size_t i = 0; i < r->nsite; i++)
        check_site(&c, &r->site[i], &ov);
    struct overlap mov = { 0 };
    for (size_t i = 0; i < r->nmsite; i++)
        check_memsite(&c, &r->msite[i], &mov);
}
