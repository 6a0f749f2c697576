"""What a chapter notebook needs, so that the notebook itself stays thin.

A chapter starts with::

    ch = Chapter(gemeente, referentie, jaar, output_dir, store_dir)

and then shows text, tables, charts and findings; every table is also written as CSV and
every chart as PNG and SVG (and the values it draws as CSV) under ``output_dir``.

A chart is shown with its text alternative and the table behind it (from
:func:`lsbanalysis.charts.describe`), passed to the report in the output's metadata under
:data:`FIGURE_METADATA`; a table is shown with a caption and header cells.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import lsbanalysis
from lsbanalysis.report import tables
from lsbanalysis.report.outputs import FIGURE_METADATA, save_figure, save_table

#: Resolution of the PNG shown in the report (the saved PNG next to it has 150 dpi).
DISPLAY_DPI = 100


def _display(obj) -> None:
    from IPython.display import display

    display(obj)


class Chapter:
    def __init__(self, gemeente, referentie, jaar=None, output_dir=".", store_dir=None):
        self.ds = lsbanalysis.load(store_dir)
        self.c = self.ds.compare(gemeente, reference=referentie, year=jaar)
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
        return indicator in set(self.c.table["indicator"])

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
        save_figure(fig, name, self.output_dir)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DISPLAY_DPI, bbox_inches="tight",
                    facecolor="white", metadata={"Software": None})
        plt.close(fig)
        png = buffer.getvalue()
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        meta: dict = {"image/png": {"width": width, "height": height}}
        text = describe(fig)
        if text is not None:
            meta[FIGURE_METADATA] = {"name": name, "alt": text.alt, "caption": text.caption}
            if len(text.table.columns):
                meta[FIGURE_METADATA]["table"] = tables.html_table(
                    text.table, text.caption, highlight=self.gemeente)
        display({"image/png": base64.b64encode(png).decode("ascii"),
                 "text/plain": text.alt if text is not None else f"Figuur {name}"},
                raw=True, metadata=meta)

    def key_figures(self, indicators: list[str], name: str) -> None:
        ids = [i for i in indicators if self.has(i)]
        caption = ("Kerncijfers" if name == "kerncijfers"
                   else f"Kerncijfers: {name.replace('_', ' ')}")
        self.table(tables.key_figures(self.c, ids), name,
                   f"{caption} — {self.gemeente}, de {self.groep} en de benchmarks")
        save_table(tables.machine_table(self.c, ids), f"{name}_data", self.output_dir,
                   sep=",", decimal=".", encoding="utf-8")

    def show_findings(self, theme: str | None = None, indicators=None, assessment=None,
                      limit: int | None = None) -> None:
        items = self.findings(theme, indicators, assessment)
        self.md(tables.findings_markdown(items[:limit] if limit else items))
