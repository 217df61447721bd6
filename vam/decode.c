/*
 * Decoder for the sensitive instructions in 64-bit code.  See vam/decode.h.
 *
 * Structure: legacy prefixes and REX, then a switch on the opcode (one-byte
 * map, 0f, 0f 38) that either rejects the instruction or names its kind and
 * operation, decoding ModRM/SIB/displacement and immediates as that
 * instruction has them.  Only the encodings of the sensitive set are
 * known; everything else is "not sensitive" without working out its length.
 */
#include <vam/decode.h>
#include <vam/lib.h>

#include <afterburn/abi.h>

#include "decode-internal.h"

/* ---- the cursor, shared with vam/mmio.c (decode-internal.h) ---------------- */

bool vam_dec_next(struct vam_dec *c, uint8_t *b)
{
    if (c->i >= c->n || c->i >= VAM_MAX_INSN_LEN) {
        c->truncated = c->i >= c->n && c->i < VAM_MAX_INSN_LEN;
        return false;
    }
    *b = c->p[c->i++];
    return true;
}

void vam_dec_start(struct vam_dec *c, const uint8_t *p, size_t n)
{
    memset(c, 0, sizeof *c);
    c->p = p;
    c->n = n;
    c->seg = VAM_SREG_NONE;
    for (;;) {
        if (c->i >= c->n || c->i >= VAM_MAX_INSN_LEN)
            return;
        uint8_t b = c->p[c->i];
        switch (b) {
        case 0x66: c->opsz = true; break;
        case 0x67: c->adsz = true; break;
        case 0xf0: c->lock = true; break;
        case 0xf2: case 0xf3: c->rep = b; break;
        case 0x26: case 0x2e: case 0x36: case 0x3e:
            break;      /* es/cs/ss/ds overrides are null prefixes in 64-bit mode */
        case 0x64: c->seg = VAM_SREG_FS; break;
        case 0x65: c->seg = VAM_SREG_GS; break;
        default:
            if ((b & 0xf0) == 0x40) {   /* REX: counts only if the opcode follows */
                c->rex = b;
                c->i++;
                continue;
            }
            return;
        }
        c->rex = 0;                     /* a legacy prefix after REX voids it */
        c->i++;
    }
}

bool vam_dec_modrm(struct vam_dec *c)
{
    uint8_t m;
    if (!vam_dec_next(c, &m))
        return false;
    c->mod = m >> 6;
    c->reg = (m >> 3) & 7;
    c->rm = m & 7;
    return true;
}

static uint8_t default_segment(const struct vam_dec *c, uint8_t base)
{
    if (c->seg != VAM_SREG_NONE)
        return c->seg;      /* fs or gs */
    return base == 4 || base == 5 ? VAM_SREG_SS : VAM_SREG_DS;
}

static bool read_disp(struct vam_dec *c, unsigned size, int32_t *disp)
{
    uint8_t b[4];
    for (unsigned k = 0; k < size; k++)
        if (!vam_dec_next(c, &b[k]))
            return false;
    *disp = size == 1 ? (int8_t)b[0] : (int32_t)vam_le32(b);
    return true;
}

bool vam_dec_mem(struct vam_dec *c, struct vam_mem *m)
{
    m->base = VAM_REG_NONE;
    m->index = VAM_REG_NONE;
    m->scale = 0;
    m->disp = 0;
    unsigned disp_size = c->mod == 1 ? 1 : c->mod == 2 ? 4 : 0;
    if (c->rm == 4) {
        uint8_t sib;
        if (!vam_dec_next(c, &sib))
            return false;
        unsigned index = ((sib >> 3) & 7) | vam_dec_rex_x(c);
        unsigned base = sib & 7;
        if (index != 4) {
            m->index = (uint8_t)index;
            m->scale = (uint8_t)(1u << (sib >> 6));
        }
        if (base == 5 && c->mod == 0)
            disp_size = 4;              /* no base, disp32 */
        else
            m->base = (uint8_t)(base | vam_dec_rex_b(c));
    } else if (c->rm == 5 && c->mod == 0) {
        m->base = VAM_REG_RIP;
        disp_size = 4;
    } else {
        m->base = (uint8_t)(c->rm | vam_dec_rex_b(c));
    }
    if (disp_size && !read_disp(c, disp_size, &m->disp))
        return false;
    m->seg = default_segment(c, m->base);
    return true;
}

/* ---- the sensitive set -------------------------------------------------------- */

/* The sensitive decoder's state: the shared cursor and what it produces. */
struct ctx {
    struct vam_dec d;
    struct vam_insn *out;
};

