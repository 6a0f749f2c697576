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
import io
import re
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.colors
import matplotlib.text

FIGURES = "figures"
TABLES = "tables"
#: Key of the display metadata that carries a chart's alt text and data table to the report.
FIGURE_METADATA = "lsbanalysis/figure"
PNG_DPI = 150
#: zlib level of the PNG files: 3 instead of Pillow's 6 takes a third less time for 2-3 % more
#: bytes (measured on a report's charts).
PNG_LEVEL = 3

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

    A figure is laid out with one renderer and drawn with others (PNG, SVG; a map is also
    laid out once to place its labels); matplotlib caches text sizes per renderer object, so
    it measures every label again each time. A text's size depends only on the kind of
    renderer, its resolution and the hinting settings, so within this block the measurements
    are shared by key. The files are byte for byte the ones matplotlib writes without it
    (tests/test_report_shared.py). The hook is private to matplotlib:
    ``text._get_text_metrics_function`` (3.11) or ``text._get_text_metrics_with_cache``
    (3.8–3.10); without either nothing changes.
    """
    if hasattr(matplotlib.text, "_get_text_metrics_function"):
        name = "_get_text_metrics_function"
    elif hasattr(matplotlib.text, "_get_text_metrics_with_cache"):
        name = "_get_text_metrics_with_cache"
    else:
        name = None
    original = getattr(matplotlib.text, name) if name else None
    if original is None or getattr(original, "_lsb_shared", False):  # absent, or already on
        yield
        return
    shared: dict[tuple, object] = {}

    def measurer(renderer):
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

    if name == "_get_text_metrics_function":
        hook = measurer
    else:
        def hook(renderer, text, fontprop, ismath, dpi):
            # a copy as the key, as matplotlib does: later changes to fontprop stay out
            return measurer(renderer)(text, fontprop.copy(), ismath, dpi)

    hook._lsb_shared = True
    setattr(matplotlib.text, name, hook)
    try:
        yield
    finally:
        setattr(matplotlib.text, name, original)


@dataclass(frozen=True)
class RenderedFigure:
    """The files :func:`render_figure` wrote, the SVG's text and the figure's size in pixels
    at ``display_dpi`` (its size in the report)."""

    files: SavedFiles
    svg: str
    display_size: tuple[int, int]


@contextmanager
def _layout_done(fig):
    """Keep the figure's layout as it is while it is saved (the layout engine restored
    afterwards); the layout does not depend on the output format.

    No engine at all rather than ``"none"``: with ``"none"`` matplotlib keeps a placeholder
    engine and still lays the figure out (a draw without rendering) before every save.
    """
    engine = fig.get_layout_engine()
    if engine is None:
        yield
        return
    with matplotlib.rc_context({"figure.autolayout": False,
                                "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)
    try:
        yield
    finally:
        fig.set_layout_engine(engine)


def _draw_png(fig, path: Path, dpi: int):
    """Lay out and draw ``fig`` at ``dpi`` once, and write its tight box as PNG to ``path``;
    returns the box (inches, padded by ``savefig.pad_inches``).

    One drawing does both: the layout engine runs at the start of a draw, and the pixels are
    then cut to the box that drawing measured (``savefig(bbox_inches=box)`` after a layout
    pass of its own draws the figure twice, and costs a fifth more per chart). When something
    reaches past the canvas, which the drawing clips, matplotlib's own cropping draws the PNG.
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    face = matplotlib.rcParams["savefig.facecolor"]  # as savefig: "auto" is the figure's
    face = fig.get_facecolor() if str(face) == "auto" else matplotlib.colors.to_rgba(face)
    canvas, dpi_before, face_before = fig.canvas, fig.dpi, fig.patch.get_facecolor()
    agg = FigureCanvasAgg(fig)  # becomes fig.canvas until restored below
    try:
        fig.dpi = dpi
        fig.patch.set_facecolor(face)
        agg.draw()
        drawn = fig.get_tightbbox(agg.get_renderer())
        pixels = np.asarray(agg.buffer_rgba())
    finally:
        fig.dpi = dpi_before
        fig.patch.set_facecolor(face_before)
        fig.set_canvas(canvas)
    box = drawn.padded(matplotlib.rcParams["savefig.pad_inches"])
    width_in, height_in = fig.get_size_inches()
    if (drawn.x0 < -1e-6 or drawn.y0 < -1e-6 or drawn.x1 > width_in + 1e-6
            or drawn.y1 > height_in + 1e-6):
        with _layout_done(fig):
            fig.savefig(path, format="png", dpi=dpi, bbox_inches=box,
                        metadata={"Software": None}, pil_kwargs={"compress_level": PNG_LEVEL})
        return box
    height = pixels.shape[0]
    left, top = round(box.x0 * dpi), round(height - box.y1 * dpi)
    width, depth = round(box.width * dpi), round(box.height * dpi)
    image = Image.new("RGBA", (width, depth), tuple(round(255 * c) for c in face))
    inside = pixels[max(top, 0):max(min(top + depth, height), 0),
                    max(left, 0):max(min(left + width, pixels.shape[1]), 0)]
    if inside.size:  # the padding may reach past the canvas: background there
        image.paste(Image.fromarray(np.ascontiguousarray(inside), "RGBA"),
                    (max(-left, 0), max(-top, 0)))
    image.save(path, format="png", dpi=(dpi, dpi), compress_level=PNG_LEVEL)
    return box


