"""Kernvaststellingen: the few findings a steering group must see, chosen by a declared rule.

Per indicator at most one finding, which combines what matters about it — the municipality's
place in its reference group (and arrondissement), its distance to the benchmarks, its trend —
in one Dutch sentence. It becomes a candidate only when one of those parts is beyond the
precision of the figures and material (see ``catalogue/selection.toml`` for the rule and its
thresholds, :func:`method_markdown` for the rule in plain Dutch). Per workgroup (or
cross-cutting theme) the heaviest candidates are kept, one per family of near-duplicates, at
most ``per_section`` each and ``total`` in all.

>>> s = synthesise(c)          # or c.synthesis
>>> s.key                      # the kernvaststellingen, in report order
>>> s.section_items(section)   # a workgroup's key findings; s.note(section) when there are none
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lsbanalysis import fmt
from lsbanalysis.analysis.catalogue import CROSS_CUTTING, Catalogue, Indicator
from lsbanalysis.analysis.catalogue.selection import Selection, load_selection
from lsbanalysis.analysis.findings import (
    BETTER,
    NEUTRAL,
    WORSE,
    Finding,
    _entity_phrase,
    capital,
    source_label,
    subject,
)
from lsbanalysis.analysis.groups import arrondissement_phrase
from lsbanalysis.analysis.spread import RELATIVE_UNITS, change_of

STERKTE, WERKPUNT, AANDACHTSPUNT = "sterkte", "werkpunt", "aandachtspunt"
KIND = "synthese"
#: Benchmarks in the order a sentence names them.
BENCH_ORDER = ("reference_group", "region", "arrondissement", "province")
MAX_BENCHMARKS = 2
MAX_WORDS = 45  # a longer sentence is split in two


@dataclass(frozen=True)
class Section:
    """A block of the synthesis: a workgroup, or a cross-cutting theme."""

    id: str
    label: str
    werkgroep: str
    themes: tuple[str, ...]

    @property
    def heading(self) -> str:
        if self.werkgroep == CROSS_CUTTING:
            return f"{self.label} (transversaal thema)"
        return f"Werkgroep {self.label}"


def sections(catalogue: Catalogue) -> list[Section]:
    """Cross-cutting themes first, then the workgroups, in catalogue order."""
    themes = list(catalogue.themes.values())
    out = [Section(t.id, t.label, CROSS_CUTTING, (t.id,)) for t in themes
           if t.werkgroep == CROSS_CUTTING]
    for t in themes:
        if t.werkgroep != CROSS_CUTTING and t.werkgroep not in {s.id for s in out}:
            members = tuple(x.id for x in themes if x.werkgroep == t.werkgroep)
            out.append(Section(t.werkgroep, capital(t.werkgroep), t.werkgroep, members))
    return out


def section_of(catalogue: Catalogue, ind: Indicator) -> str:
    """The section an indicator's findings belong to (its workgroup, or its cross-cutting
    theme)."""
    werkgroep = catalogue.werkgroep(ind)
    return ind.theme if werkgroep == CROSS_CUTTING else werkgroep


@dataclass
class Part:
    """One material aspect of an indicator: rank, arrondissement, benchmark, trend, reversal."""

    kind: str
    weight: float
    favourable: bool | None  # None: the indicator has no normative direction
    data: dict = field(default_factory=dict)


def _ok(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _nz(x: float) -> float:
    """A standard error that is not known counts as no chance."""
    return x if _ok(x) else 0.0


class Precision:
    """Precision of the figures of one comparison: rounding, derived denominators, chance."""

    def __init__(self, c, rule: Selection) -> None:
        self.c = c
        self.rule = rule
        self.engine = c.engine
        self.spread = c.engine.spread
        self.target = c.target

        self._chance: dict[tuple, tuple[float, float]] = {}
        self._region: dict[str, dict[int, float]] | None = None

    def version(self, ind: Indicator, year: int) -> str | None:
        return self.spread.version(ind.id, year)

    def chance(self, ind: Indicator, year: int, nis: str) -> tuple[float, float]:
        """Standard error (0 when unknown) and number of cases (NaN when unknown)."""
        key = (ind.id, int(year), nis)
        if key not in self._chance:
            version = self.version(ind, year)
            if version is None:
                self._chance[key] = (0.0, math.nan)
            else:
                se, cases = self.spread.se(ind.id, year, version,
                                           self.engine.units(nis, version))
                self._chance[key] = (_nz(se), cases)
        return self._chance[key]

    def region_values(self) -> dict[str, dict[int, float]]:
        """The Flemish Region's published values: indicator -> year -> value (one pass)."""
        if self._region is None:
            h = self.c.history
            r = h[(h["entity_type"] == "region") & h["status"].eq("ok")]
            self._region = {}
            for iid, y, v in zip(r["indicator"], r["year"].astype(int),
                                 r["value"].astype(float), strict=True):
                self._region.setdefault(iid, {})[y] = v
        return self._region

    def se(self, ind: Indicator, year: int, nis: str) -> float:
        return self.chance(ind, year, nis)[0]

    def too_few(self, ind: Indicator, year: int) -> bool:
        """Does the target's value rest on fewer cases than the rule allows?"""
        cases = self.chance(ind, year, self.target.nis)[1]
        return _ok(cases) and cases < self.rule.min_cases

    def margin(self, ind: Indicator, *ses: float, derived: bool = False) -> float:
        """Smallest difference beyond rounding (+ derived denominators) and chance."""
        noise = self.rule.z * math.sqrt(sum(_nz(s) ** 2 for s in ses))
        extra = self.rule.derived if derived and ind.aggregation == "derived_ratio" else 0.0
        return self.rule.resolution_of(ind) + extra + noise


