"""The reference group 'gelijkaardig': the k municipalities most like the target.

The method is declared in ``catalogue/similarity.toml`` (variables, transforms, weights, year
rule, standardisation, distance, outlier rule). :func:`similarity` computes the standardised
values and the distance between every pair of municipalities of the region once per dataset
(cached with the dataset's :class:`~lsbanalysis.analysis.compare.Engine`);
:func:`similar_municipalities` then ranks the others by their distance to one target.

The values are those of every other comparison: ``ds.compare`` on all municipalities of the
region, so a merged municipality has, in a year published on the older map, the sum of its
predecessors (a median then has no value and that variable is dropped for its pairs).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lsbanalysis import fmt
from lsbanalysis.analysis.catalogue import load_catalogue
from lsbanalysis.analysis.catalogue.similarity import SimilaritySpec, load_similarity
from lsbanalysis.analysis.groups import CURRENT_GEOGRAPHY, ReferenceGroupError
from lsbanalysis.analysis.validation import current_municipality
from lsbanalysis.errors import shown
from lsbanalysis.names import Municipality

#: Distances are rounded to this many decimals before ranking, so that a different order of
#: the input rows (last-bit differences in sums) cannot change the ranking; ties: NIS code.
RANK_DECIMALS = 9
_IQR_TO_SD = 1.349


@dataclass(frozen=True)
class VariableUse:
    """How one variable entered the distances: its year, transform and standardisation."""

    indicator: str
    short: str
    unit: str
    transform: str
    weight: float
    year: int
    covered: int  # municipalities of the region with a value in that year
    centre: float  # mean (or median) of the transformed values
    scale: float  # standard deviation (or IQR / 1.349) of the transformed values


@dataclass(frozen=True)
class Neighbour:
    municipality: Municipality
    distance: float
    closest: tuple[str, ...]  # indicator ids on which it differs least from the target
    dropped: tuple[str, ...]  # variables without a value for the target or for it


@dataclass(frozen=True)
class SimilarGroup:
    """The suggestion for one target: its nearest municipalities and how they were found."""

    target: Municipality
    k: int
    neighbours: tuple[Neighbour, ...]  # nearest first; never the target itself
    variables: tuple[VariableUse, ...]
    spec: SimilaritySpec = field(repr=False)
    region_name: str  # "Vlaams Gewest"
    compared: int  # municipalities of the region
    kth_distance: float  # the target's distance to its k-th neighbour (NaN: fewer than k)
    threshold: float  # that distance's outlier_percentile over all municipalities
    typical: float  # median distance between two municipalities of the region
    values: pd.DataFrame = field(repr=False, compare=False)  # nis × indicator, untransformed
    notes: tuple[str, ...] = ()

    @property
    def members(self) -> tuple[Municipality, ...]:
        """The group: the target first, then its neighbours nearest first."""
        return (self.target, *(n.municipality for n in self.neighbours))

    @property
    def outlier(self) -> bool:
        return bool(np.isfinite(self.kth_distance) and self.kth_distance > self.threshold)

    @property
    def warning(self) -> str | None:
        """A Dutch warning when the target has few close neighbours, else None."""
        if not self.outlier:
            return None
        return (
            f"{self.target.name} lijkt op weinig andere gemeenten: de afstand tot de "
            f"{self.k}de gelijkaardige gemeente ({fmt.number(self.kth_distance, 2)}) is groter "
            f"dan bij {fmt.number(self.spec.outlier_percentile, 0)} % van de gemeenten van het "
            f"{self.region_name} (bij hen is ze hoogstens {fmt.number(self.threshold, 2)}). Ook de "
            "gelijkaardige gemeenten verschillen dus duidelijk van "
            f"{self.target.name}; lees de vergelijking met de groep voorzichtig, en overweeg "
            "de groep 'arrondissement', 'buren' of een eigen lijst."
        )

    def variable(self, indicator: str) -> VariableUse:
        return next(v for v in self.variables if v.indicator == indicator)

    def as_frame(self) -> pd.DataFrame:
        """One row per member (target first): rank, nis, name, distance, closest variables."""
        rows = [{"rank": 0, "nis": self.target.nis, "name": self.target.name, "role": "target",
                 "distance": 0.0, "closest": "", "dropped": ""}]
        for i, n in enumerate(self.neighbours, start=1):
            rows.append({"rank": i, "nis": n.municipality.nis, "name": n.municipality.name,
                         "role": "member", "distance": round(n.distance, 4),
                         "closest": ";".join(n.closest), "dropped": ";".join(n.dropped)})
        return pd.DataFrame(rows)


class Similarity:
    """Standardised values of every municipality of the region and all pairwise distances."""

    def __init__(self, ds, spec: SimilaritySpec) -> None:
        self.spec = spec
        catalogue = load_catalogue()
        geo = ds.geography
        region = geo[(geo["geo_version"] == CURRENT_GEOGRAPHY) & (geo["level"] == "municipality")
                     & (geo["region"] == spec.region)]
        self.codes = np.array(sorted(region["nis"]), dtype=object)
        self.region_name = ds.name_of(spec.region, CURRENT_GEOGRAPHY)
        self.notes: list[str] = []
        n = len(self.codes)
        if n < 2:
            raise ReferenceGroupError(
                f"De groep 'gelijkaardig' vraagt gemeenten van het {self.region_name} "
                f"({spec.region}); de gegevens bevatten er {n}.")
        self.municipalities = [ds.municipality(c) for c in self.codes]
        wanted = [v.indicator for v in spec.variables]
        c = ds.compare(self.municipalities[0], reference=self.municipalities, indicators=wanted)
        h = c.raw_history
        h = h[(h["entity_type"] == "municipality") & (h["status"] == "ok")
              & h["entity"].isin(set(self.codes))]
        self.uses: list[VariableUse] = []
        columns, raw = [], []
        for var in spec.variables:
            part = h[h["indicator"] == var.indicator]
            coverage = part.groupby("year")["entity"].nunique()
            years = coverage.index[coverage >= spec.min_coverage * n]
            ind = catalogue[var.indicator]
            if years.empty:
                self.notes.append(
                    f"{ind.short}: geen jaar met een waarde voor minstens "
                    f"{fmt.number(100 * spec.min_coverage, 0)} % van de gemeenten; niet "
                    "gebruikt.")
                continue
            year = int(years.max())
            values = (part[part["year"] == year].drop_duplicates("entity")
                      .set_index("entity")["value"].reindex(self.codes).to_numpy(dtype=float))
            x = values.copy()
            if var.transform == "log":
                with np.errstate(divide="ignore", invalid="ignore"):
                    x = np.where(x > 0, np.log(x), np.nan)
            centre, scale = _standardisation(x[np.isfinite(x)], spec.standardisation)
            z = (x - centre) / scale if scale > 0 else np.where(np.isfinite(x), 0.0, np.nan)
            columns.append(z)
            raw.append(values)
            self.uses.append(VariableUse(
                indicator=var.indicator, short=ind.short, unit=ind.unit, transform=var.transform,
                weight=var.weight, year=year, covered=int(np.isfinite(x).sum()),
                centre=float(centre), scale=float(scale)))
        if not self.uses:
            raise ReferenceGroupError(
                "Geen enkele variabele van de groep 'gelijkaardig' (similarity.toml) heeft "
                f"cijfers voor de gemeenten van het {self.region_name}.")
        self.z = np.column_stack(columns)
        self.values = pd.DataFrame(np.column_stack(raw), index=self.codes,
                                   columns=[u.indicator for u in self.uses])
        self.weights = np.array([u.weight for u in self.uses])
        self.distance, self.shared = _distances(self.z, self.weights, spec.min_weight)
        pairs = self.distance[np.triu_indices(n, 1)]
        pairs = pairs[np.isfinite(pairs)]
        self.typical = float(np.median(pairs)) if len(pairs) else np.nan
        self.index = {code: i for i, code in enumerate(self.codes)}
        self._kth: dict[int, np.ndarray] = {}

    def ranking(self, i: int) -> np.ndarray:
        """Positions of the municipalities comparable with municipality ``i``, nearest first
        (ties: lowest NIS code first); never ``i`` itself."""
        d = self.distance[i]
        ok = np.flatnonzero(np.isfinite(d))
        ok = ok[ok != i]
        return ok[np.lexsort((self.codes[ok], np.round(d[ok], RANK_DECIMALS)))]

    def kth(self, k: int) -> np.ndarray:
        """Every municipality's distance to its k-th nearest (NaN with fewer than k)."""
        if k not in self._kth:
            d = np.where(np.isfinite(self.distance), self.distance, np.inf)
            np.fill_diagonal(d, np.inf)
            part = np.sort(d, axis=1)[:, k - 1] if k <= len(d) - 1 else np.full(len(d), np.inf)
            self._kth[k] = np.where(np.isfinite(part), part, np.nan)
        return self._kth[k]


