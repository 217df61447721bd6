/* The device class: registers in a typed struct. */
#include "common.h"

struct dev_regs { u32 status; u32 control; unsigned char fifo; unsigned short word; };

int poll(volatile struct dev_regs *regs, struct dev_regs *plain)
{
    regs->control = 0x3;                   /* dev_write, 4 bytes, volatile */
    regs->control |= 0x4;                  /* dev_rmw */
    plain->word = 7;                       /* dev_write, 2 bytes */
    return regs->fifo + (regs->status & 1);   /* dev_read 1 byte, dev_read 4 bytes */
}
