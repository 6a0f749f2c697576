"""Charts on the embedded store: Herenthout vs ISOM, and Geel vs its neighbours."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import PathPatch, Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import lsbanalysis  # noqa: E402
from lsbanalysis import charts  # noqa: E402
from lsbanalysis.errors import LsbError  # noqa: E402


@pytest.fixture(scope="module")
def ds():
    return lsbanalysis.load()


@pytest.fixture(scope="module")
def c(ds):
    return ds.compare("Herenthout", reference="ISOM")


@pytest.fixture(scope="module")
def geel(ds):
    return ds.compare("Geel", reference="buren")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def texts(fig: Figure) -> list[str]:
    """Every text on the figure (titles, labels, ticks, legend, annotations, footer)."""
    fig.draw_without_rendering()
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def joined(fig: Figure) -> str:
    return "\n".join(texts(fig))


def bars(fig: Figure, prefix: str = "balk-") -> dict[str, Rectangle]:
    return {p.get_gid(): p for ax in fig.axes for p in ax.patches
            if isinstance(p, Rectangle) and str(p.get_gid()).startswith(prefix)}


def suppressed_member(c, indicator: str) -> tuple[str, str]:
    t = c.table
    rows = t[(t["indicator"] == indicator) & (t["role"] == "member")
             & (t["status"] == "suppressed")]
    assert len(rows), f"expected an unpublished ISOM member for {indicator}"
    return rows["entity"].iloc[0], rows["name"].iloc[0]


# -- ranking bars ------------------------------------------------------------------------------


def test_ranking_bars_texts_and_highlight(c):
    fig = charts.ranking_bars(c, "werkzoekendengraad")
    assert isinstance(fig, Figure)
    text = joined(fig)
    label = c.catalogue["werkzoekendengraad"].label
    assert label.split(" (")[0] in text
    assert "Herenthout vergeleken met de ISOM-gemeenten, 2024" in text
    assert "Bron: VDAB via Provincies in Cijfers" in text
    assert "4,9 %" in text  # Herenthout 2024, Dutch notation
    assert "procent (%)" in text
    # every member and the four comparison points have a bar
    found = bars(fig)
    assert set(found) == {f"balk-{n}" for n in c.group.codes} | {
        "balk-ISOM", "balk-13000", "balk-10000", "balk-02000"}
    target = found["balk-13012"]
    assert target.get_facecolor() == to_rgba(charts.ACCENT)
    assert target.get_width() == pytest.approx(4.9)
    for gid, bar in found.items():
        if gid not in ("balk-13012",):
            assert bar.get_facecolor() != to_rgba(charts.ACCENT)
    bold = [t for t in fig.axes[0].get_yticklabels() if t.get_text() == "Herenthout"]
    assert bold and bold[0].get_fontweight() == "bold"
    w, h = fig.get_size_inches()
    assert w == 8 and 4.5 <= h <= 11


def test_ranking_bars_euro_values(c):
    text = joined(charts.ranking_bars(c, "mediaanprijs_huizen"))
    assert "349.000 €" in text
    assert "Mediaanprijs" in text and "2024" in text and "Bron: Statbel, vastgoedprijzen" in text
    # the ISOM median cannot be computed: no bar, and a footnote says why
    assert "niet berekenbaar" in text


@pytest.mark.parametrize("indicator", ["mediaanprijs_appartementen",
                                       "mediaanprijs_huizen_2_3_gevels"])
def test_ranking_bars_unpublished_member_is_marked_not_drawn(c, indicator):
    nis, name = suppressed_member(c, indicator)
    fig = charts.ranking_bars(c, indicator)
    found = bars(fig)
    assert f"balk-{nis}" not in found
    assert all(bar.get_width() != 0 for bar in found.values())
    markers = [t for t in fig.findobj(Text) if t.get_gid() == f"geen-waarde-{nis}"]
    assert markers and "geheim" in markers[0].get_text()
    text = joined(fig)
    assert name in text  # the member is still listed
    assert "niet gepubliceerd" in text
    assert charts.NO_BAR_NOTE in text


def test_ranking_bars_other_group(geel):
    fig = charts.ranking_bars(geel, "inkomen_mediaan_aangifte")
    text = joined(fig)
    assert "Geel vergeleken met de buurgemeenten van Geel, 2022" in text
    assert bars(fig)["balk-13008"].get_facecolor() == to_rgba(charts.ACCENT)
    assert len([g for g in bars(fig) if g[5:] in geel.group.codes]) == len(geel.group)


def test_unknown_indicator_raises(c):
    with pytest.raises(LsbError):
        charts.ranking_bars(c, "bestaat_niet")


# -- trend lines -------------------------------------------------------------------------------


def test_trend_lines_integer_years(c):
    fig = charts.trend_lines(c, "werkzoekendengraad")
    ax = fig.axes[0]
    fig.draw_without_rendering()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == [str(y) for y in range(2014, 2025)]
    assert all(float(v).is_integer() for v in ax.get_xticks())
    lines = {ln.get_gid(): ln for ln in ax.get_lines()}
    assert set(lines) == {"lijn-target", "lijn-reference_group", "lijn-arrondissement",
                          "lijn-region"}
    assert lines["lijn-target"].get_color() == charts.ACCENT
    assert lines["lijn-target"].get_linewidth() > lines["lijn-region"].get_linewidth()
    assert list(lines["lijn-target"].get_xdata()) == list(range(2014, 2025))
    text = joined(fig)
    assert "Herenthout: 4,9 %" in text
    assert "2014–2024" in text and "Bron:" in text and "ISOM-gemeenten" in text


def test_trend_lines_gaps_are_marked(c):
    fig = charts.trend_lines(c, "mediaanprijs_appartementen")
    ax = fig.axes[0]
    target = next(ln for ln in ax.get_lines() if ln.get_gid() == "lijn-target")
    ys = target.get_ydata()
    years = list(target.get_xdata())
    hidden = c.history[(c.history["indicator"] == "mediaanprijs_appartementen")
                       & (c.history["role"] == "target") & (c.history["status"] != "ok")]
    for y in hidden["year"]:
        assert ys[years.index(int(y))] != ys[years.index(int(y))]  # NaN: a gap, no line
    marks = [coll for coll in ax.collections if coll.get_gid() == "doel-geen-waarde"]
    assert marks and len(marks[0].get_offsets()) == len(hidden)
    assert "geen gepubliceerde waarde" in joined(fig)


def test_trend_lines_years_without_data_are_not_bridged(c):
    fig = charts.trend_lines(c, "inkomen_mediaan_aangifte")
    text = joined(fig)
    assert "Geen cijfers beschikbaar voor 2017–2020" in text
    target = next(ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "lijn-target")
    ys = dict(zip(target.get_xdata(), target.get_ydata(), strict=True))
    assert all(ys[y] != ys[y] for y in range(2017, 2021))


def test_trend_lines_counts_as_index(c):
    text = joined(charts.trend_lines(c, "inwoners"))
    assert "index (2019 = 100)" in text
    assert "Herenthout: 9.454" in text


# -- income bands ------------------------------------------------------------------------------


def test_income_bands(c):
    fig = charts.income_bands(c)
    ax = fig.axes[0]
    bands = [i.band for i in c.catalogue if i.band]
    assert [t.get_text() for t in ax.get_yticklabels()] == [b[0].upper() + b[1:] for b in bands]
    assert len(bands) == 6
    assert "%" in ax.get_xlabel()
    text = joined(fig)
    assert "Aangiften per inkomensklasse" in text and "2022" in text
    assert "nominale euro's" in text and "Bron: Statbel, fiscale inkomens" in text
    assert "10,9 %" in text  # Herenthout, band < 10.000 €, 2022
    found = bars(fig, "band-")
    assert len(found) == 18  # 6 bands × target, ISOM, arrondissement
    assert all(b.get_facecolor() == to_rgba(charts.ACCENT)
               for g, b in found.items() if g.startswith("band-target-"))


def test_income_bands_compare_year(c, geel):
    fig = charts.income_bands(c, compare_year=2015)
    hatched = [b for g, b in bars(fig, "band-").items() if g.startswith("band-then-")]
    assert len(hatched) == 6 and all(b.get_hatch() for b in hatched)
    assert "Herenthout 2015" in joined(fig)
    assert "Geel 2015" in joined(charts.income_bands(geel, compare_year=2015))
    with pytest.raises(LsbError, match="2000"):
        charts.income_bands(c, compare_year=2000)


# -- maps --------------------------------------------------------------------------------------


def map_patches(fig: Figure) -> dict[str, PathPatch]:
    out: dict[str, PathPatch] = {}
    for p in fig.axes[0].patches:
        gid = str(p.get_gid())
        if gid.startswith("gemeente-"):
            assert gid not in out, "one patch per municipality"
            out[gid[9:]] = p
    return out


def test_group_map_arrondissement(ds, c):
    fig = charts.group_map(c, "mediaanprijs_appartementen")
    area = ds.compare(c.target, reference="arrondissement", year=2024,
                      indicators=["mediaanprijs_appartementen"])
    patches = map_patches(fig)
    assert set(patches) == set(area.group.codes)
    target = patches["13012"]
    assert target.get_edgecolor() == to_rgba(charts.ACCENT) and target.get_linewidth() >= 3
    for nis in set(c.group.codes) - {"13012"}:
        assert patches[nis].get_edgecolor() == to_rgba(charts.OUTLINE)
    nis, _ = suppressed_member(c, "mediaanprijs_appartementen")
    assert patches[nis].get_hatch()
    ax = fig.axes[0]
    assert ax.get_aspect() == 1.0 and not ax.axison
    text = joined(fig)
    assert "geen gepubliceerde waarde" in text and "Herenthout (263.000 €)" in text
    assert "Bron:" in text and "2024" in text and "ISOM-gemeenten" in text
    assert len(fig.axes) == 2  # the map and its colour bar
    assert "euro (€)" in text


def test_group_map_group_scope(c, geel):
    fig = charts.group_map(c, "werkzoekendengraad", scope="groep")
    assert set(map_patches(fig)) == set(c.group.codes)
    assert "Herentals\n6,8 %" in texts(fig)
    fig = charts.group_map(geel, "inkomen_mediaan_aangifte")
    patches = map_patches(fig)
    assert patches["13008"].get_edgecolor() == to_rgba(charts.ACCENT)
    assert "Geel" in texts(fig)
    with pytest.raises(ValueError):
        charts.group_map(c, "werkzoekendengraad", scope="provincie")


# -- shared ------------------------------------------------------------------------------------


def test_style_does_not_leak_and_default_chart(c):
    before = dict(matplotlib.rcParams)
    fig = charts.chart_for(c, "werkzoekendengraad")
    assert isinstance(fig, Figure) and bars(fig)
    after = dict(matplotlib.rcParams)
    assert {k: v for k, v in after.items() if before[k] != v} == {}


def test_figures_render_to_png_and_svg(c, tmp_path):
    figures = {
        "rang": charts.ranking_bars(c, "mediaanprijs_appartementen"),
        "trend": charts.trend_lines(c, "mediaanprijs_appartementen"),
        "klassen": charts.income_bands(c, compare_year=2015),
        "kaart": charts.group_map(c, "mediaanprijs_appartementen"),
    }
    for name, fig in figures.items():
        for ext in ("png", "svg"):
            path = tmp_path / f"{name}.{ext}"
            fig.savefig(path, **charts.savefig_kwargs)
            assert path.stat().st_size > 5_000
        assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert "<svg" in (tmp_path / f"{name}.svg").read_text()[:500]
        plt.close(fig)


# -- text alternatives, more than colour, contrast ----------------------------------------------


def _value_in(text: str, c, indicator: str) -> str:
    """The target's value as the report writes it, read from the comparison (not hard-coded)."""
    from lsbanalysis import fmt

    t = c.table
    row = t[(t["indicator"] == indicator) & (t["role"] == "target")].iloc[0]
    value = fmt.value(float(row["value"]), c.catalogue[indicator].unit)
    assert value in text, (value, text)
    return value


