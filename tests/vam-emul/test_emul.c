/*
 * vam/emul unit tests.  Every row is one instruction form: its bytes are
 * decoded by the VAM's decoder (vam_decode, which must accept them whole),
 * the result is emulated on the standard guest of tests/vam-cpu (guest.c,
 * fake back end), and the row's expectations are checked: the status, the
 * exception (vector, error code, CR2) or the resulting registers, vCPU,
 * guest memory, port traffic and TLB hooks.  An exception row also checks
 * that nothing changed (registers, vCPU and hot area byte for byte).
 *
 * The ea group also checks vam_mmio_ea on the same operands decoded by the
 * MMIO decoder (vam/mmio.h): both paths share vam_emul_mem_ea.
 *
 * vam-emul-tests GROUP runs one group: ea, cr, msr, io, dt, cpuid, misc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afterburn/abi.h"
#include "devmodels/dm.h"
#include "fake_backend.h"
#include "guest.h"
#include "vam/decode.h"
#include "vam/emul.h"
#include "vam/inject.h"
#include "vam/mmio.h"
#include "vam/shadow.h"
#include "vam/walk.h"

static unsigned failures;
static const char *current;

static void fail(int line, const char *what, uint64_t got, uint64_t want)
{
    failures++;
    printf("  FAIL %s (row at line %d): %s: got %#llx, want %#llx\n", current, line, what,
           (unsigned long long)got, (unsigned long long)want);
}

#define CHECK_EQ(line, what, got, want)                                                       \
    do {                                                                                      \
        uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);                                 \
        if (g_ != w_)                                                                         \
            fail(line, what, g_, w_);                                                         \
    } while (0)

/* ---- a port device: reads give 0x10, 0x11, ... byte by byte; writes are logged */

struct out_rec {
    uint16_t port;
    unsigned len;
    uint32_t val;
};
static struct dm_iobus bus;
static uint8_t dev_seq;
static struct out_rec dev_out[64];
static unsigned dev_nout;

static bool dev_io(struct dm_vcpu *vcpu, uint64_t addr, void *data, unsigned len, bool is_write,
                   void *opaque)
{
    (void)vcpu;
    (void)opaque;
    uint8_t *b = data;
    if (is_write) {
        uint32_t val = 0;
        for (unsigned k = 0; k < len; k++)
            val |= (uint32_t)b[k] << (8 * k);
        if (dev_nout < 64)
            dev_out[dev_nout++] = (struct out_rec){(uint16_t)addr, len, val};
    } else {
        for (unsigned k = 0; k < len; k++)
            b[k] = (uint8_t)(0x10 + dev_seq++);
    }
    return true;
}

/* ---- the table ---------------------------------------------------------------------- */

enum loc {
    L_END = 0,
    L_REG,          /* addr = hardware register number */
    L_RIP, L_RFLAGS, L_CPL, L_IOPL,
    L_CR0, L_CR2, L_CR3, L_CR4, L_CR8, L_EFER,
    L_STAR, L_LSTAR, L_CSTAR, L_SFMASK, L_FSBASE, L_GSBASE, L_KGSBASE, L_TSCAUX, L_PAT,
    L_GDTR_BASE, L_GDTR_LIMIT, L_IDTR_BASE, L_IDTR_LIMIT, L_LDTR, L_LDT_BASE, L_TR,
    L_GS_SWAPPED, L_SYSENTER_EIP,
    L_M8, L_M16, L_M64,     /* guest-virtual memory at addr */
    L_DEV_SEQ,              /* bytes the device has produced */
    L_DEV_NOUT,             /* writes the device got */
    L_DEV_OUT,              /* write number addr: port << 40 | len << 32 | value */
    L_TLB_FILL,             /* set only: activate the guest's CR3 in the shadow and fill va */
    L_ACTIVATES,            /* be_space_activate calls */
    L_UNMAP0,               /* va of the first be_unmap */
    L_NUNMAP,
    L_FLUSHES,
};

struct kv {
    enum loc loc;
    uint64_t addr, val;
};

#define R(n, v)        {L_REG, n, v}
#define F(l, v)        {l, 0, v}
#define M8(a, v)       {L_M8, a, v}
#define M16(a, v)      {L_M16, a, v}
#define M64(a, v)      {L_M64, a, v}
#define OUTREC(n, p, l, v) {L_DEV_OUT, n, (uint64_t)(p) << 40 | (uint64_t)(l) << 32 | (v)}
#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RSP 4
#define RBP 5
#define RSI 6
#define RDI 7
#define R8 8
#define R9 9
#define R10 10
#define R12 12
#define R13 13

#define ST_EXC(vec, ec) VAM_EMUL_EXCEPTION, vec, ec
#define ST_OK           VAM_EMUL_OK, 0, 0
#define GP0             ST_EXC(X86_EXC_GP, 0)

struct row {
    const char *name;
    uint8_t n;
    uint8_t bytes[15];
    struct kv set[6];
    enum vam_emul_status status;
    unsigned vector;
    uint32_t ec;
    struct kv expect[8];
    uint64_t cr2;           /* #PF rows: the exception's CR2 */
    bool partial;           /* an exception after some rep elements: state did change */
    bool no_advance;        /* OK without moving rip (rep cut short) */
    int line;
};

#define B(...) sizeof((uint8_t[]){__VA_ARGS__}), {__VA_ARGS__}
#define ROW .line = __LINE__

/* the standard guest's CR0 (vam_vcpu_init) */
#define CR0_STD (X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG)
#define SCRATCH (KBASE + 0x5000)
#define UNMAPPED (KBASE + 0xe000)
#define NONCANON 0x0000800000000000ull

/* ---- setting and getting locations ---------------------------------------------------- */

static struct guest g;
static struct vam_shadow sh;
static struct vam_emul emu;

static uint64_t *vcpu_field(enum loc l)
{
    struct vam_vcpu *v = &g.v;
    switch (l) {
    case L_CR0: return &v->cr0;
    case L_CR2: return &v->cr2;
    case L_CR3: return &v->cr3;
    case L_CR4: return &v->cr4;
    case L_CR8: return &v->cr8;
    case L_EFER: return &v->efer;
    case L_STAR: return &v->star;
    case L_LSTAR: return &v->lstar;
    case L_CSTAR: return &v->cstar;
    case L_SFMASK: return &v->sfmask;
    case L_FSBASE: return &v->fs_base;
    case L_GSBASE: return &v->gs_base;
    case L_KGSBASE: return &v->kernel_gs_base;
    case L_TSCAUX: return &v->tsc_aux;
    case L_PAT: return &v->pat;
    case L_GDTR_BASE: return &v->gdtr.base;
    case L_IDTR_BASE: return &v->idtr.base;
    case L_LDT_BASE: return &v->ldt_base;
    case L_SYSENTER_EIP: return &v->sysenter_eip;
    default: return NULL;
    }
}

static void mem_set(uint64_t va, uint64_t val, unsigned len)
{
    uint8_t b[8];
    struct vam_walk w;
    for (unsigned k = 0; k < len; k++)
        b[k] = (uint8_t)(val >> (8 * k));
    if (vam_gva_write(&g.v, va, b, len, VAM_ACC_WRITE, &w) != VAM_WALK_OK) {
        printf("test setup: cannot write %#llx\n", (unsigned long long)va);
        abort();
    }
}

static uint64_t mem_get(uint64_t va, unsigned len)
{
    uint8_t b[8];
    struct vam_walk w;
    uint64_t val = 0;
    if (vam_gva_read(&g.v, va, b, len, VAM_ACC_READ, &w) != VAM_WALK_OK)
        return 0xdeadbeefdeadbeefull;
    for (unsigned k = 0; k < len; k++)
        val |= (uint64_t)b[k] << (8 * k);
    return val;
}

