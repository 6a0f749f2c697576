"""The selection rule of the kernvaststellingen, on a miniature store with hand-chosen values.

Twelve municipalities M01-M12 form arrondissement 13000 (so the Flemish spread exists: at least
ten municipalities). Every municipality files 1.000.000 declarations, so a share's chance margin
is small and the group and region shares are plain means of the members' shares:

    share < 20.000 € (each half < 10.000 € and 10.001-20.000 €)
    M01 30 | M02 21 | M03 19 | M04 20,2 | M05 19,8 | M06-M07 20 | M08 20,1 | M09 19,9
    M10-M11 20 | M12 10                    → region = arrondissement = 20,0 %

Jobseeker rates 2020-2024 over a labour force of 100.000 (M12: 50, a tiny municipality): M05
falls from 10 % to 6 %, M06 falls to 4 % and comes back to 8 %, the others stay near 8 %.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from lsbanalysis.analysis.catalogue.selection import CatalogueError, NoiseSpec, load_selection
from lsbanalysis.analysis.synthesis import (
    AANDACHTSPUNT,
    STERKTE,
    WERKPUNT,
    candidate,
    method_markdown,
    synthesise,
)
from lsbanalysis.dataset import Dataset
from lsbanalysis.report import tables
from tests.tiny_store import obs, write_store

INC, VDAB, POP = "statbel_income_bands_2022", "vdab_jobseekers", "statbel_population_density"
LOW_INCOME = {"M01": 30, "M02": 21, "M03": 19, "M04": 20.2, "M05": 19.8, "M06": 20, "M07": 20,
              "M08": 20.1, "M09": 19.9, "M10": 20, "M11": 20, "M12": 10}
JOBSEEKERS = {  # rate in % per year 2020-2024
    "M05": (10, 9, 8, 7, 6),
    "M06": (8, 6, 4, 6, 8),
    "M12": (20, 20, 20, 20, 20),
}
DRIFT = {"M01": -0.3, "M02": -0.2, "M03": -0.1, "M04": 0.1, "M07": 0.2, "M08": 0.3, "M09": 0.0,
         "M10": 0.0, "M11": -0.1}
NIS = {f"M{k:02d}": f"131{k:02d}" for k in range(1, 13)}
DECLARATIONS = 1_000_000


def _geo():
    parents = ("13000", "10000", "02000")
    rows = [("2025", "02000", "region", "Vlaams Gewest", None, None, "02000"),
            ("2025", "10000", "province", "Provincie Antwerpen", None, "10000", "02000"),
            ("2025", "13000", "arrondissement", "Arrondissement Turnhout", *parents)]
    rows += [("2025", nis, "municipality", name, *parents) for name, nis in NIS.items()]
    return rows


@pytest.fixture(scope="module")
def ds(tmp_path_factory) -> Dataset:
    rows = []
    for name, nis in NIS.items():
        half = LOW_INCOME[name] / 100 * DECLARATIONS / 2
        rows += [obs(INC, "declarations_nonzero", nis, 2022, DECLARATIONS, geo="2025"),
                 obs(INC, "declarations_band_lt10k", nis, 2022, half, geo="2025"),
                 obs(INC, "declarations_band_10k_20k", nis, 2022, half, geo="2025")]
        labour = 50 if name == "M12" else 100_000
        rates = JOBSEEKERS.get(name) or tuple(8 + DRIFT[name] * k / 4 for k in range(5))
        for year, rate in zip(range(2020, 2025), rates, strict=True):
            rows += [obs(VDAB, "jobseeker_rate", nis, year, round(rate, 1), "percent", geo="2025"),
                     obs(VDAB, "nwwz", nis, year, round(rate, 1) / 100 * labour, geo="2025")]
        people = 20_000 if name == "M01" else 2_000 + 10 * int(nis[-2:])
        rows += [obs(POP, "population", nis, 2024, people, geo="2025"),
                 obs(POP, "area_km2", nis, 2024, 10.0, "km2", geo="2025")]
    path = write_store(tmp_path_factory.mktemp("synthesis") / "store", rows, geo=_geo())
    return Dataset(path)


def compare(ds, target: str, members: list[str], indicators=None):
    group = ",".join(NIS[m] for m in [target, *members])
    return ds.compare(NIS[target], reference=group, indicators=indicators)


def key_of(c, indicator: str):
    return next((f for f in c.synthesis.key if f.indicator == indicator), None)


def test_a_difference_below_precision_is_never_a_key_finding(ds):
    # M08 (20,1 %) is the highest of its group, 0,1 point above the others and the region:
    # half a Flemish spread (material by size), but within rounding + chance.
    c = compare(ds, "M08", ["M09", "M10", "M11"], indicators=["aangiften_lt20k_pct"])
    assert any("het hoogst in M08" in f.text for f in c.findings)  # the detailed finding says so
    spread = ds.engine.spread.spread("aangiften_lt20k_pct", 2022)
    assert 0.1 / spread >= load_selection().benchmark_z
    assert c.synthesis.key == [] and c.synthesis.more == []
    section = "arbeid & sociale zekerheid"
    assert c.synthesis.note(section).startswith("Geen kernvaststelling: M08 wijkt")


def test_the_most_extreme_member_is_a_key_finding(ds):
    # M02 (21 %) is the highest of its group, but not of the arrondissement (M01: 30 %).
    c = compare(ds, "M02", ["M03", "M05", "M09"], indicators=["aangiften_lt20k_pct"])
    f = key_of(c, "aangiften_lt20k_pct")
    assert f is not None and f.kern
    assert ("het hoogst van de gemeenten van de referentielijst (21,0 %; daarna M09: 19,9 %)"
            in f.text)
    assert f.label == WERKPUNT  # a high share of low incomes is unfavourable
    assert f.text.startswith("In 2022 is ") and f.period == "2022" and f.source
    # M01 is the highest of the whole arrondissement: the sentence says so
    top = key_of(compare(ds, "M01", ["M02", "M03", "M04"], indicators=["aangiften_lt20k_pct"]),
                 "aangiften_lt20k_pct")
    assert "het hoogst van de 12 gemeenten van het arrondissement Turnhout (30,0 %" in top.text


def test_a_material_benchmark_difference_is_selected(ds):
    # M02 is second of four (not an extreme) but clearly above the group and the region.
    c = compare(ds, "M02", ["M01", "M12", "M03"], indicators=["aangiften_lt20k_pct"])
    f = key_of(c, "aangiften_lt20k_pct")
    assert f is not None
    assert f.text == (
        "In 2022 ligt het aandeel aangiften met een laag netto belastbaar inkomen (tot 20.000 €) "
        "in M02 (21,0 %) duidelijk hoger dan in de gemeenten van de referentielijst samen "
        "(20,0 %) en het Vlaams Gewest (20,0 %).")
    assert f.label == WERKPUNT and f.values["region"] == pytest.approx(20.0)


def test_a_declared_resolution_widens_the_margin(ds):
    # M02 lies 1 point above the group and the region; published in whole points, that is noise.
    c = compare(ds, "M02", ["M01", "M12", "M03"], indicators=["aangiften_lt20k_pct"])
    rule = load_selection()
    coarse = replace(rule, noise={**rule.noise, "aangiften_lt20k_pct": NoiseSpec(
        "aangiften_lt20k_pct", resolution=1.0)})
    assert synthesise(c, coarse).key == [] and len(synthesise(c, rule).key) == 1


def test_near_duplicates_are_collapsed_into_the_first_of_their_family(ds):
    c = compare(ds, "M01", ["M02", "M03", "M04"])
    family = load_selection().families["lage_inkomens"]
    key = [f.indicator for f in c.synthesis.key if f.indicator in family]
    assert key == [family[0]]
    assert {f.indicator for f in c.synthesis.collapsed} >= set(family[1:])
    assert not {f.indicator for f in c.synthesis.more} & set(family)


def test_the_caps_are_respected_and_no_section_loses_its_last_finding(ds):
    c = compare(ds, "M01", ["M02", "M03", "M04"])
    rule = replace(load_selection(), families={}, per_section=2, total=2)
    s = synthesise(c, rule)
    sections = [s.section_of[f.indicator] for f in s.key]
    assert len(s.key) == 2
    assert sorted(sections) == ["arbeid & sociale zekerheid", "bevolking"]
    assert all(not f.kern for f in s.more) and len(s.more) == 2  # the two lighter shares
    loose = synthesise(c, replace(rule, total=25))
    assert len(loose.key) == 3 and sections.count("bevolking") == 1
    # the kept share is the heaviest of the three
    kept = next(f for f in s.key if f.indicator.startswith("aangiften"))
    assert kept.magnitude == max(f.magnitude for f in loose.all if f.indicator.startswith(
        "aangiften"))


def test_without_normative_direction_it_is_an_aandachtspunt(ds):
    c = compare(ds, "M01", ["M02", "M03", "M04"], indicators=["bevolkingsdichtheid"])
    f = key_of(c, "bevolkingsdichtheid")
    assert f.label == AANDACHTSPUNT
    assert "het hoogst van de 12 gemeenten van het arrondissement Turnhout (2.000 inw./km²" in (
        f.text)


def test_a_marked_trend_is_selected_and_judged_against_flanders(ds):
    c = compare(ds, "M05", ["M09", "M10", "M11"], indicators=["werkzoekendengraad"])
    f = key_of(c, "werkzoekendengraad")
    assert f.label == STERKTE
    assert "gedaald van 10,0 % in 2020 naar 6,0 % in 2024, sterker dan in het Vlaams Gewest" in (
        f.text)
    assert f.values["trend_y0"] == 2020 and f.values["trend_a"] == pytest.approx(10.0)


def test_a_reversal_is_selected(ds):
    c = compare(ds, "M06", ["M09", "M10", "M11"], indicators=["werkzoekendengraad"])
    f = key_of(c, "werkzoekendengraad")
    assert f.text.startswith("De werkzoekendengraad is in M06 na een daling van 8,0 % in 2020 "
                             "tot 4,0 % in 2022 opnieuw gestegen tot 8,0 % in 2024")
    assert f.label == WERKPUNT  # rising jobseekers, while Flanders stayed flat


def test_a_value_from_few_cases_is_never_a_key_finding(ds):
    # M12: 20 % of a labour force of 50, i.e. 10 jobseekers: far above everyone, but too few.
    c = compare(ds, "M12", ["M09", "M10", "M11"], indicators=["werkzoekendengraad"])
    assert any("het hoogst in M12" in f.text for f in c.findings)
    assert candidate(_precision(c), c.catalogue["werkzoekendengraad"]) is None


def _precision(c):
    from lsbanalysis.analysis.synthesis import Precision

    return Precision(c, load_selection())


def test_sections_without_data_say_so(ds):
    c = compare(ds, "M01", ["M02", "M03", "M04"])
    s = c.synthesis
    # armoede has indicators in the catalogue, but none in this miniature store
    assert s.note("armoede") == "Geen gegevens per gemeente voor dit thema in deze vergelijking."
    assert s.note("gezondheid").startswith("Geen gegevens per gemeente voor deze werkgroep")
    text = tables.synthesis_markdown(s)
    for section in s.sections:
        assert section.heading in text
    assert text.count("- **") == len(s.key)


def test_key_findings_are_in_section_order_with_year_and_source(ds):
    c = compare(ds, "M01", ["M02", "M03", "M04"])
    order = [s.id for s in c.synthesis.sections]
    ranks = [order.index(c.synthesis.section_of[f.indicator]) for f in c.synthesis.key]
    assert ranks == sorted(ranks)
    assert all(f.source and f.period and f.label for f in c.synthesis.key)


def test_the_method_text_states_the_declared_thresholds():
    from lsbanalysis import fmt
    from lsbanalysis.analysis.catalogue import load_catalogue

    rule = load_selection()
    text = " ".join(method_markdown(load_catalogue(), rule).split())
    assert f"minstens {fmt.number(rule.benchmark_z, 1)} keer" in text
    assert f"hoogstens {rule.per_section}" in text and f"hoogstens {rule.total}" in text
    assert f"minder dan {rule.min_cases} gevallen" in text


def test_selection_file_errors_name_the_entry(tmp_path):
    from lsbanalysis.analysis.catalogue.selection import HERE

    text = (HERE / "selection.toml").read_text(encoding="utf-8")
    bad = tmp_path / "selection.toml"
    bad.write_text(text.replace('"aangiften_lt10k_pct", "aangiften_10k_20k_pct"]',
                                '"aangiften_lt10k_pct", "bestaat_niet"]'), encoding="utf-8")
    with pytest.raises(CatalogueError, match="family 'lage_inkomens' names unknown.*bestaat_niet"):
        load_selection(bad)
    bad.write_text(text.replace('indicators = ["aandeel_65plus", "grijze_druk", "aandeel_80plus"]',
                                'indicators = ["aandeel_65plus", "welvaartsindex"]'),
                   encoding="utf-8")
    with pytest.raises(CatalogueError, match="'welvaartsindex' is in families"):
        load_selection(bad)
