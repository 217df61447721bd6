/*
 * Memory sites (vam/memsite.c, vam_load_memsites in vam/loader.c):
 *  - decode: a table of encodings afterburn-cparse may write (valid: op,
 *    base, value register and length) and of ones it never writes (each
 *    refused, with the reason);
 *  - rewrite and run: sites in a code page of this process (below 2 GiB, so
 *    the stubs' absolute disp32 addresses work) are rewritten into calls of
 *    logging stubs and then called natively: the access happens exactly as
 *    before (value and width), the scratch register survives, the count
 *    goes up and the ring holds the entry's address;
 *    identical instructions share a stub; every refusal (guest memory not
 *    the image's, stub area full, stubs out of reach, log unreachable)
 *    writes nothing and names the site;
 *  - load: the assembled input `memsites` gives exactly its 11 sites,
 *    sorted, with their fields; corrupted copies give the specific error;
 *    random corruption of the note never gives a bad load (ASan).
 *
 * Arguments: memsites good (tests/vam/inputs, linked), or
 *            --image FILE (a program built through afterburn-cparse's gcc
 *            hook: its sites load, corrupted copies are refused, its write
 *            sites rewrite).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <vam/loader.h>
#include <vam/memsite.h>
#include <vam/rewrite.h>

#include <afterburn/abi.h>

#include <elf.h>
#include <string.h>
#include <sys/mman.h>

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

static int nchecks;
#define EXPECT(cond, ...)                                                                     \
    do {                                                                                      \
        nchecks++;                                                                            \
        CHECK(cond, __VA_ARGS__);                                                             \
    } while (0)

/* Standard NOPs of 1..7 bytes (SDM "recommended multi-byte NOP sequences"). */
static const uint8_t nops[8][7] = {
    {0},
    {0x90},
    {0x66, 0x90},
    {0x0f, 0x1f, 0x00},
    {0x0f, 0x1f, 0x40, 0x00},
    {0x0f, 0x1f, 0x44, 0x00, 0x00},
    {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
    {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
};

/* p[n..len) = NOPs of at most 7 bytes each */
static void pad(uint8_t *p, size_t n, size_t len)
{
    while (n < len) {
        size_t k = len - n > 7 ? 7 : len - n;
        memcpy(p + n, nops[k], k);
        n += k;
    }
}

/* ---- decode --------------------------------------------------------------------------- */

struct dcase {
    uint8_t insn[8];
    uint8_t n;                  /* instruction bytes given */
    uint8_t kind, width;
    uint8_t len;                /* site length (padded with NOPs); 0: 7 */
    const char *err;            /* NULL: valid; else a substring of the reason */
    uint8_t op, base, reg;      /* valid: expected; insn_len is n */
};

#define PTW AB_MEM_PT_WRITE
#define PTR AB_MEM_PT_READ
#define PTM AB_MEM_PT_RMW
#define ST VAM_MEMOP_STORE
#define LD VAM_MEMOP_LOAD
#define RMW VAM_MEMOP_RMW

static const struct dcase dcases[] = {
    /* what cparse writes: mov/or/and/xor/add/sub between a register and (%base) */
    {{0x48, 0x89, 0x07}, 3, PTW, 8, 0, NULL, ST, RDI, RAX},          /* movq %rax,(%rdi) */
    {{0x4c, 0x89, 0x2b}, 3, PTW, 8, 0, NULL, ST, RBX, R13},          /* movq %r13,(%rbx): REX.R */
    {{0x49, 0x89, 0x04, 0x24}, 4, PTW, 8, 0, NULL, ST, R12, RAX},    /* (%r12): SIB, no index */
    {{0x49, 0x89, 0x45, 0x00}, 4, PTW, 8, 0, NULL, ST, R13, RAX},    /* (%r13): disp8 0 */
    {{0x48, 0x89, 0x45, 0x00}, 4, PTW, 8, 0, NULL, ST, RBP, RAX},    /* (%rbp): disp8 0 */
    {{0x49, 0x89, 0x44, 0x24, 0x00}, 5, PTW, 8, 0, NULL, ST, R12, RAX}, /* SIB and disp8 0 */
    {{0x48, 0x89, 0x04, 0x67}, 4, PTW, 8, 0, NULL, ST, RDI, RAX},    /* SIB, no index, scale 2 */
    {{0x41, 0x89, 0x07}, 3, PTW, 4, 0, NULL, ST, R15, RAX},          /* movl %eax,(%r15) */
    {{0x88, 0x27}, 2, PTW, 1, 0, NULL, ST, RDI, RAX},                /* movb %ah,(%rdi): rax */
    {{0x88, 0x3e}, 2, PTW, 1, 0, NULL, ST, RSI, RBX},                /* movb %bh,(%rsi): rbx */
    {{0x88, 0x0f}, 2, PTW, 1, 0, NULL, ST, RDI, RCX},                /* movb %cl,(%rdi) */
    {{0x40, 0x88, 0x37}, 3, PTW, 1, 0, NULL, ST, RDI, RSI},          /* movb %sil,(%rdi): REX */
    {{0x66, 0x89, 0x07}, 3, PTW, 2, 0, NULL, ST, RDI, RAX},          /* movw */
    {{0x66, 0x41, 0x89, 0x06}, 4, PTW, 2, 0, NULL, ST, R14, RAX},    /* movw %ax,(%r14) */
    {{0x89, 0x07}, 2, PTW, 4, 0, NULL, ST, RDI, RAX},                /* movl */
    {{0x48, 0x8b, 0x07}, 3, PTR, 8, 0, NULL, LD, RDI, RAX},          /* movq (%rdi),%rax */
    {{0x8a, 0x26}, 2, AB_MEM_DEV_READ, 1, 0, NULL, LD, RSI, RAX},  /* movb (%rsi),%ah */
    {{0x4c, 0x8b, 0x1b}, 3, PTR, 8, 0, NULL, LD, RBX, R11},          /* movq (%rbx),%r11 */
    {{0x89, 0x07}, 2, AB_MEM_DEV_WRITE, 4, 0, NULL, ST, RDI, RAX},
    {{0x48, 0x09, 0x07}, 3, PTM, 8, 0, NULL, RMW, RDI, RAX},         /* or */
    {{0x48, 0x21, 0x07}, 3, PTM, 8, 0, NULL, RMW, RDI, RAX},         /* and */
    {{0x48, 0x31, 0x07}, 3, PTM, 8, 0, NULL, RMW, RDI, RAX},         /* xor */
    {{0x48, 0x01, 0x07}, 3, PTM, 8, 0, NULL, RMW, RDI, RAX},         /* add */
    {{0x48, 0x29, 0x07}, 3, PTM, 8, 0, NULL, RMW, RDI, RAX},         /* sub */
    {{0x08, 0x07}, 2, AB_MEM_DEV_RMW, 1, 0, NULL, RMW, RDI, RAX},  /* orb %al,(%rdi) */
    {{0x66, 0x31, 0x16}, 3, PTM, 2, 0, NULL, RMW, RSI, RDX},         /* xorw %dx,(%rsi) */
    {{0x48, 0x89, 0x07}, 3, PTW, 8, 40, NULL, ST, RDI, RAX},         /* 37 bytes of NOPs */
    {{0x49, 0x89, 0x44, 0x24, 0x00}, 5, PTW, 8, 5, NULL, ST, R12, RAX}, /* no padding at all */

    /* refused: record and instruction disagree */
    {{0x48, 0x89, 0x07}, 3, PTW, 4, 0, "width differs", 0, 0, 0},
    {{0x89, 0x07}, 2, PTW, 8, 0, "width differs", 0, 0, 0},
    {{0x66, 0x89, 0x07}, 3, PTW, 4, 0, "width differs", 0, 0, 0},
    {{0x48, 0x89, 0x07}, 3, PTW, 0, 0, "no width", 0, 0, 0},
    {{0x48, 0x8b, 0x07}, 3, PTW, 8, 0, "direction", 0, 0, 0},        /* a load for pt_write */
    {{0x48, 0x89, 0x07}, 3, PTR, 8, 0, "direction", 0, 0, 0},        /* a store for pt_read */
    {{0x48, 0x89, 0x07}, 3, PTM, 8, 0, "direction", 0, 0, 0},
    {{0x48, 0x09, 0x07}, 3, PTW, 8, 0, "direction", 0, 0, 0},
    {{0x48, 0x89, 0x07}, 3, AB_MEM_DEV_READ, 8, 0, "direction", 0, 0, 0},
    {{0x48, 0x89, 0x07}, 3, 0, 8, 0, "direction", 0, 0, 0},        /* no kind */
    {{0x48, 0x89, 0x07}, 3, 9, 8, 0, "direction", 0, 0, 0},        /* unknown kind */
    /* refused: not (%base) */
    {{0x48, 0x89, 0xc7}, 3, PTW, 8, 0, "register operand", 0, 0, 0}, /* mod 11 */
    {{0x48, 0x89, 0x87, 0, 0, 0, 0}, 7, PTW, 8, 0, "32-bit displacement", 0, 0, 0},
    {{0x48, 0x89, 0x47, 0x08}, 4, PTW, 8, 0, "displacement", 0, 0, 0},
    {{0x48, 0x89, 0x44, 0x24, 0x08}, 5, PTW, 8, 0, "displacement", 0, 0, 0},
    {{0x48, 0x89, 0x04, 0x1f}, 4, PTW, 8, 0, "index register", 0, 0, 0},   /* (%rdi,%rbx) */
    {{0x4a, 0x89, 0x04, 0x27}, 4, PTW, 8, 0, "index register", 0, 0, 0},   /* REX.X: %r12 */
    {{0x48, 0x89, 0x05, 0, 0, 0, 0}, 7, PTW, 8, 0, "RIP-relative", 0, 0, 0},
    {{0x49, 0x89, 0x05, 0, 0, 0, 0}, 7, PTW, 8, 0, "RIP-relative", 0, 0, 0}, /* REX.B too */
    {{0x48, 0x89, 0x04, 0x25, 0, 0, 0, 0}, 8, PTW, 8, 8, "absolute", 0, 0, 0},
    {{0x48, 0x89, 0x04, 0x24}, 4, PTW, 8, 0, "%rsp", 0, 0, 0},        /* (%rsp) */
    {{0x48, 0x89, 0x44, 0x24, 0x00}, 5, PTW, 8, 0, "%rsp", 0, 0, 0},  /* 0(%rsp) */
    /* refused: the value register is %rsp (the stub's call and push move it) */
    {{0x48, 0x89, 0x27}, 3, PTW, 8, 0, "%rsp", 0, 0, 0},              /* movq %rsp,(%rdi) */
    {{0x40, 0x88, 0x27}, 3, PTW, 1, 0, "%rsp", 0, 0, 0},              /* movb %spl,(%rdi) */
    {{0x48, 0x09, 0x27}, 3, PTM, 8, 0, "%rsp", 0, 0, 0},
    {{0x48, 0x8b, 0x27}, 3, PTR, 8, 0, "%rsp", 0, 0, 0},
    /* refused: prefixes and other instructions */
    {{0x66, 0x48, 0x89, 0x07}, 4, PTW, 8, 0, "both 66 and REX.W", 0, 0, 0},
    {{0x48, 0x88, 0x07}, 3, PTW, 1, 0, "byte operation", 0, 0, 0},
    {{0x66, 0x88, 0x07}, 3, PTW, 1, 0, "byte operation", 0, 0, 0},
    {{0xf0, 0x48, 0x09, 0x07}, 4, PTM, 8, 0, "not a mov", 0, 0, 0},  /* lock */
    {{0x65, 0x48, 0x89, 0x07}, 4, PTW, 8, 0, "not a mov", 0, 0, 0},  /* %gs: */
    {{0x48, 0x39, 0x07}, 3, PTM, 8, 0, "not a mov", 0, 0, 0},        /* cmp */
    {{0x48, 0x87, 0x07}, 3, PTM, 8, 0, "not a mov", 0, 0, 0},        /* xchg */
    {{0x48, 0xc7, 0x07, 1, 0, 0, 0}, 7, PTW, 8, 0, "not a mov", 0, 0, 0}, /* mov $1 */
    {{0x48, 0x89, 0x07, 0xc3}, 4, PTW, 8, 0, "not NOPs", 0, 0, 0},   /* ret in the padding */
    /* refused: cut off by the end of the site */
    {{0x48, 0x89}, 2, PTW, 8, 2, "cut off", 0, 0, 0},
    {{0x48}, 1, PTW, 8, 1, "cut off", 0, 0, 0},
    {{0x49, 0x89, 0x45}, 3, PTW, 8, 3, "cut off", 0, 0, 0},          /* disp8 missing */
    {{0x49, 0x89, 0x04}, 3, PTW, 8, 3, "cut off", 0, 0, 0},          /* SIB missing */
};

static void test_decode(void)
{
    for (size_t i = 0; i < sizeof dcases / sizeof dcases[0]; i++) {
        const struct dcase *c = &dcases[i];
        uint8_t site[64];
        unsigned len = c->len ? c->len : 7;
        memcpy(site, c->insn, c->n);
        pad(site, c->n, len);
        struct vam_memsite m = {.kind = c->kind, .width = c->width, .len = (uint8_t)len};
        const char *why = vam_memsite_decode(site, len, &m);
        char hx[64];
        hex(hx, sizeof hx, c->insn, c->n);
        if (!c->err) {
            EXPECT(why == NULL, "case %zu (%s): refused: %s", i, hx, why);
            EXPECT(m.op == c->op && m.base == c->base && m.reg == c->reg &&
                       m.insn_len == c->n,
                   "case %zu (%s): op %u base %u reg %u insn_len %u, expected %u %u %u %u", i,
                   hx, m.op, m.base, m.reg, m.insn_len, c->op, c->base, c->reg, c->n);
        } else {
            EXPECT(why && strstr(why, c->err), "case %zu (%s): expected \"%s\", got %s", i, hx,
                   c->err, why ? why : "accepted");
            EXPECT(m.op == 0 && m.insn_len == 0, "case %zu (%s): a refused decode filled m", i,
                   hx);
        }
    }
}

/* ---- rewrite and run natively ---------------------------------------------------------- */

/* Region layout (one mapping below 2 GiB). */
#define CODE_OFF  0x0000        /* the "guest" code: functions around sites */
#define STUB_OFF  0x1000        /* stub area */
#define LOG_OFF   0x2000        /* count at +0, ring at +0x100, canary after the ring */
#define DATA_OFF  0x3000        /* the words the sites write */
#define REGION    0x4000
#define RING_MASK 7u

/* A function: pre, the site (instruction + NOPs to len), post, ret.  Called
 * as f(p, value, marker): %rdi = p, %rsi = value, %rdx = marker.  With
 * `marker`, it returns the marker from the stub's scratch register (the
 * stub must have restored it). */
struct xcase {
    const char *name;
    uint8_t pre[12], npre;
    uint8_t insn[6], ninsn;
    uint8_t len;                /* site length; 0: 7 */
    uint8_t kind, width;
    uint8_t post[4], npost;
    bool marker;
    uint64_t initial, value, expect;
};

#define MOV_RDX_RAX 0x48, 0x89, 0xd0    /* mov %rdx,%rax */
static const struct xcase xcases[] = {
    {"movq %rsi,(%rdi)", {MOV_RDX_RAX}, 3, {0x48, 0x89, 0x37}, 3, 0, PTW, 8, {0}, 0, true,
     0x1111, 0x8000000012345067ull, 0x8000000012345067ull},
    {"orq %rsi,(%rdi)", {MOV_RDX_RAX}, 3, {0x48, 0x09, 0x37}, 3, 0, PTM, 8, {0}, 0, true,
     0x1000, 0x67, 0x1067},
    {"andq %rsi,(%rdi)", {MOV_RDX_RAX}, 3, {0x48, 0x21, 0x37}, 3, 0, PTM, 8, {0}, 0, true,
     0xff0f, 0xfff0, 0xff00},
    {"xorq %rsi,(%rdi)", {MOV_RDX_RAX}, 3, {0x48, 0x31, 0x37}, 3, 0, PTM, 8, {0}, 0, true,
     0xff00, 0x0ff0, 0xf0f0},
    {"addq %rsi,(%rdi)", {MOV_RDX_RAX}, 3, {0x48, 0x01, 0x37}, 3, 0, PTM, 8, {0}, 0, true,
     40, 2, 42},
    {"subq %rsi,(%rdi)", {MOV_RDX_RAX}, 3, {0x48, 0x29, 0x37}, 3, 0, PTM, 8, {0}, 0, true,
     44, 2, 42},
    /* base %rax: the scratch is %rcx */
    {"movq %rsi,(%rax)", {0x48, 0x89, 0xf8, 0x48, 0x89, 0xd1}, 6, {0x48, 0x89, 0x30}, 3, 0, PTW,
     8, {0x48, 0x89, 0xc8}, 3, true, 0, 0x2067, 0x2067},
    /* base %rcx, value %rax: the scratch is %rdx */
    {"movq %rax,(%rcx)", {0x48, 0x89, 0xf9, 0x48, 0x89, 0xf0}, 6, {0x48, 0x89, 0x01}, 3, 0, PTW,
     8, {0x48, 0x89, 0xd0}, 3, true, 0, 0x3067, 0x3067},
    /* %ah is the value: %rax must not be the scratch */
    {"movb %ah,(%rdi)", {0x48, 0x89, 0xf0, 0x48, 0x89, 0xd1}, 6, {0x88, 0x27}, 2, 0, PTW, 1,
     {0x48, 0x89, 0xc8}, 3, true, 0x1111111111111111ull, 0xa500, 0x11111111111111a5ull},
    {"movl %esi,(%rdi)", {MOV_RDX_RAX}, 3, {0x89, 0x37}, 2, 0, PTW, 4, {0}, 0, true,
     ~0ull, 0x12345678, 0xffffffff12345678ull},
    {"movw %si,(%rdi)", {MOV_RDX_RAX}, 3, {0x66, 0x89, 0x37}, 3, 0, PTW, 2, {0}, 0, true,
     ~0ull, 0x5678, 0xffffffffffff5678ull},
    /* push %r13; mov %rdi,%r13; ...; pop %r13 */
    {"movq %rsi,0(%r13)", {0x41, 0x55, 0x49, 0x89, 0xfd, MOV_RDX_RAX}, 8,
     {0x49, 0x89, 0x75, 0x00}, 4, 0, PTW, 8, {0x41, 0x5d}, 2, true, 0, 0x4067, 0x4067},
    /* push %r12; mov %rdi,%r12; ...; pop %r12 */
    {"movq %rsi,(%r12)", {0x41, 0x54, 0x49, 0x89, 0xfc, MOV_RDX_RAX}, 8,
     {0x49, 0x89, 0x34, 0x24}, 4, 0, PTW, 8, {0x41, 0x5c}, 2, true, 0, 0x5067, 0x5067},
    /* mov %rsi,%r8: REX.R value register */
    {"movq %r8,(%rdi)", {0x49, 0x89, 0xf0, MOV_RDX_RAX}, 6, {0x4c, 0x89, 0x07}, 3, 0, PTW, 8,
     {0}, 0, true, 0, 0x6067, 0x6067},
    /* the first instruction again, in a 40-byte site: the same stub */
    {"movq %rsi,(%rdi) [40 bytes]", {MOV_RDX_RAX}, 3, {0x48, 0x89, 0x37}, 3, 40, PTW, 8, {0}, 0,
     true, 0, 0x7067, 0x7067},
    /* not logged: left alone, still do their access */
    {"movq (%rdi),%rax [pt_read]", {0}, 0, {0x48, 0x8b, 0x07}, 3, 0, PTR, 8, {0}, 0, false,
     0x8067, 0, 0x8067},
    {"movq %rsi,(%rdi) [dev_write]", {0}, 0, {0x48, 0x89, 0x37}, 3, 0, AB_MEM_DEV_WRITE, 8,
     {0}, 0, false, 0, 0x9067, 0x9067},
};
#define NX (sizeof xcases / sizeof xcases[0])
#define NLOGGED 15u             /* the pt_write and pt_rmw cases */
#define NSTUBS 14u              /* distinct instructions among them */

struct codemap {
    uint64_t va;
    uint8_t *mem;
    size_t size;
    uint64_t refuse;            /* map() of this address gives NULL */
};

static uint8_t *map_code(void *ctx, uint64_t vaddr, size_t len)
{
    struct codemap *c = ctx;
    if (vaddr == c->refuse || vaddr < c->va || vaddr - c->va > c->size ||
        len > c->size - (vaddr - c->va))
        return NULL;
    return c->mem + (vaddr - c->va);
}

static uint8_t *region_below_2g(void)
{
    void *p = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
                   -1, 0);
    for (uintptr_t at = 0x10000000; p == MAP_FAILED && at < 0x70000000; at += 0x10000000)
        p = mmap((void *)at, REGION, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED || (uintptr_t)p + REGION > 0x80000000u) {
        fprintf(stderr, "no mapping below 2 GiB\n");
        exit(2);
    }
    return p;
}

typedef uint64_t (*site_fn)(uint64_t *p, uint64_t value, uint64_t marker);

static bool is_call_to_stub(const uint8_t *site, uint64_t site_va, unsigned len, uint64_t stub_va,
                            uint64_t *target)
{
    int32_t rel;
    memcpy(&rel, site + 1, 4);
    *target = site_va + 5 + (uint64_t)(int64_t)rel;
    size_t bad;
    return site[0] == 0xe8 && *target >= stub_va && *target < stub_va + 0x1000 &&
           (*target - stub_va) % VAM_MEMSTUB_SIZE == 0 && vam_is_nops(site + 5, len - 5u, &bad);
}

static void test_rewrite_run(void)
{
    uint8_t *region = region_below_2g();
    uint8_t *code = region + CODE_OFF, *stubs = region + STUB_OFF;
    uint64_t code_va = (uint64_t)(uintptr_t)code, stub_va = (uint64_t)(uintptr_t)stubs;
    uint32_t *count = (uint32_t *)(void *)(region + LOG_OFF);
    uint64_t *ring = (uint64_t *)(void *)(region + LOG_OFF + 0x100);
    uint64_t *data = (uint64_t *)(void *)(region + DATA_OFF);
    const struct vam_memlog_layout log = {
        .count_va = (uint64_t)(uintptr_t)count, .entries_va = (uint64_t)(uintptr_t)ring,
        .mask = RING_MASK};

    /* the code page: one function per case, 64 bytes apart */
    memset(code, 0xcc, 0x1000);
    struct vam_memsite sites[NX];
    uint64_t fn_va[NX];
    for (size_t i = 0; i < NX; i++) {
        const struct xcase *c = &xcases[i];
        uint8_t *f = code + i * 64;
        unsigned len = c->len ? c->len : 7;
        memcpy(f, c->pre, c->npre);
        uint8_t *s = f + c->npre;
        memcpy(s, c->insn, c->ninsn);
        pad(s, c->ninsn, len);
        memcpy(s + len, c->post, c->npost);
        s[len + c->npost] = 0xc3;
        fn_va[i] = code_va + i * 64;
        sites[i] = (struct vam_memsite){.addr = code_va + i * 64 + c->npre, .record = (uint32_t)i,
                                        .kind = c->kind, .len = (uint8_t)len, .width = c->width,
                                        .flags = c->width};
        const char *why = vam_memsite_decode(s, len, &sites[i]);
        EXPECT(why == NULL, "%s: %s", c->name, why);
    }
    /* the guest's image of that page: one executable segment */
    uint8_t *image = malloc(0x1000);
    memcpy(image, code, 0x1000);
    struct vam_guest g = {.image = image, .size = 0x1000, .nseg = 1};
    g.seg[0] = (struct vam_segment){.vaddr = code_va, .memsz = 0x1000, .filesz = 0x1000,
                                    .flags = VAM_PF_R | VAM_PF_X};
    struct codemap cm = {.va = code_va, .mem = code, .size = 0x1000};
    struct vam_memsite_rewrite_stats st;
    struct vam_error e;
    char want[64];
    enum vam_status r;

    /* refusals: each writes nothing into the code and names the site */
    const struct vam_memsite *third = &sites[2];
    snprintf(want, sizeof want, "memory site 0x%llx ", (unsigned long long)third->addr);
    code[third->addr - code_va + 3] = 0x90;                     /* guest memory != image */
    r = vam_memsites_rewrite(&g, sites, NX, map_code, &cm, stubs, 0x1000, stub_va, &log, &st, &e);
    EXPECT(r == VAM_ERR_MEMORY && e.code == r && strstr(e.msg, want), "changed memory: %d %s",
           r, e.msg);
    EXPECT(code[third->addr - code_va + 3] == 0x90, "the changed byte was overwritten");
    code[third->addr - code_va + 3] = image[third->addr - code_va + 3];
    EXPECT(memcmp(code, image, 0x1000) == 0, "a refused rewrite wrote the code");

    snprintf(want, sizeof want, "memory site 0x%llx ", (unsigned long long)sites[1].addr);
    r = vam_memsites_rewrite(&g, sites, NX, map_code, &cm, stubs, VAM_MEMSTUB_SIZE, stub_va, &log,
                             &st, &e);                          /* room for one stub */
    EXPECT(r == VAM_ERR_TABLE && strstr(e.msg, want) && strstr(e.msg, "no room"),
           "stub area full: %d %s", r, e.msg);
    EXPECT(memcmp(code, image, 0x1000) == 0, "a refused rewrite wrote the code");

    snprintf(want, sizeof want, "memory site 0x%llx ", (unsigned long long)sites[0].addr);
    r = vam_memsites_rewrite(&g, sites, NX, map_code, &cm, stubs, 0x1000, stub_va + (3ull << 30),
                             &log, &st, &e);
    EXPECT(r == VAM_ERR_PLACE && strstr(e.msg, want) && strstr(e.msg, "reach"),
           "stubs 3 GiB away: %d %s", r, e.msg);

    cm.refuse = sites[4].addr;
    snprintf(want, sizeof want, "memory site 0x%llx ", (unsigned long long)sites[4].addr);
    r = vam_memsites_rewrite(&g, sites, NX, map_code, &cm, stubs, 0x1000, stub_va, &log, &st, &e);
    EXPECT(r == VAM_ERR_PLACE && strstr(e.msg, want) && strstr(e.msg, "not mapped"),
           "unmapped site: %d %s", r, e.msg);
    cm.refuse = 0;

    struct vam_memsite short_site = sites[0];
    short_site.len = 4;                                         /* no room for call rel32 */
    r = vam_memsites_rewrite(&g, &short_site, 1, map_code, &cm, stubs, 0x1000, stub_va, &log, &st,
                             &e);
    EXPECT(r == VAM_ERR_PAD && strstr(e.msg, "call rel32"), "4-byte site: %d %s", r, e.msg);

    const struct vam_memlog_layout bad_logs[] = {
        {.count_va = 0x80000000u, .entries_va = log.entries_va, .mask = RING_MASK},
        {.count_va = log.count_va, .entries_va = 0xffffffff7ffff000ull, .mask = RING_MASK},
        {.count_va = log.count_va, .entries_va = log.entries_va, .mask = 5},
    };
    for (size_t i = 0; i < sizeof bad_logs / sizeof bad_logs[0]; i++) {
        r = vam_memsites_rewrite(&g, sites, NX, map_code, &cm, stubs, 0x1000, stub_va,
                                 &bad_logs[i], &st, &e);
        EXPECT(r == VAM_ERR_REWRITE, "bad log %zu: %d %s", i, r, e.msg);
    }
    EXPECT(memcmp(code, image, 0x1000) == 0, "a refused rewrite wrote the code");

    /* the rewrite */
    r = vam_memsites_rewrite(&g, sites, NX, map_code, &cm, stubs, 0x1000, stub_va, &log, &st, &e);
    EXPECT(r == VAM_OK, "rewrite: %s", e.msg);
    EXPECT(st.rewritten == NLOGGED && st.untouched == NX - NLOGGED && st.stubs == NSTUBS,
           "stats: %u rewritten, %u untouched, %u stubs", st.rewritten, st.untouched, st.stubs);
    uint64_t target[NX];
    for (size_t i = 0; i < NX; i++) {
        const struct vam_memsite *m = &sites[i];
        const uint8_t *s = code + (m->addr - code_va);
        if (i >= NLOGGED) {
            EXPECT(memcmp(s, image + (m->addr - code_va), m->len) == 0, "%s was changed",
                   xcases[i].name);
            continue;
        }
        EXPECT(is_call_to_stub(s, m->addr, m->len, stub_va, &target[i]),
               "%s: not call rel32 to a stub + NOPs", xcases[i].name);
        for (size_t k = 0; k < i; k++) {
            bool same = xcases[k].ninsn == xcases[i].ninsn &&
                        memcmp(xcases[k].insn, xcases[i].insn, xcases[i].ninsn) == 0;
            EXPECT(same == (target[k] == target[i]), "%s and %s: %s stub", xcases[k].name,
                   xcases[i].name, same ? "not the same" : "the same");
        }
    }
    /* the bytes of the first stub: push %rax; mov $1,%eax; xadd %eax,count;
     * and $7,%eax; movq %rsi,(%rdi); mov %rdi,ring(,%rax,8); pop %rax; ret */
    uint8_t stub0[VAM_MEMSTUB_SIZE];
    memset(stub0, 0xcc, sizeof stub0);
    uint32_t count32 = (uint32_t)log.count_va, ring32 = (uint32_t)log.entries_va;
    const uint8_t code0[] = {
        0x50,                                                   /* push %rax */
        0xb8, 1, 0, 0, 0,                                       /* mov $1,%eax */
        0x0f, 0xc1, 0x04, 0x25, (uint8_t)count32, (uint8_t)(count32 >> 8),
        (uint8_t)(count32 >> 16), (uint8_t)(count32 >> 24),     /* xadd %eax,count */
        0x81, 0xe0, RING_MASK, 0, 0, 0,                         /* and $7,%eax */
        0x48, 0x89, 0x37,                                       /* movq %rsi,(%rdi) */
        0x48, 0x89, 0x3c, 0xc5, (uint8_t)ring32, (uint8_t)(ring32 >> 8),
        (uint8_t)(ring32 >> 16), (uint8_t)(ring32 >> 24),       /* mov %rdi,ring(,%rax,8) */
        0x58,                                                   /* pop %rax */
        0xc3,                                                   /* ret */
    };
    memcpy(stub0, code0, sizeof code0);
    EXPECT(memcmp(stubs + (target[0] - stub_va), stub0, sizeof stub0) == 0,
           "the stub of movq %%rsi,(%%rdi) is not the expected code");
    size_t used = (size_t)NSTUBS * VAM_MEMSTUB_SIZE, rest = 0;
    for (size_t i = used; i < 0x1000; i++)
        rest += stubs[i] == 0xcc;
    EXPECT(rest == 0x1000 - used, "stub area beyond the stubs is not int3");

    /* a second rewrite finds the sites changed and touches nothing */
    uint8_t *snap = malloc(0x2000);
    memcpy(snap, region, 0x2000);
    r = vam_memsites_rewrite(&g, sites, NX, map_code, &cm, snap + STUB_OFF, 0x1000, stub_va, &log,
                             &st, &e);
    EXPECT(r == VAM_ERR_MEMORY && strstr(e.msg, "rewritten twice"), "rewrite twice: %d %s", r,
           e.msg);
    EXPECT(memcmp(snap, code, 0x1000) == 0, "the second rewrite wrote the code");
    free(snap);

    /* run: every site does its access; the logged ones count and log it */
    if (mprotect(region, 0x2000, PROT_READ | PROT_EXEC) != 0) {
        perror("mprotect");
        exit(2);
    }
    *count = 0xfffffff9u;               /* wraps during the run */
    ring[RING_MASK + 1] = 0x5a5a5a5a5a5a5a5aull;
    for (size_t i = 0; i < NX; i++) {
        const struct xcase *c = &xcases[i];
        site_fn f = (site_fn)(uintptr_t)fn_va[i];
        uint64_t *p = &data[i];
        *p = c->initial;
        uint32_t before = *count;
        uint64_t ret = f(p, c->value, 0x0123456789abcdefull + i);
        EXPECT(*p == c->expect, "%s: memory %#llx, expected %#llx", c->name,
               (unsigned long long)*p, (unsigned long long)c->expect);
        if (c->marker)
            EXPECT(ret == 0x0123456789abcdefull + i, "%s: the scratch register was not restored",
                   c->name);
        bool logged = i < NLOGGED;
        EXPECT(*count == before + logged, "%s: count %u -> %u", c->name, before, *count);
        if (logged)
            EXPECT(ring[before & RING_MASK] == (uint64_t)(uintptr_t)p,
                   "%s: ring[%u] = %#llx, expected the entry's address", c->name,
                   before & RING_MASK, (unsigned long long)ring[before & RING_MASK]);
    }
    EXPECT(data[15] == 0x8067, "the pt_read site's value");
    /* the ring wraps and never writes past its end */
    site_fn f0 = (site_fn)(uintptr_t)fn_va[0];
    for (unsigned k = 0; k < 20; k++) {
        uint32_t before = *count;
        f0(&data[32 + k], k, 0);
        EXPECT(data[32 + k] == k && *count == before + 1 &&
                   ring[before & RING_MASK] == (uint64_t)(uintptr_t)&data[32 + k],
               "call %u of the first site", k);
    }
    EXPECT(*count == 0xfffffff9u + NLOGGED + 20, "count %u", *count);
    EXPECT(ring[RING_MASK + 1] == 0x5a5a5a5a5a5a5a5aull, "written past the ring");
    munmap(region, REGION);
    free(image);
}

/* ---- the loader ----------------------------------------------------------------------- */

static uint8_t *img;
static size_t img_size;
static struct vam_site site_buf[64];

/* Walks the Afterburn memory-site notes of PT_NOTE segments in file order:
 * the file offset of the first one's descriptor (want_desc), or of memory
 * record i counted across all of them.  0 if there is none. */
static size_t memnotes(const uint8_t *p, bool want_desc, unsigned i)
{
    const Elf64_Ehdr *eh = (const void *)p;
    for (unsigned k = 0; k < eh->e_phnum; k++) {
        Elf64_Phdr ph;
        memcpy(&ph, p + eh->e_phoff + k * sizeof ph, sizeof ph);
        if (ph.p_type != PT_NOTE)
            continue;
        size_t off = ph.p_offset, end = ph.p_offset + ph.p_filesz;
        while (off + 12 <= end) {
            uint32_t namesz, descsz, type, nrec;
            memcpy(&namesz, p + off, 4);
            memcpy(&descsz, p + off + 4, 4);
            memcpy(&type, p + off + 8, 4);
            size_t desc = off + 12 + ((namesz + 3) & ~3u);
            if (type == AB_NOTE_TYPE_MEMSITES && namesz == AB_NOTE_NAMESZ &&
                memcmp(p + off + 12, AB_NOTE_NAME, namesz) == 0) {
                if (want_desc)
                    return desc;
                memcpy(&nrec, p + desc + 8, 4);
                if (i < nrec)
                    return desc + AB_NOTE_HEADER_SIZE + (size_t)i * AB_RECORD_SIZE;
                i -= nrec;
            }
            off = desc + ((descsz + 3) & ~3u);
        }
    }
    return 0;
}

static size_t memnote_desc(const uint8_t *p)
{
    return memnotes(p, true, 0);
}

static size_t memrec(const uint8_t *p, unsigned i)
{
    return memnotes(p, false, i);
}

/* vaddr of file offset off (in a PT_NOTE segment) */
static uint64_t note_vaddr(const uint8_t *p, size_t off)
{
    const Elf64_Ehdr *eh = (const void *)p;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, p + eh->e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_NOTE && off >= ph.p_offset && off < ph.p_offset + ph.p_filesz)
            return ph.p_vaddr + (off - ph.p_offset);
    }
    return 0;
}

