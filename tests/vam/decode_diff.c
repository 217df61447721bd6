/*
 * Differential test of the VAM's decoder (vam/decode.c) against Zydis, over
 * generated encodings (no assembler: bytes are built directly):
 *
 *  1. every ModRM byte (and SIB byte) of every ModRM-bearing sensitive
 *     opcode, under many prefix combinations (operand/address size, REX
 *     variants, F2/F3 in both orders, LOCK, segment overrides, a REX voided
 *     by a later prefix, over-long prefix runs), with disp8/disp32/rip-
 *     relative forms and several displacement values;
 *  2. every prefix combination on the opcodes without ModRM, with several
 *     immediates (ports, vectors, lret counts);
 *  3. random byte strings biased towards the sensitive opcodes;
 *  4. a list of byte strings that are not sensitive and must be rejected;
 *  5. every truncation of the sensitive encodings: "truncated", read only
 *     inside the exact-size buffer (ASan checks).
 *
 * For each string both decoders run; when Zydis (with the inspector's
 * classifier) calls it a sensitive instruction of a kind with sites, the
 * VAM must decode it to the same kind, length and operands; otherwise the
 * VAM must reject it.
 */
#include "testutil.h"
#include "zyref.h"

#include <vam/decode.h>

#include <afterburn/kinds.h>

#include <string.h>

static struct zyref Z;
static long compared, sensitive, rejected, disagreements;
static long per_kind[AB_KIND_MAX];
static bool collect_truncations;

/* Sensitive encodings kept for the truncation test. */
#define MAX_KEEP 60000
static uint8_t keep[MAX_KEEP][16];
static uint8_t keep_len[MAX_KEEP];
static size_t nkeep;

static void report(const uint8_t *p, size_t n, const char *what, const char *detail)
{
    disagreements++;
    if (disagreements > 40 && !getenv("VAM_DIFF_ALL"))
        return;
    char h[64];
    hex(h, sizeof h, p, n);
    fprintf(stderr, "DISAGREE [%s] %s: %s\n", h, what, detail);
}

static void compare(const uint8_t *p, size_t n)
{
    struct vam_insn want, got;
    char ztext[128], vtext[128], why[512];
    /* An exact-size copy: reading past n is an ASan error. */
    uint8_t *buf = malloc(n ? n : 1);
    memcpy(buf, p, n);
    bool zs = zyref_decode(&Z, buf, n, &want, ztext, sizeof ztext);
    enum vam_decode_result r = vam_decode(buf, n, AB_MODE_64, &got);
    compared++;
    if (r == VAM_DEC_OK) {
        int tl = vam_insn_format(&got, vtext, sizeof vtext);
        if (tl <= 0 || (size_t)tl >= sizeof vtext)
            report(p, n, "format", "empty or overlong text");
    }
    if (!zs) {
        if (r == VAM_DEC_OK) {
            snprintf(why, sizeof why, "vam decodes '%s' (kind %u), zydis: not sensitive '%s'",
                     vtext, got.kind, ztext);
            report(p, n, "vam-only", why);
        } else {
            rejected++;
        }
        free(buf);
        return;
    }
    if (r != VAM_DEC_OK) {
        snprintf(why, sizeof why, "zydis '%s' (kind %u), vam result %d", ztext, want.kind, r);
        report(p, n, "zydis-only", why);
        free(buf);
        return;
    }
    if (zyref_compare(&got, &want, why, sizeof why)) {
        char msg[1024];
        snprintf(msg, sizeof msg, "zydis '%s', vam '%s':%s (vam/zydis)", ztext, vtext, why);
        report(p, n, "operands", msg);
    }
    sensitive++;
    per_kind[got.kind]++;
    if (collect_truncations && nkeep < MAX_KEEP && got.len <= n && (compared % 5) == 0) {
        memcpy(keep[nkeep], p, got.len);
        keep_len[nkeep++] = got.len;
    }
    free(buf);
}

/* Compares p exactly, and followed by a NOP (so the decoders must find the end). */
static void compare_both(const uint8_t *p, size_t n)
{
    uint8_t b[32];
    compare(p, n);
    memcpy(b, p, n);
    memcpy(b + n, "\x0f\x1f\x44\x00\x00", 5);
    compare(b, n + 5);
}

struct prefixes {
    uint8_t n;
    uint8_t b[14];
};

