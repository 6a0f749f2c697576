"""The source manifest: which official files the store is built from, where they come from."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lsbanalysis.paths import PACKAGE_DIR

MANIFEST_PATH = PACKAGE_DIR / "sources.toml"


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative to the raw folder, e.g. "statbel/fisc2022_C_NL.xls"
    sha256: str
    bytes: int
    url: str | None = None
    url_confirmed: bool = False

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


@cache
def load_manifest(path: Path = MANIFEST_PATH) -> tuple[Source, ...]:
    """All sources of the manifest, in file order."""
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    sources = []
    for entry in raw["source"]:
        files = tuple(SourceFile(**f) for f in entry.pop("file"))
        sources.append(Source(**entry, files=files))
    ids = [s.id for s in sources]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: duplicate source ids")
    return tuple(sources)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