/* Record i now points at guest address a. */
static void point_at(uint8_t *p, unsigned i, uint64_t a)
{
    size_t r = memrec(p, i);
    int32_t rel = (int32_t)(a - note_vaddr(p, r));
    memcpy(p + r, &rel, 4);
}

/* Loads buf (vam_load, then vam_load_memsites) into sites[cap]; *n. */
static enum vam_status load_mem(const uint8_t *buf, size_t size, struct vam_guest *g,
                                struct vam_memsite *ms, size_t cap, size_t *n,
                                struct vam_error *e)
{
    enum vam_status st = vam_load(g, buf, size, site_buf, 64, e);
    if (st != VAM_OK) {
        fprintf(stderr, "vam_load: %s\n", e->msg);
        exit(2);
    }
    return vam_load_memsites(g, ms, cap, n, e);
}

/* What every successful load promises. */
static void check_invariants(const struct vam_guest *g, const struct vam_memsite *ms, size_t n,
                             const char *what)
{
    for (size_t i = 0; i < n; i++) {
        const struct vam_memsite *m = &ms[i];
        const uint8_t *b = vam_guest_bytes(g, m->addr, m->len);
        struct vam_memsite again = {.kind = m->kind, .width = m->width};
        EXPECT(b && !vam_memsite_decode(b, m->len, &again) && again.insn_len == m->insn_len &&
                   again.base == m->base && again.reg == m->reg && again.op == m->op,
               "%s: site %zu does not decode as loaded", what, i);
        EXPECT(i == 0 || ms[i - 1].addr + ms[i - 1].len <= m->addr,
               "%s: sites %zu and %zu unsorted or overlapping", what, i - 1, i);
        for (size_t k = 0; k < g->nsite; k++)
            EXPECT(g->site[k].addr + g->site[k].len <= m->addr ||
                       m->addr + m->len <= g->site[k].addr,
                   "%s: memory site %zu overlaps site %zu", what, i, k);
    }
}

