/*
 * Reading a VAM pack (vam/pack.h): every field is checked against the
 * buffer before anything is used, so a corrupt module is an error that
 * names the entry, never an access outside the module.
 */
#include "vam/pack.h"
#include "vam/lib.h"

bool vam_pack_is(const void *buf, size_t size)
{
    return size >= 8 && memcmp(buf, VAM_PACK_MAGIC, 8) == 0;
}

static bool known_name(const char *n)
{
    return !strcmp(n, "kernel") || !strcmp(n, "initrd") || !strcmp(n, "cmdline");
}

enum vam_status vam_pack_open(struct vam_pack *p, const void *buf, size_t size,
                              struct vam_error *e)
{
    const uint8_t *b = buf;
    struct vam_pack_header h;
    memset(p, 0, sizeof *p);
    if (size < sizeof h)
        return vam_fail(e, VAM_ERR_PACK, "pack: %zu bytes, shorter than its header (%zu)", size,
                        sizeof h);
    memcpy(&h, b, sizeof h);
    if (memcmp(h.magic, VAM_PACK_MAGIC, 8))
        return vam_fail(e, VAM_ERR_PACK, "pack: bad magic");
    if (h.version != VAM_PACK_VERSION)
        return vam_fail(e, VAM_ERR_PACK, "pack: version %u, but this VAM reads version %u",
                        h.version, VAM_PACK_VERSION);
    if (h.size != size)
        return vam_fail(e, VAM_ERR_PACK, "pack: header says %llu bytes, the module has %zu "
                        "(truncated or padded)", (unsigned long long)h.size, size);
    if (h.protocol != VAM_PACK_TEST_GUEST && h.protocol != VAM_PACK_LINUX)
        return vam_fail(e, VAM_ERR_PACK, "pack: unknown boot protocol %u", h.protocol);
    if (h.count == 0 || h.count > VAM_PACK_MAX_ENTRIES)
        return vam_fail(e, VAM_ERR_PACK, "pack: %u entries (1 to %u allowed)", h.count,
                        VAM_PACK_MAX_ENTRIES);
    if (h.reserved)
        return vam_fail(e, VAM_ERR_PACK, "pack: reserved header field is %u, not 0",
                        h.reserved);
    uint64_t table_end = sizeof h + (uint64_t)h.count * sizeof(struct vam_pack_entry);
    if (table_end > size)
        return vam_fail(e, VAM_ERR_PACK, "pack: entry table (%u entries) runs past the end",
                        h.count);
    p->protocol = h.protocol;
    p->count = h.count;
    for (unsigned i = 0; i < h.count; i++) {
        struct vam_pack_entry en;
        memcpy(&en, b + sizeof h + i * sizeof en, sizeof en);
        char *name = p->file[i].name;
        memcpy(name, en.name, VAM_PACK_NAME_LEN);
        name[VAM_PACK_NAME_LEN] = 0;
        for (unsigned k = (unsigned)strlen(name); k < VAM_PACK_NAME_LEN; k++)
            if (en.name[k])
                return vam_fail(e, VAM_ERR_PACK, "pack entry %u: name not NUL-padded", i);
        if (!known_name(name))
            return vam_fail(e, VAM_ERR_PACK, "pack entry %u: unknown file name \"%s\"", i, name);
        for (unsigned j = 0; j < i; j++)
            if (!strcmp(p->file[j].name, name))
                return vam_fail(e, VAM_ERR_PACK, "pack entry %u: a second \"%s\"", i, name);
        if (en.reserved)
            return vam_fail(e, VAM_ERR_PACK, "pack entry %u (%s): reserved field not 0", i, name);
        if (en.offset % VAM_PACK_ALIGN || en.offset < table_end)
            return vam_fail(e, VAM_ERR_PACK, "pack entry %u (%s): offset %#llx is not a 4 KiB-"
                            "aligned offset after the entry table", i, name,
                            (unsigned long long)en.offset);
        if (en.offset > size || en.size > size - en.offset)
            return vam_fail(e, VAM_ERR_PACK, "pack entry %u (%s): %llu bytes at %#llx run past "
                            "the end of the pack (%zu bytes)", i, name,
                            (unsigned long long)en.size, (unsigned long long)en.offset, size);
        for (unsigned j = 0; j < i; j++) {
            uint64_t o = (uint64_t)(p->file[j].data - b), s = p->file[j].size;
            if (en.offset < o + s && o < en.offset + en.size)
                return vam_fail(e, VAM_ERR_PACK, "pack entry %u (%s) overlaps entry %u (%s)", i,
                                name, j, p->file[j].name);
        }
        p->file[i].data = b + en.offset;
        p->file[i].size = en.size;
    }
    if (!vam_pack_file(p, "kernel", NULL))
        return vam_fail(e, VAM_ERR_PACK, "pack: no \"kernel\" entry");
    return VAM_OK;
}

const uint8_t *vam_pack_file(const struct vam_pack *p, const char *name, uint64_t *size)
{
    for (unsigned i = 0; i < p->count; i++)
        if (!strcmp(p->file[i].name, name)) {
            if (size)
                *size = p->file[i].size;
            return p->file[i].data;
        }
    if (size)
        *size = 0;
    return 0;
}
