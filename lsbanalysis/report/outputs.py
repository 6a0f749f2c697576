"""Saving a chapter's figures and tables next to the report.

The chapter notebooks call these two helpers with the ``output_dir`` parameter the report runner
gives them (``<report>/chapters/<chapter>``)::

    save_figure(fig, "leeftijdspiramide", output_dir)  # figures/leeftijdspiramide.png + .svg
                                                       # (+ .csv: the values a chart draws)
    save_table(df, "kerncijfers", output_dir)          # tables/kerncijfers.csv

Both return the written paths. Their return values are not shown in the report when a cell ends
with the call (they display nothing in a notebook), so a chapter needs no trailing ``;``.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

FIGURES = "figures"
TABLES = "tables"
#: Key of the display metadata that carries a chart's alt text and data table to the report.
FIGURE_METADATA = "lsbanalysis/figure"
PNG_DPI = 150

_NAME = re.compile(r"[\w][\w.-]*")


class SavedFiles(tuple):
    """The paths a helper wrote; displays nothing when it is the value of a notebook cell."""

    def _ipython_display_(self) -> None:  # IPython: show nothing instead of the repr
        return None


class SavedFile(type(Path())):
    """A written path; displays nothing when it is the value of a notebook cell."""

    def _ipython_display_(self) -> None:
        return None


def _target(output_dir: str | Path, sub: str, name: str, suffixes: tuple[str, ...]) -> Path:
    name = str(name)
    for suffix in suffixes:  # tolerate save_figure(fig, "x.png", ...)
        name = name.removesuffix(suffix)
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"invalid output name {name!r}: use letters, digits, '_', '-' or '.', "
            "without folders (the folder is output_dir)"
        )
    folder = Path(output_dir) / sub
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def save_figure(fig, name: str, output_dir: str | Path, *, dpi: int = PNG_DPI) -> SavedFiles:
    """Write a matplotlib figure as ``<output_dir>/figures/<name>.png`` and ``.svg``, and for
    a chart of :mod:`lsbanalysis.charts` the values it draws as ``<name>.csv``.

    Returns ``(png_path, svg_path)`` (and the CSV path). The files carry no creation date, so an
    unchanged figure gives identical files.
    """
    base = _target(output_dir, FIGURES, name, (".png", ".svg"))
    png, svg = base.with_name(base.name + ".png"), base.with_name(base.name + ".svg")
    fig.savefig(png, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    with matplotlib.rc_context({"svg.hashsalt": "lsbanalysis"}):  # stable ids in the SVG
        fig.savefig(svg, format="svg", bbox_inches="tight", metadata={"Date": None})
    from lsbanalysis.charts.alttext import describe

    text = describe(fig)
    if text is None or not len(text.data.columns):
        return SavedFiles((SavedFile(png), SavedFile(svg)))
    csv = base.with_name(base.name + ".csv")
    text.data.to_csv(csv, sep=";", decimal=",", encoding="utf-8-sig", index=False)
    return SavedFiles((SavedFile(png), SavedFile(svg), SavedFile(csv)))


def save_table(
    df, name: str, output_dir: str | Path, *, index: bool = False, **to_csv
) -> SavedFile:
    """Write a DataFrame as ``<output_dir>/tables/<name>.csv``; returns the path.

    The CSV is UTF-8 with a byte-order mark, ``;``-separated with decimal commas, so that Excel
    with Belgian/Dutch settings opens it directly. Override with pandas ``to_csv`` keywords
    (e.g. ``sep=","``, ``decimal="."``).
    """
    path = _target(output_dir, TABLES, name, (".csv",))
    path = path.with_name(path.name + ".csv")
    options = {"sep": ";", "decimal": ",", "encoding": "utf-8-sig", "index": index}
    options.update(to_csv)
    df.to_csv(path, **options)
    return SavedFile(path)


__all__ = ["save_figure", "save_table", "FIGURES", "FIGURE_METADATA", "TABLES"]
