/*
 * MMIO instructions: decoding the mov forms of include/vam/mmio.h and
 * carrying them out on the guest's registers.  Prefixes, ModRM and the
 * memory operand come from the sensitive decoder's cursor
 * (decode-internal.h), so both decoders accept exactly the same addressing
 * forms.
 */
#include <vam/mmio.h>
#include <vam/lib.h>

#include "decode-internal.h"

/* Outcome of decoding the opcode and its operands. */
enum step { STEP_OK, STEP_REJECT, STEP_SHORT };

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static uint64_t sign_extend(uint64_t v, unsigned size)
{
    if (size >= 8)
        return v;
    uint64_t sign = 1ull << (8 * size - 1);
    v &= size_mask(size);
    return (v ^ sign) - sign;
}

/* ModRM of a memory form: the register field (with REX.R) and the memory
 * operand.  mod 3 is a register-to-register move: no MMIO. */
static enum step mem_form(struct vam_dec *c, struct vam_mmio_insn *out)
{
    if (!vam_dec_modrm(c))
        return STEP_SHORT;
    if (c->mod == 3)
        return STEP_REJECT;
    out->reg = (uint8_t)(c->reg | vam_dec_rex_r(c));
    return vam_dec_mem(c, &out->mem) ? STEP_OK : STEP_SHORT;
}

/* An 8-bit register operand: without REX, 4-7 are ah, ch, dh, bh. */
static void byte_register(const struct vam_dec *c, struct vam_mmio_insn *out)
{
    if (!c->rex && out->reg >= 4) {
        out->reg -= 4;
        out->high_byte = 1;
    }
}

/* 88, 89 (store) and 8a, 8b (load). */
static enum step mov_reg(struct vam_dec *c, uint8_t opc, struct vam_mmio_insn *out)
{
    enum step s = mem_form(c, out);
    if (s != STEP_OK)
        return s;
    out->size = opc & 1 ? vam_dec_osize32(c) : 1;
    if (out->size == 1)
        byte_register(c, out);
    if (opc & 2) {
        out->op = VAM_MMIO_LOAD;
        out->dest_size = out->size;
    } else {
        out->op = VAM_MMIO_STORE_REG;
    }
    return STEP_OK;
}

/* c6 /0 ib, c7 /0 iw/id: the immediate follows the memory operand; a 64-bit
 * store takes a sign-extended imm32. */
static enum step mov_imm(struct vam_dec *c, uint8_t opc, struct vam_mmio_insn *out)
{
    if (!vam_dec_modrm(c))
        return STEP_SHORT;
    if (c->reg != 0 || c->mod == 3)
        return STEP_REJECT;     /* c6/c7 /1-/7 are undefined (or xabort/xbegin, mod 3) */
    if (!vam_dec_mem(c, &out->mem))
        return STEP_SHORT;
    out->size = opc & 1 ? vam_dec_osize32(c) : 1;
    unsigned isize = out->size == 8 ? 4 : out->size;
    uint64_t v = 0;
    for (unsigned k = 0; k < isize; k++) {
        uint8_t b;
        if (!vam_dec_next(c, &b))
            return STEP_SHORT;
        v |= (uint64_t)b << (8 * k);
    }
    out->imm = out->size == 8 ? sign_extend(v, 4) : v;
    out->op = VAM_MMIO_STORE_IMM;
    out->reg = VAM_REG_NONE;
    return STEP_OK;
}

/* 0f b6/b7 (movzx), 0f be/bf (movsx): source 8 or 16 bits, destination
 * 16/32/64 as the operand size says. */
static enum step mov_extend(struct vam_dec *c, uint8_t opc2, struct vam_mmio_insn *out)
{
    enum step s = mem_form(c, out);
    if (s != STEP_OK)
        return s;
    out->op = opc2 & 8 ? VAM_MMIO_LOAD_SX : VAM_MMIO_LOAD_ZX;
    out->size = opc2 & 1 ? 2 : 1;
    out->dest_size = vam_dec_osize32(c);
    return STEP_OK;
}

/* REX.W 63 /r: movsxd.  Without REX.W it is a plain 32-bit move that
 * assemblers write as mov (8b) and compilers never emit: rejected. */
static enum step movsxd(struct vam_dec *c, struct vam_mmio_insn *out)
{
    if (!vam_dec_rex_w(c))
        return STEP_REJECT;
    enum step s = mem_form(c, out);
    if (s != STEP_OK)
        return s;
    out->op = VAM_MMIO_LOAD_SX;
    out->size = 4;
    out->dest_size = 8;
    return STEP_OK;
}

static enum step opcode(struct vam_dec *c, uint8_t opc, struct vam_mmio_insn *out)
{
    switch (opc) {
    case 0x88: case 0x89: case 0x8a: case 0x8b:
        return mov_reg(c, opc, out);
    case 0xc6: case 0xc7:
        return mov_imm(c, opc, out);
    case 0x63:
        return movsxd(c, out);
    case 0x0f: {
        uint8_t opc2;
        if (!vam_dec_next(c, &opc2))
            return STEP_SHORT;
        if (opc2 == 0xb6 || opc2 == 0xb7 || opc2 == 0xbe || opc2 == 0xbf)
            return mov_extend(c, opc2, out);
        return STEP_REJECT;
    }
    default:
        return STEP_REJECT;
    }
}

