/*
 * Segment descriptors in the guest's GDT and LDT (SDM vol. 3, 3.4.5 and
 * 7.2.3): what interrupt delivery and iretq check, and the loads of LDTR and
 * TR (lldt, ltr) that cache the LDT and the 64-bit TSS.  The tables are read
 * at their guest-virtual base through the page walk, as implicit supervisor
 * accesses.
 */
#ifndef VAM_DESC_H
#define VAM_DESC_H

#include <stdbool.h>
#include <stdint.h>

#include "vam/inject.h"
#include "vam/vcpu.h"

/* descriptor fields (of the low 8 bytes) */
#define X86_DESC_TYPE(d)  ((unsigned)((d) >> 40) & 15u)
#define X86_DESC_S(d)     (((d) >> 44) & 1u)         /* 1: code or data */
#define X86_DESC_DPL(d)   ((unsigned)((d) >> 45) & 3u)
#define X86_DESC_P(d)     (((d) >> 47) & 1u)
#define X86_DESC_L(d)     (((d) >> 53) & 1u)
#define X86_DESC_DB(d)    (((d) >> 54) & 1u)
#define X86_DESC_CODE(d)  (X86_DESC_S(d) && (X86_DESC_TYPE(d) & 8u))
#define X86_DESC_CONFORMING(d) (X86_DESC_CODE(d) && (X86_DESC_TYPE(d) & 4u))
#define X86_DESC_WRITABLE_DATA(d) (X86_DESC_S(d) && (X86_DESC_TYPE(d) & 10u) == 2u)

#define X86_SYSDESC_LDT       2u
#define X86_SYSDESC_TSS64     9u
#define X86_SYSDESC_TSS64_BUSY 11u

enum vam_desc_status {
    VAM_DESC_OK,
    VAM_DESC_LIMIT,             /* the selector's index is beyond its table's limit */
    VAM_DESC_FAULT,             /* reading the table faulted: *fault */
    VAM_DESC_ERROR,             /* outside guest RAM (v->error) */
};

/* Reads the 8-byte descriptor of `sel` (GDT, or LDT when TI) into *d.  A
 * walk fault becomes *fault (#PF, or #GP(ext) for a non-canonical table). */
enum vam_desc_status vam_desc_read(struct vam_vcpu *v, uint16_t sel, uint64_t *d,
                                   struct vam_event *fault, bool ext);

/* lldt / ltr with the checks of the instructions (#GP(0) at CPL > 0,
 * #GP(sel) for a selector in the LDT, beyond the GDT limit or of the wrong
 * type (LDT: 2; TSS: available 64-bit TSS, 9), #NP(sel) if not present,
 * #GP(sel) for a non-canonical base).  A null selector makes the LDT
 * unusable (lldt) or is #GP(0) (ltr).  ltr marks the TSS busy in the GDT.
 * VAM_CPU_OK: loaded.  VAM_CPU_NONE: nothing changed, *fault is the
 * guest's exception for the caller to deliver.  VAM_CPU_ERROR: a table
 * outside guest RAM (v->error). */
enum vam_cpu_result vam_load_ldtr(struct vam_vcpu *v, uint16_t sel, struct vam_event *fault);
enum vam_cpu_result vam_load_tr(struct vam_vcpu *v, uint16_t sel, struct vam_event *fault);

/* Reads the 64-bit TSS's RSPn (n = 0..2) or ISTn (n = 1..7) at its offset
 * (RSPn: 4 + 8n, ISTn: 36 + 8(n-1)); #TS(tr + ext) if beyond the TSS limit. */
enum vam_desc_status vam_tss_read(struct vam_vcpu *v, unsigned offset, uint64_t *val,
                                  struct vam_event *fault, bool ext);
#define VAM_TSS_RSP(n) (4u + 8u * (n))
#define VAM_TSS_IST(n) (36u + 8u * ((n) - 1u))

#endif
