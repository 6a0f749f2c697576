"""One validation path for every command: the municipality, its reference group, the year and
the indicators are checked before anything is computed (and before any report kernel starts).

``ds.compare``, ``lsb compare``, ``lsb vaststellingen`` and ``lsb report`` all go through
:func:`validate_request`, so a merged municipality, a region code or a malformed year gets the
same message everywhere. The analyserapport adds :func:`require_flemish`.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass

from lsbanalysis.analysis.catalogue import Catalogue, load_catalogue
from lsbanalysis.analysis.groups import (
    CURRENT_GEOGRAPHY,
    ReferenceGroup,
    merged_phrase,
    resolve_group,
    successor,
)
from lsbanalysis.errors import LsbError, shown
from lsbanalysis.names import Municipality

FLEMISH_REGION = "02000"


class YearError(LsbError):
    """A year an indicator (or every indicator) does not have, or that is not a year."""


class UnknownIndicatorError(LsbError):
    pass


class MergedMunicipalityError(LsbError):
    """A municipality that no longer exists in the current geography (it merged)."""


class NotFlemishError(LsbError):
    """The analyserapport is made for Flemish municipalities only."""


@dataclass(frozen=True)
class Request:
    """A validated comparison request."""

    target: Municipality
    group: ReferenceGroup
    year: int | None
    indicators: list[str] | None  # None: every indicator of the catalogue


def check_year(year: object) -> int | None:
    """An int year (also from '2022' or a numpy integer), or None; YearError otherwise."""
    if year is None:
        return None
    if isinstance(year, str) and re.fullmatch(r"\s*\d{4}\s*", year):
        return int(year)
    if isinstance(year, numbers.Integral) and not isinstance(year, bool) and 1000 <= year <= 9999:
        return int(year)
    raise YearError(f"Ongeldig jaar {shown(year)}: geef een jaartal als geheel getal, zoals 2022.")


def check_indicators(indicators: object, catalogue: Catalogue) -> list[str] | None:
    """Indicator ids as a list (one id, or ids separated by commas, may be a plain string)."""
    if indicators is None:
        return None
    if isinstance(indicators, str):
        items = [p.strip() for p in indicators.split(",") if p.strip()]
    elif isinstance(indicators, Sequence | set | frozenset) and all(
        isinstance(i, str) for i in indicators
    ):
        items = [i.strip() for i in indicators]
    else:
        raise UnknownIndicatorError(
            f"Ongeldige indicatoren {shown(indicators)}: geef een lijst van indicator-id's, "
            "zoals ['werkzoekendengraad']."
        )
    unknown = [i for i in items if i not in catalogue.indicators]
    if unknown:
        raise UnknownIndicatorError(
            f"Onbekende indicator {shown(unknown[0])}; bestaande: "
            f"{', '.join(catalogue.indicators)}."
        )
    return list(dict.fromkeys(items)) or None


def current_municipality(ds, gemeente: object) -> Municipality:
    """The municipality, which must exist in the current (2025) municipal geography."""
    target = gemeente if isinstance(gemeente, Municipality) else ds.municipality(gemeente)
    if target.geo_version != CURRENT_GEOGRAPHY:
        found = successor(ds, target)
        advice = f" Vergelijk {found[0].name}." if found else ""
        raise MergedMunicipalityError(
            f"{merged_phrase(ds, target)}; vergelijkingen gebeuren in de huidige gemeentelijke "
            f"indeling ({CURRENT_GEOGRAPHY}).{advice}"
        )
    return target


def validate_request(
    ds,
    gemeente: object,
    reference: object,
    year: object = None,
    indicators: object = None,
    *,
    flemish: bool = False,
) -> Request:
    """Check a comparison request; raises the library's errors with one clear sentence each.

    ``flemish=True`` (the analyserapport) refuses a municipality outside Flanders first.
    """
    target = current_municipality(ds, gemeente)
    if flemish:
        require_flemish(ds, target)
    group = resolve_group(ds, target, reference)
    return Request(
        target=target,
        group=group,
        year=check_year(year),
        indicators=check_indicators(indicators, load_catalogue()),
    )


def require_flemish(ds, target: Municipality) -> None:
    """The analyserapport needs a Flemish municipality (VDAB, Flemish benchmarks)."""
    if target.region != FLEMISH_REGION:
        region = ds.name_of(target.region)
        raise NotFlemishError(
            f"{target} ligt in het {region}, niet in Vlaanderen. Het analyserapport is er voor "
            "Vlaamse gemeenten: de cijfers over werk (VDAB) en de vergelijking met het Vlaams "
            "Gewest bestaan alleen voor Vlaanderen. De cijfers die wel bestaan (inkomen, "
            f"vastgoed) toont `lsb compare --gemeente {target.nis} --referentie …`."
        )
