/*
 * Site rewriter: plans the replacement of a decoded site, writes it over the
 * site followed by multi-byte NOPs, and verifies the result by decoding it
 * back.  Replacement shapes by class (abi.h, vam/layout.h):
 *
 *  MEMOP   cli      andb $~IF, if-byte                (8 bytes)
 *          sti      call *entry[sti]                  (7: pending interrupts are checked)
 *                   or, with VAM_RW_STI_INLINE, orb $IF, if-byte (8; delivery deferred to
 *                   the next VAM entry, thesis 4.4.2)
 *          pushf    pushq rflags                      (7; pushfw and VAM_RW_PUSHF_CALL: call)
 *          popf     call *entry[popf]                 (7)
 *          swapgs   jmp *jump[slot] (the VAM swaps the GS bases; no stack), or with
 *                   VAM_RW_SWAPGS_INLINE xorb $1, gs-swapped (8)
 *  SEGMOV  mov %sreg, %r16        movw sel[sreg], %r16        (8, 9 with REX)
 *          mov %sreg, %r32/%r64   movzwl sel[sreg], %r32      (8, 9 with REX)
 *          push %fs/%gs (64-bit)  pushq sel[sreg]             (7)
 *          other forms (loads of segment registers, which can fault; stores to
 *          memory; pop; pushw): call *entry[kind]             (7)
 *  CALL    call *entry[kind], or jmp *jump[slot] for iret, sysret, lret, ljmp (and swapgs),
 *          which must not push onto the stack (7)
 *
 * The replacement goes where the instruction was: at the site start for
 * kinds padded after, at its end for kinds padded before (sti, loads of %ss).
 * A call's return address identifies the site (vam_site_lookup); a jump site
 * has its own jump slot, whose landing stub the run time provides.
 */
#ifndef VAM_REWRITE_H
#define VAM_REWRITE_H

#include <vam/decode.h>
#include <vam/error.h>
#include <vam/layout.h>
#include <vam/loader.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Replacement instruction forms. */
enum vam_rw_form {
    VAM_RW_NONE = 0,
    VAM_RW_ANDB,        /* andb $imm8, abs32          80 /4          8 bytes */
    VAM_RW_ORB,         /* orb $imm8, abs32           80 /1          8 */
    VAM_RW_XORB,        /* xorb $imm8, abs32          80 /6          8 */
    VAM_RW_PUSHQ,       /* pushq abs32                ff /6          7 */
    VAM_RW_LOADW,       /* movw abs32, %r16           66 [REX] 8b    8-9 */
    VAM_RW_LOADZX,      /* movzwl abs32, %r32         [REX] 0f b7    8-9 */
    VAM_RW_CALL,        /* call *abs32                ff /2          7 */
    VAM_RW_JMP,         /* jmp *abs32                 ff /4          7 */
    VAM_RW_FORM_COUNT
};

#define VAM_RW_MAX_LEN 9

/* Rewriting options (vam_plan_site flags). */
#define VAM_RW_STI_INLINE   0x1     /* sti: orb on the IF byte instead of a call */
#define VAM_RW_PUSHF_CALL   0x2     /* pushf: call (exact status flags) instead of pushq */
#define VAM_RW_TEMPLATES    0x4     /* also rewrite .altinstr_replacement templates */
#define VAM_RW_SWAPGS_INLINE 0x8    /* swapgs: xorb on gs_swapped instead of a jump */

#define VAM_NO_SLOT 0xff

struct vam_plan {
    uint8_t form;       /* enum vam_rw_form */
    uint8_t reg;        /* LOADW/LOADZX destination register (0-15) */
    uint8_t imm;        /* ANDB/ORB/XORB immediate */
    uint8_t len;        /* bytes of the replacement instruction */
    uint8_t off;        /* where in the site it goes */
    uint8_t jslot;      /* JMP: jump slot, else VAM_NO_SLOT */
    uint16_t field;     /* offset of the addressed field in the fixed area (vam/layout.h) */
};

const char *vam_rw_form_name(unsigned form);

/* Chooses the replacement for site s holding instruction d.  jslot is the
 * jump slot to use if the plan is a jump. */
enum vam_status vam_plan_site(const struct vam_site *s, const struct vam_insn *d,
                              unsigned flags, unsigned jslot, struct vam_plan *plan,
                              struct vam_error *e);

/* The patch routine: encodes plan's instruction at out (room bytes);
 * returns the bytes used, 0 if it does not fit. */
unsigned vam_patch_encode(const struct vam_plan *plan, uint8_t *out, size_t room);

/* Intel's recommended multi-byte NOPs (1-9 bytes), longest first. */
void vam_fill_nops(uint8_t *p, size_t n);

/* Decodes a replacement instruction (the forms above) at p: fills form, reg,
 * imm, len, field; false if p holds none of them.  Independent of the
 * encoder, so the rewriter can check what it wrote. */
bool vam_decode_replacement(const uint8_t *p, size_t n, struct vam_plan *out);

/*
 * Writes the whole site into out[0..s->len): the planned instruction, NOPs
 * around it, then decodes it back (the replacement where planned, only NOPs
 * elsewhere).  VAM_ERR_PAD names the site if its pad is too small for the
 * replacement; VAM_ERR_REWRITE if verification fails.
 */
enum vam_status vam_rewrite_site(const struct vam_site *s, const struct vam_plan *plan,
                                 uint8_t *out, size_t out_len, struct vam_error *e);

/* ---- the site table the run time uses ------------------------------------------ */

struct vam_site_entry {
    uint64_t key;           /* address right after the replacement: a call's return address */
    uint32_t record;        /* annotation record */
    uint8_t back;           /* key - site start */
    uint8_t fwd;            /* site end - key: the guest resumes at key + fwd */
    uint8_t insn_off;       /* the original instruction's offset in the site */
    uint8_t form;           /* enum vam_rw_form */
    uint8_t jslot;          /* jump slot, or VAM_NO_SLOT */
    uint8_t reserved[3];
    struct vam_insn insn;   /* the decoded original instruction */
};

struct vam_site_table {
    struct vam_site_entry *v;   /* sorted by key */
    size_t n, cap;
    unsigned njump;
    uint32_t jump_entry[VAM_JUMP_SLOTS];    /* jump slot -> index in v */
};

/* Entry whose key is ret (the return address of a `call *`), or NULL. */
const struct vam_site_entry *vam_site_lookup(const struct vam_site_table *t, uint64_t ret);
/* Entry of the site that jumps through jump slot j, or NULL. */
const struct vam_site_entry *vam_site_by_jump_slot(const struct vam_site_table *t, unsigned j);

struct vam_stats;

/* Maps guest addresses [vaddr, vaddr+len) to writable memory, or NULL. */
typedef uint8_t *(*vam_map_fn)(void *ctx, uint64_t vaddr, size_t len);

/*
 * Rewrites every rewritable site of a loaded guest: 64-bit sites, and
 * templates only with VAM_RW_TEMPLATES.  First plans and verifies all sites
 * (guest memory must hold exactly the image's bytes at each site), then
 * writes them; so on error nothing has been written.  Fills t (t->v with
 * t->cap entries, from the caller) and adds to st (may be NULL).
 */
enum vam_status vam_rewrite_guest(const struct vam_guest *g, unsigned flags, vam_map_fn map,
                                  void *ctx, struct vam_site_table *t, struct vam_stats *st,
                                  struct vam_error *e);

#endif
