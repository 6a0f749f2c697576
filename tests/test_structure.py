"""Age structure (population pyramid bands) and a partial year on the miniature store, with
hand-computed answers."""

from __future__ import annotations

import math

import pytest

from lsbanalysis.analysis.groups import ReferenceGroup
from lsbanalysis.analysis.partial_year import PartialYearError, year_to_date
from lsbanalysis.analysis.structure import AgeStructureError, age_structure, structure_years
from lsbanalysis.dataset import Dataset
from lsbanalysis.report import tables
from tests.tiny_store import obs, write_store

STRUCT = "statbel_population_structure_{}"
PERMITS = "statbel_building_permits"
#: (nis, year) → {(sex, band): count}; bands 0-4, 5-9 and 95+ stand for a whole pyramid.
COUNTS = {
    ("13001", 2019): {("men", "00_04"): 10, ("women", "00_04"): 10, ("men", "05_09"): 20,
                      ("women", "05_09"): 20, ("men", "95_plus"): 10, ("women", "95_plus"): 30},
    ("13002", 2019): {("men", "00_04"): 100, ("women", "00_04"): 100, ("men", "05_09"): 50,
                      ("women", "05_09"): 50, ("men", "95_plus"): 0, ("women", "95_plus"): 100},
    ("13003", 2019): {("men", "00_04"): 5, ("women", "00_04"): 5, ("men", "05_09"): 10,
                      ("women", "05_09"): 10, ("men", "95_plus"): 5, ("women", "95_plus"): 15},
    ("13001", 2018): {("men", "00_04"): 1, ("women", "00_04"): 1, ("men", "05_09"): 1,
                      ("women", "05_09"): 1, ("men", "95_plus"): 1, ("women", "95_plus"): 1},
}


def _ytd(measure, nis, period, value, status="ok"):
    row = obs(PERMITS, f"permits_residential_{measure}_ytd", nis, int(period[:4]), value,
              status=status, geo="2025")
    row["period"] = period
    return row


@pytest.fixture(scope="module")
def ds(tmp_path_factory) -> Dataset:
    rows = []
    for (nis, year), counts in COUNTS.items():
        for (sex, band), n in counts.items():
            rows.append(obs(STRUCT.format(year), f"population_{sex}_band_{band}", nis, year, n))
    rows.append(obs("statbel_population_density", "population", "13001", 2019, 100))
    # Building permits: annual 2024, and January-July of 2024 and 2025 (2025 map).
    rows.append(obs(PERMITS, "permits_residential_new_dwellings", "13004", 2024, 40,
                    geo="2025"))
    for nis, (before, now) in (("13001", (4, 7)), ("13004", (14, 35)), ("13005", (2, 1)),
                               ("13000", (20, 43)), ("02000", (200, 180))):
        rows.append(_ytd("new_dwellings", nis, "2024-M01-M07", before))
        rows.append(_ytd("new_dwellings", nis, "2025-M01-M07", now))
        rows.append(_ytd("renovations", nis, "2024-M01-M07", 3))
    rows.append(_ytd("renovations", "13004", "2025-M01-M07", None, status="missing"))
    return Dataset(write_store(tmp_path_factory.mktemp("tiny") / "store", rows))


def group(ds, *names) -> ReferenceGroup:
    return ReferenceGroup("lijst", "testgroep", tuple(ds.municipality(n) for n in names))


def test_a_merged_municipality_is_the_sum_of_its_predecessors(ds):
    s = age_structure(ds, ds.municipality("BC-fusie"))
    shape = s.shape("municipality", "count")
    assert shape.loc["0-4", "men"] == 100 + 5
    assert shape.loc["95+", "women"] == 100 + 15
    assert s.total("municipality") == sum(COUNTS[("13002", 2019)].values()) + sum(
        COUNTS[("13003", 2019)].values())
    assert list(s.bands) == ["0-4", "5-9", "95+"]  # young to old


