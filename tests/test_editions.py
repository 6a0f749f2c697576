"""Declared editions ([source.expect]) and the checksum decision of `lsb data build`.

Regression tests for defect 1 of issue 9: a wrong file with the right layout (another income
year, the quarterly workbook instead of the yearly one, the French edition instead of the
Dutch one) used to be built into the store with only a checksum note. The swaps are made with
copies of the official files in a temporary raw folder (never committed).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from lsbanalysis.cli import main
from lsbanalysis.errors import ChecksumError, EditionError, ManifestError
from lsbanalysis.paths import PROCESSED_DIR
from lsbanalysis.sources import Source, load_manifest, parse_years, sha256_of
from lsbanalysis.store import io
from lsbanalysis.store.build import build_store
from lsbanalysis.store.editions import check_edition, reported

SOURCES = {s.id: s for s in load_manifest()}


def _snapshot(store: Path) -> dict[str, str]:
    return {p.name: sha256_of(p) for p in sorted(store.iterdir()) if p.is_file()}


# --- the manifest's declarations ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "years"),
    [
        (2022, (2022,)),
        ("2022", (2022,)),
        ("2005-2008", (2005, 2006, 2007, 2008)),
        ([2016, 2015], (2015, 2016)),
        (["2010-2011", 2020], (2010, 2011, 2020)),
    ],
)
def test_parse_years(value, years) -> None:
    assert parse_years(value, where="x") == years


@pytest.mark.parametrize("value", ["2020-2019", "twenty", 20.5, True, ["2015", "x"]])
def test_parse_years_rejects(value) -> None:
    with pytest.raises(ManifestError, match="expect.years"):
        parse_years(value, where="sources.toml, [[source]] 'x'")


def test_every_observation_source_declares_its_edition() -> None:
    """Each observations source says which years it must hold; the REFNIS files their year."""
    for source in load_manifest():
        if source.role == "observations":
            assert source.expect.get("years"), source.id
    assert SOURCES["statbel_income_bands_2022"].expect == {
        "years": (2022,), "language": "nl", "table": "C"}
    assert SOURCES["statbel_income_bands_2015"].expect["language"] == "fr"
    assert SOURCES["statbel_real_estate_year"].expect["frequency"] == "year"
    assert SOURCES["statbel_real_estate_quarter"].expect["frequency"] == "quarter"
    assert SOURCES["statbel_refnis_2019"].expect == {"municipalities": 581}
    assert SOURCES["statbel_refnis_2025"].expect == {"municipalities": 565}


def _manifest_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


ENTRY = """
[[source]]
id = "s"
page = "p"
title = "t"
publisher = "pub"
role = "observations"
reader = "income_bands"
edition = "e"
geo_version = "2019"
attribution = "a"
licence = "l"
{extra}
[[source.file]]
path = "statbel/x.xls"
sha256 = "00"
bytes = 1
{file_extra}
"""


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[[source]\nid = 1", "not valid TOML"),
        ("title = 'no sources'", "expected [[source]] entries"),
        (ENTRY.format(extra="colour = 'red'", file_extra=""), "unknown field(s) ['colour']"),
        (ENTRY.format(extra="", file_extra="mirror = 'x'"), "unknown field(s) ['mirror']"),
        (ENTRY.format(extra="[source.expect]\nyears = 'soon'", file_extra=""), "expect.years"),
        (ENTRY.format(extra="", file_extra="") * 2, "duplicate source id(s) ['s']"),
        (ENTRY.format(extra="", file_extra="").replace('title = "t"\n', ""),
         "missing field(s) ['title']"),
    ],
)
def test_malformed_manifest(tmp_path: Path, text: str, fragment: str) -> None:
    path = _manifest_file(tmp_path, text)
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert str(path) in str(info.value)
    assert fragment in str(info.value)


# --- the check itself, on frames a reader returns --------------------------------------------


def _source(**expect) -> Source:
    return Source(
        id="statbel_income_bands_2022", title="t", publisher="Statbel", role="observations",
        reader="income_bands", edition="inkomstenjaar 2022", geo_version="2019",
        attribution="a", licence="l", page="p", files=(), expect=expect,
    )


def _frame(years: list[int], **attrs) -> pd.DataFrame:
    frame = pd.DataFrame({"measure": "m", "year": years})
    frame.attrs.update(attrs)
    return frame


def test_reported_holds_the_years_and_the_reader_notes() -> None:
    frame = _frame([2016, 2016, 2015], language="nl", source="/x")
    assert reported(frame) == {"years": (2015, 2016), "language": "nl"}


def test_check_edition_accepts_the_declared_edition(tmp_path: Path) -> None:
    source = _source(years=(2022,), language="nl", table="C")
    assert check_edition(source, _frame([2022], language="NL", table="C"), tmp_path) is None
    # A source without [source.expect] is not checked.
    assert check_edition(_source(), _frame([1999]), tmp_path) is None


def test_check_edition_names_every_difference(tmp_path: Path) -> None:
    source = _source(years=(2022,), language="nl", table="C")
    path = tmp_path / "statbel" / "fisc2022_C_NL.xls"
    with pytest.raises(EditionError) as info:
        check_edition(source, _frame([2015], language="fr", table="C"), path)
    message = str(info.value)
    assert info.value.path == path
    assert message.startswith("file fisc2022_C_NL.xls: ")
    assert "years 2015 (expected 2022)" in message
    assert "language 'fr' (expected 'nl')" in message
    assert "table" not in message.split("holds", 1)[1].split(".", 1)[0]
    assert "statbel_income_bands_2022" in message


def test_check_edition_a_value_the_file_does_not_give(tmp_path: Path) -> None:
    with pytest.raises(EditionError, match=r"no table \(expected 'C'\)"):
        check_edition(_source(table="C"), _frame([2022], table=None), tmp_path / "f.xls")


def test_expect_key_no_reader_reports_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as info:
        check_edition(_source(colour="red"), _frame([2022], language="nl"), tmp_path / "f.xls")
    message = str(info.value)
    assert "sources.toml" in message and "'colour'" in message
    assert "['language', 'years']" in message


# --- the three swaps of defect 1, on copies of the official files --------------------------


def _raw_with(mirror: Path, raw: Path, swaps: dict[str, str]) -> Path:
    """A raw folder: links to the mirror's files, except ``target`` ← copy of ``source``."""
    for source in load_manifest():
        for f in source.files:
            (raw / f.path).parent.mkdir(parents=True, exist_ok=True)
            if f.path in swaps:
                shutil.copyfile(mirror / swaps[f.path], raw / f.path)
            else:
                os.symlink(mirror / f.path, raw / f.path)
    return raw


