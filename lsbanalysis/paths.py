"""Where things live: the package, the repository's data folders and the local raw-data mirror."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
DATA_DIR = REPO_DIR / "data"
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
REPORTS_DIR = REPO_DIR / "reports"
NOTEBOOKS_DIR = REPO_DIR / "notebooks"

#: Environment variable naming a local mirror of the official downloads.
MIRROR_ENV = "LSB_DATA_MIRROR"


def default_mirror() -> Path | None:
    """The local mirror of the official files: $LSB_DATA_MIRROR, else ../shared/data if present."""
    env = os.environ.get(MIRROR_ENV)
    if env:
        return Path(env)
    candidate = REPO_DIR.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def processed_dir() -> Path:
    """The processed store in use: $LSB_PROCESSED_DIR if set, else the embedded one."""
    env = os.environ.get("LSB_PROCESSED_DIR")
    return Path(env) if env else PROCESSED_DIR
