"""Plain-text renderings of a comparison, for the terminal."""

from __future__ import annotations

import math

from lsbanalysis import fmt


def _cell(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return fmt.value(value, unit)


def summary_text(c) -> str:
    """One line per indicator: target, group, benchmarks, rank."""
    s = c.summary
    head = (f"{c.target.name} ({c.target.nis}) vergeleken met de {c.group.label} "
            f"({len(c.group)} gemeenten)")
    cols = ["Indicator", "Jaar", c.target.name, c.group.id, "Arr.", "Prov.", "Gewest", "Rang"]
    rows = []
    for r in s.itertuples():
        rank = (f"{int(r.rank)}/{int(r.rank_of)}" if isinstance(r.rank, float)
                and not math.isnan(r.rank) else "–")
        target = _cell(r.target, r.unit) if r.target_status == "ok" else (
            "geheim" if r.target_status == "suppressed" else "–")
        rows.append([r.short, r.period, target, _cell(r.group, r.unit),
                     _cell(r.arrondissement, r.unit), _cell(r.province, r.unit),
                     _cell(r.region, r.unit), rank])
    widths = [max(len(str(x[i])) for x in [cols, *rows]) for i in range(len(cols))]
    lines = [head, ""]
    lines.append("  ".join(str(c_).ljust(w) if i < 2 else str(c_).rjust(w)
                           for i, (c_, w) in enumerate(zip(cols, widths, strict=True))))
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(c_).ljust(w) if i < 2 else str(c_).rjust(w)
                               for i, (c_, w) in enumerate(zip(row, widths, strict=True))))
    lines.append("")
    lines.append("Groepswaarde: verhouding van de sommen (nooit het gemiddelde van de graden); "
                 "'–' = niet berekenbaar (bv. mediaan van een groep) of niet gepubliceerd.")
    return "\n".join(lines)


def findings_text(c) -> str:
    """The findings per theme, each with its source."""
    lines = [f"Vaststellingen voor {c.target.name}, vergeleken met de {c.group.label}", ""]
    by_theme: dict[str, list] = {}
    for f in c.findings:
        by_theme.setdefault(f.theme, []).append(f)
    for theme in c.catalogue.theme_order:
        items = by_theme.get(theme)
        if not items:
            continue
        lines.append(c.catalogue.themes[theme].label.upper())
        for f in items:
            mark = {"beter": "+", "slechter": "-", "neutraal": "·", "niet beschikbaar": "?"}[
                f.assessment]
            lines.append(f" {mark} {f.text} (Bron: {f.source})")
        lines.append("")
    for note in c.notes:
        lines.append(f"Opmerking: {note}")
    return "\n".join(lines).rstrip() + "\n"


def key_findings_text(c) -> str:
    """The kernvaststellingen per workgroup and cross-cutting theme, each with its source."""
    s = c.synthesis
    lines = [f"Kernvaststellingen voor {c.target.name}, vergeleken met de {c.group.label}", ""]
    for section in s.sections:
        lines.append(section.heading.upper())
        items = s.section_items(section)
        for f in items:
            lines.append(f" [{f.label}] {f.text} (Bron: {f.source})")
        if not items:
            lines.append(f" {s.note(section)}")
        lines.append("")
    n = len(s.key)
    lines.append(f"{n} kernvaststelling{'' if n == 1 else 'en'}; alle vaststellingen: "
                 "lsb vaststellingen --alle")
    return "\n".join(lines).rstrip() + "\n"
