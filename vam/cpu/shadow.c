/*
 * The back end's spaces as the guest's TLB (include/vam/shadow.h).
 */
#include "vam/shadow.h"
#include "vam/inject.h"
#include "vam/walk.h"
#include "cpu-internal.h"

#define CR3_KEY_MASK 0x000ffffffffff000ull
#define SIZE_1G (1ull << 30)

void vam_shadow_init(struct vam_shadow *sh, unsigned max_pairs)
{
    cpu_zero(sh, sizeof *sh);
    sh->max_pairs = max_pairs < 1 ? 1 : max_pairs > VAM_SHADOW_MAX_PAIRS ? VAM_SHADOW_MAX_PAIRS
                                                                           : max_pairs;
    sh->active = -1;
    sh->flush_gen = 1;
}

static enum vam_shadow_result error(struct vam_shadow *sh, const char *why)
{
    sh->error = why;
    return VAM_SHADOW_ERROR;
}

const char *vam_shadow_error(const struct vam_shadow *sh)
{
    return sh->error ? sh->error : "no error";
}

/* Flushes one pair: its non-global translations, or all of them. */
static void pair_drop_tables(struct vam_shadow *sh, struct vam_shadow_pair *p);

static void pair_flush(struct vam_shadow *sh, struct vam_shadow_pair *p, bool include_global)
{
    pair_drop_tables(sh, p);        /* its table records describe nothing now */
    p->untracked = false;
    if (include_global) {
        if (p->nonglobal_installed || p->global_installed) {
            be_flush(p->kernel, true);
            be_flush(p->user, true);
        }
        p->nonglobal_installed = p->global_installed = false;
        p->nlarge = 0;
        cpu_zero(p->large, sizeof p->large);
        p->flush_gen = sh->flush_gen;
        return;
    }
    if (p->nonglobal_installed) {
        be_flush(p->kernel, false);
        be_flush(p->user, false);
    }
    p->nonglobal_installed = false;
    /* large pages whose pieces were all non-global are gone */
    for (unsigned i = 0; i < VAM_SHADOW_LARGE; i++)
        if (p->large[i].size && !p->large[i].global) {
            cpu_zero(&p->large[i], sizeof p->large[i]);
            p->nlarge--;
        }
}

/* Replaces a pair's back-end spaces by new, empty ones: a full flush that
 * also gives the back end's page-table frames back (a flush keeps the
 * intermediate tables, which would pile up as ever new processes reuse the
 * pair).  false: no space could be had (the pair is then unused). */
static bool pair_renew(struct vam_shadow *sh, struct vam_shadow_pair *p)
{
    pair_drop_tables(sh, p);
    be_space_destroy(p->kernel);
    be_space_destroy(p->user);
    uint64_t cr3 = p->cr3, last_use = p->last_use;
    cpu_zero(p, sizeof *p);
    be_space_t k = be_space_create(BE_SPACE_KERNEL);
    be_space_t u = k < 0 ? -1 : be_space_create(BE_SPACE_USER);
    if (u < 0 || (sh->kernel_space_created && !sh->kernel_space_created(k, sh->hook_ctx))) {
        if (u >= 0)
            be_space_destroy(u);
        if (k >= 0)
            be_space_destroy(k);
        return false;
    }
    p->used = true;
    p->cr3 = cr3;
    p->last_use = last_use;
    p->kernel = k;
    p->user = u;
    p->flush_gen = sh->flush_gen;
    sh->renewals++;
    return true;
}

/* An inactive pair given back whole: its spaces destroyed, the slot free. */
static void pair_release(struct vam_shadow *sh, struct vam_shadow_pair *p)
{
    pair_drop_tables(sh, p);
    be_space_destroy(p->kernel);
    be_space_destroy(p->user);
    cpu_zero(p, sizeof *p);
}

/* Every pair but the active one is destroyed and the active one renewed:
 * all of the back end's page-table frames come back. */
static bool reclaim(struct vam_shadow *sh)
{
    for (unsigned i = 0; i < sh->max_pairs; i++) {
        struct vam_shadow_pair *p = &sh->pair[i];
        if (p->used && (int)i != sh->active)
            pair_release(sh, p);
    }
    sh->reclaims++;
    sh->fills_at_reclaim = sh->fills;
    if (sh->active < 0)
        return true;
    struct vam_shadow_pair *a = &sh->pair[sh->active];
    if (!pair_renew(sh, a)) {
        sh->active = -1;
        return false;
    }
    be_space_activate(a->kernel, a->user);
    return true;
}

