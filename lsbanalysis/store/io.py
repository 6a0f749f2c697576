"""Reading and writing the processed store's files (Parquet + a JSON manifest)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

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


def write_table(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, engine="pyarrow", compression="zstd", index=False)


def read_table(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    if not path.exists():
        raise StoreError(
            f"{path} is missing: the processed store is incomplete. "
            "Rebuild it with `lsb data build` (raw files from `lsb data fetch`)."
        )
    return pd.read_parquet(path, engine="pyarrow", columns=columns)


def read_manifest(store_dir: Path) -> dict:
    path = store_dir / MANIFEST_FILE
    if not path.exists():
        raise StoreError(
            f"No processed store in {store_dir} ({MANIFEST_FILE} missing). "
            "Build it with `lsb data build --raw DIR`."
        )
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("store_format") != STORE_FORMAT:
        raise StoreError(
            f"{path}: store format {manifest.get('store_format')!r}, this version of "
            f"lsbanalysis reads format {STORE_FORMAT}. Rebuild with `lsb data build`."
        )
    return manifest


def write_manifest(store_dir: Path, manifest: dict) -> None:
    (store_dir / MANIFEST_FILE).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
