#!/usr/bin/env python3
"""Parse, check and tabulate the guest microbenchmarks' serial logs.

  bench-report.py check LOG [--names N,N,...] [--vam]
      Exit 0 only if the run finished (BENCH-DONE failed=0, no BENCH-ERROR)
      and every benchmark reported a finite positive us= and iters=; with
      --vam (a run under the VAM) also its two counter lines.

  bench-report.py report --out PREFIX --run MODE:CONFIG:LOG [--run ...]
                         [--kbuild MODE:CONFIG:LOG ...] [--meta KEY=VALUE ...]
      Writes PREFIX.md, PREFIX.csv and PREFIX.svg: per mode, each benchmark
      in microseconds per operation and as a ratio to native, beside the
      thesis's LMbench2 ratios. Several logs of one MODE:CONFIG (rounds) are
      combined by taking the fastest. For CONFIG xen_afterburnt the VAM's
      counters (its "VAM: entries: ..." and "VAM: VAM entries per site
      kind: ..." lines) are tabulated beside the thesis's Table 5.6. A log
      that fails the check still counts with what it has; the Markdown then
      lists the problems (and the VAM's last lines) and the exit status is 1.
      --kbuild logs are kernel-build runs (run-kbuild.sh: one BENCH line,
      name=kbuild, the whole build in us, with the guest's user_s and sys_s);
      they get their own table beside the thesis's kernel-build figures and
      a group in the chart, and rows "kbuild" in the CSV.
      Prints the Markdown.

Standard library only (Debian's python3).
"""
import argparse
import csv
import html
import math
import re
import sys

# Every name abbench prints, in run-bench.sh's order.
NAMES = ["null_syscall", "null_read", "null_write", "null_io", "stat", "open_close",
         "sig_install", "sig_handle", "fork", "exec", "sh", "pipe_rtt", "ctx_2p"]
# The rows of the chart (null_read/null_write are folded into null_io).
CHART_NAMES = ["null_syscall", "null_io", "stat", "open_close", "sig_install",
               "sig_handle", "fork", "exec", "sh", "pipe_rtt", "ctx_2p"]

WHAT = {
    "null_syscall": "getppid()",
    "null_read": "read 1 byte, /dev/zero",
    "null_write": "write 1 byte, /dev/null",
    "null_io": "mean of null_read, null_write",
    "stat": "stat() of a /tmp file",
    "open_close": "open() + close()",
    "sig_install": "sigaction()",
    "sig_handle": "kill(self) + handler",
    "fork": "fork + exit + wait",
    "exec": "fork + execve(hello) + wait",
    "sh": "fork + sh -c hello + wait",
    "pipe_rtt": "pipe round trip, 2 processes",
    "ctx_2p": "context switch, 2-process ring",
    "kbuild": "kernel build slice (make -j1: gcc, as; ld -r)",
}

# The thesis's LMbench2 results, Linux 2.6.9 on a Pentium 4 2.8 GHz, in
# microseconds (shared/notes/anchors.md; thesis chapter 5.2):
# raw = native, nop = afterburnt on raw hardware, xeno = XenoLinux
# (para-virtualized on Xen), pre = afterburnt on Xen (through the VAM).
THESIS = {
    "null_syscall": (0.46, 0.46, 0.45, 0.44),
    "null_io": (0.53, 0.52, 0.52, 0.50),
    "stat": (1.34, 1.40, 1.29, 1.37),
    "open_close": (2.03, 2.03, 1.83, 1.82),
    "sig_install": (0.89, 0.91, 0.89, 0.89),
    "sig_handle": (2.93, 3.19, 0.97, 1.70),
    "fork": (77, 83, 182, 243),
    "exec": (310, 324, 545, 700),
    "sh": (5910, 5938, 6711, 7235),
    # kernel build, Linux 2.6.9, seconds -> microseconds
    "kbuild": (209e6, 209e6, 219e6, 221e6),
}

CONFIGS = ["native", "afterburnt", "paravirt", "xen_afterburnt"]
# The annotated kernel (afterburn-as + afterburn-cparse) under the VAM, with
# its page-table writes logged (vam.ptlog=on, the default) and without
# (vam.ptlog=off): the page-table annotation comparison (issue 7).
PT_CONFIGS = ["xen_annotated", "xen_annotated_nolog"]
XEN_CONFIGS = ("paravirt", "xen_afterburnt") + tuple(PT_CONFIGS)
CONFIG_TITLE = {
    "native": "native",
    "afterburnt": "afterburnt (native)",
    "paravirt": "para-virt on Xen",
    "xen_afterburnt": "afterburnt on Xen (VAM)",
    "xen_annotated": "annotated on Xen (VAM, page-table log)",
    "xen_annotated_nolog": "annotated on Xen (VAM, vam.ptlog=off)",
}
MODE_TITLE = {
    "wall": "wall-clock (plain QEMU TCG)",
    "icount": "deterministic (QEMU TCG, -icount shift=1,sleep=off)",
}

LINE_RE = re.compile(r"^(BENCH-INFO|BENCH-ERROR|BENCH-DONE|BENCH)\s+(.*)$")

