"""The selection rule of the kernvaststellingen (``selection.toml``), loaded and checked."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lsbanalysis import fmt
from lsbanalysis.analysis.catalogue import HERE, Catalogue, CatalogueError, load_catalogue

NOISE_KINDS = ("median", "rate")


@dataclass(frozen=True)
class NoiseSpec:
    """One indicator's precision beyond what the catalogue says: how chance affects its
    municipal value (``noise``), and/or the rounding of its published values (``resolution``)."""

    id: str
    noise: str | None = None
    count: str | None = None
    q1: str | None = None
    q3: str | None = None
    iqr: str | None = None
    resolution: float | None = None

    @property
    def measures(self) -> tuple[str, ...]:
        return tuple(m for m in (self.count, self.q1, self.q3, self.iqr) if m)


@dataclass(frozen=True)
class Selection:
    per_section: int
    total: int
    more_in_chapter: int
    min_group: int
    region: str
    benchmark_z: float
    trend_years: int
    trend_min_span: int
    trend_min_points: int
    trend_z: float
    reversal_z: float
    extreme_weight: float
    neutral_weight: float
    z: float
    min_cases: int
    resolution: dict[str, float]
    derived: float
    noise: dict[str, NoiseSpec] = field(default_factory=dict)
    exclude_units: tuple[str, ...] = ()
    exclude_indicators: tuple[str, ...] = ()
    families: dict[str, tuple[str, ...]] = field(default_factory=dict)
    key_figures: tuple[str, ...] = ()

    def family_of(self, indicator: str) -> str | None:
        return next((f for f, members in self.families.items() if indicator in members), None)

    def resolution_of(self, indicator) -> float:
        """Rounding of a published value: per indicator, else per unit, else the decimals
        the report shows for the unit."""
        spec = self.noise.get(indicator.id)
        if spec is not None and spec.resolution is not None:
            return spec.resolution
        if indicator.unit in self.resolution:
            return self.resolution[indicator.unit]
        return 10.0 ** -fmt.DECIMALS.get(indicator.unit, 1)

    def excluded(self, indicator) -> bool:
        return indicator.unit in self.exclude_units or indicator.id in self.exclude_indicators


def _check_ids(ids, catalogue: Catalogue, where: str, name: str) -> None:
    unknown = [i for i in ids if i not in catalogue.indicators]
    if unknown:
        raise CatalogueError(f"{name}: {where} names unknown indicator(s) {unknown}")


@cache
def load_selection(path: Path = HERE / "selection.toml",
                   catalogue: Catalogue | None = None) -> Selection:
    """Load ``selection.toml``; raises CatalogueError naming the bad entry."""
    catalogue = catalogue or load_catalogue()
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    name = path.name
    try:
        limits, mat, prec = raw["limits"], raw["materiality"], raw["precision"]
        noise = {}
        for entry in prec.get("indicator", []):
            spec = NoiseSpec(**entry)
            if spec.noise is None and spec.resolution is None:
                raise CatalogueError(f"{name}: precision.indicator {spec.id!r}: give 'noise' "
                                     "and/or 'resolution'")
            if spec.noise is not None and (spec.noise not in NOISE_KINDS or not spec.count):
                raise CatalogueError(f"{name}: precision.indicator {spec.id!r}: noise must be "
                                     f"one of {NOISE_KINDS}, with a 'count' measure")
            if spec.noise is None:
                noise[spec.id] = spec
                continue
            if spec.noise not in NOISE_KINDS:
                raise CatalogueError(f"{name}: precision.indicator {spec.id!r}: noise must be "
                                     f"one of {NOISE_KINDS}")
            if spec.noise == "median" and not (spec.iqr or (spec.q1 and spec.q3)):
                raise CatalogueError(f"{name}: precision.indicator {spec.id!r}: a median needs "
                                     "'iqr' or both 'q1' and 'q3'")
            noise[spec.id] = spec
        families = {f["id"]: tuple(f["indicators"]) for f in raw.get("family", [])}
        rule = Selection(
            per_section=int(limits["per_section"]), total=int(limits["total"]),
            more_in_chapter=int(limits["more_in_chapter"]), min_group=int(limits["min_group"]),
            region=str(mat["region"]), benchmark_z=float(mat["benchmark_z"]),
            trend_years=int(mat["trend_years"]), trend_min_span=int(mat["trend_min_span"]),
            trend_min_points=int(mat["trend_min_points"]), trend_z=float(mat["trend_z"]),
            reversal_z=float(mat["reversal_z"]), extreme_weight=float(mat["extreme_weight"]),
            neutral_weight=float(mat["neutral_weight"]),
            z=float(prec["z"]), min_cases=int(prec["min_cases"]),
            resolution={k: float(v) for k, v in prec["resolution"].items()},
            derived=float(prec["derived"]), noise=noise,
            exclude_units=tuple(raw.get("exclude", {}).get("units", ())),
            exclude_indicators=tuple(raw.get("exclude", {}).get("indicators", ())),
            families=families,
            key_figures=tuple(raw.get("key_figures", {}).get("indicators", ())),
        )
    except KeyError as exc:
        raise CatalogueError(f"{name}: missing setting {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise CatalogueError(f"{name}: {exc}") from None
    if min(rule.per_section, rule.total, rule.min_group) < 1 or rule.total < rule.per_section:
        raise CatalogueError(f"{name}: limits must be positive and total >= per_section")
    _check_ids(noise, catalogue, "precision.indicator", name)
    _check_ids(rule.exclude_indicators, catalogue, "exclude.indicators", name)
    _check_ids(rule.key_figures, catalogue, "key_figures", name)
    seen: dict[str, str] = {}
    for fid, members in families.items():
        _check_ids(members, catalogue, f"family {fid!r}", name)
        for m in members:
            if m in seen:
                raise CatalogueError(f"{name}: indicator {m!r} is in families {seen[m]!r} and "
                                     f"{fid!r}; an indicator is in at most one family")
            seen[m] = fid
    return rule
