#include "x86.h"

#include <afterburn/kinds.h>

#include <stdio.h>
#include <string.h>

/* Instructions whose mnemonic alone decides the kind. */
static const struct {
    ZydisMnemonic mnemonic;
    const char *kind;
} mnemonic_rules[] = {
    { ZYDIS_MNEMONIC_CLI, "cli" },
    { ZYDIS_MNEMONIC_STI, "sti" },
    { ZYDIS_MNEMONIC_PUSHF, "pushf" },
    { ZYDIS_MNEMONIC_PUSHFD, "pushf" },
    { ZYDIS_MNEMONIC_PUSHFQ, "pushf" },
    { ZYDIS_MNEMONIC_POPF, "popf" },
    { ZYDIS_MNEMONIC_POPFD, "popf" },
    { ZYDIS_MNEMONIC_POPFQ, "popf" },
    { ZYDIS_MNEMONIC_HLT, "hlt" },
    { ZYDIS_MNEMONIC_IRET, "iret" },
    { ZYDIS_MNEMONIC_IRETD, "iret" },
    { ZYDIS_MNEMONIC_IRETQ, "iret" },
    { ZYDIS_MNEMONIC_SYSRET, "sysret" },
    { ZYDIS_MNEMONIC_SYSEXIT, "sysexit" },
    { ZYDIS_MNEMONIC_SWAPGS, "swapgs" },
    { ZYDIS_MNEMONIC_CLTS, "clts" },
    { ZYDIS_MNEMONIC_LMSW, "lmsw" },
    { ZYDIS_MNEMONIC_SMSW, "smsw" },
    { ZYDIS_MNEMONIC_LGDT, "loaddt" },
    { ZYDIS_MNEMONIC_LIDT, "loaddt" },
    { ZYDIS_MNEMONIC_LLDT, "loaddt" },
    { ZYDIS_MNEMONIC_LTR, "loaddt" },
    { ZYDIS_MNEMONIC_SGDT, "storedt" },
    { ZYDIS_MNEMONIC_SIDT, "storedt" },
    { ZYDIS_MNEMONIC_SLDT, "storedt" },
    { ZYDIS_MNEMONIC_STR, "storedt" },
    { ZYDIS_MNEMONIC_LAR, "segcheck" },
    { ZYDIS_MNEMONIC_LSL, "segcheck" },
    { ZYDIS_MNEMONIC_VERR, "segcheck" },
    { ZYDIS_MNEMONIC_VERW, "segcheck" },
    { ZYDIS_MNEMONIC_INVLPG, "invlpg" },
    { ZYDIS_MNEMONIC_INVPCID, "invpcid" },
    /* Zydis 4.0 decodes wbnoinvd (f3 0f 09) as wbinvd: same kind either way. */
    { ZYDIS_MNEMONIC_INVD, "cacheflush" },
    { ZYDIS_MNEMONIC_WBINVD, "cacheflush" },
    { ZYDIS_MNEMONIC_RDMSR, "rdmsr" },
    { ZYDIS_MNEMONIC_WRMSR, "wrmsr" },
    { ZYDIS_MNEMONIC_RDPMC, "rdpmc" },
    { ZYDIS_MNEMONIC_CPUID, "cpuid" },
    { ZYDIS_MNEMONIC_XSETBV, "xsetbv" },
    { ZYDIS_MNEMONIC_IN, "in" },
    { ZYDIS_MNEMONIC_OUT, "out" },
    { ZYDIS_MNEMONIC_INSB, "ins" },
    { ZYDIS_MNEMONIC_INSW, "ins" },
    { ZYDIS_MNEMONIC_INSD, "ins" },
    { ZYDIS_MNEMONIC_OUTSB, "outs" },
    { ZYDIS_MNEMONIC_OUTSW, "outs" },
    { ZYDIS_MNEMONIC_OUTSD, "outs" },
    { ZYDIS_MNEMONIC_INT, "intn" },
    { ZYDIS_MNEMONIC_INTO, "into" },
    { ZYDIS_MNEMONIC_INT3, "int3" },
    { ZYDIS_MNEMONIC_MONITOR, "monitor" },
    { ZYDIS_MNEMONIC_MWAIT, "mwait" },
    { ZYDIS_MNEMONIC_STAC, "stac" },
    { ZYDIS_MNEMONIC_CLAC, "clac" },
    { ZYDIS_MNEMONIC_RDFSBASE, "fsgsbase" },
    { ZYDIS_MNEMONIC_RDGSBASE, "fsgsbase" },
    { ZYDIS_MNEMONIC_WRFSBASE, "fsgsbase" },
    { ZYDIS_MNEMONIC_WRGSBASE, "fsgsbase" },
    { ZYDIS_MNEMONIC_RDTSC, "rdtsc" },
    { ZYDIS_MNEMONIC_RDTSCP, "rdtscp" },
};

