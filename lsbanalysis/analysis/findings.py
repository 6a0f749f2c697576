"""Findings (vaststellingen): Dutch sentences computed from a comparison.

Every finding carries its numbers, year and source. None is made from a missing or suppressed
value; where the municipality's own value is unavailable, a note says so instead. Findings are
ordered per theme so that the clearest differences, better or worse, come first.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from lsbanalysis import fmt
from lsbanalysis.analysis.catalogue import Indicator

#: Below these differences a value is "ongeveer gelijk": 0.5 percentage point, or 2 %.
EQUAL_PP = 0.5
EQUAL_REL = 0.02
BETTER, WORSE, NEUTRAL, UNAVAILABLE = "beter", "slechter", "neutraal", "niet beschikbaar"
SOURCE_NAMES = {
    "statbel_fiscal_income": "Statbel, fiscale statistiek van de inkomens",
    "statbel_income_bands": "Statbel, fiscale inkomens",
    "statbel_real_estate": "Statbel, vastgoedprijzen",
    "statbel_population_density": "Statbel, bevolking",
    "statbel_population_structure": "Statbel, bevolkingsstructuur",
    "vdab_jobseekers": "VDAB via Provincies in Cijfers",
    "vdab_vacancies": "VDAB via Provincies in Cijfers",
    "statbel_admin_income": "Statbel, administratief beschikbaar inkomen",
    "statbel_building_permits": "Statbel, bouwvergunningen",
    "pinc_newcomers": "Agentschap Integratie en Inburgering via Provincies in Cijfers",
    "pinc_home_language_origin": "Provincies in Cijfers (Departement Onderwijs; Statbel)",
}


def source_label(source_id: str) -> str:
    """'statbel_income_bands_2022' → 'Statbel, fiscale inkomens'; combined ids joined."""
    names = []
    for part in str(source_id).split("+"):
        name = next((v for k, v in SOURCE_NAMES.items() if part.startswith(k)), part)
        if name not in names:
            names.append(name)
    return "; ".join(names)


@dataclass
class Finding:
    theme: str
    indicator: str
    kind: str  # rank / benchmark / band / arrondissement_rank / trend / unavailable
    text: str
    assessment: str  # beter / slechter / neutraal / niet beschikbaar
    magnitude: float  # for ordering: larger = more marked difference
    period: str
    source: str
    values: dict = field(default_factory=dict)
    werkgroep: str = ""  # the LSB workgroup, or "transversaal"
    label: str = ""  # key findings: sterkte / werkpunt / aandachtspunt
    kern: bool = False  # one of the kernvaststellingen (see synthesis.py)

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return self.text


def subject(ind: Indicator) -> str:
    """Noun phrase with article for use mid-sentence: 'de werkzoekendengraad'."""
    if ind.subject:
        return ind.subject
    label = ind.label[0].lower() + ind.label[1:]
    article = "het" if label.split()[0] in ("aandeel", "aantal", "gemiddeld") else "de"
    return f"{article} {label}"


def capital(text: str) -> str:
    return text[0].upper() + text[1:]


def _relative(a: float, b: float, unit: str) -> float:
    """Size of a difference on a common scale (percentage points count as relative to 10 %)."""
    if unit == "percent":
        return abs(a - b) / 10.0
    return abs(a - b) / abs(b) if b else 0.0


def _compare_word(a: float, b: float, unit: str) -> str:
    if unit == "percent":
        equal = abs(a - b) < EQUAL_PP
    else:
        equal = b != 0 and abs(a - b) / abs(b) < EQUAL_REL
    if equal:
        return "ongeveer even hoog als"
    return "hoger dan" if a > b else "lager dan"


def _assess(ind: Indicator, a: float, b: float) -> str:
    word = _compare_word(a, b, ind.unit)
    if ind.direction == "neutral" or word.startswith("ongeveer"):
        return NEUTRAL
    higher = word == "hoger dan"
    return BETTER if higher == (ind.direction == "higher_better") else WORSE


def _ok(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _rows(c, ind_id: str) -> pd.DataFrame:
    return c.rows(ind_id)


def _entity_phrase(row) -> str:
    t = row["entity_type"]
    name = row["name"]
    if t == "arrondissement":
        return "het " + (name[0].lower() + name[1:] if name.lower().startswith("arr") else
                         f"arrondissement {name}")
    if t == "province":
        return "de " + (name[0].lower() + name[1:] if name.lower().startswith("prov") else
                        f"provincie {name}")
    if t == "region":
        return "het " + name
    if t == "reference_group":
        return f"de {name} samen"
    return name


def rank_finding(c, ind: Indicator, row: pd.Series) -> Finding | None:
    members = _rows(c, ind.id)
    members = members[members["entity_type"].eq("municipality") & members["status"].eq("ok")]
    n = len(members)
    if n < 3 or not _ok(row["rank"]):
        return None
    rank = int(row["rank"])
    target = c.target.name
    val = fmt.value(row["value"], ind.unit)
    ordered = members.sort_values("value", ascending=False)
    others = ordered[ordered["entity"] != c.target.nis]
    group = f"de {c.group.label}"
    top, bottom = ordered.iloc[0], ordered.iloc[-1]
    ties = ordered[(ordered["value"] == row["value"]) & (ordered["entity"] != c.target.nis)]
    together = f" (samen met {', '.join(ties['name'])})" if len(ties) else ""
    if rank == 1:
        text = (f"{capital(subject(ind))} is het hoogst in {target}{together} in vergelijking "
                f"met {group} ({val}; daarna {others.iloc[0]['name']}: "
                f"{fmt.value(others.iloc[0]['value'], ind.unit)})")
        pos = "hoogst"
    elif rank == 2 and not len(ties):
        text = (f"{capital(subject(ind))} is na {top['name']} ({fmt.value(top['value'], ind.unit)})"
                f" het hoogst in {target} in vergelijking met {group} ({val})")
        pos = "tweede hoogst"
    elif row["value"] == bottom["value"]:
        nxt = others.iloc[-1] if others.iloc[-1]["value"] != row["value"] else others.iloc[-2]
        text = (f"{capital(subject(ind))} is het laagst in {target}{together} in vergelijking "
                f"met {group} ({val}; {nxt['name']}: {fmt.value(nxt['value'], ind.unit)})")
        pos = "laagst"
    elif rank == n - 1 and not len(ties):
        text = (f"{capital(subject(ind))} is na {bottom['name']} "
                f"({fmt.value(bottom['value'], ind.unit)}) het laagst in {target} in "
                f"vergelijking met {group} ({val})")
        pos = "tweede laagst"
    else:
        text = (f"Voor {subject(ind)} staat {target} op plaats {rank} van {n} van {group} "
                f"({val}; hoogste: {top['name']}, {fmt.value(top['value'], ind.unit)}; "
                f"laagste: {bottom['name']}, {fmt.value(bottom['value'], ind.unit)})")
        pos = "midden"
    text += f", {row['period']}."
    extreme = pos in ("hoogst", "laagst")
    high = pos in ("hoogst", "tweede hoogst")
    if ind.direction == "neutral" or pos == "midden":
        assessment = NEUTRAL
    else:
        assessment = BETTER if high == (ind.direction == "higher_better") else WORSE
    magnitude = (1.0 if extreme else 0.6 if pos != "midden" else 0.1) * (
        1.0 if assessment != NEUTRAL else 0.5)
    return Finding(ind.theme, ind.id, "rank", text, assessment, magnitude, row["period"],
                   source_label(row["source"]),
                   {"rank": rank, "rank_of": n, "value": float(row["value"])})


def benchmark_finding(c, ind: Indicator, row: pd.Series) -> Finding | None:
    if ind.unit == "count":
        return None  # a municipality's count is always smaller than its region's
    rows = _rows(c, ind.id)
    refs = rows[rows["role"].isin(["aggregate", "benchmark"]) & rows["status"].eq("ok")]
    if refs.empty:
        return None
    a = float(row["value"])
    words: dict[str, list[str]] = {}
    for _, r in refs.iterrows():
        w = _compare_word(a, float(r["value"]), ind.unit)
        shown = fmt.value(r["value"], ind.unit)
        words.setdefault(w, []).append(f"in {_entity_phrase(r)} ({shown})")
    parts = [f"{w} {_join(p)}" for w, p in words.items()]
    text = (f"In {c.target.name} is {subject(ind)} ({fmt.value(a, ind.unit)}, {row['period']}) "
            + _join(parts, last=" en ") + ".")
    # Assessment and size against the region, else the nearest benchmark available.
    ref = None
    for etype in ("region", "arrondissement", "province", "reference_group"):
        hit = refs[refs["entity_type"] == etype]
        if len(hit):
            ref = hit.iloc[0]
            break
    b = float(ref["value"])
    assessment = _assess(ind, a, b)
    magnitude = _relative(a, b, ind.unit) * (1.0 if assessment != NEUTRAL else 0.5)
    values = {r["entity"]: float(r["value"]) for _, r in refs.iterrows()}
    values[c.target.nis] = a
    return Finding(ind.theme, ind.id, "benchmark", text, assessment, magnitude, row["period"],
                   source_label(row["source"]), values)


def _join(items: list[str], last: str = " en ") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + last + items[-1]


def band_finding(c) -> Finding | None:
    """The most common income band and how its share compares with the arrondissement."""
    bands = [i for i in c.indicators if i.band]
    if not bands:
        return None
    best = None
    for ind in bands:
        rows = _rows(c, ind.id)
        t = rows[rows["role"] == "target"]
        if t.empty or t.iloc[0]["status"] != "ok":
            return None  # one unpublished band: the most common one is not known
        if best is None or t.iloc[0]["value"] > best[1]["value"]:
            best = (ind, t.iloc[0])
    ind, row = best
    rows = _rows(c, ind.id)
    arr = rows[rows["entity_type"].eq("arrondissement") & rows["status"].eq("ok")]
    text = (f"De aangiften met een netto belastbaar inkomen {ind.band} komen in {c.target.name} "
            f"het vaakst voor ({fmt.value(row['value'], 'percent')} van de aangiften, "
            f"{row['period']})")
    magnitude, values = 0.3, {"share": float(row["value"])}
    if len(arr):
        av = float(arr.iloc[0]["value"])
        word = _compare_word(float(row["value"]), av, "percent")
        text += (f"; procentueel is dit {word} in {_entity_phrase(arr.iloc[0])} "
                 f"({fmt.value(av, 'percent')})")
        magnitude += _relative(float(row["value"]), av, "percent")
        values["arrondissement"] = av
    return Finding(ind.theme, ind.id, "band", text + ".", NEUTRAL, magnitude, row["period"],
                   source_label(row["source"]), values)


def arrondissement_rank_finding(c, ind: Indicator, row: pd.Series) -> Finding | None:
    """Rank of the municipality's price within its arrondissement (all its municipalities)."""
    engine = c_engine(c)
    if engine is None:
        return None
    year = int(row["year"])
    rows = engine.rows_of(ind.id)
    sel = rows[(rows["year"] == year) & (rows["level"] == "municipality")]
    if sel.empty:
        return None
    version = sel["geo_version"].iloc[0]
    parents = engine.parents(c.target.nis, version)
    arr = parents.get("arrondissement")
    if not arr:
        return None
    codes = engine.members_of("arrondissement", arr, version)
    part = sel[sel["nis"].isin(codes) & sel["status"].eq("ok")].sort_values(
        "value", ascending=False)
    units = engine.units(c.target.nis, version)
    if len(units) != 1 or units[0] not in set(part["nis"]) or len(part) < 3:
        return None
    rank = int((part["value"] > float(row["value"])).sum()) + 1
    n = len(part)
    arr_name = engine.ds.name_of(arr, version)
    arr_phrase = _entity_phrase({"entity_type": "arrondissement", "name": arr_name})
    val = fmt.value(row["value"], "eur")
    top = part.iloc[0]
    if rank == 1:
        text = (f"{c.target.name} is de duurste gemeente van {arr_phrase} voor {ind.dwelling} "
                f"({val}, {year}).")
    elif rank == n:
        text = (f"{c.target.name} is de goedkoopste gemeente van {arr_phrase} voor "
                f"{ind.dwelling} ({val}, {year}).")
    else:
        text = (f"{c.target.name} is de {rank}e duurste van de {n} gemeenten van {arr_phrase} "
                f"met een gepubliceerde prijs voor {ind.dwelling} ({val}, {year}; duurste: "
                f"{engine.ds.name_of(top['nis'], version)}, {fmt.value(top['value'], 'eur')}).")
    magnitude = 0.8 if rank in (1, n) else 0.3 * (1 - min(rank, n - rank + 1) / n)
    return Finding(ind.theme, ind.id, "arrondissement_rank", text, NEUTRAL, magnitude,
                   str(year), source_label(row["source"]), {"rank": rank, "rank_of": n})


