"""Toets van het vorige plan: does what the previous plan established still hold today?

The previous plan's quantitative findings are declared per municipality in
``catalogue/previous_plans/*.toml`` (schema: the README there), each mapped to an indicator, a
reference group and one or more testable claims. :func:`toets` evaluates every claim on the
latest year with data (and on every earlier year, to say when it last held):

- ``rang``: the municipality's place in the group (k-th highest or lowest, optionally behind
  named municipalities);
- ``vergelijking``: higher or lower than a benchmark, by more than the precision of the figures
  (the same margin as the kernvaststellingen: rounding, derived denominators, chance);
- ``meest_voorkomend``: the indicator is the largest of a list (e.g. the most frequent band).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

from lsbanalysis import fmt
from lsbanalysis.analysis.catalogue import HERE, load_catalogue
from lsbanalysis.analysis.catalogue.selection import load_selection
from lsbanalysis.analysis.compare import YearError
from lsbanalysis.analysis.findings import _entity_phrase, subject
from lsbanalysis.errors import LsbError

PLANS_DIR = HERE / "previous_plans"
JA, NEE, NIET_TOETSBAAR = "ja", "nee", "niet toetsbaar"
KINDS = ("rang", "vergelijking", "meest_voorkomend")
BENCHMARKS = {"referentiegroep": "reference_group", "arrondissement": "arrondissement",
              "provincie": "province", "gewest": "region"}
CSV_COLUMNS = ["id", "vaststelling", "letterlijk", "indicator", "referentie", "bewering",
               "waarde_nu", "jaar_nu", "nu", "geldt_nog", "gold_in", "toelichting"]
_ID = re.compile(r"[a-z0-9_]+")


class PreviousPlanError(LsbError):
    """A previous-plan file that does not follow the schema (names file, finding, field)."""


@dataclass(frozen=True)
class Claim:
    kind: str
    indicator: str
    referentie: str
    plaats: int | None = None
    van: str = "hoogste"
    na: tuple[str, ...] = ()
    richting: str | None = None
    benchmark: str | None = None
    uit: tuple[str, ...] = ()


@dataclass(frozen=True)
class Statement:
    id: str
    toen: str
    indicator: str
    referentie: str
    interpretatie: str
    claims: tuple[Claim, ...]
    letterlijk: bool = True
    ook: tuple[str, ...] = ()


@dataclass(frozen=True)
class PreviousPlan:
    nis: str
    gemeente: str
    plan: str
    statements: tuple[Statement, ...]
    path: Path


def _parse(path: Path) -> PreviousPlan:
    cat = load_catalogue()
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise PreviousPlanError(f"{path.name}: geen geldige TOML ({exc}).") from None

    def need(entry: dict, key: str, where: str, kind=str):
        if key not in entry:
            raise PreviousPlanError(f"{path.name}: {where}: veld {key!r} ontbreekt.")
        if not isinstance(entry[key], kind):
            raise PreviousPlanError(f"{path.name}: {where}: veld {key!r} moet een "
                                    f"{ {str: 'tekst', int: 'geheel getal', list: 'lijst'}[kind]}"
                                    " zijn.")
        return entry[key]

    def indicator(value: str, where: str) -> str:
        if value not in cat.indicators:
            raise PreviousPlanError(f"{path.name}: {where}: onbekende indicator {value!r}.")
        return value

    nis = need(raw, "nis", "kop")
    statements = []
    for n, entry in enumerate(raw.get("vaststelling", []), start=1):
        sid = entry.get("id", f"nr. {n}")
        where = f"vaststelling {sid}"
        if not _ID.fullmatch(str(sid)):
            raise PreviousPlanError(f"{path.name}: {where}: id gebruikt alleen a-z, 0-9 en _.")
        ind = indicator(need(entry, "indicator", where), where)
        ref = need(entry, "referentie", where)
        claims = []
        for k, c in enumerate(need(entry, "bewering", where, list), start=1):
            cw = f"{where}, bewering {k}"
            kind = need(c, "soort", cw)
            if kind not in KINDS:
                raise PreviousPlanError(f"{path.name}: {cw}: soort moet een van {KINDS} zijn.")
            claim = Claim(kind=kind, indicator=indicator(c.get("indicator", ind), cw),
                          referentie=c.get("referentie", ref))
            if kind == "rang":
                van = c.get("van", "hoogste")
                if van not in ("hoogste", "laagste"):
                    raise PreviousPlanError(f"{path.name}: {cw}: van moet 'hoogste' of "
                                            "'laagste' zijn.")
                claim = Claim(**{**claim.__dict__, "plaats": need(c, "plaats", cw, int),
                                 "van": van, "na": tuple(c.get("na", ()))})
            elif kind == "vergelijking":
                richting, bench = need(c, "richting", cw), need(c, "benchmark", cw)
                if richting not in ("hoger", "lager") or bench not in BENCHMARKS:
                    raise PreviousPlanError(
                        f"{path.name}: {cw}: richting is 'hoger' of 'lager', benchmark een van "
                        f"{tuple(BENCHMARKS)}.")
                claim = Claim(**{**claim.__dict__, "richting": richting, "benchmark": bench})
            else:
                uit = tuple(indicator(i, cw) for i in need(c, "uit", cw, list))
                if claim.indicator not in uit:
                    raise PreviousPlanError(f"{path.name}: {cw}: de indicator moet in 'uit' "
                                            "staan.")
                claim = Claim(**{**claim.__dict__, "uit": uit})
            claims.append(claim)
        if not claims:
            raise PreviousPlanError(f"{path.name}: {where}: geen enkele bewering.")
        statements.append(Statement(
            id=str(sid), toen=need(entry, "toen", where), indicator=ind, referentie=ref,
            interpretatie=" ".join(str(entry.get("interpretatie", "")).split()),
            claims=tuple(claims), letterlijk=bool(entry.get("letterlijk", True)),
            ook=tuple(indicator(i, where) for i in entry.get("ook", ()))))
    if not statements:
        raise PreviousPlanError(f"{path.name}: geen enkele [[vaststelling]].")
    return PreviousPlan(nis=str(nis), gemeente=str(raw.get("gemeente", "")),
                        plan=str(raw.get("plan", "het vorige plan")),
                        statements=tuple(statements), path=path)


@cache
def load_previous_plans(folder: Path = PLANS_DIR) -> dict[str, PreviousPlan]:
    """Every previous plan in ``folder``, keyed by NIS code."""
    plans: dict[str, PreviousPlan] = {}
    for path in sorted(Path(folder).glob("*.toml")):
        plan = _parse(path)
        if plan.nis in plans:
            raise PreviousPlanError(f"{path.name}: NIS-code {plan.nis} staat ook in "
                                    f"{plans[plan.nis].path.name}; één bestand per gemeente.")
        plans[plan.nis] = plan
    return plans


def previous_plan(nis: str, folder: Path = PLANS_DIR) -> PreviousPlan | None:
    return load_previous_plans(Path(folder)).get(nis)


# -- testing -------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One claim in one year: holds (True/False) or cannot be tested (None)."""

    holds: bool | None
    now: str  # today's situation in Dutch
    value: float | None = None