struct lsite {
    uint32_t record;
    uint8_t kind, len, width, flags, op, base, reg, insn_len;
};

/* inputs/memsites.s, in address order */
static const struct lsite lsites[] = {
    {0, PTW, 7, 8, 8, ST, RDI, RAX, 3},
    {1, PTR, 7, 8, 8 | AB_MEMREC_VOLATILE, LD, RDI, RAX, 3},
    {2, PTM, 7, 8, 8, RMW, RSI, RDX, 3},
    {3, PTW, 7, 8, 8 | AB_MEMREC_SPLIT, ST, RCX, RDX, 3},
    {4, AB_MEM_DEV_WRITE, 7, 4, 4, ST, RDI, RAX, 2},
    {5, AB_MEM_DEV_READ, 7, 1, 1, LD, RSI, RAX, 2},
    {6, PTW, 7, 2, 2, ST, R13, RAX, 5},
    {7, PTW, 7, 8, 8, ST, RDI, RAX, 3},
    {9, PTW, 7, 8, 8, ST, R12, R8, 4},            /* record 9 before record 8 */
    {8, PTM, 7, 8, 8, RMW, RBX, R9, 3},
    {10, PTW, 40, 8, 8, ST, RDI, RSI, 3},
};
#define NL (sizeof lsites / sizeof lsites[0])