def test_ranking_bars_text_alternative_and_table(c):
    fig = charts.ranking_bars(c, "mediaanprijs_appartementen")
    d = charts.describe(fig)
    assert d.alt.startswith("Staafdiagram: ") and "2024" in d.alt
    value = _value_in(d.alt, c, "mediaanprijs_appartementen")
    assert f"Herenthout: {value} (rang " in d.alt
    nis, name = suppressed_member(c, "mediaanprijs_appartementen")
    assert f"Geen gepubliceerde waarde voor {name}" in d.alt
    assert "de ISOM-gemeenten samen niet berekenbaar" in d.alt
    # the table lists exactly what is drawn or marked: every member and the four points
    assert len(d.table) == len(c.group.codes) + 4
    assert d.table.loc[d.table["Gebied"] == name, "Mediaanprijs appartementen"].item() \
        .startswith("geheim")
    # the numbers behind the bars: the data rows match the bar lengths
    drawn = {gid[5:]: b.get_width() for gid, b in bars(fig).items()}
    data = d.data.set_index("code")["waarde"]
    assert {k: data[k] for k in drawn} == pytest.approx(drawn)
    assert data[nis] != data[nis]  # NaN, never zero


def test_trend_and_bands_and_map_text_alternatives(c, geel):
    import re

    cases = {
        "trend": (charts.trend_lines(c, "werkzoekendengraad"), "Lijndiagram: "),
        "klassen": (charts.income_bands(c, compare_year=2015), "Staafdiagram: "),
        "kaart": (charts.group_map(c, "werkzoekendengraad"), "Kaart: "),
        "groep": (charts.group_map(c, "werkzoekendengraad", scope="groep"), "Kaart: "),
        "geel": (charts.trend_lines(geel, "inwoners"), "Lijndiagram: "),
    }
    for name, (fig, start) in cases.items():
        d = charts.describe(fig)
        assert d is not None and d.alt.startswith(start), name
        assert re.search(r"\d", d.alt) and len(d.alt) > 80, name
        assert not re.search(r"\d\.\d{1,2}\b(?! )", d.alt.replace("€", "")), name  # no 4.9
        assert len(d.table) and list(d.table.columns) and d.caption, name
        assert len(d.table) == len(d.data), name
    _value_in(charts.describe(cases["trend"][0]).alt, c, "werkzoekendengraad")
    _value_in(charts.describe(cases["kaart"][0]).alt, c, "werkzoekendengraad")
    trend = charts.describe(cases["trend"][0])
    assert "het arrondissement Turnhout" in trend.alt and "2014–2024" in trend.alt
    assert list(trend.table["Jaar"]) == [str(y) for y in trend.data["jaar"]]
    bands = charts.describe(cases["klassen"][0])
    assert len(bands.table) == 6 and "Herenthout 2015" in bands.table.columns
    assert "10,9 %" in bands.alt  # the band < 10.000 € in 2022, as in the chart
    kaart = charts.describe(cases["kaart"][0])
    assert "(dik omrand)" in kaart.alt
    assert set(kaart.data["nis"]) == set(map_patches(cases["kaart"][0]))
    assert "Geel" in charts.describe(cases["geel"][0]).alt