static const struct prefixes all_prefixes[] = {
    { 0, { 0 } }, { 1, { 0x66 } }, { 1, { 0x67 } }, { 1, { 0xf2 } }, { 1, { 0xf3 } },
    { 1, { 0xf0 } }, { 1, { 0x2e } }, { 1, { 0x3e } }, { 1, { 0x26 } }, { 1, { 0x36 } },
    { 1, { 0x64 } }, { 1, { 0x65 } }, { 1, { 0x40 } }, { 1, { 0x41 } }, { 1, { 0x42 } },
    { 1, { 0x44 } }, { 1, { 0x48 } }, { 1, { 0x4f } }, { 2, { 0x66, 0x48 } },
    { 2, { 0x48, 0x66 } }, { 2, { 0xf3, 0x48 } }, { 2, { 0x66, 0xf3 } }, { 2, { 0xf3, 0x66 } },
    { 2, { 0xf2, 0xf3 } }, { 2, { 0xf3, 0xf2 } }, { 3, { 0x66, 0x67, 0x41 } },
    { 3, { 0x65, 0x67, 0x4c } }, { 2, { 0x64, 0x65 } }, { 2, { 0x65, 0x2e } },
    { 2, { 0x41, 0x48 } }, { 2, { 0x48, 0x41 } }, { 2, { 0xf0, 0x66 } },
    { 12, { 0xf3, 0xf3, 0xf3, 0xf3, 0xf3, 0xf3, 0xf3, 0xf3, 0xf3, 0xf3, 0xf3, 0x66 } },
    { 13, { 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x66 } },
};
#define NPREFIXES (sizeof all_prefixes / sizeof all_prefixes[0])

/* Prefixes for the full SIB sweep (REX.X/B matter there, and 67). */
static const struct prefixes sib_prefixes[] = {
    { 0, { 0 } }, { 1, { 0x43 } }, { 1, { 0x67 } }, { 1, { 0x4a } }, { 2, { 0x65, 0x41 } },
};

static const uint8_t disp8_values[] = { 0x00, 0x7f, 0x80, 0xf0 };
static const uint32_t disp32_values[] = { 0, 0x12345678, 0x80000000, 0xfffffff0 };
static const uint8_t imm8_values[] = { 0x00, 0x60, 0x80, 0xff };
static const uint16_t imm16_values[] = { 0x0000, 0x0008, 0x8000, 0xffff };
static unsigned variant;

/* The ModRM-bearing opcodes of the sensitive set; imm: immediate bytes after. */
struct opcode {
    uint8_t n;
    uint8_t b[3];
    uint8_t imm;
};

static const struct opcode modrm_opcodes[] = {
    { 1, { 0x8c }, 0 }, { 1, { 0x8e }, 0 }, { 1, { 0xff }, 0 },
    { 2, { 0x0f, 0x00 }, 0 }, { 2, { 0x0f, 0x01 }, 0 }, { 2, { 0x0f, 0x02 }, 0 },
    { 2, { 0x0f, 0x03 }, 0 }, { 2, { 0x0f, 0x20 }, 0 }, { 2, { 0x0f, 0x21 }, 0 },
    { 2, { 0x0f, 0x22 }, 0 }, { 2, { 0x0f, 0x23 }, 0 }, { 2, { 0x0f, 0xae }, 0 },
    { 3, { 0x0f, 0x38, 0x82 }, 0 },
    /* neighbours that are not sensitive */
    { 2, { 0x0f, 0x1f }, 0 }, { 1, { 0x8d }, 0 }, { 1, { 0x8b }, 0 }, { 2, { 0x0f, 0x18 }, 0 },
    { 3, { 0x0f, 0x38, 0x80 }, 0 },
};

