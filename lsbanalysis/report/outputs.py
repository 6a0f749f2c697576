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

import functools
import re
import weakref
from contextlib import contextmanager
from pathlib import Path

import matplotlib
import matplotlib.text

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


@contextmanager
def shared_text_metrics():
    """Measure each text once per renderer kind and resolution while a figure is made and saved.

    A figure is saved three times (PNG at 150 dpi, SVG, the PNG shown at 100 dpi), each time
    laid out with one renderer and drawn with another (a map is also laid out once to place
    its labels); matplotlib caches text sizes per renderer object, so it measures every label
    again each time. A text's size depends only on
    the kind of renderer, its resolution and the hinting settings, so within this block the
    measurements are shared by key. The files are byte for byte the ones matplotlib writes
    without it (checked by ``scripts/compare_reports.py``). Without matplotlib's private
    ``text._get_text_metrics_function`` (another version) nothing changes.
    """
    original = getattr(matplotlib.text, "_get_text_metrics_function", None)
    if original is None or getattr(original, "_lsb_shared", False):  # absent, or already on
        yield
        return
    shared: dict[tuple, object] = {}

    def metrics_function(renderer):
        key = (type(renderer), getattr(renderer, "dpi", None),
               matplotlib.rcParams["text.hinting"], matplotlib.rcParams["text.hinting_factor"])
        if key not in shared:
            ref = [weakref.ref(renderer)]

            @functools.lru_cache(4096)
            def measure(text, fontprop, ismath, dpi):
                return ref[0]().get_text_width_height_descent(text, fontprop, ismath)

            shared[key] = (ref, measure)
        ref, measure = shared[key]
        ref[0] = weakref.ref(renderer)  # the renderer now in use measures what is new
        return measure

    metrics_function._lsb_shared = True
    matplotlib.text._get_text_metrics_function = metrics_function
    try:
        yield
    finally:
        matplotlib.text._get_text_metrics_function = original


def save_figure(fig, name: str, output_dir: str | Path, *, dpi: int = PNG_DPI) -> SavedFiles:
    """Write a matplotlib figure as ``<output_dir>/figures/<name>.png`` and ``.svg``, and for
    a chart of :mod:`lsbanalysis.charts` the values it draws as ``<name>.csv``.

    Returns ``(png_path, svg_path)`` (and the CSV path). The files carry no creation date, so an
    unchanged figure gives identical files.
    """
    base = _target(output_dir, FIGURES, name, (".png", ".svg"))
    png, svg = base.with_name(base.name + ".png"), base.with_name(base.name + ".svg")
    with shared_text_metrics():
        fig.savefig(png, format="png", dpi=dpi, bbox_inches="tight",
                    metadata={"Software": None})
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
