/*
 * The back end's address spaces as the guest's TLB (backend.h: "the front
 * end keeps the guest's page tables as the truth and treats the back end's
 * translations as a TLB").
 *
 * Each guest CR3 value (its L4 address, bits 51:12) gets a pair of back-end
 * spaces, created on first use: a kernel-mode space (what the guest can
 * reach at CPL 0) and a user-mode space (what it can reach at CPL 3).  At
 * most `max_pairs` pairs exist; activating a new CR3 beyond that reuses the
 * least recently used pair with fresh back-end spaces (the old ones, with
 * their page tables, are destroyed).
 *
 * Fill: a #PF that the back end reports is walked in the guest's tables
 * with the access of the error code (W, I) and the guest's CPL.  If the
 * guest's mapping allows the access, the 4 KiB translation (the 4 KiB piece
 * of a 2 MiB or 1 GiB page) is installed with be_map in the active space
 * of the current mode and the guest retries; otherwise the guest gets #PF
 * with the walker's error code.  Writable only once the guest's dirty bit
 * is set (a read maps a clean page read-only, so the first write comes back
 * and sets D); global only with G and CR4.PGE.
 *
 * Flushes, exactly where the architecture flushes the TLB:
 *  - invlpg va: va's translation in every space of every pair (global ones
 *    included); when va lies in a large page the VAM installed 4 KiB pieces
 *    of, every piece of that large page (hardware drops the whole entry);
 *  - CR3 write: the non-global translations of the pair being activated
 *    (other pairs are inactive; they are flushed when activated);
 *  - CR4 write changing PGE, PAE, PSE or PCIDE, CR0 write changing PG or
 *    WP, EFER write changing NXE: everything, global included (the active
 *    pair now, the others when next activated).
 *
 * The TLB rule: a guest write to one of its page-table entries does not
 * reach the back end's spaces by itself.  Exactly as on hardware, the guest
 * must invlpg the address (or reload CR3 for non-global entries, or toggle
 * CR4.PGE for global ones) before it may rely on the new entry; until then
 * the old translation may still be used.  Operating systems already obey
 * this rule for the hardware TLB, so page-table pages need no write
 * tracking.  (A permission *increase* needs no flush either way: a fault on
 * the stale, narrower translation walks the guest's tables again and finds
 * the new entry, so the guest sees no spurious fault.)
 */
#ifndef VAM_SHADOW_H
#define VAM_SHADOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vam/backend.h"
#include "vam/vcpu.h"

#define VAM_SHADOW_MAX_PAIRS (BE_MAX_SPACES / 2)
#define VAM_SHADOW_LARGE     32     /* large pages with installed pieces, per pair */

/* A 2 MiB or 1 GiB guest page some 4 KiB pieces of which are installed. */
struct vam_shadow_large {
    uint64_t va;                /* base of the large page */
    uint64_t size;              /* 2 MiB or 1 GiB; 0 = slot free */
    bool global;                /* some piece was installed global */
    uint64_t pieces[8];         /* 2 MiB: which of the 512 pieces are installed */
};

struct vam_shadow_pair {
    bool used;
    uint32_t tables;            /* its first table record (index + 1; 0: none) */
    bool untracked;             /* a fill walked a table the records cannot hold */
    uint64_t cr3;               /* key: CR3 bits 51:12 */
    be_space_t kernel, user;
    uint64_t last_use;          /* LRU clock */
    uint32_t flush_gen;         /* == shadow.flush_gen once flushed since the last full flush */
    bool nonglobal_installed;   /* something to flush at the next CR3 write */
    bool global_installed;      /* global translations, kept by CR3 writes */
    unsigned nlarge;
    struct vam_shadow_large large[VAM_SHADOW_LARGE];
};

/*
 * Page-table tracking (vam_shadow_track_enable).  One record per guest page
 * table (by guest-physical frame) and pair that some installed non-global
 * translation of the pair was walked through, with the entries it used.
 * A guest write to a used entry of a level-1 table removes that one
 * translation; to a used entry of a higher level, everything non-global of
 * the pair (a whole range changes; rare: munmap, exit).  Writes to entries
 * no fill used (a new table linked in, a PTE of an address never touched)
 * cost nothing.
 */
struct vam_shadow_table {
    uint64_t frame;             /* guest-physical frame number of the table */
    uint64_t va;                /* base of the range the table maps in the pair */
    uint32_t next_frame;        /* next record of the same frame (index + 1; 0: end) */
    uint32_t next_pair;         /* next record of the same pair, or of the free list */
    uint8_t pair;
    uint8_t level;              /* 1 (PTEs) .. 4 (PML4); VAM_SHADOW_TABLE_AMBIGUOUS */
    uint64_t used[8];           /* entries walked by installed translations */
};
#define VAM_SHADOW_TABLE_AMBIGUOUS 0xff     /* the table maps more than one range in the pair */