static const struct {
    ZydisMachineMode machine;
    ZydisStackWidth stack;
} decoder_modes[] = {
    [AB_MODE_64] = { ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64 },
    [AB_MODE_32] = { ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32 },
    [AB_MODE_16] = { ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16 },
};

bool ab_mode_valid(unsigned mode)
{
    return mode == AB_MODE_64 || mode == AB_MODE_32 || mode == AB_MODE_16;
}

unsigned ab_mode_bits(unsigned mode)
{
    return mode == AB_MODE_32 ? 32 : mode == AB_MODE_16 ? 16 : 64;
}

static unsigned kind_id(const char *name)
{
    for (size_t i = 0; i < AB_KIND_COUNT; i++)
        if (strcmp(ab_kind_table[i].name, name) == 0)
            return ab_kind_table[i].id;
    return 0;
}

static bool resolve_rules(struct ab_x86 *x, char *why, size_t whylen)
{
    memset(x->kind_of_mnemonic, 0, sizeof x->kind_of_mnemonic);
    for (size_t i = 0; i < sizeof mnemonic_rules / sizeof mnemonic_rules[0]; i++) {
        unsigned id = kind_id(mnemonic_rules[i].kind);
        if (!id) {
            snprintf(why, whylen, "classifier names unknown kind %s", mnemonic_rules[i].kind);
            return false;
        }
        x->kind_of_mnemonic[mnemonic_rules[i].mnemonic] = (uint8_t)id;
    }
    x->movcr = (uint8_t)kind_id("movcr");
    x->movdr = (uint8_t)kind_id("movdr");
    x->movseg = (uint8_t)kind_id("movseg");
    x->movss = (uint8_t)kind_id("movss");
    x->farjump = (uint8_t)kind_id("farjump");
    return true;
}

static bool classifier_produces(const struct ab_x86 *x, unsigned id)
{
    if (id == x->movcr || id == x->movdr || id == x->movseg || id == x->movss ||
        id == x->farjump)
        return true;
    for (size_t m = 0; m <= ZYDIS_MNEMONIC_MAX_VALUE; m++)
        if (x->kind_of_mnemonic[m] == id)
            return true;
    return false;
}

/* sensitive.def grows by appending; a kind the classifier cannot produce would
 * make --verify reject every such site and --audit miss every such
 * instruction, so refuse to run instead. */
static bool check_classifier_covers_table(const struct ab_x86 *x, char *why, size_t whylen)
{
    for (size_t i = 0; i < AB_KIND_COUNT; i++)
        if (!classifier_produces(x, ab_kind_table[i].id)) {
            snprintf(why, whylen, "classifier has no rule for kind %s (id %u)",
                     ab_kind_table[i].name, ab_kind_table[i].id);
            return false;
        }
    return true;
}