static void set_loc(const struct kv *kv)
{
    uint64_t *f = vcpu_field(kv->loc);
    if (f) {
        *f = kv->val;
        return;
    }
    switch (kv->loc) {
    case L_REG: *vam_emul_reg(&g.r, (unsigned)kv->addr) = kv->val; break;
    case L_RIP: g.r.rip = kv->val; break;
    case L_RFLAGS: vam_set_guest_rflags(&g.v, &g.r, kv->val); break;
    case L_CPL:
        if (kv->val == 3)
            guest_to_user(&g, USER_BASE, USTACK_TOP - 0x100);
        break;
    case L_IOPL:
        vam_set_guest_rflags(&g.v, &g.r, (vam_guest_rflags(&g.v, &g.r) & ~X86_RFLAGS_IOPL) |
                                             kv->val << 12);
        break;
    case L_GDTR_LIMIT: g.v.gdtr.limit = (uint16_t)kv->val; break;
    case L_IDTR_LIMIT: g.v.idtr.limit = (uint16_t)kv->val; break;
    case L_LDTR: g.v.ldtr = (uint16_t)kv->val; break;
    case L_TR: g.v.tr = (uint16_t)kv->val; break;
    case L_M8: mem_set(kv->addr, kv->val, 1); break;
    case L_M16: mem_set(kv->addr, kv->val, 2); break;
    case L_M64: mem_set(kv->addr, kv->val, 8); break;
    case L_TLB_FILL: {
        struct vam_event ev;
        if (vam_shadow_set_cr3(&sh, &g.v, g.v.cr3) != VAM_SHADOW_OK ||
            vam_shadow_page_fault(&sh, &g.v, kv->val, 0, &ev) != VAM_SHADOW_OK)
            abort();
        fake_clear_log();
        break;
    }
    default:
        printf("test setup: location %d cannot be set\n", kv->loc);
        abort();
    }
}

static uint64_t get_loc(const struct kv *kv)
{
    uint64_t *f = vcpu_field(kv->loc);
    if (f)
        return *f;
    switch (kv->loc) {
    case L_REG: return *vam_emul_reg(&g.r, (unsigned)kv->addr);
    case L_RIP: return g.r.rip;
    case L_RFLAGS: return vam_guest_rflags(&g.v, &g.r);
    case L_CPL: return g.v.cpl;
    case L_GDTR_LIMIT: return g.v.gdtr.limit;
    case L_IDTR_LIMIT: return g.v.idtr.limit;
    case L_LDTR: return g.v.ldtr;
    case L_TR: return g.v.tr;
    case L_GS_SWAPPED: return g.fixed.gs_swapped;
    case L_M8: return mem_get(kv->addr, 1);
    case L_M16: return mem_get(kv->addr, 2);
    case L_M64: return mem_get(kv->addr, 8);
    case L_DEV_SEQ: return dev_seq;
    case L_DEV_NOUT: return dev_nout;
    case L_DEV_OUT:
        if (kv->addr >= dev_nout)
            return ~0ull;
        return (uint64_t)dev_out[kv->addr].port << 40 | (uint64_t)dev_out[kv->addr].len << 32 |
               dev_out[kv->addr].val;
    case L_ACTIVATES: return fake_count(FAKE_ACTIVATE);
    case L_UNMAP0: return fake_nth(FAKE_UNMAP, 0)->va;
    case L_NUNMAP: return fake_count(FAKE_UNMAP);
    case L_FLUSHES: return fake_count(FAKE_FLUSH);
    default: return ~0ull;
    }
}

static const char *loc_name(enum loc l)
{
    static const char *names[] = {
        "end", "reg", "rip", "rflags", "cpl", "iopl", "cr0", "cr2", "cr3", "cr4", "cr8",
        "efer", "star", "lstar", "cstar", "sfmask", "fs_base", "gs_base", "kernel_gs_base",
        "tsc_aux", "pat", "gdtr.base", "gdtr.limit", "idtr.base", "idtr.limit", "ldtr",
        "ldt_base", "tr", "gs_swapped", "sysenter_eip", "mem8", "mem16", "mem64", "dev_seq",
        "dev_nout", "dev_out", "tlb_fill", "activates", "unmap0", "nunmap", "flushes",
    };
    return (unsigned)l < sizeof names / sizeof names[0] ? names[l] : "?";
}

/* ---- CPUID raw source for the tests: every bit set, eax = leaf ----------------------- */

static void raw_ones(struct vam_emul *e, struct vam_vcpu *v, uint32_t leaf, uint32_t sub,
                     uint32_t out[4])
{
    (void)e;
    (void)v;
    (void)sub;
    out[0] = leaf == 0x80000008u ? 0x3027u : 0xffffffffu;
    out[1] = out[2] = out[3] = 0xffffffffu;
}

static void policy_fixed(struct vam_emul *e, struct vam_vcpu *v, uint32_t leaf, uint32_t sub,
                         uint32_t out[4])
{
    (void)e;
    (void)v;
    out[0] = leaf;
    out[1] = sub;
    out[2] = 0x12345678u;
    out[3] = 0x9abcdef0u;
}

static void env_reset(void)
{
    guest_standard(&g);
    vam_shadow_init(&sh, 4);
    memset(&emu, 0, sizeof emu);
    emu.shadow = &sh;
    emu.cpuid_raw = raw_ones;
    dm_iobus_init(&bus);
    if (dm_iobus_register(&bus, 0x60, 0x10, dev_io, NULL, "test") != DM_OK ||
        dm_iobus_register(&bus, 0x3f8, 8, dev_io, NULL, "test2") != DM_OK)
        abort();
    dev_seq = 0;
    dev_nout = 0;
    memset(dev_out, 0, sizeof dev_out);
    fake_clear_log();
}

static void run_row(const struct row *row)
{
    struct vam_insn insn;
    env_reset();
    enum vam_decode_result d = vam_decode(row->bytes, row->n, AB_MODE_64, &insn);
    CHECK_EQ(row->line, "decode result", d, VAM_DEC_OK);
    if (d != VAM_DEC_OK)
        return;
    CHECK_EQ(row->line, "decoded length", insn.len, row->n);
    for (const struct kv *kv = row->set; kv->loc != L_END; kv++)
        set_loc(kv);

    struct vam_regs r0 = g.r;
    struct vam_vcpu v0 = g.v;
    struct vam_fixed f0 = g.fixed;
    uint8_t seq0 = dev_seq;

    enum vam_emul_status st = vam_emulate(&emu, &g.v, &g.r, &insn, &bus);
    CHECK_EQ(row->line, "status", st, row->status);
    if (st == VAM_EMUL_ERROR)
        printf("  (error: %s)\n", emu.error ? emu.error : "?");

    if (row->status == VAM_EMUL_EXCEPTION) {
        CHECK_EQ(row->line, "vector", emu.exc.vector, row->vector);
        CHECK_EQ(row->line, "error code", emu.exc.error_code, row->ec);
        CHECK_EQ(row->line, "cr2", emu.exc.cr2, row->cr2);
    }
    if (row->status == VAM_EMUL_EXCEPTION || row->status == VAM_EMUL_UNHANDLED) {
        CHECK_EQ(row->line, "rip unchanged", g.r.rip, r0.rip);
        if (!row->partial) {
            CHECK_EQ(row->line, "regs unchanged", memcmp(&g.r, &r0, sizeof r0), 0);
            CHECK_EQ(row->line, "vcpu unchanged", memcmp(&g.v, &v0, sizeof v0), 0);
            CHECK_EQ(row->line, "hot area unchanged", memcmp(&g.fixed, &f0, sizeof f0), 0);
            CHECK_EQ(row->line, "no port read", dev_seq, seq0);
        }
    } else {
        CHECK_EQ(row->line, "rip", g.r.rip, r0.rip + (row->no_advance ? 0 : row->n));
    }
    for (const struct kv *kv = row->expect; kv->loc != L_END; kv++) {
        char what[64];
        snprintf(what, sizeof what, "%s[%#llx]", loc_name(kv->loc),
                 (unsigned long long)kv->addr);
        CHECK_EQ(row->line, what, get_loc(kv), kv->val);
    }
}

