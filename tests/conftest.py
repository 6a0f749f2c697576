"""Shared fixtures. Tests marked ``realdata`` read the official files in ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lsbanalysis.paths import default_mirror
from tests.built_store import BuiltStore

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


@pytest.fixture(scope="session")
def built_store(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> BuiltStore:
    """The store built once per test session from the official files, in a temporary folder."""
    from lsbanalysis.store import io
    from lsbanalysis.store.build import build_store

    out = tmp_path_factory.mktemp("store") / "p"
    manifest = build_store(mirror, out, progress=False, jobs=2)
    return BuiltStore(
        out=out,
        manifest=manifest,
        observations=io.read_table(out / io.OBSERVATIONS_FILE),
        geography=io.read_table(out / io.GEOGRAPHY_FILE),
    )


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable that prints reports (Debian's chromium, scripts/system_deps.sh).

    Skips the test when there is none, except under CI, where the browser tests must run.
    """
    from lsbanalysis.report.pdf import engine_problem, find_browser

    problem = engine_problem()
    if problem:
        if UNDER_CI:
            pytest.fail(f"CI=true but the browser tests cannot run: {problem}")
        pytest.skip(problem)
    return find_browser()


@pytest.fixture(scope="session")
def herenthout_report(tmp_path_factory):
    """The real Herenthout-vs-ISOM analyserapport on the embedded store, built once per session,
    with its PDF when a browser is there."""
    from lsbanalysis.report.runner import build_report

    return build_report("Herenthout", "ISOM", out_root=tmp_path_factory.mktemp("reports"),
                        pdf=True)
