"""The dataset an analyst works with: ``lsbanalysis.load()``."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import pandas as pd

from lsbanalysis.names import Municipality, MunicipalityIndex
from lsbanalysis.paths import processed_dir
from lsbanalysis.store import io


class Dataset:
    """Tidy observations, the REFNIS geography, crosswalks and (lazily) the boundaries.

    The observations (1.7 million rows) are read when they are first used: a report chapter
    that gets its comparison from the runner needs only the geography and the boundaries.
    Their bytes are checked against the manifest's sha256 here, so a damaged store still
    fails at ``load()``.
    """

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = Path(store_dir)
        self.manifest: dict = io.read_manifest(self.store_dir)
        obs_sha = io.store_file_sha256(self.manifest, io.OBSERVATIONS_FILE)
        self._observations_bytes: bytes | None = None
        if obs_sha is None:  # an older store without checksums: parse now, to fail now
            self.observations = self._table(io.OBSERVATIONS_FILE)
        else:
            self._observations_bytes = io.read_checked(
                self.store_dir / io.OBSERVATIONS_FILE, obs_sha)
        self.geography: pd.DataFrame = self._table(io.GEOGRAPHY_FILE)
        self.crosswalk: pd.DataFrame = self._table(io.CROSSWALK_FILE)
        self.neighbours: pd.DataFrame = self._table(io.NEIGHBOURS_FILE)

    def _table(self, name: str) -> pd.DataFrame:
        """A store table, checked against the sha256 its manifest records (if it does)."""
        return io.read_table(
            self.store_dir / name, sha256=io.store_file_sha256(self.manifest, name)
        )

    @cached_property
    def observations(self) -> pd.DataFrame:
        """Tidy observations: source, measure, nis, level, geo_version, period, year, value, …"""
        data, self._observations_bytes = self._observations_bytes, None
        return io.parse_table(self.store_dir / io.OBSERVATIONS_FILE, data)

    def __repr__(self) -> str:
        n_sources = len(self.manifest["sources"])
        return (
            f"<Dataset {self.store_dir}: {len(self.observations):,} observations from "
            f"{n_sources} sources, built {self.manifest['built_at']}>"
        )

    @cached_property
    def boundaries(self):
        """Simplified boundaries (GeoDataFrame, EPSG:31370); loaded on first use."""
        return io.read_geo_table(
            self.store_dir / io.BOUNDARIES_FILE,
            sha256=io.store_file_sha256(self.manifest, io.BOUNDARIES_FILE),
        )

    @cached_property
    def municipalities(self) -> MunicipalityIndex:
        return MunicipalityIndex(self.geography)

    @cached_property
    def engine(self):
        """Indicator values of every unit and year, computed once per dataset."""
        from lsbanalysis.analysis.compare import Engine

        return Engine(self)

    def compare(self, gemeente, reference="ISOM", year: int | None = None, indicators=None):
        """Compare a municipality with a reference group and the benchmarks.

        >>> c = ds.compare("Herenthout", reference="ISOM", year=2022)
        >>> c.summary, c.findings
        """
        from lsbanalysis.analysis.compare import compare

        return compare(self, gemeente, reference=reference, year=year, indicators=indicators)

    def municipality(self, query: str | int) -> Municipality:
        """Look up a municipality by NIS code or Dutch/French name (case/accent-insensitive).

        >>> ds.municipality("herenthout").nis
        '13012'
        """
        return self.municipalities.get(query)

    @cached_property
    def _names(self) -> dict[tuple[str | None, str], str]:
        geo = self.geography
        names: dict[tuple[str | None, str], str] = {}
        # Later geographies last, so a code's current name wins in the version-free entry.
        for version in ("1977", "2019", "2025"):
            part = geo[geo["geo_version"] == version]
            for nis, name in zip(part["nis"], part["name_nl"], strict=True):
                names[(version, nis)] = name
                names[(None, nis)] = name
        return names

    def name_of(self, nis: str, geo_version: str | None = None) -> str:
        """Dutch name of any unit (municipality, arrondissement, province, region)."""
        return self._names.get((geo_version, nis)) or self._names.get((None, nis), nis)

    def sources(self) -> pd.DataFrame:
        """One row per source: title, edition, files and checksums (for colophons)."""
        rows = []
        for s in self.manifest["sources"]:
            rows.append(
                {
                    "id": s["id"],
                    "title": s["title"],
                    "publisher": s["publisher"],
                    "edition": s["edition"],
                    "files": ", ".join(f["name"] for f in s["files"]),
                    "sha256": ", ".join(f["sha256"][:12] for f in s["files"]),
                }
            )
        return pd.DataFrame(rows)


def load(store_dir: Path | str | None = None) -> Dataset:
    """Load the processed store (the embedded default unless ``store_dir`` is given)."""
    return Dataset(Path(store_dir) if store_dir is not None else processed_dir())
