"""The declarative tables: indicator catalogue and reference groups."""

from __future__ import annotations

import pytest

from lsbanalysis.analysis.catalogue import (
    CROSS_CUTTING,
    WERKGROEPEN,
    CatalogueError,
    load_catalogue,
    load_reference_groups,
)

REQUIRED = [
    "inkomen_mediaan_aangifte", "inkomen_gemiddeld_aangifte", "inkomen_gemiddeld_inwoner",
    "welvaartsindex", "aangiften_lt10k_pct", "aangiften_10k_20k_pct", "aangiften_20k_30k_pct",
    "aangiften_30k_40k_pct", "aangiften_40k_50k_pct", "aangiften_gt50k_pct",
    "aangiften_lt20k_pct", "werkzoekendengraad", "werkzoekendengraad_18_24",
    "werkzoekendengraad_25_59", "werkzoekendengraad_60_64", "werkzoekendengraad_mannen",
    "werkzoekendengraad_vrouwen", "nwwz", "mediaanprijs_huizen", "mediaanprijs_huizen_2_3_gevels",
    "mediaanprijs_huizen_4_gevels", "mediaanprijs_appartementen", "verkopen_huizen",
    "mediaanprijs_huizen_verandering_5j", "mediaanprijs_huizen_verandering_10j", "inwoners",
    "bevolkingsdichtheid", "bevolkingsgroei_5j",
]


def test_required_indicators_exist_with_a_theme_and_definition():
    cat = load_catalogue()
    for iid in REQUIRED:
        ind = cat[iid]
        assert ind.theme in cat.themes
        assert ind.definition and ind.label and ind.short
        assert cat.werkgroep(ind) in (*WERKGROEPEN, CROSS_CUTTING)


def test_every_workgroup_has_a_theme_and_vergrijzing_is_cross_cutting():
    cat = load_catalogue()
    assert {t.werkgroep for t in cat.themes.values()} == {*WERKGROEPEN, CROSS_CUTTING}
    assert cat.themes["bevolking"].werkgroep == CROSS_CUTTING
    assert cat.theme_order[0] == "bevolking"


def test_aggregation_rules_match_the_statistics():
    cat = load_catalogue()
    assert cat["inkomen_mediaan_aangifte"].aggregation == "published"
    assert cat["mediaanprijs_huizen"].aggregation == "published"
    assert cat["aangiften_lt20k_pct"].aggregation == "ratio_of_sums"
    assert cat["aangiften_lt20k_pct"].numerator == ("declarations_band_lt10k",
                                                    "declarations_band_10k_20k")
    assert cat["werkzoekendengraad"].aggregation == "derived_ratio"
    assert cat["nwwz"].aggregation == "sum"
    # derived indicators inherit from what they are built on
    assert cat["mediaanprijs_huizen_verandering_5j"].aggregation == "published"
    assert cat["bevolkingsgroei_5j"].aggregation == "sum"
    assert cat["werkzoekendengraad"].precision


def test_unknown_indicator_lists_the_known_ones():
    with pytest.raises(KeyError, match="werkzoekendengraad"):
        load_catalogue()["werkloosheid"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('method = "magic"', "method must be one of"),
        ('aggregation = "mean"', "aggregation must be one of"),
        ('colour = "red"', "unknown fields"),
    ],
)
def test_bad_catalogue_entries_are_named(tmp_path, entry, message):
    path = tmp_path / "indicators.toml"
    base = {
        "method": 'method = "value"', "aggregation": 'aggregation = "published"', "colour": "",
    }
    key = entry.split(" ")[0]
    lines = [base["method"], base["aggregation"]]
    lines = [entry if line.startswith(key) else line for line in lines]
    if key == "colour":
        lines.append(entry)
    path.write_text(
        '[[theme]]\nid = "wonen"\nlabel = "Wonen"\nwerkgroep = "huisvesting"\n'
        'grondrecht = "recht op wonen"\n\n[[indicator]]\nid = "x"\nlabel = "X"\nshort = "X"\n'
        'theme = "wonen"\nunit = "eur"\nmeasure = "m"\ndirection = "neutral"\n'
        'sources = ["s"]\ndefinition = "d"\n' + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match=message) as err:
        load_catalogue.__wrapped__(path)
    assert "'x'" in str(err.value)


def test_reference_groups():
    groups = load_reference_groups()
    assert groups["isom"].members == ("13010", "13011", "13012", "13017", "13019", "13029",
                                      "13044")
    assert groups["arrondissement"].rule == "arrondissement"
    assert groups["buren"].rule == "buren"
