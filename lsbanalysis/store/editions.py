"""Is a raw file the edition the manifest declares? Checked on what the file itself says.

A file can have the right layout and still be the wrong file: ``fisc2016_C_NL.xls`` copied over
``fisc2022_C_NL.xls`` reads without error. ``[source.expect]`` in ``sources.toml`` declares what
each file must be (``years``, ``language``, ``table``, ``frequency``, ...); the reader reports
what it found in the file (the years of its observations, and ``frame.attrs`` set from the
file's own titles, sheets and headers); :func:`check_edition` compares the two.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lsbanalysis.errors import EditionError, ManifestError
from lsbanalysis.sources import MANIFEST_PATH, Source


def reported(frame: pd.DataFrame) -> dict[str, object]:
    """What a reader's result says about its file: ``frame.attrs`` plus the observed ``years``."""
    found = {k: v for k, v in frame.attrs.items() if k != "source"}
    if "year" in frame.columns:
        found["years"] = tuple(sorted({int(y) for y in pd.unique(frame["year"])}))
    return found


def check_edition(source: Source, frame: pd.DataFrame, path: Path) -> None:
    """Fail unless ``frame`` (read from ``path``) is what ``source.expect`` declares.

    Raises EditionError (naming the file, what it holds and what was declared) on a
    mismatch, and ManifestError when the manifest expects something the reader does not
    report. A source without ``expect`` is not checked.
    """
    if not source.expect:
        return
    found = reported(frame)
    problems = []
    for key, want in source.expect.items():
        if key not in found:
            raise ManifestError(
                f"{MANIFEST_PATH.name}, source {source.id!r}: [source.expect] declares "
                f"{key!r}, but the {source.reader!r} reader does not report it (it reports "
                f"{sorted(found) or 'nothing'}); remove the key or make the reader report it"
            )
        got = found[key]
        if got is None:
            problems.append(f"no {key} (expected {_show(key, want)})")
        elif not _same(key, got, want):
            problems.append(f"{key} {_show(key, got)} (expected {_show(key, want)})")
    if problems:
        raise EditionError(
            path,
            f"this is not the edition sources.toml declares for {source.id!r} "
            f"({source.edition}): the file holds {'; '.join(problems)}. Put the right file in "
            "place (`lsb data fetch`); if the publisher changed the edition, update "
            "[source.expect] and the edition in sources.toml",
        )


def _same(key: str, got: object, want: object) -> bool:
    if key == "years":
        return tuple(got) == tuple(want)  # type: ignore[arg-type]
    return _norm(got) == _norm(want)


def _norm(value: object) -> str:
    return " ".join(str(value).split()).casefold()


def _show(key: str, value: object) -> str:
    if key == "years":
        years = list(value)  # type: ignore[call-overload]
        if not years:
            return "none"
        if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
            return f"{years[0]}-{years[-1]}"
        return ", ".join(str(y) for y in years)
    return repr(value)