def _favourable(ind: Indicator, higher: bool) -> bool | None:
    if ind.direction == "neutral":
        return None
    return higher == (ind.direction == "higher_better")


def _extreme(ctx: Precision, ind: Indicator, value: float, se_t: float, pool: pd.DataFrame,
             name_col: str) -> dict | None:
    """Is the target the highest or lowest of ``pool`` (columns value, nis, se, name), by more
    than the precision margin? Returns position, runner-up and pool size."""
    others = pool[pool["nis"] != ctx.target.nis]
    if len(pool) < ctx.rule.min_group or others.empty:
        return None
    for pos, nxt in (("hoogst", others.loc[others["value"].idxmax()]),
                     ("laagst", others.loc[others["value"].idxmin()])):
        gap = value - nxt["value"] if pos == "hoogst" else nxt["value"] - value
        if gap > ctx.margin(ind, se_t, nxt["se"]):
            return {"pos": pos, "next": nxt[name_col], "next_value": float(nxt["value"]),
                    "n": len(pool)}
    return None


def _rank_part(ctx: Precision, ind: Indicator, t: pd.Series, se_t: float) -> Part | None:
    rows = ctx.c.rows(ind.id)
    members = rows[rows["entity_type"].eq("municipality") & rows["status"].eq("ok")]
    pool = pd.DataFrame({"nis": members["entity"], "value": members["value"].astype(float),
                         "name": members["name"]})
    pool["se"] = [ctx.se(ind, int(t["year"]), n) for n in pool["nis"]]
    found = _extreme(ctx, ind, float(t["value"]), se_t, pool, "name")
    if found is None:
        return None
    found["complete"] = len(pool) >= len(ctx.c.group)
    return Part("rank", ctx.rule.extreme_weight, _favourable(ind, found["pos"] == "hoogst"),
                found)


def _arrondissement_part(ctx: Precision, ind: Indicator, t: pd.Series, se_t: float
                         ) -> Part | None:
    if ctx.c.group.id == "arrondissement":
        return None  # the group itself
    year = int(t["year"])
    version = ctx.version(ind, year)
    units = ctx.engine.units(ctx.target.nis, version) if version else []
    if len(units) != 1:
        return None
    arr = ctx.engine.parents(ctx.target.nis, version).get("arrondissement")
    m = ctx.spread.municipal(ind.id, year)
    pool = m[m["arrondissement"] == arr]
    if units[0] not in set(pool["nis"]):
        return None
    group_codes = set(ctx.c.group.codes)
    if group_codes >= set(pool["nis"]):
        return None  # the arrondissement adds nothing to the group
    pool = pool.assign(name=[ctx.engine.ds.name_of(n, version) for n in pool["nis"]])
    pool = pool.assign(nis=[ctx.target.nis if n == units[0] else n for n in pool["nis"]])
    found = _extreme(ctx, ind, float(t["value"]), se_t, pool, "name")
    if found is None:
        return None
    found["arrondissement"] = arrondissement_phrase(ctx.engine.ds.name_of(arr, version))
    found["complete"] = len(pool) >= len(ctx.engine.members_of("arrondissement", arr, version))
    found["covers_group"] = group_codes <= set(pool["nis"])
    return Part("arrondissement", ctx.rule.extreme_weight,
                _favourable(ind, found["pos"] == "hoogst"), found)