static bool next(struct ctx *c, uint8_t *b) { return vam_dec_next(&c->d, b); }
static bool modrm(struct ctx *c) { return vam_dec_modrm(&c->d); }
static bool rex_w(const struct ctx *c) { return vam_dec_rex_w(&c->d); }
static unsigned rex_r(const struct ctx *c) { return vam_dec_rex_r(&c->d); }
static unsigned rex_b(const struct ctx *c) { return vam_dec_rex_b(&c->d); }

/* Operand size of instructions whose default is 32 bits. */
static uint8_t osize_default32(const struct ctx *c)
{
    return vam_dec_osize32(&c->d);
}

/* Operand size of instructions whose default is 64 bits (push/pop). */
static uint8_t osize_default64(const struct ctx *c)
{
    return rex_w(c) || !c->d.opsz ? 8 : 2;
}

/* The memory operand of ModRM with mod != 3 (SIB and displacement). */
static bool memory_operand(struct ctx *c)
{
    if (!vam_dec_mem(&c->d, &c->out->mem))
        return false;
    c->out->flags |= VAM_INSN_MEM;
    if (c->d.seg != VAM_SREG_NONE)
        c->out->flags |= VAM_INSN_SEGOVR;
    return true;
}

/* r/m operand: a register (reg field of out) or memory.  False if truncated. */
static bool rm_operand(struct ctx *c)
{
    if (c->d.mod == 3) {
        c->out->reg = (uint8_t)(c->d.rm | rex_b(c));
        return true;
    }
    return memory_operand(c);
}

static bool imm(struct ctx *c, unsigned size)
{
    uint8_t lo, hi = 0;
    if (!next(c, &lo) || (size == 2 && !next(c, &hi)))
        return false;
    c->out->imm = (uint16_t)(lo | hi << 8);
    c->out->flags |= VAM_INSN_IMM;
    return true;
}

/* Outcome of the opcode handlers. */
enum step { STEP_OK, STEP_REJECT, STEP_SHORT };

static enum step set(struct ctx *c, unsigned kind, unsigned op, unsigned opsize, unsigned dir)
{
    c->out->kind = (uint8_t)kind;
    c->out->op = (uint8_t)op;
    c->out->opsize = (uint8_t)opsize;
    c->out->dir = (uint8_t)dir;
    return STEP_OK;
}

/* Kind ids of sensitive.def (stable: never renumbered).  tests/vam checks
 * every kind the decoder produces against the table by name. */
enum {
    K_CLI = 1, K_STI = 2, K_PUSHF = 3, K_POPF = 4, K_HLT = 5, K_IRET = 6, K_SYSRET = 7,
    K_SYSEXIT = 8, K_SWAPGS = 9, K_FARJUMP = 10, K_MOVCR = 11, K_MOVDR = 12, K_CLTS = 13,
    K_LMSW = 14, K_SMSW = 15, K_LOADDT = 16, K_STOREDT = 17, K_MOVSEG = 18, K_MOVSS = 19,
    K_SEGCHECK = 20, K_INVLPG = 21, K_INVPCID = 22, K_CACHEFLUSH = 23, K_RDMSR = 24,
    K_WRMSR = 25, K_RDPMC = 26, K_CPUID = 27, K_XSETBV = 28, K_IN = 29, K_OUT = 30,
    K_INS = 31, K_OUTS = 32, K_INTN = 33, K_MONITOR = 36, K_MWAIT = 37, K_STAC = 38,
    K_CLAC = 39, K_FSGSBASE = 40,
};

/* Port I/O has no 64-bit form: REX.W makes the operand 32 bits, even with 66. */
static unsigned io_size(const struct ctx *c, uint8_t opc)
{
    return opc & 1 ? (c->d.opsz && !rex_w(c) ? 2 : 4) : 1;
}

static enum step port_io(struct ctx *c, uint8_t opc)
{
    bool out = opc & 2;
    unsigned size = io_size(c, opc);
    if (opc & 8)
        c->out->flags |= VAM_INSN_PORT_DX;
    else if (!imm(c, 1))
        return STEP_SHORT;
    c->out->reg = 0;    /* al/ax/eax */
    return out ? set(c, K_OUT, VAM_OP_OUT, size, VAM_DIR_WRITE)
               : set(c, K_IN, VAM_OP_IN, size, VAM_DIR_READ);
}

