/*
 * Local APIC (x2APIC through MSRs when the CPU has it, otherwise xAPIC MMIO
 * at the APIC base), the 8259 PIC pair and the 8254 PIT.
 */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include <stdbool.h>
#include <stdint.h>

/* Register offsets as in the xAPIC MMIO page; x2APIC MSR = 0x800 + off/16. */
#define APIC_ID        0x020
#define APIC_LVR       0x030
#define APIC_TPR       0x080
#define APIC_EOI       0x0b0
#define APIC_LDR       0x0d0
#define APIC_SVR       0x0f0
#define  APIC_SVR_ENABLE 0x100
#define APIC_ISR       0x100   /* 8 registers, 0x10 apart */
#define APIC_TMR       0x180
#define APIC_IRR       0x200
#define APIC_ESR       0x280
#define APIC_ICR       0x300
#define APIC_ICR2      0x310   /* xAPIC only */
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TMICT     0x380   /* timer initial count */
#define APIC_TMCCT     0x390   /* timer current count */
#define APIC_TDCR      0x3e0   /* timer divide configuration */
#define APIC_SELF_IPI  0x3f0   /* x2APIC only */

#define APIC_LVT_MASKED      (1U << 16)
#define APIC_TIMER_ONESHOT   (0U << 17)
#define APIC_TIMER_PERIODIC  (1U << 17)
#define APIC_DM_FIXED        (0U << 8)
#define APIC_DM_NMI          (4U << 8)
#define APIC_DM_EXTINT       (7U << 8)
#define APIC_ICR_SELF        (1U << 18)    /* destination shorthand: self */
#define APIC_ICR_BUSY        (1U << 12)    /* xAPIC delivery status */
#define APIC_TDCR_DIV1       0xb

#define APIC_DEFAULT_BASE    0xfee00000UL

enum apic_mode { APIC_MODE_NONE = 0, APIC_MODE_XAPIC = 1, APIC_MODE_X2APIC = 2 };
extern enum apic_mode apic_mode;
const char *apic_mode_name(enum apic_mode m);

/* Enable the local APIC: x2APIC if CPUID has it and want is X2APIC, else
 * xAPIC.  Software-enables it (SVR, spurious vector VEC_SPURIOUS), TPR 0,
 * timer and error LVTs masked, LINT0 ExtINT (so the 8259 reaches the CPU),
 * LINT1 NMI.  Returns the mode, APIC_MODE_NONE if there is no APIC. */
enum apic_mode apic_init(enum apic_mode want);
bool cpu_has_x2apic(void);
uint32_t apic_read(unsigned reg);
void apic_write(unsigned reg, uint32_t val);
void apic_icr_write(uint32_t low, uint32_t dest);
void apic_eoi(void);
/* A fixed interrupt of `vec` to this CPU (ICR with the self shorthand). */
void apic_self_ipi(uint8_t vec);
/* Is `vec` set in the IRR / ISR? */
bool apic_irr_test(uint8_t vec);
bool apic_isr_test(uint8_t vec);

/* ---- 8259 PIC pair, remapped to PIC_VEC_BASE (IRQ n -> vector base+n) ---- */
#define PIC_VEC_BASE 0x20
void pic_init(void);              /* remap, all masked (framework calls it) */
void pic_mask(unsigned irq);
void pic_unmask(unsigned irq);
void pic_eoi(unsigned irq);       /* non-specific EOI (both chips for irq >= 8) */
uint16_t pic_read_isr(void);
uint16_t pic_read_irr(void);

/* ---- 8254 PIT (1.193182 MHz) ------------------------------------------------ */
#define PIT_HZ 1193182U
/* Channel 0, mode 2 (rate generator), reload value `count` (0 = 65536). */
void pit_start_periodic(uint16_t count);
/* Channel 0, mode 0 (one interrupt at terminal count). */
void pit_start_oneshot(uint16_t count);
void pit_stop(void);

#endif