/* A corruption of a copy and the error it must give. */
struct corrupt {
    const char *what;
    unsigned record;
    int field;                  /* byte offset in the record; -1: see fn */
    uint8_t value;
    enum vam_status want;
    const char *msg;            /* substring */
};

static const struct corrupt corrupts[] = {
    {"kind 9", 0, 7, 9, VAM_ERR_KIND, "kind 9 is not a memory-site kind"},
    {"kind 0", 0, 7, 0, VAM_ERR_KIND, "kind 0"},
    {"insn_off 1", 0, 5, 1, VAM_ERR_RECORD, "insn_off 1"},
    {"mode 1", 0, 8, 1, VAM_ERR_RECORD, "mode 1"},
    {"reserved", 0, 11, 1, VAM_ERR_RECORD, "reserved 0x100"},
    {"unknown flag", 0, 9, 0x48, VAM_ERR_RECORD, "unknown flag bits 0x40"},
    {"width 3", 0, 9, 3, VAM_ERR_RECORD, "width 3"},
    {"width 0", 0, 9, 0, VAM_ERR_RECORD, "width 0"},
    {"width 4 for movq", 0, 9, 4, VAM_ERR_DECODE, "width"},
    {"len 6", 0, 4, 6, VAM_ERR_PAD, "at least 7"},
    {"insn_len 0", 0, 6, 0, VAM_ERR_PAD, "insn_len 0"},
    {"insn_len > len", 0, 6, 8, VAM_ERR_PAD, "insn_len 8"},
    {"insn_len 2", 0, 6, 2, VAM_ERR_DECODE, "record says 2"},
    {"pt_read on a store", 0, 7, PTR, VAM_ERR_DECODE, "direction"},
    {"pt_rmw on a store", 0, 7, PTM, VAM_ERR_DECODE, "direction"},
    {"pt_write on a load", 1, 7, PTW, VAM_ERR_DECODE, "direction"},
    {"len 8: the next site's mov in the padding", 0, 4, 8, VAM_ERR_DECODE, "NOPs"},
    {"len 14 over the sti site", 7, 4, 14, VAM_ERR_OVERLAP, "overlaps the site at"},
};

