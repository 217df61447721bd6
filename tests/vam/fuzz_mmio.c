/*
 * libFuzzer target for the VAM's MMIO decoder (vam_decode_mmio), built with
 * clang from the same sources as vam_host.  ASan checks that no input is
 * read past its end; on every input:
 *
 *  - an accepted instruction fits the input and 15 bytes, and its fields
 *    are in range (op, sizes for the op, register, high byte only for
 *    8-bit registers 0-3, memory operand, address size, flags, immediate
 *    no wider than its size);
 *  - decoding is a function of the instruction's bytes alone: the same
 *    result from the instruction cut out of the input and followed by
 *    other bytes, and "truncated" for every shorter prefix of it;
 *  - the text is non-empty, fits 96 bytes and is cut cleanly in a short
 *    buffer;
 *  - the sensitive decoder never accepts the same bytes (the sets are
 *    disjoint), and never reads past the end either.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <afterburn/abi.h>
#include <vam/mmio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                     \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "fuzz_mmio: %s (line %d)\n", #cond, __LINE__);                \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

static bool fields_valid(const struct vam_mmio_insn *i)
{
    bool size_ok = i->size == 1 || i->size == 2 || i->size == 4 || i->size == 8;
    switch (i->op) {
    case VAM_MMIO_LOAD:
        size_ok = size_ok && i->dest_size == i->size && i->reg < 16;
        break;
    case VAM_MMIO_LOAD_ZX:
    case VAM_MMIO_LOAD_SX:
        size_ok = size_ok && i->size <= i->dest_size && i->dest_size >= 2 && i->dest_size <= 8 &&
                  i->size <= 4 && i->reg < 16 && !i->high_byte;
        break;
    case VAM_MMIO_STORE_REG:
        size_ok = size_ok && i->dest_size == 0 && i->reg < 16;
        break;
    case VAM_MMIO_STORE_IMM:
        size_ok = size_ok && i->dest_size == 0 && i->reg == VAM_REG_NONE && !i->high_byte &&
                  (i->size == 8 || i->imm >> (8 * i->size) == 0);
        break;
    default:
        return false;
    }
    if (i->high_byte && (i->size != 1 || i->reg > 3))
        return false;
    const struct vam_mem *m = &i->mem;
    bool base_ok = m->base < 16 || m->base == VAM_REG_RIP || m->base == VAM_REG_NONE;
    bool index_ok = m->index == VAM_REG_NONE ? m->scale == 0
                                             : m->index < 16 && m->index != 4 &&
                                                   (m->scale == 1 || m->scale == 2 ||
                                                    m->scale == 4 || m->scale == 8);
    bool seg_ok = (i->flags & VAM_INSN_SEGOVR) ? m->seg == VAM_SREG_FS || m->seg == VAM_SREG_GS
                                               : m->seg == VAM_SREG_DS || m->seg == VAM_SREG_SS;
    return size_ok && base_ok && index_ok && seg_ok && (i->flags & ~VAM_INSN_SEGOVR) == 0 &&
           (i->addrsize == 4 || i->addrsize == 8) && i->len >= 2 && i->len <= 15;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vam_mmio_insn insn, again;
    struct vam_insn sensitive;
    enum vam_decode_result r = vam_decode_mmio(data, size, &insn);
    enum vam_decode_result rs = vam_decode(data, size, AB_MODE_64, &sensitive);
    REQUIRE(r == VAM_DEC_OK || r == VAM_DEC_TRUNCATED || r == VAM_DEC_NOT_SENSITIVE);
    REQUIRE(!(r == VAM_DEC_OK && rs == VAM_DEC_OK));
    if (r != VAM_DEC_OK)
        return 0;
    REQUIRE(insn.len <= size);
    REQUIRE(fields_valid(&insn));

    /* the instruction alone, exactly sized, then followed by other bytes */
    uint8_t *exact = malloc(insn.len);
    memcpy(exact, data, insn.len);
    REQUIRE(vam_decode_mmio(exact, insn.len, &again) == VAM_DEC_OK);
    REQUIRE(!memcmp(&again, &insn, sizeof insn));
    for (size_t cut = 0; cut < insn.len; cut++)
        REQUIRE(vam_decode_mmio(exact, cut, &again) == VAM_DEC_TRUNCATED);
    free(exact);
    uint8_t longer[32];
    memcpy(longer, data, insn.len);
    memset(longer + insn.len, 0x66, sizeof longer - insn.len);
    REQUIRE(vam_decode_mmio(longer, sizeof longer, &again) == VAM_DEC_OK);
    REQUIRE(!memcmp(&again, &insn, sizeof insn));

    char text[96], small[8];
    int tl = vam_mmio_format(&insn, text, sizeof text);
    REQUIRE(tl > 0 && (size_t)tl < sizeof text && strlen(text) == (size_t)tl);
    REQUIRE(vam_mmio_format(&insn, small, sizeof small) == tl);
    REQUIRE(strlen(small) == sizeof small - 1 && !memcmp(small, text, sizeof small - 1));
    return 0;
}