def _benchmark_parts(ctx: Precision, ind: Indicator, t: pd.Series, se_t: float,
                     sd: float) -> list[Part]:
    if not _ok(sd) or sd <= 0:
        return []
    rows = ctx.c.rows(ind.id)
    refs = rows[rows["role"].isin(["aggregate", "benchmark"]) & rows["status"].eq("ok")]
    out = []
    value = float(t["value"])
    for _, r in refs.iterrows():
        diff = value - float(r["value"])
        if abs(diff) <= ctx.margin(ind, se_t, derived=True):
            continue
        z = abs(diff) / sd
        if z >= ctx.rule.benchmark_z:
            out.append(Part("benchmark", z, _favourable(ind, diff > 0), {
                "entity_type": r["entity_type"], "phrase": _entity_phrase(r),
                "value": float(r["value"]), "higher": diff > 0, "z": z}))
    out.sort(key=lambda p: BENCH_ORDER.index(p.data["entity_type"]))
    return out


def _window(ctx: Precision, ind: Indicator, year: int) -> pd.DataFrame | None:
    h = ctx.c.target_history(ind.id)
    h = h[(h["year"] >= year - ctx.rule.trend_years) & (h["year"] <= year)]
    if len(h) < ctx.rule.trend_min_points or year - int(h["year"].iloc[0]) < \
            ctx.rule.trend_min_span or int(h["year"].iloc[-1]) != year:
        return None
    return h


def _region_pair(ctx: Precision, ind: Indicator, y0: int, y1: int) -> tuple[float, float] | None:
    vals = ctx.region_values().get(ind.id, {})
    return (vals[y0], vals[y1]) if y0 in vals and y1 in vals else None


def _trend_part(ctx: Precision, ind: Indicator, h: pd.DataFrame) -> Part | None:
    y0, y1 = int(h["year"].iloc[0]), int(h["year"].iloc[-1])
    a, b = float(h["value"].iloc[0]), float(h["value"].iloc[-1])
    if ctx.too_few(ind, y0):
        return None
    med, sd, _ = ctx.spread.change(ind.id, y0, y1)
    if not _ok(sd) or sd <= 0:
        return None
    delta = float(change_of(a, b, ind.unit))
    region = _region_pair(ctx, ind, y0, y1)
    ref = float(change_of(*region, ind.unit)) if region else med
    se0, se1 = ctx.se(ind, y0, ctx.target.nis), ctx.se(ind, y1, ctx.target.nis)
    margin = ctx.margin(ind, se0, se1)
    if ind.unit in RELATIVE_UNITS:  # in percent of the starting value
        margin = 100 * margin / abs(a) if a else math.inf
    diff = delta - ref
    z = abs(diff) / sd
    if abs(diff) <= margin or z < ctx.rule.trend_z:
        return None
    return Part("trend", z, _favourable(ind, diff > 0), {
        "y0": y0, "y1": y1, "a": a, "b": b, "delta": delta, "ref": ref, "region": region,
        "moved": abs(delta) > margin, "ref_moved": abs(ref) > margin})