struct vam_shadow {
    unsigned max_pairs;
    int active;                 /* index of the active pair, -1 before the first CR3 */
    uint64_t clock;
    uint32_t flush_gen;         /* bumped by every full flush */
    struct vam_shadow_pair pair[VAM_SHADOW_MAX_PAIRS];
    const char *error;          /* the last ERROR's reason */
    /* Called for every kernel space created, before any use: the run time
     * maps its own pages into it (be_map_vam).  false: the space is not
     * usable (the CR3 write fails with ERROR). */
    bool (*kernel_space_created)(be_space_t s, void *ctx);
    void *hook_ctx;
    /* page-table tracking: on when the guest reports its page-table writes
     * (vam_shadow_track_enable); a CR3 switch then keeps the translations */
    bool tracking;
    /* called by a CR3 write that switches spaces, before anything else: the
     * caller reports the writes it logged (vam_shadow_pt_written) */
    void (*pt_log_drain)(struct vam_shadow *sh, struct vam_vcpu *v, void *ctx);
    struct vam_shadow_table *tables;
    unsigned ntables;
    uint32_t free_tables;       /* free list (index + 1) */
    uint32_t *frame_tables;     /* per guest frame: its first record (index + 1) */
    uint64_t nframes;
    /* statistics */
    uint64_t fills, injected, evictions;
    uint64_t io_faults;         /* accesses outside RAM (VAM_SHADOW_IO) */
    uint64_t io_gpa;            /* the last one's guest-physical address */
    uint64_t renewals;          /* pairs given fresh spaces (evictions, reclaims) */
    uint64_t reclaims;          /* the back end ran out: every space started afresh */
    uint64_t fills_at_reclaim;
    uint64_t switches_kept;     /* CR3 switches that kept the pair's translations */
    uint64_t switches, reloads; /* CR3 writes to another space, of the same value */
    uint64_t fills_user, fills_global;
    uint64_t global_flushes;    /* CR4/CR0/EFER writes that flush global translations too */
    uint64_t pt_writes, pt_unmaps, pt_pair_flushes, pt_pairs_released, pt_lost, pt_table_resets;
};

/* max_pairs is clamped to 1..VAM_SHADOW_MAX_PAIRS.  Creates no spaces yet. */
void vam_shadow_init(struct vam_shadow *sh, unsigned max_pairs);

enum vam_shadow_result {
    VAM_SHADOW_OK,              /* done (a fault: retry the instruction) */
    VAM_SHADOW_INJECT,          /* deliver *ev (a #PF) to the guest */
    VAM_SHADOW_ERROR,           /* VAM-level failure: see vam_shadow_error */
    VAM_SHADOW_IO,              /* the access goes to guest-physical sh->io_gpa, outside
                                 * RAM: the caller emulates it (MMIO) or fails */
};

struct vam_event;

/* The guest wrote CR3 (value already validated by the emulator).  Sets
 * v->cr3, finds or makes the pair, activates it (be_space_activate) and
 * flushes its non-global translations.  ERROR when no back-end space can be
 * had. */
enum vam_shadow_result vam_shadow_set_cr3(struct vam_shadow *sh, struct vam_vcpu *v,
                                          uint64_t cr3);

/* A #PF the back end reported for guest code (either mode): cr2 and the
 * hardware error code (only W and I are used; the mode is v->cpl).  OK:
 * translation installed, retry.  INJECT: *ev is the guest's #PF (error code
 * from the guest's tables, cr2).  IO: the guest's tables allow the access
 * and map it outside guest RAM, at sh->io_gpa (nothing installed).  ERROR: reserved bit in the back end's own
 * tables, a table or page outside guest RAM, or be_map refused. */
enum vam_shadow_result vam_shadow_page_fault(struct vam_shadow *sh, struct vam_vcpu *v,
                                             uint64_t cr2, uint64_t error_code,
                                             struct vam_event *ev);

/* invlpg va (also what INVPCID type 0 for the current PCID would do). */
void vam_shadow_invlpg(struct vam_shadow *sh, uint64_t va);

/* Architectural side effects of control-register writes; call after the
 * new value is stored in v. */
void vam_shadow_cr0_written(struct vam_shadow *sh, uint64_t old_cr0, uint64_t new_cr0);
void vam_shadow_cr4_written(struct vam_shadow *sh, uint64_t old_cr4, uint64_t new_cr4);
void vam_shadow_efer_written(struct vam_shadow *sh, uint64_t old_efer, uint64_t new_efer);

/* Flush every pair: non-global translations only, or everything. */
void vam_shadow_flush_all(struct vam_shadow *sh, bool include_global);

/* What went wrong in the last ERROR (static text). */
const char *vam_shadow_error(const struct vam_shadow *sh);

/*
 * Page-table tracking.  After vam_shadow_track_enable(tables, n, frames,
 * nframes) (the arrays are the shadow's from then on: n records, and one
 * word per guest frame below nframes; a fill through a table above that
 * leaves its pair flushed at switches, as without tracking), the caller promises to
 * report every guest write of a page-table entry, with
 * vam_shadow_pt_written(gpa of the entry), before the next CR3 write, or to
 * call vam_shadow_pt_writes_lost() when it cannot.  CR3 writes that switch
 * to another address space then keep the translations of the pair they
 * activate; a CR3 write of the current value is still a flush (Linux's
 * flush_tlb_local: writes it does not report, such as its clear_bit on a
 * PTE, are followed by one), and invlpg and global flushes are unchanged.
 */
void vam_shadow_track_enable(struct vam_shadow *sh, struct vam_shadow_table *tables,
                             unsigned n, uint32_t *frames, uint64_t nframes);
void vam_shadow_pt_written(struct vam_shadow *sh, uint64_t entry_gpa);
/* The same for n writes at once: pairs that one of them empties first, so
 * the others cost nothing there. */
void vam_shadow_pt_written_batch(struct vam_shadow *sh, const uint64_t *entry_gpa, size_t n);
void vam_shadow_pt_writes_lost(struct vam_shadow *sh);

#endif
