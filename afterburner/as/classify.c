/*
 * Which assembler statements are virtualization-sensitive instructions.
 * The kinds and the reason for each are in include/afterburn/sensitive.def;
 * this file only knows how each kind is spelt in GNU as.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rewrite.h"

struct spelling {
    const char *mnemonic;
    unsigned kind;
};

/* Mnemonics that are sensitive whatever their operands.  Suffixed AT&T
 * forms and the Intel spellings gas accepts are listed explicitly. */
static const struct spelling fixed_spellings[] = {
    {"cli", 1}, {"sti", 2},
    {"pushf", 3}, {"pushfq", 3}, {"pushfl", 3}, {"pushfw", 3}, {"pushfd", 3},
    {"popf", 4}, {"popfq", 4}, {"popfl", 4}, {"popfw", 4}, {"popfd", 4},
    {"hlt", 5},
    {"iret", 6}, {"iretq", 6}, {"iretl", 6}, {"iretw", 6}, {"iretd", 6},
    {"sysret", 7}, {"sysretq", 7}, {"sysretl", 7},
    {"sysexit", 8}, {"sysexitl", 8}, {"sysexitq", 8},
    {"swapgs", 9},
    {"ljmp", 10}, {"ljmpw", 10}, {"ljmpl", 10}, {"ljmpq", 10},
    {"lcall", 10}, {"lcallw", 10}, {"lcalll", 10}, {"lcallq", 10},
    {"lret", 10}, {"lretw", 10}, {"lretl", 10}, {"lretq", 10},
    {"retf", 10}, {"retfw", 10}, {"retfd", 10}, {"retfq", 10},
    {"clts", 13},
    {"lmsw", 14}, {"lmsww", 14},
    {"smsw", 15}, {"smsww", 15}, {"smswl", 15}, {"smswq", 15},
    {"lgdt", 16}, {"lgdtw", 16}, {"lgdtl", 16}, {"lgdtq", 16},
    {"lidt", 16}, {"lidtw", 16}, {"lidtl", 16}, {"lidtq", 16},
    {"lldt", 16}, {"lldtw", 16}, {"ltr", 16}, {"ltrw", 16},
    {"sgdt", 17}, {"sgdtw", 17}, {"sgdtl", 17}, {"sgdtq", 17},
    {"sidt", 17}, {"sidtw", 17}, {"sidtl", 17}, {"sidtq", 17},
    {"sldt", 17}, {"sldtw", 17}, {"sldtl", 17}, {"sldtq", 17},
    {"str", 17}, {"strw", 17}, {"strl", 17}, {"strq", 17},
    {"lar", 20}, {"larw", 20}, {"larl", 20}, {"larq", 20},
    {"lsl", 20}, {"lslw", 20}, {"lsll", 20}, {"lslq", 20},
    {"verr", 20}, {"verrw", 20}, {"verw", 20}, {"verww", 20},
    {"invlpg", 21}, {"invpcid", 22},
    {"invd", 23}, {"wbinvd", 23}, {"wbnoinvd", 23},
    {"rdmsr", 24}, {"wrmsr", 25}, {"rdpmc", 26}, {"cpuid", 27}, {"xsetbv", 28},
    {"in", 29}, {"inb", 29}, {"inw", 29}, {"inl", 29},
    {"out", 30}, {"outb", 30}, {"outw", 30}, {"outl", 30},
    {"ins", 31}, {"insb", 31}, {"insw", 31}, {"insl", 31}, {"insd", 31},
    {"outs", 32}, {"outsb", 32}, {"outsw", 32}, {"outsl", 32}, {"outsd", 32},
    {"into", 34}, {"int3", 35},
    {"monitor", 36}, {"mwait", 37},
    {"stac", 38}, {"clac", 39},
    {"rdfsbase", 40}, {"rdgsbase", 40}, {"wrfsbase", 40}, {"wrgsbase", 40},
    {"rdtsc", 41}, {"rdtscp", 42},
};

/* Encodings the kernel writes as .byte for old assemblers. */
static const struct {
    unsigned char bytes[4];
    unsigned len, kind;
} byte_spellings[] = {
    {{0x0f, 0x01, 0xca}, 3, 39},  /* clac */
    {{0x0f, 0x01, 0xcb}, 3, 38},  /* stac */
    {{0x0f, 0x01, 0xf8}, 3, 9},   /* swapgs */
    {{0x0f, 0x01, 0xc8}, 3, 36},  /* monitor */
    {{0x0f, 0x01, 0xc9}, 3, 37},  /* mwait */
    {{0x0f, 0x01, 0xd1}, 3, 28},  /* xsetbv */
    {{0x0f, 0x01, 0xd0}, 3, 0},   /* xgetbv: not sensitive, listed to be explicit */
    {{0x0f, 0x30}, 2, 25},        /* wrmsr */
    {{0x0f, 0x32}, 2, 24},        /* rdmsr */
    {{0x0f, 0xa2}, 2, 27},        /* cpuid */
    {{0x0f, 0x09}, 2, 23},        /* wbinvd */
};

/* Copies operand `i` (top-level comma separated) of `ops` into `dst`,
 * trimmed, lowercased, without a leading '%'.  Returns the operand count. */