def _reversal_part(ctx: Precision, ind: Indicator, h: pd.DataFrame, sd: float,
                   se_t: float) -> Part | None:
    """A turn: the series rose (fell) to an interior peak (trough) and then moved back, and
    that last move differs clearly from how the Flemish municipalities moved in those years."""
    if not _ok(sd) or sd <= 0 or len(h) < 3:
        return None
    years, vals = h["year"].astype(int).to_numpy(), h["value"].astype(float).to_numpy()
    margin = ctx.margin(ind, se_t, se_t)
    best = None
    for k in {int(np.argmax(vals[1:-1])) + 1, int(np.argmin(vals[1:-1])) + 1}:
        if ctx.too_few(ind, int(years[0])) or ctx.too_few(ind, int(years[k])):
            continue
        leg1, leg2 = vals[k] - vals[0], vals[-1] - vals[k]
        if leg1 * leg2 >= 0 or min(abs(leg1), abs(leg2)) <= margin:
            continue
        yk, y1 = int(years[k]), int(years[-1])
        med, sd_change, _ = ctx.spread.change(ind.id, yk, y1)
        if not _ok(sd_change) or sd_change <= 0:
            continue
        delta = float(change_of(vals[k], vals[-1], ind.unit))
        region = _region_pair(ctx, ind, yk, y1)
        ref = float(change_of(*region, ind.unit)) if region else med
        step = margin if ind.unit not in RELATIVE_UNITS else 100 * margin / abs(vals[k])
        z = abs(delta - ref) / sd_change
        if abs(delta - ref) <= step or z < ctx.rule.trend_z or min(
                abs(leg1), abs(leg2)) / sd < ctx.rule.reversal_z:
            continue
        if best is None or z > best.weight:
            best = Part("reversal", z, _favourable(ind, delta - ref > 0), {
                "y0": int(years[0]), "a": float(vals[0]), "yk": yk, "vk": float(vals[k]),
                "y1": y1, "b": float(vals[-1]), "rising": leg2 > 0, "delta": delta,
                "ref": ref, "region": region, "moved": True, "ref_moved": abs(ref) > step})
    return best


# -- sentences -----------------------------------------------------------------------------


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " en " + items[-1]


def _bench_phrase(chosen: list[Part], unit: str) -> str:
    """'duidelijk lager dan in het arrondissement Turnhout (5,9 %) en het Vlaams Gewest (…)'."""
    groups: dict[bool, list[str]] = {}
    for p in chosen:
        groups.setdefault(p.data["higher"], []).append(
            f"{p.data['phrase']} ({fmt.value(p.data['value'], unit)})")
    phrases = [f"{'hoger' if higher else 'lager'} dan in {_join(items)}"
               for higher, items in groups.items()]
    return "duidelijk " + " maar ".join(phrases)


def _level_sentence(ctx: Precision, ind: Indicator, t: pd.Series, rank: Part | None,
                    arr: Part | None, bench: list[Part]) -> str:
    """'In 2022 is … het hoogst van … (…; daarna …) en duidelijk hoger dan in …' (the
    benchmarks given are all named)."""
    name, year, unit = ctx.target.name, t["period"], ind.unit
    value = fmt.value(t["value"], unit)
    extreme = arr or rank
    if extreme is not None:
        d = extreme.data
        published = "" if d["complete"] else " met een gepubliceerde waarde"
        if arr is not None:
            scope = f"de {d['n']} gemeenten van het {d['arrondissement']}{published}"
            if rank is not None and not arr.data.get("covers_group", True):
                scope = f"de {ctx.c.group.label} en van {scope}"
        elif published:
            scope = f"de {d['n']} {ctx.c.group.label}{published}"
        else:
            scope = f"de {ctx.c.group.label}"
        text = (f"In {year} is {subject(ind)} in {name} het {d['pos']} van {scope} ({value}; "
                f"daarna {d['next']}: {fmt.value(d['next_value'], unit)})")
        if bench:
            text += " en " + _bench_phrase(bench, unit)
        return text + "."
    return (f"In {year} ligt {subject(ind)} in {name} ({value}) "
            f"{_bench_phrase(bench, unit)}.")


def _pct(x: float) -> str:
    return f"{'+' if x >= 0 else '-'}{fmt.number(abs(x), 1)} %"


def _change_words(ind: Indicator, d: dict, where: str) -> str:
    """'is in Herenthout gestegen van 4,7 % in 2014 naar 10,4 % in 2024' and variants."""
    a, b = fmt.value(d["a"], ind.unit), fmt.value(d["b"], ind.unit)
    if not d["moved"]:
        return f"bleef{where} ongeveer gelijk ({a} in {d['y0']}, {b} in {d['y1']})"
    verb = "gestegen" if d["delta"] > 0 else "gedaald"
    if ind.unit in RELATIVE_UNITS:
        return (f"is{where} tussen {d['y0']} en {d['y1']} met {fmt.number(abs(d['delta']), 1)} "
                f"% {verb} (van {a} naar {b})")
    return f"is{where} {verb} van {a} in {d['y0']} naar {b} in {d['y1']}"


