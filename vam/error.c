#include <vam/error.h>
#include <vam/lib.h>

#include <afterburn/kinds.h>

const char *vam_status_name(enum vam_status s)
{
    switch (s) {
    case VAM_OK: return "ok";
    case VAM_ERR_TRUNCATED: return "truncated";
    case VAM_ERR_NOT_ELF: return "not-elf";
    case VAM_ERR_ELF_CLASS: return "elf-class";
    case VAM_ERR_ELF_DATA: return "elf-data";
    case VAM_ERR_MACHINE: return "machine";
    case VAM_ERR_ELF_TYPE: return "elf-type";
    case VAM_ERR_PHDR: return "phdr";
    case VAM_ERR_SHDR: return "shdr";
    case VAM_ERR_NO_NOTES: return "no-notes";
    case VAM_ERR_NOTE: return "note";
    case VAM_ERR_VERSION: return "version";
    case VAM_ERR_NOSPACE: return "nospace";
    case VAM_ERR_RECORD: return "record";
    case VAM_ERR_KIND: return "kind";
    case VAM_ERR_PLACE: return "place";
    case VAM_ERR_OVERLAP: return "overlap";
    case VAM_ERR_PAD: return "pad";
    case VAM_ERR_DECODE: return "decode";
    case VAM_ERR_PADDING: return "padding";
    case VAM_ERR_REWRITE: return "rewrite";
    case VAM_ERR_MEMORY: return "memory";
    case VAM_ERR_TABLE: return "table";
    case VAM_ERR_PACK: return "pack";
    }
    return "?";
}

const char *vam_kind_name(unsigned kind, char buf[16])
{
    const struct ab_kind_info *k = ab_kind_lookup(kind);
    if (k)
        return k->name;
    if (kind == AB_KIND_MODE)
        return "mode";
    vam_snprintf(buf, 16, "kind %u", kind);
    return buf;
}

enum vam_status vam_fail(struct vam_error *e, enum vam_status code, const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    e->has_site = false;
    e->kind = 0;
    e->record = 0;
    e->addr = 0;
    va_list ap;
    va_start(ap, fmt);
    vam_vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

enum vam_status vam_fail_site(struct vam_error *e, enum vam_status code, uint64_t addr,
                              unsigned kind, uint32_t record, const char *fmt, ...)
{
    if (!e)
        return code;
    char kbuf[16];
    e->code = code;
    e->has_site = true;
    e->kind = (uint8_t)kind;
    e->record = record;
    e->addr = addr;
    int n = vam_snprintf(e->msg, sizeof e->msg, "site 0x%llx (%s, record %u): ",
                         (unsigned long long)addr, vam_kind_name(kind, kbuf), record);
    if (n < 0 || (size_t)n >= sizeof e->msg)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vam_vsnprintf(e->msg + n, sizeof e->msg - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}
