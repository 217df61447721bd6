/*
 * The reference for the VAM's decoder: Zydis decodes, the inspector's
 * classifier (afterburner/inspect/x86.c) names the kind, and this file
 * translates Zydis's operands into the struct vam_insn the VAM's decoder
 * should have produced.  The translation is written from Zydis's point of
 * view (operand lists, register classes), independently of vam/decode.c.
 */
#include "zyref.h"

#include <vam/layout.h>

#include <afterburn/kinds.h>

#include <stdio.h>
#include <string.h>

bool zyref_init(struct zyref *z)
{
    char why[200];
    if (!ab_x86_init(&z->x, why, sizeof why)) {
        fprintf(stderr, "zyref: %s\n", why);
        return false;
    }
    return true;
}

static uint8_t gpr(ZydisRegister r)
{
    if (r == ZYDIS_REGISTER_NONE)
        return VAM_REG_NONE;
    if (r == ZYDIS_REGISTER_RIP || r == ZYDIS_REGISTER_EIP)
        return VAM_REG_RIP;
    switch (ZydisRegisterGetClass(r)) {
    case ZYDIS_REGCLASS_GPR8: case ZYDIS_REGCLASS_GPR16: case ZYDIS_REGCLASS_GPR32:
    case ZYDIS_REGCLASS_GPR64:
        return (uint8_t)ZydisRegisterGetId(r);
    default:
        return 0xee;    /* something the VAM never reports */
    }
}

static uint8_t sreg(ZydisRegister r)
{
    switch (r) {
    case ZYDIS_REGISTER_ES: return VAM_SREG_ES;
    case ZYDIS_REGISTER_CS: return VAM_SREG_CS;
    case ZYDIS_REGISTER_SS: return VAM_SREG_SS;
    case ZYDIS_REGISTER_DS: return VAM_SREG_DS;
    case ZYDIS_REGISTER_FS: return VAM_SREG_FS;
    case ZYDIS_REGISTER_GS: return VAM_SREG_GS;
    default: return VAM_SREG_NONE;
    }
}

long zyref_corrections;

/*
 * Zydis 4.0 bug: with 32-bit addressing (67) and REX.B, SIB.base 101 with
 * ModRM.mod 00 is decoded as base %r13d without displacement, although the
 * disp32 bytes are consumed.  The SDM (Vol. 2, Table 2-5, "REX.B is
 * ignored" for this case), the processor and objdump agree: no base,
 * disp32.  The expected operand is corrected here.
 */
void zyref_mem(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *o,
               struct vam_mem *m, uint8_t *flags)
{
    m->base = gpr(o->mem.base);
    m->index = gpr(o->mem.index);
    m->scale = o->mem.index == ZYDIS_REGISTER_NONE ? 0 : o->mem.scale;
    m->disp = o->mem.disp.has_displacement ? (int32_t)o->mem.disp.value : 0;
    if (o->visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT && in->raw.sib.offset &&
        in->raw.modrm.mod == 0 && in->raw.sib.base == 5 && o->mem.base == ZYDIS_REGISTER_R13D &&
        in->raw.disp.size == 32) {
        m->base = VAM_REG_NONE;
        m->disp = (int32_t)in->raw.disp.value;
        zyref_corrections++;
    }
    m->seg = sreg(o->mem.segment);
    if (m->seg == VAM_SREG_FS || m->seg == VAM_SREG_GS)
        *flags |= VAM_INSN_SEGOVR;
}

static void set_mem(struct vam_insn *e, const ZydisDecodedInstruction *in,
                    const ZydisDecodedOperand *o)
{
    zyref_mem(in, o, &e->mem, &e->flags);
}

/* The explicit r/m-like operand i: register -> reg, memory -> mem. */
static void set_rm(struct vam_insn *e, const ZydisDecodedInstruction *in,
                   const ZydisDecodedOperand *o)
{
    if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
        e->flags |= VAM_INSN_MEM;
        set_mem(e, in, o);
    } else if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
        e->reg = gpr(o->reg.value);
    }
}

/* The implicit stack operand's size in bytes (push/pop/pushf/popf). */
static unsigned stack_size(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops)
{
    for (unsigned i = 0; i < in->operand_count; i++)
        if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
            (ops[i].mem.base == ZYDIS_REGISTER_RSP || ops[i].mem.base == ZYDIS_REGISTER_ESP))
            return ops[i].size / 8;
    return 0;
}

