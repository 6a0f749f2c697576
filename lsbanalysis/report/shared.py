"""The comparison of one report, computed once by the runner and read by every chapter.

Every chapter of a report shows the same comparison: its figures, its findings and its
kernvaststellingen. Computing them takes longer than drawing most chapters (the indicator table
of the whole store, the Flemish spread behind the key findings), so the runner computes them
once (:func:`prepare`), writes them into the build folder (:func:`write`) and gives the chapters
the file's path as the parameter ``gedeeld``; :class:`~lsbanalysis.report.chapter.Chapter` reads
it (:func:`read`) instead of recomputing. The exports use the same object, so the CSVs and the
chapters cannot disagree.

The file is a pickle of the :class:`~lsbanalysis.analysis.compare.Comparison` without its
engine (it would carry the whole dataset): what was computed before writing travels along,
anything else is computed on demand from the chapter's own dataset. It is written and read by
the same installation within one run, so pickle's lack of a stable format does not matter; it
is removed before the report is published. The parameters it was made for are stored with it
and checked, so a chapter never shows another report's comparison.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from lsbanalysis.errors import LsbError

#: Name of the file in the build folder (removed before publishing).
SHARED_FILE = ".gedeeld.pickle"
FORMAT = 1


class SharedDataError(LsbError):
    """The runner's file with the comparison is unusable or belongs to other parameters."""


def prepare(ds, target, group, jaar):
    """The report's comparison with everything the chapters and the exports read computed."""
    reference = group.id if group.id != "lijst" else list(group.codes)
    c = ds.compare(target, reference, year=jaar)
    for name in ("findings", "synthesis", "history", "area"):
        getattr(c, name)
    return c


def write(c, path: Path, parameters: dict) -> Path:
    """Pickle comparison ``c`` with the chapter ``parameters`` it answers (gemeente,
    referentie, jaar, store_dir)."""
    path = Path(path)
    with path.open("wb") as f:
        pickle.dump({"format": FORMAT, "parameters": _key(parameters), "comparison": c}, f,
                    protocol=pickle.HIGHEST_PROTOCOL)
    return path


def read(path: str | Path, parameters: dict, ds=None):
    """The comparison in ``path``, checked against this chapter's ``parameters``; attached to
    ``ds`` when given (for what was not computed in advance: maps, other comparisons)."""
    path = Path(path)
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
    if payload["parameters"] != _key(parameters):
        raise SharedDataError(
            f"De gedeelde vergelijking {path} is gemaakt voor {payload['parameters']}, niet "
            f"voor {_key(parameters)}."
        )
    c = payload["comparison"]
    return c.attach(ds) if ds is not None else c


def _key(parameters: dict) -> dict:
    store = parameters.get("store_dir")
    jaar = parameters.get("jaar")
    return {
        "gemeente": str(parameters["gemeente"]),
        "referentie": str(parameters["referentie"]),
        "jaar": None if jaar is None else int(jaar),
        "store_dir": None if store is None else str(Path(store).resolve()),
    }