def c_engine(c):
    return getattr(c, "engine", None)


def trend_finding(c, ind: Indicator, row: pd.Series) -> Finding | None:
    h = c.target_history(ind.id)
    if len(h) < 3 or ind.method == "change":
        return None
    first, last = h.iloc[0], h.iloc[-1]
    if int(last["year"]) != int(row["year"]):
        return None
    a, b = float(first["value"]), float(last["value"])
    word = _compare_word(b, a, ind.unit)
    verb = {"hoger dan": "gestegen", "lager dan": "gedaald"}.get(word)
    if verb is None:
        text = (f"{capital(subject(ind))} in {c.target.name} is tussen {first['period']} en "
                f"{last['period']} ongeveer gelijk gebleven ({fmt.value(a, ind.unit)} → "
                f"{fmt.value(b, ind.unit)}).")
        assessment = NEUTRAL
    else:
        text = (f"{capital(subject(ind))} in {c.target.name} is {verb} van "
                f"{fmt.value(a, ind.unit)} in {first['period']} naar {fmt.value(b, ind.unit)} "
                f"in {last['period']}.")
        assessment = _assess(ind, b, a)
    return Finding(ind.theme, ind.id, "trend", text, assessment,
                   0.5 * _relative(b, a, ind.unit), str(last["period"]),
                   source_label(row["source"]), {"first": a, "last": b})


