#!/usr/bin/env python3
"""Renders the README's benchmark tables from the raw outputs in bench/results/.

    python3 bench/tables.py dispatch   # results/dispatch.txt -> results/dispatch.md
    python3 bench/tables.py jwt        # results/jwt.txt + results/callgrind-jwt.txt -> results/jwt.md

The README embeds each results/*.md verbatim (a test checks it), so a table cannot be edited by
hand or drift from the run that produced it.
"""
import pathlib
import re
import sys

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def median_and_quartiles(line):
    m = re.search(r"median ([\d.]+) \(quartiles ([\d.]+)\.\.([\d.]+)", line)
    return tuple(float(x) for x in m.groups())


def criterion_time(text, name):
    """The middle estimate of criterion's `time: [low mid high]` for a benchmark, in µs."""
    m = re.search(re.escape(name) + r"\s*\n?\s*time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", text)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"ns": 0.001, "µs": 1.0, "us": 1.0, "ms": 1000.0}[unit]


def dispatch():
    text = (RESULTS / "dispatch.txt").read_text()
    rows = []
    bare = criterion_time(text, "request/bare handler")
    for where, label in [("over TCP", "over loopback HTTP/1.1 keep-alive (what a client sees)"),
                         ("in process", f"in process (`actix_web::test`, bare request ≈ {bare:.1} µs)")]:
        for name, suffix in [("authn, no-op strategy", ""), ("authn, pass then no-op", ", two strategies (first passes)")]:
            line = next(l for l in text.splitlines() if l.startswith(f"{where}, ratio to bare handler, {name}:"))
            mid, low, high = median_and_quartiles(line)
            rows.append(f"| {label}{suffix} | {mid:.2f} (quartiles {low:.2f}–{high:.2f}) |")
    return "| path | authn / bare |\n|---|---|\n" + "\n".join(rows) + "\n"


def jwt():
    text = (RESULTS / "jwt.txt").read_text()
    calls = (RESULTS / "callgrind-jwt.txt").read_text()
    instructions = float(re.search(r"^strategy / bare = ([\d.]+)", calls, re.M).group(1))
    cached_instructions = float(re.search(r"^cached strategy / bare = ([\d.]+)", calls, re.M).group(1))
    rows = []
    for name, label in [("HS256", "HS256"), ("RS256", "RS256 (2048)"), ("EdDSA", "EdDSA")]:
        m = re.search(rf"^{name}: bare decode ([\d.]+) us; authn strategy / bare = ([\d.]+) \(quartiles ([\d.]+)\.\.([\d.]+)\); "
                      r"cached / bare = ([\d.]+) \(quartiles ([\d.]+)\.\.([\d.]+)\)", text, re.M)
        bare, mid, low, high, c_mid, c_low, c_high = (float(x) for x in m.groups())
        counted = f"{instructions:.2f} / {cached_instructions:.2f}" if name == "HS256" else "—"
        rows.append(f"| {label} | {bare:.1f} µs | {mid:.2f} (quartiles {low:.2f}–{high:.2f}) | "
                    f"{c_mid:.2f} (quartiles {c_low:.2f}–{c_high:.2f}) | {counted} |")
    head = ("| algorithm | bare decode | authn / bare (time, cache off) | authn / bare (time, cache on) | "
            "authn / bare (instructions, cache off / on) |\n|---|---|---|---|---|\n")
    return head + "\n".join(rows) + "\n"


if __name__ == "__main__":
    which = sys.argv[1]
    table = {"dispatch": dispatch, "jwt": jwt}[which]()
    (RESULTS / f"{which}.md").write_text(table)
    sys.stdout.write(table)
