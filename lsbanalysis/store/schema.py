"""Frame schemas of the processed store, checked with pandera at build time."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from lsbanalysis.nis import LEVELS
from lsbanalysis.readers.common import STATUSES

GEO_VERSIONS = ("1977", "2019", "2025")
UNITS = ("count", "eur", "percent", "km2", "per_km2", "index", "ratio", "per_1000", "m2", "m3")
NIS_PATTERN = r"^\d{5}$"
PERIOD_PATTERN = r"^\d{4}(-Q[1-4]|-M01-M(0[1-9]|1[0-2]))?$"

OBSERVATIONS = pa.DataFrameSchema(
    {
        "source": pa.Column(str),
        "measure": pa.Column(str, pa.Check.str_matches(r"^[a-z][a-z0-9_]*$")),
        "nis": pa.Column(str, pa.Check.str_matches(NIS_PATTERN)),
        "level": pa.Column(str, pa.Check.isin(LEVELS)),
        "geo_version": pa.Column(str, pa.Check.isin(GEO_VERSIONS)),
        # "2022" (year), "2024-Q1" (quarter), "2025-M01-M07" (January-July: year to date)
        "period": pa.Column(str, pa.Check.str_matches(PERIOD_PATTERN)),
        "year": pa.Column("int64", pa.Check.in_range(1970, 2100)),
        "value": pa.Column(float, nullable=True),
        "unit": pa.Column(str, pa.Check.isin(UNITS)),
        "status": pa.Column(str, pa.Check.isin(STATUSES)),
    },
    checks=[
        # A value is missing exactly when the publisher did not publish it.
        pa.Check(
            lambda df: df["value"].isna() == (df["status"] != "ok"),
            error="value must be NaN exactly when status is suppressed/missing",
        ),
    ],
    unique=["source", "measure", "nis", "period"],
    strict=True,
    coerce=False,
)

GEOGRAPHY_REQUIRED = ["geo_version", "nis", "level", "name_nl", "name_fr", "arrondissement",
                      "province", "region"]


def validate_observations(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate the combined observations; raises pandera's SchemaErrors listing every failure."""
    return OBSERVATIONS.validate(frame, lazy=True)
