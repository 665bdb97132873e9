#!/usr/bin/python3
"""Writes scikit-learn's digits data set as examples/data/digits.csv (run once; the output is
committed).

The data: 1797 handwritten digits, 8 x 8 pixels, each pixel an integer 0..16 (the count of set
pixels in a 4 x 4 block of the original 32 x 32 bitmap), labels 0..9. Needs Debian's
python3-sklearn (`apt-get install python3-sklearn`), run with /usr/bin/python3:

    /usr/bin/python3 scripts/convert_digits.py [OUT.csv]

Output: a header line `label,p0,...,p63`, then one line per image in scikit-learn's order, the
label first and the 64 pixels row-major, as integers (hearsay's CSV reader: `kind: csv`,
`label_column: 0`, the header found automatically). The file is written byte for byte the same
on every run (no floats, no timestamps), so a re-run can be checked with `git diff`.
Licence of the data: examples/data/README.md.
"""
import os
import sys

from sklearn.datasets import load_digits


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "examples", "data",
                                                              "digits.csv")
    digits = load_digits()
    images, labels = digits.data, digits.target
    if images.shape != (1797, 64) or len(labels) != 1797:
        print(f"unexpected shape {images.shape}", file=sys.stderr)
        return 1
    lines = ["label," + ",".join(f"p{k}" for k in range(64))]
    for row, label in zip(images, labels):
        pixels = [int(v) for v in row]
        if any(p != v for p, v in zip(pixels, row)) or not 0 <= int(label) <= 9:
            print("non-integer pixel or bad label", file=sys.stderr)
            return 1
        lines.append(str(int(label)) + "," + ",".join(str(p) for p in pixels))
    with open(out, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {out}: {len(labels)} examples, 64 features, 10 classes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
