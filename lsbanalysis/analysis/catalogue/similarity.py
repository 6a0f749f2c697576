"""The method of the reference group 'gelijkaardig' (``similarity.toml``), loaded and checked."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lsbanalysis.analysis.catalogue import HERE, Catalogue, CatalogueError, load_catalogue

TRANSFORMS = ("none", "log")
STANDARDISATIONS = ("zscore", "robust")
DISTANCES = ("euclidean",)


@dataclass(frozen=True)
class Variable:
    indicator: str
    transform: str = "none"
    weight: float = 1.0


@dataclass(frozen=True)
class SimilaritySpec:
    variables: tuple[Variable, ...]
    k: int = 10
    region: str = "02000"
    standardisation: str = "zscore"
    distance: str = "euclidean"
    min_coverage: float = 0.95
    min_weight: float = 0.75
    outlier_percentile: float = 90.0
    closest: int = 3

    @property
    def total_weight(self) -> float:
        return sum(v.weight for v in self.variables)


def check_spec(spec: SimilaritySpec, catalogue: Catalogue, name: str = "similarity.toml"
               ) -> SimilaritySpec:
    """Raise CatalogueError naming the first bad setting of ``spec``."""
    problems = []
    if not spec.variables:
        problems.append("no [[variable]]")
    ids = [v.indicator for v in spec.variables]
    unknown = [i for i in ids if i not in catalogue.indicators]
    if unknown:
        problems.append(f"unknown indicator(s) {unknown}")
    if len(set(ids)) != len(ids):
        problems.append("an indicator is listed twice")
    for v in spec.variables:
        if v.transform not in TRANSFORMS:
            problems.append(f"variable {v.indicator!r}: transform must be one of {TRANSFORMS}")
        if not v.weight > 0:
            problems.append(f"variable {v.indicator!r}: weight must be positive")
    if spec.k < 1:
        problems.append("k must be at least 1")
    if spec.standardisation not in STANDARDISATIONS:
        problems.append(f"standardisation must be one of {STANDARDISATIONS}")
    if spec.distance not in DISTANCES:
        problems.append(f"distance must be one of {DISTANCES}")
    if not 0 < spec.min_coverage <= 1 or not 0 < spec.min_weight <= 1:
        problems.append("min_coverage and min_weight must lie in (0, 1]")
    if not 0 < spec.outlier_percentile < 100:
        problems.append("outlier_percentile must lie between 0 and 100")
    if spec.closest < 1:
        problems.append("closest must be at least 1")
    if problems:
        raise CatalogueError(f"{name}: {'; '.join(problems)}")
    return spec


@cache
def load_similarity(path: Path = HERE / "similarity.toml") -> SimilaritySpec:
    """Load ``similarity.toml``; raises CatalogueError naming the bad entry."""
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    try:
        variables = tuple(Variable(indicator=str(v["indicator"]),
                                   transform=str(v.get("transform", "none")),
                                   weight=float(v.get("weight", 1.0)))
                          for v in raw.get("variable", []))
        method = dict(raw["method"])
        spec = SimilaritySpec(
            variables=variables, k=int(method.pop("k")), region=str(method.pop("region")),
            standardisation=str(method.pop("standardisation")),
            distance=str(method.pop("distance")),
            min_coverage=float(method.pop("min_coverage")),
            min_weight=float(method.pop("min_weight")),
            outlier_percentile=float(method.pop("outlier_percentile")),
            closest=int(method.pop("closest")),
        )
    except KeyError as exc:
        raise CatalogueError(f"{path.name}: missing setting {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise CatalogueError(f"{path.name}: {exc}") from None
    if method:
        raise CatalogueError(f"{path.name}: unknown setting(s) {sorted(method)} in [method]")
    return check_spec(spec, load_catalogue(), path.name)
