/*
 * Unit tests of the VAM's small parts: vam/lib (string functions, the
 * formatter against the host's snprintf), the NOP recogniser and filler
 * (checked with Zydis), the replacement encoder/decoder pair (checked with
 * Zydis), the fixed-area layout, error messages, counters and the
 * instruction formatter.
 */
#include "testutil.h"
#include "zyref.h"

#include <vam/error.h>
#include <vam/layout.h>
#include <vam/lib.h>
#include <vam/rewrite.h>
#include <vam/stats.h>

#include <afterburn/kinds.h>

#include <limits.h>
#include <stdarg.h>
#include <string.h>

static struct zyref Z;

/* ---- vam/lib/string.c ------------------------------------------------------------ */

static void test_string(void)
{
    uint8_t a[64], b[64];
    for (int i = 0; i < 64; i++)
        a[i] = (uint8_t)(i * 7 + 1);
    CHECK(vam_host_memcpy(b, a, 64) == b && memcmp(a, b, 64) == 0, "memcpy");
    CHECK(vam_host_memset(b, 0xab, 10) == b && b[0] == 0xab && b[9] == 0xab && b[10] == a[10],
          "memset");
    /* memmove both ways over overlapping ranges */
    for (int shift = -5; shift <= 5; shift++) {
        uint8_t x[32], y[32];
        for (int i = 0; i < 32; i++)
            x[i] = y[i] = (uint8_t)i;
        vam_host_memmove(x + 10 + shift, x + 10, 12);
        memmove(y + 10 + shift, y + 10, 12);
        CHECK(memcmp(x, y, 32) == 0, "memmove shift %d", shift);
    }
    CHECK(vam_host_memcmp("abc", "abd", 3) < 0 && vam_host_memcmp("abd", "abc", 3) > 0 &&
          vam_host_memcmp("abc", "abc", 3) == 0 && vam_host_memcmp("x", "y", 0) == 0, "memcmp");
    CHECK(vam_host_memcmp("\x80", "\x01", 1) > 0, "memcmp compares unsigned bytes");
    CHECK(vam_host_strlen("") == 0 && vam_host_strlen("Afterburn") == 9, "strlen");
}

/* ---- vam/lib/format.c against the host's printf ------------------------------------ */

static int nformat;