def _reference_words(ind: Indicator, d: dict) -> str:
    """', sterker dan in het Vlaams Gewest (van … naar …)' and variants."""
    region = d["region"]
    if region:
        where = "het Vlaams Gewest"
        shown = (_pct(d["ref"]) if ind.unit in RELATIVE_UNITS else
                 f"van {fmt.value(region[0], ind.unit)} naar {fmt.value(region[1], ind.unit)}")
    else:
        where = "de meeste Vlaamse gemeenten"
        shown = "mediaan: " + (_pct(d["ref"]) if ind.unit in RELATIVE_UNITS else
                               fmt.difference(d["ref"], ind.unit))
    if not d["ref_moved"]:
        return f", terwijl het cijfer in {where} ongeveer gelijk bleef ({shown})"
    if not d["moved"] or (d["delta"] > 0) != (d["ref"] > 0):
        verb = "kende" if region else "kenden"
        what = "een stijging" if d["ref"] > 0 else "een daling"
        return f", terwijl {where} {what} {verb} ({shown})"
    stronger = abs(d["delta"]) > abs(d["ref"])
    return f", {'sterker' if stronger else 'minder sterk'} dan in {where} ({shown})"


def _trend_clause(ind: Indicator, part: Part) -> str:
    """The trend as a clause after the level: 'sinds 2015 (37,2 %) sterker gedaald dan in het
    Vlaams Gewest (van 37,1 % naar 27,1 %)'."""
    d = part.data
    if part.kind == "reversal":
        first = "een daling" if d["rising"] else "een stijging"
        again = "gestegen" if d["rising"] else "gedaald"
        return (f"na {first} tot {fmt.value(d['vk'], ind.unit)} in {d['yk']} opnieuw {again}"
                + _reference_words(ind, {**d, "y0": d["yk"]}))
    verb = "gestegen" if d["delta"] > 0 else "gedaald"
    relative = ind.unit in RELATIVE_UNITS
    start = f"sinds {d['y0']}" + ("" if relative else f" ({fmt.value(d['a'], ind.unit)})")
    if d["moved"] and d["ref_moved"] and (d["delta"] > 0) == (d["ref"] > 0):
        stronger = "sterker" if abs(d["delta"]) > abs(d["ref"]) else "minder sterk"
        ref = _reference_words(ind, d).split("(", 1)[1]  # '(van … naar …)' / '(+31,0 %)'
        where = "het Vlaams Gewest" if d["region"] else "de meeste Vlaamse gemeenten"
        if relative:
            return (f"{start} met {fmt.number(abs(d['delta']), 1)} % {verb}, {stronger} dan "
                    f"in {where} ({ref}")
        return f"{start} {stronger} {verb} dan in {where} ({ref}"
    if not d["moved"]:
        return f"{start} ongeveer gelijk gebleven" + _reference_words(ind, d)
    if relative:
        return f"{start} met {fmt.number(abs(d['delta']), 1)} % {verb}" + _reference_words(ind, d)
    return f"{start} {verb}" + _reference_words(ind, d)


def _words(text: str) -> int:
    return len(text.split())


def _trend_sentence(ctx: Precision, ind: Indicator, part: Part, after_level: bool) -> str:
    d = part.data
    where = "" if after_level else f" in {ctx.target.name}"
    if part.kind == "reversal":
        first = "een daling" if d["rising"] else "een stijging"
        again = "gestegen" if d["rising"] else "gedaald"
        start = f"van {fmt.value(d['a'], ind.unit)} in {d['y0']} "
        words = (f"is{where} na {first} {start}tot "
                 f"{fmt.value(d['vk'], ind.unit)} in {d['yk']} opnieuw {again} tot "
                 f"{fmt.value(d['b'], ind.unit)} in {d['y1']}"
                 + _reference_words(ind, {**d, "y0": d["yk"]}))
        if _words(words) + 3 > MAX_WORDS:  # too long: without the starting point
            words = words.replace(start, "", 1)
    else:
        words = _change_words(ind, d, where) + _reference_words(ind, d)
    return f"{'Dat cijfer' if after_level else capital(subject(ind))} {words}."


