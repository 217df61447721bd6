/*
 * The MMIO instruction decoder and executor (vam/mmio.c) on hand-picked
 * encodings:
 *
 *  1. a table of instructions, each decoded alone and followed by other
 *     bytes: result, every field of struct vam_mmio_insn, the text; every
 *     shorter prefix of an accepted encoding must be "truncated" (read in an
 *     exact-size buffer, so ASan catches a read past the end);
 *  2. rejections: register operands, LOCK, F2/F3, other opcodes, moffs,
 *     over-long instructions;
 *  3. vam_mmio_store_value and vam_mmio_load_result on register files: every
 *     register number, zero-extension of 32-bit results, merging of 8/16-bit
 *     ones, ah..bh, movzx/movsx/movsxd extension;
 *  4. vam_mmio_execute against a fake device.
 */
#include "testutil.h"

#include <vam/mmio.h>

#include <string.h>

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
#define NONE VAM_REG_NONE
#define RIP VAM_REG_RIP
#define DS VAM_SREG_DS
#define SS VAM_SREG_SS
#define FS VAM_SREG_FS
#define GS VAM_SREG_GS
#define OVR VAM_INSN_SEGOVR

#define B(...) sizeof((uint8_t[]){ __VA_ARGS__ }), { __VA_ARGS__ }

/* The expected instruction (hb: high byte, as: address size, fl: flags); len is the
 * row's byte count. */
#define M(base, index, scale, disp, seg) { (int32_t)(disp), base, index, scale, seg }
#define LOAD(size, reg, hb, as, fl, mem) { mem, 0, VAM_MMIO_LOAD, 0, size, size, reg, hb, as, fl }
#define EXT(op, size, dest, reg, as, fl, mem) { mem, 0, op, 0, size, dest, reg, 0, as, fl }
#define STORE(size, reg, hb, as, fl, mem)                                                     \
    { mem, 0, VAM_MMIO_STORE_REG, 0, size, 0, reg, hb, as, fl }
#define IMM(size, imm, as, fl, mem) { mem, imm, VAM_MMIO_STORE_IMM, 0, size, 0, NONE, 0, as, fl }
#define ZX VAM_MMIO_LOAD_ZX
#define SX VAM_MMIO_LOAD_SX

struct row {
    int line;
    const char *text;           /* vam_mmio_format's text */
    uint8_t n;
    uint8_t b[15];
    struct vam_mmio_insn want;
};

