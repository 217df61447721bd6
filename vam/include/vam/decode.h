/*
 * The VAM's own x86-64 decoder, for exactly the sensitive instructions of
 * include/afterburn/sensitive.def (every kind whose class is not NONE) in
 * the encodings the processor accepts in 64-bit mode.  It decodes a site's
 * instruction into its intent: which operation, operand size, registers,
 * memory operand, immediate, direction, control/debug/segment register.
 * Anything else, including a truncated or over-long instruction, is "not
 * sensitive".  Sites in 16- and 32-bit code are reported as
 * VAM_DEC_OTHER_MODE: a VAM enters the kernel in 64-bit mode and never
 * runs them, so they are not rewritten.
 *
 * Register numbers are the hardware numbers including REX extension
 * (0 = rax ... 15 = r15).  Acceptance follows the processor (and Zydis,
 * against which tests/vam checks it): LOCK is never valid here, a REX prefix
 * counts only directly before the opcode, the last of F2/F3 decides
 * mandatory-prefix forms (F3 0F 09 wbnoinvd, F3 0F AE rd/wr fs/gs base),
 * 66/F2/F3 make 0F 01 C8-CB and D1 invalid, invpcid needs 66 and no F2/F3,
 * mov to/from CR accepts CR0, 2, 3, 4, 8 and ignores ModRM.mod, mov DR
 * accepts DR0-7, ES/CS/SS/DS overrides are null prefixes (the last FS/GS
 * override applies), REX.W beats 66 and makes port I/O 32-bit, and SIB base
 * 101 with mod 00 means "no base, disp32" whatever REX.B says.
 */
#ifndef VAM_DECODE_H
#define VAM_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VAM_REG_NONE    0xff
#define VAM_REG_RIP     0x10    /* mem.base of a RIP-relative operand (EIP with 67) */

enum vam_sreg {
    VAM_SREG_ES = 0, VAM_SREG_CS = 1, VAM_SREG_SS = 2,
    VAM_SREG_DS = 3, VAM_SREG_FS = 4, VAM_SREG_GS = 5,
    VAM_SREG_NONE = 0xff,
};

/* The operation within a kind: sensitive.def groups several instructions
 * under one kind (loaddt: lgdt, lidt, lldt, ltr). */
enum vam_op {
    VAM_OP_NONE = 0,
    VAM_OP_CLI, VAM_OP_STI, VAM_OP_PUSHF, VAM_OP_POPF,
    VAM_OP_HLT, VAM_OP_IRET, VAM_OP_SYSRET, VAM_OP_SYSEXIT, VAM_OP_SWAPGS,
    VAM_OP_LJMP, VAM_OP_LCALL, VAM_OP_LRET,
    VAM_OP_MOV_FROM_CR, VAM_OP_MOV_TO_CR, VAM_OP_MOV_FROM_DR, VAM_OP_MOV_TO_DR,
    VAM_OP_CLTS, VAM_OP_LMSW, VAM_OP_SMSW,
    VAM_OP_LGDT, VAM_OP_LIDT, VAM_OP_LLDT, VAM_OP_LTR,
    VAM_OP_SGDT, VAM_OP_SIDT, VAM_OP_SLDT, VAM_OP_STR,
    VAM_OP_MOV_FROM_SEG, VAM_OP_MOV_TO_SEG, VAM_OP_PUSH_SEG, VAM_OP_POP_SEG,
    VAM_OP_LAR, VAM_OP_LSL, VAM_OP_VERR, VAM_OP_VERW,
    VAM_OP_INVLPG, VAM_OP_INVPCID, VAM_OP_INVD, VAM_OP_WBINVD, VAM_OP_WBNOINVD,
    VAM_OP_RDMSR, VAM_OP_WRMSR, VAM_OP_RDPMC, VAM_OP_CPUID, VAM_OP_XSETBV,
    VAM_OP_IN, VAM_OP_OUT, VAM_OP_INS, VAM_OP_OUTS, VAM_OP_INT,
    VAM_OP_MONITOR, VAM_OP_MWAIT, VAM_OP_STAC, VAM_OP_CLAC,
    VAM_OP_RDFSBASE, VAM_OP_RDGSBASE, VAM_OP_WRFSBASE, VAM_OP_WRGSBASE,
    VAM_OP_COUNT
};

/* Which way data flows between the guest's registers/memory and the
 * virtualised resource (CR, DR, segment, port, MSR, descriptor table ...). */
