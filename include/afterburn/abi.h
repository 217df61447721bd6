/*
 * The soft-layer ABI between the afterburner (build time) and whatever loads
 * the annotated binary (afterburn-inspect, the VAM).  Freestanding: only
 * fixed-width integers, usable by host tools and by the VAM alike.
 *
 * Where the annotations live
 * --------------------------
 * afterburn-as emits one ELF note per assembled object that has sites, in
 * section ".note.afterburn" (SHF_ALLOC, SHT_NOTE).  Linux's linker script
 * keeps every ".note.*" input section in the vmlinux ".notes" output section,
 * so the annotations reach the final image without any linker-script change
 * and without orphan-section warnings.  A loader walks all notes named
 * AB_NOTE_NAME of type AB_NOTE_TYPE_SITES; there is one per object file.
 * (afterburn-cparse adds notes of type AB_NOTE_TYPE_MEMSITES, at the end of
 * this file; a loader that does not know them skips them.)
 *
 * Note descriptor = struct ab_note_header followed by nrecords records.
 * Records are position independent: the site address is the address of the
 * record's `rel` field plus `rel` (like Linux's .altinstructions), so the
 * same records are valid for relocatable kernels.
 *
 * Site sizes
 * ----------
 * The VAM rewrites a site in place.  Its hot data (the virtual CPU, and the
 * table of VAM entry points) lives at a fixed address in the top 2 GiB of the
 * address space, which Linux leaves unused above the fixmap
 * (0xffffffffffe00000-0xffffffffffffffff) and which Xen PV leaves to the
 * guest.  Any site can therefore reach it with a sign-extended 32-bit
 * absolute address (ModRM 0x04 + SIB 0x25 + disp32), without relocation and
 * regardless of where the site is.  The minimum site sizes follow from the
 * largest replacement each class needs:
 *
 *   MEMOP  8 bytes: `andb/orb/xorb $imm8, abs32` is 80 /r 24 25 d32 ib = 8
 *          (cli, sti, swapgs flag toggles); `pushq/popq abs32` is 7 (pushf,
 *          popf); `call rel32` is 5 (sti/popf when an interrupt is pending).
 *   SEGMOV 9 bytes: `movw %r8w-%r15w, abs32` is 66 REX 89 /r 24 25 d32 = 9,
 *          and `movzwl abs32, %r8d-%r15d` is REX 0f b7 /r 24 25 d32 = 9.
 *   CALL   7 bytes: `call *abs32` (ff 14 25 d32) or `jmp *abs32`
 *          (ff 24 25 d32) through a VAM entry slot; the return address
 *          identifies the site, whose decoded operands the VAM keeps.  A jump
 *          is used where the stack must not be touched (sysret, iret).
 *
 * The padding is multi-byte NOPs (`.nops`), so on bare metal it costs a few
 * decode slots per site and nothing else.
 */
#ifndef AFTERBURN_ABI_H
#define AFTERBURN_ABI_H

#include <stdint.h>

#define AB_NOTE_NAME        "Afterburn"     /* namesz 10, padded to 12 */
#define AB_NOTE_NAMESZ      10
#define AB_NOTE_TYPE_SITES  0x41420001u     /* 'A' 'B' 0 1 */
#define AB_NOTE_SECTION     ".note.afterburn"

#define AB_FORMAT_VERSION   1   /* layout of the note, header and records */
#define AB_PAD_ABI_VERSION  1   /* the class -> minimum site size table below */

enum ab_class {
    AB_CLASS_NONE = 0,
    AB_CLASS_MEMOP = 1,
    AB_CLASS_SEGMOV = 2,
    AB_CLASS_CALL = 3,
};

#define AB_SITE_MIN_MEMOP   8
#define AB_SITE_MIN_SEGMOV  9
#define AB_SITE_MIN_CALL    7

static inline unsigned ab_class_min_site(enum ab_class c)
{
    switch (c) {
    case AB_CLASS_MEMOP: return AB_SITE_MIN_MEMOP;
    case AB_CLASS_SEGMOV: return AB_SITE_MIN_SEGMOV;
    case AB_CLASS_CALL: return AB_SITE_MIN_CALL;
    default: return 0;
    }
}

enum ab_placement { AB_PAD_AFTER = 0, AB_PAD_BEFORE = 1 };

enum ab_kind {
    AB_KIND_INVALID = 0,
#define AB_KIND(id, name, cls, place, reason) AB_KIND_ID_##id = id,
#include "sensitive.def"
#undef AB_KIND
    AB_KIND_MAX,
    /* Not an instruction: records the code mode (16/32/64) from this
     * address on, within the containing section, so a decoder can follow
     * .code16/.code32 regions. */
    AB_KIND_MODE = 0xff,
};

/* Code mode of a site or mode marker. */
enum ab_mode { AB_MODE_64 = 0, AB_MODE_32 = 1, AB_MODE_16 = 2 };

/* Record flags. */
#define AB_REC_BYTES  0x01  /* instruction was written as .byte data */

struct ab_note_header {
    uint16_t format_version;    /* AB_FORMAT_VERSION */
    uint16_t pad_abi_version;   /* AB_PAD_ABI_VERSION */
    uint16_t header_size;       /* sizeof(struct ab_note_header) = 16 */
    uint16_t record_size;       /* sizeof(struct ab_record) = 12 */
    uint32_t nrecords;          /* sites plus mode markers */
    uint32_t reserved;          /* 0 */
};