static enum step string_io(struct ctx *c, uint8_t opc)
{
    bool outs = opc & 2;
    unsigned size = io_size(c, opc);
    struct vam_mem *m = &c->out->mem;
    c->out->flags |= VAM_INSN_STRING | VAM_INSN_PORT_DX;
    if (c->d.rep == 0xf3)
        c->out->flags |= VAM_INSN_REP;
    else if (c->d.rep == 0xf2)
        c->out->flags |= VAM_INSN_REPNE;
    m->index = VAM_REG_NONE;
    if (outs) {
        m->base = 6;    /* rsi */
        m->seg = c->d.seg != VAM_SREG_NONE ? c->d.seg : VAM_SREG_DS;
        if (c->d.seg != VAM_SREG_NONE)
            c->out->flags |= VAM_INSN_SEGOVR;
        return set(c, K_OUTS, VAM_OP_OUTS, size, VAM_DIR_WRITE);
    }
    m->base = 7;        /* rdi, always %es */
    m->seg = VAM_SREG_ES;
    return set(c, K_INS, VAM_OP_INS, size, VAM_DIR_READ);
}

static enum step one_byte(struct ctx *c, uint8_t opc)
{
    switch (opc) {
    case 0xfa: return set(c, K_CLI, VAM_OP_CLI, 0, VAM_DIR_NONE);
    case 0xfb: return set(c, K_STI, VAM_OP_STI, 0, VAM_DIR_NONE);
    case 0xf4: return set(c, K_HLT, VAM_OP_HLT, 0, VAM_DIR_NONE);
    case 0x9c: return set(c, K_PUSHF, VAM_OP_PUSHF, osize_default64(c), VAM_DIR_NONE);
    case 0x9d: return set(c, K_POPF, VAM_OP_POPF, osize_default64(c), VAM_DIR_NONE);
    case 0xcf: return set(c, K_IRET, VAM_OP_IRET, osize_default32(c), VAM_DIR_NONE);
    case 0xcb: return set(c, K_FARJUMP, VAM_OP_LRET, osize_default32(c), VAM_DIR_NONE);
    case 0xca:
        if (!imm(c, 2))
            return STEP_SHORT;
        return set(c, K_FARJUMP, VAM_OP_LRET, osize_default32(c), VAM_DIR_NONE);
    case 0xcd:
        if (!imm(c, 1))
            return STEP_SHORT;
        return set(c, K_INTN, VAM_OP_INT, 0, VAM_DIR_NONE);
    case 0xe4: case 0xe5: case 0xe6: case 0xe7:
    case 0xec: case 0xed: case 0xee: case 0xef:
        return port_io(c, opc);
    case 0x6c: case 0x6d: case 0x6e: case 0x6f:
        return string_io(c, opc);
    case 0x8c:          /* mov sreg -> r/m */
        if (!modrm(c))
            return STEP_SHORT;
        if (c->d.reg > VAM_SREG_GS)
            return STEP_REJECT;
        c->out->sysreg = c->d.reg;
        if (!rm_operand(c))
            return STEP_SHORT;
        return set(c, K_MOVSEG, VAM_OP_MOV_FROM_SEG, c->d.mod == 3 ? osize_default32(c) : 2,
                   VAM_DIR_READ);
    case 0x8e:          /* mov r/m16 -> sreg; %cs cannot be loaded */
        if (!modrm(c))
            return STEP_SHORT;
        if (c->d.reg > VAM_SREG_GS || c->d.reg == VAM_SREG_CS)
            return STEP_REJECT;
        c->out->sysreg = c->d.reg;
        if (!rm_operand(c))
            return STEP_SHORT;
        return set(c, c->d.reg == VAM_SREG_SS ? K_MOVSS : K_MOVSEG, VAM_OP_MOV_TO_SEG, 2,
                   VAM_DIR_WRITE);
    case 0xff:          /* /3 lcall m16:x, /5 ljmp m16:x */
        if (!modrm(c))
            return STEP_SHORT;
        if ((c->d.reg != 3 && c->d.reg != 5) || c->d.mod == 3)
            return STEP_REJECT;
        if (!memory_operand(c))
            return STEP_SHORT;
        return set(c, K_FARJUMP, c->d.reg == 3 ? VAM_OP_LCALL : VAM_OP_LJMP, osize_default32(c),
                   VAM_DIR_NONE);
    default:
        return STEP_REJECT;
    }
}

/* 0f 00: sldt, str, lldt, ltr, verr, verw (r/m16, or a wider register for the stores). */
static enum step group_0f00(struct ctx *c)
{
    static const uint8_t ops[6] = { VAM_OP_SLDT, VAM_OP_STR, VAM_OP_LLDT, VAM_OP_LTR,
                                    VAM_OP_VERR, VAM_OP_VERW };
    static const uint8_t kinds[6] = { K_STOREDT, K_STOREDT, K_LOADDT, K_LOADDT,
                                      K_SEGCHECK, K_SEGCHECK };
    if (!modrm(c))
        return STEP_SHORT;
    if (c->d.reg > 5)
        return STEP_REJECT;
    if (!rm_operand(c))
        return STEP_SHORT;
    bool store = c->d.reg < 2;
    unsigned size = store && c->d.mod == 3 ? osize_default32(c) : 2;
    unsigned dir = store ? VAM_DIR_READ : c->d.reg < 4 ? VAM_DIR_WRITE : VAM_DIR_NONE;
    return set(c, kinds[c->d.reg], ops[c->d.reg], size, dir);
}