static int operand(const char *ops, int want, char *dst, size_t cap)
{
    int idx = 0, depth = 0;
    const char *start = ops;
    size_t n = 0;
    dst[0] = 0;
    for (const char *p = ops;; p++) {
        if (*p == '(' || *p == '[')
            depth++;
        else if ((*p == ')' || *p == ']') && depth > 0)
            depth--;
        if (*p == 0 || (*p == ',' && depth == 0)) {
            if (idx == want) {
                const char *s = start, *e = p;
                while (s < e && isspace((unsigned char)*s))
                    s++;
                while (e > s && isspace((unsigned char)e[-1]))
                    e--;
                if (s < e && *s == '%')
                    s++;
                for (n = 0; s < e && n + 1 < cap; s++)
                    dst[n++] = (char)tolower((unsigned char)*s);
                dst[n] = 0;
            }
            idx++;
            if (*p == 0)
                break;
            start = p + 1;
        }
    }
    /* "rdmsr" has no operands: an empty string counts as none. */
    for (const char *p = ops; *p; p++)
        if (!isspace((unsigned char)*p))
            return idx;
    return 0;
}

static int is_segreg(const char *r)
{
    static const char *const segs[] = {"cs", "ds", "es", "fs", "gs", "ss"};
    for (size_t i = 0; i < sizeof segs / sizeof segs[0]; i++)
        if (strcmp(r, segs[i]) == 0)
            return 1;
    return 0;
}

static int is_numbered_reg(const char *r, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(r, prefix, n) != 0 || !r[n])
        return 0;
    for (const char *p = r + n; *p; p++)
        if (!isdigit((unsigned char)*p))
            return 0;
    return 1;
}

static unsigned classify_mov(const char *ops, int intel)
{
    char a[64], b[64];
    int n = operand(ops, 0, a, sizeof a);
    operand(ops, 1, b, sizeof b);
    if (n != 2)
        return 0;
    const char *dst = intel ? a : b;
    const char *src = intel ? b : a;
    if (is_numbered_reg(a, "cr") || is_numbered_reg(b, "cr"))
        return 11;
    if (is_numbered_reg(a, "dr") || is_numbered_reg(b, "dr") ||
        is_numbered_reg(a, "db") || is_numbered_reg(b, "db"))
        return 12;
    if (strcmp(dst, "ss") == 0)
        return 19;
    if (is_segreg(dst) || is_segreg(src))
        return 18;
    return 0;
}

static unsigned classify_pushpop(const char *ops, int is_pop)
{
    char a[64];
    if (operand(ops, 0, a, sizeof a) != 1)
        return 0;
    if (is_pop && strcmp(a, "ss") == 0)
        return 19;
    return is_segreg(a) ? 18 : 0;
}

static int cmp_spelling(const void *a, const void *b)
{
    return strcmp(((const struct spelling *)a)->mnemonic, ((const struct spelling *)b)->mnemonic);
}

/* The fixed spellings, sorted once for binary search: classification runs
 * on every instruction statement of the kernel. */
static const struct spelling *sorted_spellings(void)
{
    static struct spelling sorted[sizeof fixed_spellings / sizeof fixed_spellings[0]];
    static int ready;
    if (!ready) {
        memcpy(sorted, fixed_spellings, sizeof sorted);
        qsort(sorted, sizeof sorted / sizeof sorted[0], sizeof sorted[0], cmp_spelling);
        ready = 1;
    }
    return sorted;
}

unsigned ab_classify(const char *mnemonic, const char *ops, int intel)
{
    char m[16];
    size_t n = strlen(mnemonic);
    if (n >= sizeof m)
        return 0;   /* longer than any sensitive mnemonic */
    for (size_t i = 0; i <= n; i++)
        m[i] = (char)tolower((unsigned char)mnemonic[i]);
    if (!strcmp(m, "mov") || !strcmp(m, "movl") || !strcmp(m, "movq") || !strcmp(m, "movw"))
        return classify_mov(ops, intel);
    if (!strcmp(m, "push") || !strcmp(m, "pushw") || !strcmp(m, "pushl") || !strcmp(m, "pushq"))
        return classify_pushpop(ops, 0);
    if (!strcmp(m, "pop") || !strcmp(m, "popw") || !strcmp(m, "popl") || !strcmp(m, "popq"))
        return classify_pushpop(ops, 1);
    if (!strcmp(m, "int")) {
        /* gas encodes `int $3` as the one-byte int3 (0xcc). */
        char a[64];
        operand(ops, 0, a, sizeof a);
        const char *v = a[0] == '$' ? a + 1 : a;
        char *end;
        long vector = strtol(v, &end, 0);
        if (*v && *end == 0 && vector == 3)
            return 35;
        return 33;
    }
    struct spelling key = {m, 0};
    const struct spelling *hit =
        bsearch(&key, sorted_spellings(), sizeof fixed_spellings / sizeof fixed_spellings[0],
                sizeof key, cmp_spelling);
    return hit ? hit->kind : 0;
}

unsigned ab_classify_bytes(const char *ops)
{
    unsigned char bytes[8];
    unsigned n = 0;
    const char *p = ops;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        char *end;
        unsigned long v = strtoul(p, &end, 0);
        if (end == p || v > 0xff || n == sizeof bytes)
            return 0;
        bytes[n++] = (unsigned char)v;
        p = end;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == ',')
            p++;
        else if (*p)
            return 0;
    }
    for (size_t i = 0; i < sizeof byte_spellings / sizeof byte_spellings[0]; i++)
        if (byte_spellings[i].len == n && memcmp(byte_spellings[i].bytes, bytes, n) == 0)
            return byte_spellings[i].kind;
    return 0;
}
