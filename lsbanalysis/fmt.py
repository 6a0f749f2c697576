"""Numbers in Dutch notation: 30.024 €, 24,9 %, 1.234 inwoners."""

from __future__ import annotations

import math

DECIMALS = {"eur": 0, "percent": 1, "count": 0, "per_km2": 0, "index": 0, "ratio": 1,
            "per_100": 1, "per_1000": 1}
SUFFIX = {"eur": " €", "percent": " %", "count": "", "per_km2": " inw./km²", "index": "",
          "ratio": "", "per_100": " per 100", "per_1000": " per 1.000"}


def number(value: float, decimals: int = 0) -> str:
    """Dutch grouping and decimal marks: 30024.4 → '30.024', 24.96 (1) → '25,0'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n.b."
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def value(value: float, unit: str, decimals: int | None = None) -> str:
    """A value with its unit: '30.024 €', '24,9 %', '9.454'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "niet beschikbaar"
    d = DECIMALS.get(unit, 1) if decimals is None else decimals
    return number(value, d) + SUFFIX.get(unit, "")


def difference(diff: float, unit: str) -> str:
    """A difference: '+1,2 procentpunt', '-713 €', '+3,4 %'."""
    if unit == "percent":
        return f"{'+' if diff >= 0 else '-'}{number(abs(diff), 1)} procentpunt"
    return ("+" if diff >= 0 else "-") + value(abs(diff), unit)


def percent(value_: float, decimals: int = 1) -> str:
    return number(value_, decimals) + " %"


def years(values: list[int]) -> str:
    """A list of years for a sentence: '2014–2024' when consecutive (3 or more), else listed."""
    if not values:
        return "geen"
    if len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}–{values[-1]}"
    return ", ".join(map(str, values))
