"""A small SVG line chart for the reproduction pages (stdlib only).

line_chart(series, ...) returns the text of an SVG: one polyline with markers per series, linear
or log axes, ticks, axis titles and a legend. Points whose coordinates are not finite (or not
positive on a log axis) are left out, and a series' line breaks there. Pure function; no I/O.
"""
import math

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
          "#e377c2", "#7f7f7f", "#bcbd22"]
DASHES = ["", "6,3", "2,2", "8,3,2,3"]
H, L, T, B = 420, 70, 30, 50  # height and margins; the width grows with the legend (right)
PLOT_W = 490  # width of the plotting area


def _esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ok(v, log):
    return v is not None and math.isfinite(v) and (v > 0 or not log)


def _ticks(lo, hi, log):
    if log and hi / lo < 10:  # less than a decade: evenly spaced values, placed on the log axis
        return [v for v in _ticks(lo, hi, False) if v > 0]
    if log:
        a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        # Within two decades also 2x and 5x, so that a short axis has more than two ticks.
        mult = (1,) if b - a > 2 else (1, 2, 5)
        return [m * 10.0 ** k for k in range(a, b + 1) for m in mult
                if lo <= m * 10.0 ** k <= hi] or [lo, hi]
    span = hi - lo or 1.0
    step = 10 ** math.floor(math.log10(span / 5))
    for m in (1, 2, 5, 10):
        if span / (step * m) <= 6:
            step *= m
            break
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _label(v):
    return f"{v:g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.0e}"


def line_chart(series, title, xlabel, ylabel, logx=False, logy=False):
    """series: list of (label, [(x, y), ...]). Returns SVG text."""
    R = 60 + 7 * max([len(str(label)) for label, _ in series] + [10])  # legend: ~7 px a char
    W = L + PLOT_W + R
    pts = [(x, y) for _, s in series for x, y in s if _ok(x, logx) and _ok(y, logy)]
    if not pts:
        pts = [(1.0, 1.0)]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if x0 == x1:
        x0, x1 = (x0 / 2, x1 * 2) if logx else (x0 - 1, x1 + 1)
    if y0 == y1:
        y0, y1 = (y0 / 2, y1 * 2) if logy else (y0 - 1, y1 + 1)
    if not logy:
        pad = 0.05 * (y1 - y0)
        y0, y1 = y0 - pad, y1 + pad

    def fx(x):
        t = (math.log10(x) - math.log10(x0)) / (math.log10(x1) - math.log10(x0)) if logx \
            else (x - x0) / (x1 - x0)
        return L + t * (W - L - R)

    def fy(y):
        t = (math.log10(y) - math.log10(y0)) / (math.log10(y1) - math.log10(y0)) if logy \
            else (y - y0) / (y1 - y0)
        return H - B - t * (H - T - B)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{(W - R + L) / 2}" y="18" text-anchor="middle" font-size="14">'
           f'{_esc(title)}</text>',
           f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" '
           f'stroke="#444"/>']
    for v in _ticks(x0, x1, logx):
        X = fx(v)
        out.append(f'<line x1="{X:.1f}" y1="{T}" x2="{X:.1f}" y2="{H - B}" stroke="#ddd"/>')
        out.append(f'<text x="{X:.1f}" y="{H - B + 15}" text-anchor="middle">{_label(v)}</text>')
    for v in _ticks(y0, y1, logy):
        Y = fy(v)
        out.append(f'<line x1="{L}" y1="{Y:.1f}" x2="{W - R}" y2="{Y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{L - 5}" y="{Y + 4:.1f}" text-anchor="end">{_label(v)}</text>')
    out.append(f'<text x="{(W - R + L) / 2}" y="{H - 12}" text-anchor="middle">'
               f'{_esc(xlabel)}</text>')
    out.append(f'<text x="16" y="{(H - B + T) / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {(H - B + T) / 2})">{_esc(ylabel)}</text>')
    for i, (label, s) in enumerate(series):
        color, dash = COLORS[i % len(COLORS)], DASHES[(i // len(COLORS)) % len(DASHES)]
        segs, cur = [], []
        for x, y in s:
            if _ok(x, logx) and _ok(y, logy):
                cur.append(f"{fx(x):.1f},{fy(y):.1f}")
            elif cur:
                segs.append(cur)
                cur = []
        if cur:
            segs.append(cur)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        for seg in segs:
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6"{dash_attr} '
                       f'points="{" ".join(seg)}"/>')
            if len(s) <= 40:
                for p in seg:
                    cx, cy = p.split(",")
                    out.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{color}"/>')
        ly = T + 10 + 16 * i
        out.append(f'<line x1="{W - R + 10}" y1="{ly}" x2="{W - R + 34}" y2="{ly}" '
                   f'stroke="{color}" stroke-width="2"{dash_attr}/>')
        out.append(f'<text x="{W - R + 40}" y="{ly + 4}">{_esc(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