# The thesis's Table 5.6: the most frequent sensitive instructions during
# Netperf receive, Linux 2.6.9 (x86-32) under its VAM: (row, count for the
# whole benchmark, count per interrupt).
THESIS_HOT = [
    ("cli", 6772992, 73.9),
    ("pushf", 6715828, 73.3),
    ("popf", 5290060, 57.7),
    ("sti", 1572769, 17.2),
    ("write segment", 739040, 8.0),
    ("read segment", 735252, 8.0),
    ("port out", 278737, 3.0),
    ("iret", 184760, 2.0),
    ("hlt", 91528, 1.0),
]
# Our site kind (include/afterburn/sensitive.def) for each thesis row.
THESIS_KIND = {"cli": "cli", "pushf": "pushf", "popf": "popf", "sti": "sti",
               "write segment": "movseg", "read segment": "sreg reads", "port out": "out",
               "iret": "iret", "hlt": "hlt"}
# Rewritten as a memory operation on the virtual CPU: never a VAM entry.
INLINE_KINDS = ("pushf", "sreg reads")
VAM_ENTRIES_RE = re.compile(r"^VAM: entries: (.*)$")
VAM_KINDS_RE = re.compile(r"^VAM: VAM entries per site kind:(.*)$")
VAM_TLB_RE = re.compile(r"^VAM: TLB: (.*)$")


def parse_log(path):
    """Returns (results, info, errors, done): results[name] = dict of fields."""
    results, info, errors, done = {}, [], [], None
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "replace").replace("\r", "")
    for line in text.split("\n"):
        m = LINE_RE.match(line.strip())
        if not m:
            continue
        kind, rest = m.group(1), m.group(2).strip()
        fields = dict(kv.split("=", 1) for kv in rest.split() if "=" in kv)
        if kind == "BENCH" and "name" in fields:
            results[fields["name"]] = fields
        elif kind == "BENCH-INFO":
            info.append(fields)
        elif kind == "BENCH-ERROR":
            errors.append(rest)
        elif kind == "BENCH-DONE":
            done = fields
    return results, info, errors, done


