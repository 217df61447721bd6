/*
 * ab-roundtrip ORIG.o REWRITTEN.o [ORIG2.o REWRITTEN2.o ...]
 *
 * Checks that the afterburner changed nothing but padding: for every
 * executable section, the instruction stream of the original object and
 * that of the afterburnt object are the same once no-ops are removed.
 * Relative operands (branches, RIP-relative memory) are compared by the
 * index of the instruction they reach, since padding moves code; bytes that
 * carry relocations are zero in both objects (RELA), so they compare equal.
 *
 * No-op removal is deliberately broad (nop forms and int3, which gas and
 * the kernel use as alignment fill) because alignment padding legitimately
 * differs between the two objects; afterburn-inspect checks the sites
 * themselves.
 */
#include <Zydis/Zydis.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "x86.h"

struct insn {
    uint64_t off;
    ZydisDecodedInstruction d;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
};

struct stream {
    struct insn *v;
    size_t n, cap;
    size_t removed_bytes;
};

struct object {
    const char *path;
    int fd;
    Elf *elf;
    int is64;
};

static int open_object(struct object *o, const char *path)
{
    o->path = path;
    o->fd = open(path, O_RDONLY);
    if (o->fd < 0) {
        fprintf(stderr, "ab-roundtrip: cannot open %s\n", path);
        return -1;
    }
    o->elf = elf_begin(o->fd, ELF_C_READ, NULL);
    if (!o->elf || elf_kind(o->elf) != ELF_K_ELF) {
        fprintf(stderr, "ab-roundtrip: %s: not an ELF file\n", path);
        return -1;
    }
    o->is64 = gelf_getclass(o->elf) == ELFCLASS64;
    return 0;
}

static void close_object(struct object *o)
{
    if (o->elf)
        elf_end(o->elf);
    if (o->fd >= 0)
        close(o->fd);
}

/* Padding: the no-op forms the inspector accepts in a site (shared with
 * afterburn-inspect), plus int3, which the kernel uses as alignment fill. */
static int is_padding(const ZydisDecodedInstruction *d, const ZydisDecodedOperand *ops)
{
    return d->mnemonic == ZYDIS_MNEMONIC_INT3 || ab_x86_is_nop(d, ops);
}

static void decode_section(const struct object *o, Elf_Data *data, struct stream *s)
{
    ZydisDecoder dec;
    if (o->is64)
        ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    else
        ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
    const uint8_t *buf = data->d_buf;
    size_t size = data->d_buf ? data->d_size : 0;   /* SHT_NOBITS: nothing */
    size_t off = 0;
    while (off < size) {
        struct insn in;
        in.off = off;
        if (ZYAN_FAILED(ZydisDecoderDecodeFull(&dec, buf + off, size - off, &in.d, in.ops))) {
            /* undecodable byte: keep it as a one-byte pseudo instruction */
            memset(&in.d, 0, sizeof in.d);
            in.d.length = 1;
            in.d.mnemonic = ZYDIS_MNEMONIC_INVALID;
            in.d.opcode = buf[off];
        }
        off += in.d.length;
        if (in.d.mnemonic != ZYDIS_MNEMONIC_INVALID && is_padding(&in.d, in.ops)) {
            s->removed_bytes += in.d.length;
            continue;
        }
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 1024;
            s->v = realloc(s->v, s->cap * sizeof *s->v);
            if (!s->v)
                abort();
        }
        s->v[s->n++] = in;
    }
}

/* Index of the first kept instruction at or after `addr`. */
static size_t index_of(const struct stream *s, int64_t addr)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if ((int64_t)s->v[mid].off < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int64_t relative_target(const struct insn *in, const ZydisDecodedOperand *op)
{
    int64_t next = (int64_t)(in->off + in->d.length);
    if (op->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
        return next + op->imm.value.s;
    return next + op->mem.disp.value;
}

static int is_relative(const ZydisDecodedOperand *op)
{
    if (op->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
        return op->imm.is_relative;
    if (op->type == ZYDIS_OPERAND_TYPE_MEMORY)
        return op->mem.base == ZYDIS_REGISTER_RIP || op->mem.base == ZYDIS_REGISTER_EIP;
    return 0;
}

static int same_operand(const struct stream *sa, const struct insn *a, const ZydisDecodedOperand *x,
                        const struct stream *sb, const struct insn *b, const ZydisDecodedOperand *y)
{
    if (x->type != y->type || is_relative(x) != is_relative(y))
        return 0;
    /* padding can push a short branch out of rel8 range: gas relaxes it
     * to rel32, so relative operands may differ in size */
    if (!is_relative(x) && x->size != y->size)
        return 0;
    if (is_relative(x)) {
        if (x->type == ZYDIS_OPERAND_TYPE_MEMORY &&
            (x->mem.index != y->mem.index || x->mem.segment != y->mem.segment))
            return 0;
        return index_of(sa, relative_target(a, x)) == index_of(sb, relative_target(b, y));
    }
    switch (x->type) {
    case ZYDIS_OPERAND_TYPE_REGISTER:
        return x->reg.value == y->reg.value;
    case ZYDIS_OPERAND_TYPE_IMMEDIATE:
        return x->imm.value.u == y->imm.value.u;
    case ZYDIS_OPERAND_TYPE_MEMORY:
        return x->mem.base == y->mem.base && x->mem.index == y->mem.index &&
               x->mem.scale == y->mem.scale && x->mem.segment == y->mem.segment &&
               x->mem.disp.value == y->mem.disp.value;
    case ZYDIS_OPERAND_TYPE_POINTER:
        return x->ptr.segment == y->ptr.segment && x->ptr.offset == y->ptr.offset;
    default:
        return 1;
    }
}

static int same_insn(const struct stream *sa, const struct insn *a, const struct stream *sb,
                     const struct insn *b)
{
    if (a->d.mnemonic != b->d.mnemonic || a->d.operand_count_visible != b->d.operand_count_visible)
        return 0;
    if (a->d.mnemonic == ZYDIS_MNEMONIC_INVALID)
        return a->d.opcode == b->d.opcode;
    for (unsigned k = 0; k < a->d.operand_count_visible; k++)
        if (!same_operand(sa, a, &a->ops[k], sb, b, &b->ops[k]))
            return 0;
    return 1;
}

static void describe(const struct insn *in, char *buf, size_t cap)
{
    ZydisFormatter f;
    ZydisFormatterInit(&f, ZYDIS_FORMATTER_STYLE_ATT);
    if (in->d.mnemonic == ZYDIS_MNEMONIC_INVALID ||
        ZYAN_FAILED(ZydisFormatterFormatInstruction(&f, &in->d, in->ops, in->d.operand_count_visible,
                                                    buf, cap, in->off, NULL)))
        snprintf(buf, cap, "(bad byte 0x%02x)", in->d.opcode);
}

static Elf_Scn *find_section(Elf *elf, const char *name, size_t nth)
{
    size_t shstrndx;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0)
        return NULL;
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn))) {
        GElf_Shdr sh;
        gelf_getshdr(scn, &sh);
        const char *n = elf_strptr(elf, shstrndx, sh.sh_name);
        if (n && strcmp(n, name) == 0 && (sh.sh_flags & SHF_EXECINSTR) && nth-- == 0)
            return scn;
    }
    return NULL;
}