def _standardisation(x: np.ndarray, how: str) -> tuple[float, float]:
    if len(x) == 0:
        return np.nan, np.nan
    if how == "robust":
        q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
        return float(med), float((q3 - q1) / _IQR_TO_SD)
    return float(np.mean(x)), float(np.std(x))


def _distances(z: np.ndarray, weights: np.ndarray, min_weight: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Euclidean distances over the variables both municipalities have, scaled up by
    total weight / weight present; NaN where less than ``min_weight`` of the weight is present.
    Also the share of the weight present per pair."""
    n, p = z.shape
    present = np.isfinite(z)
    zz = np.where(present, z, 0.0)
    sq = np.zeros((n, n))
    shared = np.zeros((n, n))
    for v in range(p):
        both = np.outer(present[:, v], present[:, v])
        diff = zz[:, v][:, None] - zz[:, v][None, :]
        sq += weights[v] * np.where(both, diff * diff, 0.0)
        shared += weights[v] * both
    total = weights.sum()
    share = shared / total
    with np.errstate(divide="ignore", invalid="ignore"):
        dist = np.sqrt(sq * total / shared)
    # A tolerance: four of five equal weights is 0.8 whatever the rounding.
    dist[share < min_weight - 1e-9] = np.nan
    np.fill_diagonal(dist, np.nan)
    return dist, share


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def similarity(ds, spec: SimilaritySpec | None = None) -> Similarity:
    """The distances of the dataset's municipalities, computed once per dataset and method."""
    spec = spec or load_similarity()
    per_engine = _CACHE.setdefault(ds.engine, {})
    if spec not in per_engine:
        per_engine[spec] = Similarity(ds, spec)
    return per_engine[spec]


def check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ReferenceGroupError(
            f"Ongeldig aantal gelijkaardige gemeenten {shown(k)}: geef een geheel getal van "
            "minstens 1, zoals 10.")
    return int(k)


def similar_municipalities(ds, gemeente, k: int | None = None,
                           spec: SimilaritySpec | None = None) -> SimilarGroup:
    """The ``k`` municipalities most like ``gemeente`` (default k: similarity.toml).

    Raises the library's errors with one Dutch sentence: a merged municipality (names its
    successor), a municipality outside the region, a k below 1.
    """
    spec = spec or load_similarity()
    k = spec.k if k is None else check_k(k)
    target = current_municipality(ds, gemeente)
    if target.region != spec.region:
        where = ds.name_of(target.region, CURRENT_GEOGRAPHY)
        raise ReferenceGroupError(
            f"{target} ligt in het {where}, niet in het {ds.name_of(spec.region)}: de groep "
            f"'gelijkaardig' kiest uit de gemeenten van het {ds.name_of(spec.region)}, omdat "
            "niet elk kenmerk (zoals de werkzoekendengraad van VDAB) elders bestaat. Kies "
            "'arrondissement', 'buren' of een lijst van gemeenten.")
    sim = similarity(ds, spec)
    i = sim.index[target.nis]
    missing = [u.short for u, z in zip(sim.uses, sim.z[i], strict=True) if not np.isfinite(z)]
    order = sim.ranking(i)
    notes = list(sim.notes)
    if missing:
        notes.append(f"Voor {target.name} ontbreekt: {', '.join(missing)}; die kenmerken tellen "
                     "niet mee in de afstanden.")
    if len(order) == 0:
        raise ReferenceGroupError(
            f"{target.name} heeft te weinig cijfers ({', '.join(missing)} ontbreken) om "
            "gelijkaardige gemeenten te kiezen. Kies 'arrondissement', 'buren' of een lijst "
            "van gemeenten.")
    if len(order) < k:
        notes.append(f"Slechts {len(order)} gemeenten zijn met {target.name} te vergelijken; "
                     f"de groep telt er {len(order)} in plaats van {k}.")
    neighbours = []
    ids = [u.indicator for u in sim.uses]
    for j in order[:k]:
        both = np.isfinite(sim.z[i]) & np.isfinite(sim.z[j])
        gap = np.abs(sim.z[i] - sim.z[j])
        close = sorted(np.flatnonzero(both), key=lambda v: (round(float(gap[v]), RANK_DECIMALS),
                                                            v))
        neighbours.append(Neighbour(
            municipality=sim.municipalities[j], distance=float(sim.distance[i, j]),
            closest=tuple(ids[v] for v in close[: spec.closest]),
            dropped=tuple(ids[v] for v in np.flatnonzero(~both))))
    kth_all = sim.kth(k)
    finite = kth_all[np.isfinite(kth_all)]
    threshold = float(np.percentile(finite, spec.outlier_percentile)) if len(finite) else np.nan
    return SimilarGroup(
        target=target, k=k, neighbours=tuple(neighbours), variables=tuple(sim.uses), spec=spec,
        region_name=sim.region_name, compared=len(sim.codes), kth_distance=float(kth_all[i]),
        threshold=threshold, typical=sim.typical, values=sim.values, notes=tuple(notes))