def test_target_is_marked_by_more_than_colour(c):
    from matplotlib.lines import Line2D

    fig = charts.ranking_bars(c, "werkzoekendengraad")
    target = bars(fig)["balk-13012"]
    assert target.get_linewidth() > 0 and target.get_edgecolor() != target.get_facecolor()
    assert all(b.get_linewidth() == 0 for g, b in bars(fig).items() if g != "balk-13012")

    fig = charts.trend_lines(c, "werkzoekendengraad")
    lines = {ln.get_gid(): ln for ln in fig.axes[0].get_lines() if ln.get_gid()}
    others = [ln for g, ln in lines.items() if g != "lijn-target"]
    assert {ln.get_marker() for ln in others}.isdisjoint({lines["lijn-target"].get_marker()})
    assert all(lines["lijn-target"].get_linewidth() > ln.get_linewidth() for ln in others)
    assert isinstance(lines["lijn-target"], Line2D)
    legend = fig.axes[0].get_legend()
    bold = [t.get_text() for t in legend.get_texts() if t.get_fontweight() == "bold"]
    assert len(bold) == 1 and bold[0].startswith("Herenthout:")

    fig = charts.income_bands(c)
    target = [b for g, b in bars(fig, "band-").items() if g.startswith("band-target-")]
    assert all(b.get_linewidth() > 1 and b.get_edgecolor() == to_rgba(charts.TEXT)
               for b in target)

    fig = charts.group_map(c, "werkzoekendengraad")
    labels = [t for t in fig.axes[0].texts if t.get_text() == "Herenthout"]
    assert labels and labels[0].get_fontweight() == "bold"


