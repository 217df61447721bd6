/*
 * Memory-mapped I/O instructions: when a guest access to an emulated
 * device's page faults, the VAM decodes the instruction at the guest's rip
 * with vam_decode_mmio, takes the value a store puts on the bus
 * (vam_mmio_store_value), lets the device do the access, writes a load's
 * result into the guest's register (vam_mmio_load_result) and steps rip
 * past the instruction; vam_mmio_execute does those steps with a device
 * callback.
 *
 * The instruction set is what Linux's readb/readw/readl/readq, writeb ...
 * writeq, ioread8 ... iowrite32 and __raw_* compile to: plain mov between a
 * general register or an immediate and memory, with any ModRM/SIB
 * addressing, 64-bit mode only:
 *
 *   88 /r, 89 /r          store register (8-bit; 16 with 66, 32, 64 with REX.W)
 *   8a /r, 8b /r          load register
 *   c6 /0 ib, c7 /0 iw/id store immediate (c7 with REX.W sign-extends imm32)
 *   0f b6 /r, 0f b7 /r    movzx: 8/16-bit load zero-extended to 16, 32 or 64 bits
 *   0f be /r, 0f bf /r    movsx: the same, sign-extended
 *   REX.W 63 /r           movsxd: 32-bit load sign-extended to 64 bits
 *
 * Prefixes as in decode.c (decode.h): 66, 67, REX only directly before the
 * opcode, REX.W beats 66, ES/CS/SS/DS overrides are null prefixes and the
 * last FS/GS override applies.  Not MMIO here, i.e. VAM_DEC_NOT_SENSITIVE:
 * ModRM.mod 3 (register operands touch no memory), LOCK (invalid on mov),
 * F2/F3 (XACQUIRE/XRELEASE on a store, nothing Linux emits for MMIO), 63
 * without REX.W (a plain 32-bit mov; compilers never emit it), c6/c7 with a
 * ModRM.reg other than 0, and the moffs forms a0-a3: their 64-bit absolute
 * address does not fit struct vam_mem's disp32, and a compiler only emits
 * them for a constant address, which an ioremap()ed one never is.  String
 * and read-modify-write instructions (movs, or, and, xchg, ...) are not
 * decoded either: drivers do not use them on MMIO.
 *
 * Byte registers: without a REX prefix, register numbers 4-7 of an 8-bit
 * operand are ah, ch, dh, bh (bits 15:8 of rax, rcx, rdx, rbx): the decoder
 * reports them as reg 0-3 with high_byte set.  With any REX they are spl,
 * bpl, sil, dil (reg 4-7, high_byte clear).
 *
 * Freestanding C like the rest of vam/; the effective address (which needs
 * the vCPU's FS/GS bases) is vam_mmio_ea in vam/emul (emul.h).
 */
#ifndef VAM_MMIO_H
#define VAM_MMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vam/decode.h>
#include <vam/regs.h>

enum vam_mmio_op {
    VAM_MMIO_LOAD,          /* mov mem, reg: size == dest_size */
    VAM_MMIO_LOAD_ZX,       /* movzx: size 1 or 2, dest_size 2, 4 or 8 */
    VAM_MMIO_LOAD_SX,       /* movsx, movsxd: size 1, 2 or 4, dest_size 2, 4 or 8 */
    VAM_MMIO_STORE_REG,     /* mov reg, mem */
    VAM_MMIO_STORE_IMM,     /* mov $imm, mem */
};

struct vam_mmio_insn {
    struct vam_mem mem;     /* as in decode.h (base, index, scale, disp, effective segment) */
    uint64_t imm;           /* STORE_IMM: the value stored, sign-extended to size (and no wider) */
    uint8_t op;             /* enum vam_mmio_op */
    uint8_t len;            /* bytes, prefixes included */
    uint8_t size;           /* bytes moved on the bus: 1, 2, 4, 8 */
    uint8_t dest_size;      /* loads: width of the register written (movzx/movsx: wider
                             * than size); stores: 0 */
    uint8_t reg;            /* register operand 0-15 (rax = 0 ... r15 = 15); with high_byte
                             * 0-3 (ah = 0 ... bh = 3); VAM_REG_NONE for STORE_IMM */
    uint8_t high_byte;      /* reg names ah/ch/dh/bh: bits 15:8 of reg (8-bit, no REX) */
    uint8_t addrsize;       /* 8, or 4 with the 67 prefix */
    uint8_t flags;          /* VAM_INSN_SEGOVR: an FS/GS override applies */
};

/* Decodes one instruction at p (n bytes available).  VAM_DEC_OK (*out
 * written), VAM_DEC_TRUNCATED if the bytes end inside what would be one of
 * the forms above, VAM_DEC_NOT_SENSITIVE for anything else (including an
 * instruction longer than 15 bytes). */
enum vam_decode_result vam_decode_mmio(const uint8_t *p, size_t n, struct vam_mmio_insn *out);

static inline bool vam_mmio_is_store(const struct vam_mmio_insn *i)
{
    return i->op == VAM_MMIO_STORE_REG || i->op == VAM_MMIO_STORE_IMM;
}

/* The value a store puts on the bus: its low `size` bytes, zero above
 * (register bits 15:8 for ah..bh).  0 for a load. */
uint64_t vam_mmio_store_value(const struct vam_mmio_insn *i, const struct vam_regs *r);

/* Writes a load's bus value (its low `size` bytes count) into the
 * destination register as the processor does: a 32-bit destination zeroes
 * bits 63:32, 8- and 16-bit ones keep the other bits, movzx/movsx extend to
 * dest_size first, ah..bh hit bits 15:8.  Nothing for a store. */
void vam_mmio_load_result(const struct vam_mmio_insn *i, struct vam_regs *r, uint64_t value);

/* A device access of `size` bytes at addr: a store passes the value in
 * *value (low `size` bytes), a load sets it.  false: the device did not take
 * the access, having changed nothing. */
typedef bool vam_mmio_access_fn(void *opaque, uint64_t addr, unsigned size, bool is_write,
                                uint64_t *value);

/* Carries out i at device address addr (resolved by the caller from the
 * fault, see vam_mmio_ea): the access through `access`, a load's
 * result into its register, rip past the instruction.  false if the device
 * refused: then the registers are as they were. */
bool vam_mmio_execute(const struct vam_mmio_insn *i, struct vam_regs *r, uint64_t addr,
                      vam_mmio_access_fn *access, void *opaque);

/* AT&T text for messages: "movl %eax, 0x10(%rbx)", "movzbl (%rdi), %eax",
 * "movb $0x1, %gs:0x8(%rax)", "movb %ah, (%rcx)".  Returns the length the
 * full text has (as snprintf); buf is always terminated when size > 0. */
int vam_mmio_format(const struct vam_mmio_insn *i, char *buf, size_t size);

#endif