/* ---- control registers --------------------------------------------------------------- */

static const struct row cr_rows[] = {
    {"mov %rax,%cr0 sets TS", B(0x0f, 0x22, 0xc0), {R(RAX, CR0_STD | X86_CR0_TS)}, ST_OK,
     {F(L_CR0, CR0_STD | X86_CR0_TS)}, ROW},
    {"mov %rax,%cr0 drops low reserved bits, keeps ET", B(0x0f, 0x22, 0xc0),
     {R(RAX, (CR0_STD & ~X86_CR0_ET) | 0x100)}, ST_OK, {F(L_CR0, CR0_STD)}, ROW},
    {"mov %rax,%cr0 CD|NW", B(0x0f, 0x22, 0xc0),
     {R(RAX, CR0_STD | X86_CR0_CD | X86_CR0_NW)}, ST_OK,
     {F(L_CR0, CR0_STD | X86_CR0_CD | X86_CR0_NW)}, ROW},
    {"mov %rax,%cr0 WP change flushes", B(0x0f, 0x22, 0xc0),
     {R(RAX, CR0_STD & ~X86_CR0_WP), F(L_TLB_FILL, SCRATCH)}, ST_OK,
     {F(L_CR0, CR0_STD & ~X86_CR0_WP), F(L_FLUSHES, 2)}, ROW},
    {"mov %rax,%cr0 bit 32", B(0x0f, 0x22, 0xc0), {R(RAX, CR0_STD | 1ull << 32)}, GP0, {}, ROW},
    {"mov %rax,%cr0 PG without PE", B(0x0f, 0x22, 0xc0), {R(RAX, CR0_STD & ~X86_CR0_PE)}, GP0,
     {}, ROW},
    {"mov %rax,%cr0 NW without CD", B(0x0f, 0x22, 0xc0), {R(RAX, CR0_STD | X86_CR0_NW)}, GP0,
     {}, ROW},
    {"mov %rax,%cr0 clears PG in long mode", B(0x0f, 0x22, 0xc0),
     {R(RAX, CR0_STD & ~X86_CR0_PG)}, GP0, {}, ROW},
    {"mov %rax,%cr0 at CPL 3", B(0x0f, 0x22, 0xc0), {F(L_CPL, 3), R(RAX, CR0_STD)}, GP0, {},
     ROW},
    {"mov %cr0,%rbx", B(0x0f, 0x20, 0xc3), {R(RBX, 1)}, ST_OK, {R(RBX, CR0_STD)}, ROW},
    {"mov %cr2,%r9", B(0x41, 0x0f, 0x20, 0xd1), {F(L_CR2, 0xffff888012345678ull)}, ST_OK,
     {R(R9, 0xffff888012345678ull)}, ROW},
    {"mov %rdx,%cr2", B(0x0f, 0x22, 0xd2), {R(RDX, 0x1234)}, ST_OK, {F(L_CR2, 0x1234)}, ROW},
    {"mov %rcx,%cr3 activates a space pair", B(0x0f, 0x22, 0xd9), {R(RCX, 0x200000 | 0x18)},
     ST_OK, {F(L_CR3, 0x200018), F(L_ACTIVATES, 1)}, ROW},
    {"mov %rcx,%cr3 bit 63 (no PCID)", B(0x0f, 0x22, 0xd9), {R(RCX, 1ull << 63 | 0x200000)},
     GP0, {F(L_ACTIVATES, 0)}, ROW},
    {"mov %rcx,%cr3 above MAXPHYADDR", B(0x0f, 0x22, 0xd9), {R(RCX, 1ull << 52)}, GP0, {}, ROW},
    {"mov %cr3,%rsi", B(0x0f, 0x20, 0xde), {F(L_CR3, 0x345000)}, ST_OK, {R(RSI, 0x345000)},
     ROW},
    {"mov %rax,%cr4 OSFXSR|OSXSAVE", B(0x0f, 0x22, 0xe0),
     {R(RAX, X86_CR4_PAE | X86_CR4_PGE | 1 << 9 | 1 << 10 | X86_CR4_OSXSAVE)}, ST_OK,
     {F(L_CR4, X86_CR4_PAE | X86_CR4_PGE | 1 << 9 | 1 << 10 | X86_CR4_OSXSAVE)}, ROW},
    {"mov %rax,%cr4 PGE toggle flushes everything", B(0x0f, 0x22, 0xe0),
     {F(L_TLB_FILL, SCRATCH), R(RAX, X86_CR4_PAE)}, ST_OK, {F(L_CR4, X86_CR4_PAE),
     F(L_FLUSHES, 2)}, ROW},
    {"mov %rax,%cr4 SMEP", B(0x0f, 0x22, 0xe0), {R(RAX, X86_CR4_PAE | X86_CR4_SMEP)}, GP0, {},
     ROW},
    {"mov %rax,%cr4 SMAP", B(0x0f, 0x22, 0xe0), {R(RAX, X86_CR4_PAE | X86_CR4_SMAP)}, GP0, {},
     ROW},
    {"mov %rax,%cr4 PKE", B(0x0f, 0x22, 0xe0), {R(RAX, X86_CR4_PAE | X86_CR4_PKE)}, GP0, {},
     ROW},
    {"mov %rax,%cr4 LA57", B(0x0f, 0x22, 0xe0), {R(RAX, X86_CR4_PAE | X86_CR4_LA57)}, GP0, {},
     ROW},
    {"mov %rax,%cr4 PCIDE", B(0x0f, 0x22, 0xe0), {R(RAX, X86_CR4_PAE | X86_CR4_PCIDE)}, GP0,
     {}, ROW},
    {"mov %rax,%cr4 FSGSBASE", B(0x0f, 0x22, 0xe0), {R(RAX, X86_CR4_PAE | 1ull << 16)}, GP0,
     {}, ROW},
    {"mov %rax,%cr4 VMXE", B(0x0f, 0x22, 0xe0), {R(RAX, X86_CR4_PAE | 1ull << 13)}, GP0, {},
     ROW},
    {"mov %rax,%cr4 reserved bit 40", B(0x0f, 0x22, 0xe0), {R(RAX, X86_CR4_PAE | 1ull << 40)},
     GP0, {}, ROW},
    {"mov %rax,%cr4 clears PAE in long mode", B(0x0f, 0x22, 0xe0), {R(RAX, X86_CR4_PGE)}, GP0,
     {}, ROW},
    {"mov %cr4,%rdi", B(0x0f, 0x20, 0xe7), {}, ST_OK, {R(RDI, X86_CR4_PAE | X86_CR4_PGE)},
     ROW},
    {"mov %r8,%cr8", B(0x45, 0x0f, 0x22, 0xc0), {R(R8, 0xf)}, ST_OK, {F(L_CR8, 0xf)}, ROW},
    {"mov %r8,%cr8 bit 4", B(0x45, 0x0f, 0x22, 0xc0), {R(R8, 0x10)}, GP0, {}, ROW},
    {"mov %cr8,%rax", B(0x44, 0x0f, 0x20, 0xc0), {F(L_CR8, 7), R(RAX, ~0ull)}, ST_OK,
     {R(RAX, 7)}, ROW},
    {"mov %cr8,%rax at CPL 3", B(0x44, 0x0f, 0x20, 0xc0), {F(L_CPL, 3)}, GP0, {}, ROW},
    {"clts", B(0x0f, 0x06), {F(L_CR0, CR0_STD | X86_CR0_TS)}, ST_OK, {F(L_CR0, CR0_STD)}, ROW},
    {"clts at CPL 3", B(0x0f, 0x06), {F(L_CPL, 3)}, GP0, {}, ROW},
    {"smsw %eax", B(0x0f, 0x01, 0xe0), {R(RAX, ~0ull)}, ST_OK, {R(RAX, CR0_STD)}, ROW},
    {"smsw %ax", B(0x66, 0x0f, 0x01, 0xe0), {R(RAX, ~0ull)}, ST_OK,
     {R(RAX, ~0xffffull | (CR0_STD & 0xffff))}, ROW},
    {"smsw (%rsi)", B(0x0f, 0x01, 0x26), {R(RSI, SCRATCH), M64(SCRATCH, ~0ull)}, ST_OK,
     {M64(SCRATCH, ~0xffffull | (CR0_STD & 0xffff))}, ROW},
    {"lmsw %ax sets EM and TS, keeps PE", B(0x0f, 0x01, 0xf0), {R(RAX, 0xfffe)}, ST_OK,
     {F(L_CR0, CR0_STD | X86_CR0_TS | X86_CR0_EM)}, ROW},
    {"lmsw %ax cannot clear PE", B(0x0f, 0x01, 0xf0), {R(RAX, 0)}, ST_OK,
     {F(L_CR0, CR0_STD & ~X86_CR0_MP)}, ROW},
    {0},
};

