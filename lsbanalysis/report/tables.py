"""Report tables: a comparison as readable Dutch tables (formatted strings) and CSV-ready frames."""

from __future__ import annotations

import html
import math
import re

import pandas as pd

from lsbanalysis import fmt
from lsbanalysis.analysis.compare import left_out

STATUS_TEXT = {
    "suppressed": "geheim",
    "missing": "n.b.",
    "not_available": "–",
    "incomplete": "onvolledig",
}


def cell(value: float, status: str, unit: str) -> str:
    """A value as shown in a table: Dutch number, or why there is none."""
    if status != "ok" or value is None or (isinstance(value, float) and math.isnan(value)):
        return STATUS_TEXT.get(status, "n.b.")
    return fmt.value(value, unit)


def key_figures(c, indicators: list[str] | None = None, compact: bool = False) -> pd.DataFrame:
    """One row per indicator: the municipality, the group, the benchmarks and the rank.

    ``compact`` (the summary): without the province, short headers, the rank as '6/7', numbers
    that do not wrap.
    """
    ids = indicators or [i.id for i in c.indicators]
    cols = {
        ("target", None): c.target.name,
        ("aggregate", None): c.group.label,
        ("benchmark", "arrondissement"): "Arrondissement",
        ("benchmark", "province"): "Provincie",
        ("benchmark", "region"): "Vlaams Gewest",
    }
    if compact:
        del cols[("benchmark", "province")]
        cols[("benchmark", "arrondissement")] = "Arr."
        cols[("aggregate", None)] = c.group.id if c.group.id != "lijst" else "Groep"
    rows = []
    for iid in ids:
        part = c.rows(iid)  # object text columns: quick to filter further
        if part.empty:
            continue
        ind = c.catalogue[iid]
        rec = {"Indicator": ind.short, "Jaar": part["period"].iloc[0]}
        for (role, etype), name in cols.items():
            r = part[(part["role"] == role) & (True if etype is None
                                                else part["entity_type"] == etype)]
            rec[name] = cell(r["value"].iloc[0], r["status"].iloc[0], ind.unit) if len(r) else "–"
            if len(r) and r["status"].iloc[0] == "ok" and left_out(r["note"].iloc[0]):
                rec[name] += f" (zonder {left_out(r['note'].iloc[0])})"
            if compact:  # a number never wraps before its unit
                rec[name] = rec[name].replace(" ", "\u00a0")
        tr = part[part["role"] == "target"].iloc[0]
        sep = "/" if compact else " van "
        rec["Rang"] = (f"{int(tr['rank'])}{sep}{int(tr['rank_of'])}"
                       if not pd.isna(tr["rank"]) else "–")
        rows.append(rec)
    return pd.DataFrame(rows)


def members(c, indicator: str) -> pd.DataFrame:
    """The target and every member, highest first, with rank, for one indicator."""
    t = c.table
    ind = c.catalogue[indicator]
    part = t[(t["indicator"] == indicator) & (t["entity_type"] == "municipality")]
    part = part.sort_values("value", ascending=False, na_position="last")
    return pd.DataFrame({
        "Gemeente": part["name"],
        ind.short: [cell(v, s, ind.unit) for v, s in zip(part["value"], part["status"],
                                                          strict=True)],
        "Rang": [f"{int(r)}" if not pd.isna(r) else "–" for r in part["rank"]],
    }).reset_index(drop=True)


def machine_table(c, indicators: list[str] | None = None) -> pd.DataFrame:
    """The comparison rows of some indicators as numbers, for CSV next to the report."""
    t = c.table
    if indicators:
        t = t[t["indicator"].isin(indicators)]
    return t[["indicator", "label", "period", "entity", "entity_type", "name", "role", "value",
              "unit", "status", "rank", "rank_of", "source", "note"]].reset_index(drop=True)


def findings_markdown(findings, empty: str = "Geen vaststellingen.",
                      key: set[str] | frozenset[str] = frozenset()) -> str:
    """Findings as a Markdown bullet list, each with its source; findings on an indicator in
    ``key`` (the kernvaststellingen) are marked with ★."""
    if not findings:
        return f"*{empty}*"
    mark = {"beter": "▲", "slechter": "▼", "neutraal": "•", "niet beschikbaar": "○"}
    return "\n".join(f"- {mark.get(f.assessment, '•')} {f.text} *(Bron: {f.source})*"
                      + (" ★" if f.indicator in key else "")
                      for f in findings)


