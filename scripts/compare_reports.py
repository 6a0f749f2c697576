"""Check by hand that two builds of a report carry the same content (a performance change
must not change a figure, table, finding or export).

    .venv/bin/python scripts/compare_reports.py reports/before/herenthout-isom \
        reports/after/herenthout-isom

Compares byte for byte every figure (PNG, SVG, CSV) and table of the chapters and the CSV
exports; the executed notebooks cell by cell (outputs only: no timings or execution counts);
and the HTML with the parts that name when and from which commit it was made blanked out.
Exits 1 and lists the differences, or prints what it compared.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

#: Parts of the HTML that differ between two builds of the same content.
VOLATILE = [
    re.compile(r"\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|"
               r"oktober|november|december) \d{4}( om \d{1,2}[:.]\d{2})?( ?\(?UTC\)?)?"),
    re.compile(r"git-commit [^<]*|geen git-commit bekend"),
    re.compile(r"\b\d{1,2}:\d{2}\b"),
    re.compile(r"\b[0-9a-f]{40}\b"),
    re.compile(r"\b[0-9a-f]{7,12}\b"),
    re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?"),
]


def _files(root: Path) -> set[str]:
    skip = {"manifest.json", "analyserapport.html", "analyserapport.pdf"}
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and p.name not in skip and p.suffix != ".ipynb"}


def _outputs(path: Path) -> list:
    """The outputs of the code cells, without execution counts and the injected cell."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:  # output_dir differs per build folder
            continue
        outputs = []
        for o in cell.get("outputs", []):
            o = {k: v for k, v in o.items() if k != "execution_count"}
            outputs.append(o)
        out.append(outputs)  # the source may change (parameters), the output may not
    return out


def _html(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    for pattern in VOLATILE:
        text = pattern.sub("…", text)
    return text


def compare(a: Path, b: Path) -> list[str]:
    diffs: list[str] = []
    fa, fb = _files(a), _files(b)
    for name in sorted(fa ^ fb):
        diffs.append(f"only in {'first' if name in fa else 'second'}: {name}")
    for name in sorted(fa & fb):
        if (a / name).read_bytes() != (b / name).read_bytes():
            diffs.append(f"differs: {name}")
    for nb in sorted((a / "notebooks").glob("*.ipynb")):
        other = b / "notebooks" / nb.name
        if not other.is_file():
            diffs.append(f"only in first: notebooks/{nb.name}")
        elif _outputs(nb) != _outputs(other):
            diffs.append(f"outputs differ: notebooks/{nb.name}")
    ha, hb = _html(a / "analyserapport.html"), _html(b / "analyserapport.html")
    if ha != hb:
        at = next(i for i, (x, y) in enumerate(zip(ha, hb, strict=False)) if x != y) \
            if any(x != y for x, y in zip(ha, hb, strict=False)) else min(len(ha), len(hb))
        diffs.append(f"analyserapport.html differs at character {at}: "
                     f"{ha[max(0, at - 80):at + 80]!r} vs {hb[max(0, at - 80):at + 80]!r}")
    return diffs


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    a, b = map(Path, argv)
    diffs = compare(a, b)
    for d in diffs:
        print(d)
    if not diffs:
        n = len(_files(a))
        print(f"identical: {n} files, {len(list((a / 'notebooks').glob('*.ipynb')))} notebooks' "
              "outputs and the HTML (dates and commits blanked)")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
