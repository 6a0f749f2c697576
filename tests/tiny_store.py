"""A hand-made miniature store for unit tests of the analysis core.

Arrondissement 13000 (province 10000, region 02000) holds municipalities 13001 A-dorp,
13002 B-stad and 13003 C-veld in the 2019 geography; on 1 January 2025 B-stad and C-veld merge
into 13004 BC-fusie. Numbers are invented for the tests and chosen so that hand computation is
easy; they never reach the product.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from lsbanalysis.store import io

GEO = [
    # version, nis, level, name, arrondissement, province, region
    ("2019", "02000", "region", "Vlaams Gewest", None, None, "02000"),
    ("2019", "10000", "province", "Provincie Antwerpen", None, "10000", "02000"),
    ("2019", "13000", "arrondissement", "Arrondissement Turnhout", "13000", "10000", "02000"),
    ("2019", "13001", "municipality", "A-dorp", "13000", "10000", "02000"),
    ("2019", "13002", "municipality", "B-stad", "13000", "10000", "02000"),
    ("2019", "13003", "municipality", "C-veld", "13000", "10000", "02000"),
    ("2025", "02000", "region", "Vlaams Gewest", None, None, "02000"),
    ("2025", "10000", "province", "Provincie Antwerpen", None, "10000", "02000"),
    ("2025", "13000", "arrondissement", "Arrondissement Turnhout", "13000", "10000", "02000"),
    ("2025", "13001", "municipality", "A-dorp", "13000", "10000", "02000"),
    ("2025", "13004", "municipality", "BC-fusie", "13000", "10000", "02000"),
    ("2025", "13005", "municipality", "D-berg", "13000", "10000", "02000"),
]


def obs(source, measure, nis, year, value, unit="count", status="ok", geo="2019"):
    level = {"02000": "region", "10000": "province", "13000": "arrondissement"}.get(
        nis, "municipality")
    return {"source": source, "measure": measure, "nis": nis, "level": level,
            "geo_version": geo, "period": str(year), "year": year,
            "value": np.nan if status != "ok" else float(value), "unit": unit,
            "status": status}


def write_store(path: Path, observations: list[dict], geo: list[tuple] | None = None,
                sources: list[dict] | None = None) -> Path:
    """A store of ``observations`` in the geography ``GEO`` (or ``geo``, same columns);
    ``sources`` replaces the manifest's source list."""
    path.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(observations)
    io.write_table(frame, path / io.OBSERVATIONS_FILE)
    geo = pd.DataFrame(geo or GEO, columns=["geo_version", "nis", "level", "name_nl",
                                            "arrondissement", "province", "region"])
    geo["name_fr"] = geo["name_nl"]
    geo["language"] = "N"
    io.write_table(geo, path / io.GEOGRAPHY_FILE)
    cw = pd.DataFrame([("13001", "2019", "13001", "2025"), ("13002", "2019", "13004", "2025"),
                       ("13003", "2019", "13004", "2025")],
                      columns=["nis_from", "geo_from", "nis_to", "geo_to"])
    io.write_table(cw, path / io.CROSSWALK_FILE)
    nb = pd.DataFrame([("2025", "13001", "13004"), ("2025", "13004", "13001"),
                       ("2025", "13004", "13005"), ("2025", "13005", "13004")],
                      columns=["geo_version", "nis", "neighbour_nis"])
    io.write_table(nb, path / io.NEIGHBOURS_FILE)
    (path / io.MANIFEST_FILE).write_text(json.dumps({
        "store_format": io.STORE_FORMAT, "built_at": "2026-01-01T00:00:00+00:00",
        "sources": sources or [{"id": s, "title": s, "publisher": "test", "edition": "test",
                                "files": []} for s in sorted(frame["source"].unique())],
    }))
    return path