def render_figure(fig, name: str, output_dir: str | Path, *, dpi: int = PNG_DPI,
                  display_dpi: int = 100) -> RenderedFigure:
    """Write ``<name>.png`` (``dpi``) and ``<name>.svg`` (and, for a chart of
    :mod:`lsbanalysis.charts`, the values it draws as ``<name>.csv``) under
    ``<output_dir>/figures``.

    The figure is laid out and its tight box measured once, then drawn once per file;
    matplotlib's ``bbox_inches="tight"`` would redo both for every file. The files carry no
    creation date, so an unchanged figure gives identical files.
    """
    base = _target(output_dir, FIGURES, name, (".png", ".svg"))
    png, svg = base.with_name(base.name + ".png"), base.with_name(base.name + ".svg")
    with shared_text_metrics():
        box = _draw_png(fig, png, dpi)  # the layout and the PNG, in one drawing
        with _layout_done(fig):
            vector = io.BytesIO()
            with matplotlib.rc_context({"svg.hashsalt": "lsbanalysis"}):  # stable ids
                fig.savefig(vector, format="svg", bbox_inches=box, metadata={"Date": None})
    svg.write_bytes(vector.getvalue())
    size = (round(box.width * display_dpi), round(box.height * display_dpi))

    from lsbanalysis.charts.alttext import describe

    text = describe(fig)
    if text is None or not len(text.data.columns):
        files = SavedFiles((SavedFile(png), SavedFile(svg)))
    else:
        csv = base.with_name(base.name + ".csv")
        text.data.to_csv(csv, sep=";", decimal=",", encoding="utf-8-sig", index=False)
        files = SavedFiles((SavedFile(png), SavedFile(svg), SavedFile(csv)))
    return RenderedFigure(files, vector.getvalue().decode("utf-8"), size)


def save_figure(fig, name: str, output_dir: str | Path, *, dpi: int = PNG_DPI) -> SavedFiles:
    """Write a matplotlib figure as ``<output_dir>/figures/<name>.png`` and ``.svg``, and for
    a chart of :mod:`lsbanalysis.charts` the values it draws as ``<name>.csv``.

    Returns ``(png_path, svg_path)`` (and the CSV path). The files carry no creation date, so an
    unchanged figure gives identical files.
    """
    return render_figure(fig, name, output_dir, dpi=dpi).files


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
