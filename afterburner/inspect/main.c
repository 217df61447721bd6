/*
 * afterburn-inspect: list, count, verify and audit the pre-virtualization
 * annotations of an x86-64 ELF file (a vmlinux, or one object file).
 */
#include "allow.h"
#include "inspect.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: afterburn-inspect [--json] [--list] [--counts] [--verify] [--audit]\n"
          "                         [--quiet] [--allow FILE] FILE\n"
          "\n"
          "  --list     one row per site, mode marker and memory site\n"
          "  --counts   sites per kind, mode markers, sites in 16/32-bit code and in\n"
          "             .altinstr_replacement; memory sites per kind (afterburn-cparse)\n"
          "  --verify   every record describes a real, correctly padded site (memory\n"
          "             sites: a register-indirect mov or ALU op of the recorded width)\n"
          "  --audit    every sensitive instruction in executable code has a site\n"
          "  --allow F  audit exceptions, lines 'symbol kind  # justification'\n"
          "  --json     one JSON document (with --list implied when no mode is given)\n"
          "  --quiet    print only what makes the file fail\n"
          "\n"
          "Without a mode: --counts --verify --audit and a one-line summary.\n"
          "Exit status: 0 ok, 1 the file fails (or cannot be read), 2 usage error.\n",
          f);
}

enum { OPT_ALLOW = 256, OPT_HELP };

static const struct option long_options[] = {
    { "json", no_argument, NULL, 'j' },
    { "list", no_argument, NULL, 'l' },
    { "counts", no_argument, NULL, 'c' },
    { "verify", no_argument, NULL, 'v' },
    { "audit", no_argument, NULL, 'a' },
    { "quiet", no_argument, NULL, 'q' },
    { "allow", required_argument, NULL, OPT_ALLOW },
    { "help", no_argument, NULL, OPT_HELP },
    { NULL, 0, NULL, 0 },
};

/* Returns the index of FILE in argv, or -1 after printing why not. */
static int parse_args(int argc, char **argv, struct ab_options *opt, const char **allow_path)
{
    int c;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (c) {
        case 'j': opt->json = true; break;
        case 'l': opt->list = true; break;
        case 'c': opt->counts = true; break;
        case 'v': opt->verify = true; break;
        case 'a': opt->audit = true; break;
        case 'q': opt->quiet = true; break;
        case OPT_ALLOW: *allow_path = optarg; break;
        case OPT_HELP: usage(stdout); return -2;
        default: usage(stderr); return -1;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "afterburn-inspect: expected exactly one FILE\n");
        usage(stderr);
        return -1;
    }
    if (!opt->list && !opt->counts && !opt->verify && !opt->audit) {
        opt->counts = opt->verify = opt->audit = opt->summary = true;
        opt->list = opt->json;
    }
    return optind;
}

int main(int argc, char **argv)
{
    struct ab_options opt = { 0 };
    const char *allow_path = NULL;
    int file = parse_args(argc, argv, &opt, &allow_path);
    if (file < 0)
        return file == -2 ? AB_EXIT_OK : AB_EXIT_USAGE;
    struct ab_allow_list allow = { 0 };
    if (allow_path) {
        char why[512];
        if (!ab_allow_load(&allow, allow_path, why, sizeof why)) {
            fprintf(stderr, "afterburn-inspect: --allow %s\n", why);
            ab_allow_free(&allow);
            return AB_EXIT_USAGE;
        }
        opt.allow = &allow;
    }
    int status = ab_inspect_file(argv[file], &opt, stdout, stderr);
    ab_allow_free(&allow);
    return status;
}
