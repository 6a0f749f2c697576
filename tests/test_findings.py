"""Finding templates on the miniature store, and Dutch number formatting."""

from __future__ import annotations

import pandas as pd
import pytest

from lsbanalysis import fmt
from lsbanalysis.analysis.catalogue import load_catalogue
from lsbanalysis.analysis.compare import _derived
from lsbanalysis.analysis.findings import BETTER, NEUTRAL, UNAVAILABLE, WORSE, make_findings
from tests.test_compare import ds  # noqa: F401  (module-scoped miniature dataset)


def texts(c, kind=None):
    return [f.text for f in c.findings if kind is None or f.kind == kind]


def test_dutch_numbers():
    assert fmt.value(30024.4, "eur") == "30.024 €"
    assert fmt.value(24.956, "percent") == "25,0 %"
    assert fmt.value(1234567, "count") == "1.234.567"
    assert fmt.value(float("nan"), "eur") == "niet beschikbaar"
    assert fmt.difference(-1.23, "percent") == "-1,2 procentpunt"
    assert fmt.number(0.5, 2) == "0,50"


def test_rank_highest_and_second_highest(ds):  # noqa: F811
    group = "A-dorp,BC-fusie,D-berg"
    top = ds.compare("A-dorp", reference=group, indicators=["werkzoekendengraad"])
    (text,) = texts(top, "rank")
    assert text.startswith("De werkzoekendengraad is het hoogst in A-dorp in vergelijking met "
                           "de gemeenten van de referentielijst (10,0 %; daarna D-berg: 6,0 %)")
    assert text.endswith(", 2024.")
    assert next(f for f in top.findings if f.kind == "rank").assessment == WORSE
    second = ds.compare("D-berg", reference=group, indicators=["werkzoekendengraad"])
    (text,) = texts(second, "rank")
    assert "is na A-dorp (10,0 %) het hoogst in D-berg" in text


def test_rank_lowest(ds):  # noqa: F811
    c = ds.compare("BC-fusie", reference="A-dorp,BC-fusie,D-berg",
                   indicators=["werkzoekendengraad"])
    finding = next(f for f in c.findings if f.kind == "rank")
    assert "het laagst in BC-fusie" in finding.text
    assert finding.assessment == BETTER  # lower jobseeker rate is favourable


def test_benchmark_comparison_names_values(ds):  # noqa: F811
    c = ds.compare("A-dorp", reference="A-dorp,BC-fusie", indicators=["aangiften_lt10k_pct"])
    (text,) = texts(c, "benchmark")
    assert text.startswith("In A-dorp is het aandeel aangiften met netto belastbaar inkomen tot "
                           "10.000 € (50,0 %, 2022) hoger dan")
    assert "in het arrondissement Turnhout (13,3 %)" in text
    assert "in het Vlaams Gewest (10,0 %)" in text


def test_most_common_band_against_the_arrondissement(ds):  # noqa: F811
    c = ds.compare("A-dorp", reference="A-dorp,BC-fusie")
    (text,) = texts(c, "band")
    assert text == ("De aangiften met een netto belastbaar inkomen tot 10.000 € komen in A-dorp "
                    "het vaakst voor (50,0 % van de aangiften, 2022); procentueel is dit hoger "
                    "dan in het arrondissement Turnhout (13,3 %).")


def test_price_rank_in_the_arrondissement(ds):  # noqa: F811
    top = ds.compare("A-dorp", reference="A-dorp,BC-fusie",
                     indicators=["mediaanprijs_huizen_2_3_gevels"])
    assert ("A-dorp is de duurste gemeente van het arrondissement Turnhout voor huizen met 2 of 3 "
            "gevels (300.000 €, 2024).") in texts(top, "arrondissement_rank")
    low = ds.compare("D-berg", reference="A-dorp,D-berg",
                     indicators=["mediaanprijs_huizen_2_3_gevels"])
    assert any("de goedkoopste gemeente" in t for t in texts(low, "arrondissement_rank"))
    mid = ds.compare("BC-fusie", reference="A-dorp,BC-fusie",
                     indicators=["mediaanprijs_huizen_2_3_gevels"])
    assert any("de 2e duurste van de 3 gemeenten" in t for t in texts(mid, "arrondissement_rank"))