static void fmt_case(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fmt_case(const char *fmt, ...)
{
    char got[128], want[128];
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int n1 = vam_vsnprintf(got, sizeof got, fmt, ap);
    int n2 = vsnprintf(want, sizeof want, fmt, aq);
    va_end(aq);
    va_end(ap);
    CHECK(n1 == n2 && strcmp(got, want) == 0, "format \"%s\": got \"%s\" (%d), libc \"%s\" (%d)",
          fmt, got, n1, want, n2);
    nformat++;
}

static void test_format(void)
{
    fmt_case("plain");
    fmt_case("%d %d %d %i", 0, -1, INT_MAX, INT_MIN);
    fmt_case("%u %u", 0u, UINT_MAX);
    fmt_case("%x %X %#x %#X %#x", 0xdeadbeefu, 0xabcu, 255u, 255u, 0u);
    fmt_case("%o %#o", 8u, 8u);
    fmt_case("%lld %llu %llx", LLONG_MIN, ULLONG_MAX, 0xffffffff81000000ull);
    fmt_case("%ld %lu %lx", -5L, 5UL, 0x10UL);
    fmt_case("%zu %zx %td", (size_t)12345, (size_t)0xfff, (ptrdiff_t)-3);
    fmt_case("%hd %hu %hhd %hhu", (short)-2, (unsigned short)65535, (signed char)-3,
             (unsigned char)200);
    fmt_case("[%5d] [%-5d] [%05d] [%+d] [% d] [%+d]", 42, 42, 42, 42, 42, -42);
    fmt_case("[%.3d] [%8.3d] [%-8.3d] [%.0d] [%.0d]", 7, 7, 7, 0, 1);
    fmt_case("[%*d] [%-*d] [%.*d] [%*d]", 6, 1, 6, 1, 4, 1, -6, 1);
    fmt_case("[%s] [%10s] [%-10s] [%.3s] [%10.2s] [%.*s]", "abc", "abc", "abc", "abcdef", "abc",
             2, "xyz");
    fmt_case("[%c] [%3c] [%-3c]", 'x', 'y', 'z');
    fmt_case("100%% [%02x %02x]", 0xau, 0xabu);
    fmt_case("[%#010x] [%#10x] [%-#10x]", 0x1234u, 0x1234u, 0x1234u);
    fmt_case("%p", (void *)0x1234);
    /* truncation: the return value is the full length, the buffer always terminated */
    char small[6];
    int n = vam_snprintf(small, sizeof small, "%s-%d", "abcdef", 12345);
    CHECK(n == 12 && strcmp(small, "abcde") == 0, "truncated: %d \"%s\"", n, small);
    CHECK(vam_snprintf(NULL, 0, "%d", 123456) == 6, "size 0 counts");
    char one[1] = { 'x' };
    CHECK(vam_snprintf(one, 1, "abc") == 3 && one[0] == 0, "size 1");
    printf("format: %d cases agree with the host's printf\n", nformat);
}

/* ---- NOPs ---------------------------------------------------------------------------- */

/* Zydis decodes [p, p+n) as NOPs only. */
static bool zydis_all_nops(const uint8_t *p, size_t n)
{
    for (size_t pos = 0; pos < n;) {
        ZydisDecodedInstruction in;
        ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
        if (!ab_x86_decode(&Z.x, 0, p + pos, n - pos, &in, ops) || !ab_x86_is_nop(&in, ops))
            return false;
        pos += in.length;
    }
    return true;
}

static void test_nops(void)
{
    for (size_t n = 0; n <= 64; n++) {
        uint8_t buf[64 + 1];
        memset(buf, 0xcc, sizeof buf);
        vam_fill_nops(buf, n);
        size_t bad = 99;
        CHECK(vam_is_nops(buf, n, &bad), "fill %zu: not NOPs at %zu", n, bad);
        CHECK(zydis_all_nops(buf, n), "fill %zu: Zydis sees something else", n);
        CHECK(buf[n] == 0xcc, "fill %zu wrote past its end", n);
        /* the fewest instructions: ceil(n / 9) */
        size_t count = 0;
        for (size_t pos = 0; pos < n; count++)
            pos += vam_nop_len(buf + pos, n - pos);
        CHECK(count == (n + 8) / 9, "fill %zu uses %zu instructions", n, count);
    }
    /* forms assemblers emit that the recogniser must accept */
    static const struct {
        uint8_t n;
        uint8_t b[12];
    } yes[] = {
        { 1, { 0x90 } }, { 2, { 0x66, 0x90 } }, { 3, { 0x66, 0x66, 0x90 } },
        { 10, { 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 } },
        { 11, { 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 } },
        { 4, { 0x0f, 0x1f, 0x40, 0x00 } }, { 3, { 0x0f, 0x1f, 0xc0 } },
        { 7, { 0x0f, 0x1f, 0x05, 1, 2, 3, 4 } },
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        char h[48];
        hex(h, sizeof h, yes[i].b, yes[i].n);
        CHECK(vam_nop_len(yes[i].b, yes[i].n) == yes[i].n, "[%s] is one NOP", h);
        CHECK(zydis_all_nops(yes[i].b, yes[i].n), "[%s] Zydis agrees", h);
        CHECK(vam_nop_len(yes[i].b, yes[i].n - 1u) == 0, "[%s] truncated is no NOP", h);
    }
    static const struct {
        uint8_t n;
        uint8_t b[8];
    } no[] = {
        { 1, { 0xcc } }, { 2, { 0x89, 0xc0 } }, { 2, { 0xf3, 0x90 } },   /* pause */
        { 2, { 0x41, 0x90 } },                                          /* xchg %eax,%r8d */
        { 3, { 0x0f, 0x1f, 0xc8 } },                                    /* reg != 0 */
        { 3, { 0x0f, 0x0d, 0x00 } }, { 0, { 0 } },
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        char h[48];
        hex(h, sizeof h, no[i].b, no[i].n);
        CHECK(vam_nop_len(no[i].b, no[i].n) == 0, "[%s] is not a NOP", h);
    }
}

/* ---- replacement forms ------------------------------------------------------------------- */

/* Zydis's view of one replacement: the mnemonic and operands the plan asks for. */
static bool zydis_is_replacement(const uint8_t *p, size_t n, const struct vam_plan *plan,
                                 char *why, size_t whylen)
{
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ab_x86_decode(&Z.x, 0, p, n, &in, ops)) {
        snprintf(why, whylen, "does not decode");
        return false;
    }
    static const ZydisMnemonic mn[VAM_RW_FORM_COUNT] = {
        [VAM_RW_ANDB] = ZYDIS_MNEMONIC_AND, [VAM_RW_ORB] = ZYDIS_MNEMONIC_OR,
        [VAM_RW_XORB] = ZYDIS_MNEMONIC_XOR, [VAM_RW_PUSHQ] = ZYDIS_MNEMONIC_PUSH,
        [VAM_RW_LOADW] = ZYDIS_MNEMONIC_MOV, [VAM_RW_LOADZX] = ZYDIS_MNEMONIC_MOVZX,
        [VAM_RW_CALL] = ZYDIS_MNEMONIC_CALL, [VAM_RW_JMP] = ZYDIS_MNEMONIC_JMP,
    };
    char text[96];
    ab_x86_format(&Z.x, &in, ops, ZYDIS_RUNTIME_ADDRESS_NONE, text, sizeof text);
    snprintf(why, whylen, "'%s'", text);
    if (in.mnemonic != mn[plan->form] || in.length != plan->len)
        return false;
    /* the memory operand: absolute, the planned field, no base or index */
    const ZydisDecodedOperand *mem = NULL, *other = NULL;
    for (unsigned i = 0; i < in.operand_count_visible; i++) {
        if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY)
            mem = &ops[i];
        else
            other = &ops[i];
    }
    if (!mem || mem->mem.base != ZYDIS_REGISTER_NONE || mem->mem.index != ZYDIS_REGISTER_NONE ||
        (uint64_t)mem->mem.disp.value != VAM_ADDR(plan->field) ||
        mem->mem.segment != ZYDIS_REGISTER_DS)
        return false;
    switch (plan->form) {
    case VAM_RW_ANDB: case VAM_RW_ORB: case VAM_RW_XORB:
        return mem->size == 8 && other && other->type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
               (uint8_t)other->imm.value.u == plan->imm;
    case VAM_RW_PUSHQ:
        return mem->size == 64 && !other;
    case VAM_RW_CALL: case VAM_RW_JMP:
        return mem->size == 64 && in.meta.branch_type == ZYDIS_BRANCH_TYPE_NEAR;
    case VAM_RW_LOADW:
        return mem->size == 16 && other && other->type == ZYDIS_OPERAND_TYPE_REGISTER &&
               ZydisRegisterGetClass(other->reg.value) == ZYDIS_REGCLASS_GPR16 &&
               ZydisRegisterGetId(other->reg.value) == plan->reg;
    case VAM_RW_LOADZX:
        return mem->size == 16 && other && other->type == ZYDIS_OPERAND_TYPE_REGISTER &&
               ZydisRegisterGetClass(other->reg.value) == ZYDIS_REGCLASS_GPR32 &&
               ZydisRegisterGetId(other->reg.value) == plan->reg;
    default:
        return false;
    }
}