/* 0f 01: descriptor tables, msw, invlpg, and the register-form group. */
static enum step group_0f01(struct ctx *c)
{
    if (!modrm(c))
        return STEP_SHORT;
    if (c->d.mod != 3) {
        switch (c->d.reg) {
        case 0: case 1: case 2: case 3: {
            static const uint8_t ops[4] = { VAM_OP_SGDT, VAM_OP_SIDT, VAM_OP_LGDT, VAM_OP_LIDT };
            unsigned reg = c->d.reg;
            if (!memory_operand(c))
                return STEP_SHORT;
            return set(c, reg < 2 ? K_STOREDT : K_LOADDT, ops[reg], 8,
                       reg < 2 ? VAM_DIR_READ : VAM_DIR_WRITE);
        }
        case 4:
            if (!memory_operand(c))
                return STEP_SHORT;
            return set(c, K_SMSW, VAM_OP_SMSW, 2, VAM_DIR_READ);
        case 6:
            if (!memory_operand(c))
                return STEP_SHORT;
            return set(c, K_LMSW, VAM_OP_LMSW, 2, VAM_DIR_WRITE);
        case 7:
            if (!memory_operand(c))
                return STEP_SHORT;
            return set(c, K_INVLPG, VAM_OP_INVLPG, 0, VAM_DIR_NONE);
        default:
            return STEP_REJECT;
        }
    }
    if (c->d.reg == 4) {
        c->out->reg = (uint8_t)(c->d.rm | rex_b(c));
        return set(c, K_SMSW, VAM_OP_SMSW, osize_default32(c), VAM_DIR_READ);
    }
    if (c->d.reg == 6) {
        c->out->reg = (uint8_t)(c->d.rm | rex_b(c));
        return set(c, K_LMSW, VAM_OP_LMSW, 2, VAM_DIR_WRITE);
    }
    uint8_t m = (uint8_t)(0xc0 | c->d.reg << 3 | c->d.rm);
    if (m == 0xf8)
        return set(c, K_SWAPGS, VAM_OP_SWAPGS, 0, VAM_DIR_NONE);
    /* The rest take no 66/F2/F3: with one they are other instructions or invalid. */
    if (c->d.opsz || c->d.rep)
        return STEP_REJECT;
    switch (m) {
    case 0xc8: return set(c, K_MONITOR, VAM_OP_MONITOR, 0, VAM_DIR_NONE);
    case 0xc9: return set(c, K_MWAIT, VAM_OP_MWAIT, 0, VAM_DIR_NONE);
    case 0xca: return set(c, K_CLAC, VAM_OP_CLAC, 0, VAM_DIR_NONE);
    case 0xcb: return set(c, K_STAC, VAM_OP_STAC, 0, VAM_DIR_NONE);
    case 0xd1: return set(c, K_XSETBV, VAM_OP_XSETBV, 0, VAM_DIR_WRITE);
    default: return STEP_REJECT;
    }
}

/* 0f 20-23: mov to/from control and debug registers.  ModRM.mod is ignored:
 * the r/m field always names a general register, there is no SIB or
 * displacement. */
static enum step mov_crdr(struct ctx *c, uint8_t opc)
{
    if (!modrm(c))
        return STEP_SHORT;
    bool cr = !(opc & 1), to = opc & 2;
    unsigned n = c->d.reg | rex_r(c);
    if (cr ? !(n == 0 || n == 2 || n == 3 || n == 4 || n == 8) : n > 7)
        return STEP_REJECT;
    c->out->sysreg = (uint8_t)n;
    c->out->reg = (uint8_t)(c->d.rm | rex_b(c));
    unsigned op = cr ? (to ? VAM_OP_MOV_TO_CR : VAM_OP_MOV_FROM_CR)
                     : (to ? VAM_OP_MOV_TO_DR : VAM_OP_MOV_FROM_DR);
    return set(c, cr ? K_MOVCR : K_MOVDR, op, 8, to ? VAM_DIR_WRITE : VAM_DIR_READ);
}

