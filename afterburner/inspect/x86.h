/*
 * x86 decoding for afterburn-inspect: Zydis decoders for the three code
 * modes of enum ab_mode, the classifier from a decoded instruction to a kind
 * of sensitive.def, and the "is this padding" predicate.
 */
#ifndef AB_INSPECT_X86_H
#define AB_INSPECT_X86_H

#include <Zydis/Zydis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ab_x86 {
    ZydisDecoder decoder[3];        /* indexed by enum ab_mode */
    ZydisFormatter formatter;
    uint8_t kind_of_mnemonic[ZYDIS_MNEMONIC_MAX_VALUE + 1];
    /* Kinds that need more than the mnemonic to recognise. */
    uint8_t movcr, movdr, movseg, movss, farjump;
};

/* Fails (with a reason) only if the classifier misses a kind of sensitive.def. */
bool ab_x86_init(struct ab_x86 *x, char *why, size_t whylen);

/* True for AB_MODE_64/32/16. */
bool ab_mode_valid(unsigned mode);
/* 64, 32 or 16. */
unsigned ab_mode_bits(unsigned mode);

/* Decodes one instruction with its operands; false if the bytes do not decode. */
bool ab_x86_decode(const struct ab_x86 *x, unsigned mode, const uint8_t *p, size_t n,
                   ZydisDecodedInstruction *insn, ZydisDecodedOperand *ops);
/* Decodes without operands (enough for ab_x86_classify); ctx allows
 * decoding the operands later with ab_x86_decode_operands. */
bool ab_x86_decode_fast(const struct ab_x86 *x, unsigned mode, const uint8_t *p, size_t n,
                        ZydisDecoderContext *ctx, ZydisDecodedInstruction *insn);
bool ab_x86_decode_operands(const struct ab_x86 *x, unsigned mode,
                            const ZydisDecoderContext *ctx,
                            const ZydisDecodedInstruction *insn, ZydisDecodedOperand *ops);

/* Kind id of sensitive.def (class NONE included), or 0 for any other instruction. */
unsigned ab_x86_classify(const struct ab_x86 *x, const ZydisDecodedInstruction *insn);

/* An instruction with no effect, of the forms assemblers emit as padding. */
bool ab_x86_is_nop(const ZydisDecodedInstruction *insn, const ZydisDecodedOperand *ops);
/* A direct jmp; *rel is its displacement from the end of the jmp. */
bool ab_x86_is_direct_jmp(const ZydisDecodedInstruction *insn, const ZydisDecodedOperand *ops,
                          int64_t *rel);

/* AT&T text; runtime_address is ZYDIS_RUNTIME_ADDRESS_NONE when unknown. */
void ab_x86_format(const struct ab_x86 *x, const ZydisDecodedInstruction *insn,
                   const ZydisDecodedOperand *ops, uint64_t runtime_address, char *buf,
                   size_t len);
/* Decode and format in one step; false (and "(bad)") if the bytes do not decode. */
bool ab_x86_text(const struct ab_x86 *x, unsigned mode, const uint8_t *p, size_t n,
                 uint64_t runtime_address, char *buf, size_t len);

#endif
