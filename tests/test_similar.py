"""The reference group 'gelijkaardig' (analysis/similar.py, catalogue/similarity.toml).

Unit tests on a hand-made store of nine Flemish municipalities (BC-fusie merged from B-stad and
C-veld on 1 January 2025, its 2024 population on the 2019 map), one Walloon and one Brussels
municipality; the expected distances are recomputed here from the fixture's numbers. Then the
real case on the embedded store: Herenthout, `lsb groep` and the summary chapter.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import random
from dataclasses import replace

import matplotlib
import nbformat
import numpy as np
import pytest
from click.testing import CliRunner

import lsbanalysis
from lsbanalysis.analysis import similar as similar_module
from lsbanalysis.analysis.catalogue import CatalogueError
from lsbanalysis.analysis.catalogue.similarity import SimilaritySpec, Variable, load_similarity
from lsbanalysis.analysis.groups import ReferenceGroupError, resolve_group
from lsbanalysis.analysis.similar import similar_municipalities, similarity
from lsbanalysis.analysis.validation import MergedMunicipalityError
from lsbanalysis.cli import main
from lsbanalysis.dataset import Dataset
from lsbanalysis.paths import NOTEBOOKS_DIR
from tests.tiny_store import GEO, obs, write_store

POP = "statbel_population_density"
VDAB = "vdab_jobseekers"
IMMO = "statbel_real_estate_year"

EXTRA_GEO = [
    ("2025", "13006", "municipality", "E-hoek", "13000", "10000", "02000"),
    ("2025", "13007", "municipality", "F-veld", "13000", "10000", "02000"),
    ("2025", "13008", "municipality", "G-dal", "13000", "10000", "02000"),
    ("2025", "13009", "municipality", "H-berg", "13000", "10000", "02000"),
    ("2025", "13010", "municipality", "I-stad", "13000", "10000", "02000"),
    ("2025", "13011", "municipality", "J-kerk", "13000", "10000", "02000"),
    ("2025", "03000", "region", "Waals Gewest", None, None, "03000"),
    ("2025", "92094", "municipality", "W-ville", "92000", "90000", "03000"),
    ("2025", "04000", "region", "Brussels Hoofdstedelijk Gewest", None, None, "04000"),
    ("2025", "21001", "municipality", "X-brussel", "21000", None, "04000"),
]
#: 2024: population, area (km²), jobseeker rate (%), median house price (None: suppressed).
#: B-stad and C-veld (2019 map) together are BC-fusie (13004).
FIGURES = {
    "13001": (1000, 10, 5.0, 300_000),
    "13002": (2500, 10, None, None),
    "13003": (500, 20, None, None),
    "13004": (None, None, 4.5, 250_000),
    "13005": (1200, 12, 6.0, None),  # D-berg: too few sales, no price
    "13006": (2000, 25, 5.5, 280_000),
    "13007": (1500, 10, 4.0, 310_000),
    "13008": (2500, 20, 5.0, 260_000),
    "13009": (900, 15, 6.5, 220_000),
    "13010": (100_000, 50, 12.0, 400_000),  # I-stad: a city among villages
    "13011": (1800, 30, 4.8, 270_000),
}
#: What the distances are computed from (2025 map; BC-fusie as the sum of its parts).
CURRENT = {
    nis: (pop, area, rate, price) for nis, (pop, area, rate, price) in FIGURES.items()
    if nis not in ("13002", "13003")
}
CURRENT["13004"] = (3000, 30, 4.5, 250_000)
CODES = sorted(CURRENT)

SPEC = SimilaritySpec(
    variables=(Variable("inwoners", "log"), Variable("bevolkingsdichtheid", "log"),
               Variable("werkzoekendengraad"), Variable("mediaanprijs_huizen", "log")),
    k=3, min_coverage=0.8, min_weight=0.75, outlier_percentile=90, closest=2,
)


def _rows() -> list[dict]:
    rows = []
    for nis, (pop, area, rate, price) in FIGURES.items():
        geo = "2019" if nis in ("13002", "13003") else "2025"
        if pop is not None:
            rows += [obs(POP, "population", nis, 2024, pop, geo=geo),
                     obs(POP, "area_km2", nis, 2024, area, "km2", geo=geo)]
        if rate is not None:
            # 2024 and 2023: the jobseeker rate has both; 2022 covers only two municipalities,
            # too few for the year rule.
            for year in (2023, 2024):
                rows += [obs(VDAB, "jobseeker_rate", nis, year, rate, "percent", geo="2025"),
                         obs(VDAB, "nwwz", nis, year, rate * 10, geo="2025")]
        if nis not in ("13002", "13003"):
            rows.append(obs(IMMO, "price_median_houses", nis, 2024, price or 0, "eur",
                            status="ok" if price else "suppressed", geo="2025"))
    for nis in ("13001", "13006"):
        rows += [obs(VDAB, "jobseeker_rate", nis, 2022, 99.0, "percent", geo="2025"),
                 obs(VDAB, "nwwz", nis, 2022, 990, geo="2025")]
    # Outside Flanders: a population only (never part of the distances).
    rows += [obs(POP, "population", "92094", 2024, 5000, geo="2025"),
             obs(POP, "population", "21001", 2024, 50000, geo="2025")]
    return rows


def _store(path, shuffle: int | None = None) -> Dataset:
    rows = _rows()
    if shuffle is not None:
        random.Random(shuffle).shuffle(rows)
    return Dataset(write_store(path, rows, geo=GEO + EXTRA_GEO))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Dataset:
    return _store(tmp_path_factory.mktemp("similar") / "store")


def _expected_z() -> np.ndarray:
    """z-scores (mean, population SD) of log population, log density, rate and log price."""
    cols = []
    for v in range(4):
        x = np.array([np.nan if CURRENT[c][3] is None and v == 3 else (
            CURRENT[c][0] / CURRENT[c][1] if v == 1 else CURRENT[c][v]) for c in CODES],
            dtype=float)
        if v != 2:
            x = np.log(x)
        ok = np.isfinite(x)
        cols.append((x - x[ok].mean()) / x[ok].std())
    return np.column_stack(cols)


def _expected_distance(a: str, b: str) -> float:
    z = _expected_z()
    i, j = CODES.index(a), CODES.index(b)
    both = np.isfinite(z[i]) & np.isfinite(z[j])
    return math.sqrt(((z[i] - z[j])[both] ** 2).sum() * 4 / both.sum())


# -- the method -------------------------------------------------------------------------------


def test_distances_are_euclidean_on_z_scores_of_the_current_map(tiny):
    sg = similar_municipalities(tiny, "A-dorp", spec=SPEC)
    assert sg.compared == len(CODES) == 9
    for n in sg.neighbours:
        assert n.distance == pytest.approx(_expected_distance("13001", n.municipality.nis))
    others = sorted((c for c in CODES if c != "13001"),
                    key=lambda c: (_expected_distance("13001", c), c))
    assert [n.municipality.nis for n in sg.neighbours] == others[:3]


def test_a_merged_municipality_gets_the_sums_of_its_parts(tiny):
    values = similarity(tiny, SPEC).values
    assert values.at["13004", "inwoners"] == 2500 + 500
    assert values.at["13004", "bevolkingsdichtheid"] == pytest.approx((2500 + 500) / (10 + 20))


def test_each_variable_takes_its_latest_year_with_enough_coverage(tiny):
    sim = similarity(tiny, SPEC)
    years = {u.indicator: u.year for u in sim.uses}
    assert years == {"inwoners": 2024, "bevolkingsdichtheid": 2024, "werkzoekendengraad": 2024,
                     "mediaanprijs_huizen": 2024}
    # Without 2024, 2023 is the latest year with a rate for (nearly) every municipality; 2022
    # has two of nine.
    rows = [r for r in _rows() if not (r["source"] == VDAB and r["year"] == 2024)]
    path = write_store(tiny.store_dir.parent / "no2024", rows, geo=GEO + EXTRA_GEO)
    uses = similarity(Dataset(path), SPEC).uses
    assert next(u for u in uses if u.indicator == "werkzoekendengraad").year == 2023
    prices = next(u for u in sim.uses if u.indicator == "mediaanprijs_huizen")
    assert prices.covered == 8  # D-berg's price is suppressed, not zero
    # Demanding 95 %: no year of the prices qualifies (8 of 9), so they are left out, and said.
    strict = similarity(tiny, replace(SPEC, min_coverage=0.95))
    assert "mediaanprijs_huizen" not in {u.indicator for u in strict.uses}
    assert strict.notes == ["Mediaanprijs huizen: geen jaar met een waarde voor minstens 95 % "
                            "van de gemeenten; niet gebruikt."]


def test_same_result_twice_and_whatever_the_order_of_rows_and_variables(tiny, tmp_path):
    first = similar_municipalities(tiny, "E-hoek", spec=SPEC)
    again = similar_municipalities(_store(tmp_path / "again"), "E-hoek", spec=SPEC)
    shuffled = _store(tmp_path / "shuffled", shuffle=7)
    reversed_spec = replace(SPEC, variables=SPEC.variables[::-1])
    other = similar_municipalities(shuffled, "E-hoek", spec=reversed_spec)
    for result in (again, other):
        assert [n.municipality.nis for n in result.neighbours] == [
            n.municipality.nis for n in first.neighbours]
        assert [n.distance for n in result.neighbours] == pytest.approx(
            [n.distance for n in first.neighbours], abs=1e-12)
        assert result.kth_distance == pytest.approx(first.kth_distance)


def test_ties_are_broken_by_nis_code(tiny):
    sim = similarity(tiny, SPEC)
    i = sim.index["13001"]
    saved = sim.distance[i].copy()
    try:
        sim.distance[i, [sim.index["13011"], sim.index["13006"]]] = 0.5  # an exact tie
        order = [sim.codes[j] for j in sim.ranking(i)]
        assert order[:2] == ["13006", "13011"]
    finally:
        sim.distance[i] = saved


def test_target_not_in_its_ranking_but_first_in_the_group(tiny, monkeypatch):
    sg = similar_municipalities(tiny, "F-veld", spec=SPEC)
    assert "13007" not in {n.municipality.nis for n in sg.neighbours}
    assert sg.members[0].nis == "13007" and len(sg.members) == SPEC.k + 1
    monkeypatch.setattr(similar_module, "load_similarity", lambda: SPEC)
    target = tiny.municipality("F-veld")
    group = resolve_group(tiny, target, "gelijkaardig")
    assert group.id == "gelijkaardig" and group.label == "gelijkaardige gemeenten"
    assert group.codes == [m.nis for m in sg.members]
    assert group.similarity.neighbours == sg.neighbours
    c = tiny.compare("F-veld", reference="Gelijkaardig", indicators=["inwoners"])
    aggregate = c.table[c.table["role"] == "aggregate"]["value"].iloc[0]
    assert aggregate == sum(CURRENT[m][0] for m in group.codes)


def test_k_is_respected_and_may_exceed_what_is_available(tiny):
    for k in (1, 2, 5):
        assert len(similar_municipalities(tiny, "A-dorp", k=k, spec=SPEC).neighbours) == k
    sg = similar_municipalities(tiny, "A-dorp", k=50, spec=SPEC)
    assert len(sg.neighbours) == len(CODES) - 1
    assert any("Slechts 8 gemeenten" in n and "in plaats van 50" in n for n in sg.notes)
    distances = [n.distance for n in sg.neighbours]
    assert distances == sorted(distances)


def test_a_missing_value_drops_that_variable_for_the_pair_and_rescales(tiny):
    sg = similar_municipalities(tiny, "D-berg", k=8, spec=SPEC)
    assert all(n.dropped == ("mediaanprijs_huizen",) for n in sg.neighbours)
    assert all("mediaanprijs_huizen" not in n.closest for n in sg.neighbours)
    for n in sg.neighbours:
        assert n.distance == pytest.approx(_expected_distance("13005", n.municipality.nis))
    assert any("Mediaanprijs huizen" in note for note in sg.notes)
    # Demanding every variable: D-berg cannot be compared with anyone.
    strict = replace(SPEC, min_weight=1.0)
    assert "13005" not in {n.municipality.nis for n in
                           similar_municipalities(tiny, "A-dorp", k=8, spec=strict).neighbours}
    with pytest.raises(ReferenceGroupError, match="D-berg heeft te weinig cijfers"):
        similar_municipalities(tiny, "D-berg", spec=strict)


def test_outlier_warning_for_a_municipality_without_close_neighbours(tiny):
    city = similar_municipalities(tiny, "I-stad", spec=SPEC)
    assert city.outlier and city.kth_distance > city.threshold
    assert city.warning.startswith("I-stad lijkt op weinig andere gemeenten")
    assert "3de gelijkaardige gemeente" in city.warning
    village = similar_municipalities(tiny, "A-dorp", spec=SPEC)
    assert not village.outlier and village.warning is None
    kth = similarity(tiny, SPEC).kth(SPEC.k)
    assert np.nanpercentile(kth, 90) == pytest.approx(city.threshold)


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("gemeente, region", [("W-ville", "Waals Gewest"),
                                              ("X-brussel", "Brussels Hoofdstedelijk Gewest")])
def test_a_municipality_outside_flanders_gets_a_clear_sentence(tiny, monkeypatch, gemeente,
                                                               region):
    with pytest.raises(ReferenceGroupError, match=f"ligt in het {region}, niet in het Vlaams"):
        similar_municipalities(tiny, gemeente, spec=SPEC)
    monkeypatch.setattr(similar_module, "load_similarity", lambda: SPEC)
    with pytest.raises(ReferenceGroupError, match="Kies 'arrondissement', 'buren'"):
        tiny.compare(gemeente, reference="gelijkaardig")


def test_a_merged_municipality_names_its_successor(tiny):
    with pytest.raises(MergedMunicipalityError, match=r"B-stad \(13002\) .* deel van BC-fusie"):
        similar_municipalities(tiny, "B-stad", spec=SPEC)


@pytest.mark.parametrize("k", [0, -3, 2.5, "3", True])
def test_k_below_one_or_not_a_whole_number_is_refused(tiny, k):
    with pytest.raises(ReferenceGroupError, match="geheel getal van minstens 1"):
        similar_municipalities(tiny, "A-dorp", k=k, spec=SPEC)


def test_shipped_method_loads_and_a_bad_one_names_its_fault(tmp_path):
    spec = load_similarity()
    assert spec.k >= 1 and spec.variables
    bad = tmp_path / "similarity.toml"
    bad.write_text('[method]\nk = 0\nregion = "02000"\nstandardisation = "zscore"\n'
                   'distance = "euclidean"\nmin_coverage = 0.95\nmin_weight = 0.75\n'
                   'outlier_percentile = 90\nclosest = 3\n\n'
                   '[[variable]]\nindicator = "geen_indicator"\n')
    with pytest.raises(CatalogueError, match="unknown indicator.*geen_indicator.*k must be"):
        load_similarity(bad)


# -- the real case ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return lsbanalysis.load()


def test_herenthout_on_the_embedded_store(ds):
    c = ds.compare("Herenthout", reference="gelijkaardig", indicators=["inwoners"])
    sg = c.group.similarity
    spec = load_similarity()
    assert c.group.members[0].name == "Herenthout" and len(c.group) == spec.k + 1
    assert sg.compared == 285  # every Flemish municipality of the 2025 map
    distances = [n.distance for n in sg.neighbours]
    assert distances == sorted(distances) and distances[0] > 0
    assert "13012" not in {n.municipality.nis for n in sg.neighbours}
    assert [u.indicator for u in sg.variables] == [v.indicator for v in spec.variables]
    for u in sg.variables:  # every variable of the method is used, for (nearly) all of them
        assert u.covered >= spec.min_coverage * 285, u
    assert all(m.region == "02000" and m.geo_version == "2025" for m in c.group.members)


def _cli(ds, monkeypatch, *args):
    monkeypatch.setattr(lsbanalysis, "load", lambda store_dir=None: ds)
    return CliRunner().invoke(main, ["groep", *args])


def test_lsb_groep_prints_the_suggestion_and_how_to_use_it(ds, monkeypatch):
    table = _cli(ds, monkeypatch, "--gemeente", "Herenthout", "--k", "5")
    assert table.exit_code == 0, table.output
    sg = similar_municipalities(ds, "Herenthout", k=5)
    for n in sg.neighbours:
        assert n.municipality.name in table.output
    names = ",".join(m.name for m in sg.members)
    assert f'--referentie "{names}"' in table.output
    assert "--referentie gelijkaardig" in table.output
    csv = _cli(ds, monkeypatch, "--gemeente", "13012", "--k", "5", "--format", "csv")
    lines = csv.output.strip().splitlines()
    assert lines[0].startswith("rank,nis,name,role,distance,closest")
    assert len(lines) == 1 + 6 and lines[1].startswith("0,13012,Herenthout,target")
    data = json.loads(_cli(ds, monkeypatch, "--gemeente", "Herenthout", "--format",
                           "json").output)
    assert data["k"] == 10 and len(data["leden"]) == 11
    assert data["referentie"].split(",")[0] == "Herenthout"
    assert {v["indicator"] for v in data["kenmerken"]} == {
        v.indicator for v in load_similarity().variables}


@pytest.mark.parametrize("args, message", [
    (["--gemeente", "Namen"], "ligt in het Waals Gewest"),
    (["--gemeente", "Elsene"], "ligt in het Brussels Hoofdstedelijk Gewest"),
    (["--gemeente", "Borsbeek"], "een deel van Antwerpen"),
    (["--gemeente", "Herenthout", "--k", "0"], "minstens 1"),
])
def test_lsb_groep_errors_are_one_sentence(ds, monkeypatch, args, message):
    result = _cli(ds, monkeypatch, *args)
    assert result.exit_code == 1
    assert result.output.startswith("Fout: ") and message in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_summary_chapter_explains_the_group(ds, tmp_path, monkeypatch):
    """The summary notebook's cells in this process (as papermill would run them)."""
    import lsbanalysis.report.chapter as chapter

    matplotlib.use("Agg")
    shown: list = []
    monkeypatch.setattr(lsbanalysis, "load", lambda store_dir=None: ds)
    monkeypatch.setattr(chapter, "_display", shown.append)
    nb = nbformat.read(NOTEBOOKS_DIR / "01_samenvatting.ipynb", as_version=4)
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in nb.cells:
            if cell.cell_type == "code":
                exec(compile(cell.source, "01_samenvatting", "exec"), namespace)
                if "parameters" in cell.metadata.get("tags", []):
                    namespace.update(gemeente="Herenthout", referentie="gelijkaardig", jaar=None,
                                     output_dir=str(tmp_path), store_dir=None)
    text = "\n".join(str(getattr(o, "data", "")) for o in shown)
    sg = namespace["ch"].group.similarity
    assert "Hoe de gelijkaardige gemeenten gekozen zijn" in text
    assert "285 gemeenten van het Vlaams Gewest" in text and "Euclidische" in text
    for u in sg.variables:
        assert str(u.year) in text
    for n in sg.neighbours:
        assert n.municipality.name in text
    assert ("Let op" in text) == sg.outlier and ("gewoon" in text) != sg.outlier
    assert (tmp_path / "tables" / "gelijkaardige_gemeenten.csv").is_file()
    # The explanation comes before the key figures.
    assert text.index("Hoe de gelijkaardige") < text.index("Kerncijfers")