def _label(parts: list[Part]) -> str:
    marks = {p.favourable for p in parts}
    if marks == {True}:
        return STERKTE
    if marks == {False}:
        return WERKPUNT
    return AANDACHTSPUNT


def candidate(ctx: Precision, ind: Indicator) -> Finding | None:
    """The combined finding of one indicator, or None when nothing about it is material."""
    rows = ctx.c.rows(ind.id)
    t = rows[rows["role"] == "target"]
    if t.empty or t.iloc[0]["status"] != "ok" or not _ok(t.iloc[0]["value"]):
        return None
    t = t.iloc[0]
    year = int(t["year"])
    if ctx.too_few(ind, year):
        return None
    se_t = ctx.se(ind, year, ctx.target.nis)
    sd = ctx.spread.spread(ind.id, year)
    rank = _rank_part(ctx, ind, t, se_t)
    arr = _arrondissement_part(ctx, ind, t, se_t)
    bench = _benchmark_parts(ctx, ind, t, se_t, sd)
    trend = None
    if ind.method != "change":
        h = _window(ctx, ind, year)
        if h is not None:
            trends = [p for p in (_trend_part(ctx, ind, h),
                                  _reversal_part(ctx, ind, h, sd, se_t)) if p is not None]
            trend = max(trends, key=lambda p: p.weight) if trends else None
    parts = [p for p in (rank, arr, *bench, trend) if p is not None]
    if not parts:
        return None
    level = rank is not None or arr is not None or bool(bench)
    # One sentence: the level (rank, benchmarks) and the trend as a clause. The first material
    # benchmarks in BENCH_ORDER are named (group, region, arrondissement, province): two when
    # there is nothing else, else one, none when the sentence would be too long. Two sentences
    # only when one would be too long. Label and weight rest on what the text states.
    limit = 1 if (trend is not None or rank or arr) else MAX_BENCHMARKS
    shown = bench[:limit]
    if (rank or arr) and shown and _words(_level_sentence(ctx, ind, t, rank, arr, shown)) > \
            MAX_WORDS:
        shown = []
    if level and trend is not None:
        one = (_level_sentence(ctx, ind, t, rank, arr, shown)[:-1] + "; "
               + _trend_clause(ind, trend) + ".")
        sentences = [one] if _words(one) <= MAX_WORDS else [
            _level_sentence(ctx, ind, t, rank, arr, shown),
            _trend_sentence(ctx, ind, trend, after_level=True)]
    elif level:
        sentences = [_level_sentence(ctx, ind, t, rank, arr, shown)]
    else:
        sentences = [_trend_sentence(ctx, ind, trend, after_level=False)]
    parts = [p for p in (rank, arr, *shown, trend) if p is not None]  # what the text states
    if not parts:  # only benchmarks, none of which fit: keep the first
        shown = bench[:1]
        parts = shown
        sentences = [_level_sentence(ctx, ind, t, None, None, shown)]
    label = _label(parts)
    assessment = {STERKTE: BETTER, WERKPUNT: WORSE}.get(label, NEUTRAL)
    values = {"waarde": float(t["value"]), "jaar": year}
    for p in parts:
        if p.kind in ("rank", "arrondissement"):
            values[f"{p.kind}_volgende"] = p.data["next_value"]
            values[f"{p.kind}_n"] = p.data["n"]
        elif p.kind == "benchmark":
            values[p.data["entity_type"]] = p.data["value"]
        else:
            values.update({f"trend_{k}": v for k, v in p.data.items()
                           if k in ("y0", "a", "yk", "vk", "b", "delta", "ref")})
    weight = max(p.weight for p in parts)
    if ind.direction == "neutral":
        weight *= ctx.rule.neutral_weight
    return Finding(
        theme=ind.theme, indicator=ind.id, kind=KIND, text=" ".join(sentences),
        assessment=assessment, magnitude=round(weight, 3), period=str(t["period"]),
        source=source_label(t["source"]), values=values,
        werkgroep=ctx.c.catalogue.werkgroep(ind), label=label,
    )


# -- selection -----------------------------------------------------------------------------