bool ab_x86_init(struct ab_x86 *x, char *why, size_t whylen)
{
    for (unsigned m = 0; m < 3; m++)
        if (!ZYAN_SUCCESS(ZydisDecoderInit(&x->decoder[m], decoder_modes[m].machine,
                                           decoder_modes[m].stack))) {
            snprintf(why, whylen, "cannot initialise the Zydis decoder");
            return false;
        }
    if (!ZYAN_SUCCESS(ZydisFormatterInit(&x->formatter, ZYDIS_FORMATTER_STYLE_ATT)) ||
        !ZYAN_SUCCESS(ZydisFormatterSetProperty(&x->formatter,
                                                ZYDIS_FORMATTER_PROP_HEX_UPPERCASE, 0))) {
        snprintf(why, whylen, "cannot initialise the Zydis formatter");
        return false;
    }
    return resolve_rules(x, why, whylen) && check_classifier_covers_table(x, why, whylen);
}

bool ab_x86_decode(const struct ab_x86 *x, unsigned mode, const uint8_t *p, size_t n,
                   ZydisDecodedInstruction *insn, ZydisDecodedOperand *ops)
{
    if (!ab_mode_valid(mode) || n == 0)
        return false;
    return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&x->decoder[mode], p, n, insn, ops));
}

bool ab_x86_decode_fast(const struct ab_x86 *x, unsigned mode, const uint8_t *p, size_t n,
                        ZydisDecoderContext *ctx, ZydisDecodedInstruction *insn)
{
    if (!ab_mode_valid(mode) || n == 0)
        return false;
    return ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&x->decoder[mode], ctx, p, n, insn));
}

bool ab_x86_decode_operands(const struct ab_x86 *x, unsigned mode,
                            const ZydisDecoderContext *ctx,
                            const ZydisDecodedInstruction *insn, ZydisDecodedOperand *ops)
{
    return ab_mode_valid(mode) &&
           ZYAN_SUCCESS(ZydisDecoderDecodeOperands(&x->decoder[mode], ctx, insn, ops,
                                                   insn->operand_count));
}

/*
 * mov is decided from its opcode (0f 20-23: control/debug registers,
 * 8c/8e: segment registers) so that the audit's sweep need not decode the
 * operands of every mov, the most common instruction.  A read of %ss is a
 * plain segment read (movseg); only writes of %ss carry the interrupt shadow
 * that makes movss pad before.
 */
static unsigned classify_mov(const struct ab_x86 *x, const ZydisDecodedInstruction *insn)
{
    if (insn->opcode_map == ZYDIS_OPCODE_MAP_0F) {
        if (insn->opcode == 0x20 || insn->opcode == 0x22)
            return x->movcr;
        if (insn->opcode == 0x21 || insn->opcode == 0x23)
            return x->movdr;
        return 0;
    }
    if (insn->opcode_map != ZYDIS_OPCODE_MAP_DEFAULT)
        return 0;
    if (insn->opcode == 0x8c)
        return x->movseg;
    if (insn->opcode == 0x8e)
        return insn->raw.modrm.reg == 2 ? x->movss : x->movseg;   /* reg 2 = %ss */
    return 0;
}

/* push/pop of a segment register: 06/07 es, 0e cs, 16/17 ss, 1e/1f ds, 0f a0/a1 fs, 0f a8/a9 gs. */
static unsigned classify_push_pop(const struct ab_x86 *x, const ZydisDecodedInstruction *insn)
{
    if (insn->opcode_map == ZYDIS_OPCODE_MAP_0F)
        switch (insn->opcode) {
        case 0xa0: case 0xa1: case 0xa8: case 0xa9:
            return x->movseg;
        default:
            return 0;
        }
    if (insn->opcode_map != ZYDIS_OPCODE_MAP_DEFAULT)
        return 0;
    switch (insn->opcode) {
    case 0x17:
        return x->movss;
    case 0x06: case 0x07: case 0x0e: case 0x16: case 0x1e: case 0x1f:
        return x->movseg;
    default:
        return 0;
    }
}

