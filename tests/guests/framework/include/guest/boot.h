/*
 * How a test guest is entered, for whatever loads it.
 *
 * A guest is one static ELF64 image linked at GUEST_LOAD_ADDR (virtual ==
 * guest-physical, see guest.ld).  It has two entry points:
 *
 *  - Native, PVH (QEMU "-kernel guest.elf"): the XEN_ELFNOTE_PHYS32_ENTRY
 *    note names a 32-bit entry.  It is entered in 32-bit protected mode,
 *    paging off, %ebx = physical address of a struct hvm_start_info
 *    (Xen's public/arch-x86/hvm/start_info.h).  That path builds throw-away
 *    page tables, enables long mode and jumps to the 64-bit entry with
 *    %rsi = a struct guest_start_info (platform GUEST_PLATFORM_PVH).
 *
 *  - 64-bit (ELF e_entry; the way a VAM enters): long mode, paging on with
 *    at least the image (including .bss) and the start-info struct
 *    identity-mapped (virtual == guest-physical), interrupts off, any
 *    GDT/IDT/stack/segments, %rsi = 0 or the guest-physical (== virtual)
 *    address of a struct guest_start_info.  The entry depends on nothing
 *    else: it clears .bss, loads its own stack, GDT, segment registers, IDT,
 *    TSS (with IST stacks), CR4 (SMEP/SMAP/PKE/CET off), EFER.NXE/SCE,
 *    CR0.WP and its own page tables.  Those identity-map [0, 4 GiB) and use
 *    PML4 slots 1..255 for test mappings; the top of the address space
 *    (where the VAM keeps its data) is never mapped by the guest.
 *
 * The guest ends by writing a result code (GUEST_EXIT_*) to I/O port
 * GUEST_EXIT_PORT (QEMU's isa-debug-exit protocol: QEMU exits with status
 * code * 2 + 1); if it is still running after that it triple-faults (an
 * empty IDT and int3), and as a last resort halts with interrupts off.  The
 * result itself is also the last console line, "Test result: <RESULT>".
 */
#ifndef GUEST_BOOT_H
#define GUEST_BOOT_H

#define GUEST_LOAD_ADDR        0x100000      /* 1 MiB */

#define GUEST_START_MAGIC      0x31534747   /* "GGS1" little-endian */
#define GUEST_START_VERSION    1

/* guest_start_info.flags */
#define GUEST_SI_NO_LEGACY_PIC   (1 << 0)  /* no 8259/8254: tests needing them SKIP */
#define GUEST_SI_NO_CMOS         (1 << 1)  /* no RTC at ports 0x70/0x71 */
#define GUEST_SI_NO_APIC         (1 << 2)  /* no local APIC (x2APIC or xAPIC) */

/* Shutdown protocol. */
#define GUEST_EXIT_PORT        0xf4
#define GUEST_EXIT_SUCCESS     0   /* QEMU exit status 1 */
#define GUEST_EXIT_SKIP        1   /* 3 */
#define GUEST_EXIT_ERROR       2   /* 5 */
#define GUEST_EXIT_FAILURE     3   /* 7 */
#define GUEST_EXIT_PANIC       4   /* 9: no result line was printed */

#define HVM_START_MAGIC        0x336ec578

/* Offsets into struct guest_start_info, for the 32-bit path. */
#define GSI_MAGIC          0
#define GSI_VERSION        4
#define GSI_PLATFORM       8
#define GSI_FLAGS          12
#define GSI_PVH_START_INFO 32
#define GSI_SIZE           64

#ifndef __ASSEMBLER__
#include <stdint.h>

enum guest_platform {
    GUEST_PLATFORM_UNKNOWN = 0,   /* %rsi was 0: assume a PC with legacy devices */
    GUEST_PLATFORM_PVH     = 1,   /* native: QEMU/firmware PVH boot (32-bit path) */
    GUEST_PLATFORM_VAM     = 2,   /* under the virtualization-assist module */
};

struct guest_start_info {
    uint32_t magic;           /* GUEST_START_MAGIC */
    uint32_t version;         /* GUEST_START_VERSION */
    uint32_t platform;        /* enum guest_platform */
    uint32_t flags;           /* GUEST_SI_* */
    uint64_t mem_bytes;       /* RAM from guest-physical 0 (0: unknown) */
    uint64_t cmdline;         /* guest-physical address of a NUL-terminated string, or 0 */
    uint64_t pvh_start_info;  /* PVH only: guest-physical address of hvm_start_info */
    uint64_t reserved[3];     /* 0 */
};

/* Subset of Xen's struct hvm_start_info that the PVH path reads. */
struct hvm_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;    /* version >= 1 */
    uint32_t memmap_entries;  /* version >= 1 */
    uint32_t reserved;
};

struct hvm_memmap_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;            /* 1 = RAM */
    uint32_t reserved;
};

_Static_assert(sizeof(struct guest_start_info) == GSI_SIZE, "start info layout");
_Static_assert(__builtin_offsetof(struct guest_start_info, pvh_start_info) == GSI_PVH_START_INFO,
               "start info layout");

/* The struct the 64-bit entry was given (NULL if %rsi was 0). */
extern const struct guest_start_info *guest_start_info;
#endif /* !__ASSEMBLER__ */

#endif
