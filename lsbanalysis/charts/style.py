"""The house style shared by every chart: colours, sizes, fonts, labels and the figure frame.

:data:`STYLE` (rcParams) is applied only while a chart is built (:func:`house_style`,
``_styled``); :func:`_frame` puts the title, subtitle and footer on the figure, around the plot.
"""

from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

from lsbanalysis import fmt

# -- house style ----------------------------------------------------------------------------

# Every colour that carries meaning has a contrast of at least 3:1 against the white
# background, and every text colour at least 4.5:1 (WCAG 2.1 AA; checked in the tests with
# :func:`contrast_ratio`). GRID and NO_VALUE are backgrounds, not information.
BACKGROUND = "#FFFFFF"
ACCENT = "#D55E00"  # the target municipality, in every chart (Okabe-Ito vermillion), 3.9:1
ACCENT_TEXT = "#B34700"  # the same hue dark enough for text (5.5:1)
MEMBER = "#8C8C8C"  # other municipalities: neutral grey (3.4:1)
TEXT = "#1F1F1F"
MUTED = "#5C5C5C"
GRID = "#E2E2E2"
NO_VALUE = "#E4E4E4"  # fill of a municipality without a value on a map (hatched)
NO_VALUE_HATCH = "#8C8C8C"
OUTLINE = "#2B2B2B"  # reference-group members on a map
MAP_EDGE = "#767676"  # borders of the other municipalities on a map (4.5:1)

#: One colour per kind of comparison point, the same in every chart (colour-blind safe).
COLOURS = {
    "target": ACCENT,
    "member": MEMBER,
    "reference_group": "#0072B2",  # blue
    "arrondissement": "#009E73",  # bluish green
    "province": "#CC79A7",  # reddish purple
    "region": "#3A3A3A",  # near-black
}
#: Line styles so that the benchmarks stay distinct when printed in black and white.
LINESTYLES = {
    "target": "-",
    "reference_group": "-",
    "arrondissement": "--",
    "province": "-.",
    "region": ":",
}
#: Markers, so that the lines of a trend chart differ by more than their colour.
MARKERS = {
    "target": "o",
    "reference_group": "s",
    "arrondissement": "^",
    "province": "D",
    "region": "v",
}
REFERENCE_ORDER = ("reference_group", "arrondissement", "province", "region")
#: What a comparison point is, in the tables behind the charts.
REFERENCE_KIND = {
    "reference_group": "referentiegroep",
    "arrondissement": "arrondissement",
    "province": "provincie",
    "region": "gewest",
}

FONT = "DejaVu Sans"  # ships with matplotlib: the same figure on every machine
TITLE_SIZE = 14
SUBTITLE_SIZE = 11.5
LABEL_SIZE = 11
TICK_SIZE = 10.5
VALUE_SIZE = 10.5
FOOTER_SIZE = 10
WIDTH = 8.0  # inches: a report page width, scaled down a little when printed on A4

#: The house style (rcParams), applied only while a chart is built.
STYLE: dict = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "font.size": LABEL_SIZE,
    "axes.titlesize": 12,
    "axes.labelsize": LABEL_SIZE,
    "axes.labelcolor": TEXT,
    "axes.edgecolor": "#8A8A8A",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.facecolor": "white",
    "axes.axisbelow": True,
    "xtick.labelsize": TICK_SIZE,
    "ytick.labelsize": TICK_SIZE,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "legend.fontsize": TICK_SIZE,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "figure.dpi": 100,
    "text.color": TEXT,
    "hatch.linewidth": 0.8,
    "savefig.facecolor": "white",
}

#: Keyword arguments for ``fig.savefig`` that suit the report (PNG at 150 dpi, tight box).
savefig_kwargs: dict = {"dpi": 150, "bbox_inches": "tight", "facecolor": "white"}

UNIT_LABELS = {
    "eur": "euro (€)",
    "percent": "procent (%)",
    "count": "aantal",
    "per_km2": "inwoners per km²",
    "index": "index",
    "ratio": "verhouding",
    "per_100": "per 100",
    "per_1000": "per 1.000",
}
STATUS_TEXT = {
    "suppressed": "geheim (niet gepubliceerd)",
    "missing": "niet gepubliceerd",
    "not_available": "niet berekenbaar",
    "incomplete": "niet berekend (waarde ontbreekt)",
}
NO_BAR_NOTE = "Geen balk = geen gepubliceerde waarde (geheim of te weinig waarnemingen)."
NO_VALUE_LABEL = "geen gepubliceerde waarde"
HALO = [patheffects.withStroke(linewidth=3, foreground="white")]


@contextmanager
def house_style() -> Iterator[None]:
    """Apply the house style to the charts built inside the ``with`` block only."""
    with plt.rc_context(STYLE):
        yield


def _styled(func: Callable[..., Figure]) -> Callable[..., Figure]:
    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> Figure:
        with house_style():
            return func(*args, **kwargs)

    return wrapper


class DutchFormatter(Formatter):
    """Tick labels in Dutch notation (30.000, 4,5) with as few decimals as the ticks need."""

    def __init__(self, suffix: str = "") -> None:
        self.suffix = suffix
        self.decimals = 0

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        self.decimals = _decimals_needed(locs)

    def __call__(self, x, pos=None) -> str:
        if abs(x) < 1e-9:
            x = 0.0
        return fmt.number(x, self.decimals) + self.suffix


