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
