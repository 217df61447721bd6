/* Kernel-style inline assembly: the shapes Linux's headers produce. */
typedef unsigned long u64;
static inline u64 native_save_fl(void)
{
    u64 flags;
    asm volatile("# __raw_save_flags\n\t" "pushf ; pop %0" : "=rm"(flags) : : "memory");
    return flags;
}
static inline void native_irq_disable(void) { asm volatile("cli" : : : "memory"); }
static inline void native_irq_enable(void) { asm volatile("sti" : : : "memory"); }
static inline void native_safe_halt(void) { asm volatile("sti; hlt" : : : "memory"); }
static inline void write_cr3(u64 v) { asm volatile("mov %0,%%cr3" : : "r"(v) : "memory"); }
static inline u64 read_cr2(void) { u64 v; asm volatile("mov %%cr2,%0" : "=r"(v)); return v; }
static inline void wrmsr(unsigned msr, unsigned lo, unsigned hi)
{
    asm volatile("1: wrmsr\n2:\n"
                 ".pushsection __ex_table,\"a\"\n .long 1b - ., 2b - .\n .popsection"
                 : : "c"(msr), "a"(lo), "d"(hi) : "memory");
}
static inline unsigned char inb(unsigned short port)
{
    unsigned char v;
    asm volatile("inb %w1, %b0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void outsb(unsigned short port, const void *addr, unsigned long count)
{
    asm volatile("rep; outsb" : "+S"(addr), "+c"(count) : "d"(port));
}
static inline void cpuid(unsigned *a, unsigned *b, unsigned *c, unsigned *d)
{
    asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "0"(*a), "2"(*c) : "memory");
}
static inline unsigned short read_ds(void) { unsigned short s; asm("mov %%ds,%0" : "=r"(s)); return s; }
static inline void load_gs(unsigned short s) { asm volatile("movl %k0,%%gs" : : "r"(s)); }

volatile u64 sink;
int work(int n, const char *buf)
{
    int total = 0;
    for (int i = 0; i < n; i++) {
        u64 f = native_save_fl();
        native_irq_disable();
        total += inb(0x60 + i) + buf[i];
        if (total & 1)
            write_cr3(sink);
        else
            sink = read_cr2();
        if (f & 0x200)
            native_irq_enable();
        if (total > 1000)
            break;
    }
    unsigned a = 0, b, c = 0, d;
    cpuid(&a, &b, &c, &d);
    wrmsr(0xc0000100, a, d);
    outsb(0x3f8, buf, n);
    load_gs(read_ds());
    switch (n) {
    case 1: native_safe_halt(); break;
    case 2: total += 3; break;
    case 3: total *= 7; break;
    case 4: total -= 9; break;
    case 5: total ^= 11; break;
    default: break;
    }
    return total;
}