static void test_replacements(void)
{
    int n = 0;
    for (unsigned form = VAM_RW_ANDB; form < VAM_RW_FORM_COUNT; form++)
        for (unsigned field = 0; field < VAM_OFF_END; field += 8)
            for (unsigned reg = 0; reg < 16; reg++) {
                bool has_reg = form == VAM_RW_LOADW || form == VAM_RW_LOADZX;
                if (!has_reg && reg)
                    break;
                struct vam_plan p = { .form = (uint8_t)form, .reg = (uint8_t)reg,
                                      .imm = (uint8_t)(field * 3 + 1), .field = (uint16_t)field };
                if (form > VAM_RW_XORB)
                    p.imm = 0;
                uint8_t buf[16];
                unsigned len = vam_patch_encode(&p, buf, sizeof buf);
                p.len = (uint8_t)len;
                CHECK(len >= 7 && len <= VAM_RW_MAX_LEN, "%s length %u",
                      vam_rw_form_name(form), len);
                CHECK(vam_patch_encode(&p, buf, len - 1) == 0, "%s fits %u bytes",
                      vam_rw_form_name(form), len - 1);
                struct vam_plan back;
                CHECK(vam_decode_replacement(buf, len, &back) && back.form == p.form &&
                      back.len == len && back.field == p.field &&
                      (!has_reg || back.reg == p.reg) && back.imm == p.imm,
                      "%s field 0x%x reg %u does not decode back", vam_rw_form_name(form), field,
                      reg);
                CHECK(!vam_decode_replacement(buf, len - 1, &back), "%s truncated decodes",
                      vam_rw_form_name(form));
                char why[128];
                CHECK(zydis_is_replacement(buf, len, &p, why, sizeof why),
                      "%s field 0x%x reg %u: Zydis sees %s", vam_rw_form_name(form), field, reg,
                      why);
                n++;
            }
    /* what the replacement decoder must refuse */
    static const struct {
        uint8_t n;
        uint8_t b[12];
    } no[] = {
        { 7, { 0xff, 0x14, 0x25, 0x00, 0x00, 0x00, 0x00 } },       /* call *0: not the area */
        { 7, { 0xff, 0x14, 0x24, 0x00, 0x00, 0xe0, 0xff } },       /* SIB with a base */
        { 7, { 0xff, 0x15, 0x00, 0x00, 0xe0, 0xff, 0x00 } },       /* rip-relative */
        { 8, { 0x42, 0xff, 0x14, 0x25, 0x00, 0x00, 0xe0, 0xff } }, /* REX.X: %r12 index */
        { 9, { 0x66, 0x48, 0x8b, 0x04, 0x25, 0x10, 0x00, 0xe0, 0xff } },  /* REX.W */
        { 8, { 0x8b, 0x04, 0x25, 0x10, 0x00, 0xe0, 0xff, 0x00 } }, /* movl, not movw */
        { 8, { 0x80, 0x3c, 0x25, 0x01, 0x00, 0xe0, 0xff, 0xfd } }, /* cmpb */
        { 7, { 0xff, 0x04, 0x25, 0x00, 0x00, 0xe0, 0xff } },       /* incl */
        { 7, { 0xff, 0x14, 0x25, 0x00, 0x07, 0xe0, 0xff } },       /* past the area */
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        struct vam_plan back;
        char h[48];
        hex(h, sizeof h, no[i].b, no[i].n);
        CHECK(!vam_decode_replacement(no[i].b, no[i].n, &back), "[%s] accepted as form %s", h,
              vam_rw_form_name(back.form));
    }
    printf("replacements: %d encodings decode back and agree with Zydis\n", n);
}

