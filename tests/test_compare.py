"""The comparison engine on a hand-made miniature store with hand-computed answers."""

from __future__ import annotations

import math

import pytest

from lsbanalysis.analysis.compare import ENTITY_TYPES, INCOMPLETE, NOT_AVAILABLE, YearError
from lsbanalysis.analysis.groups import ReferenceGroupError
from lsbanalysis.dataset import Dataset
from lsbanalysis.errors import UnknownMunicipalityError
from tests.tiny_store import obs, write_store

BANDS = ("lt10k", "10k_20k", "20k_30k", "30k_40k", "40k_50k", "gt50k")
INC = "statbel_income_bands_2022"
VDAB = "vdab_jobseekers"
POP = "statbel_population_density"
IMMO = "statbel_real_estate_year"


def _income(nis, nonzero, bands, median, total_income):
    rows = [obs(INC, "declarations_nonzero", nis, 2022, nonzero),
            obs(INC, "income_median_per_declaration", nis, 2022, median, "eur"),
            obs(INC, "net_taxable_income_total", nis, 2022, total_income, "eur")]
    rows += [obs(INC, f"declarations_band_{b}", nis, 2022, v) for b, v in zip(
        BANDS, bands, strict=True)]
    return rows


@pytest.fixture(scope="module")
def ds(tmp_path_factory) -> Dataset:
    rows = []
    # Income (2019 geography): A-dorp, B-stad and C-veld; B and C merge into BC-fusie in 2025.
    rows += _income("13001", 100, (50, 10, 15, 10, 5, 10), 25_000, 3_000_000)
    rows += _income("13002", 400, (10, 30, 100, 100, 60, 100), 35_000, 16_000_000)
    rows += _income("13003", 100, (20, 20, 20, 20, 10, 10), 30_000, 3_500_000)
    rows += _income("13000", 600, (80, 60, 135, 130, 75, 120), 31_000, 22_500_000)
    rows += _income("02000", 1000, (100, 100, 200, 200, 150, 250), 28_000, 40_000_000)
    # Jobseekers (2025 geography): rates in percent and NWWZ; D-berg's count is secret.
    for year, a_rate in ((2022, 12.0), (2023, 11.0), (2024, 10.0)):
        rows += [obs(VDAB, "jobseeker_rate", "13001", year, a_rate, "percent", geo="2025"),
                 obs(VDAB, "nwwz", "13001", year, a_rate * 10, geo="2025"),
                 obs(VDAB, "jobseeker_rate", "13004", year, 4.5, "percent", geo="2025"),
                 obs(VDAB, "nwwz", "13004", year, 90, geo="2025"),
                 obs(VDAB, "jobseeker_rate", "13005", year, 6.0, "percent", geo="2025"),
                 obs(VDAB, "nwwz", "13005", year, None, status="suppressed", geo="2025")]
    # Population (2019 geography, published for every level).
    for nis, pop in (("13001", 1000), ("13002", 2500), ("13003", 500), ("13000", 4000),
                     ("02000", 10000)):
        rows.append(obs(POP, "population", nis, 2024, pop))
    # House prices (2025 geography).
    for nis, price in (("13001", 300_000), ("13004", 250_000), ("13005", 200_000),
                       ("13000", 260_000), ("02000", 280_000)):
        rows.append(obs(IMMO, "price_median_houses_2_3_facades", nis, 2024, price, "eur",
                        geo="2025"))
    rows.append(obs(IMMO, "price_median_apartments", "13005", 2024, None, "eur",
                    status="suppressed", geo="2025"))
    rows.append(obs(IMMO, "price_median_apartments", "13001", 2024, 200_000, "eur", geo="2025"))
    path = write_store(tmp_path_factory.mktemp("tiny") / "store", rows)
    return Dataset(path)


def value(c, role, indicator, entity_type=None):
    t = c.table[(c.table["indicator"] == indicator) & (c.table["role"] == role)]
    if entity_type:
        t = t[t["entity_type"] == entity_type]
    assert len(t) == 1, t
    return t.iloc[0]


def test_group_rate_is_ratio_of_sums_not_mean_of_rates(ds):
    c = ds.compare("A-dorp", reference=["A-dorp", "BC-fusie"], indicators=["werkzoekendengraad"])
    group = value(c, "aggregate", "werkzoekendengraad")
    # Derived denominators: 100 / 10 % = 1000 and 90 / 4.5 % = 2000.
    assert group["value"] == pytest.approx(100 * (100 + 90) / (1000 + 2000))
    assert group["value"] != pytest.approx((10.0 + 4.5) / 2)
    assert group["status"] == "ok"
    assert "afgeleide noemers" in group["note"]


