#!/usr/bin/python3
"""Regenerates the papers' results that hearsay reproduces, one Markdown page each.

    /usr/bin/python3 reproduce/run.py [NAME ...|all] [--quick] [--out DIR] [--hearsay BIN]

NAME is one of tang, choco, natural, topology, diloco (default: all). Each reproduction launches
its experiment file(s) in reproduce/ in the simulator, reads the launch's summary.csv and
curves.csv, and writes docs/results/NAME.md with its plots in docs/results/NAME/; the raw launch
outputs go to results/reproduce/NAME/ (ignored by git).

--quick is the reduced form the CI test runs (few rounds, a small grid: the lines marked
`# quick:` in the experiment files); it needs --out and writes everything there, never into
docs/results. --hearsay defaults to $HEARSAY_BIN, else build/apps/hearsay.

Exit codes: 0 done; 1 bad usage (an unknown name, --quick without --out, no binary);
2 a reproduction failed (its launch failed or an expected row is missing).
"""
import argparse
import importlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

# Each is a module reproduce/NAME.py with build(ctx) -> {title, files, body, rows}; imported
# only when its reproduction runs.
REPRODUCTIONS = ["tang", "choco", "natural", "topology", "diloco"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 1, as every hearsay command does
        print(f"reproduce: {message}", file=sys.stderr)
        sys.exit(1)


def main(argv):
    p = _Parser(prog="reproduce/run.py", description=__doc__.split("\n\n")[0])
    p.add_argument("names", nargs="*", default=["all"], metavar="NAME",
                   help="reproductions to run: " + ", ".join(REPRODUCTIONS) + ", or all")
    p.add_argument("--quick", action="store_true", help="reduced CI form (needs --out)")
    p.add_argument("--out", help="folder for pages and raw outputs (default: docs/results and "
                   "results/reproduce)")
    p.add_argument("--hearsay", default=os.environ.get("HEARSAY_BIN") or
                   os.path.join(common.ROOT, "build", "apps", "hearsay"), help="hearsay binary")
    a = p.parse_args(argv)

    names = []
    for n in a.names:
        if n == "all":
            names.extend(k for k in REPRODUCTIONS if k not in names)
        elif n in REPRODUCTIONS:
            if n not in names:
                names.append(n)
        else:
            p.error(f"unknown reproduction '{n}' (valid: {', '.join(REPRODUCTIONS)}, all)")
    if a.quick and not a.out:
        p.error("--quick writes only into --out DIR (never into docs/results); give --out")
    if not (os.path.isfile(a.hearsay) and os.access(a.hearsay, os.X_OK)):
        p.error(f"no hearsay binary at {a.hearsay} (build it: cmake --build build --target "
                f"hearsay, or pass --hearsay BIN)")
    hearsay = os.path.abspath(a.hearsay)
    if a.out:
        pages = os.path.abspath(a.out)
        work_root = os.path.join(pages, "raw")
    else:
        pages = os.path.join(common.ROOT, "docs", "results")
        work_root = os.path.join(common.ROOT, "results", "reproduce")

    for name in names:
        t0 = time.monotonic()
        ctx = common.Context(name, hearsay, a.quick, os.path.join(work_root, name), pages)
        print(f"== reproduce {name}{' (quick)' if a.quick else ''}", flush=True)
        try:
            page = importlib.import_module(name).build(ctx)
        except (common.ReproError, OSError) as e:
            print(f"reproduce {name}: {e}", file=sys.stderr)
            return 2
        seconds = time.monotonic() - t0
        text = common.header(page["title"], name, seconds, hearsay, page["files"], a.quick) + \
            page["body"]
        path = os.path.join(pages, f"{name}.md")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.rstrip("\n") + "\n")
        print(f"== {name}: {page['rows']} runs, {seconds:.0f} s -> {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
