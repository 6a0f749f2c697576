"""Toets van het vorige plan: the schema, the claims on the miniature store, and Herenthout's
2008 plan on the embedded data."""

from __future__ import annotations

import pytest

import lsbanalysis
from lsbanalysis.analysis.previous_plan import (
    JA,
    NEE,
    NIET_TOETSBAAR,
    PreviousPlanError,
    load_previous_plans,
    previous_plan,
    toets,
    toets_frame,
)
from lsbanalysis.errors import LsbError
from lsbanalysis.report.exports import toets_markdown
from tests.test_synthesis import NIS, ds  # noqa: F401  (twelve municipalities M01-M12)

PLAN = """\
nis = "{nis}"
gemeente = "M02"
plan = "Plan 2008"

[[vaststelling]]
id = "eerste"
toen = "M02 heeft het hoogste aandeel lage inkomens."
indicator = "aangiften_lt20k_pct"
referentie = "{group}"
interpretatie = "Tekst van toen."

  [[vaststelling.bewering]]
  soort = "rang"
  plaats = 1
  van = "hoogste"

  [[vaststelling.bewering]]
  soort = "vergelijking"
  richting = "hoger"
  benchmark = "gewest"

[[vaststelling]]
id = "tweede"
toen = "M02 staat na M01 het hoogst."
indicator = "aangiften_lt20k_pct"
referentie = "arrondissement"

  [[vaststelling.bewering]]
  soort = "rang"
  plaats = 2
  van = "hoogste"
  na = ["M01"]

[[vaststelling]]
id = "derde"
toen = "Huizen zijn duur in M02."
indicator = "mediaanprijs_huizen"
referentie = "arrondissement"

  [[vaststelling.bewering]]
  soort = "rang"
  plaats = 1
  van = "hoogste"
"""


@pytest.fixture
def plans(tmp_path):
    load_previous_plans.cache_clear()
    yield tmp_path
    load_previous_plans.cache_clear()


def write(folder, text, name="plan.toml"):
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_claims_hold_fail_or_cannot_be_tested(ds, plans):  # noqa: F811
    group = ",".join(NIS[m] for m in ("M02", "M03", "M05", "M09"))
    write(plans, PLAN.format(nis=NIS["M02"], group=group))
    verdicts = toets(ds, ds.municipality(NIS["M02"]), folder=plans)
    first, second, third = verdicts
    # highest of its group (21 % vs 19,9 %) and clearly above the region (20 %)
    assert first.geldt_nog == JA and first.jaar_nu == 2022
    assert first.waarde_nu == pytest.approx(21.0) and first.gold_in == [2022]
    assert "21,0 % tegenover 20,0 % in het Vlaams Gewest" in first.nu
    # second of the arrondissement, behind M01
    assert second.geldt_nog == JA and "plaats 2 van 12" in second.nu
    # no house prices in the store
    assert third.geldt_nog == NIET_TOETSBAAR and "geen gegevens over mediaanprijs" in (
        third.toelichting.lower())
    frame = toets_frame(verdicts)
    assert list(frame["geldt_nog"]) == [JA, JA, NIET_TOETSBAAR]
    assert {"vaststelling", "indicator", "referentie", "bewering", "waarde_nu", "jaar_nu",
            "geldt_nog", "toelichting"} <= set(frame.columns)
    text = toets_markdown(verdicts, previous_plan(NIS["M02"], plans).plan, "M02")
    assert "<caption>Toets van de kwantitatieve vaststellingen" in text
    assert '<th scope="col">Geldt nog?</th>' in text and "niet toetsbaar (3)" in text


def test_a_difference_within_precision_does_not_hold(ds, plans):  # noqa: F811
    # M08 (20,1 %) is "higher" than the region (20,0 %) only within rounding and chance.
    write(plans, f"""\
nis = "{NIS['M08']}"
[[vaststelling]]
id = "hoger"
toen = "Meer lage inkomens dan in Vlaanderen."
indicator = "aangiften_lt20k_pct"
referentie = "arrondissement"
  [[vaststelling.bewering]]
  soort = "vergelijking"
  richting = "hoger"
  benchmark = "gewest"
""")
    (verdict,) = toets(ds, ds.municipality(NIS["M08"]), folder=plans)
    assert verdict.geldt_nog == NEE
    assert verdict.nu.startswith("20,1 % tegenover 20,0 % in het Vlaams Gewest; het verschil "
                                 "valt binnen de nauwkeurigheid van de cijfers")


