/*
 * A VAM pack: several files in the one module Xen hands its dom0 (the
 * guest kernel, its initramfs, its command line), made by the host tool
 * vam-pack (vam/tools/) and read by the VAM (vam_pack_open).
 *
 * Layout (little endian): a 32-byte header, `count` 48-byte entries, then
 * the files, each at a 4 KiB-aligned offset.
 *   header: magic "VAMPACK1", u32 version (1), u32 count, u32 protocol,
 *           u32 reserved (0), u64 total size of the pack
 *   entry:  char name[24] (NUL-padded: "kernel", "initrd", "cmdline"),
 *           u64 offset, u64 size, u64 reserved (0)
 */
#ifndef VAM_PACK_H
#define VAM_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vam/error.h"

#define VAM_PACK_MAGIC "VAMPACK1"
#define VAM_PACK_VERSION 1
#define VAM_PACK_MAX_ENTRIES 8
#define VAM_PACK_NAME_LEN 24
#define VAM_PACK_ALIGN 4096

/* How the VAM enters the kernel. */
enum vam_pack_protocol {
    VAM_PACK_TEST_GUEST = 1,    /* tests/guests: struct guest_start_info in %rsi */
    VAM_PACK_LINUX = 2,         /* Linux x86-64 64-bit boot protocol: boot_params in %rsi */
};

struct vam_pack_header {
    char magic[8];
    uint32_t version, count, protocol, reserved;
    uint64_t size;
};

struct vam_pack_entry {
    char name[VAM_PACK_NAME_LEN];
    uint64_t offset, size, reserved;
};

_Static_assert(sizeof(struct vam_pack_header) == 32, "pack header");
_Static_assert(sizeof(struct vam_pack_entry) == 48, "pack entry");

struct vam_pack {
    unsigned protocol;
    unsigned count;
    struct {
        char name[VAM_PACK_NAME_LEN + 1];
        const uint8_t *data;
        uint64_t size;
    } file[VAM_PACK_MAX_ENTRIES];
};

/* Whether buf starts like a pack. */
bool vam_pack_is(const void *buf, size_t size);

/* Checks the whole pack (sizes, alignment, bounds, names, no overlaps,
 * known protocol) and fills p; errors name the entry. */
enum vam_status vam_pack_open(struct vam_pack *p, const void *buf, size_t size,
                              struct vam_error *e);

/* The file called name, or NULL (then *size is 0). */
const uint8_t *vam_pack_file(const struct vam_pack *p, const char *name, uint64_t *size);

#endif
