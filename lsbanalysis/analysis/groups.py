"""Reference groups: which municipalities a target is compared with."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lsbanalysis.analysis.catalogue import load_reference_groups
from lsbanalysis.errors import LsbError
from lsbanalysis.names import Municipality

CURRENT_GEOGRAPHY = "2025"


class ReferenceGroupError(LsbError):
    """A reference group that cannot be used (unknown, too small, mixed geographies)."""


@dataclass(frozen=True)
class ReferenceGroup:
    id: str  # "ISOM", "arrondissement", "buren" or "lijst"
    label: str  # Dutch, used in sentences: "de ISOM-gemeenten"
    members: tuple[Municipality, ...]  # includes the target

    @property
    def codes(self) -> list[str]:
        return [m.nis for m in self.members]

    def __len__(self) -> int:
        return len(self.members)


def resolve_group(ds, target: Municipality, reference: str | Sequence[str]) -> ReferenceGroup:
    """Turn a group name (ISOM, arrondissement, buren) or a list of names/NIS codes into members.

    The target is always a member. Members must all exist in the current (2025) municipal
    geography, and a group needs at least two municipalities.
    """
    specs = load_reference_groups()
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
        else:  # pragma: no cover - the catalogue loader rejects other rules
            raise ReferenceGroupError(f"onbekende regel {spec.rule!r} voor groep {spec.id}")
    else:
        items = (
            [p for p in re.split(r"[,;]", reference) if p.strip()]
            if isinstance(reference, str)
            else list(reference)
        )
        if isinstance(reference, str) and len(items) == 1:
            known = ", ".join(s.id for s in specs.values())
            # One word that is not a group: most likely a typo of a group name.
            try:
                members = [ds.municipality(items[0])]
            except LsbError:
                raise ReferenceGroupError(
                    f"Onbekende referentiegroep {reference!r}. Kies {known}, "
                    "of geef een lijst van gemeenten (namen of NIS-codes, met komma's)."
                ) from None
        else:
            members = [ds.municipality(item) for item in items]
        group_id, label = "lijst", "gemeenten van de referentielijst"
    if target.nis not in {m.nis for m in members}:
        members = [target, *members]
        if group_id == "lijst":  # say so: the list as given did not hold the target
            label = f"{label} (aangevuld met {target.name})"
    members = list({m.nis: m for m in members}.values())
    old = [m for m in members if m.geo_version != CURRENT_GEOGRAPHY]
    if old:
        names = ", ".join(f"{m.name} ({m.nis}, indeling {m.geo_version})" for m in old)
        raise ReferenceGroupError(
            f"De referentiegroep mengt gemeentelijke indelingen: {names} bestaat niet meer in "
            f"de indeling {CURRENT_GEOGRAPHY}. Gebruik de huidige gemeenten (na de fusies)."
        )
    if len(members) < 2:
        raise ReferenceGroupError(
            f"De referentiegroep {label!r} bevat alleen {target.name}; een vergelijking "
            "vraagt minstens twee gemeenten."
        )
    return ReferenceGroup(id=group_id, label=label, members=tuple(members))


def arrondissement_phrase(name: str) -> str:
    """'Arrondissement Turnhout' → 'arrondissement Turnhout' (for use inside a sentence)."""
    return name[0].lower() + name[1:] if name.lower().startswith("arrondissement") else (
        f"arrondissement {name}"
    )