def test_a_municipality_without_a_plan_gets_no_test(ds, plans):  # noqa: F811
    write(plans, PLAN.format(nis=NIS["M02"], group="arrondissement"))
    assert toets(ds, ds.municipality(NIS["M03"]), folder=plans) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('indicator = "aangiften_lt20k_pct"\nreferentie = "{group}"',
          'indicator = "bestaat_niet"\nreferentie = "{group}"'),
         r"plan\.toml: vaststelling eerste: onbekende indicator 'bestaat_niet'"),
        (('toen = "M02 staat na M01 het hoogst."\n', ""),
         r"vaststelling tweede: veld 'toen' ontbreekt"),
        (('soort = "vergelijking"', 'soort = "trend"'),
         r"vaststelling eerste, bewering 2: soort moet een van"),
        (("plaats = 2", 'plaats = "twee"'), r"veld 'plaats' moet een geheel getal zijn"),
    ],
)
def test_schema_errors_name_file_finding_and_field(plans, change, message):
    text = PLAN.replace(*change).format(nis="13001", group="arrondissement")
    write(plans, text)
    with pytest.raises(PreviousPlanError, match=message):
        load_previous_plans(plans)
    assert issubclass(PreviousPlanError, LsbError)


def test_one_file_per_municipality(plans):
    write(plans, PLAN.format(nis="13001", group="x"), "a.toml")
    write(plans, PLAN.format(nis="13001", group="x"), "b.toml")
    with pytest.raises(PreviousPlanError, match="b.toml: NIS-code 13001 staat ook in a.toml"):
        load_previous_plans(plans)


# -- Herenthout's 2008 plan on the embedded data ---------------------------------------------


@pytest.fixture(scope="module")
def real():
    return lsbanalysis.load()


@pytest.fixture(scope="module")
def herenthout(real):
    return {v.statement.id: v for v in toets(real, real.municipality("Herenthout"))}


def latest(c, indicator):
    t = c.table[(c.table["indicator"] == indicator)]
    members = t[t["entity_type"].eq("municipality") & t["status"].eq("ok")]
    target = t[t["role"] == "target"].iloc[0]
    return int(target["year"]), float(target["value"]), members.sort_values(
        "value", ascending=False)


def test_herenthout_plan_file_holds_the_three_2008_findings():
    plan = previous_plan("13012")
    assert plan is not None and len(plan.statements) == 3
    ids = [s.indicator for s in plan.statements]
    assert ids == ["werkzoekendengraad_18_24", "aangiften_10k_20k_pct",
                   "mediaanprijs_huizen_2_3_gevels"]
    assert all(s.interpretatie for s in plan.statements)


def test_youth_jobseekers_after_herentals(real, herenthout):
    v = herenthout["jongeren_werkzoekend"]
    c = real.compare("Herenthout", "ISOM", indicators=["werkzoekendengraad_18_24"])
    year, value, members = latest(c, "werkzoekendengraad_18_24")
    ahead = list(members.loc[members["value"] > value, "name"])
    holds = ahead == ["Herentals"]
    assert (v.jaar_nu, v.waarde_nu) == (year, pytest.approx(value))
    assert v.geldt_nog == (JA if holds else NEE)
    assert f"plaats {len(ahead) + 1} van {len(members)}" in v.nu
    assert "aandeel jongeren onder" in v.toelichting  # the other reading is named


def test_most_frequent_income_band(real, herenthout):
    v = herenthout["inkomensklasse_10_20k"]
    bands = [i.id for i in real.engine.catalogue if i.band]
    c = real.compare("Herenthout", "ISOM", indicators=bands)
    shares = {i: latest(c, i)[1] for i in bands}
    top = max(shares, key=shares.get)
    assert v.jaar_nu == latest(c, "aangiften_10k_20k_pct")[0]
    assert v.waarde_nu == pytest.approx(shares["aangiften_10k_20k_pct"])
    if top != "aangiften_10k_20k_pct":
        assert v.geldt_nog == NEE
        assert real.engine.catalogue[top].band in v.nu
    assert "nominaal" in v.toelichting
    # the years in which it held are years in which the band was the most frequent
    history = c.history[c.history["role"] == "target"]
    for year in v.gold_in:
        year_shares = history[history["year"] == year].set_index("indicator")["value"]
        assert year_shares.idxmax() == "aangiften_10k_20k_pct"


def test_most_expensive_small_houses_of_the_arrondissement(real, herenthout):
    v = herenthout["duurste_woningen"]
    c = real.compare("Herenthout", "arrondissement",
                     indicators=["mediaanprijs_huizen_2_3_gevels"])
    year, value, members = latest(c, "mediaanprijs_huizen_2_3_gevels")
    rank = int((members["value"] > value).sum()) + 1
    assert (v.jaar_nu, v.geldt_nog) == (year, JA if rank == 1 else NEE)
    assert f"plaats {rank} van {len(members)}" in v.nu
    assert "2 of 3 gevels" in v.toelichting and "alle huizen" in v.toelichting


def test_a_municipality_without_a_plan_file_gets_none(real):
    assert toets(real, real.municipality("Geel")) is None