def test_house_colours_have_enough_contrast():
    from lsbanalysis.charts import style

    for key, colour in style.COLOURS.items():  # bars, lines, outlines: 3:1 (WCAG 1.4.11)
        assert charts.contrast_ratio(colour) >= 3, (key, colour)
    for name in ("NO_VALUE_HATCH", "OUTLINE", "MAP_EDGE"):
        assert charts.contrast_ratio(getattr(style, name)) >= 3, name
    for name in ("TEXT", "MUTED", "ACCENT_TEXT"):  # text: 4.5:1 (WCAG 1.4.3)
        assert charts.contrast_ratio(getattr(style, name)) >= 4.5, name
    assert charts.contrast_ratio("#FFFFFF") == pytest.approx(1.0)
    assert charts.contrast_ratio("#000000") == pytest.approx(21.0)
    assert charts.contrast_ratio("#767676") == pytest.approx(4.54, abs=0.01)


# -- population pyramid --------------------------------------------------------------------------


def _group_value(c, indicator: str) -> float:
    t = c.table
    return float(t[(t["indicator"] == indicator) & (t["role"] == "aggregate")]["value"].iloc[0])


def test_population_pyramid_texts_bars_and_shapes(c):
    from matplotlib.patches import StepPatch

    fig = charts.population_pyramid(c)
    text = joined(fig)
    year = c.rows("aandeel_65plus")["period"].iloc[0]  # the latest year of the age structure
    assert "Bevolkingspiramide" in text and f"op 1 januari {year}" in text
    assert "Bron: Statbel, bevolkingsstructuur" in text
    assert "Mannen" in text and "Vrouwen" in text and "aandeel van de totale bevolking (%)" in text
    assert "95+" in text and "0-4" in text
    found = bars(fig, "piramide-")
    assert len(found) == 2 * 20  # 5-year bands 0-4 … 90-94 and 95+, men and women
    assert all(b.get_width() < 0 for g, b in found.items() if g.startswith("piramide-men-"))
    assert all(b.get_width() > 0 for g, b in found.items() if g.startswith("piramide-women-"))
    # the bars are the shares of the whole population: together 100 %
    assert sum(abs(b.get_width()) for b in found.values()) == pytest.approx(100)
    shapes = {p.get_gid() for p in fig.axes[0].patches if isinstance(p, StepPatch)}
    assert shapes == {f"vorm-{e}-{s}" for e in ("reference_group", "region")
                      for s in ("men", "women")}
    # the target is marked by more than colour: outlined bars and a bold legend entry
    bar = found["piramide-women-50-54"]
    assert bar.get_linewidth() > 0 and bar.get_edgecolor() != bar.get_facecolor()
    legend = fig.axes[0].get_legend()
    bold = [t.get_text() for t in legend.get_texts() if t.get_fontweight() == "bold"]
    assert bold == [f"Herenthout {year}"]


