/*
 * A back end for host tests (vam/include/vam/backend.h in plain C): guest
 * RAM is a calloc'ed buffer, address spaces are tables of translations, and
 * every call that changes a space is logged so tests can assert on it.
 */
#ifndef FAKE_BACKEND_H
#define FAKE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "vam/backend.h"

enum fake_op { FAKE_CREATE, FAKE_DESTROY, FAKE_ACTIVATE, FAKE_MAP, FAKE_UNMAP, FAKE_FLUSH };

struct fake_call {
    enum fake_op op;
    int space;                  /* CREATE (result), DESTROY, MAP, UNMAP, FLUSH */
    int kind;                   /* CREATE: enum be_space_kind */
    uint64_t va, gpa;           /* MAP, UNMAP */
    unsigned perm;              /* MAP */
    bool include_global;        /* FLUSH */
    int kernel, user;           /* ACTIVATE */
};

#define FAKE_MAX_CALLS 8192

extern struct fake_call fake_calls[FAKE_MAX_CALLS];
extern unsigned fake_ncalls;
extern int fake_active_kernel, fake_active_user;
extern int fake_space_limit;            /* be_space_create fails beyond this many live spaces */
extern uint64_t fake_refuse_va;         /* be_map of this va (if nonzero) returns false */

/* Fresh RAM of `ram_size` bytes (zeroed), no spaces, empty log. */
void fake_reset(uint64_t ram_size);
uint8_t *fake_ram(void);
void fake_clear_log(void);

unsigned fake_count(enum fake_op op);
/* The n-th logged call of `op` (0-based), or a call with op -1 and every
 * field -1 or 0 (so that checks on it fail rather than crash). */
const struct fake_call *fake_nth(enum fake_op op, unsigned n);
/* Is va translated in space s now?  (gpa and perm through the pointers.) */
bool fake_lookup(int space, uint64_t va, uint64_t *gpa, unsigned *perm);
unsigned fake_space_size(int space);
bool fake_space_live(int space);
int fake_space_kind(int space);

#endif