def parse_vam(path):
    """The VAM's counters in a Xen log: (entries, kinds, last_lines).
    entries: list of (name, count) from "VAM: entries: ..." (and "TLB
    <name>" from "VAM: TLB: N fills, N evictions, ..."); kinds: dict
    kind -> count from "VAM: VAM entries per site kind: ..."; both empty if
    the VAM did not print them. last_lines: its last 8 "VAM: " lines."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace").replace("\r", "")
    except OSError:
        return [], {}, []
    entries, kinds, vam_lines = [], {}, []
    for line in text.split("\n"):
        if not line.startswith("VAM: "):
            continue
        vam_lines.append(line)
        m = VAM_ENTRIES_RE.match(line)
        if m:
            entries = []
            for part in re.split(r"[,;]", m.group(1)):
                mm = re.match(r"^\s*(.*?)\s+(\d+)\s*$", part)
                if mm:
                    entries.append((mm.group(1), int(mm.group(2))))
        m = VAM_TLB_RE.match(line)
        if m:
            tlb = []
            for part in m.group(1).split(","):
                mm = re.match(r"^\s*(\d+)\s+(.*?)\s*$", part)
                if mm:
                    tlb.append(("TLB " + mm.group(2), int(mm.group(1))))
            entries = [e for e in entries if not e[0].startswith("TLB ")] + tlb
        m = VAM_KINDS_RE.match(line)
        if m:
            # names are one word, or "kind N" for a kind the VAM cannot name
            kinds = {name: int(n) for name, n in
                     re.findall(r"(kind \d+|\S+)\s+(\d+)", m.group(1))}
    return entries, kinds, vam_lines[-8:]


def positive(value):
    try:
        x = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(x) and x > 0


def check_log(path, names):
    results, info, errors, done = parse_log(path)
    problems = []
    if done is None:
        problems.append("no BENCH-DONE line: the benchmark script did not finish")
    elif done.get("failed") != "0":
        problems.append("BENCH-DONE failed=%s" % done.get("failed"))
    problems += ["BENCH-ERROR %s" % e for e in errors]
    for name in names:
        r = results.get(name)
        if r is None:
            problems.append("%s: no BENCH line" % name)
            continue
        for key in ("us", "med_us", "iters"):
            if not positive(r.get(key)):
                problems.append("%s: %s=%s is not a positive number" % (name, key, r.get(key)))
    sources = [i["clocksource"] for i in info if "clocksource" in i]
    bad = [s for s in sources if not s.startswith("tsc")]
    if not sources:
        problems.append("no clocksource reported")
    elif bad:
        problems.append("guest clocksource %s (not the TSC): timings are jiffy-grained" % bad[0])
    return results, problems


def fmt_us(x):
    if x is None:
        return ""
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    if x >= 1:
        return "%.2f" % x
    return "%.3f" % x


def fmt_ratio(x):
    if x is None:
        return ""
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    return "%.2f" % x


def fmt_count(n):
    return "{:,}".format(n)


def combine(runs):
    """runs: list of result dicts of one MODE:CONFIG; keep the fastest."""
    out = {}
    for results in runs:
        for name, r in results.items():
            try:
                us, med, iters = float(r["us"]), float(r["med_us"]), int(r["iters"])
            except (KeyError, ValueError):
                continue
            prev = out.get(name)
            if prev is None or us < prev["us"]:
                out[name] = {"us": us, "med_us": med, "iters": iters, "rounds": len(runs)}
    return out


def build_rows(data, modes, names=None, extra=()):
    rows = []
    for mode in modes:
        per = data.get(mode, {})
        native = per.get("native", {})
        for name in (names or NAMES):
            row = {"mode": mode, "benchmark": name, "what": WHAT[name]}
            nat = native.get(name)
            row["iters"] = nat["iters"] if nat else ""
            for cfg in CONFIGS + list(extra):
                r = per.get(cfg, {}).get(name)
                if cfg not in per:
                    for k in ("_us", "_med_us", "_ratio", "_iters"):
                        row[cfg + k] = "pending"
                    continue
                row[cfg + "_us"] = r["us"] if r else None
                row[cfg + "_med_us"] = r["med_us"] if r else None
                row[cfg + "_ratio"] = (r["us"] / nat["us"]) if (r and nat and nat["us"] > 0) else None
                row[cfg + "_iters"] = r["iters"] if r else None
            xa, pv = row["xen_afterburnt_us"], row["paravirt_us"]
            if xa == "pending" or pv == "pending":
                row["pre_xeno_ratio"] = "pending"
            else:
                row["pre_xeno_ratio"] = (xa / pv) if (xa and pv) else None
            t = THESIS.get(name)
            row["thesis_raw_us"] = t[0] if t else None
            row["thesis_nop_ratio"] = t[1] / t[0] if t else None
            row["thesis_xeno_ratio"] = t[2] / t[0] if t else None
            row["thesis_pre_ratio"] = t[3] / t[0] if t else None
            row["thesis_pre_xeno_ratio"] = t[3] / t[2] if t else None
            rows.append(row)
    return rows


def cell(v, fmt):
    if v == "pending":
        return "pending"
    if v is None:
        return "—"
    return fmt(v)


def vam_markdown(vam, modes):
    """vam[mode] = (entries, kinds) of the xen_afterburnt run (the last
    round's); the counters beside the thesis's Table 5.6."""
    out = []
    shown = [m for m in modes if m in vam and (vam[m][0] or vam[m][1])]
    if not shown:
        return out
    out.append("## The VAM's counters (afterburnt on Xen) and the thesis's Table 5.6")
    out.append("")
    out.append("Printed by the VAM when the guest powers off, so they cover the whole run: Linux's"
               " boot, the benchmark script at its (reduced) counts, and the power-off. They count"
               " *VAM entries*: a rewritten site that calls or jumps into the VAM, or faults"
               " into it. Sites that the rewriter turns into one memory operation on the virtual"
               " CPU (vam/README.md) are counted only when they enter the VAM: `cli` and `sti`"
               " only while an interrupt waits (the VAM then write-protects that page, so they"
               " fault in), `pushf` and segment-register reads (`mov %sreg, reg`, \"sreg reads\")"
               " never (\"inline\"); `movseg` counts segment loads (and stores to memory)."
               " The thesis's Table 5.6 is Netperf receive"
               " on Linux 2.6.9 (x86-32), counted by its VAM's emulation code for the benchmark"
               " only, per network interrupt; x86-64 Linux adds `swapgs`, `sysret` and"
               " `wrmsr` (FS base) to the hot paths, and our page-table updates (`invlpg`,"
               " `mov %cr3`) go through the VAM. Per interrupt = per interrupt the VAM"
               " injected into the guest (mostly the PIT's 250 Hz tick here, so it depends on"
               " the run's length and mode: a rough guide, unlike the thesis's per-packet"
               " interrupts); share = the kind's part of all counted entries in that column.")
    out.append("")
    hdr = "| kind |"
    sep = "|---|"
    for m in shown:
        hdr += " %s entries | %s per interrupt | %s share |" % (m, m, m)
        sep += "---:|---:|---:|"
    hdr += " thesis row | thesis count | thesis per interrupt | thesis share |"
    sep += "---|---:|---:|---:|"
    out.append(hdr)
    out.append(sep)
    totals = {m: sum(vam[m][1].values()) for m in shown}
    irqs = {m: dict(vam[m][0]).get("injected interrupts") for m in shown}

    def per_irq(m, n):
        return "%.1f" % (n / irqs[m]) if irqs[m] else "—"
    thesis_total = sum(c for _, c, _ in THESIS_HOT)
    thesis_by_kind = {}
    for row, count, per in THESIS_HOT:
        thesis_by_kind.setdefault(THESIS_KIND.get(row, row), []).append((row, count, per))
    order = []
    for row, _, _ in THESIS_HOT:
        k = THESIS_KIND.get(row, row)
        if k not in order:
            order.append(k)
    rest = set()
    for m in shown:
        rest |= set(vam[m][1])
    rest -= set(order)
    first = shown[0]
    order += sorted(rest, key=lambda k: (-vam[first][1].get(k, 0), k))
    for k in order:
        theses = thesis_by_kind.get(k, [(None, None, None)])
        for i, (trow, tcount, tper) in enumerate(theses):
            line = "| %s |" % (k if i == 0 else "%s (cont.)" % k)
            for m in shown:
                if i:
                    line += " | | |"
                    continue
                n = vam[m][1].get(k)
                tot = totals[m]
                if n is None:
                    line += " 0 (inline) | | — |" if k in INLINE_KINDS else " 0 | | — |"
                else:
                    line += " %s | %s | %.1f%% |" % (fmt_count(n), per_irq(m, n),
                                                    100.0 * n / tot if tot else 0)
            if trow is None:
                line += " | | | |"
            else:
                line += " %s | %s | %.1f | %.1f%% |" % (trow, fmt_count(tcount), tper,
                                                      100.0 * tcount / thesis_total)
            out.append(line)
    line = "| all counted |"
    for m in shown:
        line += " %s | %s | 100%% |" % (fmt_count(totals[m]), per_irq(m, totals[m]))
    line += " the 9 rows | %s | %.1f | 100%% |" % (fmt_count(thesis_total),
                                                  sum(p for _, _, p in THESIS_HOT))
    out.append(line)
    out.append("")
    out.append("The VAM's entry counters for the same runs:")
    out.append("")
    names = []
    for m in shown:
        for n, _ in vam[m][0]:
            if n not in names:
                names.append(n)
    out.append("| counter | " + " | ".join(shown) + " |")
    out.append("|---|" + "---:|" * len(shown))
    for n in names:
        vals = []
        for m in shown:
            d = dict(vam[m][0])
            vals.append(fmt_count(d[n]) if n in d else "—")
        out.append("| %s | %s |" % (n, " | ".join(vals)))
    out.append("")
    return out


def xen_iters(r):
    """The iteration count of the Xen configurations (they share one)."""
    for k in ("xen_afterburnt_iters", "paravirt_iters"):
        if r.get(k) not in (None, "pending"):
            return r[k]
    return r.get("xen_afterburnt_iters")


def kbuild_markdown(rows, kb_cpu):
    """The kernel-build runs: seconds, ratios, the guest's CPU seconds."""
    kb = [r for r in rows if r["benchmark"] == "kbuild"]
    if not kb:
        return []
    secs = lambda v: v if v in (None, "pending") else v / 1e6  # noqa: E731
    out = ["## Kernel build", "",
           "A slice of the Linux 6.1 tree compiled in the guest with Debian's gcc 12, binutils"
           " and make (tests/bench/guest/make-kbuild-initramfs.sh: Kbuild's own commands for"
           " the objects listed under \"kernel build\" at the top, then `ld -r`), timed by the guest's clock;"
           " one build per boot (the fastest boot if there were several rounds). All"
           " configurations compile the same files with the same toolchain; the guests get"
           " more memory for it (QEMU -m 512 natively; on Xen -m 1024 and dom0_mem=512M). The"
           " thesis row is its Linux 2.6.9 kernel build (seconds, Pentium 4).", "",
           "| mode | native s | afterburnt s | afterburnt / native | para-virt s"
           " | para-virt / native | Xen afterburnt s | Xen afterburnt / native"
           " | Xen afterburnt / para-virt |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in kb:
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["mode"], cell(secs(r["native_us"]), fmt_us), cell(secs(r["afterburnt_us"]), fmt_us),
            cell(r["afterburnt_ratio"], fmt_ratio),
            cell(secs(r["paravirt_us"]), fmt_us), cell(r["paravirt_ratio"], fmt_ratio),
            cell(secs(r["xen_afterburnt_us"]), fmt_us), cell(r["xen_afterburnt_ratio"], fmt_ratio),
            cell(r["pre_xeno_ratio"], fmt_ratio)))
    t = THESIS["kbuild"]
    out.append("| thesis (2.6.9) | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        fmt_us(t[0] / 1e6), fmt_us(t[1] / 1e6), fmt_ratio(t[1] / t[0]), fmt_us(t[2] / 1e6),
        fmt_ratio(t[2] / t[0]), fmt_us(t[3] / 1e6), fmt_ratio(t[3] / t[0]), fmt_ratio(t[3] / t[2])))
    out.append("")
    if kb_cpu:
        out.append("The guest's own CPU accounting of the build (getrusage of make and its"
                   " children: user s / system s), from the same runs:")
        out.append("")
        out.append("| mode | " + " | ".join(CONFIG_TITLE[c] for c in CONFIGS) + " |")
        out.append("|---|" + "---:|" * len(CONFIGS))
        for mode in [r["mode"] for r in kb]:
            cells = []
            for c in CONFIGS:
                v = kb_cpu.get((mode, c))
                cells.append("%s / %s" % v if v else "—")
            out.append("| %s | %s |" % (mode, " | ".join(cells)))
        out.append("")
    return out