static const struct opcode plain_opcodes[] = {
    { 1, { 0xfa }, 0 }, { 1, { 0xfb }, 0 }, { 1, { 0x9c }, 0 }, { 1, { 0x9d }, 0 },
    { 1, { 0xf4 }, 0 }, { 1, { 0xcf }, 0 }, { 1, { 0xcb }, 0 }, { 1, { 0xca }, 2 },
    { 1, { 0xcd }, 1 }, { 1, { 0xe4 }, 1 }, { 1, { 0xe5 }, 1 }, { 1, { 0xe6 }, 1 },
    { 1, { 0xe7 }, 1 }, { 1, { 0xec }, 0 }, { 1, { 0xed }, 0 }, { 1, { 0xee }, 0 },
    { 1, { 0xef }, 0 }, { 1, { 0x6c }, 0 }, { 1, { 0x6d }, 0 }, { 1, { 0x6e }, 0 },
    { 1, { 0x6f }, 0 }, { 2, { 0x0f, 0x06 }, 0 }, { 2, { 0x0f, 0x07 }, 0 },
    { 2, { 0x0f, 0x08 }, 0 }, { 2, { 0x0f, 0x09 }, 0 }, { 2, { 0x0f, 0x30 }, 0 },
    { 2, { 0x0f, 0x32 }, 0 }, { 2, { 0x0f, 0x33 }, 0 }, { 2, { 0x0f, 0x35 }, 0 },
    { 2, { 0x0f, 0xa2 }, 0 }, { 2, { 0x0f, 0xa0 }, 0 }, { 2, { 0x0f, 0xa1 }, 0 },
    { 2, { 0x0f, 0xa8 }, 0 }, { 2, { 0x0f, 0xa9 }, 0 },
    /* not sensitive: class NONE, invalid in 64-bit mode, or unrelated */
    { 1, { 0xcc }, 0 }, { 1, { 0xce }, 0 }, { 2, { 0x0f, 0x31 }, 0 }, { 2, { 0x0f, 0x05 }, 0 },
    { 2, { 0x0f, 0x34 }, 0 }, { 2, { 0x0f, 0x0b }, 0 }, { 1, { 0x90 }, 0 }, { 1, { 0xc3 }, 0 },
    { 1, { 0x06 }, 0 }, { 1, { 0x07 }, 0 }, { 1, { 0x0e }, 0 }, { 1, { 0x16 }, 0 },
    { 1, { 0x17 }, 0 }, { 1, { 0x1e }, 0 }, { 1, { 0x1f }, 0 }, { 1, { 0x9a }, 6 },
    { 1, { 0xea }, 6 }, { 1, { 0xc2 }, 2 }, { 1, { 0xd6 }, 0 },
};

static size_t put_disp(uint8_t *b, unsigned size)
{
    variant++;
    if (size == 1) {
        b[0] = disp8_values[variant % 4];
        return 1;
    }
    uint32_t v = disp32_values[variant % 4];
    memcpy(b, &v, 4);
    return 4;
}

static size_t put_imm(uint8_t *b, unsigned size)
{
    variant++;
    if (size == 1) {
        b[0] = imm8_values[variant % 4];
    } else if (size == 2) {
        uint16_t v = imm16_values[variant % 4];
        memcpy(b, &v, 2);
    } else {
        for (unsigned i = 0; i < size; i++)
            b[i] = (uint8_t)(0x11 * (i + 1));
    }
    return size;
}

/* prefix + opcode + modrm [+ sib] + displacement + immediate */
static void emit_modrm(const struct prefixes *px, const struct opcode *op, uint8_t modrm,
                       int sib)
{
    uint8_t b[32];
    size_t n = 0;
    memcpy(b, px->b, px->n);
    n += px->n;
    memcpy(b + n, op->b, op->n);
    n += op->n;
    b[n++] = modrm;
    unsigned mod = modrm >> 6, rm = modrm & 7;
    unsigned disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
    if (mod != 3 && rm == 4) {
        b[n++] = (uint8_t)sib;
        if (mod == 0 && (sib & 7) == 5)
            disp = 4;
    } else if (mod == 0 && rm == 5) {
        disp = 4;
    }
    if (mod != 3 && disp)
        n += put_disp(b + n, disp);
    n += put_imm(b + n, op->imm);
    compare_both(b, n);
}

static const int few_sibs[] = { 0x24, 0x25, 0x20, 0x65, 0xe5, 0x1c, 0xa3, 0x3d, 0x05, 0xff };

static void sweep_modrm(void)
{
    for (size_t o = 0; o < sizeof modrm_opcodes / sizeof modrm_opcodes[0]; o++) {
        const struct opcode *op = &modrm_opcodes[o];
        for (size_t p = 0; p < NPREFIXES; p++)
            for (unsigned m = 0; m < 256; m++) {
                if ((m >> 6) != 3 && (m & 7) == 4) {
                    for (size_t s = 0; s < sizeof few_sibs / sizeof few_sibs[0]; s++)
                        emit_modrm(&all_prefixes[p], op, (uint8_t)m, few_sibs[s]);
                } else {
                    emit_modrm(&all_prefixes[p], op, (uint8_t)m, -1);
                }
            }
        /* every SIB byte */
        for (size_t p = 0; p < sizeof sib_prefixes / sizeof sib_prefixes[0]; p++)
            for (unsigned mod = 0; mod < 3; mod++)
                for (unsigned reg = 0; reg < 8; reg++)
                    for (unsigned sib = 0; sib < 256; sib++)
                        emit_modrm(&sib_prefixes[p], op, (uint8_t)(mod << 6 | reg << 3 | 4),
                                   (int)sib);
    }
}