def unavailable_finding(c, ind: Indicator, row: pd.Series) -> Finding:
    why = {"suppressed": "niet gepubliceerd (geheim of te weinig waarnemingen)",
           "missing": "niet beschikbaar in de bron"}.get(row["status"], "niet beschikbaar")
    text = f"{capital(subject(ind))} van {c.target.name} is voor {row['period']} {why}."
    return Finding(ind.theme, ind.id, "unavailable", text, UNAVAILABLE, 0.0, row["period"],
                   source_label(row["source"]), {})


def make_findings(c) -> list[Finding]:
    """All findings of a comparison, grouped per theme, clearest differences first."""
    out: list[Finding] = []
    for ind in c.indicators:
        rows = _rows(c, ind.id)
        t = rows[rows["role"] == "target"]
        if t.empty:
            continue
        row = t.iloc[0]
        if row["status"] != "ok" or not _ok(row["value"]):
            out.append(unavailable_finding(c, ind, row))
            continue
        for maker in (rank_finding, benchmark_finding, trend_finding):
            f = maker(c, ind, row)
            if f is not None:
                out.append(f)
        if ind.dwelling:
            f = arrondissement_rank_finding(c, ind, row)
            if f is not None:
                out.append(f)
    band = band_finding(c)
    if band is not None:
        out.append(band)
    for f in out:
        f.werkgroep = c.catalogue.werkgroep(c.catalogue[f.indicator])
    weight = {BETTER: 0, WORSE: 0, NEUTRAL: 1, UNAVAILABLE: 2}
    theme_rank = {t: n for n, t in enumerate(c.catalogue.theme_order)}
    out.sort(key=lambda f: (theme_rank.get(f.theme, 9), weight[f.assessment], -f.magnitude))
    return out


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    return pd.DataFrame([f.as_dict() for f in findings]) if findings else pd.DataFrame(
        columns=["theme", "indicator", "kind", "text", "assessment", "magnitude", "period",
                 "source", "values", "werkgroep", "label", "kern"])


__all__ = ["Finding", "make_findings", "findings_frame", "np"]
