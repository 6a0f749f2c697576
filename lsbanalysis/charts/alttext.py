"""Text alternatives for the charts: what a chart shows, in Dutch, with its key numbers, and the
table of the values it draws.

Each chart function builds its :class:`ChartText` from the same rows it draws and attaches it to
the figure (:func:`attach`); the report reads it back with :func:`describe` and writes the text
as the image's ``alt`` and the table under the figure, so a reader who cannot see the chart
gets the same numbers::

    fig = charts.ranking_bars(c, "werkzoekendengraad")
    charts.describe(fig).alt  # "Staafdiagram: … Herenthout: 4,9 % (rang 3 van 7) …"
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from lsbanalysis import fmt
from lsbanalysis.charts.style import STATUS_TEXT

_ATTR = "lsb_chart_text"


@dataclass(frozen=True)
class ChartText:
    """What a chart says without its picture."""

    alt: str  # Dutch text alternative: kind of chart, subject, year, key numbers
    caption: str  # caption of the table behind the chart
    table: pd.DataFrame  # the values drawn, as shown (Dutch notation, status words)
    data: pd.DataFrame  # the same values as numbers, for CSV


def attach(fig: Figure, text: ChartText) -> Figure:
    setattr(fig, _ATTR, text)
    return fig


def describe(fig: Figure) -> ChartText | None:
    """The text alternative and data table a chart function attached to ``fig`` (or None)."""
    return getattr(fig, _ATTR, None)


def ok(value, status) -> bool:
    return status == "ok" and value is not None and not (
        isinstance(value, float) and math.isnan(value))


def shown(value, status: str, unit: str) -> str:
    """A value as the table behind a chart shows it: Dutch number, or why there is none."""
    if ok(value, status):
        return fmt.value(float(value), unit)
    return STATUS_TEXT.get(status, "niet gepubliceerd")


def listing(items: Iterable[str]) -> str:
    """['a', 'b', 'c'] → 'a, b en c'."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " en " + items[-1]


def extremes(pairs: Sequence[tuple[str, float]], unit: str) -> str:
    """'hoogste: Herentals (6,8 %); laagste: Kasterlee, Vorselaar en Grobbendonk (4,6 %)'."""
    if not pairs:
        return ""
    values = [v for _, v in pairs]
    hi, lo = max(values), min(values)

    def names(v: float) -> str:
        return listing([n for n, x in pairs if x == v])

    if hi == lo:
        return f"alle {len(pairs)} even hoog ({fmt.value(hi, unit)})"
    return (f"hoogste: {names(hi)} ({fmt.value(hi, unit)}); "
            f"laagste: {names(lo)} ({fmt.value(lo, unit)})")


def sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else text + "."


def join(*parts: str) -> str:
    return " ".join(sentence(p[:1].upper() + p[1:]) for p in parts if p and p.strip())


__all__ = ["ChartText", "attach", "describe"]