def ptlog_markdown(rows, modes, vam_pt, kb_cpu=None):
    """The annotated kernel on Xen with and without its page-table log,
    beside the para-virtualized kernel: the thesis's goal for page-table
    annotations (keep shadows across address-space switches)."""
    have = [r for r in rows if r.get("xen_annotated_us") not in (None, "pending") or
            r.get("xen_annotated_nolog_us") not in (None, "pending")]
    if not have:
        return []
    div = lambda a, b: (a / b) if isinstance(a, float) and isinstance(b, float) and b else None  # noqa: E731
    out = ["## Page-table annotations on Xen", "",
           "The annotated kernel (guest/linux/build-kernel.sh --variant annotated: afterburn-as"
           " plus afterburn-cparse) under the VAM, once with its page-table writes logged"
           " (the VAM keeps each address space's translations across CR3 switches) and once"
           " with `vam.ptlog=off` (the same binary; every switch flushes the space it activates),"
           " beside the para-virtualized kernel. Microseconds per operation (kernel build:"
           " seconds), the same iteration counts as the other Xen columns.", ""]
    for mode in modes:
        mr = [r for r in have if r["mode"] == mode]
        if not mr:
            continue
        out.append("### %s" % MODE_TITLE.get(mode, mode))
        out.append("")
        out.append("| benchmark | para-virt | annotated, no log | annotated, log | log / no log"
                   " | no log / para-virt | log / para-virt |")
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        for r in mr:
            scale = 1e6 if r["benchmark"] == "kbuild" else 1
            val = lambda k: (r[k] / scale) if isinstance(r.get(k), float) else r.get(k)  # noqa: E731
            pv, off, on = val("paravirt_us"), val("xen_annotated_nolog_us"), val("xen_annotated_us")
            out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                r["benchmark"] + (" (s)" if scale > 1 else ""),
                cell(pv, fmt_us), cell(off, fmt_us), cell(on, fmt_us),
                cell(div(on, off), fmt_ratio), cell(div(off, pv), fmt_ratio),
                cell(div(on, pv), fmt_ratio)))
        out.append("")
        cpu = [(c, (kb_cpu or {}).get((mode, c))) for c in ["paravirt"] + PT_CONFIGS]
        if any(v for _, v in cpu):
            out.append("Kernel build, the guest's CPU accounting (user s / system s): " +
                       "; ".join("%s %s / %s" % (CONFIG_TITLE[c], v[0], v[1]) for c, v in cpu if v)
                       + ".")
            out.append("")
        for cfg in PT_CONFIGS:
            lines = vam_pt.get((mode, cfg), [])
            if lines:
                out.append("VAM (%s, microbenchmark boot):" % CONFIG_TITLE[cfg])
                out.append("")
                out += ["    " + ln for ln in lines]
                out.append("")
    return out


