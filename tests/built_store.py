"""The store built from the official files, as the session fixture ``built_store`` gives it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class BuiltStore:
    out: Path
    manifest: dict
    observations: pd.DataFrame
    geography: pd.DataFrame
