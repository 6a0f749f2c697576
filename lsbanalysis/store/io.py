"""Reading and writing the processed store's files (Parquet + a JSON manifest).

Every read failure is a :class:`StoreError` in one sentence naming the file and what to do:
a missing, truncated, bit-flipped or otherwise unreadable file, a manifest that is not JSON,
lacks a field or has another store format, or a store folder that an interrupted build left
missing (with its backup beside it). Since store manifests list each store file's sha256
(``store_files``), a damaged Parquet file is found even where Parquet itself would not notice.
"""

from __future__ import annotations

import hashlib
import io as _io
import json
from pathlib import Path

import pandas as pd

from lsbanalysis.atomic import backups_of
from lsbanalysis.errors import StoreError

OBSERVATIONS_FILE = "observations.parquet"
GEOGRAPHY_FILE = "geography.parquet"
CROSSWALK_FILE = "crosswalk.parquet"
NEIGHBOURS_FILE = "neighbours.parquet"
BOUNDARIES_FILE = "boundaries.parquet"
MANIFEST_FILE = "manifest.json"
STORE_FILES = (
    OBSERVATIONS_FILE,
    GEOGRAPHY_FILE,
    CROSSWALK_FILE,
    NEIGHBOURS_FILE,
    BOUNDARIES_FILE,
    MANIFEST_FILE,
)
#: Bumped whenever the layout of the store changes incompatibly.
STORE_FORMAT = 1

CATEGORICAL = ("source", "measure", "nis", "level", "geo_version", "period", "unit", "status")

#: Fields every manifest (and every source entry in it) must have to be used.
MANIFEST_FIELDS = ("store_format", "built_at", "sources")
SOURCE_FIELDS = ("id", "title", "publisher", "edition", "files")


def repair_hint(store_dir: Path) -> str:
    """What to do about a damaged store: git for the embedded one, a rebuild for any other."""
    from lsbanalysis.paths import PROCESSED_DIR

    try:
        embedded = Path(store_dir).resolve() == PROCESSED_DIR.resolve()
    except OSError:
        embedded = False
    if embedded:
        return (
            "restore it with `git checkout -- data/processed` or rebuild it with "
            "`lsb data build`"
        )
    return f"rebuild it with `lsb data build --out {store_dir}`"


def write_table(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, engine="pyarrow", compression="zstd", index=False)


def read_table(
    path: Path, columns: list[str] | None = None, *, sha256: str | None = None
) -> pd.DataFrame:
    """Read a store table; ``sha256`` (from the manifest) is checked first when given."""
    return parse_table(path, read_checked(path, sha256), columns)


def parse_table(path: Path, data: bytes, columns: list[str] | None = None) -> pd.DataFrame:
    """Parse a store table read with :func:`read_checked` (errors name ``path``)."""
    return _parse(path, data, lambda buf: pd.read_parquet(buf, engine="pyarrow",
                                                          columns=columns))


def read_geo_table(path: Path, *, sha256: str | None = None):
    """Read the GeoParquet boundaries (a GeoDataFrame), checked like :func:`read_table`."""
    import geopandas

    return _parse(path, read_checked(path, sha256), geopandas.read_parquet)


def read_checked(path: Path, sha256: str | None) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StoreError(
            f"{path} is missing: the processed store is incomplete; "
            f"{repair_hint(path.parent)}."
        ) from None
    except OSError as exc:
        raise StoreError(f"{path} cannot be read ({exc.strerror}).") from exc
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise StoreError(
            f"{path} is damaged: its sha256 differs from the one in {MANIFEST_FILE} (a "
            f"truncated copy or a changed byte); {repair_hint(path.parent)}."
        )
    return data


def _parse(path: Path, data: bytes, reader):
    try:
        return reader(_io.BytesIO(data))
    except Exception as exc:  # pyarrow: ArrowInvalid, OSError; geopandas: ValueError, ...
        reason = " ".join(str(exc).split())[:160]
        raise StoreError(
            f"{path} is damaged and cannot be read as Parquet ({reason}); "
            f"{repair_hint(path.parent)}."
        ) from exc


def store_file_sha256(manifest: dict, name: str) -> str | None:
    """The sha256 the manifest records for store file ``name`` (None in older stores)."""
    entry = (manifest.get("store_files") or {}).get(name)
    return entry.get("sha256") if isinstance(entry, dict) else None


def read_manifest(store_dir: Path) -> dict:
    """The store's manifest, checked for the fields lsbanalysis uses."""
    store_dir = Path(store_dir)
    path = store_dir / MANIFEST_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _missing_store(store_dir) from None
    except NotADirectoryError:
        raise StoreError(f"{store_dir} is not a folder: expected a processed store.") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise StoreError(
            f"{path} cannot be read ({reason}); {repair_hint(store_dir)}."
        ) from exc
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        raise StoreError(
            f"{path} is damaged (not valid JSON: {exc}); {repair_hint(store_dir)}."
        ) from exc
    if not isinstance(manifest, dict):
        raise StoreError(
            f"{path} is damaged (expected a JSON object, found {type(manifest).__name__}); "
            f"{repair_hint(store_dir)}."
        )
    missing = [k for k in MANIFEST_FIELDS if k not in manifest]
    if missing:
        raise StoreError(
            f"{path} is incomplete (no {', '.join(missing)}); {repair_hint(store_dir)}."
        )
    if manifest.get("store_format") != STORE_FORMAT:
        raise StoreError(
            f"{path}: store format {manifest.get('store_format')!r}, this version of "
            f"lsbanalysis reads format {STORE_FORMAT}. Rebuild with `lsb data build`."
        )
    sources = manifest["sources"]
    if not isinstance(sources, list) or not sources:
        raise StoreError(
            f"{path} is incomplete (its list of sources is empty or not a list); "
            f"{repair_hint(store_dir)}."
        )
    for n, entry in enumerate(sources, start=1):
        lacks = [k for k in SOURCE_FIELDS if not isinstance(entry, dict) or k not in entry]
        if lacks or not isinstance(entry.get("files"), list):
            name = entry.get("id", f"nr. {n}") if isinstance(entry, dict) else f"nr. {n}"
            raise StoreError(
                f"{path} is incomplete (source {name!r} lacks {', '.join(lacks) or 'files'}); "
                f"{repair_hint(store_dir)}."
            )
        if not all(isinstance(f, dict) and {"name", "sha256"} <= set(f) for f in entry["files"]):
            raise StoreError(
                f"{path} is incomplete (a file of source {entry['id']!r} lacks its name or "
                f"sha256); {repair_hint(store_dir)}."
            )
    return manifest


def _missing_store(store_dir: Path) -> StoreError:
    backups = backups_of(store_dir)
    if backups and not store_dir.exists():
        return StoreError(
            f"the processed store {store_dir} is missing, but the previous store is still "
            f"beside it as {backups[-1]}: a `lsb data build` was stopped while replacing it. "
            f"Run `lsb data build` (it puts the backup back first) or rename "
            f"{backups[-1].name} to {store_dir.name}."
        )
    return StoreError(
        f"No processed store in {store_dir} ({MANIFEST_FILE} missing). "
        "Build it with `lsb data build --raw DIR`."
    )


def write_manifest(store_dir: Path, manifest: dict) -> None:
    (store_dir / MANIFEST_FILE).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