struct totals {
    size_t sections, insns, removed_orig, removed_new;
};

static int compare_pair(const char *orig_path, const char *new_path, struct totals *t)
{
    struct object a = {0}, b = {0};
    a.fd = b.fd = -1;
    int rc = 1;
    if (open_object(&a, orig_path) || open_object(&b, new_path))
        goto out;
    size_t shstrndx;
    if (elf_getshdrstrndx(a.elf, &shstrndx) != 0)
        goto out;
    Elf_Scn *scn = NULL;
    rc = 0;
    /* nth occurrence of each name, for objects with repeated section names */
    while ((scn = elf_nextscn(a.elf, scn)) && rc == 0) {
        GElf_Shdr sh;
        gelf_getshdr(scn, &sh);
        if (!(sh.sh_flags & SHF_EXECINSTR))
            continue;
        const char *name = elf_strptr(a.elf, shstrndx, sh.sh_name);
        size_t nth = 0;
        for (Elf_Scn *p = elf_nextscn(a.elf, NULL); p && p != scn; p = elf_nextscn(a.elf, p)) {
            GElf_Shdr ph;
            gelf_getshdr(p, &ph);
            const char *pn = elf_strptr(a.elf, shstrndx, ph.sh_name);
            if ((ph.sh_flags & SHF_EXECINSTR) && pn && name && strcmp(pn, name) == 0)
                nth++;
        }
        Elf_Scn *other = find_section(b.elf, name, nth);
        if (!other) {
            fprintf(stderr, "ab-roundtrip: %s: section %s missing from %s\n", orig_path, name, new_path);
            rc = 1;
            break;
        }
        struct stream sa = {0}, sb = {0};
        decode_section(&a, elf_getdata(scn, NULL), &sa);
        decode_section(&b, elf_getdata(other, NULL), &sb);
        size_t n = sa.n < sb.n ? sa.n : sb.n;
        for (size_t k = 0; k < n; k++) {
            if (!same_insn(&sa, &sa.v[k], &sb, &sb.v[k])) {
                char x[128], y[128];
                describe(&sa.v[k], x, sizeof x);
                describe(&sb.v[k], y, sizeof y);
                fprintf(stderr,
                        "ab-roundtrip: %s vs %s: section %s, instruction %zu differs:\n"
                        "  original   +0x%llx: %s\n  afterburnt +0x%llx: %s\n",
                        orig_path, new_path, name, k, (unsigned long long)sa.v[k].off, x,
                        (unsigned long long)sb.v[k].off, y);
                rc = 1;
                break;
            }
        }
        if (rc == 0 && sa.n != sb.n) {
            fprintf(stderr, "ab-roundtrip: %s vs %s: section %s has %zu vs %zu instructions\n",
                    orig_path, new_path, name, sa.n, sb.n);
            rc = 1;
        }
        t->sections++;
        t->insns += sa.n;
        t->removed_orig += sa.removed_bytes;
        t->removed_new += sb.removed_bytes;
        free(sa.v);
        free(sb.v);
    }
out:
    close_object(&a);
    close_object(&b);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (argc - 1) % 2 != 0) {
        fprintf(stderr, "usage: ab-roundtrip ORIG.o AFTERBURNT.o [ORIG.o AFTERBURNT.o ...]\n");
        return 2;
    }
    elf_version(EV_CURRENT);
    struct totals t = {0};
    int failed = 0;
    for (int i = 1; i + 1 < argc; i += 2)
        failed += compare_pair(argv[i], argv[i + 1], &t) != 0;
    printf("ab-roundtrip: %d object pairs, %zu executable sections, %zu instructions identical; "
           "no-op bytes %zu -> %zu; %d pairs differ\n",
           (argc - 1) / 2, t.sections, t.insns, t.removed_orig, t.removed_new, failed);
    return failed ? 1 : 0;
}