/* ---- layout, errors, counters, text ------------------------------------------------------ */

static void test_layout(void)
{
    CHECK(vam_abs32(0) == (int32_t)0xffe00000, "base disp32");
    CHECK((uint64_t)(int64_t)vam_abs32(VAM_OFF_END - 1) == VAM_ADDR(VAM_OFF_END - 1),
          "the end of the area is reachable with a sign-extended disp32");
    CHECK(VAM_ADDR(VAM_OFF_IF_BYTE) == VAM_LAYOUT_BASE + 1 &&
          (VAM_IF_BYTE_MASK << 8) == VAM_RFLAGS_IF, "IF byte and mask");
    CHECK(VAM_OFF_ENTRY(AB_KIND_MAX) <= VAM_OFF_JUMP(0), "an entry slot for every kind");
    struct vam_fixed f;
    memset(&f, 0, sizeof f);
    uint8_t *base = (uint8_t *)&f;
    base[VAM_OFF_IF_BYTE] = VAM_IF_BYTE_MASK;
    CHECK(f.rflags == VAM_RFLAGS_IF, "the IF byte is IF of rflags (little-endian)");
    base[VAM_OFF_SEL(VAM_SREG_FS)] = 0x2b;
    CHECK(f.sel[VAM_SREG_FS] == 0x2b, "selector slots");
}

static void test_errors(void)
{
    struct vam_error e;
    enum vam_status st = vam_fail_site(&e, VAM_ERR_PAD, 0xffffffff81000123ull, 1, 17,
                                       "pad too small: %u < %u", 5, 8);
    CHECK(st == VAM_ERR_PAD && e.code == VAM_ERR_PAD && e.has_site && e.record == 17 &&
          e.kind == 1 && e.addr == 0xffffffff81000123ull, "fields");
    CHECK(strcmp(e.msg, "site 0xffffffff81000123 (cli, record 17): pad too small: 5 < 8") == 0,
          "message: %s", e.msg);
    vam_fail_site(&e, VAM_ERR_KIND, 0x1000, 77, 3, "x");
    CHECK(strcmp(e.msg, "site 0x1000 (kind 77, record 3): x") == 0, "unknown kind: %s", e.msg);
    vam_fail_site(&e, VAM_ERR_RECORD, 0x1000, AB_KIND_MODE, 0, "y");
    CHECK(strcmp(e.msg, "site 0x1000 (mode, record 0): y") == 0, "marker: %s", e.msg);
    /* long messages are cut, never overrun */
    char longs[600];
    memset(longs, 'a', sizeof longs - 1);
    longs[sizeof longs - 1] = 0;
    vam_fail(&e, VAM_ERR_NOTE, "%s", longs);
    CHECK(strlen(e.msg) == sizeof e.msg - 1, "cut at %zu", strlen(e.msg));
    CHECK(vam_fail(NULL, VAM_ERR_NOTE, "no error struct") == VAM_ERR_NOTE, "NULL");
    for (int s = VAM_OK; s <= VAM_ERR_TABLE; s++)
        CHECK(strcmp(vam_status_name((enum vam_status)s), "?") != 0, "status %d named", s);
}

