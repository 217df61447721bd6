/* PCI configuration space and port I/O for the VAM as dom0 (xen-pci.c). */
#ifndef VAMXEN_PCI_H
#define VAMXEN_PCI_H

#include <stdbool.h>
#include <stdint.h>

static inline void vamxen_outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void vamxen_outw(uint16_t port, uint16_t v) { asm volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void vamxen_outl(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t vamxen_inb(uint16_t port) { uint8_t v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t vamxen_inw(uint16_t port) { uint16_t v; asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t vamxen_inl(uint16_t port) { uint32_t v; asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* Virtual IOPL 1 (PV kernel mode counts as CPL 1): the VAM's own in/out
 * pass Xen's check.  false if Xen refused. */
bool vamxen_io_enable(void);

/* Configuration space of bus 0 through ports 0xcf8/0xcfc (Xen emulates
 * them for dom0): len 1, 2 or 4, naturally aligned. */
uint32_t vamxen_pci_read(unsigned devfn, unsigned reg, unsigned len);
void vamxen_pci_write(unsigned devfn, unsigned reg, unsigned len, uint32_t value);

/* The INTx line of a function as firmware routed it (GSI = its interrupt-
 * line register), level-triggered, bound to `handler` through a PIRQ.
 * Returns the PIRQ, or -1 after a console line saying why. */
int vamxen_bind_intx(unsigned devfn, void (*handler)(unsigned port), unsigned *gsi);
void vamxen_pirq_eoi(unsigned pirq);

#endif