@pytest.fixture
def previous_store(tmp_path: Path) -> Path:
    """A good store (a copy of the embedded one) that a failed build must leave alone."""
    out = tmp_path / "p"
    shutil.copytree(PROCESSED_DIR, out)
    return out


SWAPS = [
    # (target, copied from, what the error must say)
    ("statbel/fisc2022_C_NL.xls", "statbel/fisc2016_C_NL.xls",
     ["years 2016 (expected 2022)"]),
    ("statbel/NL_immo_statbel_jaar.xlsx", "statbel/NL_immo_statbel_kwartaal_per_gemeente.xlsx",
     ["frequency 'quarter' (expected 'year')", "years 2010-2025 (expected 2010-2024)"]),
    ("statbel/fisc2016_C_NL.xls", "statbel/fisc2015_C_FR.xls",
     ["years 2015 (expected 2016)", "language 'fr' (expected 'nl')"]),
]


@pytest.mark.realdata
@pytest.mark.parametrize(("target", "copied", "fragments"), SWAPS,
                         ids=["fisc2016-as-2022", "quarterly-as-yearly", "french2015-as-dutch2016"])
def test_wrong_edition_with_the_right_layout_is_refused(
    mirror: Path, tmp_path: Path, previous_store: Path, target: str, copied: str,
    fragments: list[str],
) -> None:
    raw = _raw_with(mirror, tmp_path / "raw", {target: copied})
    before = _snapshot(previous_store)

    # By default the changed checksum stops the build before anything is read.
    with pytest.raises(ChecksumError) as refused:
        build_store(raw, previous_store, progress=False, jobs=2)
    message = str(refused.value)
    assert target in message
    assert sha256_of(raw / target) in message
    assert next(f.sha256 for s in load_manifest() for f in s.files if f.path == target) in message

    # Accepting a new edition does not accept another edition than the declared one.
    with pytest.raises(EditionError) as info:
        build_store(raw, previous_store, progress=False, jobs=2, accept_new_editions=True)
    assert info.value.path == raw / target
    for fragment in fragments:
        assert fragment in str(info.value)
    assert _snapshot(previous_store) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".p.lock", "p", "raw"]