def test_group_share_is_ratio_of_sums(ds):
    c = ds.compare("A-dorp", reference="A-dorp,BC-fusie", indicators=["aangiften_lt10k_pct"])
    group = value(c, "aggregate", "aangiften_lt10k_pct")
    assert group["value"] == pytest.approx(100 * (50 + 10 + 20) / (100 + 400 + 100))
    # BC-fusie in 2022 is the sum of its two predecessors B-stad and C-veld.
    bc = c.table[(c.table["indicator"] == "aangiften_lt10k_pct")
                 & (c.table["entity"] == "13004")].iloc[0]
    assert bc["value"] == pytest.approx(100 * 30 / 500)
    assert "opgegaan" in bc["note"]


def test_counts_are_summed_including_predecessors(ds):
    c = ds.compare("A-dorp", reference="A-dorp,BC-fusie", indicators=["inwoners"])
    assert value(c, "aggregate", "inwoners")["value"] == 1000 + 2500 + 500
    assert c.table.loc[c.table["entity"] == "13004", "value"].iloc[0] == 3000
    # Published benchmark rows are used as published.
    assert value(c, "benchmark", "inwoners", "arrondissement")["value"] == 4000


def test_median_of_a_group_is_not_available(ds):
    c = ds.compare("A-dorp", reference="A-dorp,BC-fusie",
                   indicators=["inkomen_mediaan_aangifte"])
    assert value(c, "target", "inkomen_mediaan_aangifte")["value"] == 25_000
    group = value(c, "aggregate", "inkomen_mediaan_aangifte")
    assert math.isnan(group["value"]) and group["status"] == NOT_AVAILABLE
    # A merged municipality has no median either: it cannot be built from two medians.
    bc = c.table[(c.table["indicator"] == "inkomen_mediaan_aangifte")
                 & (c.table["entity"] == "13004")].iloc[0]
    assert bc["status"] == NOT_AVAILABLE
    assert value(c, "benchmark", "inkomen_mediaan_aangifte", "arrondissement")["value"] == 31_000


def test_group_and_benchmark_leave_out_an_unpublished_member_the_same_way(ds):
    c = ds.compare("A-dorp", reference="A-dorp,BC-fusie,D-berg",
                   indicators=["werkzoekendengraad"])
    group = value(c, "aggregate", "werkzoekendengraad")
    arr = value(c, "benchmark", "werkzoekendengraad", "arrondissement")
    # D-berg's count is secret: both are the ratio of sums of the two others, and say so.
    for row in (group, arr):
        assert row["status"] == "ok"
        assert row["value"] == pytest.approx(100 * (100 + 90) / (1000 + 2000))
        assert "berekend zonder D-berg" in row["note"]
    # D-berg's own published rate still counts for its rank.
    d = c.table[c.table["entity"] == "13005"].iloc[0]
    assert d["value"] == 6.0 and d["status"] == "ok"


def test_a_count_is_never_summed_without_a_member(ds):
    c = ds.compare("A-dorp", reference="A-dorp,BC-fusie,D-berg", indicators=["nwwz"])
    group = value(c, "aggregate", "nwwz")
    arr = value(c, "benchmark", "nwwz", "arrondissement")
    for row in (group, arr):  # a partial sum would be an undercount
        assert row["status"] == INCOMPLETE and math.isnan(row["value"])
        assert "geen bruikbare waarde voor D-berg" in row["note"]


def test_a_rate_needs_more_than_half_of_the_members(ds):
    c = ds.compare("D-berg", reference="BC-fusie,D-berg", indicators=["werkzoekendengraad"])
    group = value(c, "aggregate", "werkzoekendengraad")
    assert group["status"] == INCOMPLETE and math.isnan(group["value"])
    assert "D-berg" in group["note"]


def test_benchmark_notes_name_the_municipal_map(ds):
    c = ds.compare("A-dorp", reference="A-dorp,BC-fusie",
                   indicators=["inwoners", "werkzoekendengraad"])
    assert "indeling 2019-2024" in value(c, "benchmark", "inwoners", "arrondissement")["note"]
    assert "vanaf 2025" in value(c, "benchmark", "werkzoekendengraad", "region")["note"]