def test_population_pyramid_group_shape_is_the_groups_ratio_of_sums(ds, c):
    """The group's line is its members' counts per band over their population: its share of
    65-plussers is the comparison's own group value of aandeel_65plus (from another measure)."""
    from lsbanalysis.analysis.structure import age_structure

    s = age_structure(ds, c.target, c.group)
    assert s.share_of_ages("reference_group", 65) == pytest.approx(
        _group_value(c, "aandeel_65plus"), abs=1e-9)
    assert s.share_of_ages("municipality", 80) == pytest.approx(
        float(c.rows("aandeel_80plus").query("role == 'target'")["value"].iloc[0]), abs=1e-9)
    members = [age_structure(ds, m, year=s.year).share_of_ages("municipality", 65)
               for m in c.group.members]
    assert s.share_of_ages("reference_group", 65) != pytest.approx(sum(members) / len(members))


def test_population_pyramid_text_alternative_and_table(c):
    import re

    fig = charts.population_pyramid(c)
    d = charts.describe(fig)
    assert d.alt.startswith("Bevolkingspiramide: inwoners van Herenthout op 1 januari ")
    _value_in(d.alt, c, "aandeel_65plus")  # 65 jaar en ouder, as in the key figures
    assert "de ISOM-gemeenten samen" in d.alt and "het Vlaams Gewest" in d.alt
    assert "Grootste klasse bij de mannen in Herenthout" in d.alt
    assert not re.search(r"\d\.\d{1,2}\b(?! )", d.alt)  # Dutch notation only
    assert len(d.table) == len(d.data) == 20 and d.table["Leeftijd"].iloc[-1] == "95+"
    assert list(d.table.columns[1:3]) == ["Herenthout, mannen", "Herenthout, vrouwen"]
    widths = {g: b.get_width() for g, b in bars(fig, "piramide-").items()}
    assert d.data["Herenthout, vrouwen (%)"].tolist() == pytest.approx(
        [widths[f"piramide-women-{band}"] for band in d.data["leeftijd"]])


def test_population_pyramid_respects_a_reference_year(ds):
    c2015 = ds.compare("Herenthout", reference="ISOM", year=2015)
    fig = charts.population_pyramid(c2015)
    text = joined(fig)
    assert "op 1 januari 2015" in text
    assert "gemeentelijke indeling van vóór 2019" in text.lower()
    c2010 = ds.compare("Herenthout", reference="ISOM", year=2010)
    with pytest.raises(LsbError, match="tot en met 2010 \\(wel 2015–2022\\)"):
        charts.population_pyramid(c2010)
    assert charts.describe(charts.population_pyramid(c2015, region=False)).alt.count(
        "Vlaams Gewest") == 0
