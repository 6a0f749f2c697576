"""What a chapter notebook needs, so that the notebook itself stays thin.

A chapter starts with::

    ch = Chapter(gemeente, referentie, jaar, output_dir, store_dir, gedeeld)

and then shows text, tables, charts and findings; every table is also written as CSV and
every chart as PNG and SVG (and the values it draws as CSV) under ``output_dir``.

``gedeeld`` is the path of the comparison the report runner computed once for all chapters
(:mod:`lsbanalysis.report.shared`); without it (JupyterLab, an older notebook) the chapter
computes the comparison itself. A kernel that runs several chapters of one report computes it
only once: the comparison is kept per dataset and parameters for the life of the process.

A chart is shown with its text alternative and the table behind it (from
:func:`lsbanalysis.charts.describe`), passed to the report in the output's metadata under
:data:`FIGURE_METADATA`; a table is shown with a caption and header cells.

With a reference year (``jaar``) an indicator may have no value up to that year; ``chart``,
``key_figures`` and ``income_bands`` then say so in the text instead of failing the chapter.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import lsbanalysis
from lsbanalysis.analysis.catalogue import CROSS_CUTTING
from lsbanalysis.analysis.catalogue.selection import load_selection
from lsbanalysis.charts.alttext import listing
from lsbanalysis.report import tables
from lsbanalysis.report.outputs import (
    FIGURE_METADATA,
    render_figure,
    save_table,
    shared_text_metrics,
)

#: Pixels per inch of a chart in the report (its SVG; the saved PNG next to it has 150 dpi).
DISPLAY_DPI = 100


def _display(obj) -> None:
    from IPython.display import display

    display(obj)


#: The dataset and the comparisons a kernel's chapters use, per store content (see above).
_DATASET: dict[tuple, object] = {}
_COMPUTED: dict[tuple, object] = {}


def _store_key(ds) -> tuple:
    return (str(Path(ds.store_dir).resolve()),
            json.dumps(ds.manifest.get("store_files") or ds.manifest.get("built_at"),
                       sort_keys=True))


def _dataset(store_dir):
    """The store, loaded once per kernel while its content stays the same (the chapters of
    a report then share the boundaries and anything else read on first use)."""
    ds = lsbanalysis.load(store_dir)  # reads the manifest and checks the files
    key = _store_key(ds)
    if key not in _DATASET:
        _DATASET.clear()
        _DATASET[key] = ds
    return _DATASET[key]


def _computed(ds, gemeente, referentie, jaar):
    key = (*_store_key(ds), str(gemeente), str(referentie), None if jaar is None else int(jaar))
    if key not in _COMPUTED:
        _COMPUTED.clear()  # one report at a time: keep the memory of one comparison
        _COMPUTED[key] = ds.compare(gemeente, reference=referentie, year=jaar)
    return _COMPUTED[key]


class Chapter:
    def __init__(self, gemeente, referentie, jaar=None, output_dir=".", store_dir=None,
                 gedeeld=None):
        self.ds = _dataset(store_dir)
        if gedeeld:
            from lsbanalysis.report import shared

            self.c = shared.read(gedeeld, {"gemeente": gemeente, "referentie": referentie,
                                           "jaar": jaar, "store_dir": store_dir}, self.ds)
        else:
            self.c = _computed(self.ds, gemeente, referentie, jaar)
        self.jaar = None if jaar is None else int(jaar)
        self.output_dir = Path(output_dir)
        self.target = self.c.target
        self.group = self.c.group

    # -- facts for the text ----------------------------------------------------------------

    @property
    def gemeente(self) -> str:
        return self.target.name

    @property
    def groep(self) -> str:
        return self.group.label

    def has(self, indicator: str) -> bool:
        if getattr(self, "_shown", None) is None:
            self._shown = set(self.c.table["indicator"])
        return indicator in self._shown

    def why_missing(self, indicator: str) -> str:
        """Why an indicator is not in the comparison: its note ('… geen gegevens tot en met …')."""
        short = self.c.catalogue[indicator].short
        note = next((n for n in self.c.notes if n.startswith(f"{short}:")), None)
        if note:
            return note
        upto = f" tot en met {self.jaar}" if self.jaar is not None else ""
        return f"{short}: geen gegevens{upto} voor {self.gemeente}."

    @property
    def period_text(self) -> str:
        """Which year each figure is from, for the introduction of the report."""
        if self.jaar is None:
            return ("Ze is een foto van de huidige toestand op basis van de meest recente "
                    "officiële cijfers van Statbel en VDAB; elk cijfer vermeldt zijn jaar en bron.")
        return (f"**Referentiejaar {self.jaar}**: elk cijfer is de laatste waarde tot en met "
                f"{self.jaar} (niet elke bron publiceert elk jaar, dus het jaar kan per indicator "
                "verschillen en staat bij elk cijfer, met de bron). Verlopen over de tijd stoppen "
                f"in {self.jaar}.")

    def omitted_text(self) -> str | None:
        """The indicators without any value in this comparison, as one Markdown paragraph."""
        if not self.c.notes:
            return None
        return "*Niet in dit rapport, want zonder cijfers:* " + " ".join(self.c.notes)

    def year(self, indicator: str) -> str:
        rows = self.c.table[self.c.table["indicator"] == indicator]
        return str(rows["period"].iloc[0]) if len(rows) else "–"

    def findings(self, theme: str | None = None, indicators=None, assessment=None):
        out = [f for f in self.c.findings if theme is None or f.theme == theme]
        if indicators is not None:
            out = [f for f in out if f.indicator in set(indicators)]
        if assessment is not None:
            out = [f for f in out if f.assessment == assessment]
        return out

    # -- showing things --------------------------------------------------------------------

    def md(self, text: str) -> None:
        from IPython.display import Markdown

        _display(Markdown(text))

    def caption(self, name: str) -> str:
        """A table's caption from its name: an indicator's label and year, else the name."""
        if name in self.c.catalogue.indicators:
            return f"{self.c.catalogue[name].label}, {self.year(name)}"
        return name.replace("_", " ").capitalize()

    def table(self, frame: pd.DataFrame, name: str, caption: str | None = None) -> None:
        """Show a table (with a caption and header cells) and write it as CSV."""
        from IPython.display import HTML

        save_table(frame, name, self.output_dir)
        _display(HTML(tables.html_table(frame, caption or self.caption(name),
                                        highlight=self.gemeente)))

    def figure(self, fig, name: str, alt: str | None = None,
               table: pd.DataFrame | None = None) -> None:
        """Show a chart with its text alternative and data table; write it as PNG and SVG.

        Charts of :mod:`lsbanalysis.charts` carry both. For another figure give ``alt`` (what
        it shows, with its key numbers, in Dutch) and, if possible, ``table`` (the values).
        """
        from IPython.display import display

        from lsbanalysis.charts.alttext import ChartText, attach, describe

        if alt is not None:
            frame = table if table is not None else pd.DataFrame()
            attach(fig, ChartText(alt, self.caption(name), frame, frame))
        rendered = render_figure(fig, name, self.output_dir, display_dpi=DISPLAY_DPI)
        plt.close(fig)
        width, height = rendered.display_size
        meta: dict = {"image/svg+xml": {"width": width, "height": height}}
        text = describe(fig)
        if text is not None:
            meta[FIGURE_METADATA] = {"name": name, "alt": text.alt, "caption": text.caption}
            if len(text.table.columns):
                meta[FIGURE_METADATA]["table"] = tables.html_table(
                    text.table, text.caption, highlight=self.gemeente)
        display({"image/svg+xml": rendered.svg,
                 "text/plain": text.alt if text is not None else f"Figuur {name}"},
                raw=True, metadata=meta)

    def chart(self, kind: str, indicator: str, name: str, **kwargs) -> None:
        """Show ``charts.<kind>(c, indicator, **kwargs)``, or say why there is no such chart."""
        from lsbanalysis import charts

        if not self.has(indicator):
            self.md(f"*{self.why_missing(indicator)}*")
            return
        with shared_text_metrics():  # the chart's layout passes and its three files
            self.figure(getattr(charts, kind)(self.c, indicator, **kwargs), name)

    def income_bands(self, name: str) -> None:
        """The income-band chart, with the earliest band year for comparison when there is one."""
        from lsbanalysis import charts

        bands = [i.id for i in self.c.catalogue if i.band]
        missing = [b for b in bands if not self.has(b)]
        if missing:
            self.md(f"*{self.why_missing(missing[0])}*")
            return
        history = self.c.history
        years = sorted(history.loc[history["indicator"] == bands[0], "year"].unique())
        earlier = int(years[0]) if len(years) > 1 else None
        with shared_text_metrics():
            self.figure(charts.income_bands(self.c, compare_year=earlier), name)

    def pyramid(self, name: str = "bevolkingspiramide") -> None:
        """The population pyramid of the latest year up to the reference year, or why not."""
        from lsbanalysis import charts
        from lsbanalysis.analysis.structure import AgeStructureError

        try:
            fig = charts.population_pyramid(self.c, ds=self.ds)
        except AgeStructureError as exc:
            self.md(f"*{exc}*")
            return
        self.figure(fig, name)

    def year_to_date(self, name: str = "vergunningen_lopend_jaar") -> None:
        """The building permits of the incomplete last year against the same months a year
        earlier: a table, never presented as a full year; not shown after a reference year."""
        from lsbanalysis.analysis.partial_year import PartialYearError

        try:
            ytd = self.c.year_to_date
        except PartialYearError as exc:
            self.md(f"*{exc}*")
            return
        if self.jaar is not None and ytd.year > self.jaar:
            self.md(f"*De vergunningen van {ytd.label} vallen na het referentiejaar "
                    f"{self.jaar} en staan daarom niet in dit rapport.*")
            return
        self.md(f"Van {ytd.year} zijn alleen de vergunningen van **{ytd.months}** bekend. "
                f"Dat is geen volledig jaar: de tabel vergelijkt ze met dezelfde maanden van "
                f"{ytd.year - 1}. Op enkele maanden schommelen de aantallen in een kleine "
                "gemeente sterk.")
        self.table(tables.year_to_date(ytd), name,
                   f"Bouwvergunningen {ytd.label} tegenover {ytd.previous_label} "
                   "(onvolledig jaar)")
        save_table(ytd.table, f"{name}_data", self.output_dir, sep=",", decimal=".",
                   encoding="utf-8")

    def key_figures(self, indicators: list[str] | None = None, name: str = "kerncijfers",
                    compact: bool = False) -> None:
        """A key-figures table (default: the key figures of selection.toml), also as CSV.
        ``compact``: without the province column (the summary)."""
        wanted = indicators or load_selection().key_figures
        ids = [i for i in wanted if self.has(i)]
        if not ids:
            self.md(f"*{self.why_missing(wanted[0])}*")
            return
        caption = ("Kerncijfers" if name == "kerncijfers"
                   else f"Kerncijfers: {name.replace('_', ' ')}")
        self.table(tables.key_figures(self.c, ids, compact=compact), name,
                   f"{caption} — {self.gemeente}, de {self.groep} en de benchmarks")
        save_table(tables.machine_table(self.c, ids), f"{name}_data", self.output_dir,
                   sep=",", decimal=".", encoding="utf-8")

    def show_findings(self, theme: str | None = None, indicators=None, assessment=None,
                      limit: int | None = None) -> None:
        """A theme's kernvaststellingen first, then a short list of further material findings
        and a pointer to the annex. With other filters (or no theme): the detailed findings."""
        if theme is None or indicators is not None or assessment is not None or limit:
            items = self.findings(theme, indicators, assessment)
            self.md(tables.findings_markdown(items[:limit] if limit else items))
            return
        key, more = self.c.synthesis.theme_items(theme)
        self._findings_block(key, more, self.c.catalogue.themes[theme].label.lower())

    def show_workgroup_findings(self, werkgroep: str) -> None:
        """A workgroup's kernvaststellingen (its block of the summary), including those on
        indicators of other chapters that the catalogue assigns to it (the ageing figures for
        *gezondheid*), then further material findings and a pointer to the annex."""
        s = self.c.synthesis
        more = [f for f in s.more if s.section_of.get(f.indicator) == werkgroep]
        themes = dict.fromkeys(self.c.catalogue.themes[i.theme].label for i in self.c.indicators
                               if s.section_of.get(i.id) == werkgroep)
        where = f", onder {listing(themes)}" if themes else ""
        self._findings_block(s.section_items(werkgroep), more, f"de werkgroep {werkgroep}",
                             f"*Alle vaststellingen staan in de bijlage 'Alle vaststellingen'"
                             f"{where}.*")

    def _findings_block(self, key, more, about: str, pointer: str | None = None) -> None:
        more = more[: load_selection().more_in_chapter]
        text = "**Kernvaststellingen**\n\n" + tables.key_findings_markdown(
            key, empty=f"Geen kernvaststelling over {about}.")
        if more:
            text += "\n\n**Verder valt op**\n\n" + tables.key_findings_markdown(more)
        text += "\n\n" + (pointer or f"*Alle vaststellingen over {about} staan in de bijlage "
                                      "'Alle vaststellingen'.*")
        self.md(text)

    def show_key_findings(self) -> None:
        """The kernvaststellingen per workgroup and cross-cutting theme (the summary)."""
        self.md(tables.synthesis_markdown(self.c.synthesis))

    def show_all_findings(self) -> None:
        """Every finding, per theme (the annex); kernvaststellingen are marked."""
        key = {f.indicator for f in self.c.synthesis.key}
        for theme in self.c.catalogue.themes.values():
            items = self.findings(theme.id)
            self.md(f"## {theme.label}")
            if not items:
                self.md(f"*{self._no_theme_data(theme)}*")
                continue
            self.md(tables.findings_markdown(items, key=key))

    def _no_theme_data(self, theme) -> str:
        """Why a theme has no findings, and where its workgroup's figures are (gezondheid)."""
        cat = self.c.catalogue
        text = "Geen gegevens per gemeente voor dit thema."
        if theme.werkgroep == CROSS_CUTTING:
            return text
        elsewhere = [i for i in self.c.indicators
                     if i.theme != theme.id and cat.werkgroep(i) == theme.werkgroep]
        if not elsewhere:
            return text
        where = listing(dict.fromkeys(cat.themes[i.theme].label for i in elsewhere))
        return (f"{text} De cijfers die de werkgroep {theme.werkgroep} aanbelangen ("
                + listing(i.short for i in elsewhere) + f") staan onder {where}.")

    def show_method(self) -> None:
        """How the kernvaststellingen are chosen, with the thresholds of selection.toml."""
        from lsbanalysis.analysis.synthesis import method_markdown

        self.md(method_markdown(self.c.catalogue))
