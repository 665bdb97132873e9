#!/usr/bin/python3
"""reproduce_test: runs `reproduce/run.py --quick` for every reproduction into a temporary
folder and checks what each page must hold (usage: reproduce_test.py HEARSAY_BIN SOURCE_DIR).

Checked per page: the Markdown tables have the expected first-column rows and every row as
many cells as its header; every linked plot exists and parses as SVG; the "Agrees / differs"
section has its verdict lines. Also: docs/results is not written by --quick; an unknown
reproduction name and --quick without --out are one-line errors with exit code 1.
Exit code 0 when every check passes; each failure is printed on one line.
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

FAILURES = []


def check(ok, what):
    if not ok:
        FAILURES.append(what)
        print(f"FAIL {what}", flush=True)


def tables(text):
    """Every Markdown table of TEXT as (header cells, [row cells])."""
    out, cur = [], None
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if cur is None:
                cur = (cells, [])
            elif not all(re.fullmatch(r":?-+:?", c) for c in cells):
                cur[1].append(cells)
        elif cur is not None:
            out.append(cur)
            cur = None
    if cur is not None:
        out.append(cur)
    return out


# Per page: the first-column labels each of its tables must list, in order, and how many
# verdict lines ("- **claim: agrees|differs|...**") its Agrees / differs section has at least.
TANG = ["all-reduce (fp32)", "D-PSGD (fp32)", "DCD-PSGD qsgd:8", "DCD-PSGD qsgd:4",
        "ECD-PSGD qsgd:8", "ECD-PSGD qsgd:4"]
EXPECT = {
    "tang": ([TANG, TANG, TANG], 5),
    "choco": ([["DCD-PSGD", "ECD-PSGD", "CHOCO-SGD"]] * 2, 6),
    "natural": ([["Gaussian", "worst case", "log-uniform"],
                 [f"`{s}`" for p in ((3, 2), (7, 3), (15, 4))
                  for s in (f"natdither:{p[0]}", f"qsgd:{p[1]}:norm=l2", f"qsgd:{p[1]}")],
                 ["D-PSGD", "all-reduce", "all-reduce", "DCD-PSGD", "DCD-PSGD", "CHOCO-SGD",
                  "CHOCO-SGD"]], 3),
    "topology": ([["ring", "torus 8 x 8", "exponential", "one-peer exponential",
                   "complete"]] * 2, 4),
    "diloco": ([["all-reduce every step", "D-PSGD every step", "CHOCO qsgd:4 every step",
                 "DiLoCo (all-reduce), H = 20", "gossip DiLoCo, CHOCO qsgd:4, H = 20",
                 "gossip DiLoCo, D-PSGD, H = 20", "DiLoCo (all-reduce), H = 100",
                 "gossip DiLoCo, CHOCO qsgd:4, H = 100", "gossip DiLoCo, D-PSGD, H = 100"]], 6),
}


def check_page(out, name):
    path = os.path.join(out, f"{name}.md")
    if not os.path.isfile(path):
        check(False, f"{name}: no page {path}")
        return
    text = open(path, encoding="utf-8").read()
    check("Reduced CI form" in text, f"{name}: the page does not say it is the quick form")
    check(f"make reproduce-{name}" in text, f"{name}: the page does not give its command")
    check(re.search(r"Took \d+ s of wall time on \d+ cores", text) is not None,
          f"{name}: the page does not say how long it took on what")
    want, verdicts = EXPECT[name]
    got = tables(text)
    check(len(got) == len(want), f"{name}: {len(got)} tables, expected {len(want)}")
    for i, (labels, (head, rows)) in enumerate(zip(want, got)):
        firsts = [r[0] for r in rows]
        check(firsts == labels, f"{name}: table {i + 1} rows {firsts}, expected {labels}")
        for r in rows:
            check(len(r) == len(head), f"{name}: table {i + 1} row {r[0]!r} has {len(r)} "
                  f"cells, header {len(head)}")
            check(all(c != "" for c in r), f"{name}: table {i + 1} row {r[0]!r} has an empty cell")
    plots = re.findall(r"!\[[^\]]*\]\(([^)]+\.svg)\)", text)
    check(len(plots) >= 1, f"{name}: no plot linked")
    for p in plots:
        f = os.path.join(out, p)
        try:
            root = ET.parse(f).getroot()
            check(root.tag.endswith("svg") and len(root) > 5, f"{name}: {p} is an empty SVG")
        except (OSError, ET.ParseError) as e:
            check(False, f"{name}: plot {p}: {e}")
    section = text.split("## Agrees / differs", 1)
    lines = re.findall(r"^- \*\*.+: (agrees|differs|agrees in part|cannot tell|measured "
                       r"\(no paper claim\))\*\*", section[1] if len(section) > 1 else "", re.M)
    check(len(lines) >= verdicts, f"{name}: {len(lines)} verdict lines, expected >= {verdicts}")


def main(argv):
    hearsay, src = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    driver = [sys.executable, os.path.join(src, "reproduce", "run.py")]
    results = os.path.join(src, "docs", "results")
    with tempfile.TemporaryDirectory(prefix="reproduce_test.") as tmp:
        marker = time.time()
        t0 = time.monotonic()
        proc = subprocess.run(driver + ["--quick", "--out", tmp, "--hearsay", hearsay, "all"],
                              capture_output=True, text=True)
        print(proc.stdout, end="")
        check(proc.returncode == 0, f"run.py --quick all exited {proc.returncode}: "
              f"{proc.stderr.strip()[-300:]}")
        print(f"quick reproductions: {time.monotonic() - t0:.1f} s")
        for name in EXPECT:
            check_page(tmp, name)
        touched = [os.path.join(d, f) for d, _, fs in os.walk(results) for f in fs
                   if os.path.getmtime(os.path.join(d, f)) >= marker] \
            if os.path.isdir(results) else []
        check(not touched, f"--quick wrote into docs/results: {touched[:3]}")

        bad = subprocess.run(driver + ["--quick", "--out", tmp, "--hearsay", hearsay, "tang",
                                       "bogus"], capture_output=True, text=True)
        err = bad.stderr.strip().splitlines()
        check(bad.returncode == 1, f"unknown name: exit {bad.returncode}, expected 1")
        check(len(err) == 1 and "unknown reproduction 'bogus'" in err[0] and
              "tang, choco, natural, topology, diloco" in err[0],
              f"unknown name: stderr {err}")
        check(bad.stdout == "", "unknown name: something ran before the name was checked")
        noout = subprocess.run(driver + ["--quick", "tang", "--hearsay", hearsay],
                               capture_output=True, text=True)
        check(noout.returncode == 1 and "--out" in noout.stderr and
              len(noout.stderr.strip().splitlines()) == 1,
              f"--quick without --out: exit {noout.returncode}, stderr {noout.stderr!r}")
        nobin = subprocess.run(driver + ["tang", "--hearsay", os.path.join(tmp, "nope")],
                               capture_output=True, text=True)
        check(nobin.returncode == 1 and "no hearsay binary" in nobin.stderr,
              f"missing binary: exit {nobin.returncode}, stderr {nobin.stderr!r}")
    print(f"{len(FAILURES)} failed" if FAILURES else "all checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