unsigned ab_x86_classify(const struct ab_x86 *x, const ZydisDecodedInstruction *insn)
{
    switch (insn->mnemonic) {
    case ZYDIS_MNEMONIC_MOV:
        return classify_mov(x, insn);
    case ZYDIS_MNEMONIC_PUSH:
    case ZYDIS_MNEMONIC_POP:
        return classify_push_pop(x, insn);
    case ZYDIS_MNEMONIC_JMP:
    case ZYDIS_MNEMONIC_CALL:
    case ZYDIS_MNEMONIC_RET:
        return insn->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR ? x->farjump : 0;
    default:
        return insn->mnemonic <= ZYDIS_MNEMONIC_MAX_VALUE ? x->kind_of_mnemonic[insn->mnemonic]
                                                          : 0;
    }
}

/* lea 0(%reg),%reg as gas pads 16- and 32-bit code.  In 64-bit mode a
 * 32-bit lea clears the upper half of the register, so it is no NOP there. */
static bool lea_is_nop(const ZydisDecodedInstruction *insn, const ZydisDecodedOperand *ops)
{
    if (insn->machine_mode == ZYDIS_MACHINE_MODE_LONG_64 || insn->operand_count < 2)
        return false;
    const ZydisDecodedOperand *dst = &ops[0], *src = &ops[1];
    return dst->type == ZYDIS_OPERAND_TYPE_REGISTER && src->type == ZYDIS_OPERAND_TYPE_MEMORY &&
           src->mem.base == dst->reg.value && src->mem.index == ZYDIS_REGISTER_NONE &&
           src->mem.disp.value == 0 && insn->operand_width == insn->address_width;
}

/* xchg %r,%r; except 32-bit operands in 64-bit mode, which zero-extend. */
static bool xchg_is_nop(const ZydisDecodedInstruction *insn, const ZydisDecodedOperand *ops)
{
    if (insn->operand_count < 2 || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER ||
        ops[1].type != ZYDIS_OPERAND_TYPE_REGISTER || ops[0].reg.value != ops[1].reg.value)
        return false;
    return !(insn->machine_mode == ZYDIS_MACHINE_MODE_LONG_64 && insn->operand_width == 32);
}

bool ab_x86_is_nop(const ZydisDecodedInstruction *insn, const ZydisDecodedOperand *ops)
{
    switch (insn->mnemonic) {
    case ZYDIS_MNEMONIC_NOP:
        return true;
    case ZYDIS_MNEMONIC_LEA:
        return lea_is_nop(insn, ops);
    case ZYDIS_MNEMONIC_XCHG:
        return xchg_is_nop(insn, ops);
    default:
        return false;
    }
}

bool ab_x86_is_direct_jmp(const ZydisDecodedInstruction *insn, const ZydisDecodedOperand *ops,
                          int64_t *rel)
{
    if (insn->mnemonic != ZYDIS_MNEMONIC_JMP || insn->operand_count < 1 ||
        ops[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE || !ops[0].imm.is_relative)
        return false;
    *rel = ops[0].imm.value.s;
    return true;
}

void ab_x86_format(const struct ab_x86 *x, const ZydisDecodedInstruction *insn,
                   const ZydisDecodedOperand *ops, uint64_t runtime_address, char *buf,
                   size_t len)
{
    if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&x->formatter, insn, ops,
                                                      insn->operand_count_visible, buf, len,
                                                      runtime_address, NULL)))
        snprintf(buf, len, "(unformattable %s)", ZydisMnemonicGetString(insn->mnemonic));
}

bool ab_x86_text(const struct ab_x86 *x, unsigned mode, const uint8_t *p, size_t n,
                 uint64_t runtime_address, char *buf, size_t len)
{
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ab_x86_decode(x, mode, p, n, &insn, ops)) {
        snprintf(buf, len, "(bad)");
        return false;
    }
    ab_x86_format(x, &insn, ops, runtime_address, buf, len);
    return true;
}