static enum step two_byte(struct ctx *c, uint8_t opc)
{
    switch (opc) {
    case 0x00: return group_0f00(c);
    case 0x01: return group_0f01(c);
    case 0x02: case 0x03:       /* lar, lsl */
        if (!modrm(c))
            return STEP_SHORT;
        c->out->reg2 = VAM_REG_NONE;
        if (c->d.mod == 3)
            c->out->reg2 = (uint8_t)(c->d.rm | rex_b(c));
        else if (!memory_operand(c))
            return STEP_SHORT;
        c->out->reg = (uint8_t)(c->d.reg | rex_r(c));
        return set(c, K_SEGCHECK, opc == 2 ? VAM_OP_LAR : VAM_OP_LSL, osize_default32(c),
                   VAM_DIR_NONE);
    case 0x06: return set(c, K_CLTS, VAM_OP_CLTS, 0, VAM_DIR_NONE);
    case 0x07: return set(c, K_SYSRET, VAM_OP_SYSRET, rex_w(c) ? 8 : 4, VAM_DIR_NONE);
    case 0x08: return set(c, K_CACHEFLUSH, VAM_OP_INVD, 0, VAM_DIR_NONE);
    case 0x09:
        return set(c, K_CACHEFLUSH, c->d.rep == 0xf3 ? VAM_OP_WBNOINVD : VAM_OP_WBINVD, 0,
                   VAM_DIR_NONE);
    case 0x20: case 0x21: case 0x22: case 0x23:
        return mov_crdr(c, opc);
    case 0x30: return set(c, K_WRMSR, VAM_OP_WRMSR, 0, VAM_DIR_WRITE);
    case 0x32: return set(c, K_RDMSR, VAM_OP_RDMSR, 0, VAM_DIR_READ);
    case 0x33: return set(c, K_RDPMC, VAM_OP_RDPMC, 0, VAM_DIR_READ);
    case 0x35: return set(c, K_SYSEXIT, VAM_OP_SYSEXIT, rex_w(c) ? 8 : 4, VAM_DIR_NONE);
    case 0xa2: return set(c, K_CPUID, VAM_OP_CPUID, 0, VAM_DIR_READ);
    case 0xa0: case 0xa8:       /* push %fs / %gs */
        c->out->sysreg = opc == 0xa0 ? VAM_SREG_FS : VAM_SREG_GS;
        return set(c, K_MOVSEG, VAM_OP_PUSH_SEG, osize_default64(c), VAM_DIR_READ);
    case 0xa1: case 0xa9:       /* pop %fs / %gs */
        c->out->sysreg = opc == 0xa1 ? VAM_SREG_FS : VAM_SREG_GS;
        return set(c, K_MOVSEG, VAM_OP_POP_SEG, osize_default64(c), VAM_DIR_WRITE);
    case 0xae: {                /* F3 0f ae /0-/3, register form: rd/wr fs/gs base */
        if (!modrm(c))
            return STEP_SHORT;
        if (c->d.rep != 0xf3 || c->d.mod != 3 || c->d.reg > 3)
            return STEP_REJECT;
        static const uint8_t ops[4] = { VAM_OP_RDFSBASE, VAM_OP_RDGSBASE, VAM_OP_WRFSBASE,
                                        VAM_OP_WRGSBASE };
        c->out->reg = (uint8_t)(c->d.rm | rex_b(c));
        return set(c, K_FSGSBASE, ops[c->d.reg], rex_w(c) ? 8 : 4,
                   c->d.reg < 2 ? VAM_DIR_READ : VAM_DIR_WRITE);
    }
    case 0x38: {                /* 66 0f 38 82 /r: invpcid r64, m128 */
        uint8_t opc3;
        if (!next(c, &opc3))
            return STEP_SHORT;
        if (opc3 != 0x82)
            return STEP_REJECT;
        if (!modrm(c))
            return STEP_SHORT;
        if (!c->d.opsz || c->d.rep || c->d.mod == 3)
            return STEP_REJECT;
        c->out->reg = (uint8_t)(c->d.reg | rex_r(c));
        if (!memory_operand(c))
            return STEP_SHORT;
        return set(c, K_INVPCID, VAM_OP_INVPCID, 8, VAM_DIR_NONE);
    }
    default:
        return STEP_REJECT;
    }
}

