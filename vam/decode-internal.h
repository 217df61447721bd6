/*
 * What vam/decode.c shares with the other decoders of the front end
 * (vam/mmio.c): the byte cursor with the legacy prefixes and REX, ModRM and
 * its memory operand (SIB, displacement, RIP-relative, the effective
 * segment), and the pieces of AT&T text.  One implementation, so that every
 * decoder of the VAM treats prefixes and addressing forms the same way and
 * the differential tests against Zydis cover them all.
 */
#ifndef VAM_DECODE_INTERNAL_H
#define VAM_DECODE_INTERNAL_H

#include <vam/decode.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VAM_MAX_INSN_LEN 15

/* An instruction being decoded: the bytes, its prefixes, its ModRM. */
struct vam_dec {
    const uint8_t *p;
    size_t n;           /* bytes available */
    size_t i;           /* next byte */
    bool truncated;     /* tried to read past n (within the 15-byte limit) */
    /* prefixes */
    bool opsz;          /* 66 */
    bool adsz;          /* 67 */
    bool lock;          /* f0 */
    uint8_t rep;        /* last of f2/f3, or 0 */
    uint8_t seg;        /* FS or GS from the last of 64/65, or VAM_SREG_NONE */
    uint8_t rex;        /* REX directly before the opcode, or 0 */
    /* ModRM */
    uint8_t mod, reg, rm;
};

/* Starts decoding p (n bytes): reads the legacy prefixes and REX, leaving
 * the cursor on the opcode. */
void vam_dec_start(struct vam_dec *c, const uint8_t *p, size_t n);

/* The next byte; false past n (c->truncated set) or past 15 bytes (not). */
bool vam_dec_next(struct vam_dec *c, uint8_t *b);

/* Reads ModRM into c->mod, c->reg, c->rm (REX not applied). */
bool vam_dec_modrm(struct vam_dec *c);

/* The memory operand of ModRM with mod != 3: SIB, displacement, RIP-relative,
 * the effective segment (an FS/GS override, else SS for an rsp/rbp base, else
 * DS).  An FS/GS override is c->seg != VAM_SREG_NONE.  False if the bytes end. */
bool vam_dec_mem(struct vam_dec *c, struct vam_mem *m);

static inline bool vam_dec_rex_w(const struct vam_dec *c) { return c->rex & 8; }
static inline unsigned vam_dec_rex_r(const struct vam_dec *c) { return c->rex & 4 ? 8 : 0; }
static inline unsigned vam_dec_rex_x(const struct vam_dec *c) { return c->rex & 2 ? 8 : 0; }
static inline unsigned vam_dec_rex_b(const struct vam_dec *c) { return c->rex & 1 ? 8 : 0; }

/* Operand size of instructions whose default is 32 bits: 8 with REX.W,
 * else 2 with 66, else 4. */
static inline uint8_t vam_dec_osize32(const struct vam_dec *c)
{
    return vam_dec_rex_w(c) ? 8 : c->opsz ? 2 : 4;
}

/* ---- text -------------------------------------------------------------------- */

/* A small appender over a fixed buffer; len counts what did not fit too. */
struct vam_text {
    char *buf;
    size_t size, len;
};

void vam_text_add(struct vam_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "rax", "r8d", "sp", "sil", "r15b", "rip"/"eip" (VAM_REG_RIP); size 1, 2, 4, 8. */
const char *vam_gpr_name(unsigned reg, unsigned size);

/* AT&T memory operand: "%gs:0x10(%rax,%rbx,4)" (segment with VAM_INSN_SEGOVR in
 * flags; register names of addrsize). */
void vam_text_mem(struct vam_text *t, const struct vam_mem *m, unsigned flags,
                  unsigned addrsize);

/* 'b', 'w', 'l', 'q' */
char vam_size_suffix(unsigned size);

#endif