/* Data flow direction, from the SDM's description of each operation. */
static uint8_t dir_of(unsigned op)
{
    switch (op) {
    case VAM_OP_MOV_FROM_CR: case VAM_OP_MOV_FROM_DR: case VAM_OP_SMSW: case VAM_OP_SGDT:
    case VAM_OP_SIDT: case VAM_OP_SLDT: case VAM_OP_STR: case VAM_OP_MOV_FROM_SEG:
    case VAM_OP_PUSH_SEG: case VAM_OP_RDMSR: case VAM_OP_RDPMC: case VAM_OP_CPUID:
    case VAM_OP_IN: case VAM_OP_INS: case VAM_OP_RDFSBASE: case VAM_OP_RDGSBASE:
        return VAM_DIR_READ;
    case VAM_OP_MOV_TO_CR: case VAM_OP_MOV_TO_DR: case VAM_OP_LMSW: case VAM_OP_LGDT:
    case VAM_OP_LIDT: case VAM_OP_LLDT: case VAM_OP_LTR: case VAM_OP_MOV_TO_SEG:
    case VAM_OP_POP_SEG: case VAM_OP_WRMSR: case VAM_OP_XSETBV: case VAM_OP_OUT:
    case VAM_OP_OUTS: case VAM_OP_WRFSBASE: case VAM_OP_WRGSBASE:
        return VAM_DIR_WRITE;
    default:
        return VAM_DIR_NONE;
    }
}

/* The last of F2/F3 among the legacy prefixes is F3 (wbnoinvd: Zydis 4.0 calls it wbinvd). */
static bool last_rep_is_f3(const ZydisDecodedInstruction *in)
{
    uint8_t last = 0;
    for (unsigned i = 0; i < in->raw.prefix_count; i++)
        if (in->raw.prefixes[i].value == 0xf2 || in->raw.prefixes[i].value == 0xf3)
            last = in->raw.prefixes[i].value;
    return last == 0xf3;
}

