"""What a report writes next to its chapters, and the sections made without a notebook.

Called once by the runner while the chapters run (:func:`write_exports`), it writes into the
report folder

    vaststellingen.csv      every finding: the kernvaststellingen (kern = true), the further
                            material ones the chapters show, and all detailed findings
    kerncijfers.csv         the key figures (municipality, group, benchmarks)
    toets_vorig_plan.csv    the previous plan's findings tested (only with a plan file)
    wijzigingen.csv         what changed since the published report (only when there is one)

and returns the generated sections "Wat is er nieuw sinds het vorige rapport" and "Toets van
het vorige plan", placed after the summary. The comparison with the previous report reads its
``manifest.json`` (source editions), ``vaststellingen.csv`` and ``kerncijfers.csv``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import nbformat
import pandas as pd
from nbformat.v4 import new_markdown_cell, new_notebook

from lsbanalysis import fmt
from lsbanalysis.analysis.catalogue.selection import load_selection
from lsbanalysis.analysis.previous_plan import (
    TOETS_INTRO,
    previous_plan,
    toets,
    toets_display,
    toets_frame,
)
from lsbanalysis.report.tables import html_table, machine_table

FINDINGS_FILE = "vaststellingen.csv"
KEY_FIGURES_FILE = "kerncijfers.csv"
PLAN_FILE = "toets_vorig_plan.csv"
CHANGES_FILE = "wijzigingen.csv"
FINDINGS_COLUMNS = ["theme", "werkgroep", "indicator", "period", "kind", "assessment", "label",
                    "kern", "text", "source", "magnitude", "values"]
CHANGES_COLUMNS = ["soort", "onderwerp", "vorig", "nieuw", "toelichting"]
NEW_SECTION = ("nieuw", "Wat is er nieuw sinds het vorige rapport")
PLAN_SECTION = ("vorig-plan", "Toets van het vorige plan")
_CSV = {"index": False, "encoding": "utf-8"}


@dataclass
class Exports:
    files: list[str] = field(default_factory=list)  # written, relative to the report folder
    sections: list[tuple[str, str, nbformat.NotebookNode]] = field(default_factory=list)


def findings_table(c) -> pd.DataFrame:
    """One row per finding: key and further synthesis findings first, then all details."""
    s = c.synthesis
    rows = []
    for f in [*s.key, *s.more, *c.findings]:
        row = {k: getattr(f, k) for k in FINDINGS_COLUMNS if k != "values"}
        row["values"] = json.dumps(f.values, ensure_ascii=False, sort_keys=True)
        rows.append(row)
    return pd.DataFrame(rows, columns=FINDINGS_COLUMNS)


def key_figures_table(c) -> pd.DataFrame:
    ids = [i for i in load_selection().key_figures if i in set(c.table["indicator"])]
    t = machine_table(c, ids)
    return t[t["role"].isin(["target", "aggregate", "benchmark"])].reset_index(drop=True)


def _reference(group) -> str | list[str]:
    return group.id if group.id != "lijst" else list(group.codes)


def _read_csv(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(path, dtype={"period": str}, keep_default_na=False,
                           na_values=[""])
    except (OSError, ValueError):
        return None


def _edition(src: dict) -> str:
    return ", ".join(str(src[k]) for k in ("title", "edition") if src.get(k))


def _source_changes(old: list[dict], new: list[dict]) -> list[dict]:
    before, after = {s["id"]: s for s in old}, {s["id"]: s for s in new}
    out = []
    for sid in sorted(set(before) | set(after)):
        a, b = before.get(sid), after.get(sid)
        if a is None:
            out.append({"soort": "bron", "onderwerp": sid, "vorig": "", "nieuw": _edition(b),
                        "toelichting": "nieuwe bron"})
        elif b is None:
            out.append({"soort": "bron", "onderwerp": sid, "vorig": _edition(a), "nieuw": "",
                        "toelichting": "niet meer in de gegevens"})
        elif a.get("edition") != b.get("edition"):
            out.append({"soort": "bron", "onderwerp": sid, "vorig": str(a.get("edition", "")),
                        "nieuw": str(b.get("edition", "")), "toelichting": "nieuwe editie"})
        elif ({f.get("sha256") for f in a.get("files", [])}
              != {f.get("sha256") for f in b.get("files", [])}):
            out.append({"soort": "bron", "onderwerp": sid, "vorig": str(a.get("edition", "")),
                        "nieuw": str(b.get("edition", "")),
                        "toelichting": "bijgewerkt bestand, zelfde editie"})
    return out


def _finding_changes(old: pd.DataFrame, new: pd.DataFrame) -> list[dict]:
    def key(frame: pd.DataFrame) -> dict[str, dict]:
        kern = frame[frame["kern"].astype(str).str.lower() == "true"]
        return {r["indicator"]: r for r in kern.to_dict(orient="records")}

    before, after = key(old), key(new)
    out = []
    for ind in after:
        if ind not in before:
            out.append({"soort": "kernvaststelling", "onderwerp": ind, "vorig": "",
                        "nieuw": after[ind]["text"], "toelichting": "nieuw"})
        elif before[ind]["label"] != after[ind]["label"]:
            out.append({"soort": "kernvaststelling", "onderwerp": ind,
                        "vorig": before[ind]["text"], "nieuw": after[ind]["text"],
                        "toelichting": f"{before[ind]['label']} → {after[ind]['label']}"})
    for ind in before:
        if ind not in after:
            out.append({"soort": "kernvaststelling", "onderwerp": ind,
                        "vorig": before[ind]["text"], "nieuw": "", "toelichting": "vervallen"})
    return out


def _figure_changes(old: pd.DataFrame, new: pd.DataFrame, catalogue) -> list[dict]:
    def target(frame: pd.DataFrame) -> dict[str, tuple[str, float, str]]:
        t = frame[frame["role"] == "target"]
        return {r["indicator"]: (str(r["period"]), r["value"], str(r["unit"]))
                for r in t.to_dict(orient="records")}

    def shown(item) -> str:
        period, value, unit = item
        number = fmt.value(float(value), unit) if _finite(value) else "niet beschikbaar"
        return f"{number} ({period})"

    before, after = target(old), target(new)
    out = []
    for ind in after:
        if ind in before and shown(before[ind]) != shown(after[ind]):
            label = catalogue[ind].short if ind in catalogue.indicators else ind
            out.append({"soort": "kerncijfer", "onderwerp": label, "vorig": shown(before[ind]),
                        "nieuw": shown(after[ind]), "toelichting": ""})
    return out


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def changes(previous: Path, manifest: dict, findings: pd.DataFrame, figures: pd.DataFrame,
            catalogue) -> tuple[pd.DataFrame, str] | None:
    """What changed since the report published in ``previous``: a table and a Dutch section;
    None when there is no previous report for the same municipality and group."""
    try:
        old = json.loads((previous / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    params, now = old.get("parameters", {}), manifest["parameters"]
    members = [[m.get("nis") for m in p.get("group", {}).get("members", [])]
               for p in (params, now)]
    if params.get("nis") != now["nis"] or members[0] != members[1]:
        return None
    rows = _source_changes(old.get("sources", []), manifest["sources"])
    old_findings = _read_csv(previous / FINDINGS_FILE)
    old_figures = _read_csv(previous / KEY_FIGURES_FILE)
    if old_findings is not None:
        rows += _finding_changes(old_findings, findings)
    if old_figures is not None:
        rows += _figure_changes(old_figures, figures, catalogue)
    table = pd.DataFrame(rows, columns=CHANGES_COLUMNS)
    return table, _changes_markdown(table, old, old_findings is not None)


def _date(value: str | None) -> str:
    from lsbanalysis.report.assemble import dutch_date

    try:
        return dutch_date(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return "onbekende datum"


def _changes_markdown(table: pd.DataFrame, old: dict, had_findings: bool) -> str:
    when = _date(old.get("finished_at"))
    lines = [f"Vergeleken met het vorige rapport van {when}."]
    if table.empty:
        lines.append("Er zijn geen nieuwe gegevens; de kernvaststellingen en de kerncijfers "
                     "zijn dezelfde gebleven.")
    part = table[table["soort"] == "bron"]
    if len(part):
        lines += ["", "**Gegevens**", ""]
        for r in part.itertuples():
            if r.toelichting == "nieuwe bron":
                lines.append(f"- Nieuw: {r.nieuw} (`{r.onderwerp}`).")
            elif r.toelichting == "niet meer in de gegevens":
                lines.append(f"- Niet meer in de gegevens: {r.vorig} (`{r.onderwerp}`).")
            else:
                lines.append(f"- `{r.onderwerp}`: {r.toelichting} ({r.vorig} → {r.nieuw}).")
    part = table[table["soort"] == "kernvaststelling"]
    for what, title in (("nieuw", "Nieuwe kernvaststellingen"),
                        ("vervallen", "Vervallen kernvaststellingen")):
        sub = part[part["toelichting"] == what]
        if len(sub):
            lines += ["", f"**{title}**", ""]
            lines += [f"- {r.nieuw if what == 'nieuw' else r.vorig}" for r in sub.itertuples()]
    sub = part[~part["toelichting"].isin(["nieuw", "vervallen"])]
    if len(sub):
        lines += ["", "**Kernvaststellingen met een ander oordeel**", ""]
        lines += [f"- {r.toelichting}: {r.nieuw}" for r in sub.itertuples()]
    part = table[table["soort"] == "kerncijfer"]
    if len(part):
        moved = pd.DataFrame({"Kerncijfer": part["onderwerp"], "Vorig rapport": part["vorig"],
                              "Nu": part["nieuw"]})
        lines += ["", html_table(moved, "Kerncijfers die bewogen sinds het vorige rapport"), ""]
    if not had_findings:
        lines += ["", "*Het vorige rapport bevat nog geen lijst van vaststellingen; alleen de "
                  "gegevens zijn vergeleken.*"]
    return "\n".join(lines) + "\n"


def toets_markdown(verdicts, plan: str, gemeente: str) -> str:
    """The previous-plan section: intro, the captioned 'toen / nu / geldt nog?' table, notes."""
    table, notes = toets_display(verdicts)
    caption = f"Toets van de kwantitatieve vaststellingen van het {plan} ({gemeente})"
    return "\n\n".join([TOETS_INTRO.format(plan=plan), html_table(table, caption), *notes]) + "\n"


def _section(section: tuple[str, str], markdown: str):
    return (*section, new_notebook(cells=[new_markdown_cell(markdown)]))


def write_exports(folder: Path, ds, target, group, jaar: int | None, previous: Path | None,
                  manifest: dict, comparison=None) -> Exports:
    """Write the CSVs into ``folder`` (the build folder) and make the generated sections.

    ``previous`` is the published report's folder (may not exist); ``manifest`` holds at least
    this run's ``parameters`` and ``sources``; ``comparison`` is the report's comparison when
    the caller has it (the runner's shared one), else it is computed here.
    """
    folder = Path(folder)
    out = Exports()
    c = comparison if comparison is not None else ds.compare(target, _reference(group),
                                                             year=jaar)
    findings = findings_table(c)
    findings.to_csv(folder / FINDINGS_FILE, **_CSV)
    figures = key_figures_table(c)
    figures.to_csv(folder / KEY_FIGURES_FILE, **_CSV)
    out.files += [FINDINGS_FILE, KEY_FIGURES_FILE]
    if previous is not None and Path(previous).is_dir():
        found = changes(Path(previous), manifest, findings, figures, c.catalogue)
        if found is not None:
            table, markdown = found
            table.to_csv(folder / CHANGES_FILE, **_CSV)
            out.files.append(CHANGES_FILE)
            out.sections.append(_section(NEW_SECTION, markdown))
    verdicts = toets(ds, target)
    if verdicts:
        toets_frame(verdicts).to_csv(folder / PLAN_FILE, **_CSV)
        out.files.append(PLAN_FILE)
        out.sections.append(_section(PLAN_SECTION, toets_markdown(
            verdicts, previous_plan(target.nis).plan, target.name)))
    return out