/* The pair for key: found, created, or the least recently used one reused. */
static int get_pair(struct vam_shadow *sh, uint64_t key)
{
    unsigned used = 0;
    int lru = -1;
    for (unsigned i = 0; i < sh->max_pairs; i++) {
        struct vam_shadow_pair *p = &sh->pair[i];
        if (!p->used)
            continue;
        if (p->cr3 == key)
            return (int)i;
        used++;
        if (lru < 0 || p->last_use < sh->pair[lru].last_use)
            lru = (int)i;
    }
    if (used < sh->max_pairs) {
        for (unsigned i = 0; i < sh->max_pairs; i++) {
            struct vam_shadow_pair *p = &sh->pair[i];
            if (p->used)
                continue;
            be_space_t k = be_space_create(BE_SPACE_KERNEL);
            if (k < 0)
                break;
            be_space_t u = be_space_create(BE_SPACE_USER);
            if (u < 0) {
                be_space_destroy(k);
                break;
            }
            if (sh->kernel_space_created && !sh->kernel_space_created(k, sh->hook_ctx)) {
                be_space_destroy(u);
                be_space_destroy(k);
                break;
            }
            cpu_zero(p, sizeof *p);
            p->used = true;
            p->cr3 = key;
            p->kernel = k;
            p->user = u;
            p->flush_gen = sh->flush_gen;
            return (int)i;
        }
    }
    if (lru < 0)
        return -1;
    /* reuse the least recently used pair for the new CR3, with fresh spaces */
    struct vam_shadow_pair *p = &sh->pair[lru];
    if (sh->active == lru)
        sh->active = -1;
    if (!pair_renew(sh, p))
        return -1;
    p->cr3 = key;
    sh->evictions++;
    if (sh->active == lru)
        sh->active = -1;
    return lru;
}

enum vam_shadow_result vam_shadow_set_cr3(struct vam_shadow *sh, struct vam_vcpu *v,
                                          uint64_t cr3)
{
    if (sh->tracking && sh->pt_log_drain &&
        (sh->active < 0 || sh->pair[sh->active].cr3 != (cr3 & CR3_KEY_MASK)))
        sh->pt_log_drain(sh, v, sh->hook_ctx);
    v->cr3 = cr3;
    int i = get_pair(sh, cr3 & CR3_KEY_MASK);
    if (i < 0)
        return error(sh, "no back-end address space for a new CR3");
    struct vam_shadow_pair *p = &sh->pair[i];
    /* a CR3 write flushes the non-global translations; a full flush that
     * happened while this pair was inactive is done now.  With tracking, a
     * switch to another space keeps them: every change of its tables since
     * they were installed has been applied (vam_shadow_pt_written). */
    if (i != sh->active)
        sh->switches++;
    else
        sh->reloads++;
    if (sh->tracking && i != sh->active && !p->untracked) {
        if (p->flush_gen != sh->flush_gen)
            pair_flush(sh, p, true);
        else
            sh->switches_kept++;
    } else {
        pair_flush(sh, p, p->flush_gen != sh->flush_gen);
    }
    p->last_use = ++sh->clock;
    if (sh->active != i) {
        be_space_activate(p->kernel, p->user);
        sh->active = i;
    }
    return VAM_SHADOW_OK;
}

/* Records that a 4 KiB piece of a large page is installed in pair p. */
static void note_large(struct vam_shadow *sh, struct vam_shadow_pair *p, uint64_t va,
                       uint64_t size, bool global)
{
    uint64_t base = va & ~(size - 1);
    struct vam_shadow_large *l = 0;
    for (unsigned i = 0; i < VAM_SHADOW_LARGE && !l; i++)
        if (p->large[i].size == size && p->large[i].va == base)
            l = &p->large[i];
    if (!l) {
        for (unsigned i = 0; i < VAM_SHADOW_LARGE && !l; i++)
            if (!p->large[i].size)
                l = &p->large[i];
        if (!l) {
            pair_flush(sh, p, true);        /* out of room: drop everything (TLB capacity) */
            l = &p->large[0];
        }
        l->va = base;
        l->size = size;
        p->nlarge++;
    }
    l->global = l->global || global;
    if (size != SIZE_1G) {
        unsigned piece = (unsigned)(va >> 12) & 511;
        l->pieces[piece / 64] |= 1ull << (piece % 64);
    }
}