struct ab_record {
    int32_t rel;        /* site start = (address of this field) + rel */
    uint8_t len;        /* site length: instruction plus padding; 0 for a mode marker */
    uint8_t insn_off;   /* offset of the instruction within the site */
    uint8_t insn_len;   /* length of the instruction (prefixes included) */
    uint8_t kind;       /* enum ab_kind id, or AB_KIND_MODE */
    uint8_t mode;       /* enum ab_mode */
    uint8_t flags;      /* AB_REC_* */
    uint16_t reserved;  /* 0 */
};

#define AB_NOTE_HEADER_SIZE 16
#define AB_RECORD_SIZE      12

_Static_assert(sizeof(struct ab_note_header) == AB_NOTE_HEADER_SIZE, "header layout");
_Static_assert(sizeof(struct ab_record) == AB_RECORD_SIZE, "record layout");

/*
 * Memory sites (afterburn-cparse)
 * -------------------------------
 * Loads and stores of virtualization-sensitive memory (page-table entries,
 * device registers) that afterburn-cparse found by data type in the C source
 * (thesis section 4.3.2).  They use a second note type in the same section,
 * with the same header (struct ab_note_header, format and pad-ABI versions
 * as above) and the same 12-byte record, so a reader that walks only
 * AB_NOTE_TYPE_SITES notes skips them untouched.  One MEMSITES note per
 * object that has at least one memory site (section subsections 3-5;
 * afterburn-as's SITES note uses 0-2).
 *
 * A memory site is one instruction at the start of the site (insn_off 0),
 * then NOP padding up to AB_MEMSITE_MIN bytes, so that a VAM can replace it
 * with `call *abs32` (the CALL class) and emulate the access from the
 * decoded original.  The instruction is always register-indirect, with no
 * index, displacement or segment override:
 *
 *   *_READ   mov{b,w,l,q} (%base), %reg
 *   *_WRITE  mov{b,w,l,q} %reg, (%base)
 *   *_RMW    {or,and,xor,add,sub}{b,w,l,q} %reg, (%base)   (not locked)
 *
 * Record fields for these kinds: kind is enum ab_mem_kind, mode is always
 * AB_MODE_64, flags is the access width in bytes (1, 2, 4 or 8) in its low
 * four bits plus the AB_MEMREC_* bits below, reserved is 0.
 */
#define AB_NOTE_TYPE_MEMSITES  0x41420002u  /* 'A' 'B' 0 2 */

enum ab_mem_kind {
    AB_MEM_INVALID = 0,
    AB_MEM_PT_READ = 1,     /* load of a page-table entry */
    AB_MEM_PT_WRITE = 2,    /* store of a page-table entry */
    AB_MEM_PT_RMW = 3,      /* read-modify-write of a page-table entry (one instruction) */
    AB_MEM_DEV_READ = 4,    /* load of a memory-mapped device register */
    AB_MEM_DEV_WRITE = 5,   /* store of a memory-mapped device register */
    AB_MEM_DEV_RMW = 6,     /* read-modify-write of a device register (one instruction) */
    AB_MEM_KIND_MAX,
};

#define AB_MEMSITE_MIN          AB_SITE_MIN_CALL    /* 7: call *abs32 */

#define AB_MEMREC_WIDTH_MASK    0x0f    /* access width in bytes: 1, 2, 4 or 8 */
#define AB_MEMREC_VOLATILE      0x10    /* the C access was volatile (READ_ONCE/WRITE_ONCE) */
#define AB_MEMREC_SPLIT         0x20    /* one half of a compound assignment done as load + store */
#define AB_MEMREC_KNOWN         (AB_MEMREC_WIDTH_MASK | AB_MEMREC_VOLATILE | AB_MEMREC_SPLIT)

/* What a memory site's instruction does with its memory operand. */
enum ab_mem_access { AB_MEM_ACCESS_NONE = 0, AB_MEM_ACCESS_READ, AB_MEM_ACCESS_WRITE,
                     AB_MEM_ACCESS_RMW };

static inline const char *ab_mem_kind_name(unsigned k)
{
    switch (k) {
    case AB_MEM_PT_READ: return "pt_read";
    case AB_MEM_PT_WRITE: return "pt_write";
    case AB_MEM_PT_RMW: return "pt_rmw";
    case AB_MEM_DEV_READ: return "dev_read";
    case AB_MEM_DEV_WRITE: return "dev_write";
    case AB_MEM_DEV_RMW: return "dev_rmw";
    default: return 0;
    }
}

static inline enum ab_mem_access ab_mem_kind_access(unsigned k)
{
    switch (k) {
    case AB_MEM_PT_READ: case AB_MEM_DEV_READ: return AB_MEM_ACCESS_READ;
    case AB_MEM_PT_WRITE: case AB_MEM_DEV_WRITE: return AB_MEM_ACCESS_WRITE;
    case AB_MEM_PT_RMW: case AB_MEM_DEV_RMW: return AB_MEM_ACCESS_RMW;
    default: return AB_MEM_ACCESS_NONE;
    }
}

#endif