def markdown(rows, modes, meta, runs_info, vam, problems, kb_cpu=None, vam_pt=None):
    out = []
    out.append("# Guest microbenchmarks: Linux 6.1 native, afterburnt, para-virtualized on Xen,"
               " and afterburnt on Xen (VAM), under QEMU")
    out.append("")
    for k, v in meta:
        out.append("- %s: %s" % (k, v))
    out.append("")
    out.append("Microseconds per operation (fastest of 5 batches, LMbench style; the fastest run"
               " if there were several rounds). Ratios are to native in the same mode; the thesis"
               " columns are its LMbench2 ratios for Linux 2.6.9 on a Pentium 4 (raw = native,"
               " NOP = afterburnt on raw hardware, Xeno = para-virtualized on Xen, pre ="
               " afterburnt on Xen). \"para-virt\" is the same source with Linux's own Xen PV"
               " support (CONFIG_XEN_PV) booted as Xen's dom0; \"Xen afterburnt\" is the"
               " afterburnt vmlinux under the VAM on Xen; both with Xen itself under QEMU, at"
               " reduced iteration counts (the `Xen iters` column; pct in the runs table)."
               " \"Xen afterburnt / para-virt\" is the thesis's pre / Xeno comparison"
               " (last column).")
    out.append("")
    for mode in modes:
        out.append("## %s" % MODE_TITLE.get(mode, mode))
        out.append("")
        out.append("| benchmark | operation | iters | native µs | afterburnt µs | afterburnt / native"
                   " | Xen iters | para-virt µs | para-virt / native | Xen afterburnt µs"
                   " | Xen afterburnt / native | Xen afterburnt / para-virt"
                   " | thesis raw µs | thesis NOP / raw | thesis Xeno / raw | thesis pre / raw"
                   " | thesis pre / Xeno |")
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            if r["mode"] != mode or r["benchmark"] not in NAMES:
                continue
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["benchmark"], r["what"], r["iters"],
                cell(r["native_us"], fmt_us), cell(r["afterburnt_us"], fmt_us),
                cell(r["afterburnt_ratio"], fmt_ratio),
                cell(xen_iters(r), str),
                cell(r["paravirt_us"], fmt_us), cell(r["paravirt_ratio"], fmt_ratio),
                cell(r["xen_afterburnt_us"], fmt_us),
                cell(r["xen_afterburnt_ratio"], fmt_ratio),
                cell(r["pre_xeno_ratio"], fmt_ratio),
                cell(r["thesis_raw_us"], fmt_us), cell(r["thesis_nop_ratio"], fmt_ratio),
                cell(r["thesis_xeno_ratio"], fmt_ratio), cell(r["thesis_pre_ratio"], fmt_ratio),
                cell(r["thesis_pre_xeno_ratio"], fmt_ratio)))
        out.append("")
    out += kbuild_markdown(rows, kb_cpu)
    out += ptlog_markdown(rows, modes, vam_pt or {}, kb_cpu)
    out += vam_markdown(vam, modes)
    if runs_info:
        out.append("Runs (QEMU wall seconds per boot, Xen's boot included for Xen; guest"
                   " clocksource; iteration scale):")
        out.append("")
        out.append("| mode | config | round | boot wall s | clocksource | pct | log |")
        out.append("|---|---|---:|---:|---|---:|---|")
        for ri in runs_info:
            out.append("| %s | %s | %s | %s | %s | %s | %s |" % ri)
        out.append("")
    if problems:
        out.append("## Problems")
        out.append("")
        for log, probs, vam_last in problems:
            out.append("`%s`:" % log)
            out.append("")
            for p in probs:
                out.append("- %s" % p)
            if vam_last:
                out.append("")
                out.append("The VAM's last lines:")
                out.append("")
                out.append("```")
                out += vam_last
                out.append("```")
            out.append("")
    return "\n".join(out)


