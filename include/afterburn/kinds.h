/*
 * Read-only view of sensitive.def for tools and the VAM: one row per kind.
 */
#ifndef AFTERBURN_KINDS_H
#define AFTERBURN_KINDS_H

#include "abi.h"

struct ab_kind_info {
    uint8_t id;
    const char *name;
    enum ab_class cls;
    enum ab_placement place;
    const char *reason;
};

static const struct ab_kind_info ab_kind_table[] = {
#define AB_KIND(id, name, cls, place, reason) \
    { id, name, AB_CLASS_##cls, AB_PAD_##place, reason },
#include "sensitive.def"
#undef AB_KIND
};

#define AB_KIND_COUNT (sizeof(ab_kind_table) / sizeof(ab_kind_table[0]))

/* NULL for an id that is not in the table (including AB_KIND_MODE). */
static inline const struct ab_kind_info *ab_kind_lookup(unsigned id)
{
    for (unsigned i = 0; i < AB_KIND_COUNT; i++)
        if (ab_kind_table[i].id == id)
            return &ab_kind_table[i];
    return 0;
}

/* Minimum site length (instruction + padding) for a kind; 0 = no site. */
static inline unsigned ab_kind_min_site(unsigned id)
{
    const struct ab_kind_info *k = ab_kind_lookup(id);
    return k ? ab_class_min_site(k->cls) : 0;
}

#endif
