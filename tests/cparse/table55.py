#!/usr/bin/env python3
"""The annotated kernel's annotations beside the thesis's Table 5.5.

usage: table55.py LIST REPORT INSPECT [-o OUT.md] [--src DIR]

LIST     cparse-list.txt of the annotated build (AFTERBURN_CPARSE_LIST: one
         line per rewritten source access, repeated for every file that
         includes a header; duplicates are one annotation)
REPORT   cparse-report.txt (accesses afterburn-cparse could not rewrite)
INSPECT  `afterburn-inspect --counts` of the annotated vmlinux (instruction
         sites and memory sites per kind after inlining)

Source annotations are counted once per source location and kind; the level
comes from the type (pte -> PTE, pmd/pud/p4d/pgd -> PDE: the thesis's x86-32
had two levels, "page directory" is every level above the PTE).  Exits 1
when an input is missing or has nothing of what it should have.
"""
import argparse
import re
import sys

THESIS = {  # Table 5.5, Linux 2.6.9 and 2.4.28
    "instructions": (5181, 3035),
    "PDE writes": (17, 20),
    "PDE reads": (36, 26),
    "PTE writes": (33, 30),
    "PTE reads": (20, 18),
    "PTE bit ops": (5, 3),
}

LINE = re.compile(r"^(?P<loc>\S+:\d+): (?P<kinds>\S+) (?P<shape>\S+) (?P<width>\d+)"
                  r".* '(?P<type>[^']*)' in (?P<func>\S+)$")


def level_of(type_name):
    t = type_name.replace("const", "").replace("volatile", "").strip()
    if t.startswith("pte"):
        return "PTE"
    if t[:3] in ("pmd", "pud", "p4d", "pgd"):
        return "PDE"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("list")
    ap.add_argument("report")
    ap.add_argument("inspect")
    ap.add_argument("-o", "--output")
    ap.add_argument("--src", help="kernel source directory, left out of the paths shown")
    a = ap.parse_args()

    seen = set()
    rows = {k: 0 for k in THESIS if k != "instructions"}
    unknown = 0
    with open(a.list, encoding="utf-8", errors="replace") as f:
        for raw in f:
            m = LINE.match(raw.rstrip("\n"))
            if not m:
                continue
            key = (m["loc"], m["kinds"], m["shape"], m["type"])
            if key in seen:
                continue
            seen.add(key)
            level = level_of(m["type"])
            if level is None:
                unknown += 1
                continue
            if m["shape"] == "rmw":
                rows[level + (" bit ops" if level == "PTE" else " writes")] += 1
                continue
            for k in m["kinds"].split("+"):
                rows[level + (" reads" if k.endswith("read") else " writes")] += 1
    if not seen:
        print(f"table55: no rewritten accesses in {a.list}", file=sys.stderr)
        return 1

    with open(a.report, encoding="utf-8", errors="replace") as f:
        unclassified = sorted({l.split(" (in ")[0].strip() + "  (in " + l.split(" (in ")[1].strip()
                               if " (in " in l else l.strip() for l in f if l.strip()})

    text = open(a.inspect, encoding="utf-8", errors="replace").read()
    m = re.search(r"^\s*total\s+(\d+)\s*$", text.split("memory sites by kind:")[0], re.M)
    insn_sites = int(m.group(1)) if m else None
    mem = dict(re.findall(r"^\s+(pt_\w+|dev_\w+)\s+(\d+)\s*$",
                          text.split("memory sites by kind:")[1] if "memory sites by kind:" in text
                          else "", re.M))
    if insn_sites is None or not mem:
        print(f"table55: {a.inspect} has no site counts or no memory sites", file=sys.stderr)
        return 1

    out = ["| annotation type | ours: source accesses | thesis Linux 2.6.9 | thesis Linux 2.4.28 |",
           "|---|---:|---:|---:|",
           f"| instructions (afterburn-as sites in vmlinux) | {insn_sites} | "
           f"{THESIS['instructions'][0]} | {THESIS['instructions'][1]} |"]
    for k, v in rows.items():
        out.append(f"| {k} | {v} | {THESIS[k][0]} | {THESIS[k][1]} |")
    out.append("")
    out.append("Memory sites in vmlinux after inlining (afterburn-inspect --counts): " +
               ", ".join(f"{k} {v}" for k, v in sorted(mem.items())) + ".")
    if unknown:
        out.append(f"{unknown} rewritten accesses of types that are no page-table level "
                   f"(device classes) are not in the table.")
    out.append("")
    out.append(f"Left alone and reported by afterburn-cparse ({len(unclassified)} distinct):")
    out.append("")
    src = (a.src.rstrip("/") + "/") if a.src else None
    out += [f"- `{u.replace(src, '') if src else u}`" for u in unclassified]
    doc = "\n".join(out) + "\n"
    if a.output:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(doc)
    sys.stdout.write(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
