"""Reference groups: which municipalities a target is compared with."""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lsbanalysis.analysis.catalogue import load_reference_groups
from lsbanalysis.errors import LsbError, shown
from lsbanalysis.names import Municipality

CURRENT_GEOGRAPHY = "2025"


class ReferenceGroupError(LsbError):
    """A reference group that cannot be used (unknown, too small, mixed geographies)."""


@dataclass(frozen=True)
class ReferenceGroup:
    id: str  # "ISOM", "arrondissement", "buren", "gelijkaardig" or "lijst"
    label: str  # Dutch, used in sentences: "de ISOM-gemeenten"
    members: tuple[Municipality, ...]  # includes the target
    # 'gelijkaardig': how the members were chosen (a SimilarGroup: distances, variables,
    # outlier warning), for the report and `lsb groep`.
    similarity: object | None = field(default=None, compare=False, repr=False)

    @property
    def codes(self) -> list[str]:
        return [m.nis for m in self.members]

    def __len__(self) -> int:
        return len(self.members)


def resolve_group(ds, target: Municipality, reference: str | Sequence[str]) -> ReferenceGroup:
    """Turn a group name (ISOM, arrondissement, buren, gelijkaardig) or a list of names/NIS
    codes into members.

    The target is always a member. Members must all exist in the current (2025) municipal
    geography, and a group needs at least two municipalities.
    """
    specs = load_reference_groups()
    similar = None
    known = ", ".join(s.id for s in specs.values())
    usable = isinstance(reference, str) or (
        isinstance(reference, Sequence | set | frozenset)
        and all(isinstance(x, str | numbers.Integral | Municipality) for x in reference)
    )
    if not usable or not (reference.strip() if isinstance(reference, str) else reference):
        given = "" if reference is None else f" ({shown(reference)})"
        raise ReferenceGroupError(
            f"Geen bruikbare referentiegroep opgegeven{given}. Kies {known}, of geef een lijst "
            "van gemeenten (namen of NIS-codes, met komma's)."
        )
    if isinstance(reference, str) and reference.strip().casefold() in specs:
        spec = specs[reference.strip().casefold()]
        if spec.members:
            members = [ds.municipality(code) for code in spec.members]
            group_id, label = spec.id, spec.label
        elif spec.rule == "arrondissement":
            geo = ds.geography
            rows = geo[
                (geo["geo_version"] == target.geo_version)
                & (geo["level"] == "municipality")
                & (geo["arrondissement"] == target.arrondissement)
            ]
            members = [ds.municipality(code) for code in rows["nis"]]
            arr = ds.name_of(target.arrondissement, target.geo_version)
            group_id, label = spec.id, f"gemeenten van het {arrondissement_phrase(arr)}"
        elif spec.rule == "buren":
            nb = ds.neighbours
            codes = nb.loc[
                (nb["geo_version"] == target.geo_version) & (nb["nis"] == target.nis),
                "neighbour_nis",
            ]
            if codes.empty:
                raise ReferenceGroupError(
                    f"{target.name} deelt in de grenzenbestanden (Vlaanderen en Brussel) met geen "
                    "enkele gemeente een grens, dus de groep 'buren' is leeg. Kies "
                    "'arrondissement' of geef een lijst van gemeenten."
                )
            members = [target] + [ds.municipality(code) for code in sorted(codes)]
            group_id, label = spec.id, f"buurgemeenten van {target.name}"
        elif spec.rule == "gelijkaardig":
            from lsbanalysis.analysis.similar import similar_municipalities

            similar = similar_municipalities(ds, target)
            members = list(similar.members)
            group_id, label = spec.id, spec.label
        else:  # pragma: no cover - the catalogue loader rejects other rules
            raise ReferenceGroupError(f"onbekende regel {spec.rule!r} voor groep {spec.id}")
    else:
        items = (
            [p for p in re.split(r"[,;]", reference) if p.strip()]
            if isinstance(reference, str)
            else list(reference)
        )
        if isinstance(reference, str) and len(items) == 1:
            # One word that is not a group: most likely a typo of a group name.
            try:
                members = [ds.municipality(items[0])]
            except LsbError:
                raise ReferenceGroupError(
                    f"Onbekende referentiegroep {shown(reference)}. Kies {known}, "
                    "of geef een lijst van gemeenten (namen of NIS-codes, met komma's)."
                ) from None
        else:
            members = [m if isinstance(m, Municipality) else ds.municipality(m) for m in items]
        group_id, label = "lijst", "gemeenten van de referentielijst"
    if target.nis not in {m.nis for m in members}:
        members = [target, *members]
        if group_id == "lijst":  # say so: the list as given did not hold the target
            label = f"{label} (aangevuld met {target.name})"
    members = list({m.nis: m for m in members}.values())
    old = [m for m in members if m.geo_version != CURRENT_GEOGRAPHY]
    if old:
        names = "; ".join(merged_phrase(ds, m) for m in old)
        raise ReferenceGroupError(
            f"De referentiegroep mengt gemeentelijke indelingen: {names}. Gebruik de huidige "
            f"gemeenten (na de fusies, indeling {CURRENT_GEOGRAPHY})."
        )
    if len(members) < 2:
        raise ReferenceGroupError(
            f"De referentiegroep {label!r} bevat alleen {target.name}; een vergelijking "
            "vraagt minstens twee gemeenten."
        )
    return ReferenceGroup(id=group_id, label=label, members=tuple(members), similarity=similar)


#: Date a geography took effect: a municipality absent from it merged on that day.
GEOGRAPHY_START = {"2019": "1 januari 2019", "2025": "1 januari 2025"}


def successor(ds, municipality: Municipality) -> tuple[Municipality, str] | None:
    """The current municipality a merged-away one became part of, and the date it merged.

    Follows the crosswalks (1977 → 2019 → 2025); None if there is no known successor.
    """
    cw = ds.crosswalk
    nis, version, merged_on = municipality.nis, municipality.geo_version, None
    while version != CURRENT_GEOGRAPHY:
        step = cw[(cw["geo_from"] == version) & (cw["nis_from"] == nis)]
        if step.empty:
            return None
        row = step.iloc[0]
        if row["nis_to"] != nis and merged_on is None:
            merged_on = GEOGRAPHY_START.get(row["geo_to"], f"de indeling {row['geo_to']}")
        nis, version = row["nis_to"], row["geo_to"]
    try:
        now = ds.municipality(nis)
    except LsbError:
        return None
    return (now, merged_on or GEOGRAPHY_START.get(CURRENT_GEOGRAPHY, "")) if (
        now.geo_version == CURRENT_GEOGRAPHY) else None


def merged_phrase(ds, municipality: Municipality) -> str:
    """'Borsbeek (11007) is sinds 1 januari 2025 een deel van Antwerpen (11002)'."""
    found = successor(ds, municipality)
    if found is None:
        return (f"{municipality.name} ({municipality.nis}) bestaat niet meer in de gemeentelijke "
                f"indeling {CURRENT_GEOGRAPHY}")
    now, since = found
    return f"{municipality.name} ({municipality.nis}) is sinds {since} een deel van {now}"


def arrondissement_phrase(name: str) -> str:
    """'Arrondissement Turnhout' → 'arrondissement Turnhout' (for use inside a sentence)."""
    return name[0].lower() + name[1:] if name.lower().startswith("arrondissement") else (
        f"arrondissement {name}"
    )