/* ---- page-table tracking ------------------------------------------------------------ */

static struct vam_shadow_table *rec(struct vam_shadow *sh, uint32_t ref)
{
    return ref ? &sh->tables[ref - 1] : 0;
}

/* The record of (frame, pair), or NULL. */
static struct vam_shadow_table *table_find(struct vam_shadow *sh, uint64_t frame, unsigned pair)
{
    if (frame >= sh->nframes)
        return 0;
    for (struct vam_shadow_table *t = rec(sh, sh->frame_tables[frame]); t;
         t = rec(sh, t->next_frame))
        if (t->pair == pair)
            return t;
    return 0;
}

/* Gives a pair's records back to the free list. */
static void pair_drop_tables(struct vam_shadow *sh, struct vam_shadow_pair *p)
{
    uint32_t ref = p->tables;
    while (ref) {
        struct vam_shadow_table *t = rec(sh, ref);
        uint32_t next = t->next_pair;
        uint32_t *link = &sh->frame_tables[t->frame];
        while (*link != ref)
            link = &rec(sh, *link)->next_frame;
        *link = t->next_frame;
        t->next_pair = sh->free_tables;
        sh->free_tables = ref;
        ref = next;
    }
    p->tables = 0;
}

/* Every record free again, and what they described gone. */
static void tables_reset(struct vam_shadow *sh)
{
    for (unsigned i = 0; i < sh->max_pairs; i++)
        if (sh->pair[i].used)
            pair_flush(sh, &sh->pair[i], false);
    sh->pt_table_resets++;
}

/* The record of (frame, pair), made if needed; NULL when the frame is
 * beyond the frame array or no record is free. */
static struct vam_shadow_table *table_get(struct vam_shadow *sh, uint64_t frame, unsigned pair)
{
    struct vam_shadow_table *t = table_find(sh, frame, pair);
    if (t || frame >= sh->nframes || !sh->free_tables)
        return t;
    uint32_t ref = sh->free_tables;
    t = rec(sh, ref);
    sh->free_tables = t->next_pair;
    cpu_zero(t, sizeof *t);
    t->frame = frame;
    t->pair = (uint8_t)pair;
    t->next_frame = sh->frame_tables[frame];
    sh->frame_tables[frame] = ref;
    t->next_pair = sh->pair[pair].tables;
    sh->pair[pair].tables = ref;
    return t;
}

/* A non-global translation of va went into pair `pair`: note the entries
 * its walk used. */
static void track_fill(struct vam_shadow *sh, int pair, uint64_t va, const struct vam_walk *w)
{
    for (unsigned i = 0; i < w->levels; i++) {
        unsigned level = 4 - i;
        uint64_t frame = w->entry_gpa[i] >> 12;
        unsigned idx = (unsigned)(w->entry_gpa[i] & 4095) / 8;
        uint64_t base = va & ~((1ull << (12 + 9 * level)) - 1);
        if (level == 4)
            base = 0;
        struct vam_shadow_table *t = table_get(sh, frame, (unsigned)pair);
        if (!t && frame >= sh->nframes) {
            sh->pair[pair].untracked = true;
            return;
        }
        if (!t) {
            /* out of records: start over (everything non-global goes,
             * this translation included; the guest faults it back) */
            tables_reset(sh);
            return;
        }
        if (!t->level) {
            t->level = (uint8_t)level;
            t->va = base;
        } else if (t->level != level || t->va != base) {
            t->level = VAM_SHADOW_TABLE_AMBIGUOUS;
        }
        t->used[idx / 64] |= 1ull << (idx % 64);
    }
}

