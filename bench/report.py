#!/usr/bin/env python3
"""Turn bench/run's raw measurements into the side-by-side table.

    report.py RAW.tsv [NOTES.txt]

RAW rows: size tool scenario run wall_s user_s sys_s maxrss_kb status.
One table row per (size, tool, scenario): median wall time, median CPU
time (user + sys), the highest max-RSS over the runs, and on publish rows
the ratio of Hugo's median wall time to publish's for the same size and
scenario. Failed runs are left out of the statistics and counted in the
last column. The notes file (machine, versions, file counts) is printed
under the table as it is. Above it, when 10k or 100k posts were measured,
the speed issue's table: those sizes' scenarios with the targets.
"""

import statistics
import sys

SCENARIOS = ["full", "noop", "edit"]
TOOLS = ["publish", "hugo"]


def issue_table(stats):
    """The speed issue's table: 10k full, no-op and one-post-edit builds
    and the 100k full build, publish and Hugo side by side (median wall,
    peak RSS), with the target and whether publish met it. Rows whose size
    was not run are left out; none at all gives no table."""

    def cell(key):
        st = stats.get(key)
        if not st or st[0] is None:
            return "-", None, None
        return "%.2f s, %.0f MB" % (st[0], st[2]), st[0], st[2]

    rows = []
    for label, size, scenario in [("full build", 10000, "full"), ("no-op rebuild", 10000, "noop"),
                                  ("one post edited", 10000, "edit"), ("100k posts", 100000, "full")]:
        if (size, "publish", scenario) not in stats:
            continue
        pub, wall, rss = cell((size, "publish", scenario))
        hugo, hwall, _ = cell((size, "hugo", scenario))
        if scenario == "full" and size == 10000:
            target = ">= 10x Hugo, <= 150 MB"
            met = wall is not None and hwall is not None and hwall / wall >= 10 and rss <= 150
            if hwall is not None and wall:
                pub += " (%.1fx)" % (hwall / wall)
        elif scenario == "noop":
            target = "<= 0.1 s"
            met = wall is not None and wall <= 0.1
        elif scenario == "edit":
            target = "<= 0.3 s"
            met = wall is not None and wall <= 0.3
        else:
            target = "<= 12 s, <= 600 MB"
            met = wall is not None and wall <= 12 and rss <= 600
        rows.append([label, pub, hugo, target, "yes" if met else "no"])
    if not rows:
        return []
    header = ["", "publish", "Hugo", "target", "met"]
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]

    def fmt(r):
        return "| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(r)) + " |"

    return ([fmt(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [fmt(r) for r in rows]
            + ["(median wall time, peak RSS; Hugo's no-op and edit rows are full builds into an existing folder)", ""])


def main(argv):
    if len(argv) < 1:
        print("usage: report.py RAW.tsv [NOTES.txt]", file=sys.stderr)
        return 2
    rows = {}
    with open(argv[0], encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 9:
                continue
            size, tool, scenario, _run, wall, user, sys_, rss, status = parts
            key = (int(size), tool, scenario)
            rows.setdefault(key, []).append((float(wall), float(user) + float(sys_), int(rss), int(status)))

    def order(k):
        size, tool, scenario = k
        return (size, SCENARIOS.index(scenario) if scenario in SCENARIOS else 99,
                TOOLS.index(tool) if tool in TOOLS else 99, tool, scenario)

    stats = {}
    for key, runs in rows.items():
        ok = [r for r in runs if r[3] == 0]
        failed = len(runs) - len(ok)
        if ok:
            stats[key] = (statistics.median(r[0] for r in ok), statistics.median(r[1] for r in ok),
                          max(r[2] for r in ok) / 1024.0, len(ok), failed)
        else:
            stats[key] = (None, None, None, 0, failed)

    header = ["size", "tool", "scenario", "runs", "median wall s", "median CPU s", "peak RSS MB", "hugo/publish wall"]
    table = []
    for key in sorted(rows, key=order):
        size, tool, scenario = key
        wall, cpu, rss, n, failed = stats[key]
        ratio = ""
        if tool == "publish" and wall:
            h = stats.get((size, "hugo", scenario))
            if h and h[0] is not None:
                ratio = "%.1fx" % (h[0] / wall)
        runs = str(n) + (" (%d failed)" % failed if failed else "")
        table.append([str(size), tool, scenario, runs,
                      "-" if wall is None else "%.3f" % wall,
                      "-" if cpu is None else "%.2f" % cpu,
                      "-" if rss is None else "%.0f" % rss,
                      ratio])

    widths = [max(len(r[i]) for r in [header] + table) for i in range(len(header))]
    right = {0, 3, 4, 5, 6, 7}

    def fmt(r):
        return " | ".join(c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(r)).rstrip()

    out = issue_table(stats)
    out += [fmt(header), "-+-".join("-" * w for w in widths)]
    prev = None
    for r in table:
        if prev is not None and r[0] != prev:
            out.append("")
        prev = r[0]
        out.append(fmt(r))
    print("\n".join(out))
    if len(argv) > 1:
        print()
        with open(argv[1], encoding="utf-8") as f:
            sys.stdout.write(f.read())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
