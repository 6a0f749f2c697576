"""One validation path for every command: bad input is refused early with one clear sentence.

Unit tests on the hand-made miniature store (B-stad and C-veld merged into BC-fusie on
1 January 2025); end-to-end checks on the embedded store for the cases found in practice
(Borsbeek, Puurs, Namen, Elsene, 02000).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import lsbanalysis
from lsbanalysis.analysis.compare import NoDataError, UnknownIndicatorError, YearError
from lsbanalysis.analysis.groups import ReferenceGroupError
from lsbanalysis.analysis.validation import (
    MergedMunicipalityError,
    NotFlemishError,
    check_year,
)
from lsbanalysis.cli import main
from lsbanalysis.dataset import Dataset
from lsbanalysis.errors import UnknownMunicipalityError
from lsbanalysis.report import runner
from tests.tiny_store import obs, write_store

VDAB = "vdab_jobseekers"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Dataset:
    rows = []
    for year, rate in ((2022, 12.0), (2023, 11.0), (2024, 10.0)):
        rows += [obs(VDAB, "jobseeker_rate", nis, year, rate, "percent", geo="2025")
                 for nis in ("13001", "13004", "13005")]
        rows += [obs(VDAB, "nwwz", nis, year, 10 * rate, geo="2025")
                 for nis in ("13001", "13004", "13005")]
    return Dataset(write_store(tmp_path_factory.mktemp("tiny") / "store", rows))


@pytest.fixture(scope="module")
def ds():
    return lsbanalysis.load()


# -- types: a None group, a year as text, an indicator as a plain string ------------------


def test_reference_none_is_a_clear_error_not_a_type_error(tiny):
    with pytest.raises(ReferenceGroupError, match="Geen bruikbare referentiegroep opgegeven"):
        tiny.compare("A-dorp", reference=None)
    with pytest.raises(ReferenceGroupError, match=r"\[5\.5\]"):
        tiny.compare("A-dorp", reference=[5.5])


def test_year_as_text_is_a_year_and_bad_years_say_what_is_expected(tiny):
    as_text = tiny.compare("A-dorp", reference="A-dorp,BC-fusie", year="2023")
    as_int = tiny.compare("A-dorp", reference="A-dorp,BC-fusie", year=2023)
    assert as_text.table.equals(as_int.table)
    for bad in ("twintig", True, 2022.5, "2022-01"):
        with pytest.raises(YearError, match="Ongeldig jaar .*geheel getal, zoals 2022"):
            tiny.compare("A-dorp", reference="A-dorp,BC-fusie", year=bad)
    assert check_year(None) is None and check_year(" 2024 ") == 2024


def test_a_plain_string_is_one_indicator_not_a_list_of_characters(tiny):
    c = tiny.compare("A-dorp", reference="A-dorp,BC-fusie", indicators="werkzoekendengraad")
    assert set(c.table["indicator"]) == {"werkzoekendengraad"}
    c2 = tiny.compare("A-dorp", reference="A-dorp,BC-fusie", indicators="nwwz, werkzoekendengraad")
    assert {i.id for i in c2.indicators} == {"nwwz", "werkzoekendengraad"}
    with pytest.raises(UnknownIndicatorError, match="Onbekende indicator 'werkloosheid'"):
        tiny.compare("A-dorp", reference="A-dorp,BC-fusie", indicators="werkloosheid")


def test_absurdly_long_input_is_not_echoed_whole(tiny):
    name = "x" * 100_000
    for call in (lambda: tiny.compare(name, reference="A-dorp,BC-fusie"),
                 lambda: tiny.compare("A-dorp", reference=name),
                 lambda: tiny.compare("A-dorp", reference="A-dorp,BC-fusie", year=name)):
        with pytest.raises(Exception) as caught:
            call()
        message = str(caught.value)
        assert len(message) < 300 and "100.000 tekens" in message


# -- what the code is: a region, a province, an arrondissement -----------------------------


@pytest.mark.parametrize(
    ("query", "phrase"),
    [("02000", "het Vlaams Gewest"), ("2000", "het Vlaams Gewest"),
     ("10000", "de provincie Antwerpen"), ("13000", "het arrondissement Turnhout"),
     ("Vlaams Gewest", "het Vlaams Gewest")],
)
def test_a_region_code_is_named_not_just_unknown(tiny, query, phrase):
    with pytest.raises(UnknownMunicipalityError, match=f"Dat is {phrase}, geen gemeente"):
        tiny.municipality(query)


# -- merged municipalities name their successor, in every command -------------------------


def test_merged_target_names_its_successor_for_compare_and_report(tiny):
    expected = "B-stad \\(13002\\) is sinds 1 januari 2025 een deel van BC-fusie \\(13004\\)"
    for reference in ("buren", "arrondissement", "A-dorp,D-berg"):
        with pytest.raises(MergedMunicipalityError, match=expected):
            tiny.compare("B-stad", reference=reference)
        with pytest.raises(MergedMunicipalityError, match=expected):
            runner.validate_parameters(tiny, "B-stad", reference, None)


def test_merged_member_names_its_successor(tiny):
    with pytest.raises(ReferenceGroupError,
                       match="C-veld \\(13003\\) is sinds 1 januari 2025 een deel van BC-fusie"):
        tiny.compare("A-dorp", reference="A-dorp,C-veld")


@pytest.mark.parametrize(
    ("gemeente", "referentie", "message"),
    [
        ("Borsbeek", "ISOM", "Borsbeek (11007) is sinds 1 januari 2025 een deel van Antwerpen "
                             "(11002)"),
        ("Puurs", "buren", "Puurs (12030) is sinds 1 januari 2019 een deel van "
                           "Puurs-Sint-Amands (12041)"),
    ],
)
def test_merged_municipality_same_message_in_every_command(gemeente, referentie, message,
                                                           monkeypatch):
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda *a, **k: pytest.fail("a notebook was executed"))
    outputs = []
    for command in ("compare", "vaststellingen", "report"):
        result = CliRunner().invoke(main, [command, "--gemeente", gemeente, "--referentie",
                                           referentie])
        assert result.exit_code == 1, (command, result.output)
        outputs.append(result.output)
    for output in outputs:
        assert message in output and "Traceback" not in output


# -- the report needs a Flemish municipality; compare shows what exists --------------------


@pytest.mark.parametrize(("gemeente", "region"),
                         [("Namen", "Waals Gewest"), ("Elsene", "Brussels Hoofdstedelijk Gewest")])
def test_report_for_a_walloon_or_brussels_municipality_is_refused_before_any_kernel(
        ds, gemeente, region, tmp_path, monkeypatch):
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda *a, **k: pytest.fail("a notebook was executed"))
    with pytest.raises(NotFlemishError, match=f"ligt in het {region}, niet in Vlaanderen"):
        runner.build_report(gemeente, "arrondissement", out_root=tmp_path / "reports")
    assert not (tmp_path / "reports").exists()
    result = CliRunner().invoke(main, ["report", "--gemeente", gemeente, "--referentie", "buren",
                                       "--uit", str(tmp_path / "reports")])
    assert result.exit_code == 1 and "niet in Vlaanderen" in result.output


def test_no_data_at_all_is_named_not_a_year_none(ds):
    with pytest.raises(NoDataError, match="geen gegevens over Werkzoekendengraad voor Namen") as e:
        ds.compare("Namen", reference="arrondissement", indicators=["werkzoekendengraad"])
    assert "None" not in str(e.value)
    c = ds.compare("Namen", reference="arrondissement")  # income and prices do exist
    assert "inkomen_mediaan_aangifte" in set(c.table["indicator"])
    assert "Werkzoekendengraad: geen gegevens voor Namen." in c.notes


def test_flemish_region_code_on_the_command_line():
    result = CliRunner().invoke(main, ["compare", "--gemeente", "02000", "--referentie", "ISOM"])
    assert result.exit_code == 1
    assert "Dat is het Vlaams Gewest, geen gemeente" in result.output


# -- the year range is the same in every message -------------------------------------------


def test_year_out_of_range_gives_the_same_range_for_compare_and_report(monkeypatch, tmp_path):
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda *a, **k: pytest.fail("a notebook was executed"))
    messages = []
    for args in (["compare"], ["report", "--uit", str(tmp_path)]):
        result = CliRunner().invoke(main, [*args, "--gemeente", "Herenthout", "--referentie",
                                           "ISOM", "--jaar", "2030"])
        assert result.exit_code == 1
        messages.append(result.output.strip().splitlines()[-1])
    assert messages[0] == messages[1]
    # Building permits go back to 1996; the latest complete year of any source is 2024.
    assert "beschikbare jaren voor Herenthout: 1996–2024" in messages[0]