def test_trend(ds):  # noqa: F811
    c = ds.compare("A-dorp", reference="A-dorp,BC-fusie", indicators=["werkzoekendengraad"])
    (text,) = texts(c, "trend")
    assert text == ("De werkzoekendengraad in A-dorp is gedaald van 12,0 % in 2022 naar 10,0 % "
                    "in 2024.")


def test_no_finding_from_unpublished_values(ds):  # noqa: F811
    c = ds.compare("D-berg", reference="A-dorp,D-berg", indicators=["mediaanprijs_appartementen"])
    assert [f.kind for f in c.findings] == ["unavailable"]
    assert c.findings[0].assessment == UNAVAILABLE
    assert "niet gepubliceerd" in c.findings[0].text
    # and the suppressed value never shows up as a number
    assert "0 €" not in c.findings[0].text


def test_clear_differences_come_first_within_a_theme(ds):  # noqa: F811
    c = ds.compare("A-dorp", reference="A-dorp,BC-fusie,D-berg")
    order = [(f.theme, f.assessment) for f in make_findings(c)]
    themes = [t for t, _ in order]
    assert themes == sorted(themes, key=["bevolking", "inkomen", "arbeid", "wonen"].index)
    for theme in set(themes):
        marks = [a for t, a in order if t == theme]
        firsts = [a in (BETTER, WORSE) for a in marks]
        assert firsts == sorted(firsts, reverse=True)
        assert marks.index(UNAVAILABLE) > 0 if UNAVAILABLE in marks and len(marks) > 1 else True
    assert all(f.source and f.period for f in c.findings)
    assert NEUTRAL in {a for _, a in order}


def test_change_and_quotient_from_aggregated_values():
    cat = load_catalogue()
    base = pd.DataFrame([
        # indicator, year, entity, entity_type, role, value, status, source, note
        ("mediaanprijs_huizen", 2014, "13000", "arrondissement", "benchmark", 200.0, "ok", "s", ""),
        ("mediaanprijs_huizen", 2019, "13000", "arrondissement", "benchmark", 250.0, "ok", "s", ""),
        ("mediaanprijs_huizen", 2024, "13000", "arrondissement", "benchmark", 300.0, "ok", "s", ""),
        ("mediaanprijs_huizen", 2024, "G", "reference_group", "aggregate", None,
         "not_available", "s", "x"),
        ("mediaanprijs_huizen", 2019, "G", "reference_group", "aggregate", None,
         "not_available", "s", "x"),
        ("inkomen_mediaan_aangifte", 2024, "13000", "arrondissement", "benchmark", 30.0, "ok",
         "t", ""),
    ], columns=["indicator", "year", "entity", "entity_type", "role", "value", "status",
                "source", "note"])
    inds = [cat["mediaanprijs_huizen_verandering_5j"], cat["mediaanprijs_huizen_verandering_10j"],
            cat["prijs_inkomen_ratio"]]
    out = _derived(inds, base).set_index(["indicator", "year", "entity"])
    assert out.loc[("mediaanprijs_huizen_verandering_5j", 2024, "13000"), "value"] == (
        pytest.approx(20.0))
    assert out.loc[("mediaanprijs_huizen_verandering_10j", 2024, "13000"), "value"] == (
        pytest.approx(50.0))
    assert out.loc[("prijs_inkomen_ratio", 2024, "13000"), "value"] == pytest.approx(10.0)
    group = out.loc[("mediaanprijs_huizen_verandering_5j", 2024, "G")]
    assert group["status"] == "not_available" and pd.isna(group["value"])