@dataclass
class Synthesis:
    """The kernvaststellingen of a comparison, per section, and what else is material."""

    sections: list[Section]
    key: list[Finding]  # selected, in report order
    more: list[Finding]  # material but not selected (cap), heaviest first
    collapsed: list[Finding]  # near-duplicates of a selected or heavier family member
    section_of: dict[str, str]  # indicator -> section id
    has_data: dict[str, bool]  # section id -> does the municipality have data for it?
    target: str
    group: str
    catalogued: frozenset[str] = frozenset()  # sections with an indicator in the catalogue

    def section_items(self, section: Section | str) -> list[Finding]:
        sid = section if isinstance(section, str) else section.id
        return [f for f in self.key if self.section_of[f.indicator] == sid]

    def theme_items(self, theme: str) -> tuple[list[Finding], list[Finding]]:
        """A chapter's key findings and its further material ones."""
        return ([f for f in self.key if f.theme == theme],
                [f for f in self.more if f.theme == theme])

    def note(self, section: Section | str) -> str | None:
        """Why a section has no key finding (no data; nothing clearly apart), else None."""
        sec = section if isinstance(section, Section) else next(
            s for s in self.sections if s.id == section)
        if self.section_items(sec):
            return None
        what = "dit thema" if sec.werkgroep == CROSS_CUTTING else "deze werkgroep"
        if not self.has_data.get(sec.id):
            if sec.id in self.catalogued:
                return f"Geen gegevens per gemeente voor {what} in deze vergelijking."
            return (f"Geen gegevens per gemeente: de gebruikte bronnen bevatten nog geen "
                    f"indicator voor {what}.")
        return (f"Geen kernvaststelling: {self.target} wijkt voor {what} op geen enkele "
                f"indicator duidelijk af van de {self.group} en de benchmarks.")

    @property
    def all(self) -> list[Finding]:
        """Every material candidate (key first), for exports."""
        return [*self.key, *self.more, *self.collapsed]


def synthesise(c, rule: Selection | None = None) -> Synthesis:
    """Select the kernvaststellingen of a comparison (see the module docstring)."""
    rule = rule or load_selection()
    cat = c.catalogue
    ctx = Precision(c, rule)
    secs = sections(cat)
    where = {ind.id: section_of(cat, ind) for ind in cat}
    has_data = {s.id: False for s in secs}
    order = {ind.id: k for k, ind in enumerate(cat)}
    candidates: list[Finding] = []
    for ind in c.indicators:
        t = c.rows(ind.id)
        t = t[t["role"] == "target"]
        if len(t) and t.iloc[0]["status"] == "ok":
            has_data[where[ind.id]] = True
        if rule.excluded(ind):
            continue
        f = candidate(ctx, ind)
        if f is not None:
            candidates.append(f)

    def heavier(f: Finding):
        return (-f.magnitude, order[f.indicator])

    # One per family: the first listed member with a candidate.
    kept, collapsed = [], []
    for f in candidates:
        fam = rule.family_of(f.indicator)
        if fam is not None and any(g.indicator in rule.families[fam][
                : rule.families[fam].index(f.indicator)] for g in candidates):
            collapsed.append(f)
        else:
            kept.append(f)
    kept.sort(key=heavier)
    # Per section the heaviest, up to per_section.
    chosen, more = [], []
    for sec in secs:
        items = [f for f in kept if where[f.indicator] == sec.id]
        chosen += items[: rule.per_section]
        more += items[rule.per_section:]
    # Over the total: drop the lightest, but never a section's last one.
    while len(chosen) > rule.total:
        counts: dict[str, int] = {}
        for f in chosen:
            counts[where[f.indicator]] = counts.get(where[f.indicator], 0) + 1
        droppable = [f for f in chosen if counts[where[f.indicator]] > 1]
        lightest = max(droppable, key=heavier)
        chosen.remove(lightest)
        more.append(lightest)
    sec_rank = {s.id: k for k, s in enumerate(secs)}
    chosen.sort(key=lambda f: (sec_rank[where[f.indicator]], *heavier(f)))
    for f in chosen:
        f.kern = True
    more.sort(key=heavier)
    return Synthesis(sections=secs, key=chosen, more=more, collapsed=collapsed,
                     section_of=where, has_data=has_data, target=c.target.name,
                     group=c.group.label, catalogued=frozenset(where.values()))


