"""Shared machinery of the reproductions (reproduce/run.py): running `hearsay`, reading what a
launch writes, time-to-target, and writing a Markdown page with its plots.

Contract: every function either returns a value or raises ReproError with a one-line message
(the driver prints it and exits 2); nothing here exits. Nothing writes outside the folders it is
given. Single-threaded; stdlib only (/usr/bin/python3).
"""
import csv
import math
import os
import platform
import re
import shutil
import subprocess

REPRO_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(REPRO_DIR)


class ReproError(Exception):
    """A reproduction could not produce its page (a failed launch, a missing row)."""


class Context:
    """What one reproduction needs: the hearsay binary, whether this is the reduced CI form,
    the folder for raw launch outputs (`work`) and the folder the page and its plots go to
    (`pages`; docs/results in a full run)."""

    def __init__(self, name, hearsay, quick, work, pages):
        self.name, self.hearsay, self.quick = name, hearsay, quick
        self.work, self.pages = work, pages
        os.makedirs(work, exist_ok=True)
        os.makedirs(pages, exist_ok=True)
        assets = os.path.join(pages, name)
        if os.path.isdir(assets):
            shutil.rmtree(assets)  # the page's plots are all regenerated; drop stale ones

    def run(self, args, what):
        """Runs hearsay with args; returns stdout. A non-zero exit is a ReproError naming what."""
        proc = subprocess.run([self.hearsay] + args, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["no output"]
            raise ReproError(f"{what}: hearsay {args[0]} exited {proc.returncode}: {tail[0]}")
        return proc.stdout

    def experiment(self, filename):
        """The experiment file to launch: reproduce/FILE itself, or in quick mode a copy in the
        work folder with each `key: value  # quick: V` line's value replaced by V and the file
        paths made absolute (the copy lives elsewhere)."""
        src = os.path.join(REPRO_DIR, filename)
        if not self.quick:
            return src
        out = []
        with open(src, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if "# quick:" in line and not line.lstrip().startswith("#"):
                    m = re.match(r"^(\s*(?:-\s*)?[\w.]+:\s*)(.*?)\s*#\s*quick:\s*(.+?)\s*$", line)
                    if not m:
                        raise ReproError(f"{src}:{lineno}: '# quick:' needs a 'key: value' line")
                    line = m.group(1) + m.group(3)
                m = re.match(r"^(\s*(?:topology|path|test_path):\s*)(\S+)(.*)$", line)
                if m and not os.path.isabs(m.group(2)):
                    line = m.group(1) + os.path.normpath(os.path.join(REPRO_DIR, m.group(2))) + \
                        m.group(3)
                out.append(line)
        dst = os.path.join(self.work, filename)
        with open(dst, "w", encoding="utf-8") as f:
            f.write("\n".join(out) + "\n")
        return dst

    def key(self, filename, key):
        """The value of the first `key: value` line of the experiment as launched (quick
        substitutions applied), as a string: what a page needs to quote (target_loss)."""
        path = self.experiment(filename)
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"^\s*" + re.escape(key) + r":\s*([^#\s]+)", line)
                if m:
                    return m.group(1)
        raise ReproError(f"{path}: no '{key}:' line")

    def launch(self, filename, out_name):
        """Launches reproduce/FILENAME into WORK/OUT_NAME; returns a Launch."""
        exp = self.experiment(filename)
        out = os.path.join(self.work, out_name)
        if os.path.isdir(out):
            shutil.rmtree(out)  # a launch of all runs writes afresh; no stale run folders
        self.run(["launch", exp, "--out", out, "--log-level", "warn"], f"launch {filename}")
        return Launch(out)

    def copy_plot(self, launch, svg, as_name):
        """Copies LAUNCH's plot SVG to PAGES/NAME/AS_NAME; returns the page-relative link."""
        dst_dir = os.path.join(self.pages, self.name)
        os.makedirs(dst_dir, exist_ok=True)
        src = os.path.join(launch.out, svg)
        if not os.path.isfile(src):
            raise ReproError(f"{self.name}: the launch wrote no {svg}")
        shutil.copyfile(src, os.path.join(dst_dir, as_name))
        return f"{self.name}/{as_name}"

    def write_asset(self, as_name, text):
        dst_dir = os.path.join(self.pages, self.name)
        os.makedirs(dst_dir, exist_ok=True)
        with open(os.path.join(dst_dir, as_name), "w", encoding="utf-8") as f:
            f.write(text)
        return f"{self.name}/{as_name}"


class Launch:
    """summary.csv and curves.csv of one launch, keyed by run name."""

    def __init__(self, out):
        self.out = out
        self.summary = {}
        self.order = []
        for row in _read_csv(os.path.join(out, "summary.csv")):
            self.summary[row["run"]] = row
            self.order.append(row["run"])
        self.curves = {}
        for row in _read_csv(os.path.join(out, "curves.csv")):
            self.curves.setdefault(row["run"], []).append(row)

    def row(self, run):
        if run not in self.summary:
            raise ReproError(f"{self.out}/summary.csv has no row for run '{run}' "
                             f"(it has {len(self.summary)} rows)")
        return self.summary[run]

    def curve(self, run):
        self.row(run)
        return self.curves.get(run, [])

    def final(self, run, column):
        return num(self.row(run)[column])

    def to_target(self, run, target):
        """(round, seconds, MB per peer) at which the average model's train loss first reaches
        TARGET, interpolated linearly between the two evaluations around the crossing; None
        when it never does (or the run diverged first)."""
        rows = self.curve(run)
        prev = None
        for r in rows:
            loss = num(r["train_loss"])
            if math.isfinite(loss) and loss <= target:
                if prev is None:
                    return (0.0, 0.0, 0.0)
                l0 = num(prev["train_loss"])
                f = (l0 - target) / (l0 - loss) if l0 > loss else 1.0

                def lerp(key):
                    a, b = num(prev[key]), num(r[key])
                    return a + f * (b - a)

                return (lerp("round"), lerp("wall_seconds"), lerp("mb_sent_per_peer"))
            prev = r
        return None

    def loss_at(self, run, round_):
        """Train loss at the evaluation of round ROUND (None if there is none)."""
        for r in self.curve(run):
            if int(r["round"]) == round_:
                return num(r["train_loss"])
        return None


def _read_csv(path):
    if not os.path.isfile(path):
        raise ReproError(f"{path} is missing")
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def num(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def fmt(x, digits=3):
    """A number for a table: `-` for None/nan, else `digits` significant digits."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:.{digits}g}" if abs(x) < 10 ** digits else f"{x:.0f}"


def table(headers, rows, align=None):
    """A Markdown table. align: a string of 'l'/'r' per column (default: first l, rest r)."""
    align = align or "l" + "r" * (len(headers) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(sep) + "|"]
    for r in rows:
        if len(r) != len(headers):
            raise ReproError(f"table row {r} has {len(r)} cells, header has {len(headers)}")
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    return "\n".join(lines)


def machine():
    """One line: CPU model, core count, OS."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}"


def version(hearsay):
    proc = subprocess.run([hearsay, "--version"], capture_output=True, text=True)
    first = proc.stdout.strip().splitlines()
    return first[0] if first else "hearsay (unknown version)"


def header(title, name, seconds, hearsay, files, quick):
    """The page's opening: title, the command, what it ran on and how long it took."""
    files_md = ", ".join(f"[`reproduce/{f}`](../../reproduce/{f})" for f in files)
    note = "\n> Reduced CI form (`--quick`): few rounds, a small grid. Not a result.\n" \
        if quick else ""
    return (f"# {title}\n{note}\n"
            f"Regenerate: `make reproduce-{name}` (= `/usr/bin/python3 reproduce/run.py {name}`;"
            f" the simulator, deterministic: the same numbers on any machine).\n\n"
            f"- Experiment files: {files_md}\n"
            f"- Took {seconds:.0f} s of wall time on {machine()}, {version(hearsay)}.\n")
