"""Statbel REFNIS code lists: the dated history, the 2019 and 2025 structures, and crosswalks.

* ``TU_COM_REFNIS.txt`` (or the official ``.zip`` holding it): every region, province,
  arrondissement and municipality since 1970 with its parent and validity window
  (:func:`read_history`).
* ``REFNIS_2019.xls`` / ``REFNIS_2025.csv``: the nomenclature of one year, with the language
  regime but no parent column; the hierarchy follows from the row order (:func:`read_structure`).
* :func:`build_geography` combines them into one table of units per geography version
  ("1977", "2019", "2025"); :func:`municipality_crosswalk` links 2019 to 2025 municipalities.

The 1977 → 2019 municipality links are *not* derived: the history file does not say which
ended municipality went into which new one, and a name/arrondissement rule leaves 9 of the 26
ended codes ambiguous (Knesselare, Lovendegem, Nevele, Waarschoot, Zomergem in arrondissement
Gent; Opglabbeek, Meeuwen-Gruitrode, Neerpelt, Overpelt in Limburg).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from lsbanalysis.errors import LsbError, SourceFormatError
from lsbanalysis.nis import levels_of, normalise_nis
from lsbanalysis.readers.common import normalise_label, read_workbook

# --------------------------------------------------------------------------- history file

HISTORY_HEADER = (
    "LVL_REFNIS",
    "CD_REFNIS",
    "CD_SUP_REFNIS",
    "TX_REFNIS_DE",
    "TX_REFNIS_FR",
    "TX_REFNIS_NL",
    "DT_VLDT_START",
    "DT_VLDT_END",
)
HISTORY_LEVELS = {"1": "region", "2": "province", "3": "arrondissement", "4": "municipality"}
HISTORY_COLUMNS = [
    "nis",
    "level",
    "parent_nis",
    "name_nl",
    "name_fr",
    "name_de",
    "valid_from",
    "valid_to",
]
#: Open-ended validity, as the file writes it (31/12/9999).
OPEN_END = pd.Timestamp("9999-12-31")

#: Municipality counts per geography version; facts of history that any release must match.
MUNICIPALITY_COUNTS = {"1977": 589, "2019": 581, "2025": 565}
#: The day on which the "1977" geography is taken from the history file.
DATE_1977 = pd.Timestamp("2018-01-01")
DATE_2019 = pd.Timestamp("2019-01-01")

# ------------------------------------------------------------------------- structure files

STRUCTURE_HEADER = (
    "Code INS",
    "Entités administratives",
    "Langue",
    "Code NIS",
    "Administratieve eenheden",
    "Taal",
)
STRUCTURE_SHEET = "REFNIS"
STRUCTURE_COLUMNS = [
    "nis",
    "level",
    "name_nl",
    "name_fr",
    "language",
    "arrondissement",
    "province",
    "region",
]
#: Language regime as written in the Dutch column "Taal" (the French "Langue" writes FN for NF).
LANGUAGES = frozenset({"N", "F", "NF", "D"})
_LANGUAGE_FR_TO_NL = {"N": "N", "F": "F", "FN": "NF", "D": "D"}

GEOGRAPHY_COLUMNS = [
    "geo_version",
    "nis",
    "level",
    "name_nl",
    "name_fr",
    "arrondissement",
    "province",
    "region",
    "language",
]
CROSSWALK_COLUMNS = ["nis_from", "geo_from", "nis_to", "geo_to"]


def _delimiter_hint(header_line: str) -> str:
    for sep in (";", "\t", ","):
        if sep in header_line and "|" not in header_line:
            return f" (the file seems to use {sep!r} as delimiter instead of '|')"
    return ""


def _read_text(path: Path, *, member_suffix: str = ".txt") -> str:
    """Decoded text of a text file, or of the single matching member of a .zip."""
    if not path.exists():
        raise SourceFormatError(path, "file not found")
    if path.stat().st_size == 0:
        raise SourceFormatError(path, "file is empty (0 bytes); expected pipe-delimited text")
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                members = [n for n in zf.namelist() if n.lower().endswith(member_suffix)]
                if len(members) != 1:
                    raise SourceFormatError(
                        path,
                        f"expected exactly one {member_suffix} file in the zip, found "
                        f"{zf.namelist()}",
                    )
                data = zf.read(members[0])
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise SourceFormatError(path, f"cannot be opened as a zip archive ({exc})") from exc
    else:
        data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceFormatError(path, f"expected UTF-8 text ({exc})") from exc


def _read_pipe_table(path: Path, text: str, header: tuple[str, ...]) -> pd.DataFrame:
    """Parse ``|``-delimited text whose first line starts with ``header`` (all cells str)."""
    first = text.split("\n", 1)[0].rstrip("\r")
    got = first.split("|")
    want = [normalise_label(h) for h in header]
    if [normalise_label(c) for c in got[: len(header)]] != want:
        raise SourceFormatError(
            path,
            f"expected the header {'|'.join(header)!r} (pipe-delimited), found {first[:120]!r}"
            + _delimiter_hint(first),
            row=0,
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep="|",
            header=None,
            skiprows=1,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            names=range(len(got)),
        )
    except pd.errors.ParserError as exc:
        raise SourceFormatError(
            path, f"expected {len(got)} '|'-separated fields per line ({exc})"
        ) from exc
    extra = frame.iloc[:, len(header) :]
    if len(extra.columns) and (extra != "").to_numpy().any():
        line = int(np.flatnonzero((extra != "").any(axis=1).to_numpy())[0])
        raise SourceFormatError(
            path,
            f"expected only the columns {list(header)}; found text in unnamed columns",
            row=line + 1,
        )
    frame = frame.iloc[:, : len(header)]
    frame.columns = list(header)
    frame.index = frame.index + 1  # index = 0-based line number (the header is line 0)
    return frame.apply(lambda s: s.str.strip())


def _codes(
    path: Path, cells: pd.Series, *, sheet: str | None = None, column: str | None = None
) -> pd.Series:
    """NIS codes as 5-character strings; errors name the row from the index (0-based row)."""
    mapping = {}
    for value in pd.unique(cells):
        try:
            mapping[value] = normalise_nis(value)
        except ValueError as exc:
            mask = cells.isna() if pd.isna(value) else cells == value
            row = cells.index[mask.to_numpy()][0]
            raise SourceFormatError(
                path, str(exc), sheet=sheet, row=int(row), column=column
            ) from None
    return cells.map(mapping).astype(object)


def _require_filled(path: Path, frame: pd.DataFrame, columns: list[str]) -> None:
    empty = frame[columns] == ""
    if empty.to_numpy().any():
        row, col = next((r, c) for r, c in zip(*np.nonzero(empty.to_numpy()), strict=True))
        raise SourceFormatError(
            path,
            "expected a value, found an empty field (file truncated?)",
            row=int(frame.index[row]),
            column=columns[col],
        )


def read_history(path: Path) -> pd.DataFrame:
    """Read ``TU_COM_REFNIS.txt`` (UTF-8, ``|``) or the official zip containing it.

    Columns: ``nis, level, parent_nis, name_nl, name_fr, name_de, valid_from, valid_to``.
    ``level`` is region/province/arrondissement/municipality (from LVL_REFNIS 1-4),
    ``parent_nis`` is None for regions; ``valid_to`` is 9999-12-31 for units still valid.
    One row per code and validity window (a few codes have two windows).
    """
    path = Path(path)
    raw = _read_pipe_table(path, _read_text(path), HISTORY_HEADER)
    _require_filled(path, raw, [c for c in HISTORY_HEADER if c != "TX_REFNIS_DE"])
    bad_lvl = ~raw["LVL_REFNIS"].isin(list(HISTORY_LEVELS))
    if bad_lvl.any():
        row = raw.index[bad_lvl.to_numpy()][0]
        raise SourceFormatError(
            path,
            f"expected LVL_REFNIS 1-4, found {raw.at[row, 'LVL_REFNIS']!r}",
            row=int(row),
            column="LVL_REFNIS",
        )
    nis = _codes(path, raw["CD_REFNIS"], column="CD_REFNIS")
    level = raw["LVL_REFNIS"].map(HISTORY_LEVELS)
    implied = levels_of(nis)
    clash = implied != level
    if clash.any():
        row = raw.index[clash.to_numpy()][0]
        raise SourceFormatError(
            path,
            f"code {nis[row]} is a {implied[row]} code but LVL_REFNIS says {level[row]}",
            row=int(row),
            column="LVL_REFNIS",
        )
    is_region = level == "region"
    no_parent = (raw["CD_SUP_REFNIS"] == "-").to_numpy()
    # Regions have no parent; neither has the pre-1995 province 20000 Brabant (both regions).
    wrong = (is_region.to_numpy() & ~no_parent) | (
        level.isin(["arrondissement", "municipality"]).to_numpy() & no_parent
    )
    if wrong.any():
        row = raw.index[wrong][0]
        raise SourceFormatError(
            path,
            f"expected CD_SUP_REFNIS '-' for a region and a parent code for arrondissements and "
            f"municipalities, found {raw.at[row, 'CD_SUP_REFNIS']!r} for {level[row]} {nis[row]}",
            row=int(row),
            column="CD_SUP_REFNIS",
        )
    parent = pd.Series(None, index=raw.index, dtype=object)
    parent[~no_parent] = _codes(path, raw.loc[~no_parent, "CD_SUP_REFNIS"], column="CD_SUP_REFNIS")
    dates = {}
    for col in ("DT_VLDT_START", "DT_VLDT_END"):
        parsed = pd.to_datetime(raw[col], format="%d/%m/%Y", errors="coerce")
        if parsed.isna().any():
            row = raw.index[parsed.isna().to_numpy()][0]
            raise SourceFormatError(
                path,
                f"expected a date dd/mm/yyyy, found {raw.at[row, col]!r}",
                row=int(row),
                column=col,
            )
        dates[col] = parsed.astype("datetime64[s]")
    out = pd.DataFrame(
        {
            "nis": nis.astype(str),
            "level": level,
            "parent_nis": parent,
            "name_nl": raw["TX_REFNIS_NL"],
            "name_fr": raw["TX_REFNIS_FR"],
            "name_de": raw["TX_REFNIS_DE"].replace("", None),
            "valid_from": dates["DT_VLDT_START"],
            "valid_to": dates["DT_VLDT_END"],
        }
    ).reset_index(drop=True)
    if (out["valid_to"] < out["valid_from"]).any():
        raise SourceFormatError(path, "a validity window ends before it starts")
    for version, day in (("1977", DATE_1977), ("2019", DATE_2019)):
        units = valid_on(out, day)
        dup = units["nis"][units["nis"].duplicated()]
        if len(dup):
            raise SourceFormatError(
                path, f"codes {dup.tolist()} have overlapping validity windows on {day.date()}"
            )
        n = int((units["level"] == "municipality").sum())
        if n != MUNICIPALITY_COUNTS[version]:
            raise SourceFormatError(
                path,
                f"expected {MUNICIPALITY_COUNTS[version]} municipalities valid on "
                f"{day.date()}, found {n} (file truncated or not the REFNIS history?)",
            )
    out.attrs["source"] = str(path)
    # The release, as far as the file itself tells: the last day on which a unit started or
    # ended (2019-01-01 for a release without the 2025 mergers). For the build's edition check.
    ends = out.loc[out["valid_to"] != OPEN_END, "valid_to"] + pd.Timedelta(days=1)
    out.attrs["latest_change"] = max(out["valid_from"].max(), ends.max()).date().isoformat()
    return out


def valid_on(history: pd.DataFrame, day: pd.Timestamp | str) -> pd.DataFrame:
    """The rows of :func:`read_history` output valid on ``day``."""
    day = pd.Timestamp(day)
    return history[(history["valid_from"] <= day) & (history["valid_to"] >= day)]


# --------------------------------------------------------------------------- structures


def read_structure(path: Path) -> pd.DataFrame:
    """Read a REFNIS nomenclature: ``REFNIS_2019.xls`` (sheet REFNIS) or ``REFNIS_2025.csv``.

    Columns: ``nis, level, name_nl, name_fr, language, arrondissement, province, region``.
    The parents (NIS codes) follow from the row order: country 01000, then each region,
    its provinces, their arrondissements and each arrondissement's municipalities. Brussels
    (21000) sits directly under region 04000, so its province is None. ``language`` is the
    regime from the Dutch column "Taal" (N, F, NF, D) for municipalities, None otherwise.
    Names are kept as published (higher levels partly in capitals, e.g. "VLAAMS GEWEST").
    """
    path = Path(path)
    sheet = None
    if path.suffix.lower() in (".xls", ".xlsx"):
        sheet = STRUCTURE_SHEET
        raw = read_workbook(path, [STRUCTURE_SHEET])[STRUCTURE_SHEET]
        if raw.empty or raw.shape[1] < len(STRUCTURE_HEADER):
            raise SourceFormatError(
                path, f"expected the columns {list(STRUCTURE_HEADER)}", sheet=sheet, row=0
            )
        head = raw.iloc[0].tolist()
        if [normalise_label(c) for c in head[: len(STRUCTURE_HEADER)]] != [
            normalise_label(h) for h in STRUCTURE_HEADER
        ]:
            raise SourceFormatError(
                path,
                f"expected the header {list(STRUCTURE_HEADER)} in row 1, found "
                f"{head[: len(STRUCTURE_HEADER)]}",
                sheet=sheet,
                row=0,
            )
        body = raw.iloc[1:, : len(STRUCTURE_HEADER)]
        filled = np.flatnonzero(body.notna().any(axis=1).to_numpy())
        if not len(filled):
            raise SourceFormatError(path, "expected data rows below the header", sheet=sheet)
        body = body.iloc[: int(filled[-1]) + 1]
        codes_ins = _codes(path, body.iloc[:, 0], sheet=sheet, column="Code INS")
        codes_nis = _codes(path, body.iloc[:, 3], sheet=sheet, column="Code NIS")
        text = (
            body.iloc[:, [1, 2, 4, 5]].astype(object).where(body.iloc[:, [1, 2, 4, 5]].notna(), "")
        )
        text = text.astype(str).apply(lambda s: s.str.strip())
        text.columns = [STRUCTURE_HEADER[i] for i in (1, 2, 4, 5)]
    else:
        raw = _read_pipe_table(path, _read_text(path, member_suffix=".csv"), STRUCTURE_HEADER)
        raw = raw[(raw != "").any(axis=1)]
        if raw.empty:
            raise SourceFormatError(path, "expected data rows below the header")
        _require_filled(path, raw, ["Code INS", "Code NIS"])
        codes_ins = _codes(path, raw["Code INS"], column="Code INS")
        codes_nis = _codes(path, raw["Code NIS"], column="Code NIS")
        text = raw[[STRUCTURE_HEADER[i] for i in (1, 2, 4, 5)]]
    rows = codes_nis.index.to_numpy()  # 0-based line / sheet row numbers
    if (codes_ins.to_numpy() != codes_nis.to_numpy()).any():
        i = int(np.flatnonzero(codes_ins.to_numpy() != codes_nis.to_numpy())[0])
        raise SourceFormatError(
            path,
            f"'Code INS' {codes_ins.iloc[i]} differs from 'Code NIS' {codes_nis.iloc[i]}",
            sheet=sheet,
            row=int(rows[i]),
        )
    nis = pd.Series(codes_nis.to_numpy(), dtype=object)
    level = levels_of(nis)
    name_fr = text["Entités administratives"].to_numpy()
    name_nl = text["Administratieve eenheden"].to_numpy()
    lang_nl = text["Taal"].to_numpy()
    lang_fr = text["Langue"].map(_LANGUAGE_FR_TO_NL).to_numpy()
    is_mun = (level == "municipality").to_numpy()

    def fail(mask: np.ndarray, problem: str, column: str | None = None) -> None:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            raise SourceFormatError(
                path, problem.format(nis=nis[i]), sheet=sheet, row=int(rows[i]), column=column
            )

    fail((name_nl == "") | (name_fr == ""), "expected Dutch and French names for {nis}")
    fail(
        is_mun & ~pd.Series(lang_nl).isin(LANGUAGES).to_numpy(),
        "expected language N, F, NF or D for municipality {nis}",
        "Taal",
    )
    fail(is_mun & (lang_fr != lang_nl), "'Langue' and 'Taal' disagree for {nis}", "Langue")
    fail(
        ~is_mun & ((lang_nl != "") | (text["Langue"].to_numpy() != "")),
        "expected no language for non-municipal unit {nis}",
        "Taal",
    )
    if nis.iloc[0] != "01000":
        raise SourceFormatError(
            path,
            f"expected the first row to be the country 01000, found {nis.iloc[0]}",
            sheet=sheet,
            row=int(rows[0]),
        )
    fail(np.r_[False, (level.iloc[1:] == "country").to_numpy()], "unexpected country row {nis}")
    fail((level == "community").to_numpy(), "unexpected community row {nis}")

    # Parents from the row order: forward-fill each level's code, reset below higher levels.
    def carry(own: str, resets: tuple[str, ...]) -> pd.Series:
        marks = pd.Series(np.where(level == own, nis, None), dtype=object)
        marks[level.isin(resets).to_numpy()] = ""
        return marks.ffill().replace("", None)

    region = carry("region", ("country",))
    province = carry("province", ("country", "region"))
    arrondissement = carry("arrondissement", ("country", "region", "province"))
    rank = level.map(
        {"country": 0, "region": 1, "province": 2, "arrondissement": 3, "municipality": 4}
    )
    region[rank <= 1] = None
    province[rank <= 2] = None
    arrondissement[rank <= 3] = None
    has_region = region.notna().to_numpy()
    fail((rank >= 2).to_numpy() & ~has_region, "{nis} appears before any region row")
    fail(
        is_mun & arrondissement.isna().to_numpy(), "municipality {nis} precedes any arrondissement"
    )
    fail(
        ((rank >= 3) & province.isna() & (region != "04000")).to_numpy(),
        "{nis} outside Brussels has no province above it in the row order",
    )
    fail(
        is_mun & (nis.str[:2] != arrondissement.str[:2]).to_numpy(),
        "municipality {nis} is listed under another arrondissement (rows out of order?)",
    )
    dup = nis[nis.duplicated()]
    if len(dup):
        raise SourceFormatError(path, f"codes listed twice: {dup.tolist()}", sheet=sheet)
    out = pd.DataFrame(
        {
            "nis": nis.astype(str),
            "level": level,
            "name_nl": name_nl,
            "name_fr": name_fr,
            "language": np.where(is_mun, lang_nl, None),
            "arrondissement": arrondissement,
            "province": province,
            "region": region,
        }
    )
    out.attrs["source"] = str(path)
    # 581 (2019-2024) or 565 (2025): which year's structure this is, for the edition check.
    out.attrs["municipalities"] = int(is_mun.sum())
    return out


# ---------------------------------------------------------------------------- geography


def _source(frame: pd.DataFrame, fallback: str) -> str:
    return frame.attrs.get("source", fallback)


def _geography_1977(history: pd.DataFrame, country: pd.DataFrame) -> pd.DataFrame:
    units = valid_on(history, DATE_1977).reset_index(drop=True)
    parent_of = dict(zip(units["nis"], units["parent_nis"], strict=True))
    level_of = dict(zip(units["nis"], units["level"], strict=True))
    chain = [units["parent_nis"]]
    for _ in range(2):
        chain.append(chain[-1].map(parent_of))
    out = units[["nis", "level", "name_nl", "name_fr"]].copy()
    for col in ("arrondissement", "province", "region"):
        picked = pd.Series(None, index=units.index, dtype=object)
        for step in chain:
            hit = step.map(level_of).eq(col) & picked.isna()
            picked[hit] = step[hit]
        out[col] = picked
    missing = ~units["parent_nis"].isna() & ~units["parent_nis"].isin(parent_of)
    if missing.any():
        raise SourceFormatError(
            _source(history, "TU_COM_REFNIS.txt"),
            f"parents {units.loc[missing, 'parent_nis'].unique().tolist()} are not valid on "
            f"{DATE_1977.date()}",
        )
    return pd.concat([country, out], ignore_index=True)


def build_geography(
    history: pd.DataFrame, structure_2019: pd.DataFrame, structure_2025: pd.DataFrame
) -> pd.DataFrame:
    """All units per geography version, one row per (geo_version, nis).

    Columns: ``geo_version, nis, level, name_nl, name_fr, arrondissement, province, region,
    language``. Versions: "1977" (units valid on 2018-01-01 in the history file, 589
    municipalities; parents from its parent links; language copied from REFNIS 2019 where the
    code still exists, else None), "2019" (REFNIS 2019, 581) and "2025" (REFNIS 2025, 565).
    The country row 01000 (named as in REFNIS 2019) is included in every version. Checks the
    municipality counts and that the history's 2019 municipalities and their arrondissements
    equal those of REFNIS 2019.
    """
    country = structure_2019.loc[structure_2019["level"] == "country", STRUCTURE_COLUMNS]
    g1977 = _geography_1977(history, country.drop(columns="language"))
    lang_2019 = dict(zip(structure_2019["nis"], structure_2019["language"], strict=True))
    g1977["language"] = g1977["nis"].map(lang_2019).where(g1977["level"] == "municipality")
    parts = {"1977": g1977, "2019": structure_2019, "2025": structure_2025}
    sources = {
        "1977": _source(history, "TU_COM_REFNIS.txt"),
        "2019": _source(structure_2019, "REFNIS_2019.xls"),
        "2025": _source(structure_2025, "REFNIS_2025.csv"),
    }
    frames = []
    for version, part in parts.items():
        n = int((part["level"] == "municipality").sum())
        if n != MUNICIPALITY_COUNTS[version]:
            raise SourceFormatError(
                sources[version],
                f"expected {MUNICIPALITY_COUNTS[version]} municipalities for "
                f"geography {version}, found {n}",
            )
        frame = part[STRUCTURE_COLUMNS].copy()
        frame.insert(0, "geo_version", version)
        frames.append(frame[GEOGRAPHY_COLUMNS])

    hist_2019 = valid_on(history, DATE_2019)
    hist_mun = hist_2019[hist_2019["level"] == "municipality"].set_index("nis")["parent_nis"]
    st_mun = structure_2019[structure_2019["level"] == "municipality"].set_index("nis")[
        "arrondissement"
    ]
    if set(hist_mun.index) != set(st_mun.index):
        diff = sorted(set(hist_mun.index) ^ set(st_mun.index))
        raise SourceFormatError(
            sources["2019"], f"municipalities differ from the history file's 2019 list: {diff}"
        )
    moved = st_mun.index[st_mun != hist_mun.reindex(st_mun.index)]
    if len(moved):
        raise SourceFormatError(
            sources["2019"],
            f"arrondissement differs from the history file for municipalities {moved.tolist()}",
        )
    out = pd.concat(frames, ignore_index=True)
    for col in ("arrondissement", "province", "region", "language"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def municipality_crosswalk(
    pinc_2024_to_2025: pd.DataFrame, *, geography: pd.DataFrame | None = None
) -> pd.DataFrame:
    """2019 (2019-2024) → 2025 municipality links: ``nis_from, geo_from, nis_to, geo_to``.

    ``pinc_2024_to_2025`` is the ``gemeente2024_to_gemeente2025`` table from
    :mod:`lsbanalysis.readers.pinc_lookups` (``nis_from, nis_to``), covering the Flemish and
    Brussels municipalities; unchanged municipalities map to themselves.

    With ``geography`` (from :func:`build_geography`), the links are checked against the 2019
    and 2025 municipality lists and the other (Walloon) 2019 municipalities are added: identity
    where the code still exists, otherwise the single new 2025 code in the same arrondissement
    (Bastogne 82003 + Bertogne 82005 → 82039); anything less clear-cut raises LsbError. The
    result then has one row for each of the 581 municipalities.
    """
    if not {"nis_from", "nis_to"} <= set(pinc_2024_to_2025.columns):
        raise LsbError("pinc_2024_to_2025 needs columns nis_from, nis_to (pinc_lookups output)")
    links = pinc_2024_to_2025[["nis_from", "nis_to"]].astype(object).reset_index(drop=True)
    levels = pd.concat([levels_of(links["nis_from"]), levels_of(links["nis_to"])])
    if (levels != "municipality").any():
        raise LsbError("pinc_2024_to_2025 contains non-municipal codes")
    if links["nis_from"].duplicated().any():
        raise LsbError("pinc_2024_to_2025 lists a 2024 municipality twice")
    if geography is not None:
        mun = geography[geography["level"] == "municipality"]
        m19 = mun[mun["geo_version"] == "2019"].set_index("nis")["arrondissement"]
        m25 = mun[mun["geo_version"] == "2025"].set_index("nis")["arrondissement"]
        unknown_from = sorted(set(links["nis_from"]) - set(m19.index))
        unknown_to = sorted(set(links["nis_to"]) - set(m25.index))
        if unknown_from or unknown_to:
            raise LsbError(
                f"crosswalk codes not in the geography: 2019 {unknown_from}, 2025 {unknown_to}"
            )
        rest = m19.index[~m19.index.isin(links["nis_from"])]
        new_codes = m25[~m25.index.isin(m19.index) & ~m25.index.isin(links["nis_to"])]
        targets = []
        for code in rest:
            if code in m25.index:
                targets.append(code)
                continue
            cands = new_codes.index[new_codes == m19[code]].tolist()
            if len(cands) != 1:
                raise LsbError(
                    f"cannot link 2019 municipality {code} to 2025 unambiguously: "
                    f"candidates {cands}"
                )
            targets.append(cands[0])
        links = pd.concat(
            [links, pd.DataFrame({"nis_from": list(rest), "nis_to": targets})], ignore_index=True
        )
        lost = sorted(set(m25.index) - set(links["nis_to"]))
        if lost or len(links) != len(m19):
            raise LsbError(f"crosswalk incomplete: 2025 municipalities without a source {lost}")
    links.insert(1, "geo_from", "2019")
    links["geo_to"] = "2025"
    return links[CROSSWALK_COLUMNS].sort_values("nis_from", ignore_index=True)
