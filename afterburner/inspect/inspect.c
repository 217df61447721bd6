#include "inspect.h"

#include "allow.h"
#include "audit.h"
#include "diag.h"
#include "image.h"
#include "notes.h"
#include "report.h"
#include "verify.h"
#include "x86.h"

#include <afterburn/kinds.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void emit(const struct ab_report *r, FILE *out, FILE *err)
{
    if (r->opt->json) {
        ab_report_json(r, out);
        if (r->fatal)
            fprintf(err, "%s: error: %s\n", r->name, r->fatal);
    } else {
        ab_report_text(r, out, err);
    }
}

static int fatal(struct ab_report *r, const char *why, FILE *out, FILE *err)
{
    r->fatal = why;
    emit(r, out, err);
    return AB_EXIT_FAIL;
}

/* Without any note there is nothing to verify: that is the failure --verify
 * exists to catch (a kernel built without afterburn-as). */
static void check_annotated(const struct ab_records *rec, const struct ab_options *opt,
                            struct ab_diags *d)
{
    if (rec->nnotes == 0)
        ab_diag_add(d, opt->verify ? AB_SEV_ERROR : AB_SEV_WARNING, NULL, NULL,
                    "no afterburn annotations (no \"%s\" note in any SHT_NOTE section)",
                    AB_NOTE_NAME);
}

static void check_allow_entries_used(const struct ab_allow_list *allow, struct ab_diags *d)
{
    for (size_t i = 0; allow && i < allow->n; i++) {
        const struct ab_kind_info *k = ab_kind_lookup(allow->v[i].kind);
        if (!allow->v[i].uses)
            ab_diag_add(d, AB_SEV_WARNING, NULL, NULL,
                        "allow entry '%s %s' (line %u) matched nothing", allow->v[i].symbol,
                        k ? k->name : "?", allow->v[i].line);
    }
}

int ab_inspect_buffer(const char *name, uint8_t *buf, size_t size,
                      const struct ab_options *opt, FILE *out, FILE *err)
{
    struct ab_report r = { .name = name, .opt = opt, .allow = opt->allow };
    char why[512];
    struct ab_image img;
    if (!ab_image_open(&img, name, buf, size, why, sizeof why)) {
        ab_image_close(&img);
        return fatal(&r, why, out, err);
    }
    struct ab_x86 x86;
    if (!ab_x86_init(&x86, why, sizeof why)) {
        ab_image_close(&img);
        fatal(&r, why, out, err);
        return AB_EXIT_USAGE;
    }
    struct ab_diags diags = { 0 };
    struct ab_records rec;
    struct ab_audit audit;
    ab_records_read(&img, &rec, &diags);
    check_annotated(&rec, opt, &diags);
    if (opt->verify)
        ab_verify(&img, &rec, &x86, &diags);
    if (opt->audit) {
        for (size_t i = 0; opt->allow && i < opt->allow->n; i++)
            opt->allow->v[i].uses = 0;
        ab_audit_run(&img, &rec, &x86, opt->allow, &audit);
        check_allow_entries_used(opt->allow, &diags);
    }
    r.img = &img;
    r.rec = &rec;
    r.x86 = &x86;
    r.diags = &diags;
    r.audit = opt->audit ? &audit : NULL;
    emit(&r, out, err);
    int status = ab_report_failed(&r) ? AB_EXIT_FAIL : AB_EXIT_OK;
    if (opt->audit)
        ab_audit_free(&audit);
    ab_records_free(&rec);
    ab_diags_free(&diags);
    ab_image_close(&img);
    return status;
}

static bool read_whole_file(const char *path, uint8_t **buf, size_t *size, char *why,
                            size_t whylen)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        if (f)
            fclose(f);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "not a regular file");
        fclose(f);
        return false;
    }
    *size = (size_t)st.st_size;
    *buf = ab_xrealloc(NULL, *size ? *size : 1, 1);
    bool ok = fread(*buf, 1, *size, f) == *size;
    if (!ok)
        snprintf(why, whylen, "cannot read: %s", ferror(f) ? strerror(errno) : "short read");
    fclose(f);
    return ok;
}

int ab_inspect_file(const char *path, const struct ab_options *opt, FILE *out, FILE *err)
{
    uint8_t *buf = NULL;
    size_t size = 0;
    char why[512];
    if (!read_whole_file(path, &buf, &size, why, sizeof why)) {
        free(buf);
        struct ab_report r = { .name = path, .opt = opt };
        return fatal(&r, why, out, err);
    }
    int status = ab_inspect_buffer(path, buf, size, opt, out, err);
    free(buf);
    return status;
}
