#include <vam/stats.h>
#include <vam/lib.h>

#include <afterburn/kinds.h>

_Static_assert(AB_KIND_MAX <= VAM_STATS_KINDS, "a counter per kind");

void vam_stats_reset(struct vam_stats *s)
{
    memset(s, 0, sizeof *s);
}

struct text {
    char *buf;
    size_t size, len;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = t->len < t->size ? t->size - t->len : 0;
    int n = vam_vsnprintf(room ? t->buf + t->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
}

int vam_stats_format(const struct vam_stats *s, char *buf, size_t size)
{
    struct text t = { buf, size, 0 };
    if (size)
        buf[0] = 0;
    add(&t, "%-12s %7s %9s %10s %8s %12s\n", "kind", "sites", "rewritten", "other-mode",
        "template", "executed");
    uint64_t tot[5] = { 0 };
    char kb[16];
    for (unsigned k = 1; k < VAM_STATS_KINDS; k++) {
        if (!s->sites[k] && !s->rewritten[k] && !s->skipped_mode[k] &&
            !s->skipped_template[k] && !s->exec[k])
            continue;
        add(&t, "%-12s %7u %9u %10u %8u %12llu\n", vam_kind_name(k, kb), s->sites[k],
            s->rewritten[k], s->skipped_mode[k], s->skipped_template[k],
            (unsigned long long)s->exec[k]);
        tot[0] += s->sites[k];
        tot[1] += s->rewritten[k];
        tot[2] += s->skipped_mode[k];
        tot[3] += s->skipped_template[k];
        tot[4] += s->exec[k];
    }
    add(&t, "%-12s %7llu %9llu %10llu %8llu %12llu\n", "total", (unsigned long long)tot[0],
        (unsigned long long)tot[1], (unsigned long long)tot[2], (unsigned long long)tot[3],
        (unsigned long long)tot[4]);
    add(&t, "forms:");
    for (unsigned f = 1; f < VAM_RW_FORM_COUNT; f++)
        if (s->by_form[f])
            add(&t, " %s %u", vam_rw_form_name(f), s->by_form[f]);
    add(&t, "\nbytes: %llu replacement, %llu nop\n", (unsigned long long)s->bytes_replacement,
        (unsigned long long)s->bytes_nop);
    return t.len > 0x7fffffff ? 0x7fffffff : (int)t.len;
}