/* ---- MSRs ------------------------------------------------------------------------------- */

#define EFER_STD (X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE)

static const struct row msr_rows[] = {
    {"rdmsr EFER", B(0x0f, 0x32), {R(RCX, VAM_MSR_EFER), R(RAX, ~0ull), R(RDX, ~0ull)}, ST_OK,
     {R(RAX, EFER_STD), R(RDX, 0)}, ROW},
    {"wrmsr EFER clears NXE (flush)", B(0x0f, 0x30),
     {R(RCX, VAM_MSR_EFER), R(RAX, X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA),
      F(L_TLB_FILL, SCRATCH)},
     ST_OK, {F(L_EFER, X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA), F(L_FLUSHES, 2)}, ROW},
    {"wrmsr EFER LMA is read-only", B(0x0f, 0x30),
     {R(RCX, VAM_MSR_EFER), R(RAX, X86_EFER_LME | X86_EFER_NXE)}, ST_OK,
     {F(L_EFER, X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE)}, ROW},
    {"wrmsr EFER reserved bit 1", B(0x0f, 0x30), {R(RCX, VAM_MSR_EFER), R(RAX, EFER_STD | 2)},
     GP0, {}, ROW},
    {"wrmsr EFER SVME (hidden)", B(0x0f, 0x30),
     {R(RCX, VAM_MSR_EFER), R(RAX, EFER_STD | 1 << 12)}, GP0, {}, ROW},
    {"wrmsr EFER high half", B(0x0f, 0x30),
     {R(RCX, VAM_MSR_EFER), R(RAX, EFER_STD), R(RDX, 1)}, GP0, {}, ROW},
    {"wrmsr EFER clears LME with paging", B(0x0f, 0x30),
     {R(RCX, VAM_MSR_EFER), R(RAX, X86_EFER_SCE | X86_EFER_NXE)}, GP0, {}, ROW},
    {"wrmsr STAR", B(0x0f, 0x30),
     {R(RCX, VAM_MSR_STAR), R(RAX, 0x11111111deadbeefull), R(RDX, 0x00230010)}, ST_OK,
     {F(L_STAR, 0x00230010deadbeefull)}, ROW},
    {"rdmsr STAR", B(0x0f, 0x32), {R(RCX, VAM_MSR_STAR), F(L_STAR, 0x0023001000000000ull)},
     ST_OK, {R(RAX, 0), R(RDX, 0x00230010)}, ROW},
    {"wrmsr LSTAR", B(0x0f, 0x30),
     {R(RCX, VAM_MSR_LSTAR), R(RAX, 0x81a00000), R(RDX, 0xffffffff)}, ST_OK,
     {F(L_LSTAR, 0xffffffff81a00000ull)}, ROW},
    {"wrmsr LSTAR non-canonical", B(0x0f, 0x30),
     {R(RCX, VAM_MSR_LSTAR), R(RAX, 0), R(RDX, 0x8000)}, GP0, {}, ROW},
    {"wrmsr CSTAR", B(0x0f, 0x30),
     {R(RCX, VAM_MSR_CSTAR), R(RAX, 0x81a00100), R(RDX, 0xffffffff)}, ST_OK,
     {F(L_CSTAR, 0xffffffff81a00100ull)}, ROW},
    {"wrmsr SFMASK", B(0x0f, 0x30), {R(RCX, VAM_MSR_SFMASK), R(RAX, 0x47700)}, ST_OK,
     {F(L_SFMASK, 0x47700)}, ROW},
    {"wrmsr SFMASK high half", B(0x0f, 0x30), {R(RCX, VAM_MSR_SFMASK), R(RDX, 1)}, GP0, {},
     ROW},
    {"wrmsr FS_BASE", B(0x0f, 0x30), {R(RCX, VAM_MSR_FS_BASE), R(RAX, 0x1000), R(RDX, 0x7fff)},
     ST_OK, {F(L_FSBASE, 0x00007fff00001000ull)}, ROW},
    {"wrmsr GS_BASE non-canonical", B(0x0f, 0x30),
     {R(RCX, VAM_MSR_GS_BASE), R(RDX, 0x00010000)}, GP0, {}, ROW},
    {"wrmsr KERNEL_GS_BASE", B(0x0f, 0x30),
     {R(RCX, VAM_MSR_KERNEL_GS_BASE), R(RAX, 0x12340000), R(RDX, 0xffff8880)}, ST_OK,
     {F(L_KGSBASE, 0xffff888012340000ull)}, ROW},
    {"rdmsr GS_BASE", B(0x0f, 0x32), {R(RCX, VAM_MSR_GS_BASE), F(L_GSBASE, 0xffff888011112222ull)},
     ST_OK, {R(RAX, 0x11112222), R(RDX, 0xffff8880)}, ROW},
    {"wrmsr TSC_AUX", B(0x0f, 0x30), {R(RCX, VAM_MSR_TSC_AUX), R(RAX, 3)}, ST_OK,
     {F(L_TSCAUX, 3)}, ROW},
    {"wrmsr TSC_AUX high half", B(0x0f, 0x30), {R(RCX, VAM_MSR_TSC_AUX), R(RDX, 1)}, GP0, {},
     ROW},
    {"wrmsr SYSENTER_EIP", B(0x0f, 0x30),
     {R(RCX, VAM_MSR_SYSENTER_EIP), R(RAX, 0x81000000), R(RDX, 0xffffffff)}, ST_OK,
     {F(L_SYSENTER_EIP, 0xffffffff81000000ull)}, ROW},
    {"wrmsr PAT (Linux)", B(0x0f, 0x30),
     {R(RCX, VAM_MSR_PAT), R(RAX, 0x00010406), R(RDX, 0x00070007)}, ST_OK,
     {F(L_PAT, 0x0007000700010406ull)}, ROW},
    {"wrmsr PAT type 2", B(0x0f, 0x30), {R(RCX, VAM_MSR_PAT), R(RAX, 0x02), R(RDX, 0)}, GP0, {},
     ROW},
    {"wrmsr PAT type 8", B(0x0f, 0x30), {R(RCX, VAM_MSR_PAT), R(RAX, 0), R(RDX, 0x08000000)},
     GP0, {}, ROW},
    {"rdmsr PAT reset value", B(0x0f, 0x32), {R(RCX, VAM_MSR_PAT)}, ST_OK,
     {R(RAX, 0x00070406), R(RDX, 0x00070406)}, ROW},
    {"rdmsr APIC_BASE", B(0x0f, 0x32), {R(RCX, VAM_MSR_APIC_BASE)}, ST_OK,
     {R(RAX, 0xfee00d00), R(RDX, 0)}, ROW},
    {"wrmsr APIC_BASE same value", B(0x0f, 0x30),
     {R(RCX, VAM_MSR_APIC_BASE), R(RAX, 0xfee00d00), R(RDX, 0)}, ST_OK, {}, ROW},
    {"wrmsr APIC_BASE disable", B(0x0f, 0x30),
     {R(RCX, VAM_MSR_APIC_BASE), R(RAX, 0xfee00100), R(RDX, 0)}, GP0, {}, ROW},
    {"rdmsr MISC_ENABLE", B(0x0f, 0x32), {R(RCX, VAM_MSR_MISC_ENABLE)}, ST_OK,
     {R(RAX, 0x1801), R(RDX, 0)}, ROW},
    {"rdmsr x2APIC ID: the caller's", B(0x0f, 0x32), {R(RCX, 0x802)}, VAM_EMUL_UNHANDLED, 0, 0,
     {}, ROW},
    {"wrmsr x2APIC ICR: the caller's", B(0x0f, 0x30), {R(RCX, 0x830), R(RAX, 0x4000)},
     VAM_EMUL_UNHANDLED, 0, 0, {}, ROW},
    {"rdmsr unknown", B(0x0f, 0x32), {R(RCX, 0x12345)}, GP0, {}, ROW},
    {"wrmsr unknown", B(0x0f, 0x30), {R(RCX, 0x3a)}, GP0, {}, ROW},
    {"rdmsr ignores rcx high half", B(0x0f, 0x32),
     {R(RCX, 0x1234567800000000ull | VAM_MSR_TSC_AUX), F(L_TSCAUX, 5)}, ST_OK, {R(RAX, 5)},
     ROW},
    {"rdmsr at CPL 3", B(0x0f, 0x32), {F(L_CPL, 3), R(RCX, VAM_MSR_EFER)}, GP0, {}, ROW},
    {0},
};

