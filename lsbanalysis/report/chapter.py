"""What a chapter notebook needs, so that the notebook itself stays thin.

A chapter starts with::

    ch = Chapter(gemeente, referentie, jaar, output_dir, store_dir)

and then shows text, tables, charts and findings; every table is also written as CSV and
every chart as PNG and SVG under ``output_dir``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import lsbanalysis
from lsbanalysis.report import tables
from lsbanalysis.report.outputs import save_figure, save_table


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

    def table(self, frame: pd.DataFrame, name: str) -> None:
        """Show a table and write it as CSV."""
        from IPython.display import HTML

        save_table(frame, name, self.output_dir)
        _display(HTML(frame.to_html(index=False, classes="lsb-table", na_rep="–",
                                    escape=True)))

    def figure(self, fig, name: str) -> None:
        """Show a chart and write it as PNG and SVG."""
        save_figure(fig, name, self.output_dir)
        _display(fig)
        plt.close(fig)

    def key_figures(self, indicators: list[str], name: str) -> None:
        ids = [i for i in indicators if self.has(i)]
        self.table(tables.key_figures(self.c, ids), name)
        save_table(tables.machine_table(self.c, ids), f"{name}_data", self.output_dir,
                   sep=",", decimal=".", encoding="utf-8")

    def show_findings(self, theme: str | None = None, indicators=None, assessment=None,
                      limit: int | None = None) -> None:
        items = self.findings(theme, indicators, assessment)
        self.md(tables.findings_markdown(items[:limit] if limit else items))