void vam_shadow_track_enable(struct vam_shadow *sh, struct vam_shadow_table *tables, unsigned n,
                             uint32_t *frames, uint64_t nframes)
{
    /* what is installed now was filled without records */
    for (unsigned i = 0; i < sh->max_pairs; i++)
        if (sh->pair[i].used)
            pair_flush(sh, &sh->pair[i], false);
    sh->tables = tables;
    sh->ntables = n;
    sh->frame_tables = frames;
    sh->nframes = frames ? nframes : 0;
    if (frames)
        cpu_zero(frames, nframes * sizeof *frames);
    sh->free_tables = 0;
    for (unsigned i = n; i > 0; i--) {
        tables[i - 1].next_pair = sh->free_tables;
        sh->free_tables = i;
    }
    sh->tracking = tables && n > 0 && frames && nframes > 0;
}

static bool entry_used(const struct vam_shadow_table *t, unsigned idx)
{
    return (t->used[idx / 64] >> (idx % 64)) & 1;
}

void vam_shadow_pt_written_batch(struct vam_shadow *sh, const uint64_t *gpa, size_t n)
{
    if (!sh->tracking)
        return;
    sh->pt_writes += n;
    /* first the pairs a higher-level write empties (a process exiting:
     * its PTEs are zapped, then its tables freed), so that their PTE
     * writes cost nothing */
    uint64_t doomed = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t frame = gpa[k] >> 12;
        unsigned idx = (unsigned)(gpa[k] & 4095) / 8;
        if (frame >= sh->nframes)
            continue;
        for (struct vam_shadow_table *t = rec(sh, sh->frame_tables[frame]); t;
             t = rec(sh, t->next_frame))
            if (t->level != 1 && entry_used(t, idx))
                doomed |= 1ull << t->pair;
    }
    for (unsigned i = 0; i < sh->max_pairs; i++) {
        if (!((doomed >> i) & 1))
            continue;
        struct vam_shadow_pair *p = &sh->pair[i];
        sh->pt_pair_flushes++;
        if ((int)i == sh->active) {
            pair_flush(sh, p, false);
            continue;
        }
        /* an inactive space whose tables are being torn down (its
         * process exited or exec'd): give it back whole, which is cheaper
         * than emptying it and keeps live pairs from being evicted */
        pair_release(sh, p);
        sh->pt_pairs_released++;
    }
    for (size_t k = 0; k < n; k++) {
        uint64_t frame = gpa[k] >> 12;
        unsigned idx = (unsigned)(gpa[k] & 4095) / 8;
        if (frame >= sh->nframes)
            continue;
        for (struct vam_shadow_table *t = rec(sh, sh->frame_tables[frame]); t;
             t = rec(sh, t->next_frame)) {
            if (!entry_used(t, idx))
                continue;
            struct vam_shadow_pair *p = &sh->pair[t->pair];
            uint64_t va = t->va + ((uint64_t)idx << 12);
            be_unmap(p->kernel, va);
            be_unmap(p->user, va);
            t->used[idx / 64] &= ~(1ull << (idx % 64));
            sh->pt_unmaps++;
        }
    }
}

void vam_shadow_pt_written(struct vam_shadow *sh, uint64_t entry_gpa)
{
    vam_shadow_pt_written_batch(sh, &entry_gpa, 1);
}

void vam_shadow_pt_writes_lost(struct vam_shadow *sh)
{
    if (!sh->tracking)
        return;
    sh->pt_lost++;
    for (unsigned i = 0; i < sh->max_pairs; i++)
        if (sh->pair[i].used)
            pair_flush(sh, &sh->pair[i], false);
}

enum vam_shadow_result vam_shadow_page_fault(struct vam_shadow *sh, struct vam_vcpu *v,
                                             uint64_t cr2, uint64_t error_code,
                                             struct vam_event *ev)
{
    if (sh->active < 0)
        return error(sh, "page fault before the first CR3");
    if (error_code & X86_PF_RSVD)
        return error(sh, "reserved bit in the back end's own page tables");
    bool user = v->cpl == 3;
    unsigned acc = (unsigned)error_code & (VAM_ACC_WRITE | VAM_ACC_FETCH);
    if (user)
        acc |= VAM_ACC_USER;