/* ---- port I/O --------------------------------------------------------------------------- */

static const struct row io_rows[] = {
    {"in $0x60,%al", B(0xe4, 0x60), {R(RAX, ~0ull)}, ST_OK, {R(RAX, ~0xffull | 0x10)}, ROW},
    {"in $0x60,%ax", B(0x66, 0xe5, 0x60), {R(RAX, ~0ull)}, ST_OK,
     {R(RAX, ~0xffffull | 0x1110)}, ROW},
    {"in $0x60,%eax zero-extends", B(0xe5, 0x60), {R(RAX, ~0ull)}, ST_OK,
     {R(RAX, 0x13121110)}, ROW},
    {"in (%dx),%al", B(0xec), {R(RDX, 0x3f8), R(RAX, 0)}, ST_OK, {R(RAX, 0x10)}, ROW},
    {"in (%dx),%ax", B(0x66, 0xed), {R(RDX, 0x3f8)}, ST_OK, {R(RAX, 0x1110)}, ROW},
    {"in (%dx),%eax", B(0xed), {R(RDX, 0xffff0000000003f8ull)}, ST_OK, {R(RAX, 0x13121110)},
     ROW},
    {"in (%dx),%al unclaimed port", B(0xec), {R(RDX, 0x80), R(RAX, 0)}, ST_OK,
     {R(RAX, 0xff), F(L_DEV_SEQ, 0)}, ROW},
    {"out %al,$0x61", B(0xe6, 0x61), {R(RAX, 0x12345678)}, ST_OK,
     {F(L_DEV_NOUT, 1), OUTREC(0, 0x61, 1, 0x78)}, ROW},
    {"out %ax,(%dx)", B(0x66, 0xef), {R(RDX, 0x3fc), R(RAX, 0x12345678)}, ST_OK,
     {F(L_DEV_NOUT, 1), OUTREC(0, 0x3fc, 2, 0x5678)}, ROW},
    {"out %eax,(%dx)", B(0xef), {R(RDX, 0x64), R(RAX, 0xabcdef0112345678ull)}, ST_OK,
     {F(L_DEV_NOUT, 1), OUTREC(0, 0x64, 4, 0x12345678)}, ROW},
    {"in at CPL 3, IOPL 0", B(0xe4, 0x60), {F(L_CPL, 3)}, GP0, {}, ROW},
    {"out at CPL 3, IOPL 3", B(0xe6, 0x61), {F(L_CPL, 3), F(L_IOPL, 3), R(RAX, 0x5a)}, ST_OK,
     {OUTREC(0, 0x61, 1, 0x5a)}, ROW},
    {"insb", B(0x6c), {R(RDX, 0x60), R(RDI, SCRATCH), M64(SCRATCH, 0)}, ST_OK,
     {M64(SCRATCH, 0x10), R(RDI, SCRATCH + 1)}, ROW},
    {"rep insw", B(0x66, 0xf3, 0x6d), {R(RDX, 0x60), R(RDI, SCRATCH), R(RCX, 3),
     M64(SCRATCH, 0)}, ST_OK,
     {M64(SCRATCH, 0x0000151413121110ull), R(RDI, SCRATCH + 6), R(RCX, 0), F(L_DEV_SEQ, 6)},
     ROW},
    {"rep insb with rcx 0", B(0xf3, 0x6c), {R(RDX, 0x60), R(RDI, SCRATCH), R(RCX, 0)}, ST_OK,
     {R(RDI, SCRATCH), F(L_DEV_SEQ, 0)}, ROW},
    {"rep outsb, DF = 1", B(0xf3, 0x6e),
     {R(RDX, 0x3f8), R(RSI, SCRATCH + 2), R(RCX, 3), M64(SCRATCH, 0x0000000000ccbbaaull),
      F(L_RFLAGS, X86_RFLAGS_FIXED | X86_RFLAGS_DF)}, ST_OK,
     {F(L_DEV_NOUT, 3), OUTREC(0, 0x3f8, 1, 0xcc), OUTREC(1, 0x3f8, 1, 0xbb),
      OUTREC(2, 0x3f8, 1, 0xaa), R(RSI, SCRATCH - 1), R(RCX, 0)}, ROW},
    {"outsl %fs:(%rsi)", B(0x64, 0x6f),
     {R(RDX, 0x64), F(L_FSBASE, SCRATCH), R(RSI, 8), M64(SCRATCH + 8, 0x1122334455667788ull)},
     ST_OK, {OUTREC(0, 0x64, 4, 0x55667788), R(RSI, 12)}, ROW},
    {"addr32 rep insb uses ecx/edi", B(0x67, 0xf3, 0x6c),
     {R(RDX, 0x60), R(RDI, 0xabcd000000000000ull | USER_BASE), R(RCX, 0x100000002ull)}, ST_OK,
     {M16(USER_BASE, 0x1110), R(RDI, USER_BASE + 2), R(RCX, 0)}, ROW},
    {"insb to an unmapped page: #PF, no port read", B(0x6c), {R(RDX, 0x60), R(RDI, UNMAPPED)},
     ST_EXC(X86_EXC_PF, X86_PF_W), {F(L_DEV_SEQ, 0)}, .cr2 = UNMAPPED, ROW},
    {"outsb from a non-canonical address", B(0x6e), {R(RDX, 0x60), R(RSI, NONCANON)}, GP0,
     {F(L_DEV_NOUT, 0)}, ROW},
    {"rep insb runs into an unmapped page", B(0xf3, 0x6c),
     {R(RDX, 0x60), R(RDI, UNMAPPED - 2), R(RCX, 4)}, ST_EXC(X86_EXC_PF, X86_PF_W),
     {M16(UNMAPPED - 2, 0x1110), R(RDI, UNMAPPED), R(RCX, 2), F(L_DEV_SEQ, 2)},
     .cr2 = UNMAPPED, .partial = true, ROW},
    {"rep outsb cut short after VAM_EMUL_REP_MAX", B(0xf3, 0x6e),
     {R(RDX, 0x80), R(RSI, SCRATCH), R(RCX, VAM_EMUL_REP_MAX + 5)}, ST_OK,
     {R(RCX, 5), R(RSI, SCRATCH + VAM_EMUL_REP_MAX)}, .no_advance = true, ROW},
    {"insb at CPL 3 into a supervisor page", B(0x6c),
     {F(L_CPL, 3), F(L_IOPL, 3), R(RDX, 0x60), R(RDI, SCRATCH)},
     ST_EXC(X86_EXC_PF, X86_PF_P | X86_PF_W | X86_PF_U), {}, .cr2 = SCRATCH, ROW},
    {0},
};