enum vam_decode_result vam_decode(const uint8_t *p, size_t n, unsigned mode,
                                  struct vam_insn *out)
{
    if (mode != AB_MODE_64)
        return VAM_DEC_OTHER_MODE;
    struct vam_insn insn;
    memset(&insn, 0, sizeof insn);
    insn.reg = insn.reg2 = insn.sysreg = VAM_REG_NONE;
    insn.mem.base = insn.mem.index = VAM_REG_NONE;
    insn.mem.seg = VAM_SREG_NONE;
    struct ctx c = { .out = &insn };
    vam_dec_start(&c.d, p, n);
    uint8_t opc;
    if (!next(&c, &opc))
        return c.d.truncated ? VAM_DEC_TRUNCATED : VAM_DEC_NOT_SENSITIVE;
    enum step s;
    if (c.d.lock) {
        s = STEP_REJECT;        /* none of these instructions takes LOCK */
    } else if (opc == 0x0f) {
        uint8_t opc2;
        s = next(&c, &opc2) ? two_byte(&c, opc2) : STEP_SHORT;
    } else {
        s = one_byte(&c, opc);
    }
    if (s == STEP_REJECT)
        return VAM_DEC_NOT_SENSITIVE;
    if (s == STEP_SHORT)        /* ran out of bytes, or past 15 */
        return c.d.truncated ? VAM_DEC_TRUNCATED : VAM_DEC_NOT_SENSITIVE;
    insn.len = (uint8_t)c.d.i;
    insn.addrsize = c.d.adsz ? 4 : 8;
    *out = insn;
    return VAM_DEC_OK;
}

/* ---- NOPs ------------------------------------------------------------------ */

/* Length of the ModRM operand (ModRM, SIB, displacement) at p, 0 if truncated. */
static unsigned modrm_len(const uint8_t *p, size_t n)
{
    if (n < 1)
        return 0;
    unsigned mod = p[0] >> 6, rm = p[0] & 7, len = 1;
    if (mod == 3)
        return 1;
    if (rm == 4) {
        if (n < 2)
            return 0;
        len++;
        if (mod == 0 && (p[1] & 7) == 5)
            len += 4;
    } else if (mod == 0 && rm == 5) {
        len += 4;
    }
    len += mod == 1 ? 1 : mod == 2 ? 4 : 0;
    return len <= n ? len : 0;
}

unsigned vam_nop_len(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && i < VAM_MAX_INSN_LEN && (p[i] == 0x66 || p[i] == 0x2e))
        i++;
    if (i >= n || i >= VAM_MAX_INSN_LEN)
        return 0;
    if (p[i] == 0x90)
        return (unsigned)i + 1;
    if (p[i] != 0x0f || i + 2 >= n || p[i + 1] != 0x1f || ((p[i + 2] >> 3) & 7) != 0)
        return 0;
    unsigned m = modrm_len(p + i + 2, n - i - 2);
    if (!m || i + 2 + m > VAM_MAX_INSN_LEN)
        return 0;
    return (unsigned)(i + 2 + m);
}

bool vam_is_nops(const uint8_t *p, size_t n, size_t *bad)
{
    size_t pos = 0;
    while (pos < n) {
        unsigned l = vam_nop_len(p + pos, n - pos);
        if (!l) {
            if (bad)
                *bad = pos;
            return false;
        }
        pos += l;
    }
    return true;
}

/* ---- names and text ---------------------------------------------------------- */

static const char *const op_names[VAM_OP_COUNT] = {
    [VAM_OP_NONE] = "none",
    [VAM_OP_CLI] = "cli", [VAM_OP_STI] = "sti", [VAM_OP_PUSHF] = "pushf",
    [VAM_OP_POPF] = "popf", [VAM_OP_HLT] = "hlt", [VAM_OP_IRET] = "iret",
    [VAM_OP_SYSRET] = "sysret", [VAM_OP_SYSEXIT] = "sysexit", [VAM_OP_SWAPGS] = "swapgs",
    [VAM_OP_LJMP] = "ljmp", [VAM_OP_LCALL] = "lcall", [VAM_OP_LRET] = "lret",
    [VAM_OP_MOV_FROM_CR] = "mov-from-cr", [VAM_OP_MOV_TO_CR] = "mov-to-cr",
    [VAM_OP_MOV_FROM_DR] = "mov-from-dr", [VAM_OP_MOV_TO_DR] = "mov-to-dr",
    [VAM_OP_CLTS] = "clts", [VAM_OP_LMSW] = "lmsw", [VAM_OP_SMSW] = "smsw",
    [VAM_OP_LGDT] = "lgdt", [VAM_OP_LIDT] = "lidt", [VAM_OP_LLDT] = "lldt",
    [VAM_OP_LTR] = "ltr", [VAM_OP_SGDT] = "sgdt", [VAM_OP_SIDT] = "sidt",
    [VAM_OP_SLDT] = "sldt", [VAM_OP_STR] = "str",
    [VAM_OP_MOV_FROM_SEG] = "mov-from-seg", [VAM_OP_MOV_TO_SEG] = "mov-to-seg",
    [VAM_OP_PUSH_SEG] = "push-seg", [VAM_OP_POP_SEG] = "pop-seg",
    [VAM_OP_LAR] = "lar", [VAM_OP_LSL] = "lsl", [VAM_OP_VERR] = "verr", [VAM_OP_VERW] = "verw",
    [VAM_OP_INVLPG] = "invlpg", [VAM_OP_INVPCID] = "invpcid", [VAM_OP_INVD] = "invd",
    [VAM_OP_WBINVD] = "wbinvd", [VAM_OP_WBNOINVD] = "wbnoinvd", [VAM_OP_RDMSR] = "rdmsr",
    [VAM_OP_WRMSR] = "wrmsr", [VAM_OP_RDPMC] = "rdpmc", [VAM_OP_CPUID] = "cpuid",
    [VAM_OP_XSETBV] = "xsetbv", [VAM_OP_IN] = "in", [VAM_OP_OUT] = "out", [VAM_OP_INS] = "ins",
    [VAM_OP_OUTS] = "outs", [VAM_OP_INT] = "int", [VAM_OP_MONITOR] = "monitor",
    [VAM_OP_MWAIT] = "mwait", [VAM_OP_STAC] = "stac", [VAM_OP_CLAC] = "clac",
    [VAM_OP_RDFSBASE] = "rdfsbase", [VAM_OP_RDGSBASE] = "rdgsbase",
    [VAM_OP_WRFSBASE] = "wrfsbase", [VAM_OP_WRGSBASE] = "wrgsbase",
};

