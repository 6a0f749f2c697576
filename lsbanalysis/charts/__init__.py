"""Charts for the analyserapport: ranking bars, trend lines, income bands, maps and the
population pyramid.

Every function takes a :class:`~lsbanalysis.analysis.compare.Comparison` and returns a matplotlib
``Figure``; none shows or saves it. Each figure carries its text alternative and the table of
the values it draws (:func:`describe`), made from the same rows as the picture. Every figure
carries its own Dutch title, a subtitle with the municipality, the reference group and the year,
the unit, and a footer with the source and notes, so that a copied PNG stays self-explanatory.
Numbers use Dutch notation (:mod:`fmt`).

Values that are not published (geheim, missing) are never drawn as a bar of length zero: they
are listed with a marker text, and a footnote explains it.

The house style (:data:`STYLE`) is applied while a figure is built, through
``matplotlib.rc_context``; importing this module leaves the user's rcParams alone::

    fig = charts.ranking_bars(c, "werkzoekendengraad")
    fig.savefig("werkzoekendengraad.png", **charts.savefig_kwargs)
    plt.close(fig)

One module per job: :mod:`~lsbanalysis.charts.style` (house style, figure frame),
:mod:`~lsbanalysis.charts.common` (reading a comparison), :mod:`~lsbanalysis.charts.alttext`
(text alternatives and data tables), and one module per kind of chart:
:mod:`~lsbanalysis.charts.ranking`, :mod:`~lsbanalysis.charts.trends`,
:mod:`~lsbanalysis.charts.bands`, :mod:`~lsbanalysis.charts.maps` and
:mod:`~lsbanalysis.charts.pyramid`.
"""

# The constants below were public names of the single charts module: they stay importable
# as ``charts.ACCENT`` etc. (tests and notebooks use some), without widening ``__all__``.
from lsbanalysis.charts.alttext import ChartText, describe
from lsbanalysis.charts.bands import income_bands
from lsbanalysis.charts.maps import (  # noqa: F401
    MAP_CMAP,
    group_map,
)
from lsbanalysis.charts.pyramid import population_pyramid
from lsbanalysis.charts.ranking import chart_for, ranking_bars
from lsbanalysis.charts.style import (  # noqa: F401
    ACCENT,
    ACCENT_TEXT,
    COLOURS,
    FONT,
    FOOTER_SIZE,
    GRID,
    HALO,
    LABEL_SIZE,
    LINESTYLES,
    MAP_EDGE,
    MARKERS,
    MEMBER,
    MUTED,
    NO_BAR_NOTE,
    NO_VALUE,
    NO_VALUE_HATCH,
    NO_VALUE_LABEL,
    OUTLINE,
    REFERENCE_ORDER,
    STATUS_TEXT,
    STYLE,
    SUBTITLE_SIZE,
    TEXT,
    TICK_SIZE,
    TITLE_SIZE,
    UNIT_LABELS,
    VALUE_SIZE,
    WIDTH,
    DutchFormatter,
    contrast_ratio,
    house_style,
    savefig_kwargs,
)
from lsbanalysis.charts.trends import trend_lines

__all__ = [
    "STYLE",
    "COLOURS",
    "savefig_kwargs",
    "house_style",
    "ranking_bars",
    "trend_lines",
    "income_bands",
    "group_map",
    "population_pyramid",
    "chart_for",
    "describe",
    "ChartText",
    "contrast_ratio",
]