/* ---- descriptor tables -------------------------------------------------------------------- */

static const struct row dt_rows[] = {
    {"lgdt (%rax)", B(0x0f, 0x01, 0x10),
     {R(RAX, SCRATCH), M16(SCRATCH, 0x00ff), M64(SCRATCH + 2, KBASE + 0x100)}, ST_OK,
     {F(L_GDTR_LIMIT, 0xff), F(L_GDTR_BASE, KBASE + 0x100)}, ROW},
    {"lidt 0x10(%rbx,%rcx,4)", B(0x0f, 0x01, 0x5c, 0x8b, 0x10),
     {R(RBX, SCRATCH), R(RCX, 4), M16(SCRATCH + 0x20, 0x0fff), M64(SCRATCH + 0x22, KBASE + 0x7000)},
     ST_OK, {F(L_IDTR_LIMIT, 0xfff), F(L_IDTR_BASE, KBASE + 0x7000)}, ROW},
    {"lgdt 0x100(%rip)", B(0x0f, 0x01, 0x15, 0x00, 0x01, 0x00, 0x00),
     {F(L_RIP, SCRATCH), M16(SCRATCH + 7 + 0x100, 0x7f), M64(SCRATCH + 9 + 0x100, KBASE)},
     ST_OK, {F(L_GDTR_LIMIT, 0x7f), F(L_GDTR_BASE, KBASE), F(L_RIP, SCRATCH + 7)}, ROW},
    {"lgdt with a non-canonical base", B(0x0f, 0x01, 0x10),
     {R(RAX, SCRATCH), M16(SCRATCH, 0xff), M64(SCRATCH + 2, NONCANON)}, GP0, {}, ROW},
    {"lgdt from an unmapped page", B(0x0f, 0x01, 0x10), {R(RAX, UNMAPPED + 8)},
     ST_EXC(X86_EXC_PF, 0), {}, .cr2 = UNMAPPED + 8, ROW},
    {"lgdt at CPL 3", B(0x0f, 0x01, 0x10), {F(L_CPL, 3), R(RAX, USER_BASE)}, GP0, {}, ROW},
    {"sgdt (%rdi)", B(0x0f, 0x01, 0x07), {R(RDI, SCRATCH)}, ST_OK,
     {M16(SCRATCH, 0x7f), M64(SCRATCH + 2, GDT_VA)}, ROW},
    {"sidt %gs:0x8", B(0x65, 0x0f, 0x01, 0x0c, 0x25, 0x08, 0x00, 0x00, 0x00),
     {F(L_GSBASE, SCRATCH)}, ST_OK, {M16(SCRATCH + 8, 0xfff), M64(SCRATCH + 10, IDT_VA)}, ROW},
    {"sgdt at CPL 3 (no UMIP)", B(0x0f, 0x01, 0x07), {F(L_CPL, 3), R(RDI, USER_BASE + 0x10)},
     ST_OK, {M16(USER_BASE + 0x10, 0x7f), M64(USER_BASE + 0x12, GDT_VA)}, ROW},
    {"sgdt across into an unmapped page writes nothing", B(0x0f, 0x01, 0x07),
     {R(RDI, UNMAPPED - 4), M64(UNMAPPED - 8, 0x5555555555555555ull)},
     ST_EXC(X86_EXC_PF, X86_PF_W), {M64(UNMAPPED - 8, 0x5555555555555555ull)},
     .cr2 = UNMAPPED, ROW},
    {"sgdt at CPL 3 to a supervisor page", B(0x0f, 0x01, 0x07),
     {F(L_CPL, 3), R(RDI, SCRATCH)}, ST_EXC(X86_EXC_PF, X86_PF_P | X86_PF_W | X86_PF_U), {},
     .cr2 = SCRATCH, ROW},
    {"sldt %eax", B(0x0f, 0x00, 0xc0), {F(L_LDTR, 0x50), R(RAX, ~0ull)}, ST_OK,
     {R(RAX, 0x50)}, ROW},
    {"sldt %ax", B(0x66, 0x0f, 0x00, 0xc0), {F(L_LDTR, 0x50), R(RAX, ~0ull)}, ST_OK,
     {R(RAX, ~0xffffull | 0x50)}, ROW},
    {"sldt (%rsi)", B(0x0f, 0x00, 0x06), {F(L_LDTR, 0x50), R(RSI, SCRATCH),
     M64(SCRATCH, ~0ull)}, ST_OK, {M64(SCRATCH, ~0xffffull | 0x50)}, ROW},
    {"str %eax", B(0x0f, 0x00, 0xc8), {R(RAX, ~0ull)}, ST_OK, {R(RAX, TSS_SEL)}, ROW},
    {"str %r10 (REX.W)", B(0x49, 0x0f, 0x00, 0xca), {R(R10, ~0ull)}, ST_OK,
     {R(R10, TSS_SEL)}, ROW},
    {"lldt %cx", B(0x0f, 0x00, 0xd1), {R(RCX, LDT_SEL)}, ST_OK,
     {F(L_LDTR, LDT_SEL), F(L_LDT_BASE, LDT_VA)}, ROW},
    {"lldt (%rsi)", B(0x0f, 0x00, 0x16), {R(RSI, SCRATCH), M16(SCRATCH, LDT_SEL)}, ST_OK,
     {F(L_LDTR, LDT_SEL), F(L_LDT_BASE, LDT_VA)}, ROW},
    {"lldt of a code segment", B(0x0f, 0x00, 0xd1), {R(RCX, KERNEL_CS)},
     ST_EXC(X86_EXC_GP, KERNEL_CS), {}, ROW},
    {"lldt at CPL 3", B(0x0f, 0x00, 0xd1), {F(L_CPL, 3), R(RCX, LDT_SEL)}, GP0, {}, ROW},
    {"ltr %ax of the busy TSS", B(0x0f, 0x00, 0xd8), {R(RAX, TSS_SEL)},
     ST_EXC(X86_EXC_GP, TSS_SEL), {}, ROW},
    {"ltr %ax null", B(0x0f, 0x00, 0xd8), {R(RAX, 0)}, GP0, {}, ROW},
    {"ltr %ax of an available TSS", B(0x0f, 0x00, 0xd8),
     {R(RAX, TSS_SEL), M8(GDT_VA + TSS_SEL + 5, 0x89), F(L_TR, 0)}, ST_OK,
     {F(L_TR, TSS_SEL), M8(GDT_VA + TSS_SEL + 5, 0x8b)}, ROW},
    {0},
};

