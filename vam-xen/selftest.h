/* Constants shared by the selftest front end (selftest.c) and its guest
 * code (selftest-guest.S). */
#ifndef VAMXEN_SELFTEST_H
#define VAMXEN_SELFTEST_H

#define ST_HOT_VA 0xffffffffffe00000        /* a be_map_vam data page */
#define ST_GATE_VA 0xffffffffffe01000       /* the gate (be_gate_page) */
#define ST_VAM_IMAGE 0xfffffc0000100000     /* the VAM's own text: never in a guest space */
#define ST_M2P 0xffff800000000000           /* Xen's read-only M2P: not in guest spaces either */
#define ST_GATE_RCX 0x7263782d67617465      /* rcx and r11 at a gate entry */
#define ST_GATE_R11 0x7231312d67617465
#define ST_GATE_RCX2 0x7263782d72657374     /* ... at the gate entry an event interrupts */
#define ST_GATE_R11_2 0x7231312d72657374
#define ST_GS_KERNEL_MAGIC 0x6b65726e656c6773
#define ST_GS_USER_MAGIC 0x7573657230306773
#define ST_FS_MAGIC 0x6673626173652121

#endif