@dataclass
class Verdict:
    statement: Statement
    referentie: str  # the group's label
    bewering: str
    geldt_nog: str
    jaar_nu: int | None
    waarde_nu: float | None
    nu: str
    gold_in: list[int] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    toelichting: str = ""

    def as_row(self) -> dict:
        s = self.statement
        return {"id": s.id, "vaststelling": s.toen, "letterlijk": s.letterlijk,
                "indicator": s.indicator, "referentie": self.referentie,
                "bewering": self.bewering, "waarde_nu": self.waarde_nu,
                "jaar_nu": self.jaar_nu, "nu": self.nu, "geldt_nog": self.geldt_nog,
                "gold_in": year_ranges(self.gold_in) if self.gold_in else "",
                "toelichting": self.toelichting}


def year_ranges(years: list[int]) -> str:
    """[2010, 2011, 2012, 2014, 2015] → '2010–2012, 2014, 2015' (runs of three or more)."""
    runs: list[list[int]] = []
    for y in sorted(years):
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    parts = []
    for run in runs:
        parts += [f"{run[0]}–{run[-1]}"] if len(run) >= 3 else [str(y) for y in run]
    return ", ".join(parts)


def _ordinal(k: int) -> str:
    return {1: "", 2: "tweede ", 3: "derde "}.get(k, f"{k}e ")


def _describe(claim: Claim, ds, cat, group_label: str) -> str:
    ind = cat[claim.indicator]
    if claim.kind == "rang":
        behind = f", na {', '.join(claim.na)}" if claim.na else ""
        return (f"{ind.short}: {_ordinal(claim.plaats)}{claim.van} van de {group_label}"
                f"{behind}")
    if claim.kind == "vergelijking":
        return f"{ind.short}: {claim.richting} dan {claim.benchmark}"
    return f"{ind.short}: de grootste van {len(claim.uit)} klassen"