static void sweep_plain(void)
{
    for (size_t o = 0; o < sizeof plain_opcodes / sizeof plain_opcodes[0]; o++)
        for (size_t p = 0; p < NPREFIXES; p++)
            for (unsigned v = 0; v < 4; v++) {
                uint8_t b[32];
                size_t n = 0;
                const struct opcode *op = &plain_opcodes[o];
                memcpy(b, all_prefixes[p].b, all_prefixes[p].n);
                n += all_prefixes[p].n;
                memcpy(b + n, op->b, op->n);
                n += op->n;
                n += put_imm(b + n, op->imm);
                compare_both(b, n);
                if (!op->imm)
                    break;
            }
}

/* fixed seed: the same strings every run */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned rnd(unsigned n)
{
    return test_rnd(&rng, n);
}

static void sweep_random(long count)
{
    static const uint8_t pool[] = { 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e,
                                    0x64, 0x65, 0x40, 0x41, 0x44, 0x48, 0x4c, 0x4f, 0x45 };
    for (long i = 0; i < count; i++) {
        uint8_t b[16];
        size_t n = 0;
        unsigned np = rnd(5);
        for (unsigned k = 0; k < np; k++)
            b[n++] = pool[rnd(sizeof pool)];
        unsigned pick = rnd(100);
        if (pick < 45) {
            const struct opcode *op = &modrm_opcodes[rnd(13)];
            memcpy(b + n, op->b, op->n);
            n += op->n;
        } else if (pick < 85) {
            const struct opcode *op = &plain_opcodes[rnd(34)];
            memcpy(b + n, op->b, op->n);
            n += op->n;
        } else if (pick < 95) {
            b[n++] = 0x0f;
        }
        while (n < sizeof b)
            b[n++] = (uint8_t)rnd(256);
        compare(b, sizeof b);
        /* and a random-length prefix of it */
        compare(b, 1 + rnd(sizeof b));
    }
}

/* Must be rejected by both. */
static void explicit_negatives(void)
{
    static const struct {
        uint8_t n;
        uint8_t b[8];
    } neg[] = {
        { 1, { 0x90 } },                    /* nop */
        { 2, { 0x89, 0xc3 } },              /* mov %eax, %ebx */
        { 2, { 0x0f, 0x31 } },              /* rdtsc: class NONE */
        { 3, { 0x0f, 0x01, 0xf9 } },        /* rdtscp: class NONE */
        { 1, { 0xcc } },                    /* int3: class NONE */
        { 1, { 0xce } },                    /* into: invalid in 64-bit mode */
        { 3, { 0x0f, 0x01, 0xd0 } },        /* xgetbv */
        { 3, { 0x0f, 0x01, 0xc1 } },        /* vmcall */
        { 3, { 0x0f, 0x01, 0xd9 } },        /* vmmcall */
        { 3, { 0x0f, 0x01, 0xe8 } },        /* serialize */
        { 2, { 0x8c, 0xf0 } },              /* mov from sreg 6 */
        { 2, { 0x8e, 0xc8 } },              /* mov to %cs */
        { 3, { 0x0f, 0x20, 0xc8 } },        /* mov %cr1 */
        { 3, { 0x0f, 0x20, 0xe8 } },        /* mov %cr5 */
        { 4, { 0x44, 0x0f, 0x21, 0xc0 } },  /* mov %dr8 */
        { 2, { 0xf0, 0xfa } },              /* lock cli */
        { 4, { 0xf0, 0x0f, 0x20, 0xc0 } },  /* lock mov %cr0 (AMD's cr8 alias) */
        { 3, { 0x0f, 0xae, 0xc0 } },        /* rdfsbase without F3 */
        { 4, { 0xf3, 0x0f, 0xae, 0x00 } },  /* F3 0f ae /0 with memory */
        { 4, { 0x0f, 0x38, 0x82, 0x00 } },  /* invpcid without 66 */
        { 5, { 0x66, 0x0f, 0x38, 0x82, 0xc0 } },   /* invpcid register form */
        { 4, { 0x66, 0x0f, 0x01, 0xc8 } },  /* monitor with 66 */
        { 4, { 0xf3, 0x0f, 0x01, 0xd1 } },  /* xsetbv with F3 */
        { 2, { 0xff, 0xe8 } },              /* ljmp register form */
        { 2, { 0xff, 0x20 } },              /* jmp *(%rax): near */
        { 3, { 0x0f, 0x01, 0x28 } },        /* 0f 01 /5 memory */
        { 3, { 0x0f, 0x00, 0x30 } },        /* 0f 00 /6 */
        { 1, { 0x17 } },                    /* pop %ss: invalid in 64-bit mode */
        { 1, { 0x1e } },                    /* push %ds: invalid in 64-bit mode */
        { 7, { 0x9a, 1, 2, 3, 4, 5, 6 } },  /* lcall ptr16:32: invalid in 64-bit mode */
        { 0, { 0 } },                       /* nothing */
    };
    for (size_t i = 0; i < sizeof neg / sizeof neg[0]; i++) {
        struct vam_insn got, want;
        uint8_t *buf = malloc(neg[i].n ? neg[i].n : 1);
        memcpy(buf, neg[i].b, neg[i].n);
        enum vam_decode_result r = vam_decode(buf, neg[i].n, AB_MODE_64, &got);
        char h[32];
        hex(h, sizeof h, neg[i].b, neg[i].n);
        if (neg[i].n == 0)
            CHECK(r == VAM_DEC_TRUNCATED, "empty input: result %d, expected truncated", r);
        else
            CHECK(r == VAM_DEC_NOT_SENSITIVE, "[%s] vam result %d, expected not sensitive", h,
                  r);
        CHECK(!zyref_decode(&Z, buf, neg[i].n, &want, NULL, 0),
              "[%s] the reference calls it sensitive", h);
        free(buf);
    }
    /* Other modes are never decoded. */
    struct vam_insn got;
    CHECK(vam_decode((const uint8_t *)"\xfa", 1, AB_MODE_32, &got) == VAM_DEC_OTHER_MODE, "32");
    CHECK(vam_decode((const uint8_t *)"\xfa", 1, AB_MODE_16, &got) == VAM_DEC_OTHER_MODE, "16");
}