/* ---- cpuid and the rest ---------------------------------------------------------------------- */

static const struct row cpuid_rows[] = {
    {"cpuid 0x40000000", B(0x0f, 0xa2), {R(RAX, 0x40000000), R(RCX, 0)}, ST_OK,
     {R(RAX, 0x40000000), R(RBX, 0x564d4156), R(RCX, 0x41564d41), R(RDX, 0x4d41564d)}, ROW},
    {"cpuid 0x40000001 is empty", B(0x0f, 0xa2), {R(RAX, 0x40000001)}, ST_OK,
     {R(RAX, 0), R(RBX, 0), R(RCX, 0), R(RDX, 0)}, ROW},
    {"cpuid 1 hides MONITOR/VMX/SMX/PCID, hypervisor, OSXSAVE off", B(0x0f, 0xa2),
     {R(RAX, 1), R(RBX, ~0ull)}, ST_OK,
     {R(RCX, 0xffffffffu & ~(1u << 3 | 1u << 5 | 1u << 6 | 1u << 17 | 1u << 27)),
      R(RDX, 0xffffffff), R(RBX, 0xffffffff)}, ROW},
    {"cpuid 1 with CR4.OSXSAVE", B(0x0f, 0xa2),
     {R(RAX, 1), F(L_CR4, X86_CR4_PAE | X86_CR4_OSXSAVE)}, ST_OK,
     {R(RCX, 0xffffffffu & ~(1u << 3 | 1u << 5 | 1u << 6 | 1u << 17))}, ROW},
    {"cpuid 7.0 hides SMEP/SMAP/FSGSBASE/INVPCID/PKU/LA57/UMIP/CET", B(0x0f, 0xa2),
     {R(RAX, 7), R(RCX, 0)}, ST_OK,
     {R(RBX, 0xffffffffu & ~(1u << 0 | 1u << 7 | 1u << 10 | 1u << 20)),
      R(RCX, 0xffffffffu & ~(1u << 2 | 1u << 3 | 1u << 4 | 1u << 7 | 1u << 16 | 1u << 31)),
      R(RDX, 0xffffffffu & ~(1u << 20))}, ROW},
    {"cpuid 7.1 untouched", B(0x0f, 0xa2), {R(RAX, 7), R(RCX, 1)}, ST_OK,
     {R(RBX, 0xffffffff), R(RCX, 0xffffffff)}, ROW},
    {"cpuid 0x80000001 hides SVM, 1G pages as the vCPU", B(0x0f, 0xa2),
     {R(RAX, 0x80000001)}, ST_OK, {R(RCX, 0xfffffffbu), R(RDX, 0xffffffff)}, ROW},
    {"cpuid 0x80000008 MAXPHYADDR", B(0x0f, 0xa2), {R(RAX, 0x80000008)}, ST_OK,
     {R(RAX, 0x3034)}, ROW},
    {"cpuid at CPL 3", B(0x0f, 0xa2), {F(L_CPL, 3), R(RAX, 0x40000000)}, ST_OK,
     {R(RBX, 0x564d4156)}, ROW},
    {0},
};

static const struct row misc_rows[] = {
    {"invlpg (%rax) reaches the TLB", B(0x0f, 0x01, 0x38),
     {F(L_TLB_FILL, SCRATCH), R(RAX, SCRATCH + 0x123)}, ST_OK,
     {F(L_NUNMAP, 2), F(L_UNMAP0, SCRATCH)}, ROW},
    {"invlpg %fs:-8(%r13,%r12,8)", B(0x64, 0x43, 0x0f, 0x01, 0x7c, 0xe5, 0xf8),
     {F(L_TLB_FILL, SCRATCH), F(L_FSBASE, KBASE), R(R13, 0x4000), R(R12, 0x201)}, ST_OK,
     {F(L_NUNMAP, 2), F(L_UNMAP0, SCRATCH)}, ROW},
    {"invlpg of a non-canonical address is a no-op", B(0x0f, 0x01, 0x38),
     {F(L_TLB_FILL, SCRATCH), R(RAX, NONCANON)}, ST_OK, {F(L_NUNMAP, 0)}, ROW},
    {"invlpg at CPL 3", B(0x0f, 0x01, 0x38), {F(L_CPL, 3), R(RAX, USER_BASE)}, GP0, {}, ROW},
    {"wbinvd", B(0x0f, 0x09), {}, ST_OK, {}, ROW},
    {"invd", B(0x0f, 0x08), {}, ST_OK, {}, ROW},
    {"wbinvd at CPL 3", B(0x0f, 0x09), {F(L_CPL, 3)}, GP0, {}, ROW},
    {"swapgs", B(0x0f, 0x01, 0xf8), {F(L_GSBASE, 0x1000), F(L_KGSBASE, 0xffff888000002000ull)},
     ST_OK, {F(L_GSBASE, 0xffff888000002000ull), F(L_KGSBASE, 0x1000), F(L_GS_SWAPPED, 1)},
     ROW},
    {"swapgs at CPL 3", B(0x0f, 0x01, 0xf8), {F(L_CPL, 3)}, GP0, {}, ROW},
    {"rdpmc", B(0x0f, 0x33), {R(RCX, 0)}, GP0, {}, ROW},
    {"hlt", B(0xf4), {}, VAM_EMUL_HALT, 0, 0, {}, ROW},
    {"hlt at CPL 3", B(0xf4), {F(L_CPL, 3)}, GP0, {}, ROW},
    {"cli is not this module's", B(0xfa), {}, VAM_EMUL_UNHANDLED, 0, 0, {}, ROW},
    {0},
};

/* ---- effective addresses: vam_emul_ea on decoded operands ------------------------------- */

struct ea_row {
    const char *name;
    uint8_t n;
    uint8_t bytes[15];
    struct kv set[6];
    uint64_t ea;
    int line;
};