static unsigned op_of(const ZydisDecodedInstruction *in)
{
    switch (in->mnemonic) {
    case ZYDIS_MNEMONIC_CLI: return VAM_OP_CLI;
    case ZYDIS_MNEMONIC_STI: return VAM_OP_STI;
    case ZYDIS_MNEMONIC_PUSHF: case ZYDIS_MNEMONIC_PUSHFD: case ZYDIS_MNEMONIC_PUSHFQ:
        return VAM_OP_PUSHF;
    case ZYDIS_MNEMONIC_POPF: case ZYDIS_MNEMONIC_POPFD: case ZYDIS_MNEMONIC_POPFQ:
        return VAM_OP_POPF;
    case ZYDIS_MNEMONIC_HLT: return VAM_OP_HLT;
    case ZYDIS_MNEMONIC_IRET: case ZYDIS_MNEMONIC_IRETD: case ZYDIS_MNEMONIC_IRETQ:
        return VAM_OP_IRET;
    case ZYDIS_MNEMONIC_SYSRET: return VAM_OP_SYSRET;
    case ZYDIS_MNEMONIC_SYSEXIT: return VAM_OP_SYSEXIT;
    case ZYDIS_MNEMONIC_SWAPGS: return VAM_OP_SWAPGS;
    case ZYDIS_MNEMONIC_JMP: return VAM_OP_LJMP;
    case ZYDIS_MNEMONIC_CALL: return VAM_OP_LCALL;
    case ZYDIS_MNEMONIC_RET: return VAM_OP_LRET;
    case ZYDIS_MNEMONIC_MOV:
        if (in->opcode_map == ZYDIS_OPCODE_MAP_0F)
            switch (in->opcode) {
            case 0x20: return VAM_OP_MOV_FROM_CR;
            case 0x22: return VAM_OP_MOV_TO_CR;
            case 0x21: return VAM_OP_MOV_FROM_DR;
            case 0x23: return VAM_OP_MOV_TO_DR;
            }
        return in->opcode == 0x8c ? VAM_OP_MOV_FROM_SEG : VAM_OP_MOV_TO_SEG;
    case ZYDIS_MNEMONIC_PUSH: return VAM_OP_PUSH_SEG;
    case ZYDIS_MNEMONIC_POP: return VAM_OP_POP_SEG;
    case ZYDIS_MNEMONIC_CLTS: return VAM_OP_CLTS;
    case ZYDIS_MNEMONIC_LMSW: return VAM_OP_LMSW;
    case ZYDIS_MNEMONIC_SMSW: return VAM_OP_SMSW;
    case ZYDIS_MNEMONIC_LGDT: return VAM_OP_LGDT;
    case ZYDIS_MNEMONIC_LIDT: return VAM_OP_LIDT;
    case ZYDIS_MNEMONIC_LLDT: return VAM_OP_LLDT;
    case ZYDIS_MNEMONIC_LTR: return VAM_OP_LTR;
    case ZYDIS_MNEMONIC_SGDT: return VAM_OP_SGDT;
    case ZYDIS_MNEMONIC_SIDT: return VAM_OP_SIDT;
    case ZYDIS_MNEMONIC_SLDT: return VAM_OP_SLDT;
    case ZYDIS_MNEMONIC_STR: return VAM_OP_STR;
    case ZYDIS_MNEMONIC_LAR: return VAM_OP_LAR;
    case ZYDIS_MNEMONIC_LSL: return VAM_OP_LSL;
    case ZYDIS_MNEMONIC_VERR: return VAM_OP_VERR;
    case ZYDIS_MNEMONIC_VERW: return VAM_OP_VERW;
    case ZYDIS_MNEMONIC_INVLPG: return VAM_OP_INVLPG;
    case ZYDIS_MNEMONIC_INVPCID: return VAM_OP_INVPCID;
    case ZYDIS_MNEMONIC_INVD: return VAM_OP_INVD;
    case ZYDIS_MNEMONIC_WBINVD: return last_rep_is_f3(in) ? VAM_OP_WBNOINVD : VAM_OP_WBINVD;
    case ZYDIS_MNEMONIC_RDMSR: return VAM_OP_RDMSR;
    case ZYDIS_MNEMONIC_WRMSR: return VAM_OP_WRMSR;
    case ZYDIS_MNEMONIC_RDPMC: return VAM_OP_RDPMC;
    case ZYDIS_MNEMONIC_CPUID: return VAM_OP_CPUID;
    case ZYDIS_MNEMONIC_XSETBV: return VAM_OP_XSETBV;
    case ZYDIS_MNEMONIC_IN: return VAM_OP_IN;
    case ZYDIS_MNEMONIC_OUT: return VAM_OP_OUT;
    case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD:
        return VAM_OP_INS;
    case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD:
        return VAM_OP_OUTS;
    case ZYDIS_MNEMONIC_INT: return VAM_OP_INT;
    case ZYDIS_MNEMONIC_MONITOR: return VAM_OP_MONITOR;
    case ZYDIS_MNEMONIC_MWAIT: return VAM_OP_MWAIT;
    case ZYDIS_MNEMONIC_STAC: return VAM_OP_STAC;
    case ZYDIS_MNEMONIC_CLAC: return VAM_OP_CLAC;
    case ZYDIS_MNEMONIC_RDFSBASE: return VAM_OP_RDFSBASE;
    case ZYDIS_MNEMONIC_RDGSBASE: return VAM_OP_RDGSBASE;
    case ZYDIS_MNEMONIC_WRFSBASE: return VAM_OP_WRFSBASE;
    case ZYDIS_MNEMONIC_WRGSBASE: return VAM_OP_WRGSBASE;
    default: return VAM_OP_NONE;
    }
}