static void test_load(const char *memsites_path, const char *good_path)
{
    img = read_file(memsites_path, &img_size);
    struct vam_guest g;
    struct vam_error e;
    struct vam_memsite ms[64];
    size_t n = 99;

    /* the record count first (no buffer), then the sites */
    enum vam_status st = load_mem(img, img_size, &g, NULL, 0, &n, &e);
    EXPECT(st == VAM_ERR_NOSPACE && n == NL, "no buffer: status %d, n %zu", st, n);
    st = vam_load_memsites(&g, ms, NL - 1, &n, &e);
    EXPECT(st == VAM_ERR_NOSPACE && n == NL && e.code == st, "small buffer: %d, n %zu", st, n);
    st = vam_load_memsites(&g, ms, 64, &n, &e);
    EXPECT(st == VAM_OK && n == NL, "load: %d %s, n %zu", st, e.msg, n);
    EXPECT(g.nsite == 2, "%zu afterburn-as sites", g.nsite);
    for (size_t i = 0; st == VAM_OK && i < NL; i++) {
        const struct lsite *w = &lsites[i];
        const struct vam_memsite *m = &ms[i];
        EXPECT(m->record == w->record && m->kind == w->kind && m->len == w->len &&
                   m->width == w->width && m->flags == w->flags && m->op == w->op &&
                   m->base == w->base && m->reg == w->reg && m->insn_len == w->insn_len,
               "site %zu at 0x%llx: record %u kind %u len %u width %u flags %#x op %u base %u "
               "reg %u insn_len %u",
               i, (unsigned long long)m->addr, m->record, m->kind, m->len, m->width, m->flags,
               m->op, m->base, m->reg, m->insn_len);
    }
    check_invariants(&g, ms, st == VAM_OK ? n : 0, "memsites");
    /* the sti site starts right after memory site 7 */
    EXPECT(st == VAM_OK && g.site[1].addr == ms[7].addr + 7, "layout of inputs/memsites.s");
    struct vam_memsite loaded[NL];
    memcpy(loaded, ms, sizeof loaded);

    /* corrupted copies (exact size: ASan sees any read past the end) */
    uint8_t *copy = malloc(img_size);
    for (size_t i = 0; i < sizeof corrupts / sizeof corrupts[0]; i++) {
        const struct corrupt *c = &corrupts[i];
        memcpy(copy, img, img_size);
        size_t r = memrec(copy, c->record);
        copy[r + (size_t)c->field] = c->value;
        st = load_mem(copy, img_size, &g, ms, 64, &n, &e);
        uint64_t addr = 0;
        for (size_t k = 0; k < NL; k++)
            if (lsites[k].record == c->record)
                addr = loaded[k].addr;
        char want[80];
        snprintf(want, sizeof want, "memory site 0x%llx (", (unsigned long long)addr);
        EXPECT(st == c->want && e.code == st && strstr(e.msg, c->msg) && strstr(e.msg, want),
               "%s: status %d (%s), expected %d with \"%s\"", c->what, st, e.msg, c->want, c->msg);
        snprintf(want, sizeof want, "memory record %u)", c->record);
        EXPECT(st == VAM_OK || strstr(e.msg, want), "%s: message does not name the record",
               c->what);
    }

    /* misplaced: nowhere, in data, past the end of the code */
    uint64_t data_va = 0, code_end = 0;
    for (unsigned i = 0; i < g.nseg; i++) {
        if (!(g.seg[i].flags & VAM_PF_X) && (g.seg[i].flags & VAM_PF_W))
            data_va = g.seg[i].vaddr;
        if (g.seg[i].flags & VAM_PF_X)
            code_end = g.seg[i].vaddr + g.seg[i].filesz;
    }
    const struct {
        uint64_t at;
        const char *msg;
    } places[] = {
        {0x10, "not in an executable segment"},
        {data_va, "not in an executable segment"},
        {code_end - 3, "runs past the file contents"},
    };
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
        memcpy(copy, img, img_size);
        point_at(copy, 0, places[i].at);
        st = load_mem(copy, img_size, &g, ms, 64, &n, &e);
        EXPECT(st == VAM_ERR_PLACE && strstr(e.msg, places[i].msg), "place %zu: %d %s", i, st,
               e.msg);
    }
    /* two records of one site */
    memcpy(copy, img, img_size);
    point_at(copy, 1, loaded[0].addr);
    memcpy(copy + memrec(copy, 1) + 4, copy + memrec(copy, 0) + 4, 8);
    st = load_mem(copy, img_size, &g, ms, 64, &n, &e);
    EXPECT(st == VAM_ERR_OVERLAP && strstr(e.msg, "overlaps the memory site"), "duplicate: %d %s",
           st, e.msg);
    /* the note header: format version, record count */
    memcpy(copy, img, img_size);
    copy[memnote_desc(copy)] = 2;
    st = load_mem(copy, img_size, &g, ms, 64, &n, &e);
    EXPECT(st == VAM_ERR_VERSION, "format version 2: %d %s", st, e.msg);
    memcpy(copy, img, img_size);
    copy[memnote_desc(copy) + 8] = NL + 1;
    st = load_mem(copy, img_size, &g, ms, 64, &n, &e);
    EXPECT(st == VAM_ERR_NOTE, "nrecords + 1: %d %s", st, e.msg);

    /* random corruption of the note: an error, or a load whose promises hold */
    size_t d = memnote_desc(img), dsz = AB_NOTE_HEADER_SIZE + NL * AB_RECORD_SIZE;
    uint32_t seed = 12345;
    unsigned ok = 0;
    for (unsigned it = 0; it < 3000; it++) {
        memcpy(copy, img, img_size);
        for (unsigned k = 0; k < 1 + it % 3; k++) {
            seed = seed * 1103515245u + 12345u;
            copy[d + (seed >> 8) % dsz] ^= (uint8_t)(1u << ((seed >> 4) & 7));
        }
        st = load_mem(copy, img_size, &g, ms, 64, &n, &e);
        nchecks++;
        if (st != e.code && st != VAM_OK)
            CHECK(0, "mutation %u: status %d, error code %d", it, st, e.code);
        if (st == VAM_OK) {
            ok++;
            check_invariants(&g, ms, n, "mutation");
        }
    }
    EXPECT(ok > 0 && ok < 3000, "%u of 3000 mutations load", ok);

    /* the rewrite on the loaded image: into a copy of its code segment */
    memcpy(copy, img, img_size);
    st = load_mem(copy, img_size, &g, ms, 64, &n, &e);
    int xi = -1;
    for (unsigned i = 0; i < g.nseg; i++)
        if (g.seg[i].flags & VAM_PF_X)
            xi = (int)i;
    struct codemap cm = {.va = g.seg[xi].vaddr, .mem = copy + g.seg[xi].offset,
                         .size = g.seg[xi].filesz};
    static uint8_t stub_area[0x1000];
    uint64_t stub_va = (g.seg[xi].vaddr + g.seg[xi].memsz + 0xfff) & ~0xfffull;
    const struct vam_memlog_layout log = {.count_va = 0x600000, .entries_va = 0x600100,
                                          .mask = 255};
    struct vam_memsite_rewrite_stats rs;
    st = vam_memsites_rewrite(&g, ms, n, map_code, &cm, stub_area, sizeof stub_area, stub_va,
                              &log, &rs, &e);
    EXPECT(st == VAM_OK && rs.rewritten == 8 && rs.untouched == 3 && rs.stubs == 7,
           "rewrite of memsites: %d %s; %u rewritten, %u untouched, %u stubs", st, e.msg,
           rs.rewritten, rs.untouched, rs.stubs);
    for (size_t i = 0; st == VAM_OK && i < n; i++) {
        bool logged = ms[i].kind == PTW || ms[i].kind == PTM;
        const uint8_t *now = copy + g.seg[xi].offset + (ms[i].addr - g.seg[xi].vaddr);
        uint64_t target;
        if (logged)
            EXPECT(is_call_to_stub(now, ms[i].addr, ms[i].len, stub_va, &target),
                   "site %zu not rewritten", i);
        else
            EXPECT(memcmp(now, img + (now - copy), ms[i].len) == 0, "site %zu changed", i);
    }
    free(copy);
    free(img);

    /* a guest without memory sites */
    img = read_file(good_path, &img_size);
    st = load_mem(img, img_size, &g, ms, 64, &n, &e);
    EXPECT(st == VAM_OK && n == 0, "good: %d, n %zu", st, n);
    st = vam_load_memsites(&g, NULL, 0, &n, &e);
    EXPECT(st == VAM_OK && n == 0, "good without a buffer: %d, n %zu", st, n);
    free(img);
}

