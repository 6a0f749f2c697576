"""NIS (REFNIS) codes: always 5-character strings, such as '02000' and '13012'."""

from __future__ import annotations

import re

import pandas as pd

LEVELS = ("country", "region", "community", "province", "arrondissement", "municipality")
_CODE = re.compile(r"^\d{1,5}$")


def normalise_nis(value: object) -> str:
    """Return a NIS code as a zero-padded 5-character string.

    Accepts ints, floats with no fraction (Excel stores codes as numbers) and strings.
    Raises ValueError for anything else.
    """
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value!r} is not a NIS code (expected up to 5 digits)")
        value = int(value)
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not _CODE.match(text) or int(text) == 0:
        raise ValueError(f"{value!r} is not a NIS code (expected up to 5 digits)")
    return text.zfill(5)


def level_of(nis: str) -> str:
    """Geographic level of a 5-character NIS code, from the REFNIS numbering scheme."""
    if nis == "01000":
        return "country"
    if nis in ("02000", "03000", "04000"):
        return "region"
    if nis == "03001":  # Duitstalige Gemeenschap, a row in Statbel's fiscal tables
        return "community"
    if nis[1:] == "0000" or nis in ("20001", "20002"):
        return "province"
    if nis[2:] == "000":
        return "arrondissement"
    return "municipality"


def levels_of(codes: pd.Series) -> pd.Series:
    """Vectorised :func:`level_of`."""
    uniques = pd.unique(codes)
    mapping = {c: level_of(c) for c in uniques}
    return codes.map(mapping)
