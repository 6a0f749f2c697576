"""Finding municipalities by NIS code or by Dutch/French name, forgiving case and accents."""

from __future__ import annotations

import difflib
import numbers
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from lsbanalysis.errors import UnknownMunicipalityError
from lsbanalysis.nis import normalise_nis

#: Most recent geography first: a name valid today wins over a merged-away one.
VERSION_PREFERENCE = ("2025", "2019", "1977")


def fold(text: str) -> str:
    """Case-, accent-, hyphen- and space-insensitive key for a place name."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[\s\-'’.]+", " ", text)
    return text.strip()


_ARTICLE = {"region": "het", "province": "de", "arrondissement": "het"}


def _unit_phrase(name: str, level: str) -> str:
    """'Provincie Antwerpen' → 'de provincie Antwerpen', 'Vlaams Gewest' → 'het Vlaams Gewest'."""
    first, _, rest = str(name).partition(" ")
    if first.casefold() in ("provincie", "arrondissement") and rest:
        name = f"{first.casefold()} {rest}"
    return f"{_ARTICLE[level]} {name}"


@dataclass(frozen=True)
class Municipality:
    """A municipality in one REFNIS geography, with its parents."""

    nis: str
    name: str  # Dutch name
    name_fr: str
    geo_version: str
    arrondissement: str
    province: str | None
    region: str

    def __str__(self) -> str:
        return f"{self.name} ({self.nis})"


class MunicipalityIndex:
    """Lookup of municipalities over all geographies in the store."""

    def __init__(self, geography: pd.DataFrame) -> None:
        munis = geography[geography["level"] == "municipality"].copy()
        rank = {v: i for i, v in enumerate(VERSION_PREFERENCE)}
        munis["_rank"] = munis["geo_version"].map(rank)
        munis = munis.sort_values("_rank", kind="stable")
        self._rows = munis
        self._by_code: dict[str, pd.Series] = {}
        self._by_name: dict[str, str] = {}
        self._display: dict[str, str] = {}
        # Regions, provinces and arrondissements: named when asked for as if a municipality.
        self._other: dict[str, str] = {}
        others = geography[geography["level"].isin(_ARTICLE)]
        for row in others.itertuples(index=False):
            phrase = _unit_phrase(row.name_nl, row.level)
            self._other.setdefault(row.nis, phrase)
            for name in (row.name_nl, row.name_fr):
                if isinstance(name, str) and name:
                    self._other.setdefault(fold(name), phrase)
        for row in munis.itertuples(index=False):
            self._by_code.setdefault(row.nis, row)
            for name in (row.name_nl, row.name_fr):
                if isinstance(name, str) and name:
                    key = fold(name)
                    self._by_name.setdefault(key, row.nis)
                    self._display.setdefault(key, row.name_nl)

    def get(self, query: str | int) -> Municipality:
        """The municipality for a NIS code or Dutch/French name (most recent geography)."""
        usable = isinstance(query, str | numbers.Integral) and not isinstance(query, bool)
        if not usable or not str(query).strip():
            raise UnknownMunicipalityError(
                query, [], hint="Geef de naam of de NIS-code van een gemeente.")
        text = str(query).strip()
        if text.isdigit():
            try:
                code = normalise_nis(text)
            except ValueError:
                code = text
            row = self._by_code.get(code)
            if row is None:
                raise UnknownMunicipalityError(text, [], hint=self._not_a_municipality(code))
            return self._make(row)
        key = fold(text)
        if key in self._by_name:
            return self._make(self._by_code[self._by_name[key]])
        if key in self._other:
            raise UnknownMunicipalityError(text, [], hint=self._not_a_municipality(key))
        if len(key) > 100:  # no place name is this long; fuzzy matching it would only be slow
            raise UnknownMunicipalityError(text, [])
        close = difflib.get_close_matches(key, list(self._by_name), n=3, cutoff=0.75)
        raise UnknownMunicipalityError(text, [self._display[k] for k in close])

    def _not_a_municipality(self, key: str) -> str | None:
        phrase = self._other.get(key)
        return (f"Dat is {phrase}, geen gemeente: geef de naam of de NIS-code van een gemeente."
                if phrase else None)

    def in_version(self, nis: str, geo_version: str) -> bool:
        rows = self._rows
        return bool(((rows["nis"] == nis) & (rows["geo_version"] == geo_version)).any())

    @staticmethod
    def _make(row) -> Municipality:
        province = row.province if isinstance(row.province, str) and row.province else None
        return Municipality(
            nis=row.nis,
            name=row.name_nl,
            name_fr=row.name_fr,
            geo_version=row.geo_version,
            arrondissement=row.arrondissement,
            province=province,
            region=row.region,
        )
