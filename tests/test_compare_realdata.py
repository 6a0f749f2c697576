"""End to end on the embedded store (built from the official files): Herenthout vs ISOM."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from click.testing import CliRunner

import lsbanalysis
from lsbanalysis.cli import main

ISOM = {"13010", "13011", "13012", "13017", "13019", "13029", "13044"}


@pytest.fixture(scope="module")
def ds():
    return lsbanalysis.load()


@pytest.fixture(scope="module")
def comparison(ds):
    return ds.compare("Herenthout", reference="ISOM")


def row(c, indicator, role, entity_type=None):
    t = c.table[(c.table["indicator"] == indicator) & (c.table["role"] == role)]
    if entity_type:
        t = t[t["entity_type"] == entity_type]
    return t.iloc[0]


def test_group_is_isom(comparison):
    assert set(comparison.group.codes) == ISOM
    assert comparison.target.nis == "13012"


def test_jobseeker_rate_2024_rank_and_ratio_of_sums(comparison):
    t = row(comparison, "werkzoekendengraad", "target")
    assert (t["period"], t["value"]) == ("2024", pytest.approx(4.9))
    # Herentals 6.8 and Olen 5.1 are higher; Lille shares Herenthout's 4.9 (tie, rank 3).
    assert (t["rank"], t["rank_of"]) == (3, 7)
    members = comparison.table[(comparison.table["indicator"] == "werkzoekendengraad")
                               & (comparison.table["entity_type"] == "municipality")]
    group = row(comparison, "werkzoekendengraad", "aggregate")
    mean_of_rates = members["value"].mean()
    assert group["value"] != pytest.approx(mean_of_rates, abs=1e-3)
    assert 4.6 <= group["value"] <= 6.8


def test_income_medians_use_published_benchmarks(comparison):
    assert row(comparison, "inkomen_mediaan_aangifte", "target")["value"] == 30_024
    assert row(comparison, "inkomen_mediaan_aangifte", "benchmark", "arrondissement")[
        "value"] == 30_743
    assert row(comparison, "inkomen_mediaan_aangifte", "benchmark", "region")["value"] == 30_106
    assert row(comparison, "inkomen_mediaan_aangifte", "aggregate")["status"] == "not_available"


def test_band_share_and_finding(comparison):
    share = row(comparison, "aangiften_20k_30k_pct", "target")["value"]
    assert share == pytest.approx(100 * 1425 / 5710)
    band = next(f for f in comparison.findings if f.kind == "band")
    assert band.text.startswith("De aangiften met een netto belastbaar inkomen tussen 20.001 en "
                                "30.000 € komen in Herenthout het vaakst voor (25,0 %")
    assert "hoger dan in het arrondissement Turnhout (23,0 %)" in band.text


def test_house_prices_2024(comparison):
    t = row(comparison, "mediaanprijs_huizen", "target")
    assert (t["period"], t["value"]) == ("2024", 349_000)
    assert row(comparison, "verkopen_huizen", "target")["value"] == 71
    texts = [f.text for f in comparison.findings if f.kind == "arrondissement_rank"]
    assert any("arrondissement Turnhout" in t for t in texts)


def test_every_finding_has_numbers_year_and_source(comparison):
    assert len(comparison.findings) > 20
    for f in comparison.findings:
        assert f.source and f.period.isdigit()
        assert any(ch.isdigit() for ch in f.text)


def test_another_municipality_and_group(ds):
    c = ds.compare("Geel", reference="buren")
    assert c.target.nis == "13008"
    assert len(c.group) >= 4
    assert row(c, "werkzoekendengraad", "target")["status"] == "ok"


def test_cli_compare_csv():
    result = CliRunner().invoke(main, ["compare", "--gemeente", "Herenthout", "--referentie",
                                       "ISOM", "--format", "csv"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout), dtype={"entity": str, "period": str})
    assert list(frame.columns[:5]) == ["indicator", "period", "entity", "entity_type", "value"]
    assert set(frame["entity"]) >= ISOM
    assert {"ISOM", "13000", "10000", "02000"} <= set(frame["entity"])
    assert not frame.duplicated(["indicator", "entity", "entity_type"]).any()


def test_cli_vaststellingen_key_by_default_all_with_alle(comparison):
    args = ["vaststellingen", "--gemeente", "Herenthout", "--referentie", "ISOM"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Kernvaststellingen voor Herenthout, vergeleken met de "
                                    "ISOM-gemeenten")
    assert "WERKGROEP ARBEID & SOCIALE ZEKERHEID" in result.stdout
    key = comparison.synthesis.key
    assert sum(line.startswith(" [") for line in result.stdout.splitlines()) == len(key)
    every = CliRunner().invoke(main, [*args, "--alle"])
    assert every.exit_code == 0, every.output
    assert "INKOMEN" in every.stdout and "ARBEID" in every.stdout
    assert all(f.text in every.stdout for f in comparison.findings)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gemeente", "Herenthoud", "--referentie", "ISOM"], "Herenthout?"),
        (["--gemeente", "Herenthout", "--referentie", "ISON"], "Onbekende referentiegroep"),
        (["--gemeente", "Herenthout", "--referentie", "ISOM", "--jaar", "1990"],
         "beschikbare jaren"),
        (["--gemeente", "Herenthout", "--referentie", "Herenthout"], "minstens twee"),
    ],
)
def test_cli_bad_input_exits_nonzero_with_a_clear_message(args, message):
    result = CliRunner().invoke(main, ["compare", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_merged_municipality_keeps_its_current_benchmarks(ds):
    # Beveren-Kruibeke-Zwijndrecht (2025) includes the former Zwijndrecht (arrondissement
    # Antwerpen); in every year its benchmarks are arrondissement Sint-Niklaas and Oost-Vlaanderen.
    c = ds.compare("Beveren-Kruibeke-Zwijndrecht", reference="arrondissement")
    bench = c.history[c.history["role"] == "benchmark"]
    assert set(bench.loc[bench["entity_type"] == "arrondissement", "entity"]) == {"46000"}
    assert set(bench.loc[bench["entity_type"] == "province", "entity"]) == {"40000"}
    # its income is the sum over the three former municipalities (ratio of sums)
    t = row(c, "inkomen_gemiddeld_aangifte", "target")
    assert t["status"] == "ok" and "opgegaan" in t["note"]
    assert row(c, "inkomen_mediaan_aangifte", "target")["status"] == "not_available"


def test_municipality_without_flemish_neighbours(ds):
    from lsbanalysis.analysis.groups import ReferenceGroupError

    with pytest.raises(ReferenceGroupError, match="Voeren deelt .* geen enkele gemeente"):
        ds.compare("Voeren", reference="buren")


def test_municipality_merged_in_2019_is_compared_in_2015_too(ds):
    # Puurs-Sint-Amands (12041, 2019) = Puurs (12030) + Sint-Amands (12034) in 2015 data.
    c = ds.compare("Puurs-Sint-Amands", reference="arrondissement",
                   indicators=["aangiften_lt20k_pct", "inkomen_mediaan_aangifte"], year=2015)
    share = row(c, "aangiften_lt20k_pct", "target")
    assert share["status"] == "ok" and "opgegaan" in share["note"]
    assert row(c, "inkomen_mediaan_aangifte", "target")["status"] == "not_available"


def test_derived_welfare_index_equals_the_published_one_rounded(ds):
    engine = ds.engine
    rows = engine.rows
    published = rows[(rows["indicator"] == "welvaartsindex") & (rows["status"] == "ok")]
    income = rows[(rows["indicator"] == "inkomen_gemiddeld_inwoner") & (rows["status"] == "ok")]
    both = published.merge(income, on=["year", "nis", "level", "geo_version"],
                           suffixes=("_pub", "_inc"))
    belgium = both["year"].map(lambda y: engine.country[("inkomen_gemiddeld_inwoner", y)])
    derived = (100 * both["value_inc"] / belgium).round()
    assert len(both) > 2500  # every unit of the four published years
    assert (derived == both["value_pub"]).all()


def test_group_welfare_index_is_derived_and_says_so(ds):
    c = ds.compare("Herenthout", reference="ISOM", year=2022, indicators=["welvaartsindex"])
    t = c.table.set_index("role")
    assert t.loc["target", "value"] == 105 and t.loc["target", "note"] == ""
    group = t.loc["aggregate"]
    assert group["status"] == "ok" and "afgeleid" in group["note"]
    assert 105 < group["value"] < 114  # between Herenthout and the richest member
    # The years without a publication get the derived index too: a series 2005-2022.
    years = c.target_history("welvaartsindex")["year"].tolist()
    assert years == list(range(2005, 2023))


def test_zero_income_share_is_a_series_from_2005(ds):
    c = ds.compare("Herenthout", reference="ISOM", indicators=["aangiften_nul_inkomen_pct"])
    h = c.target_history("aangiften_nul_inkomen_pct")
    assert h["year"].min() == 2005 and len(h) == 18
    v2015 = h.set_index("year").loc[2015, "value"]
    assert v2015 == pytest.approx(100 * 163 / (163 + 5130))


def _value(c, indicator, role, entity_type=None):
    return float(row(c, indicator, role, entity_type)["value"])


def test_ageing_2022_from_single_ages(ds):
    c = ds.compare("Herenthout", reference="ISOM", year=2022,
                   indicators=["aandeel_65plus", "aandeel_80plus", "aandeel_0_17",
                               "aandeel_niet_belgen", "grijze_druk", "interne_vergrijzing"])
    assert _value(c, "aandeel_65plus", "target") == pytest.approx(100 * 2086 / 9287)
    assert _value(c, "aandeel_80plus", "target") == pytest.approx(100 * 593 / 9287)
    assert _value(c, "aandeel_0_17", "target") == pytest.approx(100 * 1586 / 9287)
    assert _value(c, "aandeel_niet_belgen", "target") == pytest.approx(100 * 627 / 9287)
    assert _value(c, "interne_vergrijzing", "target") == pytest.approx(100 * 593 / 2086)
    # The Region is the ratio of sums over all its municipalities (no published row).
    obs = ds.observations
    flemish = set(ds.geography.query("geo_version == '2019' and region == '02000' "
                                     "and level == 'municipality'")["nis"])
    part = obs[(obs["source"] == "statbel_population_structure_2022")
               & obs["nis"].isin(flemish)].groupby("measure", observed=True)["value"].sum()
    assert _value(c, "grijze_druk", "benchmark", "region") == pytest.approx(
        100 * part["population_age_65_plus"] / part["population_age_20_64"])


def test_poverty_risk_of_a_group_weights_by_persons(ds):
    c = ds.compare("Herenthout", reference="ISOM", year=2022, indicators=["armoederisico"])
    assert _value(c, "armoederisico", "target") == pytest.approx(5.1)
    obs = ds.observations
    part = obs[(obs["source"] == "statbel_admin_income") & (obs["year"] == 2022)
               & obs["nis"].isin(ISOM)]
    wide = part.pivot_table(index="nis", columns="measure", values="value", observed=True)
    rate, persons = wide["adi_poverty_risk_pct"], wide["adi_persons_eligible"]
    exact = (rate * persons).sum() / persons.sum()
    group = _value(c, "armoederisico", "aggregate")
    assert group == pytest.approx(exact)
    assert abs(group - rate.mean()) > 0.01  # the mean of the rates would be wrong
    # No published benchmark rows: computed from every municipality, with the map named.
    arr = row(c, "armoederisico", "benchmark", "arrondissement")
    assert arr["status"] == "ok" and "2019-2024" in arr["note"]


def test_housing_supply_integration_and_vacancies(ds):
    c = ds.compare("Herenthout", reference="ISOM",
                   indicators=["nieuwbouw_woningen", "nieuwkomers", "vacatures_ontvangen",
                               "thuistaal_niet_nl_basisonderwijs", "nieuwkomers_per_1000"])
    assert row(c, "nieuwbouw_woningen", "target")["period"] == "2024"  # 2025 is partial
    assert _value(c, "nieuwbouw_woningen", "target") == 22
    assert _value(c, "nieuwbouw_woningen", "benchmark", "arrondissement") == 2250
    assert _value(c, "nieuwkomers", "target") == 55
    assert _value(c, "thuistaal_niet_nl_basisonderwijs", "target") == pytest.approx(13.3)
    assert row(c, "thuistaal_niet_nl_basisonderwijs", "aggregate")["status"] == "not_available"
    assert _value(c, "vacatures_ontvangen", "target") == 107
    # A published rate with its count in another file: derived denominators, summed.
    assert _value(c, "nieuwkomers_per_1000", "target") == pytest.approx(7.0)
    assert "afgeleide noemers" in row(c, "nieuwkomers_per_1000", "aggregate")["note"]


def test_csv_holds_the_new_indicators_with_group_and_benchmarks():
    result = CliRunner().invoke(main, ["compare", "--gemeente", "Herenthout", "--referentie",
                                       "ISOM", "--jaar", "2022", "--format", "csv"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.stdout), dtype={"entity": str})
    for indicator in ("aandeel_65plus", "grijze_druk", "armoederisico", "nieuwbouw_woningen",
                      "nieuwkomers", "vacatures_ontvangen"):
        types = set(table.loc[(table["indicator"] == indicator) & table["value"].notna(),
                              "entity_type"])
        assert types == {"municipality", "reference_group", "arrondissement", "province",
                         "region"}, indicator


def test_flemish_spread_holds_the_same_values_as_the_comparison(ds):
    """The key-finding rule ranks the target among all municipalities from engine.spread; its
    values (derived ones included: quotients, changes) must be the comparison's own."""
    c = ds.compare("Herenthout", reference="ISOM")
    spread = ds.engine.spread
    checked = 0
    for ind in c.indicators:
        t = row(c, ind.id, "target")
        if t["status"] != "ok" or ind.method == "index":
            continue
        m = spread.municipal(ind.id, int(t["year"]))
        mine = m.loc[m["nis"] == "13012", "value"]
        if len(mine):
            assert float(mine.iloc[0]) == pytest.approx(float(t["value"])), ind.id
            checked += 1
    assert checked >= 40