def test_a_list_without_the_target_says_the_target_was_added(ds):
    c = ds.compare("A-dorp", reference="BC-fusie,D-berg", indicators=["inwoners"])
    assert c.group.label == "gemeenten van de referentielijst (aangevuld met A-dorp)"
    assert c.group.codes[0] == "13001"
    c = ds.compare("A-dorp", reference="A-dorp,BC-fusie", indicators=["inwoners"])
    assert c.group.label == "gemeenten van de referentielijst"


def test_ranks_with_ties_and_rank_of(ds):
    c = ds.compare("D-berg", reference="A-dorp,BC-fusie,D-berg",
                   indicators=["werkzoekendengraad"])
    ranks = c.table.set_index("entity")["rank"]
    assert (ranks["13001"], ranks["13005"], ranks["13004"]) == (1, 2, 3)
    assert value(c, "target", "werkzoekendengraad")["rank_of"] == 3


def test_latest_year_per_indicator_and_explicit_year(ds):
    c = ds.compare("A-dorp", reference="A-dorp,BC-fusie")
    periods = c.table.groupby("indicator")["period"].first()
    assert periods["werkzoekendengraad"] == "2024"
    assert periods["aangiften_lt10k_pct"] == "2022"
    # A reference year: per indicator the latest value up to and including that year.
    c23 = ds.compare("A-dorp", reference="A-dorp,BC-fusie", year=2023)
    periods = c23.table.groupby("indicator")["period"].first()
    assert periods["werkzoekendengraad"] == "2023"
    assert periods["aangiften_lt10k_pct"] == "2022"
    assert c23.summary.set_index("indicator").loc["aangiften_lt10k_pct", "period"] == "2022"
    # population and prices start in 2024: left out and named
    assert "inwoners" not in set(c23.table["indicator"])
    assert "Inwoners: geen gegevens tot en met 2023 (wel 2024)." in c23.notes
    # the history (trends) stops at the reference year
    assert c23.history["year"].max() == 2023
    assert c23.target_history("werkzoekendengraad")["year"].tolist() == [2022, 2023]


def test_year_errors_name_the_available_years(ds):
    with pytest.raises(YearError, match="2022–2024"):
        ds.compare("A-dorp", reference="A-dorp,BC-fusie", year=1990,
                   indicators=["werkzoekendengraad"])
    with pytest.raises(YearError, match="beschikbare jaren"):
        ds.compare("A-dorp", reference="A-dorp,BC-fusie", year=1990)


def test_reference_group_errors(ds):
    with pytest.raises(ReferenceGroupError, match="minstens twee"):
        ds.compare("A-dorp", reference="A-dorp")
    with pytest.raises(ReferenceGroupError, match="Onbekende referentiegroep"):
        ds.compare("A-dorp", reference="ISON")
    with pytest.raises(ReferenceGroupError, match="mengt gemeentelijke indelingen"):
        ds.compare("A-dorp", reference="A-dorp,B-stad")
    with pytest.raises(UnknownMunicipalityError, match="A-dorp"):
        ds.compare("A-drop", reference="ISOM")


def test_rule_based_groups(ds):
    arr = ds.compare("A-dorp", reference="arrondissement", indicators=["werkzoekendengraad"])
    assert set(arr.group.codes) == {"13001", "13004", "13005"}
    buren = ds.compare("D-berg", reference="buren", indicators=["werkzoekendengraad"])
    assert set(buren.group.codes) == {"13005", "13004"}


def test_csv_contract(ds):
    c = ds.compare("A-dorp", reference="A-dorp,BC-fusie")
    text = c.to_csv()
    header = text.splitlines()[0].split(",")
    assert header[:5] == ["indicator", "period", "entity", "entity_type", "value"]
    table = c.table
    assert set(table["entity_type"]) <= set(ENTITY_TYPES)
    # One row per indicator and entity.
    assert not table.duplicated(["indicator", "entity", "entity_type"]).any()
    assert "lijst" in set(table["entity"])  # the group aggregate is named after the group


def test_store_with_only_published_values(tmp_path):
    rows = [obs(INC, "income_median_per_declaration", n, 2022, v, "eur")
            for n, v in (("13001", 20_000), ("13002", 30_000), ("13003", 25_000),
                         ("13000", 26_000))]
    c = Dataset(write_store(tmp_path / "s", rows)).compare("A-dorp", reference="A-dorp,BC-fusie")
    assert value(c, "target", "inkomen_mediaan_aangifte")["value"] == 20_000
    assert value(c, "benchmark", "inkomen_mediaan_aangifte", "arrondissement")["value"] == 26_000