def test_group_shape_is_a_ratio_of_sums_not_a_mean_of_shares(ds):
    s = age_structure(ds, ds.municipality("A-dorp"), group(ds, "A-dorp", "BC-fusie"))
    a = COUNTS[("13001", 2019)]
    bc = {k: COUNTS[("13002", 2019)][k] + COUNTS[("13003", 2019)][k] for k in a}
    total = sum(a.values()) + sum(bc.values())
    share = s.shape("reference_group").loc["95+", "women"]
    assert share == pytest.approx(100 * (30 + 115) / total)
    mean_of_shares = (100 * 30 / sum(a.values()) + 100 * 115 / sum(bc.values())) / 2
    assert share != pytest.approx(mean_of_shares)
    assert s.shape("reference_group").to_numpy().sum() == pytest.approx(100)
    assert s.shape("municipality").loc["95+", "women"] == pytest.approx(100 * 30 / 100)
    assert s.share_of_ages("municipality", 5) == pytest.approx(80)  # 5-9 and 95+


def test_region_shape_sums_every_municipality_of_the_region(ds):
    s = age_structure(ds, ds.municipality("A-dorp"), benchmarks=("region",))
    assert s.name("region") == "Vlaams Gewest"
    assert s.total("region") == sum(sum(COUNTS[(n, 2019)].values())
                                    for n in ("13001", "13002", "13003"))
    assert s.entities() == ["municipality", "region"]


def test_a_member_without_data_is_left_out_and_named(ds):
    # D-berg only exists on the 2025 map: no age structure in 2019.
    s = age_structure(ds, ds.municipality("A-dorp"), group(ds, "A-dorp", "BC-fusie", "D-berg"))
    assert "reference_group" in s.entities()
    assert any("berekend zonder D-berg" in n for n in s.notes)
    s = age_structure(ds, ds.municipality("A-dorp"), group(ds, "A-dorp", "D-berg"))
    assert "reference_group" not in s.entities()  # half the members is not enough
    assert any("niet berekend" in n and "D-berg" in n for n in s.notes)


def test_the_year_is_the_latest_up_to_the_reference_year(ds):
    a = ds.municipality("A-dorp")
    assert structure_years(ds, a) == [2018, 2019]
    assert structure_years(ds, ds.municipality("BC-fusie")) == [2019]
    assert age_structure(ds, a).year == 2019
    assert age_structure(ds, a, upto=2018).year == 2018
    assert age_structure(ds, a, year=2018).total("municipality") == 6
    with pytest.raises(AgeStructureError, match="tot en met 2017 \\(wel 2018, 2019\\)"):
        age_structure(ds, a, upto=2017)
    with pytest.raises(AgeStructureError, match="Geen leeftijdsopbouw van A-dorp voor 2010"):
        age_structure(ds, a, year=2010)


# -- a partial year --------------------------------------------------------------------------


def test_partial_year_against_the_same_months_a_year_earlier(ds):
    ytd = year_to_date(ds, ds.municipality("BC-fusie"))
    assert (ytd.year, ytd.label, ytd.previous_label) == (2025, "januari–juli 2025",
                                                         "januari–juli 2024")
    t = ytd.table.set_index(["entity_type", "measure"])
    own = t.loc[("municipality", "permits_residential_new_dwellings_ytd")]
    assert (own["previous"], own["current"]) == (14, 35)  # never the annual 40 of 2024
    region = t.loc[("region", "permits_residential_new_dwellings_ytd")]
    assert (region["name"], region["previous"], region["current"]) == ("Vlaams Gewest", 200, 180)
    missing = t.loc[("municipality", "permits_residential_renovations_ytd")]
    assert math.isnan(missing["current"]) and missing["status_current"] == "missing"
    assert missing["previous"] == 3


def test_partial_year_table_in_dutch(ds):
    shown = tables.year_to_date(year_to_date(ds, ds.municipality("BC-fusie"))).set_index(
        "Vergunningen")
    row = shown.loc["Vergunde nieuwe woningen"]
    assert row["BC-fusie, januari–juli 2025"] == "35" and row["Verschil"] == "+21"
    assert row["Vlaams Gewest: verandering"] == "-10,0 %"
    assert row["Arrondissement Turnhout: verandering"] == "+115,0 %"
    renov = shown.loc["Renovatievergunningen (woongebouwen)"]
    assert renov["BC-fusie, januari–juli 2025"] == "n.b." and renov["Verschil"] == "–"


def test_no_partial_year_is_a_clear_error(tmp_path):
    path = write_store(tmp_path / "store", [obs("statbel_population_density", "population",
                                                "13001", 2019, 100)])
    with pytest.raises(PartialYearError, match="geen onvolledig jaar"):
        year_to_date(Dataset(path), Dataset(path).municipality("A-dorp"))
