/*
 * vam-load-check FILE: runs the VAM's loader on FILE and prints the outcome,
 * one line, for check.sh to match:
 *
 *   ok: 16 sites (1 in 16/32-bit code, 1 templates), 2 mode markers, 1 notes
 *   error [pad]: site 0x401008 (cli, record 0): pad too small: 5 < 8
 *
 * With --list, one line per site after "ok": address, kind, record, length,
 * status and the decoded instruction.  Exit status 0 if the file loads, 1 if not.
 */
#include "testutil.h"

#include <vam/loader.h>

#include <afterburn/kinds.h>

#include <string.h>

int main(int argc, char **argv)
{
    bool list = argc == 3 && strcmp(argv[1], "--list") == 0;
    if (argc != 2 && !list) {
        fprintf(stderr, "usage: vam-load-check [--list] FILE\n");
        return 2;
    }
    size_t size;
    uint8_t *img = read_file(argv[argc - 1], &size);
    struct vam_guest g;
    struct vam_error e;
    /* First learn the record count, then load for real. */
    enum vam_status st = vam_load(&g, img, size, NULL, 0, &e);
    struct vam_site *buf = NULL;
    if (st == VAM_ERR_NOSPACE) {
        buf = malloc(sizeof *buf * (g.nrecords ? g.nrecords : 1));
        st = vam_load(&g, img, size, buf, g.nrecords, &e);
    }
    if (st != VAM_OK) {
        CHECK(e.code == st, "error code %d, result %d", e.code, st);
        printf("error [%s]: %s\n", vam_status_name(e.code), e.msg);
        free(buf);
        free(img);
        return 1;
    }
    printf("ok: %zu sites (%u in 16/32-bit code, %u templates), %zu mode markers, %u notes\n",
           g.nsite, g.nother_mode, g.ntemplate, g.nmark, g.nnotes);
    for (size_t i = 0; list && i < g.nsite; i++) {
        const struct vam_site *s = &g.site[i];
        char text[96] = "-", kb[16];
        struct vam_insn d;
        if (!(s->status & VAM_SITE_OTHER_MODE) &&
            vam_site_decode(s, vam_guest_bytes(&g, s->addr, s->len), &d, NULL) == VAM_OK)
            vam_insn_format(&d, text, sizeof text);
        printf("0x%llx %s record %u len %u%s%s: %s\n", (unsigned long long)s->addr,
               vam_kind_name(s->kind, kb), s->record, s->len,
               s->status & VAM_SITE_OTHER_MODE ? " other-mode" : "",
               s->status & VAM_SITE_TEMPLATE ? " template" : "", text);
    }
    free(buf);
    free(img);
    return test_failures ? 3 : 0;
}
