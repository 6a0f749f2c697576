"""The declarative tables: indicator catalogue, themes and reference groups."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
METHODS = ("value", "ratio", "rate", "change", "quotient", "index")
AGGREGATIONS = ("sum", "ratio_of_sums", "derived_ratio", "published")
DIRECTIONS = ("higher_better", "lower_better", "neutral")
GROUP_RULES = ("arrondissement", "buren", "gelijkaardig")
UNITS = ("eur", "percent", "count", "per_km2", "index", "ratio", "per_100", "per_1000")
#: The LSB workgroups, and "transversaal" for themes that run through all of them.
WERKGROEPEN = ("arbeid & sociale zekerheid", "huisvesting", "cultuur & maatschappelijke integratie",
               "gezondheid")
CROSS_CUTTING = "transversaal"


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    werkgroep: str
    grondrecht: str


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    short: str
    theme: str
    unit: str
    method: str
    direction: str
    sources: tuple[str, ...]
    definition: str
    aggregation: str = "published"
    measure: str | tuple[str, ...] | None = None  # value: one measure, or several summed
    numerator: tuple[str, ...] = ()
    denominator: tuple[str, ...] = ()
    scale: float = 1.0
    count: str | None = None
    base: str | None = None
    lag: int | None = None
    numerator_indicator: str | None = None
    denominator_indicator: str | None = None
    precision: str | None = None
    werkgroep: str | None = None
    subject: str | None = None  # phrase for findings, e.g. "het percentage ... jongeren"
    band: str | None = None  # income band wording, for the most-common-band finding
    dwelling: str | None = None  # dwelling type wording, for the price-rank finding
    fallback: str | None = None  # indicator that stands in where this one has no value
    listed: bool = True  # False: a building block of other indicators, not shown on its own
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def measures(self) -> tuple[str, ...]:
        """Measures of the store this indicator reads directly."""
        if self.method == "value":
            return self.measure if isinstance(self.measure, tuple) else (self.measure,)
        if self.method == "ratio":
            return tuple(dict.fromkeys(self.numerator + self.denominator))
        if self.method == "rate":
            return (self.measure, self.count) if self.count else (self.measure, *self.denominator)
        return ()

    @property
    def additive(self) -> bool:
        """Can a group value be computed from member values (counts, ratios of sums)?"""
        return self.aggregation != "published"


class CatalogueError(ValueError):
    pass


@dataclass(frozen=True)
class Catalogue:
    themes: dict[str, Theme]
    indicators: dict[str, Indicator]

    def __getitem__(self, indicator_id: str) -> Indicator:
        try:
            return self.indicators[indicator_id]
        except KeyError:
            raise KeyError(
                f"onbekende indicator {indicator_id!r}; bestaande: {', '.join(self.indicators)}"
            ) from None

    def __iter__(self):
        return iter(self.indicators.values())

    def by_theme(self, theme: str) -> list[Indicator]:
        return [i for i in self.indicators.values() if i.theme == theme]

    def werkgroep(self, indicator: Indicator) -> str:
        return indicator.werkgroep or self.themes[indicator.theme].werkgroep

    @property
    def theme_order(self) -> tuple[str, ...]:
        """Theme ids in report order (the order of the catalogue file)."""
        return tuple(self.themes)


def _as_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


@cache
def load_catalogue(path: Path = HERE / "indicators.toml") -> Catalogue:
    """Load and check the indicator catalogue; raises CatalogueError naming the bad entry."""
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    themes = {t["id"]: Theme(**t) for t in raw["theme"]}
    for theme in themes.values():
        if theme.werkgroep not in (*WERKGROEPEN, CROSS_CUTTING):
            raise CatalogueError(f"{path.name}: theme {theme.id!r}: werkgroep must be one of "
                                 f"{(*WERKGROEPEN, CROSS_CUTTING)}")
    indicators: dict[str, Indicator] = {}
    known = {f.name for f in Indicator.__dataclass_fields__.values()}
    for entry in raw["indicator"]:
        entry = dict(entry)
        iid = entry.get("id", "?")
        unknown = set(entry) - known
        if unknown:
            raise CatalogueError(f"{path.name}: indicator {iid!r} has unknown fields {unknown}")
        entry["sources"] = _as_tuple(entry.get("sources"))
        if isinstance(entry.get("measure"), list):
            entry["measure"] = tuple(entry["measure"])
        entry["numerator"] = _as_tuple(entry.get("numerator"))
        entry["denominator"] = _as_tuple(entry.get("denominator"))
        try:
            ind = Indicator(**entry)
        except TypeError as exc:
            raise CatalogueError(f"{path.name}: indicator {iid!r}: {exc}") from None
        problems = []
        if ind.id in indicators:
            problems.append("duplicate id")
        if ind.theme not in themes:
            problems.append(f"unknown theme {ind.theme!r}")
        if ind.method not in METHODS:
            problems.append(f"method must be one of {METHODS}")
        if ind.aggregation not in AGGREGATIONS:
            problems.append(f"aggregation must be one of {AGGREGATIONS}")
        if ind.direction not in DIRECTIONS:
            problems.append(f"direction must be one of {DIRECTIONS}")
        if ind.unit not in UNITS:
            problems.append(f"unit must be one of {UNITS}")
        needs = {
            "value": ("measure",),
            "ratio": ("numerator", "denominator"),
            "rate": ("measure",),
            "change": ("base", "lag"),
            "quotient": ("numerator_indicator", "denominator_indicator"),
            "index": ("base",),
        }.get(ind.method, ())
        problems += [f"method {ind.method!r} needs {n!r}" for n in needs if not getattr(ind, n)]
        if ind.method == "rate" and ind.aggregation != "derived_ratio":
            problems.append("method 'rate' aggregates as 'derived_ratio'")
        if ind.method == "rate" and bool(ind.count) == bool(ind.denominator):
            problems.append("method 'rate' needs either 'count' (its published numerator) or "
                            "'denominator' (its published denominator)")
        if problems:
            raise CatalogueError(f"{path.name}: indicator {iid!r}: {'; '.join(problems)}")
        indicators[ind.id] = ind
    # Derived indicators inherit aggregation from what they are built on.
    for ind in list(indicators.values()):
        refs = {
            "change": (ind.base,),
            "quotient": (ind.numerator_indicator, ind.denominator_indicator),
            "index": (ind.base,),
        }.get(ind.method, ()) + ((ind.fallback,) if ind.fallback else ())
        for ref in refs:
            if ref not in indicators:
                raise CatalogueError(f"{path.name}: indicator {ind.id!r} refers to unknown {ref!r}")
        if ind.method == "change":
            base = indicators[ind.base]
            object.__setattr__(ind, "aggregation", base.aggregation)
        elif ind.method in ("quotient", "index"):
            object.__setattr__(ind, "aggregation", "published")
        if ind.method == "index" and indicators[ind.base].aggregation == "published":
            raise CatalogueError(f"{path.name}: indicator {ind.id!r}: an index needs a base "
                                 "that has a value for the country (not a median)")
    return Catalogue(themes=themes, indicators=indicators)


@dataclass(frozen=True)
class GroupSpec:
    id: str
    label: str
    description: str
    members: tuple[str, ...] = ()
    rule: str | None = None


@cache
def load_reference_groups(path: Path = HERE / "reference_groups.toml") -> dict[str, GroupSpec]:
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    groups = {}
    for g in raw["group"]:
        spec = GroupSpec(**{**g, "members": tuple(g.get("members", ()))})
        if bool(spec.members) == bool(spec.rule):
            raise CatalogueError(f"{path.name}: group {spec.id!r} needs either members or a rule")
        if spec.rule is not None and spec.rule not in GROUP_RULES:
            raise CatalogueError(f"{path.name}: group {spec.id!r}: rule must be one of "
                                 f"{GROUP_RULES}")
        groups[spec.id.casefold()] = spec
    return groups
