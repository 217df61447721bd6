/* COM1 serial console and panic. */
#include "internal.h"

#define COM1      0x3f8
#define UART_THR  0     /* transmit holding (DLAB 0) */
#define UART_DLL  0     /* divisor low (DLAB 1) */
#define UART_IER  1
#define UART_DLH  1
#define UART_FCR  2
#define UART_LCR  3
#define UART_MCR  4
#define UART_LSR  5
#define  UART_LSR_THRE 0x20

void console_init(void)
{
    outb(COM1 + UART_IER, 0x00);        /* no interrupts */
    outb(COM1 + UART_LCR, 0x80);        /* DLAB */
    outb(COM1 + UART_DLL, 1);           /* 115200 baud */
    outb(COM1 + UART_DLH, 0);
    outb(COM1 + UART_LCR, 0x03);        /* 8N1 */
    outb(COM1 + UART_FCR, 0x07);        /* FIFO on, cleared */
    outb(COM1 + UART_MCR, 0x03);        /* DTR, RTS */
}

static void serial_putc(char c)
{
    for (unsigned spin = 0; spin < 100000; spin++)
        if (inb(COM1 + UART_LSR) & UART_LSR_THRE)
            break;
    outb(COM1 + UART_THR, (uint8_t)c);
}

void console_write(const char *s, size_t n)
{
    while (n--) {
        if (*s == '\n')
            serial_putc('\r');
        serial_putc(*s++);
    }
}

void vprintk(const char *fmt, va_list ap)
{
    char buf[256];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);

    console_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void printk(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}

void panic(const char *fmt, ...)
{
    va_list ap;

    cli();
    printk("PANIC: ");
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
    printk("\n");
    panic_exit();
}