const char *vam_op_name(unsigned op)
{
    return op < VAM_OP_COUNT && op_names[op] ? op_names[op] : "?";
}

const char *vam_sreg_name(unsigned sreg)
{
    static const char *const names[6] = { "es", "cs", "ss", "ds", "fs", "gs" };
    return sreg < 6 ? names[sreg] : "?";
}

const char *vam_gpr_name(unsigned reg, unsigned size)
{
    static const char *const r64[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                         "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
    static const char *const r32[16] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                                         "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d",
                                         "r15d" };
    static const char *const r16[16] = { "ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
                                         "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w",
                                         "r15w" };
    /* with a REX prefix; ah, ch, dh, bh are the caller's (vam_mmio_format) */
    static const char *const r8[16] = { "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
                                        "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b",
                                        "r15b" };
    if (reg == VAM_REG_RIP)
        return size == 4 ? "eip" : "rip";
    if (reg > 15)
        return "?";
    return size == 8 ? r64[reg] : size == 4 ? r32[reg] : size == 2 ? r16[reg] : r8[reg];
}

void vam_text_add(struct vam_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = t->len < t->size ? t->size - t->len : 0;
    int n = vam_vsnprintf(room ? t->buf + t->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
}

void vam_text_mem(struct vam_text *t, const struct vam_mem *m, unsigned flags,
                  unsigned addrsize)
{
    if (flags & VAM_INSN_SEGOVR)
        vam_text_add(t, "%%%s:", vam_sreg_name(m->seg));
    if (m->disp || (m->base == VAM_REG_NONE && m->index == VAM_REG_NONE))
        vam_text_add(t, m->disp < 0 ? "-0x%x" : "0x%x",
                     m->disp < 0 ? (unsigned)-(int64_t)m->disp : (unsigned)m->disp);
    if (m->base == VAM_REG_NONE && m->index == VAM_REG_NONE)
        return;
    vam_text_add(t, "(");
    if (m->base != VAM_REG_NONE)
        vam_text_add(t, "%%%s", vam_gpr_name(m->base, addrsize));
    if (m->index != VAM_REG_NONE)
        vam_text_add(t, ",%%%s,%u", vam_gpr_name(m->index, addrsize), m->scale);
    vam_text_add(t, ")");
}

char vam_size_suffix(unsigned size)
{
    return size == 1 ? 'b' : size == 2 ? 'w' : size == 4 ? 'l' : 'q';
}

static void add_mem(struct vam_text *t, const struct vam_insn *i)
{
    vam_text_mem(t, &i->mem, i->flags, i->addrsize);
}

/* The r/m operand: memory, or register reg of `size` bytes. */
static void add_rm(struct vam_text *t, const struct vam_insn *i, unsigned size)
{
    if (i->flags & VAM_INSN_MEM)
        add_mem(t, i);
    else
        vam_text_add(t, "%%%s", vam_gpr_name(i->reg, size));
}

int vam_insn_format(const struct vam_insn *i, char *buf, size_t size)
{
    struct vam_text t = { buf, size, 0 };
    const char *name = vam_op_name(i->op);
    if (size)
        buf[0] = 0;
    switch (i->op) {
    case VAM_OP_PUSHF: case VAM_OP_POPF: case VAM_OP_IRET: case VAM_OP_SYSRET:
    case VAM_OP_SYSEXIT:
        vam_text_add(&t, "%s%c", name, vam_size_suffix(i->opsize));
        break;
    case VAM_OP_LRET:
        vam_text_add(&t, "lret%c", vam_size_suffix(i->opsize));
        if (i->flags & VAM_INSN_IMM)
            vam_text_add(&t, " $0x%x", i->imm);
        break;
    case VAM_OP_LJMP: case VAM_OP_LCALL:
        vam_text_add(&t, "%s%c *", name, vam_size_suffix(i->opsize));
        add_mem(&t, i);
        break;
    case VAM_OP_MOV_FROM_CR: case VAM_OP_MOV_FROM_DR:
        vam_text_add(&t, "mov %%%s%u, %%%s", i->op == VAM_OP_MOV_FROM_CR ? "cr" : "dr",
                     i->sysreg, vam_gpr_name(i->reg, 8));
        break;
    case VAM_OP_MOV_TO_CR: case VAM_OP_MOV_TO_DR:
        vam_text_add(&t, "mov %%%s, %%%s%u", vam_gpr_name(i->reg, 8),
                     i->op == VAM_OP_MOV_TO_CR ? "cr" : "dr", i->sysreg);
        break;
    case VAM_OP_MOV_FROM_SEG:
        vam_text_add(&t, "mov %%%s, ", vam_sreg_name(i->sysreg));
        add_rm(&t, i, i->opsize);
        break;
    case VAM_OP_MOV_TO_SEG:
        vam_text_add(&t, "mov ");
        add_rm(&t, i, 2);
        vam_text_add(&t, ", %%%s", vam_sreg_name(i->sysreg));
        break;
    case VAM_OP_PUSH_SEG: case VAM_OP_POP_SEG:
        vam_text_add(&t, "%s%c %%%s", i->op == VAM_OP_PUSH_SEG ? "push" : "pop",
                     vam_size_suffix(i->opsize), vam_sreg_name(i->sysreg));
        break;
    case VAM_OP_LMSW: case VAM_OP_SMSW: case VAM_OP_LLDT: case VAM_OP_LTR: case VAM_OP_SLDT:
    case VAM_OP_STR: case VAM_OP_VERR: case VAM_OP_VERW:
        vam_text_add(&t, "%s ", name);
        add_rm(&t, i, i->opsize);
        break;
    case VAM_OP_LGDT: case VAM_OP_LIDT: case VAM_OP_SGDT: case VAM_OP_SIDT: case VAM_OP_INVLPG:
        vam_text_add(&t, "%s ", name);
        add_mem(&t, i);
        break;
    case VAM_OP_LAR: case VAM_OP_LSL:
        vam_text_add(&t, "%s ", name);
        if (i->flags & VAM_INSN_MEM)
            add_mem(&t, i);
        else
            vam_text_add(&t, "%%%s", vam_gpr_name(i->reg2, i->opsize));
        vam_text_add(&t, ", %%%s", vam_gpr_name(i->reg, i->opsize));
        break;
    case VAM_OP_INVPCID:
        vam_text_add(&t, "invpcid ");
        add_mem(&t, i);
        vam_text_add(&t, ", %%%s", vam_gpr_name(i->reg, 8));
        break;
    case VAM_OP_IN:
        if (i->flags & VAM_INSN_PORT_DX)
            vam_text_add(&t, "in %%dx, %%%s", vam_gpr_name(0, i->opsize));
        else
            vam_text_add(&t, "in $0x%x, %%%s", i->imm, vam_gpr_name(0, i->opsize));
        break;
    case VAM_OP_OUT:
        if (i->flags & VAM_INSN_PORT_DX)
            vam_text_add(&t, "out %%%s, %%dx", vam_gpr_name(0, i->opsize));
        else
            vam_text_add(&t, "out %%%s, $0x%x", vam_gpr_name(0, i->opsize), i->imm);
        break;
    case VAM_OP_INS: case VAM_OP_OUTS:
        vam_text_add(&t, "%s%s%c",
                     i->flags & VAM_INSN_REP ? "rep " : i->flags & VAM_INSN_REPNE ? "repne " : "",
                     name, vam_size_suffix(i->opsize));
        if (i->flags & VAM_INSN_SEGOVR)
            vam_text_add(&t, " %%%s:(%%%s)", vam_sreg_name(i->mem.seg),
                         vam_gpr_name(6, i->addrsize));
        break;
    case VAM_OP_INT:
        vam_text_add(&t, "int $0x%x", i->imm);
        break;
    case VAM_OP_RDFSBASE: case VAM_OP_RDGSBASE: case VAM_OP_WRFSBASE: case VAM_OP_WRGSBASE:
        vam_text_add(&t, "%s %%%s", name, vam_gpr_name(i->reg, i->opsize));
        break;
    default:
        vam_text_add(&t, "%s", name);
        break;
    }
    return (int)t.len;
}