/* A program built through afterburn-cparse's hook (tests/cparse/vam-memsites.sh). */
static void test_image(const char *path)
{
    img = read_file(path, &img_size);
    struct vam_guest g;
    struct vam_error e;
    size_t n = 0;
    vam_load(&g, img, img_size, NULL, 0, &e);      /* learns g.nrecords */
    enum vam_status st;
    struct vam_site *sb = malloc(sizeof *sb * (g.nrecords + 1));
    struct vam_site *sb2 = malloc(sizeof *sb2 * (g.nrecords + 1));
    st = vam_load(&g, img, img_size, sb, g.nrecords, &e);
    EXPECT(st == VAM_OK, "vam_load: %s", e.msg);
    if (st != VAM_OK)
        return;
    st = vam_load_memsites(&g, NULL, 0, &n, &e);
    EXPECT(st == VAM_ERR_NOSPACE && n > 0, "memory sites: %d, n %zu", st, n);
    struct vam_memsite *ms = malloc(sizeof *ms * (n + 1));
    size_t n2;
    st = vam_load_memsites(&g, ms, n, &n2, &e);
    EXPECT(st == VAM_OK && n2 == n, "load: %s", e.msg);
    check_invariants(&g, ms, n2, path);
    unsigned logged = 0, writes = 0;
    for (size_t i = 0; i < n2; i++) {
        logged += ms[i].kind == PTW || ms[i].kind == PTM;
        writes += ms[i].kind == PTW;
    }
    EXPECT(writes > 0, "no pt_write site");

    /* corrupted copies of the record of the first site */
    const struct {
        int field;
        uint8_t value;
        enum vam_status want;
    } cs[] = {{7, 9, VAM_ERR_KIND}, {9, 3, VAM_ERR_RECORD}, {8, 1, VAM_ERR_RECORD},
              {4, 6, VAM_ERR_PAD}};
    uint8_t *copy = malloc(img_size);
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        memcpy(copy, img, img_size);
        size_t r = memrec(copy, ms[0].record);
        EXPECT(r != 0, "no memory-site note found");
        if (!r)
            break;
        copy[r + (size_t)cs[i].field] = cs[i].value;
        struct vam_guest g2;
        st = vam_load(&g2, copy, img_size, sb2, g.nrecords, &e);
        EXPECT(st == VAM_OK, "vam_load of the copy: %s", e.msg);
        st = vam_load_memsites(&g2, ms, n, &n2, &e);
        EXPECT(st == cs[i].want && e.code == st, "corruption %zu: %d (%s), expected %d", i, st,
               e.msg, cs[i].want);
    }
    st = vam_load_memsites(&g, ms, n, &n2, &e);

    /* its write sites rewrite */
    memcpy(copy, img, img_size);
    int xi = -1;
    for (unsigned i = 0; i < g.nseg; i++)
        if ((g.seg[i].flags & VAM_PF_X) && xi < 0)
            xi = (int)i;
    struct codemap cm = {.va = g.seg[xi].vaddr, .mem = copy + g.seg[xi].offset,
                         .size = g.seg[xi].filesz};
    uint8_t *stub_area = malloc(64 * 1024);
    const struct vam_memlog_layout log = {.count_va = 0x7f000000, .entries_va = 0x7f000100,
                                          .mask = 255};
    struct vam_memsite_rewrite_stats rs;
    st = vam_memsites_rewrite(&g, ms, n, map_code, &cm, stub_area, 64 * 1024,
                              (g.seg[xi].vaddr + g.seg[xi].memsz + 0xfff) & ~0xfffull, &log, &rs,
                              &e);
    EXPECT(st == VAM_OK && rs.rewritten == logged && rs.untouched == n - logged && rs.stubs > 0,
           "rewrite: %d %s", st, e.msg);
    printf("%s: %zu memory sites (%u pt_write, %u logged), %u stubs\n", path, n, writes, logged,
           rs.stubs);
    free(stub_area);
    free(copy);
    free(ms);
    free(sb);
    free(sb2);
    free(img);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--image") == 0) {
        test_image(argv[2]);
    } else if (argc == 3) {
        test_decode();
        test_rewrite_run();
        test_load(argv[1], argv[2]);
    } else {
        fprintf(stderr, "usage: vam-memsite-test MEMSITES GOOD | --image FILE\n");
        return 2;
    }
    printf("%d checks\n", nchecks);
    return test_done("vam-memsite-test");
}
