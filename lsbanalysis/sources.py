"""The source manifest: which official files the store is built from, where they come from."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path

from lsbanalysis.errors import ManifestError
from lsbanalysis.paths import PACKAGE_DIR

MANIFEST_PATH = PACKAGE_DIR / "sources.toml"

_YEAR_RANGE = re.compile(r"^\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?$")


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative to the raw folder, e.g. "statbel/fisc2022_C_NL.xls"
    sha256: str
    bytes: int
    url: str | None = None
    url_confirmed: bool = False
    #: The URL serves an archive (.zip); the file is this member of it.
    archive_member: str | None = None

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    publisher: str
    role: str  # observations / geography / boundaries
    reader: str
    edition: str
    geo_version: str
    attribution: str
    licence: str
    page: str
    files: tuple[SourceFile, ...]
    #: What the file itself must say it is (``[source.expect]``): ``years`` (the set of years
    #: of its observations) and any key the reader reports in ``frame.attrs`` (``language``,
    #: ``table``, ``frequency``, ...). Checked by the build; empty = not checked.
    expect: dict = field(default_factory=dict, hash=False, compare=False)


def parse_years(value: object, *, where: str) -> tuple[int, ...]:
    """``2022``, ``"2005-2020"`` (every year of the range) or ``[2015, 2016]`` → sorted years."""
    items = value if isinstance(value, list) else [value]
    years: set[int] = set()
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            years.add(item)
            continue
        match = _YEAR_RANGE.match(item) if isinstance(item, str) else None
        if not match:
            raise ManifestError(
                f"{where}: expect.years must be a year (2022), a range (\"2005-2020\") or a "
                f"list of years, found {value!r}"
            )
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first:
            raise ManifestError(f"{where}: expect.years range {item!r} ends before it starts")
        years.update(range(first, last + 1))
    return tuple(sorted(years))


@cache
def load_manifest(path: Path = MANIFEST_PATH) -> tuple[Source, ...]:
    """All sources of the manifest, in file order.

    Raises ManifestError naming the file (and the source) when it cannot be read, is not valid
    TOML, or an entry lacks or misspells a field.
    """
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except OSError as exc:
        raise ManifestError(f"the source manifest {path} cannot be read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"the source manifest {path} is not valid TOML: {exc}") from exc
    entries = raw.get("source")
    if not isinstance(entries, list) or not entries:
        raise ManifestError(f"{path}: expected [[source]] entries, found none")
    known_source = {f.name for f in fields(Source)}
    known_file = {f.name for f in fields(SourceFile)}
    sources = []
    for n, entry in enumerate(entries, start=1):
        entry = dict(entry)
        where = f"{path}, [[source]] {entry.get('id', f'nr. {n}')!r}"
        files = entry.pop("file", None)
        if not files:
            raise ManifestError(f"{where}: expected at least one [[source.file]]")
        for f in files:
            unknown = sorted(set(f) - known_file)
            missing = sorted({"path", "sha256", "bytes"} - set(f))
            if unknown or missing:
                raise ManifestError(
                    f"{where}, file {f.get('path')!r}: unknown field(s) {unknown}, missing "
                    f"field(s) {missing}"
                )
        unknown = sorted(set(entry) - known_source)
        missing = sorted(known_source - {"files", "expect"} - set(entry))
        if unknown or missing:
            raise ManifestError(f"{where}: unknown field(s) {unknown}, missing field(s) {missing}")
        expect = dict(entry.pop("expect", {}))
        if "years" in expect:
            expect["years"] = parse_years(expect["years"], where=where)
        sources.append(
            Source(**entry, files=tuple(SourceFile(**f) for f in files), expect=expect)
        )
    ids = [s.id for s in sources]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ManifestError(f"{path}: duplicate source id(s) {dup}")
    return tuple(sources)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