class _Tester:
    def __init__(self, ds, target) -> None:
        self.ds = ds
        self.target = target
        self.cat = ds.engine.catalogue
        self._comparisons: dict[str, object] = {}

    def comparison(self, referentie: str, indicators: tuple[str, ...]):
        key = (referentie, indicators)
        if key not in self._comparisons:
            self._comparisons[key] = self.ds.compare(self.target, referentie,
                                                     indicators=list(indicators))
        return self._comparisons[key]

    def years(self, c, indicator: str) -> list[int]:
        return [int(y) for y in c.target_history(indicator)["year"]]

    def outcome(self, c, claim: Claim, year: int) -> Outcome:
        h = c.history
        h = h[(h["year"] == year)]
        ind = self.cat[claim.indicator]
        rows = h[h["indicator"] == claim.indicator]
        t = rows[rows["role"] == "target"]
        if t.empty or t.iloc[0]["status"] != "ok":
            return Outcome(None, f"geen waarde voor {self.target.name} in {year}")
        value = float(t.iloc[0]["value"])
        shown = fmt.value(value, ind.unit)
        if claim.kind == "rang":
            members = rows[rows["entity_type"].eq("municipality") & rows["status"].eq("ok")]
            members = members.sort_values("value", ascending=claim.van == "laagste")
            ahead = members[(members["value"] > value) if claim.van == "hoogste"
                            else (members["value"] < value)]
            pos, n = len(ahead) + 1, len(members)
            holds = pos == claim.plaats
            if holds and claim.na:
                wanted = {self.ds.municipality(x).nis for x in claim.na}
                holds = wanted == set(ahead["entity"])
            first = members.iloc[0] if pos != 1 else members.iloc[1]
            word = "daarna" if pos == 1 else claim.van
            now = (f"plaats {pos} van {n} ({shown}; {word}: {first['name']}, "
                   f"{fmt.value(first['value'], ind.unit)})")
            return Outcome(holds, now, value)
        if claim.kind == "vergelijking":
            etype = BENCHMARKS[claim.benchmark]
            ref = rows[rows["entity_type"].eq(etype) & rows["status"].eq("ok")]
            if ref.empty:
                return Outcome(None, f"geen waarde voor {claim.benchmark} in {year}", value)
            other = float(ref.iloc[0]["value"])
            from lsbanalysis.analysis.synthesis import Precision

            p = Precision(c, load_selection())
            margin = p.margin(ind, p.se(ind, year, self.target.nis), derived=True)
            diff = value - other
            beyond = abs(diff) > margin
            holds = beyond and (diff > 0) == (claim.richting == "hoger")
            now = (f"{shown} tegenover {fmt.value(other, ind.unit)} in "
                   f"{_entity_phrase(ref.iloc[0])}")
            if not beyond:
                shown_margin = (f"{fmt.number(margin, 1)} procentpunt" if ind.unit == "percent"
                                else fmt.value(margin, ind.unit))
                now += (f"; het verschil valt binnen de nauwkeurigheid van de cijfers "
                        f"(± {shown_margin})")
            return Outcome(holds, now, value)
        shares = {}
        for i in claim.uit:
            r = h[(h["indicator"] == i) & (h["role"] == "target")]
            if r.empty or r.iloc[0]["status"] != "ok":
                return Outcome(None, f"niet alle klassen gepubliceerd in {year}", value)
            shares[i] = float(r.iloc[0]["value"])
        top = max(shares, key=shares.get)
        band = self.cat[top].band or self.cat[top].short
        now = f"meest voorkomend: {band} ({fmt.value(shares[top], 'percent')})"
        if top != claim.indicator:
            now += f"; {ind.band or ind.short}: {shown}"
        return Outcome(top == claim.indicator, now, value)

    def verdict(self, s: Statement) -> Verdict:
        outcomes_by_claim = []
        label = None
        for claim in s.claims:
            needed = tuple(dict.fromkeys((claim.indicator, *claim.uit, s.indicator)))
            try:
                c = self.comparison(claim.referentie, needed)
            except YearError:  # none of the indicators has data for the municipality
                outcomes_by_claim.append((claim, None, {}, (
                    f"geen gegevens over {subject(self.cat[claim.indicator])} voor "
                    f"{self.target.name}")))
                continue
            except LsbError as exc:
                outcomes_by_claim.append((claim, None, {}, str(exc).rstrip(".")))
                continue
            label = label or c.group.label
            years = sorted(set(self.years(c, claim.indicator)))
            per_year = {y: self.outcome(c, claim, y) for y in years}
            outcomes_by_claim.append((claim, c, per_year, ""))
        group_label = label or s.referentie
        bewering = "; ".join(_describe(cl, self.ds, self.cat, group_label)
                             for cl, *_ in outcomes_by_claim)
        common = None
        for _, _c, per_year, _ in outcomes_by_claim:
            ys = {y for y, o in per_year.items() if o.holds is not None}
            common = ys if common is None else common & ys
        common = sorted(common or [])
        problems = [err for *_, err in outcomes_by_claim if err]
        if not common:
            why = problems[0] if problems else "geen jaar waarin alle cijfers bestaan"
            return Verdict(s, group_label, bewering, NIET_TOETSBAAR, None, None,
                           "niet toetsbaar", toelichting=f"{s.interpretatie} Niet toetsbaar: "
                           f"{why}.".strip())
        now_year = common[-1]
        now_outcomes = [per_year[now_year] for _, _, per_year, _ in outcomes_by_claim]
        held = [y for y in common if all(p[y].holds for _, _, p, _ in outcomes_by_claim)]
        holds = all(o.holds for o in now_outcomes)
        value = next((o.value for (cl, *_), o in zip(outcomes_by_claim, now_outcomes,
                                                     strict=True)
                      if cl.indicator == s.indicator and o.value is not None), None)
        nu = "; ".join(dict.fromkeys(o.now for o in now_outcomes))
        history = (f"Gold in {year_ranges(held)} (jaren met gegevens: {year_ranges(common)})."
                   if held else
                   f"Gold in geen enkel jaar met gegevens ({year_ranges(common)}).")
        extra = []
        for other in s.ook:
            rank_claims = [cl for cl in s.claims if cl.kind == "rang"]
            if not rank_claims:
                continue
            cl = rank_claims[0]
            try:
                c = self.comparison(cl.referentie, (other,))
            except LsbError:
                continue
            ys = self.years(c, other)
            if ys:
                o = self.outcome(c, Claim(**{**cl.__dict__, "indicator": other, "na": ()}),
                                 ys[-1])
                extra.append(f"Voor {subject(self.cat[other])}: {o.now}, {ys[-1]}.")
        toelichting = " ".join(p for p in (s.interpretatie, history, *extra) if p)
        return Verdict(s, group_label, bewering, JA if holds else NEE, now_year, value, nu,
                       gold_in=held, years=common, toelichting=toelichting)


