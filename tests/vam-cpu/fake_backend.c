/*
 * The fake back end (fake_backend.h).
 */
#include "fake_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_call fake_calls[FAKE_MAX_CALLS];
unsigned fake_ncalls;
int fake_active_kernel = -1, fake_active_user = -1;
int fake_space_limit = BE_MAX_SPACES;
uint64_t fake_refuse_va;

#define FAKE_SPACE_ENTRIES 4096

struct fake_entry {
    uint64_t va, gpa;
    unsigned perm;
};

struct fake_space {
    bool live;
    int kind;
    unsigned n;
    struct fake_entry e[FAKE_SPACE_ENTRIES];
};

static struct fake_space spaces[BE_MAX_SPACES];
static struct be_memory memory;

static void log_call(struct fake_call c)
{
    if (fake_ncalls == FAKE_MAX_CALLS) {
        fprintf(stderr, "fake back end: call log full\n");
        abort();
    }
    fake_calls[fake_ncalls++] = c;
}

void fake_reset(uint64_t ram_size)
{
    free(memory.window);
    memory.window = calloc(1, ram_size);
    if (!memory.window)
        abort();
    memory.gpa_size = ram_size;
    memset(spaces, 0, sizeof spaces);
    fake_ncalls = 0;
    fake_active_kernel = fake_active_user = -1;
    fake_space_limit = BE_MAX_SPACES;
    fake_refuse_va = 0;
}

uint8_t *fake_ram(void)
{
    return memory.window;
}

void fake_clear_log(void)
{
    fake_ncalls = 0;
}

unsigned fake_count(enum fake_op op)
{
    unsigned n = 0;
    for (unsigned i = 0; i < fake_ncalls; i++)
        n += fake_calls[i].op == op;
    return n;
}

const struct fake_call *fake_nth(enum fake_op op, unsigned n)
{
    static const struct fake_call none = {.op = (enum fake_op)-1, .space = -1, .kernel = -1,
                                          .user = -1};
    for (unsigned i = 0; i < fake_ncalls; i++)
        if (fake_calls[i].op == op && n-- == 0)
            return &fake_calls[i];
    return &none;
}

static struct fake_space *space(int s)
{
    if (s < 0 || s >= BE_MAX_SPACES || !spaces[s].live) {
        fprintf(stderr, "fake back end: bad space %d\n", s);
        abort();
    }
    return &spaces[s];
}

static int find(struct fake_space *sp, uint64_t va)
{
    for (unsigned i = 0; i < sp->n; i++)
        if (sp->e[i].va == va)
            return (int)i;
    return -1;
}

bool fake_lookup(int s, uint64_t va, uint64_t *gpa, unsigned *perm)
{
    struct fake_space *sp = space(s);
    int i = find(sp, va & ~0xfffull);
    if (i < 0)
        return false;
    if (gpa)
        *gpa = sp->e[i].gpa;
    if (perm)
        *perm = sp->e[i].perm;
    return true;
}

unsigned fake_space_size(int s)
{
    return space(s)->n;
}

bool fake_space_live(int s)
{
    return s >= 0 && s < BE_MAX_SPACES && spaces[s].live;
}

int fake_space_kind(int s)
{
    return space(s)->kind;
}

/* ---- backend.h ------------------------------------------------------------------ */

const struct be_memory *be_memory(void)
{
    return &memory;
}

be_space_t be_space_create(enum be_space_kind kind)
{
    int live = 0;
    for (int s = 0; s < BE_MAX_SPACES; s++)
        live += spaces[s].live;
    int result = -1;
    if (live < fake_space_limit)
        for (int s = 0; s < BE_MAX_SPACES; s++)
            if (!spaces[s].live) {
                spaces[s].live = true;
                spaces[s].kind = kind;
                spaces[s].n = 0;
                result = s;
                break;
            }
    log_call((struct fake_call){.op = FAKE_CREATE, .space = result, .kind = kind});
    return result;
}

void be_space_destroy(be_space_t s)
{
    space(s)->live = false;
    log_call((struct fake_call){.op = FAKE_DESTROY, .space = s});
}

void be_space_activate(be_space_t kernel, be_space_t user)
{
    if (kernel >= 0) {
        if (space(kernel)->kind != BE_SPACE_KERNEL)
            abort();
        fake_active_kernel = kernel;
    }
    if (user >= 0) {
        if (space(user)->kind != BE_SPACE_USER)
            abort();
        fake_active_user = user;
    }
    log_call((struct fake_call){.op = FAKE_ACTIVATE, .kernel = kernel, .user = user});
}

bool be_map(be_space_t s, uint64_t va, uint64_t gpa, unsigned perm)
{
    struct fake_space *sp = space(s);
    log_call((struct fake_call){.op = FAKE_MAP, .space = s, .va = va, .gpa = gpa, .perm = perm});
    if ((va & 0xfff) || (gpa & 0xfff) || gpa >= memory.gpa_size) {
        fprintf(stderr, "fake back end: bad be_map %#llx -> %#llx\n", (unsigned long long)va,
                (unsigned long long)gpa);
        abort();
    }
    if (fake_refuse_va && va == fake_refuse_va)
        return false;
    int i = find(sp, va);
    if (i < 0) {
        if (sp->n == FAKE_SPACE_ENTRIES)
            abort();
        i = (int)sp->n++;
    }
    sp->e[i] = (struct fake_entry){va, gpa, perm};
    return true;
}

void be_unmap(be_space_t s, uint64_t va)
{
    struct fake_space *sp = space(s);
    log_call((struct fake_call){.op = FAKE_UNMAP, .space = s, .va = va});
    int i = find(sp, va & ~0xfffull);
    if (i >= 0)
        sp->e[i] = sp->e[--sp->n];
}

void be_flush(be_space_t s, bool include_global)
{
    struct fake_space *sp = space(s);
    log_call((struct fake_call){.op = FAKE_FLUSH, .space = s, .include_global = include_global});
    unsigned j = 0;
    for (unsigned i = 0; i < sp->n; i++)
        if (!include_global && (sp->e[i].perm & BE_GLOBAL))
            sp->e[j++] = sp->e[i];
    sp->n = j;
}

void be_resume(const struct vam_regs *regs)
{
    (void)regs;
    fprintf(stderr, "fake back end: be_resume called\n");
    abort();
}

void be_set_seg_base(enum be_seg_base which, uint64_t base)
{
    (void)which, (void)base;
}

uint64_t be_now_ns(void)
{
    return 0;
}

uint64_t be_tsc_hz(void)
{
    return 1000000000ull;
}

void be_set_timer(uint64_t deadline_ns)
{
    (void)deadline_ns;
}

void be_events_mask(void)
{
}

void be_events_unmask(void)
{
}

void be_block(void)
{
}

void be_fpu_set_ts(bool ts)
{
    (void)ts;
}

void be_set_tsd(bool tsd)
{
    (void)tsd;
}

void be_console_write(const char *buf, unsigned long len)
{
    fwrite(buf, 1, len, stderr);
}

void be_shutdown(enum be_shutdown why)
{
    fprintf(stderr, "fake back end: be_shutdown(%d)\n", (int)why);
    exit(3);
}