static const struct row rows[] = {
    /* loads and stores of every size */
    { __LINE__, "movl (%rbx), %eax", B(0x8b, 0x03), LOAD(4, RAX, 0, 8, 0, M(RBX, NONE, 0, 0, DS)) },
    { __LINE__, "movl 0x10(%rbx), %eax", B(0x8b, 0x43, 0x10),
      LOAD(4, RAX, 0, 8, 0, M(RBX, NONE, 0, 0x10, DS)) },
    { __LINE__, "movl %eax, 0x10(%rbx)", B(0x89, 0x43, 0x10),
      STORE(4, RAX, 0, 8, 0, M(RBX, NONE, 0, 0x10, DS)) },
    { __LINE__, "movq 0x100(%rdi), %rax", B(0x48, 0x8b, 0x87, 0x00, 0x01, 0x00, 0x00),
      LOAD(8, RAX, 0, 8, 0, M(RDI, NONE, 0, 0x100, DS)) },
    { __LINE__, "movq %rsi, -0x8(%rdi)", B(0x48, 0x89, 0xb7, 0xf8, 0xff, 0xff, 0xff),
      STORE(8, RSI, 0, 8, 0, M(RDI, NONE, 0, -8, DS)) },
    { __LINE__, "movw (%rdi), %ax", B(0x66, 0x8b, 0x07),
      LOAD(2, RAX, 0, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movw %cx, 0x2(%rdi)", B(0x66, 0x89, 0x4f, 0x02),
      STORE(2, RCX, 0, 8, 0, M(RDI, NONE, 0, 2, DS)) },
    { __LINE__, "movb (%rdi), %al", B(0x8a, 0x07), LOAD(1, RAX, 0, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movb %cl, (%rdi)", B(0x88, 0x0f), STORE(1, RCX, 0, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movq %r15, (%r14)", B(0x4d, 0x89, 0x3e),
      STORE(8, R15, 0, 8, 0, M(R14, NONE, 0, 0, DS)) },
    { __LINE__, "movl 0x4(%r11), %r10d", B(0x45, 0x8b, 0x53, 0x04),
      LOAD(4, R10, 0, 8, 0, M(R11, NONE, 0, 4, DS)) },

    /* byte registers: ah..bh without REX, spl..dil and r8b.. with it */
    { __LINE__, "movb (%rdi), %ah", B(0x8a, 0x27), LOAD(1, RAX, 1, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movb %ch, (%rsi)", B(0x88, 0x2e), STORE(1, RCX, 1, 8, 0, M(RSI, NONE, 0, 0, DS)) },
    { __LINE__, "movb %dh, 0x1(%rsi)", B(0x88, 0x76, 0x01),
      STORE(1, RDX, 1, 8, 0, M(RSI, NONE, 0, 1, DS)) },
    { __LINE__, "movb %bh, (%rsi)", B(0x88, 0x3e), STORE(1, RBX, 1, 8, 0, M(RSI, NONE, 0, 0, DS)) },
    { __LINE__, "movb (%rdi), %spl", B(0x40, 0x8a, 0x27),
      LOAD(1, RSP, 0, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movb %dil, (%rsi)", B(0x40, 0x88, 0x3e),
      STORE(1, RDI, 0, 8, 0, M(RSI, NONE, 0, 0, DS)) },
    { __LINE__, "movb %bpl, (%r14)", B(0x41, 0x88, 0x2e),
      STORE(1, RBP, 0, 8, 0, M(R14, NONE, 0, 0, DS)) },
    { __LINE__, "movb (%rdi), %r8b", B(0x44, 0x8a, 0x07),
      LOAD(1, R8, 0, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movb %r9b, (%r13)", B(0x45, 0x88, 0x4d, 0x00),
      STORE(1, R9, 0, 8, 0, M(R13, NONE, 0, 0, DS)) },
    { __LINE__, "movb %spl, (%rdi)", B(0x48, 0x88, 0x27),      /* REX.W: still a byte */
      STORE(1, RSP, 0, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movb %al, (%rdi)", B(0x66, 0x88, 0x07),       /* 66 ignored */
      STORE(1, RAX, 0, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movb (%rdi), %ah", B(0x40, 0x66, 0x8a, 0x27), /* REX voided by 66 */
      LOAD(1, RAX, 1, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movw (%rdi), %ax", B(0x48, 0x66, 0x8b, 0x07), /* REX.W voided */
      LOAD(2, RAX, 0, 8, 0, M(RDI, NONE, 0, 0, DS)) },

    /* addressing forms */
    { __LINE__, "movq (%rsp), %r12", B(0x4c, 0x8b, 0x24, 0x24),
      LOAD(8, R12, 0, 8, 0, M(RSP, NONE, 0, 0, SS)) },
    { __LINE__, "movl 0x8(%rbp), %eax", B(0x8b, 0x45, 0x08),
      LOAD(4, RAX, 0, 8, 0, M(RBP, NONE, 0, 8, SS)) },
    { __LINE__, "movl 0x100(%r12), %eax", B(0x41, 0x8b, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00),
      LOAD(4, RAX, 0, 8, 0, M(R12, NONE, 0, 0x100, DS)) },
    { __LINE__, "movl 0x12345678(%rip), %eax", B(0x8b, 0x05, 0x78, 0x56, 0x34, 0x12),
      LOAD(4, RAX, 0, 8, 0, M(RIP, NONE, 0, 0x12345678, DS)) },
    { __LINE__, "movl -0x10(%eip), %eax", B(0x67, 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff),
      LOAD(4, RAX, 0, 4, 0, M(RIP, NONE, 0, -16, DS)) },
    { __LINE__, "movl 0x1000, %eax", B(0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00),
      LOAD(4, RAX, 0, 8, 0, M(NONE, NONE, 0, 0x1000, DS)) },
    { __LINE__, "movl 0x2000, %eax", B(0x41, 0x8b, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00),
      LOAD(4, RAX, 0, 8, 0, M(NONE, NONE, 0, 0x2000, DS)) },     /* REX.B ignored */
    { __LINE__, "movl 0x10(,%rcx,4), %eax", B(0x8b, 0x04, 0x8d, 0x10, 0x00, 0x00, 0x00),
      LOAD(4, RAX, 0, 8, 0, M(NONE, RCX, 4, 0x10, DS)) },
    { __LINE__, "movl -0x80(,%rbp,8), %edx", B(0x8b, 0x14, 0xed, 0x80, 0xff, 0xff, 0xff),
      LOAD(4, RDX, 0, 8, 0, M(NONE, RBP, 8, -128, DS)) },
    { __LINE__, "movl (%rax,%r12,4), %eax", B(0x42, 0x8b, 0x04, 0xa0),
      LOAD(4, RAX, 0, 8, 0, M(RAX, R12, 4, 0, DS)) },
    { __LINE__, "movl (%rax), %eax", B(0x8b, 0x04, 0x20),       /* SIB index 100: none */
      LOAD(4, RAX, 0, 8, 0, M(RAX, NONE, 0, 0, DS)) },
    { __LINE__, "movl (%rax,%r12,1), %eax", B(0x42, 0x8b, 0x04, 0x20),
      LOAD(4, RAX, 0, 8, 0, M(RAX, R12, 1, 0, DS)) },
    { __LINE__, "movl -0x1(%r13,%r15,2), %r9d", B(0x47, 0x8b, 0x4c, 0x7d, 0xff),
      LOAD(4, R9, 0, 8, 0, M(R13, R15, 2, -1, DS)) },
    { __LINE__, "movl (%ebx), %eax", B(0x67, 0x8b, 0x03),
      LOAD(4, RAX, 0, 4, 0, M(RBX, NONE, 0, 0, DS)) },
    { __LINE__, "movl (%ebp,%ecx,4), %r8d", B(0x67, 0x44, 0x8b, 0x44, 0x8d, 0x00),
      LOAD(4, R8, 0, 4, 0, M(RBP, RCX, 4, 0, SS)) },

    /* segment overrides */
    { __LINE__, "movl %fs:(%rax), %eax", B(0x64, 0x8b, 0x00),
      LOAD(4, RAX, 0, 8, OVR, M(RAX, NONE, 0, 0, FS)) },
    { __LINE__, "movq %gs:0x28, %rax", B(0x65, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00),
      LOAD(8, RAX, 0, 8, OVR, M(NONE, NONE, 0, 0x28, GS)) },
    { __LINE__, "movl %gs:(%rsp), %eax", B(0x65, 0x8b, 0x04, 0x24),
      LOAD(4, RAX, 0, 8, OVR, M(RSP, NONE, 0, 0, GS)) },
    { __LINE__, "movl (%rax), %eax", B(0x3e, 0x8b, 0x00),        /* ds: null prefix */
      LOAD(4, RAX, 0, 8, 0, M(RAX, NONE, 0, 0, DS)) },
    { __LINE__, "movl 0x8(%rsp), %eax", B(0x2e, 0x8b, 0x44, 0x24, 0x08),
      LOAD(4, RAX, 0, 8, 0, M(RSP, NONE, 0, 8, SS)) },
    { __LINE__, "movl %gs:(%rax), %eax", B(0x64, 0x65, 0x8b, 0x00),  /* the last one */
      LOAD(4, RAX, 0, 8, OVR, M(RAX, NONE, 0, 0, GS)) },
    { __LINE__, "movl %fs:(%rax), %eax", B(0x64, 0x3e, 0x8b, 0x00),  /* ds does not undo it */
      LOAD(4, RAX, 0, 8, OVR, M(RAX, NONE, 0, 0, FS)) },

    /* immediates */
    { __LINE__, "movb $0x1, (%rdi)", B(0xc6, 0x07, 0x01), IMM(1, 1, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movb $0xff, 0x4(%rdi)", B(0xc6, 0x47, 0x04, 0xff),
      IMM(1, 0xff, 8, 0, M(RDI, NONE, 0, 4, DS)) },
    { __LINE__, "movb $0x80, (%rdi)", B(0x66, 0xc6, 0x07, 0x80),
      IMM(1, 0x80, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movw $0x1234, (%rdi)", B(0x66, 0xc7, 0x07, 0x34, 0x12),
      IMM(2, 0x1234, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movl $0x12345678, (%rdi)", B(0xc7, 0x07, 0x78, 0x56, 0x34, 0x12),
      IMM(4, 0x12345678, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movl $0x80000000, (%rdi)", B(0xc7, 0x07, 0x00, 0x00, 0x00, 0x80),
      IMM(4, 0x80000000u, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movq $0xffffffffffffffff, (%rdi)", B(0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff),
      IMM(8, ~0ull, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movq $0xffffffff80000000, (%rdi)", B(0x48, 0xc7, 0x07, 0x00, 0x00, 0x00, 0x80),
      IMM(8, 0xffffffff80000000ull, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movq $0x7fffffff, (%rdi)", B(0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0x7f),
      IMM(8, 0x7fffffff, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movq $0x1, (%rdi)", B(0x66, 0x48, 0xc7, 0x07, 0x01, 0x00, 0x00, 0x00),
      IMM(8, 1, 8, 0, M(RDI, NONE, 0, 0, DS)) },                   /* REX.W beats 66 */
    { __LINE__, "movl $0x1, 0x10(%rip)",
      B(0xc7, 0x05, 0x10, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00),
      IMM(4, 1, 8, 0, M(RIP, NONE, 0, 0x10, DS)) },
    { __LINE__, "movw $0xbeef, %gs:-0x4(%eax,%esi,8)",
      B(0x65, 0x67, 0x66, 0xc7, 0x44, 0xf0, 0xfc, 0xef, 0xbe),
      IMM(2, 0xbeef, 4, OVR, M(RAX, RSI, 8, -4, GS)) },
    /* 15 bytes exactly */
    { __LINE__, "movl $0x12345678, %fs:0x100(%rax,%rcx,4)",
      B(0x26, 0x26, 0x26, 0x64, 0xc7, 0x84, 0x88, 0x00, 0x01, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12),
      IMM(4, 0x12345678, 8, OVR, M(RAX, RCX, 4, 0x100, FS)) },

    /* movzx, movsx, movsxd */
    { __LINE__, "movzbl (%rdi), %eax", B(0x0f, 0xb6, 0x07),
      EXT(ZX, 1, 4, RAX, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movzwl (%rdi), %eax", B(0x0f, 0xb7, 0x07),
      EXT(ZX, 2, 4, RAX, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movzbq (%rdi), %rax", B(0x48, 0x0f, 0xb6, 0x07),
      EXT(ZX, 1, 8, RAX, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movzwq 0x2(%rdi), %rdx", B(0x48, 0x0f, 0xb7, 0x57, 0x02),
      EXT(ZX, 2, 8, RDX, 8, 0, M(RDI, NONE, 0, 2, DS)) },
    { __LINE__, "movzbw (%rdi), %ax", B(0x66, 0x0f, 0xb6, 0x07),
      EXT(ZX, 1, 2, RAX, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movzww (%rdi), %ax", B(0x66, 0x0f, 0xb7, 0x07),
      EXT(ZX, 2, 2, RAX, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movzbl (%rdi), %esp", B(0x0f, 0xb6, 0x27),      /* no byte register: no ah */
      EXT(ZX, 1, 4, RSP, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movzbq 0x1(%rdi), %r8", B(0x4c, 0x0f, 0xb6, 0x47, 0x01),
      EXT(ZX, 1, 8, R8, 8, 0, M(RDI, NONE, 0, 1, DS)) },
    { __LINE__, "movsbl (%rdi), %eax", B(0x0f, 0xbe, 0x07),
      EXT(SX, 1, 4, RAX, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movswl (%rdi), %ecx", B(0x0f, 0xbf, 0x0f),
      EXT(SX, 2, 4, RCX, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movswq (%rdi), %rax", B(0x48, 0x0f, 0xbf, 0x07),
      EXT(SX, 2, 8, RAX, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movsbw (%rdi), %ax", B(0x66, 0x0f, 0xbe, 0x07),
      EXT(SX, 1, 2, RAX, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movsbq %gs:(%rbx), %r11", B(0x65, 0x4c, 0x0f, 0xbe, 0x1b),
      EXT(SX, 1, 8, R11, 8, OVR, M(RBX, NONE, 0, 0, GS)) },
    { __LINE__, "movslq (%rdi), %rax", B(0x48, 0x63, 0x07),
      EXT(SX, 4, 8, RAX, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movslq 0x4(%rdi), %r9", B(0x4c, 0x63, 0x4f, 0x04),
      EXT(SX, 4, 8, R9, 8, 0, M(RDI, NONE, 0, 4, DS)) },
    { __LINE__, "movslq (%rdi), %rax", B(0x66, 0x48, 0x63, 0x07),   /* REX.W beats 66 */
      EXT(SX, 4, 8, RAX, 8, 0, M(RDI, NONE, 0, 0, DS)) },
    { __LINE__, "movslq 0x8(%rip), %rcx", B(0x48, 0x63, 0x0d, 0x08, 0x00, 0x00, 0x00),
      EXT(SX, 4, 8, RCX, 8, 0, M(RIP, NONE, 0, 8, DS)) },
};

/* Not MMIO movs: rejected whole (no byte missing). */
static const struct {
    const char *what;
    uint8_t n;
    uint8_t b[20];
} rejects[] = {
    { "mov %eax, %eax (mod 3)", B(0x8b, 0xc0) },
    { "mov %ah, %al (mod 3)", B(0x88, 0xe0) },
    { "mov %rax, %r8 (mod 3)", B(0x49, 0x89, 0xc0) },
    { "mov $1, %eax (c7 mod 3)", B(0xc7, 0xc0, 0x01, 0x00, 0x00, 0x00) },
    { "movzbl %al, %eax (mod 3)", B(0x0f, 0xb6, 0xc0) },
    { "movslq %eax, %rax (mod 3)", B(0x48, 0x63, 0xc0) },
    { "lock mov", B(0xf0, 0x89, 0x07) },
    { "lock movzx", B(0xf0, 0x0f, 0xb6, 0x07) },
    { "xrelease mov (f3)", B(0xf3, 0x89, 0x07) },
    { "xacquire mov (f2)", B(0xf2, 0x89, 0x07) },
    { "rep mov load", B(0xf3, 0x8b, 0x07) },
    { "rep movzx", B(0xf3, 0x0f, 0xb6, 0x07) },
    { "f3 c7", B(0xf3, 0xc7, 0x07, 0x01, 0x00, 0x00, 0x00) },
    { "66 f2 mov", B(0x66, 0xf2, 0x8b, 0x07) },
    { "movsxd without REX.W", B(0x63, 0x07) },
    { "66 movsxd without REX.W", B(0x66, 0x63, 0x07) },
    { "REX.W voided before movsxd", B(0x48, 0x2e, 0x63, 0x07) },
    { "c7 /1", B(0xc7, 0x4f, 0x04, 0x01, 0x00, 0x00, 0x00) },
    { "c6 /7 memory", B(0xc6, 0x38, 0x01) },
    { "xabort", B(0xc6, 0xf8, 0x01) },
    { "xbegin", B(0xc7, 0xf8, 0x00, 0x00, 0x00, 0x00) },
    { "moffs load a1", B(0xa1, 1, 2, 3, 4, 5, 6, 7, 8) },
    { "moffs store a3", B(0xa3, 1, 2, 3, 4, 5, 6, 7, 8) },
    { "moffs a0", B(0xa0, 1, 2, 3, 4, 5, 6, 7, 8) },
    { "moffs a2", B(0xa2, 1, 2, 3, 4, 5, 6, 7, 8) },
    { "lea", B(0x8d, 0x07) },
    { "mov from sreg to memory", B(0x8c, 0x07) },
    { "mov to sreg from memory", B(0x8e, 0x17) },
    { "nopl (%rax)", B(0x0f, 0x1f, 0x00) },
    { "popcnt", B(0xf3, 0x0f, 0xb8, 0x07) },
    { "0f b8 (jmpe)", B(0x0f, 0xb8, 0x07) },
    { "movs (string)", B(0xa5) },
    { "or to memory", B(0x09, 0x07) },
    { "xchg with memory", B(0x87, 0x07) },
    { "mov to cr0", B(0x0f, 0x22, 0xc0) },
    { "nop", B(0x90) },
    { "16 bytes: too long", B(0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x48, 0x8b,
                              0x04, 0x25, 0x00, 0x00, 0x00) },
    { "15 prefixes", B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                       0x66, 0x66, 0x66, 0x8b, 0x07) },
};

/* Too short for what they start. */
static const struct {
    const char *what;
    uint8_t n;
    uint8_t b[8];
} shorts[] = {
    { "nothing", 0, { 0 } },
    { "a prefix", B(0x66) },
    { "REX", B(0x48) },
    { "LOCK (the opcode decides)", B(0xf0) },
    { "0f", B(0x0f) },
    { "mov without ModRM", B(0x8b) },
    { "SIB missing", B(0x8b, 0x04) },
    { "disp32 half there", B(0x8b, 0x80, 0x00, 0x01) },
    { "imm32 half there", B(0xc7, 0x07, 0x01, 0x00) },
    { "imm16 half there", B(0x66, 0xc7, 0x07, 0x01) },
};

static bool same(const struct vam_mmio_insn *got, const struct vam_mmio_insn *want, int line,
                 const char *text)
{
    int before = test_failures;
#define FIELD(f)                                                                            \
    CHECK(got->f == want->f, "line %d '%s': " #f " %llx, expected %llx", line, text,       \
          (unsigned long long)got->f, (unsigned long long)want->f)
    FIELD(op); FIELD(len); FIELD(size); FIELD(dest_size); FIELD(reg); FIELD(high_byte);
    FIELD(addrsize); FIELD(flags); FIELD(imm); FIELD(mem.base); FIELD(mem.index);
    FIELD(mem.scale); FIELD(mem.disp); FIELD(mem.seg);
#undef FIELD
    return test_failures == before;
}

/* Decodes [b, b+n) from an exact-size copy. */
static enum vam_decode_result decode(const uint8_t *b, size_t n, struct vam_mmio_insn *out)
{
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, b, n);
    enum vam_decode_result r = vam_decode_mmio(copy, n, out);
    free(copy);
    return r;
}

static void table(void)
{
    long truncations = 0;
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        const struct row *row = &rows[k];
        struct vam_mmio_insn want = row->want, got;
        want.len = row->n;
        memset(&got, 0xa5, sizeof got);
        enum vam_decode_result r = decode(row->b, row->n, &got);
        CHECK(r == VAM_DEC_OK, "line %d '%s': result %d", row->line, row->text, r);
        if (r != VAM_DEC_OK)
            continue;
        same(&got, &want, row->line, row->text);
        char text[80];
        int tl = vam_mmio_format(&got, text, sizeof text);
        CHECK(!strcmp(text, row->text) && tl == (int)strlen(row->text),
              "line %d: text '%s' (%d), expected '%s'", row->line, text, tl, row->text);
        /* a short buffer: cut, terminated, full length reported */
        char small[6];
        CHECK(vam_mmio_format(&got, small, sizeof small) == tl && strlen(small) == 5,
              "line %d: format into 6 bytes gave '%s'", row->line, small);

        /* followed by more bytes: the same instruction */
        uint8_t longer[32];
        memcpy(longer, row->b, row->n);
        memset(longer + row->n, 0x8b, sizeof longer - row->n);
        struct vam_mmio_insn got2;
        r = decode(longer, sizeof longer, &got2);
        CHECK(r == VAM_DEC_OK, "line %d '%s' followed by 8b: result %d", row->line, row->text, r);
        if (r == VAM_DEC_OK)
            same(&got2, &want, row->line, row->text);

        /* every shorter prefix is truncated, and *out is untouched */
        for (unsigned cut = 0; cut < row->n; cut++, truncations++) {
            struct vam_mmio_insn untouched;
            memset(&untouched, 0x5a, sizeof untouched);
            r = decode(row->b, cut, &untouched);
            CHECK(r == VAM_DEC_TRUNCATED, "line %d '%s' cut to %u bytes: result %d", row->line,
                  row->text, cut, r);
            CHECK(untouched.op == 0x5a && untouched.len == 0x5a,
                  "line %d: output written on a truncated decode", row->line);
        }
    }
    printf("table: %zu encodings, %ld truncations\n", sizeof rows / sizeof rows[0], truncations);
}

static void rejections(void)
{
    for (size_t k = 0; k < sizeof rejects / sizeof rejects[0]; k++) {
        struct vam_mmio_insn got;
        memset(&got, 0x5a, sizeof got);
        enum vam_decode_result r = decode(rejects[k].b, rejects[k].n, &got);
        CHECK(r == VAM_DEC_NOT_SENSITIVE, "%s: result %d, expected not MMIO", rejects[k].what, r);
        CHECK(got.op == 0x5a, "%s: output written on a rejection", rejects[k].what);
    }
    for (size_t k = 0; k < sizeof shorts / sizeof shorts[0]; k++) {
        struct vam_mmio_insn got;
        enum vam_decode_result r = decode(shorts[k].b, shorts[k].n, &got);
        CHECK(r == VAM_DEC_TRUNCATED, "%s: result %d, expected truncated", shorts[k].what, r);
    }
    printf("rejections: %zu not MMIO, %zu truncated\n", sizeof rejects / sizeof rejects[0],
           sizeof shorts / sizeof shorts[0]);
}

/* ---- registers ------------------------------------------------------------------------- */

static struct vam_mmio_insn insn(const uint8_t *b, size_t n)
{
    struct vam_mmio_insn i;
    if (decode(b, n, &i) != VAM_DEC_OK) {
        char h[64];
        hex(h, sizeof h, b, n);
        fprintf(stderr, "[%s] does not decode\n", h);
        exit(2);
    }
    return i;
}

/* The decoded instruction in one of a few slots, for use inside a call. */
static const struct vam_mmio_insn *insn_at(const uint8_t *b, size_t n)
{
    static struct vam_mmio_insn slots[4];
    static unsigned next;
    struct vam_mmio_insn *i = &slots[next++ % 4];
    *i = insn(b, n);
    return i;
}
#define INSN(...) insn_at((const uint8_t[]){ __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }))

/* A register file with a distinct pattern in every slot. */
static void fill(struct vam_regs *r)
{
    uint64_t *slot = (uint64_t *)r;
    for (size_t k = 0; k < sizeof *r / sizeof *slot; k++)
        slot[k] = 0x1111111111111111ull * ((k % 15) + 1) ^ 0x0123456789abcdefull;
}

/* Everything but *changed is as in before. */
static void only_changed(const struct vam_regs *before, const struct vam_regs *after,
                         const uint64_t *changed, const char *what)
{
    const uint64_t *a = (const uint64_t *)before, *b = (const uint64_t *)after;
    for (size_t k = 0; k < sizeof *before / sizeof *a; k++)
        if (&b[k] != changed)
            CHECK(a[k] == b[k], "%s: slot %zu changed from %#llx to %#llx", what, k,
                  (unsigned long long)a[k], (unsigned long long)b[k]);
}

struct load_case {
    int line;
    uint8_t n, b[8];
    uint64_t before, value, after;
};

static const struct load_case loads[] = {
    /* mov: 32-bit zero-extends, 8/16-bit merge, 64 replaces; bits above size ignored */
    { __LINE__, B(0x8b, 0x07), 0xffffffffffffffffull, 0xdeadbeef12345678ull, 0x12345678 },
    { __LINE__, B(0x66, 0x8b, 0x07), 0x1111222233334444ull, 0xffffabcd, 0x111122223333abcdull },
    { __LINE__, B(0x8a, 0x07), 0x1111222233334444ull, 0x1ab, 0x11112222333344abull },
    { __LINE__, B(0x48, 0x8b, 0x07), 0x1111222233334444ull, 0x8000000000000001ull,
      0x8000000000000001ull },
    /* ah: bits 15:8 */
    { __LINE__, B(0x8a, 0x27), 0x1111222233334444ull, 0xab, 0x111122223333ab44ull },
    /* movzx */
    { __LINE__, B(0x0f, 0xb6, 0x07), ~0ull, 0xff80, 0x80 },
    { __LINE__, B(0x0f, 0xb7, 0x07), ~0ull, 0x12348000, 0x8000 },
    { __LINE__, B(0x66, 0x0f, 0xb6, 0x07), 0x1111222233334444ull, 0x80, 0x1111222233330080ull },
    { __LINE__, B(0x48, 0x0f, 0xb7, 0x07), ~0ull, 0xffff, 0xffff },
    /* movsx */
    { __LINE__, B(0x0f, 0xbe, 0x07), 0x1111222233334444ull, 0x80, 0xffffff80 },
    { __LINE__, B(0x0f, 0xbe, 0x07), 0x1111222233334444ull, 0x7f, 0x7f },
    { __LINE__, B(0x48, 0x0f, 0xbe, 0x07), 0, 0x80, 0xffffffffffffff80ull },
    { __LINE__, B(0x48, 0x0f, 0xbf, 0x07), 0, 0x8001, 0xffffffffffff8001ull },
    { __LINE__, B(0x0f, 0xbf, 0x07), ~0ull, 0x7fff, 0x7fff },
    { __LINE__, B(0x66, 0x0f, 0xbe, 0x07), 0x1111222233334444ull, 0xff, 0x111122223333ffffull },
    { __LINE__, B(0x66, 0x0f, 0xbf, 0x07), 0x1111222233334444ull, 0x18000, 0x1111222233338000ull },
    /* movsxd */
    { __LINE__, B(0x48, 0x63, 0x07), 0, 0x80000000, 0xffffffff80000000ull },
    { __LINE__, B(0x48, 0x63, 0x07), ~0ull, 0xf7fffffff, 0x7fffffff },
};

static void load_results(void)
{
    for (size_t k = 0; k < sizeof loads / sizeof loads[0]; k++) {
        const struct load_case *c = &loads[k];
        struct vam_mmio_insn i = insn(c->b, c->n);
        struct vam_regs r, before;
        fill(&r);
        r.rax = c->before;
        before = r;
        vam_mmio_load_result(&i, &r, c->value);
        CHECK(r.rax == c->after, "line %d: rax %#llx, expected %#llx", c->line,
              (unsigned long long)r.rax, (unsigned long long)c->after);
        only_changed(&before, &r, &r.rax, "load");
    }

    /* Every register number reaches its own slot, in every width. */
    static const unsigned widths[] = { 1, 2, 4, 8 };
    for (unsigned w = 0; w < 4; w++)
        for (unsigned reg = 0; reg < 16; reg++) {
            uint8_t b[8];
            size_t n = 0;
            if (widths[w] == 2)
                b[n++] = 0x66;
            /* always a REX: byte registers 4-7 are spl..dil, not ah..bh */
            b[n++] = (uint8_t)(0x40 | (widths[w] == 8 ? 8 : 0) | (reg & 8 ? 4 : 0));
            b[n++] = widths[w] == 1 ? 0x8a : 0x8b;
            b[n++] = (uint8_t)((reg & 7) << 3 | 6);    /* (%rsi) */
            struct vam_mmio_insn i = insn(b, n);
            CHECK(i.reg == reg && !i.high_byte && i.size == widths[w], "reg %u width %u", reg,
                  widths[w]);
            struct vam_regs r, before;
            fill(&r);
            before = r;
            uint64_t *slot = vam_regs_gpr(&r, reg);
            uint64_t old = *slot, mask = widths[w] == 8 ? ~0ull : (1ull << (8 * widths[w])) - 1;
            vam_mmio_load_result(&i, &r, 0xa5a5a5a5a5a5a5a5ull);
            uint64_t want = widths[w] == 4 ? 0xa5a5a5a5ull
                                           : (old & ~mask) | (0xa5a5a5a5a5a5a5a5ull & mask);
            CHECK(*slot == want, "reg %u width %u: %#llx, expected %#llx", reg, widths[w],
                  (unsigned long long)*slot, (unsigned long long)want);
            only_changed(&before, &r, slot, "load to every register");

            /* the same register as a store's source */
            b[n - 2] -= 2;      /* 8a/8b -> 88/89 */
            struct vam_mmio_insn s = insn(b, n);
            CHECK(s.op == VAM_MMIO_STORE_REG && s.reg == reg, "store reg %u", reg);
            CHECK(vam_mmio_store_value(&s, &r) == (*slot & mask),
                  "store reg %u width %u: %#llx", reg, widths[w],
                  (unsigned long long)vam_mmio_store_value(&s, &r));
        }

    /* ah, ch, dh, bh: bits 15:8 of rax, rcx, rdx, rbx, both ways */
    for (unsigned h = 0; h < 4; h++) {
        struct vam_mmio_insn ld = insn((uint8_t[]){ 0x8a, (uint8_t)((h + 4) << 3 | 6) }, 2);
        struct vam_mmio_insn st = insn((uint8_t[]){ 0x88, (uint8_t)((h + 4) << 3 | 6) }, 2);
        CHECK(ld.reg == h && ld.high_byte && st.reg == h && st.high_byte, "high byte %u", h);
        struct vam_regs r, before;
        fill(&r);
        before = r;
        uint64_t *slot = vam_regs_gpr(&r, h);
        uint64_t old = *slot;
        CHECK(vam_mmio_store_value(&st, &r) == ((old >> 8) & 0xff), "store from high byte %u", h);
        vam_mmio_load_result(&ld, &r, 0x3c);
        CHECK(*slot == ((old & ~0xff00ull) | 0x3c00), "load to high byte %u: %#llx", h,
              (unsigned long long)*slot);
        only_changed(&before, &r, slot, "high byte");
    }

    /* Immediates: the low size bytes, sign-extended imm32 for 64-bit. */
    struct vam_regs r;
    fill(&r);
    CHECK(vam_mmio_store_value(INSN(0xc6, 0x07, 0x80), &r) == 0x80, "movb $0x80");
    CHECK(vam_mmio_store_value(INSN(0x66, 0xc7, 0x07, 0xfe, 0xff), &r) == 0xfffe, "movw");
    CHECK(vam_mmio_store_value(INSN(0xc7, 0x07, 0x00, 0x00, 0x00, 0x80), &r) == 0x80000000u,
          "movl");
    CHECK(vam_mmio_store_value(INSN(0x48, 0xc7, 0x07, 0xfe, 0xff, 0xff, 0xff), &r) ==
              0xfffffffffffffffeull, "movq sign-extends");
    /* Loads have no store value; stores take no load result. */
    CHECK(vam_mmio_store_value(INSN(0x8b, 0x07), &r) == 0, "load's store value");
    struct vam_regs before = r;
    vam_mmio_load_result(INSN(0x89, 0x07), &r, 0x1234);
    vam_mmio_load_result(INSN(0xc7, 0x07, 0, 0, 0, 0), &r, 0x1234);
    CHECK(!memcmp(&before, &r, sizeof r), "a store's load result changed registers");
    printf("registers: %zu load cases, 64 register/width pairs both ways, 4 high bytes\n",
           sizeof loads / sizeof loads[0]);
}

/* ---- execution against a device ------------------------------------------------------------ */

struct device {
    bool refuse;
    unsigned calls;
    uint64_t addr, value;
    unsigned size;
    bool is_write;
};

static bool device_access(void *opaque, uint64_t addr, unsigned size, bool is_write,
                          uint64_t *value)
{
    struct device *d = opaque;
    d->calls++;
    d->addr = addr;
    d->size = size;
    d->is_write = is_write;
    if (d->refuse)
        return false;
    if (is_write)
        d->value = *value;
    else
        *value = 0xfedcba9876543210ull;     /* more than size: the load takes its part */
    return true;
}

static void execution(void)
{
    struct vam_regs r, before;
    struct device d = { 0 };
    fill(&r);
    r.rip = 0x1000;
    r.rdx = 0x1122334455667788ull;

    /* writel %edx, 0x10(%rdi) */
    CHECK(vam_mmio_execute(INSN(0x89, 0x57, 0x10), &r, 0xfee00010, device_access, &d), "store");
    CHECK(d.calls == 1 && d.is_write && d.size == 4 && d.addr == 0xfee00010 &&
              d.value == 0x55667788, "store access: size %u value %#llx", d.size,
          (unsigned long long)d.value);
    CHECK(r.rip == 0x1003, "rip after store %#llx", (unsigned long long)r.rip);

    /* readw 2(%rdi) into %dx */
    CHECK(vam_mmio_execute(INSN(0x66, 0x8b, 0x57, 0x02), &r, 0x2002, device_access, &d), "load");
    CHECK(d.calls == 2 && !d.is_write && d.size == 2, "load access");
    CHECK(r.rdx == 0x1122334455663210ull, "rdx %#llx", (unsigned long long)r.rdx);
    CHECK(r.rip == 0x1007, "rip after load %#llx", (unsigned long long)r.rip);

    /* movsbq (%rdi), %rdx: 0x10 is positive */
    CHECK(vam_mmio_execute(INSN(0x48, 0x0f, 0xbe, 0x17), &r, 0x3000, device_access, &d), "movsx");
    CHECK(d.size == 1 && r.rdx == 0x10, "movsbq: size %u rdx %#llx", d.size,
          (unsigned long long)r.rdx);

    /* movq $-2, (%rdi) */
    CHECK(vam_mmio_execute(INSN(0x48, 0xc7, 0x07, 0xfe, 0xff, 0xff, 0xff), &r, 0x4000,
                           device_access, &d), "store imm");
    CHECK(d.is_write && d.size == 8 && d.value == 0xfffffffffffffffeull, "store imm value");

    /* a refused access changes nothing */
    d.refuse = true;
    before = r;
    CHECK(!vam_mmio_execute(INSN(0x8b, 0x07), &r, 0x5000, device_access, &d), "refused load");
    CHECK(!memcmp(&before, &r, sizeof r), "a refused load changed registers");
    CHECK(!vam_mmio_execute(INSN(0x89, 0x07), &r, 0x5000, device_access, &d), "refused store");
    CHECK(!memcmp(&before, &r, sizeof r), "a refused store changed registers");
    printf("execution: 6 accesses\n");
}

int main(void)
{
    table();
    rejections();
    load_results();
    execution();
    return test_done("vam-mmio-test");
}