def toets(ds, target, folder: Path = PLANS_DIR) -> list[Verdict] | None:
    """The previous plan of ``target`` tested on today's data; None without a plan file."""
    plan = previous_plan(target.nis, folder)
    if plan is None:
        return None
    tester = _Tester(ds, target)
    return [tester.verdict(s) for s in plan.statements]


def toets_frame(verdicts: list[Verdict]) -> pd.DataFrame:
    return pd.DataFrame([v.as_row() for v in verdicts], columns=CSV_COLUMNS)


def toets_display(verdicts: list[Verdict]) -> tuple[pd.DataFrame, list[str]]:
    """The 'toen / nu / geldt nog?' table as text cells, and the numbered notes under it."""
    rows, notes = [], []
    for k, v in enumerate(verdicts, start=1):
        toen = v.statement.toen + ("" if v.statement.letterlijk else " (samengevat)")
        nu = v.nu if v.jaar_nu is None else f"{v.nu} ({v.jaar_nu})"
        rows.append({"Toen": toen, "Nu": nu, "Geldt nog?": f"{v.geldt_nog} ({k})"})
        notes.append(f"({k}) {v.toelichting}")
    return pd.DataFrame(rows, columns=["Toen", "Nu", "Geldt nog?"]), notes


TOETS_INTRO = (
    "Per kwantitatieve vaststelling van het {plan}: geldt ze vandaag nog, met de meest recente "
    "cijfers? *Ja* als elke bewering klopt (een verschil moet groter zijn dan de nauwkeurigheid "
    "van de cijfers), *nee* als er één niet klopt, *niet toetsbaar* als de cijfers ontbreken.")