bool zyref_decode(const struct zyref *z, const uint8_t *p, size_t n, struct vam_insn *e,
                  char *text, size_t textlen)
{
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (text && textlen)
        snprintf(text, textlen, "(bad)");
    if (!ab_x86_decode(&z->x, 0, p, n, &in, ops))
        return false;
    if (text)
        ab_x86_format(&z->x, &in, ops, ZYDIS_RUNTIME_ADDRESS_NONE, text, textlen);
    unsigned kind = ab_x86_classify(&z->x, &in);
    const struct ab_kind_info *k = ab_kind_lookup(kind);
    if (!k || k->cls == AB_CLASS_NONE)
        return false;

    memset(e, 0, sizeof *e);
    e->reg = e->reg2 = e->sysreg = VAM_REG_NONE;
    e->mem.base = e->mem.index = VAM_REG_NONE;
    e->mem.seg = VAM_SREG_NONE;
    e->kind = (uint8_t)kind;
    e->len = in.length;
    e->addrsize = in.address_width / 8;
    e->op = (uint8_t)op_of(&in);
    e->dir = dir_of(e->op);

    const ZydisDecodedOperand *o0 = &ops[0], *o1 = &ops[1];
    for (unsigned i = 0; i < in.operand_count; i++)
        if (ops[i].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
            ops[i].visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT) {
            e->imm = (uint16_t)ops[i].imm.value.u;
            e->flags |= VAM_INSN_IMM;
        }
    switch (e->op) {
    case VAM_OP_PUSHF: case VAM_OP_POPF:
        e->opsize = (uint8_t)stack_size(&in, ops);
        break;
    case VAM_OP_IRET: case VAM_OP_LRET:
        e->opsize = in.operand_width / 8;
        break;
    case VAM_OP_LJMP: case VAM_OP_LCALL:
        e->opsize = in.operand_width / 8;
        set_rm(e, &in, o0);
        break;
    case VAM_OP_SYSRET: case VAM_OP_SYSEXIT:
        e->opsize = in.operand_width == 64 ? 8 : 4;
        break;
    case VAM_OP_MOV_FROM_CR: case VAM_OP_MOV_FROM_DR:
        e->opsize = 8;
        e->reg = gpr(o0->reg.value);
        e->sysreg = (uint8_t)ZydisRegisterGetId(o1->reg.value);
        break;
    case VAM_OP_MOV_TO_CR: case VAM_OP_MOV_TO_DR:
        e->opsize = 8;
        e->reg = gpr(o1->reg.value);
        e->sysreg = (uint8_t)ZydisRegisterGetId(o0->reg.value);
        break;
    case VAM_OP_MOV_FROM_SEG:
        e->opsize = o0->size / 8;
        e->sysreg = sreg(o1->reg.value);
        set_rm(e, &in, o0);
        break;
    case VAM_OP_MOV_TO_SEG:
        e->opsize = 2;
        e->sysreg = sreg(o0->reg.value);
        set_rm(e, &in, o1);
        break;
    case VAM_OP_PUSH_SEG: case VAM_OP_POP_SEG:
        e->opsize = (uint8_t)stack_size(&in, ops);
        e->sysreg = sreg(o0->reg.value);
        break;
    case VAM_OP_LMSW: case VAM_OP_SMSW: case VAM_OP_LLDT: case VAM_OP_LTR: case VAM_OP_SLDT:
    case VAM_OP_STR: case VAM_OP_VERR: case VAM_OP_VERW:
        e->opsize = o0->size / 8;
        set_rm(e, &in, o0);
        break;
    case VAM_OP_LGDT: case VAM_OP_LIDT: case VAM_OP_SGDT: case VAM_OP_SIDT:
        e->opsize = 8;
        set_rm(e, &in, o0);
        break;
    case VAM_OP_INVLPG:
        set_rm(e, &in, o0);
        break;
    case VAM_OP_LAR: case VAM_OP_LSL:
        e->opsize = o0->size / 8;
        e->reg = gpr(o0->reg.value);
        if (o1->type == ZYDIS_OPERAND_TYPE_REGISTER)
            e->reg2 = gpr(o1->reg.value);
        else
            set_rm(e, &in, o1);
        break;
    case VAM_OP_INVPCID:
        e->opsize = 8;
        e->reg = gpr(o0->reg.value);
        set_rm(e, &in, o1);
        break;
    case VAM_OP_IN: case VAM_OP_OUT: {
        const ZydisDecodedOperand *data = e->op == VAM_OP_IN ? o0 : o1;
        const ZydisDecodedOperand *port = e->op == VAM_OP_IN ? o1 : o0;
        e->opsize = data->size / 8;
        e->reg = gpr(data->reg.value);
        if (port->type == ZYDIS_OPERAND_TYPE_REGISTER)
            e->flags |= VAM_INSN_PORT_DX;
        break;
    }
    case VAM_OP_INS: case VAM_OP_OUTS:
        e->flags |= VAM_INSN_STRING | VAM_INSN_PORT_DX;
        if (in.attributes & ZYDIS_ATTRIB_HAS_REP)
            e->flags |= VAM_INSN_REP;
        if (in.attributes & ZYDIS_ATTRIB_HAS_REPNE)
            e->flags |= VAM_INSN_REPNE;
        for (unsigned i = 0; i < in.operand_count; i++)
            if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY) {
                e->opsize = ops[i].size / 8;
                set_mem(e, &in, &ops[i]);
            }
        break;
    case VAM_OP_RDFSBASE: case VAM_OP_RDGSBASE: case VAM_OP_WRFSBASE: case VAM_OP_WRGSBASE:
        e->opsize = o0->size / 8;
        e->reg = gpr(o0->reg.value);
        break;
    default:
        break;
    }
    return true;
}

