"""The comparison of one report, computed once by the runner and read by every chapter.

Every chapter of a report shows the same comparison: its figures, its findings and its
kernvaststellingen. Computing them takes longer than drawing most chapters (the indicator table
of the whole store, the Flemish spread behind the key findings), so the runner computes them
once, writes them into the build folder and gives the chapters the file's path as the
parameter ``gedeeld``; :class:`~lsbanalysis.report.chapter.Chapter` reads it (:func:`read`)
instead of recomputing. The exports use the same object, so the CSVs and the chapters cannot
disagree.

Two files, so that the chapters start drawing as soon as they can:

1. ``.gedeeld.pickle`` (:func:`prepare`, :func:`write`): the comparison with its history and
   the arrondissement comparison of the maps; the chapters start when it is there.
2. ``.gedeeld.pickle.vaststellingen`` (:func:`prepare_findings`, :func:`write_findings`): the
   findings, the kernvaststellingen, the age structure and the permits of the incomplete year
   (:data:`LATER`), computed meanwhile. A chapter that asks for them before the runner has
   written them waits for the file.

Each is a pickle (:mod:`pickle`) of the :class:`~lsbanalysis.analysis.compare.Comparison`
without its engine (it would carry the whole dataset), resp. of its findings: what was computed
before writing travels along, anything else is computed on demand from the chapter's own
dataset. The files are written and read by the same installation within one run, so pickle's
lack of a stable format does not matter; they are written whole under a temporary name and then
renamed (a reader never sees half a file), and removed before the report is published. The
parameters they were made for are stored with them and checked, so a chapter never shows
another report's comparison.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import time
from functools import cached_property
from pathlib import Path

from lsbanalysis.analysis.compare import Comparison
from lsbanalysis.errors import LsbError

#: Name of the file in the build folder (removed before publishing).
SHARED_FILE = ".gedeeld.pickle"
FINDINGS_SUFFIX = ".vaststellingen"
FORMAT = 3
#: Seconds a chapter waits for the findings before it gives up (a runner that fails stops
#: the chapters' kernels long before).
WAIT = 600.0


class SharedDataError(LsbError):
    """The runner's file with the comparison is unusable or belongs to other parameters."""


def prepare(ds, target, group, jaar) -> Comparison:
    """The report's comparison with what the chapters need first: history and the
    arrondissement comparison of the maps."""
    reference = group.id if group.id != "lijst" else list(group.codes)
    c = ds.compare(target, reference, year=jaar)
    for name in ("history", "area"):
        getattr(c, name)
    return c


#: Computed while the chapters already run and written to the second file: the findings, the
#: kernvaststellingen, the pyramid's age structure and the permits of the incomplete year, so
#: that no chapter needs an engine of its own (building one costs a kernel over a second).
LATER = ("findings", "synthesis", "age_structure", "year_to_date")


def prepare_findings(c: Comparison) -> Comparison:
    """Compute what :data:`LATER` names for ``c`` (in place); without data for the age
    structure or the permits the chapter says why, as it would on its own."""
    from lsbanalysis.analysis.partial_year import PartialYearError
    from lsbanalysis.analysis.structure import AgeStructureError

    c.findings, c.synthesis  # noqa: B018 - cached properties, computed here
    for name in ("age_structure", "year_to_date"):
        with contextlib.suppress(AgeStructureError, PartialYearError):
            getattr(c, name)
    return c


def findings_path(path: str | Path) -> Path:
    return Path(f"{path}{FINDINGS_SUFFIX}")


def write(c: Comparison, path: str | Path, parameters: dict) -> Path:
    """Pickle comparison ``c`` with the chapter ``parameters`` it answers (gemeente,
    referentie, jaar, store_dir)."""
    state = dict(c.__dict__)  # what is computed later follows in its own file
    for name in LATER:
        c.__dict__.pop(name, None)
    try:
        return _dump(Path(path), {"format": FORMAT, "parameters": _key(parameters),
                                  "comparison": c})
    finally:
        c.__dict__.update(state)


def write_findings(c: Comparison, path: str | Path) -> Path:
    """Pickle what :data:`LATER` names and ``c`` has computed next to its comparison file."""
    later = {name: c.__dict__[name] for name in LATER if name in c.__dict__}
    return _dump(findings_path(path), {"format": FORMAT, "later": later})


def _dump(path: Path, payload: dict) -> Path:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return path


def _load(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            payload = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        raise SharedDataError(
            f"De gedeelde vergelijking {path} is onleesbaar ({type(exc).__name__}: {exc}); "
            "laat de parameter gedeeld weg om ze in het hoofdstuk zelf te berekenen."
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise SharedDataError(f"{path} is geen gedeelde vergelijking van deze versie van "
                              "lsbanalysis.")
    return payload


def read(path: str | Path, parameters: dict, ds=None) -> Comparison:
    """The comparison in ``path``, checked against this chapter's ``parameters``; attached to
    ``ds`` when given (for what was not computed in advance: maps, other comparisons). Its
    findings and synthesis are read from the second file when first used."""
    path = Path(path)
    payload = _load(path)
    if payload["parameters"] != _key(parameters):
        raise SharedDataError(
            f"De gedeelde vergelijking {path} is gemaakt voor {payload['parameters']}, niet "
            f"voor {_key(parameters)}."
        )
    c = payload["comparison"]
    c.__class__ = SharedComparison
    c._findings_file = findings_path(path)
    return c.attach(ds) if ds is not None else c


def _later_property(name: str) -> cached_property:
    """A cached property of :class:`SharedComparison` read from the second file."""
    return cached_property(lambda self: self._later(name))


class SharedComparison(Comparison):
    """A comparison read from the runner's files: what :data:`LATER` names comes from the
    second file, waited for when asked before the runner wrote it; what the runner could not
    compute (no age structure, say) is computed here, and says why."""

    _findings_file: Path

    def _later(self, name: str):
        if "_later_payload" not in self.__dict__:
            deadline = time.monotonic() + WAIT
            while not self._findings_file.exists():
                if time.monotonic() > deadline:
                    raise SharedDataError(
                        f"De vaststellingen ({self._findings_file}) zijn na {WAIT:g} s nog niet "
                        "berekend."
                    )
                time.sleep(0.02)
            self.__dict__["_later_payload"] = _load(self._findings_file)["later"]
        later = self.__dict__["_later_payload"]
        if name in later:
            return later[name]
        return getattr(Comparison, name).func(self)

    findings = _later_property("findings")
    synthesis = _later_property("synthesis")
    age_structure = _later_property("age_structure")
    year_to_date = _later_property("year_to_date")


def _key(parameters: dict) -> dict:
    store = parameters.get("store_dir")
    jaar = parameters.get("jaar")
    return {
        "gemeente": str(parameters["gemeente"]),
        "referentie": str(parameters["referentie"]),
        "jaar": None if jaar is None else int(jaar),
        "store_dir": None if store is None else str(Path(store).resolve()),
    }