static void truncations(void)
{
    long n = 0;
    for (size_t i = 0; i < nkeep; i++)
        for (unsigned k = 0; k < keep_len[i]; k++) {
            struct vam_insn got;
            uint8_t *buf = malloc(k ? k : 1);
            memcpy(buf, keep[i], k);
            enum vam_decode_result r = vam_decode(buf, k, AB_MODE_64, &got);
            if (r != VAM_DEC_TRUNCATED) {
                char h[64];
                hex(h, sizeof h, keep[i], k);
                CHECK(r == VAM_DEC_TRUNCATED, "[%s] (first %u of %u bytes) result %d", h, k,
                      keep_len[i], r);
            }
            free(buf);
            n++;
        }
    printf("truncations: %ld prefixes of %zu sensitive encodings, all reported truncated\n", n,
           nkeep);
}

int main(void)
{
    if (!zyref_init(&Z))
        return 2;
    collect_truncations = true;
    sweep_modrm();
    long after_modrm = compared;
    sweep_plain();
    long after_plain = compared;
    collect_truncations = false;
    sweep_random(400000);
    printf("generated: %ld ModRM-form and %ld other encodings; random: %ld strings\n",
           after_modrm, after_plain - after_modrm, compared - after_plain);
    printf("compared %ld byte strings: %ld sensitive (same kind, length and operands "
           "required), %ld rejected by both, %ld disagreements\n", compared, sensitive,
           rejected, disagreements);
    printf("expected operands corrected for the Zydis 4.0 67+REX.B+SIB-base-5 bug: %ld\n",
           zyref_corrections);
    printf("sensitive encodings per kind:");
    for (size_t k = 0; k < AB_KIND_COUNT; k++) {
        const struct ab_kind_info *ki = &ab_kind_table[k];
        if (ki->cls == AB_CLASS_NONE)
            continue;
        printf(" %s %ld", ki->name, per_kind[ki->id]);
        /* into exists only outside 64-bit mode */
        if (strcmp(ki->name, "into") != 0)
            CHECK(per_kind[ki->id] > 0, "no encoding of kind %s was compared", ki->name);
    }
    printf("\n");
    CHECK(disagreements == 0, "%ld disagreements with Zydis", disagreements);
    explicit_negatives();
    truncations();
    return test_done("vam-decode-diff");
}
