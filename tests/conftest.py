"""Shared fixtures. Tests marked ``realdata`` read the official files in ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lsbanalysis.paths import default_mirror

MIRROR = default_mirror()
UNDER_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def mirror() -> Path:
    """Root of the local mirror of official files (statbel/, unemployment/, boundaries/).

    Skips the test when the mirror is absent, except under CI, where the mirror must exist.
    """
    if MIRROR is None or not MIRROR.is_dir():
        if UNDER_CI:
            pytest.fail(
                "CI=true but the official files (../shared/data or $LSB_DATA_MIRROR) are absent"
            )
        pytest.skip("official files not found: set LSB_DATA_MIRROR or place them in ../shared/data")
    return MIRROR


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return Path(__file__).parent / "fixtures"