enum vam_dir {
    VAM_DIR_NONE = 0,
    VAM_DIR_READ = 1,       /* resource -> register or memory (mov from CR, in, sgdt, push %fs) */
    VAM_DIR_WRITE = 2,      /* register or memory -> resource (mov to CR, out, lgdt, pop %fs) */
};

/* vam_insn.flags */
#define VAM_INSN_MEM        0x01    /* mem describes an explicit memory operand */
#define VAM_INSN_STRING     0x02    /* ins/outs: mem describes the implicit string operand */
#define VAM_INSN_IMM        0x04    /* imm holds an immediate (port, vector, lret count) */
#define VAM_INSN_PORT_DX    0x08    /* in/out/ins/outs: the port is %dx */
#define VAM_INSN_REP        0x10    /* ins/outs with F3 (rep) as the last F2/F3 prefix */
#define VAM_INSN_REPNE      0x20    /* ins/outs with F2 last: repeats like rep */
#define VAM_INSN_SEGOVR     0x40    /* an FS/GS segment override applies to the memory operand */

struct vam_mem {
    int32_t disp;
    uint8_t base;       /* 0-15, VAM_REG_RIP or VAM_REG_NONE */
    uint8_t index;      /* 0-15 or VAM_REG_NONE */
    uint8_t scale;      /* 1, 2, 4, 8; 0 without index */
    uint8_t seg;        /* effective segment: FS/GS override, else SS for rsp/rbp base, else DS
                         * (ins: ES) */
};

struct vam_insn {
    struct vam_mem mem;
    uint16_t imm;
    uint8_t kind;       /* enum ab_kind id */
    uint8_t op;         /* enum vam_op */
    uint8_t len;        /* bytes, prefixes included */
    uint8_t opsize;     /* operand size in bytes (see below); 0 if the instruction has none */
    uint8_t addrsize;   /* 8, or 4 with the 67 prefix */
    uint8_t dir;        /* enum vam_dir */
    uint8_t reg;        /* general register operand, or VAM_REG_NONE */
    uint8_t reg2;       /* lar/lsl register source, or VAM_REG_NONE */
    uint8_t sysreg;     /* CR/DR number or enum vam_sreg; VAM_REG_NONE if none */
    uint8_t flags;      /* VAM_INSN_* */
};

/*
 * opsize by operation: pushf/popf/push seg/pop seg 2 or 8; iret, lret,
 * ljmp, lcall 2, 4 or 8 (the offset size); sysret, sysexit 4 or 8; mov CR/DR
 * 8; smsw, sldt, str, mov from seg: 2, 4 or 8 to a register, 2 to memory;
 * lmsw, lldt, ltr, verr, verw, mov to seg 2; lgdt/lidt/sgdt/sidt 8 (the
 * 10-byte pseudo-descriptor); lar/lsl the destination, 2, 4 or 8; invpcid 8;
 * in/out/ins/outs 1, 2 or 4; rd/wr fs/gs base 4 or 8; others 0.
 */

enum vam_decode_result {
    VAM_DEC_OK = 0,
    VAM_DEC_NOT_SENSITIVE,  /* valid or not, it is no instruction of the sensitive set */
    VAM_DEC_TRUNCATED,      /* the bytes end inside what would be a sensitive instruction */
    VAM_DEC_OTHER_MODE,     /* 16/32-bit code (enum ab_mode): not rewritable, skip */
};

/* Decodes one instruction at p (n bytes available) in code mode `mode`
 * (enum ab_mode).  *out is written only on VAM_DEC_OK. */
enum vam_decode_result vam_decode(const uint8_t *p, size_t n, unsigned mode,
                                  struct vam_insn *out);

/* Length of the NOP at p (90, 66 90, 0f 1f /0 with any addressing form,
 * with 66 and 2e prefixes as assemblers emit them), or 0 if p does not
 * start with one within n bytes. */
unsigned vam_nop_len(const uint8_t *p, size_t n);

/* True if [p, p+n) is NOPs exactly; otherwise *bad is the offset of the
 * first byte that does not start a NOP (or starts one running past n). */
bool vam_is_nops(const uint8_t *p, size_t n, size_t *bad);

const char *vam_op_name(unsigned op);      /* "mov-to-cr", "lgdt", ... */
const char *vam_sreg_name(unsigned sreg);  /* "es" ... "gs" */

/* AT&T-style text of a decoded instruction ("mov %rax, %cr3",
 * "rep outsb", "lgdt 0x10(%rip)"), for messages and listings. */
int vam_insn_format(const struct vam_insn *i, char *buf, size_t size);

#endif