def method_markdown(catalogue: Catalogue, rule: Selection | None = None) -> str:
    """The selection rule in plain Dutch, with the thresholds of ``selection.toml``."""
    r = rule or load_selection()

    def num(x: float) -> str:
        return fmt.number(x, 0) if float(x).is_integer() else fmt.number(x, 2).rstrip("0")

    families = "\n".join(
        "- " + "; ".join(catalogue[i].short for i in members)
        for members in r.families.values())
    return f"""\
Elke indicator levert hoogstens één **kernvaststelling** op. Die brengt samen wat ertoe doet:
de plaats van de gemeente in haar referentiegroep, het verschil met de benchmarks
(referentiegroep samen, arrondissement, provincie, Vlaams Gewest) en de evolutie. Een
indicator komt alleen in aanmerking als minstens één van die elementen aan twee voorwaarden
voldoet.

1. **Groter dan de nauwkeurigheid van de cijfers.** Het verschil moet groter zijn dan wat
   afronding en toeval kunnen verklaren. Afronding: de gepubliceerde cijfers zijn afgerond (op
   {num(r.resolution["percent"])} procentpunt voor percentages, {num(r.resolution["eur"])} euro
   voor bedragen); groeps- en benchmarkwaarden van de VDAB-graden hebben afgeleide noemers en
   zijn nog eens {num(r.derived)} procentpunt onzeker. Toeval: een cijfer van een kleine
   gemeente steunt op weinig gevallen (werkzoekenden, aangiften, verkopen). We rekenen met een
   marge van {num(r.z)} standaardfouten (95 %), berekend uit het aantal gevallen; voor
   mediaanprijzen ook uit de spreiding van de prijzen. Een cijfer dat op minder dan
   {r.min_cases} gevallen steunt, levert nooit een kernvaststelling op. Voor de graden per
   leeftijd en geslacht publiceert VDAB geen aantallen; daar rekenen we met alle werkzoekenden
   samen, zodat de marge eerder te klein dan te groot is.
2. **Betekenisvol.** Minstens één van deze drie:
   - de gemeente is de **hoogste of laagste** van haar referentiegroep of van haar
     arrondissement;
   - ze ligt **duidelijk naast een benchmark**: het verschil is minstens {num(r.benchmark_z)}
     keer de gewone spreiding tussen de Vlaamse gemeenten. Die spreiding is de breedte van de
     middelste helft van alle Vlaamse gemeenten, gedeeld door 1,35 (zo is ze vergelijkbaar met
     een standaardafwijking, maar ongevoelig voor enkele uitschieters);
   - ze **evolueert duidelijk anders** dan Vlaanderen: over (hoogstens) de laatste
     {r.trend_years} jaar met gegevens, minstens {r.trend_min_span} jaar en
     {r.trend_min_points} meetpunten, wijkt haar verandering minstens {num(r.trend_z)} keer de
     spreiding van de veranderingen van de Vlaamse gemeenten af van die van het Vlaams Gewest
     (of, zonder gewestcijfer, van de meeste gemeenten); of er is een **ommekeer** (een daling
     gevolgd door een stijging of omgekeerd, elk minstens {num(r.reversal_z)} keer de
     spreiding) die anders verloopt dan in Vlaanderen.

**Keuze.** Het gewicht van een kernvaststelling is haar grootste verschil uitgedrukt in die
spreiding; de hoogste of laagste plaats telt als {num(r.extreme_weight)}. Indicatoren zonder
richting (zoals het aandeel 65-plussers) tellen voor {num(r.neutral_weight * 100)} %. Per
werkgroep en per transversaal thema kiezen we de zwaarste, hoogstens {r.per_section}, in het
hele rapport hoogstens {r.total}. Aantallen (inwoners, werkzoekenden, verkopen) beschrijven de
grootte van de gemeente: het zijn kerncijfers, geen kernvaststellingen. Van bijna gelijke
indicatoren komt er maar één in de selectie: de eerste van de lijst die iets opvallends toont:

{families}

**Sterkte, werkpunt, aandachtspunt.** Een *sterkte* is gunstig in elk opvallend element,
volgens de richting van de indicator (een lagere werkzoekendengraad is gunstig); een *werkpunt*
is in elk element ongunstig; een *aandachtspunt* heeft geen richting of gemengde signalen. Bij
een evolutie telt of ze gunstiger of ongunstiger is dan in Vlaanderen. Het oordeel is een
vertrekpunt voor de werkgroepen, geen eindoordeel.
"""