enum vam_decode_result vam_decode_mmio(const uint8_t *p, size_t n, struct vam_mmio_insn *out)
{
    struct vam_mmio_insn insn;
    memset(&insn, 0, sizeof insn);
    insn.reg = VAM_REG_NONE;
    struct vam_dec c;
    vam_dec_start(&c, p, n);
    uint8_t opc;
    if (!vam_dec_next(&c, &opc))
        return c.truncated ? VAM_DEC_TRUNCATED : VAM_DEC_NOT_SENSITIVE;
    /* LOCK makes mov #UD; F2/F3 on a store are XACQUIRE/XRELEASE. */
    enum step s = c.lock || c.rep ? STEP_REJECT : opcode(&c, opc, &insn);
    if (s == STEP_REJECT)
        return VAM_DEC_NOT_SENSITIVE;
    if (s == STEP_SHORT)        /* ran out of bytes, or past 15 */
        return c.truncated ? VAM_DEC_TRUNCATED : VAM_DEC_NOT_SENSITIVE;
    insn.len = (uint8_t)c.i;
    insn.addrsize = c.adsz ? 4 : 8;
    if (c.seg != VAM_SREG_NONE)
        insn.flags |= VAM_INSN_SEGOVR;
    *out = insn;
    return VAM_DEC_OK;
}

/* ---- registers ------------------------------------------------------------------ */

uint64_t vam_mmio_store_value(const struct vam_mmio_insn *i, const struct vam_regs *r)
{
    switch (i->op) {
    case VAM_MMIO_STORE_IMM:
        return i->imm & size_mask(i->size);
    case VAM_MMIO_STORE_REG: {
        uint64_t v = *vam_regs_gpr((struct vam_regs *)r, i->reg);
        return (i->high_byte ? v >> 8 : v) & size_mask(i->size);
    }
    default:
        return 0;
    }
}

void vam_mmio_load_result(const struct vam_mmio_insn *i, struct vam_regs *r, uint64_t value)
{
    if (vam_mmio_is_store(i))
        return;
    uint64_t v = i->op == VAM_MMIO_LOAD_SX ? sign_extend(value, i->size)
                                           : value & size_mask(i->size);
    uint64_t *dst = vam_regs_gpr(r, i->reg);
    if (i->high_byte)
        *dst = (*dst & ~0xff00ull) | (v & 0xff) << 8;
    else if (i->dest_size == 4)
        *dst = v & 0xffffffffull;       /* a 32-bit write zeroes bits 63:32 */
    else
        *dst = (*dst & ~size_mask(i->dest_size)) | (v & size_mask(i->dest_size));
}

bool vam_mmio_execute(const struct vam_mmio_insn *i, struct vam_regs *r, uint64_t addr,
                      vam_mmio_access_fn *access, void *opaque)
{
    bool store = vam_mmio_is_store(i);
    uint64_t value = store ? vam_mmio_store_value(i, r) : 0;
    if (!access(opaque, addr, i->size, store, &value))
        return false;
    vam_mmio_load_result(i, r, value);
    r->rip += i->len;
    return true;
}

/* ---- text ------------------------------------------------------------------------ */

static void add_reg(struct vam_text *t, const struct vam_mmio_insn *i, unsigned size)
{
    static const char *const high[4] = { "ah", "ch", "dh", "bh" };
    vam_text_add(t, "%%%s", i->high_byte ? high[i->reg & 3] : vam_gpr_name(i->reg, size));
}

int vam_mmio_format(const struct vam_mmio_insn *i, char *buf, size_t size)
{
    struct vam_text t = { buf, size, 0 };
    if (size)
        buf[0] = 0;
    switch (i->op) {
    case VAM_MMIO_STORE_REG:
        vam_text_add(&t, "mov%c ", vam_size_suffix(i->size));
        add_reg(&t, i, i->size);
        vam_text_add(&t, ", ");
        vam_text_mem(&t, &i->mem, i->flags, i->addrsize);
        break;
    case VAM_MMIO_STORE_IMM:
        vam_text_add(&t, "mov%c $0x%llx, ", vam_size_suffix(i->size),
                     (unsigned long long)(i->imm & size_mask(i->size)));
        vam_text_mem(&t, &i->mem, i->flags, i->addrsize);
        break;
    default:
        if (i->op == VAM_MMIO_LOAD)
            vam_text_add(&t, "mov%c ", vam_size_suffix(i->size));
        else            /* movzbl, movswq, movslq (movsxd) */
            vam_text_add(&t, "mov%c%c%c ", i->op == VAM_MMIO_LOAD_SX ? 's' : 'z',
                         vam_size_suffix(i->size), vam_size_suffix(i->dest_size));
        vam_text_mem(&t, &i->mem, i->flags, i->addrsize);
        vam_text_add(&t, ", ");
        add_reg(&t, i, i->dest_size);
        break;
    }
    return (int)t.len;
}