def _decimals_needed(values: Iterable[float]) -> int:
    vals = [float(v) for v in values if np.isfinite(v)]
    for d in range(4):
        if all(abs(v * 10**d - round(v * 10**d)) < 1e-6 * max(1.0, abs(v * 10**d))
               for v in vals):
            return d
    return 4


def _style_axes(ax, grid: str | None = None) -> None:
    """Tick styling stored on the axes, so ticks created later (at draw time) keep it."""
    ax.tick_params(axis="both", labelsize=TICK_SIZE, labelcolor=TEXT, color="#8A8A8A",
                   labelfontfamily=FONT)
    if grid:
        ax.grid(axis=grid, color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)


def contrast_ratio(colour: str, background: str = BACKGROUND) -> float:
    """WCAG 2.1 contrast ratio of two colours (1 to 21)."""

    def luminance(c: str) -> float:
        r, g, b = (x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4
                   for x in to_rgb(c))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted((luminance(colour), luminance(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# -- titles, subtitle and footer on the figure ------------------------------------------------

_PAD = 0.14  # inches around the texts


def _wrap(text: str, size: float, width_in: float, bold: bool = False) -> list[str]:
    """Wrap to the figure width (average DejaVu Sans character ≈ 0.6 em, bold 0.66 em)."""
    per_char = size * (0.66 if bold else 0.58) / 72
    chars = max(20, int((width_in - 2 * _PAD) / per_char))
    return textwrap.wrap(text, chars, break_on_hyphens=False) or [""]


def _new_figure(height: float, width: float = WIDTH, **kwargs):
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained", **kwargs)
    fig.patch.set_facecolor("white")
    return fig, ax


def _frame(fig: Figure, title: str, subtitle: str, source: str,
           notes: Iterable[str] = ()) -> None:
    """Title, subtitle and footer as figure texts; the plot goes in the space between."""
    w, h = fig.get_size_inches()
    x = _PAD / w
    y = 1 - _PAD / h
    t_lines = _wrap(title, TITLE_SIZE, w, bold=True)
    fig.text(x, y, "\n".join(t_lines), fontsize=TITLE_SIZE, fontweight="bold", color=TEXT,
             ha="left", va="top", linespacing=1.15, gid="titel", fontfamily=FONT)
    y -= (len(t_lines) * TITLE_SIZE * 1.22 + 5) / 72 / h
    s_lines = _wrap(subtitle, SUBTITLE_SIZE, w)
    fig.text(x, y, "\n".join(s_lines), fontsize=SUBTITLE_SIZE, color=MUTED, ha="left",
             va="top", linespacing=1.2, gid="ondertitel", fontfamily=FONT)
    y -= (len(s_lines) * SUBTITLE_SIZE * 1.25) / 72 / h
    top = y - 0.1 / h

    lines = [f"Bron: {source}"]
    for note in dict.fromkeys(n for n in notes if n):
        lines += _wrap(note, FOOTER_SIZE, w)
    fig.text(x, _PAD / h, "\n".join(lines), fontsize=FOOTER_SIZE, color=MUTED, ha="left",
             va="bottom", linespacing=1.25, gid="voetnoot", fontfamily=FONT)
    bottom = (_PAD + len(lines) * FOOTER_SIZE * 1.3 / 72 + 0.12) / h
    fig.get_layout_engine().set(rect=(0.0, bottom, 1.0, max(0.2, top - bottom)),
                                w_pad=0.06, h_pad=0.06)


# -- text and layout helpers -------------------------------------------------------------


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _wrap_label(text: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def _value_room(values: list[float], labels: list[str], axes_in: float) -> tuple[float, float]:
    """x limits with room for value labels beside the bar ends (labels ≈ 0.6 em a char)."""
    lo = min([0.0, *values])
    hi = max([0.0, *values])
    span = (hi - lo) or 1.0
    longest = max((len(s) for s in labels), default=6)
    frac = min(0.45, (longest * VALUE_SIZE * 0.62 + 8) / 72 / max(axes_in, 1.0))
    extra = span * frac / (1 - frac)
    return (lo - extra if lo < 0 else 0.0), (hi + extra if hi > 0 else extra * 0.2)


def _legend_columns(labels: list[str], width: float = WIDTH - 0.6) -> int:
    """Two columns when they fit the figure width (≈ 0.6 em a character), else one."""
    rows = math.ceil(len(labels) / 2)
    cols = [labels[:rows], labels[rows:]]
    need = sum(max((len(t) for t in col), default=0) * TICK_SIZE * 0.6 + 60 for col in cols)
    return 2 if len(labels) > 1 and need / 72 <= width else 1


def _set_hatch(patch, colour: str) -> None:
    """Hatch colour independent of the edge colour (matplotlib ≥ 3.10), else via the edge."""
    if hasattr(patch, "set_hatchcolor"):
        patch.set_hatchcolor(colour)
    if hasattr(patch, "set_hatch_linewidth"):
        patch.set_hatch_linewidth(1.0)