@pytest.mark.realdata
def test_cli_refuses_the_copied_income_year(mirror: Path, tmp_path: Path,
                                            previous_store: Path) -> None:
    """`cp fisc2016_C_NL.xls fisc2022_C_NL.xls; lsb data build --raw COPY` exits 1, says why."""
    raw = _raw_with(mirror, tmp_path / "raw", {"statbel/fisc2022_C_NL.xls":
                                                 "statbel/fisc2016_C_NL.xls"})
    before = _snapshot(previous_store)
    runner = CliRunner()
    args = ["data", "build", "--raw", str(raw), "--out", str(previous_store), "--jobs", "2"]
    for extra, fragment in (([], "--accept-new-edition"),
                            (["--accept-new-edition"], "years 2016 (expected 2022)")):
        result = runner.invoke(main, args + extra)
        assert result.exit_code == 1, result.output
        assert "Fout: " in result.output
        assert "fisc2022_C_NL.xls" in result.output
        assert fragment in result.output
        assert "Traceback" not in result.output
    assert _snapshot(previous_store) == before


# --- accepting a genuine new edition ---------------------------------------------------------


@pytest.mark.realdata
def test_accepting_a_new_edition_records_it(mirror: Path, tmp_path: Path) -> None:
    """REFNIS_2025.csv with Statbel's own BOM and CRLF line ends: other bytes, same edition."""
    target = "statbel/REFNIS_2025.csv"
    raw = _raw_with(mirror, tmp_path / "raw", {target: target})
    text = (mirror / target).read_text(encoding="utf-8")
    (raw / target).write_bytes("\ufeff".encode() + text.replace("\n", "\r\n").encode())
    new_sha = sha256_of(raw / target)
    declared = next(f.sha256 for f in SOURCES["statbel_refnis_2025"].files)
    out = tmp_path / "p"

    with pytest.raises(ChecksumError, match="REFNIS_2025.csv"):
        build_store(raw, out, progress=False, jobs=2)
    assert not out.exists()

    manifest = build_store(raw, out, progress=False, jobs=2, accept_new_editions=True)
    entry = next(f for s in manifest["sources"] for f in s["files"] if f["path"] == target)
    assert entry["sha256"] == new_sha
    assert entry["manifest_sha256"] == declared
    assert entry["matches_manifest"] is False
    assert entry["accepted_at"] == manifest["built_at"][:10]
    assert json.loads((out / io.MANIFEST_FILE).read_text(encoding="utf-8")) == manifest
    others = [f for s in manifest["sources"] for f in s["files"] if f["path"] != target]
    assert all(f["matches_manifest"] and "accepted_at" not in f for f in others)

    # A later build of the same store accepts the same file again (cron), and says so ...
    result = CliRunner().invoke(main, ["data", "build", "--raw", str(raw), "--out", str(out),
                                       "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert f"nieuwe editie van {target} aanvaard op {entry['accepted_at']}" in result.output
    again = io.read_manifest(out)
    assert next(f for s in again["sources"] for f in s["files"] if f["path"] == target) == entry

    # ... but not a file that changed once more.
    (raw / target).write_bytes((raw / target).read_bytes() + b"\r\n")
    with pytest.raises(ChecksumError, match="REFNIS_2025.csv"):
        build_store(raw, out, progress=False, jobs=2)