def write_csv(path, rows):
    cols = ["mode", "benchmark", "iters"]
    for cfg in CONFIGS + [c for c in PT_CONFIGS if rows and (c + "_us") in rows[0]]:
        cols += [cfg + "_us", cfg + "_med_us", cfg + "_ratio"]
    cols += ["paravirt_iters", "xen_afterburnt_iters", "pre_xeno_ratio"]
    cols += ["thesis_raw_us", "thesis_nop_ratio", "thesis_xeno_ratio", "thesis_pre_ratio",
             "thesis_pre_xeno_ratio"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            vals = []
            for c in cols:
                v = r.get(c)
                if v is None:
                    vals.append("")
                elif isinstance(v, float):
                    vals.append("%.6g" % v)
                else:
                    vals.append(v)
            w.writerow(vals)


def svg_chart(rows, modes):
    """Grouped horizontal bars: per benchmark, our afterburnt/native ratio in
    each mode, para-virt on Xen / native and afterburnt on Xen / native in
    each mode (or pending), and the thesis's three ratios. The axis spans the
    native-hardware ratios; longer bars (the Xen ones) are cut at its end with
    a break mark and their value."""
    series = []
    chart_names = CHART_NAMES + (["kbuild"] if any(r["benchmark"] == "kbuild" for r in rows) else [])
    palette = {"wall": "#1f77b4", "icount": "#17becf"}
    xen_palette = {"wall": "#9467bd", "icount": "#c5b0d5"}
    pv_palette = {"wall": "#ff7f0e", "icount": "#ffbb78"}
    by = {(r["mode"], r["benchmark"]): r for r in rows}

    def have(key):
        return [m for m in modes
                if any(by.get((m, n), {}).get(key, "pending") != "pending" for n in chart_names)]
    for mode in modes:
        series.append(("ours: afterburnt / native, %s" % mode, palette.get(mode, "#2ca02c"),
                       ("ours", mode, "afterburnt_ratio")))
    for key, title, pal in (("paravirt_ratio", "para-virt on Xen", pv_palette),
                            ("xen_afterburnt_ratio", "afterburnt on Xen (VAM)", xen_palette)):
        shown = have(key)
        for mode in shown:
            series.append(("ours: %s / native, %s" % (title, mode), pal.get(mode, "#8c564b"),
                           ("ours", mode, key)))
        if not shown:
            series.append(("ours: %s / native (pending)" % title, None, ("pending", None, None)))
    series += [
        ("thesis: NOP (afterburnt, native) / raw", "#7f7f7f", ("thesis", None, "thesis_nop_ratio")),
        ("thesis: Xeno (para-virt on Xen) / raw", "#ffbb78", ("thesis", None, "thesis_xeno_ratio")),
        ("thesis: pre (afterburnt on Xen) / raw", "#d62728", ("thesis", None, "thesis_pre_ratio")),
    ]

    def value(name, spec):
        kind, mode, key = spec
        if kind == "pending":
            return None
        r = by.get((mode if kind == "ours" else modes[0], name))
        v = r.get(key) if r else None
        return v if isinstance(v, float) else None

    # The axis: every ratio but ours on Xen (those are 10-400: cut).
    vmax = 1.0
    for name in chart_names:
        for _, _, spec in series:
            if spec[2] in ("xen_afterburnt_ratio", "paravirt_ratio"):
                continue
            v = value(name, spec)
            if v is not None:
                vmax = max(vmax, v)
    vmax = math.ceil(vmax * 1.1 * 2) / 2  # to the next 0.5

    bar_h, gap = 9, 12
    group_h = bar_h * len(series) + gap
    cut = any(v is not None and v > vmax for name in chart_names
              for _, _, spec in series for v in [value(name, spec)])
    left, right, top = 150, 60, (74 if cut else 60)
    plot_w = 560
    legend_h = 16 * len(series) + 20
    height = top + group_h * len(chart_names) + 40 + legend_h
    width = left + plot_w + right
    x = lambda v: left + v / vmax * plot_w  # noqa: E731
    o = []
    o.append('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'font-family="sans-serif" font-size="11">' % (width, height))
    o.append('<rect width="100%" height="100%" fill="white"/>')
    o.append('<text x="%d" y="22" font-size="14" font-weight="bold">Guest microbenchmarks: '
             'ratio to native (lower is better)</text>' % left)
    o.append('<text x="%d" y="40" fill="#555">Linux 6.1 under QEMU TCG (this project) beside '
             'the thesis&#8217;s LMbench2, Linux 2.6.9</text>' % left)
    if cut:
        o.append('<text x="%d" y="55" fill="#555">Bars longer than the axis (Xen under QEMU) '
                 'are cut; their value is printed</text>' % left)
    plot_bottom = top + group_h * len(chart_names)
    step = 0.5 if vmax <= 4 else 1.0
    t = 0.0
    while t <= vmax + 1e-9:
        o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="%s"/>'
                 % (x(t), top - 4, x(t), plot_bottom, "#000" if abs(t - 1) < 1e-9 else "#ddd",
                    "1.2" if abs(t - 1) < 1e-9 else "1"))
        o.append('<text x="%.1f" y="%d" text-anchor="middle">%.1f</text>' % (x(t), plot_bottom + 14, t))
        t += step
    o.append('<text x="%.1f" y="%d" text-anchor="middle">ratio to native</text>'
             % (x(vmax / 2), plot_bottom + 30))
    for gi, name in enumerate(chart_names):
        y0 = top + gi * group_h
        o.append('<text x="%d" y="%.1f" text-anchor="end" font-weight="bold">%s</text>'
                 % (left - 8, y0 + bar_h * len(series) / 2 + 4, html.escape(name)))
        for si, (_, color, spec) in enumerate(series):
            v = value(name, spec)
            y = y0 + si * bar_h
            if spec[0] == "pending":
                o.append('<rect x="%d" y="%d" width="40" height="%d" fill="none" stroke="#999" '
                         'stroke-dasharray="2,2"/>' % (left, y, bar_h - 1))
                o.append('<text x="%d" y="%.1f" fill="#777" font-size="8">pending</text>'
                         % (left + 44, y + bar_h - 1.5))
                continue
            if v is None:
                if spec[0] == "thesis" and spec[2] == "thesis_nop_ratio":
                    o.append('<text x="%d" y="%.1f" fill="#999" font-size="8">no thesis figures</text>'
                             % (left + 3, y + bar_h - 1.5))
                elif spec[2] in ("xen_afterburnt_ratio", "paravirt_ratio"):
                    o.append('<text x="%d" y="%.1f" fill="#999" font-size="8">no result</text>'
                             % (left + 3, y + bar_h - 1.5))
                continue
            if v > vmax:
                end = x(vmax)
                o.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>'
                         % (left, y, end - left - 6, bar_h - 1, color))
                o.append('<rect x="%.1f" y="%d" width="4" height="%d" fill="%s"/>'
                         % (end - 3, y, bar_h - 1, color))
                o.append('<text x="%.1f" y="%.1f" font-size="8">%s</text>'
                         % (end + 4, y + bar_h - 1.5, fmt_ratio(v)))
                continue
            o.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>'
                     % (left, y, max(0.5, x(v) - left), bar_h - 1, color))
            o.append('<text x="%.1f" y="%.1f" font-size="8">%.2f</text>' % (x(v) + 3, y + bar_h - 1.5, v))
    ly = plot_bottom + 48
    for i, (label, color, _) in enumerate(series):
        if color is None:
            o.append('<rect x="%d" y="%d" width="12" height="10" fill="none" stroke="#555" '
                     'stroke-dasharray="2,2"/>' % (left, ly + 16 * i))
        else:
            o.append('<rect x="%d" y="%d" width="12" height="10" fill="%s"/>' % (left, ly + 16 * i, color))
        o.append('<text x="%d" y="%d">%s</text>' % (left + 18, ly + 16 * i + 9, html.escape(label)))
    o.append("</svg>")
    return "\n".join(o) + "\n"