static const struct ea_row ea_rows[] = {
    {"(%rax)", B(0x0f, 0x01, 0x10), {R(RAX, 0x1234)}, 0x1234, __LINE__},
    {"0x10(%rbx,%rcx,4)", B(0x0f, 0x01, 0x5c, 0x8b, 0x10), {R(RBX, 0x1000), R(RCX, 3)}, 0x101c,
     __LINE__},
    {"negative disp8 -8(%r13,%r12,8)", B(0x43, 0x0f, 0x01, 0x7c, 0xe5, 0xf8),
     {R(R13, 0x100), R(R12, 2)}, 0x108, __LINE__},
    {"0x100(%rip)", B(0x0f, 0x01, 0x15, 0x00, 0x01, 0x00, 0x00), {F(L_RIP, 0x5000)}, 0x5107,
     __LINE__},
    {"-0x10(%rip)", B(0x0f, 0x01, 0x15, 0xf0, 0xff, 0xff, 0xff), {F(L_RIP, 0x5000)}, 0x4ff7,
     __LINE__},
    {"absolute disp32 (SIB, no base)", B(0x0f, 0x01, 0x14, 0x25, 0x34, 0x12, 0x00, 0x00),
     {R(RBP, 0x9999)}, 0x1234, __LINE__},
    {"disp32 sign-extends", B(0x0f, 0x01, 0x14, 0x25, 0x00, 0x00, 0x00, 0x80), {},
     0xffffffff80000000ull, __LINE__},
    {"(%eax) truncates to 32 bits", B(0x67, 0x0f, 0x01, 0x10), {R(RAX, 0x100000010ull)}, 0x10,
     __LINE__},
    {"addr32 wraps base + disp", B(0x67, 0x0f, 0x01, 0x50, 0x20), {R(RAX, 0xfffffff0ull)}, 0x10,
     __LINE__},
    {"%fs:(%rax)", B(0x64, 0x0f, 0x01, 0x10), {R(RAX, 0x10), F(L_FSBASE, 0x7f0000000000ull)},
     0x7f0000000010ull, __LINE__},
    {"%gs:0x8", B(0x65, 0x0f, 0x01, 0x0c, 0x25, 0x08, 0x00, 0x00, 0x00),
     {F(L_GSBASE, 0xffff888000000000ull)}, 0xffff888000000008ull, __LINE__},
    {"%ds: is a null prefix", B(0x3e, 0x0f, 0x01, 0x10), {R(RAX, 0x10), F(L_FSBASE, 0x1000)},
     0x10, __LINE__},
    {"(%rsp) base (SS, no base added)", B(0x0f, 0x01, 0x14, 0x24), {R(RSP, 0x8000)}, 0x8000,
     __LINE__},
    {"(%r12,%rax,1)", B(0x41, 0x0f, 0x01, 0x14, 0x04), {R(R12, 0x100), R(RAX, 0x22)}, 0x122,
     __LINE__},
    {"0(%rbp) via mod 01", B(0x0f, 0x01, 0x55, 0x00), {R(RBP, 0x4444)}, 0x4444, __LINE__},
    {"index only: 0x10(,%rsi,8)", B(0x0f, 0x01, 0x14, 0xf5, 0x10, 0x00, 0x00, 0x00),
     {R(RSI, 2)}, 0x20, __LINE__},
    {0},
};

/*
 * The same operand through the MMIO path: the row's "0f 01 /r" becomes
 * "8b /r" (a load into ModRM.reg's register), which vam_decode_mmio decodes
 * and vam_mmio_ea resolves.  The instruction is one byte shorter, so a
 * RIP-relative address is one less.
 */
static void check_mmio_ea(const struct ea_row *row, const struct vam_insn *insn)
{
    uint8_t bytes[15];
    unsigned n = 0, k = 0;
    while (row->bytes[k] != 0x0f)
        bytes[n++] = row->bytes[k++];   /* prefixes */
    bytes[n++] = 0x8b;
    for (k += 2; k < row->n; k++)
        bytes[n++] = row->bytes[k];
    struct vam_mmio_insn mi;
    enum vam_decode_result d = vam_decode_mmio(bytes, n, &mi);
    CHECK_EQ(row->line, "mmio decode result", d, VAM_DEC_OK);
    if (d != VAM_DEC_OK)
        return;
    CHECK_EQ(row->line, "mmio length", mi.len, n);
    CHECK_EQ(row->line, "mmio base", mi.mem.base, insn->mem.base);
    CHECK_EQ(row->line, "mmio index", mi.mem.index, insn->mem.index);
    CHECK_EQ(row->line, "mmio segment", mi.mem.seg, insn->mem.seg);
    CHECK_EQ(row->line, "mmio ea", vam_mmio_ea(&g.v, &g.r, &mi),
             row->ea - (insn->mem.base == VAM_REG_RIP ? 1 : 0));
}

static unsigned run_ea(void)
{
    unsigned n = 0;
    for (const struct ea_row *row = ea_rows; row->name; row++, n++) {
        unsigned before = failures;
        struct vam_insn insn;
        current = row->name;
        env_reset();
        enum vam_decode_result d = vam_decode(row->bytes, row->n, AB_MODE_64, &insn);
        CHECK_EQ(row->line, "decode result", d, VAM_DEC_OK);
        if (d == VAM_DEC_OK) {
            CHECK_EQ(row->line, "decoded length", insn.len, row->n);
            CHECK_EQ(row->line, "memory operand", !!(insn.flags & VAM_INSN_MEM), 1);
            for (const struct kv *kv = row->set; kv->loc != L_END; kv++)
                set_loc(kv);
            CHECK_EQ(row->line, "ea", vam_emul_ea(&g.v, &g.r, &insn), row->ea);
            check_mmio_ea(row, &insn);
        }
        printf("%s ea: %s\n", failures == before ? "ok  " : "FAIL", row->name);
    }
    return n;
}

/* ---- main ------------------------------------------------------------------------------- */

static unsigned run_rows(const char *group, const struct row *rows)
{
    unsigned n = 0;
    for (const struct row *row = rows; row->name; row++, n++) {
        unsigned before = failures;
        current = row->name;
        run_row(row);
        printf("%s %s: %s\n", failures == before ? "ok  " : "FAIL", group, row->name);
    }
    return n;
}

static const struct {
    const char *name;
    const struct row *rows;
} groups[] = {
    {"cr", cr_rows}, {"msr", msr_rows}, {"io", io_rows},
    {"dt", dt_rows}, {"cpuid", cpuid_rows}, {"misc", misc_rows},
};

static void test_policy_hook(void)
{
    /* A policy hook replaces the default entirely. */
    static const uint8_t cpuid[] = {0x0f, 0xa2};
    struct vam_insn insn;
    unsigned before = failures;
    current = "cpuid policy hook";
    env_reset();
    emu.cpuid = policy_fixed;
    if (vam_decode(cpuid, 2, AB_MODE_64, &insn) != VAM_DEC_OK)
        abort();
    g.r.rax = 0x40000000;
    g.r.rcx = 3;
    CHECK_EQ(__LINE__, "status", vam_emulate(&emu, &g.v, &g.r, &insn, &bus), VAM_EMUL_OK);
    CHECK_EQ(__LINE__, "eax", g.r.rax, 0x40000000);
    CHECK_EQ(__LINE__, "ebx", g.r.rbx, 3);
    CHECK_EQ(__LINE__, "ecx", g.r.rcx, 0x12345678);
    CHECK_EQ(__LINE__, "edx", g.r.rdx, 0x9abcdef0);
    printf("%s cpuid: %s\n", failures == before ? "ok  " : "FAIL", current);
}

int main(int argc, char **argv)
{
    unsigned ran = 0, matched = 0;
    const char *want = argc > 1 ? argv[1] : NULL;
    if (!want || !strcmp(want, "ea")) {
        matched++;
        ran += run_ea();
    }
    for (unsigned k = 0; k < sizeof groups / sizeof groups[0]; k++) {
        if (want && strcmp(want, groups[k].name) != 0)
            continue;
        matched++;
        ran += run_rows(groups[k].name, groups[k].rows);
        if (!strcmp(groups[k].name, "cpuid")) {
            test_policy_hook();
            ran++;
        }
    }
    if (!matched) {
        fprintf(stderr, "unknown group %s\n", want);
        return 2;
    }
    printf("%u cases, %u failed checks\n", ran, failures);
    return failures ? 1 : 0;
}