int zyref_compare(const struct vam_insn *got, const struct vam_insn *want, char *why,
                  size_t whylen)
{
    int n = 0;
    size_t len = 0;
    why[0] = 0;
#define FIELD(f)                                                                        \
    if (got->f != want->f) {                                                            \
        n++;                                                                            \
        if (len < whylen)                                                               \
            len += (size_t)snprintf(why + len, whylen - len, " " #f " %lld/%lld",       \
                                    (long long)got->f, (long long)want->f);             \
    }
    FIELD(kind) FIELD(op) FIELD(len) FIELD(opsize) FIELD(addrsize) FIELD(dir) FIELD(reg)
    FIELD(reg2) FIELD(sysreg) FIELD(flags) FIELD(imm)
    if (want->flags & (VAM_INSN_MEM | VAM_INSN_STRING)) {
        FIELD(mem.base) FIELD(mem.index) FIELD(mem.scale) FIELD(mem.seg)
        if (want->flags & VAM_INSN_MEM) {
            FIELD(mem.disp)
        }
    }
#undef FIELD
    return n;
}

/* Zydis: [p, p+len) is NOPs, then the planned replacement at plan->off, then NOPs. */
bool zyref_check_site(const struct zyref *z, const uint8_t *p, size_t len,
                      const struct vam_plan *plan, char *why, size_t whylen)
{
    static const ZydisMnemonic mn[VAM_RW_FORM_COUNT] = {
        [VAM_RW_ANDB] = ZYDIS_MNEMONIC_AND, [VAM_RW_ORB] = ZYDIS_MNEMONIC_OR,
        [VAM_RW_XORB] = ZYDIS_MNEMONIC_XOR, [VAM_RW_PUSHQ] = ZYDIS_MNEMONIC_PUSH,
        [VAM_RW_LOADW] = ZYDIS_MNEMONIC_MOV, [VAM_RW_LOADZX] = ZYDIS_MNEMONIC_MOVZX,
        [VAM_RW_CALL] = ZYDIS_MNEMONIC_CALL, [VAM_RW_JMP] = ZYDIS_MNEMONIC_JMP,
    };
    bool seen = false;
    for (size_t pos = 0; pos < len;) {
        ZydisDecodedInstruction in;
        ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
        if (!ab_x86_decode(&z->x, 0, p + pos, len - pos, &in, ops)) {
            snprintf(why, whylen, "+%zu does not decode within the site", pos);
            return false;
        }
        char text[96];
        ab_x86_format(&z->x, &in, ops, ZYDIS_RUNTIME_ADDRESS_NONE, text, sizeof text);
        if (pos == plan->off) {
            seen = true;
            const ZydisDecodedOperand *mem = NULL, *other = NULL;
            for (unsigned i = 0; i < in.operand_count_visible; i++) {
                if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY)
                    mem = &ops[i];
                else
                    other = &ops[i];
            }
            bool ok = in.mnemonic == mn[plan->form] && in.length == plan->len && mem &&
                      mem->mem.base == ZYDIS_REGISTER_NONE &&
                      mem->mem.index == ZYDIS_REGISTER_NONE &&
                      (uint64_t)mem->mem.disp.value == VAM_ADDR(plan->field);
            if (ok && (plan->form == VAM_RW_LOADW || plan->form == VAM_RW_LOADZX))
                ok = other && other->type == ZYDIS_OPERAND_TYPE_REGISTER &&
                     ZydisRegisterGetId(other->reg.value) == plan->reg &&
                     ZydisRegisterGetClass(other->reg.value) ==
                         (plan->form == VAM_RW_LOADW ? ZYDIS_REGCLASS_GPR16
                                                     : ZYDIS_REGCLASS_GPR32);
            if (ok && plan->form <= VAM_RW_XORB)
                ok = other && other->type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
                     (uint8_t)other->imm.value.u == plan->imm && mem->size == 8;
            if (ok && (plan->form == VAM_RW_CALL || plan->form == VAM_RW_JMP))
                ok = in.meta.branch_type == ZYDIS_BRANCH_TYPE_NEAR;
            if (!ok) {
                snprintf(why, whylen, "+%zu is '%s', not the planned %s of field 0x%x", pos,
                         text, vam_rw_form_name(plan->form), plan->field);
                return false;
            }
        } else if (!ab_x86_is_nop(&in, ops)) {
            snprintf(why, whylen, "+%zu is '%s', not a NOP", pos, text);
            return false;
        }
        pos += in.length;
    }
    if (!seen)
        snprintf(why, whylen, "no instruction starts at +%u", plan->off);
    return seen;
}