def cmd_check(args):
    names = args.names.split(",") if args.names else NAMES
    results, problems = check_log(args.log, names)
    if args.vam:
        entries, kinds, _ = parse_vam(args.log)
        if not entries or not kinds:
            problems.append("no VAM counters (\"VAM: entries: ...\", \"VAM: VAM entries per"
                            " site kind: ...\")")
    if problems:
        for p in problems:
            print("bench-report: %s: %s" % (args.log, p), file=sys.stderr)
        return 1
    print("bench-report: %s: all %d benchmarks reported positive times" % (args.log, len(names)))
    for name in names:
        r = results[name]
        print("  %-13s %12s us  (iters %s)" % (name, r["us"], r["iters"]))
    return 0


def cmd_report(args):
    data, modes, runs_info, failed = {}, [], [], False
    rounds, vam, problems, vam_pt = {}, {}, [], {}

    def parse_spec(spec, flag):
        try:
            mode, cfg, log = spec.split(":", 2)
        except ValueError:
            sys.exit("bench-report: %s wants MODE:CONFIG:LOG, got %r" % (flag, spec))
        if cfg not in CONFIGS + PT_CONFIGS:
            sys.exit("bench-report: unknown config %r (one of %s)"
                     % (cfg, ", ".join(CONFIGS + PT_CONFIGS)))
        if mode not in modes:
            modes.append(mode)
        return mode, cfg, log

    def check_run(log, cfg, names):
        """check_log, and for a boot under Xen run-xen.sh's verdict first
        (LOG.boot, when bench-guest.sh kept it)."""
        try:
            results, probs = check_log(log, names)
        except OSError as e:
            results, probs = {}, ["cannot read the log: %s" % e]
        if cfg in XEN_CONFIGS:
            try:
                with open(log + ".boot", errors="replace") as f:
                    probs[:0] = [ln.strip() for ln in f
                                 if ln.startswith("run-xen: ") and not ln.startswith("run-xen: passed")]
            except OSError:
                pass
        return results, probs

    def note_problems(log, probs, vam_last):
        nonlocal failed
        for p in probs:
            print("bench-report: %s: %s" % (log, p), file=sys.stderr)
            failed = True
        if probs:
            problems.append((log.rsplit("/", 1)[-1], probs, vam_last))

    def boot_info(log):
        """(boot wall seconds, clocksource, pct) of a run."""
        try:
            _, info, _, _ = parse_log(log)
        except OSError:
            info = []
        try:
            secs = open(log + ".seconds").read().strip()
        except OSError:
            secs = "?"
        cs = next((i["clocksource"] for i in info if "clocksource" in i), "?")
        pct = next((i["pct"] for i in info if "pct" in i), "?")
        return secs, cs, pct

    for spec in args.run:
        mode, cfg, log = parse_spec(spec, "--run")
        results, probs = check_run(log, cfg, NAMES)
        vam_last = []
        if cfg == "xen_afterburnt" or cfg in PT_CONFIGS:
            entries, kinds, vam_last = parse_vam(log)
            if entries or kinds:
                if cfg == "xen_afterburnt":
                    vam[mode] = (entries, kinds)
                vam_pt[(mode, cfg)] = [ln for ln in vam_last
                                       if ln.startswith(("VAM: TLB:", "VAM: page-table tracking:"))]
            else:
                probs.append("no VAM counters in the log (the VAM did not reach its report)")
        note_problems(log, probs, vam_last)
        data.setdefault(mode, {}).setdefault(cfg, []).append(results)
        rounds[(mode, cfg)] = rounds.get((mode, cfg), 0) + 1
        secs, cs, pct = boot_info(log)
        runs_info.append((mode, cfg, rounds[(mode, cfg)], secs, cs, pct, log.rsplit("/", 1)[-1]))
    kb_data, kb_cpu = {}, {}
    for spec in args.kbuild:
        mode, cfg, log = parse_spec(spec, "--kbuild")
        results, probs = check_run(log, cfg, ["kbuild"])
        note_problems(log, probs, parse_vam(log)[2] if cfg in XEN_CONFIGS[1:] else [])
        prev = kb_data.get(mode, {}).get(cfg)
        r = results.get("kbuild")
        if r and positive(r.get("us")) and (prev is None or float(r["us"]) < float(prev["us"])):
            kb_data.setdefault(mode, {})[cfg] = r
            if "user_s" in r and "sys_s" in r:
                kb_cpu[(mode, cfg)] = (r["user_s"], r["sys_s"])
        elif prev is None:
            kb_data.setdefault(mode, {}).setdefault(cfg, None)
        rounds[(mode, cfg, "kbuild")] = rounds.get((mode, cfg, "kbuild"), 0) + 1
        secs, cs, _ = boot_info(log)
        runs_info.append((mode, cfg + " (kbuild)", rounds[(mode, cfg, "kbuild")], secs, cs, "",
                          log.rsplit("/", 1)[-1]))
    combined = {m: {c: combine(v) for c, v in per.items()} for m, per in data.items()}
    extra = [c for c in PT_CONFIGS if any(c in per for per in data.values()) or
             any(c in per for per in kb_data.values())]
    rows = build_rows(combined, modes, extra=extra)
    if kb_data:
        kb_comb = {m: {c: ({"kbuild": {"us": float(r["us"]), "med_us": float(r["us"]), "iters": 1}}
                           if r else {}) for c, r in per.items()} for m, per in kb_data.items()}
        rows += [r for r in build_rows(kb_comb, [m for m in modes if m in kb_comb], ["kbuild"],
                                       extra)]
    meta = [tuple(m.split("=", 1)) for m in args.meta]
    md = markdown(rows, modes, meta, runs_info, vam, problems, kb_cpu, vam_pt)
    with open(args.out + ".md", "w") as f:
        f.write(md + "\n")
    write_csv(args.out + ".csv", rows)
    with open(args.out + ".svg", "w") as f:
        f.write(svg_chart(rows, modes))
    print(md)
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("log")
    c.add_argument("--names", default="")
    c.add_argument("--vam", action="store_true")
    r = sub.add_parser("report")
    r.add_argument("--out", required=True)
    r.add_argument("--run", action="append", required=True)
    r.add_argument("--kbuild", action="append", default=[])
    r.add_argument("--meta", action="append", default=[])
    args = ap.parse_args()
    return cmd_check(args) if args.cmd == "check" else cmd_report(args)


if __name__ == "__main__":
    sys.exit(main())
