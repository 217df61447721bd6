/*
 * vam-pack: puts a guest kernel, its initramfs and its command line into
 * one file, the module Xen hands the VAM (vam/include/vam/pack.h).
 *
 *   vam-pack -o OUT --kernel vmlinux [--initrd initramfs.cpio]
 *            [--cmdline "console=ttyS0 ..."] [--protocol linux|test-guest]
 *   vam-pack --list PACK        checks a pack as the VAM does and lists it
 */
#include "vam/pack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "vam-pack: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open %s", path);
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (n == cap && !(buf = realloc(buf, cap *= 2)))
            die("out of memory reading %s", path);
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    if (ferror(f))
        die("error reading %s", path);
    fclose(f);
    *size = n;
    return buf;
}

static void usage(void)
{
    fprintf(stderr, "usage: vam-pack -o OUT --kernel FILE [--initrd FILE] [--cmdline TEXT]\n"
                    "                [--protocol linux|test-guest]\n"
                    "       vam-pack --list PACK\n");
    exit(2);
}

static int list(const char *path)
{
    size_t size;
    uint8_t *buf = read_file(path, &size);
    struct vam_pack p;
    struct vam_error e;
    if (vam_pack_open(&p, buf, size, &e)) {
        fprintf(stderr, "vam-pack: %s: %s\n", path, e.msg);
        return 1;
    }
    printf("%s: protocol %s, %u files\n", path,
           p.protocol == VAM_PACK_LINUX ? "linux" : "test-guest", p.count);
    for (unsigned i = 0; i < p.count; i++)
        printf("  %-8s %10llu bytes at %#llx\n", p.file[i].name,
               (unsigned long long)p.file[i].size,
               (unsigned long long)(p.file[i].data - buf));
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    const char *out = NULL, *paths[2] = {NULL, NULL}, *cmdline = NULL;
    unsigned protocol = VAM_PACK_LINUX;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--list") && v)
            return list(v);
        if (!v)
            usage();
        if (!strcmp(a, "-o"))
            out = v;
        else if (!strcmp(a, "--kernel"))
            paths[0] = v;
        else if (!strcmp(a, "--initrd"))
            paths[1] = v;
        else if (!strcmp(a, "--cmdline"))
            cmdline = v;
        else if (!strcmp(a, "--protocol"))
            protocol = !strcmp(v, "linux") ? VAM_PACK_LINUX
                       : !strcmp(v, "test-guest") ? VAM_PACK_TEST_GUEST
                       : (die("unknown protocol %s (linux, test-guest)", v), 0);
        else
            usage();
        i++;
    }
    if (!out || !paths[0])
        usage();

    const char *names[3] = {"kernel", "initrd", "cmdline"};
    const uint8_t *data[3] = {NULL, NULL, NULL};
    size_t sizes[3] = {0, 0, 0};
    unsigned count = 0;
    uint8_t *owned[2] = {NULL, NULL};
    struct vam_pack_entry ent[3];
    memset(ent, 0, sizeof ent);
    for (unsigned k = 0; k < 3; k++) {
        if (k < 2 && paths[k])
            data[k] = owned[k] = read_file(paths[k], &sizes[k]);
        else if (k == 2 && cmdline)
            data[k] = (const uint8_t *)cmdline, sizes[k] = strlen(cmdline) + 1;
        else
            continue;
        strncpy(ent[count].name, names[k], VAM_PACK_NAME_LEN);
        ent[count].size = sizes[k];
        data[count] = data[k], sizes[count] = sizes[k];
        count++;
    }
    uint64_t off = sizeof(struct vam_pack_header) + count * sizeof(struct vam_pack_entry);
    for (unsigned k = 0; k < count; k++) {
        off = (off + VAM_PACK_ALIGN - 1) & ~(uint64_t)(VAM_PACK_ALIGN - 1);
        ent[k].offset = off;
        off += ent[k].size;
    }
    struct vam_pack_header h = {.version = VAM_PACK_VERSION, .count = count,
                                .protocol = protocol, .size = off};
    memcpy(h.magic, VAM_PACK_MAGIC, 8);

    FILE *f = fopen(out, "wb");
    if (!f)
        die("cannot create %s", out);
    uint64_t pos = 0;
    static const uint8_t zero[VAM_PACK_ALIGN];
    if (fwrite(&h, sizeof h, 1, f) != 1 || fwrite(ent, sizeof ent[0], count, f) != count)
        die("error writing %s", out);
    pos = sizeof h + count * sizeof ent[0];
    for (unsigned k = 0; k < count; k++) {
        if (fwrite(zero, 1, ent[k].offset - pos, f) != ent[k].offset - pos ||
            fwrite(data[k], 1, sizes[k], f) != sizes[k])
            die("error writing %s", out);
        pos = ent[k].offset + sizes[k];
    }
    if (fclose(f))
        die("error writing %s", out);
    free(owned[0]);
    free(owned[1]);
    printf("vam-pack: %s: %u files, %llu bytes\n", out, count, (unsigned long long)off);
    return 0;
}