LABELS = {"sterkte": "Sterkte", "werkpunt": "Werkpunt", "aandachtspunt": "Aandachtspunt"}


def key_findings_markdown(findings, empty: str = "Geen kernvaststelling.") -> str:
    """Key findings as a Markdown list: label, sentence, source."""
    if not findings:
        return f"*{empty}*"
    return "\n".join(f"- **{LABELS.get(f.label, f.label.capitalize())}.** {f.text} "
                     f"*({f.source})*" for f in findings)


def synthesis_markdown(synthesis, heading: str = "###") -> str:
    """The kernvaststellingen per workgroup / cross-cutting theme, with a note where a block
    has none (no data, or nothing clearly apart)."""
    parts = []
    for section in synthesis.sections:
        items = synthesis.section_items(section)
        body = key_findings_markdown(items) if items else f"*{synthesis.note(section)}*"
        parts.append(f"{heading} {section.heading}\n\n{body}")
    return "\n\n".join(parts)


_NUMERIC = re.compile(r"^[-+]?[\d.,]+(?: ?(?:%|€|inw\./km²|procentpunt))?$|^\d+ van \d+$")


def html_table(frame: pd.DataFrame, caption: str, *, css: str = "lsb-table",
               highlight: str | None = None) -> str:
    """A table as accessible HTML: a caption, column header cells (``scope="col"``) and the
    first column as row header cells (``scope="row"``); numeric columns are right-aligned.
    Rows whose first cell is ``highlight`` (or starts with it and a space) are marked
    ``class="target"`` (bold): the target municipality."""

    def esc(value) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        return html.escape(str(value))

    def numeric(col) -> bool:
        cells = [str(v) for v in frame[col] if str(v) not in ("–", "", "nan")]
        return bool(cells) and sum(bool(_NUMERIC.match(v)) for v in cells) >= len(cells) / 2

    num = [' class="num"' if i > 0 and numeric(col) else "" for i, col in enumerate(frame.columns)]
    head = "".join(f'<th scope="col"{n}>{esc(col)}</th>'
                   for col, n in zip(frame.columns, num, strict=True))
    rows = []
    for record in frame.itertuples(index=False):
        cells = [f'<th scope="row">{esc(record[0])}</th>'] + [
            f"<td{n}>{esc(v)}</td>"
            for v, n in zip(record[1:], num[1:], strict=True)]
        first = str(record[0])
        mark = highlight and (first == highlight or first.startswith(f"{highlight} "))
        tr = '<tr class="target">' if mark else "<tr>"
        rows.append(f"{tr}{''.join(cells)}</tr>")
    return (f'<table class="{css}">\n<caption>{esc(caption)}</caption>\n'
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows)
            + "\n</tbody>\n</table>")



def _signed(value: float, decimals: int = 0, suffix: str = "") -> str:
    if value is None or math.isnan(value):
        return "–"
    sign = "+" if value > 0 else "-" if value < 0 else ""
    return sign + fmt.number(abs(value), decimals) + suffix


def year_to_date(ytd) -> pd.DataFrame:
    """A partial year against the same months a year earlier
    (:class:`~lsbanalysis.analysis.partial_year.YearToDate`): the municipality's counts and
    their difference, and the benchmarks' change in %."""
    t = ytd.table
    own = t[t["entity_type"] == "municipality"]
    name = own["name"].iloc[0]
    out = pd.DataFrame({
        "Vergunningen": own["label"].to_numpy(),
        f"{name}, {ytd.previous_label}": [cell(v, s, "count") for v, s in zip(
            own["previous"], own["status_previous"], strict=True)],
        f"{name}, {ytd.label}": [cell(v, s, "count") for v, s in zip(
            own["current"], own["status_current"], strict=True)],
        "Verschil": [_signed(b - a) for a, b in zip(own["previous"], own["current"],
                                                     strict=True)],
    })
    for etype in [e for e in dict.fromkeys(t["entity_type"]) if e != "municipality"]:
        part = t[t["entity_type"] == etype]
        out[f"{part['name'].iloc[0]}: verandering"] = [
            _signed(100 * (b / a - 1), 1, " %") if a else "–"
            for a, b in zip(part["previous"], part["current"], strict=True)]
    return out