    struct vam_walk w;
    switch (vam_walk(v, cr2, acc, &w)) {
    case VAM_WALK_OK:
        break;
    case VAM_WALK_FAULT:
        *ev = vam_exception(X86_EXC_PF, w.error_code, cr2);
        sh->injected++;
        return VAM_SHADOW_INJECT;
    case VAM_WALK_NONCANONICAL:
        return error(sh, "page fault at a non-canonical address");
    case VAM_WALK_BAD_GPA:
        if (w.io) {
            sh->io_gpa = w.gpa;
            sh->io_faults++;
            return VAM_SHADOW_IO;
        }
        return error(sh, "guest page table outside guest RAM");
    }

    struct vam_shadow_pair *p = &sh->pair[sh->active];
    unsigned perm = BE_R;
    bool writable = user ? w.writable : (w.writable || !(v->cr0 & X86_CR0_WP));
    if (writable && w.dirty)
        perm |= BE_W;
    if (!w.nx)
        perm |= BE_X;
    if (w.user)
        perm |= BE_USER;
    if (w.global)
        perm |= BE_GLOBAL;
    if (w.page_size > 4096)
        note_large(sh, p, cr2, w.page_size, w.global);
    if (!be_map(user ? p->user : p->kernel, cr2 & ~0xfffull, w.gpa & ~0xfffull, perm)) {
        /* Out of the back end's page-table memory, most likely: start the
         * whole TLB afresh (architecturally a flush) and let the guest
         * retry; twice in a row without a fill in between is a real refusal. */
        if (sh->reclaims && sh->fills == sh->fills_at_reclaim)
            return error(sh, "the back end refused a translation");
        if (!reclaim(sh))
            return error(sh, "no back-end address space after reclaiming all of them");
        return VAM_SHADOW_OK;
    }
    sh->fills_user += user;
    if (w.global) {
        sh->fills_global++;
        p->global_installed = true;
    } else {
        p->nonglobal_installed = true;
        if (sh->tracking)
            track_fill(sh, sh->active, cr2, &w);
    }
    sh->fills++;
    return VAM_SHADOW_OK;
}

void vam_shadow_invlpg(struct vam_shadow *sh, uint64_t va)
{
    va &= ~0xfffull;
    for (unsigned i = 0; i < sh->max_pairs; i++) {
        struct vam_shadow_pair *p = &sh->pair[i];
        /* a pair awaiting a full flush holds nothing it may still use */
        if (!p->used || p->flush_gen != sh->flush_gen ||
            !(p->nonglobal_installed || p->global_installed))
            continue;
        be_unmap(p->kernel, va);
        be_unmap(p->user, va);
        for (unsigned j = 0; j < VAM_SHADOW_LARGE; j++) {
            struct vam_shadow_large *l = &p->large[j];
            if (!l->size || va - l->va >= l->size)
                continue;
            if (l->size == SIZE_1G) {
                pair_flush(sh, p, true);
                break;
            }
            for (unsigned k = 0; k < 512; k++)
                if ((l->pieces[k / 64] >> (k % 64)) & 1) {
                    be_unmap(p->kernel, l->va + 4096ull * k);
                    be_unmap(p->user, l->va + 4096ull * k);
                }
            cpu_zero(l, sizeof *l);
            p->nlarge--;
        }
    }
}

void vam_shadow_flush_all(struct vam_shadow *sh, bool include_global)
{
    if (include_global) {
        sh->flush_gen++;
        sh->global_flushes++;
    }
    /* inactive pairs: non-global entries go at their next CR3 write anyway,
     * a full flush at their next activation (flush_gen) */
    if (sh->active >= 0)
        pair_flush(sh, &sh->pair[sh->active], include_global);
}

void vam_shadow_cr0_written(struct vam_shadow *sh, uint64_t old_cr0, uint64_t new_cr0)
{
    if ((old_cr0 ^ new_cr0) & (X86_CR0_PG | X86_CR0_WP))
        vam_shadow_flush_all(sh, true);
}

void vam_shadow_cr4_written(struct vam_shadow *sh, uint64_t old_cr4, uint64_t new_cr4)
{
    if ((old_cr4 ^ new_cr4) & (X86_CR4_PGE | X86_CR4_PAE | X86_CR4_PSE | X86_CR4_PCIDE))
        vam_shadow_flush_all(sh, true);
}

void vam_shadow_efer_written(struct vam_shadow *sh, uint64_t old_efer, uint64_t new_efer)
{
    if ((old_efer ^ new_efer) & X86_EFER_NXE)
        vam_shadow_flush_all(sh, true);
}