static void test_stats(void)
{
    struct vam_stats s;
    vam_stats_reset(&s);
    s.sites[1] = 803;
    s.rewritten[1] = 800;
    s.skipped_mode[1] = 3;
    s.sites[38] = 43;
    s.skipped_template[38] = 43;
    s.by_form[VAM_RW_ANDB] = 800;
    s.exec[1] = 123456789012ull;
    s.bytes_replacement = 6400;
    s.bytes_nop = 0;
    char buf[2048];
    int n = vam_stats_format(&s, buf, sizeof buf);
    CHECK(n > 0 && (size_t)n == strlen(buf), "length");
    CHECK(strstr(buf, "\ncli              803       800          3        0 123456789012\n"),
          "cli line:\n%s", buf);
    CHECK(strstr(buf, "\nstac              43         0          0       43            0\n") !=
              NULL, "stac line:\n%s", buf);
    CHECK(strstr(buf, "\ntotal            846       800          3       43 123456789012\n") !=
              NULL, "total line:\n%s", buf);
    CHECK(strstr(buf, "forms: andb 800\n") != NULL, "forms:\n%s", buf);
    char small[16];
    CHECK(vam_stats_format(&s, small, sizeof small) == n && strlen(small) == 15, "truncated");
}

static void test_insn_text(void)
{
    static const struct {
        uint8_t n;
        uint8_t b[12];
        const char *text;
    } cases[] = {
        { 3, { 0x0f, 0x22, 0xd8 }, "mov %rax, %cr3" },
        { 4, { 0x44, 0x0f, 0x20, 0xc7 }, "mov %cr8, %rdi" },
        { 3, { 0x0f, 0x21, 0xf8 }, "mov %dr7, %rax" },
        { 2, { 0xf3, 0x6e }, "rep outsb" },
        { 3, { 0x65, 0xf3, 0x6f }, "rep outsl %gs:(%rsi)" },
        { 7, { 0x0f, 0x01, 0x15, 0x10, 0x00, 0x00, 0x00 }, "lgdt 0x10(%rip)" },
        { 8, { 0x0f, 0x01, 0x14, 0x25, 0xf0, 0xff, 0xff, 0xff }, "lgdt -0x10" },
        { 5, { 0x0f, 0x01, 0x44, 0x24, 0x08 }, "sgdt 0x8(%rsp)" },
        { 4, { 0x42, 0xff, 0x2c, 0xa0 }, "ljmpl *(%rax,%r12,4)" },
        { 3, { 0x48, 0xca, 0x08 }, "" },      /* truncated: must not decode */
        { 4, { 0x48, 0xca, 0x08, 0x00 }, "lretq $0x8" },
        { 2, { 0xe6, 0x80 }, "out %al, $0x80" },
        { 2, { 0x66, 0xed }, "in %dx, %ax" },
        { 4, { 0x41, 0x8c, 0xe9 }, "mov %gs, %r9d" },
        { 3, { 0x66, 0x0f, 0xa8 }, "pushw %gs" },
        { 4, { 0x0f, 0x02, 0x07 }, "lar (%rdi), %eax" },
        { 5, { 0xf3, 0x49, 0x0f, 0xae, 0xdd }, "wrgsbase %r13" },
        { 2, { 0xcd, 0x80 }, "int $0x80" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct vam_insn d;
        char text[96] = "";
        enum vam_decode_result r = vam_decode(cases[i].b, cases[i].n, AB_MODE_64, &d);
        if (!*cases[i].text) {
            CHECK(r == VAM_DEC_TRUNCATED, "case %zu decodes", i);
            continue;
        }
        if (r == VAM_DEC_OK)
            vam_insn_format(&d, text, sizeof text);
        CHECK(r == VAM_DEC_OK && strcmp(text, cases[i].text) == 0, "\"%s\", expected \"%s\"",
              text, cases[i].text);
        char tiny[4];
        CHECK(vam_insn_format(&d, tiny, sizeof tiny) == (int)strlen(text) && strlen(tiny) == 3,
              "formatter truncation");
    }
    for (unsigned op = 0; op < VAM_OP_COUNT; op++)
        CHECK(strcmp(vam_op_name(op), "?") != 0, "op %u has a name", op);
}

int main(void)
{
    if (!zyref_init(&Z))
        return 2;
    test_string();
    test_format();
    test_nops();
    test_replacements();
    test_layout();
    test_errors();
    test_stats();
    test_insn_text();
    return test_done("vam-unit");
}
